"""The compiled case validator never accepts a case that jsonschema refuses, and errors are
worded by jsonschema exactly as before."""

from __future__ import annotations

import copy
import random
from decimal import Decimal

import pytest

from engine import Engine
from engine.errors import SchemaError
from engine.io.schemas import is_valid_fast, validate, validator

from .conftest import POLICY
from .households import households

MUTATIONS = [
    lambda c: c.update(extra=1),                                         # unknown key
    lambda c: c.pop("people"),                                           # required
    lambda c: c.update(people=[]),                                       # minItems
    lambda c: c.update(as_of="2025-02-30"),                              # impossible date (format)
    lambda c: c.update(as_of="2025-2-3"),                                # pattern
    lambda c: c.update(case_id=""),                                      # minLength
    lambda c: c["people"][0].update(age="old"),                          # type
    lambda c: c["people"][0].update(age=-1),
    lambda c: c["people"][0].update(sex="other"),                        # enum
    lambda c: c["people"][0].update(id="has space"),
    lambda c: c["people"][0].update(pregnant="yes"),
    lambda c: c["people"][0].update(incomes=[{"type": "wages", "amount": "1,000", "frequency": "monthly"}]),
    lambda c: c["people"][0].update(incomes=[{"type": "wages", "amount": Decimal("10"), "frequency": "hourly",
                                              "hours_per_week": 200}]),
    lambda c: c["people"][0].update(incomes=[{"type": "salary", "amount": "1", "frequency": "monthly"}]),
    lambda c: c["people"][0].update(incomes=[{"type": "wages", "amount": True, "frequency": "monthly"}]),
    lambda c: c["people"][0].update(parents="a"),
    lambda c: c["people"][0].update(date_of_birth="1990-13-01"),
    lambda c: c["people"][0].update(age=Decimal("3")),                   # a JSON 3.0 read exactly
    lambda c: c["people"][0].update(age=True),
    lambda c: c["people"][0].update(age=10 ** 30),
    lambda c: c["people"][0].update(incomes=[{"type": "wages", "amount": "10", "frequency": "hourly",
                                              "hours_per_week": "40\n"}]),   # only jsonschema's $ accepts it
]


def jsonschema_valid(case) -> bool:
    return not any(True for _ in validator("case").iter_errors(case))


def test_cases_are_refused_exactly_when_jsonschema_refuses_them():
    rng = random.Random(3)
    checked = 0
    for case in households(60, seed=5):
        assert is_valid_fast("case", case) and jsonschema_valid(case)
        for mutate in rng.sample(MUTATIONS, 6):
            broken = copy.deepcopy(case)
            mutate(broken)
            fast, slow = is_valid_fast("case", broken), jsonschema_valid(broken)
            assert slow or not fast, broken                  # never accepts what jsonschema refuses
            try:
                validate("case", broken, "in.json")
                accepted = True
            except SchemaError:
                accepted = False
            assert accepted == slow, broken                  # jsonschema decides
            checked += 1
    assert checked == 360


@pytest.fixture(scope="module")
def engine():
    return Engine.load(POLICY)


@pytest.mark.parametrize("mutate", MUTATIONS[:6])
def test_refused_cases_keep_jsonschemas_wording(engine, mutate):
    case = households(1, seed=9)[0]
    mutate(case)
    with pytest.raises(SchemaError) as caught:
        engine.read_case(case, source="in.json")
    problem = caught.value.problem
    assert problem.code == "E201" and problem.file == "in.json"
    assert problem.message.endswith(".") and "Traceback" not in problem.message
