"""Transparent tests (``transparent: true``): one level's test written as a rule of its own, cited
when it fails as if its formula were written in the condition that read it.

``eligibility.level_of_care`` composes one test per level of care (``mhk_test``, ``chip_75_test``
...). Splitting a condition out into a rule must not change what a result cites: an adult's
AEG is "not CHIP because not a child", decided by the child definition, not by the CHIP section.
The small rulebook in ``fixtures/transparent`` writes the same first-match rule inline, with a
transparent test and with an ordinary rule, for the per-case evaluator (closures and
simpleeval's tree walk) and the columnar plan.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine import Engine
from engine.runtime.columnar import evaluate_cases

FIXTURE = Path(__file__).parent / "fixtures" / "transparent"
ON = dt.date(2025, 1, 1)

ADULT_150 = {"id": "p", "age": 30, "transfer_value": 150}     # fails the A test on `young`
CHILD_150 = {"id": "p", "age": 10, "transfer_value": 150}     # fails it on `under_a`
CHILD_50 = {"id": "p", "age": 10, "transfer_value": 50}       # passes it
PEOPLE = [ADULT_150, CHILD_150, CHILD_50, {"id": "p", "age": 30, "transfer_value": 500}]


@pytest.fixture(scope="module", params=[False, True], ids=["closures", "simpleeval"])
def engine(request):
    return Engine.load(FIXTURE, reference=request.param)


def cited(engine, person, name):
    evaluation = engine.evaluate({"case_id": "t", "people": [person]}, as_of=ON)
    result = evaluation.find(f"tr.{name}", "p")
    return result.value, [c.section for c in result.citations]


@pytest.mark.parametrize("person", [ADULT_150, CHILD_150], ids=["adult", "child"])
def test_a_failing_transparent_test_cites_what_made_it_fail_as_inline(engine, person):
    inline = cited(engine, person, "inline")
    assert inline[0] == "B"
    assert cited(engine, person, "split") == inline
    assert cited(engine, person, "deep_level") == inline      # through three transparent tests


def test_the_values_are_those_of_the_inline_condition(engine):
    for person in PEOPLE:
        value = cited(engine, person, "inline")[0]
        assert cited(engine, person, "split")[0] == cited(engine, person, "opaque")[0] == value


def test_an_ordinary_rule_is_cited_by_its_own_section_instead(engine):
    assert cited(engine, ADULT_150, "inline") == (
        "B", ["branch B", "rule under_b", "parameter limit_b", "rule young", "rule level"])
    assert cited(engine, ADULT_150, "opaque") == (
        "B", ["branch B", "rule under_b", "parameter limit_b", "test A", "rule level"])
    assert cited(engine, CHILD_150, "split")[1][-2] == "rule under_a"


def test_a_passing_test_is_cited_after_the_branch_then_what_it_read(engine):
    assert cited(engine, CHILD_50, "inline") == (
        "A", ["branch A", "rule young", "rule under_a", "parameter limit_a", "rule level"])
    assert cited(engine, CHILD_50, "split") == (
        "A", ["branch A", "test A", "rule young", "rule under_a", "parameter limit_a",
              "rule level"])


def test_a_because_text_finds_the_values_read_inside_transparent_tests(engine):
    evaluation = engine.evaluate({"case_id": "t", "people": [CHILD_50]}, as_of=ON)
    assert evaluation.find("tr.deep_level", "p").because == "p has $50, within $100."


def test_the_columnar_plan_cites_the_same():
    engine = Engine.load(FIXTURE)
    data = [{"case_id": f"c{i}", "people": [person]} for i, person in enumerate(PEOPLE)]
    cases = [engine.read_case(d) for d in data]
    for d, got in zip(data, evaluate_cases(engine, cases, ON)):
        assert got is not None, "the plan should finish every case of this rulebook"
        expected = engine.evaluate(d, as_of=ON)
        assert [(r.name, r.value, [c.section for c in r.citations]) for r in got.results] == \
            [(r.name, r.value, [c.section for c in r.citations]) for r in expected.results]
