"""Shared fixtures for the tooling tests: paths, and a copy of the real rulebooks to edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
POLICY = ROOT / "policy"
FIXTURES = HERE / "fixtures"


CLEAN = ROOT / "tests" / "check" / "clean"


def edited_policy(tmp_path: Path, file: str, old: str, new: str, base: Path = POLICY) -> Path:
    """A copy of ``base`` (the real policy/) with one text replaced in one file, once."""
    target = tmp_path / "policy"
    shutil.copytree(base, target)
    path = target / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{file} no longer contains {old!r} exactly once; update the test"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return target


@pytest.fixture
def policy_copy(tmp_path):
    return lambda file, old, new: edited_policy(tmp_path, file, old, new)


@pytest.fixture
def clean_copy(tmp_path):
    """An edited copy of tests/check/clean, a small rulebook set these tests own."""
    return lambda file, old, new: edited_policy(tmp_path, file, old, new, CLEAN)


def chromium() -> str | None:
    """The headless browser the docs-site tests open pages in, or None when none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None
