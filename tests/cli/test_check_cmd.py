"""``policy check``: whole-directory checks, each defect's code, file and line, and the formats."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .helpers import (FIXTURES, invoke, run_module, assert_no_traceback, line_of_text, copy_policy,
                      insert_after)

pytestmark = pytest.mark.usefixtures("repo_cwd_and_cached_engines")


def test_check_policy_end_to_end():
    proc = run_module("check", "policy")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_no_traceback(proc)


def test_check_policy_json():
    result = invoke("check", "policy", "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"errors", "warnings"}
    assert data["errors"] == []
    assert isinstance(data["warnings"], list)
    for warning in data["warnings"]:
        assert {"code", "message", "file", "line"} <= set(warning)


def test_check_default_directory_is_policy():
    result = invoke("check", "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["errors"] == []


def check_json(*args) -> tuple[int, dict]:
    result = invoke("check", *args, "--format", "json")
    assert_no_traceback(result)
    return result.exit_code, json.loads(result.stdout)


def only_error(data: dict, code: str) -> dict:
    errors = [e for e in data["errors"] if e["code"] == code]
    assert errors, f"no {code} in {data['errors']}"
    for error in errors:
        assert {"code", "message", "file", "line"} <= set(error)
    return errors[0]


def test_check_name_typo_in_expression(tmp_path):
    policy = copy_policy(tmp_path)
    probe = policy / "cliprobe.yaml"
    shutil.copy(FIXTURES / "rulebooks" / "name_typo.yaml", probe)
    code, data = check_json(policy)
    assert code == 1
    error = only_error(data, "E320")
    assert Path(error["file"]).resolve() == probe.resolve()
    assert error["line"] == line_of_text(probe, "formula: fpl.monthly_limit(100, sise)")
    assert "sise" in error["message"] and "size" in error["message"]
    assert len(data["errors"]) == 1


def test_check_parameter_without_citation(tmp_path):
    policy = copy_policy(tmp_path)
    probe = policy / "cliprobe.yaml"
    shutil.copy(FIXTURES / "rulebooks" / "uncited_parameter.yaml", probe)
    code, data = check_json(policy)
    assert code == 1
    error = data["errors"][0]
    assert error["code"].startswith("E2"), error  # a schema error
    assert "citation" in error["message"]
    assert Path(error["file"]).resolve() == probe.resolve()
    assert error["line"] == line_of_text(probe, "probe_percent:")
    assert len(data["errors"]) == 1


def test_check_duplicate_key(tmp_path):
    policy = copy_policy(tmp_path)
    target = policy / "fpl.yaml"
    first = line_of_text(target, "version:")
    insert_after(target, first, 'version: "duplicate"\n')
    code, data = check_json(policy)
    assert code == 2
    error = only_error(data, "E101")
    assert Path(error["file"]).resolve() == target.resolve()
    assert error["line"] == first + 1
    assert str(first) in error["message"] and str(first + 1) in error["message"]
    assert "version" in error["message"]


def test_check_unparsable_yaml(tmp_path):
    policy = copy_policy(tmp_path)
    target = policy / "fpl.yaml"
    at = line_of_text(target, "version:")
    insert_after(target, at, "title: [unclosed\n")
    result = invoke("check", policy, "--format", "json")
    assert_no_traceback(result)
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    error = data["errors"][0]
    assert error["code"].startswith("E1"), error
    assert Path(error["file"]).resolve() == target.resolve()
    # The parser notices the unclosed "[" on the inserted line or the line after it.
    assert error["line"] in (at + 1, at + 2), error


def test_check_value_that_disagrees_with_a_published_chart(tmp_path):
    policy = copy_policy(tmp_path)
    target = policy / "nonmagi" / "standards.yaml"
    qmb = line_of_text(target, "  qmb:")
    value = line_of_text(target, "value: 100", start=qmb)
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[value - 1] = lines[value - 1].replace("value: 100", "value: 101")
    target.write_text("".join(lines), encoding="utf-8")
    code, data = check_json(policy)
    assert code == 1
    mismatches = [e for e in data["errors"] if e["code"] == "E540"]
    assert mismatches and len(mismatches) == len(data["errors"])
    charts = policy / "charts.yaml"
    row = line_of_text(charts, "{program: QMB, household_size: 1,")
    first = [e for e in mismatches if e["line"] == row]
    assert first, [(e["line"], e["message"]) for e in mismatches]
    assert all(Path(e["file"]).resolve() == charts.resolve() for e in mismatches)
    assert any("QMB" in e["message"] and "101" in e["message"] and "100" in e["message"] for e in first)
    assert any("1305" in e["message"] for e in first)  # the published dollar figure too


def test_check_github_format(tmp_path):
    policy = copy_policy(tmp_path)
    shutil.copy(FIXTURES / "rulebooks" / "name_typo.yaml", policy / "cliprobe.yaml")
    result = invoke("check", policy, "--format", "github")
    assert_no_traceback(result)
    assert result.exit_code == 1
    lines = [l for l in result.stdout.splitlines() if l.strip()]
    # Warnings (::warning) about the real policy may accompany the error; the error is there.
    assert lines and all(l.startswith(("::error file=", "::warning file=")) for l in lines), lines
    errors = [l for l in lines if l.startswith("::error")]
    assert len(errors) == 1, errors
    assert "cliprobe.yaml" in errors[0] and ",line=11," in errors[0] and "E320" in errors[0]


def test_check_text_format_names_file_and_line(tmp_path):
    policy = copy_policy(tmp_path)
    probe = policy / "cliprobe.yaml"
    shutil.copy(FIXTURES / "rulebooks" / "name_typo.yaml", probe)
    result = invoke("check", policy)
    assert_no_traceback(result)
    assert result.exit_code == 1
    assert f"cliprobe.yaml:{line_of_text(probe, 'formula:')}: error E320" in result.stdout


def test_check_errors_in_text_format_also_say_so_on_stderr(tmp_path):
    policy = copy_policy(tmp_path)
    shutil.copy(FIXTURES / "rulebooks" / "name_typo.yaml", policy / "cliprobe.yaml")
    result = invoke("check", policy)
    assert result.exit_code == 1
    assert result.stderr.strip()


def test_check_missing_path():
    result = invoke("check", "no/such/dir", "--format", "json")
    assert_no_traceback(result)
    assert result.exit_code == 2
    assert "no/such/dir" in json.loads(result.stdout)["errors"][0]["message"]
