"""``policy batch CASES``: evaluate a JSONL or CSV file of cases into a JSONL file of results."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import InputError, codes
from ..tools.batch import input_size, read_cases, run_batch
from ..io.paths import default_policy_dir
from ..language.dates import as_of_date
from .common import AsOfOption, OK, PROBLEMS, PolicyOption, exits, load_engine


def batch_command(
    cases: str = typer.Argument(..., help="Cases: a JSONL file (one case per line), a CSV file "
                                "(one row per person or income), or - for JSONL on standard input."),
    as_of: Optional[str] = AsOfOption,
    out: str = typer.Option("-", "--out", metavar="FILE", help="Where to write the results (JSONL); - for standard output."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Processes that evaluate cases (each loads the rulebooks once)."),
    only: Optional[List[str]] = typer.Option(None, "--only", metavar="NAME", help="Compute only this result (repeatable), e.g. --only eligibility.level_of_care: much faster than every output."),
    policy: Optional[Path] = PolicyOption,
):
    """Evaluate many cases, streaming: one JSON line of results per case, in input order. A case
    that cannot be evaluated gives an error line and the run goes on; exit 1 if any did."""
    with exits():
        if as_of:
            as_of = as_of_date(as_of).isoformat()
        engine = load_engine(policy)
        if only:
            unknown = sorted(set(only) - set(engine.program.rules))
            if unknown:
                raise InputError(f"--only names {', '.join(unknown)}, which no rulebook defines as a "
                                 "rule.", code=codes.UNKNOWN_ONLY, field="--only")
        tasks = read_cases(cases, engine.program)
        total = input_size(cases)
        bar = _Progress(total) if sys.stderr.isatty() else None
        handle = sys.stdout if out == "-" else open(out, "w", encoding="utf-8")
        try:
            summary = run_batch(tasks, lambda line: handle.write(line + "\n"),
                                policy=[str(policy or default_policy_dir())], as_of=as_of,
                                workers=workers, engine=engine,
                                progress=bar.update if bar else None, names=only or None)
        finally:
            if handle is not sys.stdout:
                handle.close()
            if bar:
                bar.close()
    rate = summary.cases / summary.seconds if summary.seconds else 0
    where = "standard output" if out == "-" else out
    typer.echo(f"{summary.cases} case(s) evaluated, {summary.errors} error(s), "
               f"{rate:.0f} cases/s; results in {where}.", err=True)
    if summary.errors:
        typer.echo(f"{summary.errors} case(s) could not be evaluated; their lines in the output "
                   "have an \"error\" with the file, line and reason.", err=True)
    raise typer.Exit(PROBLEMS if summary.errors else OK)


class _Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal)."""

    WIDTH = 30

    def __init__(self, total: int | None):
        self.total = total
        self.last = 0.0
        self.latest = None

    def update(self, summary, task, force=False):
        self.latest = (summary, task)
        now = time.monotonic()
        if now - self.last < 0.1 and not force:
            return
        self.last = now
        if self.total:
            share = min(task.offset / self.total, 1.0)
            filled = int(share * self.WIDTH)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            text = f"\r[{bar}] {share:5.1%}  {summary.cases} cases, {summary.errors} errors"
        else:
            text = f"\r{summary.cases} cases, {summary.errors} errors"
        sys.stderr.write(text)
        sys.stderr.flush()

    def close(self):
        if self.latest is not None:
            self.update(*self.latest, force=True)
        sys.stderr.write("\n")
        sys.stderr.flush()
