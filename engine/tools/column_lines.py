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
person, value or deciding list, not per result; values are numbered by dictionaries in C, a
column holding one value for all rows without a pass per row; deciding lists as the plan
composed them, :attr:`RuleOutputs.cite_groups`, else by identity). A kind's results are columns
of those numbers over its rows (0 where a row does not show the result); neighbouring numbered
columns are joined once per distinct combination, so that a person's row is a few pieces: a run
of heads, ends and repeated values, a money amount, another run, the reasons, a run (values
distinct per row, decimals and lists of texts, are pieces of their own: a decimal's digits, cut
from one text of the column's, its quotes joined with the runs around).
Each row's pieces are laid out at the row's place in the case order, between each case's head
and tail, and each case's slice is joined. The bytes are those
:meth:`RecordEncoder.record_line` writes for the same results, which the tests check case by
case (``tests/tools/test_column_lines.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, Inexact, Rounded, getcontext
from itertools import chain, compress, repeat
from operator import attrgetter, is_, is_not

import numpy as np
import orjson

from ..runtime.columnar import ColumnarOutputs, result_json
from ..runtime.columnar_arrays import objects
from ..runtime.results import cents

#: Values remembered per cache (value JSON per type, deciding lists per date) before it starts
#: again: the money amounts of a caseload are different in nearly every household.
MAX_VALUES = 20_000

#: Classes whose values, when a whole column holds only that class (and None), key their JSON by
#: themselves: two equal values of one of these classes have the same JSON. Decimals (money
#: amounts differ in nearly every household; ``Decimal("1.0") == Decimal("1")`` is written
#: differently) are written from their digits, each one; so is a list of texts (the reasons a
#: person is not eligible differ from one household to the next, and hashing them cost more
#: than writing them).
_BY_ITSELF = frozenset({str, int, bool, dt.date})

_NONE = type(None)

_ID = attrgetter("id")
_PARENT = attrgetter("parent")

#: The end of a result without citations (after nothing, the number 0).
_NO_CITATIONS = np.array([b"", b"}"], dtype=object)

#: Before and after each decimal's digits: nothing, then a quote.
_QUOTES = (np.array([b"", b'"'], dtype=object), np.array([b"", b'"'], dtype=object))

#: The pieces of a case's line before its results (:meth:`ColumnLines._case_heads`).
_HEAD = 3

#: Nothing, then an empty list.
_EMPTY_LIST = np.array([b"", b"[]"], dtype=object)


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
        self._flags_json: dict = {}  # rule type -> nothing, then the JSON of False and True

    def lines(self, outputs: ColumnarOutputs) -> list:
        """Per case of ``outputs``: its line (bytes, no newline), or None for a case the plan
        gives to the per-case evaluator (``outputs.failed``)."""
        positions, starts = outputs.places([i for i, kind in enumerate(outputs.kinds)
                                            if kind.rules])
        cases = len(outputs.cases)
        count = int(starts[-1])
        case_at = np.repeat(np.arange(cases), np.diff(starts))   # per place: its case
        made: dict = {}            # id(deciding list) -> its piece, for this chunk
        blocks = []                # per kind with outputs: (its places, its pieces, filled)
        widths = np.zeros(count, dtype=np.intp)
        for kind, places in zip(outputs.kinds, positions):
            if kind.rules:
                pieces, filled = self._kind_pieces(kind, outputs.as_of, made)
                widths[places] = pieces.shape[1]
                blocks.append((places, pieces, filled))
        before = np.zeros(count + 1, dtype=np.intp)     # slots of the places before each
        np.cumsum(widths, out=before[1:])
        # each case: its head (three pieces), its rows' pieces, its tail
        slots = _HEAD + 1
        number = np.arange(cases)
        heads = before[starts[:-1]] + slots * number
        tails = before[starts[1:]] + slots * number + _HEAD
        laid = np.empty(int(before[-1]) + slots * cases, dtype=object)
        filled = np.ones(len(laid), dtype=bool)
        for places, pieces, full in blocks:
            at = ((before[places] + slots * case_at[places] + _HEAD)[:, None] +
                  np.arange(pieces.shape[1])).reshape(-1)
            laid[at] = pieces.reshape(-1)
            filled[at] = full.reshape(-1)
        for place, piece in enumerate(self._case_heads(outputs)):
            laid[heads + place] = piece
        laid[tails] = b"]}"
        # only the pieces that hold something; a case's first result then follows its head,
        # and has no comma before it
        if not filled.all():
            kept = np.cumsum(filled) - 1
            laid = laid[filled]
            heads, tails = kept[heads], kept[tails]
        firsts = (heads + _HEAD)[heads + _HEAD < tails]
        laid[firsts] = [piece[1:] for piece in laid[firsts].tolist()]
        # each case's slice joined, in C (no Python step per case)
        lines = list(map(b"".join, map(laid.tolist().__getitem__,
                                       map(slice, heads.tolist(), (tails + 1).tolist()))))
        for case in compress(range(cases), outputs.failed):
            lines[case] = None
        return lines

    def _case_heads(self, outputs: ColumnarOutputs) -> tuple:
        """The three pieces of each case's head, ``{"case_id":I,"as_of":"D","results":[``,
        each one piece for every case or a list of one per case: the ids' JSON cut from one
        JSON of them all where every id is a text (between two texts, ``","`` is only ever
        where one ends and the next begins: a quote inside a text is written ``\\"``), else
        one by one."""
        ids = [case.case_id for case in outputs.cases]
        dated = b',"as_of":"' + outputs.as_of.isoformat().encode() + b'","results":['
        if ids and set(map(type, ids)) == {str}:
            return b'{"case_id":"', orjson.dumps(ids)[2:-2].split(b'","'), b'"' + dated
        return b'{"case_id":', list(map(self.json, ids)), dated

    def _kind_pieces(self, kind, as_of: dt.date, made: dict) -> tuple[np.ndarray, np.ndarray]:
        """A kind's results as pieces per row (a two-dimensional object array, the row's
        results in order when joined), and whether each piece holds anything.

        Each result is four parts: its head (per rule and person), its value, its entity's
        label (a kind without ids) and its end (per deciding list). Each part is a column of
        numbers over the rows (0: the row does not show that result) into its distinct
        pieces, except a value column made per row (decimals, lists). Neighbouring numbered
        columns are joined into one piece per distinct combination (:func:`_combined`), so a
        row is a few pieces: a run of heads, ends and repeated values, a money amount, a run,
        the reasons, a run."""
        entities = kind.entities
        n = len(entities)
        people, who = self._people_of(entities)
        who += 1                   # the number of each row's head among nothing, then people
        labels = self._labels_of(entities)
        columns = []               # (numbers per row, or one number for every row, distinct
        #                            pieces), or (None, (pieces per row, whether each holds
        #                            one)) for a value made per row
        for out in kind.rules:
            rows, values, cites, groups = out.rows, out.values, out.cites, out.cite_groups
            listed = values.tolist()
            classes = None
            same = False               # known to be the very same object on every row
            if not self.nulls and values.dtype == object and listed:
                first = listed[0]
                if first is None:
                    if listed.count(None) == len(listed):
                        continue       # the rule applies to none of these rows
                elif all(map(is_, listed, repeat(first))):
                    same = True
                    classes = {first.__class__}
                if classes is None:
                    classes = set(map(type, listed))
                if _NONE in classes:
                    keep = np.fromiter(map(is_not, listed, repeat(None)), dtype=bool,
                                       count=len(listed))
                    rows, cites = rows[keep], cites[keep]
                    if groups is not None:
                        groups = (groups[0][keep], groups[1])
                    listed = list(compress(listed, keep.tolist()))
                    classes.discard(_NONE)
            if not listed:
                continue
            every = len(rows) == n     # shown on every row (rows ascending, each once)
            columns.append((who if every else _placed(n, rows, who[rows]),
                            self._heads(out.rule.name, people)))
            shown, numbers, around = self._values_of(out.rule, values, listed, classes, same)
            if numbers is None:        # a piece per row: not joined with its neighbours
                if around is not None:
                    columns.append((1 if every else _placed(n, rows, 1), around[0]))
                column = np.empty(n, dtype=object)
                column.fill(b"")
                column[rows] = objects(shown)
                columns.append((None, (column, _placed(n, rows, True))))
                if around is not None:
                    columns.append((1 if every else _placed(n, rows, 1), around[1]))
            else:
                columns.append((numbers if every else _placed(n, rows, numbers), shown))
            if labels is not None:
                columns.append((labels[0] if every else _placed(n, rows, labels[0][rows]),
                                labels[1]))
            shown, numbers = self._cited_of(cites, groups, as_of, made)
            columns.append((numbers if every else _placed(n, rows, numbers), shown))
        pieces, filled = [], []
        run: list = []
        for numbers, shown in columns + [(None, None)]:
            if numbers is not None:
                run.append((numbers, shown))
                continue
            if run:
                joined, full = _combined(run, n)
                pieces.append(joined)
                filled.append(full)
                run = []
            if shown is not None:
                pieces.append(shown[0])
                filled.append(shown[1])
        if not pieces:
            return np.empty((n, 0), dtype=object), np.zeros((n, 0), dtype=bool)
        return np.stack(pieces, axis=1), np.stack(filled, axis=1)

    # -- pieces ----------------------------------------------------------------------------------
    def _heads(self, name: str, people: list) -> np.ndarray:
        """Nothing, then per person of ``people`` (their pieces): ``,{"name":N,"person":P,
        "value":``."""
        found = self._names.get(name)
        if found is None:
            found = self._names[name] = b',{"name":' + self.json(name) + b',"person":'
        return objects([b""] + [found + person for person in people])

    def _people_of(self, entities) -> tuple[list, np.ndarray]:
        """The distinct ``P,"value":`` pieces of the entities' persons
        (:meth:`Entity.person_id`), and per row the number of its own."""
        persons = list(map(_ID, entities))        # the entity's own, where it has one
        # else the id of one above it, for an entity without an id below another (a root
        # without one has none)
        if None in persons and any(map(is_not, map(_PARENT, entities), repeat(None))):
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
        """Per row, the number of its ``,"entity":L`` (an entity without an id below the case,
        such as an income; 0, nothing, for others), and the pieces so numbered; None for a
        kind none of whose entities has one."""
        kind = entities[0].kind
        if kind.id_fact is not None or all(map(is_, map(_PARENT, entities), repeat(None))):
            return None
        labels = self._labels
        numbers: dict = {b"": 0}   # label piece -> its number
        out = []
        for entity in entities:
            if entity.parent is None:
                out.append(0)
                continue
            label = entity.label()
            found = labels.get(label)
            if found is None:
                if len(labels) >= MAX_VALUES:
                    labels.clear()
                found = labels[label] = b',"entity":' + self.json(label)
            place = numbers.get(found)
            if place is None:
                place = numbers[found] = len(numbers)
            out.append(place)
        if len(numbers) == 1:
            return None
        return np.asarray(out, dtype=np.intp), objects(list(numbers))

    def _values_of(self, rule, values: np.ndarray, listed: list, classes: set | None,
                   same: bool = False) -> tuple:
        """The JSON of a rule's values (``listed``, from the column ``values``; ``classes``:
        their classes, if known; ``same``: known to be one object) as ``(pieces, numbers,
        around)``: either nothing then the distinct pieces, and per value the number of its
        own (one number for all when they are one value); or each value's piece and None.
        Each is made once per distinct typed value where the column holds one class whose
        equal values have equal JSON (a yes/no column, a ``bool`` array, numbered by itself);
        decimals (straight from their digits), lists of texts and any other column per value.
        ``around``, if not None, is what goes before and after every piece (the quotes of
        decimals: joined with their neighbours, not per row), as numbered pieces (nothing,
        then the one)."""
        if values.dtype == bool and len(values) == len(listed):
            return self._flags(rule), values.astype(np.intp) + 1, None
        if classes is None:
            classes = set(map(type, listed))
        nulls = _NONE in classes
        if nulls:
            classes = classes - {_NONE}
        one = next(iter(classes)) if len(classes) == 1 else None
        if not classes:
            cls = _NONE
        elif one in _BY_ITSELF:
            cls = one
        elif one is Decimal:
            digits = None if nulls else _digits(listed, rule.type == "money")
            if digits is not None:
                return digits, None, _QUOTES
            if all(map(Decimal.is_finite, filter(None, listed))):
                return _decimals(listed, rule.type == "money", nulls), None, None
            return self._each(rule, listed), None, None
        elif one is list and not nulls and not any(listed):    # all empty
            return _EMPTY_LIST, 1, None
        elif one is list and _texts(filter(None, listed) if nulls else listed):
            return list(map(orjson.dumps, listed)), None, None  # None: null, as orjson writes
        else:
            return self._each(rule, listed), None, None
        if same or all(map(is_, listed, repeat(listed[0]))):       # one value for all
            return self._keyed(rule, cls, (listed[0],)), 1, None
        return (*self._keyed(rule, cls, dict.fromkeys(listed), listed), None)

    def _each(self, rule, listed: list) -> list:
        """Each value's JSON, made by :func:`result_json` (any class, any mix)."""
        json = self.json
        return [json(result_json(rule, value)) for value in listed]

    def _keyed(self, rule, cls, distinct, listed=None):
        """Nothing, then the JSON of the ``distinct`` values of one class (their own keys), made
        once per rule type and value; and per value of ``listed`` the number of its own."""
        cache = self._values.get((rule.type, cls))
        if cache is None:
            cache = self._values[(rule.type, cls)] = {}
        missing = [key for key in distinct if key not in cache]
        if missing:
            if len(cache) + len(missing) > MAX_VALUES:
                cache.clear()
                missing = distinct
            json = self.json
            for key in missing:
                cache[key] = json(result_json(rule, key))
        pieces = objects([b""] + list(map(cache.__getitem__, distinct)))
        if listed is None:
            return pieces
        number = dict(zip(distinct, range(1, len(distinct) + 1)))
        return pieces, np.fromiter(map(number.__getitem__, listed), dtype=np.intp,
                                   count=len(listed))

    def _flags(self, rule) -> np.ndarray:
        """Nothing, then the JSON of a rule's ``False`` and ``True``."""
        found = self._flags_json.get(rule.type)
        if found is None:
            found = self._flags_json[rule.type] = objects(
                [b"", self.json(result_json(rule, False)), self.json(result_json(rule, True))])
        return found

    def _cited_of(self, cites: np.ndarray, groups, as_of: dt.date, made: dict) -> tuple:
        """Nothing, then ``,"citations":[ids]}`` for each distinct deciding list of the results
        on the date (``}`` alone without citations), and per result the number of its own:
        made once per list object of the chunk (``made``, by identity: the chunk holds them
        all) and once per list and date across chunks. The lists are numbered as the plan
        composed them (``groups``: :attr:`RuleOutputs.cite_groups`), else by their identity
        row by row."""
        if not self.citing:
            return _NO_CITATIONS, 1
        if groups is not None:
            numbers, lists = groups
            lists = lists.tolist()
            lists[0] = None
            if len(lists) == 2 and numbers.all():     # one deciding list for all
                numbers = 1
        else:
            listed = cites.tolist()
            if all(map(is_, listed, repeat(listed[0]))):   # one deciding list for all
                lists, numbers = [None, listed[0]], 1
            else:
                ids = np.fromiter(map(id, listed), dtype=np.intp, count=len(listed))
                _, first, numbers = np.unique(ids, return_index=True, return_inverse=True)
                lists = [None] + list(map(listed.__getitem__, first.tolist()))
                numbers = numbers.reshape(-1) + 1
        pieces = [b""]
        for citations in lists[1:]:
            if citations is None:              # not told: the case is not written from here
                pieces.append(b"")
                continue
            key = id(citations)
            found = made.get(key)
            if found is None:
                found = made[key] = self._cited_piece(citations, as_of)
            pieces.append(found)
        return objects(pieces), numbers

    def _cited_piece(self, citations, as_of) -> bytes:
        key = (citations, as_of)
        found = self._cited.get(key)
        if found is None:
            if len(self._cited) >= MAX_VALUES:
                self._cited.clear()
            found = self._cited[key] = self.encoder.citations_piece(citations, as_of)
        return found


def _placed(n: int, rows: np.ndarray, numbers) -> np.ndarray:
    """``numbers`` at ``rows`` of ``n`` (0, or False, elsewhere)."""
    out = np.zeros(n, dtype=bool if numbers is True else np.intp)
    out[rows] = numbers
    return out


def _combined(run: list, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``n``, the concatenation of the pieces of numbered columns (``run``: per
    column, each row's number, or one number for every row, and the pieces numbered, 0
    nothing), made once per distinct combination (the heads, ends and repeated values of
    neighbouring results repeat few); and whether it holds anything. Only the distinct arrays
    of numbers are combined (the heads of every rule shown on every row share one, the person's;
    a column with one number for all adds the same piece to every combination)."""
    arrays: list = []              # the distinct arrays of numbers, and a bound on each
    for numbers, pieces in run:
        if numbers.__class__ is not int:
            for place, (known, _) in enumerate(arrays):
                if known is numbers:
                    arrays[place] = (known, max(arrays[place][1], len(pieces)))
                    break
            else:
                arrays.append((numbers, len(pieces)))
    if not arrays:                 # the same on every row
        piece = b"".join(pieces[numbers] for numbers, pieces in run)
        out = np.empty(n, dtype=object)
        out.fill(piece)
        return out, np.full(n, bool(piece))
    combined, size = arrays[0]
    for numbers, bound in arrays[1:]:
        if size * bound >= _LARGEST:             # renumbered densely before it overflows
            combined, size = _distinct(combined, size)[2], len(combined)
        combined = combined * bound + numbers
        size *= bound
    if len(arrays) == 1 and len(run) == 1:
        pieces = run[0][1]
        return pieces[combined], combined != 0
    distinct, at, inverse = _distinct(combined, size)
    made = list(map(b"".join, zip(*(repeat(pieces[numbers]) if numbers.__class__ is int
                                     else pieces[numbers[at]].tolist()
                                     for numbers, pieces in run))))
    return (objects(made)[inverse],
            np.fromiter(map(len, made), dtype=bool, count=len(made))[inverse])


#: A decimal written with one, or more than two, digits after the point (a money amount that
#: :func:`cents` may write otherwise).
_UNCENTED = re.compile(rb'\.(?:\d|\d{3,})"')
_ONE_DIGIT = re.compile(rb'\.(\d)"')
_ZEROS_AFTER = re.compile(rb'\.(\d\d)0+"')

#: The same, each decimal on a line of its own, without quotes (:func:`_digits`).
_UNCENTED_LINE = re.compile(rb'\.(?:\d|\d{3,})\n')
_ONE_DIGIT_LINE = re.compile(rb'\.(\d)\n')
_ZEROS_AFTER_LINE = re.compile(rb'\.(\d\d)0+\n')

#: Combined numbers stay below this (int64).
_LARGEST = 1 << 62


def _distinct(numbers: np.ndarray, size: int) -> tuple:
    """The distinct ``numbers`` (all below ``size``), ascending; a place where each is (any:
    the caller reads the pieces there, the same wherever the number is); and per number the
    place of its own among them. By a table of ``size`` where that is small (no sort), else
    :func:`numpy.unique`."""
    n = len(numbers)
    if size <= 4 * n + 64:
        at = np.full(size, n, dtype=np.intp)
        at[numbers] = np.arange(n)          # a number written more than once: one of them
        present = at < n
        distinct = np.flatnonzero(present)
        rank = np.cumsum(present) - 1
        return distinct, at[distinct], rank[numbers]
    distinct, at, inverse = np.unique(numbers, return_index=True, return_inverse=True)
    return distinct, at, inverse.reshape(-1)


def _decimals(listed: list, money: bool, nulls: bool) -> list:
    """The JSON of finite decimals (and None, if ``nulls``), the bytes :func:`result_json` then
    orjson give: the exact digits, no exponent; a money amount to the cent (:func:`cents`),
    which changes only an amount with one digit after the point (``405.0``: ``405.00``) or
    more than two with only zeros after the second (``1305.000``: ``1305.00``), made so on
    the text where the decimal context holds the amount to the cent without a trap (else
    :func:`cents` itself, which raises as it does per result)."""
    texts = ["null" if value is None else f'"{value:f}"' for value in listed] if nulls \
        else [f'"{value:f}"' for value in listed]
    if not money:
        return list(map(str.encode, texts))
    whole = "\n".join(texts).encode()
    if _UNCENTED.search(whole):
        context = getcontext()
        if max(map(len, texts)) > context.prec or context.traps[Rounded] or \
                context.traps[Inexact]:
            return [b"null" if value is None else b'"%s"' % f"{cents(value):f}".encode()
                    for value in listed]
        whole = _ONE_DIGIT.sub(rb'.\g<1>0"', _ZEROS_AFTER.sub(rb'.\1"', whole))
    return whole.split(b"\n")


def _digits(listed: list, money: bool) -> list | None:
    """The digits of decimals as :func:`_decimals` writes them, without the quotes (the
    caller joins those with the pieces around), from one text of all of them (``str``, in C,
    not a format per value); None where that text is not the plain digits :func:`_decimals`
    would write (an exponent, an infinity or not a number) or where a money amount would have
    to be set to the cent by :func:`cents` itself: :func:`_decimals` writes those."""
    whole = "\n".join(map(str, listed)).encode() + b"\n"
    if whole.translate(None, b"0123456789.-\n"):
        return None
    if money and _UNCENTED_LINE.search(whole):
        context = getcontext()
        pieces = whole.split(b"\n")
        if max(map(len, pieces)) + 2 > context.prec or context.traps[Rounded] or \
                context.traps[Inexact]:
            return None
        whole = _ONE_DIGIT_LINE.sub(rb".\g<1>0\n", _ZEROS_AFTER_LINE.sub(rb".\1\n", whole))
    return whole[:-1].split(b"\n")


def _texts(lists) -> bool:
    """Whether every element of every list is a text, of the class ``str`` itself
    (orjson writes it as :func:`result_json` gives it)."""
    return set(map(type, chain.from_iterable(lists))) <= {str}
