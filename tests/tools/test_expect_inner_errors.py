"""An expectation on a rule that is not an output, when that rule cannot be computed: the test
fails with the engine's message (as for a case that cannot be evaluated), and `policy test` goes
on with the other tests instead of stopping on the error."""

from __future__ import annotations

from pathlib import Path

from engine import Engine
from engine.tools.testing import run_files

BOOK = """\
rulebook: inner
version: "1"
description: An output that evaluates and an inner rule that divides by zero, for the test runner.
sources:
  t: {source: Inner rule test}
entities:
  case:
    facts:
      case_id: {type: text}
      as_of: {type: date, required: false}
  person:
    parent: case
    collection: people
    id: id
    facts:
      id: {type: text}
      age: {type: integer}
rules:
  shown:
    entity: person
    type: integer
    output: true
    citation: {ref: t, section: shown}
    formula: age + 1
  share:
    entity: person
    type: decimal
    citation: {ref: t, section: share}
    formula: 10 / age
"""

TESTS = """\
tests:
  - name: an inner rule that cannot be computed
    as_of: 2024-01-01
    case: {case_id: c, people: [{id: p, age: 0}]}
    expect:
      - {name: inner.shown, person: p, value: 1}
      - {name: inner.share, person: p, value: 1}
  - name: the next test still runs
    as_of: 2024-01-01
    case: {case_id: d, people: [{id: p, age: 2}]}
    expect:
      - {name: inner.share, person: p, value: 5}
"""


def test_an_inner_rule_that_fails_fails_its_test_only(tmp_path: Path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "inner.yaml").write_text(BOOK)
    engine = Engine.load(tmp_path / "book")
    tests = tmp_path / "inner_tests.yaml"
    tests.write_text(TESTS)
    failing, passing = run_files(engine, [tests])
    assert not failing.passed
    assert len(failing.failures) == 1
    assert failing.failures[0].startswith("the rules inner.share could not be evaluated: ")
    assert "divides by zero" in failing.failures[0]
    assert passing.passed, passing.failures
