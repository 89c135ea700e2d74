"""E510-E513: effective-date histories that read as they happened, without overlaps or holes.

A parameter's ``values`` are keyed by the date each takes effect. The engine sorts them, so a
history written out of order still evaluates, but an out-of-order date is usually a typo
(``2052-04-01`` for ``2025-04-01``) and always hard to review; it is an error. ``until`` ends a
value early:

* an ``until`` on or after the next value's start is an **overlap** (two values claim the same
  days; the engine would silently take the later one): error E511;
* an ``until`` more than a day before the next start is a **gap** (days with no value, on which
  every rule that reads the parameter fails): warning W512, unless the entry says why with
  ``gap: <reason>``;
* an ``until`` before the value's own start: error E513.
"""

from __future__ import annotations

import datetime as dt

from ..errors import codes
from ..io.yaml_loader import line_of
from .context import CheckContext, cited, parameters_of, problem, raw_citations

ONE_DAY = dt.timedelta(days=1)


def run(context: CheckContext) -> list:
    found = []
    for source in context.sources:
        for name, raw, _ in parameters_of(source):
            found.extend(check_parameter(source, name, raw))
    return found


def check_parameter(source, name: str, raw) -> list:
    values = raw.get("values") or {}
    cite = cited(raw_citations(source, raw.get("citation")))
    found = []
    entries = []
    previous = None
    for key, entry in values.items():
        try:
            start = dt.date.fromisoformat(str(key))
        except ValueError:
            continue  # the schema's pattern admits 2025-02-30; the builder reports it
        line = line_of(values, key)
        if previous is not None and start < previous[0]:
            found.append(problem(
                codes.DATES_OUT_OF_ORDER,
                f"Parameter {name}: the value dated {start} is written after the value "
                f"dated {previous[0]} (line {previous[1]}). Write effective dates oldest first, and "
                f"check {start} for a typo.{cite}", source.path, line, f"{name}.values.{key}"))
        previous = (start, line)
        until = None
        if isinstance(entry, dict) and "value" in entry and entry.get("until"):
            try:
                until = dt.date.fromisoformat(str(entry["until"]))
            except ValueError:
                until = None
        entries.append((start, until, entry, line))
    entries.sort(key=lambda e: e[0])
    for index, (start, until, entry, line) in enumerate(entries):
        if until is None:
            continue
        until_line = line_of(entry, "until") or line
        where = f"{name}.values.{start}.until"
        if until < start:
            found.append(problem(
                codes.UNTIL_BEFORE_START,
                f"Parameter {name}: the value from {start} ends on {until}, before it "
                f"starts. Correct `until` or the effective date.{cite}", source.path, until_line, where))
            continue
        if index + 1 >= len(entries):
            continue
        following = entries[index + 1][0]
        if until >= following:
            found.append(problem(
                codes.DATES_OVERLAP,
                f"Parameter {name}: the value from {start} is in force until {until}, but "
                f"the next value takes effect on {following}, so both claim {following} to "
                f"{min(until, _end(entries, index + 1))}. Set `until` to {following - ONE_DAY} or "
                f"earlier, or remove it.{cite}", source.path, until_line, where))
        elif until + ONE_DAY < following and not entry.get("gap"):
            found.append(problem(
                codes.DATES_GAP,
                f"Parameter {name}: no value is in force from {until + ONE_DAY} to "
                f"{following - ONE_DAY} (the value from {start} ends on {until}; the next takes "
                f"effect on {following}), so every rule that reads it fails on those days. If "
                f"that is the policy, say why with `gap: <reason>` on the entry.{cite}",
                source.path, until_line, where))
    return found


def _end(entries, index):
    """The last day the entry at ``index`` claims (its until, else the day before the next)."""
    start, until, _, _ = entries[index]
    if until is not None:
        return until
    if index + 1 < len(entries):
        return entries[index + 1][0] - ONE_DAY
    return dt.date.max
