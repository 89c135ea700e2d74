"""``policy test [PATH ...]``: run YAML test cases; ends with ``N passed, N failed``."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..tools.coverage import CoverageEngine
from ..tools.testing import read_tests, run_test, find_test_files
from .common import Format, OK, PROBLEMS, PolicyOption, exits, load_engine, print_json


def test_command(
    paths: Optional[List[Path]] = typer.Argument(None, help="Test files or directories (default: tests/cases)."),
    format: Format = typer.Option(Format.text, "--format", help="Output format."),
    policy: Optional[Path] = PolicyOption,
    coverage: bool = typer.Option(False, "--coverage", help="Report the rules and parameter values (by effective date) no test exercised."),
    fail_under: Optional[float] = typer.Option(None, "--fail-under", metavar="PCT", help="With coverage: exit 1 when coverage is below PCT percent."),
):
    """Run test cases written as data against the rulebooks."""
    with exits():
        engine = load_engine(policy)
        if coverage or fail_under is not None:
            engine = CoverageEngine.wrapping(engine)
        targets = paths or [Path("tests/cases")]
        tests = [t for f in find_test_files(targets) for t in read_tests(f)]
        outcomes = [run_test(engine, t) for t in tests]
    passed = sum(1 for o in outcomes if o.passed)
    failed = len(outcomes) - passed
    if format == Format.json:
        print_json({"passed": passed, "failed": failed, "tests": [
            {"name": o.test.name, "file": o.test.file, "line": o.test.line, "passed": o.passed,
             "failures": o.failures} for o in outcomes],
            **({"coverage": engine.report().as_dict()} if isinstance(engine, CoverageEngine) else {})})
    else:
        for o in outcomes:
            if not o.passed:
                typer.echo(f"FAIL {o.test.file}:{o.test.line}: {o.test.name}")
                for failure in o.failures:
                    typer.echo(f"     {failure}")
    below = False
    if isinstance(engine, CoverageEngine):
        report = engine.report()
        if format != Format.json:
            typer.echo(report.render())
        if fail_under is not None and report.percent < fail_under:
            below = True
            typer.echo(f"Coverage {report.percent:.1f}% is below --fail-under {fail_under:g}%.", err=True)
    # In JSON mode stdout carries only the JSON document; the summary line goes to stderr.
    typer.echo(f"{passed} passed, {failed} failed", err=format == Format.json)
    if failed:
        typer.echo(f"{failed} of {len(outcomes)} test case(s) failed; see the FAIL lines above.",
                   err=True)
    raise typer.Exit(PROBLEMS if failed or below else OK)
