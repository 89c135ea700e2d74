"""The columnar plan's typed paths against the per-case evaluator, on the `kernel` fixture.

Yes/no values travel as ``bool`` arrays (comparisons, ``not``, ``and``/``or``, chained
comparisons, ``any``/``all``, yes/no facts and rules), and rulebook functions and parameter
tables are called once per distinct *typed* tuple of arguments. Each rule alone and every output
over random households, some with rows that are bad (a missing required yes/no fact) or have no
value (an optional one), must give the per-case values, printed the same (``2.5`` is not
``2.50``, ``yes`` is not ``1``), with the same read-sets and deciding citations; a case the plan
gives back must be one the per-case evaluator refuses. The helpers under these paths are
checked against the Python they replace."""

from __future__ import annotations

import operator
import random
from decimal import Decimal

import numpy as np

from engine.runtime import columnar_arrays
from engine.runtime.columnar import evaluate_cases
from engine.runtime.columnar_arrays import (UNKNOWN, Interned, as_objects, distinct, flags,
                                            objects)

from .helpers import (AS_OF, case, columnar_same_as_per_case,
                      each_rule_alone_same_as_per_case, engine, person)

#: Amounts as written: equal values with other exponents, and halves of a cent to round.
AMOUNTS = ["2.5", "2.50", "2", "150.50", "0.10", "0.1", "12", "1.005", "2.675", "0.125", "10.00"]


def _households(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for index in range(count):
        people = []
        for k in range(rng.randint(1, 4)):
            facts = {"age": rng.randint(0, 90),
                     "incomes": [{"type": "wages", "amount": rng.choice(AMOUNTS),
                                  "frequency": "monthly"}
                                 for _ in range(rng.choice([0, 1, 2]))]}
            if rng.random() < 0.3:
                facts["pregnant"] = True
            if rng.random() < 0.6:
                facts["employed"] = rng.random() < 0.5
            if rng.random() < 0.9:                 # otherwise missing: its rows are bad
                facts["blind"] = rng.random() < 0.7
            if rng.random() < 0.7:
                facts["resources"] = rng.choice(["2.5", "2.50", "3", "1.25", "2.51"])
            people.append(person(f"p{k}", **facts))
        out.append(case(*people, case_id=f"c{index}"))
    return out


def test_every_kernel_rule_alone_agrees_with_the_per_case_evaluator():
    kernel = engine("kernel")
    data = _households(150, seed=12)
    per_rule, refused = each_rule_alone_same_as_per_case(kernel, data)
    assert all(per_rule.values()), per_rule
    assert refused > 0     # rules reading a missing `blind` fail per case and in the plan


def test_products_past_the_bound_fail_in_the_plan_exactly_where_they_fail_per_case():
    kernel = engine("kernel")
    data = _households(60, seed=8)
    compared, refused = columnar_same_as_per_case(kernel, data, names=["kernel.huge_product_positive"])
    assert compared > 0 and refused > 0


def test_every_kernel_output_agrees_and_keeps_written_exponents():
    kernel = engine("kernel")
    data = _households(200, seed=3)
    compared, _ = columnar_same_as_per_case(kernel, data)
    assert compared > 0
    got = evaluate_cases(kernel, [kernel.read_case(h) for h in data], AS_OF,
                         names=["kernel.amount_tag"])
    tags = {r.value for e in got if e is not None for r in e.results}
    # called once per distinct typed argument: equal amounts written differently stay apart
    assert {"2.5", "2.50", "0.10", "0.1"} <= tags


def test_distinct_keys_arguments_by_type_and_written_exponent():
    left = objects([True, 1, Decimal("2.5"), Decimal("2.50"), 1, True, "a", Decimal("2.5")])
    right = objects([0, 0, 0, 0, 0, 0, 0, 0])
    rows = np.arange(8)
    first, codes = distinct([left, right], rows)
    assert codes.tolist() == [0, 1, 2, 3, 1, 0, 4, 2]
    assert first.tolist() == [0, 1, 2, 3, 6]
    # only some rows, and no arguments at all (one call)
    first, codes = distinct([left], np.asarray([4, 1, 5]))
    assert (first.tolist(), codes.tolist()) == ([0, 2], [0, 0, 1])
    first, codes = distinct([], np.asarray([3, 4]))
    assert (first.tolist(), codes.tolist()) == ([0], [0, 0])
    # a list cannot be a key: every row is called on its own
    assert distinct([objects([[1], [1]], 2)], np.arange(2)) is None


def _typed(value):
    """The per-case cache's key of one argument (class and written form)."""
    return (value.__class__, str(value) if isinstance(value, Decimal) else value)


def test_distinct_numbers_each_column_apart_and_agrees_with_typed_tuples():
    """Columns are numbered one by one (integers as they are, yes/no arrays as 0 and 1, one
    repeated text at once, other values by their typed keys) and the rows of numbers grouped:
    the same tuples, in the order they first appear, as keying whole typed tuples in Python."""
    rng = random.Random(21)
    pools = [[3, -7, 10 ** 30, 0, 12], [True, False], ["MHK"], ["a", "b", None],
             [Decimal("2.5"), Decimal("2.50"), 2, True], [Decimal("0.1"), Decimal("0.10")],
             list(range(-500, 500, 7)), [Decimal("2"), 2, Decimal("2.0"), None, AS_OF],
             ["2.5", Decimal("2.5"), "2.50"]]
    for case in range(60):
        n = rng.choice([1, 4, 50, 900])
        columns = []
        for _ in range(rng.randint(1, 4)):
            pool = rng.choice(pools)
            values = [rng.choice(pool) for _ in range(n)]
            column = objects(values)
            if set(map(type, values)) == {bool} and rng.random() < 0.5:
                column = flags(column, np.zeros(n, dtype=bool))       # a yes/no array
            columns.append(column)
        rows = np.asarray(sorted(rng.sample(range(n), rng.randint(1, n))), dtype=np.intp)
        keys = [tuple(_typed(c[r]) for c in columns) for r in rows.tolist()]
        numbers = {key: i for i, key in enumerate(dict.fromkeys(keys))}
        first, codes = distinct(columns, rows)
        assert codes.tolist() == [numbers[key] for key in keys], case
        assert first.tolist() == [keys.index(key) for key in numbers], case


def test_flags_types_yes_no_columns_only_when_every_good_row_is_true_or_false():
    bad = np.asarray([False, True, False])
    typed = flags(objects([True, None, False]), bad)
    assert typed.dtype == bool and typed.tolist() == [True, False, False]
    # a value that is not True or False itself (1, Decimal 1, no value) keeps the object column
    for other in (1, Decimal(1), None):
        column = objects([True, other, False])
        assert flags(column, np.zeros(3, dtype=bool)) is column
    assert flags(objects([]), np.zeros(0, dtype=bool)).dtype == object
    # back to objects: Python's own True and False, not NumPy's
    assert [type(v) for v in as_objects(typed).tolist()] == [bool, bool, bool]
    out = np.empty(2, dtype=object)
    out[:] = typed[:2]
    assert out[0] is True and out[1] is False


def _reference_join(table, a, b):
    out = []
    for x, y in zip(a.tolist(), b.tolist()):
        if x == UNKNOWN or y == UNKNOWN:
            out.append(UNKNOWN)
        else:
            out.append(table.id(table.join_items(table.items[x], table.items[y])))
    return out


def test_join_with_unknowns_and_without_packing_is_the_row_by_row_join(monkeypatch):
    rng = random.Random(5)
    reads = Interned((), operator.add)
    ids = [reads.id(tuple(rng.sample("abcdef", rng.randint(1, 3)))) for _ in range(12)]
    a = np.asarray([rng.choice(ids + [0, UNKNOWN]) for _ in range(300)], dtype=np.int64)
    b = np.asarray([rng.choice(ids + [0, 0, UNKNOWN]) for _ in range(300)], dtype=np.int64)
    a0, b0 = a.copy(), b.copy()
    want = _reference_join(reads, a, b)
    assert reads.join(a, b).tolist() == want
    # the arguments are left as they were
    assert UNKNOWN in a.tolist() and UNKNOWN in b.tolist()
    assert (a == a0).all() and (b == b0).all()
    # ids too many to pack a pair into one integer: joined pair by pair, the same
    monkeypatch.setattr(columnar_arrays, "_PAIR_MASK", 3)
    fresh = Interned((), operator.add)
    for item in reads.items[1:len(ids) + 1]:
        fresh.id(item)
    assert fresh.join(a, b).tolist() == _reference_join(fresh, a, b)


def test_numbers_add_exactly_as_the_language_and_leave_the_rest_to_it():
    from engine.language.operators import OPERATORS
    import ast
    add, mul = OPERATORS[ast.Add], OPERATORS[ast.Mult]
    a = objects([Decimal("1.50"), 2, Decimal("0.1"), 7, None])
    b = objects([Decimal("1"), Decimal("0.10"), 3, 5, 1])
    bad = np.asarray([False, False, False, False, True])
    got = columnar_arrays.numbers(operator.add, a, b, bad)
    want = [add(x, y) for x, y in zip(a.tolist()[:4], b.tolist()[:4])]
    assert [str(v) for v in got.tolist()[:4]] == [str(v) for v in want] == \
        ["2.50", "2.10", "3.1", "12"]
    assert got[4] is None
    # a yes/no, a text or a list on a row not bad: the language's own operator decides
    for other in (True, "1", [1]):
        assert columnar_arrays.numbers(operator.add, objects([1, other]), objects([1, 1]),
                                       np.zeros(2, dtype=bool)) is None
    # an integer product longer than the bound: left to the language (which refuses it)
    huge = objects([1 << 2500, 3])
    assert columnar_arrays.numbers(operator.mul, huge, huge, np.zeros(2, dtype=bool),
                                   4000) is None
    assert columnar_arrays.numbers(operator.mul, huge, huge, np.asarray([True, False]),
                                   4000).tolist() == [None, mul(3, 3)]


def test_apply_distinct_calls_once_per_typed_argument_and_marks_failures():
    calls = []

    def shown(x):
        calls.append(x)
        if x == 0:
            raise ZeroDivisionError
        return f"{x!r}"

    values = objects([Decimal("2.5"), Decimal("2.50"), 0, True, 1, Decimal("2.5"), 1, 0])
    bad = np.asarray([False] * 6 + [True, False])
    got, failed = columnar_arrays.apply_distinct(shown, [values], bad, (ZeroDivisionError,))
    assert calls == [Decimal("2.5"), Decimal("2.50"), 0, True, 1]
    assert got.tolist()[:6] == ["Decimal('2.5')", "Decimal('2.50')", None, "True", "1",
                                "Decimal('2.5')"]
    assert failed.tolist() == [False, False, True, False, False, False, True, True]
    # a result that is a list: every row must get its own, so the caller applies row by row
    assert columnar_arrays.apply_distinct(lambda x: [x], [values], bad, (Exception,)) is None


def test_lists_are_joined_into_new_lists_row_by_row():
    left, right = [1], [2, 3]
    got = columnar_arrays.texts_joined(objects([left, [], None], 3), objects([right, [4], None], 3),
                                       np.asarray([False, False, True]), 10)
    assert got.tolist() == [[1, 2, 3], [4], None]
    assert got[0] is not left and left == [1]
    assert columnar_arrays.texts_joined(objects([[1] * 6], 1), objects([[2] * 6], 1),
                                        np.zeros(1, dtype=bool), 10) is None


def test_a_chain_of_texts_is_joined_once_per_row_within_the_bound():
    columns = [objects(["a", "b", None]), objects(["-", "-", None]), objects(["x", "yz", None])]
    bad = np.asarray([False, False, True])
    assert columnar_arrays.texts_chained(columns, bad, 4).tolist() == ["a-x", "b-yz", None]
    # the whole longer than the bound (so some `+` on the way is): pair by pair decides
    assert columnar_arrays.texts_chained(columns, bad, 3) is None
    # a row that is not all text: pair by pair decides
    mixed = [objects(["a", "b"]), objects(["-", 1])]
    assert columnar_arrays.texts_chained(mixed, np.zeros(2, dtype=bool), 10) is None


def test_comparisons_in_c_agree_with_the_language_operators():
    """``==``, ``!=``, ``<``... by NumPy's comparison of object arrays give, row by row, the
    operator's own True/False for every kind of value the language has (Decimals with other
    exponents, ints, yes/no, texts, dates, lists, nothing, a NaN that is not equal to itself);
    a row that would raise gives the whole column to the exact path (None)."""
    import datetime as dt
    from engine.runtime.columnar_arrays import comparisons
    rng = random.Random(3)
    pools = [[Decimal("2.5"), Decimal("2.50"), 2, 3, Decimal("-1"), True, False],
             ["a", "b", "ab", ""], [dt.date(2025, 1, 1), dt.date(2024, 12, 31)],
             [[1, 2], [1, 2], [], [Decimal("1")]]]
    for op in (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge):
        for pool in pools:
            left = [rng.choice(pool) for _ in range(40)]
            right = [rng.choice(pool) for _ in range(40)]
            bad = np.asarray([rng.random() < 0.2 for _ in range(40)])
            got = comparisons(op, objects(left), objects(right), bad)
            assert got.dtype == bool
            want = [False if b else op(x, y) for x, y, b in zip(left, right, bad.tolist())]
            assert got.tolist() == want, (op, pool)
        yes = flags(objects([True, False, True]), np.zeros(3, dtype=bool))
        assert comparisons(op, yes, objects([True, True, 1]), np.zeros(3, dtype=bool)) \
            .tolist() == [op(True, True), op(False, True), op(True, 1)]
    nan = Decimal("NaN")
    assert comparisons(operator.eq, objects([nan, None]), objects([nan, None]),
                       np.zeros(2, dtype=bool)).tolist() == [False, True]
    # `<` between nothing and a number raises: the exact path decides (and marks the row bad)
    assert comparisons(operator.lt, objects([None, 1]), objects([1, 2]),
                       np.zeros(2, dtype=bool)) is None
    assert comparisons(operator.lt, objects([None, 1]), objects([1, 2]),
                       np.asarray([True, False])).tolist() == [False, True]
    assert comparisons(operator.add, objects([1]), objects([2]), np.zeros(1, dtype=bool)) is None


def test_the_argument_min_and_max_gave_is_found_as_list_index_finds_it():
    """Which argument of ``min``/``max`` gave the value: equal or the very same value, row by
    row as ``a is b or a == b``; a NaN is the same only as itself."""
    from engine.runtime.columnar import _same, _same_rows
    nan = Decimal("NaN")
    a = [Decimal("2.5"), Decimal("2.50"), 3, nan, nan, "x", None, [1]]
    b = [Decimal("2.50"), 2, Decimal("3.0"), nan, Decimal("NaN"), "x", None, [1]]
    assert _same_rows(objects(a), objects(b)).tolist() == [_same(x, y) for x, y in zip(a, b)]


def test_matched_table_rows_are_grouped_as_numpy_groups_rows():
    """The sets of matched table rows, read as the bits of one integer (up to 62 table rows)
    or row-wise beyond: the same distinct sets as NumPy's row-wise unique, each case row
    pointing at its own."""
    from engine.runtime.columnar import _matched_sets
    rng = np.random.default_rng(17)
    for width in (1, 5, 12, 62, 63, 80):
        matched = rng.random((300, width)) < 0.2
        matched[::5] = False
        sets, inverse = _matched_sets(matched)
        assert (sets[inverse] == matched).all()
        assert len(sets) == len(np.unique(matched, axis=0))


def test_a_batch_memo_keeps_typed_arguments_apart_and_keeps_no_failure_nor_list():
    calls = []

    def shown(*xs):
        calls.append(xs)
        if xs == (0,):
            raise ZeroDivisionError
        return [xs] if xs == ("list",) else repr(xs)

    memo = columnar_arrays.Memo(shown)
    for args in [(Decimal("2.5"),), (Decimal("2.50"),), (True,), (1,), (Decimal("2.5"),),
                 (1,), (True, 1), (1, True), (True, 1)]:
        assert memo(*args) == repr(args)
    assert calls == [(Decimal("2.5"),), (Decimal("2.50"),), (True,), (1,), (True, 1),
                     (1, True)]
    for _ in range(2):                    # a failure is made again (and fails alike)
        try:
            memo(0)
        except ZeroDivisionError:
            pass
        else:                             # pragma: no cover
            raise AssertionError("the failure was kept")
    first, second = memo("list"), memo("list")
    assert first == second and first is not second       # each caller its own list
    assert memo([1], 2) == repr(([1], 2)) and memo([1], 2) == repr(([1], 2))   # not a key
    assert calls.count((0,)) == 2 and calls.count(("list",)) == 2
    assert calls.count(([1], 2)) == 2


def test_columns_of_no_ids_share_read_only_zeros_and_a_table_not_followed_joins_nothing():
    import pytest

    from engine.runtime.columnar_arrays import ids_at, no_ids, zero_ids
    zeros = zero_ids(5)
    assert zeros is zero_ids(5) and zeros.tolist() == [0] * 5 and not zeros.flags.writeable
    with pytest.raises(ValueError):
        zeros[0] = 1                      # a join in place into shared zeros is refused
    assert no_ids(zeros) and no_ids(np.zeros(3, dtype=np.int64))
    assert not no_ids(np.asarray([0, 2]))
    assert ids_at(zeros, np.asarray([1, 3])) is zero_ids(2)
    assert ids_at(np.asarray([4, 5, 6]), np.asarray([2, 0])).tolist() == [6, 4]
    reads = Interned((), operator.add)
    x, y = reads.id(("x",)), reads.id(("y",))
    ids = np.asarray([x, y, 0])
    assert reads.join(ids, zero_ids(3)) is ids and reads.join(zero_ids(3), ids) is ids
    owners = np.asarray([x, 0])
    # members with no id leave the owners' ids as they are (no copy, no pass per rank)
    assert reads.fold(owners, np.asarray([0, 0, 1]), np.asarray([0, 1, 0]), zero_ids(3)) \
        is owners
    folded = reads.fold(owners, np.asarray([0, 0, 1]), np.asarray([0, 1, 0]), ids)
    assert [reads.items[i] for i in folded.tolist()] == [("x", "x", "y"), ()]
    off = Interned((), operator.add, kept=False)
    assert off.join(ids, ids) is zero_ids(3) and off.join_all([ids, ids]) is zero_ids(3)
    acc = ids.copy()
    off.join_at(acc, np.asarray([0, 1]), np.asarray([x, x]))
    assert acc.tolist() == ids.tolist()


def test_a_rule_read_on_all_its_rows_is_its_own_read_only_arrays():
    from engine.runtime.columnar import _Batch, _Frame
    kernel = engine("kernel")
    cases = [kernel.read_case(h) for h in _households(20, seed=5)]
    batch = _Batch(kernel, cases, AS_OF)
    rule = kernel.program.rules["kernel.working_adult"]
    column = batch.rule_column(rule)
    for array in (column.values, column.bad, column.masks, column.reads):
        assert not array.flags.writeable  # every reader may hold them as they are
    rows = np.arange(len(column.values))
    whole = _Frame(rule.entity_kind, rows, whole=True)
    read = batch.name(("rule", rule, 0), whole, rows)
    assert read.values is column.values and read.bad is column.bad
    assert read.masks is column.masks and read.deps is column.reads
    again = batch.name(("rule", rule, 0), whole, rows.copy())    # all rows written again
    assert again.values is column.values
    some = rows[1::2]
    part = batch.name(("rule", rule, 0), whole, some)
    assert part.values.tolist() == column.values[some].tolist()
    assert part.deps.tolist() == column.reads[some].tolist()
    assert part.values.flags.writeable     # a gather: the reader's own


def test_distinct_rows_leave_a_column_of_one_value_out_and_put_it_back():
    from engine.runtime.columnar_arrays import group
    rng = np.random.default_rng(3)
    a, b, c = rng.integers(0, 5, 50), rng.integers(2, 9, 50), np.full(50, 7)
    for keys in ((a, c, b), (c, a), (c, c), (a, b), (a, c)):
        rows, inverse = group(*keys)
        unique, numbers = np.unique(np.stack(keys, axis=1), axis=0, return_inverse=True)
        assert rows == [tuple(row) for row in unique.tolist()]
        assert inverse.tolist() == numbers.reshape(-1).tolist()
    reads = Interned((), operator.add)
    x, y = reads.id(("x",)), reads.id(("y",))
    left, right = np.full(4, x), np.asarray([y, 0, y, x])    # one id on every left row
    assert reads.join(left, right).tolist() == _reference_join(reads, left, right)
