"""Parameters: policy values keyed by the date they take effect.

A parameter's history is a list of dated entries; the value in force on a date is the entry with
the latest start on or before that date, unless that entry ended (``until``) before the date.
Three kinds share that history:

* ``scalar``: one value (a percentage, a dollar amount, a rate);
* ``table``: a value per key (household size, income frequency), with an optional
  "each additional" increment for integer keys beyond the last row;
* ``bands``: values for ranges of a number, each bound declared inclusive or exclusive.

Reading a parameter yields a :class:`ParameterValue`, which is also the trace record: the value,
the dates it is in force, and its citations.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .citations import Citation, mask_of, merge
from ..errors import EvaluationError, codes
from ..language.numbers import Rounding, to_decimal


@dataclass(frozen=True)
class Entry:
    """One dated value of a parameter."""

    start: dt.date
    until: dt.date | None
    value: Any
    citations: tuple[Citation, ...]
    each_additional: Any = None
    note: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Band:
    lower: Decimal | None
    lower_inclusive: bool
    upper: Decimal | None
    upper_inclusive: bool
    value: Any

    def contains(self, x) -> bool:
        if self.lower is not None:
            if x < self.lower or (x == self.lower and not self.lower_inclusive):
                return False
        if self.upper is not None:
            if x > self.upper or (x == self.upper and not self.upper_inclusive):
                return False
        return True

    def describe(self) -> str:
        left = "(-inf" if self.lower is None else ("[" if self.lower_inclusive else "(") + str(self.lower)
        right = "+inf)" if self.upper is None else str(self.upper) + ("]" if self.upper_inclusive else ")")
        return f"{left}..{right}"


class ParameterValue:
    """The value of a parameter in force on a date: also the trace record for reading it."""

    __slots__ = ("parameter", "entry", "effective_from", "effective_to", "_citations",
                 "citation_mask", "_deciding")

    kind_label = "parameter"
    deps: tuple = ()

    def __init__(self, parameter: "Parameter", entry: Entry, effective_to: dt.date | None):
        self.parameter = parameter
        self.entry = entry
        self.effective_from = entry.start
        self.effective_to = effective_to
        self._citations = None
        self._deciding = None          # memo of engine.runtime.deciding
        self.citation_mask = mask_of(self.citations)

    @property
    def name(self) -> str:
        return self.parameter.name

    @property
    def value(self):
        return self.entry.value

    @property
    def citations(self) -> tuple[Citation, ...]:
        if self._citations is None:
            self._citations = merge(self.parameter.citations, self.entry.citations)
        return self._citations

    def read(self):
        """The scalar value with the parameter's declared rounding applied."""
        value = self.entry.value
        if self.parameter.rounding is not None and isinstance(value, (int, Decimal)):
            return self.parameter.rounding.apply(value)
        return value

    def lookup(self, key):
        """A table row or the band holding ``key``."""
        param = self.parameter
        if param.kind == "table":
            return self._round(self._table_lookup(key))
        if param.kind == "bands":
            x = to_decimal(key)
            for band in self.entry.value:
                if band.contains(x):
                    return self._round(band.value)
            raise EvaluationError(
                f"No band of parameter {param.name} (in force from {self.effective_from}) holds "
                f"{key}; the bands are {', '.join(b.describe() for b in self.entry.value)}.",
                code=codes.NO_BAND,
                file=param.file, line=self.entry.line or param.line, field=param.name)
        raise EvaluationError(f"Parameter {param.name} is a single value, not a table; use it "
                              "without parentheses.",
                              code=codes.NOT_A_TABLE, file=param.file, line=param.line)

    def _table_lookup(self, key):
        param, rows = self.parameter, self.entry.value
        norm = _normalise_key(key)
        if norm in rows:
            return rows[norm]
        extra = self.entry.each_additional
        if extra is not None and isinstance(norm, int):
            int_keys = [k for k in rows if isinstance(k, int)]
            if int_keys and norm > max(int_keys):
                top = max(int_keys)
                return rows[top] + (norm - top) * extra
        known = ", ".join(str(k) for k in rows)
        raise EvaluationError(
            f"Parameter {param.name} (in force from {self.effective_from}) has no row for "
            f"{key!r}; its rows are {known}.", code=codes.NO_TABLE_ROW, file=param.file,
            line=self.entry.line or param.line, field=param.name)

    def _round(self, value):
        if self.parameter.rounding is not None and isinstance(value, (int, Decimal)) \
                and not isinstance(value, bool):
            return self.parameter.rounding.apply(value)
        return value

    def as_dict(self) -> dict:
        return {"name": self.name, "effective_from": self.effective_from.isoformat(),
                "effective_to": self.effective_to.isoformat() if self.effective_to else None}


def _normalise_key(key):
    if isinstance(key, Decimal) and key == key.to_integral_value():
        return int(key)
    return key


class Parameter:
    """A named, cited policy value with its effective-date history."""

    def __init__(self, name: str, kind: str, unit: str, entries: list[Entry],
                 citations: tuple[Citation, ...], *, rounding: Rounding | None = None,
                 key: str | None = None, title: str | None = None, description: str | None = None,
                 update_cycle: dict | None = None, published: list | None = None,
                 file: str | None = None, line: int | None = None):
        self.name = name
        self.kind = kind
        self.unit = unit
        self.entries = sorted(entries, key=lambda e: e.start)
        self.starts = [e.start for e in self.entries]
        self.citations = citations
        self.rounding = rounding
        self.key = key
        self.title = title
        self.description = description
        self.update_cycle = update_cycle
        self.published = published or []
        self.file = file
        self.line = line

    def at(self, on: dt.date) -> ParameterValue:
        """The value in force on ``on``; an :class:`EvaluationError` when there is none."""
        index = bisect.bisect_right(self.starts, on) - 1
        if index < 0:
            first = self.starts[0].isoformat() if self.starts else "never"
            raise EvaluationError(
                f"Parameter {self.name} has no value on {on.isoformat()}: its first value takes "
                f"effect on {first}.",
                code=codes.NO_VALUE_IN_FORCE, file=self.file, line=self.line, field=self.name)
        entry = self.entries[index]
        next_start = self.starts[index + 1] if index + 1 < len(self.starts) else None
        if entry.until is not None and on > entry.until:
            after = f"; the next value takes effect on {next_start.isoformat()}" if next_start else ""
            raise EvaluationError(
                f"Parameter {self.name} has no value on {on.isoformat()}: the value from "
                f"{entry.start.isoformat()} ended on {entry.until.isoformat()}{after}.",
                code=codes.NO_VALUE_IN_FORCE,
                file=self.file, line=entry.line or self.line, field=self.name)
        effective_to = entry.until
        if effective_to is None and next_start is not None:
            effective_to = next_start - dt.timedelta(days=1)
        return ParameterValue(self, entry, effective_to)

    def has_value(self, on: dt.date) -> bool:
        try:
            self.at(on)
        except EvaluationError:
            return False
        return True

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, {self.kind}, {len(self.entries)} values)"
