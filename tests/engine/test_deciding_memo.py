"""The per-case evaluator's fast paths give the same answers as the slow ones (issue 11).

Deciding lists are memoised across cases on their parts (`engine.runtime.deciding._compose`),
and an evaluation releases its state when it is done. Neither may change what a result says:
the lists composed with the memo emptied before every value, or never kept, are the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from engine.runtime import deciding
from tests.tools.households import households

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def engine():
    return Engine.load(ROOT / "policy")


def _everything(engine, cases):
    out = []
    for case in cases:
        evaluation = engine.evaluate(case, as_of=case.get("as_of", "2025-08-01"))
        for result in evaluation.results:
            out.append((result.name, result.person, repr(result.value),
                        tuple(repr(c.as_dict()) for c in result.citations),
                        tuple(result.citation_ids)))
    return out


def test_memoised_compositions_are_the_compositions(engine, monkeypatch):
    cases = households(60, seed=3)
    remembered = _everything(engine, cases)
    # A memo that can hold one entry is emptied before nearly every composition: every list is
    # composed afresh, and must come out the same.
    monkeypatch.setattr(deciding, "MAX_COMPOSED", 1)
    for table in (deciding._COMPOSED, deciding._NOTED, deciding._OWN,
                  deciding._OWN_PLAIN):
        table.clear()
    assert _everything(engine, cases) == remembered


def test_a_released_evaluation_still_explains_itself(engine):
    evaluation = engine.evaluate(ROOT / "examples" / "jones.yaml")
    level = next(r for r in evaluation.results
                 if r.name == "eligibility.level_of_care" and r.person == "kid1")
    assert level.value == "CHIP_75"
    assert level.citations[0].section.startswith("1840")
    assert "$5,199.60" in level.because
    assert level.trace()                      # the trace is kept with the result's nodes
