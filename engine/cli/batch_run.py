"""What ``policy batch`` does once its arguments are read, without Typer.

A batch run is a process of its own, usually started by a script for every file of cases, and
with the full application (``cli/app.py``) a third of a short run was starting Typer: importing
every subcommand and what they need, then Click's parsing with pydantic's conversion of every
parameter. :mod:`engine.cli.fast` therefore reads the usual forms of the command line itself
(:func:`arguments`) and calls :func:`run`; anything else (``--help``, a misspelt option, a value
Typer would refuse, ``--runner spark``) goes to the Typer command, which words the error.
``batch_cmd.batch_command`` calls :func:`run` too, so both write the same bytes and exit with
the same code.
"""

from __future__ import annotations

import gc
import re
import sys
import time
from functools import partial
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, codes
from .command_line import load_engine, read
from .eval_run import echo, start

if TYPE_CHECKING:
    from typing import Iterable

    from ..tools.tasks import Task

OK, PROBLEMS = 0, 1

#: The choices of the options that take one (as the Typer command's enums spell them).
CHOICES = {
    "format": ("jsonl", "parquet"),
    "evaluator": ("columnar", "per-case"),
    "citations": ("none", "deciding", "full"),
}
#: Options of ``policy batch`` that take a value, and the flags (name -> (argument, value)).
_VALUED = {"--as-of": "as_of", "--out": "out", "--workers": "workers", "--only": "only",
           "--citations": "citations", "--format": "format", "--evaluator": "evaluator",
           "--policy": "policy"}
_FLAGS = {"--because": ("because", True), "--nulls": ("nulls", True),
          "--no-nulls": ("nulls", False)}
#: ``--workers``' range, as the Typer option declares it (min=1, max=64).
WORKERS = range(1, 65)
_NUMBER = re.compile(r"[0-9]+")


def arguments(argv: list[str]) -> dict | None:
    """The arguments of ``policy batch`` (after ``batch``) as :func:`run` takes them, or None when
    the command line is anything but the plain forms of a local run: help, an unknown option,
    an option without its value (or with one that starts with ``-``, other than ``-`` itself),
    a choice or a number of workers Typer would refuse, a second argument, ``--runner`` or
    ``--spark-master``. Typer reads those and words any error."""
    found = read(argv, {"cases": None, "as_of": None, "out": "-", "workers": 1, "only": [],
                        "citations": None, "because": False, "nulls": None, "format": "jsonl",
                        "evaluator": "columnar", "policy": None},
                 "cases", _VALUED, _FLAGS, dash_value=True, accept=_accept)
    if found is None or found["policy"] == "":
        return None
    if found["policy"] is not None:
        found["policy"] = Path(found["policy"])
    return found


def _accept(key: str, value: str):
    """The value of an option as :func:`arguments` keeps it, or None where Typer would refuse
    it (a choice not listed, a number of workers out of range)."""
    if key == "workers":
        return int(value) if _NUMBER.fullmatch(value) and int(value) in WORKERS else None
    if key in CHOICES and value not in CHOICES[key]:
        return None
    return value


def run(cases: str, as_of, out: str, workers: int, only, citations, because: bool, nulls,
        format: str, evaluator: str, policy, runner: str = "local", spark_master=None,
        load=None) -> int:
    """Evaluate the cases into ``out`` and report on standard error; give the exit code (1 when
    a case could not be evaluated). Errors that stop the run propagate. Choices are the option
    values as written (``format`` ``jsonl``, ``citations`` None for the default...); ``load``
    loads the engine for ``policy`` (default :func:`load_engine`)."""
    from ..io.paths import default_policy_dir
    from ..language.dates import as_of_date
    from ..tools.batch import input_size, jsonl_file, read_cases, run_batch
    from ..tools.batch_output import CitationIds, write_citation_table
    on = as_of_date(as_of)      # None only when not given
    if on is not None:
        as_of = on.isoformat()
    mode = citations if citations is not None else ("full" if out == "-" else "deciding")
    if mode == "deciding" and out == "-":
        raise InputError("--citations deciding writes a citation table beside the results, so "
                         "it needs --out FILE; on standard output use --citations full or none.",
                         code=codes.UNKNOWN_ONLY, field="--citations")
    if runner == "spark" and format == "parquet":
        raise InputError("--format parquet is written by the local runner only; with --runner "
                         "spark write JSONL, or use engine.tools.spark_runner.evaluate from "
                         "Python and write the DataFrame.", code=codes.UNKNOWN_ONLY,
                         field="--format")
    if format == "parquet" and nulls is False:
        raise InputError("--format parquet writes every result, null values included (a "
                         "column of values with its nulls costs little); --no-nulls is for "
                         "JSONL.", code=codes.UNKNOWN_ONLY, field="--no-nulls")
    if format == "parquet" and out == "-":
        raise InputError("--format parquet writes files, so it needs --out FILE.",
                         code=codes.UNKNOWN_ONLY, field="--out")
    engine = (load or load_engine)(policy)
    if only:
        unknown = sorted(set(only) - set(engine.program.rules))
        if unknown:
            raise InputError(f"--only names {', '.join(unknown)}, which no rulebook defines as a "
                             "rule.", code=codes.UNKNOWN_ONLY, field="--only")
    # Several local workers read a JSONL file's lines themselves (JsonlFile, made only for a
    # file it can open); any other input is read here.
    tasks: Iterable[Task] | None = (jsonl_file(cases) if workers > 1 and runner == "local"
                                    and format == "jsonl" else None)
    if tasks is None:
        reader = read_cases(cases, engine.program)
        # The first case read before --out is opened: a missing or unreadable input is refused
        # while an earlier output file is still whole (opening it empties it).
        first = next(reader, None)
        tasks = chain((first,), reader) if first is not None else reader
    bar = progress_bar(input_size(cases)) if sys.stderr.isatty() and runner == "local" else None
    if format == "parquet":
        from ..tools.parquet_output import write_parquet
        try:
            summary = write_parquet(tasks, out, engine=engine,
                                    policy=[str(policy or default_policy_dir())], as_of=as_of,
                                    names=only or None, citations=mode, because=because,
                                    workers=workers, progress=bar.update if bar else None)
        finally:
            if bar:
                bar.close()
        return report(summary, out, f" (citations in {out}.citations.parquet)"
                      if mode == "deciding" else "")
    ids = CitationIds.of_process() if mode == "deciding" else None
    handle = sys.stdout.buffer if out == "-" else open(out, "wb")   # closed by the finally below
    try:
        if runner == "spark":
            from .spark_cmd import spark_batch
            summary = spark_batch(tasks, handle.write, engine=engine, policy=policy,
                                  master=spark_master, as_of=as_of, names=only or None,
                                  citations=mode, because=because, ids=ids, nulls=nulls)
        else:
            summary = run_batch(tasks, handle.write,
                                policy=[str(policy or default_policy_dir())], as_of=as_of,
                                workers=workers, engine=engine,
                                progress=bar.update if bar else None, names=only or None,
                                citations=mode, because=because, ids=ids,
                                evaluator=evaluator, nulls=nulls, out=handle)
    finally:
        if handle is not sys.stdout.buffer:
            handle.close()
        else:
            handle.flush()
        if bar:
            bar.close()
    if ids is not None:
        write_citation_table(out + ".citations.json", ids, summary.used)
    return report(summary, out, f" (citations in {out}.citations.json)" if ids is not None else "")


def report(summary, out: str, table: str) -> int:
    """Say on standard error what the run did; the exit code (1 when a case had an error)."""
    rate = summary.cases / summary.seconds if summary.seconds else 0
    where = "standard output" if out == "-" else out
    echo(f"{summary.cases} case(s) evaluated, {summary.errors} error(s), "
         f"{rate:.0f} cases/s; results in {where}{table}.", err=True)
    if getattr(summary, "evaluator", None) == "columnar":
        echo(f"Columnar evaluator: {summary.cases - summary.fallbacks} case(s) by the plan, "
             f"{summary.fallbacks} by the per-case evaluator (errors and cases the plan "
             "could not finish).", err=True)
    if summary.errors:
        echo(f"{summary.errors} case(s) could not be evaluated; their lines in the output "
             "have an \"error\" with the file, line and reason.", err=True)
    return PROBLEMS if summary.errors else OK


def progress_bar(total: int | None):
    """A progress bar with the rate and the time left, on a terminal only (rich)."""
    return RichProgress(total)


class RichProgress:
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


def _load_then_collect(policy):
    """:func:`load_engine`, then the cyclic collector switched back on if the process started
    with it off (:mod:`engine.cli.fast` starts a command so; see its docstring). What is alive
    then (modules, rulebooks) lives until the process ends, so it is frozen first: neither this
    process's collections nor a forked worker's walk it. The run itself, a million cases long
    perhaps, runs with the collector on, so that any cycle it makes is collected."""
    engine = load_engine(policy)
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
    return engine


def main(argv: list[str]) -> int | None:
    """Run ``policy batch`` for ``argv`` (after ``batch``) and give the exit code, or None when
    the arguments need Typer (see :func:`arguments`)."""
    return start(argv, arguments, partial(run, load=_load_then_collect))
