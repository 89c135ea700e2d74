"""engine.api: what an embedding program gives Engine.evaluate and what it gets back."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from engine import EvaluationError, InputError

from .helpers import CASES, case, engine, income, person, problem

D = Decimal


def python_case(**extra) -> dict:
    return {
        "case_id": "api",
        "as_of": dt.date(2024, 6, 1),
        "people": [
            {"id": "p", "age": 20, "date_of_birth": dt.date(2004, 2, 29),
             "incomes": [{"type": "wages", "amount": 1993.18, "frequency": "monthly"},
                         {"type": "wages", "amount": 0.1, "frequency": "monthly"}]},
        ],
        **extra,
    }


def test_python_floats_are_read_as_the_decimals_they_print_as():
    ev = engine("household").evaluate(python_case(), names=["hh.monthly_income"])
    value = ev.value("hh.monthly_income", "p")
    assert type(value) is Decimal
    assert value == D("1993.28")                 # 1993.18 + 0.1 exactly, not binary floats


def test_python_dates_are_accepted_as_facts_and_as_of():
    ev = engine("household").evaluate(python_case(), names=["hh.age_from_birth"])
    assert ev.as_of == dt.date(2024, 6, 1)
    assert ev.value("hh.age_from_birth", "p") == 20
    # A Feb 29 birthday is reached on March 1 in a common year.
    data = python_case(as_of=dt.date(2025, 2, 28))
    assert engine("household").evaluate(data, names=["hh.age_from_birth"]).value(
        "hh.age_from_birth", "p") == 20
    data = python_case(as_of=dt.datetime(2025, 3, 1, 9, 30))
    assert engine("household").evaluate(data, names=["hh.age_from_birth"]).value(
        "hh.age_from_birth", "p") == 21


def test_the_case_as_of_is_used_when_none_is_given():
    single = case(person("solo", age=40), as_of="2023-06-01")
    ev = engine("household").evaluate(single, names=["hh.income_limit"])
    assert ev.as_of == dt.date(2023, 6, 1)
    assert ev.value("hh.income_limit", "solo") == 1500        # 12000 x 1.5 / 12


@pytest.mark.parametrize("explicit", ["2024-06-01", dt.date(2024, 6, 1)])
def test_an_explicit_as_of_wins_over_the_case(explicit):
    single = case(person("solo", age=40), as_of="2023-06-01")
    ev = engine("household").evaluate(single, as_of=explicit, names=["hh.income_limit"])
    assert ev.as_of == dt.date(2024, 6, 1)
    assert ev.value("hh.income_limit", "solo") == 1883        # 15060 x 1.5 / 12 = 1882.5, up
    assert ev.find("hh.income_limit", "solo").as_of == dt.date(2024, 6, 1)


def test_as_of_from_a_case_file():
    ev = engine("household").evaluate(str(CASES / "missing_age.yaml"), names=["hh.household_size"])
    assert ev.case_id == "missing-age"
    assert ev.as_of == dt.date(2024, 6, 1)
    assert ev.value("hh.household_size", "adult") == 1


def test_without_any_as_of_today_is_used():
    before = dt.date.today()
    ev = engine("household").evaluate(case(person("x", age=1)), names=["hh.age_group"])
    assert before <= ev.as_of <= dt.date.today()


def test_an_invalid_as_of_is_e109():
    with pytest.raises(InputError) as excinfo:
        engine("household").evaluate(case(person("x", age=1)), as_of="2024-02-30")
    assert problem(excinfo, "E109")


def test_unknown_rule_name_is_e401():
    with pytest.raises(EvaluationError) as excinfo:
        engine("household").evaluate(case(person("x", age=1)), names=["hh.nope"])
    assert "hh.nope" in problem(excinfo, "E401").message


def test_default_results_are_the_output_rules_for_every_entity():
    ev = engine("household").evaluate(
        case(person("a", age=30, incomes=[income("10")]), person("b", age=3)), as_of="2024-06-01")
    assert [(r.name, r.person, r.value) for r in ev.results] == [
        ("hh.monthly_income", "a", D("10.00")), ("hh.monthly_income", "b", 0)]


def test_results_as_json_use_exact_strings():
    ev = engine("household").evaluate(python_case(), names=["hh.monthly_income", "hh.age_group"])
    data = json.loads(json.dumps(ev.as_dict()))
    assert data["case_id"] == "api" and data["as_of"] == "2024-06-01"
    values = {(r["name"], r["person"]): r["value"] for r in data["results"]}
    assert values[("hh.monthly_income", "p")] == "1993.28"
    assert values[("hh.age_group", "p")] == "ADULT"
    income_result = next(r for r in data["results"] if r["name"] == "hh.monthly_income")
    assert {"source": "Unit Test Manual", "section": "R.2"} in income_result["citations"]


def test_parameter_and_function_access():
    e = engine("household")
    assert e.parameter("hh.first_person", "2024-04-01").value == 15060
    assert e.parameter("hh.first_person", dt.date(2024, 3, 31)).value == 12000
    with pytest.raises(EvaluationError) as excinfo:
        e.parameter("hh.first_persn", "2024-04-01")
    assert "Did you mean hh.first_person?" in problem(excinfo, "E402").message
    assert e.call("hh.guideline", 3, as_of="2024-06-01").value == 15060 + 2 * 5380
    assert e.call("hh.monthly_limit", 150, 1, as_of="2024-06-01").value == 1883


def test_a_case_that_is_not_a_mapping_is_e411():
    with pytest.raises(EvaluationError) as excinfo:
        engine("household").evaluate(["not", "a", "case"])
    assert problem(excinfo, "E411")


def test_a_case_breaking_the_case_schema_is_a_schema_error():
    from engine import SchemaError
    with pytest.raises(SchemaError) as excinfo:
        engine("household").evaluate({"case_id": "x", "people": [{"id": "p", "age": "old"}]})
    p = problem(excinfo, "E201")
    assert "age" in (p.field or "") + p.message
