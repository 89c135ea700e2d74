"""Pytest collects the YAML test cases in tests/cases/ as ordinary test items.

Each YAML test runs through the same runner as ``policy test`` (engine.tools.testing), so a failure
reads the same in both. The rulebooks are loaded once per session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine
from engine.tools.testing import read_tests, run_test

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"


@pytest.fixture(scope="session")
def policy_engine() -> Engine:
    return Engine.load(ROOT / "policy")


_ENGINE: Engine | None = None


def _engine() -> Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine.load(ROOT / "policy")
    return _ENGINE


def pytest_collect_file(parent, file_path: Path):
    if file_path.suffix in (".yaml", ".yml") and CASES in file_path.parents:
        return YamlTestFile.from_parent(parent, path=file_path)
    return None


class YamlTestFile(pytest.File):
    def collect(self):
        for test in read_tests(self.path):
            yield YamlTestItem.from_parent(self, name=test.name, test=test)


class YamlTestItem(pytest.Item):
    def __init__(self, *, test, **kwargs):
        super().__init__(**kwargs)
        self.test = test

    def runtest(self):
        outcome = run_test(_engine(), self.test)
        if not outcome.passed:
            raise YamlTestFailure(outcome.failures)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, YamlTestFailure):
            return f"{self.test.file}:{self.test.line}: {self.test.name}\n" + "\n".join(
                f"  {f}" for f in excinfo.value.failures)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, (self.test.line or 1) - 1, f"yaml: {self.test.name}"


class YamlTestFailure(Exception):
    def __init__(self, failures):
        super().__init__("\n".join(failures))
        self.failures = failures
