"""A case line that repeats a key is refused by every reader of JSON case lines, as ``policy
eval`` refuses a case file that does (E101, naming the file, the line and the key); the run goes
on, and the other lines come out as they would without it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.tools.arrow_batch import tasks_of
from engine.tools.batch import read_cases
from engine.tools.tasks import case_data

from .conftest import FIXTURES, POLICY

runner = CliRunner()


def cli(*args, stdin=None):
    from engine.cli.app import app
    return runner.invoke(app, [*map(str, args), "--policy", str(POLICY)], input=stdin)


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


GOOD = (FIXTURES / "cases.jsonl").read_text(encoding="utf-8").splitlines()
#: Repeated keys at three depths: the case, a person, an income.
REPEATED = [
    ('{"case_id": "d", "case_id": "e", "as_of": "2025-08-01"}', "case_id"),
    (GOOD[0].replace('"age": 8,', '"age": 8, "age": 80,'), "age"),
    (GOOD[0].replace('"amount": "30",', '"amount": "30", "amount": "3000",'), "amount"),
]


def message(key, line):
    return f"The key '{key}' appears twice in the same mapping (lines {line} and {line}); remove one of them."


@pytest.mark.parametrize("bad,key", REPEATED, ids=["case", "person", "income"])
@pytest.mark.parametrize("options", [("--workers", "1"), ("--workers", "2"),
                                     ("--evaluator", "per-case")], ids=["one", "two", "per-case"])
def test_policy_batch_reports_the_line_and_goes_on(tmp_path, bad, key, options):
    given = tmp_path / "in.jsonl"
    given.write_text("\n".join([GOOD[0], bad, GOOD[1]]) + "\n", encoding="utf-8")
    clean = tmp_path / "clean.jsonl"
    clean.write_text("\n".join([GOOD[0], GOOD[1]]) + "\n", encoding="utf-8")
    out, expected = tmp_path / "out.jsonl", tmp_path / "expected.jsonl"
    result = cli("batch", given, "--out", out, *options)
    assert result.exit_code == 1, result.output
    assert "3 case(s) evaluated, 1 error(s)" in result.stderr
    assert cli("batch", clean, "--out", expected, *options).exit_code == 0
    got = records(out)
    assert got[1] == {"input": f"{given}:2", "error": {
        "code": "E101", "severity": "error", "message": message(key, 2), "file": str(given),
        "line": 2, "field": key}}
    assert [got[0], got[2]] == records(expected)


def test_standard_input_is_refused_alike(tmp_path):
    out = tmp_path / "out.jsonl"
    result = cli("batch", "-", "--out", out, stdin=GOOD[1] + "\n" + REPEATED[1][0] + "\n")
    assert result.exit_code == 1
    error = records(out)[1]["error"]
    assert (error["code"], error["file"], error["line"], error["field"]) == ("E101", "<stdin>", 2, "age")


def test_policy_change_cases_refuses_alike(tmp_path):
    given = tmp_path / "in.jsonl"
    given.write_text("\n".join([GOOD[0], REPEATED[2][0]]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = cli("change", "--cases", given, "--before", "2025-03-31", "--after", "2025-04-01",
                 "--out", out)
    assert result.exit_code == 1, result.output
    got = records(out)
    assert "error" not in got[0]
    error = got[1]["error"]
    assert (error["code"], error["message"], error["line"], error["field"]) == (
        "E101", message("amount", 2), 2, "amount")


def test_a_case_file_in_a_directory_is_refused_as_policy_eval_refuses_it(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "a.json").write_text(GOOD[0], encoding="utf-8")
    (folder / "b.json").write_text(REPEATED[1][0], encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = cli("batch", folder, "--out", out)
    assert result.exit_code == 1
    error = next(r["error"] for r in records(out) if "error" in r)
    assert (error["code"], error["field"], error["line"]) == ("E101", "age", 1)
    assert error["message"] == message("age", 1)
    assert cli("eval", folder / "b.json").exit_code != 0


def test_readers_hand_the_line_to_the_same_refusal():
    """JSONL from a stream and the ``case`` text column of an Arrow table."""
    import pyarrow as pa
    tasks = list(read_cases("-", stdin=io.BytesIO((REPEATED[0][0] + "\n").encode())))
    tasks += list(tasks_of(pa.table({"case": [REPEATED[0][0]]}), "table"))
    for task in tasks:
        with pytest.raises(Exception) as caught:
            case_data(task)
        problem = caught.value.problems[0]
        assert (problem.code, problem.field, problem.line) == ("E101", "case_id", 1)
