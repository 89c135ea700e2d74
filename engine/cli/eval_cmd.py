"""``policy eval CASE``: evaluate a case and print every result with its citations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ..errors import CaseError, codes
from ..io.yaml_loader import loads
from ..tools.documents import eval_document
from .common import AsOfOption, Format, PolicyOption, exits, load_engine, print_json
from .eval_text import render_text


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
        engine = load_engine(policy)
        names = list(only) if only else None
        if case == "-":
            data = loads(sys.stdin.read(), "<stdin>")
            if not isinstance(data, dict):     # a bare string would be taken for a path
                raise CaseError("A case must be a mapping with `case_id` and `people`.",
                                code=codes.CASE_NOT_MAPPING, file="<stdin>", line=1)
            evaluation = engine.evaluate(data, as_of=as_of, names=names, source="<stdin>")
        else:
            evaluation = engine.evaluate(case, as_of=as_of, names=names)
        if format == Format.json:
            print_json(eval_document(evaluation, explain, provenance))
        else:
            typer.echo(render_text(evaluation, engine, explain, provenance))
