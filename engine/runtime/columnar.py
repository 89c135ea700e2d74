"""The columnar evaluator: each rule computed once over every entity of a batch of cases.

The per-case evaluator (:mod:`engine.runtime.state`) walks one case at a time, one closure call
per expression node and one trace record per value read. For a batch, that cost is paid again for
every household. This module evaluates a *batch*: it lays the entities of all cases out by kind
(every case, every person, every income: one row each, with the row of its parent), and computes
each rule once per kind as a column, one expression node at a time over all the rows that need it.

Semantics are the per-case evaluator's, row by row, and are kept by construction:

* **Laziness.** An expression node is evaluated only on the rows that would evaluate it per case:
  the second operand of ``and``/``or`` only where the first did not decide, the branch of an
  ``if`` only where it is taken, a condition only on the rows no earlier condition took, a chained
  comparison stops where a link fails. A row that would fail per case (a missing fact, a type
  error, no matching condition) is marked *bad*; badness flows to every value that reads it, and a
  case with a bad output (or a bad ``output_when``) is given to the per-case evaluator whole, which
  reports the error exactly as ``policy eval`` does (counted in :class:`ColumnarStats`).
* **Exact values.** Each element is computed with the same operator functions, built-ins, rounding
  and type check as per case (Decimal arithmetic, declared rounding, ``Definition.finish``), so
  values are identical, exponents included; no binary floats anywhere.
* **Citations.** A result's citations are its *deciding* citations (:mod:`engine.runtime.deciding`),
  exactly as the per-case ``Result.citations``, in the same order. Every column carries, per
  row, what decided it (``Column.deps``: the values read that decide, in the order read),
  selected where the per-case evaluator marks its frame: an ``and``/``or`` keeps only the operand
  it stopped at, ``min``/``max`` the argument they gave, an ``any``/``all``/``min``/``max``
  aggregate the member that gave the value, a first-match rule the taken condition and its value
  (the conditions that failed are kept apart, by their deciding sections), a decision table the
  inputs a matching row tested. Each rule column then composes, per row, with the same functions
  the per-case results use (``compose_citations``), what reading it brings to another value
  (``Column.reads``: an output rule brings only its deciding section) and the result's own list
  (``Column.cites``). Where the plan cannot tell (a decision-table cell that reads a cited value)
  the row's citations are None, and a run that wants citations gives that case to the per-case
  evaluator (``ColumnarStats.citation_fallbacks``). The read-set (everything read, as a bit mask
  over canonical citations, :mod:`engine.model.citations`) is kept beside it, as
  ``ColumnarResult.provenance`` (``Result.provenance`` per case).
* **What is not columnar.** Functions (pure: they depend only on their arguments and the date)
  are called per distinct argument through the engine's shared :class:`DateCache`, as per case.
  A rule whose body is a decision table or another kind the plan does not vectorise is computed
  per entity in Python inside the plan, by a per-case :class:`State` for that entity's case
  (still once per rule and entity per batch). :func:`plan_coverage` lists which rules are which.

The element-wise work is still Python (exact Decimal arithmetic per element); what the plan
removes is the per-case machinery around it: closures, frames, trace nodes and memo lookups.
"""

from __future__ import annotations

import ast
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from ..language.marks import SELECTORS, may_cite
from ..language.operators import OPERATORS
from ..model.citations import mask_of, merge, ordered
from .deciding import (as_written, branch_section, compose_citations, deciding_citations,
                       read_citations, through_fronts)
from .results import cents, typed_json_value
from .state import State, decimal_context
from .trace import citation_mask

#: Rule bodies computed as columns; any other body kind is computed per entity inside the plan.
VECTORISED_BODIES = ("formula", "conditions", "aggregate", "table")


def result_citations(own, mask: int):
    """The citations of a result: its own (branch) citations first, then every other reference
    in its mask. The one function both evaluators' citations go through (the per-case results
    via :func:`engine.runtime.trace.collect_citations`), so that the differential test compares
    like with like."""
    return ordered(own, mask)


class _Bad(Exception):
    """Raised inside element loops: this row cannot be computed here (the per-case evaluator
    will report why)."""


#: Any failure of one element marks its row bad: the per-case evaluator then evaluates the case
#: and reports (or raises) exactly what ``policy eval`` would. Never a wrong value, at worst a
#: fallback.
_FAILURES = (Exception,)


@dataclass
class ColumnarStats:
    """What one batch did: for the report of ``policy batch`` and the differential test."""

    cases: int = 0
    columnar_cases: int = 0
    fallback_cases: int = 0
    #: Of the fallback cases: those that fell back only because a result's deciding citations
    #: could not be told by the plan (a decision-table cell reading a cited value).
    citation_fallbacks: int = 0
    rules_vectorised: set = field(default_factory=set)
    rules_per_entity: set = field(default_factory=set)

    def add(self, other: "ColumnarStats") -> None:
        self.cases += other.cases
        self.columnar_cases += other.columnar_cases
        self.fallback_cases += other.fallback_cases
        self.citation_fallbacks += other.citation_fallbacks
        self.rules_vectorised |= other.rules_vectorised
        self.rules_per_entity |= other.rules_per_entity


class Column:
    """One value per row: values, whether each row is bad, each row's citation mask and what
    decided each row (``deps``: the values read that decide it, in the order read, each as the
    pair :func:`engine.runtime.deciding.read_citations` gives; None where the plan cannot
    tell, and that row's case is then evaluated per case when citations are wanted)."""

    __slots__ = ("values", "bad", "masks", "own", "deps", "reads", "cites")

    def __init__(self, values, bad, masks, own=None, deps=None):
        self.values = values
        self.bad = bad
        self.masks = masks
        self.own = own          # rule columns: the own citations of each row's branch
        self.deps = deps if deps is not None else [()] * len(values)
        self.reads = None       # rule columns: per row, what reading the value brings
        self.cites = None       # rule columns: per row, the result's deciding citations


class _Read:
    """What reading one value brings to the deciding citations of the value that read it
    (``core``) and, when it made an earlier branch fail, its deciding section (``front``): each
    a (canonical citations, mask) pair. Compared and hashed by identity: one per value read."""

    __slots__ = ("core", "front")

    def __init__(self, core, front):
        self.core = core
        self.front = front


def _cat(a, b):
    """Two rows' deciding reads one after the other (None: unknown)."""
    if a is None or b is None:
        return None
    return a + b if b else a


def _cat_columns(parts, n):
    deps = list(parts[0].deps) if parts else [()] * n
    for part in parts[1:]:
        deps = [_cat(a, b) for a, b in zip(deps, part.deps)]
    return deps


class ColumnarResult:
    """One output for one entity, shaped like :class:`engine.runtime.results.Result` for the
    batch writers (``name``, ``person``, ``entity``, ``shown_value``, ``citations``)."""

    __slots__ = ("rule", "entity", "value", "own", "mask", "_cited", "citations", "as_of")

    def __init__(self, rule, entity, value, own, mask, cited: dict, citations=None, as_of=None):
        self.rule = rule
        self.as_of = as_of       # the date applied: archived sources are cited as of it
        self.entity = entity
        self.value = value
        self.own = own
        self.mask = mask
        self._cited = cited      # (own, mask) -> citations, shared by the batch's results
        #: The deciding citations (as ``Result.citations``); None only in a run that asked for
        #: no citations and reached a row whose deciding citations the plan cannot tell.
        self.citations = citations

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def person(self):
        return self.entity.person_id() if self.entity is not None else None

    @property
    def shown_value(self):
        if self.rule.type == "money" and isinstance(self.value, Decimal):
            return cents(self.value)
        return self.value

    def json_value(self):
        return typed_json_value(self.shown_value, self.rule.type)

    @property
    def provenance(self):
        """Everything the value read, own citations first (as ``Result.provenance``)."""
        key = (self.own, self.mask)
        cited = self._cited.get(key)
        if cited is None:
            cited = self._cited[key] = result_citations(self.own, self.mask)
        return cited


class ColumnarEvaluation:
    """The results of one case evaluated by the plan (like :class:`Evaluation`)."""

    __slots__ = ("case_id", "as_of", "results")

    def __init__(self, case_id, as_of, results):
        self.case_id = case_id
        self.as_of = as_of
        self.results = results


def _walk(entity):
    yield entity
    for children in entity.children.values():
        for child in children:
            yield from _walk(child)


class _Frame:
    """Where a name is looked up for each row: an entity kind and, per row, the entity's index
    in that kind's table; inside an aggregate also the outer frame and each row's outer row."""

    __slots__ = ("kind", "index", "outer", "outer_rows")

    def __init__(self, kind, index, outer=None, outer_rows=None):
        self.kind = kind
        self.index = index
        self.outer = outer
        self.outer_rows = outer_rows


#: Per decision table and set of matching rows, the citations of a ``collect`` that matched them:
#: one shared tuple each, so that what engine.runtime.deciding computes per tuple stays bounded.
_COLLECTED: dict = {}


def _collected(body, found) -> tuple:
    key = (id(body), *map(id, found))
    entry = _COLLECTED.get(key)
    if entry is None:
        entry = _COLLECTED[key] = (body, found, tuple(c for r in found for c in r.citations))
    return entry[2]


#: Per decision table: whether a cell's test may read a cited value.
_CELLS_CITE: dict = {}


def _cells_cite(body) -> bool:
    entry = _CELLS_CITE.get(id(body))
    if entry is None or entry[0] is not body:
        entry = _CELLS_CITE[id(body)] = (body, any(
            may_cite(e.tree) for row in body.rows for _, cell in row.tests
            for e in cell.expressions()))
    return entry[1]


def _any_bad(bads, n):
    """Per row: whether any of the columns is bad there."""
    if len(bads) == 1:
        return list(bads[0])
    return [True in row for row in zip(*bads)] if bads else [False] * n


def _apply(fn, columns, bads, n):
    """``fn`` element by element over the rows no operand is bad in; a row where it raises is
    bad. The common case (no bad row, no failure) is one comprehension."""
    bad = _any_bad(bads, n)
    if True not in bad:
        try:
            if not columns:
                return [fn() for _ in range(n)], bad
            if len(columns) == 1:
                return [fn(a) for a in columns[0]], bad
            if len(columns) == 2:
                return [fn(a, b) for a, b in zip(columns[0], columns[1])], bad
            return [fn(*args) for args in zip(*columns)], bad
        except _FAILURES:
            pass
    values = [None] * n
    for i, args in enumerate(zip(*columns)) if columns else enumerate([()] * n):
        if bad[i]:
            continue
        try:
            values[i] = fn(*args)
        except _FAILURES:
            bad[i] = True
    return values, bad


#: Per declared type, the Python types a value may already have to pass ``Definition.finish``
#: unchanged (None passes every type).
_PASSING = {"money": {int, Decimal}, "decimal": {int, Decimal}, "percent": {int, Decimal},
            "integer": {int}, "boolean": {bool}, "text": {str}, "date": {dt.date},
            "list": {list}, "any": None}


def _already_finished(rule, values, bad) -> bool:
    """Whether ``finish`` would leave every good value as it is: no rounding, and every value
    already of a type its declared type accepts as is (checked by type, in bulk)."""
    if rule.rounding is not None:
        return False
    passing = _PASSING.get(rule.type)
    if passing is None:
        return rule.type == "any"
    types = set(map(type, values))
    types.discard(type(None))
    if types <= passing:
        return True
    return False


def _or(a, b):
    return [x | y for x, y in zip(a, b)]


class _Batch:
    """The entity tables of a batch and the columns computed so far, for one date."""

    def __init__(self, engine, cases, as_of: dt.date, citing: bool = True):
        self.engine = engine
        self.citing = citing              # whether results need their deciding citations
        self.program = engine.program
        self.as_of = as_of
        self.cases = cases
        self.entities: dict = {}          # kind name -> [Entity]
        self.row_of: dict = {}            # entity uid -> row in its kind
        self.case_row: dict = {}          # kind name -> [case number] per row
        self.walks = []                   # per case: its entities in the per-case order
        for number, case in enumerate(cases):
            walk = list(_walk(case.root))
            self.walks.append(walk)
            for entity in walk:
                rows = self.entities.setdefault(entity.kind.name, [])
                self.row_of[entity.uid] = len(rows)
                rows.append(entity)
                self.case_row.setdefault(entity.kind.name, []).append(number)
        self.rules: dict = {}             # (rule uid, kind name) -> Column over all rows
        self.facts: dict = {}             # (kind name, fact) -> (values, bad)
        self.members: dict = {}           # (owner kind, levels, over, kind) -> pairs
        self.states: dict = {}            # case number -> State (per-entity fallback, functions)
        self.function_state = State(self.program, engine.cache, as_of, engine.reference)
        self.stats = ColumnarStats()
        self.cited: dict = {}             # (own citations, mask) -> a result's citations
        self.citation_failed: set = set()  # cases given per case for their citations alone
        self.read_records: dict = {}      # id(record) -> (record, its _Read)

    def read_of(self, record) -> _Read:
        """The :class:`_Read` of a parameter value or a function's result, once per record."""
        entry = self.read_records.get(id(record))
        if entry is None or entry[0] is not record:
            entry = self.read_records[id(record)] = (record, _Read(*read_citations(record)))
        return entry[1]

    # -- tables --------------------------------------------------------------------------------
    def ancestor_rows(self, kind_name: str, rows, depth: int):
        """For rows of a kind, the rows (in its ancestor's table) of the ancestor ``depth`` up."""
        if depth == 0:
            return rows, kind_name
        entities = self.entities.get(kind_name, ())
        row_of = self.row_of
        out = []
        target = None
        for r in rows:
            e = entities[r]
            for _ in range(depth):
                e = e.parent
            target = e.kind.name
            out.append(row_of[e.uid])
        if target is None:
            kind = self.kind_named(kind_name)
            for _ in range(depth):
                kind = kind.parent
            target = kind.name
        return out, target

    def kind_named(self, name):
        for kind in self.program.entity_kinds.values():
            if kind.name == name:
                return kind
        raise KeyError(name)

    def fact_column(self, kind_name: str, name: str):
        key = (kind_name, name)
        cached = self.facts.get(key)
        if cached is None:
            values, bad = [], []
            describe = lambda: "A rule"  # noqa: E731 - only worded when the case falls back
            for entity in self.entities.get(kind_name, ()):
                try:
                    values.append(entity.facts[name])
                    bad.append(False)
                except KeyError:
                    try:
                        values.append(entity.fact(name, describe))
                        bad.append(False)
                    except _FAILURES:
                        values.append(None)
                        bad.append(True)
            cached = self.facts[key] = (values, bad)
        return cached

    # -- rules ---------------------------------------------------------------------------------
    def rule_column(self, rule) -> Column:
        kind_name = rule.entity_kind.name
        key = (rule.uid, kind_name)
        column = self.rules.get(key)
        if column is None:
            n = len(self.entities.get(kind_name, ()))
            rows = list(range(n))
            frame = _Frame(rule.entity_kind, rows)
            if rule.body.kind in VECTORISED_BODIES:
                self.stats.rules_vectorised.add(rule.name)
                column = self.compute(rule, frame, rows)
            else:
                self.stats.rules_per_entity.add(rule.name)
                column = self.per_entity(rule, kind_name, rows)
            self.rules[key] = column
        return column

    def per_entity(self, rule, kind_name, rows) -> Column:
        """A rule the plan does not vectorise, computed per entity by a per-case State."""
        values, bad, masks, own = [], [], [], []
        reads, cites = [], []
        entities = self.entities.get(kind_name, ())
        case_rows = self.case_row.get(kind_name, ())
        for r in rows:
            state = self.states.get(case_rows[r])
            if state is None:
                state = self.states[case_rows[r]] = State(self.program, self.engine.cache,
                                                          self.as_of, self.engine.reference)
            try:
                state.frame = []
                node = state.rule(rule, entities[r])
            except _FAILURES:
                values.append(None), bad.append(True), masks.append(0), own.append(())
                reads.append(None), cites.append(None)
                continue
            values.append(node.value), bad.append(False)
            masks.append(citation_mask(node)), own.append(node.own_citations)
            reads.append((self.read_of(node),)), cites.append(deciding_citations(node))
        column = Column(values, bad, masks, own)
        column.reads, column.cites = reads, cites
        return column

    def compute(self, rule, frame, rows) -> Column:
        body = rule.body
        n = len(rows)
        branch = failed = None
        if body.kind == "formula":
            col = self.eval(body.expression.tree, frame, rows)
            own = [rule.citations] * n
        elif body.kind == "conditions":
            col, own, branch, failed = self.conditions(rule, body, frame, rows)
        elif body.kind == "table":
            col, own, branch, failed = self.table(rule, body, frame, rows)
        else:
            col = self.aggregate(body, frame, rows)
            own = [rule.citations] * n
        values, bad = col.values, col.bad
        if rule.needs_finish and not _already_finished(rule, values, bad):
            finish = rule.finish
            where = lambda: rule.name  # noqa: E731
            values = list(values)
            bad = list(bad)
            for i in range(n):
                if not bad[i]:
                    try:
                        values[i] = finish(values[i], where)
                    except _FAILURES:
                        bad[i] = True
        own_masks = {}
        masks = []
        for m, o in zip(col.masks, own):
            om = own_masks.get(id(o))
            if om is None:
                om = own_masks[id(o)] = mask_of(o)
            masks.append(m | om)
        column = Column(values, bad, masks, own)
        if self.citing:
            column.reads, column.cites = self.deciding(rule, bad, col.deps, branch, failed)
        else:                             # values only: what decided is not followed
            column.reads = column.cites = [None] * n
        return column

    @staticmethod
    def deciding(rule, bad, deps, branch, failed):
        """Per row: what reading the rule's value brings to another value, and the result's
        deciding citations (engine.runtime.deciding), from what decided the row (``deps``),
        the branch taken (its own citations) and what made earlier branches fail."""
        general = rule.citations
        output = rule.output
        transparent = rule.transparent and not output
        reads, cites = [], []
        memo: dict = {}
        for i, d in enumerate(deps):
            f = failed[i] if failed is not None else ()
            if bad[i] or d is None or f is None:
                reads.append(None), cites.append(None)
                continue
            b = branch[i] if branch is not None else ()
            key = (id(b), d, f)
            found = memo.get(key)
            if found is None:
                cores = [x.core for x in d]
                core = compose_citations(b, general, cores)
                front = through_fronts([x.front for x in d]) if transparent \
                    else branch_section(b, general)
                full = compose_citations(b, general, cores, [x.front for x in f]) if f else core
                found = memo[key] = ((_Read(front if output else core, front),),
                                     as_written(b, general, full[0]))
            reads.append(found[0]), cites.append(found[1])
        return reads, cites

    def conditions(self, rule, body, frame, rows):
        n = len(rows)
        values = [None] * n
        bad = [False] * n
        masks = [0] * n
        own = [rule.citations] * n
        deps = [()] * n                       # what the taken condition and its value read
        failed = [()] * n                     # what the conditions that failed read
        branch = [()] * n
        remaining = list(range(n))            # positions in rows
        for condition in body.conditions:
            if not remaining:
                break
            branch_own = merge(rule.citations, condition.citations) if condition.citations \
                else rule.citations
            if condition.when is None:
                taken = remaining
                remaining = []
            else:
                test = self.eval(condition.when.tree, frame, [rows[p] for p in remaining])
                taken, following = [], []
                for p, v, b, m, d in zip(remaining, test.values, test.bad, test.masks,
                                         test.deps):
                    masks[p] |= m
                    if b or not isinstance(v, bool):
                        bad[p] = True
                    elif v:
                        taken.append(p)
                        deps[p] = d
                    else:
                        following.append(p)
                        failed[p] = _cat(failed[p], d)
                remaining = following
            if taken:
                then = self.eval(condition.then.tree, frame, [rows[p] for p in taken])
                for p, v, b, m, d in zip(taken, then.values, then.bad, then.masks, then.deps):
                    values[p] = v
                    bad[p] = bad[p] or b
                    masks[p] |= m
                    own[p] = branch_own
                    branch[p] = condition.citations
                    deps[p] = _cat(deps[p], d)
        for p in remaining:                   # no condition true and no `otherwise`
            bad[p] = True
        return Column(values, bad, masks, deps=deps), own, branch, failed

    def table(self, rule, body, frame, rows):
        """A decision table: every input read first, then the rows' cells in order, each cell
        only on the table rows still possible (a cell's own expressions are read lazily)."""
        n = len(rows)
        bad = [False] * n
        masks = [0] * n
        inputs = {}
        input_deps = []                   # (name, per row deps) in input order
        for name, expression in body.inputs:
            col = self.eval(expression.tree, frame, rows)
            inputs[name] = col.values
            input_deps.append((name, col.deps))
            masks = _or(masks, col.masks)
            bad = [x or y for x, y in zip(bad, col.bad)]
        active = [p for p in range(n) if not bad[p]]
        matches = [[] for _ in range(n)]
        used = [set() for _ in range(n)]        # inputs tested by a matching row
        failing = [set() for _ in range(n)]     # inputs whose test made a row fail
        for row in body.rows:
            candidates = active
            for name, cell in row.tests:
                if not candidates or cell.op == "any":
                    continue
                values = inputs[name]
                sub = [rows[p] for p in candidates]
                a = self.eval(cell.a.tree, frame, sub)
                b = self.eval(cell.b.tree, frame, sub) if cell.op == "range" else None
                passing = []
                for j, p in enumerate(candidates):
                    masks[p] |= a.masks[j] | (b.masks[j] if b is not None else 0)
                    if a.bad[j] or (b is not None and b.bad[j]):
                        bad[p] = True
                        continue
                    try:
                        ok = cell.passes(values[p], a.values[j],
                                          b.values[j] if b is not None else None)
                    except _FAILURES:
                        bad[p] = True
                        continue
                    if ok:
                        passing.append(p)
                    else:
                        failing[p].add(name)
                candidates = passing
            tested = [name for name, cell in row.tests if cell.op != "any"]
            for p in candidates:
                if not bad[p]:
                    matches[p].append(row)
                    used[p].update(tested)
            if body.hit_policy == "first":
                taken = set(candidates)
                active = [p for p in active if p not in taken and not bad[p]]
            else:
                active = [p for p in active if not bad[p]]
        values = [None] * n
        own = [rule.citations] * n
        branch = [()] * n
        by_row: dict = {}
        defaults = []
        for p in range(n):
            if bad[p]:
                continue
            found = matches[p]
            if body.hit_policy == "collect":
                values[p] = []
                cited = tuple(c for r in found for c in r.citations)
                own[p] = merge(rule.citations, cited) if cited else rule.citations
                branch[p] = _collected(body, found)
                for r in found:
                    by_row.setdefault(id(r), (r, []))[1].append(p)
                continue
            if len(found) > 1:
                bad[p] = True
            elif found:
                r = found[0]
                own[p] = merge(rule.citations, r.citations) if r.citations else rule.citations
                branch[p] = r.citations
                by_row.setdefault(id(r), (r, []))[1].append(p)
            elif body.default is not None:
                defaults.append(p)
            else:
                bad[p] = True
        # What decided (engine.model.definitions, DecisionTableBody): the inputs a matching row
        # tested, then the value; the inputs only a failing test used made rows fail. When a
        # cell reads a cited value the plan cannot tell (the case goes per case for citations).
        cells_cite = _cells_cite(body)
        deps, failed = [None] * n, [None] * n
        if not cells_cite:
            for p in range(n):
                deps[p] = ()
                failed[p] = ()
                for name, column in input_deps:
                    if name in used[p]:
                        deps[p] = _cat(deps[p], column[p])
                    elif name in failing[p]:
                        failed[p] = _cat(failed[p], column[p])
        # The `then` of each matched table row (for collect, in table order: values append in
        # the order the rows matched, which is table order).
        for r in body.rows:
            if id(r) not in by_row:
                continue
            chosen = by_row[id(r)][1]
            col = self.eval(r.then.tree, frame, [rows[p] for p in chosen])
            for p, v, b, m, d in zip(chosen, col.values, col.bad, col.masks, col.deps):
                masks[p] |= m
                bad[p] = bad[p] or b
                deps[p] = _cat(deps[p], d)
                if body.hit_policy == "collect":
                    values[p].append(v)
                else:
                    values[p] = v
        if defaults:
            col = self.eval(body.default.tree, frame, [rows[p] for p in defaults])
            for p, v, b, m, d in zip(defaults, col.values, col.bad, col.masks, col.deps):
                values[p], masks[p] = v, masks[p] | m
                bad[p] = bad[p] or b
                deps[p] = _cat(deps[p], d)
        return Column(values, bad, masks, deps=deps), own, branch, failed

    def member_pairs(self, body, frame, rows):
        """For each row, the members of the collection the aggregate runs over, in case order:
        (row position, member row) pairs."""
        owners, _ = self.ancestor_rows(frame.kind.name, [frame.index[r] for r in rows],
                                       body.levels_up) if frame.index is not None else (rows, None)
        owner_kind = frame.kind
        for _ in range(body.levels_up):
            owner_kind = owner_kind.parent
        owner_entities = self.entities.get(owner_kind.name, ())
        positions, members = [], []
        row_of = self.row_of
        for p, o in enumerate(owners):
            for member in owner_entities[o].children.get(body.over, ()):
                positions.append(p)
                members.append(row_of[member.uid])
        return positions, members

    def aggregate(self, body, frame, rows) -> Column:
        n = len(rows)
        positions, members = self.member_pairs(body, frame, rows)
        member_frame = _Frame(body.member_kind, members, frame, [rows[p] for p in positions])
        pair_rows = list(range(len(members)))
        masks = [0] * n
        bad = [False] * n
        fn = body.function
        if fn == "first":
            return self.first(body, frame, rows, positions, member_frame)
        kept = pair_rows
        spans = [()] * len(members)                # per member: what its filter and value read
        if body.where is not None:
            test = self.eval(body.where.tree, member_frame, pair_rows)
            spans = list(test.deps)
            kept = []
            for q, v, b, m in zip(pair_rows, test.values, test.bad, test.masks):
                p = positions[q]
                masks[p] |= m
                if b or not isinstance(v, bool):
                    bad[p] = True
                elif v:
                    kept.append(q)
        grouped = [[] for _ in range(n)]
        defaults: dict = {}                        # per row given the default: what it read
        members_kept = [[] for _ in range(n)]      # per row: its kept members (pair indices)
        for q in kept:
            members_kept[positions[q]].append(q)
        if body.of is not None:
            of = self.eval(body.of.tree, member_frame, kept)
            for q, v, b, m, d in zip(kept, of.values, of.bad, of.masks, of.deps):
                p = positions[q]
                masks[p] |= m
                bad[p] = bad[p] or b
                grouped[p].append(v)
                spans[q] = _cat(spans[q], d)
        values = [None] * n
        if fn == "count":
            values = [len(g) for g in members_kept]
        elif fn == "list":
            entities = self.entities.get(body.member_kind.name, ())
            for p, g in enumerate(members_kept):
                chosen = [entities[members[q]] for q in g]
                values[p] = [m.id if m.id is not None else m.index for m in chosen]
        elif fn == "sum":
            for p, g in enumerate(grouped):
                total = 0
                try:
                    for v in g:
                        if v is not None:
                            total = total + v
                except _FAILURES:
                    bad[p] = True
                values[p] = total
        elif fn in ("any", "all"):
            for p, g in enumerate(grouped):
                if any(not isinstance(v, bool) for v in g):
                    bad[p] = True
                else:
                    values[p] = any(g) if fn == "any" else all(g)
        else:                                  # min, max
            empty = []
            for p, g in enumerate(grouped):
                present = [v for v in g if v is not None]
                if not present:
                    empty.append(p)
                    continue
                try:
                    values[p] = min(present) if fn == "min" else max(present)
                except _FAILURES:
                    bad[p] = True
            if empty:
                if body.default is None:
                    for p in empty:
                        bad[p] = True
                else:
                    d = self.eval(body.default.tree, frame, [rows[p] for p in empty])
                    for p, v, b, m in zip(empty, d.values, d.bad, d.masks):
                        values[p], masks[p] = v, masks[p] | m
                        bad[p] = bad[p] or b
                    defaults = dict(zip(empty, d.deps))
        return Column(values, bad, masks,
                      deps=self.aggregate_deps(fn, n, positions, spans, members_kept, grouped,
                                               values, bad, defaults))

    @staticmethod
    def aggregate_deps(fn, n, positions, spans, members_kept, grouped, values, bad, defaults):
        """Per row, what decided an aggregate: every member's filter and value in order (and
        the default), except that for ``any``, ``all``, ``min`` and ``max`` the one member that
        gave the value decides alone (AggregateBody._mark per case)."""
        deps = [()] * n
        for q, p in enumerate(positions):
            deps[p] = _cat(deps[p], spans[q])
        if fn in ("any", "all", "min", "max"):
            for p in range(n):
                if bad[p]:
                    continue
                g = grouped[p]
                chosen = None
                if fn in ("any", "all"):
                    wanted = fn == "any"
                    chosen = next((i for i, v in enumerate(g) if v is wanted), None)
                elif p not in defaults:
                    chosen = next((i for i, v in enumerate(g)
                                   if v is not None and v == values[p]), None)
                if chosen is not None:
                    deps[p] = spans[members_kept[p][chosen]]
        for p, d in defaults.items():
            deps[p] = _cat(deps[p], d)
        return deps

    def first(self, body, frame, rows, positions, member_frame) -> Column:
        """``first``: members in order until one passes the filter (with ``of``, per case the
        loop stops after the first value)."""
        n = len(rows)
        values = [None] * n
        bad = [False] * n
        masks = [0] * n
        by_row = [[] for _ in range(n)]
        for q, p in enumerate(positions):
            by_row[p].append(q)
        found = [False] * n
        deps = [()] * n
        depth = 0
        longest = max((len(g) for g in by_row), default=0)
        while depth < longest:
            active = [p for p in range(n) if not found[p] and not bad[p] and len(by_row[p]) > depth]
            if not active:
                break
            pairs = [by_row[p][depth] for p in active]
            passing = active
            passing_pairs = pairs
            if body.where is not None:
                test = self.eval(body.where.tree, member_frame, pairs)
                passing, passing_pairs = [], []
                for p, q, v, b, m, d in zip(active, pairs, test.values, test.bad, test.masks,
                                            test.deps):
                    masks[p] |= m
                    deps[p] = _cat(deps[p], d)
                    if b or not isinstance(v, bool):
                        bad[p] = True
                    elif v:
                        passing.append(p)
                        passing_pairs.append(q)
            if body.of is not None and passing:
                of = self.eval(body.of.tree, member_frame, passing_pairs)
                for p, v, b, m, d in zip(passing, of.values, of.bad, of.masks, of.deps):
                    values[p] = v
                    masks[p] |= m
                    bad[p] = bad[p] or b
                    found[p] = True
                    deps[p] = _cat(deps[p], d)
            depth += 1
        missing = [p for p in range(n) if not found[p] and not bad[p]]
        if missing and body.default is not None:
            d = self.eval(body.default.tree, frame, [rows[p] for p in missing])
            for p, v, b, m, e in zip(missing, d.values, d.bad, d.masks, d.deps):
                values[p], masks[p] = v, masks[p] | m
                bad[p] = bad[p] or b
                deps[p] = _cat(deps[p], e)
        return Column(values, bad, masks, deps=deps)

    # -- expressions ---------------------------------------------------------------------------
    def eval(self, node, frame: _Frame, rows) -> Column:
        """The value of an expression node for each of ``rows`` (rows of ``frame``)."""
        n = len(rows)
        if n == 0:
            return Column([], [], [])
        kind = type(node)
        if kind is ast.Constant:
            return Column([node.value] * n, [False] * n, [0] * n)
        if kind is ast.Name:
            return self.name(node.ref.target, frame, rows)
        if kind is ast.BinOp:
            return self.elementwise(OPERATORS[type(node.op)], [node.left, node.right], frame, rows)
        if kind is ast.UnaryOp:
            if isinstance(node.op, ast.Not):
                col = self.eval(node.operand, frame, rows)
                return Column([not v for v in col.values], col.bad, col.masks, deps=col.deps)
            return self.elementwise(OPERATORS[type(node.op)], [node.operand], frame, rows)
        if kind is ast.BoolOp:
            return self.boolean(node, frame, rows)
        if kind is ast.Compare:
            return self.compare(node, frame, rows)
        if kind is ast.IfExp:
            return self.if_else(node, frame, rows)
        if kind is ast.Call:
            return self.call(node, frame, rows)
        if kind in (ast.List, ast.Tuple):
            parts = [self.eval(e, frame, rows) for e in node.elts]
            values = [[p.values[i] for p in parts] for i in range(n)]
            bad = [any(p.bad[i] for p in parts) for i in range(n)]
            masks = [0] * n
            for p in parts:
                masks = _or(masks, p.masks)
            return Column(values, bad, masks, deps=_cat_columns(parts, n))
        raise TypeError(f"cannot evaluate {kind.__name__}")  # pragma: no cover - checked syntax

    def name(self, target, frame: _Frame, rows) -> Column:
        what = target[0]
        n = len(rows)
        if what == "outer":
            outer_rows = [frame.outer_rows[r] for r in rows]
            return self.name(target[1], frame.outer, outer_rows)
        if what == "as_of":
            return Column([self.as_of] * n, [False] * n, [0] * n)
        if what == "param":
            try:
                value = self.engine.cache.parameter(target[1], self.as_of)
                v = value.read()
            except _FAILURES:
                return Column([None] * n, [True] * n, [0] * n)
            return Column([v] * n, [False] * n, [value.citation_mask] * n,
                          deps=[(self.read_of(value),)] * n)
        entity_rows = [frame.index[r] for r in rows]
        if what == "fact":
            _, fact, depth = target
            at, kind_name = self.ancestor_rows(frame.kind.name, entity_rows, depth)
            values, bad = self.fact_column(kind_name, fact)
            return Column([values[r] for r in at], [bad[r] for r in at], [0] * n)
        if what == "rule":
            _, rule, depth = target
            at, _ = self.ancestor_rows(frame.kind.name, entity_rows, depth)
            col = self.rule_column(rule)
            reads = col.reads
            return Column([col.values[r] for r in at], [col.bad[r] for r in at],
                          [col.masks[r] for r in at], deps=[reads[r] for r in at])
        raise TypeError(f"cannot read {what} here")  # pragma: no cover - args only in functions

    def elementwise(self, fn, operands, frame, rows) -> Column:
        parts = [self.eval(o, frame, rows) for o in operands]
        values, bad = _apply(fn, [p.values for p in parts], [p.bad for p in parts], len(rows))
        masks = parts[0].masks
        for p in parts[1:]:
            masks = _or(masks, p.masks)
        return Column(values, bad, masks, deps=_cat_columns(parts, len(rows)))

    def boolean(self, node, frame, rows) -> Column:
        """``and``/``or`` with Python's value semantics; later operands only where undecided."""
        is_and = isinstance(node.op, ast.And)
        n = len(rows)
        first = self.eval(node.values[0], frame, rows)
        values, bad, masks = list(first.values), list(first.bad), list(first.masks)
        deps = list(first.deps)
        pending = [p for p in range(n) if not bad[p] and bool(values[p]) == is_and]
        for operand in node.values[1:]:
            if not pending:
                break
            col = self.eval(operand, frame, [rows[p] for p in pending])
            following = []
            for p, v, b, m, d in zip(pending, col.values, col.bad, col.masks, col.deps):
                values[p] = v
                masks[p] |= m
                if b:
                    bad[p] = True
                elif bool(v) == is_and:
                    following.append(p)
                    deps[p] = _cat(deps[p], d)
                else:
                    # The operand the operator stopped at decided alone (language/marks).
                    deps[p] = d
            pending = following
        return Column(values, bad, masks, deps=deps)

    def compare(self, node, frame, rows) -> Column:
        n = len(rows)
        if len(node.ops) == 1:
            left = self.eval(node.left, frame, rows)
            right = self.eval(node.comparators[0], frame, rows)
            values, bad = _apply(OPERATORS[type(node.ops[0])], [left.values, right.values],
                                 [left.bad, right.bad], n)
            return Column(values, bad, _or(left.masks, right.masks),
                          deps=_cat_columns([left, right], n))
        left = self.eval(node.left, frame, rows)
        current, bad, masks = list(left.values), list(left.bad), list(left.masks)
        deps = list(left.deps)
        values = [True] * n
        pending = [p for p in range(n) if not bad[p]]
        for op, comparator in zip(node.ops, node.comparators):
            if not pending:
                break
            fn = OPERATORS[type(op)]
            col = self.eval(comparator, frame, [rows[p] for p in pending])
            following = []
            for p, v, b, m, d in zip(pending, col.values, col.bad, col.masks, col.deps):
                masks[p] |= m
                deps[p] = _cat(deps[p], d)
                if b:
                    bad[p] = True
                    continue
                try:
                    result = fn(current[p], v)
                except _FAILURES:
                    bad[p] = True
                    continue
                if len(node.ops) == 1:
                    values[p] = result
                elif not result:
                    values[p] = False
                else:
                    current[p] = v
                    following.append(p)
            pending = following
        return Column(values, bad, masks, deps=deps)

    def if_else(self, node, frame, rows) -> Column:
        n = len(rows)
        test = self.eval(node.test, frame, rows)
        values, bad, masks = [None] * n, list(test.bad), list(test.masks)
        deps = list(test.deps)
        yes = [p for p in range(n) if not bad[p] and test.values[p]]
        no = [p for p in range(n) if not bad[p] and not test.values[p]]
        for chosen, branch in ((yes, node.body), (no, node.orelse)):
            if chosen:
                col = self.eval(branch, frame, [rows[p] for p in chosen])
                for p, v, b, m, d in zip(chosen, col.values, col.bad, col.masks, col.deps):
                    values[p], bad[p], masks[p] = v, b, masks[p] | m
                    deps[p] = _cat(deps[p], d)
        return Column(values, bad, masks, deps=deps)

    def call(self, node, frame, rows) -> Column:
        target = node.ref.target
        what = target[0]
        n = len(rows)
        if what == "in_force":
            value = target[1].has_value(self.as_of)
            return Column([value] * n, [False] * n, [0] * n)
        if what == "value_on":
            return self.value_on(node, target[1], frame, rows)
        args = [self.eval(a, frame, rows) for a in node.args]
        masks = [0] * n
        for a in args:
            masks = _or(masks, a.masks)
        if what == "builtin":
            fn = target[1]
            values, bad = _apply(fn, [a.values for a in args], [a.bad for a in args], n)
            if fn in SELECTORS and len(args) > 1:
                # min/max of several arguments: only the argument that gave the value decides
                # (the first of equal ones), as language/marks.keep_chosen marks it.
                deps = [None] * n
                for i in range(n):
                    if not bad[i]:
                        chosen = [a.values[i] for a in args].index(values[i])
                        deps[i] = args[chosen].deps[i]
                return Column(values, bad, masks, deps=deps)
            return Column(values, bad, masks, deps=_cat_columns(args, n))
        values, bad = [None] * n, _any_bad([a.bad for a in args], n)
        deps = _cat_columns(args, n)
        if what == "lookup":
            try:
                parameter = self.engine.cache.parameter(target[1], self.as_of)
            except _FAILURES:
                return Column(values, [True] * n, masks)
            own = parameter.citation_mask
            read = (self.read_of(parameter),)
            for i in range(n):
                if not bad[i]:
                    try:
                        values[i] = parameter.lookup(args[0].values[i])
                        masks[i] |= own
                        deps[i] = _cat(deps[i], read)
                    except _FAILURES:
                        bad[i] = True
            return Column(values, bad, masks, deps=deps)
        if what == "function":
            state = self.function_state
            function = target[1]
            for i in range(n):
                if not bad[i]:
                    try:
                        state.frame = []
                        result = state.call(function, [a.values[i] for a in args])
                    except _FAILURES:
                        bad[i] = True
                        continue
                    values[i] = result.value
                    masks[i] |= citation_mask(result)
                    deps[i] = _cat(deps[i], (self.read_of(result),))
            return Column(values, bad, masks, deps=deps)
        raise TypeError(f"cannot call {what}")  # pragma: no cover

    def value_on(self, node, parameter, frame, rows) -> Column:
        n = len(rows)
        on = self.eval(node.args[1], frame, rows)
        values, bad, masks = [None] * n, list(on.bad), list(on.masks)
        deps = list(on.deps)
        live = [p for p in range(n) if not bad[p] and on.values[p] is not None]
        key = self.eval(node.args[2], frame, [rows[p] for p in live]) if len(node.args) == 3 \
            else None
        state = self.function_state
        for j, p in enumerate(live):
            try:
                state.frame = []
                value = state.parameter_on(parameter, on.values[p])
                # Read in this order per case: the date, the parameter, then the key.
                deps[p] = _cat(deps[p], (self.read_of(value),))
                if key is None:
                    values[p] = value.read()
                else:
                    masks[p] |= key.masks[j]
                    deps[p] = _cat(deps[p], key.deps[j])
                    if key.bad[j]:
                        raise _Bad()
                    values[p] = value.lookup(key.values[j])
                masks[p] |= value.citation_mask
            except _FAILURES:
                bad[p] = True
        return Column(values, bad, masks, deps=deps)

    # -- outputs -------------------------------------------------------------------------------
    def outputs(self, names=None, citations: bool = False):
        """Per case: the list of results, or None when the case must go to the per-case
        evaluator (a row that is bad where the per-case evaluator would have read it, or, when
        ``citations`` are wanted, a result whose deciding citations the plan cannot tell)."""
        program = self.program
        wanted = set(names) if names is not None else None
        per_case: list = [[] for _ in self.cases]
        failed = [False] * len(self.cases)
        plans = {}
        for kind_name, entities in self.entities.items():
            kind = entities[0].kind
            if wanted is None:
                rules = program.outputs_for(kind)
            else:
                rules = [r for r in program.rules.values() if r.name in wanted and
                         r.entity_kind is kind]
            shown = {}
            for rule in rules:
                if wanted is None and rule.output_when is not None:
                    rows = list(range(len(entities)))
                    shown[rule.uid] = self.eval(rule.output_when.tree, _Frame(kind, rows), rows)
            plans[kind_name] = (rules, shown)
        # Per kind, per row: its results in rule order, or None if a shown value is bad.
        by_row = {}
        cited = self.cited
        for kind_name, (rules, shown) in plans.items():
            entities = self.entities[kind_name]
            results = [[] for _ in entities]
            for rule in rules:
                col = self.rule_column(rule)
                show = shown.get(rule.uid)
                values, bad, own, masks = col.values, col.bad, col.own, col.masks
                cites = col.cites
                for row, entity in enumerate(entities):
                    out = results[row]
                    if out is None:
                        continue
                    if show is not None:
                        shows = show.values[row]
                        if show.bad[row] or shows.__class__ is not bool:
                            results[row] = None
                            continue
                        if not shows:
                            continue
                    if bad[row]:
                        results[row] = None
                        continue
                    if citations and cites[row] is None:
                        results[row] = None
                        self.citation_failed.add(self.case_row[kind_name][row])
                        continue
                    out.append(ColumnarResult(rule, entity, values[row], own[row], masks[row],
                                              cited, cites[row], self.as_of))
            by_row[kind_name] = results
        row_of = self.row_of
        for number, entities in enumerate(self.walks):
            out = per_case[number]
            for entity in entities:
                found = by_row[entity.kind.name][row_of[entity.uid]]
                if found is None:
                    failed[number] = True
                    break
                out.extend(found)
        return [None if failed[i] else per_case[i] for i in range(len(self.cases))]


def evaluate_cases(engine, cases, as_of: dt.date, names=None, stats: ColumnarStats | None = None,
                   citations: bool = True):
    """Evaluate read cases (:class:`engine.api.Case`) as of one date with the columnar plan.

    Returns one evaluation per case, in order: a :class:`ColumnarEvaluation`, or, for a case
    the plan could not finish, the per-case evaluator's :class:`Evaluation` (which raises the
    case's error as ``Engine.evaluate`` does, caught by the caller per case). ``stats``, if
    given, is updated with the counts. Every result carries its deciding citations
    (``Result.citations``), and a case with a result the plan cannot cite exactly is given to the
    per-case evaluator too; with ``citations=False`` (values only) they are not computed and
    each result's ``citations`` is None.
    """
    with decimal_context():
        batch = _Batch(engine, cases, as_of, citations)
        outputs = batch.outputs(names, citations)
    results = []
    for case, out in zip(cases, outputs):
        if out is None:
            batch.stats.fallback_cases += 1
            results.append(None)
        else:
            batch.stats.columnar_cases += 1
            results.append(ColumnarEvaluation(case.case_id, as_of, out))
    batch.stats.cases += len(cases)
    batch.stats.citation_fallbacks = len(batch.citation_failed)
    if stats is not None:
        stats.add(batch.stats)
    return results


def plan_coverage(program) -> dict[str, list[str]]:
    """Which rules the plan computes as columns and which per entity inside the plan."""
    vectorised, per_entity = [], []
    for rule in program.rules.values():
        (vectorised if rule.body.kind in VECTORISED_BODIES else per_entity).append(rule.name)
    return {"vectorised": sorted(vectorised), "per_entity": sorted(per_entity)}
