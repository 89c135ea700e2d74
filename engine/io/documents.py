"""A document read from untrusted text: its limits, and containers that remember lines.

Shared by :mod:`engine.io.yaml_loader`, which reads files and text, and
:mod:`engine.io.yaml_parser`, which parses them with PyYAML; kept apart from both so that the
line-numbered containers every rulebook object uses (:func:`line_of`) are importable without
PyYAML, and the parser imports what it builds without importing its caller. The loader's
module docstring says what the limits guard against.
"""

from __future__ import annotations

from typing import Any

#: Largest file read, in bytes.
MAX_FILE_BYTES = 5_000_000
#: Largest number of nodes a document may expand to (aliases counted each time they are used).
MAX_EXPANDED_NODES = 1_000_000
#: Deepest nesting of mappings and sequences.
MAX_DEPTH = 64
#: Longest number text read before its value is checked (see numbers.check_magnitude).
MAX_NUMBER_TEXT = 50


class LineDict(dict[Any, Any]):
    """A dict that remembers the line (1-based) of itself and of each key."""

    __slots__ = ("line", "key_lines")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line: int | None = None
        self.key_lines: dict[Any, int] = {}


class LineList(list[Any]):
    """A list that remembers the line of itself and of each item."""

    __slots__ = ("line", "item_lines")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line: int | None = None
        self.item_lines: list[int] = []


def line_of(container: Any, key: Any = None) -> int | None:
    """The line of ``container[key]`` (or of the container itself) when it is known."""
    if key is None:
        return getattr(container, "line", None)
    if isinstance(container, LineDict):
        return container.key_lines.get(key, container.line)
    if isinstance(container, LineList) and isinstance(key, int) and 0 <= key < len(container.item_lines):
        return container.item_lines[key]
    return getattr(container, "line", None)


def line_at_path(root: Any, path: list[Any] | tuple[Any, ...]) -> int | None:
    """The line of the deepest element of ``path`` (a JSON-pointer-like list) that exists."""
    node, best = root, line_of(root)
    for part in path:
        line = line_of(node, part)
        if line is not None:
            best = line
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return best
