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
does). A level whose entities all give the same keys is read a column at a time: every value
into one table as the cases are read, while their data is fresh in memory (the plan's fact
columns are cut from it: looked up fact by fact later, they cost several times as much),
and the ids, collections and relations checked over whole columns with NumPy.

It reads only what it can vouch for: the checks ``build_case`` makes on valid data are made
with the same tables (:class:`engine.model.kind_reader.KindReader`), the same conversions and
the same relation check (:func:`engine.model.entities.relations_hold`), and a case with
anything else (a value that does not convert, a key its kind does not know, an entry that is
not a mapping, a missing or repeated id, a relation that may not hold, a kind with constraints
or no schema guarantees) is left out and listed, for the caller to read with ``build_case``,
which words its error or builds it.
"""

from __future__ import annotations

from collections import deque
from itertools import chain, islice, repeat
from operator import attrgetter, itemgetter
import numpy as np

from .definitions import Scope
from .entities import MAX_COLLECTION, Entity, EntityKind, build_case, relations_hold, release
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

    def release(self) -> None:
        """As :meth:`Entity.release`, and its case's rows too (they list it: another cycle)."""
        super().release()
        self.case_rows = None

    def _filled(self, name: str):
        slot = _SLOT[name]
        try:
            return slot.__get__(self, RowEntity)
        except AttributeError:
            if self.case_rows is None:
                raise RuntimeError(f"An entity of kind '{self.kind.name}' was asked for its "
                                   f"{name} after it was released (its case's line written); "
                                   "a released entity cannot be read again.") from None
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
        release(built)      # the tree built only to be copied: its cycles freed at once
        self.filled = True


class KindRows:
    """The rows of one kind of entity in a chunk, in the per-case order (case after case, each
    case's in the order its entities are walked): each entity's data as given, its
    :class:`RowEntity`, its case's number, its parent's row (-1 for the root kind), and the
    values ``build_case`` converts (``converted``: fact -> list of (row, value); ``columns``:
    fact -> the value of every row, when a whole level was read a column at a time; and
    then every row's value of each key, as given: ``table``)."""

    __slots__ = ("kind", "datas", "entities", "cases", "parents", "converted", "columns",
                 "collection", "keys", "table", "places")

    def __init__(self, kind: EntityKind, collection: str | None) -> None:
        self.kind = kind
        self.collection = collection
        self.datas: list = []
        self.entities: list = []
        self.cases: list = []
        self.parents: list = []
        self.converted: dict[str, list] = {}
        self.columns: dict[str, list] = {}
        #: the keys every row's data gives, when the rows were read a column at a time
        self.keys: frozenset | None = None
        #: then too: every row's value of each key (a row per entity, a column per key), and
        #: the column of each key
        self.table: np.ndarray | None = None
        self.places: dict[str, int] = {}

    def complete(self, name: str) -> bool:
        """Whether every row has a value of fact ``name`` (:meth:`column` holds no
        :data:`MISSING`): the fact has a default, or every row's data gives it."""
        reader = self.kind.reader
        if name not in reader.plan:
            return False
        return name in reader.defaults or name in self.columns or (
            self.keys is not None and name in self.keys)

    def column(self, name: str) -> list:
        """The value of fact ``name`` of each row, as ``Entity.facts`` holds it (each list
        default an entity's own copy), :data:`MISSING` where the entity has none."""
        reader = self.kind.reader
        n = len(self.datas)
        if name not in reader.plan:      # not a fact of the kind (or a collection's name)
            return [MISSING] * n
        found = self.columns.get(name)
        if found is not None:
            return list(found)
        place = self.places.get(name)
        if place is not None:            # given by every row, kept as given
            return self.table[:, place].tolist()
        default = reader.defaults.get(name, MISSING)
        if self.keys is not None and name not in self.keys:     # no row gives it
            if isinstance(default, list):
                return list(map(list, repeat(default, n)))
            return [default] * n
        values = list(map(dict.get, self.datas, repeat(name, n), repeat(default, n)))
        if isinstance(default, list):    # a list default: each entity's own copy (a list)
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


_uids = Entity.uids
_UID = attrgetter("uid")
#: The types of values the column-wise reader converts once per distinct value.
_TEXT_OR_NULL = frozenset({str, type(None)})
_TEXT_LIST_OR_NULL = frozenset({str, list, type(None)})


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
    if kept and _read(kept, root, file, chunk):  # pragma: no cover - each case is read on its own
        raise AssertionError("A case read alone into rows was read differently in a chunk.")
    chunk.left_out = sorted(doubtful)
    return chunk


def _read(datas: list, root: EntityKind, file: str | None, chunk: ChunkRows) -> set:
    """Read ``datas`` into ``chunk`` and return the numbers of the cases to leave out; the
    chunk is complete (``cases`` set) only when there are none."""
    doubtful: set[int] = {number for number, data in enumerate(datas)
                          if not isinstance(data, dict)}
    if doubtful or not datas:
        return doubtful
    cases = [CaseRows(data, root, file) for data in datas]
    # per case: its entities with reference facts (for the relation check), and its ids
    levels = [(root, None, datas, [None] * len(datas), [-1] * len(datas), [None] * len(datas),
               range(len(datas)))]
    exact: set[int] = set()              # cases whose relations are checked one by one
    while levels:
        kind, collection, level_datas, parents, parent_rows, indexes, numbers = levels.pop(0)
        rows = chunk.kinds.get(kind.name)
        if rows is None:
            rows = chunk.kinds[kind.name] = KindRows(kind, collection)
        below = _read_level(kind, rows, level_datas, parents, parent_rows, indexes, numbers,
                            cases, exact, doubtful)
        if below is None:
            return set(range(len(datas)))
        levels.extend(below)
    exact -= doubtful
    if exact:
        doubtful |= _unrelated(chunk, exact)
    if doubtful:
        return doubtful
    _lay_out(chunk, cases)
    chunk.cases = cases
    return doubtful


def _read_level(kind, rows: KindRows, datas, parents, parent_rows, indexes, numbers, cases,
                exact, doubtful):
    """Read the entities of one kind into ``rows``: a column at a time when they all give the
    same keys and every value is on the common path (:func:`_read_columns`), else one entity
    at a time (:func:`_read_each`). The levels below, or None when no case of the kind can be
    read so (``build_case`` reads them)."""
    reader = kind.reader
    if not reader.schema_kept or reader.constrained or not reader.children.isdisjoint(
            reader.defaults):            # (a fact named as a collection: build_case reads it)
        return None
    below = _read_columns(kind, rows, datas, parents, parent_rows, indexes, numbers, cases,
                          exact)
    if below is None:
        below = _read_each(kind, rows, datas, parents, parent_rows, indexes, numbers, cases,
                           exact, doubtful)
    return below


def _read_columns(kind, rows: KindRows, datas, parents, parent_rows, indexes, numbers, cases,
                  exact):
    """:func:`_read_each` of a level whose entities all give the same keys, a column at a
    time: each value the schema does not guarantee is looked at per distinct value (text or
    null only; a list fact's lists are copied), ids and collections are checked over the
    column, and every value is kept in a table (:meth:`KindRows.column` reads it). None,
    with nothing read, when any value is off that path (one entity at a time then finds
    which case to leave out)."""
    n = len(datas)
    reader = kind.reader
    first = datas[0]
    keys = tuple(first)
    table = _table(datas, keys)
    if table is None:
        return None
    places = dict(zip(keys, range(len(keys))))
    rest, _ = reader.shape(first)
    plan = reader.plan
    columns: dict[str, list] = {}
    held: dict[str, list] = {}
    for key in rest:
        raw = table[:, places[key]].tolist()
        types = set(map(type, raw))
        step = plan.get(key)
        if step is not None:
            if key in reader.list_facts and types == {list}:
                columns[key] = list(map(list.copy, raw))   # what coerce makes of a list
                continue
            expected, allowed, null, coerce = step
            if types == {expected} and (allowed is None or set(raw) <= allowed):
                continue                                  # kept as given
            if not types <= _TEXT_OR_NULL:
                return None
            distinct = {}
            for value in set(raw):
                if value.__class__ is expected and (allowed is None or value in allowed):
                    distinct[value] = value
                elif value is None:
                    if null is NO_NULL or isinstance(null, list):
                        return None     # an error, or a list default each entity copies
                    distinct[value] = null
                else:
                    try:
                        distinct[value] = coerce(value)
                    except Exception:                     # noqa: BLE001 - one at a time
                        return None
            columns[key] = list(map(distinct.__getitem__, raw))
        elif key in reader.children and types == {list} and \
                max(map(len, raw)) <= MAX_COLLECTION:
            held[key] = raw
        else:
            return None
    id_fact = kind.id_fact
    ids = None
    if id_fact:
        ids = columns.get(id_fact)
        if ids is None:
            ids = table[:, places[id_fact]].tolist() if id_fact in places else \
                [reader.defaults.get(id_fact)] * n
        try:
            if None in ids or (parents[0] is not None and
                               len(set(zip(map(_UID, parents), ids))) != n):
                return None                               # a missing or repeated id
        except TypeError:                                 # an id that is not hashable
            return None
    collections = reader.collections
    items_of = {}
    for name, _ in collections:
        lists = held.get(name)
        if lists is not None:
            items = list(chain.from_iterable(lists))
            if not set(map(type, items)) <= {dict}:
                return None                               # an entry that is not a mapping
            items_of[name] = (lists, items)
    # Everything is on the common path: the rows, as _read_each reads them.
    entities = list(map(_new, repeat(RowEntity, n)))
    uids = list(islice(_uids, n))
    for name, values in (("kind", repeat(kind, n)), ("id", ids or repeat(None, n)),
                         ("parent", parents), ("index", indexes), ("uid", uids),
                         ("case_rows", map(cases.__getitem__, numbers))):
        deque(map(setattr, entities, repeat(name, n), values), 0)
    start = len(rows.datas)
    rows.datas.extend(datas)
    rows.entities.extend(entities)
    rows.cases.extend(numbers)
    rows.parents.extend(parent_rows)
    if start == 0:
        rows.columns.update(columns)
        rows.table, rows.places = table, places
        rows.keys = frozenset(keys)
    else:                                                 # pragma: no cover - one level a kind
        for key, values in columns.items():
            rows.converted.setdefault(key, []).extend(zip(range(start, start + n), values))
    if reader.references:
        exact |= _may_not_relate(kind, table, places, columns, ids, numbers)
    below = []
    owners = cases_of = None
    for name, child_kind in collections:
        found = items_of.get(name)
        if found is None:
            continue
        lists, items = found
        if not items:
            continue
        if owners is None:               # (arrays made once for all the collections)
            owners = np.fromiter(entities, dtype=object, count=n)
            cases_of = np.fromiter(numbers, dtype=np.intp, count=n)
        # each entry's owner (its row in this level) and its place among the owner's entries
        counts = np.fromiter(map(len, lists), dtype=np.intp, count=n)
        owner_rows = np.repeat(np.arange(n), counts)
        firsts = np.repeat(np.cumsum(counts) - counts, counts)
        below.append((child_kind, name, items, owners[owner_rows].tolist(),
                      (owner_rows + start).tolist(), (np.arange(len(items)) - firsts).tolist(),
                      cases_of[owner_rows].tolist()))
    return below


def _table(datas: list, keys: tuple) -> np.ndarray | None:
    """Every entity's value of each of ``keys``: a row per entity, a column per key (in the
    keys' order), or None when an entity does not give exactly those keys (in any order:
    nothing read a column at a time depends on it).

    All of it is read in one pass, while the entities' data is fresh in memory from parsing:
    the plan reads most facts, and read later, fact by fact, each look-up cost several times
    as much (the plan's fact columns: 11.8 us a household so, 3.4 cut from the table)."""
    n, width = len(datas), len(keys)
    if not all(map(width.__eq__, map(len, datas))):
        return None
    if width == 1:                       # itemgetter of one key gives the value, not a tuple
        values = map(dict.__getitem__, datas, repeat(keys[0], n))
    else:
        values = chain.from_iterable(map(itemgetter(*keys), datas))
    try:
        return np.fromiter(values, dtype=object, count=n * width).reshape(n, width)
    except KeyError:                     # as many keys, not all of them the same
        return None


def _may_not_relate(kind, table, places, columns, ids, numbers) -> set:
    """The cases (by number) of a level read a column at a time (``table``: each entity's
    value of each key, in the column ``places`` gives; ``columns``: the values converted)
    whose relations need the check of :func:`relations_hold` one case at a time: every case,
    unless each relation of the kind names entities of its own kind by ids unique in their
    case; then only the cases with an id that names its own entity, names no one in the case
    (and must), a spouse who does not name this one back, or a path of two steps (where a
    cycle could start). Every other case passes that check: this is the same check, column
    by column."""
    reader = kind.reader
    n = len(numbers)
    if ids is None or len(set(zip(numbers, ids))) != n:
        return set(numbers)
    # Each distinct id a number (``code``), null -2 and an id no entity has -1; each row
    # found by its case and code (sorted, searched), and marked when its case needs the check.
    codes = dict(zip(dict.fromkeys(ids), range(n)))
    lookup = {**codes, None: -2}
    width = len(codes) + 1
    cases = np.fromiter(numbers, dtype=np.int64, count=n)
    own = np.fromiter(map(codes.__getitem__, ids), dtype=np.int64, count=n)
    keys = cases * width + own
    order = np.argsort(keys)
    ordered = keys[order]
    last = n - 1
    found = np.zeros(n, dtype=bool)
    for name, target, same_kind, outside_case, mutual, acyclic in reader.relations:
        if name in columns:
            values = columns[name]
        elif name in places:
            values = table[:, places[name]].tolist()
        else:                            # every entity has the default (or nothing)
            default = reader.defaults.get(name)
            if default is None or (isinstance(default, list) and not default):
                continue                 # which names no one
            return set(numbers)
        types = set(map(type, values))
        if not types <= _TEXT_LIST_OR_NULL:
            return set(numbers)
        if not same_kind:
            if any(value is not None and value != [] for value in values):
                return set(numbers)
            continue
        if list in types:                # each list's items, null ones naming no one
            if types != {list}:
                return set(numbers)
            items = list(chain.from_iterable(values))
            if not set(map(type, items)) <= _TEXT_OR_NULL:
                return set(numbers)
            rows = np.repeat(np.arange(n), np.fromiter(map(len, values), dtype=np.intp,
                                                         count=n))
        else:
            items = values
            rows = np.arange(n)
        named = np.fromiter(map(lookup.get, items, repeat(-1)), dtype=np.int64,
                            count=len(items))
        if mutual and list not in types:
            backs = named                # each row's own value, as a code
        given = named != -2
        rows, named = rows[given], named[given]
        wanted = cases[rows] * width + named
        at = np.minimum(np.searchsorted(ordered, wanted), last)
        hit = (named >= 0) & (ordered[at] == wanted)          # names an entity of its case
        found[rows[named == own[rows]]] = True                 # names itself
        if not outside_case:
            found[rows[~hit]] = True                           # names no one in the case
        rows, to = rows[hit], order[at[hit]]
        if mutual:                       # named back, or a spouse's case is checked
            if list in types:
                for row, back in zip(rows.tolist(), map(values.__getitem__, to.tolist())):
                    ident = ids[row]
                    if back is None or (back != ident and not (back.__class__ is list
                                                               and ident in back)):
                        found[row] = True
            else:
                found[rows[backs[to] != own[rows]]] = True
        if acyclic:                      # a path of two steps
            starts = np.zeros(n, dtype=bool)
            starts[rows] = True
            found[to[starts[to]]] = True
    return set(cases[found].tolist())


def _unrelated(chunk: ChunkRows, exact: set) -> set:
    """The cases among ``exact`` whose relations may not hold, each checked whole by
    :func:`relations_hold` with what it reads of the case's entities (from the rows)."""
    referring: dict[int, list] = {number: [] for number in exact}
    owners: dict[int, list] = {number: [] for number in exact}
    for kind_rows in chunk.kinds.values():
        kind = kind_rows.kind
        reader = kind.reader
        rows = [row for row, number in enumerate(kind_rows.cases) if number in exact]
        if not rows:
            continue
        names = [name for name, _ in reader.references]
        columns = [kind_rows.column(name) for name in names]
        for row in rows:
            number = kind_rows.cases[row]
            entity = kind_rows.entities[row]
            if names:
                facts = {name: None if column[row] is MISSING else column[row]
                         for name, column in zip(names, columns)}
                entity = _Refers(kind, entity.id, facts)
                referring[number].append((entity, None, reader))
            if entity.id is not None:
                owners[number].append(entity)
    return {number for number in exact if not _related(referring[number], owners[number])}


def _read_each(kind, rows: KindRows, datas, parents, parent_rows, indexes, numbers, cases,
               exact, doubtful):
    """Read the entities of one kind (the entries of one collection of their parents, or the
    cases) into ``rows``; the levels below, or None when no case of the kind can be read so
    (no schema guarantees, or constraints: ``build_case`` reads them)."""
    reader = kind.reader
    shape = reader.shape
    plan = reader.plan
    list_facts = reader.list_facts
    known_collections = reader.children
    collections = reader.collections
    defaults = reader.defaults
    id_fact = kind.id_fact
    relations = reader.references
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
        entity.uid = next(_uids)
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
        if relations:
            exact.add(number)
        if collections:
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


def _lay_out(chunk: ChunkRows, cases: list) -> None:
    """Give each case its entities in the per-case order (``members``: each entity before
    those it holds, collections in their kind's order, entries in their order), worked out
    from the tables at once: the size of each entity's subtree (bottom up), then each one's
    place (top down: its parent's place, then the subtrees of the earlier collections and
    entries), then all entities sorted by place and cut case by case."""
    kinds = list(chunk.kinds.values())       # each kind after the kind that holds it
    sizes = {rows.kind.name: np.ones(len(rows.entities), dtype=np.intp) for rows in kinds}
    parents = {rows.kind.name: np.asarray(rows.parents, dtype=np.intp) for rows in kinds}
    for rows in reversed(kinds[1:]):
        owner = rows.kind.parent.name
        sizes[owner] += np.bincount(parents[rows.kind.name], weights=sizes[rows.kind.name],
                                    minlength=len(sizes[owner])).astype(np.intp)
    root = kinds[0].kind.name
    ends = np.cumsum(sizes[root])
    places = {root: ends - sizes[root]}
    for rows in kinds:
        name = rows.kind.name
        used = np.ones(len(rows.entities), dtype=np.intp)    # the entity itself, then...
        for _, member_kind in rows.kind.reader.collections:
            held = chunk.kinds.get(member_kind.name)
            if held is None:
                continue
            owner_rows, size = parents[member_kind.name], sizes[member_kind.name]
            before = np.cumsum(size) - size                  # entries are in owners' order
            first = np.searchsorted(owner_rows, owner_rows)  # each owner's first entry
            places[member_kind.name] = (places[name][owner_rows] + used[owner_rows]
                                        + before - before[first])
            used += np.bincount(owner_rows, weights=size,
                                minlength=len(used)).astype(np.intp)
    entities = np.fromiter(chain.from_iterable(rows.entities for rows in kinds), dtype=object,
                           count=sum(len(rows.entities) for rows in kinds))
    order = np.argsort(np.concatenate([places[rows.kind.name] for rows in kinds]), kind="stable")
    walked = entities[order].tolist()
    for case, start, end in zip(cases, (ends - sizes[root]).tolist(), ends.tolist()):
        case.members = walked[start:end]


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

