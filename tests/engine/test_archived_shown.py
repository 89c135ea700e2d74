"""How a citation of an archived manual is shown from its archive date (engine/model/archives.py):
one object, the successor carrying the archived citation as `formerly`."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.api import Engine
from engine.model.archives import dated, shown


@pytest.fixture(scope="module")
def engine():
    return Engine.load("policy")


def test_every_shown_citation_keeps_the_contract(engine):
    # CONTRACT.md: each citation object has at least `source` and `section` or `url`
    for on in ("2018-06-01", "2025-04-22", "2025-04-23", "2026-01-05"):
        for result in engine.evaluate("examples/jones.yaml", on).results:
            for citation in result.as_dict()["citations"]:
                assert citation["source"] and (citation.get("section") or citation.get("url"))
                if "formerly" in citation:
                    former = citation["formerly"]
                    assert former["source"] and (former.get("section") or former.get("url"))


def test_no_section_is_listed_twice(engine):
    for result in engine.evaluate("examples/jones.yaml", "2026-01-05").results:
        cites = dated(result.citations, dt.date(2026, 1, 5))
        sections = [(c.source, c.section) for c in cites]
        assert len(sections) == len(set(sections)), result.name
        formerly = [c.formerly for c in cites if getattr(c, "formerly", None) is not None]
        assert not set(formerly) & set(cites)


def test_text_names_the_archived_source_when_the_successor_has_no_section(engine):
    premium = engine.evaluate("examples/jones.yaml", "2026-01-05").find("chip.family_premium")
    first = shown(premium.citations[0])
    assert first.section is None
    assert first.short().startswith("Combined IM Policy Manual, IM-23 2025")
    assert "(formerly Family MO HealthNet (MAGI) Manual, Appendix E" in first.short()


def test_a_citation_never_archived_is_shown_as_it_is(engine):
    results = engine.evaluate("examples/jones.yaml", "2026-01-05").results
    citations = [c for r in results for c in r.citations]
    plain = [c for c in citations if getattr(c, "archive", None) is None
             and getattr(c.canonical, "archive", None) is None]
    assert plain
    assert all(shown(c) is c for c in plain)
