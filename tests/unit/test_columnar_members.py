"""Aggregates over members in the columnar plan against the per-case evaluator, on the
`members` fixture: which members the per-case loop reaches and in what order decides values and
deciding citations. ``first`` stops at the member that passes (a filter that would fail after it
is never reached, one that fails before it refuses the case); ``min``/``max`` give the first of
equal values (``2.5`` before ``2.50``, each citing its own member); ``sum`` adds from 0 in
member order (``2.5 + 2.50`` is ``5.00``); every member's filter and value cite by the member's
age. The plan evaluates a ``first``'s filter on every member at once, sums and extremes in one
reduction per owner, and makes each collection's member pairs once per batch."""

from __future__ import annotations

import random

import numpy as np

from engine.runtime import columnar
from engine.runtime.columnar import evaluate_cases

from .helpers import AS_OF, case, columnar_same_as_per_case, engine, person

#: Each rule, and whether some generated households make it fail (a filter or any/all reading
#: a member's missing `employed`).
RULES = {"first_worker_age": True, "first_worker_holding": True, "most_held": False,
         "least_held": False, "total_held": False, "any_worker": True, "all_workers": True,
         "age_band": True, "worker_count": True, "whole_holding": False, "held_whole": True}


def _households(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for index in range(count):
        people = []
        for k in range(rng.randint(1, 5)):
            facts = {"age": rng.choice([4, 12, 30, 70])}
            if rng.random() < 0.85:              # otherwise no value: a filter reading it fails
                facts["employed"] = rng.random() < 0.4
            if rng.random() < 0.8:
                facts["resources"] = rng.choice(["2.5", "2.50", "3", "1.25", "0.10", "0.1"])
            people.append(person(f"p{k}", **facts))
        out.append(case(*people, case_id=f"c{index}"))
    return out


def _one(names, *people):
    """The columnar and the per-case results of one household, for ``names``."""
    members = engine("members")
    data = [case(*people)]
    columnar_same_as_per_case(members, data, names=names)
    (got,) = evaluate_cases(members, [members.read_case(data[0])], AS_OF, names=names)
    return got


def _shown(evaluation):
    return [(r.person, r.json_value(), [c.section for c in r.citations])
            for r in evaluation.results]


def test_every_members_rule_agrees_with_the_per_case_evaluator():
    members = engine("members")
    data = _households(300, seed=17)
    for name, fails in RULES.items():
        compared, refused = columnar_same_as_per_case(members, data, names=[f"members.{name}"])
        assert compared > 0 and (refused > 0) == fails, name


def test_first_never_reaches_a_filter_that_fails_after_the_member_that_passed():
    got = _one(["members.first_worker_age"],
               person("a", age=30, employed=False), person("b", age=12, employed=True),
               person("c", age=70))                   # c's filter would fail: never reached
    assert _shown(got)[0] == ("a", 12, ["M.3", "M.1 adult", "M.1", "M.1 young"])
    # a filter that fails before any member passes refuses the case, as per case
    assert _one(["members.first_worker_age"], person("a", age=30),
                person("b", age=12, employed=True)) is None


def test_the_first_of_equal_extremes_gives_the_value_and_the_citations():
    young, adult = person("a", age=12, resources="2.5"), person("b", age=30, resources="2.50")
    got = _shown(_one(["members.most_held", "members.least_held", "members.total_held"],
                      young, adult))
    assert got == [(None, "2.5", ["M.5", "M.2 young", "M.2"]),
                   (None, "2.5", ["M.6", "M.2 young", "M.2"]),
                   (None, "5.00", ["M.7", "M.2 young", "M.2", "M.2 adult"])]
    got = _shown(_one(["members.most_held"], adult, young))
    assert got == [(None, "2.50", ["M.5", "M.2 adult", "M.2"])]


def test_a_step_of_a_sum_that_fails_marks_its_owner_alone():
    values = columnar.full(3, 0)
    bad = np.zeros(3, dtype=bool)
    positions = np.asarray([0, 0, 1, 1, 2], dtype=np.intp)
    items = columnar.objects([1, 2, "x", 3, 4])
    got = columnar._Batch.folded(lambda a, v: a + v, values, bad, positions,
                                 columnar.ranks_of(positions), items)
    assert bad.tolist() == [False, True, False]
    assert got[0] == 3 and got[2] == 4


def test_aggregates_over_one_collection_share_its_member_pairs():
    members = engine("members")
    data = _households(20, seed=3)
    batch = columnar._Batch(members, [members.read_case(h) for h in data], AS_OF)
    for name in ("most_held", "least_held", "total_held"):
        batch.rule_column(members.program.rules[f"members.{name}"])
    assert list(batch.pairs) == [("case", 0, "people")]


def test_what_a_body_gives_is_known_without_reading_its_rows():
    """A count, a sum, a list and conditions whose values are written out are checked against
    the declared type (and values) from the body alone; a value written out that the rule does
    not declare is refused (the compiler refuses it first), and a row no condition takes is
    still refused, as per case."""
    rules = engine("members").program.rules
    known = {name: columnar._known_values(rules[f"members.{name}"].body)
             for name in ("worker_count", "total_held", "age_band", "most_held", "works")}
    assert known["worker_count"] == ({int}, None)
    assert known["total_held"] == ({int, columnar.Decimal}, None)
    assert known["age_band"] == ({str}, ["child", "adult"])
    assert known["most_held"] is None and known["works"] is None
    rows = columnar.objects(["child", 7, None])        # not read: what the body gives decides
    no_bad = np.zeros(3, dtype=bool)
    band = rules["members.age_band"]
    assert columnar._already_finished(band, rows, no_bad, known["age_band"])
    assert not columnar._already_finished(band, rows, no_bad, ({str}, ["child", "senior"]))
    assert not columnar._already_finished(band, rows, no_bad, ({str, int}, ["child", 7]))
    count = rules["members.worker_count"]
    assert columnar._already_finished(count, rows, no_bad, known["worker_count"])
    assert _one(["members.age_band"], person("a", age=70)) is None
    # a sum may be a Decimal: an integer rule still finishes it (3.0 is the integer 3)
    assert _shown(_one(["members.held_whole"], person("a", age=7, resources="1.5"),
                       person("b", age=30, resources="1.50"))) == [
        (None, 3, ["M.13", "M.2 young", "M.2", "M.2 adult"])]
    assert _shown(_one(["members.age_band"], person("a", age=7), person("b", age=30))) == [
        ("a", "child", ["M.10"]), ("b", "adult", ["M.10"])]
