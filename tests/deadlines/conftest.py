"""Shared fixtures for the deadline, notice and mass-change tests.

The rulebooks under test are the repository's policy/ (or $POLICY_DIR, as for the engine), loaded
once per session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine import Engine

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "cases"


def policy_dir() -> Path:
    return Path(os.environ.get("POLICY_DIR") or ROOT / "policy")


_ENGINE = None


@pytest.fixture(scope="session")
def engine() -> Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine.load(policy_dir())
    return _ENGINE
