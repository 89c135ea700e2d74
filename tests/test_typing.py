"""mypy --strict on the public API, the errors and the input layer, and the Protocols of
engine/types.py checked against the classes they describe. Skipped when mypy is not installed
(it is in the `test` extra: pip install -e .[test])."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("mypy", reason="mypy is not installed (pip install -e .[test])")


def mypy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache"),
                           *args], cwd=ROOT, capture_output=True, text=True)


def test_strict_on_the_api_errors_and_io():
    done = mypy("--strict", "engine/api.py", "engine/errors", "engine/io", "engine/types.py")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_classes_fit_the_protocols():
    done = mypy("tests/typing/protocols_check.py")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_package_says_it_is_typed():
    assert (ROOT / "engine" / "py.typed").is_file()
