"""Where an expression stands, which decides what its names mean.

The compiler resolves every name of every expression against a :class:`NameContext`: the
namespace and the ``uses`` of the rulebook it is written in, the definition that owns it, the
entity kind whose facts and rules it may read, the arguments in scope and, inside an aggregate,
the context of the enclosing expression. Deadlines, notices and mass changes (``engine.actions``)
build contexts for their own expressions, which is why this record lives in the model, below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from .entities import EntityKind


@dataclass
class NameContext:
    """What names mean where an expression stands."""

    namespace: str
    uses: frozenset
    owner: object                      # the definition (for messages and edges)
    entity_kind: EntityKind | None
    args: frozenset = frozenset()
    outer: "NameContext | None" = None
    pure: bool = False                 # functions and charts: no facts, no rules


class Resolved(NamedTuple):
    """What the compiler resolved a name or a call to, kept on the expression's node
    (``node.resolved``) for the tools that read expressions after compiling, such as the type
    checker of ``policy check``, so that they need not resolve names a second way.

    ``kind`` is ``"arg"`` (``what``: the argument's name), ``"as_of"``, ``"param"``, ``"rule"``
    or ``"function"`` (the definition), ``"fact"`` (its ``FactSpec``), ``"builtin"`` (its
    ``Builtin`` record) or ``"outer"`` (``what``: the ``Resolved`` of the name in the enclosing
    context).
    """

    kind: str
    what: Any
