"""Reading untrusted YAML (and JSON) safely, keeping line numbers.

Rulebooks and case files come from people and from other systems, so they are untrusted. This
loader:

* uses PyYAML's *safe* constructors only (no Python object tags);
* rejects duplicate keys, naming both lines (PyYAML silently keeps the last one);
* reads numbers with a fraction as :class:`decimal.Decimal`, never as binary floats;
* turns dates into ISO strings (``YYYY-MM-DD``) so that schemas and JSON output see one form;
* bounds the file size, the nesting depth and the size of the document *after* alias expansion,
  so that a "billion laughs" document is refused instead of exhausting memory;
* records the line of every mapping key and sequence item, so that later errors (schema
  violations, unknown names in expressions) can point at ``file:line``.

JSON is a subset of YAML as far as case files go, so the same loader reads ``.json`` files and
gives them the same line numbers and the same duplicate-key check.

The parsing itself (PyYAML's parser and this loader's constructors) is
:mod:`engine.io.yaml_parser`, imported by the first document read; the limits and the
line-numbered containers, which every rulebook object uses, are :mod:`engine.io.documents`'
(importable from here). A process served by the compiled rulebook bundle (``policy batch``)
reads no YAML, and so does not import PyYAML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError, codes

from .documents import (MAX_DEPTH, MAX_EXPANDED_NODES, MAX_FILE_BYTES, MAX_NUMBER_TEXT,
                        LineDict, LineList, line_at_path, line_of)

#: The limits and line-numbered containers are engine.io.documents'; importable from here too.
__all__ = ["MAX_DEPTH", "MAX_EXPANDED_NODES", "MAX_FILE_BYTES", "MAX_NUMBER_TEXT", "LineDict",
           "LineList", "line_at_path", "line_of", "load_file", "loads", "read_text"]


def loads(text: str, name: str = "<string>") -> Any:
    """Parse one YAML or JSON document from text. Raises :class:`InputError` on any problem."""
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise InputError(f"The file is larger than {MAX_FILE_BYTES:,} bytes; it is refused.",
                         code=codes.FILE_TOO_LARGE, file=name)
    # PyYAML is imported by the first document read: a run served by the compiled rulebook
    # bundle (engine.rulebook.bundle) reads none, and importing it cost ~17 ms of its start.
    from .yaml_parser import parse
    return parse(text, name)


def load_file(path: str | Path) -> Any:
    """Read and parse a YAML or JSON file. Raises :class:`InputError` naming the file."""
    return loads(read_text(path), str(path))


def read_text(path: str | Path, encoding: str = "utf-8-sig") -> str:
    """A rulebook or case file's text, at most :data:`MAX_FILE_BYTES`. Raises
    :class:`InputError` naming the file when it cannot be read, is too large or is not UTF-8.
    ``utf-8-sig`` drops a byte order mark; the formatter reads with ``utf-8`` to keep it, so that
    it can see the mark and remove it."""
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"The file cannot be read: {exc.strerror or exc}.",
                         code=codes.UNREADABLE_FILE,
                         file=name) from None
    if size > MAX_FILE_BYTES:
        raise InputError(f"The file is larger than {MAX_FILE_BYTES:,} bytes; it is refused.",
                         code=codes.FILE_TOO_LARGE, file=name)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"The file cannot be read: {exc.strerror or exc}.",
                         code=codes.UNREADABLE_FILE,
                         file=name) from None
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(f"The file is not UTF-8 text (byte {exc.start} is not valid).",
                         code=codes.NOT_UTF8, file=name) from None
