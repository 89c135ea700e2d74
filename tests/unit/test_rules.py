"""End to end on the `household` fixture: rule bodies, aggregates, facts, citations, reasons."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from engine import CaseError, EvaluationError

from .helpers import (AS_OF, CASES, FIXTURES, case, engine, file_name, income, line_after,
                      line_of_text, person, problem)

RULES = FIXTURES / "household" / "rules.yaml"
D = Decimal


def evaluate(data, *names, as_of=AS_OF):
    return engine("household").evaluate(data, as_of=as_of, names=[f"hh.{n}" for n in names])


def one(rule: str, as_of=AS_OF, **facts):
    """The value of ``rule`` for a lone person ``p`` with ``facts``."""
    facts.setdefault("age", 30)
    return evaluate(case(person("p", **facts)), rule, as_of=as_of).value(f"hh.{rule}", "p")


def fails(data, rule: str, code: str, as_of=AS_OF):
    with pytest.raises(EvaluationError) as excinfo:
        evaluate(data, rule, as_of=as_of)
    return problem(excinfo, code)


def family():
    """mom (30, pregnant, two incomes) with kid (5); grandpa (70) is a household of his own."""
    return case(
        person("mom", age=30, pregnant=True,
               incomes=[income("1000.00"), income("123.45", "weekly")]),
        person("kid", age=5, parents=["mom"]),
        person("grandpa", age=70, disabled=True, incomes=[income("24000", "annual")]),
    )


# -- formulas and rounding ---------------------------------------------------------------------

def test_formula_reads_a_rule_and_a_parameter():
    ev = evaluate(family(), "income_with_bonus")
    # 1000.00 + 123.45 x 4.333 = 1534.90885 -> 1534.91 (half_up to the cent), + 100 bonus
    assert ev.value("hh.income_with_bonus", "mom") == D("1634.91")
    assert ev.value("hh.income_with_bonus", "kid") == D("100.00")
    assert ev.value("hh.income_with_bonus", "grandpa") == D("2100")


def test_rounding_declared_on_a_rule():
    ev = evaluate(family(), "monthly_income", "padded_income")
    assert ev.value("hh.monthly_income", "mom") == D("1534.91")
    assert str(ev.value("hh.monthly_income", "mom")) == "1534.91"
    # 1534.91 x 1.05 = 1611.6555, rounded up to the dollar
    assert ev.value("hh.padded_income", "mom") == D("1612")
    assert str(ev.value("hh.padded_income", "mom")) == "1612"


def test_conditions_on_an_income_entity():
    assert one("monthly_income", incomes=[income("1200", "annual")]) == D("100.00")
    assert one("monthly_income", incomes=[income("10", "weekly")]) == D("43.33")


def test_function_with_rounding_called_from_a_rule():
    # monthly_limit(150, 2) = (15060 + 5380) x 150 / 100 / 12 = 2555 exactly
    ev = evaluate(family(), "income_limit")
    assert ev.value("hh.income_limit", "mom") == 2555
    # household of one: 15060 x 1.5 / 12 = 1882.5 -> rounded up to 1883
    assert ev.value("hh.income_limit", "grandpa") == 1883


def test_rule_reads_a_case_level_fact():
    ev = evaluate(case(person("a", age=1), person("b", age=2), case_id="smith-2024"), "case_label")
    assert ev.value("hh.case_label", "a") == "smith-2024/a"
    assert ev.value("hh.case_label", "b") == "smith-2024/b"


def test_date_builtin_reads_as_of():
    born = "2006-06-15"
    assert one("age_from_birth", as_of="2024-06-14", date_of_birth=born) == 17
    assert one("age_from_birth", as_of="2024-06-15", date_of_birth=born) == 18


# -- ordered conditions ------------------------------------------------------------------------

@pytest.mark.parametrize("age,expected", [
    (0, "INFANT"),        # also < 19 and < 65: the first true condition wins
    (1, "CHILD"), (18, "CHILD"), (19, "ADULT"), (64, "ADULT"), (65, "SENIOR"), (100, "SENIOR"),
])
def test_first_true_condition_wins(age, expected):
    assert one("age_group", age=age) == expected


def test_no_otherwise_and_nothing_true_is_e422():
    assert one("child_only", age=10) == "CHILD"
    p = fails(case(person("old", age=40)), "child_only", "E422")
    assert "hh.child_only" in p.message
    assert "person 'old'" in p.message
    assert "otherwise" in p.message
    assert file_name(p) == "household/rules.yaml"
    assert p.line == line_after(RULES, "  child_only:", "conditions:")


def test_condition_that_is_not_a_boolean_is_e421():
    p = fails(case(person("p", age=3)), "numeric_condition", "E421")
    assert "hh.numeric_condition" in p.message
    assert "`age` gave 3" in p.message
    assert p.line == line_after(RULES, "  numeric_condition:", "- when: age")


# -- decision tables ---------------------------------------------------------------------------

@pytest.mark.parametrize("amount,expected", [
    ("100", "LOW"), ("150.00", "LOW"), ("150.01", "MID"), ("185.00", "MID"), ("185.01", "HIGH"),
])
def test_interval_test_excludes_its_open_end(amount, expected):
    assert one("income_band", incomes=[income(amount)]) == expected


@pytest.mark.parametrize("age,pregnant,expected", [
    (0, True, "UNDER_1"),      # the pregnant row matches too: first wins
    (1, False, "CHILD"), (18, True, "CHILD"),
    (30, True, "PREGNANT"),
    (19, False, "YOUNG_ADULT"), (20, False, "YOUNG_ADULT"),
])
def test_hit_policy_first(age, pregnant, expected):
    assert one("level", age=age, pregnant=pregnant) == expected


def test_no_matching_row_and_no_default_is_e425():
    p = fails(case(person("p", age=40)), "level", "E425")
    assert "hh.level" in p.message
    assert "age=40" in p.message


@pytest.mark.parametrize("age,expected", [(30, "B"), (70, "C")])
def test_hit_policy_unique(age, expected):
    assert one("level_unique", age=age) == expected


def test_hit_policy_unique_with_two_matches_is_e424_naming_both_rows():
    p = fails(case(person("p", age=10)), "level_unique", "E424")
    first = line_of_text(RULES, "when: {age: \"< 19\"}")
    second = line_of_text(RULES, "when: {age: \"< 65\"}")
    assert "hh.level_unique" in p.message
    assert "2 rows match" in p.message
    assert f"lines {first}, {second}" in p.message
    assert p.line == second


def test_hit_policy_collect():
    assert one("flags", age=70, pregnant=True, disabled=True) == ["PREGNANT", "DISABLED", "SENIOR"]
    assert one("flags", age=70) == ["SENIOR"]
    assert one("flags", age=30) == []


# -- aggregates --------------------------------------------------------------------------------

def test_count_and_list_with_where_and_outer():
    ev = evaluate(family(), "household_size", "household_members")
    assert ev.value("hh.household_size", "mom") == 2
    assert ev.value("hh.household_size", "kid") == 2
    assert ev.value("hh.household_size", "grandpa") == 1
    assert ev.value("hh.household_members", "kid") == ["mom", "kid"]
    assert ev.value("hh.household_members", "grandpa") == ["grandpa"]


def test_sum_of_member_rules():
    ev = evaluate(family(), "household_income")
    assert ev.value("hh.household_income", "mom") == D("1534.91")
    assert ev.value("hh.household_income", "kid") == D("1534.91")
    assert ev.value("hh.household_income", "grandpa") == D("2000.00")


def test_sum_of_nothing_is_zero():
    assert one("monthly_income") == 0


def test_any_all_min_on_the_case():
    ev = evaluate(family(), "anyone_pregnant", "all_adults", "youngest_age")
    assert ev.value("hh.anyone_pregnant") is True
    assert ev.value("hh.all_adults") is False
    assert ev.value("hh.youngest_age") == 5
    adults = evaluate(case(person("a", age=40), person("b", age=19)), "anyone_pregnant",
                      "all_adults", "youngest_age")
    assert adults.value("hh.anyone_pregnant") is False
    assert adults.value("hh.all_adults") is True
    assert adults.value("hh.youngest_age") == 19


def test_max_with_where_outer_and_default():
    ev = evaluate(family(), "oldest_adult_age")
    assert ev.value("hh.oldest_adult_age", "mom") == 70
    assert ev.value("hh.oldest_adult_age", "grandpa") == 30
    assert evaluate(case(person("solo", age=40)), "oldest_adult_age").value(
        "hh.oldest_adult_age", "solo") == 0


def test_max_over_own_incomes():
    assert one("largest_income", incomes=[income("10"), income("30.5"), income("20")]) == D("30.5")
    assert one("largest_income") == 0


def test_min_of_nothing_without_default_is_e426():
    assert one("smallest_income", incomes=[income("10"), income("3")]) == D("3")
    p = fails(case(person("p", age=3)), "smallest_income", "E426")
    assert "hh.smallest_income" in p.message and "default" in p.message


def test_derived_percent_of_poverty():
    ev = evaluate(family(), "fpl_percent")
    # 1534.91 x 12 / (15060 + 5380) x 100 = 90.112...
    assert ev.value("hh.fpl_percent", "mom") == D("90.11")


# -- types and facts ---------------------------------------------------------------------------

def test_declared_type_is_checked_e428():
    p = fails(case(person("p", age=1)), "bad_type", "E428")
    assert "hh.bad_type" in p.message
    assert "integer" in p.message
    assert "'twelve'" in p.message
    assert p.line == line_of_text(RULES, "  bad_type:")


def test_division_by_zero_names_the_rule_and_person():
    p = fails(case(person("p", age=1)), "divide_by_members", "E420")
    assert p.message.startswith("Rule hh.divide_by_members for person 'p'")
    assert p.line == line_of_text(RULES, "formula: monthly_income / (household_size")


def test_missing_required_fact_is_e410_naming_fact_person_and_rule():
    with pytest.raises(EvaluationError) as excinfo:
        engine("household").evaluate(CASES / "missing_age.yaml", names=["hh.age_group"])
    p = problem(excinfo, "E410")
    assert "'age'" in p.message
    assert "person 'baby'" in p.message
    assert "hh.age_group" in p.message
    assert p.field == "people[1].age"


def test_missing_fact_location_is_consistent():
    with pytest.raises(EvaluationError) as excinfo:
        engine("household").evaluate(CASES / "missing_age.yaml", names=["hh.age_group"])
    p = problem(excinfo, "E410")
    case_line = line_of_text(CASES / "missing_age.yaml", "- id: baby")
    rule_lines = {line_of_text(RULES, "  age_group:"), line_of_text(RULES, "when: age < 1")}
    assert (file_name(p), p.line) == ("cases/missing_age.yaml", case_line) or (
        file_name(p) == "household/rules.yaml" and p.line in rule_lines)


def test_optional_and_default_facts():
    assert one("flags", age=30) == []                       # pregnant/disabled default false
    assert one("income_with_bonus", incomes=[]) == D("100")  # no incomes: sum 0


def test_fact_of_the_wrong_type_is_e414_with_its_line():
    with pytest.raises(CaseError) as excinfo:
        engine("household").evaluate(CASES / "wrong_type.yaml", names=["hh.age_group"])
    p = problem(excinfo, "E414")
    assert "'hours_per_week'" in p.message
    assert "whole number" in p.message
    assert file_name(p) == "cases/wrong_type.yaml"
    assert p.line == line_of_text(CASES / "wrong_type.yaml", "hours_per_week: \"37.5\"")
    assert p.field == "people[0].incomes[0].hours_per_week"


def test_fact_outside_its_declared_range_is_e414():
    with pytest.raises(CaseError) as excinfo:
        evaluate(case(person("p", age=30, incomes=[income("5", "quarterly")])), "age_group")
    p = problem(excinfo, "E414")
    assert "'quarterly' is not one of the allowed values" in p.message


def test_unknown_fact_is_e413_with_its_line():
    with pytest.raises(CaseError) as excinfo:
        engine("household").evaluate(CASES / "unknown_fact.yaml", names=["hh.age_group"])
    p = problem(excinfo, "E413")
    assert "'sex'" in p.message
    assert "age" in p.message and "pregnant" in p.message      # it lists the known facts
    assert file_name(p) == "cases/unknown_fact.yaml"
    assert p.line == line_of_text(CASES / "unknown_fact.yaml", "sex: female")


def test_unknown_fact_in_a_json_case_has_its_line():
    with pytest.raises(CaseError) as excinfo:
        engine("household").evaluate(CASES / "unknown_fact.json", names=["hh.age_group"])
    p = problem(excinfo, "E413")
    assert file_name(p) == "cases/unknown_fact.json"
    assert p.line == line_of_text(CASES / "unknown_fact.json", '"blind"')


def test_duplicate_person_ids_are_e416():
    with pytest.raises(CaseError) as excinfo:
        engine("household").evaluate(CASES / "duplicate_ids.yaml", names=["hh.age_group"])
    p = problem(excinfo, "E416")
    assert "'twin'" in p.message
    assert p.field == "people[2]"
    assert p.line == 8


# -- citations, reasons, trace -----------------------------------------------------------------

def cited(result) -> set[tuple]:
    return {(c.source, c.section) for c in result.citations}


def test_result_provenance_carries_citations_of_everything_it_read():
    result = evaluate(family(), "income_with_bonus").find("hh.income_with_bonus", "mom")
    assert {("Unit Test Manual", "R.4"),          # the rule itself
            ("Unit Test Manual", "R.2"),          # monthly_income
            ("Unit Test Manual", "R.1"),          # monthly_amount of each income
            ("Unit Test Manual", "P.5"),          # the weekly factor
            ("Unit Test Manual", "P.3")} <= {(c.source, c.section) for c in result.provenance}
    assert result.provenance[0].section == "R.4"  # own citation first
    assert result.citations[0].section == "R.4"   # and first of the deciding citations


def test_citations_follow_the_parameter_value_in_force():
    after = evaluate(family(), "income_limit").find("hh.income_limit", "mom")
    before = evaluate(family(), "income_limit", as_of="2023-06-01").find("hh.income_limit", "mom")
    assert ("Guidelines 2024", "G.24") in cited(after)
    assert ("Guidelines 2024", "G.24") not in cited(before)
    assert {("Unit Test Manual", "F.2"), ("Unit Test Manual", "F.1"),
            ("Unit Test Manual", "P.1")} <= cited(before)


def test_citations_of_a_branch_not_taken_are_not_carried():
    ev = evaluate(family(), "allowance")
    taken = ev.find("hh.allowance", "mom")
    assert ev.value("hh.allowance", "mom") == 250
    assert ("Pregnancy Memo", "PM.1") in cited(taken)
    assert ("Unit Test Manual", "P.4 pregnancy allowance") in cited(taken)
    assert ("No Allowance Memo", "NA.1") not in cited(taken)

    other = ev.find("hh.allowance", "kid")
    assert ev.value("hh.allowance", "kid") == 0
    assert ("No Allowance Memo", "NA.1") in cited(other)
    assert ("Unit Test Manual", "C.3") in cited(other)
    assert ("Pregnancy Memo", "PM.1") not in cited(other)
    assert ("Unit Test Manual", "P.4 pregnancy allowance") not in cited(other)


def test_because_renders_with_the_values_read():
    ev = evaluate(family(), "income_with_bonus")
    assert ev.find("hh.income_with_bonus", "mom").because == \
        "mom has $1,534.91 plus a bonus of $100: $1,634.91."
    assert ev.find("hh.income_with_bonus", "kid").because == \
        "kid has $0.00 plus a bonus of $100: $100.00."


def test_because_of_the_branch_taken():
    ev = evaluate(family(), "allowance")
    assert ev.find("hh.allowance", "mom").because == "mom is pregnant, so the allowance is 250."
    assert ev.find("hh.allowance", "kid").because == "kid is not pregnant."


def test_because_runs_sandboxed():
    result = evaluate(case(person("p", age=3)), "sneaky_reason").find("hh.sneaky_reason", "p")
    assert result.value == 3
    assert result.because.startswith("(reason unavailable:")
    assert "unsafe" in result.because
    assert "<class" not in result.because                  # nothing of Python leaks out


def test_rule_without_because_has_none():
    assert evaluate(family(), "household_size").find("hh.household_size", "mom").because is None


def test_trace_lists_parameters_with_their_dates():
    result = evaluate(family(), "income_limit", as_of="2023-06-01").find("hh.income_limit", "mom")
    steps = result.trace()
    parameters = {s["name"]: s for s in steps if s["kind"] == "parameter"}
    assert parameters["hh.first_person"]["effective_from"] == "2020-01-01"
    assert parameters["hh.first_person"]["effective_to"] == "2024-03-31"
    assert parameters["hh.first_person"]["value"] == 12000
    assert parameters["hh.additional_person"]["effective_from"] == "2020-01-01"
    functions = [s for s in steps if s["kind"] == "function"]
    assert {(s["name"], tuple(s["args"])) for s in functions} >= {
        ("hh.monthly_limit", (150, 2)), ("hh.guideline", (2,))}
    assert steps[-1]["name"] == "hh.income_limit"
    assert steps[-1]["value"] == "2000"     # (12000 + 4000) x 150 / 100 / 12


def test_trace_of_the_newest_value_is_open_ended():
    result = evaluate(family(), "income_limit").find("hh.income_limit", "grandpa")
    first = [s for s in result.trace() if s["name"] == "hh.first_person"]
    assert first and first[0]["effective_from"] == "2024-04-01"
    assert first[0]["effective_to"] is None
    assert {"source": "Guidelines 2024", "section": "G.24"} in first[0]["citations"]


def test_trace_steps_come_before_the_value_that_used_them():
    steps = evaluate(family(), "income_with_bonus").find("hh.income_with_bonus", "mom").trace()
    names = [s["name"] for s in steps]
    assert names.index("hh.monthly_income") < names.index("hh.income_with_bonus")
    assert names.index("hh.bonus") < names.index("hh.income_with_bonus")
    assert any(s["kind"] == "fact" and s["name"] == "amount" for s in steps)
