"""``policy param NAME``: one parameter's value in force on a date, with its citations."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..runtime.results import json_value
from ..tools.documents import param_document, parameter_value
from .common import AsOfOption, Format, PolicyOption, exits, load_engine, print_json


def param_command(
    name: str = typer.Argument(..., help="Qualified parameter name, e.g. fpl.first_person."),
    as_of: Optional[str] = AsOfOption,
    format: Format = typer.Option(Format.text, "--format", help="Output format."),
    policy: Optional[Path] = PolicyOption,
):
    """Print a parameter's value in force on a date, the dates it holds, and its citations."""
    with exits():
        engine = load_engine(policy)
        value = engine.parameter(name, as_of)
        data = param_document(value)
        if format == Format.json:
            print_json(data)
            return
        until = data["effective_to"] or "until changed"
        typer.echo(f"{data['name']} = {_text(data['value'])} {data['unit']}")
        typer.echo(f"  in force {data['effective_from']} to {until}")
        for c in value.citations:
            typer.echo(f"  cites {c.short()}")




def _text(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)
