"""Plain values in rulebooks: bare enum results, `null`, dotted names in `because` texts.

An analyst writes `then: CHIP_75` where the rule declares its `enum`, `null` for no value, and
`{{ magi.household_income }}` in a reason, as in expressions. The engine reads them exactly as the
older spellings (`'"CHIP_75"'`, `None`, `magi__household_income`), which still work.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import Engine
from engine.errors import PolicyError
from engine.io.yaml_loader import load_file

ROOT = Path(__file__).resolve().parent.parent.parent
POLICY = ROOT / "policy"

CASE = """\
rulebook: case
version: "1"
description: The case vocabulary.
entities:
  case:
    facts:
      case_id: {type: text}
  person:
    parent: case
    collection: people
    id: id
    facts:
      id: {type: text}
      age: {type: integer}
      tax_filer: {type: boolean, default: false}
"""
OTHER = """\
rulebook: other
version: "1"
description: Another namespace, read by the demo rules.
rules:
  doubled:
    entity: person
    type: integer
    citation: {source: Family MO HealthNet (MAGI) Manual, section: "1805.030.20"}
    formula: age * 2
"""


def load(tmp_path: Path, rules: str) -> Engine:
    (tmp_path / "case.yaml").write_text(CASE)
    (tmp_path / "other.yaml").write_text(OTHER)
    (tmp_path / "demo.yaml").write_text(
        "rulebook: demo\nversion: \"1\"\ndescription: Plain values.\nuses: [other]\nrules:\n" + rules)
    return Engine.load(tmp_path)


def evaluate(engine: Engine, name: str, **person):
    case = {"case_id": "c", "people": [{"id": "p", "age": 30, **person}]}
    result = engine.evaluate(case, as_of="2025-06-01")
    return result.value(name, "p") if hasattr(result, "value") else \
        next(r.value for r in result.results if r.name == name and r.person == "p")


LEVEL = """\
  level:
    entity: person
    type: text
    enum: [CHILD, ADULT, tax_filer]
    output: true
    citation: {source: Family MO HealthNet (MAGI) Manual, section: "1830.000.00"}
    conditions:
      - when: age < 19
        then: CHILD
      - when: age > 100
        then: tax_filer
      - otherwise: ADULT
"""


def test_a_bare_word_of_the_enum_is_that_text(tmp_path: Path):
    engine = load(tmp_path, LEVEL)
    assert evaluate(engine, "demo.level", age=10) == "CHILD"
    assert evaluate(engine, "demo.level", age=40) == "ADULT"


def test_the_enum_wins_over_a_fact_of_the_same_name(tmp_path: Path):
    """`then: tax_filer` in a rule whose enum has tax_filer is the text, not the fact."""
    engine = load(tmp_path, LEVEL)
    assert evaluate(engine, "demo.level", age=101, tax_filer=False) == "tax_filer"


def test_a_text_literal_outside_the_enum_is_refused_at_load(tmp_path: Path):
    rules = LEVEL.replace("then: CHILD", "then: '\"CHLD\"'")
    with pytest.raises(PolicyError) as caught:
        load(tmp_path, rules)
    problem = caught.value.problem
    assert problem.code == "E327" and problem.file.endswith("demo.yaml") and problem.line == 14
    assert "CHLD" in problem.message and "CHILD, ADULT" in problem.message


def test_a_computed_value_outside_the_enum_stops_the_evaluation(tmp_path: Path):
    rules = LEVEL.replace("then: CHILD", "then: '\"CH\" + \"ILDREN\"'")
    engine = load(tmp_path, rules)
    with pytest.raises(PolicyError) as caught:
        evaluate(engine, "demo.level", age=10)
    assert caught.value.problem.code == "E428"
    assert "CHILDREN" in caught.value.problem.message


def test_null_is_no_value_written_bare_or_in_an_expression(tmp_path: Path):
    engine = load(tmp_path, """\
  maybe:
    entity: person
    type: integer
    output: true
    citation: {source: Family MO HealthNet (MAGI) Manual, section: "1805.030.20"}
    conditions:
      - when: age < 19
        then: null
      - otherwise: age if age < 65 else null
""")
    assert evaluate(engine, "demo.maybe", age=10) is None
    assert evaluate(engine, "demo.maybe", age=70) is None
    assert evaluate(engine, "demo.maybe", age=30) == 30


REASON = """\
  told:
    entity: person
    type: integer
    output: true
    citation: {source: Family MO HealthNet (MAGI) Manual, section: "1805.030.20"}
    formula: other.doubled + 1
    because: "{{ person }}: twice the age is {{ other.doubled }}, also {{ other__doubled }} and {{ doubled }}."
"""


def test_a_reason_names_what_it_read_as_expressions_do(tmp_path: Path):
    engine = load(tmp_path, REASON)
    result = engine.evaluate({"case_id": "c", "people": [{"id": "p", "age": 30}]}, as_of="2025-06-01")
    (told,) = [r for r in result.results if r.name == "demo.told"]
    assert told.because == "p: twice the age is 60, also 60 and 60."


def test_a_reason_naming_something_the_rule_did_not_read_is_refused(tmp_path: Path):
    with pytest.raises(PolicyError) as caught:
        load(tmp_path, REASON.replace("{{ other.doubled }}", "{{ other.tripled }}"))
    problem = caught.value.problem
    assert problem.code == "E317" and "other.tripled" in problem.message


# ---------------------------------------------------------------------------- the rulebooks
def _expression_values(node, key=None):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _expression_values(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _expression_values(v, key)
    elif isinstance(node, str):
        yield key, node


@pytest.mark.parametrize("path", sorted(POLICY.rglob("*.yaml")), ids=lambda p: p.name)
def test_the_rulebooks_use_the_plain_spellings(path: Path):
    data = load_file(path)
    for section in ("rules", "functions"):
        for name, raw in (data.get(section) or {}).items():
            enum = set(raw.get("enum") or ())
            for key, value in _expression_values(raw):
                if key in ("then", "otherwise", "default"):
                    literal = re.fullmatch(r'"([A-Za-z_][A-Za-z0-9_]*)"', value.strip())
                    assert not (literal and literal.group(1) in enum), \
                        f"{path}: {name}: write {literal.group(1)} bare"
                if key in ("then", "otherwise", "default", "formula", "of", "where", "when"):
                    outside = re.sub(r'"[^"]*"', '""', value)
                    assert not re.search(r"\bNone\b", outside), f"{path}: {name}: write null: {value}"
                if key == "because":
                    assert not re.search(r"\{\{[^}]*\b[a-z_]+__[a-z_]+", value), \
                        f"{path}: {name}: write dotted names: {value}"


def test_the_level_of_care_declares_every_program_code(policy_engine):
    rule = policy_engine.program.rules["eligibility.level_of_care"]
    assert set(rule.enum) == {"MHK_UNDER_1", "CHIP_4M", "MHK", "CHIP_NON_PREMIUM", "MPW", "CHIP_73",
                              "CHIP_74", "CHIP_75", "SMHB", "MHF", "AEG", "UWHS", "INELIGIBLE"}
    assert policy_engine.program.rules["msp.level"].enum == ("QMB", "SLMB1", "SLMB2", "INELIGIBLE")
