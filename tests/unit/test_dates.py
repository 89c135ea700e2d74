"""engine.language.dates: month arithmetic with end-of-month clamping, ages, whole units between dates."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.language.dates import (add_days, add_months, add_years, days_between, end_of_month,
                          months_between, parse_date, years_between)

d = dt.date


@pytest.mark.parametrize("start,months,expected", [
    (d(2024, 1, 31), 1, d(2024, 2, 29)),      # leap year
    (d(2023, 1, 31), 1, d(2023, 2, 28)),
    (d(2024, 1, 31), 2, d(2024, 3, 31)),      # the day comes back when the month has it
    (d(2024, 3, 31), 1, d(2024, 4, 30)),
    (d(2024, 3, 31), -1, d(2024, 2, 29)),
    (d(2024, 1, 15), -1, d(2023, 12, 15)),    # across a year boundary, backwards
    (d(2024, 11, 30), 3, d(2025, 2, 28)),     # and forwards
    (d(2024, 5, 10), 0, d(2024, 5, 10)),
    (d(2024, 5, 10), 24, d(2026, 5, 10)),
])
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


def test_add_months_accepts_iso_strings_and_decimals():
    from decimal import Decimal
    assert add_months("2024-01-31", Decimal("1")) == d(2024, 2, 29)


def test_add_years_from_february_29():
    assert add_years(d(2024, 2, 29), 1) == d(2025, 2, 28)
    assert add_years(d(2024, 2, 29), 4) == d(2028, 2, 29)


def test_add_days_and_end_of_month():
    assert add_days(d(2024, 2, 28), 1) == d(2024, 2, 29)
    assert add_days(d(2023, 2, 28), 1) == d(2023, 3, 1)
    assert add_days(d(2024, 3, 1), -1) == d(2024, 2, 29)
    assert end_of_month(d(2024, 2, 10)) == d(2024, 2, 29)
    assert end_of_month(d(2023, 2, 10)) == d(2023, 2, 28)
    assert end_of_month("2024-12-01") == d(2024, 12, 31)


# -- ages --------------------------------------------------------------------------------------

def test_age_the_day_before_and_on_the_birthday():
    born = d(2006, 6, 15)
    assert years_between(born, d(2024, 6, 14)) == 17
    assert years_between(born, d(2024, 6, 15)) == 18
    assert years_between(born, d(2024, 6, 16)) == 18


def test_age_of_a_february_29_birthday():
    born = d(2004, 2, 29)
    assert years_between(born, d(2005, 2, 28)) == 0      # no Feb 29 in 2005: the birthday is
    assert years_between(born, d(2005, 3, 1)) == 1       # reached on March 1
    assert years_between(born, d(2008, 2, 28)) == 3
    assert years_between(born, d(2008, 2, 29)) == 4


def test_age_on_the_day_of_birth_and_before_it():
    assert years_between(d(2024, 1, 1), d(2024, 1, 1)) == 0
    assert years_between(d(2024, 6, 1), d(2020, 6, 1)) == -4


# -- whole units between dates -----------------------------------------------------------------

@pytest.mark.parametrize("a,b,expected", [
    (d(2024, 1, 15), d(2024, 2, 14), 0),
    (d(2024, 1, 15), d(2024, 2, 15), 1),
    (d(2024, 1, 15), d(2024, 3, 14), 1),
    (d(2024, 1, 15), d(2024, 3, 15), 2),
    (d(2024, 1, 31), d(2024, 2, 29), 1),      # end of month to end of a shorter month
    (d(2023, 1, 31), d(2023, 2, 28), 1),
    (d(2024, 1, 31), d(2024, 2, 28), 0),      # 2024 has a Feb 29, so Feb 28 is not a month yet
    (d(2023, 11, 20), d(2024, 2, 20), 3),
    (d(2024, 3, 15), d(2024, 1, 15), -2),
])
def test_months_between(a, b, expected):
    assert months_between(a, b) == expected


@pytest.mark.parametrize("a,b,expected", [
    (d(2024, 2, 28), d(2024, 3, 1), 2),       # across the leap day
    (d(2023, 2, 28), d(2023, 3, 1), 1),
    (d(2024, 1, 1), d(2025, 1, 1), 366),
    (d(2023, 1, 1), d(2024, 1, 1), 365),
    (d(2024, 3, 1), d(2024, 2, 28), -2),
])
def test_days_between(a, b, expected):
    assert days_between(a, b) == expected


def test_parse_date():
    assert parse_date("2024-02-29") == d(2024, 2, 29)
    assert parse_date(dt.datetime(2024, 2, 29, 13, 5)) == d(2024, 2, 29)
    for bad in ("2023-02-29", "29/02/2024", 20240229, None):
        with pytest.raises(ValueError):
            parse_date(bad)
