"""Where a sweep's case comes from: a case file, or one test of a YAML test file.

A test file (``tests/cases/jones.yaml``) holds cases with their dates and expected results; a
sweep of one of them starts from the test's case and, unless ``--as-of`` says otherwise, its
date. The test is chosen by name, else the first one is taken.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import InputError, codes
from ...io.yaml_loader import load_file


def is_test_file(data) -> bool:
    return isinstance(data, dict) and isinstance(data.get("tests"), list) and "people" not in data


def case_from_tests(path: str | Path, name: str | None = None) -> tuple[dict, str | None]:
    """The case of the named test (default the first) of the test file ``path``, and its date."""
    from ..testing import read_tests
    tests = [t for t in read_tests(path) if "case" in t.spec or "case_file" in t.spec]
    if name is not None:
        chosen = [t for t in tests if t.name == name]
        if not chosen:
            known = "; ".join(t.name for t in tests) or "none"
            raise InputError(f"The test file {path} has no test named {name!r} with a case "
                             f"(its tests: {known}).", code=codes.BAD_SWEEP, file=str(path), field="--test")
        tests = chosen
    if not tests:
        raise InputError(f"The test file {path} has no test with a case to sweep.", code=codes.BAD_SWEEP,
                         file=str(path))
    test = tests[0]
    case = test.spec.get("case")
    if case is None:
        case = load_file(Path(test.file).parent / test.spec["case_file"])
    return case, test.spec.get("as_of")


def read_source(path: str | Path, test: str | None = None) -> tuple[object, str | None]:
    """What to sweep from a path: the path itself for a case file, or a test's case and date."""
    data = load_file(path)
    if is_test_file(data):
        return case_from_tests(path, test)
    if test is not None:
        raise InputError(f"--test {test!r} was given, but {path} is a case file, not a test file.",
                         code=codes.BAD_SWEEP, file=str(path), field="--test")
    return data, None
