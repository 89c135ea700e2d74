"""Where an expression stands, which decides what its names mean.

The compiler resolves every name of every expression against a :class:`NameContext`: the
namespace and the ``uses`` of the rulebook it is written in, the definition that owns it, the
entity kind whose facts and rules it may read, the arguments in scope and, inside an aggregate,
the context of the enclosing expression. Deadlines, notices and mass changes (``engine.actions``)
build contexts for their own expressions, which is why this record lives in the model, below both.
"""

from __future__ import annotations

from dataclasses import dataclass

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
