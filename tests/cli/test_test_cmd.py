"""``policy test``: the YAML test cases, a failing expectation, and the JSON report."""

from __future__ import annotations

import json
import re

import pytest

from .helpers import (REPO, FIXTURES, invoke, run_module, assert_no_traceback, assert_cannot_run,
                      line_of_text)

pytestmark = pytest.mark.usefixtures("repo_cwd_and_cached_engines")


WRONG = FIXTURES / "tests" / "wrong_expected.yaml"


def test_test_cases_pass_end_to_end():
    proc = run_module("test", "tests/cases")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.fullmatch(r"\d+ passed, 0 failed", proc.stdout.strip().splitlines()[-1])


def test_test_cases_pass():
    result = invoke("test", REPO / "tests" / "cases")
    assert result.exit_code == 0, result.stdout
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"(\d+) passed, 0 failed", last)
    assert match and int(match.group(1)) > 0, last


def test_test_default_path_is_tests_cases():
    result = invoke("test")
    assert result.exit_code == 0, result.stdout
    assert re.fullmatch(r"\d+ passed, 0 failed", result.stdout.strip().splitlines()[-1])


def test_test_wrong_expected_value_fails():
    result = invoke("test", WRONG)
    assert_no_traceback(result)
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "1 passed, 1 failed"
    line = line_of_text(WRONG, "- name: Jones income with a deliberately wrong expected value")
    text = result.stdout
    assert f"{WRONG}:{line}" in text, text
    assert "magi.household_income" in text
    assert re.search(r"expected '?5199\.61'?, got '?5199\.60'?", text), text


def test_test_json_reports_each_test():
    result = invoke("test", WRONG, "--format", "json")
    assert result.exit_code == 1
    body = result.stdout.strip()
    # The JSON object comes before the summary line (see the xfail below).
    data = json.loads(body[: body.rindex("}") + 1])
    assert data["passed"] == 1 and data["failed"] == 1
    failing = [t for t in data["tests"] if not t["passed"]]
    assert len(failing) == 1
    assert failing[0]["line"] == line_of_text(WRONG, "- name: Jones income with a deliberately wrong")
    assert any("5199.61" in f and "5199.60" in f for f in failing[0]["failures"])


def test_test_json_output_is_valid_json():
    result = invoke("test", WRONG, "--format", "json")
    json.loads(result.stdout)


def test_test_failure_says_so_on_stderr():
    result = invoke("test", WRONG)
    assert result.exit_code == 1
    assert result.stderr.strip()


def test_test_missing_path():
    assert_cannot_run(invoke("test", "no/such/tests"), "no/such/tests")
