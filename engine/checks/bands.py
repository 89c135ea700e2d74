"""E520-E522: bands that cover their range exactly once.

A ``bands`` parameter maps ranges of a number to values (TWHA premiums by income). Sorted by
their lower bounds, each band must start exactly where the previous one ends:

* **contiguous**: the previous upper bound equals the next lower bound and exactly one of the two
  includes it (``to: 100, to_inclusive: false`` then ``from: 100, from_inclusive: true``);
* **contiguous at the cent**: for money, Missouri publishes bands as ``$1,305.00`` then
  ``$1,305.01``. An inclusive upper bound followed by an inclusive lower bound at most **0.01**
  higher is contiguous when the bounds are money: the parameter's unit is ``USD``,
  ``USD/month`` or ``USD/year``, or either bound is written with cents (two decimal places).
  Incomes are in whole cents, so no income falls between them;
* otherwise, a **gap** (E520: an amount between the bands has no value, and the engine stops with
  an error on it) or an **overlap** (E521: an amount is in two bands, and the engine silently
  takes the first).

A band whose lower bound is above its upper bound holds nothing (E522).
"""

from __future__ import annotations

from decimal import Decimal

from ..errors import codes
from ..io.yaml_loader import line_of
from ..model.units import MONEY_UNITS
from .context import CheckContext, cited, parameters_of, problem, raw_citations

CENT = Decimal("0.01")


class _Band:
    def __init__(self, raw, line):
        self.lower = _dec(raw.get("from"))
        self.lower_inclusive = bool(raw.get("from_inclusive", True))
        self.upper = _dec(raw.get("to"))
        self.upper_inclusive = bool(raw.get("to_inclusive", True))
        self.line = line

    def describe(self) -> str:
        left = "(-inf" if self.lower is None else ("[" if self.lower_inclusive else "(") + str(self.lower)
        right = "+inf)" if self.upper is None else str(self.upper) + ("]" if self.upper_inclusive else ")")
        return f"{left}..{right}"


def _dec(value):
    if value is None or isinstance(value, bool):
        return None
    return Decimal(str(value))


def run(context: CheckContext) -> list:
    found = []
    for source in context.sources:
        for name, raw, _ in parameters_of(source):
            if raw.get("kind") != "bands":
                continue
            cite = cited(raw_citations(source, raw.get("citation")))
            money = raw.get("unit") in MONEY_UNITS
            values = raw.get("values") or {}
            for key, entry in values.items():
                bands = entry["value"] if isinstance(entry, dict) and "value" in entry else entry
                if not isinstance(bands, list):
                    continue
                found.extend(check_bands(source.path, f"{name} (values from {key})", bands,
                                         money, cite, f"{name}.values.{key}"))
    return found


def check_bands(file: str, label: str, raw_bands: list, money: bool, cite: str, where: str) -> list:
    found = []
    bands = [_Band(b, line_of(raw_bands, i)) for i, b in enumerate(raw_bands) if isinstance(b, dict)]
    for band in bands:
        if _holds_nothing(band):
            found.append(problem(codes.BAND_EMPTY,
                                 f"Parameter {label}: the band {band.describe()} holds no "
                                 f"number.{cite}", file, band.line, where))
    bands = [b for b in bands if not _holds_nothing(b)]
    ordered = sorted(bands, key=lambda b: (b.lower is not None, b.lower or 0, not b.lower_inclusive))
    for a, b in zip(ordered, ordered[1:]):
        verdict = _join(a, b, money)
        if verdict == "gap":
            found.append(problem(
                codes.BAND_GAP, f"Parameter {label}: the bands {a.describe()} (line {a.line}) and "
                f"{b.describe()} leave a gap: {_between(a, b)} is in no band, and the engine stops "
                f"with an error on it. Make the next band start where this one ends"
                f"{' (money bands may step by one cent: 1305.00 then 1305.01)' if money or _cents(a, b) else ''}."
                f"{cite}", file, b.line, where))
        elif verdict == "overlap":
            found.append(problem(
                codes.BAND_OVERLAP,
                f"Parameter {label}: the bands {a.describe()} (line {a.line}) and "
                f"{b.describe()} overlap: {_shared(a, b)} is in both, and the engine takes the "
                f"first. Make one end exactly where the other starts, with one bound inclusive and "
                f"the other exclusive.{cite}", file, b.line, where))
    return found


def _holds_nothing(band: _Band) -> bool:
    if band.lower is None or band.upper is None:
        return False
    return band.lower > band.upper or (band.lower == band.upper and not
                                       (band.lower_inclusive and band.upper_inclusive))


def _cents(a: _Band, b: _Band) -> bool:
    def has_cents(x):
        return x is not None and x.as_tuple().exponent == -2
    return has_cents(a.upper) or has_cents(b.lower)


def _join(a: _Band, b: _Band, money: bool) -> str:
    """How band ``b`` (the next by lower bound) follows band ``a``: ok, gap or overlap."""
    if a.upper is None or b.lower is None:
        return "overlap"          # an open end followed by another band
    if a.upper > b.lower:
        return "overlap"
    if a.upper == b.lower:
        if a.upper_inclusive and b.lower_inclusive:
            return "overlap"
        if not a.upper_inclusive and not b.lower_inclusive:
            return "gap"
        return "ok"
    # a.upper < b.lower
    if a.upper_inclusive and b.lower_inclusive and b.lower - a.upper <= CENT and (money or _cents(a, b)):
        return "ok"
    return "gap"


def _between(a: _Band, b: _Band) -> str:
    if a.upper == b.lower:
        return str(a.upper)
    left = "[" if not a.upper_inclusive else "("
    right = "]" if not b.lower_inclusive else ")"
    return f"{left}{a.upper}..{b.lower}{right}"


def _shared(a: _Band, b: _Band) -> str:
    if a.upper is None:
        return f"everything from {b.lower}"
    if b.lower is None:
        return f"everything up to {a.upper}"
    if a.upper == b.lower:
        return str(a.upper)
    return f"[{b.lower}..{a.upper}]"
