"""Each check's own failure, one fixture directory per code: ``tests/check/fixtures/<CODE>/``.

A fixture marks every line where ``policy check`` must report a problem with a comment
``# expect: CODE`` (or ``# expect: CODE at line N`` when the comment cannot stand on that line).
The test runs the check on the directory and requires exactly the marked problems: the right
code, on the right file and line, and nothing else. So a check that stops firing, fires on the
wrong line, or starts firing on a clean neighbour fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.checks import check

FIXTURES = Path(__file__).resolve().parent / "fixtures"
AS_OF = "2026-11-22"
_MARK = re.compile(r"#\s*expect:\s*([EW]\d{3})(?:\s+at\s+line\s+(\d+))?")


def expected(directory: Path) -> set[tuple[str, int, str]]:
    found = set()
    for path in sorted(directory.glob("*.yaml")):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in _MARK.finditer(text):
                line = int(match.group(2)) if match.group(2) else number
                found.add((path.name, line, match.group(1)))
    return found


#: The literate checks (a file's `description`, a rule's `says`) apply to every rulebook; a
#: fixture shows one other mistake in as few lines as possible, so they are looked for only in
#: their own fixture directories.
LITERATE = {"E590", "W591"}


def reported(directory: Path):
    report = check([directory], as_of=AS_OF)
    return report, {(Path(p.file).name, p.line, p.code) for p in report.problems
                    if p.code not in LITERATE or p.code == directory.name}


FIXTURE_DIRS = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


@pytest.mark.parametrize("directory", FIXTURE_DIRS, ids=[p.name for p in FIXTURE_DIRS])
def test_fixture_reports_exactly_its_marked_problems(directory: Path):
    want = expected(directory)
    assert want, f"{directory.name} marks no expected problem"
    assert all(code == directory.name for _, _, code in want) or directory.name in ("E540",), \
        f"{directory.name} marks problems of other codes: {want}"
    report, got = reported(directory)
    assert got == want, "\n".join(p.render() for p in report.problems)


def test_every_semantic_code_has_a_fixture():
    from engine.checks.codes import CODES
    semantic = {c for c in CODES if c[1] == "5"}
    have = {p.name for p in FIXTURE_DIRS}
    assert semantic <= have, f"codes without a fixture: {sorted(semantic - have)}"


def test_a_clean_rulebook_set_has_no_problems():
    """Valid expressions of every shape the checks reason about: nothing may be reported."""
    report = check([FIXTURES.parent / "clean"], as_of=AS_OF)
    assert report.problems == [], "\n".join(p.render() for p in report.problems)
