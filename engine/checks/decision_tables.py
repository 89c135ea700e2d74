"""E530-E532: decision tables whose rows say what the analyst meant.

Rows are compared as boxes of input values (:mod:`engine.checks.sets`), from the tests written
with literals: ``"< 1"``, ``"(150..185]"``, ``"in [1, 2]"``, ``true``, ``'"CHIP_75"'``. A test
against an expression (``"<= limit"``) cannot be judged before a case exists; rows with such
tests are left out of the reasoning, so that the checks report only what is certain:

* E530, hit policy ``first``: a row that the rows above it cover entirely can never be used;
* E531, hit policy ``unique``: two rows that some input matches both (evaluation would stop);
* E532, no ``default`` (hit policy ``first`` or ``unique``): values between the bounds the rows
  name that no row matches, such as ``pct`` in ``(185..196]`` when the rows stop at 185 and
  start again above 196. Only numeric gaps inside the range the rows mention are reported; a
  text value no row lists is not a gap (the analyst may add a default).
"""

from __future__ import annotations

import ast
from decimal import Decimal

from ..errors import codes
from ..model.definitions import DecisionTableBody
from ..language.expressions import LITERAL_NAMES
from .context import CheckContext, cited, problem
from .sets import BOOLEANS, Numbers, Values, box_empty, box_intersect, box_minus

#: Most boxes kept while subtracting rows: beyond it the table is too large to reason about.
MAX_BOXES = 5_000

_UNKNOWN = object()


def run(context: CheckContext) -> list:
    found = []
    program = context.program
    for definition in list(program.rules.values()) + list(program.functions.values()):
        if isinstance(definition.body, DecisionTableBody):
            found.extend(check_table(definition))
    return found


def literal(expression):
    """The literal value of an expression (number, text, true/false, list of them), or _UNKNOWN."""
    if expression is None:
        return _UNKNOWN
    return _literal(expression.tree)


def _literal(node):
    if isinstance(node, ast.Constant):
        value = node.value
        return Decimal(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _literal(node.operand)
        if isinstance(inner, Decimal):
            return -inner
        return _UNKNOWN
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_literal(e) for e in node.elts]
        return _UNKNOWN if any(i is _UNKNOWN for i in items) else items
    if isinstance(node, ast.Name) and node.id in LITERAL_NAMES:
        return LITERAL_NAMES[node.id]
    return _UNKNOWN


def _kind(value) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, str):
        return "text"
    return None


class _Input:
    """What the rows' literals say about one input: its kind and the whole set of its values."""

    def __init__(self, name):
        self.name = name
        self.kinds: set[str] = set()

    @property
    def kind(self) -> str | None:
        return next(iter(self.kinds)) if len(self.kinds) == 1 else None

    def full(self):
        if self.kind == "number":
            return Numbers.everything()
        return Values.everything(BOOLEANS if self.kind == "boolean" else None)


def _cell_literals(cell):
    values = []
    for expression in cell.expressions():
        value = literal(expression)
        if value is _UNKNOWN:
            return None
        values.extend(value if isinstance(value, list) else [value])
    return values


def cell_set(cell, kind):
    """The set of values a test admits, or _UNKNOWN."""
    values = _cell_literals(cell)
    if values is None or kind is None or any(_kind(v) != kind for v in values):
        return _UNKNOWN
    op = cell.op
    a = literal(cell.a)
    if kind == "number":
        if op == "==":
            return Numbers.point(a)
        if op == "!=":
            return Numbers.point(a).complement()
        if op == "<":
            return Numbers.interval(None, False, a, False)
        if op == "<=":
            return Numbers.interval(None, False, a, True)
        if op == ">":
            return Numbers.interval(a, False, None, False)
        if op == ">=":
            return Numbers.interval(a, True, None, False)
        if op == "range":
            return Numbers.interval(a, cell.low_inclusive, literal(cell.b), cell.high_inclusive)
        if op in ("in", "not in"):
            points = Numbers()
            for v in a:
                points = points.union(Numbers.point(v))
            return points if op == "in" else points.complement()
        return _UNKNOWN
    domain = BOOLEANS if kind == "boolean" else None
    if op == "==":
        return Values([a], True, domain)
    if op == "!=":
        return Values([a], False, domain)
    if op in ("in", "not in"):
        return Values(a, op == "in", domain)
    return _UNKNOWN


def check_table(definition) -> list:
    body: DecisionTableBody = definition.body
    inputs = {name: _Input(name) for name, _ in body.inputs}
    for row in body.rows:
        for name, cell in row.tests:
            values = _cell_literals(cell)
            if values and name in inputs:
                inputs[name].kinds.update(k for k in map(_kind, values) if k)
    full = {name: i.full() for name, i in inputs.items()}
    boxes = []          # (row number, row, box or None when some test is not literal)
    for number, row in enumerate(body.rows, start=1):
        box = {}
        for name, cell in row.tests:
            s = cell_set(cell, inputs[name].kind) if name in inputs else _UNKNOWN
            if s is _UNKNOWN:
                box = None
                break
            box[name] = s
        boxes.append((number, row, box))
    cite = cited(definition.citations)
    label = f"{definition.kind_label.capitalize()} {definition.name}"
    field = f"{definition.name}.table"
    found = []
    if body.hit_policy == "first":
        for index, (number, row, box) in enumerate(boxes):
            if box is None:
                continue
            covering = [(n, b) for n, _, b in boxes[:index] if b is not None]
            if covering and _covered(box, [b for _, b in covering], full):
                found.append(problem(
                    codes.TABLE_UNREACHABLE_ROW,
                    f"{label}: row {number} can never be used: the rows above it "
                    f"(hit policy first) match every input it matches. Remove it, or move it "
                    f"above the rows that cover it.{cite}", definition.file, row.line,
                    f"{field}.rows[{number - 1}]", definition.citations))
    if body.hit_policy == "unique":
        for i, (n1, r1, b1) in enumerate(boxes):
            for n2, r2, b2 in boxes[i + 1:]:
                if b1 is None or b2 is None:
                    continue
                both = box_intersect(b1, b2)
                if not box_empty(both):
                    found.append(problem(
                        codes.TABLE_OVERLAPPING_ROWS,
                        f"{label}: rows {n1} and {n2} both match when "
                        f"{_describe(both)}, but the hit policy is unique, so evaluation would "
                        f"stop with an error. Narrow one of them.{cite}", definition.file,
                        r2.line, f"{field}.rows[{n2 - 1}]", definition.citations))
    if body.default is None and body.hit_policy in ("first", "unique") and \
            all(b is not None for _, _, b in boxes):
        gap = _gap(inputs, full, [b for _, _, b in boxes])
        if gap is not None:
            found.append(problem(
                codes.TABLE_MISSING_ROWS,
                f"{label}: no row matches when {_describe(gap)}, and the table has no "
                f"default, so evaluation would stop with an error. Add a row or a default."
                f"{cite}", definition.file, body.line, field, definition.citations))
    return found


def _covered(box: dict, covering: list, full: dict) -> bool:
    remaining = [box]
    for other in covering:
        nxt = []
        for piece in remaining:
            nxt.extend(box_minus(piece, other, full))
        remaining = [p for p in nxt if not box_empty(p)]
        if not remaining:
            return True
        if len(remaining) > MAX_BOXES:
            return False
    return False


def _gap(inputs: dict, full: dict, boxes: list):
    numeric = [n for n, i in inputs.items() if i.kind == "number"]
    if not numeric:
        return None
    domain = {}
    for name in inputs:
        if name in numeric:
            bounds = [b for box in boxes if name in box for b in box[name].bounds()]
            if not bounds:
                continue
            domain[name] = Numbers.interval(min(bounds), True, max(bounds), True)
    remaining = [domain]
    for box in boxes:
        nxt = []
        for piece in remaining:
            nxt.extend(box_minus(piece, box, full))
        remaining = [p for p in nxt if not box_empty(p)]
        if not remaining or len(remaining) > MAX_BOXES:
            return None
    for piece in remaining:
        if all(isinstance(s, Numbers) or s.include for s in piece.values()):
            return piece
    return None


def _describe(box: dict) -> str:
    parts = [f"{name} {s.describe()}" for name, s in box.items() if s.describe() != "anything"]
    return " and ".join(parts) or "any input"
