"""``policy chart NAME`` (also ``policy table NAME``, the contract's name): a chart derived from the
rulebooks, such as the income-limit chart, as of a date."""

from __future__ import annotations

import csv
import io
import re
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..runtime.results import json_value
from ..tools.documents import table_document
from .common import AsOfOption, PolicyOption, exits, load_engine, print_json


class TableFormat(str, Enum):
    json = "json"
    csv = "csv"
    text = "text"


def known_tables(directory: Path | None = None) -> list[tuple[str, str]]:
    """(name, title) of every table the rulebooks declare, read from their text without loading
    them, so that ``policy table --help`` can list them at no cost."""
    from ..io.paths import default_policy_dir
    found: list[tuple[str, str]] = []
    try:
        root = Path(directory or default_policy_dir())
        files = sorted(root.rglob("*.yaml"))
    except Exception:       # no rulebook directory: the help text just says so
        return found
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        inside, name = False, None
        for line in lines:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if not line.startswith(" "):
                inside = line.rstrip() in ("charts:", "tables:")
                continue
            if not inside:
                continue
            match = _TABLE_NAME.match(line)
            if match:
                name = match.group(1)
                found.append((name, ""))
            elif name and line.startswith("    title:"):
                found[-1] = (name, line.split(":", 1)[1].strip().strip("'\""))
                name = None
    return sorted(found)


_TABLE_NAME = re.compile(r"^  ([a-z][a-z0-9_-]*):\s*$")


def _tables_help() -> str:
    tables = known_tables()
    if not tables:
        return "Table name, e.g. income-limits."
    return "Table name: " + "; ".join(f"{n} ({t})" if t else n for n, t in tables) + "."


def table_command(
    name: str = typer.Argument(..., help=_tables_help()),
    as_of: Optional[str] = AsOfOption,
    format: TableFormat = typer.Option(TableFormat.text, "--format", help="Output format."),
    policy: Optional[Path] = PolicyOption,
):
    """Print a chart derived from the rulebooks as of a date; every row cites its sources.

    The tables of the default rulebooks are listed under NAME below."""
    with exits():
        engine = load_engine(policy)
        chart = engine.chart(name, as_of)
        document = table_document(chart)
        rows = document["rows"]
        if format == TableFormat.json:
            print_json(document)
        elif format == TableFormat.csv:
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(chart.columns + ["citations"])
            for row in rows:
                writer.writerow([_cell(row.get(c)) for c in chart.columns] +
                                ["; ".join(dict.fromkeys(_cite(c) for c in row["citations"]))])
            typer.echo(out.getvalue(), nl=False)
        else:
            typer.echo(render_text(chart, rows))



def _cell(value) -> str:
    return "" if value is None else str(value)


def _cite(c: dict) -> str:
    return ", ".join(p for p in (c.get("source"), c.get("section")) if p)


def render_text(chart, rows) -> str:
    columns = chart.columns
    header = [c.replace("_", " ") for c in columns]
    body = [[_cell(row.get(c)) or "-" for c in columns] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    title = chart.title or chart.name
    lines = [f"{title} (as of {chart.as_of.isoformat()})", ""]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    lines.append("  ".join("-" * w for w in widths))
    for r in body:
        lines.append("  ".join(v.rjust(w) if v.replace(".", "").isdigit() else v.ljust(w)
                               for v, w in zip(r, widths)))
    sources = []
    for row in rows:
        for c in row["citations"]:
            text = _cite(c)
            if text not in sources:
                sources.append(text)
    lines.append("")
    lines.append("Sources: " + "; ".join(sources))
    return "\n".join(lines)
