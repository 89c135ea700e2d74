"""Which reported results still quote no sentence (W591), and why that list may only shrink.

Every output rule quotes, in `says`, the sentence of the stored sources it implements, except
where the sources (/work/shared/sources: the IM memoranda of 2025, the MAGI manual fragments and
the child-support page) print no such sentence. Those are listed here, so that a new output rule
without `says` fails, and so that a `says` added later shortens the list (update it then).
"""

from __future__ import annotations

from pathlib import Path

from engine.checks import check

POLICY = Path(__file__).resolve().parent.parent.parent / "policy"

#: No sentence in the stored sources: the CHIP premium per household (Appendix E is a chart), the
#: MHABD and MSP budgets ($65 and one-half, $20, rounding down: 0805.015.x, not stored) and the
#: TWHA disregards (0855.005.40, not stored).
WITHOUT_SAYS = {"chip.family_premium", "mhabd.adjusted_income", "msp.countable_income",
                "twha.countable_income"}


def test_only_the_results_the_sources_say_nothing_about_lack_says():
    report = check([POLICY], as_of="2025-06-01")
    missing = {p.field.rsplit(".says", 1)[0] for p in report.problems if p.code == "W591"}
    assert missing == WITHOUT_SAYS
