"""``policy eval CASE``: evaluate a case and print every result with its citations."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import AsOfOption, Format, PolicyOption, exits, load_engine
from .eval_run import run


def eval_command(
    case: str = typer.Argument(..., help="Case file (JSON or YAML), or - for standard input."),
    as_of: Optional[str] = AsOfOption,
    format: Format = typer.Option(Format.text, "--format", help="Output format."),
    explain: bool = typer.Option(False, "--explain", help="Show the trace: every rule, fact and parameter value used."),
    provenance: bool = typer.Option(False, "--provenance", help="Add to each result every citation behind everything its evaluation read (always with --explain)."),
    only: Optional[list[str]] = typer.Option(None, "--only", help="Compute only this result (repeatable), e.g. --only eligibility.level_of_care.", metavar="NAME"),
    policy: Optional[Path] = PolicyOption,
):
    """Evaluate a case as of a date: every result with its value, citations and reason."""
    with exits():
        run(case, as_of, format.value, explain, provenance, only, policy, load=load_engine)
