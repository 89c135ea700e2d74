"""Case data as the case schema expects it, copied in one pass, and whether it is plain JSON.

A case reaches the engine parsed from JSON or YAML (mappings that know their lines), or as a
mapping an embedding program built. :func:`normalise_case` copies it, so that the engine's case
cannot change under it, and writes dates as ISO strings and floats as decimals. The same pass
notes whether the copy holds only plain JSON values, the only data the compiled validator
(:func:`engine.io.schemas.is_valid_fast`) is asked about; anything else is left to jsonschema.

It runs once per case, millions of times in a batch run, so it looks at each value's exact type
once and calls itself only for mappings and lists, not for every value.

A batch reads each case from one line of JSON text. :func:`loads_exact` parses a line to the
same value ``json.loads(text, parse_float=Decimal)`` gives, with orjson (about three times
quicker) where that is provably the same, and marks an object parsed so as a
:class:`ParsedJSON`: plain JSON that nobody else holds yet, which :func:`normalise_case` then
takes as it is instead of copying it value by value. Cases are untrusted, and a key written
twice must not silently keep one of its values: :func:`loads_case` (what a batch calls) proves
cheaply that no key was repeated, or raises :class:`DuplicateKey` naming it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import orjson

from .yaml_loader import LineDict, LineList

#: Types copied as they are, and plain JSON to both validators.
_PLAIN_SCALARS = frozenset({str, int, bool, type(None)})


def is_plain(value: Any) -> bool:
    """Whether ``value`` is plain JSON as :func:`normalise_case` means it (without copying)."""
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return True
    if isinstance(value, dict):
        return all(type(key) is str and is_plain(item) for key, item in value.items())
    if isinstance(value, list):
        return all(is_plain(item) for item in value)
    return type(value) is Decimal and _plain_decimal(value)


def _plain_decimal(value: Decimal) -> bool:
    return value.is_finite() and value != value.to_integral_value()


class ParsedJSON(dict[str, Any]):
    """An object :func:`loads_exact` parsed from JSON text: plain JSON (text keys, text, whole
    numbers within 64 bits, true/false, null, lists and objects of them; no number with a
    fraction or an exponent), built fresh and shared with no one. The first
    :func:`normalise_case` of it takes its values as they are (``fresh`` is then False, and a
    second one copies, as for any mapping)."""

    __slots__ = ("fresh",)
    fresh: bool


#: The float-free check of :func:`loads_exact` reads the text's bytes with every digit as
#: ``0``, ``e`` and ``E`` as ``.``, and ``{`` as ``[``: then ``0.`` marks a number with a
#: fraction or an exponent, 19 zeros a number that may not fit 64 bits, and ``[`` counts the
#: openings (one translation and three quick searches; the text itself is not changed).
_MARKS = bytes.maketrans(b"123456789eE{", b"000000000..[")

#: Deepest nesting (counted loosely: every ``[`` and ``{`` of the text) parsed by orjson; the
#: standard library's parser and the normaliser recurse, and a deeper text is left to them so
#: that it fails (or not) exactly as it always did.
_MOST_OPENINGS = 200


def _as_orjson_reads(marks: bytes) -> bool:
    """Whether orjson's value of a text is the standard library's, given the text's marks
    (``_MARKS``: every digit ``0``): no fraction, no exponent, no run of 19 digits, few
    brackets. Marks with whitespace deleted (inside strings too) can only say no more often."""
    return (b"0." not in marks and b"0000000000000000000" not in marks
            and marks.count(b"[") <= _MOST_OPENINGS)


def _fresh(value: Any) -> Any:
    """A mapping orjson just parsed, as a fresh :class:`ParsedJSON` (taken without a copy by
    the first :func:`normalise_case`); any other value as it is."""
    if value.__class__ is dict:
        parsed = ParsedJSON(value)
        parsed.fresh = True
        return parsed
    return value


def loads_exact(text: Any) -> Any:
    """``json.loads(text, parse_float=Decimal)``: the same value or the same exception.

    orjson parses the text when the result is certain to equal the standard library's: the text
    is a ``str`` with no number orjson would read as a float (a digit followed by ``.``, ``e`` or
    ``E`` marks a fraction or an exponent; 19 digits in a row may be a whole number past 64
    bits, which orjson reads as a float), few brackets, and orjson accepts it. Anything else (a
    decimal, a lone surrogate orjson refuses, ``NaN``, a syntax error) is parsed by the
    standard library, which gives the value or words the error as before. Duplicate keys keep
    the last value at the first key's place in both (a test compares the two parsers); case
    data is read with :func:`loads_case`, which refuses them."""
    if text.__class__ is str:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
        else:
            if _as_orjson_reads(text.encode("utf-8").translate(_MARKS)):
                return _fresh(value)
    return json.loads(text, parse_float=Decimal)


class DuplicateKey(ValueError):
    """A JSON object of case data names the same key twice (:func:`loads_case` found it).

    Cases are untrusted input: JSON parsers keep the last value of a repeated key, so a line
    that says ``"income": 0`` and then ``"income": 900`` would be evaluated on one of them
    without a word. The reader that knows the file and the line words the error."""

    def __init__(self, key: str) -> None:
        super().__init__(f"The key {key!r} appears twice in the same object.")
        self.key = key


#: The end of a key: its closing quote, JSON whitespace, the colon. Matched on the text's
#: bytes only when a colon is not right after a quote (see :func:`_key_ends`).
_KEY_END = re.compile(rb'"[ \t\n\r]*:')


def loads_case(text: Any) -> Any:
    """:func:`loads_exact`, refusing a key repeated in any object of the text (at any depth).

    Raises :class:`DuplicateKey` naming the key, or what ``json.loads`` raises. A repeated key
    leaves the parsed value with fewer pairs than the text; the check proves it did not, or
    (rarely, and always for a text that does repeat a key) has the standard library parse the
    text again with a hook that finds the key and names it:

    * a text orjson parsed (the float-free texts of :func:`loads_exact`): orjson writes the
      value back, compactly, and its length is compared with the text's without JSON
      whitespace (deleted in the same pass that marks the numbers). The written text is never
      longer: each string it writes is at most as long as the text's (orjson escapes only the
      quote, the backslash and control characters, in their shortest forms; the spaces a
      string holds are deleted from both texts, the written one too, else they would make up
      for a dropped pair), each whole number too (``-0`` is written ``0``), and a pair
      the parser dropped for a repeated key takes at least five bytes (``"":0,``) with it.
      Equal lengths therefore mean no pair was dropped. About 1.5 us for 700 bytes.
    * a text with decimals, read by the standard library: the same, orjson writing each decimal
      as its own text (:func:`_written_alike`).
    * otherwise (an escape orjson writes shorter, such as ``\\u00e9`` from ``ensure_ascii``,
      or a number with an exponent): the text's key ends (a quote, JSON whitespace,
      a colon) are counted, at least one for every key of the text whatever it holds (a string
      can only add some), against the keys of the value's mappings, walked once (~3 us).

    Tests compare it with ``json.loads`` and a hook that refuses repeated keys, on crafted,
    mutated and generated texts (tests/io/test_case_duplicates.py)."""
    if text.__class__ is str:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
        else:
            data = text.encode("utf-8")
            marks = data.translate(_MARKS, _JSON_SPACE)
            if _as_orjson_reads(marks):
                if (len(orjson.dumps(value).translate(None, _JSON_SPACE)) == len(marks)
                        or _keys(value) == _key_ends(data)):
                    return _fresh(value)
                return _loads_refusing(text)
        try:
            value = json.loads(text, parse_float=Decimal)
        except (ValueError, RecursionError):
            pass        # parsed again below: a repeated key before the error is named first
        else:
            data = text.encode("utf-8", "surrogatepass")
            if _written_alike(value, data) or _keys(value) == _key_ends(data):
                return value
    return _loads_refusing(text)


def _written_alike(value: Any, data: bytes) -> bool:
    """Whether orjson writes the standard library's value of ``data`` (decimals as their own
    text) exactly as long as ``data`` without JSON whitespace: the length proof of
    :func:`loads_case` for a text with decimals. It needs every value written at most as long
    as the text wrote it: a decimal written without an exponent keeps its text or, below
    10**-6, is written shorter (``0.0000001`` as ``1E-7``); one written with an exponent may
    come out longer (``1e-6`` as ``0.000001``), and ``NaN`` comes out as ``null``: texts that
    may hold either are left to the count. A value orjson cannot write (a whole number past 64
    bits, a lone surrogate) too."""
    marks = data.translate(_EXPONENT_MARKS, _JSON_SPACE)
    if b"0e" in marks or b"NaN" in marks:
        return False
    try:
        return len(orjson.dumps(value, default=_decimal_text).translate(None, _JSON_SPACE)) \
            == len(marks)
    except orjson.JSONEncodeError:
        return False


#: Every digit read as ``0`` and ``E`` as ``e``: ``0e`` then marks a number with an exponent.
_EXPONENT_MARKS = bytes.maketrans(b"123456789E", b"000000000e")


def _decimal_text(value: Any) -> Any:
    if value.__class__ is Decimal:
        return orjson.Fragment(str(value))
    raise TypeError


#: JSON's whitespace, deleted from the text before its length is compared with orjson's.
_JSON_SPACE = b" \t\n\r"


def _key_ends(data: bytes) -> int:
    """How many times a quote, JSON whitespace and a colon follow each other in ``data``: at
    least once for every key of the JSON text. When every colon directly follows a quote (the
    usual case: ``"key": value`` with no colon inside a value), that is the count of ``":``,
    two quick counts instead of a regular expression."""
    quoted = data.count(b'":')
    if quoted == data.count(b":"):
        return quoted
    return len(_KEY_END.findall(data))


def _keys(value: Any) -> int:
    """The keys of every mapping in a parsed JSON value (a loop, not recursion: the value may
    nest as deeply as the standard library's parser allows)."""
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if item.__class__ is dict:
            count += len(item)
            item = item.values()
        elif item.__class__ is not list:
            continue
        for inner in item:
            kind = inner.__class__
            if kind is dict or kind is list:
                stack.append(inner)
    return count


def _loads_refusing(text: Any) -> Any:
    """``json.loads(text, parse_float=Decimal)``, raising :class:`DuplicateKey` for the first
    object (in the order the parser closes them) that repeats a key."""
    return json.loads(text, parse_float=Decimal, object_pairs_hook=_unique_pairs)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in pairs:
        if key in out:
            raise DuplicateKey(key)
        out[key] = item
    return out


def normalise_case(value: Any) -> tuple[Any, bool]:
    """A copy of case data with ISO date strings and JSON floats read as decimals, and whether
    the copy is plain JSON.

    A float here can only come from an embedding program's own JSON parsing; its shortest repr
    is the decimal the sender wrote (``1993.18``), which is what we keep. Plain JSON means:
    mappings with text keys, lists, text, whole numbers, true/false, null, and decimals that are
    finite and not whole (jsonschema_rs counts ``Decimal("3")`` as an integer, jsonschema does
    not; those are left to jsonschema). Mappings and lists keep their type: a ``LineDict`` or
    ``LineList`` stays one, with its lines; any other mapping becomes a dict, any other list or
    a tuple a list. A fresh :class:`ParsedJSON` is plain JSON already: its values are taken as
    they are, in a dict of its own."""
    if value.__class__ is ParsedJSON and value.fresh:
        value.fresh = False
        return dict(value), True
    walker = _Walker()
    return walker.copy(value), walker.plain


class _Walker:
    __slots__ = ("plain",)

    def __init__(self) -> None:
        self.plain = True

    def copy(self, value: Any) -> Any:
        kind = type(value)
        if kind in _PLAIN_SCALARS:
            return value
        if kind is dict or kind is LineDict:
            out = self.mapping(value)
            if kind is LineDict:
                out = LineDict(out)
                out.line, out.key_lines = value.line, value.key_lines
            return out
        if kind is list or kind is LineList:
            items = self.items(value)
            if kind is LineList:
                items = LineList(items)
                items.line, items.item_lines = value.line, value.item_lines
            return items
        return self.other(value)

    def mapping(self, value: dict[Any, Any]) -> dict[Any, Any]:
        out = {}
        scalars = _PLAIN_SCALARS
        for key, item in value.items():
            if type(key) is not str:
                self.plain = False
            out[key] = item if type(item) in scalars else self.copy(item)
        return out

    def items(self, value: list[Any] | tuple[Any, ...]) -> list[Any]:
        scalars = _PLAIN_SCALARS
        return [item if type(item) in scalars else self.copy(item) for item in value]

    def other(self, value: Any) -> Any:
        """Every value that is not exactly a dict, list or plain scalar (the rare ones)."""
        if isinstance(value, LineDict):
            out = LineDict(self.mapping(value))
            out.line, out.key_lines = value.line, value.key_lines
            return out
        if isinstance(value, dict):
            return self.mapping(value)
        if isinstance(value, LineList):
            items = LineList(self.items(value))
            items.line, items.item_lines = value.line, value.item_lines
            return items
        if isinstance(value, (list, tuple)):
            return self.items(value)
        if isinstance(value, float):
            value = Decimal(repr(value))
        if isinstance(value, Decimal):
            if type(value) is not Decimal or not _plain_decimal(value):
                self.plain = False
            return value
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        self.plain = False         # a subclass of str or int, or no JSON value at all
        return value
