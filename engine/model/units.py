"""The units a parameter may declare (``unit:`` in a rulebook), in one place.

The reader converts a parameter's values by its unit, the type checker of ``policy check`` reads a
parameter's type from it, and the bands check treats money bands differently (a cent step). The
JSON schema lists the same units (``$defs/unit``); ``tests/unit/test_units.py`` holds the two to
the same list.
"""

from __future__ import annotations

#: Amounts of money; a band of money may step by one cent (1305.00 then 1305.01).
MONEY_UNITS = ("USD", "USD/month", "USD/year")
#: Units whose values are numbers (exact decimals or integers).
NUMERIC_UNITS = frozenset(MONEY_UNITS + ("percent", "ratio", "days", "months", "years", "count"))
#: Units whose values are not numbers.
OTHER_UNITS = ("boolean", "text", "date")
#: Every unit, in the schema's order.
UNITS = MONEY_UNITS + ("percent", "ratio", "days", "months", "years", "count") + OTHER_UNITS
