"""The columnar evaluator against the per-case evaluator: same values, same citations, same errors.

The per-case evaluator is the reference. Every generated household (``households.py``: MAGI
levels of care, CHIP premiums, Medicare Savings Programs, Ticket to Work, MHABD) is evaluated
both ways; each result must agree on its name, person, value as printed, its deciding citations
in order (``Result.citations``), and its read-set (both sides through ``citations.ordered``: the
per-case results by ``trace.collect_citations``, the columnar ones by
``columnar.result_citations``) with the mask and own citations behind it.
"""

from __future__ import annotations

import copy
import datetime as dt
import json

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from engine.errors import PolicyError
from engine.runtime.columnar import ColumnarStats, evaluate_cases, plan_coverage
from engine.runtime.results import json_value
from engine.runtime.trace import citation_mask, collect_citations
from engine.tools.arrow_batch import evaluate_record_batch
from engine.tools.batch import Task
from engine.tools.columnar_batch import evaluate_chunk, evaluator_for

from .conftest import POLICY
from .households import household, households

ON = dt.date(2025, 8, 1)


@pytest.fixture(scope="module")
def engine():
    from engine import Engine
    return Engine.load(POLICY)


def _per_case_rows(evaluation):
    return [(r.name, r.person, json_value(r.shown_value), collect_citations(r.node),
             r.node.own_citations, citation_mask(r.node), r.citations)
            for r in evaluation.results]


def _columnar_rows(evaluation):
    return [(r.name, r.person, json_value(r.shown_value), r.provenance, r.own, r.mask,
             r.citations) for r in evaluation.results]


def test_columnar_equals_per_case_on_generated_households(engine):
    data = households(1500, seed=2026)
    cases = [engine.read_case(h) for h in data]
    stats = ColumnarStats()
    columnar = evaluate_cases(engine, cases, ON, stats=stats)
    assert stats.cases == 1500 and stats.fallback_cases == 0 and stats.columnar_cases == 1500
    mismatches, produced = [], set()
    for h, got in zip(data, columnar):
        expected = _per_case_rows(engine.evaluate(h, as_of=ON))
        rows = _columnar_rows(got)
        if rows != expected:
            mismatches.append(h["case_id"])
        produced.update(row[0] for row in rows)
    assert mismatches == []
    # every program's outputs were reached (not only the MAGI chain)
    namespaces = {name.split(".")[0] for name in produced}
    outputs = {r.name.split(".")[0] for r in engine.program.rules.values() if r.output}
    assert namespaces == outputs
    assert {"eligibility.level_of_care", "chip.premium", "msp.level", "twha.eligible"} & produced


def test_only_names_and_a_date_override_agree(engine):
    data = households(200, seed=5)
    names = ["eligibility.level_of_care", "magi.household_income", "chip.premium"]
    names = [n for n in names if n in engine.program.rules]
    on = dt.date(2024, 3, 1)
    got = evaluate_cases(engine, [engine.read_case(h) for h in data], on, names=names)
    for h, evaluation in zip(data, got):
        expected = engine.evaluate(h, as_of=on, names=names)
        assert _columnar_rows(evaluation) == _per_case_rows(expected)


def test_a_case_the_plan_cannot_finish_goes_to_the_per_case_evaluator(engine):
    good = households(3, seed=9)
    broken = copy.deepcopy(good[1])
    broken["case_id"] = "no-age"
    del broken["people"][0]["age"]          # magi.age_years cannot be decided (E429)
    tasks = [Task(f"t:{i + 1}", "data", c) for i, c in enumerate([good[0], broken, good[2]])]
    stats = ColumnarStats()
    out = evaluate_chunk(engine, tasks, None, None, stats)
    assert stats.fallback_cases == 1 and stats.columnar_cases == 2
    evaluation, error, case_id = out[1]
    assert evaluation is None and case_id == "no-age"
    with pytest.raises(PolicyError) as expected:
        engine.evaluate(broken)
    assert error.problem.as_dict() == expected.value.problem.as_dict()
    assert error.problem.code == "E429"
    for position in (0, 2):
        assert _columnar_rows(out[position][0]) == _per_case_rows(engine.evaluate(good[position]))


def test_record_batches_are_the_same_with_either_evaluator(engine):
    data = households(120, seed=31) + [{"case_id": "bad", "people": "not a list"}]
    table = pa.table({"case": [json.dumps(c) for c in data]})
    columnar = evaluate_record_batch(engine, table, citations="none")
    per_case = evaluate_record_batch(engine, table, citations="none", evaluator="per-case")
    assert columnar.to_pylist() == per_case.to_pylist()
    assert columnar.num_rows > 120 * 10


def test_a_run_with_deciding_citations_uses_the_plan_and_one_with_reasons_per_case():
    """The plan gives every result its deciding citations, so a run that writes citations (as
    ids or in full) uses it; reasons come from the per-case trace."""
    assert evaluator_for("columnar", False, "none") == "columnar"
    assert evaluator_for("columnar", False, "deciding") == "columnar"
    assert evaluator_for("columnar", False, "full") == "columnar"
    assert evaluator_for("per-case", False, "deciding") == "per-case"
    assert evaluator_for("columnar", True, "none") == "per-case"
    assert evaluator_for("columnar", True, "deciding") == "per-case"


def test_deciding_citations_of_the_plan_equal_the_per_case_results(engine):
    """Each result's deciding citations, in order (deciding section, inputs, failed earlier
    branches, general citation; a result read by another brings only its deciding section),
    as ``Result.citations`` gives them, on households covering every program."""
    data = households(1600, seed=2027)
    stats = ColumnarStats()
    got = evaluate_cases(engine, [engine.read_case(h) for h in data], ON, stats=stats,
                         citations=True)
    assert stats.columnar_cases == 1600 and stats.fallback_cases == 0
    assert stats.citation_fallbacks == 0
    mismatches, produced, compared = [], set(), 0
    for h, evaluation in zip(data, got):
        expected = engine.evaluate(h, as_of=ON).results
        pairs = [((r.name, r.person, r.citations), (c.name, c.person, c.citations))
                 for r, c in zip(expected, evaluation.results)]
        if len(expected) != len(evaluation.results) or any(a != b for a, b in pairs):
            mismatches.append(h["case_id"])
        compared += len(pairs)
        produced.update(r.name for r in evaluation.results)
    assert mismatches == []
    assert compared > 1600 * 10
    outputs = {r.name.split(".")[0] for r in engine.program.rules.values() if r.output}
    assert {name.split(".")[0] for name in produced} == outputs
    # the deciding lists are shorter than what was read: the plan does select
    assert any(len(c.citations) < len(c.provenance) for e in got for c in e.results)


def test_a_table_the_plan_cannot_cite_goes_per_case_for_its_citations(engine, monkeypatch):
    """Where the plan cannot tell what decided (a decision-table cell that reads a cited
    value), a run with citations gives the case to the per-case evaluator, counted apart; the
    output is the same. Values alone still use the plan."""
    import engine.runtime.columnar as columnar
    monkeypatch.setattr(columnar, "_cells_cite", lambda body: True)
    data = households(60, seed=21)
    tasks = [Task(f"t:{i + 1}", "data", c) for i, c in enumerate(data)]
    stats = ColumnarStats()
    out = evaluate_chunk(engine, tasks, None, None, stats, citations=True)
    assert stats.citation_fallbacks == stats.fallback_cases == 60 and stats.columnar_cases == 0
    for h, (evaluation, error, _) in zip(data, out):
        assert error is None
        expected = engine.evaluate(h)
        assert [(r.name, r.person, r.citations) for r in evaluation.results] == \
            [(r.name, r.person, r.citations) for r in expected.results]
    values_only = ColumnarStats()
    evaluate_chunk(engine, tasks, None, None, values_only, citations=False)
    assert values_only.fallback_cases == 0 and values_only.citation_fallbacks == 0


def test_policy_batch_with_deciding_citations_is_the_same_with_either_evaluator(tmp_path):
    from engine.cli.app import app
    runner = CliRunner()
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(c) + "\n" for c in households(150, seed=41)))
    written = {}
    for evaluator in ("columnar", "per-case"):
        out = tmp_path / f"{evaluator}.jsonl"
        result = runner.invoke(app, ["batch", str(cases), "--out", str(out), "--citations",
                                     "deciding", "--evaluator", evaluator,
                                     "--policy", str(POLICY)])
        assert result.exit_code == 0, result.output
        table = tmp_path / f"{evaluator}.jsonl.citations.json"
        written[evaluator] = (out.read_bytes(), table.read_bytes() if table.exists() else None)
    assert written["columnar"] == written["per-case"]
    assert b'"citations":[' in written["columnar"][0]


def test_every_rule_has_a_plan(engine):
    coverage = plan_coverage(engine.program)
    assert sorted(coverage["vectorised"] + coverage["per_entity"]) == sorted(engine.program.rules)
    assert coverage["per_entity"] == []      # today every rule body kind is computed as a column


def test_policy_batch_values_equal_policy_eval(tmp_path):
    from engine.cli.app import app
    runner = CliRunner()
    rng_cases = households(25, seed=77)
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(c) + "\n" for c in rng_cases))
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["batch", str(cases), "--out", str(out), "--citations", "full",
                                 "--policy", str(POLICY)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    plan, reference = tmp_path / "plan.jsonl", tmp_path / "ref.jsonl"
    for path, evaluator in ((plan, "columnar"), (reference, "per-case")):
        result = runner.invoke(app, ["batch", str(cases), "--out", str(path), "--citations",
                                     "none", "--evaluator", evaluator, "--policy", str(POLICY)])
        assert result.exit_code == 0, result.output
    assert plan.read_bytes() == reference.read_bytes()
    for case, line in zip(rng_cases[:8], lines):
        single = tmp_path / f"{case['case_id']}.json"
        single.write_text(json.dumps(case))
        shown = runner.invoke(app, ["eval", str(single), "--format", "json",
                                    "--policy", str(POLICY)])
        assert shown.exit_code == 0, shown.output
        evaluated = json.loads(shown.stdout)
        assert [(r["name"], r["person"], r["value"]) for r in evaluated["results"]] == \
            [(r["name"], r["person"], r["value"]) for r in line["results"]]
        assert [r["citations"] for r in evaluated["results"]] == \
            [r["citations"] for r in line["results"]]


def test_one_generated_household_of_each_shape_is_deterministic(engine):
    import random
    rng = random.Random(4)
    data = [household(rng, i) for i in range(40)]
    first = evaluate_cases(engine, [engine.read_case(h) for h in data], ON)
    again = evaluate_cases(engine, [engine.read_case(h) for h in reversed(data)], ON)
    assert [_columnar_rows(e) for e in first] == [_columnar_rows(e) for e in reversed(again)]


def test_policy_batch_counts_the_cases_given_to_the_per_case_evaluator(tmp_path):
    from engine.cli.app import app
    data = households(3, seed=8)
    broken = copy.deepcopy(data[0])
    broken["case_id"] = "no-age"
    del broken["people"][0]["age"]
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(c) + "\n" for c in data + [broken]))
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["batch", str(cases), "--out", str(out), "--citations",
                                      "none", "--policy", str(POLICY)])
    assert result.exit_code == 1
    assert "3 case(s) by the plan, 1 by the per-case evaluator" in result.output
    last = json.loads(out.read_text().splitlines()[-1])
    assert last["case_id"] == "no-age" and last["error"]["code"] == "E429"


def test_a_chunk_without_incomes_or_with_one_person(engine):
    data = households(60, seed=3)
    for case in data:
        for person in case["people"]:
            person["incomes"] = []
    alone = {"case_id": "alone", "people": [{"id": "a", "age": 70, "medicare": True}]}
    for chunk in (data, [alone]):
        got = evaluate_cases(engine, [engine.read_case(c) for c in chunk], ON)
        for case, evaluation in zip(chunk, got):
            assert _columnar_rows(evaluation) == _per_case_rows(engine.evaluate(case, as_of=ON))


def test_a_rule_the_plan_does_not_vectorise_is_computed_per_entity_inside_it(engine, monkeypatch):
    import engine.runtime.columnar as columnar
    monkeypatch.setattr(columnar, "VECTORISED_BODIES", ("formula", "aggregate"))
    data = households(80, seed=12)
    stats = ColumnarStats()
    got = evaluate_cases(engine, [engine.read_case(h) for h in data], ON, stats=stats)
    assert "eligibility.why_not" in stats.rules_per_entity          # a decision table
    assert "eligibility.level_of_care" in stats.rules_per_entity    # conditions
    assert stats.fallback_cases == 0
    for h, evaluation in zip(data, got):
        assert _columnar_rows(evaluation) == _per_case_rows(engine.evaluate(h, as_of=ON))


def test_every_rule_alone_agrees_with_the_per_case_evaluator(engine):
    """Not only the outputs: each of the rulebooks' rules alone (``names=[rule]``), so that the
    rules only other rules read (actions, deadlines, notices' inputs) are compared too."""
    data = households(40, seed=99)
    cases = [engine.read_case(h) for h in data]
    for name in sorted(engine.program.rules):
        got = evaluate_cases(engine, cases, ON, names=[name])
        for h, evaluation in zip(data, got):
            try:
                expected = engine.evaluate(h, as_of=ON, names=[name])
            except PolicyError:
                assert evaluation is None, name
                continue
            assert evaluation is not None, name
            assert _columnar_rows(evaluation) == _per_case_rows(expected), name
