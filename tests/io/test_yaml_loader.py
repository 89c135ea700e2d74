"""engine.io.yaml_loader: safe YAML and JSON with decimals, ISO dates, limits and line numbers."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from engine.errors import InputError
from engine.io.yaml_loader import (MAX_DEPTH, LineDict, LineList, line_at_path, line_of, load_file,
                                loads)


def refused(text: str) -> InputError:
    with pytest.raises(InputError) as excinfo:
        loads(text, "doc.yaml")
    return excinfo.value


# -- duplicate keys ----------------------------------------------------------------------------

def test_duplicate_key_is_e101_naming_both_lines():
    error = refused("a: 1\nb: 2\na: 3\n")
    p = error.problem
    assert p.code == "E101"
    assert "'a'" in p.message
    assert "lines 1 and 3" in p.message
    assert p.line == 3
    assert p.file == "doc.yaml"
    assert p.field == "a"


def test_duplicate_key_in_a_nested_mapping():
    text = "top:\n  inner:\n    x: 1\n    y: 2\n    x: 3\nother: 4\n"
    p = refused(text).problem
    assert p.code == "E101"
    assert "lines 3 and 5" in p.message


def test_duplicate_dates_as_keys_are_the_same_key():
    # 2024-01-01 and "2024-01-01" both become the ISO string; a rulebook must not give both.
    p = refused("values:\n  2024-01-01: 1\n  '2024-01-01': 2\n").problem
    assert p.code == "E101"
    assert "lines 2 and 3" in p.message


def test_same_key_in_different_mappings_is_fine():
    data = loads("a: {x: 1}\nb: {x: 2}\n")
    assert data == {"a": {"x": 1}, "b": {"x": 2}}


def test_merge_key_override_is_not_a_duplicate():
    text = "base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  x: 3\n"
    try:
        data = loads(text, "doc.yaml")
    except InputError as exc:
        # Refusing merge keys outright would be acceptable; calling this a duplicate is not.
        assert "appears twice" not in exc.problem.message
    else:
        assert data["child"] == {"x": 3, "y": 2}


# -- numbers and dates -------------------------------------------------------------------------

def test_floats_are_read_as_decimals():
    data = loads("x: 0.1\ny: 1305.01\nz: -12.50\nn: 1_000.5\ni: 7\n")
    assert data["x"] == Decimal("0.1") and type(data["x"]) is Decimal
    assert str(data["y"]) == "1305.01"
    assert str(data["z"]) == "-12.50"
    assert data["n"] == Decimal("1000.5")
    assert data["i"] == 7 and type(data["i"]) is int


@pytest.mark.parametrize("text", [".inf", "-.inf", ".nan", ".NaN"])
def test_non_finite_numbers_are_refused(text):
    p = refused(f"x: {text}\n").problem
    assert p.code == "E105"
    assert p.line == 1


def test_dates_become_iso_strings():
    data = loads("d: 2024-02-29\nt: 2024-01-01T10:30:00Z\nkeys:\n  2025-04-01: 15650\n")
    assert data["d"] == "2024-02-29"
    assert data["t"].startswith("2024-01-01T10:30:00")
    assert list(data["keys"]) == ["2025-04-01"]


# -- limits ------------------------------------------------------------------------------------

def billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_quickly():
    started = time.perf_counter()
    p = refused(billion_laughs()).problem
    elapsed = time.perf_counter() - started
    assert p.code == "E104"
    assert "1,000,000" in p.message
    assert elapsed < 1.0


def test_small_aliases_are_allowed():
    data = loads("base: &b [1, 2]\ncopy: *b\n")
    assert data["copy"] == [1, 2]


def test_too_deep_nesting_is_e103():
    p = refused("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n").problem
    assert p.code == "E103"
    assert str(MAX_DEPTH) in p.message


def test_nesting_within_the_limit_is_read():
    depth = MAX_DEPTH - 2
    data = loads("a: " + "[" * depth + "1" + "]" * depth + "\n")
    node, levels = data["a"], 1
    while isinstance(node[0], list):
        node, levels = node[0], levels + 1
    assert levels == depth and node == [1]


def test_extremely_deep_nesting_is_e103_not_a_crash():
    p = refused("[" * 5000 + "]" * 5000).problem
    assert p.code == "E103"


def test_nesting_through_aliases_counts_towards_the_depth_limit():
    inner = "[" * 50 + "1" + "]" * 50
    text = f"a: &a {inner}\nb: " + "[" * 50 + "*a" + "]" * 50 + "\n"   # 100 levels once expanded
    p = refused(text).problem
    assert p.code == "E103"


# -- unsafe tags -------------------------------------------------------------------------------

def test_python_tags_are_refused_without_running_anything(tmp_path):
    marker = tmp_path / "executed"
    text = f'x: !!python/object/apply:os.system ["touch {marker}"]\n'
    p = refused(text).problem
    assert p.code in ("E100", "E102")
    assert "python/object/apply" in p.message
    assert p.line == 1
    assert not marker.exists()


def test_python_new_object_tag_is_refused(tmp_path):
    marker = tmp_path / "executed"
    p = refused(f'!!python/object/new:os.system ["touch {marker}"]\n').problem
    assert p.code in ("E100", "E102")
    assert not marker.exists()


@pytest.mark.parametrize("text", ["!!set {a, b}\n", "!!omap [a: 1]\n"])
def test_set_and_omap_tags_are_refused_as_input_errors(text):
    p = refused(text).problem
    assert p.code in ("E100", "E102")


def test_syntax_error_is_e100_with_line():
    p = refused("a: 1\nb: [1, 2\nc: 3\n").problem
    assert p.code == "E100"
    assert p.line is not None and p.line >= 2


# -- JSON, files, lines ------------------------------------------------------------------------

JSON_TEXT = '{\n  "case_id": "j1",\n  "people": [\n    {"id": "a", "amount": 1993.18},\n    {"id": "b"}\n  ]\n}\n'


def test_json_is_parsed_with_lines_and_decimals():
    data = loads(JSON_TEXT, "case.json")
    assert isinstance(data, LineDict) and isinstance(data["people"], LineList)
    assert data["people"][0]["amount"] == Decimal("1993.18")
    assert line_of(data, "case_id") == 2
    assert line_of(data, "people") == 3
    assert line_of(data["people"], 0) == 4
    assert line_of(data["people"], 1) == 5


def test_json_duplicate_keys_are_refused():
    p = refused('{\n "a": 1,\n "a": 2\n}').problem
    assert p.code == "E101"
    assert "lines 2 and 3" in p.message


def test_line_of_and_line_at_path():
    text = "rules:\n  first:\n    formula: 1\n  second:\n    conditions:\n      - when: x\n        then: 1\n      - otherwise: 2\n"
    data = loads(text)
    assert line_of(data) == 1
    assert line_of(data, "rules") == 1
    assert line_of(data["rules"], "second") == 4
    assert line_of(data["rules"]["second"]["conditions"], 1) == 8
    assert line_at_path(data, ["rules", "first", "formula"]) == 3
    assert line_at_path(data, ["rules", "second", "conditions", 0, "then"]) == 7
    # A path that leaves the document gives the line of the deepest container that exists
    # (a mapping or list starts on the line of its first entry).
    assert line_at_path(data, ["rules", "second", "missing", "deeper"]) == 5
    assert line_at_path(data, ["rules", "second", "conditions", 9]) == 6


def test_load_file_reads_yaml_and_json(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(JSON_TEXT, encoding="utf-8")
    data = load_file(path)
    assert data["case_id"] == "j1"
    assert line_of(data["people"], 1) == 5


def test_non_utf8_file_is_e108(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(InputError) as excinfo:
        load_file(path)
    p = excinfo.value.problem
    assert p.code == "E108"
    assert p.file == str(path)
    assert "byte 9" in p.message


def test_missing_file_is_e107(tmp_path):
    with pytest.raises(InputError) as excinfo:
        load_file(tmp_path / "nope.yaml")
    assert excinfo.value.problem.code == "E107"


def test_utf8_with_bom_is_read(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffname: café\n".encode("utf-8"))
    assert load_file(path) == {"name": "café"}


def test_empty_document_is_none():
    assert loads("") is None
