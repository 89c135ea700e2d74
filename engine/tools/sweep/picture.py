"""The picture of a sweep: where each person's coverage changes, and what the family pays.

* Income (a month) runs along the x axis, from the first grid point to the last.
* Top: one band per person and followed result with a text value (the level of care; a Medicare
  Savings or MHABD level where the person has one), coloured by value; a value's colour is the
  same in every band. The segments run exactly from change to change, not from grid point to
  grid point.
* Bottom: each money result as a step line (the family's CHIP premium, a TWHA premium, a
  spend-down), in dollars a month.
* Each income at which something changes is marked by a dashed line across both, labelled with
  the amount and the section of the test crossed.

``.svg`` and ``.png`` are the picture alone. ``.html`` is a page with the SVG inline, a tooltip
on every segment and mark (SVG ``<title>``: no JavaScript, no network), and the table of changes.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape
from pathlib import Path

from ...runtime.display import usd
from ..plotting import (INELIGIBLE_COLOUR, NONE_COLOUR, add_titles, inline, new_figure, png_of,
                        style, svg_of)
from ...runtime.results import json_value
from .core import Sweep, dollars

#: Values drawn in the colour of "no coverage".
NEGATIVE = {"INELIGIBLE", "False", "false", "0"}
#: Colours for other values, in order of first appearance (colour-blind-safe palette, Okabe-Ito
#: then Tableau).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#56B4E9", "#CC79A7", "#D55E00", "#F0E442",
           "#4E79A7", "#59A14F", "#B07AA1", "#9C755F", "#76B7B2", "#EDC948", "#FF9DA7"]


def _text(value) -> str:
    shown = json_value(value)
    return "none" if shown is None else str(shown)


def _label(sweep: Sweep, key) -> str:
    name, person = key
    short = name.split(".", 1)[-1].replace("_", " ")
    return f"{person}: {short}" if person is not None else f"family: {short}"


def segments(sweep: Sweep, key) -> list[tuple[Decimal, Decimal, object]]:
    """``(start, end, value)`` for one result across the range, split exactly at its changes
    (a result that is shown but not followed is split at the grid points instead)."""
    index = sweep.keys.index(key)
    low, high = dollars(sweep.incomes[0]), dollars(sweep.incomes[-1])
    if key[0] in sweep.followed:
        cuts = [(low, sweep.values[0][index])]
        for change in sweep.changes:
            if (change.name, change.person) == key:
                cuts.append((change.income, change.after))
    else:
        cuts = [(dollars(c), row[index]) for c, row in zip(sweep.incomes, sweep.values)]
    out = []
    for (start, value), (end, _) in zip(cuts, cuts[1:] + [(high, None)]):
        if end > start or (start == end == high and len(cuts) == 1):
            out.append((start, end, value))
    return out


def _is_money(sweep: Sweep, key) -> bool:
    return key[0] in sweep.money


def draw(sweep: Sweep):
    """The figure, and the tooltip text of each artist given an id."""
    shown = sweep.shown_keys()
    bands = [k for k in shown if not _is_money(sweep, k)]
    # money results that are more than $0 somewhere (a premium that is never charged is no line)
    lines = [k for k in shown if _is_money(sweep, k)
             and any(v for _, _, v in segments(sweep, k) if v is not None)]
    titles: dict[str, str] = {}
    colours: dict[str, str] = {}

    def colour(value) -> str:
        text = _text(value)
        if value is None:
            return NONE_COLOUR
        if text in NEGATIVE:
            return INELIGIBLE_COLOUR
        if text not in colours:
            colours[text] = PALETTE[len(colours) % len(PALETTE)]
        return colours[text]

    low, high = float(dollars(sweep.incomes[0])), float(dollars(sweep.incomes[-1]))
    high = max(high, low + 1)             # a sweep of one point still gets an axis
    # room for the title, the rotated labels of the changes, the axis and the legend
    height = 2.8 + 0.42 * max(len(bands), 1) + (1.9 if lines else 0)
    with style():
        figure = new_figure(10, height)
        if lines:
            top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=[max(len(bands), 1), 2.6])
        else:
            top, bottom = figure.subplots(1, 1), None
        who = "" if sweep.person is None else f"{sweep.person}'s "
        figure.suptitle(f"Case {sweep.case_id} as of {sweep.as_of.isoformat()}: results by "
                        f"{who}{sweep.income_type.replace('_', ' ')} a month", fontsize=11)

        for row, key in enumerate(bands):
            for number, (start, end, value) in enumerate(segments(sweep, key)):
                gid = f"band-{row}-{number}"
                width = float(end - start) or (high - low) / 400
                top.barh(row, width, left=float(start), height=0.7, color=colour(value),
                         edgecolor="white", linewidth=0.6, gid=gid)
                titles[gid] = (f"{_label(sweep, key)} — {_text(value)} from {usd(start, True)} "
                               f"to {usd(end, True)} a month ({key[0]})")
                if width > (high - low) / 14:
                    top.text(float(start) + width / 2, row, _text(value), ha="center",
                             va="center", fontsize=8, color="#111111", clip_on=True)
        top.set_yticks(range(len(bands)), [_label(sweep, k) for k in bands])
        top.set_ylim(len(bands) - 0.5, -0.5)
        top.tick_params(axis="y", length=0)
        top.spines["left"].set_visible(False)

        if bottom is not None:
            for number, key in enumerate(lines):
                xs, ys = [], []
                for start, end, value in segments(sweep, key):
                    if value is None:
                        continue
                    xs += [float(start), float(end)]
                    ys += [float(value), float(value)]
                    if value and float(end - start) > (high - low) / 25:
                        bottom.annotate(usd(value), xy=((float(start) + float(end)) / 2, float(value)),
                                        xytext=(0, 3), textcoords="offset points", ha="center",
                                        va="bottom", fontsize=8)
                gid = f"line-{number}"
                if xs:
                    bottom.plot(xs, ys, drawstyle="default", linewidth=2, gid=gid,
                                label=_label(sweep, key), color=PALETTE[(number + 5) % len(PALETTE)])
                    titles[gid] = f"{_label(sweep, key)} ({key[0]}), dollars a month"
            bottom.set_ylabel("dollars a month")
            bottom.yaxis.set_major_formatter(lambda v, _: usd(Decimal(str(round(v, 2))).normalize()
                                                               if v % 1 else int(v)))
            bottom.set_ylim(bottom=0, top=max(1.0, bottom.get_ylim()[1] * 1.1))
            if bottom.lines:
                bottom.legend(loc="upper left", fontsize=8, frameon=False)
            bottom.grid(axis="y", color="#eeeeee")
        axis = bottom if bottom is not None else top
        axis.set_xlim(low, high)
        axis.set_xlabel(f"{sweep.person}'s {sweep.income_type.replace('_', ' ')} (dollars a month)")
        axis.xaxis.set_major_formatter(lambda v, _: usd(int(v)) if v == int(v) else usd(Decimal(str(v))))

        by_income: dict = {}
        for change in sorted(sweep.changes, key=lambda c: c.person is None):   # people first
            by_income.setdefault(change.income, []).append(change)
        previous, nudge = None, 0
        for number, (income, changes) in enumerate(sorted(by_income.items())):
            gid = f"cliff-{number}"
            # labels of changes close together are moved apart so that they stay readable
            close = previous is not None and float(income) - previous < (high - low) / 70
            nudge = nudge + 9 if close else 0
            previous = float(income)
            section = next((c.section for c in changes if c.section), None)
            for axes in (top, bottom):
                if axes is not None:
                    axes.axvline(float(income), color="#444444", linestyle="--", linewidth=0.8,
                                 gid=gid if axes is top else f"{gid}-b")
            top.annotate(f"{usd(income, True)}" + (f" · {_short_section(section)}" if section else ""),
                         xy=(float(income), 1), xycoords=("data", "axes fraction"),
                         xytext=(nudge, 3), textcoords="offset points", rotation=90, ha="center",
                         va="bottom", fontsize=7, color="#333333", annotation_clip=False)
            detail = "; ".join(
                f"{c.person or 'family'} {c.name}: {_text(c.before)} → {_text(c.after)}"
                + (f" (limit {usd(c.limit.value)})" if c.limit else "") for c in changes)
            titles[gid] = f"At {usd(income, True)} a month: {detail}" + \
                (f". Section {section}" if section else "")
            titles[f"{gid}-b"] = titles[gid]

        if colours or bands:
            from matplotlib.patches import Patch
            seen = {}
            for key in bands:
                for _, _, value in segments(sweep, key):
                    seen.setdefault(_text(value), colour(value))
            handles = [Patch(facecolor=c, label=t) for t, c in seen.items()]
            figure.legend(handles=handles, loc="outside lower center",
                          ncol=min(len(handles), 7), fontsize=8, frameon=False)
    return figure, titles


def _short_section(section: str) -> str:
    """The section number alone (``1840.000.00``), or the start of the section's name."""
    first = section.split(";")[0].strip()
    number = first.split(" ")[0]
    return number if any(ch.isdigit() for ch in number) else first[:28]


def svg(sweep: Sweep, tooltips: bool = False) -> str:
    figure, titles = draw(sweep)
    text = svg_of(figure)
    return add_titles(text, titles) if tooltips else text


def html(sweep: Sweep) -> str:
    """A page with the picture (tooltips on hover) and the changes as a table; works offline."""
    rows = []
    for change in sweep.changes:
        limit = usd(change.limit.value) if change.limit else "—"
        rows.append(
            "<tr><td class=\"num\">{}</td><td>{}</td><td><code>{}</code></td><td>{} → {}</td>"
            "<td class=\"num\">{}</td><td>{}</td></tr>".format(
                escape(usd(change.income, True)), escape(change.person or "family"),
                escape(change.name), escape(_text(change.before)), escape(_text(change.after)),
                escape(limit), escape(change.section or "—")))
    table = ("<table class=\"changes\"><thead><tr><th>income</th><th>who</th><th>result</th>"
             "<th>change</th><th>limit</th><th>section</th></tr></thead><tbody>"
             + "".join(rows) + "</tbody></table>") if rows else "<p>No result changes in this range.</p>"
    title = (f"Case {sweep.case_id} as of {sweep.as_of.isoformat()}: {sweep.person}'s "
             f"{sweep.income_type.replace('_', ' ')} from {usd(dollars(sweep.incomes[0]), True)} "
             f"to {usd(dollars(sweep.incomes[-1]), True)} a month")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title>"
            "<style>body{font-family:sans-serif;margin:1.5em;max-width:1100px}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}"
            ".num{text-align:right}figure{margin:0}svg{max-width:100%;height:auto}</style>"
            f"</head><body>\n<h1>{escape(title)}</h1>\n"
            "<p>Each band is a person's result at every income; hover over a band or a dashed "
            "line for details. Each change is at the lowest cent at which the result differs.</p>\n"
            f"<figure class=\"sweep\">{inline(svg(sweep, tooltips=True))}</figure>\n"
            f"<h2>Changes</h2>\n{table}\n</body></html>\n")


def write_picture(sweep: Sweep, path: str | Path) -> Path:
    """Write the sweep as ``.svg``, ``.png`` or ``.html`` (by the file's ending)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".png":
        figure, _ = draw(sweep)
        path.write_bytes(png_of(figure))
    elif suffix == ".html":
        path.write_text(html(sweep), encoding="utf-8")
    else:
        path.write_text(svg(sweep, tooltips=True), encoding="utf-8")
    return path
