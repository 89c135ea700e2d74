"""Business-day calendars: which days are weekends and holidays, declared as data.

A rulebook's ``calendars:`` section names the weekend days and the holidays of a jurisdiction,
each a fixed date ("the fourth day of July") or a weekday of a month ("the fourth Thursday in
November"), optionally kept only between two dates, and the rule for a holiday that falls on a
weekend ("when any of such holidays falls upon Sunday, the Monday next following shall be
considered the holiday"). Nothing here knows any jurisdiction's holidays: they are all data.

Deadlines (:mod:`engine.actions.deadlines`) ask a calendar whether a day is a business day, and why not.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as dt
from dataclasses import dataclass, field

from ..errors import CompileError, codes
from ..io.yaml_loader import line_of

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

#: Years a calendar will compute holidays for: a guard against absurd dates in cases.
FIRST_YEAR, LAST_YEAR = 1900, 2200


@dataclass(frozen=True)
class Holiday:
    """One holiday rule: a fixed month and day, or the nth (or last) weekday of a month."""

    name: str
    month: int
    day: int | None = None
    weekday: int | None = None          # Monday = 0
    nth: int | None = None              # 1..5, or -1 for "last"
    start: dt.date | None = None
    until: dt.date | None = None
    citations: tuple = ()

    def date_in(self, year: int) -> dt.date | None:
        """The holiday's date in ``year``, or None when it does not exist or is not kept then."""
        if self.day is not None:
            if self.day > _stdlib_calendar.monthrange(year, self.month)[1]:
                return None
            found = dt.date(year, self.month, self.day)
        else:
            days = _stdlib_calendar.monthrange(year, self.month)[1]
            matches = [dt.date(year, self.month, d) for d in range(1, days + 1)
                       if dt.date(year, self.month, d).weekday() == self.weekday]
            index = self.nth - 1 if self.nth > 0 else self.nth
            if index >= len(matches):
                return None
            found = matches[index]
        if self.start is not None and found < self.start:
            return None
        if self.until is not None and found > self.until:
            return None
        return found


@dataclass(frozen=True)
class Observance:
    """A holiday that falls on ``falls_on`` is also kept ``shift`` days later (earlier if < 0)."""

    falls_on: int
    shift: int
    citations: tuple = ()


@dataclass(eq=False)
class Calendar:
    """A business-day calendar: weekend days, holidays and their observed days."""

    name: str                           # qualified: namespace.short
    namespace: str
    short: str
    title: str | None
    weekend: frozenset
    holidays: tuple
    observances: tuple
    citations: tuple
    file: str | None = None
    line: int | None = None
    _years: dict = field(default_factory=dict, repr=False)

    def holidays_in(self, year: int) -> dict[dt.date, str]:
        """Every holiday (and observed day) of a year, by date, with its name."""
        cached = self._years.get(year)
        if cached is not None:
            return cached
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(f"the calendar {self.name} covers the years {FIRST_YEAR} to "
                             f"{LAST_YEAR}, not {year}")
        found: dict[dt.date, str] = {}
        # A holiday late in December may be observed in January, so look at the year around.
        for y in (year - 1, year, year + 1):
            for holiday in self.holidays:
                day = holiday.date_in(y)
                if day is None:
                    continue
                if day.year == year:
                    found.setdefault(day, holiday.name)
                for rule in self.observances:
                    if day.weekday() == rule.falls_on:
                        observed = day + dt.timedelta(days=rule.shift)
                        if observed.year == year:
                            found.setdefault(observed, f"{holiday.name} (observed)")
        result = dict(sorted(found.items()))
        self._years[year] = result
        return result

    def closed_because(self, day: dt.date) -> str | None:
        """Why ``day`` is not a business day ("a Saturday", "Independence Day"), or None."""
        holiday = self.holidays_in(day.year).get(day)
        if holiday is not None:
            return holiday
        if day.weekday() in self.weekend:
            return f"a {WEEKDAYS[day.weekday()].capitalize()}"
        return None

    def is_business_day(self, day: dt.date) -> bool:
        return self.closed_because(day) is None


# --------------------------------------------------------------------------------------------
# Building from rulebook data (called by engine.rulebook.reader's builder).
# --------------------------------------------------------------------------------------------

def build_calendar(builder, name: str, raw: dict, parent) -> Calendar:
    """A :class:`Calendar` from a schema-checked ``calendars:`` entry."""
    qualified = f"{builder.namespace}.{name}"
    holidays = []
    for index, item in enumerate(raw["holidays"]):
        nth = item.get("nth")
        holidays.append(Holiday(
            item["name"], int(item["month"]), item.get("day"),
            WEEKDAYS.index(item["weekday"]) if item.get("weekday") else None,
            -1 if nth == "last" else nth,
            _date(item.get("from")), _date(item.get("until")),
            builder.cites(item.get("citation"), item, "citation")))
        if item.get("day") is not None and item["day"] > _stdlib_calendar.monthrange(2024, item["month"])[1]:
            raise CompileError(f"Calendar {qualified}: the holiday '{item['name']}' is on day "
                               f"{item['day']} of month {item['month']}, which never exists.",
                               code=codes.UNKNOWN_TABLE_INPUT,
                               file=builder.file, line=line_of(raw["holidays"], index),
                               field=f"{qualified}.holidays[{index}]")
    observances = tuple(Observance(WEEKDAYS.index(o["falls_on"]), int(o["shift"]),
                                   builder.cites(o.get("citation"), o, "citation"))
                        for o in raw.get("observed") or [])
    return Calendar(qualified, builder.namespace, name, raw.get("title"),
                    frozenset(WEEKDAYS.index(d) for d in raw["weekend"]), tuple(holidays),
                    observances, builder.cites(raw.get("citation"), raw, "citation"),
                    builder.file, line_of(parent, name))


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(str(value)) if value else None
