"""Errors as data.

Every problem the engine reports is a :class:`Problem`: a stable ``code``, a whole-sentence
``message``, and where it is known the ``file``, ``line`` and ``field`` it concerns. Exceptions
carry problems so that the CLI can print them (or emit them as JSON, SARIF, ...) without ever
showing a Python traceback for bad input.

The codes are stable: scripts and CI annotations rely on them. Families:

* ``E1xx`` input could not be read (YAML syntax, duplicate keys, size limits);
* ``E2xx`` schema validation of rulebooks, cases and tests;
* ``E3xx`` compilation (unknown names, cycles, bad expressions);
* ``E4xx`` evaluation (missing facts, no value on a date, arithmetic);
* ``W5xx``/``E5xx`` semantic checks run by ``policy check``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterable

from . import codes


@dataclass(frozen=True)
class Problem:
    """One finding: an error or a warning, with its location where known."""

    code: str
    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None
    severity: str = "error"
    citations: tuple[Any, ...] = dataclasses.field(default_factory=tuple)

    def location(self) -> str:
        """``file:line`` (or as much of it as is known), for messages."""
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or ""

    def render(self) -> str:
        """One paragraph an analyst can act on: where, what, and which field."""
        where = self.location()
        prefix = f"{where}: " if where else ""
        fld = f" (field: {self.field})" if self.field else ""
        return f"{prefix}{self.severity} {self.code}: {self.message}{fld}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "field": self.field,
        }
        if self.citations:
            out["citations"] = [dict(c) for c in self.citations]
        return out


class PolicyError(Exception):
    """Base class: an error that the engine can explain to a person.

    It holds one or more :class:`Problem` objects. ``str(error)`` renders every problem, one per
    line, so that a caller who only logs the exception still gets each file and line.
    """

    default_code = codes.POLICY_ERROR

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 file: str | None = None, line: int | None = None, field: str | None = None,
                 problems: Iterable[Problem] | None = None):
        if problems is None:
            problems = [Problem(code or self.default_code, message or "", file, line, field)]
        self.problems: list[Problem] = list(problems)
        super().__init__(self.render())

    @property
    def problem(self) -> Problem:
        return self.problems[0]

    def render(self) -> str:
        return "\n".join(p.render() for p in self.problems)


class InputError(PolicyError):
    """A file could not be read or parsed: syntax, duplicate keys, size limits."""

    default_code = codes.UNREADABLE_YAML


class SchemaError(PolicyError):
    """A rulebook, case or test file does not have the shape its schema requires."""

    default_code = codes.SCHEMA_ERROR


class CompileError(PolicyError):
    """Rulebooks are well-formed but do not fit together: unknown names, cycles, bad expressions."""

    default_code = codes.COMPILE_ERROR


class EvaluationError(PolicyError):
    """A case could not be evaluated: a missing fact, no value on the date, a division by zero."""

    default_code = codes.EVALUATION_ERROR


class CaseError(EvaluationError):
    """The case itself is malformed: a fact of the wrong type, a duplicate id, an id that names
    nobody in the case."""

    default_code = codes.CASE_NOT_MAPPING
