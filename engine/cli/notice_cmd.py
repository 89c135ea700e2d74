"""``policy notice CASE``: every notice the case calls for, with whom it goes to, when it is
due, its citations and its text."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..actions.notices import render_notices
from ..language.reasons import shown
from ..runtime.results import json_value
from ..io.yaml_loader import loads
from ..tools.documents import notice_document
from .common import AsOfOption, Format, PolicyOption, exits, load_engine, print_json


def notice_command(
    case: str = typer.Argument(..., help="Case file (JSON or YAML), or - for standard input."),
    as_of: Optional[str] = AsOfOption,
    name: Optional[List[str]] = typer.Option(None, "--name", help="Only this notice (repeatable)."),
    format: Format = typer.Option(Format.text, "--format", help="Output format."),
    policy: Optional[Path] = PolicyOption,
):
    """Render every notice a case calls for as of a date: to whom, due when, and why (citations)."""
    with exits():
        engine = load_engine(policy)
        source = loads(sys.stdin.read(), "<stdin>") if case == "-" else case
        loaded, on, notices = render_notices(engine, source, as_of, names=name)
        if format == Format.json:
            print_json(notice_document(loaded, on, notices))
            return
        typer.echo(render_text(loaded.case_id, on, notices))



def render_text(case_id, on, notices) -> str:
    lines = [f"Case {case_id} as of {on.isoformat()}: {len(notices)} notice(s)"]
    for index, item in enumerate(notices, 1):
        n = item.notice
        form = f" [{n.form}]" if n.form else ""
        lines += ["", f"{index}. {n.title}{form} ({n.name})",
                  f"   for: {item.entity.label()}", f"   to: {_text(item.to)}"]
        if item.recipients is not None:
            lines.append(f"   recipients: {item.recipients.text()}")
            lines.extend(f"     - {r.name or r.id} ({r.role}): {'receives' if r.receives else 'not sent'}"
                         f"; {r.because}" for r in item.recipients.considered)
        if item.due is not None:
            lines.append(f"   due: {item.due.isoformat()} ({n.due.text})")
        for name, value in item.variables.items():
            lines.append(f"   {name}: {_text(value)}")
        shown = list(dict.fromkeys(c.short() for c in (*n.citations, *item.due_citations)))
        lines.append("   cites:")
        lines.extend(f"     - {c}" for c in shown)
        more = len({c.short() for c in item.citations} - set(shown))
        if more:
            lines.append(f"     (and {more} more behind the rules it read; --format json lists them all)")
        lines.append("   ---")
        lines.extend(("   " + line).rstrip() for line in item.body.split("\n"))
        lines.append("   ---")
    return "\n".join(lines)


def _text(value) -> str:
    """A value as a person reads it: yes/no, no value, a list's items, never Python's spelling."""
    return str(shown(json_value(value) if not isinstance(value, (bool, list)) else value))
