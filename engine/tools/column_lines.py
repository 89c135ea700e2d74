"""The compact lines of a chunk written from its result columns, without a result object each.

The columnar plan leaves a chunk's results as columns (:class:`ColumnarOutputs`): per kind and
output rule, the rows it shows, their values and their deciding citations. Making a result
object per result and then reading each object's attributes to join its line from cached
pieces (:class:`engine.tools.batch_output.LinePieces`) cost more than a sixth of a household's
time (about 65 us of 400, measured in benchmarks/README.md). A compact line is only the
concatenation, in the case's order (its entities as the per-case evaluator walks them, each
entity's results in rule order), of four pieces per result::

    ,{"name":N,"person":     the rule's                     (one per rule)
    P,"value":               the entity's                   (one per person id)
    V                        the value's JSON               (one per type and distinct value)
    [,"entity":L],"citations":[…]}   the entity's label, then the deciding ids on the date
                                     (one per deciding list; ``}`` alone without citations)

so :class:`ColumnLines` makes each piece once per distinct rule, person, value or deciding list
(Python work per distinct item, not per result), lays the pieces out as one array of four
columns, one row per result, puts the rows in the case order by one sort over (entity's place,
rule's number), and joins each case's slice: the bytes are those :meth:`RecordEncoder.record_line`
writes for the same results, which the tests check case by case
(``tests/tools/test_column_lines.py``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import chain, repeat
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
#: its own JSON, written as it is (the reasons a person is not eligible differ from one
#: household to the next).
_BY_ITSELF = frozenset({str, int, bool, dt.date})

_NONE = type(None)

#: The offsets of a result's three pieces.
_THREE = np.arange(3)


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
                if not self.nulls and values.dtype == object and len(rows):
                    keep = np.fromiter(map(is_not, values.tolist(), repeat(None)), dtype=bool,
                                       count=len(rows))
                    if not keep.all():
                        rows, values, cites = rows[keep], values[keep], cites[keep]
                if not len(rows):
                    continue
                block = np.empty((len(rows), 3), dtype=object)
                block[:, 0] = self._heads(out.rule.name, people)[who[rows]]
                block[:, 1] = self._values_of(out.rule, values)
                ends = self._cited_of(cites, outputs.as_of, made)
                block[:, 2] = ends if labels is None else labels[rows] + ends
                blocks.append(block)
                keys.append(places[rows] * width + number)
        return self._joined(outputs, blocks, keys, starts * width)

    def _joined(self, outputs, blocks: list, keys: list, starts) -> list:
        """The lines from the pieces of every result (``blocks``, three per result) and each
        result's place (``keys``; case ``c``'s results are those from ``starts[c]`` to
        ``starts[c + 1]``): laid out in one list, case after case, each case's head, its
        results in order, then ``]}``; each line is then one join of its slice."""
        cases = len(outputs.cases)
        key = np.concatenate(keys) if keys else np.zeros(0, dtype=np.intp)
        order = np.argsort(key, kind="stable")
        pieces = np.concatenate(blocks)[order] if blocks else np.empty((0, 3), dtype=object)
        bounds = np.searchsorted(key[order], starts)
        counts = np.diff(bounds)
        firsts = bounds[:-1][counts > 0]     # no comma before a case's first result
        pieces[firsts, 0] = [piece[1:] for piece in pieces[firsts, 0].tolist()]
        number = np.arange(cases)
        heads = 3 * bounds[:-1] + 2 * number
        tails = 3 * bounds[1:] + 2 * number + 1
        places = (3 * np.arange(len(key)) + 2 * np.repeat(number, counts) + 1)
        laid = np.empty(3 * len(key) + 2 * cases, dtype=object)
        laid[(places[:, None] + _THREE).ravel()] = pieces.ravel()
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

    def _values_of(self, rule, values: np.ndarray) -> list:
        """The JSON of each value of a rule, made once per distinct typed value: keyed by the
        value itself where the column holds one class whose equal values have equal JSON, by
        its exact text for decimals; lists of texts and any other column made per value."""
        listed = values.tolist()
        classes = set(map(type, listed))
        classes.discard(_NONE)
        one = next(iter(classes)) if len(classes) == 1 else None
        if not classes:
            cls, keyed = _NONE, listed
        elif one in _BY_ITSELF:
            cls, keyed = one, listed
        elif one is Decimal:
            cls, keyed = one, list(map(str, listed))      # str(None) is no decimal's text
        elif one is list and _NONE not in map(type, listed) and \
                set(map(type, chain.from_iterable(listed))) <= {str}:
            return list(map(orjson.dumps, listed))   # its own JSON; mostly different lists
        else:
            json = self.json
            return [json(result_json(rule, value)) for value in listed]
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
        return list(map(cache.__getitem__, keyed))

    def _cited_of(self, cites: np.ndarray, as_of: dt.date, made: dict):
        """Per result: ``,"citations":[ids]}`` for its deciding list on the date (``}`` without
        citations), made once per list object of the chunk (``made``, by identity: the chunk
        holds them all) and once per list and date across chunks."""
        if not self.citing:
            return b"}"
        listed = cites.tolist()
        ids = list(map(id, listed))
        distinct = dict(zip(ids, listed))
        for key in distinct.keys() - made.keys():
            made[key] = self._cited_piece(distinct[key], as_of)
        return _objects(list(map(made.__getitem__, ids)))

    def _cited_piece(self, citations, as_of) -> bytes:
        key = (citations, as_of)
        found = self._cited.get(key)
        if found is None:
            if len(self._cited) >= MAX_VALUES:
                self._cited.clear()
            ids = self.encoder.cited_ids(citations, as_of)
            found = self._cited[key] = b',"citations":' + self.json(ids) + b"}"
        return found


def _objects(items: list) -> np.ndarray:
    """A list as a one-dimensional object array (never split into a second dimension)."""
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out
