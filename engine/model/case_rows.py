"""A chunk of valid cases read straight into per-kind rows, without an entity tree each.

The columnar evaluator (:mod:`engine.runtime.columnar`) lays a batch's entities out by kind,
one row each, and reads facts a column at a time; it never needs a case's entity tree as
:func:`engine.model.entities.build_case` makes it (a dictionary of every fact per entity, a
scope, children lists). Building those trees cost about half of what reading a household cost
in ``policy batch`` (about 20 us of 43). :func:`read_rows` reads a chunk of cases the case
schema has accepted, kind by kind: each entity's data is kept as it was given, with only the
values ``build_case`` converts (a list copied, text read as a number or a date, null as the
fact's default) noted beside it, and each entity becomes a :class:`RowEntity`: an
:class:`Entity` that knows its kind, id, parent and index (all that labels and person ids
need) and builds the rest of itself (its facts, children, scope...) only if something asks,
by reading its case with ``build_case`` (the per-case evaluator of a case the plan hands back
does).

It reads only what it can vouch for: the checks ``build_case`` makes on valid data are made
with the same tables (:class:`engine.model.kind_reader.KindReader`), the same conversions and
the same relation check (:func:`engine.model.entities.relations_hold`), and a case with
anything else (a value that does not convert, a key its kind does not know, an entry that is
not a mapping, a missing or repeated id, a relation that may not hold, a kind with constraints
or no schema guarantees) is left out and listed, for the caller to read with ``build_case``,
which words its error or builds it.
"""

from __future__ import annotations

from itertools import count, repeat
from .definitions import Scope
from .entities import MAX_COLLECTION, Entity, EntityKind, build_case, relations_hold
from .kind_reader import NO_NULL

#: A fact an entity's data does not give and its kind gives no default for.
MISSING = object()

_new = object.__new__
_SLOT = {name: Entity.__dict__[name] for name in
         ("facts", "children", "line", "path", "file", "reads", "scope", "members")}


class RowEntity(Entity):
    """An entity read into rows (:func:`read_rows`). Its kind, id, parent, index and uid are
    set when it is read; the rest of an :class:`Entity` (facts, children, line, path, file,
    reads, scope, members) is made the first time any of it is asked for, for every entity
    of its case at once, from the tree ``build_case`` builds of the case's data: the same
    values as an entity built so, each child a RowEntity of the same case."""

    __slots__ = ("case_rows",)

    def _filled(self, name: str):
        slot = _SLOT[name]
        try:
            return slot.__get__(self, RowEntity)
        except AttributeError:
            self.case_rows.fill()
            return slot.__get__(self, RowEntity)


def _lazy(name: str) -> property:
    slot = _SLOT[name]
    return property(lambda self: self._filled(name), slot.__set__,
                    doc=f"The entity's ``{name}``, as ``build_case`` makes it (made when asked).")


for _name in _SLOT:
    setattr(RowEntity, _name, _lazy(_name))


class CaseRows:
    """One case read into rows: its data, its entities in the per-case order (``members``:
    each entity before those it holds, collections in the kind's order) and whether they have
    been filled in (:meth:`fill`)."""

    __slots__ = ("data", "kind", "file", "members", "filled")

    def __init__(self, data: dict, kind: EntityKind, file: str | None) -> None:
        self.data = data
        self.kind = kind
        self.file = file
        self.members: list = []
        self.filled = False

    def fill(self) -> None:
        """Give every entity of the case what ``build_case`` gives it (facts, children...)."""
        if self.filled:
            return
        built = build_case(self.data, self.kind, self.file, validated=True).members
        rows = self.members
        if len(built) != len(rows):      # pragma: no cover - read_rows reads what build_case does
            raise AssertionError("A case read into rows does not match its entity tree.")
        same = {id(b): r for b, r in zip(built, rows)}
        for row, entity in zip(rows, built):
            set_slot = _SLOT
            set_slot["facts"].__set__(row, entity.facts)
            set_slot["line"].__set__(row, entity.line)
            set_slot["path"].__set__(row, entity.path)
            set_slot["file"].__set__(row, entity.file)
            set_slot["reads"].__set__(row, {})
            set_slot["scope"].__set__(row, Scope(row))
            set_slot["members"].__set__(row, None)
            set_slot["children"].__set__(row, {name: [same[id(child)] for child in held]
                                               for name, held in entity.children.items()})
        _SLOT["members"].__set__(rows[0], rows)
        self.filled = True


class KindRows:
    """The rows of one kind of entity in a chunk, in the per-case order (case after case, each
    case's in the order its entities are walked): each entity's data as given, its
    :class:`RowEntity`, its case's number, its parent's row (-1 for the root kind), and the
    values ``build_case`` converts (``converted``: fact -> list of (row, value))."""

    __slots__ = ("kind", "datas", "entities", "cases", "parents", "converted", "collection")

    def __init__(self, kind: EntityKind, collection: str | None) -> None:
        self.kind = kind
        self.collection = collection
        self.datas: list = []
        self.entities: list = []
        self.cases: list = []
        self.parents: list = []
        self.converted: dict[str, list] = {}

    def column(self, name: str) -> list:
        """The value of fact ``name`` of each row, as ``Entity.facts`` holds it (each list
        default an entity's own copy), :data:`MISSING` where the entity has none."""
        reader = self.kind.reader
        n = len(self.datas)
        if name not in reader.plan:      # not a fact of the kind (or a collection's name)
            return [MISSING] * n
        default = reader.defaults.get(name, MISSING)
        values = list(map(dict.get, self.datas, repeat(name, n), repeat(default, n)))
        if default.__class__ is list:    # a list default: each entity's own copy
            values = [list(v) if v is default else v for v in values]
        for row, value in self.converted.get(name, ()):
            values[row] = value
        return values


class ChunkRows:
    """A chunk of cases read into rows (:func:`read_rows`): per kind its :class:`KindRows`
    (the root kind first, each kind before the kinds below it), per case read its
    :class:`CaseRows`, and the numbers (in the chunk given) of the cases left out."""

    __slots__ = ("kinds", "cases", "left_out")

    def __init__(self) -> None:
        self.kinds: dict[str, KindRows] = {}
        self.cases: list[CaseRows] = []
        self.left_out: list[int] = []


class RowCases(list):
    """Cases (as ``Engine.read_case`` gives them) whose entities are all in ``rows``, in the
    same order: what the columnar plan lays out without walking each case's tree."""

    def __init__(self, cases, rows: ChunkRows) -> None:
        super().__init__(cases)
        self.rows = rows


class _Refers:
    """What :func:`relations_hold` reads of an entity with reference facts: its kind, id and
    those facts' values."""

    __slots__ = ("kind", "id", "facts")

    def __init__(self, kind, ident, facts) -> None:
        self.kind = kind
        self.id = ident
        self.facts = facts


_uids = Entity._counter


def read_rows(datas: list, root: EntityKind, file: str | None = None) -> ChunkRows:
    """Read a chunk of case data (each normalised and valid to the case schema, as
    ``Engine.read_case`` makes sure) into rows. The cases left out (``left_out``) are for
    ``build_case`` to read; the others are in the rows, in order."""
    chunk = ChunkRows()
    doubtful = _read(datas, root, file, chunk)
    if not doubtful:
        return chunk
    kept = [data for number, data in enumerate(datas) if number not in doubtful]
    chunk = ChunkRows()
    if _read(kept, root, file, chunk):  # pragma: no cover - each case is read on its own
        raise AssertionError("A case read alone into rows was read differently in a chunk.")
    chunk.left_out = sorted(doubtful)
    return chunk


def _read(datas: list, root: EntityKind, file: str | None, chunk: ChunkRows) -> set:
    """Read ``datas`` into ``chunk`` and return the numbers of the cases to leave out; the
    chunk is complete (``cases`` set) only when there are none."""
    doubtful: set[int] = {number for number, data in enumerate(datas)
                          if not isinstance(data, dict)}
    if doubtful:
        return doubtful
    cases = [CaseRows(data, root, file) for data in datas]
    # per case: its entities with reference facts (for the relation check), and its ids
    levels = [(root, None, datas, [None] * len(datas), [-1] * len(datas), [None] * len(datas),
               range(len(datas)))]
    kids: dict[int, list] = {}           # uid -> the entity's children, collection by collection
    refers: list[list] = [[] for _ in datas]     # per case: (entity, None, reader) to check
    owners: list[list] = [[] for _ in datas]     # per case: its entities with an id
    while levels:
        kind, collection, level_datas, parents, parent_rows, indexes, numbers = levels.pop(0)
        rows = chunk.kinds.get(kind.name)
        if rows is None:
            rows = chunk.kinds[kind.name] = KindRows(kind, collection)
        below = _read_level(kind, rows, level_datas, parents, parent_rows, indexes, numbers,
                            cases, kids, refers, owners, doubtful)
        if below is None:
            return set(range(len(datas)))
        levels.extend(below)
    for number, case in enumerate(cases):
        if number in doubtful:
            continue
        if not _walk(case, kids) or not _related(refers[number], owners[number]):
            doubtful.add(number)
    if doubtful:
        return doubtful
    chunk.cases = cases
    return doubtful


def _read_level(kind, rows: KindRows, datas, parents, parent_rows, indexes, numbers, cases,
                kids, refers, owners, doubtful):
    """Read the entities of one kind (the entries of one collection of their parents, or the
    cases) into ``rows``; the levels below, or None when no case of the kind can be read so
    (no schema guarantees, or constraints: ``build_case`` reads them)."""
    reader = kind.reader
    if not reader.schema_kept or reader.constrained or not reader.children.isdisjoint(
            reader.defaults):            # (a fact named as a collection: build_case reads it)
        return None
    shape = reader.shape
    plan = reader.plan
    list_facts = reader.list_facts
    known_collections = reader.children
    collections = reader.collections
    defaults = reader.defaults
    id_fact = kind.id_fact
    relations = reader.references
    reference_names = [name for name, _ in relations]
    below = {name: ([], [], [], [], []) for name, _ in collections}
    converted = rows.converted
    seen: set = set()                    # (parent's uid, id) of the entries with an id
    table_datas, table_entities = rows.datas, rows.entities
    table_cases, table_parents = rows.cases, rows.parents
    for data, parent, parent_row, index, number in zip(datas, parents, parent_rows, indexes,
                                                       numbers):
        rest, _ = shape(data)
        changed = None
        held = None
        fine = True
        for key in rest:
            raw = data[key]
            step = plan.get(key)
            if step is not None:
                if raw.__class__ is list and key in list_facts:
                    value = raw.copy()           # what coerce makes of a list
                else:
                    expected, allowed, null, coerce = step
                    if raw.__class__ is expected and (allowed is None or raw in allowed):
                        continue                 # kept as given
                    if raw is None and null is not NO_NULL:
                        value = list(null) if isinstance(null, list) else null
                    else:
                        try:
                            value = coerce(raw)
                        except Exception:        # noqa: BLE001 - build_case words it
                            fine = False
                            break
                if changed is None:
                    changed = {}
                changed[key] = value
            elif key in known_collections and raw.__class__ is list \
                    and len(raw) <= MAX_COLLECTION:
                if held is None:
                    held = {}
                held[key] = raw
            else:
                fine = False
                break
        if not fine:
            doubtful.add(number)
            continue
        ident = None
        if id_fact:
            ident = changed[id_fact] if changed is not None and id_fact in changed \
                else data.get(id_fact, defaults.get(id_fact))
            if ident is None:
                doubtful.add(number)
                continue
            if parent is not None:
                pair = (parent.uid, ident)
                if pair in seen:             # two entries of one collection with one id
                    doubtful.add(number)
                    continue
                seen.add(pair)
        entity = _new(RowEntity)
        entity.kind = kind
        entity.id = ident
        entity.parent = parent
        entity.index = index
        uid = entity.uid = next(_uids)
        case = cases[number]
        entity.case_rows = case
        row = len(table_datas)
        table_datas.append(data)
        table_entities.append(entity)
        table_cases.append(number)
        table_parents.append(parent_row)
        if changed is not None:
            for key, value in changed.items():
                found = converted.get(key)
                if found is None:
                    found = converted[key] = []
                found.append((row, value))
        if parent is None:
            case.members.append(entity)
        else:
            kids[parent.uid].append(entity)
        if relations:
            facts = {}
            for name in reference_names:
                facts[name] = changed[name] if changed is not None and name in changed \
                    else data.get(name, defaults.get(name))
            refers[number].append((_Refers(kind, ident, facts), None, reader))
            if ident is not None:
                owners[number].append(refers[number][-1][0])
        elif ident is not None:
            owners[number].append(entity)
        if collections:
            kids[uid] = []
            if held is None:
                continue
            for name, _ in collections:
                items = held.get(name)
                if not items:
                    continue
                level = below[name]
                for i, item in enumerate(items):
                    if not isinstance(item, dict):
                        doubtful.add(number)
                        break
                    level[0].append(item)
                    level[1].append(entity)
                    level[2].append(row)
                    level[3].append(i)
                    level[4].append(number)
    return [(child_kind, name, *below[name]) for name, child_kind in collections
            if below[name][0]]


def _walk(case: CaseRows, kids: dict) -> bool:
    """Lay out a case's entities in the per-case order (``members``), from its root (the one
    entity in ``members`` so far); each entity's children are in ``kids``."""
    members = case.members
    if len(members) != 1:
        return False
    root = members[0]
    order = [root]
    stack = list(reversed(kids.get(root.uid, ())))
    while stack:
        entity = stack.pop()
        order.append(entity)
        held = kids.get(entity.uid)
        if held:
            stack.extend(reversed(held))
    case.members = order
    return True


def _related(referring: list, owners: list) -> bool:
    """Whether the relations of one case's entities hold (:func:`relations_hold`), given its
    entities with reference facts and its entities with an id; False too for a case with an
    id held by two entities of a kind (which of them a relation names is then left to
    ``build_case``)."""
    if not referring:
        return True
    index: dict[str, dict] = {}
    for entity in owners:
        name = entity.kind.name
        known = index.get(name)
        if known is None:
            known = index[name] = {}
        elif entity.id in known:
            return False
        known[entity.id] = entity
    return relations_hold(referring, index, set())

