"""``policy change``: what a mass change (a COLA, an FPL update) does, program by program.

* ``policy change CASE --before DATE --after DATE``: every comparison the rulebooks declare (the
  MAGI level of care, the CHIP premium, the Medicare Savings level, the MHABD level and spend
  down, the TWHA premium, Blind Pension) for each person of one case, with outcomes, notices and
  dates.
* ``policy change --cases FILE --before DATE --after DATE --out FILE``: the same for a caseload,
  streaming, one JSON line per case, and a summary of the outcomes and premium refunds at the end.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..tools.batch import read_cases
from ..tools.caseload_change import CitationTable, Options, pair, run_caseload
from ..errors import InputError, codes
from ..actions.mass_change import compare_all, parse_dates, select
from ..io.paths import default_policy_dir
from ..runtime.results import json_value
from ..io.yaml_loader import loads
from .batch_cmd import Runner, RunnerOption, SparkMasterOption
from .spark_cmd import spark_caseload
from .common import Format, OK, PROBLEMS, PolicyOption, exits, load_engine, print_json


def change_command(
    case: Optional[str] = typer.Argument(None, help="Case file (JSON or YAML) before the change, or - for standard input. Not with --cases."),
    before: str = typer.Option(..., "--before", metavar="DATE", help="A date before the change (YYYY-MM-DD)."),
    after: str = typer.Option(..., "--after", metavar="DATE", help="A date after the change takes effect."),
    after_case: Optional[str] = typer.Option(None, "--after-case", metavar="FILE", help="The case as it stands after the change (for example incomes with a COLA); default: CASE."),
    cases: Optional[str] = typer.Option(None, "--cases", metavar="FILE", help="A caseload: JSONL or CSV cases as `policy batch` reads them (- for JSONL on standard input)."),
    after_cases: Optional[str] = typer.Option(None, "--after-cases", metavar="FILE", help="With --cases: the same cases, in the same order, as they stand after the change."),
    out: Optional[str] = typer.Option(None, "--out", metavar="FILE", help="With --cases: where to write one JSON line per case (- for standard output)."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="With --cases: processes that compare cases (each loads the rulebooks once)."),
    notice_date: Optional[str] = typer.Option(None, "--notice-date", metavar="DATE", help="The date the notices are sent, to compute due and effective dates."),
    name: Optional[List[str]] = typer.Option(None, "--name", help="Only this comparison (repeatable): its name (actions.msp_change) or the result it compares (msp.level). Default: all."),
    format: Format = typer.Option(Format.text, "--format", help="Output format (of the summary, with --cases)."),
    runner: Runner = RunnerOption,
    spark_master: Optional[str] = SparkMasterOption,
    policy: Optional[Path] = PolicyOption,
):
    """Compare a case (or a caseload) before and after a mass change: for every program, each
    person's outcome (no_change, increase, reduction, loss, gain, ...), notices and dates."""
    if cases is not None:
        _caseload(case, cases, after_cases, out, before, after, notice_date, name, workers,
                  format, policy, runner, spark_master)
        return
    with exits():
        if case is None:
            raise InputError("Give a case file (CASE), or a caseload with --cases FILE --out FILE.",
                             code=codes.UNKNOWN_CHANGE)
        if out is not None or after_cases is not None:
            raise InputError("--out and --after-cases go with --cases FILE.", code=codes.UNKNOWN_CHANGE)
        engine = load_engine(policy)
        source = loads(sys.stdin.read(), "<stdin>") if case == "-" else case
        result = compare_all(engine, source, before, after, name, after_case=after_case,
                             notice_date=notice_date)
        if format == Format.json:
            print_json(result.as_dict())
        else:
            typer.echo(render_text(result))
    failed = [r for r in result.comparisons if r.failure is not None]
    for r in failed:
        typer.echo(f"{r.change.compare} could not be classified: {r.failure.render()}", err=True)
    raise typer.Exit(PROBLEMS if failed else OK)


def _caseload(case, cases, after_cases, out, before, after, notice_date, names, workers, format,
              policy, runner=None, spark_master=None):
    with exits():
        if case is not None:
            raise InputError("Give either a case file or --cases FILE, not both.", code=codes.UNKNOWN_CHANGE)
        if out is None:
            raise InputError("A caseload run needs --out FILE for its JSON lines.", code=codes.UNKNOWN_CHANGE)
        before_date, after_date, notice = parse_dates(before, after, notice_date)
        engine = load_engine(policy)
        chosen = [c.name for c in select(engine.program, names)]
        options = Options(before_date.isoformat(), after_date.isoformat(),
                          notice.isoformat() if notice else None, chosen)
        # Read the first case of each file now, so that an unreadable input stops the run before
        # the output file is created.
        tasks = _started(read_cases(cases, engine.program))
        later = _started(read_cases(after_cases, engine.program)) if after_cases else None
        table = CitationTable()
        handle = sys.stdout if out == "-" else open(out, "w", encoding="utf-8")
        try:
            if runner == Runner.spark:
                summary = spark_caseload(pair(tasks, later), lambda line: handle.write(line + "\n"),
                                         options, engine=engine, policy=policy,
                                         master=spark_master, citations=table)
            else:
                summary = run_caseload(pair(tasks, later), lambda line: handle.write(line + "\n"),
                                       options, policy=[str(policy or default_policy_dir())],
                                       engine=engine, workers=workers, citations=table)
        finally:
            if handle is not sys.stdout:
                handle.close()
        if out != "-":
            with open(f"{out}.citations.json", "w", encoding="utf-8") as stream:
                json.dump(table.as_dict(), stream, ensure_ascii=False, indent=1)
    stream = sys.stderr if out == "-" else sys.stdout
    if format == Format.json:
        print(json.dumps(summary.as_dict(), indent=2, ensure_ascii=False), file=stream)
    else:
        print(summary.render(), file=stream)
    if summary.errors:
        typer.echo(f"{summary.errors} case(s) could not be compared; their lines in the output "
                   "have an \"error\" with the file, line and reason.", err=True)
    raise typer.Exit(PROBLEMS if summary.errors or summary.partial else OK)


def _started(tasks):
    """The same tasks, with the first one already read (raising now if the input cannot be)."""
    import itertools
    first = next(tasks, None)
    return tasks if first is None else itertools.chain([first], tasks)


def render_text(result) -> str:
    notice = f", notices sent {result.notice_date.isoformat()}" if result.notice_date else ""
    lines = [f"Mass change for case {result.case_id}: {result.before_date.isoformat()} -> "
             f"{result.after_date.isoformat()}{notice}"]
    for compared in result.comparisons:
        c = compared.change
        lines += ["", f"== {c.compare}: {c.title} ({c.name})"]
        if compared.failure is not None:
            lines.append(f"  cannot be classified: {compared.failure.problem.message}")
        elif not compared.rows:
            lines.append("  (applies to no one in this case)")
        for row in compared.rows:
            outcome = row.columns.get("outcome")
            head = f"  {row.entity}: {_show(row.before)} -> {_show(row.after)}"
            lines.append(head + (f"   [{outcome}]" if outcome is not None else ""))
            for column, value in row.columns.items():
                if column != "outcome":
                    lines.append(f"    {column}: {_show(value)}")
            for reason in row.because:
                lines.append(f"    because {reason}")
            found = result.recipients.get(row.entity)
            if found is not None:
                lines.append(f"    notice recipients: {found.text()}")
            shown = list(dict.fromkeys(cite.short() for cite in row.column_citations))
            lines.append("    cites: " + "; ".join(shown))
        if compared.unmatched:
            lines.append("  Not in both cases (not compared): " + ", ".join(compared.unmatched))
    return "\n".join(lines)


def _show(value) -> str:
    shown = json_value(value)
    if shown is None:
        return "-"
    if isinstance(shown, list):
        return ", ".join(str(v) for v in shown) or "none"
    return str(shown)
