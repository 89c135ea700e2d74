"""normalise_case copies case data exactly as the recursive normaliser it replaced did (same
values, same types, same lines), says correctly whether the copy is plain JSON, and never
shares a mapping or list with its input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.io.case_data import is_plain, normalise_case
from engine.io.yaml_loader import LineDict, LineList, loads

from .helpers import typed
from .reference import reference_normalise


def _line_dict(pairs):
    out = LineDict(pairs)
    out.line, out.key_lines = 3, {k: 4 for k in out}
    return out


def _line_list(items):
    out = LineList(items)
    out.line, out.item_lines = 7, list(range(len(out)))
    return out


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=5),
    st.floats(allow_nan=True, allow_infinity=True), st.decimals(allow_nan=True),
    st.dates(), st.datetimes(), st.sampled_from([Decimal("3"), Decimal("3.50"), Decimal("-0"),
                                                 Decimal("1E+3"), Decimal("sNaN")]),
)
KEYS = st.one_of(st.text(max_size=4), st.integers(0, 3))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(KEYS, inner, max_size=4),
        st.dictionaries(st.text(max_size=4), inner, max_size=4).map(_line_dict),
        st.lists(inner, max_size=4).map(_line_list),
    ),
    max_leaves=20,
)


def containers(value):
    if isinstance(value, (dict, list)):
        yield value
        for item in value.values() if isinstance(value, dict) else value:
            yield from containers(item)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_normalise_case_equals_the_reference(value):
    out, plain = normalise_case(value)
    assert typed(out) == typed(reference_normalise(value))
    assert plain == is_plain(out)
    copies = {id(c) for c in containers(out)}
    assert not copies & {id(c) for c in containers(value)}


def test_plain_json_is_plain():
    out, plain = normalise_case({"case_id": "x", "as_of": dt.date(2025, 1, 2), "people": [
        {"id": "a", "age": 3, "resources": 12.5, "incomes": [{"amount": Decimal("10.25")}]}]})
    assert plain
    assert out["as_of"] == "2025-01-02" and out["people"][0]["resources"] == Decimal("12.5")


def test_yaml_lines_are_kept():
    data = loads("case_id: x\npeople:\n  - id: a\n    age: 4\n", "x.yaml")
    out, plain = normalise_case(data)
    assert plain and isinstance(out, LineDict) and isinstance(out["people"], LineList)
    assert out.key_lines == data.key_lines and out["people"].item_lines == data["people"].item_lines
    assert out["people"][0].line == 3
