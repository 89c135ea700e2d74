"""E504, E505: numbers written as binary-float artefacts, and divisions that can divide by zero.

**E504.** Policy amounts are exact decimals. A number written ``0.30000000000000004`` or
``1993.1799999999`` is what a binary float prints, not what a manual publishes: it was pasted
from a spreadsheet or a program and is almost right. A number in exponent notation
(``1.30501e3``) hides how many places were meant. Both are errors wherever a number is written in
a rulebook (a value, a band bound, an expression literal). The text is scanned, not the parsed
values, because ``1.30501e3`` and ``1305.01`` are the same :class:`~decimal.Decimal` once read.

**E505.** A division (``/``, ``//``, ``%``) whose divisor is a literal zero, or a parameter whose
value in force is zero on some date (a scalar parameter, or a table parameter read with a literal
key), stops every evaluation that reaches it on that date (E420). The check reports it before
any case does. A divisor guarded by the condition of an enclosing ``x if test else y`` that reads
the same name is left alone.
"""

from __future__ import annotations

import ast
import re
from decimal import Decimal

from .context import CheckContext, cited, problem
from ..errors import codes

#: A number as written: digits with a fraction, an exponent, or both (not a section number such
#: as 1805.030.20, a date, or part of a name).
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")
#: What a binary float prints near a short decimal: six or more 0s then a digit, or six or more 9s.
_ARTEFACT = re.compile(r"^([-+]?\d+\.\d*?)(0{6,}[1-9]\d*|9{6,}\d*)$")
_EXPONENT = re.compile(r"[eE]")


def run_text(context: CheckContext) -> list:
    """E504 on every rulebook's text (comments left out)."""
    found = []
    for source in context.sources:
        if source.text is None:
            continue
        for number, line in enumerate(source.text.splitlines(), start=1):
            text = _without_comment(line)
            for match in _NUMBER.finditer(text):
                written = match.group(0)
                advice = _advice(written)
                if advice:
                    found.append(problem(codes.FLOAT_ARTEFACT, advice, source.path, number))
    return found


def _advice(written: str) -> str | None:
    plain = written.replace("_", "")
    artefact = _ARTEFACT.match(plain)
    if artefact:
        return (f"The number {written} is a binary-float artefact, not an exact amount; write "
                f"{_intended(artefact.group(1), artefact.group(2))} as the source publishes it.")
    if _EXPONENT.search(plain):
        try:
            value = Decimal(plain)
        except ArithmeticError:
            return None
        shown = format(value, "f") if abs(value.adjusted()) < 30 else "it without an exponent"
        return (f"The number {written} is written in exponent notation; write {shown} as the "
                "source publishes it, so that its places are plain to a reader.")
    return None


def _intended(prefix: str, run: str) -> str:
    """The short decimal a float artefact stands for: 0.3 for 0.30000000000000004, 1993.18 for
    1993.1799999999."""
    if prefix.endswith("."):
        prefix = prefix[:-1]
    value = Decimal(prefix)
    if run.startswith("9"):
        places = max(0, -value.as_tuple().exponent)
        value += (Decimal(1).scaleb(-places)).copy_sign(value if value else Decimal(1))
    return format(value, "f")


def _without_comment(line: str) -> str:
    """The line without a YAML comment (a ``#`` at the start or after a space, outside quotes)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


# ---------------------------------------------------------------------------------------------

_DIVISIONS = (ast.Div, ast.FloorDiv, ast.Mod)


def run(context: CheckContext) -> list:
    """E505 on every expression of every rule, function and table."""
    program = context.program
    found, seen = [], set()
    owners = list(program.rules.values()) + list(program.functions.values())
    for definition in owners:
        expressions = list(definition.body.expressions())
        if getattr(definition, "output_when", None) is not None:
            expressions.append(definition.output_when)
        for expression in expressions:
            _check_tree(expression, definition.name, found, seen)
    for chart in program.charts.values():
        for group in chart.groups:
            for _, expression in list(group.for_each) + list(group.row):
                _check_tree(expression, chart.name, found, seen)
            if group.when is not None:
                _check_tree(group.when, chart.name, found, seen)
    return found


def _check_tree(expression, owner: str, found: list, seen: set) -> None:
    tree = getattr(expression, "tree", None)
    if tree is None:
        return
    stack = [(tree, frozenset())]
    while stack:
        node, guarded = stack.pop()
        if isinstance(node, ast.BinOp) and isinstance(node.op, _DIVISIONS):
            reason = _zero_divisor(node.right, guarded)
            if reason:
                key = (expression.file, expression.line, expression.text, reason)
                if key not in seen:
                    seen.add(key)
                    found.append(problem(
                        codes.DIVISION_BY_ZERO, f"{owner}: `{expression.text}` divides by {reason}; every "
                        f"evaluation that reaches it{'' if 'literal' in reason else ' on such a date'} "
                        "stops with an error. Guard the division or correct the divisor.",
                        expression.file, expression.line,
                        expression.field))
        if isinstance(node, ast.IfExp):
            names = frozenset(n.id for n in ast.walk(node.test) if isinstance(n, ast.Name))
            stack.append((node.test, guarded))
            stack.append((node.body, guarded | names))
            stack.append((node.orelse, guarded | names))
            continue
        for child in ast.iter_child_nodes(node):
            stack.append((child, guarded))


def _zero_divisor(node, guarded) -> str | None:
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    if isinstance(node, ast.Constant):
        value = node.value
        if not isinstance(value, bool) and isinstance(value, (int, Decimal)) and value == 0:
            return "a literal zero"
        return None
    if isinstance(node, ast.Name):
        if node.id in guarded:
            return None
        parameter = getattr(getattr(node, "ref", None), "parameter", None)
        if parameter is None or parameter.kind != "scalar":
            return None
        return _zero_entry(parameter, lambda value: value)
    if isinstance(node, ast.Call) and len(node.args) == 1 and isinstance(node.args[0], ast.Constant):
        if node.func.id in guarded:
            return None
        parameter = getattr(getattr(node, "ref", None), "parameter", None)
        if parameter is None or parameter.kind != "table":
            return None
        key = node.args[0].value
        return _zero_entry(parameter, lambda value: value.get(key) if isinstance(value, dict) else None,
                           f"({key!r})")
    return None


def _zero_entry(parameter, pick, suffix: str = "") -> str | None:
    for entry in parameter.entries:
        value = pick(entry.value)
        if value is not None and not isinstance(value, bool) and isinstance(value, (int, Decimal)) \
                and value == 0:
            return (f"{parameter.name}{suffix}, which is zero from {entry.start.isoformat()}"
                    f"{cited(entry.citations or parameter.citations)}")
    return None
