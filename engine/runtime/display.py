"""How amounts are shown to people (not in JSON, which keeps exact decimal strings).

``$12,140`` rather than ``12140``: thousands separated, the dollar sign in front, cents shown only
when the amount has them (``$5,282.01``), and never rounded: an amount below the cent keeps its
digits (``$5,281.5833``).
"""

from __future__ import annotations

from decimal import Decimal


def usd(value, cents: bool = False) -> str:
    """An amount of dollars as text: ``$12,140``, ``$5,282.01``, ``-$3.50``; other values as
    they are. ``cents=True`` always shows the cents (``$5,282.00``), for incomes."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return "—" if value is None else str(value)
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount == amount.to_integral_value() and not cents:
        return f"{sign}${int(amount):,}"
    exponent = amount.as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    whole = int(amount)
    fraction = format(amount - whole, f".{places}f")[1:]      # ".01"
    return f"{sign}${whole:,}{fraction}"
