"""Contradictions a case file may not contain, declared as properties of its facts.

Some facts constrain the other entities of a case: a person has at most one *primary*
authorized representative, an application-only representative needs an application, a
representative shared with a spouse must be named by the spouse too. ``policy/case.yaml`` states
these as properties of the fact (so the vocabulary says them, not this module):

* ``at_most_one_of: [VALUE, ...]``: among the entities of one collection under the same parent,
  at most one may have each VALUE (two primary representatives for one person),
* ``requires_one_of: {VALUE: [FACT, ...]}``: an entity whose fact has VALUE needs one of the
  FACTs given on itself or on an entity above it (an application-only representative with no
  application date),
* ``same_id_on: FACT``: when this boolean fact is true, the entity named by the parent's FACT
  (the spouse) must hold an entity with the same id in the same collection (a shared
  representative the spouse does not name).

A contradiction is refused when the case is read (error E434) naming the file, the line and the
field, like every other invalid case: evaluating it would give answers about a case that cannot be.
"""

from __future__ import annotations

from ..errors import CaseError, codes
from ..io.yaml_loader import line_of

#: The fact properties this module reads (the rulebook schema lists them too).
PROPERTIES = ("at_most_one_of", "requires_one_of", "same_id_on")


def check_constraints(pairs) -> None:
    """Raise :class:`CaseError` (E434) for the first contradiction a case's facts declare.

    ``pairs``: the case's (entity, its data) pairs, each entity before those it holds, as
    :func:`engine.model.entities.build_case` collects them while building (it calls this only
    for a case with a kind whose facts declare constraints)."""
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
