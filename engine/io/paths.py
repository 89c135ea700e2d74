"""Where the engine finds rulebooks and schemas.

In a source checkout (``pip install -e .``) the repository's ``policy/`` and ``schemas/`` sit next
to ``engine/``. An installed wheel carries copies under ``engine/_bundled/``. The default
rulebook directory is ``./policy`` when the current directory has one (as conftest looks for
``./policy``), else the repository's or the bundled copy.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent      # engine/, this module being engine/io/paths.py
_REPOSITORY = _PACKAGE.parent
_BUNDLED = _PACKAGE / "_bundled"


def schemas_dir() -> Path:
    for candidate in (_REPOSITORY / "schemas", _BUNDLED / "schemas"):
        if (candidate / "rulebook.schema.json").is_file():
            return candidate
    raise FileNotFoundError("The engine's JSON schemas are missing from this installation.")


def default_policy_dir() -> Path:
    env = os.environ.get("POLICY_DIR")
    if env:
        return Path(env)
    cwd = Path.cwd() / "policy"
    if cwd.is_dir() and any(cwd.rglob("*.yaml")):
        return cwd
    for candidate in (_REPOSITORY / "policy", _BUNDLED / "policy"):
        if candidate.is_dir():
            return candidate
    return cwd


def repository_dir() -> Path:
    return _REPOSITORY
