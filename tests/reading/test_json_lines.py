"""A batch's JSON line is parsed (``engine.io.case_data.loads_exact``, orjson where it is
provably the same) to exactly what ``json.loads(text, parse_float=Decimal)`` gave, or fails with
the same exception and words; and a case read from such a line (taken without the normaliser's
copy) reads the same as the old reader reads the standard library's value of the same line."""

from __future__ import annotations

import copy
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from engine import Engine
from engine.io.case_data import ParsedJSON, loads_exact, normalise_case
from engine.tools.tasks import Task, case_data

from tests.tools.households import households
from .helpers import typed
from .test_read_differential import mutated_households, read_outcome, reference_read

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(ROOT / "policy")


def parsed(parse, text):
    try:
        value = parse(text)
    except Exception as exc:                # noqa: BLE001 - compared: same class, same words
        return ("error", type(exc).__name__, str(exc))
    plain = dict(value) if type(value) is ParsedJSON else value
    return ("value", typed(plain))


def standard(text):
    return json.loads(text, parse_float=Decimal)


TEXTS = [
    '{"a": 1, "b": 2, "a": 3}',                     # duplicate key: the last value, first place
    '{"a": 18446744073709551616}',                  # past 64 bits: orjson would give a float
    '{"a": -9223372036854775809}', '{"a": 9223372036854775807}',
    '{"a": 1.0}', '{"a": 1.50}', '{"a": 1e5}', '{"a": 1E5}', '{"a": -0.0}', '{"a": -0}',
    '{"a": "\\ud800"}', '{"a": "\ud800"}', '{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}',
    '\ufeff{"a": 1}', '{"a": "\x01"}', '{"a": "\\u0000"}', '{"a": 1}\x00', '{"a": 01}',
    '{"a": [1,]}', '{"a": 1,}', '{"a" 1}', '', ' ', '"text"', '1', 'null', '[]', '[1.5]',
    ' {"a": 1} \n', '{"a": "1.5", "b": "x.y", "c": "1e5"}', '{"\\ud83d\\ude00": "é"}',
    '{"a": ' + '[' * 150 + ']' * 150 + '}', '{"a": ' + '[' * 400 + ']' * 400 + '}',
    '[' * 2000 + ']' * 2000,
]


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_crafted_texts_parse_as_the_standard_library_parses_them(text):
    assert parsed(loads_exact, text) == parsed(standard, text)


def test_mutated_lines_parse_as_the_standard_library_parses_them():
    lines = [json.dumps(case, default=str) for case in households(40, seed=31)]
    pieces = list('{}[]",:.eE+-0123456789 \t\n\r\\u') + [
        "1.5", "null", "true", '"a"', "\ud800", "\\ud800", "NaN", "Infinity", "\x00", "\x1f",
        "é", "\ufeff", '"a": 1, "a": 2', "12345678901234567890", "-9223372036854775809", "1e5"]
    rng = random.Random(5)
    fast_values = 0
    for _ in range(3000):
        text = rng.choice(lines)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            choice = rng.random()
            if choice < 0.4:
                text = text[:at] + rng.choice(pieces) + text[at:]
            elif choice < 0.7:
                text = text[:at] + text[at + rng.randint(1, 3):]
            else:
                text = text[:at] + rng.choice(pieces) + text[at + 1:]
        expected = parsed(standard, text)
        assert parsed(loads_exact, text) == expected, text
        fast_values += expected[0] == "value" and type(loads_exact(text)) is ParsedJSON
    assert fast_values > 40             # the orjson path was taken, not only the fallback


def test_a_parsed_object_is_taken_once_then_copied():
    data = loads_exact('{"case_id": "x", "people": [{"id": "a", "parents": []}]}')
    assert type(data) is ParsedJSON
    first, plain = normalise_case(data)
    assert type(first) is dict and plain is True and first == data
    second, plain = normalise_case(data)
    assert second == first and plain is True
    assert second["people"] is not first["people"]         # the second read copies


def test_a_task_line_is_read_as_before(engine):
    """Through ``case_data`` as ``policy batch`` reads a line: households, amounts as numbers
    too (decimals go to the standard library)."""
    for case in households(40, seed=32):
        for text in (json.dumps(case, default=str),
                     json.dumps(case, default=str).replace('"amount": "', '"amount": ').replace(
                         '", "frequency"', ', "frequency"')):
            fast = read_outcome(lambda: _read(engine, case_data(Task("in.jsonl:1", "json", text)),
                                              "in.jsonl:1"))
            reference = read_outcome(lambda: reference_read(engine, standard(text), "in.jsonl:1"))
            assert fast == reference
            assert fast[0] == "built"


def _read(engine, data, source):
    read = engine.read_case(data, source)
    return read.data, read.root


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated_households())
def test_mutated_households_as_json_lines_read_the_same(engine, case):
    """Mutated households written as JSON text (what JSON cannot hold written as text), read
    from the line as a batch reads it and by the old reader from the standard library's value:
    the same tree or the same refusal."""
    text = json.dumps(copy.deepcopy(case), default=str)
    fast = read_outcome(lambda: _read(engine, loads_exact(text), "in.jsonl:3"))
    reference = read_outcome(lambda: reference_read(engine, standard(text), "in.jsonl:3"))
    assert fast == reference
