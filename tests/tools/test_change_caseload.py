"""``policy change --cases``: a mass change over a generated caseload, whose summary adds up; and
``policy diff --cases --classify``: a rulebook edit classified the same way."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from decimal import Decimal

from typer.testing import CliRunner

from .conftest import FIXTURES, POLICY, ROOT

runner = CliRunner()


def family(case_id: str, income: str) -> dict:
    return {"case_id": case_id, "people": [
        {"id": "mom", "age": 40, "sex": "female", "tax_filer": True,
         "incomes": [{"type": "wages", "amount": income, "frequency": "monthly"}]},
        {"id": "kid1", "age": 10, "claimed_by": "mom", "parents": ["mom"]},
        {"id": "kid2", "age": 10, "claimed_by": "mom", "parents": ["mom"]}]}


def retiree(case_id: str, kind: str, amount: str) -> dict:
    return {"case_id": case_id, "people": [
        {"id": "gran", "age": 70, "sex": "female", "medicare": True,
         "incomes": [{"type": kind, "amount": amount, "frequency": "monthly"}]}]}


#: Four kinds of case across April 1, 2025, with their hand-worked outcomes (see
#: tests/deadlines/test_mass_change_programs.py): three April premium refunds of the whole April
#: premium (CHIP 74 -> 73: $99; 75 -> 74: $242; 73 -> 4M: $30) and a spend down of $213 -> $171.
TEMPLATES = [lambda n: family(f"a{n}", "4050"), lambda n: family(f"b{n}", "4900"),
             lambda n: family(f"c{n}", "3350"),
             lambda n: retiree(f"d{n}", "social_security", "1300")]


def caseload(path, copies: int, bad_line: bool = True):
    with open(path, "w", encoding="utf-8") as out:
        for n in range(copies):
            for template in TEMPLATES:
                out.write(json.dumps(template(n)) + "\n")
        if bad_line:
            out.write('{"case_id": "broken", "people": "nobody"}\n')


def run(*args):
    return subprocess.run([sys.executable, "-m", "engine", "change", *map(str, args),
                           "--policy", str(POLICY)], capture_output=True, text=True, cwd=ROOT)


def read_lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_caseload_run_writes_a_line_per_case_and_a_summary_that_adds_up(tmp_path):
    cases, out = tmp_path / "cases.jsonl", tmp_path / "changes.jsonl"
    caseload(cases, copies=10)
    done = run("--cases", cases, "--before", "2025-03-31", "--after", "2025-04-01", "--out", out,
               "--notice-date", "2025-03-08", "--format", "json")
    assert done.returncode == 1, done.stderr          # one case could not be compared
    assert "1 case(s) could not be compared" in done.stderr and "Traceback" not in done.stderr
    summary = json.loads(done.stdout)
    lines = read_lines(out)

    # One line per case, in input order; the broken one says why, with its line.
    assert len(lines) == summary["cases"] == 41
    assert [line.get("case_id") for line in lines[:4]] == ["a0", "b0", "c0", "d0"]
    assert lines[-1]["error"]["line"] == 41 and lines[-1]["error"]["code"] == "E201"
    assert summary["errors"] == 1

    # The counts are the rows of the file, by compared result and outcome.
    counted = Counter((r["name"], r["outcome"]) for line in lines for r in line.get("results", ()))
    assert {(n, o): c for n, outcomes in summary["outcomes"].items()
            for o, c in outcomes.items()} == dict(counted)
    assert summary["compared"] == sum(counted.values())

    # ... and they are the hand-worked outcomes, ten of each.
    outcomes = summary["outcomes"]
    assert outcomes["chip.family_premium"] == {"reduction": 30, "not_covered": 10}
    assert outcomes["mhabd.spend_down"] == {"reduction": 10}
    assert outcomes["msp.level"] == {"no_change": 10}
    assert outcomes["eligibility.level_of_care"]["increase"] == 60    # both children of 30 families

    # Refunds: the rows that say so, and 10 x ($99 + $242 + $30) = $3,710.
    refunds = [r for line in lines for r in line.get("results", ())
               if r["name"] == "chip.family_premium" and r["premium_refund"]]
    assert summary["premium_refunds"] == {"count": 30, "total": "3710"}
    assert sum(Decimal(str(r["refund_amount"])) for r in refunds) == Decimal(3710)

    # Citations are ids into the table beside the output.
    table = json.loads((tmp_path / "changes.jsonl.citations.json").read_text(encoding="utf-8"))
    first = lines[0]["results"][0]
    assert first["citations"] and all(str(i) in table for i in first["citations"])
    assert any("IM-17 2025" in table[str(i)]["source"]
               for r in lines[0]["results"] if r["name"] == "chip.family_premium"
               for i in r["citations"])


def test_text_summary_and_workers_give_the_same_lines(tmp_path):
    cases = tmp_path / "cases.jsonl"
    caseload(cases, copies=3, bad_line=False)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    first = run("--cases", cases, "--before", "2025-03-31", "--after", "2025-04-01", "--out", one)
    second = run("--cases", cases, "--before", "2025-03-31", "--after", "2025-04-01", "--out", two,
                 "--workers", "2")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert one.read_text() == two.read_text()
    assert first.stdout == second.stdout
    assert "12 case(s) compared, 0 could not be" in first.stdout
    assert "April premium refunds: 9 case(s), $1113 in all." in first.stdout   # 3 x 371


def test_after_cases_pair_each_case_with_its_version_after_the_change(tmp_path):
    # January 2025 Railroad COLA (2.5%): $1,270 -> $1,301.75 moves QMB to SLMB1 (hand-worked in
    # tests/deadlines/test_mass_change_programs.py). A case id that does not match is an error.
    before, after, out = tmp_path / "before.jsonl", tmp_path / "after.jsonl", tmp_path / "out.jsonl"
    before.write_text(json.dumps(retiree("r1", "railroad", "1270")) + "\n"
                      + json.dumps(retiree("r2", "railroad", "1270")) + "\n", encoding="utf-8")
    after.write_text(json.dumps(retiree("r1", "railroad", "1301.75")) + "\n"
                     + json.dumps(retiree("other", "railroad", "1301.75")) + "\n", encoding="utf-8")
    done = run("--cases", before, "--after-cases", after, "--before", "2024-12-31", "--after",
               "2025-01-01", "--out", out, "--notice-date", "2024-12-07", "--name", "msp.level")
    assert done.returncode == 1
    first, second = read_lines(out)
    (msp,) = first["results"]
    assert (msp["before"], msp["after"], msp["outcome"], msp["response_due"]) == \
        ("QMB", "SLMB1", "reduction", "2024-12-17")
    assert second["error"]["code"] == "E110" and "'other'" in second["error"]["message"]
    assert "msp.level: 1 (reduction 1)" in done.stdout


def test_a_caseload_needs_an_out_file_and_good_dates(tmp_path):
    cases = tmp_path / "cases.jsonl"
    caseload(cases, copies=1, bad_line=False)
    no_out = run("--cases", cases, "--before", "2025-03-31", "--after", "2025-04-01")
    assert no_out.returncode == 2 and "--out" in no_out.stderr
    bad_date = run("--cases", cases, "--before", "2025-02-30", "--after", "2025-04-01",
                   "--out", tmp_path / "o.jsonl")
    assert bad_date.returncode == 2 and "Traceback" not in bad_date.stderr


def test_diff_classifies_changed_results_as_a_mass_change(policy_copy):
    # The 2025 first-person guideline edited from 15,650 to 17,650 (tests/tools/test_diff.py):
    # Jones's children go from CHIP 75 to CHIP 74, a higher level (IM-33C), and the family's
    # premium from $242 to $99, a reduction.
    from engine.cli.app import app
    new = policy_copy("fpl.yaml", "value: 15650", "value: 17650")
    result = runner.invoke(app, ["diff", str(POLICY), str(new), "--cases",
                                 str(FIXTURES / "cases.jsonl"), "--classify", "--format", "json"])
    assert result.exit_code == 0, result.output
    classified = json.loads(result.stdout)["classified"]
    assert classified["outcomes"] == {"eligibility.level_of_care": {"increase": 2},
                                      "chip.family_premium": {"reduction": 1}}
    (jones,) = classified["cases"]
    kid1 = next(r for r in jones["results"] if r["person"] == "kid1")
    assert (kid1["before"], kid1["after"], kid1["notices"]) == ("CHIP_75", "CHIP_74", ["IM-33C"])
    text = runner.invoke(app, ["diff", str(POLICY), str(new), "--cases",
                               str(FIXTURES / "cases.jsonl"), "--classify"])
    assert "eligibility.level_of_care: increase 2" in text.stdout
    assert "kid1: eligibility.level_of_care CHIP_75 -> CHIP_74: increase (IM-33C)" in text.stdout


def test_classify_needs_cases():
    from engine.cli.app import app
    result = runner.invoke(app, ["diff", str(POLICY), str(POLICY), "--classify"])
    assert result.exit_code == 2 and "--classify needs --cases" in result.stderr


def test_a_comparison_that_cannot_be_classified_does_not_stop_the_others(policy_copy, tmp_path):
    # A copy of the rulebooks whose MSP rank table starts only in 2030: msp.level cannot be
    # classified in 2025 (no value on the date), every other comparison still is; exit 1.
    new = policy_copy("mass_changes.yaml", "      1998-01-01:\n        value: {QMB: 3",
                      "      2030-01-01:\n        value: {QMB: 3")
    case = tmp_path / "gran.json"
    case.write_text(json.dumps(retiree("gran", "social_security", "1300")), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "engine", "change", str(case), "--before",
                           "2025-03-31", "--after", "2025-04-01", "--format", "json",
                           "--policy", str(new)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1, done.stderr
    assert "msp.level could not be classified" in done.stderr and "Traceback" not in done.stderr
    data = json.loads(done.stdout)
    msp = next(c for c in data["comparisons"] if c["name"] == "msp.level")
    assert msp["error"]["code"] == "E430" and msp["compared"] == 0
    spend = next(r for r in data["results"] if r["name"] == "mhabd.spend_down")
    assert (spend["before"], spend["after"], spend["outcome"]) == ("213", "171", "reduction")


def test_an_also_rule_that_does_not_exist_is_a_check_error(policy_copy):
    from engine.cli.app import app
    new = policy_copy("mass_changes.yaml", "also: {eligible: twha.eligible}",
                      "also: {eligible: twha.no_such_rule}")
    result = runner.invoke(app, ["check", str(new), "--format", "json"])
    assert result.exit_code == 1, result.output
    errors = json.loads(result.stdout)["errors"]
    assert any(e["code"] == "E320" and "twha.no_such_rule" in e["message"] for e in errors)


def test_csv_caseloads_are_read_as_policy_batch_reads_them(tmp_path):
    # tests/tools/fixtures/jones.csv: three cases by consecutive case_id, the third with an age
    # that is not a whole number (an error line, with its row).
    out = tmp_path / "out.jsonl"
    done = run("--cases", FIXTURES / "jones.csv", "--before", "2025-03-31", "--after",
               "2025-04-01", "--out", out, "--name", "eligibility.level_of_care")
    assert done.returncode == 1
    lines = read_lines(out)
    assert [line.get("case_id") for line in lines[:2]] == ["jones", "two-incomes"]
    assert lines[2]["error"]["code"] == "E110" and "forty" in lines[2]["error"]["message"]
    assert {r["name"] for r in lines[0]["results"]} == {"eligibility.level_of_care"}
