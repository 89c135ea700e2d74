"""Which income limit a change crossed, read from the traces on either side of it.

A change is found between two incomes one cent apart. The rule read, on both sides, some amount
that moved with the income (the household's countable income: $5,282.00, then $5,282.01) and
some amounts that did not (the limits it was compared with). The limit crossed is an amount that
did not move and lies between the two values of one that did: $5,282, which the income passed.

Nothing here knows what an income or a limit is called: an amount is money when its rule is of
type ``money`` or its function or parameter has a ``USD`` unit. Among several limits of the same
value (a chain of functions that pass the limit on), the last one computed, the nearest to the
rule, is taken. No limit is reported when none is found (a change caused by rounding, or by a
test that compares something other than money).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ...runtime.results import json_value
from ...runtime.trace import FactRead, Node, collect_citations, flatten

#: The most an income-like amount may move between two incomes a cent apart and still be taken
#: for the income (a monthly amount rounded down to the dollar moves by $1).
MAX_MOVE = Decimal(1)

_PREFERENCE = {"function": 0, "rule": 1, "parameter": 2}


@dataclass
class Limit:
    """The limit a change crossed: its value, what it is, and the amount that crossed it."""

    value: Decimal
    name: str
    args: list | None
    record: object
    compared: str
    compared_from: Decimal
    compared_to: Decimal

    @property
    def citations(self):
        return collect_citations(self.record)

    def describe(self) -> str:
        args = f"({', '.join(str(json_value(a)) for a in self.args)})" if self.args else ""
        return f"{self.name}{args}"


def crossed_limit(before: Node, after: Node) -> Limit | None:
    """The limit between the trace ``before`` (the last cent with the old result) and ``after``."""
    old = _amounts(before)
    new = _amounts(after)
    moved = []
    for key, (record, value) in old.items():
        if key in new and new[key][1] != value and _is_money_rule(record) \
                and abs(new[key][1] - value) <= MAX_MOVE:
            moved.append((record.name, value, new[key][1]))
    if not moved:
        return None
    best = None
    for order, (key, (record, value)) in enumerate(old.items()):
        if key not in new or new[key][1] != value or not _is_money(record):
            continue
        for name, low, high in reversed(moved):          # the amount nearest the rule first
            if min(low, high) <= value <= max(low, high):
                rank = (_PREFERENCE.get(record.kind_label, 3), -order)
                if best is None or rank < best[0]:
                    best = (rank, Limit(value, record.name, _args(record), record, name, low, high))
                break
    return best[1] if best else None


def _amounts(node: Node) -> dict:
    """Every number in a trace, by a key that identifies the same record in another evaluation."""
    found: dict = {}
    for record in flatten(node):
        if isinstance(record, FactRead):
            continue
        value = record.value
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            continue
        found.setdefault(_key(record), (record, Decimal(value)))
    return found


def _key(record) -> tuple:
    if isinstance(record, Node):
        entity = record.entity.label() if record.entity is not None else None
        args = tuple(str(json_value(a)) for a in record.args) if record.args is not None else None
        return (record.kind_label, record.name, entity, args)
    return ("parameter", record.name, record.effective_from)


def _args(record):
    return list(record.args) if isinstance(record, Node) and record.args is not None else None


def _is_money_rule(record) -> bool:
    return isinstance(record, Node) and record.definition.type == "money"


def _is_money(record) -> bool:
    if isinstance(record, Node):
        unit = getattr(record.definition, "unit", None) or ""
        return record.definition.type == "money" or unit.startswith("USD")
    unit = getattr(record.parameter, "unit", None) or ""
    return unit.startswith("USD")
