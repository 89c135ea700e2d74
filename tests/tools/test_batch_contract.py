"""``policy batch`` output as the contract fixes it, checked against ``policy eval`` through the CLI.

One line per case in input order, ``{"case_id", "as_of", "results"}`` with ``name``, ``person``,
``value`` and ``citations`` (ids into ``FILE.citations.json`` by default), every file the run
writes named after ``FILE``; the values and citations the same as ``policy eval`` gives for the
same case.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from .conftest import FIXTURES, POLICY
from .households import households

runner = CliRunner()


def cli(*args, input=None):
    from engine.cli.app import app
    return runner.invoke(app, [*map(str, args), "--policy", str(POLICY)], input=input)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def cases_file(tmp_path_factory) -> Path:
    """40 generated households, a disabled worker (Ticket to Work) and the two fixture cases,
    as JSONL."""
    path = tmp_path_factory.mktemp("cases") / "cases.jsonl"
    rows = [json.dumps(h) for h in households(40, seed=7)]
    rows.append(json.dumps({"case_id": "worker", "people": [{
        "id": "pat", "age": 45, "sex": "female", "tax_filer": True, "disabled": True,
        "employed": True, "incomes": [{"type": "wages", "amount": "1400", "frequency": "monthly"}]}]}))
    rows += (FIXTURES / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def default_run(cases_file, tmp_path_factory):
    directory = tmp_path_factory.mktemp("run")
    out = directory / "results.jsonl"
    result = cli("batch", cases_file, "--out", out, "--as-of", "2025-08-01")
    assert result.exit_code == 0, result.stderr
    return directory, out


def eval_json(case: dict, tmp_path: Path, as_of="2025-08-01") -> dict:
    path = tmp_path / f"{case['case_id']}.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    result = cli("eval", path, "--format", "json", "--as-of", as_of)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_default_lines_have_exactly_the_contract_fields_and_citation_ids(default_run, cases_file):
    directory, out = default_run
    records = lines(out)
    inputs = [json.loads(line) for line in cases_file.read_text().splitlines()]
    assert [r["case_id"] for r in records] == [c["case_id"] for c in inputs]     # input order
    table = json.loads((directory / "results.jsonl.citations.json").read_text())
    assert table and all({"source"} <= set(c) and ("section" in c or "url" in c) for c in table.values())
    for record in records:
        assert set(record) == {"case_id", "as_of", "results"}
        assert record["as_of"] == "2025-08-01"
        for item in record["results"]:
            assert {"name", "person", "value", "citations"} <= set(item) <= {
                "name", "person", "value", "citations", "entity"}
            assert item["citations"] and all(isinstance(c, str) and c in table for c in item["citations"])
    # every file the run wrote starts with FILE's name
    assert sorted(p.name for p in directory.iterdir()) == ["results.jsonl", "results.jsonl.citations.json"]


@pytest.fixture(scope="module")
def nulls_run(cases_file, tmp_path_factory):
    directory = tmp_path_factory.mktemp("nulls")
    out = directory / "results.jsonl"
    result = cli("batch", cases_file, "--out", out, "--as-of", "2025-08-01", "--nulls")
    assert result.exit_code == 0, result.stderr
    return directory, out


def shown(record: dict, table: dict) -> list[tuple]:
    return [(r["name"], r["person"], r.get("entity"), r["value"], [table[c] for c in r["citations"]])
            for r in record["results"]]


def test_batch_values_and_citations_equal_policy_eval(default_run, nulls_run, cases_file, tmp_path):
    """Every result ``policy eval`` prints: with a value, the same in batch (value and
    citations); without one (null), absent from the default line and the same with --nulls."""
    runs = []
    for directory, out in (default_run, nulls_run):
        runs.append((lines(out), json.loads((directory / "results.jsonl.citations.json").read_text())))
    inputs = [json.loads(line) for line in cases_file.read_text().splitlines()]
    nulls_seen = 0
    for index in range(0, len(inputs), 4):          # every fourth case: eval is a process each
        expected = eval_json(inputs[index], tmp_path)
        every = [(r["name"], r["person"], r.get("entity"), r["value"], r["citations"])
                 for r in expected["results"]]
        nulls_seen += sum(1 for item in every if item[3] is None)
        (default, default_table), (with_nulls, nulls_table) = ((run[index], table) for run, table in runs)
        assert shown(default, default_table) == [item for item in every if item[3] is not None]
        assert shown(with_nulls, nulls_table) == every
    assert nulls_seen      # the comparison covered results that do not apply to someone


def test_the_results_the_contract_requires_are_written_with_values(default_run, cases_file):
    """Leaving null results out never leaves out one the contract requires: the MAGI results
    and the level of care for every person, the CHIP premium for the case, msp.level for every
    person with Medicare, twha.premium for everyone who meets Ticket to Work's non-financial
    tests (as the rulebooks decide them)."""
    from engine.api import Engine
    engine = Engine.load(POLICY)
    _, out = default_run
    inputs = [json.loads(line) for line in cases_file.read_text().splitlines()]
    medicare = twha = 0
    for case, record in zip(inputs, lines(out)):
        values = {(r["name"], r["person"]): r["value"] for r in record["results"]}
        assert values[("chip.family_premium", None)] is not None
        meets = engine.evaluate(case, as_of="2025-08-01", names=["twha.meets_nonfinancial"])
        for person in case["people"]:
            who = person["id"]
            for name in ("magi.household_size", "magi.household_income", "magi.fpl_percent",
                         "eligibility.level_of_care"):
                assert values.get((name, who)) is not None, (case["case_id"], who, name)
            if person.get("medicare"):
                medicare += 1
                assert values.get(("msp.level", who)) in ("QMB", "SLMB1", "SLMB2", "INELIGIBLE")
            if meets.value("twha.meets_nonfinancial", who):
                twha += 1
                assert values.get(("twha.premium", who)) is not None, (case["case_id"], who)
    assert medicare and twha        # the generated households include both


def test_jones_through_batch_is_chip_75_as_eval_says(default_run):
    _, out = default_run
    jones = next(r for r in lines(out) if r["case_id"] == "jones-2025")
    # 5,199.60 x 12 / 26,650 (2025 guideline for 3) = 234.13% of poverty -> CHIP 75
    kid = next(r for r in jones["results"] if r["name"] == "eligibility.level_of_care" and r["person"] == "kid1")
    assert kid["value"] == "CHIP_75"


def test_full_citations_inline_and_because_only_when_asked(cases_file, tmp_path):
    full = tmp_path / "full.jsonl"
    assert cli("batch", cases_file, "--out", full, "--citations", "full", "--because",
               "--as-of", "2025-08-01").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full.jsonl"]       # no table needed
    case = json.loads(cases_file.read_text().splitlines()[-2])              # jones-2025
    expected = eval_json(case, tmp_path)
    record = lines(full)[-2]
    assert [(r["value"], r["citations"], r["because"]) for r in record["results"]] == \
           [(r["value"], r["citations"], r["because"]) for r in expected["results"]]

    none = tmp_path / "none.jsonl"
    assert cli("batch", cases_file, "--out", none, "--citations", "none").exit_code == 0
    assert all(set(item) <= {"name", "person", "value", "entity"}
               for record in lines(none) for item in record["results"])


def test_two_workers_write_the_same_files(cases_file, tmp_path, default_run):
    directory, one = default_run
    two = tmp_path / "two.jsonl"
    assert cli("batch", cases_file, "--out", two, "--workers", 2, "--as-of", "2025-08-01").exit_code == 0
    assert two.read_bytes() == one.read_bytes()
    assert (tmp_path / "two.jsonl.citations.json").read_bytes() == \
           (directory / "results.jsonl.citations.json").read_bytes()


def test_an_error_is_reported_on_its_line_and_the_run_goes_on(cases_file, tmp_path):
    source = tmp_path / "in.jsonl"
    good = cases_file.read_text().splitlines()
    source.write_text("\n".join([good[0], '{"case_id": "bad", "people": [{"id": "x", "age": "old"}]}',
                                 good[1]]) + "\n")
    out = tmp_path / "out.jsonl"
    result = cli("batch", source, "--out", out, "--workers", 2)
    assert result.exit_code == 1 and "1 error(s)" in result.stderr
    first, bad, third = lines(out)
    assert first["results"] and third["results"]
    assert bad["case_id"] == "bad" and bad["error"]["code"] == "E201"
    assert bad["error"]["line"] == 2 and "age" in bad["error"]["message"]


def test_citation_ids_on_standard_output_need_a_file():
    result = cli("batch", FIXTURES / "cases.jsonl", "--citations", "deciding")
    assert result.exit_code == 2
    assert "--out FILE" in result.stderr and "Traceback" not in result.stderr
    full = cli("batch", FIXTURES / "cases.jsonl")               # standard output: inline by default
    assert full.exit_code == 0
    first = json.loads(full.stdout.splitlines()[0])
    assert isinstance(first["results"][0]["citations"][0], dict)


def test_the_progress_bar_shows_cases_rate_and_time_left():
    import io

    from rich.console import Console

    from engine.tools.batch import BatchSummary, Task
    from engine.cli.batch_run import RichProgress as _RichProgress
    screen = io.StringIO()
    bar = _RichProgress(1000, console=Console(file=screen, force_terminal=True, width=150))
    summary = BatchSummary(cases=40, errors=1)
    bar.update(summary, Task("x:40", "json", "{}", None, 400))
    bar.update(summary, Task("x:40", "json", "{}", None, 400))
    bar.close()
    text = screen.getvalue()
    assert "40 cases, 1 errors" in text and "cases/s" in text and "ETA" in text and "40%" in text
