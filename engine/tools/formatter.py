"""The rulebook formatter behind ``policy fmt``: one layout for every rulebook, comments kept.

Analysts edit rulebooks by hand, several at a time, so a rulebook's layout should carry no
information and cause no merge noise. The formatter rewrites a file into one canonical layout
while keeping everything a reader put there: comments, the order of keys, flow or block style,
block scalars as written. It is deliberately conservative: a file that is already tidy comes back
unchanged, and what it does change is listed here.

* **Indentation**: two spaces per mapping level; list items indented two spaces under their key
  (``- `` then the item), as everywhere in ``policy/``.
* **No value** is written ``null`` (not ``~``, ``Null`` or nothing at all).
* **Quoting**: a quoted string that is a plain word (``"first"``) loses its quotes, unless YAML
  would read the bare word as something else (``"true"``, ``"null"``, ``"yes"``); a single-quoted
  string becomes double-quoted unless it holds a double quote or a backslash (so
  ``'"SMHB"'`` stays, and ``'Mr. Jones'' income'`` becomes ``"Mr. Jones' income"``).
* **Blank lines and spaces**: no trailing spaces, no runs of blank lines, no blank lines at the
  start, exactly one newline at the end, one blank line before every top-level section that spans
  several lines (the header ``rulebook``/``version``/``title``/``description`` stays together),
  and each comment line indented like the line below it. The lines of a block scalar are its
  text and are never touched.
* **Top-level order**: the sections are put in :data:`SECTION_ORDER` (the header first, then the
  literate fields, then the definitions). A comment directly above a section (no blank line
  between) moves with it; the comment block at the top of the file stays at the top.
* **Long expressions**: a one-line expression (``formula``, ``when``, ``then``, ``otherwise``,
  ``of``, ``where``, ``output_when``) that would run past :data:`WIDTH` columns becomes a folded
  block scalar (``>-``) broken at spaces outside string literals, preferably before ``and``,
  ``or``, ``if`` and ``else``. Folding at a single space gives back exactly the same text, so the
  expression is unchanged. Block scalars already in the file are left as their author laid them
  out.

Every change is checked: the formatted text must load (with the engine's own strict loader) to
exactly the data the original loads to, or the formatter refuses rather than write.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.compat import ordereddict
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from ..errors import InputError, codes
from ..io.yaml_loader import loads, read_text

#: The column a wrapped expression stays within (indentation included), where it can.
WIDTH = 100

#: The canonical order of a rulebook's top-level sections. Unknown sections (the schema refuses
#: them anyway) keep their relative order after these.
SECTION_ORDER = (
    "rulebook", "version", "title", "description", "not_modelled", "assumptions", "uses",
    "sources", "entities", "calendars", "counting", "parameters", "functions", "deadlines",
    "changes", "notices", "rules", "tables",
)

#: Keys whose string values are expressions, wrapped when they are too long.
EXPRESSION_KEYS = frozenset({"formula", "when", "then", "otherwise", "of", "where", "output_when"})

#: Words that YAML (1.1 or 1.2) reads as something other than a string when written bare.
_RESERVED_WORDS = frozenset({
    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "none", "~",
})
_PLAIN_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: How far past :data:`WIDTH` a last short piece of an expression may run rather than be broken
#: off on a line of its own.
_SLACK = 12
#: Words before which a long expression is preferably broken.
_BREAK_BEFORE = ("and ", "or ", "if ", "else ")
#: The header sections, kept together without blank lines between them unless the file has one.
_HEADER_KEYS = frozenset({"rulebook", "version", "title", "description"})
_TOP_LEVEL_KEY = re.compile(r"""^(?:[A-Za-z_][\w-]*|"[^"]*"|'[^']*')\s*:(?:\s|$)""")


@dataclass(frozen=True)
class Formatted:
    """The result of formatting one text: the new text and whether it differs."""

    original: str
    text: str

    @property
    def changed(self) -> bool:
        return self.original != self.text


def _yaml() -> YAML:
    """A round-trip ruamel.yaml instance set up for the rulebooks' layout."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096                 # never re-flow lines; only expressions are wrapped, by us
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.brace_single_entry_mapping_in_flow_sequence = True   # [{ref: a}], not [ref: a]
    # No value is written `null` (ruamel would leave it empty, `then:`), however it was written.
    yaml.representer.add_representer(type(None), _represent_null)
    return yaml


def _represent_null(representer, _value):
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def format_text(text: str, name: str = "<string>") -> Formatted:
    """Format one rulebook's text. Raises :class:`InputError` (with the line) for invalid YAML."""
    before = loads(text, name)                    # the engine's strict reading: file:line errors
    if text.strip() == "" or before is None:
        return Formatted(text, text)
    yaml = _yaml()
    try:
        tree = yaml.load(text)
    except YAMLError as exc:            # pragma: no cover - the strict loader refuses first
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"The file is not valid YAML: {getattr(exc, 'problem', exc)}.",
                         code=codes.UNREADABLE_YAML, file=name, line=mark.line + 1 if mark else None) from None
    _normalise(tree, indent=0)
    out = io.StringIO()
    yaml.dump(tree, out)
    result = _tidy_lines(out.getvalue())
    if isinstance(tree, CommentedMap):
        result = _order_sections(result)
    after = loads(result, name)
    if after != before:
        raise InputError("Formatting would change what the file means; it is left as it is. "
                         "Please report this file: it shows a defect in the formatter.",
                         code=codes.FORMAT_UNSAFE, file=name)
    return Formatted(text, result)


# ---------------------------------------------------------------------------- tree rewrites
def _normalise(node: Any, indent: int, flow: bool = False) -> None:
    """Rewrite scalars in place: quoting everywhere, wrapping of long expressions.

    ``indent`` is the column of the node's keys (or dashes); ``flow`` says the node is inside a
    flow collection (``{...}`` or ``[...]``), where a block scalar cannot stand.
    """
    flow = flow or bool(getattr(node, "fa", None) and node.fa.flow_style())
    if isinstance(node, CommentedMap):
        for key in list(node.keys()):
            value = node[key]
            if isinstance(value, (CommentedMap, CommentedSeq)):
                _normalise(value, indent + 2, flow)
            elif isinstance(value, str):
                # ruamel's own __setitem__ would keep the old quoting style; set it as given.
                ordereddict.__setitem__(node, key, _scalar(value, key, indent, flow))
    elif isinstance(node, CommentedSeq):
        for index, value in enumerate(node):
            if isinstance(value, (CommentedMap, CommentedSeq)):
                _normalise(value, indent + 4, flow)
            elif isinstance(value, str):
                list.__setitem__(node, index, _scalar(value, None, indent + 2, flow))


def _scalar(value: str, key: Any, indent: int, flow: bool) -> str:
    """One string value, requoted or wrapped."""
    if isinstance(value, (LiteralScalarString, FoldedScalarString)):
        return value
    if key in EXPRESSION_KEYS and not flow:
        wrapped = _wrap(value, key, indent)
        if wrapped is not None:
            return wrapped
    if isinstance(value, (SingleQuotedScalarString, DoubleQuotedScalarString)):
        if _PLAIN_WORD.fullmatch(value) and value.lower() not in _RESERVED_WORDS:
            return value[:]          # a plain ``str`` (``str()`` keeps the quoted subclass)
        if isinstance(value, SingleQuotedScalarString) and '"' not in value and "\\" not in value \
                and value.isprintable():
            return DoubleQuotedScalarString(value)
    return value


def _wrap(value: str, key: str, indent: int) -> FoldedScalarString | None:
    """``value`` as a folded block scalar within :data:`WIDTH`, or None when it fits or cannot.

    ``key: value`` starts at column ``indent``; the folded lines are indented two more. Each line
    is broken at the last good place that fits: before ``and``/``or``/``if``/``else`` outside
    brackets, else before one of them inside brackets, else at a space outside brackets, else at
    any space outside string literals. A last piece of at most :data:`_SLACK` characters is not
    broken off.
    """
    if indent + len(str(key)) + 2 + len(value) <= WIDTH:
        return None
    if "\n" in value or "\t" in value or value != value.strip() or "  " in value:
        return None                               # folding would not give back the same text
    points = _break_points(value)
    room = WIDTH - (indent + 2)
    folds: list[int] = []
    start = 0
    while len(value) - start > room + _SLACK:
        fitting = [(p, depth) for p, depth in points if start < p <= start + room]
        if not fitting:
            later = [p for p, _ in points if p > start]
            if not later:
                break
            cut = later[0]
        else:
            def keyword(p: int) -> bool:
                return value.startswith(_BREAK_BEFORE, p + 1)
            top = min(depth for _, depth in fitting)
            tiers = ([p for p, d in fitting if d == top and _keyword_at(value, p)],
                     [p for p, _ in fitting if _keyword_at(value, p)],
                     [p for p, d in fitting if d == top])
            long_enough = [[p for p in tier if p - start >= room // 3] for tier in tiers]
            cut = next((tier[-1] for tier in long_enough if tier), fitting[-1][0])
        folds.append(cut)
        start = cut + 1
    if not folds:
        return None
    folded = FoldedScalarString(value)
    folded.fold_pos = folds   # type: ignore[attr-defined]
    return folded


def _keyword_at(text: str, space: int) -> bool:
    return text.startswith(_BREAK_BEFORE, space + 1)


def _break_points(text: str) -> list[tuple[int, int]]:
    """(index, bracket depth) of the single spaces outside string literals, where a fold keeps
    the text exactly."""
    points, quote, depth = [], None, 0
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif char == " " and 0 < index < len(text) - 1 and text[index + 1] != " " \
                and text[index - 1] != " ":
            points.append((index, depth))
    return points


# ---------------------------------------------------------------------------- text rewrites
_BLOCK_SCALAR_START = re.compile(r"""(?:^|[:\s-])\s*[|>][-+0-9]*\s*(?:#.*)?$""")


def _scalar_content(lines: list[str]) -> list[bool]:
    """For each line, whether it is the content of a block scalar (``|`` or ``>``), which the
    line rewrites below must leave exactly as it is. Blank lines at the end of a block scalar
    are not its content (YAML drops them), unless it keeps them (``|+``, ``>+``)."""
    inside: list[bool] = []
    owner: int | None = None             # the indentation of the line that opened the scalar
    keep = False                         # whether the scalar keeps its trailing blank lines
    pending: list[int] = []              # blank lines whose fate the next line decides
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if owner is not None and line.strip() == "":
            pending.append(len(inside))
            inside.append(True)
            continue
        if owner is not None and indent > owner:
            pending.clear()
            inside.append(True)
            continue
        if not keep:
            for index in pending:
                inside[index] = False
        pending.clear()
        owner = None
        inside.append(False)
        stripped = line.lstrip()
        match = None if stripped.startswith("#") else _BLOCK_SCALAR_START.search(line)
        if match:
            owner = indent
            keep = "+" in match.group(0).split("#", 1)[0]
    if not keep:
        for index in pending:
            inside[index] = False
    return inside


def _tidy_lines(text: str) -> str:
    """Outside block scalars: trailing spaces off, runs of blank lines to one, none at the start,
    and each comment line indented like the line it precedes. One newline at the end."""
    lines = text.splitlines()
    content = _scalar_content(lines)
    tidy: list[str] = []
    for line, literal in zip(lines, content):
        if literal:
            tidy.append(line)
            continue
        line = line.rstrip()
        if line == "" and (not tidy or tidy[-1] == ""):
            continue
        tidy.append(line)
    while tidy and tidy[-1] == "":
        tidy.pop()
    content = _scalar_content(tidy)
    following = ""                       # the indentation of the next line that is not a comment
    for index in range(len(tidy) - 1, -1, -1):
        line = tidy[index]
        if content[index] or line == "":
            continue
        stripped = line.lstrip()
        if stripped.startswith("#"):
            tidy[index] = following + stripped
        else:
            following = line[:len(line) - len(stripped)]
    return "\n".join(tidy) + "\n"


@dataclass
class _Block:
    """One top-level section: its key, its lines (comments above it included), and whether a
    blank line separated it from what came before."""

    key: str
    lines: list[str]
    blank_before: bool
    ends_in_kept_blank: bool = False     # a `|+` scalar's own blank lines end it


def _order_sections(text: str) -> str:
    """Put the top-level sections in :data:`SECTION_ORDER`, each with the comments just above it."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if _TOP_LEVEL_KEY.match(line)]
    if not starts:
        return text
    # Where each block begins: its key line, or the comment lines directly above it. A comment
    # block that opens the file stays at the top, whatever section follows it.
    begins: list[int] = []
    for start in starts:
        begin = start
        while begin - 1 > (begins[-1] if begins else -1) and lines[begin - 1].startswith("#"):
            begin -= 1
        begins.append(start if begin == 0 else begin)
    content = _scalar_content(lines)
    blocks = []
    for n, begin in enumerate(begins):
        end = begins[n + 1] if n + 1 < len(begins) else len(lines)
        while end > begin and lines[end - 1] == "" and not content[end - 1]:
            end -= 1
        body = lines[begin:end]
        key = lines[starts[n]].split(":", 1)[0].strip().strip("\"'")
        blank_before = begin > 0 and lines[begin - 1] == "" and not content[begin - 1]
        blocks.append(_Block(key, body, blank_before, end > begin and lines[end - 1] == ""))
    rank = {name: i for i, name in enumerate(SECTION_ORDER)}
    ordered = sorted(blocks, key=lambda b: rank.get(b.key, len(rank)))
    out = lines[:begins[0]]
    while out and out[-1] == "":
        out.pop()
    header_blank = bool(out) and begins[0] > len(out)     # a blank line closed the header
    previous: _Block | None = None
    for n, block in enumerate(ordered):
        spans_lines = sum(1 for line in block.lines if not line.startswith("#")) > 1
        if n == 0:
            blank = header_blank
        else:
            blank = block.blank_before or spans_lines and block.key not in _HEADER_KEYS
        if out and blank and not (previous and previous.ends_in_kept_blank):
            out.append("")
        out.extend(block.lines)
        previous = block
    return _tidy_lines("\n".join(out))


# ---------------------------------------------------------------------------- files
def rulebook_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files named, or under the directories named, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")
                                and p.is_file()))
        else:
            files.append(path)
    return files


def format_file(path: Path) -> Formatted:
    """Format one file's text (the file is not written). Raises :class:`InputError`."""
    return format_text(read_text(path, encoding="utf-8"), str(path))
