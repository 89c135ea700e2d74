"""Parsing YAML with PyYAML for :mod:`engine.io.yaml_loader`: its constructors and checks.

Kept apart from :mod:`engine.io.yaml_loader` (and from :mod:`engine.io.documents`, whose
line-numbered containers every rulebook object uses) so that importing the engine does not import
PyYAML (~17 ms): a process served by the compiled rulebook bundle
(:mod:`engine.rulebook.bundle`), such as ``policy batch``, never parses YAML. Everything here is
reached through :func:`engine.io.yaml_loader.loads`, which says what the loader guarantees.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import InputError, codes
from .values import MAX_WHOLE_DIGITS, NotANumber, check_magnitude, why_not_a_date
from .documents import MAX_DEPTH, MAX_EXPANDED_NODES, MAX_NUMBER_TEXT, LineDict, LineList


def _shorten(text: str, keep: int = 40) -> str:
    """Quote at most ``keep`` characters of untrusted text in a message."""
    return text if len(text) <= keep else f"{text[:keep]}... ({len(text):,} characters)"


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


def parse(text: str, name: str) -> Any:
    """One YAML or JSON document read from text (its size checked by the caller,
    :func:`engine.io.yaml_loader.loads`). Raises :class:`InputError` on any problem."""
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
