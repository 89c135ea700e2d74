"""``policy dates`` and ``policy notice``, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import CASES, ROOT, policy_dir


def run(*args):
    return subprocess.run([sys.executable, "-m", "engine", *args, "--policy", str(policy_dir())],
                          capture_output=True, text=True, cwd=ROOT)


def test_dates_text_says_due_date_steps_assumption_and_citations():
    out = run("dates", "2025-06-24", "im31a")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "due: 2025-07-07 (Monday)" in text
    assert "2025-07-04 is Independence Day: moved to 2025-07-05" in text
    assert "Assumption:" in text and "RSMo 1.040" in text
    assert "1805.000.00 Verification (Request for Information, IM-31A)" in text


def test_dates_json_with_roll_override_and_extension():
    out = run("dates", "2025-06-14", "deadlines.im2e_part2", "--extended", "--roll", "none",
              "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    # 45 days from June 14, 2025 = Tuesday July 29; --roll none is recorded.
    assert data["due"] == "2025-07-29" and data["roll"] == "none" and data["extended"] is True
    assert data["period"] == {"amount": 45, "unit": "days"}
    assert data["assumed"] is True and data["citations"]


def test_dates_list_and_holidays():
    listed = json.loads(run("dates", "--list", "--format", "json").stdout)["deadlines"]
    names = {d["name"] for d in listed}
    assert {"deadlines.im31a", "deadlines.im2e_part2", "deadlines.reasonable_opportunity",
            "deadlines.im80", "deadlines.im80pre", "deadlines.sanction_adverse_action",
            "deadlines.ssn_denial", "deadlines.chip_premium_free_coverage",
            "deadlines.counseling_good_cause", "deadlines.counseling_evaluation",
            "deadlines.tmh_report_month_4", "deadlines.ewhs_end", "deadlines.postpartum_end"} <= names
    holidays = json.loads(run("dates", "--holidays", "2022", "--format", "json").stdout)
    days = {d["date"]: d["name"] for d in holidays["calendars"]["calendar.missouri"]}
    assert days["2022-12-26"] == "Christmas Day (observed)"


def test_dates_errors_exit_2_without_traceback():
    for args in (("2025-13-01", "im31a"), ("2025-06-01", "nope"), ("2025-06-01",)):
        out = run("dates", *args)
        assert out.returncode == 2, args
        assert "Traceback" not in out.stderr and out.stderr.strip()


def test_notice_json_lists_each_notice_with_due_date_recipient_and_citations():
    out = run("notice", str(CASES / "absent_parent.yaml"), "--as-of", "2025-06-24", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    by_name = {n["notice"]: n for n in data["notices"]}
    assert set(by_name) == {"notices.im31a_cs201", "notices.cs201_routing"}
    assert by_name["notices.im31a_cs201"]["due"] == "2025-07-07"
    assert by_name["notices.im31a_cs201"]["to"] == ["mom"]
    assert by_name["notices.cs201_routing"]["to"] == "FSD.IntakeCenter@dss.mo.gov"
    assert all(n["citations"] for n in data["notices"])


def test_notice_text_output():
    out = run("notice", str(CASES / "good_cause.yaml"))
    assert out.returncode == 0, out.stderr
    assert "IM-31A and IM-2E Part 2 asking for documentation of good cause" in out.stdout
    assert "due: 2025-07-07" in out.stdout


def test_eval_shows_due_dates_when_the_case_gives_their_start():
    out = run("eval", str(CASES / "absent_parent.yaml"), "--format", "json")
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)["results"]
    due = {r["person"]: r for r in results if r["name"] == "actions.due_dates"}
    assert due["kid"]["value"] == ["CS-201 or IM-2E Part 2 asked for by the IM-31A: 2025-07-07"]
    assert due["mom"]["value"] == []
    assert due["kid"]["citations"]
