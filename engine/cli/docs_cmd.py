"""``policy docs OUT/``: a static HTML site of every rulebook."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..language.dates import as_of_date
from .common import AsOfOption, OK, PolicyOption, exits, load_engine
from ..tools.docsite import build_site


def docs_command(
    out: Path = typer.Argument(..., help="The directory to write the site into (created if needed)."),
    as_of: Optional[str] = AsOfOption,
    policy: Optional[Path] = PolicyOption,
):
    """Write a static HTML site of the rulebooks: parameters with their effective-date history,
    rules in plain language with their citations, and the charts as of every covered date."""
    with exits():
        engine = load_engine(policy)
        pages = build_site(engine, out, as_of=as_of_date(as_of) if as_of else None)
    typer.echo(f"Wrote {len(pages)} page(s) to {out}; open {out / 'index.html'} in a browser.")
    raise typer.Exit(OK)
