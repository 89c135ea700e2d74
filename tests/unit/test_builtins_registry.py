"""engine.language.builtins: one record per built-in, read by the compiler and the type checker."""

from __future__ import annotations

import ast
from pathlib import Path

from engine.language import builtins
from engine.language.builtins import BUILTINS

ROOT = Path(__file__).resolve().parents[2]
TYPES = {builtins.NUMBER, builtins.BOOLEAN, builtins.TEXT, builtins.DATE, builtins.LIST,
         builtins.ARG, None}


def test_every_record_is_consistent():
    assert len(BUILTINS) == 33
    for name, record in BUILTINS.items():
        assert record.name == name and callable(record.function)
        assert record.fewest >= 0 and (record.most is None or record.most >= record.fewest), name
        assert record.result in TYPES, name
        assert all(record.most is None or i < record.most for i in record.date_args), name


def test_records_say_what_the_functions_do():
    assert BUILTINS["years_between"].function("2000-06-01", "2018-06-01") == 18
    assert BUILTINS["years_between"].result == builtins.NUMBER
    assert BUILTINS["years_between"].date_args == (0, 1)
    assert BUILTINS["round_up"].number_first and BUILTINS["round_up"].fewest == 2
    assert BUILTINS["sum"].list_first and BUILTINS["min"].result == builtins.ARG


def test_no_other_module_keeps_its_own_table_of_built_ins():
    """Neither the compiler nor the type checker lists built-ins in a table of its own (a dict,
    set, list or tuple naming three or more of them; the names that are also declared types,
    such as ``date`` and ``text``, do not count)."""
    type_names = {"date", "decimal", "integer", "text"}
    for module in ("engine/rulebook/compiler.py", "engine/checks/types.py"):
        for node in ast.walk(ast.parse((ROOT / module).read_text())):
            items = node.keys if isinstance(node, ast.Dict) else \
                node.elts if isinstance(node, (ast.Set, ast.List, ast.Tuple)) else []
            named = {i.value for i in items if isinstance(i, ast.Constant)} & set(BUILTINS) - type_names
            assert len(named) < 3, f"{module}:{node.lineno} lists built-ins: {sorted(named)}"
