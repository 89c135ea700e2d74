"""The columnar evaluator: each rule computed once over every entity of a batch of cases.

The per-case evaluator (:mod:`engine.runtime.state`) walks one case at a time, one closure call
per expression node and one trace record per value read. For a batch, that cost is paid again for
every household. This module evaluates a *batch*: it lays the entities of all cases out by kind
(every case, every person, every income: one row each, with the row of its parent; taken as
read when the cases come read into rows, :class:`engine.model.case_rows.RowCases`, and then
facts are read a column at a time from the rows, no entity tree built), and computes each rule
once per kind as a column, one expression node at a time over all the rows that need it.

Semantics are the per-case evaluator's, row by row, and are kept by construction:

* **Laziness.** An expression node is evaluated only on the rows that would evaluate it per case:
  the second operand of ``and``/``or`` only where the first did not decide, the branch of an
  ``if`` only where it is taken, a condition only on the rows no earlier condition took, a chained
  comparison stops where a link fails (one node is evaluated further, to no effect: a ``first``
  aggregate's filter runs on every member at once, and of the members after the one where the
  per-case loop stops nothing reaches a result, :meth:`_Batch.first`). A row that would fail per
  case (a missing fact, a type error, no matching condition) is marked *bad*; badness flows to
  every value that reads it, and a case with a bad output (or a bad ``output_when``) is given to
  the per-case evaluator whole, which reports the error exactly as ``policy eval`` does (counted
  in :class:`ColumnarStats`); so is a case with a fact that cannot be true on the date
  (:meth:`_Batch.impossible_on_date`).
* **Exact values.** Each element is computed with the same operator functions, built-ins, rounding
  and type check as per case (Decimal arithmetic, declared rounding, ``Definition.finish``), so
  values are identical, exponents included; no binary floats anywhere. Shortcuts give the
  same values by construction (see **Arrays** below): Python's own operator where the
  language's reduces to it, pure calls once per distinct typed argument, yes/no columns as
  ``bool`` arrays, and a fact an entity does not give looked up once per kind.
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
  ``ColumnarResult.provenance`` (``Result.provenance`` per case), unless the caller asks for
  none (``provenance=False``: ``policy batch`` never writes it, and then no mask is joined).
* **What is not columnar.** Functions (pure: they depend only on their arguments and the date)
  are called per distinct argument through the engine's shared :class:`DateCache`, as per case.
  A rule whose body is a decision table or another kind the plan does not vectorise is computed
  per entity in Python inside the plan, by a per-case :class:`State` for that entity's case
  (still once per rule and entity per batch). :func:`plan_coverage` lists which rules are which.

**Arrays.** Columns are NumPy arrays (:mod:`engine.runtime.columnar_arrays`). Values are
``object`` arrays of the per-case Python values (``Decimal``, ``int``, text, date, list), except
yes/no columns, which are ``bool`` arrays wherever every row not bad holds ``True`` or ``False``
itself (comparisons, memberships, ``not``, ``is_given``, ``any``/``all``, constants, yes/no facts
and rules): conditions, ``and``/``or``, ``if`` and filters read those without a Python call per
row, and NumPy hands each element back as Python's own ``True``/``False`` wherever it is written
into an object array, listed or passed to a function. The value work per element is Python's
own where that is exactly the language's: ``+``, ``-`` and ``*`` of two numbers by Python's
operator (the language's checks cannot fail for an ``int`` or a finite ``Decimal``; the integer
bound on products is checked on the results), texts and lists joined directly (a chain of ``+``
over texts joined once per row; of texts written out and names of rules or facts, or ``text``/
``money`` of them, once per distinct tuple of the names' values, each name's column numbered
once per batch), comparisons and table cells through the C operators; every
other row goes through the per-case operator by :func:`numpy.frompyfunc`. Pure calls that cost
more than keying their arguments (rulebook functions through the shared :class:`DateCache`,
parameter tables, built-ins, division, declared rounding and the type check of a rule's value)
run once per distinct *typed* tuple of arguments (``True`` is not ``1``, ``Decimal("2.5")`` not
``Decimal("2.50")``), as the per-case call cache keys them. Money is not scaled integers: the
arithmetic left per element is a small part of the time (benchmarks/README.md, "Columnar
kernel"), and each conversion to and from ``Decimal`` would cost about what it saves. Badness
is a ``bool`` array, and a row's citation mask and deciding reads are integer ids into
per-batch tables, joined once per distinct pair of ids (found through a small table over the
ranges of the ids, not by sorting); comparisons go through NumPy's comparison of object arrays
(the same rich comparison per element, in C); the deciding list of a rule is composed
once per distinct (branch, reads, failed) triple, not per row. Selecting rows, putting
sub-results back, the rows of a condition or table row, and members per owner are array
operations: a collection's member pairs made once per batch, sums and extremes one ``reduceat``
per aggregate, the reads of members joined one rank at a time over every owner. The cycle
collector is paused while a chunk is evaluated
(:func:`engine.runtime.collector.paused_collector`).
"""

from __future__ import annotations

import ast
import datetime as dt
import operator
import weakref
from dataclasses import dataclass, field
from functools import partial
from decimal import Decimal
from itertools import chain, repeat
from operator import attrgetter


import numpy as np

from ..language.marks import SELECTORS, may_cite
from ..language.builtins import BUILTINS
from ..language.operators import MAX_POWER_BITS, MAX_SEQUENCE, OPERATORS
from ..model.case_rows import MISSING
from ..model.entities import date_conflict
from ..model.citations import mask_of, merge, ordered
from .deciding import (as_written, branch_section, compose_citations, deciding_citations,
                       read_citations, through_fronts)
from .collector import paused_collector
from .columnar_arrays import (UNKNOWN, Interned, Memo, apply, apply_distinct, as_objects,
                              comparisons, distinct, firsts, flags, full, group, heads, ids_at,
                              memberships, lists_chained, no_ids, no_rows, numbers, objects,
                              ranks_of, rows_where, strict_bools, texts_chained, texts_joined,
                              truth, ufunc, zero_ids)
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
    tell, and that row's case is then evaluated per case when citations are wanted).

    A column's arrays may be another column's (a rule read on all its rows is the rule's own
    arrays, a column of no ids the shared :func:`zero_ids`): never write into them; a node that
    fills in rows copies first or makes its own."""

    __slots__ = ("values", "bad", "masks", "own", "deps", "reads", "_cites", "cites_of",
                 "cite_groups", "single")

    def __init__(self, values, bad, masks, own=None, deps=None):
        self.single = False     # True: the very same object on every row (a constant)
        self.values = values
        self.bad = bad
        self.masks = masks
        self.own = own          # rule columns: the own citations of each row's branch
        self.deps = deps if deps is not None else zero_ids(len(values))
        self.reads = None       # rule columns: per row, what reading the value brings
        self._cites = None
        self.cites_of = None    # rule columns: what makes ``cites`` when first asked
        #: Rule columns whose ``cites`` the plan composed once per distinct combination (see
        #: :meth:`_Batch.deciding`): per row the number of its deciding list, and the lists so
        #: numbered (None first), of which ``cites`` is the lists at the numbers; None for
        #: others. A writer numbers each row's list by it, not by a pass over the rows.
        self.cite_groups = None

    @property
    def cites(self):
        """Rule columns: per row, the result's deciding citations. Made when first asked
        (``cites_of``, which gives :attr:`cite_groups`): only the rules a batch shows need
        them (its outputs, or the rules asked for by name), while every rule's ``reads`` are
        needed by the rules reading it."""
        if self._cites is None and self.cites_of is not None:
            numbers, lists = self.cites_of()
            self._cites, self.cites_of = lists[numbers], None
            self.cite_groups = (numbers, lists)
        return self._cites

    @cites.setter
    def cites(self, cites):
        self._cites, self.cites_of, self.cite_groups = cites, None, None


class _Read:
    """What reading one value brings to the deciding citations of the value that read it
    (``core``) and, when it made an earlier branch fail, its deciding section (``front``): each
    a (canonical citations, mask) pair. Compared and hashed by identity: one per value read."""

    __slots__ = ("core", "front")

    def __init__(self, core, front):
        self.core = core
        self.front = front


def shown_value(rule, value):
    """A rule's value as a result shows it: a money amount written to the cent (:func:`cents`)."""
    if rule.type == "money" and isinstance(value, Decimal):
        return cents(value)
    return value


def result_json(rule, value):
    """A rule's value as its result's JSON value (``ColumnarResult.json_value``), for writers
    that read the columns (:class:`ColumnarOutputs`) instead of result objects."""
    return typed_json_value(shown_value(rule, value), rule.type)


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
        return shown_value(self.rule, self.value)

    def json_value(self):
        return typed_json_value(self.shown_value, self.rule.type)

    @property
    def provenance(self):
        """Everything the value read, own citations first (as ``Result.provenance``)."""
        if self.mask is None:
            raise ValueError(f"The provenance of {self.rule.name} was not computed: the batch "
                             "was evaluated with provenance=False.")
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


class RuleOutputs:
    """One output rule's results in a batch, as columns over the rows it shows (``rows``, rows
    of its kind's table, ascending): the values, each row's own citations id and mask id (into
    the batch's tables; ``masks`` None where the batch kept none) and its deciding citations
    (``Result.citations``), with their numbering where the plan has one (``cite_groups``: per
    row shown the number of its list, and the lists so numbered, as
    :attr:`Column.cite_groups`; None otherwise, and again None once ``cites`` is set). A rule
    shown on every row holds the rule's columns themselves (read them, never write into
    them)."""

    __slots__ = ("rule", "rows", "values", "own", "masks", "_cites", "cite_groups")

    def __init__(self, rule, rows, values, own, masks, cites, cite_groups=None):
        self.rule = rule
        self.rows = rows
        self.values = values
        self.own = own
        self.masks = masks
        self._cites = cites
        self.cite_groups = cite_groups

    @property
    def cites(self):
        return self._cites

    @cites.setter
    def cites(self, cites):
        self._cites, self.cite_groups = cites, None


class KindOutputs:
    """The results of one entity kind in a batch: its entities (rows), its output rules'
    columns in rule order, each row's case number, and whether each row's results are all
    good (a case with a row that is not goes to the per-case evaluator)."""

    __slots__ = ("entities", "rules", "case_of", "alive")

    def __init__(self, entities, rules, case_of, alive):
        self.entities = entities
        self.rules = rules
        self.case_of = case_of
        self.alive = alive


class ColumnarOutputs:
    """A batch's results as columns, before any result object is made.

    A case's results are its entities' in the per-case order (:func:`_walk`), each entity's in
    rule order. :meth:`results` makes them :class:`ColumnarResult` objects (what
    ``evaluate_cases`` returns, for every reader of results); a writer that needs only each
    result's entity, rule, value and deciding citations can read the columns instead
    (``engine.tools.column_lines``): making one object per result cost about as much as
    writing the line."""

    def __init__(self, batch, kinds: list, failed: list):
        self.cases = batch.cases
        self.as_of = batch.as_of
        self.kinds = kinds               # [KindOutputs], one per kind with entities
        self.failed = failed             # per case: True if it goes to the per-case evaluator
        self._walks = batch.walks
        self._row_of = batch.row_of
        self._parent_rows = batch.parent_rows
        self._cited = batch.cited
        self._masks = batch.masks.items
        self._citations = batch.citations.items

    def results(self) -> list:
        """Per case: its list of :class:`ColumnarResult`, or None for a failed case."""
        as_of, cited = self.as_of, self._cited
        mask_items, citation_items = self._masks, self._citations
        by_kind = {}
        for kind in self.kinds:
            entities = kind.entities
            results = [[] for _ in entities]
            for out in kind.rules:
                rule = out.rule
                masks = (map(mask_items.__getitem__, out.masks.tolist())
                         if out.masks is not None else repeat(None))   # masks not kept
                for row, value, own, mask, cites in zip(
                        out.rows.tolist(), out.values.tolist(), out.own.tolist(), masks,
                        out.cites.tolist()):
                    results[row].append(ColumnarResult(rule, entities[row], value,
                                                       citation_items[own], mask, cited,
                                                       cites, as_of))
            for row in np.flatnonzero(~kind.alive).tolist():
                results[row] = None
            by_kind[entities[0].kind.name] = results
        row_of, failed = self._row_of, self.failed
        out = []
        for number, entities in enumerate(self._walks):
            if failed[number]:
                out.append(None)
                continue
            found = []
            for entity in entities:
                found.extend(by_kind[entity.kind.name][row_of[entity.uid]])
            out.append(found)
        return out

    def places(self, only=None) -> tuple[list, np.ndarray]:
        """Where each row stands among the batch's entities in the per-case order (case after
        case, each in :func:`_walk` order), counting only the entities of the kinds ``only``
        (indices into :attr:`kinds`; all by default): per kind (as :attr:`kinds`), an array over
        its rows (None for a kind not counted); and per case, where its entities start in that
        order, then their total.

        Without a walk where it is not needed: the root kind (one entity per case, first in
        its case's walk) and one other kind, whose rows are in the per-case order as read
        (:meth:`_places_by_case`), as a writer of the outputs of a case and its people has."""
        counted = range(len(self.kinds)) if only is None else sorted(set(only))
        found = self._places_by_case(counted)
        if found is not None:
            return found
        code = {id(kind.entities[0].kind): i for i, kind in enumerate(self.kinds)}
        starts = np.zeros(len(self._walks) + 1, dtype=np.intp)
        np.cumsum(np.fromiter(map(len, self._walks), dtype=np.intp, count=len(self._walks)),
                  out=starts[1:])
        kinds = map(id, map(attrgetter("kind"), chain.from_iterable(self._walks)))
        codes = np.fromiter(map(code.__getitem__, kinds), dtype=np.intp, count=starts[-1])
        order = np.argsort(codes, kind="stable")
        bounds = np.cumsum([0] + [len(kind.entities) for kind in self.kinds])
        positions = [order[bounds[i]:bounds[i + 1]] for i in range(len(self.kinds))]
        if len(counted) == len(self.kinds):
            return positions, starts
        kept = np.isin(codes, np.asarray(counted, dtype=np.intp))
        before = np.zeros(len(codes) + 1, dtype=np.intp)   # entities counted before each
        np.cumsum(kept, out=before[1:])
        return ([before[positions[i]] if i in counted else None
                 for i in range(len(self.kinds))], before[starts])

    def _places_by_case(self, counted):
        """:meth:`places` from each row's case number alone, where the kinds counted are at
        most the root kind, one row per case and each case's first, and one other kind, whose
        rows are in case order (its rows as read are in the per-case order); else None."""
        cases = len(self._walks)
        roots, others = [], []
        for i in counted:
            kind = self.kinds[i]
            parents = self._parent_rows.get(kind.entities[0].kind.name)
            if parents is None:
                return None
            if len(parents) and int(parents.max()) < 0:
                roots.append(i)
            else:
                others.append(i)
        if len(roots) > 1 or len(others) > 1:
            return None
        positions = [None] * len(self.kinds)
        numbers = np.arange(cases + 1, dtype=np.intp)
        if others:
            case_of = self.kinds[others[0]].case_of
            if len(case_of) > 1 and bool((case_of[1:] < case_of[:-1]).any()):
                return None
            first = np.searchsorted(case_of, numbers)      # each case's first row, then all
        else:
            case_of, first = None, np.zeros(cases + 1, dtype=np.intp)
        if roots:
            if not np.array_equal(self.kinds[roots[0]].case_of, numbers[:-1]):
                return None
            starts = first + numbers
            positions[roots[0]] = starts[:-1]
            if others:
                positions[others[0]] = np.arange(len(case_of), dtype=np.intp) + case_of + 1
        else:
            starts = first
            if others:
                positions[others[0]] = np.arange(len(case_of), dtype=np.intp)
        return positions, starts


def _walk(entity):
    yield entity
    for children in entity.children.values():
        for child in children:
            yield from _walk(child)


class _Frame:
    """Where a name is looked up for each row: an entity kind and, per row, the entity's index
    in that kind's table; inside an aggregate also the outer frame and each row's outer row.
    ``whole``: the index is every row of the kind in order (``0, 1, 2...``), so a position is
    its entity's row (a rule's own frame), and no gather is needed to find it."""

    __slots__ = ("kind", "index", "outer", "outer_rows", "whole")

    def __init__(self, kind, index, outer=None, outer_rows=None, whole: bool = False):
        self.kind = kind
        self.index = index
        self.outer = outer
        self.outer_rows = outer_rows
        self.whole = whole


def _every_row(rows, index, n: int) -> bool:
    """Whether ``rows`` (positions in a whole frame, ``index``) are all ``n`` rows in order:
    the frame's index itself, or ``0, 1, ... n-1`` written again."""
    if rows is index:
        return len(rows) == n
    # n positions rising from 0 to n - 1, each above the one before: all of them, in order
    return len(rows) == n and (n == 0 or (rows[0] == 0 and rows[-1] == n - 1 and
                                          np.count_nonzero(rows[1:] > rows[:-1]) == n - 1))


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


#: Per declared type, the Python types a value may already have to pass ``Definition.finish``
#: unchanged (None passes every type).
_PASSING = {"money": {int, Decimal}, "decimal": {int, Decimal}, "percent": {int, Decimal},
            "integer": {int}, "boolean": {bool}, "text": {str}, "date": {dt.date},
            "list": {list}, "any": None}


#: Per rule body: what its good values are known to be from the body alone (_known_values).
_KNOWN: dict = {}
#: The classes of the good values of ``count``, ``sum`` and ``list`` aggregates: a count is an
#: ``int``; a sum is 0 or what ``+`` gives from it for numbers (an ``int`` or a ``Decimal``: ``+``
#: of anything else fails, and the row is bad); a list is a new ``list``.
_AGGREGATED = {"count": frozenset({int}), "sum": frozenset({int, Decimal}),
               "list": frozenset({list})}


def _known_values(body):
    """What every good value of a rule with this body is known to be without reading them, as
    (the classes they may have, the values themselves or None), or None when only the values
    tell: a ``count``, ``sum`` or ``list`` aggregate (:data:`_AGGREGATED`), or conditions whose
    every value is written out (each row taken holds one of those constants itself; a row no
    condition takes is bad). Kept per body for as long as the rulebook lives."""
    entry = _KNOWN.get(id(body))
    if entry is None or entry[0] is not body:
        found = None
        if body.kind == "aggregate" and body.function in _AGGREGATED:
            found = (_AGGREGATED[body.function], None)
        elif body.kind == "conditions" and all(
                c.then.tree.__class__ is ast.Constant for c in body.conditions):
            constants = [c.then.tree.value for c in body.conditions]
            found = (frozenset(map(type, constants)), constants)
        entry = _KNOWN[id(body)] = (body, found)
    return entry[1]


def _already_finished(rule, values, bad, known=None) -> bool:
    """Whether ``finish`` would leave every good value as it is: no rounding, every value one of
    the declared ones (if the rule declares them), and every value already of a type its
    declared type accepts as is (checked in bulk, over every row: a bad row's value can only
    make the answer no, and then ``finish`` runs on the good rows alone). ``known``: what the
    good values are known to be (:func:`_known_values`), asked of those instead of the rows."""
    if rule.rounding is not None:
        return False
    passing = _PASSING.get(rule.type)
    if passing is None and rule.type != "any":
        return False
    if values.dtype == bool and rule.enum is None:    # a yes/no array: every value a bool
        return passing is None or bool in passing
    if known is not None and (rule.enum is None or known[1] is not None):
        classes, constants = known
        if rule.enum is not None:
            try:
                if not set(constants) <= {*rule.enum, None}:
                    return False
            except TypeError:
                return False
        return passing is None or classes - {type(None)} <= passing
    listed = values.tolist()
    if rule.enum is not None:             # every value one of the declared ones (or None)
        try:
            if not set(listed) <= {*rule.enum, None}:
                return False
        except TypeError:                 # an unhashable value: checked one by one
            return False
    if passing is None:
        return True
    types = set(map(type, listed))
    types.discard(type(None))
    return types <= passing


def _matched_sets(matched: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a ``bool`` matrix (which table rows each case row matched) and, per
    row, the index of its set: each row read as the bits of one integer when the table has at
    most 62 rows (one sort of integers), else NumPy's row-wise unique."""
    width = matched.shape[1]
    if width > 62:
        sets, inverse = np.unique(matched, axis=0, return_inverse=True)
        return sets, inverse.reshape(-1)
    bits = np.int64(1) << np.arange(width, dtype=np.int64)
    uniq, inverse = np.unique(matched.astype(np.int64) @ bits, return_inverse=True)
    return (uniq[:, None] & bits) != 0, inverse.reshape(-1)


def _same_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`_same` row by row, as a ``bool`` array: equality by the C comparison, then
    identity where not equal (a value not equal to itself); a row whose comparison raises is
    not the same (each row through :func:`_same` then)."""
    no_bad = np.zeros(len(a), dtype=bool)
    equal = comparisons(operator.eq, a, b, no_bad)
    if equal is None:
        return apply(_same, [a, b], no_bad, _FAILURES)[0].astype(bool)
    rest = rows_where(~equal)
    if len(rest):
        equal[rest] = _IS(a[rest], b[rest]).astype(bool)
    return equal


_ADD = OPERATORS[ast.Add]
_MUL = OPERATORS[ast.Mult]
#: The language's ``+``, ``-`` and ``*`` and Python's own, which they apply to two numbers.
_ARITHMETIC = {OPERATORS[ast.Add]: operator.add, OPERATORS[ast.Sub]: operator.sub,
               OPERATORS[ast.Mult]: operator.mul}
#: Operators that cost more per element than keying their operands: once per distinct pair.
_PER_DISTINCT = frozenset(OPERATORS[op] for op in (ast.Div, ast.FloorDiv, ast.Mod, ast.Pow))
#: Built-ins that are Python's own (cheap per element: applied to every row, not per distinct).
_NATIVE = frozenset({len})
_IS_GIVEN = BUILTINS["is_given"].function
#: Built-ins whose results by typed argument are kept from one batch to the next (the memo's
#: ``found``, :meth:`_Batch.memo`): they depend on their argument alone, not on the date nor the
#: case (the decimal context is the evaluation's own, the same for every batch), and give a text,
#: which cannot change. Each table is emptied when it grows past :data:`_LASTING_SIZE` keys.
_LASTING = {BUILTINS["text"].function: {}, BUILTINS["money"].function: {}}
_LASTING_SIZE = 1 << 16
#: A decision-table cell's test and the operator that decides it (``Cell.passes``).
_CELL_OPERATORS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
                   ">": operator.gt, ">=": operator.ge, "in": OPERATORS[ast.In],
                   "not in": OPERATORS[ast.NotIn]}
#: The operators whose every result is Python's ``True`` or ``False`` (typed as ``bool`` arrays).
_YES_NO = frozenset(OPERATORS[op] for op in (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
                                              ast.In, ast.NotIn, ast.Is, ast.IsNot))
_IN, _NOT_IN = OPERATORS[ast.In], OPERATORS[ast.NotIn]

#: A fact the case does not give (its default, if any, is looked up per entity).
_MISSING = object()
_UID = operator.attrgetter("uid")


def _zeros(n):
    return np.zeros(n, dtype=np.int64)


def _no_cites(n):
    """:attr:`Column.cite_groups` of a column none of whose rows has deciding citations."""
    return _zeros(n), objects([None])


class _Batch:
    """The entity tables of a batch and the columns computed so far, for one date."""

    def __init__(self, engine, cases, as_of: dt.date, citing: bool = True,
                 provenance: bool = True):
        self.engine = engine
        self.citing = citing              # whether results need their deciding citations
        # Whether results need their read-set (ColumnarResult.provenance): without it no value
        # read brings a citation mask (record_ids, own_mask_id give the empty id 0), so every
        # mask column holds only 0 and each join of masks returns at its first test.
        self.provenance = provenance
        self.program = engine.program
        self.as_of = as_of
        self.cases = cases
        self.entities: dict = {}          # kind name -> [Entity]
        self.row_of: dict = {}            # entity uid -> row in its kind
        self.case_row: dict = {}          # kind name -> [case number] per row
        self.walks = []                   # per case: its entities in the per-case order
        parents: dict = {}                # kind name -> [parent's row] per row
        read = getattr(cases, "rows", None)
        self.rows = read.kinds if read is not None else {}   # kind name -> its KindRows
        if read is not None:
            # Cases read straight into rows (engine.model.case_rows): the tables as read.
            for name, kind_rows in read.kinds.items():
                self.entities[name] = kind_rows.entities
                self.case_row[name] = kind_rows.cases
                parents[name] = kind_rows.parents
                self.row_of.update(zip(map(_UID, kind_rows.entities),
                                       range(len(kind_rows.entities))))
            self.walks.extend(case.members for case in read.cases)
            cases = ()
        # One pass over each case's entities in the per-case order (the list the builder made,
        # Entity.members, else a walk of the tree), each appended to its kind's tables.
        entities, row_of, case_row, walks = self.entities, self.row_of, self.case_row, self.walks
        tables: dict = {}                 # kind name -> (rows, case numbers, parents' rows)
        for number, case in enumerate(cases):
            root = case.root
            walk = getattr(root, "members", None)
            if walk is None:
                walk = list(_walk(root))
            walks.append(walk)
            for entity in walk:
                name = entity.kind.name
                table = tables.get(name)
                if table is None:
                    table = tables[name] = (entities.setdefault(name, []),
                                            case_row.setdefault(name, []),
                                            parents.setdefault(name, []))
                rows = table[0]
                row_of[entity.uid] = len(rows)
                rows.append(entity)
                table[1].append(number)
                parent = entity.parent
                table[2].append(row_of[parent.uid] if parent is not None else -1)
        self.parent_rows = {k: np.asarray(v, dtype=np.intp) for k, v in parents.items()}
        self.kinds = {kind.name: kind for kind in self.program.entity_kinds.values()}
        self.children: dict = {}          # (owner kind, collection) -> (starts, counts, rows)
        self.ids: dict = {}               # kind name -> what a `list` lists per row
        self.pairs: dict = {}             # (kind, levels up, collection) -> member_pairs
        self.rules: dict = {}             # (rule uid, kind name) -> Column over all rows
        self.facts: dict = {}             # (kind name, fact) -> (values, bad)
        self.given: dict = {}             # kind name -> [the facts dict of each row's entity]
        self.states: dict = {}            # case number -> State (per-entity fallback, functions)
        self.function_state = State(self.program, engine.cache, as_of, engine.reference)
        self.stats = ColumnarStats()
        self.cited: dict = {}             # (own citations, mask) -> a result's citations
        self.citation_failed: set = set()  # cases given per case for their citations alone
        self.read_records: dict = {}      # id(record) -> (record, reads id, mask id)
        self.reads_by_value: dict = {}    # (core, front) -> _Read
        # Per-batch numbering (engine.runtime.columnar_arrays.Interned): citation masks, tuples
        # of deciding reads, tuples of citations (own and branch citations).
        # Without provenance the empty mask is None, not 0: a result's mask is then None, and
        # asking for its provenance says it was not computed (ColumnarResult.provenance).
        # A table the batch does not follow joins nothing (Interned's ``kept``).
        self.masks = Interned(0 if provenance else None, operator.or_, kept=provenance)
        self.deps = Interned((), operator.add, kept=citing)
        self.citations = Interned(())
        self.own_masks: dict = {}         # citations id -> mask id
        self.memos: dict = {}             # id of a pure function or parameter -> (it, Memo)
        self.codings: dict = {}           # (kind, rule or fact) -> numbered values (value_codes)
        self.coded_calls: dict = {}       # (its key, text or money) -> results (coded_call)

    def read(self, core, front) -> _Read:
        """The one :class:`_Read` of these citations in this batch: values that bring the same
        citations share it, so that what decided two rows is the same id when it reads the
        same (what is composed per distinct id stays few)."""
        key = (core, front)
        found = self.reads_by_value.get(key)
        if found is None:
            found = self.reads_by_value[key] = _Read(core, front)
        return found

    def record_ids(self, record) -> tuple[int, int]:
        """The reads id and mask id of a value read (a parameter value, a function's result, a
        rule computed per entity), once per record. Each is the empty id 0 where the batch
        does not follow it (no citations wanted, no provenance): nothing then to join."""
        entry = self.read_records.get(id(record))
        if entry is None or entry[0] is not record:
            entry = self.read_records[id(record)] = (
                record, self.deps.id((self.read(*read_citations(record)),)) if self.citing else 0,
                self.masks.id(citation_mask(record)) if self.provenance else 0)
        return entry[1], entry[2]

    def constant(self, value, n, mask=0, dep=0) -> Column:
        values = np.full(n, value, dtype=bool) if value.__class__ is bool else full(n, value)
        column = Column(values, np.zeros(n, dtype=bool),
                        np.full(n, mask, dtype=np.int64) if mask else zero_ids(n),
                        deps=np.full(n, dep, dtype=np.int64) if dep else zero_ids(n))
        column.single = True
        return column

    # -- tables --------------------------------------------------------------------------------
    def ancestor_rows(self, kind_name: str, rows, depth: int):
        """For rows of a kind, the rows (in its ancestor's table) of the ancestor ``depth`` up."""
        for _ in range(depth):
            parents = self.parent_rows.get(kind_name)
            if parents is not None:
                rows = parents[rows]
            kind_name = self.kinds[kind_name].parent.name
        return rows, kind_name

    def fact_column(self, kind_name: str, name: str):
        key = (kind_name, name)
        cached = self.facts.get(key)
        if cached is None:
            entities = self.entities.get(kind_name, ())
            kind_rows = self.rows.get(kind_name)
            if kind_rows is not None:         # read into rows: each fact as build_case has it
                values = kind_rows.column(name)
                marker = None if kind_rows.complete(name) else MISSING
            else:
                given = self.given.get(kind_name)
                if given is None:
                    given = [entity.facts for entity in entities]
                    if not set(map(type, given)) <= {dict}:   # read with dict's own methods
                        given = [dict(facts) for facts in given]
                    self.given[kind_name] = given
                n = len(given)
                values = list(map(dict.get, given, repeat(name, n), repeat(_MISSING, n)))
                marker = _MISSING
            n = len(values)
            bad = np.zeros(n, dtype=bool)
            # (No fact value equals a fresh object: ``in`` finds only the marker itself.)
            missing = [i for i, v in enumerate(values) if v is marker] \
                if marker is not None and marker in values else []
            if missing:
                # What an entity that does not give the fact reads depends on its kind alone
                # (Entity.fact: the default, None if optional, else an error): asked once. A
                # list default is copied per entity, as Entity.fact does.
                describe = lambda: "A rule"  # noqa: E731 - only worded on fallback
                try:
                    default = entities[missing[0]].fact(name, describe)
                except _FAILURES:
                    bad[missing] = True
                    default = None
                for i in missing:
                    values[i] = list(default) if isinstance(default, list) else default
            kinds = set(map(type, values))
            if kinds == {bool}:                                   # a yes/no fact (flags)
                column = np.array(values, dtype=bool)
            elif np.count_nonzero(bad):
                column = flags(objects(values), bad)
            else:
                column = objects(values)
            cached = self.facts[key] = (column, bad)
        return cached

    # -- rules ---------------------------------------------------------------------------------
    def rule_column(self, rule) -> Column:
        kind_name = rule.entity_kind.name
        key = (rule.uid, kind_name)
        column = self.rules.get(key)
        if column is None:
            n = len(self.entities.get(kind_name, ()))
            rows = np.arange(n)
            frame = _Frame(rule.entity_kind, rows, whole=True)
            if rule.body.kind in VECTORISED_BODIES:
                self.stats.rules_vectorised.add(rule.name)
                column = self.compute(rule, frame, rows)
            else:
                self.stats.rules_per_entity.add(rule.name)
                column = self.per_entity(rule, kind_name, rows)
            # Read by every rule that reads this one, often as they are (Batch.name): a write
            # into them would change the rule's value, so none is allowed.
            for array in (column.values, column.bad, column.masks, column.reads):
                array.flags.writeable = False
            self.rules[key] = column
        return column

    def per_entity(self, rule, kind_name, rows) -> Column:
        """A rule the plan does not vectorise, computed per entity by a per-case State."""
        values, bad, masks, own = [], [], [], []
        reads, cites = [], []
        entities = self.entities.get(kind_name, ())
        case_rows = self.case_row.get(kind_name, ())
        for r in rows.tolist():
            state = self.states.get(case_rows[r])
            if state is None:
                state = self.states[case_rows[r]] = State(self.program, self.engine.cache,
                                                          self.as_of, self.engine.reference)
            try:
                state.frame = []
                node = state.rule(rule, entities[r])
            except _FAILURES:
                values.append(None), bad.append(True), masks.append(0), own.append(0)
                reads.append(UNKNOWN), cites.append(None)
                continue
            read_id, mask_id = self.record_ids(node)
            values.append(node.value), bad.append(False)
            masks.append(mask_id)
            own.append(self.citations.id(node.own_citations))
            reads.append(read_id), cites.append(deciding_citations(node))
        column = Column(objects(values), np.asarray(bad, dtype=bool),
                        np.asarray(masks, dtype=np.int64), np.asarray(own, dtype=np.int64))
        column.reads, column.cites = np.asarray(reads, dtype=np.int64), objects(cites)
        return column

    def compute(self, rule, frame, rows) -> Column:
        body = rule.body
        n = len(rows)
        branch = failed = one_own = None
        if body.kind == "formula":
            col = self.eval(body.expression.tree, frame, rows)
            one_own = self.citations.id(rule.citations)
        elif body.kind == "conditions":
            col, own, branch, failed = self.conditions(rule, body, frame, rows)
        elif body.kind == "table":
            col, own, branch, failed = self.table(rule, body, frame, rows)
        else:
            col = self.aggregate(body, frame, rows)
            one_own = self.citations.id(rule.citations)
        if one_own is not None:           # the same own citations on every row
            own = np.full(n, one_own, dtype=np.int64)
            own_masks = np.full(n, self.own_mask_id(one_own), dtype=np.int64)
        else:
            own_masks = self.own_mask_ids(own)
        values, bad = col.values, col.bad
        if rule.needs_finish and not _already_finished(rule, values, bad, _known_values(body)):
            finish = rule.finish
            where = lambda: rule.name  # noqa: E731
            values, bad = apply_distinct(lambda v: finish(v, where), [values], bad, _FAILURES) \
                or apply(lambda v: finish(v, where), [values], bad, _FAILURES, cache=False)
        if rule.type == "boolean":
            values = flags(values, bad)
        masks = self.masks.join(col.masks, own_masks)
        # Held as the shared zeros when empty: every read of the rule then knows it at once.
        column = Column(values, bad, zero_ids(n) if no_ids(masks) else masks, own)
        if self.citing:
            reads, column.cites_of = self.deciding(rule, bad, col.deps, branch, failed)
            column.reads = zero_ids(n) if no_ids(reads) else reads
        else:                             # values only: what decided is not followed, and
            column.reads = zero_ids(n)    # reading the value brings nothing to join
            column.cites = full(n, None)
        return column

    def own_mask_ids(self, own):
        """Per row, the mask id of its own citations."""
        if not self.provenance:
            return zero_ids(len(own))
        uniq, inverse = group(own)
        return np.asarray([self.own_mask_id(o) for (o,) in uniq], dtype=np.int64)[inverse]

    def own_mask_id(self, own: int) -> int:
        """The mask id of one citations id (own citations), once per batch."""
        if not self.provenance:
            return 0
        found = self.own_masks.get(own)
        if found is None:
            found = self.own_masks[own] = self.masks.id(mask_of(self.citations.items[own]))
        return found

    def deciding(self, rule, bad, deps, branch, failed):
        """Per row: what reading the rule's value brings to another value (a reads id), and
        what makes the result's deciding citations (engine.runtime.deciding) when they are
        first asked for (:attr:`Column.cites`, numbered: :attr:`Column.cite_groups`), from
        what decided the row (``deps``), the
        branch taken (its own citations) and what made earlier branches fail; composed once
        per distinct combination of the three. The reads are composed now (every rule reading
        this one needs them); the citations only for a rule the batch shows (about one rule in
        six: its outputs), the rest never."""
        n = len(bad)
        general = rule.citations
        output = rule.output
        transparent = rule.transparent and not output
        reads = np.full(n, UNKNOWN, dtype=np.int64)
        # The rows whose deciding reads are known: usually every row (then no row is picked
        # out: ``good`` is a slice of them all).
        if branch is None and failed is None:   # a formula or aggregate: what decided alone
            if np.count_nonzero(bad) or int(deps.min(initial=0)) < 0:
                good = rows_where(~bad & (deps >= 0))
                if len(good) == 0:
                    return reads, partial(_no_cites, n)
                deps = deps[good]
            else:
                good = slice(None)
            found, inverse = group(deps)
            keys = [(0, di, 0) for (di,) in found]
        else:
            f = failed if failed is not None else _zeros(n)
            b = branch if branch is not None else _zeros(n)
            if np.count_nonzero(bad) or int(deps.min(initial=0)) < 0 or \
                    int(f.min(initial=0)) < 0:
                good = rows_where(~bad & (deps >= 0) & (f >= 0))
                if len(good) == 0:
                    return reads, partial(_no_cites, n)
                b, deps, f = b[good], deps[good], f[good]
            else:
                good = slice(None)
            keys, inverse = group(b, deps, f)
        dep_items, cit_items = self.deps.items, self.citations.items
        found_reads, cores_of = [], []
        for bi, di, fi in keys:
            bc = cit_items[bi]
            cores = [x.core for x in dep_items[di]]
            if output:                    # its reads bring its deciding section alone
                core = None
                front = branch_section(bc, general)
                found_reads.append(self.deps.id((self.read(front, front),)))
            else:
                core = compose_citations(bc, general, cores)
                front = through_fronts([x.front for x in dep_items[di]]) if transparent \
                    else branch_section(bc, general)
                found_reads.append(self.deps.id((self.read(core, front),)))
            cores_of.append((bc, cores, core, fi))
        reads[good] = np.asarray(found_reads, dtype=np.int64)[inverse]

        def cites_of():
            # (The tables of ids only grow: the ids above still name the same items.)
            found_cites = []
            for bc, cores, core, fi in cores_of:
                if fi:
                    full_list = compose_citations(bc, general, cores,
                                                  [x.front for x in dep_items[fi]])
                else:
                    full_list = core if core is not None else \
                        compose_citations(bc, general, cores)
                found_cites.append(as_written(bc, general, full_list[0]))
            numbers = _zeros(n)
            numbers[good] = inverse + 1
            return numbers, objects([None] + found_cites)
        return reads, cites_of

    def conditions(self, rule, body, frame, rows):
        n = len(rows)
        values = np.empty(n, dtype=object)
        bad = np.zeros(n, dtype=bool)
        masks = _zeros(n)
        own = np.full(n, self.citations.id(rule.citations), dtype=np.int64)
        deps = _zeros(n)                      # what the taken condition and its value read
        failed = _zeros(n)                    # what the conditions that failed read
        branch = _zeros(n)
        remaining = np.arange(n)              # positions in rows
        for condition in body.conditions:
            if not len(remaining):
                break
            branch_own = merge(rule.citations, condition.citations) if condition.citations \
                else rule.citations
            if condition.when is None:
                taken = remaining
                remaining = no_rows()
            else:
                test = self.eval(condition.when.tree, frame, rows[remaining])
                self.masks.join_at(masks, remaining, test.masks)
                if test.values.dtype == bool and not np.count_nonzero(test.bad):
                    chosen = test.values      # a yes/no on every row (the common case)
                    taken = remaining[chosen]
                    deps[taken] = test.deps[chosen]
                    chosen = ~chosen
                else:
                    yes, no = strict_bools(test.values)
                    bad_test = test.bad | ~(yes | no)
                    bad[remaining[bad_test]] = True
                    chosen = yes & ~bad_test
                    taken = remaining[chosen]
                    deps[taken] = test.deps[chosen]
                    chosen = no & ~bad_test
                following = remaining[chosen]
                self.deps.join_at(failed, following, test.deps[chosen])
                remaining = following
            if len(taken):
                then = self.eval(condition.then.tree, frame, rows[taken])
                values[taken] = then.values
                if np.count_nonzero(then.bad):
                    bad[taken] |= then.bad
                self.masks.join_at(masks, taken, then.masks)
                own[taken] = self.citations.id(branch_own)
                branch[taken] = self.citations.id(condition.citations)
                self.deps.join_at(deps, taken, then.deps)
        bad[remaining] = True                 # no condition true and no `otherwise`
        return Column(values, bad, masks, deps=deps), own, branch, failed

    def table(self, rule, body, frame, rows):
        """A decision table: every input read first, then the rows' cells in order, each cell
        only on the table rows still possible (a cell's own expressions are read lazily). Which
        table rows matched is a bool matrix (case row x table row); what follows from a match
        (own citations, branch, failure) is decided once per distinct set of matched rows."""
        n = len(rows)
        bad = np.zeros(n, dtype=bool)
        masks = _zeros(n)
        inputs = {}
        input_deps = []                   # (name, per row deps) in input order
        for name, expression in body.inputs:
            col = self.eval(expression.tree, frame, rows)
            inputs[name] = col.values
            input_deps.append((name, col.deps))
            masks = self.masks.join(masks, col.masks)
            bad |= col.bad
        masks = masks.copy()              # joined in place below: never an input's own ids
        active = rows_where(~bad)
        matched = np.zeros((n, len(body.rows)), dtype=bool)
        used = {name: np.zeros(n, dtype=bool) for name, _ in body.inputs}   # tested by a match
        failing = {name: np.zeros(n, dtype=bool) for name, _ in body.inputs}  # made a row fail
        for k, row in enumerate(body.rows):
            candidates = active
            for name, cell in row.tests:
                if not len(candidates) or cell.op == "any":
                    continue
                sub = rows[candidates]
                a = self.eval(cell.a.tree, frame, sub)
                b = self.eval(cell.b.tree, frame, sub) if cell.op == "range" else None
                self.masks.join_at(masks, candidates, a.masks)
                cell_bad = a.bad
                if b is not None:
                    self.masks.join_at(masks, candidates, b.masks)
                    cell_bad = cell_bad | b.bad
                result, failed = self.cell_passes(cell, inputs[name][candidates], a, b,
                                                  cell_bad)
                bad[candidates[failed]] = True
                holds = np.zeros(len(candidates), dtype=bool)
                holds[~failed] = truth(result[~failed])
                failing[name][candidates[~failed & ~holds]] = True
                candidates = candidates[holds]
            hits = candidates[~bad[candidates]]
            matched[hits, k] = True
            for name, cell in row.tests:
                if cell.op != "any":
                    used[name][hits] = True
            if body.hit_policy == "first":
                taken = np.zeros(n, dtype=bool)
                taken[candidates] = True
                active = active[~taken[active] & ~bad[active]]
            else:
                active = active[~bad[active]]
        matched[bad] = False
        collect = body.hit_policy == "collect"
        own = np.full(n, self.citations.id(rule.citations), dtype=np.int64)
        branch = _zeros(n)
        chosen_rows = np.zeros((n, len(body.rows)), dtype=bool)  # whose `then` gives the value
        defaults = np.zeros(n, dtype=bool)
        good = rows_where(~bad)
        if len(good):
            sets, inverse = _matched_sets(matched[good])
            for s, flags in enumerate(sets):
                at = good[inverse == s]
                found = [body.rows[k] for k in rows_where(flags).tolist()]
                if collect:
                    cited = tuple(c for r in found for c in r.citations)
                    own[at] = self.citations.id(merge(rule.citations, cited) if cited
                                                else rule.citations)
                    branch[at] = self.citations.id(_collected(body, found))
                    chosen_rows[at] = flags
                elif len(found) > 1:
                    bad[at] = True
                elif found:
                    r = found[0]
                    own[at] = self.citations.id(merge(rule.citations, r.citations)
                                                if r.citations else rule.citations)
                    branch[at] = self.citations.id(r.citations)
                    chosen_rows[at] = flags
                elif body.default is not None:
                    defaults[at] = True
                else:
                    bad[at] = True
        values = np.empty(n, dtype=object)
        # collect: each row's values in table order, one column per table row
        collected = np.empty((n, len(body.rows)), dtype=object) if collect else None
        # What decided (engine.model.definitions, DecisionTableBody): the inputs a matching row
        # tested, then the value; the inputs only a failing test used made rows fail. When a
        # cell reads a cited value the plan cannot tell (the case goes per case for citations).
        if _cells_cite(body):
            deps = np.full(n, UNKNOWN, dtype=np.int64)
            failed_deps = np.full(n, UNKNOWN, dtype=np.int64)
        else:
            deps, failed_deps = _zeros(n), _zeros(n)
            for name, column in input_deps:
                deps = self.deps.join(deps, np.where(used[name], column, 0))
                failed_deps = self.deps.join(failed_deps,
                                             np.where(~used[name] & failing[name], column, 0))
        # The `then` of each matched table row (for collect, in table order: values append in
        # the order the rows matched, which is table order).
        for k, r in enumerate(body.rows):
            chosen = rows_where(chosen_rows[:, k])
            if not len(chosen):
                continue
            col = self.eval(r.then.tree, frame, rows[chosen])
            self.masks.join_at(masks, chosen, col.masks)
            bad[chosen] |= col.bad
            self.deps.join_at(deps, chosen, col.deps)
            if collect:
                collected[chosen, k] = col.values
            else:
                values[chosen] = col.values
        if collect:
            values[~bad] = self.collected_lists(collected, chosen_rows, n)[~bad]
        chosen = rows_where(defaults)
        if len(chosen):
            col = self.eval(body.default.tree, frame, rows[chosen])
            values[chosen] = col.values
            self.masks.join_at(masks, chosen, col.masks)
            bad[chosen] |= col.bad
            self.deps.join_at(deps, chosen, col.deps)
        return Column(values, bad, masks, deps=deps), own, branch, failed_deps

    @staticmethod
    def collected_lists(collected: np.ndarray, chosen: np.ndarray, n: int) -> np.ndarray:
        """Per row, a new list of the values the matched table rows gave it, in table order
        (``collected``: row x table row, the values; ``chosen``: which table rows each row
        collects). Rows are grouped by the set of table rows they collect (few sets: a row of
        ``eligibility.why_not`` collects every level of care but the one given), and each
        group's cells are read as one matrix of its rows by its table rows (in table order),
        whose ``tolist`` makes each row's new list in C, instead of a slice per row."""
        out = np.empty(n, dtype=object)
        if n == 0:
            return out
        sets, inverse = _matched_sets(chosen)
        if len(sets) == 1:
            at = None
            groups = [(slice(None), sets[0])]
        else:
            order = np.argsort(inverse, kind="stable")
            ends = np.cumsum(np.bincount(inverse, minlength=len(sets))).tolist()
            groups = [(order[start:end], flags)
                      for start, end, flags in zip([0] + ends[:-1], ends, sets)]
        for at, flags in groups:
            cells = collected[at][:, rows_where(flags)]
            out[at] = objects(cells.tolist(), len(cells))
        return out

    @staticmethod
    def cell_passes(cell, values, a, b, bad):
        """Per row, whether the input passes a table cell (``Cell.passes``) and whether the test
        failed: a comparison or membership through the language's own operator (what
        ``passes`` computes for it), a range through ``passes`` itself."""
        operation = _CELL_OPERATORS.get(cell.op)
        if operation is None:
            return apply(cell.passes, [values, a.values,
                                       b.values if b is not None else full(len(values), None)],
                         bad, _FAILURES, cache=False)
        found = None
        if operation is _IN or operation is _NOT_IN:
            found = memberships(values, a.values, bad, operation is _NOT_IN, a.single)
        else:
            found = comparisons(operation, values, a.values, bad)
        if found is not None:
            return found, bad
        return apply(operation, [values, a.values], bad, _FAILURES)

    def member_pairs(self, body, frame, rows):
        """For each row, the members of the collection the aggregate runs over, in case order:
        each member's row position, its row in the member kind's table and its rank among its
        owner's members (0, 1, 2...): three arrays, read only. A rule's own aggregate runs over
        every row of its kind (``rows`` is the frame's index), and then the pairs depend on the
        kind and the collection alone: made once per batch for every aggregate over them."""
        key = None
        if rows is frame.index:
            key = (frame.kind.name, body.levels_up, body.over)
            found = self.pairs.get(key)
            if found is not None:
                return found
        if frame.index is not None:
            owners, _ = self.ancestor_rows(frame.kind.name, frame.index[rows], body.levels_up)
        else:
            owners = rows
        owner_kind = frame.kind
        for _ in range(body.levels_up):
            owner_kind = owner_kind.parent
        starts, counts, members = self.children_of(owner_kind.name, body.over)
        lengths = counts[owners]
        total = int(lengths.sum())
        positions = np.repeat(np.arange(len(owners)), lengths)
        if total == 0:
            found = positions, no_rows(), np.zeros(0, dtype=np.intp)
        else:
            offsets = np.cumsum(lengths) - lengths
            within = np.arange(total) - np.repeat(offsets, lengths)
            found = positions, members[np.repeat(starts[owners], lengths) + within], within
        for array in found:
            array.flags.writeable = False
        if key is not None:
            self.pairs[key] = found
        return found

    def children_of(self, kind_name, over):
        """Per owner row of a kind: where its members of collection ``over`` start in one flat
        array of member rows, how many there are, and that array."""
        key = (kind_name, over)
        found = self.children.get(key)
        if found is None and kind_name in self.rows:
            # Read into rows: a collection's entries are rows of its kind in their owners'
            # order, each with its owner's row (KindRows.parents).
            owners = len(self.entities.get(kind_name, ()))
            member_kind = self.kinds[kind_name].children[over]
            held = self.rows.get(member_kind.name)
            if held is not None and held.collection != over:   # pragma: no cover
                raise AssertionError("A kind read into rows is held by another collection.")
            owner_rows = self.parent_rows[member_kind.name] if held is not None else no_rows()
            counts = np.bincount(owner_rows, minlength=owners).astype(np.intp)
            found = self.children[key] = (np.cumsum(counts) - counts, counts,
                                          np.arange(len(owner_rows), dtype=np.intp))
        if found is None:
            lists = [entity.children.get(over, ()) for entity in self.entities.get(kind_name, ())]
            counts = np.fromiter(map(len, lists), dtype=np.intp, count=len(lists))
            flat = np.fromiter(map(self.row_of.__getitem__, map(_UID, chain.from_iterable(lists))),
                               dtype=np.intp, count=int(counts.sum()))
            found = self.children[key] = (np.cumsum(counts) - counts, counts, flat)
        return found

    def listed_ids(self, kind_name: str) -> np.ndarray:
        """Per row of a kind, what a ``list`` aggregate lists for its entity (its id, else its
        index), made once per batch and kind: every list over the kind picks from it."""
        found = self.ids.get(kind_name)
        if found is None:
            found = self.ids[kind_name] = objects(
                [e.id if e.id is not None else e.index
                 for e in self.entities.get(kind_name, ())])
        return found

    def aggregate(self, body, frame, rows) -> Column:
        n = len(rows)
        positions, members, ranks = self.member_pairs(body, frame, rows)
        member_frame = _Frame(body.member_kind, members, frame, rows[positions])
        pair_rows = np.arange(len(members))
        fn = body.function
        if fn == "first":
            return self.first(body, frame, rows, positions, ranks, member_frame)
        masks = _zeros(n)
        bad = np.zeros(n, dtype=bool)
        kept = pair_rows
        spans = _zeros(len(members))               # per member: what its filter and value read
        if body.where is not None:
            test = self.eval(body.where.tree, member_frame, pair_rows)
            spans = test.deps.copy()
            masks = self.masks.fold(masks, positions, ranks, test.masks)
            yes, no = strict_bools(test.values)
            bad_test = test.bad | ~(yes | no)
            bad[positions[bad_test]] = True
            kept = pair_rows[yes & ~bad_test]
        if body.where is None:                     # every member kept: the pairs as they are
            kept_positions, kept_ranks = positions, ranks
        else:
            kept_positions = positions[kept]
            kept_ranks = ranks_of(kept_positions)
        grouped = None                             # per kept member: its value
        grouped_bad = None
        if body.of is not None:
            of = self.eval(body.of.tree, member_frame, kept)
            masks = self.masks.fold(masks, kept_positions, kept_ranks, of.masks)
            bad[kept_positions[of.bad]] = True
            grouped, grouped_bad = of.values, of.bad
            self.deps.join_at(spans, kept, of.deps)
        values = np.empty(n, dtype=object)
        defaults = None                            # rows given the default, and what it read
        if fn == "count":
            values = np.bincount(kept_positions, minlength=n).astype(object)
        elif fn == "list":
            # Members are in owner order: each owner's list is one slice of the members' ids.
            ids = self.listed_ids(body.member_kind.name)[members[kept]].tolist()
            ends = np.cumsum(np.bincount(kept_positions, minlength=n)).tolist()
            values = objects([ids[start:end] for start, end in zip([0] + ends[:-1], ends)], n)
        elif fn == "sum":
            values = full(n, 0)
            if grouped is not None and len(grouped):
                present = ~grouped_bad & ~_IS(grouped, None).astype(bool)
                values = self.folded(operator.add, values, bad, kept_positions[present],
                                     kept_ranks[present], grouped[present])
        elif fn in ("any", "all"):
            if grouped is None or not len(grouped):
                values = np.full(n, fn == "all", dtype=bool)
            else:
                yes, no = strict_bools(grouped)
                not_bool = ~(yes | no)
                bad[kept_positions[not_bool]] = True
                deciders = yes if fn == "any" else no     # the members that may decide alone
                hits = np.bincount(kept_positions[deciders], minlength=n) > 0
                values = hits if fn == "any" else ~hits      # bad rows: never read
        else:                                      # min, max
            values = full(n, None)
            if grouped is not None and len(grouped):
                present = ~_IS(grouped, None).astype(bool)
                values = self.folded(_smaller if fn == "min" else _larger, values, bad,
                                     kept_positions[present], kept_ranks[present],
                                     grouped[present])
                values[bad] = None
            empty = rows_where(_IS(values, None).astype(bool) & ~bad)
            if len(empty):
                if body.default is None:
                    bad[empty] = True
                else:
                    d = self.eval(body.default.tree, frame, rows[empty])
                    values[empty] = d.values
                    self.masks.join_at(masks, empty, d.masks)
                    bad[empty] |= d.bad
                    defaults = (empty, d.deps)
        # What decided (AggregateBody._mark per case): every member's filter and value in
        # order (and the default), except that for ``any``, ``all``, ``min`` and ``max`` the one
        # member that gave the value decides alone.
        deps = self.deps.fold(_zeros(n), positions, ranks, spans)
        if fn in ("any", "all", "min", "max") and grouped is not None and len(grouped):
            if fn in ("any", "all"):
                chosen = deciders
            else:
                target = values[kept_positions]
                chosen = np.zeros(len(grouped), dtype=bool)
                idx = rows_where(present & ~bad[kept_positions])
                if len(idx):
                    chosen[idx] = apply(operator.eq, [grouped[idx], target[idx]],
                                        np.zeros(len(idx), dtype=bool), _FAILURES)[0] \
                        .astype(bool)
                if defaults is not None:
                    chosen &= ~np.isin(kept_positions, defaults[0])
            owners, first = firsts(kept_positions, chosen & ~bad[kept_positions])
            deps[owners] = spans[kept[first]]
        if defaults is not None:
            empty, d = defaults
            self.deps.join_at(deps, empty, d)
        return Column(values, bad, masks, deps=deps)

    @staticmethod
    def folded(one, values, bad, positions, ranks, items):
        """Per row, ``one(acc, v)`` over its members' values in order, from the row's value in
        ``values``: Python's ``+`` for ``sum`` (from 0), :func:`_smaller` or :func:`_larger` for
        ``min``/``max`` (from None; the first of equal ones, as the built-ins), as per case. A
        row where a step fails is bad (its value is then never read).

        Each owner's start value is laid just before its members' values and the whole is
        reduced segment by segment (``reduceat`` of an object ufunc calls ``one`` left to right
        within each segment: ``one(one(start, v1), v2)``..., the per-case steps exactly), one
        call for every owner. Only when a step fails, the steps are taken again one rank at a
        time over every row, where the rows that fail are marked bad."""
        if not len(items):
            return values
        step = ufunc(one, 2)
        starts = heads(positions)
        owners = positions[starts]
        laid = np.empty(len(items) + len(starts), dtype=object)
        places = np.ones(len(laid), dtype=bool)
        segment_starts = starts + np.arange(len(starts))
        places[segment_starts] = False
        laid[segment_starts] = values[owners]
        laid[places] = items
        try:
            values[owners] = step.reduceat(laid, segment_starts)
            return values
        except _FAILURES:
            pass
        for depth in range(int(ranks.max()) + 1 if len(ranks) else 0):
            at = ranks == depth
            where = positions[at]
            try:
                values[where] = step(values[where], items[at])
            except _FAILURES:
                for p, v in zip(where.tolist(), items[at].tolist()):
                    if bad[p]:
                        continue
                    try:
                        values[p] = one(values[p], v)
                    except _FAILURES:
                        bad[p] = True
        return values

    def first(self, body, frame, rows, positions, ranks, member_frame) -> Column:
        """``first``: members in order until one passes the filter (with ``of``, per case the
        loop stops after the first value) or its filter fails (the per-case loop stops there
        with the error: the row is bad).

        The filter is evaluated on every member at once, not one rank at a time: each owner's
        members up to the one that stops its loop are the members the per-case loop reaches,
        and only what they read is joined, in order (:meth:`Interned.fold`); a member after
        that is evaluated to no effect (its value, badness, mask and reads reach no result, and
        what it computes, pure and per entity, is what any other site computes for it).
        ``of`` is evaluated only on each owner's member that passed."""
        n = len(rows)
        values = np.empty(n, dtype=object)
        bad = np.zeros(n, dtype=bool)
        masks = _zeros(n)
        found = np.zeros(n, dtype=bool)
        deps = _zeros(n)
        pair_rows = np.arange(len(positions))
        passing = no_rows()                  # per owner that found one: its passing member
        if body.where is not None and len(pair_rows):
            test = self.eval(body.where.tree, member_frame, pair_rows)
            yes, no = strict_bools(test.values)
            bad_test = test.bad | ~(yes | no)
            # Where each owner's loop stops: a filter that fails, or (with ``of``) one that
            # passes; the members reached are those up to it (every member where none stops).
            stops = bad_test | yes if body.of is not None else bad_test
            owners, stop = firsts(positions, stops)
            last = np.full(n, len(pair_rows), dtype=np.intp)
            last[owners] = ranks[stop]
            reached = rows_where(ranks <= last[positions])
            masks = self.masks.fold(masks, positions[reached], ranks[reached],
                                    test.masks[reached])
            deps = self.deps.fold(deps, positions[reached], ranks[reached],
                                  test.deps[reached])
            failing = bad_test[stop]
            bad[owners[failing]] = True
            passing = stop[~failing]
        elif body.of is not None and len(pair_rows):   # no filter: each owner's first member
            passing = rows_where(ranks == 0)
        if body.of is not None and len(passing):
            owners = positions[passing]
            of = self.eval(body.of.tree, member_frame, pair_rows[passing])
            values[owners] = of.values
            self.masks.join_at(masks, owners, of.masks)
            bad[owners] |= of.bad
            found[owners] = True
            self.deps.join_at(deps, owners, of.deps)
        missing = rows_where(~found & ~bad)
        if len(missing) and body.default is not None:
            d = self.eval(body.default.tree, frame, rows[missing])
            values[missing] = d.values
            self.masks.join_at(masks, missing, d.masks)
            bad[missing] |= d.bad
            self.deps.join_at(deps, missing, d.deps)
        return Column(values, bad, masks, deps=deps)

    # -- expressions ---------------------------------------------------------------------------
    def eval(self, node, frame: _Frame, rows) -> Column:
        """The value of an expression node for each of ``rows`` (rows of ``frame``)."""
        n = len(rows)
        if n == 0:
            return Column(np.empty(0, dtype=object), np.zeros(0, dtype=bool), zero_ids(0))
        kind = type(node)
        if kind is ast.Constant:
            return self.constant(node.value, n)
        if kind is ast.Name:
            return self.name(node.ref.target, frame, rows)
        if kind is ast.BinOp:
            if node.op.__class__ is ast.Add and node.left.__class__ is ast.BinOp and \
                    node.left.op.__class__ is ast.Add:
                return self.added(node, frame, rows)
            return self.elementwise(OPERATORS[type(node.op)], [node.left, node.right], frame, rows)
        if kind is ast.UnaryOp:
            if isinstance(node.op, ast.Not):
                col = self.eval(node.operand, frame, rows)
                values = col.values
                return Column(~values if values.dtype == bool else ~truth(values), col.bad,
                              col.masks, deps=col.deps)
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
            if parts:
                values = objects(map(list, zip(*[p.values.tolist() for p in parts])), n)
            else:
                values = objects([[] for _ in range(n)], n)
            bad = np.zeros(n, dtype=bool)
            for p in parts:
                bad |= p.bad
            return Column(values, bad, self.masks.join_all([zero_ids(n)] + [p.masks for p in parts]),
                          deps=self.deps.join_all([zero_ids(n)] + [p.deps for p in parts]))
        raise TypeError(f"cannot evaluate {kind.__name__}")  # pragma: no cover - checked syntax

    def name(self, target, frame: _Frame, rows) -> Column:
        what = target[0]
        n = len(rows)
        if what == "outer":
            return self.name(target[1], frame.outer, frame.outer_rows[rows])
        if what == "as_of":
            return self.constant(self.as_of, n)
        if what == "param":
            try:
                value = self.engine.cache.parameter(target[1], self.as_of)
                v = value.read()
            except _FAILURES:
                return Column(full(n, None), np.ones(n, dtype=bool), zero_ids(n))
            read_id, mask_id = self.record_ids(value)
            return self.constant(v, n, mask_id, read_id)
        # A frame over its kind's rows in order: a row's position is its entity's row.
        entity_rows = rows if frame.whole else frame.index[rows]
        if what == "fact":
            _, fact, depth = target
            at, kind_name = self.ancestor_rows(frame.kind.name, entity_rows, depth)
            values, bad = self.fact_column(kind_name, fact)
            if depth == 0 and frame.whole and _every_row(rows, frame.index, len(values)):
                values.flags.writeable = bad.flags.writeable = False   # shared from now on
                return Column(values, bad, zero_ids(n))     # every row: no copies
            return Column(values[at], bad[at], zero_ids(n))
        if what == "rule":
            _, rule, depth = target
            at, _ = self.ancestor_rows(frame.kind.name, entity_rows, depth)
            col = self.rule_column(rule)
            if depth == 0 and frame.whole and _every_row(rows, frame.index, len(col.values)):
                return Column(col.values, col.bad, col.masks, deps=col.reads)
            return Column(col.values[at], col.bad[at], ids_at(col.masks, at),
                          deps=ids_at(col.reads, at))
        raise TypeError(f"cannot read {what} here")  # pragma: no cover - args only in functions

    def elementwise(self, fn, operands, frame, rows) -> Column:
        parts = [self.eval(o, frame, rows) for o in operands]
        return self.combined(fn, parts)

    def added(self, node, frame, rows) -> Column:
        """``a + b + c ...`` (a chain of ``+`` nested to the left, as the parser builds it):
        every operand over the rows (as pair by pair: each ``+`` evaluates both sides), then
        texts (or lists) joined once per row, or, where some row is neither all text nor all
        lists, added pair by pair in order as the per-case evaluator does. Texts around an
        ``if``/``else`` chain are joined inside each branch instead (:func:`_distributed`,
        evaluated flat by :meth:`if_chain`); names of rules or facts, and ``text``/``money``
        of them, are read as numbers into a table of their values (:meth:`coded_texts`), and
        a chain of them and written texts is joined once per distinct tuple of values."""
        spread = _distributed(node)
        if spread is not None:
            return self.if_chain(spread, frame, rows)
        operands = _added_operands(node)
        parts = self.coded_texts(operands, frame, rows) if _codable_chain(node) else None
        if parts.__class__ is Column:
            return parts
        if parts is None:
            parts = [self.eval(o, frame, rows) for o in operands]
        bad = parts[0].bad
        for p in parts[1:]:
            bad = bad | p.bad
        values = texts_chained([p.values for p in parts], bad, MAX_SEQUENCE,
                               [p.single for p in parts])
        if values is None:
            values = lists_chained([p.values for p in parts], bad, MAX_SEQUENCE)
        if values is not None:
            return Column(values, bad, self.masks.join_all([p.masks for p in parts]),
                          deps=self.deps.join_all([p.deps for p in parts]))
        total = parts[0]
        for p in parts[1:]:
            total = self.combined(_ADD, [total, p])
        return total

    def if_chain(self, node, frame, rows) -> Column:
        """An ``if``/``else`` chain whose every ``else`` but the last is another ``if`` (as
        :func:`_distributed` writes texts around one): each test on the rows no earlier test
        took (nor made bad), each branch on the rows its test took, and each row's value,
        badness, mask and deciding reads written once, into the chain's own arrays, where the
        nested form (:meth:`if_else`) makes arrays at every level and writes each row back
        through every level above it. The same column: the same tests and branches on the same
        rows, and a row's mask and reads joined in the same order (its tests', then its
        branch's), joins being associative. A yes/no test is read as it is."""
        n = len(rows)
        values = np.empty(n, dtype=object)
        bad = np.zeros(n, dtype=bool)
        masks, deps = _zeros(n), _zeros(n)
        pending = np.arange(n)
        while node.__class__ is ast.IfExp and len(pending):
            test = self.eval(node.test, frame, rows[pending])
            self.masks.join_at(masks, pending, test.masks)
            self.deps.join_at(deps, pending, test.deps)
            holds = test.values if test.values.dtype == bool else truth(test.values)
            if np.count_nonzero(test.bad):
                bad[pending[test.bad]] = True
                holds = holds & ~test.bad
                taken, pending = pending[holds], pending[~holds & ~test.bad]
            else:
                taken, pending = pending[holds], pending[~holds]
            if len(taken):
                self.branch_into(node.body, frame, rows, taken, values, bad, masks, deps)
            node = node.orelse
        if len(pending):
            self.branch_into(node, frame, rows, pending, values, bad, masks, deps)
        return Column(values, bad, masks, deps=deps)

    def branch_into(self, node, frame, rows, at, values, bad, masks, deps) -> None:
        """A branch of :meth:`if_chain` on the positions ``at``, written into the chain's
        arrays (its test was not bad there)."""
        col = self.eval(node, frame, rows[at])
        values[at], bad[at] = col.values, col.bad
        self.masks.join_at(masks, at, col.masks)
        self.deps.join_at(deps, at, col.deps)

    def coded_texts(self, operands, frame, rows):
        """A chain of ``+`` with names of rules or facts and ``text``/``money`` of such names
        among its operands (:func:`_codable_chain`: ``"MHK: " + level_of_care + " comes
        first..."``, ``"age " + text(magi.age_years) + " is not under 1"``), with each such
        operand as numbers into a table of its values instead of a value per row: the name's
        column numbered once per batch (:meth:`value_codes`), the built-in called once per
        batch for each value a row not bad reaches (:meth:`coded_call`). When every other
        operand is a text written out, the chain is composed once per distinct tuple of
        numbers and given to its rows; otherwise (or when a tuple is not all texts, or too
        long) the operands' columns are given back, the numbered ones as their values per
        row, for the caller to add row by row as it would have. The same values, badness and
        citations either way: the same operands on the same rows (a name read where the
        chain is, the call only for values of rows that reach it), and equal values of the
        same type and spelling give the same text. None when a name's column cannot be
        numbered (a list): the caller then evaluates every operand itself."""
        n = len(rows)
        parts = []   # per operand: (column, codes, table, key), a written text, or a column
        for operand in operands:
            if _written_text(operand):
                parts.append(operand.value)
                continue
            if not _codable_operand(operand):
                parts.append(self.eval(operand, frame, rows))
                continue
            call = operand.__class__ is ast.Call
            coded = self.coded_name(operand.args[0] if call else operand, frame, rows)
            if coded is None:
                return None
            if call:
                coded = self.coded_call(operand.ref.target[1], *coded)
                if coded is None:
                    return None
            parts.append(coded)
        columns = [p for p in parts if p.__class__ is tuple]
        if len(columns) + sum(p.__class__ is str for p in parts) == len(parts):
            bad = columns[0][0].bad
            for col, *_ in columns[1:]:
                bad = bad | col.bad
            good = rows_where(~bad)
            if len(good):
                made = self.composed(parts, [codes[good] for _, codes, *_ in columns])
                if made is not None:
                    texts, inverse = made
                    values = np.empty(n, dtype=object)
                    values[good] = texts[inverse]
                    masks = self.masks.join_all([_zeros(n)] + [c.masks for c, *_ in columns])
                    deps = self.deps.join_all([_zeros(n)] + [c.deps for c, *_ in columns])
                    return Column(values, bad, masks, deps=deps)
        # Row by row after all: each operand's column with its values.
        out = []
        for p in parts:
            if p.__class__ is str:
                out.append(self.constant(p, n))
            elif p.__class__ is tuple:
                col, codes, table, _ = p
                values = table[codes]
                if np.count_nonzero(col.bad):
                    values[col.bad] = None
                out.append(Column(values, col.bad, col.masks, deps=col.deps))
            else:
                out.append(p)
        return out

    @staticmethod
    def composed(parts, codes):
        """The texts of a chain of written texts and numbered operands (``parts``), once per
        distinct tuple of numbers (``codes``: per numbered operand, the rows' numbers), and per
        row the number of its text; None when a tuple is not all texts or its text would be
        longer than the language allows (the caller then adds row by row)."""
        tuples, inverse = group(*codes)
        made = []
        for numbers in tuples:
            numbers = iter(numbers)
            pieces = [p if p.__class__ is str else p[2][next(numbers)] for p in parts]
            if set(map(type, pieces)) != _TEXT:
                return None
            text = "".join(pieces)
            if len(text) > MAX_SEQUENCE:
                return None
            made.append(text)
        return objects(made), inverse

    def coded_name(self, node, frame, rows):
        """A name of a rule or fact on ``rows`` (as :meth:`name` reads it) and, per row, the
        number of its value in the column's table (:meth:`value_codes`), with the table and the
        table's key; None when the column cannot be numbered."""
        target = node.ref.target
        kind_of_name, what, depth = target
        at, kind_name = self.ancestor_rows(frame.kind.name, frame.index[rows], depth)
        found = self.value_codes(kind_name, kind_of_name, what)
        if found is None:
            return None
        key, codes, table = found
        return self.name(target, frame, rows), codes[at], table, key

    def value_codes(self, kind_name, kind_of_name, what):
        """Per row of a kind, the number of a rule's or fact's value in a table of its
        column's values, once per batch: by typed value for texts, whole numbers, yes/no,
        dates and nothing (``True`` is not ``1``: :func:`distinct`), by object where there are
        ``Decimal`` values too (each object once: a ``Decimal`` would be keyed by its text,
        which costs more than it saves; its objects are kept alive by the column and never
        change). Gives (key, numbers, table), or None for a column of other values (lists)."""
        key = (kind_name, kind_of_name, what if kind_of_name == "fact" else what.uid)
        codings = self.codings
        found = codings.get(key, _MISSING)
        if found is _MISSING:
            if kind_of_name == "fact":
                values, _ = self.fact_column(kind_name, what)
            else:
                values = self.rule_column(what).values
            found = None
            n = len(values)
            kinds = {bool} if values.dtype == bool else set(map(type, values.tolist()))
            if kinds <= _CODABLE:
                got = distinct([values], np.arange(n))
                if got is not None:
                    firsts, codes = got
                    found = (key, codes, objects(values[firsts].tolist()))
            elif kinds <= _CODABLE_OBJECTS:
                ids = np.fromiter(map(id, values.tolist()), dtype=np.int64, count=n)
                _, firsts, codes = np.unique(ids, return_index=True, return_inverse=True)
                found = (key, codes.reshape(-1), values[firsts])
            codings[key] = found
        return found

    def coded_call(self, fn, col, codes, table, key):
        """``fn`` (``text`` or ``money``) of a numbered name: called through the batch's memo
        (as :meth:`called` calls it) once per batch for each value of the table a row not bad
        holds, kept per (table, built-in) for every site; a row whose value it fails on is bad.
        Gives the call's column, numbers and table of results, or None when a result is a list
        (each row its own list: row by row)."""
        entry = self.coded_calls.get((key, fn))
        if entry is None:
            size = len(table)
            entry = self.coded_calls[(key, fn)] = (np.empty(size, dtype=object),
                                                   np.zeros(size, dtype=bool),
                                                   np.zeros(size, dtype=bool))
        made, done, failed = entry
        used = np.zeros(len(table), dtype=bool)
        used[codes[~col.bad] if np.count_nonzero(col.bad) else codes] = True
        todo = rows_where(used & ~done).tolist()
        if todo:
            memo = self.memo(fn, fn)
            for c in todo:
                try:
                    result = memo(table[c])
                except _FAILURES:
                    failed[c] = True
                else:
                    if result.__class__ is list:
                        return None
                    made[c] = result
                done[c] = True
        bad = col.bad | failed[codes] if np.count_nonzero(failed) else col.bad
        return Column(col.values, bad, col.masks, deps=col.deps), codes, made, key

    def combined(self, fn, parts) -> Column:
        bad = parts[0].bad
        for p in parts[1:]:
            bad = bad | p.bad
        values = None
        if fn is _ADD:                    # texts joined (reasons, notices): no checks per row
            values = texts_joined(parts[0].values, parts[1].values, bad, MAX_SEQUENCE)
        elif fn is _IN or fn is _NOT_IN:  # membership: no function call per row
            values = memberships(parts[0].values, parts[1].values, bad, fn is _NOT_IN,
                                 parts[1].single)
        if values is None and fn in _YES_NO and len(parts) == 2:   # a comparison, in C
            values = comparisons(fn, parts[0].values, parts[1].values, bad)
        if values is None and fn in _ARITHMETIC:   # two numbers: Python's own operator
            values = numbers(_ARITHMETIC[fn], parts[0].values, parts[1].values, bad,
                             MAX_POWER_BITS if fn is _MUL else None)
        if values is None:
            values, bad = self.applied(fn, [p.values for p in parts], bad,
                                       fn in _PER_DISTINCT)
        if fn in _YES_NO:                 # a comparison or membership: a yes/no column
            values = flags(values, bad)
        return Column(values, bad, self.masks.join_all([p.masks for p in parts]),
                      deps=self.deps.join_all([p.deps for p in parts]))

    @staticmethod
    def applied(fn, columns, bad, per_distinct: bool):
        """``fn`` on the rows not bad: once per distinct typed tuple of arguments when
        ``per_distinct`` (a pure function dearer than keying its arguments) and possible,
        otherwise on every row. A memo of one argument looks each argument object up first
        (:meth:`Memo.column`)."""
        if per_distinct:
            found = fn.column(columns[0], bad, _FAILURES) \
                if fn.__class__ is Memo and len(columns) == 1 else None
            if found is None:
                found = apply_distinct(fn, columns, bad, _FAILURES)
            if found is not None:
                return found
            if fn.__class__ is Memo:      # arguments that cannot be keys: no memo row by row
                fn = fn.fn
        return apply(fn, columns, bad, _FAILURES)

    def boolean(self, node, frame, rows) -> Column:
        """``and``/``or`` with Python's value semantics; later operands only where undecided.
        The first operand's column is the result where it decides every row; otherwise each
        of its arrays is copied only when a later operand writes into it (badness only for a
        bad row, ids only for ids)."""
        is_and = isinstance(node.op, ast.And)
        first = self.eval(node.values[0], frame, rows)
        values, bad, masks, deps = first.values, first.bad, first.masks, first.deps
        going_on = truth(values)
        if not is_and:
            going_on = ~going_on
        pending = rows_where(going_on & ~bad if np.count_nonzero(bad) else going_on)
        if not len(pending):
            return first
        values = values.copy()
        own_bad = own_masks = own_deps = False
        for operand in node.values[1:]:
            if not len(pending):
                break
            col = self.eval(operand, frame, rows[pending])
            if col.values.dtype != values.dtype:      # yes/no so far, another kind of value now
                values = as_objects(values)
            values[pending] = col.values
            if self.masks.kept and not no_ids(col.masks):
                if not own_masks:
                    masks, own_masks = masks.copy(), True
                self.masks.join_at(masks, pending, col.masks)
            if np.count_nonzero(col.bad):
                if not own_bad:
                    bad, own_bad = bad.copy(), True
                bad[pending[col.bad]] = True
                going_on = ~col.bad & (truth(col.values) == is_and)
                stopped = ~col.bad & ~going_on
            else:                         # no bad row (the common case): fewer passes
                going_on = truth(col.values)
                if not is_and:
                    going_on = ~going_on
                stopped = ~going_on
            at = pending[going_on]
            if not (no_ids(col.deps) and no_ids(deps)):   # else no id to join or to put
                if not own_deps:
                    deps, own_deps = deps.copy(), True
                self.deps.join_at(deps, at, col.deps[going_on])
                # The operand the operator stopped at decided alone (language/marks).
                deps[pending[stopped]] = col.deps[stopped]
            pending = at
        return Column(values, bad, masks, deps=deps)

    def compare(self, node, frame, rows) -> Column:
        n = len(rows)
        left = self.eval(node.left, frame, rows)
        if len(node.ops) == 1:
            right = self.eval(node.comparators[0], frame, rows)
            return self.combined(OPERATORS[type(node.ops[0])], [left, right])
        current, bad, masks = as_objects(left.values).copy(), left.bad.copy(), left.masks.copy()
        deps = left.deps.copy()
        values = np.ones(n, dtype=bool)
        pending = rows_where(~bad)
        for op, comparator in zip(node.ops, node.comparators):
            if not len(pending):
                break
            col = self.eval(comparator, frame, rows[pending])
            self.masks.join_at(masks, pending, col.masks)
            self.deps.join_at(deps, pending, col.deps)
            bad[pending[col.bad]] = True
            ok = ~col.bad
            at = pending[ok]
            right = col.values[ok]
            operation, failed = OPERATORS[type(op)], np.zeros(len(at), dtype=bool)
            result = comparisons(operation, current[at], right, failed)
            if result is None:
                result, failed = apply(operation, [current[at], right], failed, _FAILURES)
            bad[at[failed]] = True
            holds = np.zeros(len(at), dtype=bool)
            holds[~failed] = truth(result[~failed])
            values[at[~failed & ~holds]] = False
            current[at[holds]] = right[holds]
            pending = at[holds]
        return Column(values, bad, masks, deps=deps)

    def if_else(self, node, frame, rows) -> Column:
        """``a if test else b``: each branch on the rows that take it. The branches' ids are
        put side by side in one column (their rows do not meet), which is then joined with
        the test's in one join: each row's test ids, then its branch's, as per case."""
        n = len(rows)
        test = self.eval(node.test, frame, rows)
        values, bad = np.empty(n, dtype=object), test.bad.copy()
        holds = truth(test.values)
        if np.count_nonzero(bad):
            yes = rows_where(~bad & holds)
            no = rows_where(~bad & ~holds)
        else:
            yes = rows_where(holds)
            no = rows_where(~holds)
        branch_masks = branch_deps = None          # the branches' ids, where one has any
        for chosen, branch in ((yes, node.body), (no, node.orelse)):
            if len(chosen):
                col = self.eval(branch, frame, rows[chosen])
                values[chosen], bad[chosen] = col.values, col.bad
                if self.masks.kept and not no_ids(col.masks):
                    if branch_masks is None:
                        branch_masks = _zeros(n)
                    branch_masks[chosen] = col.masks
                if self.deps.kept and not no_ids(col.deps):
                    if branch_deps is None:
                        branch_deps = _zeros(n)
                    branch_deps[chosen] = col.deps
        masks = test.masks if branch_masks is None else self.masks.join(test.masks, branch_masks)
        deps = test.deps if branch_deps is None else self.deps.join(test.deps, branch_deps)
        return Column(values, bad, masks, deps=deps)

    #: Per shared call (:func:`_shared_key`) and entity kind: the call's value, badness, mask
    #: and reads per entity row, and which rows are done (made on first use, for the batch).
    shared: dict | None = None

    def call(self, node, frame, rows) -> Column:
        """A call; a pure one whose arguments are names, constants and such calls is computed
        once per entity row of the batch for every site that writes it the same way
        (:meth:`shared_call`)."""
        if frame.index is not None:
            key = _SHARED_KEYS.get(node, _MISSING)
            if key is _MISSING:
                key = _SHARED_KEYS[node] = _shared_key(node)
            if key is not None:
                return self.shared_call(node, (frame.kind.name, key), frame, rows)
        return self.called(node, frame, rows)

    def shared_call(self, node, key, frame, rows) -> Column:
        """A shared call on ``rows``: computed (:meth:`called`) only on the rows whose entity no
        site has asked for yet, the rest read back. The same per row: a row's value, badness,
        mask and deciding reads depend only on its entity (the names read are the entity's and
        its ancestors', the call is pure), and each row still computes only where a site asks
        for it, so nothing is evaluated that the per-case evaluator would not evaluate."""
        shared = self.shared
        if shared is None:
            shared = self.shared = {}
        entity_rows = frame.index[rows]
        entry = shared.get(key)
        if entry is None:
            size = len(self.entities.get(frame.kind.name, ()))
            entry = shared[key] = (np.empty(size, dtype=object), np.zeros(size, dtype=bool),
                                   _zeros(size), _zeros(size), np.zeros(size, dtype=bool))
        values, bad, masks, deps, done = entry
        missing = ~done[entity_rows]
        count = np.count_nonzero(missing)
        if count:
            every = count == len(rows)
            need = rows if every else rows[missing]
            col = self.called(node, frame, need)
            at = entity_rows if every else entity_rows[missing]
            values[at], bad[at], masks[at], deps[at] = col.values, col.bad, col.masks, col.deps
            done[at] = True
            if every:
                return col
        return Column(values[entity_rows], bad[entity_rows], masks[entity_rows],
                      deps=deps[entity_rows])

    def called(self, node, frame, rows) -> Column:
        target = node.ref.target
        what = target[0]
        n = len(rows)
        if what == "in_force":
            return self.constant(target[1].has_value(self.as_of), n)
        if what == "value_on":
            return self.value_on(node, target[1], frame, rows)
        args = [self.eval(a, frame, rows) for a in node.args]
        masks = self.masks.join_all([zero_ids(n)] + [a.masks for a in args])
        bad = np.zeros(n, dtype=bool)
        for a in args:
            bad |= a.bad
        deps = self.deps.join_all([zero_ids(n)] + [a.deps for a in args])
        if what == "builtin":
            fn = target[1]
            if fn is _IS_GIVEN:           # `x is not None`: a yes/no column, no call per row
                given = args[0].values
                values = np.ones(n, dtype=bool) if given.dtype == bool else np.fromiter(
                    [v is not None for v in given.tolist()], dtype=bool, count=n)
                return Column(values, bad, masks, deps=deps)
            pure = fn not in _NATIVE      # once per distinct argument in the batch
            values, bad = self.applied(self.memo(fn, fn) if pure else fn,
                                       [a.values for a in args], bad, pure)
            if fn in SELECTORS and len(args) > 1:
                # min/max of several arguments: only the argument that gave the value decides
                # (the first of equal ones), as language/marks.keep_chosen marks it.
                deps = np.full(n, UNKNOWN, dtype=np.int64)
                open_rows = ~bad
                for a in args:
                    at = rows_where(open_rows)
                    if not len(at):
                        break
                    same = np.zeros(n, dtype=bool)
                    same[at] = _same_rows(a.values[at], values[at])
                    deps[same] = a.deps[same]
                    open_rows &= ~same
            return Column(values, bad, masks, deps=deps)
        values = np.empty(n, dtype=object)
        if what == "lookup":
            try:
                parameter = self.engine.cache.parameter(target[1], self.as_of)
            except _FAILURES:
                return Column(values, np.ones(n, dtype=bool), masks)
            read_id, mask_id = self.record_ids(parameter)

            def look(key):
                return parameter.lookup(key), read_id, mask_id
            return self.per_distinct(self.memo(parameter, look), args, values, bad, masks, deps)
        if what == "function":
            state = self.function_state
            function = target[1]

            def run(*arguments):
                state.frame = []
                result = state.call(function, list(arguments))
                return (result.value, *self.record_ids(result))
            return self.per_distinct(self.memo(function, run), args, values, bad, masks, deps)
        raise TypeError(f"cannot call {what}")  # pragma: no cover

    def memo(self, key, fn) -> Memo:
        """The batch's :class:`Memo` of a pure call (``key``: the built-in, the parameter or
        the rulebook function; ``fn`` computes one call): every call site of the batch shares
        it, so each distinct typed tuple of arguments is computed once per batch. ``text`` and
        ``money`` keep their results across batches too (:data:`_LASTING`): the same limits,
        sizes, ages and amounts are written again in every chunk."""
        found = self.memos.get(id(key))
        if found is None:                 # by identity (the key kept alive beside its memo)
            kept = _LASTING.get(key) if key is fn else None
            if kept is not None and len(kept) > _LASTING_SIZE:
                kept.clear()
            found = Memo(fn, kept)
            self.memos[id(key)] = (key, found)
            return found
        return found[1]

    def per_distinct(self, fn, args, values, bad, masks, deps) -> Column:
        """``fn`` (a pure call: a rulebook function, a parameter's table) on each row's
        arguments where no argument is bad, once per distinct tuple of arguments
        (:func:`engine.runtime.columnar_arrays.distinct`); ``fn`` gives the value and the read
        and mask ids of what it read, joined after the arguments' own. A row where it fails is
        bad (the per-case evaluator words why). ``masks`` and ``deps`` are not written into
        (they may be an argument's own): the joined ids are new arrays."""
        good = rows_where(~bad)
        columns = [a.values for a in args]
        found = distinct(columns, good)
        if found is None:                 # an argument that cannot be a key: row by row
            firsts, codes = good, np.arange(len(good))
            rows = good
        else:
            firsts, codes = found
            rows = good[firsts]
        lists = [c.tolist() for c in columns]
        outcomes, ok = [], []
        for i in rows.tolist():
            try:
                outcomes.append(fn(*[column[i] for column in lists]))
                ok.append(True)
            except _FAILURES:
                outcomes.append((None, 0, 0))
                ok.append(False)
        if not outcomes:
            return Column(values, bad, masks, deps=deps)
        ok = np.asarray(ok, dtype=bool)[codes]
        bad[good[~ok]] = True
        done, codes = good[ok], codes[ok]
        made, read_ids, mask_ids = zip(*outcomes)
        values[done] = objects(made)[codes]
        return Column(values, bad, self._joined_at(self.masks, masks, done, mask_ids, codes),
                      deps=self._joined_at(self.deps, deps, done, read_ids, codes))

    @staticmethod
    def _joined_at(table, acc, done, ids, codes):
        """``acc`` with the rows ``done`` joined with ``ids`` (one per distinct call, ``codes``
        per done row), as a new array: ``acc`` itself when no call read an id."""
        if not table.kept or not any(ids):
            return acc
        acc = acc.copy()
        table.join_at(acc, done, np.asarray(ids, dtype=np.int64)[codes])
        return acc

    def value_on(self, node, parameter, frame, rows) -> Column:
        n = len(rows)
        on = self.eval(node.args[1], frame, rows)
        values, bad, masks = np.empty(n, dtype=object), on.bad.copy(), on.masks.copy()
        deps = on.deps.copy()
        live = rows_where(~bad & ~_IS(on.values, None).astype(bool))
        key = self.eval(node.args[2], frame, rows[live]) if len(node.args) == 3 else None
        state = self.function_state
        dates = on.values.tolist()
        key_values = key.values.tolist() if key is not None else None   # Python values, not NumPy's
        read_ids = [0] * n
        key_ids = [0] * n
        key_masks = [0] * n
        value_masks = [0] * n
        for j, p in enumerate(live.tolist()):
            try:
                state.frame = []
                value = state.parameter_on(parameter, dates[p])
                # Read in this order per case: the date, the parameter, then the key.
                read_ids[p], value_mask = self.record_ids(value)
                if key is None:
                    values[p] = value.read()
                else:
                    key_masks[p] = int(key.masks[j])
                    key_ids[p] = int(key.deps[j])
                    if key.bad[j]:
                        raise _Bad()
                    values[p] = value.lookup(key_values[j])
                value_masks[p] = value_mask
            except _FAILURES:
                bad[p] = True
        deps = self.deps.join(self.deps.join(deps, np.asarray(read_ids, dtype=np.int64)),
                              np.asarray(key_ids, dtype=np.int64))
        masks = self.masks.join(self.masks.join(masks, np.asarray(key_masks, dtype=np.int64)),
                                np.asarray(value_masks, dtype=np.int64))
        return Column(values, bad, masks, deps=deps)

    # -- outputs -------------------------------------------------------------------------------
    def close(self) -> None:
        """Break the reference cycles the batch is in, once its outputs are made: its memos'
        functions (``look``, ``run``) refer back to the batch, and each State to its evaluator
        and back. Without the cycles the batch's tables and columns are freed by reference
        counting as soon as the caller drops its outputs, instead of being left to the cyclic
        garbage collector (about 10-15% of the plan's CPU when it has a chunk's garbage to
        walk). The outputs (:class:`ColumnarOutputs`) need none of what is dropped."""
        self.memos.clear()
        for state in self.states.values():
            state.release()
        self.states.clear()
        self.function_state.release()

    def impossible_on_date(self) -> np.ndarray:
        """Per case, whether a fact of it cannot be true on the batch's date: a date declared
        ``not_after: as_of`` that is later, or an age declared ``whole_years_since`` a date
        that is not the whole years from it (the test ``Engine.evaluate`` makes before any
        rule, :func:`engine.model.entities.check_on`). Such a case is given to the per-case
        evaluator, which refuses it with the error ``policy eval`` gives; before, the plan
        evaluated it as if the facts agreed."""
        failed = np.zeros(len(self.cases), dtype=bool)
        on = self.as_of
        for kind_name in self.entities:
            kind = self.kinds[kind_name]
            dated = kind.dated
            if not dated:
                continue
            case_rows = self.case_row[kind_name]
            for name, spec in dated:
                values, bad = self.fact_column(kind_name, name)
                since = spec.whole_years_since
                born, unknown = self.fact_column(kind_name, since) if since else (None, None)
                born_of = born.tolist() if born is not None else repeat(None)
                wrong = [r for r, (v, b) in enumerate(zip(values.tolist(), born_of))
                         if not bad[r] and date_conflict(
                             spec, v, None if b is None or unknown[r] else b, on) is not None]
                for r in wrong:
                    failed[case_rows[r]] = True
        return failed

    def output_columns(self, names=None, citations: bool = False) -> "ColumnarOutputs":
        """The batch's results as columns (:class:`ColumnarOutputs`): per kind and output rule,
        the rows it shows, and per case whether it must go to the per-case evaluator (a row
        that is bad where the per-case evaluator would have read it, or, when ``citations``
        are wanted, a result whose deciding citations the plan cannot tell)."""
        program = self.program
        wanted = set(names) if names is not None else None
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
                    rows = np.arange(len(entities))
                    shown[rule.uid] = self.eval(rule.output_when.tree,
                                                _Frame(kind, rows, whole=True), rows)
            plans[kind_name] = (rules, shown)
        failed = self.impossible_on_date()
        kinds = []
        for kind_name, (rules, shown) in plans.items():
            entities = self.entities[kind_name]
            n = len(entities)
            case_rows = self.case_row[kind_name]
            alive = np.ones(n, dtype=bool)     # rows none of whose results so far is bad
            columns = []
            for rule in rules:
                col = self.rule_column(rule)
                show = shown.get(rule.uid)
                if show is None:
                    hidden = np.zeros(n, dtype=bool)
                    broken = col.bad
                else:                      # shown only where output_when is True
                    yes, no = strict_bools(show.values)
                    unshowable = show.bad | ~(yes | no)
                    hidden = no & ~unshowable
                    broken = unshowable | (~hidden & col.bad)
                # a row whose deciding citations the plan cannot tell holds None: numbered
                # lists, each list is asked whether it is None; else ``==``, one C comparison
                # per row, finds every None, and only then is each row asked whether it is
                # None itself (a value equal to None without being it is not)
                cites = col.cites if citations else None
                groups = col.cite_groups if citations else None
                if groups is not None:
                    numbers, lists = groups
                    uncited = np.fromiter(map(operator.is_, lists.tolist(), repeat(None)),
                                          dtype=bool, count=len(lists))[numbers]
                elif citations and (cites == None).any():      # noqa: E711 - elementwise
                    uncited = np.fromiter(map(operator.is_, cites.tolist(), repeat(None)),
                                          dtype=bool, count=n)
                else:
                    uncited = None
                if uncited is not None:
                    uncited &= alive & ~broken & ~hidden
                    if uncited.any():
                        for row in np.flatnonzero(uncited).tolist():
                            self.citation_failed.add(case_rows[row])
                        broken = broken | uncited
                alive &= ~broken
                shows = alive & ~hidden
                groups = col.cite_groups
                if shows.all():            # every row: the columns themselves, not copies
                    columns.append(RuleOutputs(rule, np.arange(n), col.values, col.own,
                                               col.masks, col.cites, groups))
                    continue
                rows = np.flatnonzero(shows)
                columns.append(RuleOutputs(rule, rows, col.values[rows], col.own[rows],
                                           None if col.masks is None else col.masks[rows],
                                           col.cites[rows],
                                           None if groups is None else
                                           (groups[0][rows], groups[1])))
            case_of = np.asarray(case_rows, dtype=np.intp)
            failed[case_of[~alive]] = True
            kinds.append(KindOutputs(entities, columns, case_of, alive))
        return ColumnarOutputs(self, kinds, failed.tolist())


#: Built-ins whose calls may be shared between sites (:func:`_shared_key`): pure, and giving a
#: number, text, yes/no or date (never a list: each call of ``range`` gives its own list).
_SHAREABLE = frozenset(b.function for b in BUILTINS.values()
                       if b.result in ("number", "text", "boolean", "date")) - {_IS_GIVEN, len}
#: Per call node, its key for sharing (:func:`_shared_key`), for as long as the node lives (the
#: definitions the key names by identity live as long: the node's names refer to them).
_SHARED_KEYS = weakref.WeakKeyDictionary()


def _shared_key(node):
    """What makes two calls the same call on every entity (:meth:`_Batch.shared_call`), or None
    when the call is not shared: the built-in, rulebook function or parameter table, and each
    argument, which must be a constant (by class and spelling: ``True`` is not ``1``,
    ``2.50`` not ``2.5``), a fact, rule or parameter read (with how many levels up), the date,
    or a shared call itself."""
    target = node.ref.target
    what = target[0]
    if what == "builtin":
        if target[1] not in _SHAREABLE:
            return None
    elif what not in ("function", "lookup"):
        return None
    key = [what, id(target[1])]
    for argument in node.args:
        kind = argument.__class__
        if kind is ast.Constant:
            value = argument.value
            key.append(("constant", value.__class__, repr(value)))
        elif kind is ast.Name:
            read = argument.ref.target
            if read[0] in ("fact", "as_of"):
                key.append(read)
            elif read[0] in ("rule", "param"):
                key.append((read[0], id(read[1]), *read[2:]))
            else:
                return None
        elif kind is ast.Call:
            inner = _SHARED_KEYS.get(argument, _MISSING)
            if inner is _MISSING:
                inner = _SHARED_KEYS[argument] = _shared_key(argument)
            if inner is None:
                return None
            key.append(inner)
        else:
            return None
    return tuple(key)


#: Per ``+`` chain: the same chain with its texts joined inside its ``if``/``else`` (or None).
_DISTRIBUTED = weakref.WeakKeyDictionary()


def _distributed(node):
    """A chain of ``+`` that is texts written out around one ``if``/``else`` chain
    (``"MHK: " + (a if c else b + x if d else e) + " (1830.000.00)"``, as in
    ``eligibility.why_not``), written as that ``if``/``else`` chain with the texts joined
    inside each branch (``"MHK: " + a + " (1830.000.00)" if c else ...``), the texts next to
    each other written as one, and a ``+`` chain in a branch as its operands; None for any
    other chain. The same value, badness and citations on every row: the same tests on the
    same rows, then the taken branch's operands in the same order (texts written out read
    nothing), added left to right. Added so, a row gives text exactly when every operand is a
    text, as the chain written with parentheses does (``+`` of a text with anything but a text
    fails; of numbers or lists it gives no text, which the written-out text then refuses), and
    the longest text is the whole, either way. Each row's text is then joined once, not once
    per level, and a branch that is a text written out is one text for every row. Kept per
    node for as long as the rulebook's expressions live."""
    found = _DISTRIBUTED.get(node, _MISSING)
    if found is _MISSING:
        found = _DISTRIBUTED[node] = _spread_chain(node)
    return found


def _added_operands(node) -> list:
    """The operands of a chain of ``+`` nested to the left, in order (the node alone if it is
    not one)."""
    operands = []
    while node.__class__ is ast.BinOp and node.op.__class__ is ast.Add:
        operands.append(node.right)
        node = node.left
    operands.append(node)
    return operands[::-1]


#: Per ``+`` chain: whether it is one :meth:`_Batch.coded_texts` composes per distinct tuple.
_CODABLE_CHAINS = weakref.WeakKeyDictionary()
#: Classes of the values a column is numbered by (:meth:`_Batch.value_codes`).
_CODABLE = frozenset({str, int, bool, dt.date, type(None)})
#: ... and by object (:meth:`_Batch.value_codes`).
_CODABLE_OBJECTS = _CODABLE | {Decimal}
_TEXT = {str}


def _codable_chain(node) -> bool:
    """Whether a chain of ``+`` has a name of a rule or fact (of this entity or an ancestor),
    or ``text``/``money`` of one, among its operands (:meth:`_Batch.coded_texts`)."""
    found = _CODABLE_CHAINS.get(node)
    if found is None:
        found = _CODABLE_CHAINS[node] = any(map(_codable_operand, _added_operands(node)))
    return found


def _codable_operand(operand) -> bool:
    """A name of a rule or fact, or ``text``/``money`` of one."""
    if operand.__class__ is ast.Call:
        target = operand.ref.target
        if target[0] != "builtin" or target[1] not in _LASTING or len(operand.args) != 1 \
                or operand.keywords:
            return False
        operand = operand.args[0]
    return operand.__class__ is ast.Name and operand.ref.target[0] in ("rule", "fact")


def _written_text(node) -> bool:
    return node.__class__ is ast.Constant and node.value.__class__ is str


def _spread_chain(node):
    operands = _added_operands(node)
    others = [k for k, operand in enumerate(operands) if not _written_text(operand)]
    if len(others) != 1 or operands[others[0]].__class__ is not ast.IfExp:
        return None
    k = others[0]
    return _spread(operands[:k], operands[k], operands[k + 1:])


def _spread(before: list, node, after: list):
    if node.__class__ is ast.IfExp:
        return ast.IfExp(test=node.test, body=_spread(before, node.body, after),
                         orelse=_spread(before, node.orelse, after))
    operands = []
    for operand in before + _added_operands(node) + after:
        if operands and _written_text(operand) and _written_text(operands[-1]) and \
                len(operands[-1].value) + len(operand.value) <= MAX_SEQUENCE:
            operands[-1] = ast.Constant(operands[-1].value + operand.value)
        else:
            operands.append(operand)
    chain = operands[0]
    for operand in operands[1:]:
        chain = ast.BinOp(left=chain, op=ast.Add(), right=operand)
    return chain


def _smaller(acc, v):
    return v if acc is None or v < acc else acc


def _larger(acc, v):
    return v if acc is None or v > acc else acc


def _same(a, b) -> bool:
    """``a`` is ``b`` or equals it, as ``list.index`` finds it."""
    return a is b or a == b


#: ``a is b`` element by element (``None`` checks, strict True/False).
_IS = ufunc(operator.is_, 2)


def evaluate_cases(engine, cases, as_of: dt.date, names=None, stats: ColumnarStats | None = None,
                   citations: bool = True, provenance: bool = True):
    """Evaluate read cases (:class:`engine.api.Case`) as of one date with the columnar plan.

    Returns one evaluation per case, in order: a :class:`ColumnarEvaluation`, or None for a
    case the plan could not finish (the caller evaluates it per case, which gives its error or
    its values as ``Engine.evaluate`` does). ``stats``, if given, is updated with the counts.
    Every result carries its deciding citations (``Result.citations``), and a case with a
    result the plan cannot cite exactly is given to the per-case evaluator too; with
    ``citations=False`` (values only) they are not computed and each result's ``citations``
    is None. With ``provenance=False`` the read-sets are not computed (about 5% of the plan's
    time, for callers that never show them): each result's ``mask`` is None and asking for its
    ``provenance`` raises.
    """
    outputs = evaluate_columns(engine, cases, as_of, names, stats, citations, provenance)
    with paused_collector():
        return [None if out is None else ColumnarEvaluation(case.case_id, as_of, out)
                for case, out in zip(cases, outputs.results())]


def evaluate_columns(engine, cases, as_of: dt.date, names=None,
                     stats: ColumnarStats | None = None, citations: bool = True,
                     provenance: bool = True):
    """:func:`evaluate_cases` with the results left as columns (:class:`ColumnarOutputs`),
    for writers that read them without an object per result; its ``failed`` cases are the ones
    :func:`evaluate_cases` gives as None. With ``provenance=False`` each rule's ``masks`` are
    all 0 (the empty read-set is None then: see :func:`evaluate_cases`)."""
    with decimal_context(), paused_collector():
        batch = _Batch(engine, cases, as_of, citations, provenance)
        try:
            outputs = batch.output_columns(names, citations)
        finally:
            batch.close()
    fallbacks = sum(outputs.failed)
    batch.stats.fallback_cases += fallbacks
    batch.stats.columnar_cases += len(cases) - fallbacks
    batch.stats.cases += len(cases)
    batch.stats.citation_fallbacks = len(batch.citation_failed)
    if stats is not None:
        stats.add(batch.stats)
    return outputs


def plan_coverage(program) -> dict[str, list[str]]:
    """Which rules the plan computes as columns and which per entity inside the plan."""
    vectorised, per_entity = [], []
    for rule in program.rules.values():
        (vectorised if rule.body.kind in VECTORISED_BODIES else per_entity).append(rule.name)
    return {"vectorised": sorted(vectorised), "per_entity": sorted(per_entity)}
