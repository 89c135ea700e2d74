"""A JSON line of case data that repeats a key is refused, at any depth, whatever the parser.

:func:`engine.io.case_data.loads_case` proves a text has no repeated key by counting (see its
docstring); these tests compare it with the standard library given a hook that refuses repeated
keys: the same value (and the same ``ParsedJSON`` marking as :func:`loads_exact`), or the same
exception with the same words, on crafted texts, mutated households and generated texts.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from engine.io.case_data import DuplicateKey, ParsedJSON, loads_case, loads_exact
from engine.tools.tasks import Task, case_data

from tests.reading.helpers import typed
from tests.tools.households import households


def _refuse(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key)
        out[key] = value
    return out


def reference(text):
    return json.loads(text, parse_float=Decimal, object_pairs_hook=_refuse)


def outcome(parse, text):
    try:
        value = parse(text)
    except DuplicateKey as exc:
        return ("duplicate", exc.key)
    except Exception as exc:                # noqa: BLE001 - compared: same class, same words
        return ("error", type(exc).__name__, str(exc))
    plain = dict(value) if type(value) is ParsedJSON else value
    return ("value", typed(plain))


def agrees(text):
    """loads_case gives what the reference gives; it marks a value ParsedJSON only where
    loads_exact does (a text the count cannot clear is parsed again, into a plain dict)."""
    expected = outcome(reference, text)
    assert outcome(loads_case, text) == expected, text
    if expected[0] == "value" and type(loads_case(text)) is ParsedJSON:
        assert type(loads_exact(text)) is ParsedJSON, text
    return expected


DUPLICATES = [
    ('{"a": 1, "a": 2}', "a"),
    ('{"case_id":"d","case_id":"e","as_of":"2025-08-01"}', "case_id"),
    ('{"people": [{"id": "a", "age": 3, "age": 4}]}', "age"),                 # nested
    ('{"p": [{"incomes": [{"amount": 1, "kind": "w", "amount": 2}]}]}', "amount"),
    ('{"p": [{"incomes": [{"amount": 1.5, "amount": 2}]}]}', "amount"),      # decimals
    ('{"a" :1,"a" :":"}', "a"),                     # whitespace before colons, a colon value
    ('{"a"\t:\n1,\r"a"  : 2}', "a"),
    ('{"a":":","a":1}', "a"),                      # a value that starts with a colon
    ('{"x\\":":1,"x\\":":2}', 'x":'),               # an escaped quote and colon in the key
    ('{"\\u0061": 1, "a": 2}', "a"),               # the same key, escaped once
    ('{"é": 1, "\\u00e9": 2}', "é"),
    ('{"😀": 1, "\\ud83d\\ude00": 2}', "😀"),
    ('{"": 1, "": 2}', ""),
    ('{"a": {"b": 1, "b": 1}}', "b"),
    ('[{"a": 1}, {"a": 1, "a": 1}]', "a"),
    ('{"a": 1, "b": {"c": [{"d": {"e": 1, "e": 2}}]}}', "e"),
    ('{"a": 1, "a": 2} x', "a"),                   # a repeated key before a syntax error
    ('{"a b": "c d", "a b": "c d"}', "a b"),        # spaces inside strings (deleted by the count)
    ('{"a": "\\u0020\\u0020\\u0020\\u0020\\u0020", "a": 1}', "a"),   # escapes longer than the pair
    ('{"a": -0, "b": -0, "a": 0}', "a"),           # numbers orjson writes shorter
    ('{"a": 1, "\\u0061": 2, "b": "' + "\\u00e9" * 3 + '"}', "a"),
    # values orjson would write longer than the text, as long as the pair dropped
    ('{"bbb":1,"bbb":2,"c":[1e-6,1e-6]}', "bbb"),
    ('{"b":1,"b":2,"c":[NaN,NaN,NaN,NaN,NaN,NaN]}', "b"),
    ('{"b":1.5,"b":2,"c":[NaN,NaN,NaN,NaN,NaN,NaN]}', "b"),
    ('{"a": 1.25, "a": 1.25}', "a"), ('{"a": 18446744073709551616, "a": 1.5}', "a"),
    ('{"a": "\\ud800", "a": 1.5}', "a"), ('{"a": 0.0000001, "a": 1.5}', "a"),
    # Spaces inside a string are as many bytes as a dropped pair: the written text is compared
    # without them too (once, they made up for the pair and the repeat was taken).
    *((f'{{"x":"{"a " * n}","a":1,"a":2}}', "a") for n in range(12)),
    *((f'{{"x":"{"a " * n}","a":1.5,"a":2}}', "a") for n in range(12)),
]


@pytest.mark.parametrize("text,key", DUPLICATES, ids=range(len(DUPLICATES)))
def test_a_repeated_key_is_refused_naming_it(text, key):
    assert agrees(text) == ("duplicate", key)
    with pytest.raises(DuplicateKey) as caught:
        loads_case(text)
    assert caught.value.key == key


UNIQUE = [
    '{"a": ":", "b": ": x", "c": "\\":", "d": " :"}',   # colons and quotes inside values
    '{"a": "x\\": 1, \\"a\\": 2"}',                     # a value that looks like keys
    '{":": 1, "::": {":": 2}}',                         # keys that are colons
    '{"a" : 1 , "b"\t:\t2}',                            # whitespace around colons
    '{"a": "12:30", "b": "http://x"}',                   # colons that follow no quote
    '{"a": 1, "A": 2, "\\u0062": 3}',                   # keys that differ, one escaped
    '{"é": 1, "e": 2, "😀": 3}',
    '{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 1}]}',  # the same key in different objects
    '{"a": 1.5, "b": {"c": 2.25}}',                     # decimals (the standard library)
    '{"a": -0, "b": "\\u00e9\\/", "c": "x y z"}',         # orjson writes these shorter
    '{"a": "\\n\\t\\u001f\\"", "b": "\\u000a"}',          # control characters, escaped
    '{"a": 1.50, "b": -0.0, "c": 0.0000001, "d": 1e-6, "e": 100E3, "f": NaN, "g": -Infinity}',
    '{"a": 1.5, "b": 18446744073709551616, "c": "\\ud800", "d": "1e5 x"}',
    '{"a": 1.5, "b": "x y", "c": "\\u00e9", "d": [{"e": 2.25}]}',
    '{"a": "\\u0000"}', '{"a": "\ud800"}', '{}', '[]', '"text"', '1', 'null',
    '{"a": ' + '[' * 150 + '{"b": 1}' + ']' * 150 + '}',
    '{"a": ' + '[' * 400 + ']' * 400 + '}',
    '[' * 2000 + ']' * 2000, '{"a": 1,}', '{"a" 1}', '',
]


@pytest.mark.parametrize("text", UNIQUE, ids=range(len(UNIQUE)))
def test_texts_without_a_repeated_key_parse_as_before(text):
    expected = agrees(text)
    if expected[0] == "value":
        assert outcome(loads_case, text) == outcome(loads_exact, text)


def test_households_are_taken_by_the_quick_check():
    """Households as ``json.dumps`` and orjson write them, compact or with spaces, with and
    without an escape: where loads_exact takes orjson's value, so does loads_case (the count
    cleared it: no second parse)."""
    import orjson
    quick = 0
    for case in households(30, seed=41):
        for text in (json.dumps(case, default=str), orjson.dumps(case, default=str).decode(),
                     json.dumps(case, default=str, ensure_ascii=True).replace("a", "\\u0061", 1)):
            assert type(loads_case(text)) is type(loads_exact(text)), text
            assert agrees(text)[0] == "value"
            quick += type(loads_case(text)) is ParsedJSON
    assert quick > 10          # households without a decimal (those go to the standard library)


def test_mutated_lines_agree_with_the_reference():
    lines = [json.dumps(case, default=str) for case in households(40, seed=43)]
    pieces = list('{}[]",:.eE0123456789 \t\n\r\\u') + [
        '"a": 1, "a": 2', '"id": "x", ', '"age": 3, ', ' : ', '":', '\\":', "é", "😀",
        "\\u0022", "\\u003a", "1.5", "\ud800"]
    rng = random.Random(7)
    seen = {"value": 0, "duplicate": 0, "error": 0}
    for _ in range(3000):
        text = rng.choice(lines)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            choice = rng.random()
            if choice < 0.5:
                text = text[:at] + rng.choice(pieces) + text[at:]
            elif choice < 0.7:
                text = text[:at] + text[at + rng.randint(1, 3):]
            else:
                text = text[:at] + rng.choice(pieces) + text[at + 1:]
        if rng.random() < 0.3 and "{" in text:        # an object's first pair, written twice
            at = rng.choice([i for i, char in enumerate(text) if char == "{"])
            end = text.find(", ", at)
            if end > 0:
                text = text[:at + 1] + text[at + 1:end + 2] + text[at + 1:]
        seen[agrees(text)[0]] += 1
    assert min(seen.values()) > 40, seen


def test_every_key_of_a_household_written_twice_is_found():
    """Each scalar pair of a household, written again right after itself (same object, every
    depth), is refused naming its key."""
    import re
    text = json.dumps(households(1, seed=44)[0], default=str)
    found = 0
    for match in re.finditer(r'"([^"]*)": ("[^"]*"|-?[0-9]+|true|false|null)(?=[,}])', text):
        doubled = text[:match.end()] + f', "{match[1]}": 0' + text[match.end():]
        assert agrees(doubled) == ("duplicate", match[1]), doubled
        found += 1
    assert found > 20


# -- generated texts --------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "id", ":", '"', "\\", " :", "é", "😀", "", "a:", 'b":'])
SPACE = st.sampled_from(["", " ", "\t", "\n", "\r\n", "  "])


def _string(draw, value):
    """A JSON string, written with a random choice of escapes."""
    if draw(st.booleans()):
        return json.dumps(value, ensure_ascii=draw(st.booleans()))
    out = []
    for char in value:
        if char in '"\\' or draw(st.integers(0, 4)) == 0:
            out.append("\\u%04x" % ord(char) if len(char.encode("utf-16-le")) == 2
                       else json.dumps(char, ensure_ascii=True)[1:-1])
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


@st.composite
def json_texts(draw, depth=0):
    kind = draw(st.integers(0, 5 if depth < 3 else 2))
    if kind == 0:
        return draw(st.sampled_from(["1", "-2", "1.5", "true", "null", "0", "-0", "1e-6", "1E5",
                                     "100e3", "-0.0", "0.0000001", "1.50", "NaN", "-Infinity",
                                     "18446744073709551616"]))
    if kind in (1, 2):
        return _string(draw, draw(st.one_of(KEYS, st.text(max_size=4))))
    if kind == 3:
        items = draw(st.lists(json_texts(depth + 1), max_size=3))
        return "[" + ",".join(draw(SPACE) + item for item in items) + "]"
    pairs = draw(st.lists(st.tuples(KEYS, json_texts(depth + 1)), max_size=4))
    return "{" + ",".join(draw(SPACE) + _string(draw, key) + draw(SPACE) + ":" + draw(SPACE)
                          + value for key, value in pairs) + draw(SPACE) + "}"


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=json_texts(), cut=st.integers(0, 200), piece=st.sampled_from(
    ["", '"a":1,', '"', ":", "\\", " ", ",", "}", '"a"', "1.5"]))
def test_generated_texts_agree_with_the_reference(text, cut, piece):
    agrees(text)
    at = cut % (len(text) + 1)
    agrees(text[:at] + piece + text[at:])


# -- through the reader of a batch line -------------------------------------------------------

def test_a_batch_line_is_refused_as_policy_eval_words_it():
    task = Task("cases.jsonl:7", "json", '{"case_id": "x", "people": [{"id": "a", "id": "b"}]}\n')
    with pytest.raises(InputError) as caught:
        case_data(task)
    problem = caught.value.problems[0]
    assert (problem.code, problem.file, problem.line, problem.field) == (
        "E101", "cases.jsonl", 7, "id")
    assert problem.message == ("The key 'id' appears twice in the same mapping (lines 7 and 7); "
                               "remove one of them.")
