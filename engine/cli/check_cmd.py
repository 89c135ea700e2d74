"""``policy check [PATH ...]``: validate rulebooks and run every semantic check."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from ..checks import check
from ..io.paths import default_policy_dir
from .common import AsOfOption, CANNOT_RUN, OK, PROBLEMS, exits
from .reporters import REPORTERS


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    junit = "junit"
    sarif = "sarif"


def check_command(
    paths: Optional[List[Path]] = typer.Argument(None, help="Rulebook files or directories (default: the policy directory)."),
    format: CheckFormat = typer.Option(CheckFormat.text, "--format",
                                       help="Output format: text, json, github (workflow annotations), "
                                            "junit (XML, one testcase per file) or sarif (2.1.0)."),
    as_of: Optional[str] = AsOfOption,
    policy: Optional[Path] = typer.Option(None, "--policy", metavar="DIR", help="Rulebook directory, when no PATH is given."),
):
    """Check rulebooks: schema, names, types, dates, bands, tables, citations, staleness and
    published charts. Exit 1 on errors; warnings are listed but do not fail."""
    with exits():
        targets = paths or [policy or default_policy_dir()]
        report = check(targets, as_of=as_of)
        output = REPORTERS[format.value](report)
        if output:
            typer.echo(output)
        if report.errors:
            first = report.errors[0].render()
            typer.echo(f"policy check found {len(report.errors)} error(s); the first: {first}",
                       err=True)
            raise typer.Exit(CANNOT_RUN if report.unreadable else PROBLEMS)
        raise typer.Exit(OK)
