"""Reading a case the fast way gives exactly what the straightforward reader gave: the same
entity tree with the same values, or the same refusal with the same code, message, file, line
and field. Compared on generated households, on every case file of the repository (hostile
ones included) and on mutations of households that hypothesis generates, both for the whole
``Engine.read_case`` (normalise, validate, build) and for ``build_case`` alone on data no
schema has checked."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Engine
from engine.errors import CaseError, CompileError, codes
from engine.io.yaml_loader import load_file
from engine.model.entities import build_case

from tests.tools.households import households
from .helpers import outcome, relation_cases, snapshot, typed
from .reference import reference_build_case, reference_normalise, reference_validate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(ROOT / "policy")


def reference_read(engine: Engine, case, source=None):
    """``Engine.read_case`` as it was: normalise, jsonschema, build."""
    file = source
    if isinstance(case, (str, Path)):
        file = str(case)
        case = load_file(case)
    if not isinstance(case, dict):
        raise CaseError("A case must be a mapping with `case_id` and `people`.",
                        code=codes.CASE_NOT_MAPPING, file=file, line=getattr(case, "line", None) or 1)
    data = reference_normalise(case)
    reference_validate(data, file)
    if engine.program.root_kind is None:
        raise CompileError("The rulebooks declare no entities, so no case can be evaluated.",
                           code=codes.ENTITIES)
    return data, reference_build_case(data, engine.program.root_kind, file)


def both_reads(engine: Engine, case, source=None) -> tuple:
    def fast():
        read = engine.read_case(case, source)
        return read.data, read.root

    def reference():
        return reference_read(engine, case, source)

    return read_outcome(fast), read_outcome(reference)


def read_outcome(read) -> tuple:
    """outcome() of a read that gives (data, root): the case's data compared too."""
    return outcome(lambda: read(), describe=lambda pair: ("built", typed(pair[0]), snapshot(pair[1])))


def test_households_read_the_same(engine):
    for case in households(150, seed=21):
        fast, reference = both_reads(engine, case, "in.json")
        assert fast == reference
        assert fast[0] == "built"


def test_households_parsed_from_json_read_the_same(engine):
    """As ``policy batch`` hands them over: parsed with exact decimals, amounts as numbers too."""
    for case in households(60, seed=22):
        for person in case["people"]:
            for income in person.get("incomes", []):
                income["amount"] = Decimal(income["amount"])
        data = json.loads(json.dumps(case, default=str).replace('"amount": "', '"amount": ').replace(
            '", "frequency"', ', "frequency"'), parse_float=Decimal)
        fast, reference = both_reads(engine, data, "in.jsonl:1")
        assert fast == reference


CASE_FILES = sorted(
    p for folder in ("tests/hostile/cases", "tests/cases", "examples", "tests/cli/fixtures")
    for p in (ROOT / folder).rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file())


def test_there_are_case_files_to_compare():
    assert len(CASE_FILES) > 40
    assert any("hostile" in str(p) for p in CASE_FILES)


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_case_files_read_the_same(engine, path):
    """Every case file (and each test file's inline cases) reads the same, or fails the same."""
    fast, reference = both_reads(engine, path)
    assert fast == reference
    try:
        data = load_file(path)
    except Exception:
        return
    tests = data.get("tests") if isinstance(data, dict) else None
    for test in tests if isinstance(tests, list) else []:
        if isinstance(test, dict) and isinstance(test.get("case"), dict):
            fast, reference = both_reads(engine, test["case"], str(path))
            assert fast == reference


def test_entities_do_not_share_list_defaults(engine):
    data = {"case_id": "x", "people": [{"id": "a"}, {"id": "b", "parents": None}, {"id": "c"}]}
    first, second, third = build_case(data, engine.program.root_kind, None).children["people"]
    assert first.facts["parents"] == [] == second.facts["parents"]
    assert first.facts["parents"] is not third.facts["parents"]
    assert second.facts["parents"] is not third.facts["parents"]


# -- generated mutations ----------------------------------------------------------------------

PERSON_KEYS = ["id", "age", "sex", "tax_filer", "claimed_by", "spouse", "parents", "pregnant",
               "unborn_children", "medicare", "date_of_birth", "resources", "siblings",
               "caretaker_of", "good_cause", "incomes", "authorized_representatives", "deductions",
               "nickname", 3]
CASE_KEYS = ["case_id", "as_of", "people", "approval_date", "note", "household"]
INCOME_KEYS = ["type", "amount", "frequency", "hours_per_week", "ssdi", "order_date", "pay"]
VALUES = st.sampled_from([
    None, "", "a", "b", "k0", "zz", "male", "female", "wages", "monthly", "hourly", "primary",
    "application_only", "2025-02-30", "2020-01-01", " 2020-01-01", "0000-01-01", "2024-02-29",
    "2030-01-01", "12.50", "-3", "1e3", "$12", "1,000", "40\n", "a b",
    0, 1, 3, 40, -1, 131, 10 ** 15, 10 ** 20, True, False,
    Decimal("3"), Decimal("3.0"), Decimal("3.5"), Decimal("-0.01"), Decimal("1E+2"), Decimal("Infinity"),
    1.5, 3.0, [], ["a"], ["a", "a"], ["a", "b"], ["zz"], [None], [3], ["k0", "a"], {}, {"id": "c"},
    {"type": "wages", "amount": "10", "frequency": "hourly"},
    {"id": "r", "role": "primary"}, {"id": "r", "role": "application_only"}, ("a",),
])


@st.composite
def mutated_households(draw):
    case = copy.deepcopy(households(1, seed=draw(st.integers(0, 400)))[0])
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["case", "person", "income"]))
        people = case.get("people")
        if where == "person" and isinstance(people, list) and people and isinstance(people[0], dict):
            target, keys = draw(st.sampled_from(people)), PERSON_KEYS
        elif where == "income" and isinstance(people, list) and people and isinstance(people[0], dict):
            person = draw(st.sampled_from(people))
            incomes = person.setdefault("incomes", [])
            if not isinstance(incomes, list):
                continue
            if not incomes:
                incomes.append({"type": "wages", "amount": "100", "frequency": "monthly"})
            target, keys = draw(st.sampled_from(incomes)), INCOME_KEYS
            if not isinstance(target, dict):
                continue
        else:
            target, keys = case, CASE_KEYS
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()) and key in target:
            del target[key]
        else:
            target[key] = copy.deepcopy(draw(VALUES))
    return case


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated_households())
def test_mutated_households_read_the_same(engine, case):
    fast, reference = both_reads(engine, case, "in.json")
    assert fast == reference


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated_households())
def test_unchecked_data_builds_the_same(engine, case):
    """``build_case`` on data no schema has checked (every error branch of the builder)."""
    data = reference_normalise(case)
    root = engine.program.root_kind
    fast = outcome(lambda: build_case(copy.deepcopy(data), root, "in.json"))
    reference = outcome(lambda: reference_build_case(copy.deepcopy(data), root, "in.json"))
    assert fast == reference
    assert fast[0] != "crashed", fast


def test_an_infinite_whole_number_is_refused_in_words(engine):
    """Decimal("Infinity") given for a whole number (possible only without the schema) was an
    OverflowError; it is a clear error naming the fact."""
    data = {"case_id": "x", "people": [{"id": "a", "age": Decimal("Infinity")}]}
    with pytest.raises(CaseError) as caught:
        build_case(data, engine.program.root_kind, "x.json")
    assert caught.value.problem.message == ("The fact 'age' of person 'a' is not valid: it must be "
                                            "a whole number, not the number Infinity.")


def test_reference_cycles_and_relations_are_refused_the_same(engine):
    """The relation checks, one by one: cycles of every length, self-references, one-sided
    spouses, unknown ids, and ids duplicated across collections."""
    def person(ident, **facts):
        return {"id": ident, **facts}

    cases = relation_cases()
    chain = [person(f"p{i}", parents=[f"p{i + 1}"]) for i in range(300)] + [person("p300")]
    cases.append(chain)
    cases.append(chain[:-1] + [person("p300", parents=["p0"])])
    root = engine.program.root_kind
    refused = 0
    for people in cases:
        data = {"case_id": "rel", "people": people}
        fast = outcome(lambda: build_case(copy.deepcopy(data), root, "rel.json"))
        reference = outcome(lambda: reference_build_case(copy.deepcopy(data), root, "rel.json"))
        assert fast == reference, people[:4]
        refused += fast[0] == "refused"
    assert refused == 10
