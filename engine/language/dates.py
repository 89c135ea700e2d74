"""Date arithmetic available to rulebook expressions.

Kept here, not in the expression module, so that the deadline rules (calendar days, months, the
postpartum period) and the age calculation have one tested implementation.
"""

from __future__ import annotations

import calendar
import datetime as dt

from ..errors import InputError, codes
from ..io.values import why_not_a_date


def parse_date(value) -> dt.date:
    """A ``date`` or an ISO string ``YYYY-MM-DD`` as a date; anything else is a ValueError."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            shown = value if len(value) <= 40 else value[:40] + "..."
            raise ValueError(f"'{shown}' is not {why_not_a_date(value)}") from None
    raise ValueError(f"{value!r} is not a date of the form YYYY-MM-DD")


def as_of_date(value) -> dt.date | None:
    """The date a caller asked for (``as_of``, ``--as-of``): None when not given, else a date.

    Unlike :func:`parse_date` this is for input from outside the rulebooks, so a bad value is an
    :class:`~engine.errors.InputError` (``E109``) that quotes it.
    """
    if value is None or value == "":
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        raise InputError(f"The date {exc}.", code=codes.BAD_DATE, field="as_of") from None


def add_days(d, n) -> dt.date:
    return parse_date(d) + dt.timedelta(days=int(n))


def add_months(d, n) -> dt.date:
    """Same day ``n`` months later; the last day of the month when that day does not exist."""
    d = parse_date(d)
    month_index = d.year * 12 + (d.month - 1) + int(n)
    year, month = divmod(month_index, 12)
    month += 1
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise ValueError(f"the date would fall outside {dt.date.min.isoformat()} to "
                         f"{dt.date.max.isoformat()}, the dates there are")
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(d.day, last))


def add_years(d, n) -> dt.date:
    return add_months(d, int(n) * 12)


def end_of_month(d) -> dt.date:
    d = parse_date(d)
    return dt.date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def days_between(a, b) -> int:
    return (parse_date(b) - parse_date(a)).days


def months_between(a, b) -> int:
    """Whole months from a to b (negative when b is earlier)."""
    a, b = parse_date(a), parse_date(b)
    if b < a:
        return -months_between(b, a)
    months = (b.year - a.year) * 12 + (b.month - a.month)
    if add_months(a, months) > b:
        months -= 1
    return months


def years_between(a, b) -> int:
    """Whole years from a to b: a person's age on b when a is the date of birth."""
    a, b = parse_date(a), parse_date(b)
    if b < a:
        return -years_between(b, a)
    years = b.year - a.year
    if (b.month, b.day) < (a.month, a.day):
        years -= 1
    return years
