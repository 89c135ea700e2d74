"""docs/limits.md lists every limit with its number: the numbers must be the code's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.actions import deadlines, notices
from engine.io import schemas, yaml_loader
from engine.language import builtins, expressions, numbers, operators
from engine.model import calendars as holidays, entities
from engine.runtime import state as evaluation
from engine.tools.batch import WINDOW_PER_WORKER

DOC = (Path(__file__).resolve().parents[2] / "docs" / "limits.md").read_text(encoding="utf-8")

LIMITS = {
    "MAX_FILE_BYTES": yaml_loader.MAX_FILE_BYTES,
    "yaml_loader.MAX_DEPTH": yaml_loader.MAX_DEPTH,
    "MAX_EXPANDED_NODES": yaml_loader.MAX_EXPANDED_NODES,
    "MAX_NUMBER_TEXT": yaml_loader.MAX_NUMBER_TEXT,
    "MAX_WHOLE_DIGITS": numbers.MAX_WHOLE_DIGITS,
    "MAX_FRACTION_DIGITS": numbers.MAX_FRACTION_DIGITS,
    "MAX_EXPONENT": numbers.MAX_EXPONENT,
    "MAX_EXPRESSION_LENGTH": expressions.MAX_EXPRESSION_LENGTH,
    "MAX_NODES": expressions.MAX_NODES,
    "expressions.MAX_DEPTH": expressions.MAX_DEPTH,
    "MAX_POWER": operators.MAX_POWER,
    "MAX_POWER_BITS": operators.MAX_POWER_BITS,
    "MAX_SEQUENCE": operators.MAX_SEQUENCE,
    "MAX_TEXT": builtins.MAX_TEXT,
    "MAX_RANGE": builtins.MAX_RANGE,
    "MAX_STEPS": evaluation.MAX_STEPS,
    "MAX_CACHED_CALLS": evaluation.MAX_CACHED_CALLS,
    "MAX_COLLECTION": entities.MAX_COLLECTION,
    "MAX_DAYS": deadlines.MAX_DAYS,
    "MAX_ROLL": deadlines.MAX_ROLL,
    "MAX_TEMPLATE_BYTES": notices.MAX_TEMPLATE_BYTES,
    "MAX_PROBLEMS": schemas.MAX_PROBLEMS,
    "WINDOW_PER_WORKER": WINDOW_PER_WORKER,
}


def _row(name: str) -> str:
    rows = [line for line in DOC.splitlines() if line.startswith("|") and f"`{name}`" in line]
    assert rows, f"docs/limits.md has no row for {name}"
    return rows[0]


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_each_limit_is_documented_with_its_number(name):
    value = LIMITS[name]
    assert f"{value:,}" in _row(name) or str(value) in _row(name), (name, value, _row(name))


def test_calendar_years_and_the_fraction_context_are_documented():
    assert f"{holidays.FIRST_YEAR} to {holidays.LAST_YEAR}" in _row("FIRST_YEAR")
    assert str(numbers.CONTEXT.prec) in _row("CONTEXT")
    assert numbers.CONTEXT.Emax == numbers.MAX_EXPONENT == -numbers.CONTEXT.Emin
