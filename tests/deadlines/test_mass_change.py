"""Mass changes (policy/case_actions.yaml `changes:`, engine/mass_change.py): each outcome the
memos name, continuous eligibility, and the April premium refund.

IM-13 2020: no change -> IM-33C; a reduction -> IM-80 (10 days), then IM-33C; no longer eligible
-> IM-80PRE (10 days), IM-80, then IM-33C. IM-19 2025: while continuous eligibility is in force,
nothing is closed or reduced until the annual renewal. IM-17 2025: April premiums are refunded
when the FPL update makes the case non-premium, or moves CHIP 75 to 74 or 74 to 73.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from engine import PolicyError
from engine.actions.mass_change import compare as compare_any


def compare(engine, case, before, after, **options):
    """The MAGI level-of-care comparison (actions.mass_change)."""
    return compare_any(engine, case, before, after, name="eligibility.level_of_care", **options)

from .conftest import CASES, ROOT, policy_dir


def family(mom_income: str, kids: int = 1, mom_sex: str = "female", income_type: str = "wages") -> dict:
    people = [{"id": "mom", "age": 40, "sex": mom_sex, "tax_filer": True,
               "incomes": [{"type": income_type, "amount": mom_income, "frequency": "monthly"}]}]
    for n in range(1, kids + 1):
        people.append({"id": f"kid{n}", "age": 10, "claimed_by": "mom", "parents": ["mom"]})
    return {"case_id": "mass", "people": people}


def rows(result) -> dict:
    return {row.person: row for row in result.rows}


def test_cola_reduction_and_no_change(engine):
    # January 2020 Railroad Retirement COLA of 1.6% (IM-13 2020); 2019 guideline for 2 = 16,910.
    # kid: $2,156.00 is within MHK with the disregard (153%: 2,156.03 -> $2,157); $2,190.50 is above
    # non-premium CHIP (155%: 2,184.21 -> $2,185) and within CHIP 73 (185%: $2,606.96): a reduction.
    # mom: within UWHS (206% with the disregard: $2,902.88 -> $2,903) both times: no change.
    result = compare(engine, CASES / "cola_before.yaml", "2019-12-31", "2020-01-01",
                     after_case=CASES / "cola_after.yaml", notice_date="2019-12-13")
    kid, mom = rows(result)["kid"], rows(result)["mom"]
    assert (kid.before, kid.after) == ("MHK", "CHIP_73")
    assert kid.columns["continuous_eligibility"] is False
    assert kid.columns["outcome"] == "reduction"
    assert kid.columns["level_after_change"] == "CHIP_73"
    assert kid.columns["notices"] == ["IM-80", "IM-33C"]
    # IM-80 sent Friday December 13, 2019: + 10 = Monday December 23.
    assert kid.columns["response_due"] == dt.date(2019, 12, 23)
    assert kid.columns["premium_refund"] is False
    assert (mom.before, mom.after) == ("UWHS", "UWHS")
    assert mom.columns["outcome"] == "no_change" and mom.columns["notices"] == ["IM-33C"]
    assert mom.columns["response_due"] is None
    sections = {c.section for c in kid.citations}
    assert "Notices" in sections and "Adverse Action Notice (IM-80)" in sections


def test_cola_loss_of_coverage(engine):
    # mom: $2,890.00 is within UWHS (with the disregard, $2,903); x 1.016 = $2,936.24 is above it,
    # and no other level fits a 40-year-old woman in 2020 (no AEG before July 2021): INELIGIBLE.
    result = compare(engine, family("2890.00", income_type="railroad"), "2019-12-31", "2020-01-01",
                     after_case=family("2936.24", income_type="railroad"), notice_date="2020-12-15")
    mom = rows(result)["mom"]
    assert (mom.before, mom.after) == ("UWHS", "INELIGIBLE")
    assert mom.columns["outcome"] == "loss"
    assert mom.columns["notices"] == ["IM-80PRE", "IM-80", "IM-33C"]
    # IM-80PRE sent December 15, 2020: + 10 = Friday December 25 (Christmas Day) -> Monday 28.
    assert mom.columns["response_due"] == dt.date(2020, 12, 28)
    # kid: CHIP 74 both times (185%: $2,606.96 < income <= 225%: $3,170.63).
    assert rows(result)["kid1"].columns["outcome"] == "no_change"


def test_not_covered_before_the_change(engine):
    result = compare(engine, family("9000", mom_sex="male"), "2019-12-31", "2020-01-01")
    mom = rows(result)["mom"]
    assert (mom.before, mom.after) == ("INELIGIBLE", "INELIGIBLE")
    assert mom.columns["outcome"] == "not_covered" and mom.columns["notices"] == []


def test_continuous_eligibility_keeps_coverage_until_renewal(engine):
    # 2025: the 10-year-old is in CHIP 4M before (2024 guideline for 2 = 20,440; $2,000 is 117% FPL:
    # above 110%, within 153% -> $2,607; non-premium, since July 1, 2022) and CHIP 73 after a raise
    # to $2,800 (2025: 21,150; 153% -> $2,697 < $2,800 <= 185% -> $3,261). mom: AEG ($2,000 <=
    # 138% -> $2,351) to UWHS ($2,800 > $2,433). IM-19 2025: continuous eligibility.
    result = compare(engine, family("2000"), "2025-03-31", "2025-04-01",
                     after_case=family("2800"), notice_date="2025-03-14")
    kid, mom = rows(result)["kid1"], rows(result)["mom"]
    assert (kid.before, kid.after) == ("CHIP_4M", "CHIP_73")
    assert kid.columns["continuous_eligibility"] is True
    assert kid.columns["outcome"] == "continued"
    assert kid.columns["level_after_change"] == "CHIP_4M"
    assert kid.columns["notices"] == [] and kid.columns["response_due"] is None
    assert (mom.before, mom.after, mom.columns["outcome"]) == ("AEG", "UWHS", "continued")
    assert any("IM-19 2025" in c.source for c in kid.citations)


@pytest.mark.parametrize("income, before, after", [
    # 2024 guideline for 3 = 25,820; 2025 = 26,650. Tier limits get no disregard.
    ("4050", "CHIP_74", "CHIP_73"),   # 185%: $3,981 < 4,050 in 2024; 4,050 <= $4,109 in 2025
    ("4900", "CHIP_75", "CHIP_74"),   # 225%: $4,842 < 4,900 in 2024; 4,900 <= $4,997 in 2025
    # 153% with the disregard: $3,293 < 3,350; 3,350 <= $3,398: CHIP 4M (ages 6-18), non-premium
    ("3350", "CHIP_73", "CHIP_4M"),
])
def test_april_premium_refund(engine, income, before, after):
    result = compare(engine, family(income, kids=2), "2025-03-31", "2025-04-01")
    kid = rows(result)["kid1"]
    assert (kid.before, kid.after) == (before, after)
    assert kid.columns["outcome"] == "increase"
    assert kid.columns["notices"] == ["IM-33C"]
    assert kid.columns["premium_refund"] is True
    assert any(c.source.startswith("FSD Memorandum IM-17 2025") for c in kid.citations)


def test_no_refund_when_the_change_is_not_for_april_coverage(engine):
    # The same move, but compared from April 1 to May 1: April's premium was already at CHIP 73.
    result = compare(engine, family("4050", kids=2), "2025-04-01", "2025-05-01")
    kid = rows(result)["kid1"]
    assert (kid.before, kid.after, kid.columns["premium_refund"]) == ("CHIP_73", "CHIP_73", False)


def test_no_refund_for_a_move_the_memo_does_not_list(engine):
    functions = engine.program.functions
    assert "actions.premium_refund" in functions
    node = engine.call("actions.premium_refund", "CHIP_75", "CHIP_73", dt.date(2025, 3, 31),
                       dt.date(2025, 4, 1), as_of="2025-04-01")
    assert node.value is False
    node = engine.call("actions.premium_refund", "CHIP_74", "CHIP_75", dt.date(2025, 3, 31),
                       dt.date(2025, 4, 1), as_of="2025-04-01")
    assert node.value is False


def test_a_reduction_in_the_unrecorded_year_is_unknown(engine):
    # Continuous eligibility has no recorded value from April 1, 2023 to March 31, 2024: a result
    # that does not move is still classified, but a reduction cannot be (was it held back?).
    # 2023 guideline for 2: 14,580 + 5,140 = 19,720. kid (10): $2,000 is above 110% ($1,808) and
    # within 153% (2,514.30 -> $2,515): CHIP 4M; $2,600 is above it and within CHIP 73 (185%:
    # 3,040.17 -> $3,041).
    same = compare(engine, family("2000"), "2023-05-31", "2023-06-01")
    assert rows(same)["kid1"].columns["outcome"] == "no_change"
    assert rows(same)["kid1"].columns["continuous_eligibility"] is None
    moved = compare(engine, family("2000"), "2023-05-31", "2023-06-01", after_case=family("2600"))
    kid = rows(moved)["kid1"]
    assert (kid.before, kid.after, kid.columns["outcome"]) == ("CHIP_4M", "CHIP_73", "unknown")
    assert kid.columns["notices"] == []


def test_change_command_json():
    out = subprocess.run([sys.executable, "-m", "engine", "change", str(CASES / "cola_before.yaml"),
                          "--after-case", str(CASES / "cola_after.yaml"), "--before", "2019-12-31",
                          "--after", "2020-01-01", "--notice-date", "2019-12-13", "--format", "json",
                          "--policy", str(policy_dir())], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    kid = next(r for r in data["results"]
               if r["person"] == "kid" and r["name"] == "eligibility.level_of_care")
    assert kid["outcome"] == "reduction" and kid["response_due"] == "2019-12-23"
    assert kid["notices"] == ["IM-80", "IM-33C"] and kid["citations"]


def test_change_command_needs_both_dates():
    out = subprocess.run([sys.executable, "-m", "engine", "change", str(CASES / "cola_before.yaml"),
                          "--before", "2019-12-31", "--policy", str(policy_dir())],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and "Traceback" not in out.stderr
