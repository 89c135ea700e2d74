"""Bad input to any subcommand: invalid cases, dates and rulebooks give one clear paragraph on
stderr and exit 2, never a traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .helpers import (CASES, JONES, invoke, run_module, assert_no_traceback, assert_cannot_run,
                      line_of_text, copy_policy, insert_after)

pytestmark = pytest.mark.usefixtures("repo_cwd_and_cached_engines")


@pytest.mark.parametrize("fixture, code, line, needles", [
    ("person_without_id.yaml", "E201", "  - age: 40", ["people[1]", "id"]),
    ("income_daily.yaml", "E201", "frequency: daily", ["daily", "frequency"]),
    ("age_forty.yaml", "E201", "age: forty", ["age", "integer"]),
    ("duplicate_key.yaml", "E101", "age: 41", ["age"]),
])
def test_eval_invalid_case(fixture, code, line, needles):
    path = CASES / fixture
    err = assert_cannot_run(invoke("eval", path, "--format", "json"), str(path), code, *needles)
    assert f"{path}:{line_of_text(path, line)}:" in err


def test_eval_duplicate_key_names_both_lines():
    path = CASES / "duplicate_key.yaml"
    err = assert_cannot_run(invoke("eval", path))
    assert f"lines {line_of_text(path, 'age: 40')} and {line_of_text(path, 'age: 41')}" in err


def test_eval_unknown_field():
    path = CASES / "unknown_field.yaml"
    assert_cannot_run(invoke("eval", path), str(path), "E201", "pregant", "people[0]")


def test_eval_unknown_field_points_at_the_key_line():
    path = CASES / "unknown_field.yaml"
    err = assert_cannot_run(invoke("eval", path))
    assert f"{path}:{line_of_text(path, 'pregant: true')}:" in err


def test_eval_unparsable_yaml_end_to_end():
    path = CASES / "unparsable.yaml"
    proc = run_module("eval", path)
    err = assert_cannot_run(proc, str(path), "YAML")
    opened = line_of_text(path, "age: [40")
    assert re.search(rf"{re.escape(str(path))}:({opened}|{opened + 1}):", err), err


def test_eval_case_that_is_not_a_mapping():
    path = CASES / "not_a_mapping.yaml"
    assert_cannot_run(invoke("eval", path), str(path), "mapping")


def test_eval_missing_case_file():
    assert_cannot_run(invoke("eval", "no/such/case.yaml"), "no/such/case.yaml")


def test_eval_invalid_as_of_date():
    assert_cannot_run(invoke("eval", JONES, "--as-of", "2025-13-01"), "2025-13-01")


def test_eval_invalid_quoted_case_date(tmp_path):
    case = tmp_path / "bad_date.yaml"
    case.write_text(JONES.read_text(encoding="utf-8").replace("as_of: 2018-06-01", 'as_of: "2018-02-30"'),
                    encoding="utf-8")
    err = assert_cannot_run(invoke("eval", case), str(case), "as_of", "2018-02-30")
    assert f"{case}:{line_of_text(case, 'as_of:')}:" in err


IMPOSSIBLE_DATE_BUG = (
    "engine/io/yaml_parser.py _LineConstructor.construct_iso_date: an unquoted scalar that looks like "
    "a YAML timestamp but is no calendar date (2018-02-30) makes PyYAML's construct_yaml_timestamp "
    "raise ValueError('day is out of range for month'), which loads() does not catch (it catches "
    "yaml.YAMLError only). The CLI then reports 'internal error: ValueError ... This is a defect in "
    "the engine' with no file or line, and `policy check --format json` prints no JSON at all. "
    "Fix: in construct_iso_date, catch ValueError and raise InputError(\"'2018-02-30' is not a "
    "valid date: ...\", code='E109', file=self.name, line=node.start_mark.line + 1).")


def test_eval_impossible_unquoted_case_date(tmp_path):
    case = tmp_path / "bad_date.yaml"
    case.write_text(JONES.read_text(encoding="utf-8").replace("as_of: 2018-06-01", "as_of: 2018-02-30"),
                    encoding="utf-8")
    err = assert_cannot_run(invoke("eval", case), "2018-02-30")
    assert f"{case}:{line_of_text(case, 'as_of:')}:" in err
    assert "internal error" not in err


def test_check_impossible_date_key_in_rulebook(tmp_path):
    policy = copy_policy(tmp_path)
    target = policy / "fpl.yaml"
    at = line_of_text(target, "2024-04-01:")
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[at - 1] = lines[at - 1].replace("2024-04-01:", "2024-02-30:")
    target.write_text("".join(lines), encoding="utf-8")
    result = invoke("check", policy, "--format", "json")
    assert_no_traceback(result)
    assert result.exit_code == 2
    error = json.loads(result.stdout)["errors"][0]
    assert Path(error["file"]).resolve() == target.resolve() and error["line"] == at


def test_eval_invalid_case_on_stdin():
    text = (CASES / "age_forty.yaml").read_text(encoding="utf-8")
    assert_cannot_run(invoke("eval", "-", input=text), "E201", "people[0].age", "integer")


def test_eval_invalid_case_on_stdin_names_stdin_and_line():
    text = (CASES / "age_forty.yaml").read_text(encoding="utf-8")
    err = assert_cannot_run(invoke("eval", "-", input=text), "age")
    assert f"<stdin>:{line_of_text(CASES / 'age_forty.yaml', 'age: forty')}:" in err


def test_eval_policy_directory_with_duplicate_key(tmp_path):
    policy = copy_policy(tmp_path)
    target = policy / "fpl.yaml"
    first = line_of_text(target, "version:")
    insert_after(target, first, 'version: "duplicate"\n')
    err = assert_cannot_run(invoke("eval", JONES, "--policy", policy), "E101", "version")
    assert f"{target}:{first + 1}:" in err


def test_eval_policy_directory_that_does_not_exist():
    assert_cannot_run(invoke("eval", JONES, "--policy", "no/such/policy"), "no/such/policy")


def test_eval_unknown_option_end_to_end():
    proc = run_module("eval", "examples/jones.yaml", "--no-such-option")
    assert_no_traceback(proc)
    assert proc.returncode == 2
    assert "--no-such-option" in proc.stderr


@pytest.mark.parametrize("args", [
    ["eval", JONES, "--format", "xml"],
    ["eval"],
    ["table", "income-limits", "--format", "pdf"],
    ["no-such-command"],
])
def test_bad_arguments(args):
    result = invoke(*args)
    assert_no_traceback(result)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip()
