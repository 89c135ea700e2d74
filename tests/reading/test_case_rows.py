"""Cases read straight into rows (``Engine.read_cases``, :mod:`engine.model.case_rows`) are read
exactly as ``Engine.read_case`` reads each one: the same entity tree (made when asked), the
same fact values in every column, the same refusal for a case that is not valid; and the
columnar plan evaluates them to the same results as cases read one by one. Compared on
generated households, on households hypothesis mutates (a chunk at a time, valid and invalid
cases mixed) and on the relation cases of the reader's own tests."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Engine
from engine.errors import PolicyError
from engine.io.case_data import ParsedJSON, loads_case
from engine.model.case_rows import MISSING, RowCases, RowEntity, read_rows
from engine.runtime.columnar import evaluate_cases

from tests.tools.households import households
from .helpers import outcome, relation_cases, snapshot, typed
from .test_read_differential import mutated_households

ROOT = Path(__file__).resolve().parents[2]
ON = dt.date(2025, 8, 1)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(ROOT / "policy")


def one_by_one(engine: Engine, case) -> tuple:
    return outcome(lambda: engine.read_case(copy.deepcopy(case)).root)


def together(engine: Engine, cases: list) -> tuple[list, object, list]:
    read, rows, in_rows = engine.read_cases([copy.deepcopy(case) for case in cases])
    outcomes = [("refused", type(r).__name__, [p.as_dict() for p in r.problems])
                if isinstance(r, PolicyError) else ("built", snapshot(r.root)) for r in read]
    return outcomes, rows, in_rows


def check_rows(engine: Engine, cases: list) -> list:
    """Read ``cases`` together and one by one: the same outcome for each; every column of
    the rows as the facts of the entities built one by one; the per-case order of each case's
    entities as ``build_case`` lays it out. The outcomes, for the caller."""
    expected = [one_by_one(engine, case) for case in cases]
    read, rows, in_rows = engine.read_cases([copy.deepcopy(case) for case in cases])
    got = [("refused", type(r).__name__, [p.as_dict() for p in r.problems])
           if isinstance(r, PolicyError) else None for r in read]
    if rows is None:
        assert in_rows == []
    else:
        assert [number for number, r in enumerate(read) if not isinstance(r, PolicyError)
                and isinstance(r.root, RowEntity)] == in_rows
        built = {number: engine.read_case(copy.deepcopy(cases[number])).root for number in in_rows}
        for kind_rows in rows.kinds.values():
            for name in [*kind_rows.kind.facts, "not a fact", *kind_rows.kind.children]:
                column = kind_rows.column(name)
                # each row's case number in `in_rows`, and its entity built one by one
                members = {n: built[in_rows[n]].members for n in set(kind_rows.cases)}
                for value, number, entity in zip(column, kind_rows.cases, kind_rows.entities):
                    twin = members[number][[e.uid for e in rows.cases[number].members]
                                           .index(entity.uid)]
                    assert (twin.kind, twin.id, twin.index) == (entity.kind, entity.id,
                                                               entity.index)
                    want = twin.facts.get(name, MISSING) if name in twin.kind.facts or \
                        name in twin.facts else MISSING
                    assert (value is MISSING) == (want is MISSING), (name, value, want)
                    if value is not MISSING:
                        assert typed(value) == typed(want), (name, value, want)
        for number, case in zip(in_rows, rows.cases):
            assert [e.label() for e in case.members] == \
                [e.label() for e in built[number].members]
            assert [e.person_id() for e in case.members] == \
                [e.person_id() for e in built[number].members]
    for number, r in enumerate(read):
        if got[number] is None:
            got[number] = ("built", snapshot(r.root))     # fills the row entities' trees
    assert got == expected
    return got


def test_generated_households_read_the_same(engine):
    cases = households(300, seed=41)
    got = check_rows(engine, cases)
    assert all(g[0] == "built" for g in got)
    _, rows, in_rows = together(engine, cases)
    assert in_rows == list(range(300)) and rows.left_out == []
    assert set(rows.kinds) == {"case", "person", "income"}


def same_keys(cases: list) -> list:
    """The cases with every entity of a kind giving the same keys, in the same order (those
    all of them give), as a batch of one generator's output mostly does."""
    def common(entities):
        keys = [key for key in entities[0] if all(key in e for e in entities)]
        return [{key: e[key] for key in keys} for e in entities]

    cases = [{key: case[key] for key in ("case_id", "as_of", "people")} for case in cases]
    people = common([person for case in cases for person in case["people"]])
    incomes = common([income for person in people for income in person["incomes"]])
    at = iter(people)
    taken = iter(incomes)
    for case in cases:
        case["people"] = [next(at) for _ in case["people"]]
        for person in case["people"]:
            person["incomes"] = [next(taken) for _ in person["incomes"]]
    return cases


def test_entities_of_one_shape_are_read_a_column_at_a_time(engine):
    cases = same_keys(households(300, seed=50))
    assert all("incomes" in p for case in cases for p in case["people"])
    got = check_rows(engine, cases)
    built = [number for number, g in enumerate(got) if g[0] == "built"]
    assert len(built) > 150             # (a dropped key may break a relation: refused alike)
    _, rows, in_rows = together(engine, cases)
    assert in_rows == built
    assert not any(kind.converted for kind in rows.kinds.values())     # no row read alone
    assert rows.kinds["income"].columns and rows.kinds["case"].columns


def test_households_parsed_from_json_read_the_same(engine):
    """As a batch hands them over (exact decimals, amounts as numbers or text)."""
    cases = households(80, seed=42)
    text = json.dumps(cases, default=str)
    check_rows(engine, json.loads(text, parse_float=Decimal))


def test_lines_a_batch_parsed_read_the_same(engine):
    """Lines parsed as a batch parses them (``loads_case``: fresh ParsedJSON, checked on a
    shorter path): each case refused or read as ``read_case`` refuses or reads it."""
    cases = households(40, seed=47)
    fresh = [number for number, case in enumerate(cases)     # (the others have decimals)
             if type(loads_case(json.dumps(case, default=str))) is ParsedJSON]
    assert len(fresh) >= 5
    cases[fresh[0]]["people"][0]["age"] = "old"           # refused by the schema
    cases[fresh[1]]["people"][0]["spouse"] = "nobody"     # refused by the reader
    del cases[fresh[2]]["case_id"]
    lines = [json.dumps(case, default=str) for case in cases]
    parsed = [loads_case(line) for line in lines]
    assert all(type(parsed[number]) is ParsedJSON for number in fresh)
    read, _, in_rows = engine.read_cases(parsed)
    got = [("refused", type(r).__name__, [p.as_dict() for p in r.problems])
           if isinstance(r, PolicyError) else ("built", snapshot(r.root)) for r in read]
    expected = [one_by_one(engine, json.loads(line, parse_float=Decimal)) for line in lines]
    assert got == expected
    assert [g[0] for g in got].count("refused") == 3 and len(in_rows) == 37


def test_entities_of_other_shapes_are_read_one_at_a_time(engine):
    """A chunk whose people give different keys is read entity by entity: the same rows."""
    cases = same_keys(households(60, seed=43))
    cases[5]["people"][0]["disabled"] = True
    cases[5]["people"][0]["parents"] = []           # a list: each row its own copy, noted
    cases[7]["people"][0].pop("age", None)
    cases[9]["people"][0] = dict(reversed(list(cases[9]["people"][0].items())))
    check_rows(engine, cases)
    _, rows, _ = together(engine, cases)
    assert not rows.kinds["person"].columns and rows.kinds["person"].converted
    assert rows.kinds["income"].columns


def test_entities_giving_the_same_keys_in_another_order_are_read_a_column_at_a_time(engine):
    """Keys in another order are the same keys: the level is still read a column at a time
    (every value of every key kept as given, in the table), with the same rows."""
    cases = same_keys(households(60, seed=46))
    cases[9]["people"][0] = dict(reversed(list(cases[9]["people"][0].items())))
    cases[11]["note"] = "moved"      # a key the other cases do not give: one at a time
    check_rows(engine, cases[:11])
    _, rows, _ = together(engine, cases[:11])
    person = rows.kinds["person"]
    assert not person.converted and {"id", "age", "sex"} <= set(person.places)
    assert person.keys == frozenset(cases[0]["people"][0]) == frozenset(person.places)
    assert person.table.shape == (len(person.entities), len(person.places))
    check_rows(engine, cases)
    _, rows, _ = together(engine, cases)
    assert rows.kinds["case"].table is None and rows.kinds["case"].converted
    assert rows.kinds["person"].table is not None


def test_entities_giving_one_key_or_as_many_other_keys(engine):
    """People giving only their id are read a column at a time (a table of one column);
    people giving as many keys as the first but not the same ones, one at a time: the same
    rows either way."""
    cases = [{"case_id": f"c{i}", "as_of": "2025-08-01",
              "people": [{"id": "ann"}, {"id": "bob"}]} for i in range(4)]
    check_rows(engine, cases)
    _, rows, _ = together(engine, cases)
    assert rows.kinds["person"].table.shape == (8, 1)
    assert rows.kinds["person"].column("id") == ["ann", "bob"] * 4
    cases[2]["people"][1] = {"id": "bob", "age": 30, "blind": True}
    cases[3]["people"][1] = {"id": "bob", "age": 30, "disabled": True}
    for case in cases:
        case["people"][0] = {"id": "ann", "age": 40, "blind": False}
        case["people"][1].setdefault("age", 20)
        case["people"][1].setdefault("blind", False)
    check_rows(engine, cases)
    _, rows, _ = together(engine, cases)
    person = rows.kinds["person"]
    assert person.table is None and person.keys is None and len(person.entities) == 8
    assert person.column("disabled") == [False] * 7 + [True]


def test_a_list_default_is_each_entity_own_plain_list(engine):
    """The default of ``siblings`` is a list read from YAML (a LineList): each row's value is
    a plain list of its own, as ``build_case`` copies it."""
    for cases in (households(5, seed=44), same_keys(households(5, seed=44))):
        _, rows, _ = together(engine, cases)
        column = rows.kinds["person"].column("siblings")
        assert all(value.__class__ is list and value == [] for value in column)
        assert len({id(value) for value in column}) == len(column)
    _, rows, _ = together(engine, cases)
    column = rows.kinds["person"].column("siblings")
    assert all(value.__class__ is list and value == [] for value in column)
    assert len({id(value) for value in column}) == len(column)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunk=st.lists(mutated_households(), min_size=1, max_size=6))
def test_mutated_households_read_the_same_in_a_chunk(engine, chunk):
    """Valid and invalid cases mixed: each refused as read_case refuses it, the rest read."""
    check_rows(engine, chunk + households(3, seed=45))


def test_relations_are_checked_as_one_by_one(engine):
    """Cycles of every length, self-references, one-sided spouses, unknown ids, ids named
    outside the case, a grandparent (a path of two steps that is no cycle)."""
    def person(ident, **facts):
        return {"id": ident, **facts}

    peoples = relation_cases() + [
        [person("k", parents=["a"]), person("a", parents=["g"]), person("g")],
        [person("a", spouse="b"), person("b", spouse=None)],
        [person("a", parents=[None, "b"]), person("b")],
    ]
    cases = [{"case_id": f"rel{i}", "people": people} for i, people in enumerate(peoples)]
    got = check_rows(engine, cases)
    assert sum(g[0] == "refused" for g in got) >= 10
    # the same cases each in a chunk of valid households (one column-wise level)
    for case in cases:
        check_rows(engine, same_keys(households(4, seed=46)) + [case])


_IDS = ["a", "b", "c", "d"]
_NAMED = st.sampled_from(_IDS + ["x"])          # "x": an id no one in the case has
_ONE = st.sampled_from([None] * 8 + _IDS + ["x"])   # mostly no one: few flaws a case
_SOME = st.just([]) | st.just([]) | st.lists(_NAMED, max_size=2)


@st.composite
def related_people(draw):
    """The people of a case, every one giving every reference fact (so that a chunk of
    them is read a column at a time), naming each other, themselves, no one or someone
    unknown."""
    ids = draw(st.lists(st.sampled_from(_IDS), min_size=1, max_size=4, unique=True))
    return [{"id": ident, "spouse": draw(_ONE), "claimed_by": draw(_ONE),
             "parents": draw(_SOME), "siblings": draw(_SOME), "caretaker_of": draw(_SOME)}
            for ident in ids]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(peoples=st.lists(related_people(), min_size=1, max_size=6))
def test_relations_checked_a_column_at_a_time_as_one_by_one(engine, peoples):
    """Random relations among people read a column at a time: each case refused or read
    as ``read_case`` refuses or reads it (a relation that does not hold is never let by)."""
    cases = [{"case_id": f"r{i}", "people": people} for i, people in enumerate(peoples)]
    check_rows(engine, cases)
    _, rows, _ = together(engine, cases)
    if rows is not None and rows.kinds:     # (unless every case was refused)
        assert rows.kinds["person"].table is not None


def test_relation_cases_checked_a_column_at_a_time(engine):
    """The relation cases, every person giving every reference fact: read a column at a
    time, each refused or read as one by one."""
    full = {"spouse": None, "claimed_by": None, "parents": [], "siblings": [],
            "caretaker_of": []}
    cases = [{"case_id": f"rel{i}", "people": [{"id": p["id"], **full, **p} for p in people]}
             for i, people in enumerate(relation_cases())]
    got = check_rows(engine, cases)
    assert sum(g[0] == "refused" for g in got) == 9
    _, rows, in_rows = together(engine, cases)
    assert in_rows and rows.kinds["person"].table is not None


def test_rows_evaluate_as_cases_read_one_by_one(engine):
    """The columnar plan on the rows as read: the same results (values, persons, entity
    labels, citations) as on the cases read one by one."""
    data = households(200, seed=47) + same_keys(households(200, seed=51))
    read, rows, in_rows = engine.read_cases(copy.deepcopy(data))
    assert in_rows[:200] == list(range(200)) and len(in_rows) > 300
    got = evaluate_cases(engine, RowCases([read[n] for n in in_rows], rows), ON)
    assert not any(case.filled for case in rows.cases)
    expected = evaluate_cases(engine, [engine.read_case(data[n]) for n in in_rows], ON)

    def shown(evaluation):
        return [(r.name, r.person, typed(r.json_value()), r.citations,
                 r.entity.label() if r.entity is not None else None) for r in evaluation.results]

    assert [shown(e) for e in got] == [shown(e) for e in expected]
    # nothing asked for a row entity's tree: none was built
    assert not any(case.filled for case in rows.cases)


def test_a_row_entity_is_a_whole_entity_when_asked(engine):
    """What the per-case evaluator reads of an entity (facts, children, scope, members) is
    made for the whole case on first use, as build_case makes it."""
    data = households(3, seed=48)
    read, rows, _ = engine.read_cases(copy.deepcopy(data))
    root = read[1].root
    assert not rows.cases[1].filled
    assert snapshot(root) == snapshot(engine.read_case(copy.deepcopy(data[1])).root)
    assert rows.cases[1].filled and not rows.cases[0].filled
    assert root.members == rows.cases[1].members
    person = root.children["people"][0]
    assert isinstance(person, RowEntity) and person.parent is root
    assert person.scope.entity is person
    evaluation = engine.evaluate(read[1], as_of=ON)
    assert [(r.name, r.value) for r in evaluation.results] == \
        [(r.name, r.value) for r in engine.evaluate(data[1], as_of=ON).results]


def test_read_rows_leaves_out_what_it_cannot_vouch_for(engine):
    root = engine.program.root_kind
    good = households(3, seed=49)
    datas = [good[0], {"case_id": "x", "people": [{"id": "a"}, {"id": "a"}]}, good[1],
             {"case_id": "y", "people": [{"id": "a", "spouse": "b"}]}, good[2]]
    chunk = read_rows(datas, root)
    assert chunk.left_out == [1, 3]
    assert [case.data for case in chunk.cases] == [good[0], good[1], good[2]]
    assert chunk.kinds["case"].cases == [0, 1, 2]


def test_a_complete_column_holds_no_missing_value(engine):
    """``KindRows.complete`` (the plan then looks for no missing value) never says so of a
    column that has one."""
    for cases in (households(40, seed=52), same_keys(households(40, seed=52))):
        _, rows, _ = together(engine, cases)
        for kind_rows in rows.kinds.values():
            for name in [*kind_rows.kind.facts, "not a fact"]:
                if kind_rows.complete(name):
                    assert MISSING not in kind_rows.column(name), name
        assert rows.kinds["person"].complete("id") == (rows.kinds["person"].keys is not None)
        assert not rows.kinds["person"].complete("not a fact")


def test_a_chunk_with_no_case_to_read_into_rows(engine):
    """Every case left out (or none given): empty rows, and each case read by build_case."""
    root = engine.program.root_kind
    chunk = read_rows([{"case_id": "x", "people": [{"id": "a", "spouse": "b"}]}], root)
    assert chunk.left_out == [0] and chunk.cases == [] and chunk.kinds == {}
    assert read_rows([], root).cases == []
    check_rows(engine, [{"case_id": "x", "people": [{"id": "a", "spouse": "b"}]}])


def test_a_rule_computed_per_entity_reads_row_entities_whole(engine, monkeypatch):
    """A rule the plan computes per entity (by a per-case State) reads a row entity's facts,
    children and scope: each case's tree is filled in when it is first read, with the same
    results as on cases read one by one."""
    import engine.runtime.columnar as columnar
    monkeypatch.setattr(columnar, "VECTORISED_BODIES", ("formula", "aggregate"))
    data = households(40, seed=53)
    read, rows, in_rows = engine.read_cases(copy.deepcopy(data))
    got = evaluate_cases(engine, RowCases([read[n] for n in in_rows], rows), ON)
    expected = evaluate_cases(engine, [engine.read_case(data[n]) for n in in_rows], ON)
    assert all(case.filled for case in rows.cases)
    assert [[(r.name, r.person, r.value, r.citations) for r in e.results] for e in got] == \
        [[(r.name, r.person, r.value, r.citations) for r in e.results] for e in expected]


def test_a_released_row_entity_says_so_when_read_again(engine):
    """A row entity released before anything asked for its facts (a batch has written its
    case's line) cannot fill itself in any more: reading it says it was released, instead of
    failing inside the release's None."""
    read, rows, _ = engine.read_cases(copy.deepcopy(households(2, seed=49)))
    root = read[0].root
    assert not rows.cases[0].filled
    root.release()
    with pytest.raises(RuntimeError, match="after it was released"):
        root.facts
