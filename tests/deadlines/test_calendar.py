"""Missouri's business-day calendar (policy/calendar.yaml, RSMo 9.010) and engine.model.calendars."""

from __future__ import annotations

import datetime as dt

import pytest

D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def missouri(engine):
    return engine.program.calendars["calendar.missouri"]


def test_2025_holidays_are_the_twelve_of_rsmo_9_010(missouri):
    # RSMo 9.010: Jan 1; 3rd Monday of January; Feb 12; 3rd Monday in February; May 8; last Monday
    # in May; July 4; 1st Monday in September; 2nd Monday in October; Nov 11; 4th Thursday in
    # November; Dec 25. None falls on a Sunday in 2025, so there is no observed day.
    assert {d.isoformat(): n for d, n in missouri.holidays_in(2025).items()} == {
        "2025-01-01": "New Year's Day",
        "2025-01-20": "Martin Luther King Day",
        "2025-02-12": "Lincoln Day",
        "2025-02-17": "Washington's Birthday",
        "2025-05-08": "Truman Day",
        "2025-05-26": "Memorial Day",
        "2025-07-04": "Independence Day",
        "2025-09-01": "Labor Day",
        "2025-10-13": "Columbus Day",
        "2025-11-11": "Veterans Day",
        "2025-11-27": "Thanksgiving Day",
        "2025-12-25": "Christmas Day",
    }


@pytest.mark.parametrize("sunday, monday", [
    ("2022-12-25", "2022-12-26"),   # Christmas Day 2022
    ("2023-01-01", "2023-01-02"),   # New Year's Day 2023
    ("2023-02-12", "2023-02-13"),   # Lincoln Day 2023
    ("2022-05-08", "2022-05-09"),   # Truman Day 2022
    ("2027-07-04", "2027-07-05"),   # Independence Day 2027
])
def test_a_sunday_holiday_is_kept_on_the_monday_after(missouri, sunday, monday):
    assert D(sunday).weekday() == 6
    assert missouri.closed_because(D(monday)).endswith("(observed)")
    assert not missouri.is_business_day(D(monday))
    assert missouri.is_business_day(D(monday) + dt.timedelta(days=1))


def test_a_saturday_holiday_moves_nowhere(missouri):
    # July 4, 2026 is a Saturday; RSMo 9.010 moves only Sunday holidays, so Friday July 3 is open.
    assert missouri.closed_because(D("2026-07-04")) == "Independence Day"
    assert missouri.is_business_day(D("2026-07-03"))


def test_weekend_days_are_named(missouri):
    assert missouri.closed_because(D("2025-03-15")) == "a Saturday"
    assert missouri.closed_because(D("2025-03-16")) == "a Sunday"
    assert missouri.closed_because(D("2025-03-17")) is None


def test_memorial_day_is_the_last_monday_even_in_a_five_monday_may(missouri):
    # May 2026 has Mondays on the 4th, 11th, 18th and 25th; May 2027 has five (3rd ... 31st).
    assert missouri.closed_because(D("2026-05-25")) == "Memorial Day"
    assert missouri.closed_because(D("2027-05-31")) == "Memorial Day"
    assert missouri.is_business_day(D("2027-05-24"))


def test_a_year_outside_the_calendar_is_refused(missouri):
    with pytest.raises(ValueError, match="covers the years"):
        missouri.holidays_in(3000)
