"""Texts built through if/else chains, shared pure calls and a collect table (as
``eligibility.why_not`` builds them), on the `texts` fixture, against the per-case evaluator.

The plan computes a pure call written the same way at several sites once per entity of the batch
(``_Batch.shared_call``), and a built-in of one argument once per argument *object*
(``Memo.column``). Neither may change a value or a citation: constants keep their type (``1`` is
not ``true``, ``2.5`` is not ``2.50``), a call that fails fails only on the rows that reach it
(per case the others never call it), and every result keeps its read-set and deciding
citations."""

from __future__ import annotations

import ast
import random
from decimal import Decimal

import numpy as np

from engine.language.numbers import money_text
from engine.runtime import columnar
from engine.runtime.columnar import evaluate_cases
from engine.runtime.columnar_arrays import Memo, lists_chained, objects

from .helpers import (AS_OF, case, columnar_same_as_per_case,
                      each_rule_alone_same_as_per_case, engine, person)

AMOUNTS = ["2.5", "2.50", "2", "150.50", "0.10", "0.1", "12", "99.995", "400"]


def _households(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for index in range(count):
        people = []
        for k in range(rng.randint(1, 4)):
            facts = {"age": rng.randint(0, 90),
                     "incomes": [{"type": "wages", "amount": rng.choice(AMOUNTS),
                                  "frequency": "monthly"}
                                 for _ in range(rng.choice([0, 1, 2, 3]))]}
            if rng.random() < 0.97:                # otherwise missing: its rows are bad
                facts["name"] = rng.choice(["LOW", "HIGH", "MID", "NONE"])
            if rng.random() < 0.4:
                facts["pregnant"] = True
            if rng.random() < 0.5:
                facts["resources"] = rng.choice(AMOUNTS)
            if rng.random() < 0.1:                 # money(note) fails where it is reached
                facts["note"] = "a note"
            people.append(person(f"p{k}", **facts))
        extra = {"description": rng.choice(["south", "east"])} if rng.random() < 0.5 else {}
        out.append(case(*people, case_id=f"c{index}", **extra))
    return out


def test_every_texts_rule_alone_and_every_output_agree_with_the_per_case_evaluator():
    texts = engine("texts")
    data = _households(160, seed=15)
    per_rule, refused = each_rule_alone_same_as_per_case(texts, data)
    assert all(per_rule.values()), per_rule
    compared, refusals = columnar_same_as_per_case(texts, data)
    assert compared > 0
    # money(note) fails on the rows that reach it (and only those: most cases still pass)
    assert 0 < refusals < len(data) // 2 and refused > 0


def test_constants_keep_their_type_in_calls_shared_between_sites():
    texts = engine("texts")
    data = _households(20, seed=3)
    got = evaluate_cases(texts, [texts.read_case(h) for h in data], AS_OF,
                         names=["texts.typed_constants"])
    values = {r.value for e in got for r in e.results}
    assert values == {"1yes2.52.50" + "1yes2.52.50" + "1" + "2.5"}


def test_a_call_written_alike_at_several_sites_is_computed_once_per_entity(monkeypatch):
    texts = engine("texts")
    data = _households(200, seed=7)
    computed: dict = {}
    made = columnar._Batch.called

    def counting(self, node, frame, rows):
        key = columnar._shared_key(node)
        if key is not None:
            entities = frame.index[rows].tolist()
            computed.setdefault((frame.kind.name, key), []).extend(entities)
        return made(self, node, frame, rows)

    monkeypatch.setattr(columnar._Batch, "called", counting)
    # chains of names go through the numbered path (its own tests below): the calls here
    monkeypatch.setattr(columnar, "_codable_chain", lambda node: False)
    compared, _ = columnar_same_as_per_case(texts, data, names=["texts.why_not", "texts.amounts_said",
                                                        "texts.amount_text"])
    assert compared > 0
    sites = 0
    for (kind, key), entities in computed.items():
        assert len(entities) == len(set(entities)), key       # no entity computed twice
        sites += 1
    # money(total), text(size), limit("LOW", size, top) and money() of it, text(region), ...
    assert sites >= 8
    # money(amount) of an income: one key for the rule's own frame and the member frame of
    # `first_amount` (an aggregate over the person's incomes)
    amounts = [key for kind, key in computed if kind == "income" and key[0] == "builtin"
               and key[2] == ("fact", "amount", 0)]
    assert len(amounts) == 2          # money(amount) and text(amount)


def test_memo_column_keys_by_object_and_keeps_types_and_exponents():
    calls = []

    def text_of(value):
        calls.append(value)
        return money_text(value) if value.__class__ is Decimal else repr(value)

    memo = Memo(text_of)
    two_and_a_half = Decimal("2.5")
    column = objects([True, 1, two_and_a_half, Decimal("2.50"), two_and_a_half, 1, True, None])
    values, bad = memo.column(column, np.zeros(8, dtype=bool), (Exception,))
    assert values.tolist() == ["True", "1", "$2.50", "$2.50", "$2.50", "1", "True", "None"]
    assert not bad.any()
    # once per object; an equal object of the same type and spelling through the typed memo
    assert calls == [True, 1, two_and_a_half, Decimal("2.50"), None]
    values, _ = memo.column(objects([Decimal("2.5"), Decimal("2.50")]), np.zeros(2, dtype=bool),
                            (Exception,))
    assert values.tolist() == ["$2.50", "$2.50"] and len(calls) == 5
    text = Memo(lambda v: format(v, "f") if v.__class__ is Decimal else str(v))
    values, _ = text.column(objects([Decimal("2.5"), Decimal("2.50"), True, 1]),
                            np.zeros(4, dtype=bool), (Exception,))
    assert values.tolist() == ["2.5", "2.50", "True", "1"]


def test_memo_column_marks_failing_rows_bad_and_declines_lists():
    money = Memo(money_text)
    column = objects(["a note", Decimal("3"), "a note", None, Decimal("-0.5")])
    bad = np.asarray([False, False, False, False, True])
    values, got = money.column(column, bad, (Exception,))
    assert got.tolist() == [True, False, True, False, True]
    assert values[1] == "$3" and values[3] == "no value"
    assert not bad[0]                                   # the caller's array is left alone
    # the failure is kept: asked again, the same rows fail, without calling again
    values, got = money.column(column[:2], np.zeros(2, dtype=bool), (Exception,))
    assert got.tolist() == [True, False] and values[1] == "$3"
    # a value that may change (a list) or a result that is a list: the caller's other paths
    assert money.column(objects([[1], [2]], 2), np.zeros(2, dtype=bool), (Exception,)) is None
    listing = Memo(lambda v: [v])
    assert listing.column(objects([1, 1]), np.zeros(2, dtype=bool), (Exception,)) is None


def test_texts_around_an_if_else_chain_are_joined_inside_each_branch():
    tree = ast.parse('"A: " + (x if c else "b" + y + "c" if d else "e") + " (1)"',
                     mode="eval").body
    spread = columnar._distributed(tree)
    assert ast.unparse(spread) == "'A: ' + x + ' (1)' if c else 'A: b' + y + 'c (1)' if d " \
                                  "else 'A: e (1)'"
    assert columnar._distributed(tree) is spread           # made once per node
    # any other chain is left as it is
    for other in ('"A" + x + "B"', '"A" + (x if c else y) + z', '1 + (x if c else y) + 2'):
        assert columnar._distributed(ast.parse(other, mode="eval").body) is None


def test_lists_chained_is_the_pairwise_sum_with_a_new_list_per_row():
    a, b, c = [1], ["x", Decimal("2.50")], []
    columns = [objects([a, c, b], 3), objects([b, c, a], 3), objects([c, c, [True]], 3)]
    joined = lists_chained(columns, np.zeros(3, dtype=bool), 10)
    assert joined.tolist() == [a + b + c, c + c + c, b + a + [True]]
    assert all(row is not x for row in joined.tolist() for x in (a, b, c))
    assert len({id(row) for row in joined.tolist()}) == 3
    # a bad row is left out; a row that is not a list, or a list past the bound: pair by pair
    bad = np.asarray([False, True, False])
    assert lists_chained(columns, bad, 10).tolist() == [a + b + c, None, b + a + [True]]
    assert lists_chained([objects([a, "x"], 2), objects([b, b], 2)], np.zeros(2, dtype=bool),
                         10) is None
    assert lists_chained(columns, np.zeros(3, dtype=bool), 3) is None


def test_chains_of_names_are_composed_once_per_distinct_tuple_of_values(monkeypatch):
    texts = engine("texts")
    data = _households(200, seed=21)
    composed = []
    coded = columnar._Batch.coded_texts

    def counting(self, operands, frame, rows):
        made = coded(self, operands, frame, rows)
        if made.__class__ is columnar.Column:
            composed.append((len(rows), len(set(made.values[~made.bad].tolist()))))
        return made

    monkeypatch.setattr(columnar._Batch, "coded_texts", counting)
    for name in ("texts.said", "texts.why_not", "texts.mixed_branches"):
        compared, _ = columnar_same_as_per_case(texts, data, names=[name])
        assert compared > 0
    # composed per distinct tuple: fewer texts than rows (people share ages, names, regions)
    assert composed and any(distinct < rows for rows, distinct in composed)


def test_a_column_is_numbered_by_typed_value_once_per_batch(monkeypatch):
    texts = engine("texts")
    data = _households(30, seed=5)
    batch = columnar._Batch(texts, [texts.read_case(h) for h in data], AS_OF)
    key, codes, table = batch.value_codes("person", "fact", "age")
    ages = batch.fact_column("person", "age")[0].tolist()
    assert [table[c] for c in codes.tolist()] == ages and len(table) == len(set(ages))
    assert batch.value_codes("person", "fact", "age")[1] is codes       # kept for the batch
    pregnant = batch.value_codes("person", "fact", "pregnant")[2]
    assert {type(v) for v in pregnant.tolist()} == {bool}
    # amounts (Decimal) by object: each row's own object back, exponent and all
    total = texts.program.rules["texts.total"]
    _, codes, table = batch.value_codes("person", "rule", total)
    column = batch.rule_column(total).values
    assert all(a is b for a, b in zip(table[codes].tolist(), column.tolist()))
    # money() of a numbered column: once per batch for each value a site reaches
    calls = []
    money = columnar.BUILTINS["money"].function
    monkeypatch.setitem(columnar._LASTING, money, {})
    memo = batch.memo(money, money)
    monkeypatch.setattr(memo, "fn", lambda v: calls.append(v) or money(v))
    col = columnar.Column(column, np.zeros(len(column), dtype=bool), np.zeros(len(column), int))
    first = batch.coded_call(money, col, codes[:5], table, ("person", "rule", total.uid))
    again = batch.coded_call(money, col, codes, table, ("person", "rule", total.uid))
    assert [first[2][c] for c in codes[:5].tolist()] == [money(v) for v in column[:5].tolist()]
    assert [again[2][c] for c in codes.tolist()] == [money(v) for v in column.tolist()]
    assert len(calls) == len({(v.__class__, str(v)) for v in column.tolist()})
    batch.close()


def test_text_and_money_results_are_kept_from_one_batch_to_the_next(monkeypatch):
    texts = engine("texts")
    money = columnar.BUILTINS["money"].function
    kept = {}
    monkeypatch.setitem(columnar._LASTING, money, kept)
    data = _households(20, seed=9)
    evaluate_cases(texts, [texts.read_case(h) for h in data], AS_OF, names=["texts.amount_text"])
    assert kept[(Decimal, "2.5")] == "$2.50" and kept[(Decimal, "2.50")] == "$2.50"
    kept[(Decimal, "2.5")] = "kept"              # the next batch reads the kept text
    got = evaluate_cases(texts, [texts.read_case(h) for h in data], AS_OF,
                         names=["texts.amount_text"])
    values = {r.value for e in got if e is not None for r in e.results}
    assert "kept of 2.5" in values and "$2.50 of 2.50" in values
    for key in range(columnar._LASTING_SIZE + 1):     # grown too large: emptied at a batch
        kept[(int, key)] = "x"
    evaluate_cases(texts, [texts.read_case(h) for h in data], AS_OF, names=["texts.amount_text"])
    assert len(kept) < 100 and kept[(Decimal, "2.5")] == "$2.50"


def test_collected_lists_are_new_lists_in_table_order_per_set_of_table_rows():
    collected = np.empty((4, 3), dtype=object)
    for r in range(4):
        for k in range(3):
            collected[r, k] = f"{r}{k}"
    chosen = np.asarray([[True, False, True], [False, False, False], [True, False, True],
                         [True, True, True]])
    got = columnar._Batch.collected_lists(collected, chosen, 4).tolist()
    assert got == [["00", "02"], [], ["20", "22"], ["30", "31", "32"]]
    assert len({id(v) for v in got}) == 4
    one = columnar._Batch.collected_lists(collected[:2], chosen[[0, 0]], 2).tolist()
    assert one == [["00", "02"], ["10", "12"]] and one[0] is not one[1]


def test_an_if_else_chain_is_written_once_per_row_as_the_nested_form_writes_it():
    texts = engine("texts")
    data = _households(120, seed=33)
    for name in ("texts.mixed_branches", "texts.said"):
        rule = texts.program.rules[name]
        tree = rule.body.expression.tree
        chain = columnar._distributed(tree) if name.endswith("branches") else tree
        assert chain.__class__ is ast.IfExp
        batch = columnar._Batch(texts, [texts.read_case(h) for h in data], AS_OF)
        rows = np.arange(len(batch.entities["person"]))
        frame = columnar._Frame(rule.entity_kind, rows)
        nested = batch.eval(chain, frame, rows)            # if_else, level by level
        flat = batch.if_chain(chain, frame, rows)
        assert flat.bad.tolist() == nested.bad.tolist() and nested.bad.any()
        good = ~flat.bad
        assert [(type(v), v) for v in flat.values[good].tolist()] == \
            [(type(v), v) for v in nested.values[good].tolist()]
        assert flat.masks.tolist() == nested.masks.tolist()
        assert flat.deps.tolist() == nested.deps.tolist()
        batch.close()
