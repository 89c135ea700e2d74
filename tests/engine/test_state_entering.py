"""State.entering: every change of scope, frame or current definition is undone on the way out.

Five places used to save and restore the state by hand; the chart evaluator never restored it,
leaving the scope of its last row and the reads of that row as the state's frame."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine import Engine
from engine.model.definitions import Scope
from engine.runtime.charts import evaluate_chart
from engine.runtime.state import DateCache, State, decimal_context

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(ROOT / "policy")


def snapshot(state: State) -> tuple:
    return (state.scope, state.frame, state.current, state.current_entity, state.current_args)


def test_entering_swaps_everything_given_and_restores_it():
    state = State(None, DateCache(), dt.date(2025, 6, 1))
    before = snapshot(state)
    scope, reads = Scope(None, {"size": 3}), []
    with state.entering(scope, reads, "definition", "entity", (3,)) as frame:
        assert frame is reads
        assert snapshot(state) == (scope, reads, "definition", "entity", (3,))
    assert snapshot(state) == before
    assert all(a is b for a, b in zip(snapshot(state), before))


def test_entering_restores_after_an_error():
    state = State(None, DateCache(), dt.date(2025, 6, 1))
    before = snapshot(state)
    with pytest.raises(ZeroDivisionError):
        with state.entering(Scope(None, {}), [], "definition", None, None):
            1 / 0
    assert all(a is b for a, b in zip(snapshot(state), before))


def test_entering_leaves_what_is_not_given():
    state = State(None, DateCache(), dt.date(2025, 6, 1))
    outer_reads = []
    with state.entering(Scope(None, {"a": 1}), outer_reads, "rule", "entity", None):
        inner = Scope(None, {"b": 2})
        with state.entering(inner):            # only the scope
            assert snapshot(state) == (inner, outer_reads, "rule", "entity", None)
        due_reads = []
        with state.entering(frame=due_reads):  # only the frame
            assert state.frame is due_reads and state.current == "rule"
        assert state.frame is outer_reads


def test_a_chart_leaves_the_state_as_it_found_it(engine):
    state = State(engine.program, engine.cache, dt.date(2025, 6, 1), engine.reference)
    before = snapshot(state)
    with decimal_context():
        chart = evaluate_chart(state, engine.program.chart("income-limits"))
    assert len(chart.rows) > 10
    assert all(a is b for a, b in zip(snapshot(state), before)), \
        "evaluate_chart left the scope and frame of its last row in the state"
    assert state.frame == []


def test_a_state_that_served_a_chart_gives_the_same_chart_again(engine):
    """Rows and citations do not depend on what the state computed before."""
    state = State(engine.program, engine.cache, dt.date(2025, 6, 1), engine.reference)
    with decimal_context():
        first = evaluate_chart(state, engine.program.chart("income-limits"))
        second = evaluate_chart(state, engine.program.chart("income-limits"))
    assert [(r.values, r.citations) for r in first.rows] == \
           [(r.values, r.citations) for r in second.rows]
    fresh = engine.table("income-limits", as_of="2025-06-01")
    assert [(r.values, r.citations) for r in first.rows] == \
           [(r.values, r.citations) for r in fresh.rows]
