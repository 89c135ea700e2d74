"""The operators of the expression language: exact decimal arithmetic with guards.

Both ways of evaluating an expression use these functions: the reference evaluator
(:class:`~engine.language.expressions.Evaluator`) and the compiled closures
(:mod:`engine.language.closures`). Keeping them in one module of their own, below both, is what
lets the two agree on arithmetic without importing each other.

Integers stay exact (``int``), everything else is a :class:`~decimal.Decimal` in the engine's
decimal context; ``True`` and ``False`` are refused as numbers; powers, products and sequences are
bounded so that no expression can ask for unbounded work.
"""

from __future__ import annotations

import ast
import operator as op
from decimal import ROUND_FLOOR, Decimal

from .numbers import to_decimal

#: Largest exponent for ``**``.
MAX_POWER = 100
#: Largest integer result of ``**``, in bits (about 1,200 decimal digits).
MAX_POWER_BITS = 4_000
#: Longest string or list an expression may build.
MAX_SEQUENCE = 10_000

# Operators: exact decimal arithmetic with simpleeval's guards against unbounded work.
# --------------------------------------------------------------------------------------------

def _num(value):
    cls = value.__class__
    if cls is int or (cls is Decimal and value.is_finite()):
        return value              # the common cases, decided by the class alone
    if isinstance(value, bool):
        raise TypeError("a yes/no value cannot be used as a number")
    if isinstance(value, int):
        return value
    return to_decimal(value)


def _div(a, b):
    a, b = to_decimal(_num(a)), to_decimal(_num(b))
    if b == 0:
        raise ZeroDivisionError("division by zero")
    return a / b


def _floordiv(a, b):
    a, b = _num(a), _num(b)
    if b == 0:
        raise ZeroDivisionError("division by zero")
    if isinstance(a, int) and isinstance(b, int):
        return a // b
    # Decimal's // truncates towards zero; integers round down. Use the integers' rule always,
    # so that -7.0 // 2 == -7 // 2 == -4.
    return (to_decimal(a) / to_decimal(b)).to_integral_value(rounding=ROUND_FLOOR)


def _mod(a, b):
    a, b = _num(a), _num(b)
    if b == 0:
        raise ZeroDivisionError("division by zero")
    if isinstance(a, int) and isinstance(b, int):
        return a % b
    return to_decimal(a) - to_decimal(b) * _floordiv(a, b)


def _pow(a, b):
    a, b = _num(a), _num(b)
    if abs(b) > MAX_POWER:
        raise ValueError(f"an exponent larger than {MAX_POWER} is not allowed")
    if isinstance(a, int) and isinstance(b, int) and b >= 0:
        # Exact integer power, but bounded by the size of the result, so that
        # (((9 ** 100) ** 100) ** 100) ** 100 stops at once instead of building a huge integer.
        if abs(a) > 1 and b * abs(a).bit_length() > MAX_POWER_BITS:
            raise ValueError(f"the result of {a} ** {b} would be too large")
        return a ** b
    # Otherwise in the decimal context: a negative exponent stays decimal (10 ** -2 == 0.01,
    # not a float), and the context's Overflow trap bounds the result.
    return to_decimal(a) ** to_decimal(b)


#: The classes of numbers the arithmetic operators take as they are (bool is not one).
_NUMBERS = frozenset({int, Decimal})


def _add(a, b):
    if a.__class__ in _NUMBERS and b.__class__ in _NUMBERS:
        return _num(a) + _num(b)
    if isinstance(a, (str, list)) or isinstance(b, (str, list)):
        if len(a) + len(b) > MAX_SEQUENCE:
            raise ValueError(f"the result would be longer than {MAX_SEQUENCE}")
        return a + b
    return _num(a) + _num(b)


def _sub(a, b):
    return _num(a) - _num(b)


def _mul(a, b):
    if a.__class__ in _NUMBERS and b.__class__ in _NUMBERS:
        return _bounded(_num(a) * _num(b))
    if isinstance(a, (str, list)) or isinstance(b, (str, list)):
        raise TypeError("text and lists cannot be multiplied")
    return _bounded(_num(a) * _num(b))


def _bounded(result):
    """Integer arithmetic is exact but unbounded in Python; a chain of rules squaring each other
    could build numbers of millions of digits. Decimals are bounded by their context."""
    if result.__class__ is int and result.bit_length() > MAX_POWER_BITS:
        raise ValueError("the result would be too large")
    return result


def _neg(a):
    return -_num(a)


def _in(a, b):
    return a in b


def _not_in(a, b):
    return a not in b


OPERATORS = {
    ast.Add: _add, ast.Sub: _sub, ast.Mult: _mul, ast.Div: _div, ast.FloorDiv: _floordiv,
    ast.Mod: _mod, ast.Pow: _pow, ast.USub: _neg, ast.UAdd: _num, ast.Not: op.not_,
    ast.Eq: op.eq, ast.NotEq: op.ne, ast.Lt: op.lt, ast.LtE: op.le, ast.Gt: op.gt,
    ast.GtE: op.ge, ast.In: _in, ast.NotIn: _not_in, ast.Is: op.is_, ast.IsNot: op.is_not,
}
