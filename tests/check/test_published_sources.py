"""E540 names the parameters a derived cell came from, with file and line (issue 11): an analyst
who mistyped the poverty guideline is pointed at fpl.yaml, not only at the published chart."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli.app import app

REPO = Path(__file__).resolve().parents[2]


def test_e540_names_the_mistyped_guideline_and_where_it_is(tmp_path):
    policy = tmp_path / "policy"
    shutil.copytree(REPO / "policy", policy)
    fpl = policy / "fpl.yaml"
    text = fpl.read_text(encoding="utf-8")
    assert "        value: 15650\n" in text          # the 2025 guideline for one (90 FR 5917)
    fpl.write_text(text.replace("        value: 15650\n", "        value: 15560\n"), encoding="utf-8")
    line = next(i for i, l in enumerate(fpl.read_text().splitlines(), 1) if l.strip() == "value: 15560")
    result = CliRunner().invoke(app, ["check", str(policy), "--format", "json"])
    assert result.exit_code == 1
    errors = [e for e in json.loads(result.stdout)["errors"] if e["code"] == "E540"]
    assert errors
    message = next(e["message"] for e in errors if "program QMB, household_size 1" in e["message"])
    assert "says 1305" in message
    assert f"fpl.first_person = 15560 ({fpl}:{line - 1})" in message
    assert "fpl.additional_person = 5500" in message
