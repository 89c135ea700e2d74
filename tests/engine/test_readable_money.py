"""Money in every text a person reads is spelled one way: ``$5,199.60`` (issue 11, section 2).

The ``money(x)`` built-in of expressions, the ``money`` filter of ``because`` texts and notices,
and the text output of ``policy eval`` all go through ``engine.language.numbers.money_text``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from engine import Engine
from engine.cli.eval_text import render_text
from engine.language.builtins import BUILTINS
from engine.language.numbers import money_text
from engine.language.reasons import ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("value,expected", [
    (Decimal("5199.60"), "$5,199.60"),
    (Decimal("5199.6"), "$5,199.60"),           # cents as people write them
    (2650, "$2,650"),
    (Decimal("2650"), "$2,650"),
    (Decimal("1400.00"), "$1,400.00"),
    (Decimal("5281.5833"), "$5,281.5833"),      # never rounded for display
    (Decimal("-3.5"), "-$3.50"),
    (0, "$0"),
    (Decimal("12345678.9"), "$12,345,678.90"),
    (None, "no value"),
    # written with an exponent, negative zero, whole amounts of every size, below the cent
    (Decimal("1E+3"), "$1,000"),
    (Decimal("0E+2"), "$0"),
    (Decimal("-0.00"), "$0.00"),
    (Decimal("-0"), "$0"),
    (Decimal("0.1"), "$0.10"),
    (Decimal("-1234567.5"), "-$1,234,567.50"),
    (Decimal("1E-10"), "$0.0000000001"),
    (-2650, "-$2,650"),
    (10 ** 12, "$1,000,000,000,000"),
    # more digits than the context keeps: rounded to it (as abs() always did), never cut
    (Decimal("123456789012345678901234567890.12"), "$123,456,789,012,345,678,901,234,567,900"),
])
def test_money_text(value, expected):
    assert money_text(value) == expected


def test_the_builtin_and_the_filter_spell_money_the_same_way():
    assert BUILTINS["money"].function(Decimal("5199.60")) == "$5,199.60"
    template = ENVIRONMENT.from_string("{{ amount | money }} against {{ limit | money }}")
    assert template.render(amount=Decimal("5199.60"), limit=6463) == "$5,199.60 against $6,463"


def test_money_refuses_what_is_not_an_amount():
    with pytest.raises(TypeError):
        money_text("5199.60")
    with pytest.raises(TypeError):
        money_text(True)


def test_text_spells_yes_no_and_no_value_as_a_person_reads_them():
    text = BUILTINS["text"].function
    assert [text(True), text(False), text(None)] == ["yes", "no", "no value"]
    assert [text(Decimal("5199.60")), text(3), text("MHF")] == ["5199.60", "3", "MHF"]


@pytest.fixture(scope="module")
def engine():
    return Engine.load(ROOT / "policy")


def test_why_not_names_amounts_with_separators(engine):
    evaluation = engine.evaluate(ROOT / "examples" / "jones.yaml")
    why_not = next(r for r in evaluation.results
                   if r.name == "eligibility.why_not" and r.person == "kid1").value
    assert "MHK: household income $5,199.60 is above the limit of $2,650 for 3 (1830.000.00)" \
        in why_not
    assert not any(re.search(r"\$\d{4}", text) for text in why_not)


def test_transfer_penalty_reason_spells_the_divisor_as_money(engine):
    # The manual's example (tests/cases/nonmagi/long_term_care.yaml): $80,000 transferred, the
    # average private-pay nursing rate in force on the application date $6,463.
    case = {"case_id": "transfer", "people": [
        {"id": "beth", "age": 85, "application_date": "2019-04-09", "transfer_value": "80000",
         "transfer_date": "2016-02-15"}]}
    evaluation = engine.evaluate(case, as_of="2019-04-09")
    reason = next(r.because for r in evaluation.results
                  if r.name == "mhabd.transfer_penalty_months")
    assert reason.startswith("$80,000 / $6,463 (the average private-pay nursing rate"), reason


#: The example cases (sweeps.yaml describes sweeps of a case, not a case).
CASE_EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.yaml") if p.name != "sweeps.yaml")


@pytest.mark.parametrize("example", CASE_EXAMPLES)
def test_no_python_literals_or_unseparated_money_in_text_output(engine, example):
    evaluation = engine.evaluate(ROOT / "examples" / example)
    for explain in (False, True):
        text = render_text(evaluation, engine, explain=explain)
        for line in text.splitlines():
            assert not re.search(r"\bNone\b|\bTrue\b|\bFalse\b|Decimal\(|Band\(", line), line
            assert not re.search(r"\$\d{4,}", line), line
