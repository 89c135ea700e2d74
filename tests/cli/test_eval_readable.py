"""`policy eval` output a person can read: a summary first, plain values, money as $5,199.60,
deciding citations, --only, --provenance, and --explain as a tree (issue 11)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from engine.cli.app import app

REPO = Path(__file__).resolve().parents[2]
JONES = str(REPO / "examples" / "jones.yaml")
MEDICARE = str(REPO / "examples" / "medicare.yaml")
NOTICES = str(REPO / "examples" / "notices.yaml")
#: Python's spelling of values, which no person should read.
PYTHON_LITERAL = re.compile(r"\b(True|False|None)\b|Decimal\(|\[\]|\['")


def run(*args):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_text_output_opens_with_a_summary_with_plain_names():
    out = run("eval", JONES)
    summary = out.split("\n\n")[1].splitlines()
    assert summary[0] == "Summary"
    assert "  kid1  MO HealthNet level of care: CHIP 75 (premium group, 225-300% FPL) (CHIP_75)" in summary
    assert "  dad   MO HealthNet level of care: no MAGI level of care (INELIGIBLE)" in summary
    # The premium chart for 2018 is not encoded: the case-level premium says it has no value.
    assert "  case  The family's monthly CHIP premium: no value" in summary


def test_a_medicare_case_summarises_its_msp_level():
    out = run("eval", MEDICARE)
    assert "Medicare Savings Program level: Qualified Medicare Beneficiary (up to 100% FPL) (QMB)" in out


def test_a_notices_case_summarises_what_is_due_with_its_date():
    out = run("eval", NOTICES)
    summary = out.split("\n\n")[1]
    assert "What is due for this person, and when: SSN (IM-31A): 2025-06-12" in summary
    assert "Reasonable opportunity to provide documents ends: 2025-09-05" in summary


def test_no_python_literals_and_money_with_separators():
    for case in (JONES, MEDICARE, NOTICES):
        out = run("eval", case)
        assert not PYTHON_LITERAL.search(out), PYTHON_LITERAL.search(out).group(0)
    out = run("eval", JONES)
    assert "(magi.household_income): $5,199.60" in out
    assert "household income of $5,199.60 is within the CHIP limit" in out      # the because text
    assert "(eligibility.nursing_home_coverage): no" in out
    assert "(mhabd.level): no value" in out                                      # None
    assert "(magi.income_to_verify): none" in out                                # an empty list


def test_only_limits_the_results():
    out = run("eval", JONES, "--only", "eligibility.level_of_care", "--only", "chip.family_premium")
    names = set(re.findall(r"\(([a-z_]+\.[a-z_]+)\): ", out))
    assert names == {"eligibility.level_of_care", "chip.family_premium"}
    data = json.loads(run("eval", JONES, "--format", "json", "--only", "magi.fpl_percent"))
    assert {r["name"] for r in data["results"]} == {"magi.fpl_percent"}


def test_json_money_is_a_decimal_string_and_citations_decide():
    data = json.loads(run("eval", JONES, "--format", "json", "--as-of", "2025-06-01"))
    premium = next(r for r in data["results"] if r["name"] == "chip.family_premium")
    assert premium["value"] == "242"
    # 2025-06-01 is after the MAGI manual was archived (IM-23): the Combined Manual comes first,
    # naming the premium chart it replaced and carrying the chart itself as `formerly`.
    assert premium["citations"][0]["source"] == "Combined IM Policy Manual"
    assert "Appendix E" in premium["citations"][0]["note"]
    assert premium["citations"][0]["formerly"]["source"].startswith(
        "Family MO HealthNet (MAGI) Manual, Appendix E")
    assert not any(c["source"].startswith("Family MO HealthNet") for c in premium["citations"])
    assert "provenance" not in premium
    kid = next(r for r in data["results"]
               if r["name"] == "eligibility.level_of_care" and r["person"] == "kid1")
    assert kid["citations"][0]["source"] == "Combined IM Policy Manual"
    assert kid["citations"][0]["section"].startswith("1840.000.00")
    assert kid["citations"][0]["formerly"]["section"].startswith("1840.000.00")
    assert not any("1865.020.00" in (c.get("section") or "") for c in kid["citations"])
    data = json.loads(run("eval", MEDICARE, "--format", "json"))
    zero = next(r for r in data["results"] if r["name"] == "chip.family_premium")
    assert zero["value"] == "0"


def test_provenance_lists_the_read_set():
    data = json.loads(run("eval", JONES, "--format", "json", "--provenance",
                          "--only", "eligibility.level_of_care"))
    kid = next(r for r in data["results"] if r["person"] == "kid1")
    read = {c.get("section") for c in kid["provenance"]}
    assert {c.get("section") for c in kid["citations"]} <= read
    # The read-set holds what was read for tests never applied to the child; the citations do not.
    assert any("1865.020.00" in (s or "") for s in read)
    assert len(kid["provenance"]) > len(kid["citations"])


def test_explain_is_an_indented_tree_without_truncated_lists():
    out = run("eval", JONES, "--explain", "--only", "eligibility.level_of_care")
    assert "and " not in re.sub(r"[^\n]*because[^\n]*", "", out).split("more; --explain")[0] or \
        "more; --explain" not in out
    assert "more; --explain" not in out
    assert re.search(r"\n        rule eligibility\.level_of_care for person 'kid1' = CHIP_75  \[", out)
    # Each level's test one level down (eligibility.yaml), what it read below it
    assert re.search(r"\n          rule eligibility\.chip_75_test for person 'kid1' = yes  \[", out)
    assert re.search(r"\n            rule magi\.household_income for person 'kid1' = \$5,199\.60", out)
    assert "(in force 2014-01-01 until changed)" in out
    assert re.search(r"parameter fpl\.first_person = 12140 \(in force 2018-04-01 to 2019-03-31\)", out)


def test_table_help_lists_the_tables():
    out = CliRunner().invoke(app, ["table", "--help"], env={"COLUMNS": "200"}).stdout
    for name in ("income-limits", "twha-premiums", "cola", "nonmagi-standards"):
        assert name in out
