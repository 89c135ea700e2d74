"""The lines ``policy batch`` writes from the columnar plan's result columns
(:mod:`engine.tools.column_lines`) are byte for byte the lines written from result objects
(``RecordEncoder.record_line``, the reference; and the cached pieces of ``LinePieces``), in every
compact mode, with and without null results, for a subset of rules, whatever the caches held
before, for any mix of value classes in a column; a case the plan gives to the per-case
evaluator, and an error, get the line they get per case."""

from __future__ import annotations

import datetime as dt
import json
import operator
from decimal import Decimal

import numpy as np
import pytest

from engine.api import Engine
from engine.runtime.columnar import ColumnarEvaluation, evaluate_columns
from engine.tools import column_lines
from engine.tools.batch import Task, encode_chunk, encode_task
from engine.tools.batch_output import CitationIds, RecordEncoder

from .conftest import FIXTURES, POLICY
from .households import households

DATES = (dt.date(2025, 8, 1), dt.date(2026, 1, 5))


@pytest.fixture(scope="module")
def engine():
    return Engine.load(POLICY)


@pytest.fixture(scope="module")
def cases(engine):
    data = households(80, seed=5)
    data += [json.loads(line) for line in (FIXTURES / "cases.jsonl").read_text().splitlines()]
    return [engine.read_case(case) for case in data]


def reference(encoder, outputs) -> list:
    """Each case's line from result objects, through orjson (None for a failed case)."""
    return [None if results is None else
            encoder.record_line(ColumnarEvaluation(case.case_id, outputs.as_of, results))
            for case, results in zip(outputs.cases, outputs.results())]


@pytest.mark.parametrize("citations", ["deciding", "none"])
@pytest.mark.parametrize("nulls", [True, False])
def test_lines_from_columns_are_the_lines_from_objects(engine, cases, citations, nulls):
    ids = CitationIds.of_process()
    encoder = RecordEncoder(citations, ids=ids, nulls=nulls)
    objects = RecordEncoder(citations, ids=ids, nulls=nulls)
    for on in DATES:
        outputs = evaluate_columns(engine, cases, on, citations=citations != "none")
        assert not any(outputs.failed)
        lines = encoder.lines(outputs)
        assert lines == reference(objects, outputs)
        # the pieces joined from result objects (LinePieces) agree too
        pieces = [objects.evaluation(ColumnarEvaluation(c.case_id, on, r))
                  for c, r in zip(outputs.cases, outputs.results())]
        assert lines == pieces
        assert encoder.lines(outputs) == lines       # again, from the pieces made the first time
    assert encoder.used == objects.used and bool(encoder.used) == (citations == "deciding")
    results = [json.loads(line)["results"] for line in lines]
    assert sum(map(len, results)) > 20 * len(cases)
    assert any(r["value"] is None for case in results for r in case) == nulls


def test_a_subset_of_rules_and_caches_that_start_again(engine, cases, monkeypatch):
    monkeypatch.setattr(column_lines, "MAX_VALUES", 5)
    names = ["eligibility.level_of_care", "magi.household_income", "eligibility.why_not",
             "magi.household_size"]
    encoder = RecordEncoder("deciding", ids=CitationIds.of_process())
    objects = RecordEncoder("deciding", ids=encoder.ids)
    for on in DATES:
        for chunk in (cases[:30], cases[30:]):
            outputs = evaluate_columns(engine, chunk, on, names=names)
            lines = encoder.lines(outputs)
            assert lines == reference(objects, outputs)
            written = {r["name"] for line in lines for r in json.loads(line)["results"]}
            assert written == set(names)
    assert encoder.used == objects.used


def test_any_mix_of_value_classes_in_a_column(engine, cases):
    """Equal values of different classes or digits (``1``, ``True``, ``Decimal("1.0")``),
    null, lists that are not all texts, dates: each written as its own JSON."""
    outputs = evaluate_columns(engine, cases[:12], DATES[0])
    person = next(kind for kind in outputs.kinds if len(kind.rules) > 5)
    by_name = {out.rule.name: out for out in person.rules}
    mixes = {
        "magi.household_income": [Decimal("1.0"), Decimal("1"), 1, Decimal("1.00"), None,
                                   Decimal("-0"), Decimal("0"), Decimal("1E+2")],
        "magi.household_size": [1, True, None, 2, Decimal("2"), "2"],
        "eligibility.level_of_care": ["a", None, "a", "b", dt.date(2025, 1, 2)],
        "eligibility.why_not": [["x"], ["x", 1], [Decimal("1.50")], None, [], ["y", "z"]],
        "actions.due_dates": [[dt.date(2025, 9, 1)], [], [dt.date(2025, 9, 1), "text"]],
    }
    for name, mix in mixes.items():
        out = by_name[name]
        values = np.empty(len(out.rows), dtype=object)
        values[:] = [mix[i % len(mix)] for i in range(len(out.rows))]
        out.values = values
    for nulls in (True, False):
        for citations in ("deciding", "none"):
            encoder = RecordEncoder(citations, ids=CitationIds.of_process(), nulls=nulls)
            assert encoder.lines(outputs) == reference(encoder, outputs)
    lines = RecordEncoder("none", nulls=True).lines(outputs)
    written = [r["value"] for line in lines for r in json.loads(line)["results"]
               if r["name"] == "magi.household_income"]
    # money to the cent, whole amounts whole, -0 kept, no exponent: each by its own digits
    assert written[:8] == ["1.00", "1", "1", "1.00", None, "-0", "0", "100"]


def test_the_full_mode_writes_from_objects(engine, cases):
    encoder = RecordEncoder("full")
    outputs = evaluate_columns(engine, cases[:10], DATES[0])
    assert encoder.lines(outputs) == reference(encoder, outputs)


def test_a_failed_case_is_left_to_the_per_case_evaluator(engine, cases):
    outputs = evaluate_columns(engine, cases[:10], DATES[0])
    outputs.failed = [i % 3 == 0 for i in range(10)]
    encoder = RecordEncoder("deciding", ids=CitationIds.of_process())
    lines = encoder.lines(outputs)
    expected = reference(encoder, outputs)
    assert [line is None for line in lines] == outputs.failed
    assert lines == expected


def test_policy_batch_lines_are_those_of_the_per_case_evaluator(engine, monkeypatch):
    """Through ``encode_chunk``: cases the plan finishes, cases it gives to the per-case
    evaluator (here: all whose citations it is told it cannot tell) and errors, in order."""
    import engine.runtime.columnar as columnar
    data = [json.dumps(case) for case in households(40, seed=8)]
    data[5] = "not json"
    data[9] = json.dumps({"case_id": "no-age", "people": [{"id": "a", "sex": "male"}]})
    data[12] = json.dumps({"case_id": "bad", "people": [{"id": "a", "age": "x"}]})
    tasks = [Task(f"t:{i + 1}", "json", line) for i, line in enumerate(data)]
    for citations in ("deciding", "none"):
        ids = CitationIds.of_process()
        per_case = [encode_task(engine, task, "2025-08-01", None,
                                RecordEncoder(citations, ids=ids)) for task in tasks]
        assert sum(not ok for _, ok in per_case) == 3
        plan = encode_chunk(engine, tasks, "2025-08-01", None, RecordEncoder(citations, ids=ids),
                            "columnar")
        assert plan == per_case
        with monkeypatch.context() as patch:
            patch.setattr(columnar, "_cells_cite", lambda body: True)
            fallen = encode_chunk(engine, tasks, "2025-08-01", None,
                                  RecordEncoder(citations, ids=ids), "columnar")
        assert fallen == per_case


def test_results_of_an_entity_without_an_id_name_the_entity(engine, cases, monkeypatch):
    """A result of an entity whose kind has no id (an income) is written with its label
    (``"entity"``); no rulebook has an output there yet, so the people are made such here."""
    person = engine.program.entity_kinds["person"]
    monkeypatch.setattr(person, "id_fact", None)   # read again by both writers, line by line
    outputs = evaluate_columns(engine, cases[:15], DATES[0])
    for citations in ("deciding", "none"):
        encoder = RecordEncoder(citations, ids=CitationIds.of_process())
        lines = encoder.lines(outputs)
        assert lines == reference(encoder, outputs)
        entities = {r.get("entity") for line in lines for r in json.loads(line)["results"]}
        assert "person 'a'" in entities and None in entities     # the case's own have none


def test_decimals_are_written_as_their_results_json():
    """Decimals straight from their digits (money set to the cent on the text) are the bytes
    ``result_json`` then orjson give, null included; where the context could not hold an
    amount to the cent, each is made by ``cents``, which raises as it does per result."""
    import decimal
    import random

    from engine.runtime.columnar import result_json

    rng = random.Random(7)
    values = [Decimal(text) for text in ("0", "-0", "0.0", "-0.0", "405.0", "1305.000", "1.505",
                                         "5.10000", "1E+2", "1E-7", "0E-5", "7.1234", "2.00")]
    for _ in range(3000):
        digits = "".join(rng.choice("0000123456789") for _ in range(rng.randrange(0, 6)))
        values.append(Decimal(f"{rng.randrange(-10**7, 10**7)}.{digits}".rstrip(".")))
    for rule_type in ("money", "percent", "decimal"):
        rule = type("Rule", (), {"type": rule_type})()
        for listed, nulls in ((values, False), (values + [None], True)):
            assert column_lines._decimals(listed, rule_type == "money", nulls) == \
                [RecordEncoder.json(result_json(rule, value)) for value in listed]
    money = type("Rule", (), {"type": "money"})()
    with decimal.localcontext(decimal.Context(prec=6)):
        small = [Decimal("12.5"), Decimal("3.1")]          # to the cent within 6 digits
        assert column_lines._decimals(small, True, False) == [b'"12.50"', b'"3.10"']
        large = [Decimal("123456.5")]                      # 8 digits to the cent: refused
        with pytest.raises(decimal.InvalidOperation):
            result_json(money, large[0])
        with pytest.raises(decimal.InvalidOperation):
            column_lines._decimals(large, True, False)
    with decimal.localcontext(decimal.Context(traps=[decimal.Rounded])):
        zeros = [Decimal("1305.000")]                      # cut to the cent: Rounded, trapped
        with pytest.raises(decimal.Rounded):
            result_json(money, zeros[0])
        with pytest.raises(decimal.Rounded):
            column_lines._decimals(zeros, True, False)


def test_decimal_digits_from_one_text_are_those_written_one_by_one():
    """The digits of a column of decimals made from one text of them all are those
    ``_decimals`` writes one by one, quotes aside; a column with an exponent, an infinity or
    not a number, or money the context cannot set to the cent, is left to ``_decimals``."""
    import decimal
    import random

    rng = random.Random(11)
    values = [Decimal(text) for text in ("0", "-0", "0.0", "-0.0", "405.0", "1305.000",
                                         "1.505", "5.10000", "0E-5", "7.1234", "2.00", "2.5",
                                         "2.50", "-12.3", "0.000001")]
    for _ in range(3000):
        digits = "".join(rng.choice("0000123456789") for _ in range(rng.randrange(0, 6)))
        values.append(Decimal(f"{rng.randrange(-10**7, 10**7)}.{digits}".rstrip(".")))
    for money in (True, False):
        quoted = [b'"' + digits + b'"' for digits in column_lines._digits(values, money)]
        assert quoted == column_lines._decimals(values, money, False)
        for odd in ("1E+2", "1E-7", "Infinity", "-Infinity", "NaN", "sNaN"):
            assert column_lines._digits(values + [Decimal(odd)], money) is None
    assert column_lines._digits([Decimal("2.5"), Decimal("2.50")], True) == [b"2.50", b"2.50"]
    assert column_lines._digits([Decimal("2.5"), Decimal("2.50")], False) == [b"2.5", b"2.50"]
    with decimal.localcontext(decimal.Context(prec=6)):
        assert column_lines._digits([Decimal("12345.5")], True) is None   # 9 with quotes
        assert column_lines._digits([Decimal("12345.5")], False) == [b"12345.5"]
        assert column_lines._digits([Decimal("12.5")], True) == [b"12.50"]
    with decimal.localcontext(decimal.Context(traps=[decimal.Rounded])):
        assert column_lines._digits([Decimal("1305.000")], True) is None
        assert column_lines._digits([Decimal("1305.00")], True) == [b"1305.00"]


def test_deciding_lists_numbered_by_the_plan(engine, cases):
    """The plan numbers each output rule's deciding lists as it composed them
    (``cite_groups``): the lists at the numbers are the rows' lists themselves; setting a
    column's ``cites`` drops the numbering, and the lines are the reference's either way."""
    outputs = evaluate_columns(engine, cases, DATES[0])
    numbered = 0
    for kind in outputs.kinds:
        for out in kind.rules:
            if out.cite_groups is None:
                continue
            numbered += 1
            numbers, lists = out.cite_groups
            assert len(numbers) == len(out.rows) and lists[0] is None
            assert all(map(operator.is_, lists[numbers].tolist(), out.cites.tolist()))
    assert numbered > 10
    encoder = RecordEncoder("deciding", ids=CitationIds.of_process())
    lines = encoder.lines(outputs)
    assert lines == reference(encoder, outputs)
    for kind in outputs.kinds:
        for out in kind.rules:
            out.cites = out.cites
            assert out.cite_groups is None
    assert RecordEncoder("deciding", ids=encoder.ids).lines(outputs) == lines


def test_a_result_not_told_by_the_numbered_lists_sends_its_case_per_case(engine, cases,
                                                                        monkeypatch):
    """A shown row numbered 0 by the plan's numbering of deciding lists (``cite_groups``: the
    plan cannot tell its list) sends its case to the per-case evaluator."""
    import engine.runtime.columnar as columnar

    made = columnar._Batch.rule_column

    def rule_column(batch, rule):
        column = made(batch, rule)
        if rule.name == "eligibility.level_of_care" and batch.citing:
            column.cites                   # composed, and numbered
            numbers, lists = column.cite_groups
            numbers = numbers.copy()
            numbers[1] = 0
            column.cites = lists[numbers]
            column.cite_groups = (numbers, lists)
        return column

    monkeypatch.setattr(columnar._Batch, "rule_column", rule_column)
    stats = columnar.ColumnarStats()
    outputs = evaluate_columns(engine, cases[:12], DATES[0], stats=stats)
    person = next(kind for kind in outputs.kinds if len(kind.rules) > 5)
    assert {c for c, gone in enumerate(outputs.failed) if gone} == {int(person.case_of[1])}
    assert stats.citation_fallbacks == 1


@pytest.mark.parametrize("ids", [
    ["", 'a","b', "\\", '\\","', '"', "é\u2028\n\t", "\x00", '["x","y"]', "h", "h"],
    [None, "h1", "h2", "h3", "h4", "h5", "h6", "h7", 7, "h9"],      # not all texts
])
def test_case_ids_written_as_the_reference_writes_them(engine, ids):
    """A chunk's case ids as one JSON cut between texts, whatever the texts hold (quotes,
    commas, backslashes, control characters), or each one's JSON: the reference's bytes."""
    chunk = [engine.read_case(case) for case in households(len(ids), seed=9)]
    for case, case_id in zip(chunk, ids):      # (ids a case file may not give, too)
        case.data["case_id"] = case_id
    outputs = evaluate_columns(engine, chunk, DATES[0])
    encoder = RecordEncoder("deciding", ids=CitationIds.of_process())
    lines = encoder.lines(outputs)
    assert lines == reference(encoder, outputs)
    assert [json.loads(line).get("case_id") for line in lines] == ids


def test_places_from_case_numbers_are_those_of_the_walks(engine, cases, monkeypatch):
    """Where each row stands in the per-case order, from the rows' case numbers (the root kind
    and one other), is where the walks of the cases put it, counting the same kinds; more
    kinds than that are placed by the walks."""
    from engine.runtime.columnar import ColumnarOutputs

    outputs = evaluate_columns(engine, cases, DATES[0])
    names = [kind.entities[0].kind.name for kind in outputs.kinds]
    assert {"case", "person", "income"} <= set(names)
    subsets = [[names.index("case"), names.index("person")], [names.index("person")],
               [names.index("case")], [names.index("income")],
               [names.index("case"), names.index("income")], None]
    fast = {}
    for only in subsets:
        found = outputs._places_by_case(range(len(names)) if only is None else only)
        assert (found is None) == (only is None)
        fast[str(only)] = outputs.places(only)
    monkeypatch.setattr(ColumnarOutputs, "_places_by_case", lambda self, counted: None)
    for only in subsets:
        positions, starts = outputs.places(only)
        expected_positions, expected_starts = fast[str(only)]
        assert starts.tolist() == expected_starts.tolist()
        assert [None if p is None else p.tolist() for p in positions] == \
            [None if p is None else p.tolist() for p in expected_positions]
        if only is not None:
            assert sum(len(p) for p in positions if p is not None) == starts[-1]


def test_columns_joined_per_distinct_combination_whatever_their_number():
    """Neighbouring numbered columns are joined once per distinct combination; more columns
    than a 64-bit number can combine are renumbered on the way, and the pieces stay each
    row's own; columns sharing one array of numbers, and columns with one number for every
    row, are joined as the others are."""
    rng = np.random.default_rng(3)
    n = 500

    def pieces_of(width, tag=""):
        pieces = np.empty(width + 1, dtype=object)
        pieces[:] = [b""] + [f"<{tag}{width}:{i}>".encode() for i in range(width)]
        return pieces

    def each_row(run):
        return [b"".join(pieces[numbers if numbers.__class__ is int else numbers[row]]
                         for numbers, pieces in run) for row in range(n)]

    run = []
    # 36 columns of many numbers, then 70 the same on every row (a number that only doubled
    # would lose the first ones: every row alike): far more than 2**62 combinations together
    for width in (3, 40, 7, 900, 2, 11) * 6 + (1,) * 70:
        run.append((rng.integers(0, width + 1, n) if width > 1 else np.ones(n, dtype=np.intp),
                    pieces_of(width)))
    shared = rng.integers(0, 5, n)
    runs = [run,
            # one array of numbers for several columns, with others and constants between
            [(shared, pieces_of(4, "a")), (2, pieces_of(3)), (shared, pieces_of(4, "b")),
             (rng.integers(0, 3, n), pieces_of(2)), (shared, pieces_of(4, "c")),
             (0, pieces_of(1))],
            [(1, pieces_of(2)), (2, pieces_of(2, "x"))],          # the same on every row
            [(0, pieces_of(2))],                                  # nothing on any row
            [(shared, pieces_of(4))]]                             # one column
    for each in runs:
        joined, filled = column_lines._combined(each, n)
        expected = each_row(each)
        assert joined.tolist() == expected
        assert filled.tolist() == [bool(line) for line in expected]


def test_equal_values_and_deciding_lists_that_are_not_the_same_objects(engine, cases):
    """A column whose rows hold equal values or deciding lists that are different objects,
    or one object on every row, writes each row as the reference does."""
    outputs = evaluate_columns(engine, cases[:12], DATES[0])
    person = next(kind for kind in outputs.kinds if len(kind.rules) > 5)
    for out in person.rules:
        if len(out.rows) < 2:
            continue
        cites = out.cites.tolist()
        copied = np.empty(len(cites), dtype=object)
        copied[:] = [None if c is None else tuple(c) if i % 2 else c
                     for i, c in enumerate(cites)]
        out.cites = copied
        values = np.empty(len(out.rows), dtype=object)
        if out.rule.name == "eligibility.level_of_care":
            values[:] = ["".join(["nursing", " facility"])] * len(out.rows)   # equal copies
        elif out.rule.name == "magi.household_size":
            values.fill(3)                                                   # one object
        else:
            continue
        out.values = values
    for citations in ("deciding", "none"):
        encoder = RecordEncoder(citations, ids=CitationIds.of_process())
        assert encoder.lines(outputs) == reference(encoder, outputs)


def test_a_result_whose_deciding_citations_are_not_told_sends_its_case_per_case(engine, cases,
                                                                            monkeypatch):
    """A shown row whose deciding list is None (the plan cannot tell it) sends its case to the
    per-case evaluator when citations are wanted; a value equal to None that is not None does
    not, and neither does anything without citations."""
    import engine.runtime.columnar as columnar

    class EqualToNone(tuple):
        def __eq__(self, other):
            return other is None or tuple.__eq__(self, other)

        __hash__ = tuple.__hash__

    made = columnar._Batch.rule_column

    def rule_column(batch, rule):
        column = made(batch, rule)
        if rule.name == "eligibility.level_of_care" and batch.citing:
            case_of = batch.case_row[rule.entity_kind.name]
            other = next(r for r, c in enumerate(case_of) if c != case_of[1])
            cites = column.cites.copy()    # set again: not numbered by the plan any more
            cites[1] = None                # in the case of row 1; another case's row equal
            if cites[other].__class__ is not EqualToNone:
                cites[other] = EqualToNone(cites[other])
            column.cites = cites
            assert column.cite_groups is None
        return column

    monkeypatch.setattr(columnar._Batch, "rule_column", rule_column)
    stats = columnar.ColumnarStats()
    outputs = evaluate_columns(engine, cases[:12], DATES[0], stats=stats)
    person = next(kind for kind in outputs.kinds if len(kind.rules) > 5)
    failed = {int(person.case_of[1])}
    assert {c for c, gone in enumerate(outputs.failed) if gone} == failed
    assert stats.citation_fallbacks == 1
    values_only = evaluate_columns(engine, cases[:12], DATES[0], citations=False)
    assert not any(values_only.failed)
