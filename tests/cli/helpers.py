"""What the tests of the ``policy`` command share: paths, the contract's figures, and helpers that
run the command (in-process with ``CliRunner``, or as ``python -m engine``) and check its output.

Expected values come from /work/shared/CONTRACT.md and the manual: the Jones example of MAGI
Manual 1805.030.20.20.05 (2018 guidelines) and the Appendix J figures of FSD Memorandum IM-13 2025.
Fixtures live in tests/cli/fixtures/: invalid case files, probe rulebooks with one defect each, and
a policy test file with one wrong expectation. Defects in real rulebooks are made in a copy of
``policy/`` under ``tmp_path``, never in ``policy/`` itself.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli.app import app

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CASES = FIXTURES / "cases"
JONES = REPO / "examples" / "jones.yaml"

#: A binary-float artefact in a decimal string: 0.30000000000000004, 1993.1799999999.
FLOAT_ARTEFACT = re.compile(r"\.\d*(0{6,}[1-9]|9{6,})")
#: Results that are money, so carry at most cents.
MONEY_RESULTS = {"magi.household_income", "chip.family_premium", "twha.premium"}
#: Program codes whose limit is a percent of FPL and depends on household size (IM-13 2025, Appendix A/J).
PERCENT_PROGRAMS = ["MHK_UNDER_1", "MHK", "CHIP_73", "CHIP_74", "CHIP_75", "MPW", "SMHB", "UWHS", "AEG",
                    "OAA_PTD", "AB", "QMB", "SLMB1", "SLMB2", "QDWI", "TWHA"]
NON_MAGI = ["OAA_PTD", "AB", "QMB", "SLMB1", "SLMB2", "QDWI", "TWHA", "BP_SIGHTED_SPOUSE"]

#: Every figure of IM-13 2025 (Appendix J, in force April 1, 2025 to March 31, 2026):
#: (program, household size) -> (percent of FPL, monthly limit). TWHA is the ceiling of the
#: "250% FPL up to 300% FPL" band (single $3913.00, couple $5288.00), which policy/charts.yaml
#: lists as program TWHA with household sizes 1 (single) and 2 (couple).
IM13_2025 = {
    ("OAA_PTD", 1): (85, 1109), ("OAA_PTD", 2): (85, 1499),
    ("AB", 1): (100, 1305), ("AB", 2): (100, 1763),
    ("QDWI", 1): (200, 2609), ("QDWI", 2): (200, 3525),
    ("QMB", 1): (100, 1305), ("QMB", 2): (100, 1763), ("QMB", 3): (100, 2221),
    ("SLMB1", 1): (120, 1565), ("SLMB1", 2): (120, 2115), ("SLMB1", 3): (120, 2665),
    ("SLMB2", 1): (135, 1761), ("SLMB2", 2): (135, 2380), ("SLMB2", 3): (135, 2999),
    ("BP_SIGHTED_SPOUSE", 2): (500, 8813),
    ("TWHA", 1): (300, 3913), ("TWHA", 2): (300, 5288),
}

runner = CliRunner()


def invoke(*args, input: str | None = None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def run_module(*args, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *map(str, args)], capture_output=True,
                          text=True, cwd=REPO, input=input, timeout=60)


def assert_no_traceback(result) -> None:
    out, err = result.stdout, result.stderr
    assert "Traceback" not in out and "Traceback" not in err, (out, err)
    exc = getattr(result, "exception", None)
    assert exc is None or isinstance(exc, SystemExit), repr(exc)


def assert_cannot_run(result, *needles: str) -> str:
    """Exit 2, nothing on stdout, one clear paragraph on stderr containing every needle."""
    assert_no_traceback(result)
    code = result.returncode if isinstance(result, subprocess.CompletedProcess) else result.exit_code
    assert code == 2, (code, result.stdout, result.stderr)
    err = result.stderr.strip()
    assert err, "nothing on stderr"
    assert result.stdout.strip() == "", result.stdout
    assert "\n\n" not in err, f"more than one paragraph on stderr:\n{err}"
    for needle in needles:
        assert needle in err, f"{needle!r} not in stderr:\n{err}"
    return err


def leaves(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from leaves(value)
    elif isinstance(node, list):
        for value in node:
            yield from leaves(value)
    else:
        yield node


def assert_no_float_artefacts(data) -> None:
    for leaf in leaves(data):
        assert not isinstance(leaf, float), f"binary float {leaf!r} in JSON output"
        if isinstance(leaf, (str, Decimal)):
            assert not FLOAT_ARTEFACT.search(str(leaf)), f"float artefact {leaf!r} in JSON output"


def decimal_places(value) -> int:
    exponent = Decimal(str(value)).as_tuple().exponent
    return max(0, -exponent)


def num(value) -> Decimal:
    return Decimal(str(value))


def parse_json(text: str):
    return json.loads(text, parse_float=Decimal)


def result_of(evaluation: dict, name: str, person) -> dict:
    found = [r for r in evaluation["results"] if r["name"] == name and r["person"] == person]
    assert len(found) == 1, f"{len(found)} results named {name} for {person!r}"
    return found[0]


def check_citations(citations) -> None:
    assert isinstance(citations, list) and citations, "no citations"
    for c in citations:
        assert c.get("source"), c
        assert c.get("section") or c.get("url"), c


def line_of_text(path: Path, needle: str, start: int = 1) -> int:
    """1-based number of the first line at or after ``start`` that contains ``needle``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if number >= start and needle in line:
            return number
    pytest.fail(f"{needle!r} not found in {path}; the rulebook changed under the test")


def copy_policy(tmp_path: Path) -> Path:
    target = tmp_path / "policy"
    shutil.copytree(REPO / "policy", target)
    return target


def insert_after(path: Path, line_number: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(line_number, text)
    path.write_text("".join(lines), encoding="utf-8")
