"""W570: parameters whose newest value is older than their update cycle allows.

A parameter may declare ``update_cycle: {month, day}``: the day of the year on which a new value
is expected (April 1 for the poverty guidelines as Missouri applies them, July 1 for CHIP
premiums). As of a date (``policy check --as-of``, default today), the latest such day on or
before it is the start of the current cycle; a parameter none of whose values starts on or after
that day still carries the previous cycle's value (or, when its last value ends with ``until``,
has no value at all), and the check warns. A parameter that is no longer updated should not
declare an update cycle.
"""

from __future__ import annotations

import calendar
import datetime as dt

from ..errors import codes
from .context import CheckContext, cited, problem


def cycle_start(month: int, day: int, on: dt.date) -> dt.date:
    """The latest ``month``/``day`` on or before ``on`` (Feb 29 becomes Feb 28 in other years)."""
    def at(year):
        return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))
    this_year = at(on.year)
    return this_year if this_year <= on else at(on.year - 1)


def run(context: CheckContext) -> list:
    found = []
    on = context.as_of
    for name, parameter in context.program.parameters.items():
        cycle = parameter.update_cycle
        if not cycle or not parameter.entries:
            continue
        start = cycle_start(int(cycle["month"]), int(cycle["day"]), on)
        newest = parameter.entries[-1]
        if newest.start >= start:
            continue
        month = calendar.month_name[int(cycle["month"])]
        ended = (f" and ended on {newest.until}, so no value is in force"
                 if newest.until is not None and newest.until < on else "")
        found.append(problem(
            codes.STALE_PARAMETER,
            f"Parameter {name} expects a new value every {month} {int(cycle['day'])}, but "
            f"as of {on} its newest value is from {newest.start}{ended}: no value for {start} is "
            f"recorded. Add the value in force from {start} with its citation, or check the "
            f"update cycle.{cited(parameter.citations)}", parameter.file, newest.line or parameter.line,
            f"{name}.values", parameter.citations))
    return found
