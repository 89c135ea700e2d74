"""Deadlines as data: a period counted from a date, the way a rulebook says to count it.

A rulebook declares three things (docs/language.md, section 11):

* **counting rules** (``counting:``): whether every day counts or only business days, and where a
  last day that is not a business day moves (``next_business_day``, ``previous_business_day`` or
  ``none``), with the calendar that says which days are business days. A rule the policy does not
  state is marked ``assumed: true`` with a note, so that every due date printed from it says so.
* **deadlines** (``deadlines:``): what the period counts from, the period (a number of days,
  months or years, written as an expression so that it can be a parameter that changes over
  time), an optional extension, and the counting rule.
* **calendars** (:mod:`engine.model.calendars`).

Counting, the same for every deadline: the day the period counts from is not counted and the
last day is (so 10 days from June 6 is June 16); months and years land on the same day of the
month, or on the month's last day when that day does not exist (one month from January 31 is
February 28, or 29 in a leap year). A deadline is counted under the policy in force on the date
it counts from: its period is read on that date.

Each deadline is also compiled into a function ``NAME(start)`` (and ``NAME_extended(start)``
when it has an extension), so rules can compute due dates from dates a case gives; the function
gives None when ``start`` is None. :func:`explain` gives the same date with every step of the
counting, for ``policy dates``.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from decimal import Decimal

from ..language import dates
from ..model.citations import merge
from ..model.definitions import Function, Scope
from ..errors import EvaluationError, codes
from ..language.expressions import Expression
from ..io.yaml_loader import line_of
from ..runtime.state import State, decimal_context
from ..runtime.trace import collect_citations
from ..types import EngineLike, StateLike, Where

ROLLS = ("next_business_day", "previous_business_day", "none")
UNITS = ("days", "months", "years")

#: Longest period, in days, a deadline may count (and the furthest a roll may look).
MAX_DAYS = 36_600
MAX_ROLL = 60


@dataclass(eq=False)
class CountingRule:
    name: str
    namespace: str
    short: str
    title: str | None
    days: str                           # "calendar" or "business"
    roll: str
    calendar_name: str | None
    assumed: bool
    note: str | None
    citations: tuple
    file: str | None = None
    line: int | None = None
    calendar: object = None             # set by link()


@dataclass(eq=False)
class Extension:
    mode: str                           # "to": the whole period; "by": added to it
    unit: str
    amount: Expression
    when: str | None
    citations: tuple


@dataclass(eq=False)
class Deadline:
    name: str
    namespace: str
    short: str
    title: str
    description: str | None
    counts_from: str
    unit: str
    amount: Expression
    end: str                            # "day" or "end_of_month"
    counting_name: str
    roll: str | None                    # overrides the counting rule's roll
    extension: Extension | None
    assumed: bool
    note: str | None
    citations: tuple
    file: str | None = None
    line: int | None = None
    counting: CountingRule | None = None  # set by link()

    @property
    def effective_roll(self) -> str:
        return self.roll or self.counting.roll

    def describe_period(self, amount) -> str:
        return plural(amount, self.unit)


@dataclass
class DueDate:
    """A due date and how it was counted, for ``policy dates`` and notices."""

    deadline: Deadline
    start: dt.date
    amount: int
    unit: str
    extended: bool
    period_end: dt.date                 # the last day of the period, before any roll
    due: dt.date
    roll: str
    steps: list = field(default_factory=list)
    assumptions: list = field(default_factory=list)
    citations: tuple = ()

    def as_dict(self) -> dict:
        d = self.deadline
        out = {
            "deadline": d.name,
            "title": d.title,
            "counts_from": d.counts_from,
            "start": self.start.isoformat(),
            "period": {"amount": self.amount, "unit": self.unit},
            "extended": self.extended,
            "days_counted": d.counting.days,
            "end": d.end,
            "period_end": self.period_end.isoformat(),
            "roll": self.roll,
            "due": self.due.isoformat(),
            "steps": list(self.steps),
            "assumed": bool(self.assumptions),
            "assumptions": list(self.assumptions),
            "citations": [c.as_dict() for c in self.citations],
        }
        if self.extended and d.extension is not None and d.extension.when:
            out["extension_when"] = d.extension.when
        return out


# --------------------------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------------------------

def plural(amount, unit: str) -> str:
    """``1 month``, ``30 days``: how a period is written in steps and in ``policy dates``."""
    return f"{amount} {unit[:-1] if amount == 1 else unit}"


def _add(start: dt.date, amount: int, unit: str, days: str, calendar) -> dt.date:
    if unit == "months":
        return dates.add_months(start, amount)
    if unit == "years":
        return dates.add_years(start, amount)
    if days == "calendar":
        return start + dt.timedelta(days=amount)
    day, counted = start, 0
    step = 1 if amount >= 0 else -1
    while counted < abs(amount):
        day += dt.timedelta(days=step)
        if calendar.is_business_day(day):
            counted += 1
    return day


def _whole(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise EvaluationError(f"{what} must be a whole number, not {value!r}.",
                              code=codes.BAD_PERIOD)
    if value != int(value) or not 0 <= int(value) <= MAX_DAYS:
        raise EvaluationError(f"{what} must be a whole number from 0 to {MAX_DAYS}, not {value}.",
                              code=codes.BAD_PERIOD)
    return int(value)


def period_length(state, expression: Expression, start: dt.date, what: str) -> int:
    """A period's length, read under the policy in force on ``start``.

    The period may be a parameter that changes over time (90 days, then 90 + 5 mailing days from
    a memo's date), so it is evaluated in a working state dated ``start``; what it reads is
    recorded in the calling function's trace, so its citations reach the result.
    """
    if expression.is_constant:
        return _whole(expression.constant, what)
    sub = State(state.program, state.shared, start, state.evaluator.reference)
    with sub.entering(Scope(None, {"start": start}), state.frame, state.current,
                      state.current_entity, state.current_args):
        return _whole(sub.evaluator.run(expression, sub.describe), what)


def compute(deadline: Deadline, start, state, extended: bool = False,
            roll: str | None = None) -> DueDate:
    """Count ``deadline`` from ``start``; ``roll`` overrides the rulebook's roll."""
    start = dates.parse_date(start)
    counting = deadline.counting
    roll = roll or deadline.effective_roll
    if roll not in ROLLS:
        raise EvaluationError(f"The roll '{roll}' is not one of {', '.join(ROLLS)}.",
                              code=codes.BAD_ROLL)
    calendar = counting.calendar
    if calendar is None and (roll != "none" or counting.days == "business"):
        raise EvaluationError(f"Deadline {deadline.name} cannot move its last day to a business "
                              f"day: its counting rule {counting.name} names no calendar.",
                              code=codes.BAD_ROLL, file=deadline.file, line=deadline.line)
    amount = period_length(state, deadline.amount, start,
                           f"The period of deadline {deadline.name}")
    unit = deadline.unit
    steps, cites = [], [deadline.citations, counting.citations]
    counted = "business days" if counting.days == "business" and unit == "days" else unit
    period_end = _add(start, amount, unit, counting.days, calendar)
    steps.append(f"{plural(amount, counted)} from {start.isoformat()} (the day it counts from is "
                 f"not counted): {period_end.isoformat()}")
    extension = deadline.extension
    if extended:
        if extension is None:
            raise EvaluationError(f"Deadline {deadline.name} has no extension.",
                                  code=codes.NO_EXTENSION,
                                  file=deadline.file, line=deadline.line)
        more = period_length(state, extension.amount, start,
                             f"The extension of deadline {deadline.name}")
        cites.append(extension.citations)
        if extension.mode == "to":
            unit, amount = extension.unit, more
            period_end = _add(start, more, extension.unit, counting.days, calendar)
            steps.append(f"extended to {plural(more, extension.unit)} from {start.isoformat()}: "
                         f"{period_end.isoformat()}")
        else:
            period_end = _add(period_end, more, extension.unit, counting.days, calendar)
            steps.append(f"extended by {plural(more, extension.unit)}: {period_end.isoformat()}")
    if deadline.end == "end_of_month":
        period_end = dates.end_of_month(period_end)
        steps.append(f"the period ends on the last day of that month: {period_end.isoformat()}")
    due = period_end
    if roll != "none" or counting.days == "business":
        cites.append(calendar.citations)
    if roll != "none":
        moved = 0
        direction = 1 if roll == "next_business_day" else -1
        while True:
            reason = calendar.closed_because(due)
            if reason is None:
                break
            moved += 1
            if moved > MAX_ROLL:
                raise EvaluationError(f"Deadline {deadline.name}: no business day within "
                                      f"{MAX_ROLL} days of {period_end.isoformat()}.",
                                      code=codes.NO_BUSINESS_DAY)
            for holiday in calendar.holidays:
                if reason.startswith(holiday.name):
                    cites.append(holiday.citations)
            following = due + dt.timedelta(days=direction)
            steps.append(f"{due.isoformat()} is {reason}: moved to {following.isoformat()}")
            due = following
        if moved == 0:
            steps.append(f"{due.isoformat()} is a business day")
    assumptions = []
    if counting.assumed:
        assumptions.append(counting.note or f"The counting rule {counting.name} is an assumption.")
    if deadline.assumed:
        assumptions.append(deadline.note or f"Deadline {deadline.name} is an assumption.")
    return DueDate(deadline, start, amount, unit, extended, period_end, due, roll, steps,
                   assumptions, merge(*cites))


class DeadlineBody:
    """The body of the function ``NAME(start)`` a deadline compiles to."""

    kind = "deadline"

    def __init__(self, deadline: Deadline, extended: bool):
        self.deadline = deadline
        self.extended = extended

    def expressions(self):
        yield self.deadline.amount
        if self.extended and self.deadline.extension is not None:
            yield self.deadline.extension.amount

    def evaluate(self, state: StateLike, where: Where):
        start = state.scope.args["start"]
        if start is None:
            return None, (), None
        try:
            result = compute(self.deadline, start, state, self.extended)
        except (ValueError, OverflowError) as exc:
            raise EvaluationError(f"{where()} cannot count from {start!r}: {_reason(exc)}.",
                                  code=codes.CANNOT_COUNT, file=self.deadline.file,
                                  line=self.deadline.line) from None
        own = tuple(c for c in result.citations if c not in self.deadline.citations)
        return result.due, own, None


def _reason(exc: Exception) -> str:
    if isinstance(exc, OverflowError):
        return f"the count runs past {dt.date.max.isoformat()}, the last date there is"
    return str(exc)


def explain(engine: EngineLike, name: str, start, roll: str | None = None,
            extended: bool = False) -> DueDate:
    """The due date of the deadline ``name`` counted from ``start``, with every step."""
    deadline = find(engine.program, name)
    start = dates.parse_date(start)
    state = State(engine.program, engine.cache, start, engine.reference)
    with decimal_context(), state.entering(frame=[]) as reads:
        try:
            result = compute(deadline, start, state, extended, roll)
        except (ValueError, OverflowError) as exc:
            raise EvaluationError(f"Deadline {deadline.name} cannot be counted from "
                                  f"{start.isoformat()}: {_reason(exc)}.", code=codes.CANNOT_COUNT,
                                  file=deadline.file, line=deadline.line) from None
    result.citations = merge(result.citations, *(collect_citations(r) for r in reads))
    return result


def find(program, name: str) -> Deadline:
    deadlines = getattr(program, "deadlines", {}) or {}
    if name in deadlines:
        return deadlines[name]
    matches = [d for d in deadlines.values() if d.short == name]
    if len(matches) == 1:
        return matches[0]
    close = difflib.get_close_matches(name, sorted(deadlines) + sorted(d.short for d in deadlines.values()), n=1)
    hint = f" Did you mean {close[0]}?" if close else ""
    known = "none are declared" if not deadlines else "`policy dates --list` lists them"
    raise EvaluationError(f"There is no deadline named {name} ({known}).{hint}",
                          code=codes.UNKNOWN_DEADLINE)


# --------------------------------------------------------------------------------------------
# Building from rulebook data (called by engine.rulebook.reader's builder) and linking (by the compiler).
# --------------------------------------------------------------------------------------------

def _period(builder, raw: dict, where: str):
    (unit, value), = raw.items()
    return unit, builder.expr(value, raw, unit, where)


def build_counting(builder, name: str, raw: dict, parent) -> CountingRule:
    qualified = f"{builder.namespace}.{name}"
    return CountingRule(qualified, builder.namespace, name, raw.get("title"), raw["days"],
                        raw["roll"], raw.get("calendar"), bool(raw.get("assumed", False)),
                        raw.get("note"), builder.cites(raw.get("citation"), raw, "citation"),
                        builder.file, line_of(parent, name))


def build_deadline(builder, name: str, raw: dict, parent) -> tuple[Deadline, list[Function]]:
    """A :class:`Deadline` and the functions it compiles to (``NAME`` and ``NAME_extended``)."""
    qualified = f"{builder.namespace}.{name}"
    unit, amount = _period(builder, raw["period"], f"{qualified}.period")
    extension = None
    ext = raw.get("extension")
    if ext is not None:
        mode = "to" if "to" in ext else "by"
        ext_unit, ext_amount = _period(builder, ext[mode], f"{qualified}.extension.{mode}")
        extension = Extension(mode, ext_unit, ext_amount, ext.get("when"),
                              builder.cites(ext.get("citation"), ext, "citation"))
    line = line_of(parent, name)
    deadline = Deadline(qualified, builder.namespace, name, raw["title"], raw.get("description"),
                        raw["counts_from"], unit, amount, raw.get("end", "day"), raw["counting"],
                        raw.get("roll"), extension, bool(raw.get("assumed", False)),
                        raw.get("note"), builder.cites(raw.get("citation"), raw, "citation"),
                        builder.file, line)
    functions = [_function(deadline, name, False, line, builder)]
    if extension is not None:
        functions.append(_function(deadline, f"{name}_extended", True, line, builder))
    return deadline, functions


def _function(deadline: Deadline, short: str, extended: bool, line, builder) -> Function:
    title = deadline.title + (" (extended)" if extended else "")
    return Function(name=f"{builder.namespace}.{short}", namespace=builder.namespace, short=short,
                    body=DeadlineBody(deadline, extended), citations=deadline.citations,
                    title=title, description=deadline.description, type="date",
                    file=builder.file, line=line, args=["start"])


def link(compiler) -> None:
    """Resolve each deadline's counting rule and each counting rule's calendar (compile step)."""
    calendars, countings = {}, {}
    for book in compiler.files:
        for table, found in ((getattr(book, "calendars", {}), calendars),
                             (getattr(book, "counting", {}), countings)):
            for item in table.values():
                if item.name in found:
                    compiler.error(f"The name {item.name} is defined twice: in {found[item.name].file} "
                                   f"and in {item.file}.", item.file, item.line, item.name,
                                   code=codes.DEFINED_TWICE)
                found[item.name] = item
    for book in compiler.files:
        for rule in getattr(book, "counting", {}).values():
            if rule.calendar_name is not None:
                rule.calendar = _resolve(compiler, book, rule.calendar_name, calendars, "calendar",
                                         rule, "calendar")
        for deadline in getattr(book, "deadlines", {}).values():
            deadline.counting = _resolve(compiler, book, deadline.counting_name, countings,
                                         "counting rule", deadline, "counting")
    compiler.calendars, compiler.countings = calendars, countings
    compiler.deadlines = {d.name: d for book in compiler.files
                          for d in getattr(book, "deadlines", {}).values()}


def _resolve(compiler, book, name: str, table: dict, what: str, owner, field_name: str):
    namespace, short = name.split(".", 1) if "." in name else (book.namespace, name)
    qualified = f"{namespace}.{short}"
    if namespace != book.namespace and namespace not in book.uses:
        compiler.error(f"{owner.name} refers to the {what} {qualified}, but its rulebook does not "
                       f"list '{namespace}' in `uses`.", owner.file, owner.line,
                       f"{owner.name}.{field_name}", code=codes.NAMESPACE_NOT_USED)
        return None
    found = table.get(qualified)
    if found is None:
        known = ", ".join(sorted(table)) or "none are declared"
        compiler.error(f"{owner.name} names the {what} {qualified}, which is not declared "
                       f"({known}).", owner.file, owner.line, f"{owner.name}.{field_name}",
                       code=codes.UNKNOWN_NAME)
    return found
