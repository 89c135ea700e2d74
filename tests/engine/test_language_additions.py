"""The language features added after the first cut: each through a small rulebook."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine, EvaluationError

FIXTURE = Path(__file__).parent / "fixtures" / "additions"


@pytest.fixture(scope="module", params=[False, True], ids=["closures", "simpleeval"])
def engine(request):
    return Engine.load(FIXTURE, reference=request.param)


def case(*people):
    return {"case_id": "t", "people": list(people)}


def test_value_on_reads_the_rate_in_force_on_the_application_date(engine):
    evaluation = engine.evaluate(case({"id": "a", "medicare": True, "application_date": "2025-03-31", "age": 80},
                                      {"id": "b", "medicare": True, "application_date": "2025-04-01", "age": 81}),
                                 as_of="2026-01-01")
    assert evaluation.value("t.rate_at_application", "a") == 7536   # IM-12 2024 rate
    assert evaluation.value("t.rate_at_application", "b") == 7909   # IM-14 2025 rate
    assert [c.section for c in evaluation.find("t.rate_at_application", "a").citations] == ["Appendix J"]


def test_value_on_before_the_first_value_names_the_parameter_and_date(engine):
    with pytest.raises(EvaluationError) as raised:
        engine.evaluate(case({"id": "a", "medicare": True, "application_date": "2020-01-01", "age": 80}),
                        as_of="2026-01-01")
    assert raised.value.problem.code == "E430"
    assert "t.rate has no value on 2020-01-01" in raised.value.problem.message


def test_output_when_lists_the_result_only_where_true(engine):
    evaluation = engine.evaluate(case({"id": "a", "medicare": True, "application_date": "2025-06-01", "age": 70},
                                      {"id": "b", "age": 40}), as_of="2025-06-01")
    assert evaluation.find("t.rate_at_application", "a") is not None
    assert evaluation.find("t.rate_at_application", "b") is None
    assert evaluation.value("t.checked_age", "b") == 40      # other outputs still listed for b


def test_in_force_tells_whether_a_parameter_has_a_value(engine):
    person = {"id": "a", "age": 30}
    assert engine.evaluate(case(person), as_of="2024-12-31").value("t.program_exists") is False
    assert engine.evaluate(case(person), as_of="2025-01-01").value("t.program_exists") is True


def test_intersects_and_first_find_siblings(engine):
    evaluation = engine.evaluate(case({"id": "mom", "age": 35}, {"id": "x", "age": 10, "parents": ["mom"]},
                                      {"id": "y", "age": 7, "parents": ["dad", "mom"]},
                                      {"id": "z", "age": 3, "parents": ["other"]}), as_of="2025-06-01")
    assert evaluation.value("t.has_sibling", "x") is True
    assert evaluation.value("t.has_sibling", "z") is False
    assert evaluation.value("t.eldest_sibling_age", "y") == 10    # the first member who shares a parent
    assert evaluation.value("t.eldest_sibling_age", "z") == -1    # the default when none does


def test_error_stops_with_the_rulebooks_own_reason(engine):
    with pytest.raises(EvaluationError) as raised:
        engine.evaluate(case({"id": "a"}), as_of="2025-06-01")
    assert raised.value.problem.code == "E429"
    assert "the case gives no age" in raised.value.problem.message
    assert "t.checked_age" in raised.value.problem.message


def test_a_reference_to_nobody_in_the_case_is_refused():
    """policy/case.yaml declares spouse and parents as `references: person`."""
    from engine import CaseError
    engine = Engine.load(Path(__file__).resolve().parents[2] / "policy")
    with pytest.raises(CaseError) as raised:
        engine.evaluate({"case_id": "r", "people": [{"id": "kid", "age": 4, "parents": ["mom", "dad"]},
                                                     {"id": "mom", "age": 30}]}, as_of="2025-06-01")
    problem = raised.value.problem
    assert problem.code == "E417"
    assert "'dad'" in problem.message and problem.field == "people[0].parents"


def test_money_results_exact_to_the_cent_print_with_two_decimals():
    from decimal import Decimal
    from engine.runtime.results import cents
    assert str(cents(Decimal("405.0"))) == "405.00"
    assert str(cents(Decimal("1305.000"))) == "1305.00"
    assert str(cents(Decimal("242"))) == "242"              # whole dollars stay whole
    assert str(cents(Decimal("1305.005"))) == "1305.005"    # never rounded for display
