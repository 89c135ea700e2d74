"""Comparing what the fast and the reference case readers make of the same input."""

from __future__ import annotations

from typing import Any, Callable

from engine.errors import PolicyError
from engine.io.yaml_loader import LineDict, LineList


def typed(value: Any) -> Any:
    """A value with its type spelled out, all the way down (``Decimal("1.0")`` is not ``1``,
    a LineDict keeps its lines)."""
    if isinstance(value, dict):
        lines = (value.line, value.key_lines) if isinstance(value, LineDict) else None
        return (type(value).__name__, lines, [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        lines = (value.line, value.item_lines) if isinstance(value, LineList) else None
        return (type(value).__name__, lines, [typed(v) for v in value])
    return (type(value).__name__, repr(value))


def snapshot(entity) -> tuple:
    """Everything an entity tree holds that the engine reads. The facts are compared as a
    mapping: nothing in the engine reads them in order (the fast builder puts defaults first)."""
    return (entity.kind.name, entity.id, entity.index, entity.line, entity.path, entity.file,
            sorted((name, typed(value)) for name, value in entity.facts.items()),
            [(name, [snapshot(child) for child in children])
             for name, children in entity.children.items()])


def outcome(read: Callable[[], Any], describe: Callable[[Any], tuple] | None = None) -> tuple:
    """("built", snapshot of the entity tree read), ("refused", error class, every problem
    as a dict) or ("crashed", exception class, its text); ``describe`` turns what ``read``
    returns into the first form instead."""
    try:
        built = read()
    except PolicyError as exc:
        return ("refused", type(exc).__name__, [problem.as_dict() for problem in exc.problems])
    except Exception as exc:                # noqa: BLE001 - compared, so that both crash alike
        return ("crashed", type(exc).__name__, str(exc))
    return describe(built) if describe else ("built", snapshot(built))


def _person(ident, **facts):
    return {"id": ident, **facts}


def relation_cases() -> list[list[dict]]:
    """The people of cases whose relations the readers check one by one: cycles of every
    length, self-references, one-sided spouses, unknown ids, a child claimed by a parent whose
    spouse is the other parent (which holds). Nine of the twelve are refused."""
    person = _person
    return [
        [person("a", parents=["b"]), person("b", parents=["a"])],
        [person("a", parents=["b"]), person("b", parents=["c"]), person("c", parents=["a"])],
        [person("a", parents=["b"]), person("b", parents=["b"])],
        [person("a", claimed_by="b"), person("b", claimed_by="c"), person("c", claimed_by="b")],
        [person("a", claimed_by="x"), person("b", claimed_by="a")],
        [person("a", parents=["b", "c"]), person("b"), person("c", parents=["d"]),
         person("d", parents=["a"])],
        [person("a", spouse="b"), person("b")],
        [person("a", spouse="b"), person("b", spouse="c"), person("c", spouse="b")],
        [person("a", parents=["x"])],
        [person("a", siblings=["b"]), person("b", siblings=["a"])],
        [person("a", caretaker_of=["a"])],
        [person("k", parents=["a", "b"], claimed_by="a"), person("a", spouse="b"),
         person("b", spouse="a")],
    ]
