"""`policy test` expectations on rules that are not outputs (a level's own test).

A test can assert the boolean that decided a level of care (``eligibility.chip_75_test``)
instead of copying the words of ``eligibility.why_not``; such a rule is evaluated on demand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from engine.tools.testing import run_files

from .conftest import POLICY

JONES = """\
tests:
  - name: Jones children, 2018 (1805.030.20.20.05, Example 1)
    citation: {source: Family MO HealthNet (MAGI) Manual, section: "1805.030.20.20.05"}
    as_of: 2018-06-01
    case_file: {jones}
    expect:
      - {name: eligibility.level_of_care, person: kid1, value: CHIP_75}
      - {name: eligibility.chip_75_test, person: kid1, value: {chip_75}, citations_first: "1840.000.00"}
      - {name: eligibility.chip_74_test, person: kid1, value: false}
      - {name: eligibility.aeg_test, person: dad, value: false}
"""


@pytest.fixture(scope="module")
def engine():
    return Engine.load(POLICY)


def run(engine, tmp_path: Path, chip_75: str):
    jones = Path(__file__).resolve().parents[2] / "examples" / "jones.yaml"
    path = tmp_path / "inner.yaml"
    path.write_text(JONES.replace("{jones}", str(jones)).replace("{chip_75}", chip_75))
    (outcome,) = run_files(engine, [path])
    return outcome


def test_an_inner_rule_is_evaluated_for_its_expectation(engine, tmp_path):
    outcome = run(engine, tmp_path, "true")
    assert outcome.passed, outcome.failures


def test_a_wrong_value_of_an_inner_rule_fails(engine, tmp_path):
    outcome = run(engine, tmp_path, "false")
    assert not outcome.passed
    assert outcome.failures == ["eligibility.chip_75_test for kid1: expected False, got True"]
