"""``policy batch CASES``: evaluate a JSONL or CSV file of cases into a JSONL file of results.

The Typer command declares the options (help, choices, errors); what a run does is
:func:`engine.cli.batch_run.run`, which :mod:`engine.cli.fast` also calls without Typer for the
usual forms of the command line."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .batch_run import run
from .common import AsOfOption, PolicyOption, exits, load_engine


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
        code = run(cases, as_of, out, workers, only, citations.value if citations else None,
                   because, nulls, format.value, evaluator.value, policy, runner.value,
                   spark_master, load=load_engine)
    raise typer.Exit(code)


