"""Every `because` text of every result of every YAML test case renders.

The compiler checks that a reason names only what its rule reads, but which branch runs is known
only when a case is evaluated; this test renders them all, so a reason that cannot be rendered
("(reason unavailable: ...)") fails here instead of reaching a caseworker.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine, PolicyError
from engine.tools.testing import find_test_files, read_tests

ROOT = Path(__file__).resolve().parents[2]


def test_every_reason_renders():
    engine = Engine.load(ROOT / "policy")
    failures, rendered = [], 0
    for path in find_test_files([ROOT / "tests" / "cases"]):
        for test in read_tests(path):
            spec = test.spec
            case = spec.get("case") or (Path(path).parent / spec["case_file"] if "case_file" in spec else None)
            if case is None:
                continue
            try:
                evaluation = engine.evaluate(case, as_of=spec.get("as_of"))
            except PolicyError:
                continue              # cases that are meant to fail are tested elsewhere
            for result in evaluation.results:
                because = result.because
                rendered += 1
                if because and "reason unavailable" in because:
                    failures.append(f"{path.name}: {test.name}: {result.name} for {result.person}: {because}")
    assert rendered > 1000
    assert not failures, "\n".join(failures[:20])
