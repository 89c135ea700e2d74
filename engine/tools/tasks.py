"""A case to evaluate, as the batch readers hand it on: where it came from and its data.

Kept apart from :mod:`engine.tools.batch` so that the evaluators of a chunk of tasks (per case,
columnar, on Spark executors) can read tasks without importing the batch runner itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, PolicyError, codes
from ..io.case_data import DuplicateKey, loads_case


@dataclass
class Task:
    """One case to evaluate: where it came from and its data in one of several forms."""

    label: str                 # "file:line", for messages and the output's "input"
    kind: str                  # "json" (text of one JSON object), "data" (a mapping), "path", "error";
                               # "lines": the last line of a range workers read (progress only)
    payload: Any
    as_of: str | None = None   # a date the source gives (a test's as_of); --as-of wins
    offset: int = 0            # bytes of input read so far, for the progress bar


def case_data(task: Task):
    """The case mapping (or path) of a task; raises PolicyError for unreadable input."""
    if task.kind == "json":
        try:
            data = loads_case(task.payload)      # json.loads(..., parse_float=Decimal), quicker
        except DuplicateKey as exc:
            # worded as `policy eval` words it for a case file (E101); a line is one line
            source, number = _where(task.label)
            raise InputError(f"The key '{exc.key}' appears twice in the same mapping (lines "
                             f"{number} and {number}); remove one of them.",
                             code=codes.DUPLICATE_KEY, file=source, line=number,
                             field=exc.key) from None
        except json.JSONDecodeError as exc:
            file, _, line = task.label.rpartition(":")
            raise InputError(f"The line is not valid JSON: {exc.msg} at character {exc.colno}.",
                             code=codes.UNREADABLE_YAML,
                             file=file, line=int(line) if line.isdigit() else None) from None
        # Valid JSON no parser reads into a case: words the line's error, as the service does
        # for a body, where it escaped as an internal error that stopped the whole run.
        except RecursionError:
            source, number = _where(task.label)
            raise InputError("The line nests too deeply to read.", code=codes.TOO_DEEP,
                             file=source, line=number) from None
        except ValueError as exc:       # a whole number with more digits than Python converts
            source, number = _where(task.label)
            reason = str(exc).rstrip(".")
            raise InputError(f"The line has a number that cannot be read: {reason}.",
                             code=codes.NOT_A_NUMBER, file=source, line=number) from None
        if not isinstance(data, dict):
            raise InputError("The line is not a JSON object (a case).",
                             code=codes.CASE_NOT_MAPPING, file=task.label)
        return data
    if task.kind == "error":
        raise PolicyError(problems=[task.payload])
    return task.payload


def _where(label: str) -> tuple[str, int | None]:
    """The file and line number of a task's ``file:line`` label."""
    file, _, line = label.rpartition(":")
    return (file, int(line)) if line.isdigit() else (label, None)
