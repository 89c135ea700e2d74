"""The facts the builder copies from a validated case without a look (schema_kept) are only
facts for which every value the case schema accepts is returned unchanged by FactSpec.coerce."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from engine.io.schemas import schema_document
from engine.model.schema_guarantees import _kind_node, _parts, _property, facts_kept_by_schema

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kinds():
    engine = Engine.load(ROOT / "policy")
    found = []

    def walk(kind):
        found.append(kind)
        for child in kind.children.values():
            walk(child)

    walk(engine.program.root_kind)
    return {kind.name: kind for kind in found}


def samples(node, schema):
    """Values the node accepts at its edges: every enum value, both booleans, null, the bounds
    of an integer, a few strings of the pattern's kind."""
    out = []
    for part in _parts(node, schema):
        for option in part.get("anyOf", []) + part.get("oneOf", []):
            out += samples(option, schema)
        out += list(part.get("enum", []))
        types = part.get("type", [])
        for kind in [types] if isinstance(types, str) else types:
            if kind == "boolean":
                out += [True, False]
            elif kind == "null":
                out.append(None)
            elif kind == "integer":
                out += [part.get("minimum", 0), part.get("maximum", 0)]
            elif kind == "string":
                out += ["a", "k0", "x" * 64]
    return out


def test_every_kept_fact_keeps_what_the_schema_accepts(kinds):
    schema = schema_document("case")
    checked = 0
    for kind in kinds.values():
        node = _kind_node(kind, schema)
        for name in facts_kept_by_schema(kind):
            spec = kind.facts[name]
            values = samples(_property(node, name, schema), schema)
            assert values, name
            for value in values:
                assert spec.coerce(value) is value or (value is None and spec.coerce(None) is None), \
                    (kind.name, name, value)
                checked += 1
    assert checked > 100


def test_what_is_kept_and_what_is_not(kinds):
    person = facts_kept_by_schema(kinds["person"])
    assert {"id", "age", "sex", "tax_filer", "claimed_by", "spouse", "pregnant",
            "unborn_children", "medicare", "applying"} <= person
    # lists are copied, dates and money converted: never kept as given
    assert not {"parents", "siblings", "date_of_birth", "resources", "entry_date"} & person
    income = facts_kept_by_schema(kinds["income"])
    assert {"type", "frequency", "ssdi"} <= income
    assert not {"amount", "hours_per_week", "order_date"} & income
    assert facts_kept_by_schema(kinds["case"]) >= {"case_id"}
    assert "as_of" not in facts_kept_by_schema(kinds["case"])


def test_a_kind_the_schema_does_not_describe_keeps_nothing(kinds):
    class Kind:
        name, parent, collection, children = "pet", kinds["case"], "pets", {}
        facts = kinds["person"].facts

    assert facts_kept_by_schema(Kind) == frozenset()


def test_a_narrower_fact_is_not_kept(kinds):
    """A fact whose own bounds or allowed values are narrower than the schema's is converted
    (and refused) by coerce, as before."""
    import dataclasses
    age = dataclasses.replace(kinds["person"].facts["age"], maximum=100)
    sex = dataclasses.replace(kinds["person"].facts["sex"], enum=("female",))

    class Kind:
        name, parent, collection, children = "person", kinds["case"], "people", {}
        facts = {"age": age, "sex": sex, "id": kinds["person"].facts["id"]}

    assert facts_kept_by_schema(Kind) == frozenset({"id"})
