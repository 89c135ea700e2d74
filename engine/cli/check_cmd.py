"""``policy check [PATH ...]``: validate rulebooks and run every semantic check."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from ..check import check
from ..paths import default_policy_dir
from .common import CANNOT_RUN, OK, PROBLEMS, exits
from .reporters import REPORTERS


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"


def check_command(
    paths: Optional[List[Path]] = typer.Argument(None, help="Rulebook files or directories (default: the policy directory)."),
    format: CheckFormat = typer.Option(CheckFormat.text, "--format", help="Output format."),
    policy: Optional[Path] = typer.Option(None, "--policy", metavar="DIR", help="Rulebook directory, when no PATH is given."),
):
    """Check rulebooks: schema, names, cycles, citations, published charts. Exit 1 on errors."""
    with exits():
        targets = paths or [policy or default_policy_dir()]
        report = check(targets)
        output = REPORTERS[format.value](report)
        if output:
            typer.echo(output)
        if report.errors:
            if format != CheckFormat.text:
                typer.echo(f"{len(report.errors)} error(s) found; see above.", err=True)
            raise typer.Exit(CANNOT_RUN if report.unreadable else PROBLEMS)
        raise typer.Exit(OK)
