"""``policy check --format``: text, json, github, junit and sarif, and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from typer.testing import CliRunner

from engine.cli.app import app

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
ROOT = HERE.parent.parent
runner = CliRunner()


def run(*args):
    return runner.invoke(app, ["check", *map(str, args), "--as-of", "2026-11-22"])


def test_the_real_rulebooks_pass():
    result = run(ROOT / "policy")
    assert result.exit_code == 0, result.output


def test_text_names_file_line_code_and_exits_1_on_errors():
    result = run(FIXTURES / "E520")
    assert result.exit_code == 1
    assert "rules.yaml:16: error E520:" in result.stdout
    assert "1 error(s), 0 warning(s) in 1 rulebook file(s)." in result.stdout


def test_warnings_alone_exit_0():
    result = run(FIXTURES / "W560")
    assert result.exit_code == 0, result.output
    assert "warning W560" in result.stdout


def test_json_has_errors_and_warnings_with_code_file_line():
    result = run(FIXTURES / "E511", "--format", "json")
    data = json.loads(result.stdout)
    assert data["warnings"] == []
    (error,) = data["errors"]
    assert error["code"] == "E511" and error["line"] == 12 and error["file"].endswith("E511/rules.yaml")
    assert error["severity"] == "error"


def test_github_annotations_point_at_the_yaml_line():
    result = run(FIXTURES / "W512", "--format", "github")
    (line,) = result.stdout.strip().splitlines()
    assert line.startswith("::warning file=")
    assert ",line=15," in line and "title=W512 dates-gap::" in line
    assert "W512/rules.yaml" in line


def test_junit_has_one_testcase_per_file_and_a_failure_per_failing_file():
    result = run(FIXTURES / "E321", "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout.split("\n", 1)[1])
    cases = root.findall(".//testcase")
    assert sorted(Path(c.get("name")).name for c in cases) == ["case.yaml", "other.yaml", "rules.yaml"]
    failing = [c for c in cases if c.find("failure") is not None]
    assert [Path(c.get("name")).name for c in failing] == ["rules.yaml"]
    assert failing[0].find("failure").get("type") == "E321"
    assert root.find("testsuite").get("failures") == "1"


def test_sarif_2_1_0_rules_are_codes_and_results_have_physical_locations():
    result = run(FIXTURES / "E501", "--format", "sarif")
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    (run_,) = log["runs"]
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == ["E501"]
    assert len(run_["results"]) == 2
    for item in run_["results"]:
        assert item["ruleId"] == "E501" and item["level"] == "error"
        location = item["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith("E501/rules.yaml")
        assert location["region"]["startLine"] in (10, 15)


def test_sarif_validates_against_the_sarif_schema_shape():
    """The parts of SARIF 2.1.0 that GitHub code scanning requires are present and typed."""
    log = json.loads(run(FIXTURES / "W570", "--format", "sarif").stdout)
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "policy check"
    rule = driver["rules"][0]
    assert rule["shortDescription"]["text"] and rule["defaultConfiguration"]["level"] == "warning"
    result = log["runs"][0]["results"][0]
    assert result["level"] == "warning" and result["message"]["text"].startswith("Parameter demo.first_person")


def test_a_bad_as_of_is_exit_2():
    result = runner.invoke(app, ["check", str(FIXTURES / "W570"), "--as-of", "2026-13-01"])
    assert result.exit_code == 2
    assert "E109" in result.output


def test_staleness_depends_on_the_as_of_date():
    assert run(FIXTURES / "W570").stdout.count("warning W570") == 1
    result = runner.invoke(app, ["check", str(FIXTURES / "W570"), "--as-of", "2026-03-31"])
    assert "W570" not in result.stdout
