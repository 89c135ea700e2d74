"""engine.model.parameters: values by date, `until`, tables with each_additional, bands."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from engine import EvaluationError
from engine.model.parameters import Band

from .helpers import FIXTURES, engine, line_of_text, problem

PARAMS = FIXTURES / "parameters" / "params.yaml"
D = Decimal


def param(name: str, on: str):
    return engine("parameters").parameter(f"p.{name}", on)


def no_value(name: str, on: str):
    with pytest.raises(EvaluationError) as excinfo:
        param(name, on)
    return problem(excinfo, "E430")


# -- scalar values by date ---------------------------------------------------------------------

@pytest.mark.parametrize("on,expected", [
    ("2020-01-01", 100), ("2021-06-30", 100), ("2021-07-01", 133), ("2022-12-31", 133),
    ("2023-01-01", 138), ("2099-01-01", 138),
])
def test_value_in_force_on_a_date(on, expected):
    assert param("rate", on).value == expected


def test_effective_dates_of_a_value():
    value = param("rate", "2022-03-01")
    assert value.effective_from == dt.date(2021, 7, 1)
    assert value.effective_to == dt.date(2022, 12, 31)        # the day before the next start
    assert param("rate", "2024-01-01").effective_to is None    # the newest value is open-ended
    assert value.as_dict() == {"name": "p.rate", "effective_from": "2021-07-01",
                               "effective_to": "2022-12-31"}


def test_entry_citation_adds_to_the_parameter_citation():
    sections = [(c.source, c.section) for c in param("rate", "2022-03-01").citations]
    assert ("Parameter Test Manual", "1") in sections
    assert ("Rate Memo 2021", "2") in sections
    assert ("Rate Memo 2021", "2") not in [(c.source, c.section)
                                           for c in param("rate", "2020-06-01").citations]


def test_before_the_first_date_is_e430_naming_the_parameter_and_first_date():
    p = no_value("rate", "2019-12-31")
    assert "p.rate" in p.message
    assert "2019-12-31" in p.message
    assert "2020-01-01" in p.message
    assert p.field == "p.rate"
    assert p.file.endswith("params.yaml")
    assert p.line == line_of_text(PARAMS, "  rate:")


def test_until_ends_a_value():
    assert param("pilot_amount", "2020-12-31").value == 50
    assert param("pilot_amount", "2020-12-31").effective_to == dt.date(2020, 12, 31)
    p = no_value("pilot_amount", "2021-01-01")
    assert "p.pilot_amount" in p.message
    assert "ended on 2020-12-31" in p.message
    assert "2021-07-01" in p.message                       # when the next value starts
    assert param("pilot_amount", "2021-07-01").value == 60


def test_e430_through_a_rule_names_the_rule_and_the_parameter():
    with pytest.raises(EvaluationError) as excinfo:
        engine("parameters").evaluate({"case_id": "c", "people": [{"id": "x"}]},
                                      as_of="2021-03-01", names=["p.pilot_now"])
    p = problem(excinfo, "E430")
    assert p.message.startswith("Rule p.pilot_now for the case")
    assert "p.pilot_amount" in p.message
    assert "2021-03-01" in p.message
    assert "ended on 2020-12-31" in p.message


def test_e430_through_a_rule_reads_as_a_sentence():
    with pytest.raises(EvaluationError) as excinfo:
        engine("parameters").evaluate({"case_id": "c", "people": [{"id": "x"}]},
                                      as_of="2021-03-01", names=["p.pilot_now"])
    message = problem(excinfo, "E430").message
    assert re.search(r"needs parameter \S+ has no value", message) is None


def test_declared_rounding_applies_where_the_parameter_is_read():
    value = param("half_rate", "2024-01-01")
    assert value.value == D("0.125")
    assert value.read() == D("0.13")


# -- tables ------------------------------------------------------------------------------------

@pytest.mark.parametrize("size,expected", [
    (1, 241), (5, 455), (12, 700), (13, 742), (22, 1120),   # 700 + 10 x 42
])
def test_table_lookup_with_each_additional(size, expected):
    assert param("mhf_standard", "2024-01-01").lookup(size) == expected


def test_table_key_as_a_whole_decimal():
    assert param("mhf_standard", "2024-01-01").lookup(D("3")) == 353
    assert param("mhf_standard", "2024-01-01").lookup(D("22.0")) == 1120


@pytest.mark.parametrize("key", [0, -1, D("2.5")])
def test_missing_table_key_is_e431(key):
    with pytest.raises(EvaluationError) as excinfo:
        param("mhf_standard", "2024-01-01").lookup(key)
    p = problem(excinfo, "E431")
    assert "p.mhf_standard" in p.message
    assert repr(key) in p.message
    assert "1, 2, 3" in p.message                      # it lists the rows it has
    assert p.line == line_of_text(PARAMS, "1996-07-16:")


def test_text_keyed_table():
    table = param("frequency_factor", "2024-01-01")
    assert table.lookup("weekly") == D("4.333")
    assert table.lookup("semimonthly") == 2
    with pytest.raises(EvaluationError) as excinfo:
        table.lookup("fortnightly")
    assert "'fortnightly'" in problem(excinfo, "E431").message


def test_table_lookup_through_a_rule_and_its_error():
    e = engine("parameters")
    ev = e.evaluate({"case_id": "c", "people": [{"id": "x", "age": 22}]}, as_of="2024-01-01",
                    names=["p.standard_for_age"])
    assert ev.value("p.standard_for_age", "x") == 1120
    with pytest.raises(EvaluationError) as excinfo:
        e.evaluate({"case_id": "c", "people": [{"id": "x", "age": 0}]}, as_of="2024-01-01",
                   names=["p.standard_for_age"])
    assert "p.mhf_standard" in problem(excinfo, "E431").message


# -- bands -------------------------------------------------------------------------------------

@pytest.mark.parametrize("amount,expected", [
    ("0", 0), ("1305.00", 0), ("1305.01", 52), ("1956.99", 52), ("1957.00", 78),
    ("2499.99", 78), ("2500.01", 99), ("1000000", 99),
])
def test_band_lookup_with_inclusive_and_exclusive_edges(amount, expected):
    assert param("premium", "2025-06-01").lookup(D(amount)) == expected


@pytest.mark.parametrize("amount", ["1305.005", "-1", "2500"])
def test_number_in_no_band_is_e432(amount):
    with pytest.raises(EvaluationError) as excinfo:
        param("premium", "2025-06-01").lookup(D(amount))
    p = problem(excinfo, "E432")
    assert "p.premium" in p.message
    assert amount in p.message
    assert "[1957.00..2500)" in p.message and "(2500..+inf)" in p.message


def test_bands_before_their_first_date_are_e430():
    p = no_value("premium", "2025-03-31")
    assert "2025-04-01" in p.message


def test_band_contains():
    band = Band(D("10"), False, D("20"), True, "x")
    assert not band.contains(D("10"))
    assert band.contains(D("10.0001"))
    assert band.contains(D("20"))
    assert not band.contains(D("20.0001"))
    open_band = Band(None, True, D("5"), False, "y")
    assert open_band.contains(D("-1000000"))
    assert not open_band.contains(D("5"))
    assert open_band.describe() == "(-inf..5)"
    assert band.describe() == "(10..20]"


def test_scalar_parameter_cannot_be_looked_up():
    with pytest.raises(EvaluationError) as excinfo:
        param("rate", "2024-01-01").lookup(1)
    assert problem(excinfo, "E433")
