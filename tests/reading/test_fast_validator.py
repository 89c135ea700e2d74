"""The compiled case validator (jsonschema_rs) against jsonschema, the authority.

It must never accept a case jsonschema refuses; on plain JSON it must agree with jsonschema
except where the two regular-expression engines differ ($ before a final newline, which only
jsonschema's Python patterns accept: such a case goes to jsonschema, which accepts it). The
"date" format is read as jsonschema reads it, impossible dates included."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import jsonschema
import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Engine
from engine.errors import SchemaError
from engine.io.case_data import is_plain, normalise_case
from engine.io.schemas import (FORMATS, NATIVE_FORMATS, _schema_documents, for_compiled,
                               is_valid_fast, validate, validator)
from engine.io.yaml_loader import loads

from tests.tools.households import households
from .test_read_differential import mutated_households

ROOT_POLICY = __import__("pathlib").Path(__file__).resolve().parents[2] / "policy"


def jsonschema_valid(data) -> bool:
    return not any(True for _ in validator("case").iter_errors(data))


def strings(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def newline_at_end(data) -> bool:
    return any(text.endswith("\n") for text in strings(data))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated_households())
def test_fast_validator_agrees_with_jsonschema(case):
    data, plain = normalise_case(case)
    assert plain == is_plain(data)
    fast, slow = is_valid_fast("case", data), jsonschema_valid(data)
    assert slow or not fast                        # never accepts what jsonschema refuses
    if plain and not newline_at_end(data):
        assert fast == slow
    # validate() decides as jsonschema does, whatever the fast validator said
    try:
        validate("case", data, "in.json", plain=plain)
        accepted = True
    except SchemaError:
        accepted = False
    assert accepted == slow


def test_households_are_plain_and_valid_to_both():
    for case in households(100, seed=31):
        data, plain = normalise_case(json.loads(json.dumps(case), parse_float=Decimal))
        assert plain and is_valid_fast("case", data) and jsonschema_valid(data)


NOT_PLAIN = [
    ("a whole number as a decimal", lambda p: p.update(age=Decimal("3"))),
    ("a JSON 3.0 read exactly", lambda p: p.update(age=Decimal("3.0"))),
    ("a decimal with an exponent", lambda p: p.update(unborn_children=Decimal("1E+0"))),
    ("an infinite decimal", lambda p: p.update(resources=Decimal("Infinity"))),
    ("not a number", lambda p: p.update(resources=Decimal("NaN"))),
    ("a text subclass", lambda p: p.update(sex=type("Text", (str,), {})("male"))),
    ("a number subclass", lambda p: p.update(age=type("Whole", (int,), {})(3))),
    ("a key that is not text", lambda p: p.update({3: "x"})),
    ("an object", lambda p: p.update(age=object())),
]


@pytest.mark.parametrize("label,mutate", NOT_PLAIN, ids=[label for label, _ in NOT_PLAIN])
def test_values_the_validators_read_differently_go_to_jsonschema(label, mutate):
    """jsonschema_rs takes Decimal("3") for an integer (jsonschema does not), and reads a few
    other Python values its own way: such data is not plain, so jsonschema alone decides."""
    case = households(1, seed=32)[0]
    mutate(case["people"][0])
    data, plain = normalise_case(case)
    assert not plain and not is_plain(data)
    assert not is_valid_fast("case", data)
    with pytest.raises(SchemaError) if not jsonschema_valid(data) else _nothing():
        validate("case", data, "in.json", plain=plain)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_the_case_schema_uses_no_format_but_date():
    """Every format the case schema names is checked by the compiled validator as jsonschema
    reads it (natively with what NATIVE_FORMATS adds, or with a function in FORMATS); a new
    format needs one of the two, and a test that the two validators read it alike."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                found.add(node["format"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(_schema_documents()["case"])
    assert found == {"date"} and set(FORMATS) | set(NATIVE_FORMATS) >= found


_COMPILED_DATE = jsonschema_rs.validator_for(for_compiled({"type": "string", "format": "date"}),
                                             validate_formats=True, offline=True).is_valid


@given(st.one_of(st.text(max_size=12), st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\n?\Z"),
                 st.from_regex(r"\A0{3}[0-9]-[0-9]{2}-[0-9]{2}\Z"),
                 st.dates().map(dt.date.isoformat)))
@settings(max_examples=800, deadline=None)
def test_date_format_is_read_as_jsonschema_reads_it(text):
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    assert _COMPILED_DATE(text) == checker.conforms(text, "date")


def test_a_date_node_with_a_not_keeps_it():
    """for_compiled adds the year-0000 refusal beside a node's own ``not``, not over it."""
    node = {"type": "string", "format": "date", "not": {"const": "2020-01-01"}}
    compiled = jsonschema_rs.validator_for(for_compiled(node), validate_formats=True,
                                           offline=True).is_valid
    assert [compiled(text) for text in ("2020-01-01", "0000-01-01", "2020-01-02")] == \
        [False, False, True]
    assert node == {"type": "string", "format": "date", "not": {"const": "2020-01-01"}}


IMPOSSIBLE_DATES = ["2025-02-30", "2023-02-29", "2100-02-29", "0000-01-01", "2025-04-31",
                    "2025-13-01", "2025-00-10", "2025-1-01", "2025-01-01\n"]


@pytest.fixture(scope="module")
def engine():
    return Engine.load(ROOT_POLICY)


@pytest.mark.parametrize("text", IMPOSSIBLE_DATES)
def test_impossible_dates_are_refused_with_jsonschemas_words(engine, text):
    case = households(1, seed=33)[0]
    case["as_of"] = text
    data, plain = normalise_case(case)
    assert not is_valid_fast("case", data, plain)
    if text == "2025-01-01\n":
        # only jsonschema's Python pattern takes the newline; its date format then refuses it
        assert not jsonschema_valid(data)
    with pytest.raises(SchemaError) as caught:
        engine.read_case(case, source="in.json")
    problem = caught.value.problem
    assert (problem.code, problem.file, problem.field) == ("E201", "in.json", "as_of")
    assert problem.message.startswith("'as_of'") and problem.message.endswith(".")
    assert text.strip() in problem.message
    if text in ("2025-02-30", "0000-01-01", "2023-02-29"):      # the right form, no such day
        assert problem.message == f"'as_of': '{text}' is not a 'date'."


def test_real_dates_pass_both(engine):
    for text in ["2024-02-29", "2000-02-29", "0001-01-01", "9999-12-31", "2025-12-31"]:
        case = households(1, seed=34)[0]
        case["as_of"] = text
        data, plain = normalise_case(case)
        assert is_valid_fast("case", data, plain) and jsonschema_valid(data)


def test_yaml_case_with_lines_is_checked_fast_and_errors_keep_their_line(engine):
    text = ("case_id: y\npeople:\n  - id: a\n    age: 40\n  - id: b\n    age: old\n")
    data, plain = normalise_case(loads(text, "y.yaml"))
    assert plain and not is_valid_fast("case", data, plain)
    with pytest.raises(SchemaError) as caught:
        engine.read_case(loads(text, "y.yaml"), source="y.yaml")
    problem = caught.value.problem
    assert (problem.line, problem.field) == (6, "people[1].age")
    assert problem.message == "'people[1].age' must be of type integer, not text."
    fixed = copy.deepcopy(loads(text.replace("old", "41"), "y.yaml"))
    assert engine.read_case(fixed, source="y.yaml").root.children["people"][1].facts["age"] == 41
