"""E540-W543: charts as Missouri published them, compared cell by cell with the derivation.

A rulebook may record, beside the rules, a chart exactly as Missouri published it
(``published:``): on a table (the income-limit chart), on a parameter, or on a function. The
check derives the same cells from the rules and fails where they differ (E540), unless the cell
is listed under ``exceptions`` with the citation that explains the difference. The rows of a
published block name:

* on a **table**: the key columns (those whose expression is just a ``for_each`` variable or a
  literal) and the columns to compare: ``{program: QMB, household_size: 1, monthly_limit: 1305}``;
* on a **function**: its arguments by name and ``value``: ``{percent: 305, size: 3, value: 5282}``;
* on a **table or bands parameter**: ``key`` and ``value``: ``{key: 7, value: 490}``;
* on a **scalar parameter**: ``value`` alone.

An exception names the key fields of its row, ``column`` (``value`` for parameters and
functions) and a ``citation``. An exception that matches no published cell (W542), or excuses a
cell that now agrees (W543), is reported so that exceptions do not outlive their reason.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..errors import PolicyError, codes
from ..runtime.results import json_value
from ..tools.testing import same
from ..io.yaml_loader import line_of
from .context import CheckContext, problem, raw_citations


def run(context: CheckContext) -> list:
    return reconcile_published(context.engine, context)


def reconcile_published(engine, context: CheckContext | None = None) -> list:
    """Compare every recorded published chart with what the rulebooks derive."""
    found: list = []
    program = engine.program
    for chart in program.charts.values():
        keys = key_columns(chart)
        for block in chart.published:
            found.extend(_Block(engine, context, chart, block, f"Chart {chart.short}",
                                keys, "table").compare())
    for function in program.functions.values():
        for block in function.published:
            found.extend(_Block(engine, context, function, block, f"Function {function.name}",
                                set(function.args), "function").compare())
    for parameter in program.parameters.values():
        for block in parameter.published or []:
            keys = set() if parameter.kind == "scalar" else {"key"}
            found.extend(_Block(engine, context, parameter, block, f"Parameter {parameter.name}",
                                keys, "parameter").compare())
    return found


def key_columns(chart) -> set[str]:
    """Columns that identify a row: those whose expression is a ``for_each`` variable or a literal."""
    keys = set()
    for group in chart.groups:
        variables = {v for v, _ in group.for_each}
        for column, expression in group.row:
            if expression.text in variables or isinstance(expression.constant, str):
                keys.add(column)
    return keys


class _Block:
    """One published block of one table, function or parameter."""

    def __init__(self, engine, context, owner, block, label, keys, kind):
        self.engine, self.owner, self.block, self.label = engine, owner, block, label
        self.keys, self.kind = keys, kind
        self.file = owner.file
        self.as_of = dt.date.fromisoformat(str(block["as_of"]))
        source = context.source(owner.file) if context is not None else None
        self.cites = raw_citations(source, block.get("citation")) if source is not None else ()
        self.by = f" ({self.cites[0].short()})" if self.cites else ""
        self.exceptions = list(block.get("exceptions") or [])
        self.reads: tuple = ()                            # what the last derived row read
        self.excused = [False] * len(self.exceptions)     # excused a differing cell
        self.agreed = [False] * len(self.exceptions)      # matched a cell that agrees

    def error(self, code, message, line, field):
        return problem(code, message, self.file, line, field, self.cites)

    def compare(self) -> list:
        found = []
        derived_rows = None
        if self.kind == "table":
            try:
                derived_rows = self.engine.table(self.owner.name, self.as_of).rows
            except PolicyError as exc:
                return [self.error(codes.PUBLISHED_MISSING,
                                   f"{self.label} cannot be derived as of {self.as_of} to "
                                   f"compare with the published chart{self.by}: "
                                   f"{exc.problem.message}", line_of(self.block), self.owner.name)]
        rows = self.block["rows"]
        for index, published in enumerate(rows):
            line = line_of(rows, index)
            key = {k: v for k, v in published.items() if k in self.keys}
            try:
                actual = self.derive(key, published, derived_rows)
            except PolicyError as exc:
                found.append(self.error(codes.PUBLISHED_MISSING,
                                        f"{self.label} as of {self.as_of}, {_show(key)}: "
                                        f"the rules cannot derive the value that the published "
                                        f"chart{self.by} lists: {exc.problem.message}", line,
                                        self.owner.name))
                continue
            if actual is None:
                found.append(self.error(codes.PUBLISHED_MISSING,
                                        f"{self.label} as of {self.as_of} has no row for "
                                        f"{_show(key)}, which the published chart{self.by} "
                                        "lists.", line, self.owner.name))
                continue
            for column, expected in published.items():
                if column in self.keys:
                    continue
                value = actual.get(column)
                matches = self.matching_exceptions(key, column)
                if same(expected, value):
                    for i in matches:
                        self.agreed[i] = True
                    continue
                if matches:
                    for i in matches:
                        self.excused[i] = True
                    continue
                found.append(self.error(
                    codes.PUBLISHED_DIFFERS,
                    f"{self.label} as of {self.as_of}{', ' + _show(key) if key else ''}: "
                    f"the rules derive {_cell(column, value)}, but the published chart"
                    f"{self.by} says {json_value(expected)}.{_derived_from(self.reads)} Fix the "
                    "rule or parameter, or record the cell as a published exception with its "
                    "citation.", line,
                    f"{self.owner.name}.{column}"))
        exceptions = self.block.get("exceptions")
        for i, exception in enumerate(self.exceptions):
            line = line_of(exceptions, i)
            where = f"{self.owner.name}.published.exceptions"
            if self.excused[i]:
                continue
            if self.agreed[i]:
                found.append(problem(codes.EXCEPTION_STALE,
                                     f"{self.label} as of {self.as_of}: the exception for "
                                     f"{_show(_key_of(exception))}, {exception.get('column')} "
                                     "excuses a cell that the rules now derive as published. "
                                     "Remove the exception.", self.file, line, where))
            else:
                found.append(problem(codes.EXCEPTION_UNUSED,
                                     f"{self.label} as of {self.as_of}: the exception for "
                                     f"{_show(_key_of(exception))}, {exception.get('column')} "
                                     "matches no cell of the published chart. Check its key "
                                     "fields and column.", self.file, line, where))
        return found

    def matching_exceptions(self, key: dict, column: str) -> list[int]:
        out = []
        for i, exception in enumerate(self.exceptions):
            if exception.get("column") != column:
                continue
            wanted = _key_of(exception)
            if all(k in key and same(v, key.get(k)) for k, v in wanted.items()):
                out.append(i)
        return out

    def derive(self, key: dict, published: dict, derived_rows):
        """The derived cells for a published row: a dict by column, or None when no row. What
        the cells were derived from is kept in ``self.reads`` for the message of E540."""
        self.reads = ()
        if self.kind == "table":
            for row in derived_rows:
                if all(same(v, row.values.get(k)) for k, v in key.items()):
                    self.reads = row.reads
                    return row.values
            return None
        if self.kind == "function":
            args = [key.get(a) for a in self.owner.args]
            missing = [a for a in self.owner.args if a not in key]
            if missing:
                raise PolicyError(f"the row does not give the argument(s) {', '.join(missing)}.",
                                  code=codes.PUBLISHED_MISSING)
            args = [_number(a) for a in args]
            node = self.engine.call(self.owner.name, *args, as_of=self.as_of)
            self.reads = (node,)
            return {"value": node.value}
        value = self.engine.parameter(self.owner.name, self.as_of)
        self.reads = (value,)
        if self.owner.kind == "scalar":
            return {"value": value.read()}
        if "key" not in key:
            raise PolicyError("the row does not give its `key`.", code=codes.PUBLISHED_MISSING)
        return {"value": value.lookup(_number(key["key"]))}


def _derived_from(reads) -> str:
    """" It was derived from fpl.first_person = 12140 (policy/fpl.yaml:53), ...": the parameter
    values behind a derived cell, each where its value is written, so that a mistyped figure is
    found where it was typed, not only in the published chart."""
    from ..model.parameters import ParameterValue
    from ..runtime.trace import flatten
    found: dict = {}
    for record in reads:
        for step in flatten(record):
            if isinstance(step, ParameterValue):
                found.setdefault(id(step), step)
    if not found:
        return ""
    parts = []
    for value in found.values():
        parameter = value.parameter
        line = value.entry.line or parameter.line
        where = f"{parameter.file}:{line}" if parameter.file and line else (parameter.file or "")
        shown = _parameter_value(value)
        parts.append(f"{value.name}{' = ' + shown if shown else ''}" + (f" ({where})" if where else ""))
    return " It was derived from " + ", ".join(parts) + "."


def _parameter_value(value) -> str:
    """A scalar value as written; a table or bands parameter by name only."""
    raw = value.entry.value
    if isinstance(raw, (dict, list)):
        return ""
    return str(json_value(raw))


def _number(value):
    """Published cells are read as YAML gives them; decimals stay decimals."""
    if isinstance(value, float):  # pragma: no cover - the loader reads decimals
        return Decimal(repr(value))
    return value


def _cell(column: str, value) -> str:
    return str(json_value(value)) if column == "value" else f"{column} = {json_value(value)}"


def _key_of(exception: dict) -> dict:
    return {k: v for k, v in exception.items() if k not in ("column", "citation", "note", "value")}


def _show(key: dict) -> str:
    return ", ".join(f"{k} {json_value(v)}" for k, v in key.items())
