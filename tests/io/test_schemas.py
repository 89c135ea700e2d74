"""Tests of the JSON Schemas in ``schemas/``: rulebooks, case files and test-case files.

The examples are the ones in ``docs/language.md`` and ``CONTRACT.md`` (placeholders such as
``{...}`` and ``https://...`` filled in), read the way the engine reads them: numbers with a fraction
as :class:`decimal.Decimal` and YAML dates (keys too) as ISO strings.
"""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
NAMES = ("rulebook", "case", "test")
BASE = "https://mo-policy-engine.local/schemas/"


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def load_schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


def schema_registry() -> Registry:
    """A registry holding every schema of ``schemas/`` under its ``$id``, so that the relative
    cross-file references (``case.schema.json``, ``rulebook.schema.json#/$defs/citations``)
    resolve without network access."""
    resources = []
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append(
            (contents["$id"], Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources).crawl()


REGISTRY = schema_registry()


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name), registry=REGISTRY,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


class _Loader(yaml.SafeLoader):
    """Reads YAML as the engine does before validation: decimals and ISO date strings."""


def _decimal(loader, node):
    return Decimal(loader.construct_scalar(node).replace("_", ""))


def _iso_date(loader, node):
    value = yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    return value.isoformat()


_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _iso_date)


def load(text: str):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def errors(name: str, doc) -> list:
    """Every error, with the errors nested in the context of anyOf/oneOf failures too."""
    found, todo = [], list(validator(name).iter_errors(doc))
    while todo:
        error = todo.pop(0)
        found.append(error)
        todo.extend(error.context or ())
    return found


def describe(errs) -> str:
    return "\n".join(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errs)


def assert_valid(name: str, doc) -> None:
    errs = errors(name, doc)
    assert not errs, describe(errs)


def assert_rejected(name: str, doc, path: str, fragment: str) -> None:
    """The document is rejected with an error at ``path`` (keys joined by '/') whose message
    contains ``fragment``: the failure is the one intended, not an accident elsewhere."""
    errs = errors(name, doc)
    assert errs, f"expected the {name} schema to reject the document"
    wanted = [e for e in errs
              if "/".join(map(str, e.absolute_path)) == path and fragment in e.message]
    assert wanted, f"no error at {path!r} containing {fragment!r}; got:\n{describe(errs)}"


def rulebook(body: str, header: str = "rulebook: demo\nversion: \"1\"\n") -> dict:
    return load(header + body)


# --------------------------------------------------------------------------------------------
# the schemas themselves
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_2020_12(name):
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{BASE}{name}.schema.json"


def test_every_object_schema_closes_its_properties():
    """Strictness: every schema that lists `properties` also says what other keys may be."""
    def walk(node, where):
        if isinstance(node, dict):
            if "properties" in node and node.get("type") == "object":
                assert "additionalProperties" in node, f"open object at {where}"
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    for name in NAMES:
        walk(load_schema(name), name)


def test_cross_references_resolve():
    resolver = REGISTRY.resolver(base_uri=f"{BASE}test.schema.json")
    assert resolver.lookup("case.schema.json").contents["title"] == "Case file"
    assert resolver.lookup("rulebook.schema.json#/$defs/citation").contents["title"] == "Citation"


# --------------------------------------------------------------------------------------------
# rulebooks: the examples of docs/language.md
# --------------------------------------------------------------------------------------------
SECTION_1 = """
# yaml-language-server: $schema=../schemas/rulebook.schema.json
rulebook: fpl                     # the namespace; lower-case letters, digits and _
version: "2025.04"                # required: the rulebook's own version, a string
title: HHS poverty guidelines as Missouri applies them
description: Optional longer text.
uses: [case]                      # namespaces this file refers to (optional)
sources:                          # named sources that citations can refer to (optional)
  hhs:
    source: HHS Poverty Guidelines
    url: https://aspe.hhs.gov/topics/poverty-economic-mobility/poverty-guidelines
parameters: {}
functions: {}
rules: {}
tables: {}
entities: {}
"""

CITATIONS = """
sources:
  magi_manual:
    source: Family MO HealthNet (MAGI) Manual
    url: https://dssmanuals.mo.gov/family-mo-healthnet-magi/
functions:
  full:
    formula: "1"
    citation:
      source: Family MO HealthNet (MAGI) Manual     # required unless `ref` is given
      section: "1805.030.20.20.05"                  # section, appendix or memo part
      url: https://dssmanuals.mo.gov/...
      memo: IM-17 2025                              # optional
      note: Free text for the analyst.              # optional
  by_ref:
    formula: "2"
    citation: {ref: magi_manual, section: "1805.030.20.20.05"}
  listed:
    formula: "3"
    citation:
      - {ref: magi_manual}
      - {source: FSD Memorandum IM-13 2025, section: Appendix J}
"""

PARAMETERS = """
sources:
  hhs:
    source: HHS Poverty Guidelines
    url: https://aspe.hhs.gov/topics/poverty-economic-mobility/poverty-guidelines
  magi_manual:
    source: Family MO HealthNet (MAGI) Manual
    url: https://dssmanuals.mo.gov/family-mo-healthnet-magi/
parameters:
  first_person:
    title: Poverty guideline for a household of one
    unit: USD/year
    citation: {ref: hhs}
    update_cycle: {month: 4, day: 1}      # optional: when a new value is expected each year
    values:
      2024-04-01:
        value: 15060
        citation: {source: HHS Poverty Guidelines 2024, url: https://...}
      2025-04-01: 15650                    # short form: just the value
  mhf_standard:
    kind: table
    key: integer
    unit: USD/month
    citation: {ref: magi_manual, section: "1810.020.10"}
    values:
      1996-07-16:
        value: {1: 141, 2: 241, 3: 301, 4: 353}
        each_additional: 42      # for keys above the last: last row + 42 per additional person
  premium:
    kind: bands
    unit: USD/month
    citation: {ref: magi_manual, section: "1840.010.20"}
    values:
      2025-04-01:
        value:
          - {from: 0,       from_inclusive: true,  to: 1305.00, to_inclusive: true,  value: 0}
          - {from: 1305.01, from_inclusive: true,  to: 1956.99, to_inclusive: true,  value: 52}
          - {from: 1957.00, from_inclusive: true,                                     value: 78}
  disregard_percent:
    unit: percent
    round: {mode: up, to: dollar}
    citation: {ref: magi_manual, section: "1805.030.20.20.05"}
    values:
      2014-01-01: {value: 5, until: 2099-12-31, note: long form with until}
  step:
    unit: ratio
    round: {mode: half_even, to: "0.001"}
    citation: {ref: magi_manual, section: "x"}
    values:
      2020-01-01: 0.0005
  codes:
    unit: text
    citation: {ref: magi_manual, section: "x"}
    values:
      2020-01-01: [MHK, CHIP_73]
"""

FUNCTIONS = """
uses: [fpl]
sources:
  hhs: {source: HHS Poverty Guidelines, url: https://aspe.hhs.gov/}
  magi_manual: {source: Family MO HealthNet (MAGI) Manual, url: https://dssmanuals.mo.gov/}
functions:
  guideline:
    args: [size]
    unit: USD/year
    formula: first_person + additional_person * (size - 1)
    citation: {ref: hhs}
  monthly_limit:
    args: [percent, size]
    formula: guideline(size) * percent / 100 / 12
    round: {mode: up, to: dollar}
    citation: {ref: magi_manual, section: "1805.030.20.20.05"}
"""

RULES = """
sources:
  magi_manual: {source: Family MO HealthNet (MAGI) Manual, url: https://dssmanuals.mo.gov/}
rules:
  household_income:
    entity: person                  # person, income, case, ... (section 8)
    type: money                     # money, decimal, percent, integer, boolean, text, date, list
    title: MAGI household income
    output: true                    # report it in `policy eval` results (default: false)
    formula: sum_income
    round: {mode: half_up, to: cent}
    citation: {ref: magi_manual, section: "1805.030.20"}
    because: "{{ person }}'s household has countable income of ${{ value }} a month."
  level_by_conditions:
    entity: person
    type: text
    citation: {ref: magi_manual, section: "1830.000.00"}
    conditions:
      - when: age < 1 and income <= magi.monthly_limit(201, household_size)
        then: '"MHK_UNDER_1"'
        because: "{{ person }} is under one and income is within 201% of poverty."
        citation: {ref: magi_manual, section: "1830.000.00"}
      - otherwise: '"INELIGIBLE"'
  level_by_table:
    entity: person
    type: text
    citation: {ref: magi_manual, section: "1830.000.00"}
    table:
      hit_policy: first               # first, unique or collect
      inputs:
        pct: fpl_percent
        age: age
      rows:
        - when: {age: "< 1", pct: "<= 196"}
          then: '"MHK_UNDER_1"'
        - when: {pct: "(150..185]"}
          then: '"CHIP_73"'
        - when: {age: "-", pct: 0}
          then: '"ZERO"'
          because: "literal tests"
      default: '"INELIGIBLE"'          # optional: the value when no row matches
  household_size:
    entity: person
    type: integer
    aggregate:
      function: count                 # sum, count, any, all, min, max, list
      over: people                    # a collection (section 8)
      where: id in outer.household_members
    citation: {ref: magi_manual, section: "1805.030.20"}
  lowest_amount:
    entity: person
    type: money
    aggregate: {function: min, over: incomes, of: amount, default: 0}
    citation: {ref: magi_manual, section: "1805.030.20"}
  zero:
    entity: case
    type: integer
    formula: 0
    citation: {ref: magi_manual, section: "x"}
"""

TABLES = """
uses: [magi]
tables:
  income-limits:
    title: Income limits by program and household size (Appendix A and Appendix J)
    columns: [program, household_size, percent_fpl, monthly_limit, monthly_limit_with_disregard]
    groups:
      - for_each:
          program: '["MHK_UNDER_1", "MHK"]'
          household_size: range(1, 11)
        row:
          program: program
          household_size: household_size
          percent_fpl: magi.standard_percent(program)
          monthly_limit: magi.monthly_limit(program, household_size)
          monthly_limit_with_disregard: magi.limit_with_disregard(program, household_size)
    published:
      - as_of: 2025-06-01
        citation: {source: FSD Memorandum IM-13 2025, section: Appendix J}
        rows:
          - {program: QMB, household_size: 1, monthly_limit: 1305}
        exceptions:                   # cells Missouri published differently, with the reason
          - {program: QMB, household_size: 3, column: monthly_limit,
             citation: {source: FSD Memorandum IM-13 2025, section: Appendix J}}
"""

ENTITIES = """
entities:
  case:
    facts:
      case_id: {type: text}
  person:
    parent: case
    collection: people                # the list in the case file that holds them
    id: id                            # the fact that identifies each one
    facts:
      age: {type: integer, required: false, minimum: 0, maximum: 130}
      pregnant: {type: boolean, default: false}
      parents: {type: list, default: []}
  income:
    parent: person
    collection: incomes
    facts:
      amount: {type: money}
      frequency: {type: text, enum: [hourly, weekly, biweekly, semimonthly, monthly, quarterly, annual]}
"""


def test_section_1_file_header():
    doc = load(SECTION_1)
    assert_valid("rulebook", doc)


@pytest.mark.parametrize("body", [CITATIONS, PARAMETERS, FUNCTIONS, RULES, TABLES, ENTITIES],
                         ids=["citations", "parameters", "functions", "rules", "tables", "entities"])
def test_language_examples_are_valid(body):
    assert_valid("rulebook", rulebook(body))


def test_loader_gives_strings_for_dates_and_decimals_for_fractions():
    doc = rulebook(PARAMETERS)
    values = doc["parameters"]["first_person"]["values"]
    assert list(values) == ["2024-04-01", "2025-04-01"]
    band = doc["parameters"]["premium"]["values"]["2025-04-01"]["value"][1]
    assert band["from"] == Decimal("1305.01") and isinstance(band["from"], Decimal)
    assert doc["parameters"]["mhf_standard"]["values"]["1996-07-16"]["value"][1] == 141


def test_minimal_rulebook():
    assert_valid("rulebook", {"rulebook": "case", "version": "1"})


# --------------------------------------------------------------------------------------------
# rulebooks: what is rejected
# --------------------------------------------------------------------------------------------
def _param() -> tuple[dict, dict]:
    """A fresh copy of the parameters example and its `parameters` mapping."""
    doc = rulebook(PARAMETERS)
    return doc, doc["parameters"]


def test_rulebook_requires_rulebook_and_version():
    assert_rejected("rulebook", {"version": "1"}, "", "'rulebook' is a required property")
    assert_rejected("rulebook", {"rulebook": "x"}, "", "'version' is a required property")
    assert_rejected("rulebook", {"rulebook": "x", "version": 2025}, "version", "is not of type 'string'")


def test_rulebook_unknown_top_level_key():
    doc = rulebook(FUNCTIONS)
    doc["formulas"] = {}
    assert_rejected("rulebook", doc, "", "'formulas' was unexpected")


def test_unknown_key_in_rule():
    doc = rulebook(RULES)
    doc["rules"]["household_income"]["outputs"] = True
    assert_rejected("rulebook", doc, "rules/household_income", "'outputs' was unexpected")


def test_unknown_key_in_citation():
    doc = rulebook(CITATIONS)
    doc["functions"]["full"]["citation"]["page"] = "3"
    assert_rejected("rulebook", doc, "functions/full/citation", "'page' was unexpected")
    doc = rulebook(CITATIONS)
    doc["functions"]["listed"]["citation"][1]["pages"] = "3"
    assert_rejected("rulebook", doc, "functions/listed/citation/1", "'pages' was unexpected")


def test_parameter_without_citation():
    doc, params = _param()
    del params["first_person"]["citation"]
    assert_rejected("rulebook", doc, "parameters/first_person", "'citation' is a required property")


def test_rule_and_function_without_citation():
    doc = rulebook(RULES)
    del doc["rules"]["household_size"]["citation"]
    assert_rejected("rulebook", doc, "rules/household_size", "'citation' is a required property")
    doc = rulebook(FUNCTIONS)
    del doc["functions"]["guideline"]["citation"]
    assert_rejected("rulebook", doc, "functions/guideline", "'citation' is a required property")


def test_citation_needs_source_and_section_or_url():
    for bad in ({"section": "1805"}, {"source": "MAGI Manual"}, {"url": "https://x.gov"}, {}):
        doc = rulebook(FUNCTIONS)
        doc["functions"]["guideline"]["citation"] = bad
        errs = errors("rulebook", doc)
        assert any(list(e.absolute_path) == ["functions", "guideline", "citation"] for e in errs), \
            (bad, describe(errs))
    doc = rulebook(FUNCTIONS)
    doc["functions"]["guideline"]["citation"] = {"section": "1805"}
    assert_rejected("rulebook", doc, "functions/guideline/citation", "'source' is a required property")
    for good in ({"source": "MAGI Manual", "section": "1805"},
                 {"source": "MAGI Manual", "url": "https://dssmanuals.mo.gov/"},
                 {"ref": "hhs"}):
        doc = rulebook(FUNCTIONS)
        doc["functions"]["guideline"]["citation"] = good
        assert_valid("rulebook", doc)


def test_empty_citation_list_rejected():
    doc = rulebook(FUNCTIONS)
    doc["functions"]["guideline"]["citation"] = []
    assert errors("rulebook", doc)


def test_band_from_without_from_inclusive():
    doc, params = _param()
    del params["premium"]["values"]["2025-04-01"]["value"][2]["from_inclusive"]
    assert_rejected("rulebook", doc, "parameters/premium/values/2025-04-01/value/2",
                    "'from_inclusive' is a dependency of 'from'")


def test_band_inclusive_flag_without_bound():
    doc, params = _param()
    params["premium"]["values"]["2025-04-01"]["value"][2]["to_inclusive"] = False
    assert_rejected("rulebook", doc, "parameters/premium/values/2025-04-01/value/2",
                    "'to' is a dependency of 'to_inclusive'")


def test_bands_value_must_be_a_list_of_bands():
    doc, params = _param()
    params["premium"]["values"]["2025-04-01"] = 52
    assert_rejected("rulebook", doc, "parameters/premium/values/2025-04-01", "is not of type 'array'")


def test_table_value_must_be_a_mapping_and_key_only_on_tables():
    doc, params = _param()
    params["mhf_standard"]["values"]["1996-07-16"]["value"] = 141
    assert_rejected("rulebook", doc, "parameters/mhf_standard/values/1996-07-16/value",
                    "is not of type 'object'")
    doc, params = _param()
    params["first_person"]["key"] = "integer"
    assert_rejected("rulebook", doc, "parameters/first_person",
                    "should not be valid under {'required': ['key']}")


def test_each_additional_only_on_tables():
    doc, params = _param()
    params["first_person"]["values"]["2024-04-01"]["each_additional"] = 5
    assert_rejected("rulebook", doc, "parameters/first_person/values/2024-04-01",
                    "'each_additional' was unexpected")


def test_scalar_value_must_not_be_a_mapping():
    doc, params = _param()
    params["first_person"]["values"]["2025-04-01"] = {"amount": 15650}
    assert_rejected("rulebook", doc, "parameters/first_person/values/2025-04-01",
                    "is not valid under any of the given schemas")


def test_bad_date_key():
    doc, params = _param()
    params["first_person"]["values"]["2025-13-01"] = 1
    assert_rejected("rulebook", doc, "parameters/first_person/values", "'2025-13-01' does not match")
    doc, params = _param()
    params["first_person"]["values"]["April 2025"] = 1
    assert_rejected("rulebook", doc, "parameters/first_person/values", "'April 2025' does not match")


def test_values_must_not_be_empty_and_unit_is_required():
    doc, params = _param()
    params["first_person"]["values"] = {}
    assert_rejected("rulebook", doc, "parameters/first_person/values", "should be non-empty")
    doc, params = _param()
    del params["first_person"]["unit"]
    assert_rejected("rulebook", doc, "parameters/first_person", "'unit' is a required property")
    doc, params = _param()
    params["first_person"]["unit"] = "dollars"
    assert_rejected("rulebook", doc, "parameters/first_person/unit", "is not one of")


def test_bad_until_and_update_cycle():
    doc, params = _param()
    params["disregard_percent"]["values"]["2014-01-01"]["until"] = "someday"
    assert_rejected("rulebook", doc, "parameters/disregard_percent/values/2014-01-01/until",
                    "does not match")
    doc, params = _param()
    params["first_person"]["update_cycle"] = {"month": 13, "day": 1}
    assert_rejected("rulebook", doc, "parameters/first_person/update_cycle/month",
                    "is greater than the maximum")


def test_rounding():
    for good in ({"mode": "up", "to": "five_cents"}, {"mode": "down", "to": "0.05"},
                 {"mode": "half_even", "to": "10"}):
        doc, params = _param()
        params["first_person"]["round"] = good
        assert_valid("rulebook", doc)
    for bad, where in (({"mode": "nearest", "to": "cent"}, "mode"),
                       ({"mode": "up", "to": "penny"}, "to"),
                       ({"mode": "up", "to": "0"}, "to"),
                       ({"mode": "up", "to": "-1"}, "to")):
        doc, params = _param()
        params["first_person"]["round"] = bad
        errs = errors("rulebook", doc)
        assert any(list(e.absolute_path) == ["parameters", "first_person", "round", where]
                   for e in errs), (bad, describe(errs))


def test_rule_with_two_bodies():
    doc = rulebook(RULES)
    doc["rules"]["household_income"]["conditions"] = [{"otherwise": "0"}]
    assert_rejected("rulebook", doc, "rules/household_income", "is valid under each of")
    message = next(e.message for e in errors("rulebook", doc) if e.validator == "oneOf")
    tail = message.split("is valid under each of")[1]
    assert "'formula'" in tail and "'conditions'" in tail


def test_rule_with_no_body():
    doc = rulebook(RULES)
    del doc["rules"]["household_income"]["formula"]
    assert_rejected("rulebook", doc, "rules/household_income", "is not valid under any of the given schemas")


def test_rule_requires_entity_and_type():
    doc = rulebook(RULES)
    del doc["rules"]["zero"]["entity"]
    assert_rejected("rulebook", doc, "rules/zero", "'entity' is a required property")
    doc = rulebook(RULES)
    doc["rules"]["zero"]["type"] = "float"
    assert_rejected("rulebook", doc, "rules/zero/type", "is not one of")


def test_function_may_not_aggregate():
    doc = rulebook(FUNCTIONS)
    fn = doc["functions"]["guideline"]
    del fn["formula"]
    fn["aggregate"] = {"function": "count", "over": "people"}
    assert_rejected("rulebook", doc, "functions/guideline", "'aggregate' was unexpected")


def test_bad_names():
    doc = rulebook(FUNCTIONS)
    doc["functions"]["Guideline"] = doc["functions"].pop("guideline")
    assert_rejected("rulebook", doc, "functions", "'Guideline' does not match")
    doc = rulebook(FUNCTIONS)
    doc["functions"]["monthly-limit"] = doc["functions"].pop("monthly_limit")
    assert_rejected("rulebook", doc, "functions", "'monthly-limit' does not match")
    doc = rulebook(FUNCTIONS)
    doc["rulebook"] = "Fpl"
    assert_rejected("rulebook", doc, "rulebook", "does not match")


def test_conditions_shape():
    doc = rulebook(RULES)
    conditions = doc["rules"]["level_by_conditions"]["conditions"]
    conditions.append({"otherwise": '"AGAIN"'})
    assert_rejected("rulebook", doc, "rules/level_by_conditions/conditions",
                    "Too many items match the given schema (expected at most 1)")
    doc = rulebook(RULES)
    del doc["rules"]["level_by_conditions"]["conditions"][0]["then"]
    assert_rejected("rulebook", doc, "rules/level_by_conditions/conditions/0",
                    "'then' is a required property")
    doc = rulebook(RULES)
    doc["rules"]["level_by_conditions"]["conditions"][1]["then"] = "1"
    assert_rejected("rulebook", doc, "rules/level_by_conditions/conditions/1", "'then' was unexpected")


def test_decision_table_shape():
    doc = rulebook(RULES)
    doc["rules"]["level_by_table"]["table"]["hit_policy"] = "any"
    assert_rejected("rulebook", doc, "rules/level_by_table/table/hit_policy", "is not one of")
    doc = rulebook(RULES)
    doc["rules"]["level_by_table"]["table"]["rows"][0]["result"] = "x"
    assert_rejected("rulebook", doc, "rules/level_by_table/table/rows/0", "'result' was unexpected")


def test_aggregate_shape():
    doc = rulebook(RULES)
    doc["rules"]["household_size"]["aggregate"]["function"] = "sum"
    assert_rejected("rulebook", doc, "rules/household_size/aggregate", "'of' is a required property")
    doc = rulebook(RULES)
    doc["rules"]["household_size"]["aggregate"]["function"] = "average"
    assert_rejected("rulebook", doc, "rules/household_size/aggregate/function", "is not one of")
    doc = rulebook(RULES)
    doc["rules"]["household_size"]["aggregate"]["default"] = 0
    assert_rejected("rulebook", doc, "rules/household_size/aggregate",
                    "should not be valid under {'required': ['default']}")
    doc = rulebook(RULES)
    doc["rules"]["household_size"]["aggregate"]["of"] = "1"
    assert_rejected("rulebook", doc, "rules/household_size/aggregate",
                    "should not be valid under {'required': ['of']}")


def test_published_and_tables_shape():
    doc = rulebook(TABLES)
    del doc["tables"]["income-limits"]["published"][0]["as_of"]
    assert_rejected("rulebook", doc, "tables/income-limits/published/0", "'as_of' is a required property")
    doc = rulebook(TABLES)
    del doc["tables"]["income-limits"]["published"][0]["exceptions"][0]["citation"]
    assert_rejected("rulebook", doc, "tables/income-limits/published/0/exceptions/0",
                    "'citation' is a required property")
    doc = rulebook(TABLES)
    doc["tables"]["Income Limits"] = doc["tables"].pop("income-limits")
    assert_rejected("rulebook", doc, "tables", "'Income Limits' does not match")


def test_entities_shape():
    doc = rulebook(ENTITIES)
    doc["entities"]["person"]["facts"]["age"]["type"] = "number"
    assert_rejected("rulebook", doc, "entities/person/facts/age/type", "is not one of")
    doc = rulebook(ENTITIES)
    del doc["entities"]["income"]["collection"]
    assert_rejected("rulebook", doc, "entities/income", "'collection' is a dependency of 'parent'")
    doc = rulebook(ENTITIES)
    doc["entities"]["person"]["facts"]["age"]["optional"] = True
    assert_rejected("rulebook", doc, "entities/person/facts/age", "'optional' was unexpected")


# --------------------------------------------------------------------------------------------
# case files
# --------------------------------------------------------------------------------------------
JONES = """
case_id: jones
as_of: 2018-06-01            # optional
people:
  - id: dad                  # unique within the case
    age: 40                  # whole years (date_of_birth: YYYY-MM-DD may be given instead)
    sex: male                # female or male
    tax_filer: true          # expects to file a federal tax return
    claimed_by: null         # id of the tax filer who claims this person as a dependent, if any
    spouse: null             # id of a spouse living in the home
    parents: []              # ids of the person's parents (biological, adoptive or step) living in the home
    pregnant: false
    unborn_children: 0       # when pregnant
    disabled: false
    blind: false
    insured: false           # has other health insurance
    medicare: false          # entitled to Medicare Part A
    applying: true           # requests coverage
    incomes:
      - type: wages          # wages, self_employment, social_security, ssi, va, railroad, unemployment, child_support, alimony, ...
        amount: "30"
        frequency: hourly    # hourly (with hours_per_week), weekly, biweekly, semimonthly, monthly, quarterly, annual
        hours_per_week: 40
"""

FAMILY = """
case_id: family-2
description: A pregnant mother, a child and a grandmother on Medicare.
people:
  - id: mom
    name: Ann
    date_of_birth: 1990-02-28
    sex: female
    tax_filer: true
    pregnant: true
    unborn_children: 2
    incomes:
      - {type: self_employment, amount: "-12.5", frequency: monthly, description: crafts}
      - {type: wages, amount: 5199.60, frequency: semimonthly}
      - {type: alimony, amount: 1200, frequency: quarterly}
      - {type: interest, amount: "30.01", frequency: annual}
      - {type: wages, amount: "15.25", frequency: hourly, hours_per_week: "32.5"}
  - id: kid1
    age: 0
    claimed_by: mom
    parents: [mom]
    applying: true
  - id: grandma
    age: 130
    medicare: true
    disabled: true
    blind: false
    insured: true
    note: lives with the family
    incomes:
      - {type: social_security, amount: "1400", frequency: monthly}
      - {type: pension, amount: 250, frequency: biweekly}
"""


def test_jones_case_is_valid():
    doc = load(JONES)
    assert doc["as_of"] == "2018-06-01"
    assert_valid("case", doc)


def test_jones_as_json_is_valid():
    assert_valid("case", json.loads(json.dumps(load(JONES))))


def test_other_case_is_valid():
    assert_valid("case", load(FAMILY))


def test_case_rejections():
    doc = load(JONES)
    del doc["people"][0]["id"]
    assert_rejected("case", doc, "people/0", "'id' is a required property")

    doc = load(JONES)
    doc["people"][0]["incomes"][0]["frequency"] = "daily"
    assert_rejected("case", doc, "people/0/incomes/0/frequency", "'daily' is not one of")

    doc = load(JONES)
    doc["people"][0]["children"] = []
    assert_rejected("case", doc, "people/0", "'children' was unexpected")

    doc = load(JONES)
    doc["household"] = "x"
    assert_rejected("case", doc, "", "'household' was unexpected")

    doc = load(JONES)
    doc["people"][0]["incomes"][0]["employer"] = "Acme"
    assert_rejected("case", doc, "people/0/incomes/0", "'employer' was unexpected")

    doc = load(JONES)
    del doc["people"][0]["incomes"][0]["hours_per_week"]
    assert_rejected("case", doc, "people/0/incomes/0", "'hours_per_week' is a required property")

    doc = load(JONES)
    doc["people"][0]["incomes"][0]["amount"] = "$30"
    assert_rejected("case", doc, "people/0/incomes/0/amount", "is not valid under any")

    doc = load(JONES)
    doc["people"][0]["incomes"][0]["type"] = "salary"
    assert_rejected("case", doc, "people/0/incomes/0/type", "is not one of")

    doc = load(JONES)
    doc["people"][0]["age"] = 131
    assert_rejected("case", doc, "people/0/age", "is greater than the maximum")

    doc = load(JONES)
    doc["people"][0]["age"] = "40"
    assert_rejected("case", doc, "people/0/age", "is not of type 'integer'")

    doc = load(JONES)
    doc["people"][0]["id"] = "dad smith"
    assert_rejected("case", doc, "people/0/id", "does not match")

    doc = load(JONES)
    doc["people"][0]["sex"] = "m"
    assert_rejected("case", doc, "people/0/sex", "is not one of")

    doc = load(JONES)
    doc["people"][0]["unborn_children"] = 11
    assert_rejected("case", doc, "people/0/unborn_children", "is greater than the maximum")

    doc = load(JONES)
    doc["people"][0]["date_of_birth"] = "1985-02-30"
    assert_rejected("case", doc, "people/0/date_of_birth", "is not a 'date'")

    doc = load(JONES)
    doc["as_of"] = "06/01/2018"
    assert_rejected("case", doc, "as_of", "does not match")

    doc = load(JONES)
    doc["people"] = []
    assert_rejected("case", doc, "people", "should be non-empty")

    doc = load(JONES)
    doc["people"] = [copy.deepcopy(doc["people"][0]) | {"id": f"p{i}"} for i in range(101)]
    assert_rejected("case", doc, "people", "is too long")

    doc = load(JONES)
    del doc["case_id"]
    assert_rejected("case", doc, "", "'case_id' is a required property")


# --------------------------------------------------------------------------------------------
# test-case files
# --------------------------------------------------------------------------------------------
TESTS = """
# yaml-language-server: $schema=../../schemas/test.schema.json
tests:
  - name: Jones children get CHIP 75 with the 5% disregard
    citation: {source: Family MO HealthNet (MAGI) Manual, section: "1805.030.20.20.05"}
    as_of: 2018-06-01
    case:                       # an inline case, or `case_file: path/relative/to/this/file.yaml`
      case_id: jones
      people:
        - {id: dad, age: 40, tax_filer: true}
        - {id: kid1, age: 6, parents: [dad], claimed_by: dad}
    expect:
      - {name: eligibility.level_of_care, person: kid1, value: CHIP_75}
      - {name: magi.household_income, person: dad, value: "5199.60"}
    expect_error: null          # or a message fragment, when the case should fail
  - name: pinned poverty guideline
    params: [{name: fpl.first_person, value: 12140}]
  - name: pinned chart row
    table: {name: income-limits, rows: [{program: QMB, household_size: 1, monthly_limit: 1305}]}
  - name: case from a file, with an error
    case_file: cases/broken.yaml
    expect_error: household_size
  - name: family premium
    as_of: 2025-06-01
    case_file: cases/family.yaml
    expect:
      - {name: chip.family_premium, person: null, value: "0"}
      - {name: magi.household_size, person: dad, value: 3}
    params:
      - {name: fpl.first_person, value: 15650, as_of: 2025-04-01}
    table:
      name: income-limits
      as_of: 2025-06-01
      rows:
        - {program: MHF, household_size: 1, percent_fpl: null, monthly_limit: 141}
"""


def test_test_file_example_is_valid():
    assert_valid("test", load(TESTS))


def test_test_file_rejections():
    doc = load(TESTS)
    doc["tests"][0]["case"]["people"][0]["income"] = []
    assert_rejected("test", doc, "tests/0/case/people/0", "'income' was unexpected")

    doc = load(TESTS)
    del doc["tests"][0]["name"]
    assert_rejected("test", doc, "tests/0", "'name' is a required property")

    doc = load(TESTS)
    doc["tests"][0]["case_file"] = "x.yaml"
    assert_rejected("test", doc, "tests/0", "should not be valid under")

    doc = load(TESTS)
    doc["tests"][0]["expect"][0]["expected"] = 1
    assert_rejected("test", doc, "tests/0/expect/0", "'expected' was unexpected")

    doc = load(TESTS)
    del doc["tests"][0]["expect"][0]["value"]
    assert_rejected("test", doc, "tests/0/expect/0", "'value' is a required property")

    doc = load(TESTS)
    doc["tests"][0]["citation"] = {"source": "MAGI Manual"}
    errs = errors("test", doc)
    assert any(list(e.absolute_path) == ["tests", 0, "citation"] for e in errs), describe(errs)

    doc = load(TESTS)
    doc["tests"][0]["as_of"] = "2018-6-1"
    assert_rejected("test", doc, "tests/0/as_of", "does not match")

    # A test with nothing to check.
    assert_rejected("test", {"tests": [{"name": "x", "case_file": "a.yaml"}]}, "tests/0",
                    "is not valid under any of the given schemas")
    assert_rejected("test", {"tests": [{"name": "x", "case_file": "a.yaml", "expect_error": None}]},
                    "tests/0", "is not valid under any of the given schemas")
    # `expect` needs a case.
    assert_rejected("test", {"tests": [{"name": "x", "expect": [{"name": "a.b", "value": 1}]}]},
                    "tests/0", "is not valid under any of the given schemas")
    assert_rejected("test", {"tests": []}, "tests", "should be non-empty")
    assert_rejected("test", {"tests": [{"name": "x", "params": [{"name": "a", "value": 1}]}],
                             "cases": []}, "", "'cases' was unexpected")


def test_language_md_mentions_the_schemas():
    """The spec and the schemas stay in step on the names that matter."""
    text = (SCHEMAS.parent / "docs" / "language.md").read_text(encoding="utf-8")
    units = re.search(r"one of (`USD`.*?`date`)", text, re.S).group(1)
    declared = set(re.findall(r"`([^`]+)`", units))
    assert declared == set(load_schema("rulebook")["$defs"]["unit"]["enum"])
    assert "schemas/rulebook.schema.json" in text and "schemas/test.schema.json" in text
