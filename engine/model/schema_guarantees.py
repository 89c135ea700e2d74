"""Which facts of a kind the case schema already guarantees to be as the fact wants them.

A case is validated against ``schemas/case.schema.json`` before its entities are built. For
some facts every value the schema lets through is one that ``FactSpec.coerce`` returns
unchanged: a true/false fact the schema types ``boolean``, a text fact it types ``string``
(or ``string`` or ``null`` when null means "not given"), an integer fact whose schema bounds lie
within the fact's own. For those the builder of a validated case copies the values in one step
(:mod:`engine.model.kind_reader`) instead of looking at each one.

The proof is made from the two declarations, here, once per kind; any doubt (a kind the schema
does not describe, a keyword this module does not read) leaves the fact to the general path.
Only the keywords that widen what a value may be matter (``type``, ``enum``, ``anyOf``,
``oneOf``, the bounds of an integer); the others only narrow it.
"""

from __future__ import annotations

from typing import Any

from ..io.schemas import schema_document
from ..io.values import MAX_WHOLE_DIGITS

_WHOLE_LIMIT = 10 ** MAX_WHOLE_DIGITS


def facts_kept_by_schema(kind: Any) -> frozenset[str]:
    """The facts of ``kind`` whose schema-valid values ``coerce`` returns unchanged."""
    schema = schema_document("case")
    node = _kind_node(kind, schema)
    if node is None:
        return frozenset()
    kept = set()
    for name, spec in kind.facts.items():
        if name in kind.children:
            continue
        prop = _property(node, name, schema)
        if prop is not None and _unchanged(spec, prop, schema):
            kept.add(name)
    return frozenset(kept)


def _parts(node: Any, schema: dict, depth: int = 0) -> list[dict]:
    """A schema node and the local definitions it refers to: all of them hold for a value."""
    if not isinstance(node, dict) or depth > 10:
        return []
    parts = [node]
    ref = node.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith("#/$defs/") or "/" in ref[8:]:
            return []             # a reference this module does not follow: no proof
        target = schema.get("$defs", {}).get(ref[8:])
        if target is None:
            return []
        parts += _parts(target, schema, depth + 1)
    return parts


def _kind_node(kind: Any, schema: dict) -> dict | None:
    """The schema node of one entity of ``kind``: the root for the root kind, else the items of
    its collection's array in its parent's node."""
    chain = []
    while kind.parent is not None:
        chain.append(kind.collection)
        kind = kind.parent
    node: dict | None = schema
    for collection in reversed(chain):
        prop = _property(node, collection, schema)
        items = next((p["items"] for p in _parts(prop, schema) if isinstance(p.get("items"), dict)),
                     None)
        if items is None:
            return None
        node = items
    return node


def _property(node: Any, name: str, schema: dict) -> Any:
    for part in _parts(node, schema):
        properties = part.get("properties")
        if isinstance(properties, dict) and name in properties:
            return properties[name]
    return None


def _unchanged(spec: Any, node: Any, schema: dict) -> bool:
    """Whether every value ``node`` accepts is returned unchanged by ``spec.coerce``: it is
    enough that one of the node's parts (all of which hold) shows it."""
    return any(_part_unchanged(spec, part, schema) for part in _parts(node, schema))


def _part_unchanged(spec: Any, part: dict, schema: dict) -> bool:
    for alternatives in ("anyOf", "oneOf"):
        if alternatives in part:
            options = part[alternatives]
            return isinstance(options, list) and bool(options) and all(
                _unchanged(spec, option, schema) for option in options)
    if "enum" in part:
        return isinstance(part["enum"], list) and all(_value_unchanged(spec, v) for v in part["enum"])
    types = part.get("type")
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not types:
        return False
    return all(_type_unchanged(spec, kind, part) for kind in types)


def _value_unchanged(spec: Any, value: Any) -> bool:
    try:
        return spec.coerce(value) is value
    except ValueError:
        return False


def _type_unchanged(spec: Any, kind: Any, part: dict) -> bool:
    open_fact = spec.enum is None and spec.minimum is None and spec.maximum is None
    if kind == "boolean":
        return spec.type == "boolean" and open_fact
    if kind == "string":
        return spec.type == "text" and open_fact
    if kind == "null":       # coerce(None) is the default, or None for an optional fact
        if spec.has_default:
            return spec.default is None
        return not spec.required
    if kind == "integer":
        low, high = part.get("minimum"), part.get("maximum")
        if spec.type != "integer" or spec.enum is not None or type(low) is not int or type(high) is not int:
            return False
        return (-_WHOLE_LIMIT < low <= high < _WHOLE_LIMIT
                and (spec.minimum is None or spec.minimum <= low)
                and (spec.maximum is None or high <= spec.maximum))
    return False
