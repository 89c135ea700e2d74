"""The docs site's pictures and money: parameter histories as line charts, a chart as a grid.

* :func:`history_chart`: a parameter's values by effective date as a step line (a value holds
  until the next one), one line per row for a table parameter (CHIP premiums by family size), as
  inline SVG with a tooltip on every value. Only numbers are drawn; the exact values stay in the
  history table beside the chart.
* :func:`shown`: a value as a person reads it, by its unit: ``$12,140`` for money, ``305%`` for a
  percent.
* :func:`column_units`: the unit of each column of a chart, taken from the function each column's
  expression calls (``magi.monthly_limit`` is ``USD/month``), so that money columns are shown as
  money; charts declare no units of their own.
* :func:`grid`: a chart whose second column is a whole number (a household size) pivoted into
  the familiar grid: one row per value of the first column (the program), one column per size.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from markupsafe import Markup

from ...runtime.display import usd
from ..plotting import add_titles, inline, new_figure, style, svg_of
from ...runtime.results import json_value

#: Most rows of a table parameter drawn as lines (the rest are in the table).
MAX_LINES = 12
#: How long the last value's step is drawn, when it holds until changed.
OPEN_END = dt.timedelta(days=365)

_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\(")


def is_money(unit: str | None) -> bool:
    return bool(unit) and unit.upper().startswith("USD")


def is_percent(unit: str | None) -> bool:
    return unit in ("percent", "%")


def shown(value, unit: str | None) -> str:
    """A value for a page: money as ``$12,140``, a percent as ``305%``, anything else as is."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        if is_money(unit):
            return usd(value)
        if is_percent(unit):
            return f"{json_value(value)}%"
    shown_value = json_value(value)
    if shown_value is None:
        return "—"
    if isinstance(shown_value, bool):
        return "true" if shown_value else "false"
    if isinstance(shown_value, list):
        return ", ".join(str(v) for v in shown_value)
    return str(shown_value)


def _number(value) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def _series(parameter) -> dict[str, list[tuple[dt.date, Decimal]]]:
    """The numbers to draw: one series for a scalar, one per row for a table."""
    if parameter.kind == "scalar":
        points = [(e.start, e.value) for e in parameter.entries if _number(e.value)]
        return {"": points} if len(points) >= 2 else {}
    if parameter.kind == "table":
        rows: dict[str, list] = {}
        for entry in parameter.entries:
            if not isinstance(entry.value, dict):
                return {}
            for key, value in entry.value.items():
                if not _number(value):
                    return {}
                rows.setdefault(str(key), []).append((entry.start, value))
        if len(parameter.entries) < 2 or len(rows) > MAX_LINES:
            return {}
        return rows
    return {}


def history_chart(parameter, as_of: dt.date) -> Markup | None:
    """The parameter's history as an inline SVG line chart, or None when there is nothing to
    draw (a single value, text, bands)."""
    series = _series(parameter)
    if not series:
        return None
    last_start = max(start for points in series.values() for start, _ in points)
    final = parameter.entries[-1]
    end = final.until or max(last_start + OPEN_END, as_of)
    titles: dict[str, str] = {}
    slug = re.sub(r"[^a-z0-9]+", "-", parameter.name.lower())
    with style():
        figure = new_figure(7.2, 2.6 if len(series) == 1 else 3.4, layout=None)
        figure.subplots_adjust(left=0.12, right=0.86 if len(series) > 1 else 0.97, top=0.88,
                               bottom=0.12)
        axes = figure.subplots()
        for number, (label, points) in enumerate(series.items()):
            xs = [start for start, _ in points] + [end]
            ys = [float(v) for _, v in points] + [float(points[-1][1])]
            line_gid = f"{slug}-line-{number}"
            line, = axes.step(xs, ys, where="post", linewidth=1.8, gid=line_gid,
                              label=label or None)
            titles[line_gid] = f"{parameter.name}{' ' + label if label else ''}"
            for index, (start, value) in enumerate(points):
                gid = f"{slug}-point-{number}-{index}"
                axes.plot([start], [float(value)], marker="o", markersize=3.5, gid=gid,
                          color=line.get_color())
                titles[gid] = (f"{parameter.name}{' [' + label + ']' if label else ''}: "
                               f"{shown(value, parameter.unit)} from {start.isoformat()}")
        first = min(s for points in series.values() for s, _ in points)
        axes.set_xlim(first, end)
        # a tick on January 1 of every year (every second year over a long history), computed
        # here rather than by matplotlib's date locator, which costs more than the rest
        years = list(range(first.year + (first.month > 1 or first.day > 1), end.year + 1))
        every = max(1, len(years) // 10 + (len(years) % 10 > 0))
        ticks = [dt.date(y, 1, 1) for y in years[::every]]
        axes.set_xticks(ticks, [str(t.year) for t in ticks])
        if is_money(parameter.unit):
            axes.yaxis.set_major_formatter(lambda v, _: usd(int(v)) if v == int(v) else usd(Decimal(str(round(v, 2)))))
        axes.set_ylabel(parameter.unit or "")
        axes.grid(axis="y", color="#eeeeee")
        if len(series) > 1:
            axes.legend(fontsize=7, ncol=2,
                        loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        axes.set_title(f"{parameter.title or parameter.name}, by effective date", fontsize=9)
    svg = add_titles(svg_of(figure), titles)
    return Markup(inline(svg))


def column_units(program, chart) -> dict[str, str | None]:
    """Each column's unit: the unit of the functions its expressions call, when they agree
    (a group that gives the column a literal, such as None, does not count); else None."""
    units: dict[str, set] = {}
    for group in chart.groups:
        for column, expression in group.row:
            match = _CALL.match(expression.text or "")
            unit = None
            if match:
                name = match.group(1)
                function = program.functions.get(name) or \
                    program.functions.get(f"{chart.namespace}.{name}")
                unit = getattr(function, "unit", None) if function is not None else None
            units.setdefault(column, set())
            if unit is not None:
                units[column].add(unit)
    return {c: (next(iter(u)) if len(u) == 1 else None) for c, u in units.items()}


def grid(columns: list[str], rows: list[dict], units: dict) -> dict | None:
    """A chart's rows as a grid: first column down, second (whole numbers) across.

    Columns whose value is the same across a row (a program's percent) go beside the row's name;
    the others (the monthly limits) go in the cells, one line each. None when the chart does not
    have that shape."""
    if len(columns) < 3:
        return None
    down, across, rest = columns[0], columns[1], columns[2:]
    sizes: list = []
    groups: dict = {}
    for row in rows:
        size = row.get(across)
        if isinstance(size, bool) or not isinstance(size, int):
            return None
        if size not in sizes:
            sizes.append(size)
        groups.setdefault(row.get(down), {})[size] = row
    sizes.sort()
    fixed = [c for c in rest
             if all(len({json_value(r.get(c)) for r in g.values()}) == 1 for g in groups.values())]
    varying = [c for c in rest if c not in fixed]
    if not varying:
        return None
    body = []
    for name, by_size in groups.items():
        first = next(iter(by_size.values()))
        cells = []
        for size in sizes:
            row = by_size.get(size)
            cells.append([(c, shown(row.get(c), units.get(c))) for c in varying
                          if row is not None and row.get(c) is not None] if row else [])
        body.append({"name": shown(name, None),
                     "fixed": [(c, shown(first.get(c), units.get(c))) for c in fixed
                               if first.get(c) is not None],
                     "cells": cells})
    return {"down": down, "across": across, "sizes": sizes, "fixed": fixed,
            "varying": varying, "rows": body}
