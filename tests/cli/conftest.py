"""The fixture the command-line tests share (tests/cli/helpers.py has the rest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import common as cli_common
from engine.cli import eval_cmd, param_cmd, table_cmd, test_cmd

from .helpers import REPO

#: Engines loaded by the command-line tests, by rulebook directory, shared by every module.
_ENGINES: dict = {}


@pytest.fixture(scope="module")
def repo_cwd_and_cached_engines():
    """Run from the repository root, and load each rulebook directory once for all these tests.

    The subcommands call ``load_engine(policy)``; the wrapper memoises successful loads by
    directory, so rulebooks that fail to load still fail on every call.
    """
    original = cli_common.load_engine
    cache = _ENGINES

    def load_engine(policy):
        key = str(Path(policy).resolve()) if policy else None
        if key not in cache:
            cache[key] = original(policy)
        return cache[key]

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        for module in (eval_cmd, param_cmd, table_cmd, test_cmd):
            mp.setattr(module, "load_engine", load_engine)
        yield
