"""``policy test --coverage`` and ``--fail-under``."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from engine import Engine
from engine.tools.coverage import CoverageEngine

from .conftest import FIXTURES, POLICY, ROOT

runner = CliRunner()


def policy_test(*args):
    from engine.cli.app import app
    return runner.invoke(app, ["test", str(ROOT / "tests" / "cases"), "--policy", str(POLICY), *args])


def test_coverage_records_rules_and_parameter_values_by_effective_date():
    engine = CoverageEngine.wrapping(Engine.load(POLICY))
    case = json.loads((FIXTURES / "cases.jsonl").read_text(encoding="utf-8").splitlines()[0])
    engine.evaluate(case, as_of="2025-06-01")
    report = engine.report()
    values = {(n, s) for n, s, _, _ in report.uncovered_values}
    covered = engine.coverage.values
    assert ("fpl.first_person", dt.date(2025, 4, 1)) in covered
    assert ("fpl.first_person", dt.date(2024, 4, 1)) in values        # not read for 2025
    assert "eligibility.level_of_care" in engine.coverage.rules
    assert report.rules_covered == len(engine.coverage.rules & set(engine.program.rules))
    assert 0 < report.percent < 100


def test_parameter_pins_count_as_exercising_the_value():
    engine = CoverageEngine.wrapping(Engine.load(POLICY))
    engine.parameter("fpl.first_person", "2019-06-01")
    assert engine.coverage.values == {("fpl.first_person", dt.date(2019, 4, 1))}


def test_cli_reports_coverage_and_still_ends_with_the_summary_line():
    result = policy_test("--coverage")
    assert result.exit_code == 0, result.output
    out = result.stdout.strip().splitlines()
    assert any(line.startswith("Coverage: ") for line in out)
    assert out[-1].endswith(" failed") and " passed, " in out[-1]


def test_fail_under_exits_1_below_the_threshold():
    assert policy_test("--fail-under", "100.1").exit_code == 1   # no suite can exceed 100%
    assert policy_test("--fail-under", "1").exit_code == 0


def test_json_output_carries_the_coverage():
    result = policy_test("--coverage", "--format", "json")
    data = json.loads(result.stdout)
    assert set(data["coverage"]) == {"percent", "rules", "parameter_values"}
    assert data["coverage"]["rules"]["total"] > 0
