"""``policy docs OUT/``: a static HTML site of every rulebook."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Optional

import typer

from ..language.dates import as_of_date
from ..errors import InputError, codes
from .common import AsOfOption, OK, PolicyOption, exits, load_engine
from ..io.paths import default_policy_dir
from ..tools.docsite import build_site


def _check_out(out: Path) -> None:
    """The output must be a directory that exists or can be created, and can be written."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file, not a directory; give a directory for the site (it "
                         "is created if needed). Nothing was written.", code=codes.UNREADABLE_FILE,
                         file=str(out), field="OUT")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"The directory {out} cannot be created: {exc.strerror or exc}.",
                         code=codes.UNREADABLE_FILE, file=str(out), field="OUT") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"The directory {out} cannot be written to (permission denied).",
                         code=codes.UNREADABLE_FILE, file=str(out), field="OUT")


def docs_command(
    out: Path = typer.Argument(..., help="The directory to write the site into (created if needed)."),
    as_of: Optional[str] = AsOfOption,
    sweeps: Optional[Path] = typer.Option(None, "--sweeps", metavar="FILE", help="A YAML file listing example sweeps to draw, each on a page of its own (see docs/tools.md)."),
    build_date: bool = typer.Option(False, "--build-date", help="Show today's date on the index page (off by default, so that the same rulebooks give the same site)."),
    policy: Optional[Path] = PolicyOption,
):
    """Write a static HTML site of the rulebooks: parameters with their effective-date history
    and line charts, rules in plain language with their citations, the charts as of every
    covered date, and example income sweeps."""
    with exits():
        on = as_of_date(as_of) if as_of else None
        _check_out(out)
        engine = load_engine(policy)
        try:
            pages = build_site(engine, out, as_of=on,
                               root=policy if policy else default_policy_dir(), sweeps=sweeps,
                               build_date=dt.date.today() if build_date else None)
        except OSError as exc:
            raise InputError(f"The site cannot be written to {out}: {exc.strerror or exc}.",
                             code=codes.UNREADABLE_FILE, file=str(exc.filename or out), field="OUT") from None
    typer.echo(f"Wrote {len(pages)} page(s) to {out}; open {out / 'index.html'} in a browser.")
    raise typer.Exit(OK)
