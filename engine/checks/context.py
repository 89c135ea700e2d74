"""What every semantic check reads: the rulebook files as parsed, and the compiled program.

Checks need two views of a rulebook. The compiled :class:`~engine.rulebook.compiler.Program` knows what
every name means; the parsed YAML (a :class:`~engine.io.yaml_loader.LineDict`) keeps what the
compiler throws away: the order in which an analyst wrote the effective dates, and the line of
every key, band and published row. :class:`RulebookSource` is the second view, one per file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..model.citations import Citation, build
from ..errors import Problem


@dataclass
class RulebookSource:
    """One rulebook file as read from disk: its text and its parsed (schema-valid) data."""

    path: str
    text: str | None = None
    data: Any = None          # a LineDict when the file parsed and passed the schema

    @property
    def namespace(self) -> str | None:
        return self.data.get("rulebook") if isinstance(self.data, dict) else None

    @property
    def sources(self) -> dict:
        if not isinstance(self.data, dict):
            return {}
        return {name: dict(src) for name, src in (self.data.get("sources") or {}).items()}


@dataclass
class CheckContext:
    sources: list[RulebookSource]
    as_of: dt.date
    program: Any = None       # engine.rulebook.compiler.Program once compiled
    engine: Any = None        # engine.api.Engine once compiled
    by_path: dict = field(default_factory=dict)

    def __post_init__(self):
        self.by_path = {s.path: s for s in self.sources}

    def source(self, path: str | None) -> RulebookSource | None:
        return self.by_path.get(path) if path else None


def problem(code: str, message: str, file=None, line=None, field=None, citations=()) -> Problem:
    """A Problem whose severity follows its code: ``W`` codes are warnings."""
    severity = "warning" if code.startswith("W") else "error"
    return Problem(code, message, file, line, field, severity, tuple(citations))


def cited(citations) -> str:
    """`` (Source, section)``: the rulebook's own citation, to end a message with."""
    citations = tuple(c for c in citations or () if isinstance(c, Citation))
    if not citations:
        return ""
    return f" [cites {citations[0].short()}]"


def raw_citations(source: RulebookSource, raw) -> tuple:
    """Citations built from a parsed ``citation`` value (refs resolved); () when unresolvable."""
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    sources = source.sources
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        try:
            out.append(build(item, sources))
        except KeyError:
            continue
    return tuple(out)


def parameters_of(source: RulebookSource):
    """``(qualified name, parsed parameter, parameters mapping)`` for each parameter of a file."""
    if not isinstance(source.data, dict):
        return
    params = source.data.get("parameters") or {}
    for name, raw in params.items():
        yield f"{source.namespace}.{name}", raw, params
