"""``policy check``: everything that can be known about rulebooks without a case.

The checks run in stages, and each stage reports every problem it finds, not only the first:

1. reading: YAML syntax, duplicate keys, size limits (codes E1xx);
2. the schema: unknown keys, missing citations, malformed values (E2xx);
3. file checks, on each file that passed the schema: effective-date histories (E510-E513),
   bands (E520-E522), numbers written as float artefacts (E504), the yaml-language-server
   schema comment (W580, W581) and the literate fields: a file's ``description`` (E590) and the
   ``says`` of each rule (W591);
4. compiling: unknown names, namespaces not declared in ``uses``, cycles (E3xx);
5. program checks, on the compiled rulebooks: types in expressions (E501-E503), divisions by
   zero (E505), decision tables
   (E530-E532), citations (E550, W551), unused parameters (W560), staleness (W570) and the
   reconciliation of published charts (E540-W543).

A later stage runs only when the earlier ones passed, since it needs their output. One module
per family of checks; each exposes ``run(context) -> list[Problem]``. Every code is listed, with a
description, in :mod:`engine.checks.codes` and in ``docs/checks.md``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterable

from ..api import Engine, rulebook_files
from ..rulebook.compiler import compile_files
from ..errors import InputError, PolicyError
from ..errors.codes import BAD_DATE
from ..io.values import why_not_a_date
from ..rulebook.reader import read as read_rulebook
from . import (archived, arithmetic, bands, citations, decision_tables, histories, literate,
               published, schema_comment, staleness, types, usage)
from .context import CheckContext, RulebookSource
from .published import key_columns, reconcile_published  # noqa: F401  (public helpers)
from .report import CheckReport

#: Checks that read one parsed file at a time (they run even when compiling fails).
FILE_CHECKS = (histories.run, bands.run, arithmetic.run_text, literate.run)
#: Checks that read the compiled program.
PROGRAM_CHECKS = (types.run, decision_tables.run, citations.run, usage.run, staleness.run,
                  published.run, arithmetic.run, archived.run)


def check(paths: Iterable[str | Path], as_of: str | dt.date | None = None) -> CheckReport:
    """Check the rulebooks under ``paths``; staleness is judged as of ``as_of`` (default today)."""
    report = CheckReport()
    on = _date(as_of)
    try:
        files = rulebook_files(paths)
    except PolicyError as exc:
        report.extend(exc.problems)
        return report
    report.files = len(files)
    report.paths = [str(f) for f in files]
    sources: list[RulebookSource] = []
    books = []
    unreadable = False
    for file in files:
        source = RulebookSource(str(file))
        sources.append(source)
        source.text = _text(file)
        report.extend(schema_comment.check_file(source))
        try:
            book = read_rulebook(file)
            books.append(book)
        except PolicyError as exc:
            report.extend(exc.problems)
            unreadable = True
            continue
        source.data = book.data          # parsed once, by the rulebook reader
    context = CheckContext(sources, on)
    for run in FILE_CHECKS:
        report.extend(run(context))
    if unreadable:
        report.sort()
        return report
    try:
        program = compile_files(books)
    except PolicyError as exc:
        report.extend(exc.problems)
        report.sort()
        return report
    context.program = program
    context.engine = Engine(program)
    for run in PROGRAM_CHECKS:
        report.extend(run(context))
    report.sort()
    return report


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def _date(value) -> dt.date:
    if value is None or value == "":
        return dt.date.today()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"The date {value!r} is not {why_not_a_date(str(value))}.",
                         code=BAD_DATE, field="--as-of") from None


__all__ = ["check", "CheckReport", "CheckContext", "reconcile_published", "key_columns"]
