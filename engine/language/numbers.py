"""Exact decimal arithmetic and rounding declared as data.

Money is never a binary float. Every number the engine touches is an ``int`` or a
:class:`decimal.Decimal`; this module converts what comes in, and rounds only where a rulebook
says so (Missouri rounds its income limits *up* to the whole dollar, "to the benefit of the
participant", 1805.030.20.20.05).
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from ..io.values import MAX_FRACTION_DIGITS, MAX_WHOLE_DIGITS, NotANumber, check_magnitude

#: Largest decimal exponent of a computed result (results of 10**100 and beyond overflow, E420);
#: the smallest is its negative. Bounds what ``text()``, ``ceil()`` or ``add_days()`` can be given.
MAX_EXPONENT = 99

#: Precision of intermediate results. 28 significant digits is far beyond any policy amount.
CONTEXT = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN,
                          Emax=MAX_EXPONENT, Emin=-MAX_EXPONENT,
                          traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])

#: Named rounding steps a rulebook may use in ``round.to``.
STEPS = {
    "dollar": Decimal("1"),
    "whole": Decimal("1"),
    "cent": Decimal("0.01"),
    "hundredth": Decimal("0.01"),
    "tenth": Decimal("0.1"),
    "five_cents": Decimal("0.05"),
}

#: Rounding modes a rulebook may use in ``round.mode``.
MODES = {
    "up": decimal.ROUND_CEILING,
    "down": decimal.ROUND_FLOOR,
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
}


def to_decimal(value) -> Decimal:
    """Convert an int, Decimal or decimal string to Decimal. Floats and booleans are refused."""
    if isinstance(value, bool):
        raise NotANumber(f"{value!r} is a yes/no value, not a number")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NotANumber(f"{value} is not a finite number")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if text.startswith("$"):
            text = text[1:]
        try:
            result = Decimal(text)
        except decimal.InvalidOperation:
            raise NotANumber(f"'{value}' is not a number") from None
        if not result.is_finite():
            raise NotANumber(f"'{value}' is not a finite number")
        check_magnitude(result)
        return result
    if isinstance(value, float):
        raise NotANumber(f"{value!r} is a binary float; write it as a decimal string")
    raise NotANumber(f"{value!r} is not a number")


def step_of(to) -> Decimal:
    """The rounding step for a ``round.to`` value: a name from :data:`STEPS` or a decimal."""
    if isinstance(to, str) and to in STEPS:
        return STEPS[to]
    step = to_decimal(to)
    if step <= 0:
        raise NotANumber(f"a rounding step must be positive, not {to}")
    return step


def round_to(value, step, mode: str) -> Decimal:
    """Round ``value`` to a multiple of ``step`` with the named mode (``up``, ``down``, ...)."""
    value = to_decimal(value)
    step = step_of(step)
    rounding = MODES[mode]
    units = (value / step).quantize(Decimal(1), rounding=rounding, context=CONTEXT)
    result = units * step
    # Keep the step's exponent so that 5282 stays "5282" and 1993.18 stays "1993.18".
    return result.quantize(step if step.as_tuple().exponent < 0 else Decimal(1), context=CONTEXT)


_ONE = Decimal(1)


class Rounding:
    """A declared rounding: ``{mode: up, to: dollar}``. Applied by parameters, functions, rules."""

    __slots__ = ("mode", "step", "spec", "kept")

    def __init__(self, mode: str, to):
        if mode not in MODES:
            raise NotANumber(f"unknown rounding mode '{mode}'")
        self.mode = mode
        self.step = step_of(to)
        self.spec = {"mode": mode, "to": to if isinstance(to, str) else str(to)}
        # The exponent a rounded value keeps (round_to): 5282 stays "5282", 1993.18 "1993.18".
        self.kept = self.step if self.step.as_tuple().exponent < 0 else _ONE

    def apply(self, value):
        """:func:`round_to` with this rounding's step and mode. The step was checked when the
        rounding was made, and the exponent the result keeps depends on it alone: both are
        worked out once, since a rule's value is rounded on every evaluation."""
        if value is None:
            return None
        value = to_decimal(value)
        step = self.step
        units = (value / step).quantize(_ONE, rounding=MODES[self.mode], context=CONTEXT)
        return (units * step).quantize(self.kept, context=CONTEXT)

    def __repr__(self) -> str:
        return f"Rounding({self.mode!r}, {self.spec['to']!r})"


def format_decimal(value) -> str:
    """A decimal as a plain string for JSON: no exponent, no binary-float artefacts."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    value = to_decimal(value)
    text = format(value, "f")
    return text


def money_text(value) -> str:
    """An amount of dollars as a person reads it: ``$5,199.60``, ``$2,650``, ``-$3.50``.

    Thousands are separated and the dollar sign comes first. An amount written with cents keeps
    them (at least two places: ``5199.6`` reads ``$5,199.60``) and is never rounded (an amount
    below the cent keeps its digits, ``$5,281.5833``); a whole amount has none. A missing amount
    reads "no value". The one spelling of money in text: the ``money(x)`` built-in of
    expressions and the ``money`` filter of ``because`` texts and notices both call this.
    """
    if value is None:
        return "no value"
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise TypeError(f"money() needs a number, not {value!r}")
    if isinstance(value, int):
        return f"-${-value:,}" if value < 0 else f"${value:,}"
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"money() needs a finite number, not {value}")
    sign = "-" if amount < 0 else ""
    amount = abs(amount)              # (rounded to the context's precision, as it always was)
    # Every digit as written, grouped by thousands, without an exponent: a whole amount has no
    # point, an amount with cents keeps its places (``,f`` writes exactly as many as the
    # exponent says), and one place is made two (no rounding either way). Decimal's own
    # formatting, without taking the exponent apart (``as_tuple`` costs more than the rest).
    text = format(amount, ",f")
    if text[-2:-1] == ".":
        text += "0"
    return f"{sign}${text}"
