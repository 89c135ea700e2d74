"""Sets of input values, for reasoning about decision-table rows without evaluating them.

A row of a decision table tests some inputs; the values each test admits form a set: a union of
intervals for a number (``(150..185]``, ``< 1``), a set of values (or all values but some) for a
text or true/false. A row is then a *box*: one set per input. Boxes can be intersected and
subtracted, which is all the table checks need: two rows overlap when their boxes intersect; a
row is unreachable when the boxes above it cover it; a table misses rows when the boxes do not
cover its inputs' range.
"""

from __future__ import annotations

from decimal import Decimal


class Numbers:
    """A union of disjoint intervals, sorted. A bound is ``(value, inclusive)``; None is infinite."""

    __slots__ = ("parts",)

    def __init__(self, parts=()):
        self.parts = tuple(p for p in parts if not _empty(*p))

    @classmethod
    def everything(cls):
        return cls([(None, False, None, False)])

    @classmethod
    def interval(cls, lo, lo_inc, hi, hi_inc):
        return cls([(lo, lo_inc, hi, hi_inc)])

    @classmethod
    def point(cls, x):
        return cls([(x, True, x, True)])

    def empty(self) -> bool:
        return not self.parts

    def intersect(self, other: "Numbers") -> "Numbers":
        out = []
        for a in self.parts:
            for b in other.parts:
                lo, lo_inc = _max_low(a[0], a[1], b[0], b[1])
                hi, hi_inc = _min_high(a[2], a[3], b[2], b[3])
                out.append((lo, lo_inc, hi, hi_inc))
        return Numbers(sorted((p for p in out if not _empty(*p)), key=_low_key))

    def complement(self) -> "Numbers":
        out = []
        lo, lo_inc = None, False
        for p_lo, p_lo_inc, p_hi, p_hi_inc in self.parts:
            if p_lo is not None:
                out.append((lo, lo_inc, p_lo, not p_lo_inc))
            if p_hi is None:
                return Numbers(out)
            lo, lo_inc = p_hi, not p_hi_inc
        out.append((lo, lo_inc, None, False))
        return Numbers(out)

    def minus(self, other: "Numbers") -> "Numbers":
        return self.intersect(other.complement())

    def union(self, other: "Numbers") -> "Numbers":
        return self.complement().intersect(other.complement()).complement()

    def bounds(self) -> list:
        return [b for p in self.parts for b in (p[0], p[2]) if b is not None]

    def describe(self) -> str:
        shown = []
        for lo, lo_inc, hi, hi_inc in self.parts:
            if lo is not None and lo == hi:
                shown.append(f"= {lo}")
            elif lo is None and hi is None:
                shown.append("anything")
            elif lo is None:
                shown.append(f"{'<=' if hi_inc else '<'} {hi}")
            elif hi is None:
                shown.append(f"{'>=' if lo_inc else '>'} {lo}")
            else:
                shown.append(f"in {'[' if lo_inc else '('}{lo}..{hi}{']' if hi_inc else ')'}")
        return " or ".join(shown) or "nothing"


def _empty(lo, lo_inc, hi, hi_inc) -> bool:
    if lo is None or hi is None:
        return False
    return lo > hi or (lo == hi and not (lo_inc and hi_inc))


def _low_key(part):
    lo, lo_inc = part[0], part[1]
    return (lo is not None, lo if lo is not None else Decimal(0), not lo_inc)


def _max_low(a, a_inc, b, b_inc):
    if a is None:
        return b, b_inc
    if b is None:
        return a, a_inc
    if a > b:
        return a, a_inc
    if b > a:
        return b, b_inc
    return a, a_inc and b_inc


def _min_high(a, a_inc, b, b_inc):
    if a is None:
        return b, b_inc
    if b is None:
        return a, a_inc
    if a < b:
        return a, a_inc
    if b < a:
        return b, b_inc
    return a, a_inc and b_inc


class Values:
    """A set of texts or true/false values: exactly ``values``, or all but ``values``."""

    __slots__ = ("include", "values", "domain")

    def __init__(self, values, include=True, domain=None):
        values = frozenset(values)
        if domain is not None and not include:          # a finite domain: say it positively
            values, include = domain - values, True
        self.include, self.values, self.domain = include, values, domain

    @classmethod
    def everything(cls, domain=None):
        return cls(frozenset(), include=False, domain=domain)

    def empty(self) -> bool:
        return self.include and not self.values

    def intersect(self, other: "Values") -> "Values":
        domain = self.domain or other.domain
        if self.include and other.include:
            return Values(self.values & other.values, True, domain)
        if self.include:
            return Values(self.values - other.values, True, domain)
        if other.include:
            return Values(other.values - self.values, True, domain)
        return Values(self.values | other.values, False, domain)

    def complement(self) -> "Values":
        return Values(self.values, not self.include, self.domain)

    def minus(self, other: "Values") -> "Values":
        return self.intersect(other.complement())

    def describe(self) -> str:
        shown = ", ".join(sorted(_show(v) for v in self.values))
        if self.include:
            return f"= {shown}" if len(self.values) == 1 else f"in [{shown}]"
        return f"not in [{shown}]" if self.values else "anything"


def _show(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


BOOLEANS = frozenset({True, False})

# -- boxes: one set per input; an input a box does not name admits everything ------------------


def box_empty(box: dict) -> bool:
    return any(s.empty() for s in box.values())


def box_intersect(a: dict, b: dict) -> dict:
    out = dict(a)
    for name, s in b.items():
        out[name] = out[name].intersect(s) if name in out else s
    return out


def box_minus(a: dict, b: dict, full: dict) -> list[dict]:
    """``a`` minus ``b`` as disjoint boxes (``full`` gives each input's whole set)."""
    if box_empty(box_intersect(a, b)):
        return [a]
    out = []
    current = dict(a)
    for name, s in b.items():
        mine = current.get(name, full[name])
        outside = mine.minus(s)
        if not outside.empty():
            piece = dict(current)
            piece[name] = outside
            out.append(piece)
        current[name] = mine.intersect(s)
    return out
