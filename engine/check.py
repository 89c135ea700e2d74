"""``policy check``: everything that can be known about rulebooks without a case.

The checks run in stages, and each stage reports every problem it finds, not only the first:

1. reading: YAML syntax, duplicate keys, size limits (codes E1xx);
2. the schema: unknown keys, missing citations, malformed values (E2xx);
3. compiling: unknown names, namespaces not declared in ``uses``, cycles (E3xx);
4. reconciliation: every chart Missouri published and a rulebook recorded (``published``) is
   compared, cell by cell, with the chart the rules derive (E540).

A later stage runs only when the earlier ones passed, since it needs their output.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .api import Engine, rulebook_files
from .citations import build as build_citation
from .compiler import compile_files
from .errors import PolicyError, Problem
from .results import json_value
from .rulebook import read as read_rulebook
from .testing import same
from .yaml_loader import line_of


@dataclass
class CheckReport:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: int = 0

    @property
    def unreadable(self) -> bool:
        """Whether some file could not even be read (exit 2 rather than 1)."""
        return any(p.code.startswith("E1") for p in self.errors)

    def add(self, problem: Problem):
        (self.warnings if problem.severity == "warning" else self.errors).append(problem)


def check(paths: Iterable[str | Path]) -> CheckReport:
    report = CheckReport()
    try:
        files = rulebook_files(paths)
    except PolicyError as exc:
        for p in exc.problems:
            report.add(p)
        return report
    report.files = len(files)
    books = []
    for file in files:
        try:
            books.append(read_rulebook(file))
        except PolicyError as exc:
            for p in exc.problems:
                report.add(p)
    if report.errors:
        return report
    try:
        program = compile_files(books)
    except PolicyError as exc:
        for p in exc.problems:
            report.add(p)
        return report
    for p in program.warnings:
        report.add(p)
    engine = Engine(program)
    for problem in reconcile_published(engine):
        report.add(problem)
    return report


def reconcile_published(engine: Engine) -> list[Problem]:
    """Compare every recorded published chart with the chart the rulebooks derive."""
    problems: list[Problem] = []
    for chart in engine.program.charts.values():
        keys = key_columns(chart)
        for block in chart.published:
            as_of = dt.date.fromisoformat(str(block["as_of"]))
            sources = {}
            try:
                cite = build_citation(block.get("citation") or {}, sources) if "ref" not in (block.get("citation") or {}) else None
            except KeyError:
                cite = None
            try:
                derived = engine.table(chart.name, as_of)
            except PolicyError as exc:
                problems.append(Problem("E541", f"Table {chart.short} cannot be derived as of {as_of} "
                                        f"to compare with the published chart: {exc.problem.message}",
                                        chart.file, line_of(block), chart.name))
                continue
            exceptions = block.get("exceptions") or []
            for index, published in enumerate(block["rows"]):
                line = line_of(block["rows"], index)
                key = {k: v for k, v in published.items() if k in keys}
                matches = [r for r in derived.rows if all(same(v, r.values.get(k)) for k, v in key.items())]
                if not matches:
                    problems.append(Problem("E541", f"Table {chart.short} as of {as_of} has no row for "
                                            f"{_show(key)}, which the published chart"
                                            f"{_by(cite)} lists.", chart.file, line, chart.name,
                                            citations=(cite,) if cite else ()))
                    continue
                row = matches[0]
                for column, expected in published.items():
                    if column in keys:
                        continue
                    actual = row.values.get(column)
                    if same(expected, actual):
                        continue
                    if _excepted(exceptions, key, column):
                        continue
                    problems.append(Problem(
                        "E540", f"Table {chart.short} as of {as_of}, {_show(key)}: the rules derive "
                        f"{column} = {json_value(actual)}, but the published chart{_by(cite)} says "
                        f"{json_value(expected)}. Fix the rule or parameter, or record the cell as a "
                        "published exception with its citation.", chart.file, line, f"{chart.name}.{column}",
                        citations=(cite,) if cite else ()))
    return problems


def key_columns(chart) -> set[str]:
    """Columns that identify a row: those whose expression is just a ``for_each`` variable."""
    keys = set()
    for group in chart.groups:
        variables = {v for v, _ in group.for_each}
        for column, expression in group.row:
            if expression.text in variables or (isinstance(expression.constant, str)):
                keys.add(column)
    return keys


def _excepted(exceptions, key: dict, column: str) -> bool:
    for exc in exceptions:
        if exc.get("column") != column:
            continue
        if all(same(v, key.get(k)) for k, v in exc.items() if k not in ("column", "citation", "note", "value")):
            return True
    return False


def _show(key: dict) -> str:
    return ", ".join(f"{k} {json_value(v)}" for k, v in key.items())


def _by(cite) -> str:
    return f" ({cite.short()})" if cite else ""
