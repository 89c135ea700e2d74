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
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import InputError, codes
from .values import MAX_WHOLE_DIGITS, NotANumber, check_magnitude, why_not_a_date

#: Largest file read, in bytes.
MAX_FILE_BYTES = 5_000_000
#: Largest number of nodes a document may expand to (aliases counted each time they are used).
MAX_EXPANDED_NODES = 1_000_000
#: Deepest nesting of mappings and sequences.
MAX_DEPTH = 64
#: Longest number text read before its value is checked (see numbers.check_magnitude).
MAX_NUMBER_TEXT = 50


def _shorten(text: str, keep: int = 40) -> str:
    """Quote at most ``keep`` characters of untrusted text in a message."""
    return text if len(text) <= keep else f"{text[:keep]}... ({len(text):,} characters)"


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


class _LineConstructor(yaml.constructor.SafeConstructor):
    """Safe constructors plus duplicate-key rejection, decimal floats, ISO dates and lines."""

    name: str                      # the file being read, for messages (set by the loader)

    # -- structure checks -------------------------------------------------------------------
    def check_limits(self, node: Node) -> None:
        """Refuse documents that would expand beyond the limits (aliases count every use).

        For each node, its expanded size and its height are computed once (aliases share the
        node they point to), so the check is linear in the document as written, while the
        limits apply to the document as it would be expanded.
        """
        measured: dict[int, tuple[int, int]] = {}

        def measure(n: Node, depth: int) -> tuple[int, int]:
            if depth > MAX_DEPTH:
                raise InputError(f"The document nests deeper than {MAX_DEPTH} levels.",
                                 code=codes.TOO_DEEP, file=self.name, line=n.start_mark.line + 1)
            known = measured.get(id(n))
            if known is None:
                if isinstance(n, ScalarNode):
                    known = (1, 0)
                else:
                    children = n.value if isinstance(n, SequenceNode) else \
                        [c for pair in n.value for c in pair]
                    size, height = 1, 0
                    for child in children:
                        child_size, child_height = measure(child, depth + 1)
                        size += child_size
                        height = max(height, child_height + 1)
                        if size > MAX_EXPANDED_NODES:
                            raise InputError(
                                f"The document expands to more than {MAX_EXPANDED_NODES:,} values "
                                "(anchors and aliases count each time they are used); it is refused.",
                                code=codes.TOO_LARGE, file=self.name, line=n.start_mark.line + 1)
                    known = (size, height)
                measured[id(n)] = known
            if depth + known[1] > MAX_DEPTH:
                raise InputError(f"The document nests deeper than {MAX_DEPTH} levels (counting "
                                 "what its aliases expand to).",
                                 code=codes.TOO_DEEP, file=self.name,
                                 line=n.start_mark.line + 1)
            return known

        measure(node, 0)

    # -- constructors -----------------------------------------------------------------------
    def construct_mapping(self, node: Node, deep: bool = False) -> Any:
        if not isinstance(node, MappingNode):
            return super().construct_mapping(node, deep)  # type: ignore[arg-type]  # it refuses it
        explicit = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        self.flatten_mapping(node)
        mapping = LineDict()
        mapping.line = node.start_mark.line + 1
        merged_keys: set[Any] = set()
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                raise InputError("A mapping key must be a plain value, not a list or a mapping.",
                                 code=codes.YAML_FEATURE,
                                 file=self.name, line=key_node.start_mark.line + 1)
            line = key_node.start_mark.line + 1
            if key in merged_keys and id(key_node) in explicit:
                merged_keys.discard(key)          # an explicit key overrides a `<<:` merge
            elif key in mapping:
                raise InputError(
                    f"The key '{key}' appears twice in the same mapping (lines "
                    f"{mapping.key_lines[key]} and {line}); remove one of them.",
                    code=codes.DUPLICATE_KEY, file=self.name, line=line, field=str(key))
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.key_lines[key] = line
            if id(key_node) not in explicit:
                merged_keys.add(key)
        return mapping

    def construct_sequence(self, node: SequenceNode, deep: bool = False) -> LineList:
        seq = LineList(self.construct_object(child, deep=True) for child in node.value)
        seq.line = node.start_mark.line + 1
        seq.item_lines = [child.start_mark.line + 1 for child in node.value]
        return seq

    def construct_decimal(self, node: ScalarNode) -> Decimal:
        text = self.construct_scalar(node).replace("_", "")
        lowered = text.lower()
        if lowered in (".nan", ".inf", "-.inf", "+.inf"):
            raise InputError(f"The number '{_shorten(text)}' is not a finite decimal.", code=codes.NOT_A_NUMBER,
                             file=self.name, line=node.start_mark.line + 1)
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise InputError(f"'{_shorten(text)}' is not a number.", code=codes.NOT_A_NUMBER, file=self.name,
                             line=node.start_mark.line + 1) from None
        if not value.is_finite():          # !!float 'NaN', !!float Infinity
            raise InputError(f"The number '{_shorten(text)}' is not a finite decimal.",
                             code=codes.NOT_A_NUMBER, file=self.name, line=node.start_mark.line + 1)
        self.check_number(value, text, node)
        return value

    def construct_int(self, node: ScalarNode) -> int:
        text = str(node.value)
        # Python refuses to read integers of more than 4,300 digits, and a YAML 1.1 base-60
        # integer (1:30:00) is computed digit by digit: refuse long ones before reading them.
        if len(text.replace("_", "").lstrip("+-")) > MAX_NUMBER_TEXT:
            raise InputError(f"The number '{_shorten(text)}' cannot be read: the number is too "
                             f"large: at most {MAX_WHOLE_DIGITS} digits before the decimal point "
                             "are allowed.", code=codes.NOT_A_NUMBER,
                             file=self.name, line=node.start_mark.line + 1)
        try:
            value = yaml.constructor.SafeConstructor.construct_yaml_int(self, node)
        except ValueError:
            raise InputError(f"'{_shorten(text)}' is not a number.", code=codes.NOT_A_NUMBER, file=self.name,
                             line=node.start_mark.line + 1) from None
        self.check_number(value, text, node)
        return value

    def check_number(self, value: object, text: str, node: Node) -> None:
        try:
            check_magnitude(value)
        except NotANumber as exc:
            raise InputError(f"The number '{_shorten(text)}' cannot be read: {exc}.", code=codes.NOT_A_NUMBER,
                             file=self.name, line=node.start_mark.line + 1) from None

    def construct_iso_date(self, node: ScalarNode) -> str:
        try:
            value = yaml.constructor.SafeConstructor.construct_yaml_timestamp(self, node)
        except ValueError as exc:
            reason = why_not_a_date(str(node.value))
            if not reason.startswith("a real date"):
                reason = f"a real date: {exc}"
            raise InputError(f"'{_shorten(str(node.value))}' is not {reason}.", code=codes.BAD_DATE,
                             file=self.name, line=node.start_mark.line + 1) from None
        if isinstance(value, _dt.datetime):
            return value.isoformat()
        return value.isoformat()


# (The stubs expect add_constructor on a loader class; this constructor is mixed into one below.)
for _tag, _construct in (("map", _LineConstructor.construct_mapping),
                         ("seq", _LineConstructor.construct_sequence),
                         ("float", _LineConstructor.construct_decimal),
                         ("int", _LineConstructor.construct_int),
                         ("timestamp", _LineConstructor.construct_iso_date)):
    _LineConstructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct)  # type: ignore[type-var]
def _refuse(self: _LineConstructor, node: Node) -> NoReturn:
    raise InputError(f"The YAML type {node.tag} is not allowed in rulebooks or cases; use a "
                     "plain mapping or list.", code=codes.YAML_FEATURE, file=self.name,
                     line=node.start_mark.line + 1)


# Refuse the YAML 1.1 types that build Python sets and ordered pairs: nothing uses them.
for _tag in ("set", "omap", "pairs", "binary"):
    _LineConstructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse)  # type: ignore[type-var]

# libyaml's C parser composes the node tree several times faster than the pure-Python one;
# construction (where every check above happens) is ours either way.
try:
    from yaml.cyaml import CParser as _CParser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None  # type: ignore[misc, assignment]

if _CParser is not None:
    class _SafeLineLoader(_CParser, _LineConstructor, yaml.resolver.Resolver):
        def __init__(self, stream: str | bytes, name: str) -> None:
            _CParser.__init__(self, stream)
            _LineConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self.name = name
else:  # pragma: no cover - PyYAML built without libyaml
    class _SafeLineLoader(yaml.reader.Reader, yaml.scanner.Scanner,  # type: ignore[no-redef]
                          yaml.parser.Parser, yaml.composer.Composer, _LineConstructor,
                          yaml.resolver.Resolver):
        def __init__(self, stream: str | bytes, name: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _LineConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self.name = name


def loads(text: str, name: str = "<string>") -> Any:
    """Parse one YAML or JSON document from text. Raises :class:`InputError` on any problem."""
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise InputError(f"The file is larger than {MAX_FILE_BYTES:,} bytes; it is refused.",
                         code=codes.FILE_TOO_LARGE, file=name)
    loader = _SafeLineLoader(text, name)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        loader.check_limits(node)
        return loader.construct_document(node)
    except InputError:
        raise
    except yaml.MarkedYAMLError as exc:
        # libyaml may refuse deep nesting with a limit of its own (PyYAML 6.0.4's wheels do)
        # before our check_limits sees the tree. Whatever the library's limit, a document
        # that nests beyond ours is reported as ours (E103): measured on the event stream of the
        # pure-Python parser, which has no limit and no recursion. Only error paths pay for it.
        _check_event_depth(text, name)
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or "unreadable YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise InputError(f"The file is not valid YAML or JSON: {what}{context}.",
                         code=codes.UNREADABLE_YAML, file=name, line=line) from None
    except yaml.constructor.ConstructorError as exc:  # pragma: no cover - MarkedYAMLError above
        raise InputError(f"The file uses a YAML feature that is not allowed: {exc}.",
                         code=codes.YAML_FEATURE, file=name) from None
    except yaml.YAMLError as exc:
        raise InputError(f"The file is not valid YAML or JSON: {exc}.", code=codes.UNREADABLE_YAML,
                         file=name) from None
    except RecursionError:
        raise InputError("The document nests too deeply to read.",
                         code=codes.TOO_DEEP, file=name) from None
    finally:
        dispose = getattr(loader, "dispose", None)
        if dispose is not None:
            dispose()


def _check_event_depth(text: str, name: str) -> None:
    """Raise E103 if the document's collections nest deeper than :data:`MAX_DEPTH`.

    Reads events one at a time, so the work is linear and stops at the first level too deep, or
    at the first syntax error (left to the caller to report)."""
    parser = yaml.SafeLoader(text)
    depth = 0
    try:
        while True:
            event = parser.get_event()  # type: ignore[no-untyped-call]
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH + 1:
                    raise InputError(f"The document nests deeper than {MAX_DEPTH} levels.",
                                     code=codes.TOO_DEEP, file=name,
                                     line=event.start_mark.line + 1 if event.start_mark else None)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return
    finally:
        parser.dispose()


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
