"""An evaluation that stops with an error releases its state too (engine/api.py): the state's
cycle (its evaluator points back at it) is broken at once, so the state is freed by reference
counting, not left for the cyclic collector (a service answers many such errors)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from engine import Engine
from engine.errors import EvaluationError, codes
from engine.runtime.budget import BudgetedState

ROOT = Path(__file__).resolve().parents[2]


def test_a_state_stopped_by_its_budget_is_freed_without_the_collector(monkeypatch):
    engine = Engine.load(ROOT / "policy")
    made = []
    original = BudgetedState.__init__

    def remember(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(weakref.ref(self))

    monkeypatch.setattr(BudgetedState, "__init__", remember)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(EvaluationError) as caught:
            engine.evaluate(ROOT / "examples" / "jones.yaml", max_steps=5)
        assert caught.value.problem.code == codes.STEP_BUDGET
        del caught
        assert made and made[0]() is None
    finally:
        if was_enabled:
            gc.enable()
