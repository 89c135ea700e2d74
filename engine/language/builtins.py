"""The built-in functions rulebook expressions may call, and only these.

Each entry gives the function and how many arguments it takes, so that the compiler can reject
a wrong call before any case is evaluated. Every function here is pure, bounded and works on
exact decimals; none gives access to Python objects.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from . import dates
from .numbers import round_to, to_decimal

#: Longest list ``range`` may build.
MAX_RANGE = 1_000


def _number(x):
    if isinstance(x, bool):
        raise TypeError("a yes/no value is not a number")
    return x if isinstance(x, int) else to_decimal(x)


def _ceil(x) -> int:
    return math.ceil(_number(x))


def _floor(x) -> int:
    return math.floor(_number(x))


def _range(a, b) -> list[int]:
    a, b = int(_number(a)), int(_number(b))
    if b - a > MAX_RANGE:
        raise ValueError(f"range({a}, {b}) would have more than {MAX_RANGE} numbers")
    return list(range(a, b))


def _sum(values):
    total = 0
    for v in values:
        if v is not None:
            total = total + _number(v)
    return total


def _coalesce(*values):
    for v in values:
        if v is not None:
            return v
    return None


def _min(*values):
    if len(values) == 1 and isinstance(values[0], list):
        values = values[0]
    return min(values)


def _max(*values):
    if len(values) == 1 and isinstance(values[0], list):
        values = values[0]
    return max(values)


def _integer(x) -> int:
    value = _number(x)
    if value != int(value):
        raise ValueError(f"{x} is not a whole number")
    return int(value)


#: Longest text ``text()`` may produce (the same bound as strings built by ``+``).
MAX_TEXT = 10_000


def _text(x) -> str:
    if isinstance(x, Decimal):
        # Formatting without an exponent writes every digit: refuse before, not after.
        if x.is_finite() and x and abs(x.adjusted()) > MAX_TEXT // 2:
            raise ValueError(f"the text of the number would be longer than {MAX_TEXT:,} characters")
        return format(x, "f")
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, int) and x.bit_length() > 14_000:     # about 4,200 digits
        raise ValueError(f"the text of the number would be longer than {MAX_TEXT:,} characters")
    result = str(x)
    if len(result) > MAX_TEXT:
        raise ValueError(f"the text would be longer than {MAX_TEXT:,} characters")
    return result


def _intersects(a, b) -> bool:
    """Whether two lists share an item (siblings: children who share a parent)."""
    return any(item in b for item in a)


class RuleFailure(Exception):
    """Raised by ``error(message)``: the rulebook's own words for a case it cannot decide."""


def _error(message):
    raise RuleFailure(str(message))


def _date(y, m=None, d=None):
    if m is None:
        return dates.parse_date(y)
    return dt.date(int(y), int(m), int(d))


#: name -> (function, fewest arguments, most arguments or None for any number)
BUILTINS = {
    "min": (_min, 1, None),
    "max": (_max, 1, None),
    "abs": (lambda x: abs(_number(x)), 1, 1),
    "ceil": (_ceil, 1, 1),
    "floor": (_floor, 1, 1),
    "round_up": (lambda x, step: round_to(x, step, "up"), 2, 2),
    "round_down": (lambda x, step: round_to(x, step, "down"), 2, 2),
    "round_half_up": (lambda x, step: round_to(x, step, "half_up"), 2, 2),
    "sum": (_sum, 1, 1),
    "len": (len, 1, 1),
    "any": (lambda xs: any(bool(x) for x in xs), 1, 1),
    "all": (lambda xs: all(bool(x) for x in xs), 1, 1),
    "range": (_range, 2, 2),
    "coalesce": (_coalesce, 1, None),
    "intersects": (_intersects, 2, 2),
    "error": (_error, 1, 1),
    "is_given": (lambda x: x is not None, 1, 1),
    "date": (_date, 1, 3),
    "year": (lambda d: dates.parse_date(d).year, 1, 1),
    "month": (lambda d: dates.parse_date(d).month, 1, 1),
    "day": (lambda d: dates.parse_date(d).day, 1, 1),
    "weekday": (lambda d: dates.parse_date(d).weekday(), 1, 1),
    "add_days": (dates.add_days, 2, 2),
    "add_months": (dates.add_months, 2, 2),
    "add_years": (dates.add_years, 2, 2),
    "end_of_month": (dates.end_of_month, 1, 1),
    "days_between": (dates.days_between, 2, 2),
    "months_between": (dates.months_between, 2, 2),
    "years_between": (dates.years_between, 2, 2),
    "decimal": (to_decimal, 1, 1),
    "integer": (_integer, 1, 1),
    "text": (_text, 1, 1),
}
