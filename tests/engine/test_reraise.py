"""The one place a Python error raised while evaluating an expression becomes the engine's error
(shared by the evaluator and by the hot paths that call compiled closures directly)."""

import pytest

from engine.errors import EvaluationError, codes
from engine.language.expressions import parse, reraise


def where():
    return "Rule x.y for person 'dad'"


def test_a_division_by_zero_quotes_the_expression():
    expression = parse("a / b", file="x.yaml", line=7)
    with pytest.raises(EvaluationError) as caught:
        reraise(expression, where, ZeroDivisionError("division by zero"))
    assert caught.value.problem.code == codes.CANNOT_COMPUTE
    assert "divides by zero in `a / b`" in str(caught.value)
    assert caught.value.__suppress_context__


def test_an_evaluation_error_is_raised_as_it_is():
    original = EvaluationError("Inner rule failed.", code=codes.CANNOT_COMPUTE)
    with pytest.raises(EvaluationError) as caught:
        reraise(parse("a"), where, original)
    assert caught.value is original


def test_an_error_that_is_not_the_expressions_is_left_unchanged():
    with pytest.raises(KeyError):
        reraise(parse("a"), where, KeyError("k"))
    with pytest.raises(ZeroDivisionError):      # no expression to quote
        reraise(None, where, ZeroDivisionError("division by zero"))
