"""The reasoning behind the checks: band contiguity, value sets, cycles of update, types."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from engine.checks.bands import check_bands
from engine.checks.sets import Numbers, Values, box_minus
from engine.checks.staleness import cycle_start


def band(lo=None, hi=None, lo_inc=True, hi_inc=True, value=0):
    raw = {"value": value}
    if lo is not None:
        raw.update({"from": D(lo), "from_inclusive": lo_inc})
    if hi is not None:
        raw.update({"to": D(hi), "to_inclusive": hi_inc})
    return raw


def codes(bands, money=True):
    return [p.code for p in check_bands("f.yaml", "p", bands, money, "", "p")]


def test_twha_2025_bands_are_contiguous_at_the_cent():
    # IM-13 2025, TWHA single: <= $1305.00 none; $1305.01-1956.99 $52; $1957.00-2608.99 $78;
    # $2609.00-3260.99 $130; $3261.00-3913.00 $196 (ineligible above 300%).
    single = [band("0", "1305.00"), band("1305.01", "1956.99", value=52),
              band("1957.00", "2608.99", value=78), band("2609.00", "3260.99", value=130),
              band("3261.00", "3913.00", value=196)]
    assert codes(single) == []
    # couple: <= $1763.00 none; $1763.01-2643.99 $71; $2644.00-3524.99 $106; $3525.00-4406.99
    # $176; $4407.00-5288.00 $264
    couple = [band("0", "1763.00"), band("1763.01", "2643.99", value=71),
              band("2644.00", "3524.99", value=106), band("3525.00", "4406.99", value=176),
              band("4407.00", "5288.00", value=264)]
    assert codes(couple) == []


def test_two_cents_apart_is_a_gap_even_for_money():
    assert codes([band("0", "1305.00"), band("1305.02")]) == ["E520"]


def test_cent_steps_are_not_contiguous_for_non_money_whole_numbers():
    # percent bands written as whole numbers: 100 then 101 leaves (100..101) uncovered
    assert codes([band("0", "100"), band("101")], money=False) == ["E520"]


def test_cent_steps_count_when_bounds_are_written_with_cents_whatever_the_unit():
    assert codes([band("0", "100.00"), band("100.01")], money=False) == []


def test_exclusive_then_inclusive_at_the_same_bound_is_contiguous():
    assert codes([band("0", "100", hi_inc=False), band("100")], money=False) == []


def test_both_exclusive_at_the_same_bound_is_a_gap_and_both_inclusive_an_overlap():
    assert codes([band("0", "100", hi_inc=False), band("100", lo_inc=False)], money=False) == ["E520"]
    assert codes([band("0", "100"), band("100")], money=False) == ["E521"]


def test_an_open_top_followed_by_another_band_overlaps():
    assert codes([band("0"), band("100")]) == ["E521"]


def test_band_order_in_the_file_does_not_matter():
    assert codes([band("1305.01", value=52), band("0", "1305.00")]) == []


def test_number_sets():
    low = Numbers.interval(None, False, D(150), True)
    high = Numbers.interval(D(150), False, None, False)
    assert low.intersect(high).empty()
    assert Numbers.everything().minus(low).minus(high).empty()
    gap = Numbers.interval(D(0), True, D(300), True).minus(low).minus(
        Numbers.interval(D(196), False, None, False))
    assert gap.describe() == "in (150..196]"
    assert Numbers.point(D(5)).complement().describe() == "< 5 or > 5"


def test_value_sets_with_a_finite_domain():
    booleans = frozenset({True, False})
    everything = Values.everything(booleans)
    assert not everything.minus(Values([True], True, booleans)).empty()
    assert everything.minus(Values([True], True, booleans)).minus(Values([False], True, booleans)).empty()
    text = Values.everything()
    assert not text.minus(Values(["A"], True)).empty()


def test_box_subtraction_splits_into_disjoint_pieces():
    full = {"a": Numbers.everything(), "b": Numbers.everything()}
    box = {"a": Numbers.interval(D(0), True, D(10), True), "b": Numbers.interval(D(0), True, D(10), True)}
    hole = {"a": Numbers.interval(D(0), True, D(5), True)}
    pieces = box_minus(box, hole, full)
    assert len(pieces) == 1 and pieces[0]["a"].describe() == "in (5..10]"


def test_cycle_start_is_the_latest_anniversary_on_or_before_the_date():
    assert cycle_start(4, 1, dt.date(2026, 11, 22)) == dt.date(2026, 4, 1)
    assert cycle_start(4, 1, dt.date(2026, 3, 31)) == dt.date(2025, 4, 1)
    assert cycle_start(4, 1, dt.date(2026, 4, 1)) == dt.date(2026, 4, 1)
    assert cycle_start(2, 29, dt.date(2025, 3, 1)) == dt.date(2025, 2, 28)
