"""Every memo table of engine.runtime.deciding stays bounded, and emptying it changes nothing.

The tables are keyed by the identity of citation tuples that each loaded rulebook set makes anew
(a service reloads its rulebooks while it runs), so without a bound they would keep every set
ever loaded alive."""

from __future__ import annotations

from pathlib import Path

from engine import Engine
from engine.runtime import deciding
from tests.tools.households import households

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("_HEADERS", "_OWN", "_OWN_PLAIN", "_WRITTEN", "_COMPOSED", "_NOTED")


def _everything(engine, cases):
    return [(r.name, r.person, repr(r.value), tuple(repr(c.as_dict()) for c in r.citations))
            for case in cases
            for r in engine.evaluate(case, as_of=case.get("as_of", "2025-08-01")).results]


def test_reloads_do_not_grow_the_tables_past_their_bound(monkeypatch):
    cases = households(8, seed=5)
    remembered = _everything(Engine.load(ROOT / "policy"), cases)
    monkeypatch.setattr(deciding, "MAX_COMPOSED", 50)
    for name in TABLES:
        getattr(deciding, name).clear()
    for _ in range(3):                      # three reloads: three sets of citation tuples
        assert _everything(Engine.load(ROOT / "policy"), cases) == remembered
        for name in TABLES:
            assert len(getattr(deciding, name)) <= 50, name
