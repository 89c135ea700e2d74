"""Bounds on numbers and dates read from untrusted text (rulebooks, cases, requests).

They sit with the readers because the YAML loader applies them as it reads, before a value reaches
the language; :mod:`engine.language.numbers` and :mod:`engine.language.dates` use the same ones.
"""

from __future__ import annotations

import calendar
import re
from decimal import Decimal

#: Most digits before the decimal point of a number read from a rulebook, a case or an
#: expression literal: every amount, count and percentage of policy is below a quadrillion.
MAX_WHOLE_DIGITS = 15
#: Most digits after the decimal point of such a number.
MAX_FRACTION_DIGITS = 28


class NotANumber(ValueError):
    """Raised when a value that must be a number is not one."""


_INTEGER_LIMIT = 10 ** MAX_WHOLE_DIGITS


def check_magnitude(value: object) -> None:
    """Refuse a number read from outside (a rulebook, a case, a literal) that is too large or too
    finely divided to be policy: at most :data:`MAX_WHOLE_DIGITS` digits before the point and
    :data:`MAX_FRACTION_DIGITS` after it. Only the exponent is looked at, so a number written
    with a billion-digit exponent (``1e999999999``) is refused at once, without being expanded.
    Raises :class:`NotANumber`."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) >= _INTEGER_LIMIT:
            raise NotANumber(f"the number is too large: at most {MAX_WHOLE_DIGITS} digits before "
                             "the decimal point are allowed")
        return
    if isinstance(value, Decimal) and value.is_finite() and value:
        if value.adjusted() >= MAX_WHOLE_DIGITS:
            raise NotANumber(f"the number is too large: at most {MAX_WHOLE_DIGITS} digits before "
                             "the decimal point are allowed")
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -MAX_FRACTION_DIGITS:
            raise NotANumber(f"the number has too many decimal places: at most "
                             f"{MAX_FRACTION_DIGITS} are allowed")



_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def why_not_a_date(text: str) -> str:
    """Why ``text`` is not a date, in words: ``a real date: February has 28 days in 2025`` for
    2025-02-30, rather than a complaint about the form of a date that has the right form."""
    match = _ISO.match(text) if isinstance(text, str) else None
    if not match:
        return "a date of the form YYYY-MM-DD"
    year, month, day = (int(g) for g in match.groups())
    if year == 0:
        return "a real date: there is no year 0000 (the first is 0001)"
    if not 1 <= month <= 12:
        return f"a real date: there is no month {month:02d} (months are 01 to 12)"
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return f"a real date: {_MONTHS[month - 1]} has {last} days in {year}"
    return "a date of the form YYYY-MM-DD"
