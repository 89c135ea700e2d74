"""Checked by mypy (tests/test_typing.py), never run: the engine's classes fit the Protocols of
engine/types.py that lower layers are written against."""

from __future__ import annotations

from engine.api import Case, Engine
from engine.language.expressions import Expression
from engine.model.definitions import AggregateBody, ConditionsBody, DecisionTableBody, FormulaBody
from engine.runtime.state import State
from engine.types import BodyLike, CaseLike, EngineLike, ExpressionLike, StateLike


def an_engine(engine: Engine) -> EngineLike:
    return engine


def a_case(case: Case) -> CaseLike:
    return case


def a_state(state: State) -> StateLike:
    return state


def an_expression(expression: Expression) -> ExpressionLike:
    return expression


def bodies(a: FormulaBody, b: ConditionsBody, c: DecisionTableBody, d: AggregateBody) -> list[BodyLike]:
    return [a, b, c, d]
