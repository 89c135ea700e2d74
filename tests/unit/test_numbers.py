"""engine.language.numbers: exact conversion and rounding declared as data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.language.numbers import (NotANumber, Rounding, format_decimal, round_to, step_of, to_decimal)

D = Decimal


@pytest.mark.parametrize("value,step,mode,expected", [
    # Missouri's income limits: always rounded up to the whole dollar.
    ("3242.08", "dollar", "up", "3243"),
    ("5281.58", "dollar", "up", "5282"),
    ("648.58", "dollar", "up", "649"),
    ("1305", "dollar", "up", "1305"),
    ("1305.0001", "dollar", "up", "1306"),
    ("1108.54", "dollar", "down", "1108"),
    ("1108.99", "dollar", "down", "1108"),
    ("2.675", "cent", "half_up", "2.68"),
    ("2.665", "cent", "half_up", "2.67"),
    ("2.674", "cent", "half_up", "2.67"),
    ("0.125", "cent", "half_even", "0.12"),
    ("0.135", "cent", "half_even", "0.14"),
    ("0.1251", "cent", "half_even", "0.13"),
    ("1.02", "five_cents", "up", "1.05"),
    ("1.05", "five_cents", "up", "1.05"),
    ("1.07", "five_cents", "down", "1.05"),
    ("1.075", "five_cents", "half_up", "1.10"),
    ("1.0749", "five_cents", "half_up", "1.05"),
    ("12.34", "tenth", "half_up", "12.3"),
    ("12.34", "whole", "half_up", "12"),
    ("12.345", "hundredth", "half_even", "12.34"),
    ("1.23456", "0.001", "half_up", "1.235"),
    ("1.2", "0.25", "up", "1.25"),
    # up is towards +infinity and down towards -infinity, also for negative amounts.
    ("-1.5", "dollar", "up", "-1"),
    ("-1.5", "dollar", "down", "-2"),
    ("-2.5", "dollar", "half_even", "-2"),
    ("-2.5", "dollar", "half_up", "-3"),
])
def test_round_to(value, step, mode, expected):
    result = round_to(D(value), step, mode)
    assert result == D(expected)
    assert str(result) == expected          # the step's exponent is kept: "5282", "1.10"


def test_round_to_accepts_ints_and_decimal_strings():
    assert round_to(7, "dollar", "up") == 7
    assert round_to("1993.181", "cent", "half_up") == D("1993.18")


def test_rounding_object_applies_and_passes_none():
    rounding = Rounding("up", "dollar")
    assert rounding.apply(D("5281.58")) == D("5282")
    assert rounding.apply(None) is None
    assert rounding.spec == {"mode": "up", "to": "dollar"}


def test_rounding_refuses_an_unknown_mode():
    with pytest.raises(NotANumber):
        Rounding("sideways", "dollar")


@pytest.mark.parametrize("step", ["0", "-0.01", "abc"])
def test_bad_steps_are_refused(step):
    with pytest.raises(NotANumber):
        step_of(step)


def test_named_steps():
    assert step_of("five_cents") == D("0.05")
    assert step_of("cent") == step_of("hundredth") == D("0.01")
    assert step_of("dollar") == step_of("whole") == D("1")


# -- to_decimal --------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [0.1, 1993.18, 1.0])
def test_to_decimal_refuses_floats(raw):
    with pytest.raises(NotANumber) as excinfo:
        to_decimal(raw)
    assert "float" in str(excinfo.value)


@pytest.mark.parametrize("raw", [True, False])
def test_to_decimal_refuses_booleans(raw):
    with pytest.raises(NotANumber) as excinfo:
        to_decimal(raw)
    assert "yes/no" in str(excinfo.value)


@pytest.mark.parametrize("raw", ["abc", "NaN", "Infinity", "", None, [1]])
def test_to_decimal_refuses_non_numbers(raw):
    with pytest.raises(NotANumber):
        to_decimal(raw)


def test_to_decimal_refuses_a_non_finite_decimal():
    with pytest.raises(NotANumber):
        to_decimal(D("Infinity"))


@pytest.mark.parametrize("raw,expected", [
    (5, "5"), (D("1305.01"), "1305.01"), ("1305.01", "1305.01"), (" 42 ", "42"),
    ("$1,305.01", "1305.01"), ("-12.5", "-12.5"), ("5199.60", "5199.60"),
])
def test_to_decimal_converts(raw, expected):
    result = to_decimal(raw)
    assert type(result) is Decimal
    assert str(result) == expected


def test_format_decimal_has_no_exponent():
    assert format_decimal(D("1E+3")) == "1000"
    assert format_decimal(D("0.00001")) == "0.00001"
    assert format_decimal(True) == "true"
    assert format_decimal(12) == "12"
