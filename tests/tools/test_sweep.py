"""``policy sweep``: every change located to the cent, checked against figures worked by hand.

Hand-worked figures (monthly limits are ceil(annual guideline x percent / 12), the 5% disregard
added where the program receives it; missouri-facts.md sections 1, 2, 2b, 2c, 2d):

* Jones, 2018 (MAGI Manual 1805.030.20.20.05): guideline for 3 = $12,140 + 2 x $4,320 = $20,780.
  The sweep gives Mr. Jones monthly wages; MAGI counts monthly wages in full, so the household's
  countable income is the wage itself (his real $30.00 x 40 x 4.333 = $5,199.60 is one point).
  MHF $301 + 5% of $20,780 / 12 = $387.58 -> $388; MHK 153% = $2,649.45 -> $2,650; non-premium
  CHIP 155% = $2,684.08 -> $2,685; CHIP 73 ends at 185% (no disregard) = $3,203.58 -> $3,204;
  CHIP 74 at 225% = $3,896.25 -> $3,897; CHIP 75 at 305% = $5,281.58 -> $5,282. Each change is
  at the first cent above the limit.
* A mother of two (8 and 12), 2025: guideline for 3 = $15,650 + 2 x $5,500 = $26,650. MHF $301
  (flat, no disregard since July 2021); CHIP 4M from 110% = $2,442.92 -> $2,443; AEG 138% =
  $3,064.75 -> $3,065; MHK 153% = $3,397.88 -> $3,398; CHIP 73 to 185% = $4,108.54 -> $4,109;
  UWHS 206% = $4,574.92 -> $4,575; CHIP 74 to 225% = $4,996.88 -> $4,997; CHIP 75 to 305% =
  $6,773.54 -> $6,774. Premiums for a family of 3 (Appendix E): July 2024 chart $30 / $99 / $242,
  July 2025 chart $31 / $102 / $250.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from engine import Engine
from engine.cli import sweep_cmd
from engine.cli.app import app
from engine.errors import InputError
from engine.tools.sweep import grid, money, sweep
from engine.tools.sweep.picture import write_picture

from .conftest import POLICY, ROOT

JONES = ROOT / "examples" / "jones.yaml"
FAMILY = ROOT / "examples" / "mother-of-two-2025.yaml"
LEVELS = ["eligibility.level_of_care", "chip.family_premium"]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(POLICY)


def run(engine, case, person, start, stop, step, names=LEVELS, **kwargs):
    return sweep(engine, case, person, money(start, "--from"), money(stop, "--to"),
                 money(step, "--step"), names=names, **kwargs)


def changes_of(result, name="eligibility.level_of_care", person=None):
    return [(str(c.income), c.before, c.after) for c in result.changes
            if c.name == name and c.person == person]


# -- Jones, 2018 ------------------------------------------------------------------------------------

def test_jones_children_leave_chip_75_at_the_first_cent_above_5282(engine):
    result = run(engine, JONES, "dad", "5199.60", "5399.60", "100")
    assert [str(Decimal(c) / 100) for c in result.incomes] == ["5199.6", "5299.6", "5399.6"]
    first = dict(zip(result.keys, result.values[0]))
    assert first[("eligibility.level_of_care", "kid1")] == "CHIP_75"      # his real income
    for kid in ("kid1", "kid2"):
        assert changes_of(result, person=kid) == [("5282.01", "CHIP_75", "INELIGIBLE")]
    change = next(c for c in result.changes if c.person == "kid1")
    # the limit crossed: 305% of the 2018 guideline for 3, and the countable income that crossed it
    assert change.limit.value == Decimal("5282")
    assert change.limit.name == "magi.income_limit"
    assert change.limit.compared == "magi.household_income"
    assert (change.limit.compared_from, change.limit.compared_to) == (Decimal("5282.00"),
                                                                      Decimal("5282.01"))
    sections = [c.section or "" for c in change.citations]
    assert any("1840.010.05" in s for s in sections), sections              # the CHIP section
    assert any(s.startswith("1805.030.20.20.05") for s in sections), sections  # the 5% disregard
    assert "1840.010.05" in change.section                  # the test no longer met comes first


def test_jones_every_level_from_zero_to_6000(engine):
    result = run(engine, JONES, "dad", "0", "6000", "100")
    assert changes_of(result, person="kid1") == [
        ("388.01", "MHF", "MHK"), ("2650.01", "MHK", "CHIP_NON_PREMIUM"),
        ("2685.01", "CHIP_NON_PREMIUM", "CHIP_73"), ("3204.01", "CHIP_73", "CHIP_74"),
        ("3897.01", "CHIP_74", "CHIP_75"), ("5282.01", "CHIP_75", "INELIGIBLE")]
    assert changes_of(result, person="dad") == [("388.01", "MHF", "INELIGIBLE")]
    limits = [c.limit.value for c in result.changes if c.person == "kid1"]
    assert limits == [388, 2650, 2685, 3204, 3897, 5282]


def test_several_changes_within_one_step_are_all_found(engine):
    fine = run(engine, JONES, "dad", "0", "6000", "100")
    coarse = run(engine, JONES, "dad", "0", "6000", "6000")           # two points only
    assert len(coarse.incomes) == 2
    assert [c.as_dict() for c in coarse.changes] == [c.as_dict() for c in fine.changes]


def test_a_change_and_back_within_one_step_is_seen_only_with_a_smaller_step(engine):
    # 2018: no premium chart is encoded, so the family premium is 0, unknown in the premium
    # groups ($2,685.01 to $5,282), then 0 again: the same value at both ends of one step
    only_premium = ["chip.family_premium"]
    assert run(engine, JONES, "dad", "0", "6000", "6000", names=only_premium).changes == []
    fine = run(engine, JONES, "dad", "0", "6000", "1000", names=only_premium)
    assert changes_of(fine, "chip.family_premium") == [("2685.01", 0, None), ("5282.01", None, 0)]


# -- a 2025 family across the July premium change ---------------------------------------------------

EXPECTED_2025 = {
    "mom": [("301.01", "MHF", "AEG"), ("3065.01", "AEG", "UWHS"), ("4575.01", "UWHS", "INELIGIBLE")],
    "kid1": [("301.01", "MHF", "MHK"), ("2443.01", "MHK", "CHIP_4M"), ("3398.01", "CHIP_4M", "CHIP_73"),
             ("4109.01", "CHIP_73", "CHIP_74"), ("4997.01", "CHIP_74", "CHIP_75"),
             ("6774.01", "CHIP_75", "INELIGIBLE")],
}


@pytest.mark.parametrize("as_of, premiums", [
    ("2025-06-01", [30, 99, 242]),          # IM-4(PRM) 07-24, family of 3
    ("2025-07-01", [31, 102, 250]),         # IM-4(PRM) 07-25, family of 3
])
def test_family_2025_across_the_july_premium_change(engine, as_of, premiums):
    result = run(engine, FAMILY, "mom", "0", "7500", "250", as_of=as_of)
    assert result.as_of.isoformat() == as_of
    for person, expected in EXPECTED_2025.items():
        assert changes_of(result, person=person) == expected
    t1, t2, t3 = premiums
    assert changes_of(result, "chip.family_premium") == [
        ("3398.01", 0, t1), ("4109.01", t1, t2), ("4997.01", t2, t3), ("6774.01", t3, 0)]
    premium = next(c for c in result.changes if c.name == "chip.family_premium")
    assert premium.limit.value == 3398                      # MHK's 153%: premiums start above it


# -- the grid and bad input ---------------------------------------------------------------------------

def test_grid_is_in_whole_cents_and_always_ends_at_the_last_amount():
    assert grid(0, 1000, 300) == [0, 300, 600, 900, 1000]
    assert money("5,282.01", "x") == 528201 and money("$12", "x") == 1200
    for bad in ("abc", "-1", "1.001", "nan"):
        with pytest.raises(InputError):
            money(bad, "--from")
    with pytest.raises(InputError, match="more than \\$0"):
        grid(0, 100, 0)
    with pytest.raises(InputError, match="below where it starts"):
        grid(500, 100, 10)
    with pytest.raises(InputError, match="more than 5001"):
        grid(0, 100_000_000, 1)


def test_an_unknown_person_is_refused_by_name(engine):
    with pytest.raises(InputError, match="no person with the id 'mum'.*mom, kid1, kid2"):
        run(engine, FAMILY, "mum", "0", "100", "10")


# -- the command ----------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def cli(engine, monkeypatch):
    monkeypatch.setattr(sweep_cmd, "load_engine", lambda policy: engine)
    return lambda *args: runner.invoke(app, ["sweep", *map(str, args)])


def test_json_output_follows_the_contract(cli):
    done = cli(JONES, "--income", "dad", "--from", "5000", "--to", "5500", "--step", "250",
               "--format", "json")
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert [p["income"] for p in data["points"]] == ["5000.00", "5250.00", "5500.00"]
    kid = [c for c in data["changes"] if c["person"] == "kid1"]
    assert kid == [{**kid[0], "income": "5282.01", "name": "eligibility.level_of_care",
                    "from": "CHIP_75", "to": "INELIGIBLE", "limit": "5282"}]
    assert all(c["citations"] and {"source"} <= set(c["citations"][0]) for c in data["changes"])
    premium = {r["value"] for p in data["points"] for r in p["results"] if r["name"] == "chip.family_premium"}
    assert premium == {None, "0"}                      # money as a decimal string, never a number


def test_csv_has_a_row_at_each_change(cli):
    done = cli(FAMILY, "--income", "mom", "--from", "4000", "--to", "4500", "--step", "500",
               "--format", "csv", "--only", "chip.family_premium")
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == "income,kind,changed,chip.family_premium"
    assert lines[1:] == ["4000.00,point,,31", "4109.01,change,chip.family_premium,102",
                         "4500.00,point,,102"]


@pytest.mark.parametrize("args, message", [
    (["--income", "nobody"], "no person with the id 'nobody'"),
    (["--income", "dad", "--step", "0"], "more than $0"),
    (["--income", "dad", "--out", "x.pdf"], "must end in .svg, .png or .html"),
    (["--income", "dad", "--only", "no.such_rule"], "no rule named no.such_rule"),
    (["--income", "dad", "--from", "lots"], "is not a number of dollars"),
])
def test_bad_arguments_exit_2_with_a_sentence(cli, args, message):
    options = {"--from": "0", "--to": "100", "--step": "50"}
    options.update(zip(args[::2], args[1::2]))
    done = cli(JONES, *[x for pair in options.items() for x in pair])
    assert done.exit_code == 2, done.output
    assert message in done.output and "Traceback" not in done.output


def test_a_missing_case_file_exits_2(cli, tmp_path):
    done = cli(tmp_path / "none.yaml", "--income", "dad", "--from", "0", "--to", "1", "--step", "1")
    assert done.exit_code == 2 and "none.yaml" in done.output


# -- pictures -------------------------------------------------------------------------------------

def test_pictures_are_written_reproducibly(engine, tmp_path):
    result = run(engine, FAMILY, "mom", "0", "7500", "250")
    svg = write_picture(result, tmp_path / "a.svg").read_text(encoding="utf-8")
    again = write_picture(result, tmp_path / "b.svg").read_text(encoding="utf-8")
    assert svg == again and svg.lstrip().startswith("<?xml") and "<svg" in svg
    for label in ("mom: level of care", "kid1: level of care", "$6,774.01 · 1840.000.00",
                  "$4,575.01 · 1870.000.00", "UWHS", "CHIP_75", "$250"):
        assert label in svg, label
    assert "<title>At $4,575.01 a month: mom eligibility.level_of_care: UWHS → INELIGIBLE" in svg
    png = write_picture(result, tmp_path / "a.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert png == write_picture(result, tmp_path / "b.png").read_bytes()
    page = write_picture(result, tmp_path / "a.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<title>" in page
    # offline: nothing to fetch (namespace URIs in the SVG are names, not downloads)
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert "<td class=\"num\">$4,575.01</td>" in page


def test_the_command_writes_the_picture(cli, tmp_path):
    out = tmp_path / "jones.svg"
    done = cli(JONES, "--income", "dad", "--from", "0", "--to", "6000", "--step", "500", "--out", out)
    assert done.exit_code == 0, done.output
    assert "$5,282.01" in out.read_text(encoding="utf-8")
    assert f"Wrote the picture to {out}" in done.output


def test_the_example_picture_in_the_docs_shows_todays_changes(engine):
    """docs/tools.md shows docs/images/sweep-mother-of-two-2025.svg; when the rulebooks move a
    cliff, regenerate it with the command in docs/tools.md."""
    committed = (ROOT / "docs" / "images" / "sweep-mother-of-two-2025.svg").read_text(encoding="utf-8")
    result = run(engine, FAMILY, "mom", "0", "7500", "100")
    for change in result.changes:
        assert f"At ${change.income:,} a month:" in committed, change.income


def test_a_case_that_cannot_be_evaluated_says_at_which_income(engine):
    from engine.errors import EvaluationError
    ageless = {"case_id": "x", "as_of": "2025-06-01",
               "people": [{"id": "a", "sex": "female", "tax_filer": True}]}
    with pytest.raises(EvaluationError) as raised:
        run(engine, ageless, "a", "0", "1000", "500")
    problem = raised.value.problem
    assert problem.code == "E429"
    assert problem.message.startswith("With the swept income at $0.00 a month: Rule magi.age_years")


def test_the_case_can_come_from_standard_input(engine, monkeypatch):
    monkeypatch.setattr(sweep_cmd, "load_engine", lambda policy: engine)
    done = runner.invoke(app, ["sweep", "-", "--income", "dad", "--from", "5282", "--to", "5282.01",
                               "--step", "1", "--format", "json", "--only", "eligibility.level_of_care"],
                         input=JONES.read_text(encoding="utf-8"))
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["case_id"] == "jones" and [p["income"] for p in data["points"]] == ["5282.00", "5282.01"]
    assert {(c["person"], c["income"]) for c in data["changes"]} == {("kid1", "5282.01"), ("kid2", "5282.01")}


def test_a_test_file_gives_its_case_and_date(cli):
    tests = ROOT / "tests" / "cases" / "jones.yaml"
    done = cli(tests, "--income", "dad", "--from", "5200", "--to", "5300", "--step", "100",
               "--format", "json", "--only", "eligibility.level_of_care")
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["as_of"] == "2018-06-01"                     # the first test's date
    assert {c["income"] for c in data["changes"]} == {"5282.01"}
    later = cli(tests, "--income", "dad", "--from", "5200", "--to", "5300", "--step", "100",
                "--format", "json", "--test",
                "Jones family on the 2025 guidelines, CHIP 75 with the July 2024 and July 2025 premiums")
    assert later.exit_code == 0, later.output
    assert json.loads(later.output)["as_of"] == "2025-06-01"
    missing = cli(tests, "--income", "dad", "--from", "0", "--to", "1", "--step", "1", "--test", "nope")
    assert missing.exit_code == 2 and "no test named 'nope'" in missing.output


def test_case_text_is_escaped_in_the_pictures(engine, tmp_path):
    import warnings
    import xml.dom.minidom
    hostile = {"case_id": "<script>alert(1)</script>&", "as_of": "2025-06-01",
               "people": [{"id": "a", "age": 30, "sex": "female", "tax_filer": True}]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # and the layout fits one band too
        result = run(engine, hostile, "a", "0", "5000", "1000", names=["eligibility.level_of_care"])
        svg = write_picture(result, tmp_path / "x.svg").read_text(encoding="utf-8")
    xml.dom.minidom.parseString(svg.encode("utf-8"))      # well-formed
    page = write_picture(result, tmp_path / "x.html").read_text(encoding="utf-8")
    assert "<script>" not in svg + page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
