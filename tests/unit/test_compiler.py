"""engine.rulebook.compiler: one fixture directory per way rulebooks can fail to fit together."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from engine.errors import CompileError, PolicyError

from .helpers import FIXTURES, file_name, line_after, line_of_text, problem


def compile_problem(fixture: str, code: str):
    with pytest.raises(CompileError) as excinfo:
        Engine.load(FIXTURES / fixture)
    return problem(excinfo, code)


def rules(fixture: str, name: str = "rules.yaml") -> Path:
    return FIXTURES / fixture / name


def test_unknown_name_is_e320_with_a_suggestion():
    p = compile_problem("compile_unknown_name", "E320")
    assert "`incme`" in p.message
    assert "t.doubled" in p.message
    assert "did you mean `income`?" in p.message
    assert file_name(p) == "compile_unknown_name/rules.yaml"
    assert p.line == line_of_text(rules("compile_unknown_name"), "formula: incme * 2")
    assert p.field == "t.doubled.formula"


def test_namespace_without_uses_is_e321():
    p = compile_problem("compile_missing_uses", "E321")
    assert "`limits.ceiling`" in p.message
    assert "'limits'" in p.message and "`uses`" in p.message
    assert file_name(p) == "compile_missing_uses/rules.yaml"
    assert p.line == line_of_text(rules("compile_missing_uses"), "formula: age < limits.ceiling")


def test_cycle_is_e330_with_its_path():
    p = compile_problem("compile_cycle", "E330")
    assert "t.a -> t.b -> t.a" in p.message
    assert file_name(p) == "compile_cycle/rules.yaml"
    # The edge that closes the cycle: b's formula reads a.
    assert p.line == line_of_text(rules("compile_cycle"), "formula: a - 1")


def test_name_defined_in_two_files_is_e311_naming_both():
    p = compile_problem("compile_duplicate", "E311")
    assert "t.adult" in p.message
    assert "first.yaml" in p.message and "second.yaml" in p.message
    assert file_name(p) == "compile_duplicate/second.yaml"
    assert p.line == line_of_text(rules("compile_duplicate", "second.yaml"), "  adult:")


def test_function_reading_a_fact_is_e324():
    p = compile_problem("compile_function_reads_fact", "E324")
    assert "t.age_factor" in p.message
    assert "`age`" in p.message
    assert "argument" in p.message
    assert file_name(p) == "compile_function_reads_fact/rules.yaml"
    assert p.line == line_of_text(rules("compile_function_reads_fact"), "formula: rate * age")


def test_rule_reading_a_child_entity_rule_is_e325():
    p = compile_problem("compile_child_rule", "E325")
    assert "t.person_total" in p.message and "t.monthly" in p.message
    assert "aggregate" in p.message
    assert file_name(p) == "compile_child_rule/rules.yaml"
    assert p.line == line_of_text(rules("compile_child_rule"), "formula: monthly + 0")


def test_wrong_number_of_arguments_is_e326():
    p = compile_problem("compile_argument_count", "E326")
    assert "`limit` takes 2 argument(s) (percent, size)" in p.message
    assert "gives 1" in p.message
    assert file_name(p) == "compile_argument_count/rules.yaml"
    assert p.line == line_of_text(rules("compile_argument_count"), "formula: limit(150)")


def test_because_with_an_unknown_name_is_e317():
    p = compile_problem("compile_because_unknown", "E317")
    assert "threshold" in p.message
    assert "t.adult" in p.message
    assert file_name(p) == "compile_because_unknown/rules.yaml"
    assert p.line == line_of_text(rules("compile_because_unknown"), "because:")
    assert p.field == "t.adult.because"


def test_aggregate_over_an_unknown_collection_is_e315():
    p = compile_problem("compile_unknown_collection", "E315")
    assert "'pets'" in p.message
    assert "incomes" in p.message and "people" in p.message     # what is available
    assert file_name(p) == "compile_unknown_collection/rules.yaml"
    assert p.line == line_after(rules("compile_unknown_collection"), "  pet_count:", "aggregate:")


@pytest.mark.parametrize("fixture,code", [
    ("compile_unknown_name", "E320"), ("compile_missing_uses", "E321"), ("compile_cycle", "E330"),
    ("compile_duplicate", "E311"), ("compile_function_reads_fact", "E324"),
    ("compile_child_rule", "E325"), ("compile_argument_count", "E326"),
    ("compile_because_unknown", "E317"), ("compile_unknown_collection", "E315"),
])
def test_each_failure_fixture_has_exactly_its_own_problem(fixture, code):
    with pytest.raises(PolicyError) as excinfo:
        Engine.load(FIXTURES / fixture)
    assert [p.code for p in excinfo.value.problems] == [code]
    rendered = str(excinfo.value)
    assert code in rendered and fixture in rendered


def test_the_working_fixtures_compile():
    for fixture in ("household", "parameters", "arithmetic"):
        program = Engine.load(FIXTURES / fixture).program
        assert program.root_kind is not None and program.root_kind.name == "case"
    program = Engine.load(FIXTURES / "household").program
    assert "hh.household_income" in program.rules
    assert "hh.monthly_limit" in program.functions
    assert program.dependencies["hh.fpl_percent"] >= {"hh.household_income", "hh.guideline",
                                                       "hh.household_size"}
