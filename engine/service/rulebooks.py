"""A rulebook set as the service serves it: checked, compiled, fingerprinted, swapped atomically.

The fingerprint is a SHA-256 over every file under the rulebook directories (rulebooks and the
notice templates they render), each with its relative path, so that two servers with the same
fingerprint give the same answers and a result can be reproduced from it.

Reloading builds a complete new set beside the one being served: the files are checked as
``policy check`` checks them, compiled, and fingerprinted before and after; only when all of that
succeeded and no file changed meanwhile does one assignment make the new set current. A request
takes the current set once when it starts and uses it to the end, so it never mixes two sets.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..api import Engine, rulebook_files
from ..checks import check
from ..errors import PolicyError, Problem, codes
from ..io.paths import default_policy_dir
from ..runtime.state import forget_generated

#: Directory and file names left out of the fingerprint (editor and tool droppings).
IGNORED = ("__pycache__", ".git", ".DS_Store")


class RulebooksRefused(PolicyError):
    """A rulebook set that does not load or fails ``policy check``; the old set keeps serving."""

    default_code = codes.RELOAD_REFUSED


@dataclass(frozen=True)
class RulebookSet:
    """Compiled rulebooks with what identifies them."""

    engine: Engine
    fingerprint: str
    paths: tuple[str, ...]
    files: tuple[dict, ...]
    loaded_at: str

    def describe(self) -> dict:
        """The body of ``GET /v1/rulebooks``: versions, fingerprint and effective dates."""
        program = self.engine.program
        starts = sorted({start for parameter in program.parameters.values()
                         for start in parameter.starts})
        digests = {item["file"]: item["sha256"] for item in self.files}
        books = []
        for book in program.files:
            relative = _relative(Path(book.path), self.paths)
            books.append({"rulebook": book.namespace, "version": book.version, "title": book.title,
                          "file": relative, "sha256": digests.get(relative)})
        return {
            "engine_version": __version__,
            "fingerprint": self.fingerprint,
            "loaded_at": self.loaded_at,
            "rulebooks": books,
            "effective_dates": {
                "earliest": starts[0].isoformat() if starts else None,
                "latest": starts[-1].isoformat() if starts else None,
                "changes": [d.isoformat() for d in starts],
            },
        }


def resolve_paths(paths) -> tuple[str, ...]:
    """The rulebook paths to serve: those given, else the default policy directory."""
    return tuple(str(p) for p in paths) if paths else (str(default_policy_dir()),)


def fingerprint(paths) -> tuple[str, tuple[dict, ...]]:
    """The fingerprint of every file under ``paths`` and each file's own digest."""
    whole = hashlib.sha256()
    files = []
    for path in _files(paths):
        relative = _relative(path, paths)
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        whole.update(relative.encode("utf-8") + b"\0" + digest.encode("ascii") + b"\n")
        files.append({"file": relative, "sha256": digest})
    return "sha256:" + whole.hexdigest(), tuple(files)


def load(paths, run_check: bool = True) -> RulebookSet:
    """Check, compile and fingerprint the rulebooks under ``paths``.

    Raises :class:`RulebooksRefused` with every problem found when they fail ``policy check``
    (errors only; warnings do not refuse), do not load, or change while being loaded.
    """
    paths = resolve_paths(paths)
    try:
        rulebook_files(paths)               # E107 for a path that is not there
        before, files = fingerprint(paths)
    except PolicyError as exc:
        raise RulebooksRefused(problems=exc.problems) from None
    except OSError as exc:
        raise RulebooksRefused(f"The rulebooks cannot be read: {exc}.", code=codes.UNREADABLE_FILE) from None
    if run_check:
        report = check(paths)
        if report.errors:
            raise RulebooksRefused(problems=[Problem(codes.RELOAD_REFUSED, "The rulebooks fail `policy check` "
                                                     f"with {len(report.errors)} error(s); they "
                                                     "are not served.")] + list(report.errors))
    try:
        engine = Engine.load(*paths)
    except PolicyError as exc:
        raise RulebooksRefused(problems=exc.problems) from None
    after, _ = fingerprint(paths)
    if after != before:
        raise RulebooksRefused("The rulebook files changed while they were being loaded; nothing "
                               "was swapped. Reload again once the files are in place.")
    loaded_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    return RulebookSet(engine, before, paths, files, loaded_at)


class Rulebooks:
    """The set being served, and the one way to replace it."""

    def __init__(self, current: RulebookSet, run_check: bool = True):
        self.current = current
        self.run_check = run_check
        self._reloading = threading.Lock()

    def reload(self) -> RulebookSet:
        """Load the same paths again and swap; on any problem keep the current set and raise.

        Only one reload runs at a time; a second one asked for meanwhile is refused (E609)."""
        if not self._reloading.acquire(blocking=False):
            raise RulebooksRefused("A reload is already running; try again when it has finished.")
        try:
            fresh = load(self.current.paths, self.run_check)
            self.current = fresh            # one reference assignment: atomic for readers
            forget_generated()              # else the replaced rulebooks stay alive through it
            return fresh
        finally:
            self._reloading.release()


def _files(paths) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(p for p in path.rglob("*") if p.is_file()
                         and not any(part in IGNORED for part in p.relative_to(path).parts))
        elif path.is_file():
            found.append(path)
    return sorted(set(found), key=lambda p: _relative(p, paths))


def _relative(path: Path, paths) -> str:
    """A file's path relative to the rulebook directory it is under (its name if none)."""
    resolved = path.resolve()
    for raw in paths:
        root = Path(raw).resolve()
        if root.is_dir() and resolved.is_relative_to(root):
            return resolved.relative_to(root).as_posix()
    return path.name
