"""`eligibility.level_of_care` is its per-level tests applied in Missouri's order, and
`eligibility.why_not` agrees with those tests.

The level of care is composed of one rule per level's test (``mhk_under_1_test``,
``chip_75_test`` ...); ``why_not`` words, for every other level, the first test the person fails,
with its own expressions. The two are written separately, so this checks them against each other
on generated households, on dates before and after the non-premium CHIP group closed (November 22,
2020), the Adult Expansion Group began (July 1, 2021) and CHIP 4M began (July 1, 2022): a level's
line says that an earlier level "comes first" exactly when the person passes that level's test.
"""

from __future__ import annotations

import pytest

from engine import Engine

from .conftest import POLICY
from .households import households

#: Missouri's order after the citizenship, immigrant-status and SSN requirements (1810-1870).
ORDER = [("MHK_UNDER_1", "mhk_under_1_test"), ("MHF", "mhf_child_test"), ("CHIP_4M", "chip_4m_test"),
         ("MHK", "mhk_test"), ("CHIP_NON_PREMIUM", "chip_non_premium_test"), ("MPW", "mpw_test"),
         ("CHIP_73", "chip_73_test"), ("CHIP_74", "chip_74_test"), ("CHIP_75", "chip_75_test"),
         ("SMHB", "smhb_test"), ("MHF", "mhf_test"), ("AEG", "aeg_test"), ("UWHS", "uwhs_test")]
#: why_not's lines, in its order, and the test each line's "comes first" answers to.
WHY_NOT = [("MHK_UNDER_1", ["mhk_under_1_test"]), ("CHIP_4M", ["chip_4m_test"]), ("MHK", ["mhk_test"]),
           ("CHIP_NON_PREMIUM", ["chip_non_premium_test"]), ("MPW", ["mpw_test"]),
           ("CHIP_73", ["chip_73_test"]), ("CHIP_74", ["chip_74_test"]), ("CHIP_75", ["chip_75_test"]),
           ("SMHB", ["smhb_test"]), ("MHF", ["mhf_test", "mhf_child_test"]), ("AEG", ["aeg_test"]),
           ("UWHS", ["uwhs_test"])]
TESTS = sorted({test for _, test in ORDER} | {"smhb_despite_status"})
NAMES = ["eligibility.level_of_care", "eligibility.why_not", "magi.status_ok",
         *(f"eligibility.{t}" for t in TESTS)]


@pytest.fixture(scope="module")
def engine():
    return Engine.load(POLICY)


def people(engine, data, as_of):
    """Per person: {short name: value} of the level, why_not, status and every test."""
    found: dict = {}
    for result in engine.evaluate(data, as_of=as_of, names=NAMES).results:
        found.setdefault(result.person, {})[result.name.split(".", 1)[1]] = result.value
    return found.values()


@pytest.mark.parametrize("as_of", ["2019-08-01", "2021-12-01", "2025-08-01"])
def test_the_level_is_the_first_test_passed_in_missouris_order(engine, as_of):
    seen = set()
    for data in households(250, seed=17, as_of=as_of):
        for v in people(engine, data, as_of):
            if not v["status_ok"]:
                expected = "SMHB" if v["smhb_despite_status"] else "INELIGIBLE"
            else:
                expected = next((level for level, test in ORDER if v[test]), "INELIGIBLE")
            assert v["level_of_care"] == expected, (data["case_id"], v)
            seen.add(expected)
    # the households reach most levels on every date (not a test that cannot fail)
    assert {"MHK", "MHK_UNDER_1", "CHIP_73", "CHIP_75", "INELIGIBLE", "MHF"} <= seen


@pytest.mark.parametrize("as_of", ["2019-08-01", "2021-12-01", "2025-08-01"])
def test_why_not_says_an_earlier_level_comes_first_exactly_when_the_test_is_passed(engine, as_of):
    first = 0
    for data in households(250, seed=17, as_of=as_of):
        for v in people(engine, data, as_of):
            granted = v["level_of_care"]
            expected_levels = [level for level, _ in WHY_NOT if level != granted]
            lines = v["why_not"]
            assert [line.split(":", 1)[0] for line in lines] == expected_levels
            for line, (level, tests) in zip(lines, [w for w in WHY_NOT if w[0] != granted]):
                passes = v["status_ok"] and any(v[t] for t in tests)
                comes_first = f"{granted} comes first in Missouri's order" in line
                assert comes_first == passes, (data["case_id"], line, v)
                first += comes_first
    assert first > 0


def test_a_baby_whose_parent_meets_mhf_is_told_mhk_under_1_comes_first(engine):
    """MHK under 1 comes before MHF for the children (1830.000.00, 1810.020.10): a baby whose
    mother meets MHF's standard gets MHK under 1, and the MHF line says so rather than that the
    baby is no parent or caretaker relative (MHF covers the parent's children too)."""
    data = {"case_id": "baby", "people": [
        {"id": "mom", "age": 25, "sex": "female", "tax_filer": True},
        {"id": "baby", "age": 0, "sex": "male", "claimed_by": "mom", "parents": ["mom"]}]}
    by_person = {r.person: r.value for r in engine.evaluate(
        data, as_of="2025-08-01", names=["eligibility.level_of_care"]).results}
    assert by_person == {"mom": "MHF", "baby": "MHK_UNDER_1"}
    (baby,) = [v for v in people(engine, data, "2025-08-01") if v["level_of_care"] == "MHK_UNDER_1"]
    assert baby["mhf_child_test"] and baby["mhk_under_1_test"]
    (mhf,) = [line for line in baby["why_not"] if line.startswith("MHF: ")]
    assert mhf.startswith("MHF: MHK_UNDER_1 comes first in Missouri's order") and \
        mhf.endswith("(1810.020.10)")
