"""The compact lines of a chunk written from its result columns, without a result object each.

The columnar plan leaves a chunk's results as columns (:class:`ColumnarOutputs`): per kind and
output rule, the rows it shows, their values and their deciding citations. Making a result
object per result and then reading each object's attributes to join its line from cached
pieces (:class:`engine.tools.batch_output.LinePieces`) cost about 65 us of a household's 400
(benchmarks/README.md). A compact line is only the concatenation, in the case's order (its
entities as the per-case evaluator walks them, each entity's results in rule order), of one
piece per result, itself made of::

    ,{"name":N,"person":P,"value":   the rule's and the entity's   (per rule and person id)
    V                                the value's JSON              (per type and distinct value)
    [,"entity":L],"citations":[…]}   the entity's label, then the deciding ids on the date
                                     (per deciding list; ``}`` alone without citations)

so :class:`ColumnLines` makes each part once per distinct item (Python work per distinct
person, value or deciding list, not per result; values are numbered by dictionaries and lists
by identity in C), joins the parts of a rule's results once per distinct combination, puts all
results of the chunk in the case order by one sort over (entity's place, rule's number), lays
them out with each case's head and tail, and joins each case's slice. The bytes are those
:meth:`RecordEncoder.record_line` writes for the same results, which the tests check case by
case (``tests/tools/test_column_lines.py``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import chain, compress, repeat
from operator import is_not

import numpy as np
import orjson

from ..runtime.columnar import ColumnarOutputs, result_json

#: Values remembered per cache (value JSON per type, deciding lists per date) before it starts
#: again: the money amounts of a caseload are different in nearly every household.
MAX_VALUES = 20_000

#: Classes whose values, when a whole column holds only that class (and None), key their JSON by
#: themselves: two equal values of one of these classes have the same JSON. A decimal is keyed by
#: its exact text (``Decimal("1.0") == Decimal("1")``, written differently). A list of texts is
#: written as it is, each one (the reasons a person is not eligible differ from one household
#: to the next, and hashing them cost more than writing them).
_BY_ITSELF = frozenset({str, int, bool, dt.date})

_NONE = type(None)


class ColumnLines:
    """Compact lines (``deciding`` or ``none`` citations, no reasons) from result columns, the
    same bytes as :class:`engine.tools.batch_output.LinePieces` joins from result objects."""

    def __init__(self, encoder):
        """``encoder``: the :class:`engine.tools.batch_output.RecordEncoder` whose mode, nulls,
        citation ids and ids used this writes with."""
        self.encoder = encoder
        self.citing = encoder.mode == "deciding"
        self.nulls = encoder.nulls
        self.json = encoder.json
        self._names: dict = {}     # rule name -> b',{"name":…,"person":'
        self._people: dict = {}    # (class, person id) -> b'…,"value":'
        self._labels: dict = {}    # label -> b',"entity":…'
        self._values: dict = {}    # (rule type, class) -> {value key: JSON}
        self._cited: dict = {}     # (deciding citations, date) -> b',"citations":[…]}'

    def lines(self, outputs: ColumnarOutputs) -> list:
        """Per case of ``outputs``: its line (bytes, no newline), or None for a case the plan
        gives to the per-case evaluator (``outputs.failed``)."""
        positions, starts = outputs.places()
        width = max((len(kind.rules) for kind in outputs.kinds), default=0) + 1
        blocks, keys = [], []
        made: dict = {}            # id(deciding list) -> its piece, for this chunk
        for kind, places in zip(outputs.kinds, positions):
            if not kind.rules:
                continue
            people, who = self._people_of(kind.entities)
            labels = self._labels_of(kind.entities)
            for number, out in enumerate(kind.rules):
                rows, values, cites = out.rows, out.values, out.cites
                listed = values.tolist()
                if not self.nulls and values.dtype == object and listed:
                    if not any(listed) and listed.count(None) == len(listed):
                        continue           # the rule applies to none of these rows
                    keep = np.fromiter(map(is_not, listed, repeat(None)), dtype=bool,
                                       count=len(listed))
                    if not keep.all():
                        rows, cites = rows[keep], cites[keep]
                        listed = list(compress(listed, keep.tolist()))
                if not listed:
                    continue
                heads = self._heads(out.rule.name, people)
                shown, shown_codes = self._values_of(out.rule, listed)
                ends, end_codes = self._cited_of(cites, outputs.as_of, made)
                if labels is None:
                    blocks.append(_joined_distinct((heads, who[rows]), (shown, shown_codes),
                                                   (ends, end_codes)))
                else:
                    blocks.append(heads[who[rows]] + shown[shown_codes] +
                                  (labels[rows] + ends[end_codes]))
                keys.append(places[rows] * width + number)
        return self._joined(outputs, blocks, keys, starts * width)

    def _joined(self, outputs, blocks: list, keys: list, starts) -> list:
        """The lines from the piece of every result (``blocks``) and each result's place
        (``keys``; case ``c``'s results are those from ``starts[c]`` to ``starts[c + 1]``):
        laid out in one list, case after case, each case's head, its results in order, then
        ``]}``; each line is then one join of its slice."""
        cases = len(outputs.cases)
        key = np.concatenate(keys) if keys else np.zeros(0, dtype=np.intp)
        order = np.argsort(key, kind="stable")
        pieces = np.concatenate(blocks)[order] if blocks else np.empty(0, dtype=object)
        bounds = np.searchsorted(key[order], starts)
        counts = np.diff(bounds)
        firsts = bounds[:-1][counts > 0]     # no comma before a case's first result
        pieces[firsts] = [piece[1:] for piece in pieces[firsts].tolist()]
        number = np.arange(cases)
        heads = bounds[:-1] + 2 * number
        tails = bounds[1:] + 2 * number + 1
        laid = np.empty(len(key) + 2 * cases, dtype=object)
        laid[np.arange(len(key)) + 2 * np.repeat(number, counts) + 1] = pieces
        json = self.json
        dated = b',"as_of":"' + outputs.as_of.isoformat().encode() + b'","results":['
        laid[heads] = [b'{"case_id":' + json(case.case_id) + dated for case in outputs.cases]
        laid[tails] = b"]}"
        laid = laid.tolist()
        failed = outputs.failed
        return [None if failed[c] else b"".join(laid[a:b + 1])
                for c, a, b in zip(range(cases), heads.tolist(), tails.tolist())]

    # -- pieces ----------------------------------------------------------------------------------
    def _heads(self, name: str, people: list) -> np.ndarray:
        """Per person of ``people`` (their pieces): ``,{"name":N,"person":P,"value":``."""
        found = self._names.get(name)
        if found is None:
            found = self._names[name] = b',{"name":' + self.json(name) + b',"person":'
        return _objects([found + person for person in people])

    def _people_of(self, entities) -> tuple[list, np.ndarray]:
        """The distinct ``P,"value":`` pieces of the entities' persons
        (:meth:`Entity.person_id`), and per row the number of its own."""
        persons = [entity.person_id() for entity in entities]
        if set(map(type, persons)) <= {str, _NONE}:    # their own keys: no 1 == True here
            keys = persons
        else:
            keys = [(person.__class__, person) for person in persons]
        index = {key: number for number, key in enumerate(dict.fromkeys(keys))}
        cache = self._people
        people = []
        for key in index:
            found = cache.get(key)
            if found is None:
                if len(cache) >= MAX_VALUES:
                    cache.clear()
                person = key[1] if key.__class__ is tuple else key
                found = cache[key] = self.json(person) + b',"value":'
            people.append(found)
        return people, np.fromiter(map(index.__getitem__, keys), dtype=np.intp,
                                   count=len(keys))

    def _labels_of(self, entities):
        """Per row: ``,"entity":L`` for an entity without an id below the case (an income),
        else empty; None for a kind none of whose entities has one."""
        kind = entities[0].kind
        if kind.id_fact is not None:
            return None
        labels = self._labels
        out = []
        for entity in entities:
            if entity.parent is None:
                out.append(b"")
                continue
            label = entity.label()
            found = labels.get(label)
            if found is None:
                if len(labels) >= MAX_VALUES:
                    labels.clear()
                found = labels[label] = b',"entity":' + self.json(label)
            out.append(found)
        return _objects(out) if any(out) else None

    def _values_of(self, rule, listed: list) -> tuple[np.ndarray, np.ndarray]:
        """The JSON of a rule's values: the distinct pieces, and per value the number of its
        own. Each is made once per distinct typed value: keyed by the value itself where the
        column holds one class whose equal values have equal JSON, by its exact text for
        decimals; lists of texts and any other column are made per value."""
        classes = set(map(type, listed))
        classes.discard(_NONE)
        one = next(iter(classes)) if len(classes) == 1 else None
        if not classes:
            cls, keyed = _NONE, listed
        elif one in _BY_ITSELF:
            cls, keyed = one, listed
        elif one is Decimal:
            cls, keyed = one, list(map(str, listed))      # str(None) is no decimal's text
        elif one is list and _NONE not in map(type, listed) and not any(listed):
            return _objects([orjson.dumps([])]), np.zeros(len(listed), dtype=np.intp)
        elif one is list and _NONE not in map(type, listed) and _texts(listed):
            return _objects(list(map(orjson.dumps, listed))), np.arange(len(listed))
        else:
            json = self.json
            return (_objects([json(result_json(rule, value)) for value in listed]),
                    np.arange(len(listed)))
        cache = self._values.get((rule.type, cls))
        if cache is None:
            cache = self._values[(rule.type, cls)] = {}
        distinct = dict(zip(keyed, listed))
        missing = distinct.keys() - cache.keys()
        if missing:
            if len(cache) + len(missing) > MAX_VALUES:
                cache.clear()
                missing = distinct.keys()
            json = self.json
            for key in missing:
                cache[key] = json(result_json(rule, distinct[key]))
        return _numbered(distinct, keyed, cache)

    def _cited_of(self, cites: np.ndarray, as_of: dt.date, made: dict):
        """``,"citations":[ids]}`` for each distinct deciding list of the results on the date
        (``}`` without citations), and per result the number of its own: made once per list
        object of the chunk (``made``, by identity: the chunk holds them all) and once per list
        and date across chunks."""
        if not self.citing:
            return _objects([b"}"]), np.zeros(len(cites), dtype=np.intp)
        listed = cites.tolist()
        ids = np.fromiter(map(id, listed), dtype=np.intp, count=len(listed))
        if (ids == ids[0]).all():      # one deciding list for all (most rules in a chunk)
            distinct, first, numbers = ids[:1], np.zeros(1, dtype=np.intp), np.zeros_like(ids)
        else:
            distinct, first, numbers = np.unique(ids, return_index=True, return_inverse=True)
        pieces = []
        for key, row in zip(distinct.tolist(), first.tolist()):
            found = made.get(key)
            if found is None:
                found = made[key] = self._cited_piece(listed[row], as_of)
            pieces.append(found)
        return _objects(pieces), numbers.reshape(-1)

    def _cited_piece(self, citations, as_of) -> bytes:
        key = (citations, as_of)
        found = self._cited.get(key)
        if found is None:
            if len(self._cited) >= MAX_VALUES:
                self._cited.clear()
            found = self._cited[key] = self.encoder.citations_piece(citations, as_of)
        return found


def _numbered(distinct: dict, keys: list, pieces: dict | None = None) -> tuple:
    """The pieces of the ``distinct`` keys (in their order; None: the keys are their own
    pieces), and per key of ``keys`` the number of its own."""
    number = dict(zip(distinct, range(len(distinct))))
    return (_objects(list(distinct) if pieces is None else
                     list(map(pieces.__getitem__, distinct))),
            np.fromiter(map(number.__getitem__, keys), dtype=np.intp, count=len(keys)))


def _joined_distinct(*parts) -> np.ndarray:
    """Per result, the concatenation of its pieces, each part given as (distinct pieces, each
    result's number): made once per distinct combination (a rule's results repeat few)."""
    n = len(parts[0][1])
    if any(len(pieces) == n > 1 for pieces, _ in parts):   # every result its own: no grouping
        return _objects(list(map(b"".join, zip(*(pieces[numbers].tolist()
                                                  for pieces, numbers in parts)))))
    combined = np.zeros(n, dtype=np.int64)
    for pieces, numbers in parts:
        combined = combined * len(pieces) + numbers
    distinct, inverse = np.unique(combined, return_inverse=True)
    columns = []
    for pieces, numbers in reversed(parts):
        distinct, own = np.divmod(distinct, len(pieces))
        columns.append(pieces[own].tolist())
    made = list(map(b"".join, zip(*reversed(columns))))
    return _objects(made)[inverse.reshape(-1)]


def _texts(lists: list) -> bool:
    """Whether every element of every list is a text (``str.join`` takes nothing else; the
    elements are mostly texts made per household, whose hashes are not known yet)."""
    try:
        "".join(chain.from_iterable(lists))
    except TypeError:
        return False
    return True


def _objects(items: list) -> np.ndarray:
    """A list as a one-dimensional object array (never split into a second dimension)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out
