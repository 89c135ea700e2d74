"""Charts: tables such as Missouri's income-limit chart, derived from the rulebooks as of a date.

A chart is not stored anywhere: each row is computed from the same parameters and functions the
eligibility rules use, so the chart and the decisions can never disagree. Each row carries the
citations of everything its cells read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..model.citations import merge
from ..model.definitions import Chart, Scope
from ..errors import EvaluationError, codes
from .state import State, product
from .trace import collect_citations


@dataclass
class ChartRow:
    values: dict
    citations: tuple
    reads: tuple = ()          # the trace records the row's cells read (parameters, functions)


@dataclass
class ChartResult:
    name: str
    title: str | None
    as_of: dt.date
    columns: list[str]
    rows: list[ChartRow]


def evaluate_chart(state: State, chart: Chart) -> ChartResult:
    rows: list[ChartRow] = []
    run = state.evaluator.run
    for index, group in enumerate(chart.groups):
        def where(i=index):
            return f"Chart {chart.short}, group {i + 1},"
        lists = []
        with state.entering(Scope(None, {})):
            for var, expression in group.for_each:
                values = run(expression, where)
                if not isinstance(values, list):
                    raise EvaluationError(f"{where()} `for_each: {var}` must give a list, not "
                                          f"{values!r}.",
                                          code=codes.FOR_EACH_NOT_A_LIST, file=chart.file,
                                          line=group.line)
                lists.append((var, values))
        for combo in product(lists):
            with state.entering(Scope(None, combo), []) as reads:
                if group.when is not None:
                    keep = run(group.when, where)
                    if not keep:
                        continue
                values = {}
                for column, expression in group.row:
                    values[column] = run(expression, where)
            cites = merge(chart.citations, group.citations, *(collect_citations(d) for d in reads))
            rows.append(ChartRow(values, cites, tuple(reads)))
    return ChartResult(chart.short, chart.title, state.as_of,
                       chart.columns or (list(rows[0].values) if rows else []), rows)
