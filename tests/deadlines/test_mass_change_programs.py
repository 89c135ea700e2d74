"""Mass changes for every program (policy/mass_changes.yaml, engine/mass_change.compare_all):
hand-worked cases for each outcome, from the memos' figures.

Guidelines (Missouri applies them from April 1): 2024 first person $15,060, each additional
$5,380; 2025 $15,650 and $5,500. Monthly standards are rounded up to the dollar (Appendix J).
The non-MAGI programs count the January COLA of Social Security, SSI, VA and Railroad Retirement
income from January (IM-99 2023, IM-66 2024), except that QMB/SLMB leave the Social Security and
SSI COLA out until the April guideline update (0865.010.10.20; Social Security Act 1905(p)(2)(D)).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from engine.actions.mass_change import compare_all, select


def person(pid: str, age: int, incomes=(), **facts) -> dict:
    out = {"id": pid, "age": age, "sex": facts.pop("sex", "female"),
           "incomes": [{"type": kind, "amount": amount, "frequency": "monthly",
                        **({"ssdi": True} if kind == "social_security" and facts.get("ssdi") else {})}
                       for kind, amount in incomes]}
    facts.pop("ssdi", None)
    out.update(facts)
    return out


def case(*people) -> dict:
    return {"case_id": "mass", "people": list(people)}


def retiree(kind: str, amount: str) -> dict:
    return case(person("gran", 70, [(kind, amount)], medicare=True))


def worker(wages: str, ssdi: str) -> dict:
    return case(person("w", 40, [("wages", wages), ("social_security", ssdi)], disabled=True,
                       employed=True, ssdi=True))


def blind_couple(spouse_wages: str) -> dict:
    return case(person("b", 50, blind=True, spouse="s"),
                person("s", 50, [("wages", spouse_wages)], sex="male", spouse="b"))


def row(result, compared: str, who):
    rows = [r for change, r in result.rows() if change.compare == compared and r.person == who]
    assert len(rows) == 1, f"{compared} for {who}: {rows}"
    return rows[0]


def test_every_program_the_contract_names_is_compared(engine):
    compared = {c.compare for c in select(engine.program)}
    assert {"eligibility.level_of_care", "chip.family_premium", "msp.level", "mhabd.level",
            "mhabd.spend_down", "twha.premium", "nonmagi.bp_sighted_spouse_within"} <= compared
    assert "mhabd.level" in engine.program.rules and engine.program.rules["mhabd.level"].output


# ---------------------------------------------------------------- Medicare Savings Programs

def test_railroad_cola_in_january_reduces_qmb_to_slmb1(engine):
    # 2024 QMB for 1: 15,060 / 12 = $1,255; SLMB1 (120%): $1,506. Railroad $1,270 - $20 = $1,250:
    # QMB. January 2025 COLA of 2.5%: $1,301.75 - $20 = $1,281 (rounded down) > $1,255: SLMB1.
    # The Railroad COLA is not among the types QMB defers. IM-80 sent Saturday December 7, 2024:
    # + 10 days = Tuesday December 17; effective the first day of the next month.
    result = compare_all(engine, retiree("railroad", "1270"), "2024-12-31", "2025-01-01",
                         after_case=retiree("railroad", "1301.75"), notice_date="2024-12-07")
    msp = row(result, "msp.level", "gran")
    assert (msp.before, msp.after) == ("QMB", "SLMB1")
    assert msp.columns["outcome"] == "reduction" and msp.columns["adverse"] is True
    assert msp.columns["notices"] == ["IM-80"]
    assert msp.columns["response_due"] == dt.date(2024, 12, 17)
    assert msp.columns["effective"] == dt.date(2025, 1, 1)
    assert any("Legal Aspects" in c.source for c in msp.citations)
    # MHABD counts it too: 2024 OAA/PTD maximum 15,060 x 85% / 12 = 1,066.75 -> $1,067; spend down
    # $1,250 - $1,067 = $183, then $1,281 - $1,067 = $214: an increase, an adverse action.
    spend = row(result, "mhabd.spend_down", "gran")
    assert (spend.before, spend.after) == (Decimal(183), Decimal(214))
    assert spend.columns["outcome"] == "increase" and spend.columns["notices"] == ["IM-80"]


def test_railroad_cola_ends_slmb2(engine):
    # 2024 SLMB2 (135%): 15,060 x 1.35 / 12 = 1,694.25 -> $1,695. $1,700 - $20 = $1,680: SLMB2;
    # $1,742.50 - $20 = $1,722 > $1,695: no Medicare Savings Program: a loss.
    result = compare_all(engine, retiree("railroad", "1700"), "2024-12-31", "2025-01-01",
                         after_case=retiree("railroad", "1742.50"), notice_date="2024-12-07")
    msp = row(result, "msp.level", "gran")
    assert (msp.before, msp.after, msp.columns["outcome"]) == ("SLMB2", "INELIGIBLE", "loss")
    assert msp.columns["notices"] == ["IM-80"] and msp.columns["level_after_change"] == "INELIGIBLE"


def test_social_security_cola_waits_for_april_for_qmb(engine):
    # December 2024: $1,268.29; January 2025 with the 2.5% COLA: $1,300.00. QMB counts
    # 1,300 / 1.025 = $1,268.29 until April: $1,248 <= $1,255 both times: no change (without the
    # deferral $1,280 would be SLMB1). MHABD counts the COLA: spend down $181 -> $213.
    result = compare_all(engine, retiree("social_security", "1268.29"), "2024-12-31", "2025-01-01",
                         after_case=retiree("social_security", "1300"), notice_date="2024-12-07")
    msp = row(result, "msp.level", "gran")
    assert (msp.before, msp.after, msp.columns["outcome"]) == ("QMB", "QMB", "no_change")
    assert msp.columns["notices"] == [] and msp.columns["response_due"] is None
    sections = {c.section for c in msp.citations if c.section}
    assert any(section.startswith("0865.010.10.20") for section in sections)
    assert any(c.source.startswith("FSD Memorandum IM-27 1999") for c in msp.citations)
    spend = row(result, "mhabd.spend_down", "gran")
    assert (spend.before, spend.after, spend.columns["outcome"]) == (Decimal(181), Decimal(213), "increase")


def test_the_april_update_raises_slmb1_to_qmb(engine):
    # Social Security $1,312.00 since January. March 31, 2025: QMB counts 1,312 / 1.025 =
    # $1,280.00 - $20 = $1,260 > $1,255: SLMB1. April 1: the COLA counts and so does the new QMB
    # standard of $1,305 (IM-13 2025): $1,312 - $20 = $1,292: QMB, an increase, effective April 1.
    result = compare_all(engine, retiree("social_security", "1312"), "2025-03-31", "2025-04-01",
                         notice_date="2025-03-08")
    msp = row(result, "msp.level", "gran")
    assert (msp.before, msp.after, msp.columns["outcome"]) == ("SLMB1", "QMB", "increase")
    assert msp.columns["adverse"] is False and msp.columns["notices"] == ["notice of change"]
    assert msp.columns["effective"] == dt.date(2025, 4, 1)


def test_the_april_update_gains_slmb2(engine):
    # Social Security $1,770.00 since January. March 31, 2025: 1,770 / 1.025 = $1,726.83 - $20 =
    # $1,706 (rounded down) > $1,695 (2024 SLMB2): no MSP. April 1: $1,750 <= $1,761 (IM-13 2025
    # SLMB2 for one): SLMB2, a gain.
    result = compare_all(engine, retiree("social_security", "1770"), "2025-03-31", "2025-04-01",
                         notice_date="2025-03-08")
    msp = row(result, "msp.level", "gran")
    assert (msp.before, msp.after, msp.columns["outcome"]) == ("INELIGIBLE", "SLMB2", "gain")
    assert msp.columns["notices"] == ["notice of change"]
    assert msp.columns["effective"] == dt.date(2025, 4, 1)


def test_the_issue_example_qmb_with_a_spend_down_across_april(engine):
    # A 70-year-old with $1,300 of Social Security. QMB both times ($1,248 <= $1,255, then
    # $1,280 <= $1,305); MHABD spend down both times: $1,280 - $1,067 = $213, then the 2025
    # maximum (IM-13 2025: $1,109): $1,280 - $1,109 = $171, a reduction adjusted for the month
    # after the month of the change (0840.010.30): April.
    result = compare_all(engine, retiree("social_security", "1300"), "2025-03-31", "2025-04-01",
                         notice_date="2025-03-08")
    assert row(result, "msp.level", "gran").columns["outcome"] == "no_change"
    level = row(result, "mhabd.level", "gran")
    assert (level.before, level.after, level.columns["outcome"]) == ("SPEND_DOWN", "SPEND_DOWN", "no_change")
    spend = row(result, "mhabd.spend_down", "gran")
    assert (spend.before, spend.after, spend.columns["outcome"]) == (Decimal(213), Decimal(171), "reduction")
    assert spend.columns["notices"] == ["notice of change"]
    assert spend.columns["effective"] == dt.date(2025, 4, 1)
    assert row(result, "eligibility.level_of_care", "gran").columns["outcome"] == "not_covered"


# ---------------------------------------------------------------- MHABD

def test_january_cola_moves_non_spend_down_to_spend_down(engine):
    # $1,080 - $20 = $1,060 <= $1,067: OAA/PTD non-spend-down. January: $1,107.00 (x 1.025) -
    # $20 = $1,087 > $1,067: spend down of $20. 0840.010.10: an adverse action period, then the
    # first day of the following month.
    result = compare_all(engine, retiree("social_security", "1080"), "2024-12-31", "2025-01-01",
                         after_case=retiree("social_security", "1107"), notice_date="2024-12-07")
    level = row(result, "mhabd.level", "gran")
    assert (level.before, level.after, level.columns["outcome"]) == ("OAA_PTD", "SPEND_DOWN", "reduction")
    assert level.columns["notices"] == ["IM-80"]
    assert level.columns["response_due"] == dt.date(2024, 12, 17)
    assert level.columns["effective"] == dt.date(2025, 1, 1)
    assert any(c.section.startswith("0840.010.10") for c in level.citations if c.section)
    spend = row(result, "mhabd.spend_down", "gran")
    assert (spend.before, spend.after, spend.columns["outcome"]) == (Decimal(0), Decimal(20), "increase")


def test_april_update_moves_spend_down_back_to_non_spend_down(engine):
    # $1,087 > $1,067 (2024): spend down $20; $1,087 <= $1,109 (2025): non-spend-down.
    result = compare_all(engine, retiree("social_security", "1107"), "2025-03-31", "2025-04-01")
    level = row(result, "mhabd.level", "gran")
    assert (level.before, level.after, level.columns["outcome"]) == ("SPEND_DOWN", "OAA_PTD", "increase")
    assert level.columns["notices"] == ["notice of change"]
    assert level.columns["effective"] == dt.date(2025, 4, 1)     # a better benefit: that month
    spend = row(result, "mhabd.spend_down", "gran")
    assert (spend.before, spend.after, spend.columns["outcome"]) == (Decimal(20), Decimal(0), "reduction")
    assert spend.columns["response_due"] is None


def test_a_higher_resource_limit_gains_mhabd_and_continuous_enrollment_holds_back_a_loss(engine):
    # The MHABD asset limit for one: $5,035 from July 1, 2021, $5,301.85 from July 1, 2022 (IM-77
    # 2022). Resources of $5,200 are over the first and within the second; $800 of Social Security
    # less $20 is $780, within the 2022 OAA/PTD maximum (13,590 x 85% / 12 = 962.63 -> $963).
    gran = {"id": "gran", "age": 70, "sex": "female", "resources": "5200",
            "incomes": [{"type": "social_security", "amount": "800", "frequency": "monthly"}]}
    result = compare_all(engine, case(gran), "2022-06-30", "2022-07-01", names=["mhabd.level"])
    level = row(result, "mhabd.level", "gran")
    assert (level.before, level.after, level.columns["outcome"]) == ("INELIGIBLE", "OAA_PTD", "gain")
    # Resources of $6,000 after July 1, 2022 are over the limit: a loss, but the federal continuous
    # enrollment condition (March 18, 2020 to March 31, 2023) keeps the coverage.
    over = case({**gran, "resources": "6000"})
    result = compare_all(engine, case({**gran, "resources": "5000"}), "2022-06-30", "2022-07-01",
                         after_case=over, names=["mhabd.level"])
    level = row(result, "mhabd.level", "gran")
    assert (level.before, level.after) == ("OAA_PTD", "INELIGIBLE")
    assert level.columns["continuous_enrollment"] is True
    assert (level.columns["outcome"], level.columns["level_after_change"]) == ("continued", "OAA_PTD")
    assert level.columns["notices"] == []
    assert any("Families First" in c.source for c in level.citations)


# ---------------------------------------------------------------- TWHA

def test_ssdi_cola_raises_the_twha_premium(engine):
    # Wages $2,000, SSDI $1,080 (2.8% COLA in January 2026: $1,110.24). Disregards: $20, the $75
    # dental/optical standard, $50 of SSDI and half the wages ($1,000): $1,145. Income after
    # disregards $1,935.00 (100% to 150% for one, 2025 chart: $52), then $1,965.24 (from
    # $1,957.00: $78). IM-80 sent Saturday December 6, 2025: due Tuesday December 16.
    result = compare_all(engine, worker("2000", "1080"), "2025-12-31", "2026-01-01",
                         after_case=worker("2000", "1110.24"), notice_date="2025-12-06")
    premium = row(result, "twha.premium", "w")
    assert (premium.before, premium.after) == (Decimal(52), Decimal(78))
    assert premium.columns["outcome"] == "increase" and premium.columns["notices"] == ["IM-80"]
    assert premium.columns["response_due"] == dt.date(2025, 12, 16)
    assert premium.columns["effective"] == dt.date(2026, 1, 1)


def test_ssdi_cola_ends_twha_above_300_percent(engine):
    # Wages $4,000, SSDI $2,040 -> $2,097.12. Disregards $2,145: $3,895.00 <= $3,913 (300% for one,
    # 2025), premium $196 (250% band); then $3,952.12 > $3,913: not eligible, premium 0: a loss.
    result = compare_all(engine, worker("4000", "2040"), "2025-12-31", "2026-01-01",
                         after_case=worker("4000", "2097.12"), notice_date="2025-12-06")
    premium = row(result, "twha.premium", "w")
    assert (premium.before, premium.after) == (Decimal(196), Decimal(0))
    assert premium.columns["outcome"] == "loss" and premium.columns["notices"] == ["IM-80"]


def test_twha_premium_across_april_2025_is_unknown_without_the_2024_chart(engine):
    # The 2024 TWHA premiums were not found (only April 2025 to March 2026): the premium before
    # the change is unknown, and so is the outcome; the rulebooks do not guess.
    result = compare_all(engine, worker("2000", "1080"), "2025-03-31", "2025-04-01")
    premium = row(result, "twha.premium", "w")
    assert (premium.before, premium.after) == (None, Decimal(52))
    assert premium.columns["outcome"] == "unknown" and premium.columns["notices"] == []


# ---------------------------------------------------------------- Blind Pension

def test_the_april_update_gains_blind_pension(engine):
    # The sighted spouse earns $8,700. 500% of the two-person guideline: 2024: 20,440 x 5 / 12 =
    # 8,516.67 -> $8,517 (above it); 2025: 21,150 x 5 / 12 = 8,812.50 -> $8,813 (IM-13 2025).
    result = compare_all(engine, blind_couple("8700"), "2025-03-31", "2025-04-01",
                         notice_date="2025-03-08")
    bp = row(result, "nonmagi.bp_sighted_spouse_within", "b")
    assert (bp.before, bp.after, bp.columns["outcome"]) == (False, True, "gain")
    assert bp.columns["notices"] == ["notice of change"]
    assert bp.columns["effective"] == dt.date(2025, 4, 1)


def test_a_raise_above_500_percent_ends_blind_pension(engine):
    # $8,800 <= $8,813, then $8,900 > $8,813. IM-80 sent Thursday May 15, 2025: + 10 = Sunday May
    # 25 -> Monday May 26 is Memorial Day -> Tuesday May 27; effective June 1.
    result = compare_all(engine, blind_couple("8800"), "2025-05-31", "2025-06-01",
                         after_case=blind_couple("8900"), notice_date="2025-05-15")
    bp = row(result, "nonmagi.bp_sighted_spouse_within", "b")
    assert (bp.before, bp.after, bp.columns["outcome"]) == (True, False, "loss")
    assert bp.columns["notices"] == ["IM-80"]
    assert bp.columns["response_due"] == dt.date(2025, 5, 27)
    assert bp.columns["effective"] == dt.date(2025, 6, 1)
    assert any(c.source.startswith("FSD Memorandum IM-006 2019") for c in bp.citations)


# ---------------------------------------------------------------- CHIP premium and refunds

def family(income: str, kids: int = 2) -> dict:
    people = [person("mom", 40, [("wages", income)], tax_filer=True)]
    people += [person(f"kid{n}", 10, claimed_by="mom", parents=["mom"]) for n in range(1, kids + 1)]
    return case(*people)


@pytest.mark.parametrize("income, levels, premiums", [
    # Family of 3; 2024 guideline 25,820, 2025 26,650; premiums from the July 1, 2024 chart for 3:
    # tier 1 (CHIP 73) $30, tier 2 (CHIP 74) $99, tier 3 (CHIP 75) $242.
    ("4050", ("CHIP_74", "CHIP_73"), (99, 30)),    # 185%: $3,981 < 4,050 <= $4,109
    ("4900", ("CHIP_75", "CHIP_74"), (242, 99)),   # 225%: $4,842 < 4,900 <= $4,997
    ("3350", ("CHIP_73", "NON_PREMIUM"), (30, 0)),  # 153%: $3,293 < 3,350 <= $3,398: CHIP 4M
])
def test_april_update_refunds_the_april_premium(engine, income, levels, premiums):
    result = compare_all(engine, family(income), "2025-03-31", "2025-04-01")
    premium = row(result, "chip.family_premium", None)
    assert (premium.before, premium.after) == tuple(Decimal(p) for p in premiums)
    assert premium.columns["outcome"] == "reduction"
    assert premium.columns["premium_refund"] is True
    # Assumption (actions.refund_amount): the whole April premium, billed at the old level.
    assert premium.columns["refund_amount"] == Decimal(premiums[0])
    sections = {c.section for c in premium.citations}
    assert "Premium Refunds" in sections


def test_a_new_premium_chart_in_july_is_an_increase_without_refund(engine):
    # CHIP 73 for 3 both times; Appendix E from July 1, 2025: tier 1 for 3 is $31 (was $30).
    result = compare_all(engine, family("4050"), "2025-06-30", "2025-07-01")
    premium = row(result, "chip.family_premium", None)
    assert (premium.before, premium.after, premium.columns["outcome"]) == (Decimal(30), Decimal(31), "increase")
    assert premium.columns["premium_refund"] is False and premium.columns["refund_amount"] == 0


def test_a_case_without_children_has_no_premium_to_compare(engine):
    result = compare_all(engine, retiree("social_security", "1300"), "2025-03-31", "2025-04-01")
    assert row(result, "chip.family_premium", None).columns["outcome"] == "not_covered"


# ---------------------------------------------------------------- MAGI gain

def test_the_april_update_gains_uwhs(engine):
    # Mom earns $3,550 (household of 2). UWHS with the 5% disregard (206%): 2024: 20,440 x 2.06 /
    # 12 = 3,508.87 -> $3,509 (above it); 2025: 21,150 x 2.06 / 12 = 3,630.75 -> $3,631: UWHS.
    result = compare_all(engine, family("3550", kids=1), "2025-03-31", "2025-04-01")
    mom = row(result, "eligibility.level_of_care", "mom")
    assert (mom.before, mom.after, mom.columns["outcome"]) == ("INELIGIBLE", "UWHS", "gain")
    assert mom.columns["notices"] == ["IM-33C"]


# ---------------------------------------------------------------- the output

def test_json_names_each_compared_result(engine):
    result = compare_all(engine, retiree("social_security", "1300"), "2025-03-31", "2025-04-01")
    data = result.as_dict()
    names = {c["name"] for c in data["comparisons"]}
    assert {"eligibility.level_of_care", "chip.family_premium", "msp.level", "mhabd.level",
            "twha.premium"} <= names
    by_name = {(r["name"], r["person"]): r for r in data["results"]}
    assert by_name[("mhabd.spend_down", "gran")]["before"] == "213"
    assert by_name[("mhabd.spend_down", "gran")]["after"] == "171"
    assert by_name[("msp.level", "gran")]["outcome"] == "no_change"
    # twha.premium applies to no one here (not disabled and employed): compared, no rows.
    assert next(c for c in data["comparisons"] if c["name"] == "twha.premium")["compared"] == 0


def test_name_selects_comparisons_by_result(engine):
    result = compare_all(engine, retiree("social_security", "1300"), "2025-03-31", "2025-04-01",
                         names=["msp.level", "actions.spend_down_change"])
    assert [c.change.compare for c in result.comparisons] == ["msp.level", "mhabd.spend_down"]
