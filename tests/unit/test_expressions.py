"""engine.language.expressions: the whitelist, the limits, exact decimals and arithmetic errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest

from engine import EvaluationError, PolicyError
from engine.errors import CompileError
from engine.language.expressions import MAX_DEPTH, MAX_EXPRESSION_LENGTH, MAX_NODES, parse

from .helpers import FIXTURES, REPOSITORY, engine, fresh_engine, line_of_text, problem

RULES = FIXTURES / "arithmetic" / "rules.yaml"
CASE = {"case_id": "arith", "people": [{"id": "p"}]}


def value(rule: str):
    return engine("arithmetic").evaluate(CASE, as_of="2024-01-01", names=[f"a.{rule}"]).results[0].value


def evaluation_error(rule: str):
    with pytest.raises(EvaluationError) as excinfo:
        engine("arithmetic").evaluate(CASE, as_of="2024-01-01", names=[f"a.{rule}"])
    return excinfo


# -- the whitelist -----------------------------------------------------------------------------

FORBIDDEN = [
    ("x.__class__", "underscore"),
    ("fpl.__dict__", "underscore"),
    ("(1).real", "attribute of a computed value"),
    ("(a + b).real", "attribute of a computed value"),
    ('"abc".upper()', "method of a computed value"),
    ("x[0]", "indexing"),
    ("x[1:2]", "indexing"),
    ("lambda: 1", "lambda"),
    ("[y for y in x]", "comprehensions"),
    ("sum(y for y in x)", "comprehensions"),
    ("{y: 1 for y in x}", "comprehensions"),
    ("max(a, key=b)", "by name"),
    ('f"{x}"', "f-strings"),
    ("(y := 1)", ":="),
    ("max(*xs)", "unpacking"),
    ("[*xs]", "unpacking"),
    ("a & b", "&"),
    ("a | b", "|"),
    ("a ^ b", "^"),
    ("a << 2", "<<"),
    ("a >> 2", ">>"),
    ("~a", "~"),
    ("{1, 2}", "sets"),
    ("{'a': 1}", "mappings"),
    ("_private + 1", "underscore"),
    ("__import__('os')", "underscore"),
]


@pytest.mark.parametrize("text,hint", FORBIDDEN)
def test_forbidden_syntax_is_e303_quoting_the_expression(text, hint):
    with pytest.raises(CompileError) as excinfo:
        parse(text, file="rules.yaml", line=12, field="t.r.formula")
    p = excinfo.value.problem
    assert p.code == "E303"
    assert f"`{text}`" in p.message
    assert hint in p.message
    assert (p.file, p.line, p.field) == ("rules.yaml", 12, "t.r.formula")


def test_qualified_names_are_folded_into_one_name():
    expression = parse("fpl.first_person + magi.limit(3)")
    assert expression.name_ids() == {"fpl.first_person"}
    assert [c.func.id for c in expression.calls] == ["magi.limit"]


def test_syntax_error_is_e301():
    with pytest.raises(CompileError) as excinfo:
        parse("1 +")
    assert excinfo.value.problem.code == "E301"
    assert "`1 +`" in excinfo.value.problem.message


def test_empty_expression_is_e301():
    with pytest.raises(CompileError) as excinfo:
        parse("   ")
    assert excinfo.value.problem.code == "E301"


def test_length_limit_is_e302():
    text = "1 + " * (MAX_EXPRESSION_LENGTH // 4) + "1"
    assert len(text) > MAX_EXPRESSION_LENGTH
    with pytest.raises(CompileError) as excinfo:
        parse(text)
    p = excinfo.value.problem
    assert p.code == "E302"
    assert f"{len(text)} characters" in p.message
    assert str(MAX_EXPRESSION_LENGTH) in p.message


def test_expression_at_the_length_limit_is_accepted():
    text = '"' + "a" * (MAX_EXPRESSION_LENGTH - 2) + '"'
    assert parse(text).text == text


def test_node_limit_is_e302():
    text = "[" + ",".join(["1"] * 450) + "]"     # 450 constants in one list: flat, many nodes
    assert len(text) < MAX_EXPRESSION_LENGTH
    with pytest.raises(CompileError) as excinfo:
        parse(text)
    p = excinfo.value.problem
    assert p.code == "E302"
    assert f"the limit is {MAX_NODES}" in p.message


def test_expression_under_the_node_limit_is_accepted():
    assert parse("[" + ",".join(["1"] * 100) + "]").text.count(",") == 99


def test_sum_of_terms_up_to_the_depth_limit_is_accepted():
    assert parse("+".join(["1"] * MAX_DEPTH)).text.count("+") == MAX_DEPTH - 1


@pytest.mark.parametrize("text", [
    "+".join(["x"] * 300),                 # a long flat sum: 300 levels deep
    "-" * 1500 + "x",                      # a long chain of unary minus
    "not " * 450 + "x",
    "[" * 190 + "]" * 190,
])
def test_deep_expressions_stop_at_the_depth_limit_before_python_recursion(text):
    assert len(text) < MAX_EXPRESSION_LENGTH
    with pytest.raises(CompileError) as excinfo:
        parse(text, file="deep.yaml", line=7, field="a.deep.formula")
    p = excinfo.value.problem
    assert p.code == "E302"
    assert f"the limit is {MAX_DEPTH}" in p.message
    assert (p.file, p.line, p.field) == ("deep.yaml", 7, "a.deep.formula")


# -- literals ----------------------------------------------------------------------------------

def test_number_literals_are_decimals_read_from_the_text():
    expression = parse("0.1")
    assert expression.constant == Decimal("0.1") and type(expression.constant) is Decimal
    assert parse("1305.010").constant == Decimal("1305.010")
    assert str(parse("1305.010").constant) == "1305.010"
    assert parse("42").constant == 42 and type(parse("42").constant) is int


def test_yaml_literals_are_accepted():
    assert parse(True).constant is True
    assert parse(Decimal("2.5")).constant == Decimal("2.5")
    assert parse(7).constant == 7


@pytest.mark.parametrize("text,expected", [("true", True), ("False", False), ("None", None),
                                           ("null", None)])
def test_literal_names(text, expected):
    assert parse(text).constant is expected


# -- evaluation through the engine ---------------------------------------------------------------

def test_point_one_plus_point_two_is_point_three():
    assert value("exact_sum") is True
    assert value("sum_value") == Decimal("0.3")
    assert type(value("sum_value")) is Decimal


def test_division_of_integers_is_an_exact_decimal():
    assert value("int_division") == Decimal("3.5")
    assert type(value("int_division")) is Decimal
    assert value("eighth") == Decimal("0.125")


def test_chained_comparison():
    assert value("chained_comparison") is True


def test_power_up_to_100_is_allowed():
    assert value("power_100") == 2 ** 100


def test_decimal_to_a_negative_power_is_exact():
    assert value("decimal_negative_power") == Decimal("0.01")
    assert type(value("decimal_negative_power")) is Decimal


def test_integer_to_a_negative_power_is_an_exact_decimal():
    result = value("negative_power")
    assert type(result) is Decimal
    assert result == Decimal("0.01")


def test_power_with_exponent_1000_is_e420():
    p = problem(evaluation_error("power_1000"), "E420")
    assert "a.power_1000" in p.message
    assert "`2 ** 1000`" in p.message
    assert "100" in p.message
    assert p.line == line_of_text(RULES, "formula: 2 ** 1000")


def test_division_by_zero_is_e420_naming_the_rule():
    p = problem(evaluation_error("divide_by_zero"), "E420")
    assert p.message.startswith("Rule a.divide_by_zero for the case")
    assert "divides by zero" in p.message
    assert "`5 / (1 - 1)`" in p.message
    assert p.file.endswith("rules.yaml")
    assert p.line == line_of_text(RULES, "formula: 5 / (1 - 1)")


def test_decimal_overflow_is_e420():
    try:
        engine("arithmetic").evaluate(CASE, as_of="2024-01-01", names=["a.decimal_overflow"])
    except PolicyError as exc:
        assert exc.problem.code == "E420"
        assert "a.decimal_overflow" in exc.problem.message
    else:  # pragma: no cover - 1E+113 exceeds the context's Emax (numbers.MAX_EXPONENT)
        pytest.fail("100000000000000.0 ** 8 * 10 evaluated without an error")


def test_floor_division_and_modulo_do_not_depend_on_the_number_type():
    assert value("floor_division_decimal") == value("floor_division_int")
    assert value("modulo_decimal") == value("modulo_int")


def test_tower_of_powers_is_refused_quickly():
    code = textwrap.dedent(f"""
        from engine import Engine, PolicyError
        engine = Engine.load({str(FIXTURES / 'arithmetic')!r})
        try:
            engine.evaluate({CASE!r}, as_of="2024-01-01", names=["a.power_tower"])
        except PolicyError as exc:
            print(exc.problem.code)
    """)
    try:
        done = subprocess.run([sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True,
                              text=True, timeout=4)
    except subprocess.TimeoutExpired:
        pytest.fail("evaluating the tower of powers was still running after 4 seconds")
    assert done.stdout.strip() == "E420", done.stderr


# -- the shared function cache -------------------------------------------------------------------

def test_function_results_are_not_shared_between_equal_but_different_arguments():
    expected_true = fresh_engine("arithmetic").call("a.as_text", True, as_of="2024-01-01").value
    expected_short = fresh_engine("arithmetic").call("a.as_text", Decimal("2.5"),
                                                     as_of="2024-01-01").value
    assert (expected_true, expected_short) == ("yes", "2.5")   # text() writes yes/no for a person
    shared = fresh_engine("arithmetic")
    assert shared.call("a.as_text", 1, as_of="2024-01-01").value == "1"
    assert shared.call("a.as_text", Decimal("2.50"), as_of="2024-01-01").value == "2.50"
    assert shared.call("a.as_text", True, as_of="2024-01-01").value == expected_true
    assert shared.call("a.as_text", Decimal("2.5"), as_of="2024-01-01").value == expected_short
