"""Test cases as data: YAML files of cases and expected results, run by ``policy test`` and pytest.

A test file (validated by ``schemas/test.schema.json``) holds a list of tests. Each test
evaluates a case as of a date and compares results, parameters or chart rows with what the
manual or a published chart says. The same runner serves the CLI and the pytest plugin in
``tests/conftest.py``, so both report the same failures in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterable

from ..api import Engine
from ..errors import InputError, PolicyError, codes
from ..runtime.results import json_value
from ..io.schemas import validate
from ..io.yaml_loader import line_of, load_file


@dataclass
class YamlTest:
    name: str
    file: str
    line: int | None
    spec: dict


@dataclass
class Outcome:
    test: YamlTest
    passed: bool
    failures: list[str] = field(default_factory=list)


def find_test_files(paths: Iterable[str | Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"There is no test file or directory at {path}.",
                             code=codes.UNREADABLE_FILE, file=str(path))
    return found


def read_tests(path: str | Path) -> list[YamlTest]:
    """Parse and validate one test file."""
    data = load_file(path)
    validate("test", data, str(path))
    tests = data["tests"]
    return [YamlTest(t["name"], str(path), line_of(tests, i), t) for i, t in enumerate(tests)]


def same(expected, actual) -> bool:
    """Exact comparison: numbers as decimals ("5199.60" == 5199.6), everything else as JSON."""
    actual = json_value(actual)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual or expected == actual and type(expected) is type(actual)
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(same(e, a) for e, a in zip(expected, actual))
    try:
        return Decimal(str(expected)) == Decimal(str(actual))
    except (InvalidOperation, ValueError):
        return str(expected) == str(actual)


def _matches(citation, text: str) -> bool:
    """Whether a citation names ``text`` in its source, section, memo or URL (case ignored)."""
    wanted = text.lower()
    return any(wanted in (getattr(citation, field) or "").lower()
               for field in ("source", "section", "memo", "url"))


def check_citations(item: dict, result) -> list[str]:
    """The failures of an expectation's ``citations_first`` and ``citations_exclude`` against the
    result's deciding citations."""
    failures: list[str] = []
    first = item.get("citations_first")
    exclude = item.get("citations_exclude") or []
    if first is None and not exclude:
        return failures
    citations = list(result.citations)
    who = f" for {result.person}" if result.person else ""
    label = f"{result.name}{who}"
    if first is not None:
        texts = [first] if isinstance(first, str) else list(first)
        if not citations or not _matches(citations[0], texts[0]):
            shown = citations[0].short() if citations else "nothing"
            failures.append(f"{label}: the first citation should name {texts[0]!r}, but it is "
                            f"{shown}.")
        else:
            position = 0
            for text in texts[1:]:
                later = next((i for i in range(position + 1, len(citations))
                              if _matches(citations[i], text)), None)
                if later is None:
                    earlier = any(_matches(c, text) for c in citations[:position + 1])
                    failures.append(f"{label}: no citation naming {text!r} follows the one naming "
                                    f"{texts[texts.index(text) - 1]!r}"
                                    + (" (it comes before it)." if earlier else "."))
                    break
                position = later
    for text in exclude:
        for citation in citations:
            if _matches(citation, text):
                failures.append(f"{label}: cites {citation.short()}, which names {text!r}; it "
                                "should not decide this result.")
                break
    return failures


def _inner_rules(engine: Engine, expects) -> list[str]:
    """The rules named by ``expects`` that are not outputs (``Engine.evaluate`` lists outputs
    only, unless asked for names)."""
    rules = engine.program.rules
    return sorted({item["name"] for item in expects
                   if item["name"] in rules and not rules[item["name"]].output})


def run_test(engine: Engine, test: YamlTest) -> Outcome:
    spec = test.spec
    failures: list[str] = []
    as_of = spec.get("as_of")
    if "case" in spec or "case_file" in spec:
        case = spec.get("case")
        if case is None:
            case = Path(test.file).parent / spec["case_file"]
        expect_error = spec.get("expect_error")
        try:
            evaluation = engine.evaluate(case, as_of=as_of)
        except PolicyError as exc:
            if expect_error and expect_error.lower() in exc.render().lower():
                evaluation = None
            else:
                return Outcome(test, False, [f"the case could not be evaluated: {exc.render()}"])
        else:
            if expect_error:
                failures.append(f"expected an error containing {expect_error!r}, but the case evaluated")
        if evaluation is not None:
            expects = spec.get("expect") or []
            # A rule that is not an output (one level's test, such as eligibility.chip_75_test)
            # may be asserted too: evaluated on demand, so that a test can check the value that
            # decides instead of copying a text the rulebook words.
            inner = _inner_rules(engine, expects)
            extra = None
            if inner:
                try:
                    extra = engine.evaluate(case, as_of=as_of, names=inner)
                except PolicyError as exc:      # a failure of this test, not of `policy test`
                    return Outcome(test, False, failures + [
                        f"the rules {', '.join(inner)} could not be evaluated: {exc.render()}"])
            for item in expects:
                name, person = item["name"], item.get("person")
                result = (extra if name in inner else evaluation).find(name, person)
                if item.get("absent"):
                    if result is not None:
                        who = f" for {person}" if person else " for the case"
                        failures.append(f"{name}{who}: expected no such result, got "
                                        f"{json_value(result.value)!r}")
                    continue
                if result is None:
                    who = f" for {person}" if person else " for the case"
                    failures.append(f"{name}{who}: no such result")
                elif not same(item["value"], result.value):
                    who = f" for {person}" if person else ""
                    failures.append(f"{name}{who}: expected {item['value']!r}, got "
                                    f"{json_value(result.value)!r}")
                else:
                    failures.extend(check_citations(item, result))
    for item in spec.get("params") or []:
        when = item.get("as_of", as_of)
        try:
            actual = engine.parameter(item["name"], when).read()
        except PolicyError as exc:
            failures.append(f"parameter {item['name']}: {exc.render()}")
            continue
        if not same(item["value"], actual):
            failures.append(f"parameter {item['name']} on {when}: expected {item['value']!r}, got "
                            f"{json_value(actual)!r}")
    table_spec = spec.get("table")
    if table_spec:
        when = table_spec.get("as_of", as_of)
        try:
            chart = engine.table(table_spec["name"], when)
        except PolicyError as exc:
            failures.append(f"table {table_spec['name']}: {exc.render()}")
        else:
            for expected in table_spec["rows"]:
                if not any(all(same(v, row.values.get(k)) for k, v in expected.items()) for row in chart.rows):
                    failures.append(f"table {table_spec['name']} on {when}: no row matches "
                                    f"{_show(expected)}{_closest(expected, chart.rows)}")
    return Outcome(test, not failures, failures)


def _show(row: dict) -> str:
    return "{" + ", ".join(f"{k}: {json_value(v)}" for k, v in row.items()) + "}"


def _closest(expected: dict, rows) -> str:
    best, score = None, -1
    for row in rows:
        s = sum(1 for k, v in expected.items() if same(v, row.values.get(k)))
        if s > score:
            best, score = row, s
    if best is None:
        return ""
    return f"; the nearest row is {_show({k: best.values.get(k) for k in expected})}"


def run_files(engine: Engine, paths: Iterable[str | Path]) -> list[Outcome]:
    outcomes = []
    for path in find_test_files(paths):
        for test in read_tests(path):
            outcomes.append(run_test(engine, test))
    return outcomes
