"""Deciding citations of what an aggregate's filter or value reads for each member.

The marks an ``and``/``or`` makes while a member is in scope belong to the frame of the value
being computed, like any other: an ``or`` in a filter that is true by its second operand is
decided by that operand alone, for that member (``docs/language.md`` section 2). Both
evaluators; the columnar plan is held to the same citations in ``tests/tools/test_columnar.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine

FIXTURE = Path(__file__).parent / "fixtures" / "deciding"


@pytest.fixture(scope="module", params=[False, True], ids=["closures", "simpleeval"])
def engine(request):
    return Engine.load(FIXTURE, reference=request.param)


def counted(engine, *amounts):
    people = [{"id": f"p{i}", "age": 10, "transfer_value": a} for i, a in enumerate(amounts)]
    evaluation = engine.evaluate({"case_id": "t", "people": people}, as_of="2025-01-01",
                                 names=["d.counted_either"])
    result = evaluation.find("d.counted_either", None)
    return result.value, [c.section for c in result.citations]


def test_a_filter_true_by_its_second_operand_is_decided_by_it_alone(engine):
    # 150 is above limit_a (100) and within limit_b: under_b alone kept the member.
    assert counted(engine, 150) == (1, ["rule counted_either", "rule under_b",
                                        "parameter limit_b"])


def test_a_filter_true_by_its_first_operand_does_not_cite_the_second(engine):
    assert counted(engine, 50) == (1, ["rule counted_either", "rule under_a",
                                       "limit_a from 2020", "parameter limit_a"])


def test_a_false_filter_is_decided_by_every_operand(engine):
    assert counted(engine, 500, 150) == (1, [
        "rule counted_either", "rule under_a", "limit_a from 2020", "parameter limit_a",
        "rule under_b", "parameter limit_b"])
