"""The columnar plan's read-set (``provenance``) is computed only when a caller may show it.

``policy batch`` lines and Arrow results write deciding citations at most, never the read-set,
so they evaluate with ``provenance=False``: no citation mask is made or joined (about 5% of the
plan's time). What they write is unchanged in every citation mode; every API that returns
result objects keeps its provenance by default, and a result evaluated without it says so
instead of showing a wrong one."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from engine.runtime import columnar
from engine.runtime.columnar import ColumnarEvaluation, evaluate_cases, evaluate_columns
from engine.runtime.trace import collect_citations
from engine.tools.arrow_batch import evaluate_record_batch
from engine.tools.batch import Task, encode_chunk
from engine.tools.batch_output import CitationIds, RecordEncoder
from engine.tools.columnar_batch import evaluate_chunk

from .conftest import POLICY
from .households import households

ON = dt.date(2025, 8, 1)


@pytest.fixture(scope="module")
def engine():
    from engine import Engine
    return Engine.load(POLICY)


@pytest.fixture(scope="module")
def data():
    return households(40, seed=11)


def test_without_provenance_no_mask_is_joined_and_the_lines_are_the_same(engine, data):
    cases = [engine.read_case(h) for h in data]
    with_masks = evaluate_columns(engine, cases, ON)
    without = evaluate_columns(engine, cases, ON, provenance=False)
    assert any(out.masks.any() for kind in with_masks.kinds for out in kind.rules)
    assert not any(out.masks.any() for kind in without.kinds for out in kind.rules)
    assert without.failed == with_masks.failed
    ids = CitationIds.of_process()
    for mode in ("deciding", "full", "none"):
        encoder = RecordEncoder(mode, ids=ids if mode == "deciding" else None)
        assert encoder.lines(without) == encoder.lines(with_masks), mode
    # the values and deciding citations of every result are the same objects' too
    for a, b in zip(with_masks.results(), without.results()):
        assert [(r.name, r.person, r.value, r.citations) for r in a] == \
            [(r.name, r.person, r.value, r.citations) for r in b]


def test_results_keep_their_provenance_by_default_and_say_when_it_was_not_computed(engine,
                                                                                      data):
    cases = [engine.read_case(h) for h in data[:10]]
    for got, case in zip(evaluate_cases(engine, cases, ON), cases):
        expected = engine.evaluate(case, as_of=ON)
        assert [r.provenance for r in got.results] == \
            [collect_citations(r.node) for r in expected.results]
    lean = evaluate_cases(engine, cases, ON, provenance=False)
    result = lean[0].results[0]
    assert result.mask is None
    with pytest.raises(ValueError, match="provenance=False"):
        result.provenance
    # evaluate_chunk without an encoder returns result objects: provenance kept unless asked
    tasks = [Task(f"h:{i}", "data", h) for i, h in enumerate(data[:5])]
    chunk = evaluate_chunk(engine, tasks, ON.isoformat())
    assert all(r.provenance for e, _, _ in chunk for r in e.results)


def test_batch_lines_and_arrow_results_compute_no_mask(engine, data, monkeypatch):
    tasks = [Task(f"h:{i}", "data", h) for i, h in enumerate(data)]
    encoder = RecordEncoder("deciding", ids=CitationIds.of_process())
    before = encode_chunk(engine, tasks, ON.isoformat(), None, encoder, "columnar")
    arrow_before = evaluate_record_batch(engine, data, as_of=ON.isoformat())

    def no_mask(record):
        raise AssertionError("a citation mask was computed")
    monkeypatch.setattr(columnar, "citation_mask", no_mask)
    monkeypatch.setattr(columnar, "mask_of", no_mask)
    assert encode_chunk(engine, tasks, ON.isoformat(), None, encoder, "columnar") == before
    assert evaluate_record_batch(engine, data, as_of=ON.isoformat()).equals(arrow_before)
    with pytest.raises(AssertionError, match="mask was computed"):
        evaluate_columns(engine, [engine.read_case(h) for h in data[:3]], ON)


def test_a_failed_case_is_the_same_with_or_without_provenance(engine, data):
    broken = copy.deepcopy(data[0])
    del broken["people"][0]["age"]          # magi.age_years cannot be decided
    cases = [engine.read_case(h) for h in (broken, *data[1:4])]
    a = evaluate_cases(engine, cases, ON)
    b = evaluate_cases(engine, cases, ON, provenance=False)
    assert a[0] is None and b[0] is None
    assert [x is None for x in a] == [x is None for x in b]
    assert isinstance(b[1], ColumnarEvaluation)


def test_values_only_follows_no_read(engine, data, monkeypatch):
    """With no citations wanted (``--citations none``) nothing read is followed: no value brings
    deciding reads to join, and the values are the same."""
    cases = [engine.read_case(h) for h in data]
    before = evaluate_columns(engine, cases, ON, citations=False, provenance=False)

    def no_reads(record):
        raise AssertionError("what a value read was followed")
    monkeypatch.setattr(columnar, "read_citations", no_reads)
    after = evaluate_columns(engine, cases, ON, citations=False, provenance=False)
    encoder = RecordEncoder("none")
    assert encoder.lines(after) == encoder.lines(before)
    with pytest.raises(AssertionError, match="was followed"):
        evaluate_columns(engine, cases[:3], ON, provenance=False)
