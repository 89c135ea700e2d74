"""Entities and facts: the shape of a case, declared as data, and the case built from it.

A rulebook declares the kinds of entity a case holds (the case itself, its people, their
incomes), how they nest, and each one's facts with a type. This module turns a parsed case file
into :class:`Entity` objects: every fact the case gives is converted to its declared type here,
once, with an error naming the fact, the entity and the file line when it does not fit. A fact
the case leaves out is only an error when a rule reads it (:meth:`Entity.fact`), so that the
error can name that rule too.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..language.dates import parse_date, years_between
from .definitions import Scope
from .case_constraints import check_constraints
from .kind_reader import NO_NULL, KindReader
from ..errors import CaseError, EvaluationError, codes
from ..language.numbers import MAX_WHOLE_DIGITS, NotANumber, check_magnitude, to_decimal
from ..io.yaml_loader import line_of

FACT_TYPES = ("text", "integer", "decimal", "money", "percent", "boolean", "date", "list")

#: Most entities of one collection in a case (people in a case, incomes of a person).
MAX_COLLECTION = 1_000


@dataclass
class FactSpec:
    name: str
    type: str
    required: bool = True
    default: Any = None
    has_default: bool = False
    enum: tuple | None = None
    minimum: Any = None
    maximum: Any = None
    description: str | None = None
    file: str | None = None
    line: int | None = None
    references: str | None = None     # the entity kind whose ids the fact holds
    # How a `references` fact may relate entities (section 8 of docs/language.md):
    outside_case: bool = False        # its ids may also name someone who is not in the case
    acyclic: bool = False             # following it from entity to entity never comes back
    mutual: bool = False              # the entity it names must name this one back
    # Facts that must agree with the evaluation date (checked by `check_on`):
    not_after: str | None = None      # "as_of": a date that cannot be after the evaluation date
    whole_years_since: str | None = None   # an age: the whole years from that date fact to as_of
    constraints: dict | None = None   # contradictions refused (engine.model.case_constraints)

    def coerce(self, raw):
        """Convert a value from a case file to this fact's type, or raise ValueError."""
        if raw is None:
            if self.required and not self.has_default:
                raise ValueError("it is empty (null) but a value is required")
            return self.default if self.has_default else None
        kind = self.type
        if kind == "text":
            if not isinstance(raw, str):
                raise ValueError(f"it must be text, not {_describe(raw)}")
            value = raw
        elif kind == "integer":
            if isinstance(raw, bool):
                raise ValueError("it must be a whole number, not true/false")
            if isinstance(raw, int):
                value = raw
            elif isinstance(raw, Decimal) and raw.is_finite() and raw == raw.to_integral_value():
                value = int(raw)
            elif isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
                if len(raw.strip()) > MAX_WHOLE_DIGITS + 1:
                    raise ValueError(f"it has more than {MAX_WHOLE_DIGITS} digits")
                value = int(raw.strip())
            else:
                raise ValueError(f"it must be a whole number, not {_describe(raw)}")
            check_magnitude(value)
        elif kind in ("decimal", "money", "percent"):
            try:
                value = to_decimal(raw)
                check_magnitude(value)
            except NotANumber as exc:
                raise ValueError(f"it must be a number such as \"1993.18\": {exc}") from None
        elif kind == "boolean":
            if not isinstance(raw, bool):
                raise ValueError(f"it must be true or false, not {_describe(raw)}")
            value = raw
        elif kind == "date":
            try:
                value = parse_date(raw)
            except ValueError as exc:
                raise ValueError(str(exc)) from None
        elif kind == "list":
            if not isinstance(raw, list):
                raise ValueError(f"it must be a list, not {_describe(raw)}")
            value = list(raw)
        else:  # pragma: no cover - the schema restricts types
            raise ValueError(f"unknown fact type {kind}")
        if self.enum is not None and value not in self.enum:
            allowed = ", ".join(str(v) for v in self.enum)
            shown = value if len(str(value)) <= 60 else f"{str(value)[:40]}..."
            raise ValueError(f"'{shown}' is not one of the allowed values: {allowed}")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"{value} is below the smallest allowed value, {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"{value} is above the largest allowed value, {self.maximum}")
        return value


def _describe(raw) -> str:
    if isinstance(raw, bool):
        return "true/false"
    if isinstance(raw, (int, Decimal)):
        small = abs(raw) < 10 ** 40 if isinstance(raw, int) else len(str(raw)) < 60
        return f"the number {raw}" if small else "a number too large to show"
    if isinstance(raw, str):
        return f"the text '{raw}'" if len(raw) <= 60 else f"the text '{raw[:40]}...' ({len(raw):,} characters)"
    if isinstance(raw, list):
        return "a list"
    if isinstance(raw, dict):
        return "a mapping"
    return type(raw).__name__


@dataclass
class EntityKind:
    """A kind of entity: ``case``, ``person``, ``income``..."""

    name: str
    facts: dict[str, FactSpec]
    parent: "EntityKind | None" = None
    parent_name: str | None = None
    collection: str | None = None
    id_fact: str | None = None
    children: dict[str, "EntityKind"] = field(default_factory=dict)
    file: str | None = None
    line: int | None = None

    @property
    def defaults(self) -> list:
        """(name, spec) of every fact a case may leave out: it has a default or is optional."""
        cached = self.__dict__.get("_defaults")
        if cached is None:
            cached = self.__dict__["_defaults"] = [
                (n, s) for n, s in self.facts.items() if s.has_default or not s.required]
        return cached

    @property
    def dated(self) -> list:
        """(name, spec) of the facts checked against the evaluation date (``check_on``)."""
        cached = self.__dict__.get("_dated")
        if cached is None:
            cached = self.__dict__["_dated"] = [
                (n, s) for n, s in self.facts.items() if s.not_after or s.whole_years_since]
        return cached

    @property
    def reader(self) -> KindReader:
        """What building an entity of this kind needs, prepared once (:mod:`.kind_reader`)."""
        cached = self.__dict__.get("_reader")
        if cached is None:
            cached = self.__dict__["_reader"] = KindReader(self)
        return cached

    def __getstate__(self):
        """Pickled (in a rulebook bundle) without the prepared tables, which are rebuilt."""
        state = dict(self.__dict__)
        state.pop("_reader", None)
        return state

    def ancestors(self):
        """This kind, then its parent, then the parent's parent..."""
        kind = self
        while kind is not None:
            yield kind
            kind = kind.parent

    def distance_to(self, ancestor: "EntityKind") -> int | None:
        """How many levels up ``ancestor`` is (0 for this kind), or None if it is not above."""
        for depth, kind in enumerate(self.ancestors()):
            if kind is ancestor:
                return depth
        return None

    def find_collection(self, name: str):
        """(levels up, child kind) for a collection of this kind or of a kind above it."""
        for depth, kind in enumerate(self.ancestors()):
            if name in kind.children:
                return depth, kind.children[name]
        return None


class Entity:
    """One entity of a case: the case itself, a person, an income."""

    __slots__ = ("kind", "id", "facts", "parent", "children", "index", "line", "path", "uid", "reads",
                 "file", "scope", "members")

    #: Every entity's ``uid``, in the order they are made, shared by all that make entities
    #: (:func:`build_case`, and :mod:`engine.model.case_rows` reading a chunk into rows).
    uids = itertools.count()

    def __init__(self, kind: EntityKind, facts: dict, parent: "Entity | None", index: int | None,
                 line: int | None, path: str, file: str | None = None):
        self.file = file          # the case file the entity was read from, for messages
        self.kind = kind
        self.facts = facts
        self.parent = parent
        self.children: dict[str, list[Entity]] = {}
        self.index = index
        self.line = line
        self.path = path
        self.id = facts.get(kind.id_fact) if kind.id_fact else None
        self.uid = next(Entity.uids)
        # One trace record per fact read, shared: facts do not change during evaluation. A
        # missing fact with a default is recorded with its default; an error is never cached.
        self.reads: dict = {}
        self.scope = Scope(self)   # the scope its rules are computed in (immutable, so shared)
        # The root entity a case is built as: every entity of the case, itself first, each one
        # before those it holds (depth first, collections in the kind's order), as built; None
        # for an entity built otherwise (the columnar plan then walks the tree itself).
        self.members: list | None = None

    def release(self) -> None:
        """Drop what refers back to this entity or to its relatives (see :func:`release`)."""
        self.scope = self.parent = self.members = None
        self.children, self.reads = {}, {}

    def label(self) -> str:
        """How messages name this entity: ``person 'dad'``, ``income 1 of person 'dad'``."""
        if self.id is not None:
            return f"{self.kind.name} '{self.id}'"
        if self.parent is None:
            return f"the {self.kind.name}"
        if self.index is not None:
            owner = self.parent.label() if self.parent.parent is not None else "the case"
            return f"{self.kind.name} {self.index + 1} of {owner}"
        return self.kind.name

    def person_id(self):
        """The id of this entity or of the nearest entity above it that has an id."""
        entity = self
        while entity is not None:
            if entity.id is not None:
                return entity.id
            entity = entity.parent
        return None

    def fact(self, name: str, needed_by):
        """A fact's value; its default; None if optional; else an error naming the rule.

        The error points at the entity in the case file (where the fact must be added); the
        message names the rule that needed it (``needed_by()`` describes it, only on error)."""
        try:
            return self.facts[name]
        except KeyError:
            pass
        spec = self.kind.facts[name]
        if spec.has_default:
            default = spec.default
            return list(default) if isinstance(default, list) else default
        if not spec.required:
            return None
        raise EvaluationError(
            f"{needed_by()} needs the fact '{name}' of {self.label()}, which the case does not "
            f"give. Add '{name}' to {self.label()} in the case file.",
            code=codes.MISSING_FACT, file=self.file, line=self.line if self.file else None,
            field=f"{self.path}.{name}")


def build_case(data: dict, root: EntityKind, file: str | None, validated: bool = False) -> Entity:
    """Build the entity tree of a case from parsed (and schema-checked) case data.

    ``validated``: the data, as :func:`engine.io.case_data.normalise_case` made it (no floats),
    is valid to ``schemas/case.schema.json``, as ``Engine.read_case`` makes sure; the facts the
    schema then guarantees are copied without a look at each."""
    if not isinstance(data, dict):
        raise CaseError("A case must be a mapping with case_id and people.",
                        code=codes.CASE_NOT_MAPPING, file=file)
    built = _Built(validated)
    case = _build(data, root, root.reader, None, None, file, "", built)
    if built.referring:
        _check_references(built, built.referring)
    if built.constrained:
        check_constraints(list(zip(built.entities, built.datas)))
    case.members = built.entities
    return case


class _Built:
    """What building a case's entities noted for the checks that follow."""

    __slots__ = ("entities", "datas", "referring", "constrained", "validated", "ids", "shared")

    def __init__(self, validated: bool) -> None:
        self.validated = validated                  # the data is valid to the case schema
        self.entities: list[Entity] = []            # the entities, each before those it holds
        self.datas: list[Any] = []                  # the data of each, in the same order
        self.referring: list[tuple] = []            # (entity, data, its kind's reader), same order
        self.constrained = False                    # a fact of some entity declares constraints
        self.ids: dict[str, dict] = {}              # kind -> id -> its entity (the last one)
        self.shared: set[str] = set()               # kinds with an id held by two entities


def _check_references(built: _Built, referring: list) -> None:
    """Every id a `references` fact holds must name an entity of that kind in this case: a
    spouse or parent who is not in the case would otherwise silently change a household.

    ``built`` holds the case's entities, the case first, each entity before the entities it
    holds, and (``ids``) the entity of each id per kind, noted while building; ``referring``
    the (entity, data, its kind's reader) of those whose kind has reference facts, in the same
    order. A quick pass first shows that every relation holds, as it does in nearly every case
    (cycles looked for once over the whole case, in linear time); only when it cannot does
    :func:`_first_relation_problem` look for the first problem in order and word it."""
    if not relations_hold(referring, built.ids, built.shared):
        ids: dict[str, set] = {}
        by_id: dict[tuple, tuple] = {}
        for pair in zip(built.entities, built.datas):
            entity = pair[0]
            if entity.id is not None:
                name = entity.kind.name
                ids.setdefault(name, set()).add(entity.id)
                by_id[(name, entity.id)] = pair
        _first_relation_problem(referring, ids, by_id)


def relations_hold(referring: list, index: dict, shared: set) -> bool:
    """True when no reference fact of the case has a problem :func:`_first_relation_problem`
    would report; False when one may (that function then finds it, or finds none).

    ``referring``: the (entity, data, its kind's reader) of the case's entities whose kind has
    reference facts, in order; ``index``: per kind, id -> the entity with that id (the last
    one); ``shared``: the kinds with an id held by two entities. Only the entities' ``id``,
    ``kind`` and the reference facts in their ``facts`` are read."""
    graphs: dict[tuple, dict] = {}
    nobody: dict = {}
    for entity, _, reader in referring:
        facts = entity.facts
        get = reader.relation_values
        if get is not None:
            values = get(facts)
            if values == reader.no_relations:
                continue              # names no one (the defaults): nothing to check
            pairs = zip(reader.relations, values)
        else:
            pairs = ((relation, facts.get(relation[0])) for relation in reader.relations)
        for (name, target, same_kind, outside_case, mutual, acyclic), value in pairs:
            if value is None:
                continue              # no ids: nothing to check, no cycle can start here
            if value.__class__ is str:
                items = (value,)
            elif value.__class__ is list:
                if not value:
                    continue
                items = value
            elif value == []:
                continue
            else:
                items = value if isinstance(value, list) else (value,)
            known = index.get(target, nobody)
            followed = []
            for item in items:
                if item is None:
                    continue
                if same_kind and item == entity.id:
                    return False
                if item not in known:
                    if outside_case:
                        continue
                    return False
                if mutual:
                    back = known[item].facts.get(name)
                    if back is None or (back != entity.id and entity.id not in _ids(back)):
                        return False
                followed.append(item)
            if acyclic:
                if not same_kind or target in shared:
                    return False      # ids shared or across kinds: follow each one the long way
                if followed:
                    graphs.setdefault((entity.kind.name, name), {})[entity.id] = followed
    return not any(_has_cycle(following) for following in graphs.values())


def _first_relation_problem(referring: list, ids: dict, by_id: dict) -> None:
    """Raise the first problem of the case's reference facts: by entity, then by fact in the
    kind's order, then by id held (an id naming its own entity, an id no entity has, a spouse
    who does not name this one back, and last a path that leads back to the entity)."""
    for entity, raw, reader in referring:
        for name, spec in reader.references:
            if name not in entity.facts:
                continue
            known = ids.get(spec.references, set())
            for item in _ids(entity.facts[name]):
                if item == entity.id and spec.references == entity.kind.name:
                    raise CaseError(f"The fact '{name}' of {entity.label()} names "
                                    f"{entity.label()} itself; no {entity.kind.name} can be their "
                                    f"own '{name}'.", **_where(entity, raw, name))
                if item not in known:
                    if spec.outside_case:
                        continue             # someone outside the case, as the fact allows
                    listing = ", ".join(sorted(map(str, known))) or "none"
                    raise CaseError(
                        f"The fact '{name}' of {entity.label()} names '{item}', but no "
                        f"{spec.references} in the case has that id (the ids are: {listing}).",
                        **{**_where(entity, raw, name), "code": codes.UNKNOWN_REFERENCE})
                if spec.mutual:
                    other, _ = by_id[(spec.references, item)]
                    if entity.id not in _ids(other.facts.get(name)):
                        back = other.facts.get(name)
                        says = f"names '{back}'" if back not in (None, []) else "names no one"
                        raise CaseError(
                            f"The fact '{name}' of {entity.label()} names '{item}', but the "
                            f"'{name}' of {other.label()} {says}; give each the other's id.",
                            **_where(entity, raw, name))
            if spec.acyclic:
                cycle = _cycle_from(entity, name, spec.references, by_id)
                if cycle:
                    raise CaseError(
                        f"The fact '{name}' of {entity.label()} leads back to it: "
                        f"{' -> '.join(cycle)}. No {entity.kind.name} can be their own '{name}' "
                        "through others.",
                        **_where(entity, raw, name))


def _where(entity: Entity, raw, name: str) -> dict:
    """Where a reference fact's problem is, for the error (worked out only for an error)."""
    return dict(code=codes.IMPOSSIBLE_RELATION, file=entity.file, line=line_of(raw, name),
                field=f"{entity.path}.{name}")


def _has_cycle(following: dict) -> bool:
    """Whether a path along ``following`` (an id -> the ids it leads to, each one an id of
    ``following`` or of an entity that leads nowhere) comes back to an id already on it: a
    depth-first search, each id visited once, without recursion."""
    if following.keys().isdisjoint(itertools.chain.from_iterable(following.values())):
        return False              # no path of two steps, so none back (the usual household)
    done: set = set()
    on_path: set = set()
    for start in following:
        if start in done:
            continue
        on_path.add(start)
        stack = [(start, iter(following[start]))]
        while stack:
            node, targets = stack[-1]
            for item in targets:
                if item in on_path:
                    return True
                if item not in done:
                    on_path.add(item)
                    stack.append((item, iter(following.get(item, ()))))
                    break
            else:
                stack.pop()
                on_path.discard(node)
                done.add(node)
    return False


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


def date_conflict(spec: FactSpec, value, since_value, on) -> str | None:
    """Why a dated fact's ``value`` cannot be true on the evaluation date ``on``, or None:
    ``"after"`` for a date declared ``not_after: as_of`` that is later, ``"years"`` for an age
    declared ``whole_years_since`` a date (``since_value``, None if not given) that is not the
    whole years from it to ``on``. One test for :func:`check_on`, which words the error, and
    for the columnar plan, which hands such a case to the per-case evaluator."""
    if value is None:
        return None
    if spec.not_after == "as_of" and value > on:
        return "after"
    if spec.whole_years_since and since_value is not None and isinstance(value, int) \
            and since_value <= on and years_between(since_value, on) != value:
        return "years"
    return None


def check_on(case: Entity, data, on) -> None:
    """Refuse facts that cannot be true on the evaluation date ``on`` (:func:`date_conflict`):
    a date declared ``not_after: as_of`` that is later (a date of birth in the future), and an
    age declared ``whole_years_since: FACT`` that is not the whole years from that date to
    ``on``."""

    def walk(entity: Entity, raw):
        for name, spec in entity.kind.dated:
            value = entity.facts.get(name)
            since = spec.whole_years_since
            born = entity.facts.get(since) if since else None
            conflict = date_conflict(spec, value, born, on)
            if conflict is None:
                continue
            where = dict(code=codes.IMPOSSIBLE_ON_DATE, file=entity.file, line=line_of(raw, name),
                         field=f"{entity.path}.{name}")
            if conflict == "after":
                raise CaseError(f"The fact '{name}' of {entity.label()} is {value.isoformat()}, "
                                f"after the evaluation date {on.isoformat()}; it cannot be.",
                                **where)
            raise CaseError(
                f"The fact '{name}' of {entity.label()} is {value}, but '{since}' "
                f"{born.isoformat()} makes it {years_between(born, on)} on the evaluation "
                f"date {on.isoformat()}; give one of them, or make them agree.", **where)
        for collection, children in entity.children.items():
            raws = (raw.get(collection) or []) if isinstance(raw, dict) else []
            for i, child in enumerate(children):
                walk(child, raws[i] if i < len(raws) else None)

    try:
        walk(case, data)
    finally:
        del walk      # it refers to itself (its closure): a cycle per case otherwise


def _build(data: dict, kind: EntityKind, reader: KindReader, parent: Entity | None,
           index: int | None, file: str | None, path: str, built: _Built) -> Entity:
    """The entity of ``data`` (of ``kind``, read with its ``reader``) and, below it, its
    collections' entities, noted in ``built`` (an entity before those it holds)."""
    read = None
    if built.validated and reader.schema_kept:
        read = _valid_facts(data, reader)
    if read is None:
        read = _facts(data, kind, reader, parent, index, file, path)
    facts, collections = read
    line = None if data.__class__ is dict else getattr(data, "line", None)
    entity = Entity(kind, facts, parent, index, line, path or kind.name, file)
    if kind.id_fact and entity.id is None:
        raise CaseError(f"Each {kind.name} needs '{kind.id_fact}'.",
                        code=codes.MISSING_ID, file=file,
                        line=line, field=f"{path}.{kind.id_fact}")
    built.entities.append(entity)
    built.datas.append(data)
    if entity.id is not None:
        known = built.ids.get(kind.name)
        if known is None:
            known = built.ids[kind.name] = {}
        elif entity.id in known:
            built.shared.add(kind.name)
        known[entity.id] = entity
    if reader.references:
        built.referring.append((entity, data, reader))
    if reader.constrained:
        built.constrained = True
    if not collections:
        if reader.collections:                  # each collection empty, a list of its own
            entity.children = {name: [] for name, _ in reader.collections}
        return entity
    held = entity.children
    for name, child_kind in reader.collections:
        items = collections.get(name)
        if not items:
            held[name] = []
            continue
        children = []
        seen_ids: set = set()
        child_reader = child_kind.reader
        for i, item in enumerate(items):
            item_path = f"{path}.{name}[{i}]" if path else f"{name}[{i}]"
            if not isinstance(item, dict):
                raise CaseError(f"Each entry of '{name}' must be a mapping.",
                                code=codes.BAD_COLLECTION,
                                file=file, line=line_of(items, i), field=item_path)
            child = _build(item, child_kind, child_reader, entity, i, file, item_path, built)
            if child.id is not None:
                if child.id in seen_ids:
                    raise CaseError(f"Two entries of '{name}' have the id '{child.id}'; ids must "
                                    "be unique.",
                                    code=codes.DUPLICATE_ID, file=file, line=child.line,
                                    field=item_path)
                seen_ids.add(child.id)
            children.append(child)
        held[name] = children
    return entity


def _valid_facts(data: dict, reader: KindReader) -> tuple[dict, dict | None] | None:
    """(facts, collections) of an entity's data that the case schema has accepted, or None
    when :func:`_facts` must look at it (a value to refuse, a key the kind does not know).

    The schema's guaranteed facts and every other value are copied at once; then only the keys
    the schema does not guarantee are looked at, in any order: nothing here raises, so which
    problem comes first is left to :func:`_facts`, which reads the keys in order. Which keys
    those are, and which list defaults the data leaves out, depend on its keys alone: worked out
    once per set of keys (:meth:`KindReader.shape`)."""
    defaults = reader.defaults
    facts = defaults.copy()
    facts.update(data)
    rest, lists_left_out = reader.shape(data)
    collections = None
    if rest:
        collections = {}
        plan = reader.plan
        for key in rest:
            raw = data[key]
            step = plan.get(key)
            if step is not None:
                if raw.__class__ is list and key in reader.list_facts:
                    facts[key] = raw.copy()     # what coerce makes of a list
                    continue
                expected, allowed, null, coerce = step
                if raw.__class__ is expected and (allowed is None or raw in allowed):
                    continue                    # copied as given
                if raw is None and null is not NO_NULL:
                    # what FactSpec.coerce makes of null; a list default as the entity's own
                    facts[key] = list(null) if isinstance(null, list) else null
                    continue
                try:
                    facts[key] = coerce(raw)
                except Exception:               # noqa: BLE001 - _facts raises it, in order
                    return None
            elif key in reader.children and raw.__class__ is list and len(raw) <= MAX_COLLECTION:
                collections[key] = raw
                del facts[key]
            else:
                return None
    for name in lists_left_out:             # a list default: the entity's own copy
        facts[name] = list(defaults[name])
    return facts, collections


def _facts(data: dict, kind: EntityKind, reader: KindReader, parent: Entity | None,
           index: int | None, file: str | None, path: str) -> tuple[dict, dict]:
    """(facts, collections) of an entity's data, every key looked at in order: the first key
    that is not valid raises its error."""
    plan = reader.plan
    # Facts the case leaves out take their defaults (None when optional), once, so that reading
    # them is a plain lookup; a required fact stays absent and errors when read. Starting from
    # a copy of the defaults is cheaper than adding each missing one.
    defaults = reader.defaults
    facts: dict[str, Any] = defaults.copy()
    collections: dict[str, list] = {}
    for key in data:
        raw = data[key]
        step = plan.get(key)
        if step is not None:
            expected, allowed, null, coerce = step
            if raw.__class__ is expected and (allowed is None or raw in allowed):
                facts[key] = raw                # as the fact wants it (text, true/false, whole)
            elif raw is None and null is not NO_NULL:
                facts[key] = null               # what FactSpec.coerce makes of null
            else:
                try:
                    facts[key] = coerce(raw)
                except ValueError as exc:
                    raise CaseError(f"The fact '{key}' of {_label(kind, data, parent, index)} is "
                                    f"not valid: {exc}.",
                                    code=codes.BAD_FACT, file=file, line=line_of(data, key),
                                    field=f"{path}.{key}" if path else str(key)) from None
            continue
        if key in kind.children:
            if raw is None:
                raw = []
            if not isinstance(raw, list):
                raise CaseError(f"'{key}' must be a list.", code=codes.BAD_COLLECTION, file=file,
                                line=line_of(data, key), field=f"{path}.{key}" if path else str(key))
            if len(raw) > MAX_COLLECTION:
                raise CaseError(f"'{key}' has {len(raw)} entries; at most {MAX_COLLECTION} are "
                                "allowed.", code=codes.BAD_COLLECTION, file=file,
                                line=line_of(data, key), field=f"{path}.{key}" if path else str(key))
            collections[key] = raw
            continue
        known = ", ".join(sorted(list(kind.facts) + list(kind.children)))
        raise CaseError(f"'{key}' is not a fact of a {kind.name}. The facts are: {known}.",
                        code=codes.UNKNOWN_CASE_KEY,
                        file=file, line=line_of(data, key), field=f"{path}.{key}" if path else str(key))
    for name in reader.list_defaults:      # a list default left in place: the entity's own copy
        if facts[name] is defaults[name]:
            facts[name] = list(defaults[name])
    return facts, collections


def _label(kind: EntityKind, data: dict, parent, index) -> str:
    if kind.id_fact and isinstance(data.get(kind.id_fact), str):
        return f"{kind.name} '{data[kind.id_fact]}'"
    if parent is None:
        return f"the {kind.name}"
    number = f" {index + 1}" if index is not None else ""
    owner = f" of {parent.label()}" if parent.parent is not None else ""
    return f"{kind.name}{number}{owner}"


def release(entities) -> None:
    """Break the reference cycles a case's entities are in, once nothing will read them again
    (a batch that has written their lines): each one's scope refers back to it, its parent and
    children to each other, the root's ``members`` to the root, and the facts it has read
    (``reads``, trace records) to it. Without them the entities are freed by reference counting
    when the last line is written, instead of being left to the cyclic garbage collector (each
    household left about thirty objects in cycles; collecting them was most of the collector's
    10-15% of the batch's CPU). A released entity is not evaluated again."""
    for entity in entities:
        entity.release()
