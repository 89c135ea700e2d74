"""The columnar evaluator on the unit-test `household` fixture, rule by rule: every rule alone
(``names=[rule]``, output or not) over a batch of random households, including people without
incomes, so that rules which fail per case (``min`` of no values, E426) fail in the plan too.
A case the plan gives back (None) must be exactly a case the per-case evaluator refuses. Each
result's read-set (``provenance``) and deciding citations must be the per-case ones."""

from __future__ import annotations

import random

from engine import PolicyError
from engine.runtime.columnar import evaluate_cases
from engine.runtime.results import json_value
from engine.runtime.trace import collect_citations

from .helpers import AS_OF, case, each_rule_alone_same_as_per_case, engine, income, person


def _households(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for index in range(count):
        people = []
        for k in range(rng.randint(1, 4)):
            incomes = [income(f"{rng.randint(0, 3000)}.{rng.randint(0, 99):02d}",
                              rng.choice(["weekly", "monthly", "annual"]))
                       for _ in range(rng.choice([0, 0, 1, 2]))]
            facts = {"age": rng.randint(0, 90), "incomes": incomes}
            if rng.random() < 0.2:
                facts["pregnant"] = True
            if rng.random() < 0.2:
                facts["disabled"] = True
            if k and rng.random() < 0.6:
                facts["parents"] = ["p0"]
            people.append(person(f"p{k}", **facts))
        out.append(case(*people, case_id=f"c{index}"))
    return out


def test_every_fixture_rule_alone_agrees_with_the_per_case_evaluator():
    household = engine("household")
    data = _households(120, seed=44)
    _, refused = each_rule_alone_same_as_per_case(household, data)
    assert refused > 0      # some rules do fail per case, and the plan gives those cases back


def test_every_output_of_the_fixture_agrees():
    household = engine("household")
    data = _households(150, seed=7)
    got = evaluate_cases(household, [household.read_case(h) for h in data], AS_OF)
    for h, evaluation in zip(data, got):
        try:
            expected = household.evaluate(h, as_of=AS_OF)
        except PolicyError:
            assert evaluation is None
            continue
        assert [(r.name, r.person, json_value(r.shown_value), r.provenance, r.citations)
                for r in evaluation.results] == \
            [(r.name, r.person, json_value(r.shown_value), collect_citations(r.node),
              r.citations) for r in expected.results]
