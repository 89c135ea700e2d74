"""A sweep: one case evaluated at every income on a grid, with every change located to the cent.

"What happens if she earns $200 more?" A sweep replaces one person's incomes with monthly wages
(or another income type) of each amount from ``start`` to ``stop`` by ``step``, evaluates the
named results at every point, and then, between every two neighbouring points whose results
differ, finds the exact cent at which each result changes by bisection.

Bisection between two points ``a`` and ``b`` keeps ``lo`` at an income with the results of
``a`` and ``hi`` at one with other results, and halves the gap until they are a cent apart: the
change is at ``hi``, the lowest cent with other results *when the results change only once
between lo and hi*. When the results at ``hi`` are not yet those of ``b`` (several changes within
one step: a child leaves CHIP 74 and enters CHIP 75), the search starts again from ``hi``, until
``b`` is reached. A result that changes and changes back within one step (the same results at
``a`` and ``b``) is not seen at all: only a smaller step finds it.

Money is exact: incomes are whole cents, held as integers, shown as decimals with two places.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Iterable

from ...model.citations import Citation
from ...runtime.display import usd
from ...errors import InputError, PolicyError, codes
from ...language.numbers import format_decimal
from ...runtime.results import json_value
from .limits import Limit, crossed_limit
from .points import evaluate_points, person_index, with_income

#: The most grid points one sweep evaluates (bisection adds about 14 evaluations per change).
MAX_POINTS = 5001

#: The most changes located in one sweep; a result that changes at every cent is not a cliff.
MAX_CHANGES = 500

_CENT = Decimal("0.01")

#: The results followed by default: the program results the interface contract names (each
#: person's level of care, the family's CHIP premium, the Medicare Savings, Ticket to Work and
#: MHABD levels). Only those the loaded rulebooks define are used.
DEFAULT_FOLLOWED = ("eligibility.level_of_care", "chip.family_premium", "msp.level",
                    "twha.premium", "mhabd.level")
#: Shown at every point by default but not followed: amounts that move with every dollar.
DEFAULT_AMOUNTS = ("mhabd.spend_down",)


def default_names(program) -> tuple[list[str], list[str]]:
    """The default followed results and shown amounts that ``program`` defines."""
    return ([n for n in DEFAULT_FOLLOWED if n in program.rules],
            [n for n in DEFAULT_AMOUNTS if n in program.rules])


def money(text, what: str) -> int:
    """A non-negative amount of dollars (``"5282"``, ``"5282.01"``) as whole cents."""
    try:
        amount = Decimal(str(text).strip().replace(",", "").lstrip("$"))
    except InvalidOperation:
        raise InputError(f"The amount given for {what} ({text!r}) is not a number of dollars.",
                         code=codes.BAD_SWEEP, field=what) from None
    if not amount.is_finite() or amount < 0:
        raise InputError(f"The amount given for {what} ({text!r}) must be a dollar amount of 0 or "
                         "more.", code=codes.BAD_SWEEP, field=what)
    if amount != amount.quantize(_CENT):
        raise InputError(f"The amount given for {what} ({text!r}) has digits below the cent; "
                         "incomes are swept in whole cents.", code=codes.BAD_SWEEP, field=what)
    return int(amount * 100)


def dollars(cents: int) -> Decimal:
    """Whole cents as an exact dollar amount with two decimals."""
    return (Decimal(cents) / 100).quantize(_CENT)


def grid(start: int, stop: int, step: int) -> list[int]:
    """The incomes (in cents) from ``start`` to ``stop`` by ``step``; ``stop`` is always included."""
    if step <= 0:
        raise InputError("The step of a sweep must be more than $0.", code=codes.BAD_SWEEP, field="--step")
    if stop < start:
        raise InputError(f"The sweep ends (--to {dollars(stop)}) below where it starts "
                         f"(--from {dollars(start)}).", code=codes.BAD_SWEEP, field="--to")
    count = (stop - start) // step + 1 + (1 if (stop - start) % step else 0)
    if count > MAX_POINTS:
        raise InputError(f"The sweep would evaluate {count} points, more than {MAX_POINTS}; use a "
                         "larger step or a shorter range (every change is still located to the "
                         "cent).", code=codes.BAD_SWEEP, field="--step")
    points = list(range(start, stop + 1, step))
    if points[-1] != stop:
        points.append(stop)
    return points


Key = tuple  # (result name, person id or None)


@dataclass
class Change:
    """A result that differs at ``income`` (the lowest cent) from the cent below it."""

    income: Decimal
    person: str | None
    name: str
    before: object
    after: object
    citations: tuple
    limit: Limit | None = None

    def as_dict(self, shown=lambda name, value: json_value(value)) -> dict:
        out = {"income": json_value(self.income), "person": self.person, "name": self.name,
               "from": shown(self.name, self.before), "to": shown(self.name, self.after),
               "limit": json_value(self.limit.value) if self.limit else None}
        if self.limit is not None:
            out["limit_of"] = self.limit.describe()
            out["compared"] = {"name": self.limit.compared,
                               "from": json_value(self.limit.compared_from),
                               "to": json_value(self.limit.compared_to)}
        out["section"] = self.section
        out["citations"] = [c.as_dict() for c in self.citations]
        return out

    @property
    def section(self) -> str | None:
        """The first cited section: the test the income crossed (for the picture's label)."""
        return next((c.section for c in self.citations if c.section), None)


@dataclass
class Sweep:
    """Every grid point's results and every change between them."""

    case_id: object
    as_of: dt.date
    person: str
    income_type: str
    incomes: list[int]                       # the grid, in cents
    keys: list[Key]                          # the results tracked, in evaluation order
    values: list[tuple]                      # for each grid point, the value of each key
    changes: list[Change] = field(default_factory=list)
    followed: list = field(default_factory=list)  # the names whose changes were located
    money: set = field(default_factory=set)       # the names whose values are money

    def shown(self, name: str, value):
        """A value as JSON: money as an exact decimal string (``"0"``, ``"242"``), as the
        contract wants money, whether the rulebook computed it as an integer or a decimal."""
        if name in self.money and isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return format_decimal(Decimal(value))
        return json_value(value)

    def shown_keys(self) -> list[Key]:
        """The results that have a value somewhere on the grid (a result that is None at every
        point, such as a Medicare Savings level for a person without Medicare, is left out)."""
        return [k for i, k in enumerate(self.keys) if any(v[i] is not None for v in self.values)]

    def values_at(self, cents: int) -> tuple:
        """The values at any income in the range: the grid point at or below it, with the
        changes located between that point and the income applied."""
        position = max(i for i, c in enumerate(self.incomes) if c <= cents)
        values = list(self.values[position])
        index = {k: i for i, k in enumerate(self.keys)}
        low, high = dollars(self.incomes[position]), dollars(cents)
        for change in self.changes:
            if low < change.income <= high:
                values[index[(change.name, change.person)]] = change.after
        return tuple(values)

    def as_dict(self) -> dict:
        shown = self.shown_keys()
        index = {k: i for i, k in enumerate(self.keys)}
        points = [{"income": json_value(dollars(cents)),
                   "results": [{"name": k[0], "person": k[1], "value": self.shown(k[0], row[index[k]])}
                               for k in shown]}
                  for cents, row in zip(self.incomes, self.values)]
        return {"case_id": self.case_id, "as_of": self.as_of.isoformat(), "person": self.person,
                "income_type": self.income_type, "frequency": "monthly",
                "followed": list(self.followed),
                "from": json_value(dollars(self.incomes[0])),
                "to": json_value(dollars(self.incomes[-1])),
                "points": points, "changes": [c.as_dict(self.shown) for c in self.changes]}


def sweep(engine, case, person: str, start: int, stop: int, step: int, *,
          names: Iterable[str], amounts: Iterable[str] = (), as_of=None,
          income_type: str = "wages", source: str | None = None) -> Sweep:
    """Sweep ``person``'s monthly income over the grid; amounts are whole cents.

    ``names`` are the results followed: every change of their value is located. ``amounts``
    are results shown at every point but not followed (an amount such as a spend-down, which
    moves with every dollar of income and so has no cliff to locate).
    """
    names = list(dict.fromkeys(names))
    amounts = [a for a in dict.fromkeys(amounts) if a not in names]
    if not names:
        raise InputError("A sweep needs at least one result to follow (--only NAME).",
                         code=codes.BAD_SWEEP, field="--only")
    read = engine.read_case(case, source)
    data, file = read.data, read.file
    index = person_index(data, person, file)
    on = as_of or read.as_of or dt.date.today()      # the same date at every point
    incomes = grid(start, stop, step)
    probe = _Probe(engine, data, index, income_type, on, names + amounts, file)
    first = probe.evaluate([incomes[0]])[0]
    keys = [(r.name, r.person) for r in first.results]
    probe.keys = keys
    probe.followed = [i for i, k in enumerate(keys) if k[0] in names]
    probe.followed_names = set(names)
    values = [probe.values(e) for e in [first] + probe.evaluate(incomes[1:])]
    result = Sweep(read.case_id, first.as_of, person, income_type, incomes, keys, values,
                   followed=names,
                   money={n for n in names + amounts
                          if getattr(engine.program.rules.get(n), "type", None) == "money"})
    states = [probe.followed_part(v) for v in values]
    for (a, state_a), (b, state_b) in zip(zip(incomes, states), zip(incomes[1:], states[1:])):
        if state_a != state_b:
            result.changes.extend(probe.changes_between(a, state_a, b, state_b))
            if len(result.changes) > MAX_CHANGES:
                raise InputError(f"The results change more than {MAX_CHANGES} times in this "
                                 "sweep: a result that moves with every dollar of income (an "
                                 "amount rather than a level) cannot be swept for changes; leave "
                                 "it out of --only.", code=codes.BAD_SWEEP, field="--only")
    return result


class _Probe:
    """Evaluates the case at given incomes and finds the cents at which results change."""

    def __init__(self, engine, data, index, income_type, on, names, file):
        self.engine, self.data, self.index = engine, data, index
        self.income_type, self.on, self.names, self.file = income_type, on, names, file
        self.keys: list[Key] = []
        self.followed: list[int] = []       # positions in ``keys`` of the followed results
        self.followed_names: set[str] = set()

    def evaluate(self, incomes: list[int]):
        cases = [with_income(self.data, self.index, dollars(c), self.income_type) for c in incomes]
        try:
            return evaluate_points(self.engine, cases, self.on, self.names, self.file)
        except PolicyError as exc:
            # say at which income the case could not be evaluated (one income: the bisection's)
            where = (f"at {usd(dollars(incomes[0]), True)} a month" if len(incomes) == 1 else
                     f"between {usd(dollars(incomes[0]), True)} and "
                     f"{usd(dollars(incomes[-1]), True)} a month")
            problems = [dataclasses.replace(p, message=f"With the swept income {where}: "
                                            f"{p.message}") for p in exc.problems]
            raise type(exc)(problems=problems) from None

    def values(self, evaluation) -> tuple:
        by_key = {(r.name, r.person): r.shown_value for r in evaluation.results}
        return tuple(by_key.get(k) for k in self.keys)

    def followed_part(self, values: tuple) -> tuple:
        return tuple(values[i] for i in self.followed)

    def state_at(self, cents: int) -> tuple:
        return self.followed_part(self.values(self.evaluate([cents])[0]))

    def changes_between(self, a: int, state_a: tuple, b: int, state_b: tuple) -> list[Change]:
        found: list[Change] = []
        lo, state_lo = a, state_a
        while state_lo != state_b and len(found) <= MAX_CHANGES:
            hi, state_hi = b, state_b
            while hi - lo > 1:
                mid = (lo + hi) // 2
                state_mid = self.state_at(mid)
                if state_mid == state_lo:
                    lo = mid
                else:
                    hi, state_hi = mid, state_mid
            found.extend(self.describe(lo, hi))
            lo, state_lo = hi, state_hi
        return found

    def describe(self, lo: int, hi: int) -> list[Change]:
        """The changes from the cent ``lo`` to the cent ``hi`` above it, with limits and citations."""
        before, after = self.evaluate([lo, hi])
        old = {(r.name, r.person): r for r in before.results}
        changes = []
        for new in after.results:
            key = (new.name, new.person)
            prior = old.get(key)
            if new.name not in self.followed_names or prior is None or prior.shown_value == new.shown_value:
                continue
            limit = crossed_limit(prior.node, new.node)
            changes.append(Change(dollars(hi), new.person, new.name, prior.shown_value,
                                  new.shown_value, _citations(prior, new, limit), limit))
        return changes


def _citations(prior, new, limit: Limit | None) -> tuple[Citation, ...]:
    """What decided the change, most specific first: the sections the old result cited that the
    new one does not (the test no longer met: CHIP 75's section when a child leaves it), the new
    result's own citations (the branch now taken), the rest of the old result's, then the limit
    crossed and what it was computed from."""
    old_own, new_own = tuple(prior.node.own_citations), tuple(new.node.own_citations)
    new_keys = {c.key for c in new_own}
    groups = [[c for c in old_own if c.key not in new_keys], new_own, old_own]
    if limit is not None:
        groups.append(limit.citations)
    out: dict = {}
    for group in groups:
        for citation in group:
            out.setdefault(citation.key, citation)
    return tuple(out.values()) or tuple(new.citations)
