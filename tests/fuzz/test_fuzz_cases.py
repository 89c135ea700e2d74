"""Property tests on case files: generated households, within the schema and far beyond it.

Two properties, on Missouri's rulebooks in ``policy/``:

1. **Any case file is refused cleanly or evaluated.** Generated YAML (valid households, wrong
   types, huge and tiny numbers, impossible dates and relations, unknown keys, damaged text) is
   read and evaluated as ``policy eval`` does. It either gives results that render to JSON, or
   raises a :class:`~engine.errors.PolicyError` (exit 2) whose every problem is located: a file
   and a line or a field. Any other exception is what the command would show as an internal
   error, and fails the test.
2. **The closure evaluator and the reference evaluator agree** on every valid generated household:
   the same values, citations and reasons (or the same error).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given, note
from hypothesis import strategies as st

from engine import Engine, PolicyError
from engine.runtime.results import json_value

from .profile import scaled

ROOT = Path(__file__).resolve().parents[2]
NAME = "fuzz-case.yaml"
DATES = ["2018-06-01", "2021-08-01", "2025-01-15", "2025-06-01"]
FREQUENCIES = ["hourly", "weekly", "biweekly", "semimonthly", "monthly", "quarterly", "semiannual",
               "annual"]
INCOME_TYPES = ["wages", "self_employment", "social_security", "ssi", "unemployment",
                "child_support", "alimony", "pension", "interest"]
IDS = ["a", "b", "c", "d", "e"]


@pytest.fixture(scope="module")
def case_file(tmp_path_factory) -> Path:
    """Where each generated case is written, to be read as `policy eval FILE` reads it."""
    return tmp_path_factory.mktemp("fuzz") / NAME


@pytest.fixture(scope="module")
def engines():
    return Engine.load(ROOT / "policy"), Engine.load(ROOT / "policy", reference=True)


# -- anything ------------------------------------------------------------------------------------

def _numbers():
    return st.one_of(
        st.integers(-5, 200), st.integers(), st.integers(min_value=10 ** 15, max_value=10 ** 60),
        st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.floats(), st.sampled_from(["30", "5199.60", "-12.5", "1e999999999", "9" * 400,
                                      "0.30000000000000004", "1.0e-40", "abc", ""]))


def _dates():
    return st.one_of(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(dt.date.isoformat),
                     st.sampled_from(["2025-02-30", "2025-13-01", "0000-01-01", "9999-12-31",
                                      "2090-01-01", "not a date"]))


def _anything():
    return st.one_of(st.none(), st.booleans(), _numbers(), _dates(), st.text(max_size=20),
                     st.lists(st.sampled_from(IDS + ["zz"]), max_size=3))


def _person():
    fields = {
        "id": st.one_of(st.sampled_from(IDS), st.text(max_size=8)),
        "age": st.one_of(st.integers(0, 100), _numbers()),
        "date_of_birth": _dates(),
        "sex": st.one_of(st.sampled_from(["female", "male"]), st.text(max_size=5)),
        "tax_filer": st.one_of(st.booleans(), _anything()),
        "claimed_by": st.one_of(st.sampled_from(IDS + ["elsewhere"]), _anything()),
        "spouse": st.one_of(st.sampled_from(IDS), _anything()),
        "parents": st.one_of(st.lists(st.sampled_from(IDS), max_size=3), _anything()),
        "pregnant": st.booleans(), "unborn_children": _numbers(), "disabled": st.booleans(),
        "medicare": st.booleans(), "applying": st.booleans(), "insured": st.booleans(),
        "resources": _numbers(),
        "incomes": st.lists(st.fixed_dictionaries({}, optional={
            "type": st.one_of(st.sampled_from(INCOME_TYPES), st.text(max_size=6)),
            "amount": _numbers(),
            "frequency": st.one_of(st.sampled_from(FREQUENCIES), st.text(max_size=6)),
            "hours_per_week": _numbers(),
            "unknown_key": _anything()}), max_size=3),
        "favourite_colour": _anything(),
    }
    return st.fixed_dictionaries({"id": fields.pop("id")}, optional=fields)


def _case():
    return st.fixed_dictionaries(
        {"people": st.lists(_person(), min_size=0, max_size=5)},
        optional={"case_id": st.one_of(st.text(max_size=10), _anything()),
                  "as_of": _dates(), "unexpected": _anything()})


class _Dumper(yaml.SafeDumper):
    """Writes decimals as plain numbers, as an analyst would type them (1e+999999999, 12.50)."""


_Dumper.add_representer(Decimal, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:float", str(value)))


def _dump(case) -> str:
    return yaml.dump(case, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def _damaged(text: str, data) -> str:
    """The YAML text, sometimes cut short or with a character replaced."""
    how = data.draw(st.sampled_from(["as is", "as is", "cut", "replace"]))
    if how == "cut" and text:
        return text[:data.draw(st.integers(0, len(text)))]
    if how == "replace" and text:
        at = data.draw(st.integers(0, len(text) - 1))
        return text[:at] + data.draw(st.sampled_from(list("[]{}:&*!|>'\"#%@`\t-"))) + text[at + 1:]
    return text


def _located(problem) -> bool:
    return problem.file is not None and (problem.line is not None or problem.field is not None)


@given(case=_case(), data=st.data())
@scaled(40)
def test_any_case_file_is_evaluated_or_refused_with_a_located_error(engines, case_file, case, data):
    fast, _ = engines
    text = _damaged(_dump(case), data)
    as_of = data.draw(st.sampled_from([None] + DATES))
    note(text)
    case_file.write_text(text, encoding="utf-8")
    try:
        evaluation = fast.evaluate(case_file, as_of=as_of)
        json.dumps(evaluation.as_dict())
    except PolicyError as exc:
        rendered = exc.render()
        assert "Traceback" not in rendered
        unlocated = [p for p in exc.problems if not _located(p)]
        assert not unlocated, rendered


# -- valid households ------------------------------------------------------------------------------

@st.composite
def households(draw):
    """A household the rulebooks can decide: one or two adults (spouses name each other), up to
    four children of theirs, each claimed by a parent or by someone outside the home."""
    on = dt.date.fromisoformat(draw(st.sampled_from(DATES)))
    adults = draw(st.integers(1, 2))
    married = adults == 2 and draw(st.booleans())
    people = []
    for i in range(adults):
        person = {"id": f"p{i}", "age": draw(st.integers(19, 90)),
                  "sex": draw(st.sampled_from(["female", "male"])),
                  "tax_filer": draw(st.booleans()), "disabled": draw(st.booleans()),
                  "medicare": draw(st.booleans()), "incomes": draw(_incomes())}
        if married:
            person["spouse"] = f"p{1 - i}"
        if person["sex"] == "female" and person["age"] < 50 and draw(st.booleans()):
            person["pregnant"] = True
        people.append(person)
    for j in range(draw(st.integers(0, 4))):
        parents = draw(st.sets(st.sampled_from([f"p{i}" for i in range(adults)]), min_size=1))
        child = {"id": f"k{j}", "parents": sorted(parents)}
        if draw(st.booleans()):
            child["age"] = draw(st.integers(0, 18))
        else:
            child["date_of_birth"] = (on - dt.timedelta(days=draw(st.integers(0, 18 * 365)))).isoformat()
        claimer = draw(st.sampled_from(child["parents"] + ["outside", None]))
        if claimer:
            child["claimed_by"] = claimer
        if draw(st.booleans()):
            child["incomes"] = draw(_incomes(max_size=1))
        people.append(child)
    return {"case_id": "fuzz", "people": people}, on.isoformat()


def _incomes(max_size: int = 2):
    return st.lists(st.fixed_dictionaries({
        "type": st.sampled_from(INCOME_TYPES),
        "amount": st.decimals(min_value=0, max_value=20_000, places=2).map(str),
        "frequency": st.sampled_from([f for f in FREQUENCIES if f != "hourly"])}), max_size=max_size)


def _snapshot(engine, case, as_of):
    try:
        evaluation = engine.evaluate(case, as_of=as_of)
    except PolicyError as exc:
        return ("error", exc.problem.code, exc.problem.message)
    return [(r.name, r.person, json_value(r.value), [c.as_dict() for c in r.citations], r.because)
            for r in evaluation.results]


@given(household=households())
@scaled(12)
def test_closures_and_reference_evaluator_agree_on_valid_households(engines, household):
    fast, reference = engines
    case, as_of = household
    note(yaml.safe_dump(case, sort_keys=False))
    got = _snapshot(fast, case, as_of)
    assert got == _snapshot(reference, case, as_of)
    assert got and got[0] != "error", got          # a valid household is decided
