"""engine.model.units: one list of units, the same as the schema's."""

from __future__ import annotations

import json
from pathlib import Path

from engine.model import units

ROOT = Path(__file__).resolve().parents[2]


def test_the_schema_lists_the_same_units():
    schema = json.loads((ROOT / "schemas" / "rulebook.schema.json").read_text())
    assert tuple(schema["$defs"]["unit"]["enum"]) == units.UNITS


def test_money_is_numeric_and_the_rest_is_not():
    assert set(units.MONEY_UNITS) < units.NUMERIC_UNITS
    assert not units.NUMERIC_UNITS & set(units.OTHER_UNITS)
    assert set(units.UNITS) == units.NUMERIC_UNITS | set(units.OTHER_UNITS)
