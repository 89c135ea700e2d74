"""A helper for tests that check something of every value a result depends on."""

from __future__ import annotations

from engine.runtime.trace import Node


def computed_nodes(node: Node):
    """``node`` and every computed value (trace :class:`Node`) behind it, each once, depth first
    from the last read (facts are left out: they have no reason or citations of their own)."""
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if id(current) in seen or current.__class__ is not Node:
            continue
        seen.add(id(current))
        stack.extend(current.deps)
        yield current
