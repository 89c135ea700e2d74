"""The bounds on numbers, texts and dates, and the household checks, at their edges.

The hostile corpus (tests/hostile/) shows each class refused end to end; these tests pin the
exact boundaries: the largest number accepted and the smallest refused, a birth on the
evaluation date itself, an age that agrees, relations that are fine.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from engine import Engine, PolicyError
from engine.language.builtins import BUILTINS, MAX_TEXT
from engine.language.dates import parse_date, why_not_a_date
from engine.language.numbers import (MAX_FRACTION_DIGITS, MAX_WHOLE_DIGITS, NotANumber, check_magnitude,
                            to_decimal)
from engine.io.yaml_loader import loads

from .helpers import REPOSITORY

text = BUILTINS["text"].function


@pytest.fixture(scope="module")
def missouri():
    return Engine.load(REPOSITORY / "policy")


# -- numbers -----------------------------------------------------------------------------------

def test_the_largest_whole_number_is_accepted_and_the_next_refused():
    largest = 10 ** MAX_WHOLE_DIGITS - 1
    check_magnitude(largest)
    check_magnitude(-largest)
    check_magnitude(Decimal(largest) + Decimal("0.99"))
    for too_large in (10 ** MAX_WHOLE_DIGITS, -(10 ** MAX_WHOLE_DIGITS), Decimal("1e15"),
                      Decimal("1e999999999"), 2 ** 20000):
        with pytest.raises(NotANumber, match="too large"):
            check_magnitude(too_large)


def test_decimal_places_are_bounded_too():
    check_magnitude(Decimal("0." + "0" * (MAX_FRACTION_DIGITS - 1) + "1"))
    with pytest.raises(NotANumber, match="decimal places"):
        check_magnitude(Decimal("0." + "0" * MAX_FRACTION_DIGITS + "1"))
    with pytest.raises(NotANumber):
        check_magnitude(Decimal("1e-999999999"))


def test_text_to_decimal_is_bounded_by_magnitude():
    assert to_decimal("999999999999999.99") == Decimal("999999999999999.99")
    with pytest.raises(NotANumber):
        to_decimal("1e999999999")
    with pytest.raises(NotANumber):
        to_decimal("9" * 5000)


@pytest.mark.parametrize("written, code", [
    ("a: " + "9" * 5000, "E105"),
    ("a: 1.0e+999999999", "E105"),
    ("a: !!float 'NaN'", "E105"),
    ("a: !!float 'Infinity'", "E105"),
    ("a: 1000000000000000", "E105"),
    ("a: 2025-02-30", "E109"),
])
def test_yaml_numbers_beyond_policy_are_located_errors(written, code):
    with pytest.raises(PolicyError) as excinfo:
        loads("x: 1\n" + written + "\n", "n.yaml")
    problem = excinfo.value.problem
    assert (problem.code, problem.file, problem.line) == (code, "n.yaml", 2)
    assert len(problem.message) < 300          # the 5,000 digits are not repeated


def test_yaml_numbers_within_policy_are_read_exactly():
    data = loads("a: 999999999999999\nb: 1305.01\nc: -0.05\n")
    assert data == {"a": 999999999999999, "b": Decimal("1305.01"), "c": Decimal("-0.05")}


def test_text_is_bounded_before_it_is_built():
    assert text(Decimal("1E+50")) == "1" + "0" * 50
    with pytest.raises(ValueError, match=f"{MAX_TEXT:,}"):
        text(Decimal("1e999999999"))           # refused without writing a billion zeros
    with pytest.raises(ValueError, match=f"{MAX_TEXT:,}"):
        text(["x" * 100] * 200)


# -- dates -------------------------------------------------------------------------------------

@pytest.mark.parametrize("written, reason", [
    ("2025-02-30", "February has 28 days in 2025"),
    ("2024-02-30", "February has 29 days in 2024"),
    ("2025-04-31", "April has 30 days in 2025"),
    ("2025-13-01", "there is no month 13"),
    ("0000-01-01", "there is no year 0000"),
    ("June 1st", "a date of the form YYYY-MM-DD"),
])
def test_an_impossible_date_says_why(written, reason):
    assert reason in why_not_a_date(written)
    with pytest.raises(ValueError, match=reason):
        parse_date(written)


def test_cli_as_of_of_a_day_that_does_not_exist(missouri):
    with pytest.raises(PolicyError) as excinfo:
        missouri.evaluate(REPOSITORY / "examples" / "jones.yaml", as_of="2025-02-30")
    assert excinfo.value.problem.code == "E109"
    assert "February has 28 days in 2025" in excinfo.value.problem.message


# -- households ----------------------------------------------------------------------------------

def _case(*people, as_of="2025-06-01"):
    return {"case_id": "h", "as_of": as_of, "people": list(people)}


def _refused(missouri, case, as_of=None):
    with pytest.raises(PolicyError) as excinfo:
        missouri.evaluate(case, as_of=as_of)
    return excinfo.value.problem


def test_a_birth_on_the_evaluation_date_is_fine_and_a_day_later_is_not(missouri):
    born_today = _case({"id": "baby", "date_of_birth": "2025-06-01", "parents": ["mom"]},
                       {"id": "mom", "age": 30, "sex": "female"})
    results = {(r.name, r.person): r.value for r in missouri.evaluate(born_today).results}
    assert results[("magi.household_size", "baby")] == 2
    problem = _refused(missouri, born_today, as_of="2025-05-31")
    assert (problem.code, problem.field) == ("E419", "people[0].date_of_birth")


def test_age_and_date_of_birth_must_agree_on_the_evaluation_date(missouri):
    person = {"id": "a", "age": 40, "date_of_birth": "1985-03-01"}
    missouri.evaluate(_case(person))                              # 40 on 2025-06-01
    problem = _refused(missouri, _case(person), as_of="2026-06-01")
    assert problem.code == "E419" and problem.field == "people[0].age"
    assert "makes it 41" in problem.message


def test_relations_that_cannot_be_name_the_fact(missouri):
    ring = _case({"id": "a", "age": 60, "parents": ["c"]}, {"id": "b", "age": 40, "parents": ["a"]},
                 {"id": "c", "age": 20, "parents": ["b"]})
    problem = _refused(missouri, ring)
    assert problem.code == "E418" and problem.field == "people[0].parents"
    assert "a -> c -> b -> a" in problem.message
    crossed = _case({"id": "a", "age": 30, "spouse": "b"}, {"id": "b", "age": 30, "spouse": "c"},
                    {"id": "c", "age": 30, "spouse": "b"})
    problem = _refused(missouri, crossed)
    assert problem.code == "E418" and "names 'c'" in problem.message


def test_a_claimer_outside_the_home_applies_non_filer_rules(missouri):
    """IM-148 2017 and exception 3 of 1805.030.10.20: accepted, not refused."""
    case = _case({"id": "kid", "age": 10, "claimed_by": "father_elsewhere", "parents": ["mom"]},
                 {"id": "mom", "age": 35, "sex": "female", "tax_filer": True})
    evaluation = missouri.evaluate(case, names=["magi.composition_rule"])
    rules = {r.person: r.value for r in evaluation.results}
    assert rules["kid"] == "non_filer"


def test_the_date_checks_see_today_when_no_date_is_given(missouri):
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    case = {"case_id": "h", "people": [{"id": "a", "date_of_birth": tomorrow}]}
    assert _refused(missouri, case).code == "E419"
