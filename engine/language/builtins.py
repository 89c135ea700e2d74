"""The built-in functions rulebook expressions may call, and only these.

Each built-in is one :class:`Builtin` record: the function, how many arguments it takes (so that
the compiler can reject a wrong call before any case is evaluated) and the types it needs and
gives (for the type checker of ``policy check``). Every function here is pure, bounded and works
on exact decimals; none gives access to Python objects.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from . import dates
from .numbers import money_text, round_to, to_decimal

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
    """A value as text in a sentence: yes/no and "no value" rather than Python's True, False and
    None (texts built with it are read by people: why_not, notices)."""
    if x is None:
        return "no value"
    if x is True or x is False:
        return "yes" if x else "no"
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


#: The types a built-in gives, as the type checker (``engine.checks.types``) names them; ``ARG``
#: is "the type of its arguments" (``min``, ``max``, ``coalesce``) and None any type.
NUMBER, BOOLEAN, TEXT, DATE, LIST, ARG = "number", "boolean", "text", "date", "list", "arg"


@dataclass(frozen=True)
class Builtin:
    """One built-in function: what it computes, how it may be called, and what it gives.

    The compiler reads ``fewest``/``most`` to refuse a wrong call before any case is evaluated
    (E326); the type checker reads ``result`` and the argument needs (E501). Keeping both here, in
    one record per built-in, is what stops them from disagreeing about a function.
    """

    name: str
    function: Callable
    fewest: int                        # fewest arguments
    most: int | None                   # most arguments, None for any number
    result: str | None                 # NUMBER, BOOLEAN, ..., ARG, or None for any type
    number_first: bool = False         # the first argument must be a number
    date_args: tuple[int, ...] = ()    # the arguments (by position) that must be dates
    list_first: bool = False           # the first argument must be a list


#: name -> its record, for every function an expression may call (``in_force`` and ``value_on``,
#: which take a parameter's name, are compiled specially and are not here).
BUILTINS: dict[str, Builtin] = {b.name: b for b in (
    Builtin("min", _min, 1, None, ARG),
    Builtin("max", _max, 1, None, ARG),
    Builtin("abs", lambda x: abs(_number(x)), 1, 1, NUMBER, number_first=True),
    Builtin("ceil", _ceil, 1, 1, NUMBER, number_first=True),
    Builtin("floor", _floor, 1, 1, NUMBER, number_first=True),
    Builtin("round_up", lambda x, step: round_to(x, step, "up"), 2, 2, NUMBER, number_first=True),
    Builtin("round_down", lambda x, step: round_to(x, step, "down"), 2, 2,
            NUMBER, number_first=True),
    Builtin("round_half_up", lambda x, step: round_to(x, step, "half_up"), 2, 2,
            NUMBER, number_first=True),
    Builtin("sum", _sum, 1, 1, NUMBER, list_first=True),
    Builtin("len", len, 1, 1, NUMBER),
    Builtin("any", lambda xs: any(bool(x) for x in xs), 1, 1, BOOLEAN, list_first=True),
    Builtin("all", lambda xs: all(bool(x) for x in xs), 1, 1, BOOLEAN, list_first=True),
    Builtin("range", _range, 2, 2, LIST),
    Builtin("coalesce", _coalesce, 1, None, ARG),
    Builtin("intersects", _intersects, 2, 2, BOOLEAN),
    Builtin("error", _error, 1, 1, None),
    Builtin("is_given", lambda x: x is not None, 1, 1, BOOLEAN),
    Builtin("date", _date, 1, 3, DATE),
    Builtin("year", lambda d: dates.parse_date(d).year, 1, 1, NUMBER, date_args=(0,)),
    Builtin("month", lambda d: dates.parse_date(d).month, 1, 1, NUMBER, date_args=(0,)),
    Builtin("day", lambda d: dates.parse_date(d).day, 1, 1, NUMBER, date_args=(0,)),
    Builtin("weekday", lambda d: dates.parse_date(d).weekday(), 1, 1, NUMBER, date_args=(0,)),
    Builtin("add_days", dates.add_days, 2, 2, DATE, date_args=(0,)),
    Builtin("add_months", dates.add_months, 2, 2, DATE, date_args=(0,)),
    Builtin("add_years", dates.add_years, 2, 2, DATE, date_args=(0,)),
    Builtin("end_of_month", dates.end_of_month, 1, 1, DATE, date_args=(0,)),
    Builtin("days_between", dates.days_between, 2, 2, NUMBER, date_args=(0, 1)),
    Builtin("months_between", dates.months_between, 2, 2, NUMBER, date_args=(0, 1)),
    Builtin("years_between", dates.years_between, 2, 2, NUMBER, date_args=(0, 1)),
    Builtin("decimal", to_decimal, 1, 1, NUMBER, number_first=True),
    Builtin("integer", _integer, 1, 1, NUMBER),
    Builtin("text", _text, 1, 1, TEXT),
    Builtin("money", money_text, 1, 1, TEXT, number_first=True),
)}
