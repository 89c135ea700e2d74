"""``policy eval CASE``: evaluate a case and print every result with its citations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ..model.archives import dated
from ..runtime.results import json_value
from ..io.yaml_loader import loads
from .common import AsOfOption, Format, PolicyOption, exits, load_engine, print_json


def eval_command(
    case: str = typer.Argument(..., help="Case file (JSON or YAML), or - for standard input."),
    as_of: Optional[str] = AsOfOption,
    format: Format = typer.Option(Format.text, "--format", help="Output format."),
    explain: bool = typer.Option(False, "--explain", help="Show the trace: every rule, fact and parameter value used."),
    policy: Optional[Path] = PolicyOption,
):
    """Evaluate a case as of a date: every result with its value, citations and reason."""
    with exits():
        engine = load_engine(policy)
        if case == "-":
            evaluation = engine.evaluate(loads(sys.stdin.read(), "<stdin>"), as_of=as_of,
                                         source="<stdin>")
        else:
            evaluation = engine.evaluate(case, as_of=as_of)
        if format == Format.json:
            print_json(evaluation.as_dict(explain=explain))
        else:
            typer.echo(render_text(evaluation, explain))


def render_text(evaluation, explain: bool) -> str:
    lines = [f"Case {evaluation.case_id} as of {evaluation.as_of.isoformat()}"]
    current = object()
    for result in evaluation.results:
        if result.person != current:
            current = result.person
            lines.append("")
            lines.append(f"Person {current}" if current is not None else "Case")
        label = result.title or result.name
        lines.append(f"  {label} ({result.name}): {_value(result.shown_value)}")
        because = result.because
        if because:
            lines.append(f"      because {because}")
        lines.append(f"      cites {_citations(result)}")
        if explain:
            for step in result.trace():
                lines.append("        - " + _step(step))
    return "\n".join(lines)


#: Citations shown per result in text output; JSON and --explain show them all.
TEXT_CITATIONS = 4


def _citations(result) -> str:
    shorts = list(dict.fromkeys(c.short() for c in dated(result.citations, result.as_of)))
    shown = "; ".join(shorts[:TEXT_CITATIONS])
    more = len(shorts) - TEXT_CITATIONS
    return shown + (f" (and {more} more; --format json or --explain lists them all)" if more > 0 else "")


def _value(value) -> str:
    shown = json_value(value)
    if isinstance(shown, list):
        return ", ".join(map(str, shown)) if shown else "none"
    return "none" if shown is None else str(shown)


def _step(step: dict) -> str:
    kind, name = step["kind"], step["name"]
    value = step.get("value")
    if kind == "parameter":
        until = step.get("effective_to") or "until changed"
        return f"parameter {name} = {value} (in force {step['effective_from']} to {until})"
    if kind == "fact":
        return f"fact {name} of {step['entity']} = {value}"
    args = f"({', '.join(map(str, step['args']))})" if step.get("args") is not None else ""
    who = f" for {step['entity']}" if step.get("entity") else ""
    return f"{kind} {name}{args}{who} = {value}"
