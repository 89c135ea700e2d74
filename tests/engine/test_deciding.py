"""Deciding citations (engine/deciding.py) on a small rulebook whose every rule, branch, row and
parameter cites a section of its own, in both evaluators (closures and simpleeval's tree walk)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from engine.model.citations import citation_by_id, citation_id

FIXTURE = Path(__file__).parent / "fixtures" / "deciding"


@pytest.fixture(scope="module", params=[False, True], ids=["closures", "simpleeval"])
def engine(request):
    return Engine.load(FIXTURE, reference=request.param)


def cited(engine, people, name, person="p"):
    evaluation = engine.evaluate({"case_id": "t", "people": people}, as_of="2025-01-01")
    result = evaluation.find(f"d.{name}", person)
    return result.value, [c.section for c in result.citations]


def adult(amount, **facts):
    return {"id": "p", "age": 30, "transfer_value": amount, **facts}


def child(amount, **facts):
    return {"id": "p", "age": 10, "transfer_value": amount, **facts}


def test_the_branch_that_gave_the_value_comes_first_and_the_rule_last(engine):
    assert cited(engine, [child(50)], "level") == (
        "A", ["branch A", "rule young", "rule under_a", "limit_a from 2020", "parameter limit_a",
              "rule level"])


def test_an_earlier_branch_is_cited_by_what_made_it_fail(engine):
    # `young and under_a` failed on `young` for an adult: under_a was never read.
    assert cited(engine, [adult(150)], "level") == (
        "B", ["branch B", "rule under_b", "parameter limit_b", "rule young", "rule level"])
    # For a child it failed on `under_a`: `young` held and did not make it fail.
    assert cited(engine, [child(150)], "level") == (
        "B", ["branch B", "rule under_b", "parameter limit_b", "rule under_a", "rule level"])


def test_a_branch_without_a_citation_has_the_rules(engine):
    value, sections = cited(engine, [adult(250)], "level")
    assert value == "C"
    assert sections == ["rule level", "rule under_c", "parameter limit_c", "rule young", "rule under_b"]
    value, sections = cited(engine, [adult(400)], "level")
    assert (value, sections) == ("NONE", ["rule level", "rule young", "rule under_b", "rule under_c"])


def test_or_is_decided_by_its_first_true_operand_or_by_all_when_false(engine):
    assert cited(engine, [child(50)], "either")[1] == ["rule either", "rule under_a",
                                                       "limit_a from 2020", "parameter limit_a"]
    assert cited(engine, [child(150)], "either")[1] == ["rule either", "rule under_b",
                                                        "parameter limit_b"]
    assert cited(engine, [adult(400)], "either")[1] == [
        "rule either", "rule under_a", "limit_a from 2020", "parameter limit_a", "rule under_b",
        "parameter limit_b"]


def test_max_is_decided_by_the_argument_it_gives(engine):
    assert cited(engine, [child(50)], "highest") == (
        100, ["rule highest", "rule young", "limit_a from 2020", "parameter limit_a"])
    assert cited(engine, [child(50, pregnant=True)], "highest") == (200, ["rule highest",
                                                                          "parameter limit_b"])


def test_a_true_any_is_decided_by_its_first_true_member(engine):
    people = [adult(500), {"id": "q", "age": 10}]
    assert cited(engine, people, "any_young", None) == (True, ["rule any_young", "rule young"])
    # False: every member decided.
    assert cited(engine, [adult(500)], "any_young", None) == (
        False, ["rule any_young", "rule under_a", "limit_a from 2020", "parameter limit_a"])


def test_a_decision_table_row_cites_the_inputs_it_tested(engine):
    assert cited(engine, [child(150)], "table_level") == (
        "YB", ["row YB", "rule young", "rule under_b", "parameter limit_b", "rule table_level"])
    # The first row failed on `y` (young), the second matched on `b` alone.
    assert cited(engine, [adult(150)], "table_level") == (
        "B", ["row B", "rule under_b", "parameter limit_b", "rule young", "rule table_level"])
    assert cited(engine, [adult(400)], "table_level") == (
        "NONE", ["rule table_level", "rule young", "rule under_b"])


def test_a_result_read_by_another_rule_brings_its_deciding_section(engine):
    # level is an output of its own: uses_level cites the section that decided level (branch B),
    # not what decided level in turn, nor why level's first branch failed (under_a).
    assert cited(engine, [child(150)], "uses_level") == (True, ["rule uses_level", "branch B"])


def test_a_value_that_is_not_a_result_brings_everything_that_decided_it(engine):
    # under_b is no output: what decided it (its parameter) is folded into `either`.
    assert cited(engine, [child(150)], "either")[1] == ["rule either", "rule under_b",
                                                        "parameter limit_b"]


def test_provenance_keeps_everything_read(engine):
    evaluation = engine.evaluate({"case_id": "t", "people": [child(150)]}, as_of="2025-01-01")
    result = evaluation.find("d.uses_level", "p")
    read = [c.section for c in result.provenance]
    assert "rule under_a" in read and "rule young" in read
    data = result.as_dict(provenance=True)
    assert [c["section"] for c in data["citations"]] == [c.section for c in result.citations]
    assert [c["section"] for c in data["provenance"]] == read
    assert "provenance" not in result.as_dict()
    assert "provenance" in result.as_dict(explain=True)


def test_citation_ids_resolve_to_the_citations(engine):
    evaluation = engine.evaluate({"case_id": "t", "people": [child(50)]}, as_of="2025-01-01")
    result = evaluation.find("d.level", "p")
    ids = result.citation_ids
    assert len(set(ids)) == len(ids)
    assert [citation_by_id(i) for i in ids] == list(result.citations)
    assert [citation_id(c) for c in result.citations] == ids
    with pytest.raises(IndexError):
        citation_by_id(-1)


def test_test_cases_assert_the_first_and_the_excluded_citations(engine):
    from engine.tools.testing import YamlTest, run_test

    def outcome(**assertions):
        spec = {"name": "t", "as_of": "2025-01-01",
                "case": {"case_id": "t", "people": [child(150)]},
                "expect": [{"name": "d.level", "person": "p", "value": "B", **assertions}]}
        return run_test(engine, YamlTest("t", "t.yaml", 1, spec))

    assert outcome(citations_first="branch B").passed
    assert outcome(citations_first=["branch B", "limit_b", "rule level"],
                   citations_exclude=["rule young", "limit_a"]).passed
    failed = outcome(citations_first="rule level")
    assert failed.failures == ["d.level for p: the first citation should name 'rule level', but "
                               "it is Deciding test, branch B."]
    failed = outcome(citations_first=["branch B", "rule level", "limit_b"])
    assert "no citation naming 'limit_b' follows the one naming 'rule level' (it comes before it)." \
        in failed.failures[0]
    failed = outcome(citations_exclude=["under_a"])
    assert failed.failures == ["d.level for p: cites Deciding test, rule under_a, which names "
                               "'under_a'; it should not decide this result."]


def test_table_cells_that_read_cited_values(engine):
    assert cited(engine, [child(50)], "table_cells") == (
        "YA", ["row YA", "rule young", "limit_a from 2020", "parameter limit_a", "rule table_cells"])
    # The first row failed on `young`; the second matched on its limit.
    assert cited(engine, [adult(150)], "table_cells") == (
        "B", ["row B2", "parameter limit_b", "rule young", "rule table_cells"])
    # The first row failed on its limit (young held, and decides nothing here).
    assert cited(engine, [child(150)], "table_cells") == (
        "B", ["row B2", "parameter limit_b", "limit_a from 2020", "parameter limit_a",
              "rule table_cells"])
