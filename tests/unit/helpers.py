"""Shared helpers for the unit tests: fixture paths, cached engines, error inspection."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import pytest

from engine import Engine, PolicyError

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
CASES = FIXTURES / "cases"
REPOSITORY = HERE.parent.parent


@lru_cache(maxsize=None)
def engine(name: str) -> Engine:
    """The engine for ``fixtures/<name>``, loaded once per test session."""
    return Engine.load(FIXTURES / name)


def fresh_engine(name: str) -> Engine:
    """A new engine (with an empty date cache) for ``fixtures/<name>``."""
    return Engine.load(FIXTURES / name)


def problem(excinfo: pytest.ExceptionInfo, code: str):
    """The one problem with ``code`` carried by a raised PolicyError (fails if there is none)."""
    error = excinfo.value
    assert isinstance(error, PolicyError)
    found = [p for p in error.problems if p.code == code]
    assert found, f"no {code} among {[p.code for p in error.problems]}: {error}"
    return found[0]


def file_name(p) -> str:
    """``dir/file`` of a problem's file, independent of where the repository is."""
    path = Path(p.file)
    return f"{path.parent.name}/{path.name}"


def line_of_text(path: Path, text: str) -> int:
    """The 1-based line of the first line of ``path`` that contains ``text``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} is not in {path}")


def person(pid: str, **facts) -> dict:
    return {"id": pid, **facts}


def income(amount, frequency="monthly", kind="wages") -> dict:
    return {"type": kind, "amount": amount, "frequency": frequency}


def case(*people, case_id="c1", **extra) -> dict:
    return {"case_id": case_id, "people": list(people), **extra}


AS_OF = dt.date(2024, 6, 1)


def line_after(path: Path, anchor: str, text: str) -> int:
    """The line of the first line containing ``text`` at or after the line containing ``anchor``."""
    start = line_of_text(path, anchor)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number >= start and text in line:
            return number
    raise AssertionError(f"{text!r} does not follow {anchor!r} in {path}")


def columnar_same_as_per_case(engine: Engine, data: list, names=None) -> tuple[int, int]:
    """Evaluate ``data`` (case mappings) with the columnar plan and one case at a time, and
    assert each case's results agree: values as printed, read-sets, own and deciding citations;
    a case the plan gives back (None) must be one the per-case evaluator refuses. Returns how
    many results were compared and how many cases were refused."""
    from engine.runtime.columnar import evaluate_cases
    from engine.runtime.results import json_value
    from engine.runtime.trace import citation_mask, collect_citations

    got = evaluate_cases(engine, [engine.read_case(h) for h in data], AS_OF, names=names)
    compared = refused = 0
    for h, evaluation in zip(data, got):
        try:
            expected = engine.evaluate(h, as_of=AS_OF, names=names)
        except PolicyError:
            assert evaluation is None, (names, h["case_id"])
            refused += 1
            continue
        assert evaluation is not None, (names, h["case_id"])
        have = [(r.name, r.person, json_value(r.shown_value), r.provenance, r.own, r.mask,
                 r.citations) for r in evaluation.results]
        want = [(r.name, r.person, json_value(r.shown_value), collect_citations(r.node),
                 r.node.own_citations, citation_mask(r.node), r.citations)
                for r in expected.results]
        assert have == want, (names, h["case_id"])
        compared += len(want)
    return compared, refused


def each_rule_alone_same_as_per_case(engine: Engine, data: list) -> tuple[dict[str, int], int]:
    """:func:`columnar_same_as_per_case` for each of the rulebooks' rules alone
    (``names=[rule]``), so that rules only other rules read are compared too. Returns the
    results compared per rule and the cases refused over all rules."""
    compared, refused = {}, 0
    for name in sorted(engine.program.rules):
        compared[name], refusals = columnar_same_as_per_case(engine, data, names=[name])
        refused += refusals
    return compared, refused
