"""The records ``policy batch`` writes: one compact JSON line per case, citations as short ids.

A caseload run writes the same few hundred citations millions of times. Written in full on
every result they made a household's output about 130 KB; written as ids into a table that is
written once beside the results (``FILE.citations.json``) they cost a few bytes each.

* :class:`CitationIds` gives every citation of the process a short id (``"h"``, ``"1x"``). The
  ids come from the citations themselves in a fixed order, not from the order results happen to
  use them, so every process that loaded the same rulebooks (a worker, a Spark executor) gives
  the same citation the same id without asking anyone. Ids are written in base 36 (digits, then
  lower-case letters): a household's line names about 260 citations, and every character of an
  id is paid on each of them. The citations a result shows on today's dates come first (see
  :meth:`CitationIds.of_process`), so that they get the shortest ids.
* :class:`RecordEncoder` turns one evaluated case (or the error that stopped it) into the bytes
  of one JSON line (orjson), in one of three citation modes: ``deciding`` (ids, the default),
  ``full`` (the citation objects inline, as ``policy eval`` prints them) or ``none``. Reasons
  (``because``) are rendered only when asked for: rendering them was a third of a batch's time.
  Results whose value is null (the rule does not apply to that person) are left out of the
  compact modes unless asked for (:func:`writes_nulls`): they were another third of a line.
  Lines without reasons or inline citations are joined from cached pieces (:class:`LinePieces`),
  or, for a batch the columnar plan evaluated, from its result columns
  (:mod:`engine.tools.column_lines`).

Which citations a result carries is the evaluator's business (``Result.citations``); this
module only writes them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from operator import attrgetter
from typing import Iterable

import orjson

from ..model.archives import archive_of, dated, shown
from ..model.citations import FIELDS, Citation, interned
from ..errors import PolicyError, Problem
from ..runtime.columnar import ColumnarEvaluation, ColumnarOutputs
from ..runtime.results import json_value
from .column_lines import ColumnLines

#: Distinct citation lists remembered with their ids (then forgotten, to bound memory).
MAX_KNOWN_SETS = 50_000

#: The ``--citations`` modes.
CITATION_MODES = ("none", "deciding", "full")


#: No archived citation carried (the second half of a key).
_NOT_FORMERLY = (None,) * len(FIELDS)

#: A citation's fields as a tuple (one C call: :meth:`CitationIds.of_process` makes a key for
#: every citation loaded, in the parent before any worker starts).
_FIELDS_OF = attrgetter(*FIELDS)


def citation_key(citation: Citation) -> tuple:
    """What makes two citations the same one in a table, note included: its fields, then those
    of the archived citation it carries as ``formerly`` (all None for none)."""
    formerly = getattr(citation, "formerly", None)
    if formerly is None:
        return _FIELDS_OF(citation) + _NOT_FORMERLY
    return _FIELDS_OF(citation) + _FIELDS_OF(formerly)


def citation_entry(key: tuple) -> dict:
    """The citation object a key stands for (as ``Citation.as_dict`` gives it)."""
    entry = {field: value for field, value in zip(FIELDS, key) if value is not None}
    formerly = {field: value for field, value in zip(FIELDS, key[len(FIELDS):]) if value is not None}
    if formerly:
        entry["formerly"] = formerly
    return entry


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def id_text(index: int) -> str:
    """The id of the citation at ``index`` in a table: the number in base 36 (``35`` -> ``"z"``,
    ``36`` -> ``"10"``)."""
    text = _DIGITS[index % 36]
    index //= 36
    while index:
        text = _DIGITS[index % 36] + text
        index //= 36
    return text


def _by_fields(key: tuple) -> tuple:
    """A sort key over citation keys (their fields may be None). (A list made into a tuple:
    a generator given to ``tuple`` costs about twice as much, once per citation loaded.)"""
    return tuple([(part is not None, part or "") for part in key])


class CitationIds:
    """Short, stable ids for citations, and the table that resolves them."""

    def __init__(self, keys: Iterable[tuple]):
        """``keys`` (see :func:`citation_key`) in id order, as :meth:`of_process` gives them (a
        worker is handed its parent's ``keys``); a repeated key keeps its first id."""
        ordered = list(dict.fromkeys(keys))
        self.keys: list[tuple] = ordered
        self._by_key = {key: id_text(index) for index, key in enumerate(ordered)}
        self._by_citation: dict[Citation, str] = {}

    @classmethod
    def of_process(cls) -> "CitationIds":
        """Ids for every citation interned so far, and for what an archived one is shown as
        after its archive date (:func:`engine.model.archives.shown`): load the engine first.

        The order depends only on the citations, so every process gets the same ids: first what
        an archived citation is shown as from its archive date (the successor carrying it), then
        every citation neither archived nor a successor, then the archived ones (shown alone only
        for earlier dates) and the successors (never shown alone); by their fields within each."""
        known = interned()
        archived = [c for c in known if archive_of(c) is not None]
        successors = {archive_of(c).successor for c in archived}
        later = set(archived) | successors
        groups = ([citation_key(shown(c)) for c in archived],
                  [citation_key(c) for c in known if c not in later],
                  [citation_key(c) for c in known if c in later])
        return cls(key for group in groups for key in sorted(set(group), key=_by_fields))

    def id_of(self, citation: Citation) -> str | None:
        """The citation's id, or None for a citation the table does not know."""
        found = self._by_citation.get(citation)
        if found is None:
            found = self._by_key.get(citation_key(citation))
            if found is not None:
                self._by_citation[citation] = found
        return found

    def table(self, used: Iterable[str] | None = None) -> dict[str, dict]:
        """``{id: citation}`` for the ids in ``used`` (default: all), in id order."""
        wanted = None if used is None else set(used)
        out = {}
        for index, key in enumerate(self.keys):
            ident = id_text(index)
            if wanted is None or ident in wanted:
                out[ident] = citation_entry(key)
        return out


def _default(value):
    """orjson's fallback: the engine's JSON forms (decimals as exact strings, dates as ISO)."""
    converted = json_value(value)
    if converted is value:
        return str(value)
    return converted


class RecordEncoder:
    """One evaluated case, or the error that stopped it, as the bytes of one JSON line."""

    def __init__(self, citations: str = "deciding", because: bool = False,
                 ids: CitationIds | None = None, nulls: bool | None = None):
        """``nulls``: whether results without a value (a rule that does not apply to that
        person) are written; by default only with ``full`` citations, which writes what
        ``policy eval`` prints (see :func:`writes_nulls`)."""
        if citations not in CITATION_MODES:
            raise ValueError(f"citations must be one of {', '.join(CITATION_MODES)}, not {citations!r}")
        if citations == "deciding" and ids is None:
            ids = CitationIds.of_process()
        self.mode = citations
        self.because = because
        self.ids = ids
        self.nulls = writes_nulls(citations, nulls)
        self.used: set[str] = set()        # ids written so far (for the table written at the end)
        self._known: dict[tuple, list] = {}  # (citations, date) -> their ids (few distinct sets)
        self._pieces = LinePieces(self) if citations != "full" and not because else None
        self._columns = ColumnLines(self) if self._pieces is not None else None

    @staticmethod
    def json(value) -> bytes:
        """A value as JSON bytes, the engine's forms for decimals and dates (never floats)."""
        return orjson.dumps(value, default=_default)

    def _ids(self, citations) -> list:
        out = []
        id_of, used = self.ids.id_of, self.used
        for citation in citations:
            ident = id_of(citation)
            if ident is None:              # not in the table: never expected; written in full
                out.append(citation.as_dict())
            else:
                out.append(ident)
                used.add(ident)
        return out

    # -- results ---------------------------------------------------------------------------------
    def result_item(self, result) -> dict:
        """One result as the line lists it: name, person, value, citations (and because)."""
        item = {"name": result.name, "person": result.person,
                "value": result.json_value()}
        entity = result.entity
        if entity is not None and entity.kind.id_fact is None and entity.parent is not None:
            item["entity"] = entity.label()
        mode = self.mode
        if mode == "deciding":
            item["citations"] = self.cited_ids(result.citations, result.as_of)
        elif mode == "full":
            item["citations"] = [c.as_dict() for c in dated(result.citations, result.as_of)]
        if self.because:
            item["because"] = result.because
        return item

    def cited_ids(self, citations, as_of) -> list:
        """The ids of a deciding list as shown on a date (archived sources resolved once per
        list and date), remembering the ids used for the table."""
        key = (citations, as_of)
        cited = self._known.get(key)
        if cited is None:
            if len(self._known) >= MAX_KNOWN_SETS:
                self._known.clear()
            cited = self._known[key] = self._ids(dated(citations, as_of))
        return cited

    def citations_piece(self, citations, as_of) -> bytes:
        """The end of a compact line's result with ids: ``,"citations":[ids]}`` (both writers,
        :class:`LinePieces` and :class:`~engine.tools.column_lines.ColumnLines`, cache it)."""
        return b',"citations":' + self.json(self.cited_ids(citations, as_of)) + b"}"

    def evaluation(self, evaluation) -> bytes:
        """The case's line: with ids or no citations and no reasons, assembled from cached
        pieces (:class:`LinePieces`, the same bytes); else one record through orjson."""
        if self._pieces is not None:
            return self._pieces.line(evaluation)
        return self.record_line(evaluation)

    def lines(self, outputs: ColumnarOutputs) -> list:
        """The lines of a batch the columnar plan evaluated (:class:`ColumnarOutputs`), one per
        case, None for a case it gives to the per-case evaluator: in the compact modes written
        from the columns (:class:`engine.tools.column_lines.ColumnLines`, the same bytes
        without a result object per result), else from its result objects."""
        if self._columns is not None:
            return self._columns.lines(outputs)
        return [None if results is None else
                self.evaluation(ColumnarEvaluation(case.case_id, outputs.as_of, results))
                for case, results in zip(outputs.cases, outputs.results())]

    def record_line(self, evaluation) -> bytes:
        """The line as one record through orjson, whatever the mode: the reference the pieces
        of :class:`LinePieces` are checked against (``tests/tools/test_batch_lines.py``)."""
        nulls = self.nulls
        record = {"case_id": evaluation.case_id, "as_of": evaluation.as_of.isoformat(),
                  "results": [self.result_item(r) for r in evaluation.results
                              if nulls or r.value is not None]}
        return orjson.dumps(record, default=_default)

    # -- errors ----------------------------------------------------------------------------------
    @staticmethod
    def error(exc: PolicyError, label: str, case_id=None) -> bytes:
        """The line of a case that could not be evaluated: where it was read, and why."""
        record: dict = {"input": label}
        if case_id is not None:
            record["case_id"] = case_id
        record["error"] = located(exc.problem, label)
        if len(exc.problems) > 1:
            record["error"]["more"] = [p.as_dict() for p in exc.problems[1:]]
        return orjson.dumps(record, default=_default)


def writes_nulls(citations: str, nulls: bool | None = None) -> bool:
    """Whether a run writes results whose value is null (the rule does not apply to that
    person: ``mhabd.*`` for a child, ``msp.*`` for someone without Medicare). They were a third
    of a household's compact line, so the compact modes (``deciding``, ``none``) leave them out
    unless asked (``--nulls``); ``full`` writes them, as ``policy eval`` prints them."""
    return citations == "full" if nulls is None else nulls


#: Pieces made into each cache of :class:`LinePieces` before it starts again (bounds memory on
#: a caseload of millions, to a few MB; the pieces repeat, so a cleared cache soon fills with
#: the common ones again).
MAX_PIECES = 20_000

_NO_ENTITY = (None, None)

#: Value classes whose JSON is cached by rule name and value: equal values of one of these
#: classes have the same JSON (a decimal is keyed by its exact text, since ``Decimal("1.0") ==
#: Decimal("1")``; a bool is never equal to an int of another class here).
_KEYED = frozenset({str, bool, int, Decimal, type(None), dt.date})


class LinePieces:
    """A case's compact line from pieces made once, byte for byte what orjson writes for the
    record :meth:`RecordEncoder.record_line` builds.

    Writing lines was a quarter of a columnar batch's time: one dict per result, its value
    converted, the ids looked up, then the whole record serialised. The same pieces recur on
    every line of a caseload, so each is made once and the line is joined from bytes:

    * ``{"name":…,"person":…,"value":`` and the ``,"entity":…`` that follows the value, per rule
      name and entity (person id, and label for an entity without an id, such as an income);
    * the value's JSON, per rule name and value (a decimal by its exact text, so ``1.0`` and
      ``1`` stay apart); lists of texts are serialised directly;
    * ``,"citations":[…]}``, per deciding list and date; a list of the same objects as the
      last results' is found by identity before it is hashed.
    """

    def __init__(self, encoder: RecordEncoder):
        self.encoder = encoder
        self.citing = encoder.mode == "deciding"
        self.nulls = encoder.nulls
        self._heads: dict = {}        # (person, label) -> {rule name: (front, back)}
        self._values: dict = {}       # rule name -> {value key: JSON}
        self._cited: dict = {}        # id(citations) -> (citations, date, bytes)
        self._cited_by_value: dict = {}
        self._made: dict = {}         # pieces made into each cache since it was last cleared

    def line(self, evaluation) -> bytes:
        nulls, citing = self.nulls, self.citing
        values, cited = self._values, self._cited
        where: dict = {}
        parts = [b'{"case_id":', orjson.dumps(evaluation.case_id, default=_default),
                 b',"as_of":"', evaluation.as_of.isoformat().encode(), b'","results":[']
        append = parts.append
        comma = b""
        for result in evaluation.results:
            value = result.value
            if value is None and not nulls:
                continue
            entity = result.entity
            heads = where.get(id(entity))
            if heads is None:
                heads = where[id(entity)] = self._heads_of(entity)
            name = result.name
            head = heads.get(name)
            if head is None:
                head = self._head(heads, name, entity)
            cls = value.__class__
            if cls is str:
                keyed = values.get(name)
                shown = keyed.get(value) if keyed is not None else None
                if shown is None:
                    shown = self._value(result, name, value)
            elif cls in _KEYED:
                key = (cls, str(value)) if cls is Decimal else (cls, value)
                keyed = values.get(name)
                shown = keyed.get(key) if keyed is not None else None
                if shown is None:
                    shown = self._value(result, name, key)
            elif cls is list:
                shown = self._list(result, value)
            else:
                shown = orjson.dumps(result.json_value(), default=_default)
            append(comma)
            append(head[0])
            append(shown)
            append(head[1])
            if citing:
                citations = result.citations
                found = cited.get(id(citations))
                if found is None or found[0] is not citations or found[1] != result.as_of:
                    found = self._citations(citations, result.as_of)
                append(found[2])
            else:
                append(b"}")
            comma = b","
        append(b"]}")
        return b"".join(parts)

    def _room(self, cache: dict) -> None:
        """Start ``cache`` again once :data:`MAX_PIECES` pieces were made into it. Each cache
        is bounded by itself: the values of money amounts, different in every household, must
        not flush the few heads; the deciding lists of every chunk are new objects, and the
        entries found by identity hold them, so they are bounded too."""
        made = self._made.get(id(cache), 0) + 1
        if made > MAX_PIECES:
            cache.clear()
            made = 1
        self._made[id(cache)] = made

    def _heads_of(self, entity) -> dict:
        place = _NO_ENTITY if entity is None else _place(entity)
        found = self._heads.get(place)
        if found is None:
            self._room(self._heads)
            found = self._heads[place] = {}
        found[None] = place           # under None (no rule's name): whom the heads are for
        return found

    def _head(self, heads: dict, name: str, entity) -> tuple[bytes, bytes]:
        person, label = heads[None]
        front = b"".join((b'{"name":', orjson.dumps(name), b',"person":', orjson.dumps(person),
                          b',"value":'))
        back = b',"entity":' + orjson.dumps(label) if label is not None else b""
        self._room(self._heads)
        heads[name] = found = (front, back)
        return found

    def _value(self, result, name: str, key) -> bytes:
        self._room(self._values)
        shown = orjson.dumps(result.json_value(), default=_default)
        self._values.setdefault(name, {})[key] = shown
        return shown

    @staticmethod
    def _list(result, value) -> bytes:
        for element in value:
            if element.__class__ is not str:
                return orjson.dumps(result.json_value(), default=_default)
        return orjson.dumps(value)

    def _citations(self, citations, as_of) -> tuple:
        key = (citations, as_of)
        found = self._cited_by_value.get(key)
        if found is None:
            self._room(self._cited_by_value)
            found = self._cited_by_value[key] = (
                citations, as_of, self.encoder.citations_piece(citations, as_of))
        self._room(self._cited)
        self._cited[id(citations)] = found = (citations, as_of, found[2])
        return found


def _place(entity) -> tuple:
    """The result's ``person`` and, for an entity without an id below the case, its label."""
    label = None
    if entity.kind.id_fact is None and entity.parent is not None:
        label = entity.label()
    return (entity.person_id(), label)


def located(problem: Problem, label: str) -> dict:
    """The problem as data, located at the input line (``file:line``) when it names no file."""
    out = problem.as_dict()
    if out.get("file") is None:
        file, _, line = label.rpartition(":")
        out["file"], out["line"] = (file, int(line)) if line.isdigit() else (label, None)
    return out


def write_citation_table(path, ids: CitationIds, used: Iterable[str]) -> None:
    """``FILE.citations.json``: every id the results used, with its citation."""
    with open(path, "wb") as handle:
        handle.write(orjson.dumps(ids.table(used), option=orjson.OPT_INDENT_2))
        handle.write(b"\n")
