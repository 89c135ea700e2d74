"""W580/W581: every rulebook declares its schema for yaml-language-server.

Editors that use yaml-language-server (VS Code's YAML extension, Neovim, Helix, ...) validate a
file as it is typed when its first lines say which schema it follows:

    # yaml-language-server: $schema=../schemas/rulebook.schema.json

The path is relative to the rulebook file, so it differs by directory; the warning gives the
exact line to write. A URL ending in ``/rulebook.schema.json`` is accepted too.

The check applies to rulebooks inside the tree that holds the engine's schemas (this repository,
or an installed bundle), where the right path is known. Rulebooks elsewhere (another repository,
a copy in a temporary directory) may rely on the editor's own schema mapping (VS Code's
``yaml.schemas`` setting, docs/ci.md), so they are not warned about.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import codes
from ..io.paths import schemas_dir
from .context import RulebookSource, problem

SCHEMA_FILE = "rulebook.schema.json"
_MODELINE = re.compile(r"^\s*#\s*yaml-language-server\s*:\s*\$schema=(\S+)\s*$")


def expected_path(rulebook: str | Path) -> str:
    """The relative path from a rulebook file's directory to the rulebook schema."""
    folder = Path(rulebook).resolve().parent
    target = schemas_dir().resolve() / SCHEMA_FILE
    return Path(os.path.relpath(target, folder)).as_posix()


def expected_line(rulebook: str | Path) -> str:
    return f"# yaml-language-server: $schema={expected_path(rulebook)}"


def in_schema_tree(rulebook: str | Path) -> bool:
    """Whether the rulebook lies in the tree that holds the engine's schemas."""
    root = schemas_dir().resolve().parent
    return root in Path(rulebook).resolve().parents


def check_file(source: RulebookSource) -> list:
    if source.text is None or not in_schema_tree(source.path):
        return []
    declared, line = None, None
    for number, text in enumerate(source.text.splitlines(), start=1):
        match = _MODELINE.match(text)
        if match:
            declared, line = match.group(1), number
            break
    want = expected_line(source.path)
    if declared is None:
        return [problem(codes.SCHEMA_COMMENT_MISSING,
                        "The rulebook does not declare its schema for editors. Add this "
                        f"line at the top of the file: `{want}` (docs/ci.md shows the editor "
                        "set-up).", source.path, 1, "$schema")]
    if _points_at_schema(source.path, declared):
        return []
    return [problem(codes.SCHEMA_COMMENT_WRONG,
                    f"The schema comment points at `{declared}`, which is not the "
                    f"rulebook schema from this file's directory. Write `{want}`.",
                    source.path, line, "$schema")]


def _points_at_schema(rulebook: str, declared: str) -> bool:
    """Whether the declared path leads to the rulebook schema from the rulebook's directory."""
    if re.match(r"^https?://", declared):
        return declared.endswith("/" + SCHEMA_FILE)
    if Path(declared).name != SCHEMA_FILE:
        return False
    schema = schemas_dir().resolve() / SCHEMA_FILE
    return (Path(rulebook).resolve().parent / declared).resolve() == schema
