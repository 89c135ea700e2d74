"""Batches as Arrow tables: ``evaluate_batch``, the per-batch function a Spark runner
calls, and ``policy batch --format parquet``; every row as ``Engine.evaluate`` gives it."""

from __future__ import annotations

import json

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from engine.model.archives import dated
from engine import Engine
from engine.tools.arrow_batch import (citation_table, evaluate_batch, evaluate_record_batch,
                                      results_schema)
from engine.tools.batch_output import CitationIds

from .conftest import POLICY
from .households import households

runner = CliRunner()


@pytest.fixture(scope="module")
def engine():
    return Engine.load(POLICY)


@pytest.fixture(scope="module")
def cases():
    return households(25, seed=21)


def expected_rows(engine, cases, as_of="2025-08-01"):
    ids = CitationIds.of_process()
    rows = []
    for case in cases:
        evaluation = engine.evaluate(case, as_of=as_of)
        for r in evaluation.results:
            rows.append((case["case_id"], r.person, r.name,
                         orjson.dumps(r.json_value()).decode(),
                         [ids.id_of(c) for c in dated(r.citations, r.as_of)]))
    return rows


def rows_of(table):
    return [(r["case_id"], r["person"], r["name"], r["value"], r["citations"])
            for r in table.to_pylist()]


def test_evaluate_batch_rows_equal_evaluate_case_by_case(engine, cases):
    table = evaluate_batch(engine, cases, as_of="2025-08-01", chunk_rows=7)
    assert table.schema == results_schema("deciding")
    assert rows_of(table) == expected_rows(engine, cases)
    # a value is JSON text: exact decimals stay strings, codes are strings
    jones_like = [r for r in table.to_pylist() if r["name"] == "magi.household_income"]
    assert all(json.loads(r["value"]) == r["value"].strip('"') for r in jones_like)
    cited = {c for r in table.column("citations").to_pylist() for c in r}
    assert cited <= set(citation_table().column("id").to_pylist())


def test_arrow_input_as_json_text_or_as_nested_columns_gives_the_same_rows(engine, cases):
    as_text = pa.table({"case": [json.dumps(c) for c in cases]})
    nested = pa.Table.from_pylist(cases)          # people: list<struct>, nulls where a field is absent
    first = evaluate_record_batch(engine, as_text, as_of="2025-08-01")
    second = evaluate_record_batch(engine, nested.to_batches()[0], as_of="2025-08-01")
    assert first.equals(second)
    assert rows_of(pa.Table.from_batches([first])) == expected_rows(engine, cases)


def test_a_bad_case_is_one_error_row_and_the_others_are_evaluated(engine, cases):
    batch = evaluate_record_batch(engine, [cases[0], {"case_id": "bad", "people": []}, cases[1]],
                                  as_of="2025-08-01", citations="none", names=["eligibility.level_of_care"])
    rows = batch.to_pylist()
    errors = [r for r in rows if r["error"]]
    assert len(errors) == 1 and errors[0]["case_id"] == "bad" and errors[0]["name"] is None
    assert json.loads(errors[0]["error"])["code"] == "E201"
    assert {r["case_id"] for r in rows if not r["error"]} == {cases[0]["case_id"], cases[1]["case_id"]}
    assert "citations" not in batch.schema.names


def without_nulls(citation: dict) -> dict:
    """An Arrow citation struct as a JSON object: null fields (and a null ``formerly``) left out."""
    return {k: without_nulls(v) if isinstance(v, dict) else v
            for k, v in citation.items() if v is not None}


def test_full_citations_are_structs_like_policy_eval(engine, cases):
    batch = evaluate_record_batch(engine, cases[:2], as_of="2025-08-01", citations="full", because=True)
    first = batch.to_pylist()[0]
    result = engine.evaluate(cases[0], as_of="2025-08-01").results[0]
    assert [without_nulls(c) for c in first["citations"]] == result.as_dict()["citations"]
    # an archived manual's section is one struct: the successor carrying it as `formerly`
    assert first["citations"][0]["formerly"]["source"].startswith("Family MO HealthNet (MAGI) Manual")
    assert first["because"] == result.because


def test_policy_batch_parquet_holds_the_same_results_as_jsonl(cases, tmp_path):
    from engine.cli.app import app
    source = tmp_path / "cases.jsonl"
    source.write_text("\n".join(json.dumps(c) for c in cases) + "\n")
    jsonl, parquet = tmp_path / "r.jsonl", tmp_path / "r.parquet"
    # Parquet writes every result, null values too: JSONL does with --nulls
    for out, extra in ((jsonl, ["--nulls"]), (parquet, ["--format", "parquet", "--workers", "2"])):
        result = runner.invoke(app, ["batch", str(source), "--out", str(out), "--as-of", "2025-08-01",
                                     "--policy", str(POLICY), *extra])
        assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cases.jsonl", "r.jsonl", "r.jsonl.citations.json", "r.parquet", "r.parquet.citations.parquet"]
    from_jsonl = [(rec["case_id"], r["person"], r["name"], json.dumps(r["value"], separators=(",", ":")),
                   r["citations"])
                  for rec in map(json.loads, jsonl.read_text().splitlines()) for r in rec["results"]]
    assert rows_of(pq.read_table(parquet)) == from_jsonl
    table = pq.read_table(str(parquet) + ".citations.parquet").to_pylist()
    assert {row["id"]: without_nulls({k: v for k, v in row.items() if k != "id"}) for row in table} == \
           json.loads((tmp_path / "r.jsonl.citations.json").read_text())
