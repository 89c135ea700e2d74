"""One registry of problem codes (engine/errors/codes.py), used everywhere and documented exactly.

Codes reach users in messages, CI annotations, SARIF and the outside acceptance tests, so a code
that is raised must be registered with a title, and the tables in the docs must list the
registered codes and nothing else."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from engine import errors
from engine.errors import codes

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "engine"
CODE = re.compile(r"[EW]\d{3}")
#: the exception classes' defaults, named in the docs' text rather than in the table
DEFAULTS = {"E000", "E200", "E300", "E400", "E310"}


def engine_sources():
    for path in sorted(ENGINE.rglob("*.py")):
        if path != ENGINE / "errors" / "codes.py":
            yield path, ast.parse(path.read_text())


def test_every_code_has_a_constant_a_name_and_a_title():
    constants = {v: k for k, v in vars(codes).items() if k.isupper() and isinstance(v, str)}
    assert set(constants) == set(codes.REGISTRY)
    for code, record in codes.REGISTRY.items():
        assert CODE.fullmatch(code)
        assert constants[code] == record.name.upper().replace("-", "_")
        assert (record.title[0].isupper() or record.title[0] == "`") and record.title.endswith("."), record
    assert len({r.name for r in codes.REGISTRY.values()}) == len(codes.REGISTRY)
    assert codes.REGISTRY["E101"].title == "A key appears twice in the same mapping."
    assert codes.REGISTRY["W570"].severity == "warning"
    assert codes.REGISTRY["E330"].severity == "error"


def test_raise_sites_use_the_constants_not_literals():
    literals = []
    for path, tree in engine_sources():
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and CODE.fullmatch(node.value) and id(node) not in docstrings):
                literals.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not literals, "use engine.errors.codes constants:\n" + "\n".join(literals)


def test_every_code_used_is_registered():
    used = set()
    for path, tree in engine_sources():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id == "codes" and node.attr.isupper()):
                assert hasattr(codes, node.attr), f"{path.relative_to(ROOT)}:{node.lineno}: " \
                                                  f"codes.{node.attr} is not registered"
                used.add(getattr(codes, node.attr))
    for cls in (errors.PolicyError, errors.InputError, errors.SchemaError, errors.CompileError,
                errors.EvaluationError, errors.CaseError):
        assert cls.default_code in codes.REGISTRY, cls
        used.add(cls.default_code)
    unused = set(codes.REGISTRY) - used
    assert not unused, f"registered but never raised: {sorted(unused)}"


def test_the_reference_table_lists_exactly_the_registered_codes():
    text = (ROOT / "docs" / "embedding.md").read_text()
    documented = re.findall(r"^\| ([EW]\d{3}) \|", text, re.M)
    assert len(documented) == len(set(documented)), "a code is documented twice"
    assert set(documented) == set(codes.REGISTRY) - DEFAULTS
    for code in DEFAULTS:
        assert f"`{code}`" in text, f"{code} is not explained in docs/embedding.md"


def test_the_check_table_matches_the_registry():
    """docs/checks.md gives each semantic check's code, severity, name and title."""
    rows = re.findall(r"^\| <a id=\"\w+\"></a>`([EW]\d{3})` \| (\w+) \| ([\w-]+) \| (.+) \|$",
                      (ROOT / "docs" / "checks.md").read_text(), re.M)
    assert rows
    for code, severity, name, title in rows:
        record = codes.REGISTRY[code]
        assert (severity, name, title) == (record.severity, record.name, record.title), code
    assert {r[0] for r in rows} == {c for c in codes.REGISTRY if c[1] == "5"}
