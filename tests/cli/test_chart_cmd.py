"""One word for derived charts: `policy chart` and `charts:`, with `policy table` (the contract's
command) and `tables:` (older rulebooks) kept working."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import CompileError, Engine
from engine.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_policy_chart_and_policy_table_print_the_same():
    args = ["income-limits", "--as-of", "2025-06-01", "--format", "json",
            "--policy", str(ROOT / "policy")]
    chart = runner.invoke(app, ["chart", *args])
    table = runner.invoke(app, ["table", *args])
    assert chart.exit_code == table.exit_code == 0, chart.output + table.output
    assert chart.output == table.output
    data = json.loads(chart.output)
    assert data["table"] == "income-limits"           # the contract's key
    qmb_one = next(r for r in data["rows"] if r["program"] == "QMB" and r["household_size"] == 1)
    assert qmb_one["monthly_limit"] == "1305"           # IM-13 2025, QMB, one person


def test_an_unknown_chart_is_e403_and_exit_2():
    result = runner.invoke(app, ["chart", "no-such-chart", "--policy", str(ROOT / "policy")])
    assert result.exit_code == 2
    assert "E403" in result.output and "income-limits" in result.output


@pytest.fixture(scope="module")
def older(tmp_path_factory) -> Path:
    """The rulebooks with the charts under `tables:`, as rulebooks were written before."""
    copy = tmp_path_factory.mktemp("older") / "policy"
    shutil.copytree(ROOT / "policy", copy)
    charts = copy / "charts.yaml"
    text = charts.read_text()
    assert "\ncharts:\n" in text
    charts.write_text(text.replace("\ncharts:\n", "\ntables:\n"))
    return copy


def test_tables_is_still_read_as_charts(older):
    new = Engine.load(ROOT / "policy").chart("income-limits", "2025-06-01")
    old = Engine.load(older).table("income-limits", "2025-06-01")
    assert [(r.values, r.citations) for r in new.rows] == [(r.values, r.citations) for r in old.rows]


def test_a_rulebook_may_not_give_both(older, tmp_path):
    both = tmp_path / "policy"
    shutil.copytree(older, both)
    charts = both / "charts.yaml"
    charts.write_text(charts.read_text() + "\ncharts: {}\n")
    with pytest.raises(CompileError) as caught:
        Engine.load(both)
    assert [p.code for p in caught.value.problems] == ["E319"]
    assert caught.value.problems[0].file.endswith("charts.yaml")
