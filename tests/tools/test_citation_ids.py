"""The short ids ``policy batch`` writes for citations (engine/tools/batch_output.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.api import Engine
from engine.model.archives import dated
from engine.tools.batch_output import CitationIds, citation_entry, citation_key, id_text


@pytest.fixture(scope="module")
def engine():
    return Engine.load("policy")


def test_ids_are_base_36_numbers():
    assert [id_text(i) for i in (0, 9, 10, 35, 36, 71, 1295, 1296)] == \
        ["0", "9", "a", "z", "10", "1z", "zz", "100"]
    assert len({id_text(i) for i in range(5000)}) == 5000


def test_the_same_rulebooks_give_the_same_ids(engine):
    first, second = CitationIds.of_process(), CitationIds.of_process()
    assert first.keys == second.keys
    # a worker handed the parent's keys gives every citation the parent's id
    worker = CitationIds(list(first.keys))
    assert worker.table() == first.table()


def test_every_shown_citation_has_an_id_and_the_table_gives_it_back(engine):
    ids = CitationIds.of_process()
    for on in ("2018-06-01", "2026-01-05"):
        evaluation = engine.evaluate("examples/jones.yaml", on)
        for result in evaluation.results:
            shown = dated(result.citations, dt.date.fromisoformat(on))
            written = [ids.id_of(c) for c in shown]
            assert None not in written
            assert [ids.table(written)[i] for i in written] == [c.as_dict() for c in shown]


def test_archived_sections_shown_today_get_the_first_ids(engine):
    ids = CitationIds.of_process()
    evaluation = engine.evaluate("examples/jones.yaml", "2026-01-05")
    premium = dated(evaluation.find("chip.family_premium").citations, dt.date(2026, 1, 5))
    first = premium[0]
    assert first.formerly is not None
    position = ids.keys.index(citation_key(first))
    # before every citation that is not a successor carrying its archived one
    assert all("formerly" in citation_entry(key) for key in ids.keys[:position + 1])
