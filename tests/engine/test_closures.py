"""Differential test: compiled closures and simpleeval's tree walk must agree exactly.

The engine evaluates expressions through closures compiled once (engine/language/closures.py); simpleeval
walking the same checked tree is the reference semantics. Both use the same operators and name
references, and this test holds them to identical results, values and citations (the deciding
citations in order, their ids, and the full read-set), on every YAML test case in the repository
and on synthetic households across several dates.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from engine import Engine, PolicyError
from engine.runtime import state
from engine.runtime.results import json_value
from engine.tools.testing import read_tests, find_test_files

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from throughput import household  # noqa: E402

DATES = ["2018-06-01", "2021-08-01", "2025-03-31", "2025-06-01", "2025-07-15"]


@pytest.fixture(scope="module")
def engines():
    return Engine.load(ROOT / "policy"), Engine.load(ROOT / "policy", reference=True)


def _snapshot(engine, case, as_of):
    try:
        evaluation = engine.evaluate(case, as_of=as_of)
    except PolicyError as exc:
        return ("error", exc.problem.code, exc.problem.message)
    return [(r.name, r.person, json_value(r.value), [c.as_dict() for c in r.citations],
             r.citation_ids, [c.as_dict() for c in r.provenance], r.because)
            for r in evaluation.results]


def _cases():
    for path in find_test_files([ROOT / "tests" / "cases"]):
        for test in read_tests(path):
            spec = test.spec
            if "case" in spec:
                yield f"{path.name}:{test.name}", spec["case"], spec.get("as_of")
            elif "case_file" in spec:
                yield f"{path.name}:{test.name}", Path(path).parent / spec["case_file"], spec.get("as_of")


def test_yaml_cases_agree(engines):
    fast, reference = engines
    checked = 0
    for label, case, as_of in _cases():
        assert _snapshot(fast, case, as_of) == _snapshot(reference, case, as_of), label
        checked += 1
    assert checked >= 5


def test_synthetic_households_agree(engines):
    fast, reference = engines
    rng = random.Random(20250601)
    for index in range(300):
        case = household(rng, index)
        as_of = DATES[index % len(DATES)]
        assert _snapshot(fast, case, as_of) == _snapshot(reference, case, as_of), (index, as_of)


def test_generated_functions_agree(engines, monkeypatch):
    """Every definition made faster at its first computation (engine.runtime.state: rules'
    generated functions, other definitions' generated expressions) gives what the reference
    evaluator gives."""
    monkeypatch.setattr(state, "WARM_AFTER", 1)
    state._RULE_FUNCTIONS.clear()
    fast, reference = Engine.load(ROOT / "policy"), engines[1]
    for label, case, as_of in _cases():
        assert _snapshot(fast, case, as_of) == _snapshot(reference, case, as_of), label
    rng = random.Random(20250602)
    for index in range(100):
        case = household(rng, index)
        as_of = DATES[index % len(DATES)]
        expected = _snapshot(reference, case, as_of)
        assert _snapshot(fast, case, as_of) == expected, (index, as_of)
    made = [entry for entry in state._RULE_FUNCTIONS.values() if entry[1]]
    assert len(made) > 50
    state._RULE_FUNCTIONS.clear()


def test_income_limit_chart_agrees(engines):
    fast, reference = engines
    for as_of in DATES:
        a, b = fast.table("income-limits", as_of), reference.table("income-limits", as_of)
        assert [(r.values, r.citations) for r in a.rows] == [(r.values, r.citations) for r in b.rows]
