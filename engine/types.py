"""The shapes of what is passed between layers, as Protocols.

A lower layer must not import a higher one, yet some of its code is handed objects a higher layer
makes: a definition's body (``engine.model``) is evaluated with the ``State`` of
``engine.runtime``; deadlines, notices and mass changes (``engine.actions``) are run with an
``Engine`` (``engine.api``); the compiler (``engine.rulebook``) attaches references that the
runtime calls. These Protocols name what such code may rely on, so that the dependency is on a
shape written down here, at the bottom, and not on the higher module. They are for type checkers
and readers; nothing checks them at run time.
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from typing import Any, Callable, Iterable, Protocol

#: ``where()`` names what is being computed, for error messages (``Rule magi.x for person 'dad'``);
#: called only when an error is raised.
Where = Callable[[], str]


class ExpressionLike(Protocol):
    """A checked expression (:class:`engine.language.expressions.Expression`)."""

    text: str
    file: str | None
    line: int | None
    field: str | None

    @property
    def is_constant(self) -> bool: ...


class EvaluatorLike(Protocol):
    """What runs expressions for a state (:class:`engine.language.expressions.Evaluator`)."""

    reference: bool

    def run(self, expression: Any, where: Where) -> Any: ...


class StateLike(Protocol):
    """The working memory of one evaluation (:class:`engine.runtime.state.State`), as bodies,
    references, charts and actions use it."""

    program: Any
    as_of: dt.date
    scope: Any
    frame: list[Any]
    current: Any

    @property
    def evaluator(self) -> EvaluatorLike: ...

    def entering(self, scope: Any = None, frame: list[Any] | None = None, definition: Any = ...,
                 entity: Any = ..., args: Any = ...) -> AbstractContextManager[list[Any]]: ...

    def rule(self, rule: Any, entity: Any) -> Any: ...

    def call(self, function: Any, args: list[Any]) -> Any: ...

    def describe(self) -> str: ...


class BodyLike(Protocol):
    """A rule's or function's body (``FormulaBody``, ``ConditionsBody``, ``DecisionTableBody``,
    ``AggregateBody`` in :mod:`engine.model.definitions`, ``DeadlineBody`` in
    :mod:`engine.actions.deadlines`)."""

    kind: str

    def expressions(self) -> Iterable[Any]: ...

    def evaluate(self, state: StateLike, where: Where) -> tuple[Any, Any, Any]:
        """The value, the citations of the branch taken (or None) and its reason (or None)."""
        ...


class EngineLike(Protocol):
    """What actions and tools use of an :class:`engine.Engine`."""

    program: Any
    cache: Any
    reference: bool

    def read_case(self, case: Any, source: str | None = None) -> Any: ...

    def evaluate(self, case: Any, as_of: Any = None, names: Any = None,
                 source: str | None = None) -> Any: ...


class CaseLike(Protocol):
    """A read case (:class:`engine.api.Case`)."""

    root: Any

    @property
    def case_id(self) -> Any: ...

    @property
    def as_of(self) -> dt.date | None: ...


__all__ = ["Where", "ExpressionLike", "EvaluatorLike", "StateLike", "BodyLike", "EngineLike",
           "CaseLike"]
