"""The array helpers under the columnar plan (engine.runtime.columnar_arrays), each against the
Python it replaces: joins of interned ids in order with unknowns kept, grouping by packed or
wide keys, ordered folds over members, and element-wise application with failing rows."""

from __future__ import annotations

import operator
from decimal import Decimal

import numpy as np

from engine.runtime.columnar_arrays import (UNKNOWN, Interned, apply, firsts, full, group,
                                            heads, objects, ranks_of, strict_bools, truth)


def _ids(table, items):
    return np.asarray([UNKNOWN if item is None else table.id(item) for item in items],
                      dtype=np.int64)


def _items(table, ids):
    return [None if i == UNKNOWN else table.items[i] for i in ids.tolist()]


def test_join_concatenates_row_by_row_and_keeps_unknown():
    reads = Interned((), operator.add)
    a = [("x",), (), None, ("x", "y"), ("y",), ()]
    b = [("y",), ("z",), ("z",), ("x",), None, ()]
    got = _items(reads, reads.join(_ids(reads, a), _ids(reads, b)))
    assert got == [("x", "y"), ("z",), None, ("x", "y", "x"), None, ()]
    # a pair already joined is looked up, not joined again
    assert len(reads.joined) == 2


def test_masks_join_as_bitwise_or():
    masks = Interned(0, operator.or_)
    got = _items(masks, masks.join(_ids(masks, [1, 0, 6, 4]), _ids(masks, [2, 8, 0, 4])))
    assert got == [3, 8, 6, 4]


def test_group_with_packed_and_with_wide_keys():
    a = np.asarray([3, 1, 3, 1, 2], dtype=np.int64)
    b = np.asarray([0, 5, 0, 5, 5], dtype=np.int64)
    keys, inverse = group(a, b)
    assert [keys[i] for i in inverse] == list(zip(a.tolist(), b.tolist()))
    # ids too large to pack three in 62 bits take NumPy's row-wise unique instead
    big = np.asarray([1 << 40, 7, 1 << 40], dtype=np.int64)
    keys, inverse = group(big, big, b[:3])
    assert [keys[i] for i in inverse] == list(zip(big.tolist(), big.tolist(), b[:3].tolist()))


def test_fold_joins_members_in_order_per_owner():
    reads = Interned((), operator.add)
    positions = np.asarray([0, 0, 0, 2, 2], dtype=np.intp)
    ranks = ranks_of(positions)
    assert ranks.tolist() == [0, 1, 2, 0, 1]
    members = _ids(reads, [("a",), ("b",), ("c",), ("d",), None])
    got = _items(reads, reads.fold(np.zeros(3, dtype=np.int64), positions, ranks, members))
    assert got == [("a", "b", "c"), (), None]


def test_firsts_finds_each_owners_first_chosen_member():
    positions = np.asarray([0, 0, 1, 1, 1, 3], dtype=np.intp)
    chosen = np.asarray([False, True, True, True, False, False])
    owners, first = firsts(positions, chosen)
    assert owners.tolist() == [0, 1] and first.tolist() == [1, 2]


def test_apply_uses_the_operator_and_marks_failing_rows_bad():
    from engine.language.operators import _add
    a = objects([Decimal("1.10"), 2, "x", True, None])
    b = objects([Decimal("2"), Decimal("0.5"), "y", 1, 3])
    bad = np.asarray([False, False, False, False, True])
    values, now_bad = apply(_add, [a, b], bad, (Exception,))
    assert values[:3].tolist() == [Decimal("3.10"), Decimal("2.5"), "xy"]
    assert str(values[0]) == "3.10"                   # the exponent is the Decimal's own
    assert now_bad.tolist() == [False, False, False, True, True]   # True is no number
    assert bad.tolist() == [False, False, False, False, True]      # the input is left as is


def test_lists_stay_single_values_and_bools_are_strict():
    values = objects([[1, 2], [], (3,), 1, Decimal(1), True, False, None])
    assert values.shape == (8,) and values[0] == [1, 2]
    yes, no = strict_bools(values)
    assert yes.tolist() == [False] * 5 + [True, False, False]
    assert no.tolist() == [False] * 6 + [True, False]
    assert truth(values).tolist() == [True, False, True, True, True, True, False, False]
    same = full(3, [])
    assert same[0] is same[2]


def test_the_cycle_collector_is_paused_for_a_batch_and_on_again_after():
    import gc

    from engine.runtime.collector import paused_collector
    assert gc.isenabled()
    with paused_collector():
        assert not gc.isenabled()
        with paused_collector():          # nested: the outer one switches it back on
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_collector():
            pass
        assert not gc.isenabled()         # left off if it was off
    finally:
        gc.enable()


def test_texts_are_joined_directly_only_when_every_row_is_text_and_short_enough():
    from engine.runtime.columnar_arrays import texts_joined
    bad = np.asarray([False, False, True])
    got = texts_joined(objects(["a", "b", 5]), objects(["x", "y", None]), bad, 10)
    assert got.tolist() == ["ax", "by", None]               # the bad row is not read
    assert texts_joined(objects(["a", [1]]), objects(["x", [2]]), bad[:2], 10) is None
    assert texts_joined(objects(["a", "b"]), objects([1, "y"]), bad[:2], 10) is None
    assert texts_joined(objects(["abc"]), objects(["defgh"]), bad[:1], 7) is None   # too long


def test_a_rule_declaring_its_values_is_checked_by_the_plan_too():
    """``finish`` refuses a text a rule does not declare (per case: an error); the plan skips
    ``finish`` only when every value is already one of the declared ones."""
    from types import SimpleNamespace

    from engine.runtime.columnar import _already_finished
    rule = SimpleNamespace(rounding=None, type="text", enum=("MHK", "MPW"))
    no_bad = np.zeros(3, dtype=bool)
    assert _already_finished(rule, objects(["MHK", None, "MPW"]), no_bad)
    assert not _already_finished(rule, objects(["MHK", "CHIP", "MPW"]), no_bad)
    untyped = SimpleNamespace(rounding=None, type="any", enum=("A",))
    assert not _already_finished(untyped, objects(["A", "B", "A"]), no_bad)
    assert _already_finished(SimpleNamespace(rounding=None, type="any", enum=None),
                             objects([[1], "x", None]), no_bad)


def test_membership_agrees_with_in():
    from decimal import Decimal as D

    from engine.runtime.columnar_arrays import memberships
    statuses = ["citizen", "qualified", 1, D("2.50")]
    a = objects(["citizen", "visitor", True, D("2.5"), None, 2])
    bad = np.zeros(6, dtype=bool)
    expected = [x in statuses for x in a.tolist()]
    for b in (full(6, statuses), objects([list(statuses) for _ in range(6)])):  # shared or not
        assert memberships(a, b, bad, False).tolist() == expected
        assert memberships(a, b, bad, True).tolist() == [not x for x in expected]
    assert memberships(objects(["it", "x"]), objects(["item", "abc"]), bad[:2],
                       False).tolist() == [True, False]                 # texts: substrings
    assert memberships(objects([[1]]), full(1, statuses), bad[:1], False) is None  # unhashable
    assert memberships(objects([1]), objects([5]), bad[:1], False) is None  # 1 in 5 raises


def _joined_by_hand(table, a, b):
    """What a join gives, row by row in plain Python (unknown wins, an empty side is the other)."""
    out = []
    for x, y in zip(a, b):
        if x is None or y is None:
            out.append(None)
        else:
            out.append(table.join_items(x, y) if x and y else x or y)
    return out


def test_joins_by_table_and_by_sorting_agree_with_python_row_by_row():
    """The distinct pairs are found by a table over the ranges of ids when it is small, by
    renumbering a side whose range is wide but holds few ids, and by sorting otherwise: every
    way gives, per row, the two items joined."""
    import random
    rng = random.Random(13)
    for case in range(40):
        masks = Interned(0, operator.or_)
        pool = [1 << rng.randrange(300) | rng.randrange(1 << 20) for _ in range(400)]
        for item in pool:                 # ids spread over a wide range
            masks.id(item)
        n = rng.choice([1, 5, 60, 700])
        spread = rng.choice([3, 40, 400])
        a = [rng.choice([0, None] + pool[:spread]) if rng.random() < 0.9 else pool[-1]
             for _ in range(n)]
        b = [rng.choice([0] + pool[-spread:]) if case % 3 else pool[5] for _ in range(n)]
        if case % 4 == 0:
            a = [pool[7]] * n             # one id on every row
        got = _items(masks, masks.join(_ids(masks, a), _ids(masks, b)))
        assert got == _joined_by_hand(masks, a, b), case


def test_join_all_agrees_with_joining_pair_by_pair():
    import random
    rng = random.Random(7)
    for case in range(30):
        reads = Interned((), operator.add)
        pool = [(f"r{i}",) for i in range(rng.choice([3, 30, 300]))]
        n = rng.choice([1, 9, 500])
        columns = []
        for k in range(rng.randint(1, 6)):
            if rng.random() < 0.3:
                items = [()] * n          # a column with nothing to join
            else:
                items = [rng.choice(pool + [()]) for _ in range(n)]
                if case % 5 == 0 and k == 1:
                    items[0] = None       # unknown on a row
            columns.append(_ids(reads, items))
        by_pairs = columns[0]
        for column in columns[1:]:
            by_pairs = reads.join(by_pairs, column)
        want = _items(reads, by_pairs)
        assert _items(reads, reads.join_all(columns)) == want, case


def test_group_renumbers_wide_keys_with_few_values():
    a = np.asarray([10_000_000, 3, 10_000_000, 3, 500_000], dtype=np.int64)
    b = np.asarray([0, 9_999, 0, 9_999, 9_999], dtype=np.int64)
    c = np.asarray([2, 2, 2, 2, 1], dtype=np.int64)
    keys, inverse = group(a, b, c)
    assert keys == sorted(set(zip(a.tolist(), b.tolist(), c.tolist())))
    assert [keys[i] for i in inverse] == list(zip(a.tolist(), b.tolist(), c.tolist()))
    keys, inverse = group(c)
    assert keys == [(1,), (2,)] and inverse.tolist() == [1, 1, 1, 1, 0]


def test_join_at_joins_in_place_and_leaves_rows_alone_without_ids():
    masks = Interned(0, operator.or_)
    acc = _ids(masks, [1, 2, 4, 8])
    before = acc.copy()
    masks.join_at(acc, np.asarray([0, 2]), np.zeros(2, dtype=np.int64))
    assert acc.tolist() == before.tolist()
    masks.join_at(acc, np.asarray([1, 3]), _ids(masks, [16, 0]))
    assert _items(masks, acc) == [1, 18, 4, 8]


def test_text_chains_and_memberships_take_a_constant_column_as_one_value():
    from engine.runtime.columnar_arrays import memberships, texts_chained
    bad = np.asarray([False, True, False])
    parts = [full(3, "age "), objects(["3", None, "40"]), full(3, " is not under 1")]
    want = texts_chained(parts, bad, 100)
    got = texts_chained(parts, bad, 100, [True, False, True])
    assert got.tolist() == want.tolist() == ["age 3 is not under 1", None, "age 40 is not under 1"]
    assert texts_chained(parts, bad, 10, [True, False, True]) is None          # too long
    assert texts_chained([full(3, 5)] + parts[1:], bad, 100, [True, False, True]) is None
    assert texts_chained(parts, np.ones(3, dtype=bool), 100, [True, False, True]) is None
    listed = ["MHK", "MPW"]
    found = memberships(objects(["MPW", "x", "MHK"]), full(3, listed), bad, False, True)
    assert found.dtype == bool and found[~bad].tolist() == [True, True]   # bad: never read


def test_a_yes_no_array_is_finished_as_its_python_bools_would_be():
    from types import SimpleNamespace

    from engine.runtime.columnar import _already_finished
    yes_no = np.asarray([True, False, True])
    no_bad = np.zeros(3, dtype=bool)
    for kind in ("boolean", "integer", "any", "text", "money"):
        rule = SimpleNamespace(rounding=None, type=kind, enum=None)
        assert _already_finished(rule, yes_no, no_bad) == \
            _already_finished(rule, yes_no.astype(object), no_bad), kind


def _fold_row_by_row(table, acc, positions, ranks, ids):
    """The fold as the per-case order gives it: each owner's members joined one by one."""
    out = acc.tolist()
    for rank in range(int(ranks.max()) + 1 if len(ranks) else 0):
        for p, i in zip(positions[ranks == rank].tolist(), ids[ranks == rank].tolist()):
            if out[p] == UNKNOWN or i == UNKNOWN:
                out[p] = UNKNOWN
            elif i:
                out[p] = table.id(table.join_items(table.items[out[p]], table.items[i])) \
                    if out[p] else i
    return out


def test_fold_agrees_with_joining_member_by_member_with_gaps_and_unknowns():
    reads = Interned((), operator.add)
    rng = np.random.default_rng(5)
    items = [(), ("a",), ("b",), ("a", "b"), None]
    counts = rng.integers(0, 6, 300)
    positions = np.repeat(np.arange(300), counts)
    ranks = ranks_of(positions)
    ids = _ids(reads, [items[k] for k in rng.integers(0, 5, len(positions))])
    acc = _ids(reads, [items[k] for k in rng.integers(0, 4, 300)])
    expected = _fold_row_by_row(reads, acc, positions, ranks, ids)
    assert reads.fold(acc, positions, ranks, ids).tolist() == expected


def test_a_fold_of_members_that_read_nothing_joins_nothing(monkeypatch):
    masks = Interned(0, operator.or_)
    positions = np.asarray([0, 0, 1, 1, 1], dtype=np.intp)
    acc = _ids(masks, [4, 0])
    calls = []
    monkeypatch.setattr(masks, "join", lambda *a: calls.append(a))
    got = masks.fold(acc, positions, ranks_of(positions), np.zeros(5, dtype=np.int64))
    assert got.tolist() == acc.tolist() and got is acc and calls == []


def test_heads_ranks_and_firsts_of_owners_in_order():
    positions = np.asarray([0, 0, 2, 2, 2, 5, 7, 7], dtype=np.intp)
    assert heads(positions).tolist() == [0, 2, 5, 6]
    assert ranks_of(positions).tolist() == [0, 1, 0, 1, 2, 0, 0, 1]
    assert heads(positions[:0]).tolist() == [] and ranks_of(positions[:0]).tolist() == []
    chosen = np.asarray([False, False, False, True, True, False, True, True])
    owners, first = firsts(positions, chosen)
    assert owners.tolist() == [2, 7] and first.tolist() == [3, 6]
