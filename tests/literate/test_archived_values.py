"""Every dated value in policy/ cites where it was read, not only a manual archived by then (W552).

The CHIP premium charts from July 2025 were read from form IM-4(PRM) (07-25, 07-26); the MAGI
manual whose Appendix E printed the chart was archived on April 23, 2025 (IM-23 2025), but the
Forms Manual was not ("The Forms Manual ... remain here as well."), so the form is cited too.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine import Engine
from engine.checks import check

POLICY = Path(__file__).resolve().parent.parent.parent / "policy"


def test_no_value_cites_only_archived_sources():
    report = check([POLICY], as_of="2025-06-01")
    assert [p.message for p in report.problems if p.code == "W552"] == []


def test_the_july_2025_premium_cites_the_form():
    engine = Engine.load(POLICY)
    value = engine.parameter("chip.premium_tier_3", dt.date(2025, 8, 1))
    assert value.read()[3] == 250                  # family of 3, CHIP 75 (IM-4(PRM) 07-25)
    cited = [(c.source, c.section) for c in value.citations]
    assert ("FSD Forms Manual, form IM-4(PRM) (CHIP premium chart)", "IM-4(PRM) (07-25)") in cited
