"""Array helpers of the columnar plan (:mod:`engine.runtime.columnar`): NumPy arrays of rows.

The plan keeps, per row of an entity kind, a value, whether the row is bad, a citation mask and
what decided the value. Here they are arrays, so that selecting the rows that evaluate a node,
putting sub-results back, and-ing masks of rows and reducing members per owner are single NumPy
operations instead of Python loops over rows:

* **Values** stay Python objects (exact ``Decimal``, ``int``, ``bool``, ``str``, dates, lists)
  in one-dimensional ``object`` arrays, except yes/no columns, which are ``bool`` arrays
  (:func:`flags`). Operators are applied with the per-case evaluator's own functions through
  :func:`numpy.frompyfunc` (the loop over elements runs in C, each element still goes through
  the same Python function), or, where that function reduces to Python's own operation for
  the values a column holds, with that operation (:func:`numbers`, :func:`texts_joined`,
  :func:`texts_chained`, :func:`memberships`), or once per distinct typed tuple of arguments
  for pure functions (:func:`apply_distinct`), so every value is the per-case value, exponent
  included.
* **Badness** is a ``bool`` array.
* **Citation masks and deciding reads** are integer ids into a per-batch table
  (:class:`Interned`): a row holds the id of its mask (a Python int bit mask) or of its tuple of
  deciding reads. Joining two columns (``a | b`` of masks, ``a + b`` of reads) computes the join
  once per *distinct pair of ids* found and maps it back to the rows, instead of once per row.
  The ids of a column are few and close, so the distinct pairs (and the distinct rows of
  several columns, :func:`group`, :meth:`Interned.join_all`) are found by marking a small table
  over the ranges of the ids, without sorting (:func:`_in_ranges`); ``numpy.unique`` only when
  the ranges are wide.
* **Small arrays, fixed costs.** A chunk's arrays are short (hundreds to a few thousand rows),
  so a NumPy call's fixed cost (about a microsecond) matters as much as its work: the plan asks
  ``numpy.count_nonzero`` rather than ``any()``, ``nonzero()`` rather than ``flatnonzero``,
  skips a join whose joined column holds no id (:meth:`Interned.join_at`), and compares object
  columns with NumPy's comparisons (:func:`comparisons`) rather than a Python call per row.
  Most id columns hold no id at all (a fact, a constant, every mask of a run that keeps no
  read-sets, every deciding read of a run that follows none): those share one read-only array
  of zeros per length (:func:`zero_ids`), made once instead of once per column and known as
  empty without counting (:func:`no_ids`); a table the batch does not follow
  (``Interned(..., kept=False)``) joins nothing at all.
"""

from __future__ import annotations

import datetime as dt
import operator
from decimal import Decimal
from itertools import repeat

import numpy as np

#: An id that means "not known" (a row whose deciding reads the plan cannot tell).
UNKNOWN = -1

_IS = np.frompyfunc(operator.is_, 2, 1)
_EMPTY_ROWS = np.zeros(0, dtype=np.intp)

#: The zeros every :func:`zero_ids` array is a view of (replaced by a longer one when a longer
#: array is asked for: the views of the old one stay zeros, only no longer known as such).
_ZERO_BASE = np.zeros(0, dtype=np.int64)
_ZERO_IDS: dict = {}
#: At most this many lengths are kept (a batch asks for a few hundred).
_ZERO_LENGTHS = 1024


def zero_ids(n: int) -> np.ndarray:
    """``n`` empty ids (0) as a read-only array shared by every column of that length: most
    columns' masks and deciding reads hold no id, and one array each cost a ``numpy.zeros``
    per column node. Read-only, so that a join meant to be in place can never write into it
    (it raises); a column that accumulates ids makes its own zeros."""
    global _ZERO_BASE
    found = _ZERO_IDS.get(n)
    if found is None:
        if n > len(_ZERO_BASE):
            _ZERO_BASE = np.zeros(max(n, 2 * len(_ZERO_BASE), 4096), dtype=np.int64)
            _ZERO_BASE.setflags(write=False)
            _ZERO_IDS.clear()
        elif len(_ZERO_IDS) >= _ZERO_LENGTHS:
            _ZERO_IDS.clear()
        found = _ZERO_IDS[n] = _ZERO_BASE[:n]
    return found


def ids_at(ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``ids`` at ``rows``; the shared zeros (:func:`zero_ids`) of that length, with no
    gather, when ``ids`` is shared zeros itself."""
    return zero_ids(len(rows)) if ids.base is _ZERO_BASE else ids[rows]


def no_ids(ids: np.ndarray) -> bool:
    """Whether a column of ids holds only the empty id 0: at once for a :func:`zero_ids`
    array (a view of the shared zeros), else counted."""
    return ids.base is _ZERO_BASE or not np.count_nonzero(ids)


def no_rows() -> np.ndarray:
    return _EMPTY_ROWS


def rows_where(mask: np.ndarray) -> np.ndarray:
    """The positions where a one-dimensional ``bool`` array is set: ``numpy.flatnonzero``
    without its reshaping, which costs more than the search on the short arrays of a chunk.
    (Likewise the plan asks ``numpy.count_nonzero`` rather than ``any()``, which goes through a
    generic reduction.)"""
    return mask.nonzero()[0]


def objects(items, n: int | None = None) -> np.ndarray:
    """A one-dimensional object array of ``items`` as they are (a list stays one element)."""
    if n is None:
        n = len(items)
    return np.fromiter(items, dtype=object, count=n)


def full(n: int, value) -> np.ndarray:
    """``n`` times the same Python object."""
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


def flags(values: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """``values`` as a ``bool`` array when every row not bad holds Python's ``True`` or
    ``False`` itself (a bad row's value is never read: it is ``False`` there), else ``values``
    unchanged. A yes/no column typed so is read by conditions, ``and``/``or``, ``not`` and
    ``any``/``all`` without a Python call per row, and gives back the same ``True``/``False``
    wherever it is written into an object array, listed (``tolist``) or passed to a function
    (NumPy hands a ``bool`` element over as Python's ``bool``)."""
    if values.dtype == bool:
        return values
    if np.count_nonzero(bad):
        good = ~bad
        kept = values[good]
        if not len(kept) or set(map(type, kept.tolist())) != {bool}:
            return values
        out = np.zeros(len(values), dtype=bool)
        out[good] = kept.astype(bool)
        return out
    if not len(values) or set(map(type, values.tolist())) != {bool}:
        return values
    return values.astype(bool)


def as_objects(values: np.ndarray) -> np.ndarray:
    """``values`` as an ``object`` array (a ``bool`` array's elements become Python's
    ``True``/``False``), so that other values can be written into it."""
    return values if values.dtype == object else values.astype(object)


def strict_bools(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: whether the value is ``True`` itself, and whether it is ``False`` itself (a
    condition must be a yes/no value: 1 or ``Decimal(1)`` is neither)."""
    if values.dtype == bool:
        return values, ~values
    return _IS(values, True).astype(bool), _IS(values, False).astype(bool)


def truth(values: np.ndarray) -> np.ndarray:
    """Per row, Python's truth of the value (``bool(v)``)."""
    return values.astype(bool)


_UFUNCS: dict = {}


def ufunc(fn, arity: int):
    """``fn`` as an object ufunc (cached per function and arity)."""
    key = (fn, arity)
    found = _UFUNCS.get(key)
    if found is None:
        found = _UFUNCS[key] = np.frompyfunc(fn, arity, 1)
    return found


def apply(fn, columns: list, bad: np.ndarray, failures,
          cache: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``fn`` element by element over the rows that are not bad; a row where it raises one of
    ``failures`` is bad. The common case (no failure) is one ufunc call (``cache``: keep the
    ufunc for the next call with the same function)."""
    n = len(bad)
    bad = bad.copy()
    if not columns:
        values = np.empty(n, dtype=object)
        for i in rows_where(~bad).tolist():
            try:
                values[i] = fn()
            except failures:
                bad[i] = True
        return values, bad
    any_bad = np.count_nonzero(bad) != 0
    good = rows_where(~bad) if any_bad else None
    args = [c[good] for c in columns] if any_bad else columns
    try:
        made = ufunc(fn, len(columns)) if cache else np.frompyfunc(fn, len(columns), 1)
        computed = made(*args)
    except failures:
        computed = None
    if computed is not None:
        if not any_bad:
            return computed, bad
        values = np.empty(n, dtype=object)
        values[good] = computed
        return values, bad
    values = np.empty(n, dtype=object)
    rows = good.tolist() if any_bad else range(n)
    lists = [c.tolist() for c in columns]
    for i in rows:
        try:
            values[i] = fn(*[column[i] for column in lists])
        except failures:
            bad[i] = True
    return values, bad


def apply_distinct(fn, columns: list, bad: np.ndarray, failures):
    """:func:`apply` of a pure function, called once per distinct typed tuple of arguments
    (:func:`distinct`) and its result given to every row with that tuple: equal arguments of
    the same type and written exponent give the same result, or fail alike. For functions
    that cost more than keying their arguments (formatting text and money, rounding, division).
    None when an argument cannot be a key or a result is a list (each row then gets its own
    list, as per case): the caller applies ``fn`` row by row instead."""
    good = rows_where(~bad)
    found = distinct(columns, good)
    if found is None:
        return None
    firsts, codes = found
    rows = good[firsts]
    made, ok = [], []
    for arguments in zip(*[c[rows].tolist() for c in columns]) if columns else [()] * len(rows):
        try:
            made.append(fn(*arguments))
            ok.append(True)
        except failures:
            made.append(None)
            ok.append(False)
    if list in set(map(type, made)):
        return None
    values = np.empty(len(bad), dtype=object)
    bad = bad.copy()
    if len(rows):
        failed = ~np.asarray(ok, dtype=bool)[codes]
        bad[good[failed]] = True
        values[good] = objects(made)[codes]
    return values, bad


class Memo:
    """Results of one pure function kept for a whole batch, by typed tuple of arguments (the
    key :func:`distinct` groups rows by: ``True`` is not ``1``, ``Decimal("2.5")`` not
    ``Decimal("2.50")``). :func:`apply_distinct` calls a function once per distinct tuple of
    one call site's rows; a rule such as ``eligibility.why_not`` calls ``money`` or a rulebook
    function with the same arguments at many sites (``money(magi.household_income)`` in a
    dozen table rows), and the memo computes each tuple once for all of them. A call that
    fails, or whose arguments cannot be a key, is not kept (it is made again, and fails
    alike); nor is a list (each caller gets its own)."""

    __slots__ = ("fn", "found", "seen", "failing")

    def __init__(self, fn, found: dict | None = None):
        self.fn = fn
        # by typed key; ``found`` may be kept beyond the batch (a date-free built-in's results)
        self.found: dict = {} if found is None else found
        self.seen: dict = {}              # id of an argument -> (it, its result or _FAILED)
        self.failing = False              # whether ``seen`` holds a failure

    def column(self, values: np.ndarray, bad: np.ndarray, failures):
        """The function of one argument on the rows not bad (as :func:`apply_distinct`),
        found by the argument's *identity* first: the rows of a column mostly hold a few
        objects many times (a household's amount on each of its people, a function's result
        given to every row that has its arguments), and a pure function gives one object the
        same result every time, so each object costs one lookup of its ``id`` (kept with the
        object, so the ``id`` is not reused while the batch runs) instead of its typed key (the
        text of a ``Decimal``). An object not seen yet goes through the memo (:meth:`__call__`),
        which keys it by type and value. Only for values that never change (numbers, texts,
        yes/no, dates, nothing); None when a row holds another value or a result is a list
        (each row gets its own list, as per case): the caller then takes
        :func:`apply_distinct`."""
        good = _not_bad(bad)
        listed = _on(values, good).tolist()
        seen = self.seen
        get = seen.get
        out = []
        add = out.append
        for v in listed:
            entry = get(id(v))
            if entry is None:
                if v.__class__ not in _UNCHANGING:
                    return None
                try:
                    entry = (v, self(v))
                    if entry[1].__class__ is list:
                        return None
                except failures:
                    entry = (v, _FAILED)
                    self.failing = True
                seen[id(v)] = entry
            add(entry[1])
        bad = bad.copy()
        if self.failing:
            failed = [i for i, r in enumerate(out) if r is _FAILED]
            if failed:
                for i in failed:
                    out[i] = None
                bad[good[failed] if good is not None else failed] = True
        return _put_back(out, good, len(values)), bad

    def __call__(self, *arguments):
        try:
            if len(arguments) == 1:       # money(x), text(x): one pair, no list
                v = arguments[0]
                key = (v.__class__, str(v)) if v.__class__ is Decimal else (v.__class__, v)
            else:
                key = tuple([(v.__class__, str(v)) if v.__class__ is Decimal else
                             (v.__class__, v) for v in arguments])
            made = self.found.get(key, _MISSING)
        except TypeError:                 # an argument that cannot be a key (a list)
            return self.fn(*arguments)
        if made is _MISSING:
            made = self.fn(*arguments)
            if made.__class__ is not list:
                self.found[key] = made
        return made


_MISSING = object()
#: A call that failed (in :attr:`Memo.seen`: it fails alike every time).
_FAILED = object()
#: Classes whose values never change: an object of one of them always gives a pure function
#: the same result (:meth:`Memo.column`).
_UNCHANGING = frozenset({Decimal, int, str, bool, dt.date, type(None)})


def _not_bad(bad: np.ndarray):
    """The positions of the rows not bad, or None when no row is (the common case: no copies)."""
    return rows_where(~bad) if np.count_nonzero(bad) else None


def _on(column: np.ndarray, good) -> np.ndarray:
    """``column`` at the rows not bad (``good`` from :func:`_not_bad`)."""
    return column[good] if good is not None else column


def _put_back(made: list, good, n: int) -> np.ndarray:
    """``made`` (one value per row not bad) as a column of ``n`` rows, bad rows holding None."""
    if good is None:
        return objects(made)
    values = np.empty(n, dtype=object)
    values[good] = objects(made)
    return values


def numbers(op, a: np.ndarray, b: np.ndarray, bad: np.ndarray, bits: int | None = None):
    """``op`` (Python's own ``+``, ``-`` or ``*``) row by row where every row not bad holds an
    ``int`` or a ``Decimal`` on both sides (a yes/no is neither): what the language's operator
    computes for two numbers (the same Python operation in the same decimal context), without
    its checks per element, which pass for these. None when some row holds another value, a
    result is not a finite number, or an integer result is longer than ``bits`` (the language's
    bound on products): the exact path then decides (and words) those rows."""
    good = _not_bad(bad)
    left = _on(a, good).tolist()
    right = _on(b, good).tolist()
    if not left or not set(map(type, left)) | set(map(type, right)) <= _NUMBER_TYPES:
        return None
    try:
        made = list(map(op, left, right))
    except Exception:                     # noqa: BLE001 - the exact path words it
        return None
    kinds = set(map(type, made))
    if Decimal in kinds and not all(v.is_finite() for v in made if v.__class__ is Decimal):
        return None
    if bits is not None and int in kinds and \
            max(v.bit_length() for v in made if v.__class__ is int) > bits:
        return None
    return _put_back(made, good, len(a))


_NUMBER_TYPES = frozenset({int, Decimal})


def distinct(columns: list, rows: np.ndarray):
    """The distinct argument tuples of ``rows`` (positions into the columns), typed as the
    per-case call cache keys them (``True`` is not ``1``, ``Decimal("2.5")`` not
    ``Decimal("2.50")``): the position of the first row of each tuple, and per row the number of
    its tuple (in the order tuples first appear). None when an argument cannot be a key (a
    list): then every row is its own call.

    A pure function of its arguments (a rulebook function, a parameter's table) is then computed
    once per distinct tuple and its result given to every row that has it, which is what the
    per-case cache returns for each of them. Each column is numbered on its own
    (:func:`_column_codes`: its typed keys, or its integers as they are) and the rows of
    numbers grouped as arrays (:func:`group`), instead of a tuple of keys per row."""
    n = len(rows)
    if not columns:
        return np.zeros(min(n, 1), dtype=np.intp), np.zeros(n, dtype=np.intp)
    coded = []
    for column in columns:
        found = _column_codes(column[rows])
        if found is None:
            return None
        coded.append(found)
    if n == 0:
        return no_rows(), np.zeros(0, dtype=np.intp)
    if len(coded) == 1 and coded[0][1]:
        codes = coded[0][0]               # numbered in the order the keys first appear
        highest = np.maximum.accumulate(codes)
        return rows_where(np.r_[True, highest[1:] > highest[:-1]]), codes
    tuples, codes = group(*[codes for codes, _ in coded])
    # The first row of each tuple (of repeated places, NumPy keeps the last value written:
    # written backwards, that is the first), then the tuples renumbered in that order.
    first = np.empty(len(tuples), dtype=np.intp)
    first[codes[::-1]] = np.arange(n - 1, -1, -1)
    order = np.argsort(first)
    number = np.empty(len(tuples), dtype=np.intp)
    number[order] = np.arange(len(tuples))
    return first[order], number[codes]


def _column_codes(values: np.ndarray):
    """Per row, a non-negative integer equal exactly where the typed keys (:func:`_typed_keys`)
    are: a yes/no array's own 0 and 1, the integers themselves (less the smallest) when every
    value is an ``int``, else the number of the key in the order keys first appear (and then
    True beside it; equal values of one plain class, such as a constant text, are one key).
    None when a value cannot be a key."""
    if values.dtype == bool:
        return values.astype(np.intp), False
    listed = values.tolist()
    kinds = set(map(type, listed))
    if kinds == {int} and listed:
        try:
            numbers = np.asarray(listed, dtype=np.int64)
        except OverflowError:
            numbers = None
        if numbers is not None:
            low = int(numbers.min())
            return (numbers - low if low else numbers), False
    if len(kinds) == 1 and kinds <= _PLAIN_KEYS and listed.count(listed[0]) == len(listed):
        return np.zeros(len(listed), dtype=np.intp), True     # one value (a constant)
    if list in kinds:                     # no key: known before a key is made for every row
        return None
    keys = _typed_keys(listed, kinds)
    try:
        index = {key: number for number, key in enumerate(dict.fromkeys(keys))}
    except TypeError:
        return None
    return np.fromiter(map(index.__getitem__, keys), dtype=np.intp, count=len(keys)), True


#: Classes whose equal values are interchangeable (no exponent, no ``True == 1`` across them
#: once every value of a column has the one class): such a column keys by its values.
_PLAIN_KEYS = frozenset({int, str, bool, dt.date, type(None)})


def _typed_keys(values: list, kinds: set) -> list:
    """Per value, a key equal only for values of the same class and the same written form:
    the value itself when every value has one plain class, the text of each when every value
    is a ``Decimal``, else the pair (class, value or its text). ``kinds``: the classes of the
    values."""
    if len(kinds) == 1:
        (kind,) = kinds
        if kind is Decimal:
            return list(map(str, values))
        if kind in _PLAIN_KEYS:
            return values
    elif kinds <= _DISJOINT_KEYS and not (kinds >= _BOOL_INT or kinds >= _TEXT_DECIMAL):
        # Numbers and dates, say: values of different classes never equal here, so each
        # value keys as itself, a Decimal by its text (no pair per value).
        return [str(v) if v.__class__ is Decimal else v for v in values]
    return [(v.__class__, str(v)) if v.__class__ is Decimal else (v.__class__, v) for v in values]


#: Classes a mixed column may key by value (a Decimal by its text) unless it holds both of
#: ``True``/``1`` or of ``"2.5"``/``Decimal("2.5")``, whose keys would then be equal.
_DISJOINT_KEYS = _PLAIN_KEYS | {Decimal}
_BOOL_INT = frozenset({bool, int})
_TEXT_DECIMAL = frozenset({str, Decimal})


#: Python's comparison operators (the language's ``==``, ``!=``, ``<``...) and NumPy's
#: comparisons of object arrays, which call the same comparison per element in C.
_COMPARISONS = {operator.eq: np.equal, operator.ne: np.not_equal, operator.lt: np.less,
                operator.le: np.less_equal, operator.gt: np.greater,
                operator.ge: np.greater_equal}


def comparisons(op, a: np.ndarray, b: np.ndarray, bad: np.ndarray):
    """``op`` (one of Python's comparison operators) row by row on the rows not bad, as a
    ``bool`` array (bad rows ``False``): NumPy's comparison of object arrays calls the same
    rich comparison per element (no identity shortcut: ``Decimal("NaN")`` is not equal to
    itself) and takes the truth of its result, which for the values the language has
    (numbers, texts, yes/no, dates, lists, nothing) is the ``True``/``False`` the operator
    returns. None when ``op`` is not a comparison or some row raises (the exact path then marks
    the rows that fail bad)."""
    ufunc = _COMPARISONS.get(op)
    if ufunc is None:
        return None
    good = _not_bad(bad)
    try:
        made = ufunc(_on(a, good), _on(b, good))
    except Exception:                     # noqa: BLE001 - the exact path words it
        return None
    if made.dtype != bool:
        return None
    if good is None:
        return made
    out = np.zeros(len(a), dtype=bool)
    out[good] = made
    return out


#: What ``+`` joins: two texts or two lists.
_SEQUENCES = ({str}, {list})


def texts_joined(a: np.ndarray, b: np.ndarray, bad: np.ndarray, limit: int):
    """``a + b`` row by row where every row not bad holds text on both sides, or a list on both
    (what the language's ``+`` does for two texts or two lists, a new one each time, without
    its per-element checks), or None when some row does not, or a result would be longer than
    ``limit`` (the exact path then words it)."""
    good = _not_bad(bad)
    left = _on(a, good).tolist()
    right = _on(b, good).tolist()
    kinds = set(map(type, left))
    if not left or kinds != set(map(type, right)) or kinds not in _SEQUENCES:
        return None
    joined = list(map(operator.add, left, right))
    if max(map(len, joined)) > limit:
        return None
    return _put_back(joined, good, len(a))


def texts_chained(columns: list, bad: np.ndarray, limit: int, single=None):
    """``a + b + c ...`` (left to right) row by row where every row not bad holds text in every
    column: each row's texts joined once, instead of a new text per ``+`` copying all before
    it. The same text: the language's ``+`` of two texts is their concatenation, and its bound
    on each intermediate text holds for all of them exactly when it holds for the whole (texts
    only grow). Whether every value is a text is asked of the join itself, which refuses
    anything else (a text of a subclass of ``str`` joins as its text, which ``+`` gives too).
    None when some row holds another value or the whole would be longer than
    ``limit`` (the caller then adds pair by pair). ``single``: per column, whether it is known
    to hold one object on every row (a constant): that one is checked and repeated, not listed."""
    good = _not_bad(bad)
    rows = len(good) if good is not None else len(bad)
    if not rows:
        return None
    lists = []
    for k, column in enumerate(columns):
        if single is not None and single[k]:
            text = column[0]
            if text.__class__ is not str:
                return None
            lists.append(repeat(text, rows))
            continue
        lists.append(_on(column, good).tolist())
    try:                                  # ``str.join`` takes texts only: any other value raises
        joined = list(map("".join, zip(*lists)))
    except TypeError:
        return None
    if max(map(len, joined)) > limit:
        return None
    return _put_back(joined, good, len(columns[0]))


def lists_chained(columns: list, bad: np.ndarray, limit: int):
    """``a + b + c ...`` (left to right) row by row where every row not bad holds a list in
    every column: each row's lists joined once into one new list, instead of a new list per
    ``+`` copying all before it. The same list: the language's ``+`` of two lists is a new list
    of the items of both, in order, and its bound holds for every intermediate list exactly
    when it holds for the whole. None when some row holds another value or the whole would be
    longer than ``limit`` (the caller then adds pair by pair)."""
    good = _not_bad(bad)
    if not (len(good) if good is not None else len(bad)):
        return None
    lists = []
    for column in columns:
        items = _on(column, good).tolist()
        if set(map(type, items)) != _LIST:
            return None
        lists.append(items)
    joined = list(map(list.copy, lists[0]))            # a new list per row, then extended
    extend = list.extend
    for items in lists[1:]:
        for _ in map(extend, joined, items):
            pass
    if max(map(len, joined)) > limit:
        return None
    return _put_back(joined, good, len(columns[0]))


_LIST = {list}


def memberships(a: np.ndarray, b: np.ndarray, bad: np.ndarray, negate: bool,
                single: bool = False):
    """``a in b`` (or ``not in``) on the rows not bad, as the language's ``in`` (Python's):
    where every row's ``b`` is one and the same list or tuple (a parameter's list), from a set
    of it (the same answer for the values the language has: their hash agrees with their
    ``==``); otherwise row by row in one comprehension. None when a row raises (the exact path
    then marks it bad). ``single``: ``b`` is known to hold one object on every row (a
    constant), so that is not checked row by row. A ``bool`` array (a yes/no column: ``in``
    gives ``True`` or ``False``; a bad row ``False``, never read)."""
    good = _not_bad(bad)
    left = _on(a, good).tolist()
    right = _on(b, good)
    if not len(right):
        return None
    shared = right[0]
    try:
        if isinstance(shared, (list, tuple)) and type(shared).__contains__ in _PLAIN_CONTAINS \
                and (single or all(map(operator.is_, right.tolist(), repeat(shared)))):
            members = set(shared)
            found = [x in members for x in left]
        else:
            found = [x in y for x, y in zip(left, right.tolist())]
    except TypeError:
        return None
    found = np.fromiter(found, dtype=bool, count=len(found))
    if negate:
        found = ~found
    if good is None:
        return found
    out = np.zeros(len(a), dtype=bool)
    out[good] = found
    return out


#: ``in`` as lists and tuples answer it (a subclass that answers otherwise is not taken).
_PLAIN_CONTAINS = (list.__contains__, tuple.__contains__)


def group(*keys: np.ndarray) -> tuple[list[tuple], np.ndarray]:
    """The distinct rows of the non-negative integer columns ``keys`` (as tuples of ints, in
    order) and, per row, the index of its tuple in that list: at once when every row holds the
    same tuple, by a table over the ranges of the keys when it is small (:func:`_in_ranges`),
    else by sorting."""
    n = len(keys[0])
    if n == 0:
        return [], np.zeros(0, dtype=np.intp)
    lows = [int(_lowest(k)) for k in keys]
    highs = [int(_highest(k)) for k in keys]
    if lows == highs:                     # one tuple on every row (often: a rule's reads)
        return [tuple(lows)], np.zeros(n, dtype=np.intp)
    found = _distinct_rows(keys, lows, highs)
    if found is not None:
        return found
    bits = 62 // len(keys)
    if all(high < (1 << bits) for high in highs):
        packed = keys[0].astype(np.int64)
        for k in keys[1:]:
            packed = (packed << bits) | k
        uniq, inverse = np.unique(packed, return_inverse=True)
        mask = (1 << bits) - 1
        out = []
        for p in uniq.tolist():
            parts = []
            for _ in keys:
                parts.append(p & mask)
                p >>= bits
            out.append(tuple(reversed(parts)))
        return out, inverse.reshape(-1)
    uniq, inverse = np.unique(np.stack(keys, axis=1), axis=0, return_inverse=True)
    return [tuple(row) for row in uniq.tolist()], inverse.reshape(-1)


#: The lowest and highest value of an integer array: the reductions themselves, without the
#: Python wrapper of ``ndarray.min``/``max`` (a fixed cost paid several times per join).
_lowest = np.minimum.reduce
_highest = np.maximum.reduce

#: Two ids packed into one integer (a pair of a join): the left one shifted by this many bits.
_PAIR_BITS = 31
_PAIR_MASK = (1 << _PAIR_BITS) - 1


#: A table of places (:func:`_in_ranges`) is used while it has at most this many entries per row
#: joined, plus a few: the ranges of ids are then short enough that marking a table is cheaper
#: than sorting the rows.
_DENSE_ROWS = 4
_DENSE_SLACK = 256


def _in_ranges(keys, lows: list[int], widths: list[int]) -> tuple[list[tuple], np.ndarray]:
    """The distinct rows of the integer columns ``keys`` (column ``k`` from ``lows[k]``,
    ``widths[k]`` values), in the order :func:`numpy.unique` gives them (by the first column,
    then the next...), and per row the index of its tuple: each row's place in the box of the
    ranges is marked in a table of that size, the marked places read back in order and
    numbered. No sort: for ranges whose box is not much larger than the rows."""
    places = None
    for key, low, width in zip(keys, lows, widths):
        term = key - low if low else key
        places = term if places is None else places * width + term
    size = 1
    for width in widths:
        size *= width
    seen = np.zeros(size, dtype=bool)
    seen[places] = True
    found = rows_where(seen)
    number = np.empty(size, dtype=np.intp)
    number[found] = np.arange(len(found))
    if len(widths) == 1:
        low = lows[0]
        out = [(place + low,) for place in found.tolist()]
    elif len(widths) == 2:
        (a_low, b_low), width = lows, widths[1]
        out = [(a_low + place // width, b_low + place % width) for place in found.tolist()]
    else:                                 # each column's value from the places, as arrays
        parts = []
        rest = found
        for width, low in zip(widths[:0:-1], lows[:0:-1]):
            rest, part = np.divmod(rest, width)
            parts.append((part + low).tolist())
        parts.append((rest + lows[0]).tolist())
        out = list(zip(*parts[::-1]))
    return out, number[places]


def _fits(widths: list[int], n: int) -> bool:
    """Whether a table over the box of these ranges is small enough for ``n`` rows."""
    size = 1
    for width in widths:
        size *= width
    return size <= _DENSE_ROWS * n + _DENSE_SLACK


def _distinct_rows(keys, lows: list[int], highs: list[int]):
    """:func:`_in_ranges` of integer columns with these lowest and highest values, or None when
    their box is too large for a table. A column whose range is wide but holds few distinct
    values is first renumbered (0, 1, 2... in order, through a table over its own range), so
    that the box is the product of the numbers of distinct values; the tuples are given back
    in the columns' own values, in the same order. A column that holds one value on every row
    (often: no branch, no failed condition, a join's side of one id) is left out of the table
    and put back into each tuple (ordering by it changes nothing)."""
    n = len(keys[0])
    widths = [high - low + 1 for low, high in zip(lows, highs)]
    if len(keys) > 1 and 1 in widths:
        varying = [k for k, width in enumerate(widths) if width > 1]
        if not varying:
            return [tuple(lows)], np.zeros(n, dtype=np.intp)
        found = _distinct_rows([keys[k] for k in varying], [lows[k] for k in varying],
                               [highs[k] for k in varying])
        if found is None:
            return None
        rows, inverse = found
        out = []
        for row in rows:
            full_row = list(lows)
            for k, value in zip(varying, row):
                full_row[k] = value
            out.append(tuple(full_row))
        return out, inverse
    if _fits(widths, n):
        return _in_ranges(keys, lows, widths)
    if max(widths) > _DENSE_ROWS * n + _DENSE_SLACK:
        return None
    coded, counts, values = [], [], []
    for key, low, width in zip(keys, lows, widths):
        seen = np.zeros(width, dtype=bool)
        places = key - low if low else key
        seen[places] = True
        present = rows_where(seen)
        if len(present) == width:
            coded.append(places)
            values.append(None)
        else:
            code = np.cumsum(seen, dtype=np.intp) - 1
            coded.append(code[places])
            values.append(present.tolist())
        counts.append(len(present))
    if not _fits(counts, n):
        return None
    found, inverse = _in_ranges(coded, [0] * len(keys), counts)
    columns = []
    for codes, low, listed in zip(zip(*found), lows, values):
        table = [low + value for value in listed] if listed is not None else None
        columns.append([table[c] for c in codes] if table is not None
                       else [low + c for c in codes])
    return list(zip(*columns)), inverse


class Interned:
    """Items (bit masks, tuples of reads, tuples of citations) numbered per batch: id 0 is the
    empty item; a row holds an id. :meth:`join` joins two columns of ids row by row, computing
    each distinct pair once.

    ``kept=False``: the batch does not follow this table (masks when no read-set is kept,
    deciding reads when no citation is wanted): no id of it is ever read, so every join gives
    the empty column (:func:`zero_ids`) without looking, and a join in place does nothing."""

    def __init__(self, empty, join=None, kept: bool = True):
        self.items = [empty]
        self.index = {empty: 0}
        self.joined: dict = {}
        self.join_items = join
        self.kept = kept

    def id(self, item) -> int:
        found = self.index.get(item)
        if found is None:
            found = self.index[item] = len(self.items)
            self.items.append(item)
        return found

    def join(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Per row, the id of ``a`` joined with ``b``; :data:`UNKNOWN` where either is.

        Each distinct pair of ids is joined once per batch (a pair with an empty side is the
        other side's id: nothing to join). The distinct pairs are found without sorting when
        the ids of each side span a short range (they do: a column's ids are few and close):
        each pair numbered by its place in the rectangle of the two ranges, marked in a table
        of that size and read back in order (:func:`_pairs_in_range`); otherwise by one
        ``numpy.unique`` over the pairs packed into one integer (ids stay far below 2**31 in a
        batch). Either gives the pairs in the same order (left id, then right id).
        The result may be ``a`` or ``b`` itself: never write into it."""
        if not self.kept:
            return zero_ids(len(a))
        if len(a) == 0 or no_ids(b):
            return a
        if no_ids(a):
            return b
        a_low, a_high = int(_lowest(a)), int(_highest(a))
        b_low, b_high = int(_lowest(b)), int(_highest(b))
        if a_low < 0 or b_low < 0:
            return self._join_with_unknown(a, b)
        if a_low == a_high and b_low == b_high:   # one pair on every row
            return np.full(len(a), self._joined(a_low, b_low), dtype=np.int64)
        found = _distinct_rows((a, b), [a_low, b_low], [a_high, b_high])
        if found is not None:
            pairs, inverse = found
        elif len(self.items) > _PAIR_MASK:      # too many ids to pack a pair: pair by pair
            pairs, inverse = group(a, b)
            return np.asarray([self._joined(x, y) for x, y in pairs], dtype=np.int64)[inverse]
        else:
            uniq, inverse = np.unique((a << _PAIR_BITS) | b, return_inverse=True)
            pairs, inverse = [divmod(p, 1 << _PAIR_BITS) for p in uniq.tolist()], \
                inverse.reshape(-1)
        joined, items, join = self.joined, self.items, self.join_items
        ids = []
        for left, right in pairs:
            if left == 0 or right == 0:
                ids.append(left or right)
                continue
            key = (left << _PAIR_BITS) | right
            found = joined.get(key)
            if found is None:
                found = joined[key] = self.id(join(items[left], items[right]))
            ids.append(found)
        return np.asarray(ids, dtype=np.int64)[inverse]

    def join_at(self, acc: np.ndarray, rows: np.ndarray, ids: np.ndarray) -> None:
        """``acc`` at ``rows`` joined with ``ids`` (one per row), in place: nothing done where
        ``ids`` holds no id at all (often: nothing read that cites), so no gather, no scatter,
        nor for a table the batch does not follow."""
        if self.kept and not no_ids(ids):
            acc[rows] = self.join(acc[rows], ids)

    def _joined(self, left: int, right: int) -> int:
        """The id of two ids joined (either may be the empty id), joined once per batch."""
        if left == 0 or right == 0:
            return left or right
        key = (left << _PAIR_BITS) | right if right <= _PAIR_MASK else (left, right)
        found = self.joined.get(key)
        if found is None:
            found = self.joined[key] = self.id(self.join_items(self.items[left], self.items[right]))
        return found

    def _join_with_unknown(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """:meth:`join` where some row is :data:`UNKNOWN` on either side: unknown there."""
        unknown = (a < 0) | (b < 0)
        out = self.join(np.where(unknown, 0, a), np.where(unknown, 0, b))
        out = out.copy() if out is a or out is b else out
        out[unknown] = UNKNOWN
        return out

    def join_all(self, columns: list) -> np.ndarray:
        """Per row, the ids of ``columns`` joined left to right (as :meth:`join` pair by pair):
        columns with no id left out, then each distinct row of ids found at once
        (:func:`_distinct_rows`) and joined in order, instead of one pass per column. The
        result may be one of ``columns`` itself: never write into it."""
        if not self.kept:
            return zero_ids(len(columns[0]))
        live = [column for column in columns if not no_ids(column)]
        if len(live) < 3:
            return live[0] if len(live) == 1 else self.join(*live) if live else columns[0]
        lows = [int(_lowest(column)) for column in live]
        found = None
        if min(lows) >= 0:
            found = _distinct_rows(live, lows, [int(_highest(column)) for column in live])
        if found is None:
            out = live[0]
            for column in live[1:]:
                out = self.join(out, column)
            return out
        rows, inverse = found
        joined = self._joined
        ids = []
        for row in rows:
            out = row[0]
            for right in row[1:]:
                out = joined(out, right)
            ids.append(out)
        return np.asarray(ids, dtype=np.int64)[inverse]

    def fold(self, acc: np.ndarray, positions: np.ndarray, ranks: np.ndarray,
             ids: np.ndarray) -> np.ndarray:
        """``acc`` (one id per owner row) joined, in order, with the ids of its members
        (``positions``: each member's owner row; ``ranks``: its place among its owner's).

        The ids are laid out as a matrix, a row per rank and a column per owner (the empty id
        where an owner has no member of that rank: joining it changes nothing), and ``acc``
        joined with one row after the other (:meth:`join`, each distinct pair once), with no
        gather or scatter of the owners per rank. Members whose ids are all empty (no citation
        read, or no mask kept, or a table the batch does not follow) give ``acc`` itself back,
        with nothing laid out (the callers' ``acc`` is their own fresh column)."""
        if not self.kept or len(ids) == 0 or no_ids(ids):
            return acc
        laid = np.zeros((int(_highest(ranks)) + 1, len(acc)), dtype=np.int64)
        laid[ranks, positions] = ids
        out = acc
        for row in laid:
            out = self.join(out, row)
        return out.copy() if out is acc else out


def heads(positions: np.ndarray) -> np.ndarray:
    """For sorted owner positions (members grouped by owner), where each owner's members
    start."""
    n = len(positions)
    change = np.empty(n, dtype=bool)
    if n:
        change[0] = True
        np.not_equal(positions[1:], positions[:-1], out=change[1:])
    return rows_where(change)


def ranks_of(positions: np.ndarray) -> np.ndarray:
    """For sorted owner positions (members grouped by owner), each member's place among its
    owner's members (0, 1, 2...): its index less the index where its owner's members start."""
    n = len(positions)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    start = np.zeros(n, dtype=np.intp)
    found = heads(positions)
    start[found] = found
    np.maximum.accumulate(start, out=start)
    return np.arange(n) - start


def firsts(positions: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Among members (in order, grouped by owner) where ``chosen`` holds: the owner rows that
    have one, and the index of the first such member of each (the chosen members' positions
    stay sorted: each owner's first is where its position starts)."""
    where = rows_where(chosen)
    first = heads(positions[where])
    return positions[where[first]], where[first]
