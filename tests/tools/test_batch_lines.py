"""The compact lines of ``policy batch`` joined from cached pieces are byte for byte the record
orjson writes (``RecordEncoder.record_line``), and results without a value are left out only
when asked (the default of the compact modes)."""

from __future__ import annotations

import json

import orjson
import pytest

from engine.api import Engine
from engine.tools import batch_output
from engine.tools.batch import Task
from engine.tools.batch_output import CitationIds, RecordEncoder, writes_nulls
from engine.tools.columnar_batch import evaluate_chunk

from .conftest import FIXTURES, POLICY
from .households import households


@pytest.fixture(scope="module")
def engine():
    return Engine.load(POLICY)


@pytest.fixture(scope="module")
def evaluations(engine):
    """Columnar evaluations of generated households and the fixture cases, and per-case ones
    of the same cases (the evaluator a case falls back to), on two dates."""
    cases = households(60, seed=3)
    cases += [json.loads(line) for line in (FIXTURES / "cases.jsonl").read_text().splitlines()]
    tasks = [Task(f"t:{i}", "data", case) for i, case in enumerate(cases)]
    out = []
    for as_of in ("2025-08-01", "2026-01-05"):
        columnar = [e for e, error, _ in evaluate_chunk(engine, tasks, as_of) if error is None]
        assert len(columnar) == len(cases)
        out += columnar
        out += [engine.evaluate(case, as_of=as_of) for case in cases[::6]]
    return out


@pytest.mark.parametrize("citations", ["deciding", "none"])
@pytest.mark.parametrize("nulls", [True, False])
def test_pieces_give_the_bytes_of_the_record(evaluations, citations, nulls):
    encoder = RecordEncoder(citations, ids=CitationIds.of_process(), nulls=nulls)
    for evaluation in evaluations:
        # twice: the second line is joined from pieces the first one made
        assert encoder.evaluation(evaluation) == encoder.record_line(evaluation)
        assert encoder.evaluation(evaluation) == encoder.record_line(evaluation)


def test_pieces_stay_right_when_the_caches_start_again(evaluations, monkeypatch):
    monkeypatch.setattr(batch_output, "MAX_PIECES", 7)
    encoder = RecordEncoder("deciding", ids=CitationIds.of_process(), nulls=True)
    reference = RecordEncoder("deciding", ids=encoder.ids, nulls=True)
    for evaluation in evaluations:
        assert encoder.evaluation(evaluation) == reference.record_line(evaluation)
    assert encoder.used == reference.used       # the ids for the table, whatever was cleared


def test_null_results_are_left_out_only_in_the_compact_modes_by_default(evaluations):
    assert writes_nulls("full") and not writes_nulls("deciding") and not writes_nulls("none")
    assert writes_nulls("deciding", True) and not writes_nulls("full", False)
    ids = CitationIds.of_process()
    evaluation = evaluations[0]
    every = [(r.name, r.person) for r in evaluation.results]
    valued = [(r.name, r.person) for r in evaluation.results if r.value is not None]
    assert len(valued) < len(every)       # this household has results that do not apply

    def written(encoder):
        return [(r["name"], r["person"]) for r in orjson.loads(encoder.evaluation(evaluation))["results"]]

    assert written(RecordEncoder("deciding", ids=ids)) == valued
    assert written(RecordEncoder("none")) == valued
    assert written(RecordEncoder("full")) == every
    assert written(RecordEncoder("deciding", ids=ids, nulls=True)) == every
    assert written(RecordEncoder("full", nulls=False)) == valued


def test_a_money_value_keeps_its_own_digits_whatever_was_written_before(engine):
    """Equal decimals with different exponents (``1.0`` and ``1``) are different JSON: the value
    pieces are kept by their exact text."""
    encoder = RecordEncoder("none", nulls=True)
    lines = {}
    for amount in ("1400", "1400.5", "1400.50", "1400.55"):
        case = {"case_id": amount, "people": [{"id": "a", "age": 30, "tax_filer": True, "incomes": [
            {"type": "wages", "amount": amount, "frequency": "monthly"}]}]}
        evaluation = engine.evaluate(case, as_of="2025-08-01")
        lines[amount] = encoder.evaluation(evaluation)
        assert lines[amount] == encoder.record_line(evaluation)
    income = {amount: next(r["value"] for r in orjson.loads(line)["results"]
                           if r["name"] == "magi.household_income")
              for amount, line in lines.items()}
    assert income == {"1400": "1400.00", "1400.5": "1400.50", "1400.50": "1400.50", "1400.55": "1400.55"}


class _Decimal:
    """A result of a ``decimal`` rule for the case, as the writers read one."""

    name, person, entity, citations, as_of = "x.ratio", None, None, (), None

    def __init__(self, value):
        self.value = value

    def json_value(self):
        from engine.runtime.results import typed_json_value
        return typed_json_value(self.value, "decimal")


def test_equal_decimals_with_other_digits_are_written_as_computed():
    from decimal import Decimal

    from engine.runtime.results import Evaluation
    import datetime as dt
    encoder = RecordEncoder("none", nulls=True)
    written = []
    for value in (Decimal("1.0"), Decimal("1"), Decimal("1.00"), 1, True):
        evaluation = Evaluation("c", dt.date(2025, 8, 1), [_Decimal(value)])
        line = encoder.evaluation(evaluation)
        assert line == encoder.record_line(evaluation)
        written.append(orjson.loads(line)["results"][0]["value"])
    assert written == ["1.0", "1", "1.00", "1", True]


def test_the_cli_writes_nulls_when_asked_and_parquet_refuses_to_drop_them(tmp_path):
    from typer.testing import CliRunner

    from engine.cli.app import app
    runner = CliRunner()
    out = tmp_path / "r.jsonl"
    cases = FIXTURES / "cases.jsonl"
    base = ["batch", str(cases), "--policy", str(POLICY), "--as-of", "2025-08-01"]
    assert runner.invoke(app, [*base, "--out", str(out)]).exit_code == 0
    default = [json.loads(line) for line in out.read_text().splitlines()]
    assert runner.invoke(app, [*base, "--out", str(out), "--nulls"]).exit_code == 0
    nulls = [json.loads(line) for line in out.read_text().splitlines()]
    for short, full in zip(default, nulls):
        assert short["results"] == [r for r in full["results"] if r["value"] is not None]
        assert len(short["results"]) < len(full["results"])
    refused = runner.invoke(app, [*base, "--out", str(tmp_path / "r.parquet"), "--format",
                                  "parquet", "--no-nulls"])
    assert refused.exit_code == 2 and "--no-nulls" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "--nulls" in runner.invoke(app, ["batch", "--help"]).stdout
