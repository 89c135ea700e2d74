"""The case reader as it was before it was made fast: the oracle of the differential tests.

``engine.io.case_data.normalise_case``, ``engine.model.entities.build_case`` and the compiled
validator were rewritten for speed with the promise that no value, error or message changes.
This module keeps the straightforward versions they replaced (copied from the engine as of
commit d96bd46), so that tests can compare the two on households, hostile cases and generated
mutations. It is test code: nothing in the engine imports it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from engine.errors import CaseError, SchemaError, codes
from engine.io.schemas import problems
from engine.io.yaml_loader import LineDict, LineList, line_of
from engine.model.entities import MAX_COLLECTION, Entity, EntityKind


def reference_normalise(value: Any) -> Any:
    if isinstance(value, LineDict):
        out = LineDict((k, reference_normalise(v)) for k, v in value.items())
        out.line, out.key_lines = value.line, value.key_lines
        return out
    if isinstance(value, dict):
        return {k: reference_normalise(v) for k, v in value.items()}
    if isinstance(value, LineList):
        items = LineList(reference_normalise(v) for v in value)
        items.line, items.item_lines = value.line, value.item_lines
        return items
    if isinstance(value, (list, tuple)):
        return [reference_normalise(v) for v in value]
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def reference_validate(data: Any, file: str | None) -> None:
    """jsonschema alone, as the authority."""
    found = problems("case", data, file)
    if found:
        raise SchemaError(problems=found)


def reference_build_case(data: dict, root: EntityKind, file: str | None) -> Entity:
    if not isinstance(data, dict):
        raise CaseError("A case must be a mapping with case_id and people.",
                        code=codes.CASE_NOT_MAPPING, file=file)
    case = _build(data, root, None, None, file, "")
    _check_references(case, data)
    check_constraints(case, data)
    return case


def _check_references(case: Entity, data) -> None:
    """Every id a `references` fact holds must name an entity of that kind in this case: a
    spouse or parent who is not in the case would otherwise silently change a household."""
    ids: dict[str, set] = {}
    entities = []

    def walk(entity, raw):
        entities.append((entity, raw))
        if entity.id is not None:
            ids.setdefault(entity.kind.name, set()).add(entity.id)
        for name, children in entity.children.items():
            raws = raw.get(name) or []
            for child, child_raw in zip(children, raws):
                walk(child, child_raw)

    walk(case, data)
    by_id: dict[tuple, tuple] = {}
    for entity, raw in entities:
        if entity.id is not None:
            by_id[(entity.kind.name, entity.id)] = (entity, raw)
    for entity, raw in entities:
        for name, spec in entity.kind.facts.items():
            if spec.references is None or name not in entity.facts:
                continue
            known = ids.get(spec.references, set())
            where = dict(code=codes.IMPOSSIBLE_RELATION, file=entity.file, line=line_of(raw, name),
                         field=f"{entity.path}.{name}")
            for item in _ids(entity.facts[name]):
                if item == entity.id and spec.references == entity.kind.name:
                    raise CaseError(f"The fact '{name}' of {entity.label()} names "
                                    f"{entity.label()} itself; no {entity.kind.name} can be their "
                                    f"own '{name}'.", **where)
                if item not in known:
                    if spec.outside_case:
                        continue             # someone outside the case, as the fact allows
                    listing = ", ".join(sorted(map(str, known))) or "none"
                    raise CaseError(
                        f"The fact '{name}' of {entity.label()} names '{item}', but no "
                        f"{spec.references} in the case has that id (the ids are: {listing}).",
                        **{**where, "code": codes.UNKNOWN_REFERENCE})
                if spec.mutual:
                    other, _ = by_id[(spec.references, item)]
                    if entity.id not in _ids(other.facts.get(name)):
                        back = other.facts.get(name)
                        says = f"names '{back}'" if back not in (None, []) else "names no one"
                        raise CaseError(
                            f"The fact '{name}' of {entity.label()} names '{item}', but the "
                            f"'{name}' of {other.label()} {says}; give each the other's id.",
                            **where)
            if spec.acyclic:
                cycle = _cycle_from(entity, name, spec.references, by_id)
                if cycle:
                    raise CaseError(
                        f"The fact '{name}' of {entity.label()} leads back to it: "
                        f"{' -> '.join(cycle)}. No {entity.kind.name} can be their own '{name}' "
                        "through others.",
                        **where)


def _ids(value) -> list:
    if value is None:
        return []
    return [v for v in value if v is not None] if isinstance(value, list) else [value]


def _cycle_from(start: Entity, name: str, kind: str, by_id: dict) -> list | None:
    """The ids of a path that follows ``name`` from ``start`` back to it, or None (iterative:
    a case has at most 1,000 people, and a recursive search could exhaust the stack)."""
    stack = [(start, [str(start.id)])]
    seen = set()
    while stack:
        entity, path = stack.pop()
        for item in _ids(entity.facts.get(name)):
            if item == start.id:
                return path + [str(item)]
            if item in seen or (kind, item) not in by_id:
                continue
            seen.add(item)
            stack.append((by_id[(kind, item)][0], path + [str(item)]))
    return None


def _build(data: dict, kind: EntityKind, parent: Entity | None, index: int | None,
           file: str | None, path: str) -> Entity:
    facts: dict[str, Any] = {}
    collections: dict[str, list] = {}
    for key, raw in data.items():
        where = f"{path}.{key}" if path else str(key)
        if key in kind.children:
            if raw is None:
                raw = []
            if not isinstance(raw, list):
                raise CaseError(f"'{key}' must be a list.", code=codes.BAD_COLLECTION, file=file,
                                line=line_of(data, key), field=where)
            if len(raw) > MAX_COLLECTION:
                raise CaseError(f"'{key}' has {len(raw)} entries; at most {MAX_COLLECTION} are "
                                "allowed.", code=codes.BAD_COLLECTION, file=file,
                                line=line_of(data, key), field=where)
            collections[key] = raw
            continue
        spec = kind.facts.get(key)
        if spec is None:
            known = ", ".join(sorted(list(kind.facts) + list(kind.children)))
            raise CaseError(f"'{key}' is not a fact of a {kind.name}. The facts are: {known}.",
                            code=codes.UNKNOWN_CASE_KEY,
                            file=file, line=line_of(data, key), field=where)
        try:
            facts[key] = spec.coerce(raw)
        except ValueError as exc:
            raise CaseError(f"The fact '{key}' of {_label(kind, data, parent, index)} is not "
                            f"valid: {exc}.",
                            code=codes.BAD_FACT, file=file, line=line_of(data, key),
                            field=where) from None
        if raw is None and isinstance(facts[key], list):
            # The one intended change from the old reader: a list default given as an explicit
            # null is the entity's own copy, as for a fact left out (the old reader shared the
            # rulebook's default list between entities).
            facts[key] = list(facts[key])
    # Facts the case leaves out take their defaults here, once (None when optional), so that
    # reading them is a plain lookup; a required fact stays absent and errors when read.
    for name, spec in kind.defaults:
        if name not in facts:
            facts[name] = list(spec.default) if isinstance(spec.default, list) else spec.default
    entity = Entity(kind, facts, parent, index, getattr(data, "line", None), path or kind.name, file)
    if kind.id_fact and entity.id is None:
        raise CaseError(f"Each {kind.name} needs '{kind.id_fact}'.",
                        code=codes.MISSING_ID, file=file,
                        line=getattr(data, "line", None), field=f"{path}.{kind.id_fact}")
    for name, child_kind in kind.children.items():
        items = collections.get(name, [])
        built = []
        seen_ids: dict[Any, int] = {}
        for i, item in enumerate(items):
            item_path = f"{path}.{name}[{i}]" if path else f"{name}[{i}]"
            if not isinstance(item, dict):
                raise CaseError(f"Each entry of '{name}' must be a mapping.",
                                code=codes.BAD_COLLECTION,
                                file=file, line=line_of(items, i), field=item_path)
            child = _build(item, child_kind, entity, i, file, item_path)
            if child.id is not None:
                if child.id in seen_ids:
                    raise CaseError(f"Two entries of '{name}' have the id '{child.id}'; ids must "
                                    "be unique.",
                                    code=codes.DUPLICATE_ID, file=file, line=child.line,
                                    field=item_path)
                seen_ids[child.id] = i
            built.append(child)
        entity.children[name] = built
    return entity


def _label(kind: EntityKind, data: dict, parent, index) -> str:
    if kind.id_fact and isinstance(data.get(kind.id_fact), str):
        return f"{kind.name} '{data[kind.id_fact]}'"
    if parent is None:
        return f"the {kind.name}"
    number = f" {index + 1}" if index is not None else ""
    owner = f" of {parent.label()}" if parent.parent is not None else ""
    return f"{kind.name}{number}{owner}"


def check_constraints(case, data) -> None:
    """Raise :class:`CaseError` (E434) for the first contradiction a case's facts declare."""
    pairs = []

    def walk(entity, raw):
        pairs.append((entity, raw))
        for name, children in entity.children.items():
            for child, child_raw in zip(children, (raw.get(name) or []) if isinstance(raw, dict) else []):
                walk(child, child_raw)

    walk(case, data)
    if not any(spec.constraints for entity, _ in pairs for spec in entity.kind.facts.values()):
        return
    by_id = {(e.kind.name, e.id): e for e, _ in pairs if e.id is not None}
    for entity, raw in pairs:
        for name, spec in entity.kind.facts.items():
            if spec.constraints:
                _check(entity, raw, name, spec.constraints, by_id)


def _where(entity, raw, name) -> dict:
    return dict(code=codes.CONTRADICTORY_FACTS, file=entity.file, line=line_of(raw, name) if isinstance(raw, dict) else None,
                field=f"{entity.path}.{name}")


def _check(entity, raw, name, constraints, by_id) -> None:
    value = entity.facts.get(name)
    parent = entity.parent
    collection = entity.kind.collection
    siblings = parent.children.get(collection, []) if parent is not None else [entity]
    if value in (constraints.get("at_most_one_of") or ()):
        first = next(s for s in siblings if s.facts.get(name) == value)
        if first is not entity:
            raise CaseError(
                f"{entity.label()} has '{name}' {value}, but {first.label()} already has it; "
                f"{parent.label() if parent is not None else 'the case'} may have only one "
                f"{entity.kind.name} with '{name}' {value}.", **_where(entity, raw, name))
    needs = (constraints.get("requires_one_of") or {}).get(value)
    if needs:
        holder, given = entity, False
        while holder is not None and not given:
            given = any(holder.facts.get(fact) is not None for fact in needs)
            holder = holder.parent
        if not given:
            raise CaseError(
                f"{entity.label()} has '{name}' {value}, which needs one of "
                f"{', '.join(needs)} to be given (on it or above it), and the case gives none.",
                **_where(entity, raw, name))
    through = constraints.get("same_id_on")
    if through and value is True and parent is not None:
        other_id = parent.facts.get(through)
        other = by_id.get((parent.kind.name, other_id)) if other_id is not None else None
        if other is None:
            raise CaseError(
                f"{entity.label()} has '{name}' true, but {parent.label()} has no '{through}' "
                "in the case to share it with.", **_where(entity, raw, name))
        theirs = [e.id for e in other.children.get(collection, [])]
        if entity.id not in theirs:
            raise CaseError(
                f"{entity.label()} has '{name}' true, but {other.label()} (the '{through}' of "
                f"{parent.label()}) does not name '{entity.id}' in '{collection}'; give it to "
                "both, with the same id.", **_where(entity, raw, name))
