"""One point of a sweep: the case with one person's income set to an amount, evaluated.

Everything the sweep evaluates goes through :func:`evaluate_points`, so that a faster evaluator
(one that evaluates many variants of a case at once) can replace it in one place: it takes the
case variants and returns one :class:`~engine.runtime.results.Evaluation` per variant, in order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Sequence

from ...errors import InputError, codes

#: The frequency of the income a sweep gives the person: the amount on the x axis is per month.
FREQUENCY = "monthly"


def person_index(data: dict, person: str, file: str | None) -> int:
    """The position of ``person`` in the case's ``people``; a clear error when it is not there."""
    people = data.get("people") or []
    for index, entry in enumerate(people):
        if isinstance(entry, dict) and str(entry.get("id")) == person:
            return index
    known = ", ".join(str(p.get("id")) for p in people if isinstance(p, dict)) or "none"
    raise InputError(f"The case has no person with the id {person!r} whose income could be swept "
                     f"(its people: {known}).", code=codes.BAD_SWEEP, file=file, field="--income")


def with_income(data: dict, index: int, amount: Decimal, income_type: str) -> dict:
    """A copy of the case in which person ``index`` has one income, ``amount`` a month of
    ``income_type``, instead of the incomes the case gave them (other people keep theirs)."""
    variant = dict(data)
    people = list(data["people"])
    person = dict(people[index])
    person["incomes"] = [{"type": income_type, "amount": str(amount), "frequency": FREQUENCY}]
    people[index] = person
    variant["people"] = people
    return variant


def evaluate_points(engine, cases: Sequence[dict], as_of, names: Iterable[str], source: str | None):
    """Evaluate each case variant for the named results (the sweep's only call into evaluation)."""
    names = list(names)
    return [engine.evaluate(case, as_of=as_of, names=names, source=source) for case in cases]
