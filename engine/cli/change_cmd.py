"""``policy change CASE --before DATE --after DATE``: what a mass change (a COLA, an FPL update)
does to each person of a case, as the rulebooks classify it, with the notices and due dates."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ..actions.mass_change import compare
from ..runtime.results import json_value
from ..io.yaml_loader import loads
from .common import Format, PolicyOption, exits, load_engine, print_json


def change_command(
    case: str = typer.Argument(..., help="Case file (JSON or YAML) before the change, or - for standard input."),
    before: str = typer.Option(..., "--before", metavar="DATE", help="A date before the change (YYYY-MM-DD)."),
    after: str = typer.Option(..., "--after", metavar="DATE", help="A date after the change takes effect."),
    after_case: Optional[str] = typer.Option(None, "--after-case", metavar="FILE", help="The case as it stands after the change (for example incomes with a COLA); default: CASE."),
    notice_date: Optional[str] = typer.Option(None, "--notice-date", metavar="DATE", help="The date the notices are sent, to compute due dates."),
    name: Optional[str] = typer.Option(None, "--name", help="The change comparison to run, when the rulebooks declare several."),
    format: Format = typer.Option(Format.text, "--format", help="Output format."),
    policy: Optional[Path] = PolicyOption,
):
    """Compare a case before and after a mass change: each person's outcome, notices and due dates."""
    with exits():
        engine = load_engine(policy)
        source = loads(sys.stdin.read(), "<stdin>") if case == "-" else case
        result = compare(engine, source, before, after, name=name, after_case=after_case,
                         notice_date=notice_date)
        if format == Format.json:
            print_json(result.as_dict())
        else:
            typer.echo(render_text(result))


def render_text(result) -> str:
    c = result.change
    notice = f", notices sent {result.notice_date.isoformat()}" if result.notice_date else ""
    lines = [f"{c.title} ({c.name}): case {result.case_id}, {c.compare} on "
             f"{result.before_date.isoformat()} and {result.after_date.isoformat()}{notice}"]
    for row in result.rows:
        lines += ["", f"{row.entity}: {_show(row.before)} -> {_show(row.after)}"]
        for column, value in row.columns.items():
            lines.append(f"  {column}: {_show(value)}")
        for reason in row.because:
            lines.append(f"  because {reason}")
        shown = list(dict.fromkeys(cite.short() for cite in row.column_citations))
        lines.append("  cites:")
        lines.extend(f"    - {cite}" for cite in shown)
        more = len({cite.short() for cite in row.citations} - set(shown))
        if more:
            lines.append(f"    (and {more} more behind {c.compare}; --format json lists them all)")
    if result.unmatched:
        lines += ["", "Not in both cases (not compared): " + ", ".join(result.unmatched)]
    return "\n".join(lines)


def _show(value) -> str:
    shown = json_value(value)
    if shown is None:
        return "-"
    if isinstance(shown, list):
        return ", ".join(str(v) for v in shown) or "none"
    return str(shown)
