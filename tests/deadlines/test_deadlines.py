"""Deadlines as data (policy/deadlines.yaml, engine/actions/deadlines.py): each deadline at month ends,
in leap years, and at weekend and holiday edges.

Every expected date is counted by hand in the comment beside it: the day the period counts from
is not counted (RSMo 1.040); `response_period` deadlines move a last day on a Saturday, Sunday or
Missouri holiday to the next business day (an assumption, see policy/deadlines.yaml);
`fixed_period` deadlines never move.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from engine import Engine, PolicyError
from engine.actions.deadlines import explain

from .conftest import policy_dir


def due(engine, name, start, **options) -> str:
    return explain(engine, name, start, **options).due.isoformat()


@pytest.mark.parametrize("start, expected", [
    ("2025-06-06", "2025-06-16"),   # Fri + 10 = Mon June 16, a business day
    ("2025-06-24", "2025-07-07"),   # + 10 = Fri July 4 (Independence Day) -> Sat -> Sun -> Mon July 7
    ("2025-01-31", "2025-02-10"),   # month end: January 31 + 10 = Monday February 10
    ("2024-02-19", "2024-02-29"),   # leap year: + 10 = Thursday February 29
    ("2023-02-19", "2023-03-01"),   # not a leap year: + 10 = Wednesday March 1
    ("2025-03-05", "2025-03-17"),   # + 10 = Saturday March 15 -> Monday March 17
    ("2022-12-16", "2022-12-27"),   # + 10 = Monday Dec 26, Christmas observed (Dec 25 a Sunday) -> Tue 27
    ("2025-12-22", "2026-01-02"),   # year end: + 10 = Thursday January 1 (New Year's Day) -> Friday 2
    ("2026-02-06", "2026-02-17"),   # + 10 = Monday February 16 (Washington's Birthday) -> Tuesday 17
])
def test_im31a_ten_days(engine, start, expected):
    assert due(engine, "im31a", start) == expected


def test_roll_none_keeps_the_holiday(engine):
    # policy dates --roll none: 2025-06-24 + 10 = July 4, not moved.
    result = explain(engine, "deadlines.im31a", "2025-06-24", roll="none")
    assert result.due.isoformat() == "2025-07-04" and result.roll == "none"


def test_im31a_explains_each_move(engine):
    result = explain(engine, "im31a", "2025-06-24")
    assert result.steps == [
        "10 days from 2025-06-24 (the day it counts from is not counted): 2025-07-04",
        "2025-07-04 is Independence Day: moved to 2025-07-05",
        "2025-07-05 is a Saturday: moved to 2025-07-06",
        "2025-07-06 is a Sunday: moved to 2025-07-07",
    ]
    assert result.assumptions and "RSMo 621.205.2" in result.assumptions[0]
    sections = {c.section for c in result.citations}
    assert "1805.000.00 Verification (Request for Information, IM-31A)" in sections
    assert "9.010 Public holidays" in sections
    assert "621.205.2 (Administrative Hearing Commission)" in sections


@pytest.mark.parametrize("start, extended, expected", [
    ("2025-06-14", False, "2025-07-07"),  # + 20 = Fri July 4 -> Mon July 7
    ("2025-06-14", True, "2025-07-29"),   # extended to 45: June 14 + 45 = Tuesday July 29
    ("2024-02-09", False, "2024-02-29"),  # leap year: + 20 = Thursday February 29
    ("2024-02-09", True, "2024-03-25"),   # + 45: Feb 29 is day 20, March 25 (Monday) day 45
    ("2025-01-31", False, "2025-02-20"),  # month end: + 20 = Thursday February 20
])
def test_im2e_part2_twenty_days_extendable_to_45(engine, start, extended, expected):
    assert due(engine, "im2e_part2", start, extended=extended) == expected


@pytest.mark.parametrize("start, extended, expected", [
    ("2024-04-10", False, "2024-07-09"),  # before IM-22 2024: 90 days -> Tuesday July 9
    ("2024-04-11", False, "2024-07-15"),  # from April 11, 2024: 90 + 5 = 95 days -> Monday July 15
    ("2025-06-02", False, "2025-09-05"),  # + 95: June 30 is day 28, July 31 day 59, Aug 31 day 90, Sept 5
    ("2025-06-02", True, "2025-10-06"),   # + 30 more = Sunday October 5 -> Monday October 6
    ("2024-01-01", False, "2024-04-01"),  # leap year, 90 days: Jan 31 (30), Feb 29 (59), Sunday Mar 31 (90) -> Apr 1
])
def test_reasonable_opportunity(engine, start, extended, expected):
    assert due(engine, "reasonable_opportunity", start, extended=extended) == expected


def test_reasonable_opportunity_cites_the_mailing_days_memo(engine):
    result = explain(engine, "reasonable_opportunity", "2024-04-11")
    assert result.amount == 95
    assert any(c.memo == "IM-22 2024" for c in result.citations)
    assert explain(engine, "reasonable_opportunity", "2024-04-10").amount == 90


@pytest.mark.parametrize("name, start, expected", [
    ("ssn_denial", "2025-05-20", "2025-06-19"),          # the 30th day after May 20 (Thursday)
    ("ssn_denial", "2025-01-31", "2025-03-02"),          # Sunday March 2: a fixed period does not move
    ("ssn_denial", "2024-01-30", "2024-02-29"),          # leap year
    ("im80pre", "2019-12-13", "2019-12-23"),             # Friday + 10 = Monday December 23
    ("im80pre", "2020-12-15", "2020-12-28"),             # + 10 = Christmas (Friday) -> Monday Dec 28
    ("im80", "2019-12-13", "2019-12-23"),
    ("im80", "2025-02-28", "2025-03-10"),                # month end: + 10 = Monday March 10
    ("sanction_adverse_action", "2025-03-03", "2025-03-23"),  # + 20 = Sunday March 23, not moved
    ("sanction_adverse_action", "2024-02-09", "2024-02-29"),  # leap year
    ("chip_premium_free_coverage", "2024-01-01", "2024-03-01"),  # leap: Jan 31 (30), Feb 29 (59), Mar 1 (60)
    ("chip_premium_free_coverage", "2025-01-01", "2025-03-02"),  # Feb 28 (58), Mar 2 (60)
    ("counseling_good_cause", "2023-11-30", "2024-02-29"),   # 3 months; no February 30: the month's last day
    ("counseling_good_cause", "2024-11-30", "2025-02-28"),
    ("counseling_good_cause", "2025-01-31", "2025-04-30"),
    ("counseling_evaluation", "2024-02-29", "2026-02-28"),   # 2 years from a leap day
    ("counseling_evaluation", "2025-03-14", "2027-03-14"),
    ("tmh_report_month_4", "2025-01-15", "2025-04-30"),      # month 1 = January; month 4 = April
    ("tmh_report_month_7", "2025-01-15", "2025-07-31"),
    ("tmh_report_month_10", "2025-01-15", "2025-10-31"),
    ("tmh_report_month_4", "2023-11-30", "2024-02-29"),      # month 4 is a leap February
    ("tmh_report_month_10", "2024-12-01", "2025-09-30"),
    ("ewhs_end", "2024-02-29", "2025-02-28"),                # one year after a leap day
    ("ewhs_end", "2025-06-30", "2026-06-30"),
    ("postpartum_end", "2025-03-10", "2026-03-31"),          # 12 months, to the end of that month
    ("postpartum_end", "2024-02-29", "2025-02-28"),
    ("postpartum_end", "2024-12-31", "2025-12-31"),
])
def test_other_deadlines(engine, name, start, expected):
    assert due(engine, name, start) == expected


def test_every_deadline_is_cited_and_has_a_counting_rule(engine):
    deadlines = engine.program.deadlines
    assert len(deadlines) >= 15
    for deadline in deadlines.values():
        assert deadline.citations, deadline.name
        assert deadline.counting is not None and deadline.counting.citations, deadline.name


def test_deadlines_are_functions_of_their_start(engine):
    # The same date from the function the compiler made of the deadline, and None without a start.
    assert engine.call("deadlines.im31a", dt.date(2025, 6, 24), as_of="2025-06-24").value == dt.date(2025, 7, 7)
    assert engine.call("deadlines.im2e_part2_extended", dt.date(2025, 6, 14), as_of="2025-06-14").value \
        == dt.date(2025, 7, 29)
    assert engine.call("deadlines.im31a", None, as_of="2025-06-24").value is None


def test_the_period_is_read_on_the_start_date_not_the_evaluation_date(engine):
    # A period that started before April 11, 2024 keeps 90 days even when evaluated later.
    node = engine.call("deadlines.reasonable_opportunity", dt.date(2024, 4, 10), as_of="2024-06-01")
    assert node.value == dt.date(2024, 7, 9)


def test_unknown_deadline_is_a_clear_error(engine):
    with pytest.raises(PolicyError, match="no deadline named im31b.*Did you mean"):
        explain(engine, "im31b", "2025-06-06")


def test_no_extension_is_a_clear_error(engine):
    with pytest.raises(PolicyError, match="has no extension"):
        explain(engine, "im31a", "2025-06-06", extended=True)


# -- the engine, generically: business-day counting and compile errors, on small rulebooks ------

CALENDAR = """
rulebook: cal
version: "1"
calendars:
  test:
    weekend: [saturday, sunday]
    holidays: [{name: Founders Day, month: 3, day: 3}]
    citation: {source: Test, section: "1"}
counting:
  business:
    days: business
    roll: none
    calendar: test
    citation: {source: Test, section: "2"}
  moves:
    days: calendar
    roll: previous_business_day
    calendar: test
    citation: {source: Test, section: "3"}
deadlines:
  five_business_days:
    title: Five business days
    counts_from: the notice
    period: {days: 5}
    counting: business
    citation: {source: Test, section: "4"}
  back:
    title: Moved back
    counts_from: the notice
    period: {days: 2}
    counting: moves
    citation: {source: Test, section: "5"}
"""

ENTITIES = """
rulebook: case
version: "1"
entities:
  case:
    facts: {case_id: {type: text}}
"""


def _load(tmp_path: Path, text: str) -> Engine:
    (tmp_path / "cal.yaml").write_text(text)
    (tmp_path / "case.yaml").write_text(ENTITIES)
    return Engine.load(tmp_path)


def test_business_days_skip_weekends_and_holidays(tmp_path):
    engine = _load(tmp_path, CALENDAR)
    # From Thursday Feb 26, 2026: Fri 27 (1), Mon Mar 2 (2), Tue 3 is Founders Day, Wed 4 (3),
    # Thu 5 (4), Fri 6 (5).
    assert due(engine, "five_business_days", "2026-02-26") == "2026-03-06"


def test_previous_business_day(tmp_path):
    engine = _load(tmp_path, CALENDAR)
    # Thursday Mar 5, 2026 + 2 = Saturday Mar 7 -> Friday Mar 6.
    assert due(engine, "back", "2026-03-05") == "2026-03-06"
    # Sunday Mar 1 + 2 = Tuesday Mar 3 (Founders Day) -> Monday Mar 2.
    assert due(engine, "back", "2026-03-01") == "2026-03-02"


@pytest.mark.parametrize("change, message", [
    (("counting: business\n    citation: {source: Test, section: \"4\"}",
      "counting: nowhere\n    citation: {source: Test, section: \"4\"}"),
     "names the counting rule cal.nowhere, which is not declared"),
    (("calendar: test\n    citation: {source: Test, section: \"2\"}",
      "calendar: other.test\n    citation: {source: Test, section: \"2\"}"),
     "does not list 'other' in `uses`"),
])
def test_compile_errors_name_the_deadline(tmp_path, change, message):
    old, new = change
    assert old in CALENDAR
    with pytest.raises(PolicyError, match=message):
        _load(tmp_path, CALENDAR.replace(old, new, 1))


def test_a_deadline_may_not_hide_a_function(tmp_path):
    text = CALENDAR + """
functions:
  back:
    formula: 1
    citation: {source: Test, section: "6"}
"""
    with pytest.raises(PolicyError, match="already defines a function"):
        _load(tmp_path, text)


def test_the_policy_directory_copy_still_loads(tmp_path):
    # The rulebooks, copied elsewhere, load and count the same (templates are found beside them).
    target = tmp_path / "policy"
    shutil.copytree(policy_dir(), target)
    assert due(Engine.load(target), "im31a", "2025-06-24") == "2025-07-07"
