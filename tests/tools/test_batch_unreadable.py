"""A JSON line no parser can read into a case (nesting past Python's recursion limit, a whole
number longer than Python converts) is that line's error, with its file and line, and the run
goes on: it was an internal error that stopped the whole batch."""

from __future__ import annotations

import json

import pytest

from engine.errors import InputError
from engine.tools.tasks import Task, case_data

from .test_batch_duplicates import GOOD, cli, records

DEEP = '{"case_id": "deep", "people": ' + "[" * 100_000 + "]" * 100_000 + "}"
LONG = '{"case_id": "long", "people": [], "n": ' + "9" * 5_000 + "}"


@pytest.mark.parametrize("text,code,message", [
    (DEEP, "E103", "The line nests too deeply to read."),
    (LONG, "E105", "The line has a number that cannot be read: "),
], ids=["deep", "long"])
def test_case_data_words_the_line(text, code, message):
    with pytest.raises(InputError) as caught:
        case_data(Task("in.jsonl:7", "json", text))
    problem = caught.value.problem
    assert (problem.code, problem.file, problem.line) == (code, "in.jsonl", 7)
    assert problem.message.startswith(message)


@pytest.mark.parametrize("options", [("--workers", "1"), ("--evaluator", "per-case")],
                         ids=["columnar", "per-case"])
def test_policy_batch_reports_the_line_and_goes_on(tmp_path, options):
    given = tmp_path / "in.jsonl"
    given.write_text("\n".join([GOOD[0], DEEP, LONG, GOOD[1]]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = cli("batch", given, "--out", out, *options)
    assert result.exit_code == 1, result.output
    assert "4 case(s) evaluated, 2 error(s)" in result.stderr
    got = records(out)
    assert [line["error"]["line"] for line in got[1:3]] == [2, 3]
    assert [line["error"]["file"] for line in got[1:3]] == [str(given)] * 2
    assert "results" in got[0] and "results" in got[3]
    json.dumps(got)
