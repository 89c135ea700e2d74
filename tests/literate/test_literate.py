"""The literate fields: `description`, `not_modelled`, `assumptions` and `says` as data.

They are read into the model (so the docs site and checks can see them), validated by the schema,
required or warned about by `policy check` (E590, W591: tests/check/fixtures), and shown on the
docs site beside the formulas.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from engine import Engine
from engine.checks import check
from engine.tools.docsite import build_site
from engine.errors import PolicyError
from engine.io.yaml_loader import load_file

ROOT = Path(__file__).resolve().parent.parent.parent
POLICY = ROOT / "policy"
SOURCES = Path("/work/shared/sources")

MINIMAL = """\
rulebook: demo
version: "1"
description: A small rulebook for the literate fields.
sources:
  manual: {source: Family MO HealthNet (MAGI) Manual, url: "https://dssmanuals.mo.gov/"}
{extra}
rules:
  level:
    entity: case
    type: text
    output: true
    says: The rule's own sentence.
    citation: {ref: manual}
    conditions:
      - when: "true"
        then: '"A"'
        says: The branch's sentence.
      - otherwise: '"B"'
"""
CASE = """\
rulebook: case
version: "1"
description: The case vocabulary.
entities:
  case:
    facts:
      case_id: {type: text}
"""


def write(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "case.yaml").write_text(CASE)
    (tmp_path / "demo.yaml").write_text(MINIMAL.replace("{extra}", extra))
    return tmp_path


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(POLICY)


# ---------------------------------------------------------------------------- the rulebooks
@pytest.mark.parametrize("path", sorted(POLICY.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_rulebook_has_a_description(path: Path):
    data = load_file(path)
    assert str(data.get("description") or "").strip(), f"{path} has no description"


def test_the_decisive_comments_are_data_now():
    """"Not modelled" and "Not applied" notes live in `not_modelled`, where the site shows them."""
    for path in POLICY.rglob("*.yaml"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            assert not re.match(r"^\s*#\s*(Not modelled|Not applied|Simplifications)", line), \
                f"{path}:{number}: {line}"


def test_policy_check_reports_no_e590_on_the_rulebooks():
    report = check([POLICY], as_of="2025-06-01")
    assert [p for p in report.problems if p.code == "E590"] == []


def test_the_model_carries_the_literate_fields(engine: Engine):
    (book,) = engine.program.namespaces["eligibility"]
    assert book.description.startswith("The person's MO HealthNet level of care")
    residency = [n for n in book.not_modelled if "residency" in n.what]
    assert residency and residency[0].citations[0].source == "Family MO HealthNet (MAGI) Manual"
    (income,) = [b for b in engine.program.namespaces["mhabd"] if b.path.endswith("income.yaml")]
    assert any("couple" in a.what for a in income.assumptions)
    rule = engine.program.rules["eligibility.level_of_care"]
    assert "148% of the FPL" in rule.says
    # The CHIP 75 branch composes the level's own test, which quotes Example 1 of 1805.030.20.20.05
    (chip_75,) = [c for c in rule.body.conditions if c.when and c.when.text.strip() == "chip_75_test"]
    test = engine.program.rules["eligibility.chip_75_test"]
    assert "$5,199.60" in test.says and "CHIP 75" in test.says
    assert test.transparent and not test.output


@pytest.mark.skipif(not SOURCES.is_dir(), reason="the source documents are not on this machine")
def test_every_says_quotes_the_sources_word_for_word(engine: Engine):
    text = " ".join(" ".join(p.read_text() for p in sorted(SOURCES.glob("*.txt"))).split())
    quoted = [r.says for r in engine.program.rules.values() if r.says]
    for rule in engine.program.rules.values():
        for branch in getattr(rule.body, "conditions", []) + getattr(rule.body, "rows", []):
            if branch.says:
                quoted.append(branch.says)
    assert len(quoted) >= 30
    for sentence in quoted:
        assert " ".join(sentence.split()) in text, sentence


# ---------------------------------------------------------------------------- schema and loader
def test_a_note_without_a_citation_is_refused(tmp_path: Path):
    write(tmp_path, "not_modelled:\n  - what: Residency is not tested.\n")
    with pytest.raises(PolicyError) as caught:
        Engine.load(tmp_path)
    assert caught.value.problem.code == "E201"
    assert "citation" in caught.value.render()


def test_a_note_citing_an_unknown_source_names_it(tmp_path: Path):
    write(tmp_path, "assumptions:\n  - what: Offices close on Saturdays.\n    citation: {ref: nowhere}\n")
    with pytest.raises(PolicyError) as caught:
        Engine.load(tmp_path)
    assert caught.value.problem.code == "E306"
    assert caught.value.problem.file.endswith("demo.yaml")


def test_an_unknown_key_in_a_note_is_refused(tmp_path: Path):
    write(tmp_path, "not_modelled:\n  - what: x\n    citation: {ref: manual}\n    why: y\n")
    with pytest.raises(PolicyError) as caught:
        Engine.load(tmp_path)
    assert caught.value.problem.code == "E201"


def test_says_and_notes_load(tmp_path: Path):
    write(tmp_path, "not_modelled:\n  - what: Residency is not tested.\n    citation: {ref: manual}\n"
                    "    note: Every person is taken to be a resident.\n")
    program = Engine.load(tmp_path).program
    (book,) = program.namespaces["demo"]
    (note,) = book.not_modelled
    assert (note.what, note.note, note.citations[0].url) == \
        ("Residency is not tested.", "Every person is taken to be a resident.", "https://dssmanuals.mo.gov/")
    assert note.line == 7          # the line of the item, for messages
    rule = program.rules["demo.level"]
    assert rule.says == "The rule's own sentence."
    assert [c.says for c in rule.body.conditions] == ["The branch's sentence.", None]


# ---------------------------------------------------------------------------- the docs site
def test_the_site_shows_the_literate_fields_beside_the_formulas(engine: Engine, tmp_path: Path):
    build_site(engine, tmp_path, as_of=dt.date(2025, 6, 1))
    page = (tmp_path / "eligibility.html").read_text()
    assert '<p class="description">The person&#39;s MO HealthNet level of care' in page
    assert '<div class="not-modelled"><strong>Not modelled</strong>' in page
    assert "Missouri residency is not tested" in page
    # CHIP 75's own test: its title, then what the manual says, then its formula, in one section.
    start = page.index('<section class="def" id="rule-chip_75_test">')
    section = page[start:page.index("</section>", start)]
    says = section.index('<blockquote class="says">')
    assert section.index("CHIP 75 (premium group)") < says < section.index('<pre class="expr">')
    assert "$5,199.60 per month is below" in section[says:]
    assert 'magi.html#fn-income_limit">magi.income_limit</a>(&#34;CHIP_75&#34;' in section
    msp = (tmp_path / "msp.html").read_text()
    assert '<div class="assumptions"><strong>Assumptions</strong>' in msp
    assert "Assistance Group Size QMB (100% FPL)" in msp
