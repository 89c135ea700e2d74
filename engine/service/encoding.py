"""Response bodies as JSON bytes: orjson, with the standard library as the fallback.

The service writes the documents the ``policy`` commands print (``policy eval --format json``
and the others), which hold only JSON's own types: the engine has already turned decimals into
exact strings and dates into ISO strings. orjson writes them several times faster than
``json.dumps`` (an evaluation's document is tens of kilobytes), keeps the keys in their order
and writes UTF-8 as it is, so the content is the same as the command's.

What orjson refuses, the standard library writes: an integer wider than 64 bits, a key that is
not text, and a text with a lone surrogate (a JSON escape such as ``"\\ud800"`` in a request's
``case_id`` comes back in the answer), which is then written as an escape so that the body stays
valid UTF-8.
"""

from __future__ import annotations

import json

import orjson


def dumps(data) -> bytes:
    """``data`` as compact JSON, UTF-8."""
    try:
        return orjson.dumps(data)
    except TypeError:                   # orjson.JSONEncodeError is one
        text = json.dumps(data, ensure_ascii=False)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:          # a lone surrogate: escape every non-ASCII character
            return json.dumps(data).encode("ascii")
