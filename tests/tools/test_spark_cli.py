"""``--runner spark`` without pyspark: one clear sentence and exit 2, never a traceback (runs
whether or not the spark extra is installed)."""

from __future__ import annotations

import sys

from typer.testing import CliRunner

from .conftest import POLICY

runner = CliRunner()


def app():
    from engine.cli.app import app as the_app
    return the_app


def test_runner_spark_without_pyspark_says_how_to_install_it(monkeypatch, tmp_path):
    import engine.tools
    monkeypatch.setitem(sys.modules, "engine.tools.spark_runner", None)   # import fails
    monkeypatch.delattr(engine.tools, "spark_runner", raising=False)
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"case_id": "a", "people": [{"id": "p", "age": 30}]}\n')
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app(), ["batch", str(cases), "--out", str(out), "--as-of", "2025-08-01",
                                   "--policy", str(POLICY), "--runner", "spark"])
    assert result.exit_code == 2
    assert "needs pyspark" in result.output and "pip install" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app(), ["change", "--cases", str(cases), "--before", "2025-03-31",
                                   "--after", "2025-04-01", "--out", str(out), "--policy",
                                   str(POLICY), "--runner", "spark"])
    assert result.exit_code == 2 and "needs pyspark" in result.output


def test_parquet_is_the_local_runners(tmp_path):
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"case_id": "a", "people": [{"id": "p", "age": 30}]}\n')
    result = runner.invoke(app(), ["batch", str(cases), "--out", str(tmp_path / "o.parquet"),
                                   "--format", "parquet", "--runner", "spark"])
    assert result.exit_code == 2 and "E112" in result.output
