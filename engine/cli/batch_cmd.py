"""``policy batch CASES``: evaluate a JSONL or CSV file of cases into a JSONL file of results."""

from __future__ import annotations

import sys
import time
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import InputError, codes
from ..io.paths import default_policy_dir
from ..language.dates import as_of_date
from ..tools.batch import input_size, read_cases, run_batch
from ..tools.batch_output import CitationIds, write_citation_table
from .spark_cmd import spark_batch
from .common import AsOfOption, OK, PROBLEMS, PolicyOption, exits, load_engine


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    parquet = "parquet"


class Evaluator(str, Enum):
    columnar = "columnar"
    per_case = "per-case"


class Runner(str, Enum):
    local = "local"
    spark = "spark"


RunnerOption = typer.Option(Runner.local, "--runner", help="local: this machine (--workers "
                            "processes); spark: Apache Spark (needs the spark extra), the same output.")
SparkMasterOption = typer.Option(None, "--spark-master", metavar="URL", help="With --runner spark: "
                                 "the Spark master (default local[*], or the active session's).")


class CitationMode(str, Enum):
    none = "none"
    deciding = "deciding"
    full = "full"


def batch_command(
    cases: str = typer.Argument(..., help="Cases: a JSONL file (one case per line), a CSV file "
                                "(one row per person or income), or - for JSONL on standard input."),
    as_of: Optional[str] = AsOfOption,
    out: str = typer.Option("-", "--out", metavar="FILE", help="Where to write the results (JSONL); - for standard output."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Processes that evaluate cases (each loads the rulebooks once)."),
    only: Optional[List[str]] = typer.Option(None, "--only", metavar="NAME", help="Compute only this result (repeatable), e.g. --only eligibility.level_of_care: much faster than every output."),
    citations: Optional[CitationMode] = typer.Option(
        None, "--citations", help="deciding: each result's citations as ids into FILE.citations.json "
        "(the default with --out FILE); full: the citation objects inline (the default on standard "
        "output); none: no citations."),
    because: bool = typer.Option(False, "--because", help="Add each result's reason in words (slower, larger)."),
    nulls: Optional[bool] = typer.Option(
        None, "--nulls/--no-nulls", help="Also write results whose value is null (a rule that "
        "does not apply to that person, such as msp.level for someone without Medicare). Left "
        "out by default with --citations deciding or none; written with --citations full, as "
        "policy eval prints them. --format parquet always writes them."),
    format: OutputFormat = typer.Option(OutputFormat.jsonl, "--format", help="jsonl: one JSON line per case; parquet: one row per result in FILE, citations in FILE.citations.parquet."),
    evaluator: Evaluator = typer.Option(
        Evaluator.columnar, "--evaluator", help="columnar: each rule computed once per chunk of "
        "cases (the default; a case it cannot finish goes to the per-case evaluator); per-case: "
        "one case at a time (the reference; always used with --because)."),
    runner: Runner = RunnerOption,
    spark_master: Optional[str] = SparkMasterOption,
    policy: Optional[Path] = PolicyOption,
):
    """Evaluate many cases, streaming: one JSON line of results per case, in input order. A case
    that cannot be evaluated gives an error line and the run goes on; exit 1 if any did."""
    with exits():
        if as_of:
            as_of = as_of_date(as_of).isoformat()
        mode = citations.value if citations is not None else ("full" if out == "-" else "deciding")
        if mode == "deciding" and out == "-":
            raise InputError("--citations deciding writes a citation table beside the results, so "
                             "it needs --out FILE; on standard output use --citations full or none.",
                             code=codes.UNKNOWN_ONLY, field="--citations")
        if runner == Runner.spark and format == OutputFormat.parquet:
            raise InputError("--format parquet is written by the local runner only; with --runner "
                             "spark write JSONL, or use engine.tools.spark_runner.evaluate from "
                             "Python and write the DataFrame.", code=codes.UNKNOWN_ONLY,
                             field="--format")
        if format == OutputFormat.parquet and nulls is False:
            raise InputError("--format parquet writes every result, null values included (a "
                             "column of values with its nulls costs little); --no-nulls is for "
                             "JSONL.", code=codes.UNKNOWN_ONLY, field="--no-nulls")
        if format == OutputFormat.parquet and out == "-":
            raise InputError("--format parquet writes files, so it needs --out FILE.", code=codes.UNKNOWN_ONLY,
                             field="--out")
        engine = load_engine(policy)
        if only:
            unknown = sorted(set(only) - set(engine.program.rules))
            if unknown:
                raise InputError(f"--only names {', '.join(unknown)}, which no rulebook defines as a "
                                 "rule.", code=codes.UNKNOWN_ONLY, field="--only")
        tasks = read_cases(cases, engine.program)
        bar = progress_bar(input_size(cases)) if sys.stderr.isatty() and runner == Runner.local else None
        if format == OutputFormat.parquet:
            from ..tools.parquet_output import write_parquet
            try:
                summary = write_parquet(tasks, out, engine=engine,
                                        policy=[str(policy or default_policy_dir())], as_of=as_of,
                                        names=only or None, citations=mode, because=because,
                                        workers=workers, progress=bar.update if bar else None)
            finally:
                if bar:
                    bar.close()
            _report(summary, out, f" (citations in {out}.citations.parquet)" if mode == "deciding" else "")
        handle = sys.stdout.buffer if out == "-" else open(out, "wb")
        ids = CitationIds.of_process() if mode == "deciding" else None
        try:
            if runner == Runner.spark:
                summary = spark_batch(tasks, handle.write, engine=engine, policy=policy,
                                      master=spark_master, as_of=as_of, names=only or None,
                                      citations=mode, because=because, ids=ids, nulls=nulls)
            else:
                summary = run_batch(tasks, handle.write,
                                    policy=[str(policy or default_policy_dir())], as_of=as_of,
                                    workers=workers, engine=engine,
                                    progress=bar.update if bar else None, names=only or None,
                                    citations=mode, because=because, ids=ids,
                                    evaluator=evaluator.value, nulls=nulls)
        finally:
            if handle is not sys.stdout.buffer:
                handle.close()
            else:
                handle.flush()
            if bar:
                bar.close()
        if ids is not None:
            write_citation_table(out + ".citations.json", ids, summary.used)
    _report(summary, out, f" (citations in {out}.citations.json)" if ids is not None else "")


def _report(summary, out: str, table: str):
    rate = summary.cases / summary.seconds if summary.seconds else 0
    where = "standard output" if out == "-" else out
    typer.echo(f"{summary.cases} case(s) evaluated, {summary.errors} error(s), "
               f"{rate:.0f} cases/s; results in {where}{table}.", err=True)
    if getattr(summary, "evaluator", None) == "columnar":
        typer.echo(f"Columnar evaluator: {summary.cases - summary.fallbacks} case(s) by the plan, "
                   f"{summary.fallbacks} by the per-case evaluator (errors and cases the plan "
                   "could not finish).", err=True)
    if summary.errors:
        typer.echo(f"{summary.errors} case(s) could not be evaluated; their lines in the output "
                   "have an \"error\" with the file, line and reason.", err=True)
    raise typer.Exit(PROBLEMS if summary.errors else OK)


def progress_bar(total: int | None):
    """A progress bar with the rate and the time left, on a terminal only (rich)."""
    return _RichProgress(total)


class _RichProgress:
    """Progress by bytes of input read (the number of cases is not known in advance)."""

    def __init__(self, total: int | None, console=None):
        from rich.console import Console
        from rich.progress import (BarColumn, Progress, TaskProgressColumn, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)
        self.progress = Progress(
            TextColumn("{task.fields[cases]} cases, {task.fields[errors]} errors"),
            BarColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[rate]} cases/s"), TimeElapsedColumn(), TextColumn("ETA"),
            TimeRemainingColumn(), console=console or Console(stderr=True), transient=False)
        self.task = self.progress.add_task("batch", total=total, cases=0, errors=0, rate="-")
        self.started = None
        self.progress.start()

    def update(self, summary, task):
        now = time.monotonic()
        if self.started is None:
            self.started = now
        elapsed = now - self.started
        rate = f"{summary.cases / elapsed:,.0f}" if elapsed > 0 else "-"
        self.progress.update(self.task, completed=task.offset or summary.cases,
                             cases=summary.cases, errors=summary.errors, rate=rate)

    def close(self):
        self.progress.stop()
