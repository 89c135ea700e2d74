"""``policy sweep CASE --income PERSON --from A --to B --step S``: a case across a range of one
person's monthly income, with every change of a result located to the cent, and a picture."""

from __future__ import annotations

import csv
import io
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from ..runtime.display import usd
from ..errors import InputError, codes
from ..runtime.results import json_value
from ..io.yaml_loader import loads
from .common import AsOfOption, PolicyOption, exits, load_engine, print_json

#: Picture formats, by the ending of --out.
PICTURES = (".svg", ".png", ".html")


class SweepFormat(str, Enum):
    json = "json"
    csv = "csv"
    text = "text"


def sweep_command(
    case: str = typer.Argument(..., help="Case file (JSON or YAML), or - for standard input."),
    income: str = typer.Option(..., "--income", metavar="PERSON", help="The id of the person whose income is swept: their incomes are replaced by one monthly income of each amount."),
    start: str = typer.Option(..., "--from", metavar="A", help="The first monthly amount, in dollars (e.g. 0 or 3000)."),
    stop: str = typer.Option(..., "--to", metavar="B", help="The last monthly amount, in dollars."),
    step: str = typer.Option(..., "--step", metavar="S", help="The distance between grid points, in dollars; changes are still located to the cent."),
    as_of: Optional[str] = AsOfOption,
    only: Optional[List[str]] = typer.Option(None, "--only", metavar="NAME", help="Follow only this result (repeatable); default: levels of care, CHIP premium, MSP, TWHA and MHABD levels."),
    amount: Optional[List[str]] = typer.Option(None, "--amount", metavar="NAME", help="Also show this result at every point without locating its changes (repeatable); default: mhabd.spend_down."),
    income_type: str = typer.Option("wages", "--income-type", metavar="TYPE", help="The type of the swept income (wages, self_employment, social_security, ...)."),
    test: Optional[str] = typer.Option(None, "--test", metavar="NAME", help="When CASE is a YAML test file: the test whose case is swept (default: the first), at its date unless --as-of is given."),
    format: SweepFormat = typer.Option(SweepFormat.text, "--format", help="Output format."),
    out: Optional[Path] = typer.Option(None, "--out", metavar="FILE", help="Also draw the sweep: FILE.svg, FILE.png, or FILE.html (an SVG with tooltips, viewable offline)."),
    policy: Optional[Path] = PolicyOption,
):
    """Evaluate a case at every monthly income from A to B and locate each change to the cent."""
    with exits():
        from ..tools.sweep import money, sweep
        from ..tools.sweep.core import default_names
        if out is not None and out.suffix.lower() not in PICTURES:
            raise InputError(f"The picture {out} must end in .svg, .png or .html.", code=codes.BAD_SWEEP,
                             field="--out")
        grid = money(start, "--from"), money(stop, "--to"), money(step, "--step")
        engine = load_engine(policy)
        default_followed, default_amounts = default_names(engine.program)
        followed = only or default_followed
        unknown = [n for n in [*followed, *(amount or [])] if n not in engine.program.rules]
        if unknown:
            raise InputError(f"There is no rule named {', '.join(unknown)} to follow.",
                             code=codes.BAD_SWEEP, field="--only")
        amounts = amount if amount is not None else default_amounts
        if case == "-":
            source, name = loads(sys.stdin.read(), "<stdin>"), "<stdin>"
        else:
            from ..tools.sweep.source import read_source
            source, test_date = read_source(case, test)
            as_of, name = as_of or test_date, case
        result = sweep(engine, source, income, *grid, names=followed, amounts=amounts,
                       as_of=as_of, income_type=income_type, source=name)
        if out is not None:
            from ..tools.sweep.picture import write_picture
            write_picture(result, out)
        if format == SweepFormat.json:
            print_json(result.as_dict())
        elif format == SweepFormat.csv:
            typer.echo(render_csv(result), nl=False)
        else:
            typer.echo(render_text(result))
        if out is not None and format == SweepFormat.text:
            typer.echo(f"\nWrote the picture to {out}.")


def _label(key) -> str:
    name, person = key
    return f"{name}[{person}]" if person is not None else name


def render_csv(result) -> str:
    """One row per grid point and one per income at which something changes (the values from
    that income on), in income order; ``changed`` names the results that change there."""
    from ..tools.sweep.core import dollars
    shown = result.shown_keys()
    index = {k: i for i, k in enumerate(result.keys)}
    rows = [(cents, 0, "point", "", row) for cents, row in zip(result.incomes, result.values)]
    changed: dict = {}
    for change in result.changes:
        changed.setdefault(int(change.income * 100), []).append(_label((change.name, change.person)))
    for cents, labels in changed.items():
        rows.append((cents, -1, "change", "; ".join(labels), result.values_at(cents)))
    rows.sort(key=lambda r: (r[0], r[1]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["income", "kind", "changed"] + [_label(k) for k in shown])
    for cents, _, kind, labels, row in rows:
        writer.writerow([json_value(dollars(cents)), kind, labels] +
                        [_cell(row[index[k]]) for k in shown])
    return out.getvalue()


def _cell(value) -> str:
    shown = json_value(value)
    return "" if shown is None else str(shown)


def render_text(result) -> str:
    from ..tools.sweep.core import dollars
    start, stop = dollars(result.incomes[0]), dollars(result.incomes[-1])
    step = dollars(result.incomes[1] - result.incomes[0]) if len(result.incomes) > 1 else None
    lines = [f"Case {result.case_id} as of {result.as_of.isoformat()}: {result.person}'s "
             f"{result.income_type.replace('_', ' ')} from {usd(start, True)} to {usd(stop, True)} "
             f"a month" + (f", every {usd(step, True)}" if step is not None else "") +
             f" ({len(result.incomes)} points)."]
    lines.append("")
    if result.changes:
        lines.append("Changes (each at the lowest cent at which the result differs):")
        for c in result.changes:
            who = c.person if c.person is not None else "family"
            lines.append(f"  {usd(c.income, True):>12}  {who}: {c.name} {_cell(c.before) or '-'} -> "
                         f"{_cell(c.after) or '-'}")
            if c.limit is not None:
                lines.append(f"      limit {usd(c.limit.value)} ({c.limit.describe()}), crossed by "
                             f"{c.limit.compared} {usd(c.limit.compared_from, True)} -> "
                             f"{usd(c.limit.compared_to, True)}")
            cites = list(dict.fromkeys(x.short() for x in c.citations))
            lines.append(f"      cites {'; '.join(cites[:2])}" +
                         (f" (and {len(cites) - 2} more; --format json lists them all)"
                          if len(cites) > 2 else ""))
    else:
        lines.append("No result changes in this range.")
    shown = result.shown_keys()
    index = {k: i for i, k in enumerate(result.keys)}
    header = ["income"] + [_label(k) for k in shown]
    body = [[usd(dollars(cents), True)] + [_cell(row[index[k]]) or "-" for k in shown]
            for cents, row in zip(result.incomes, result.values)]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(header)]
    lines += ["", "Points:", "  " + "  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  " + "  ".join("-" * w for w in widths))
    for row in body:
        lines.append("  " + "  ".join(v.rjust(w) if i == 0 else v.ljust(w)
                                      for i, (v, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)
