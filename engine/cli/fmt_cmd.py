"""``policy fmt [PATH ...] [--check] [--diff]``: format rulebooks in place, comments kept.

The layout rules are those of :mod:`engine.formatter`. ``--check`` writes nothing and exits 1
when a file would change (for CI and pre-commit); ``--diff`` writes nothing and prints what
would change as a unified diff. A file that is not valid YAML is named with its line and left
alone; the command then exits 2.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import PolicyError
from ..tools.formatter import format_file, rulebook_files
from ..io.paths import default_policy_dir
from .common import CANNOT_RUN, OK, PROBLEMS, error, exits


def fmt_command(
    paths: Optional[List[Path]] = typer.Argument(None, help="Rulebook files or directories (default: the policy directory)."),
    check: bool = typer.Option(False, "--check", help="Change nothing; exit 1 and list the files that would change."),
    diff: bool = typer.Option(False, "--diff", help="Change nothing; print a unified diff of what would change."),
    policy: Optional[Path] = typer.Option(None, "--policy", metavar="DIR", help="Rulebook directory, when no PATH is given."),
):
    """Format rulebooks in place: indentation, quoting, blank lines, trailing spaces, the order of
    top-level sections, long expressions wrapped; comments and key order kept."""
    with exits():
        targets = paths or [policy or default_policy_dir()]
        missing = [str(p) for p in targets if not p.exists()]
        if missing:
            error(f"policy fmt: {', '.join(missing)}: no such file or directory.")
            raise typer.Exit(CANNOT_RUN)
        files = rulebook_files(targets)
        changed, unreadable = [], 0
        for path in files:
            try:
                result = format_file(path)
            except PolicyError as exc:
                error(exc.render())
                unreadable += 1
                continue
            if not result.changed:
                continue
            changed.append(path)
            if diff:
                typer.echo("".join(difflib.unified_diff(
                    result.original.splitlines(keepends=True), result.text.splitlines(keepends=True),
                    fromfile=f"{path} (before)", tofile=f"{path} (formatted)")), nl=False)
            if check and not diff:
                typer.echo(f"would reformat {path}")
            if not check and not diff:
                _write(path, result.text)
                typer.echo(f"reformatted {path}")
        _summary(len(files), len(changed), unreadable, check or diff)
        if unreadable:
            raise typer.Exit(CANNOT_RUN)
        if check and changed:
            raise typer.Exit(PROBLEMS)
        raise typer.Exit(OK)


def _summary(total: int, changed: int, unreadable: int, dry_run: bool) -> None:
    verb = "would be reformatted" if dry_run else "reformatted"
    parts = [f"{changed} of {total} file(s) {verb}"]
    if unreadable:
        parts.append(f"{unreadable} could not be read and were left alone")
    message = "policy fmt: " + "; ".join(parts) + "."
    if dry_run and changed:
        message += " Run `policy fmt` on them to format them."
    error(message)


def _write(path: Path, text: str) -> None:
    """Replace the file in one step, so that an interruption never leaves half a rulebook."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
