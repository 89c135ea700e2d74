"""``policy batch`` without Typer (engine/cli/batch_run.py): the same files, output, errors and
exit codes as the Typer command for every form it reads itself, and Typer for every other form."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import batch_run

from .helpers import REPO, invoke, run_module

pytestmark = pytest.mark.usefixtures("repo_cwd_and_cached_engines")

CASES_JSONL = REPO / "tests" / "tools" / "fixtures" / "cases.jsonl"


@pytest.fixture
def bad_jsonl(tmp_path) -> Path:
    """Two good cases around a line that is not JSON and a case without people."""
    good = CASES_JSONL.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join([good[0], "{not json", '{"case_id": "no-people"}', good[1]]) + "\n",
                    encoding="utf-8")
    return path


def resolved(out: Path) -> list:
    """The lines of a batch output with every citation id replaced by its citation."""
    table = json.loads(out.with_name(out.name + ".citations.json").read_text(encoding="utf-8"))
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    for line in lines:
        for result in line.get("results", []):
            result["citations"] = [table[i] for i in result["citations"]]
    return lines


def test_reads_the_usual_forms():
    assert batch_run.arguments(["c.jsonl"]) == {
        "cases": "c.jsonl", "as_of": None, "out": "-", "workers": 1, "only": [],
        "citations": None, "because": False, "nulls": None, "format": "jsonl",
        "evaluator": "columnar", "policy": None}
    found = batch_run.arguments([
        "--out", "o.jsonl", "c.jsonl", "--as-of=2025-08-01", "--workers", "2", "--only", "a",
        "--only=b", "--citations", "full", "--because", "--no-nulls", "--format=parquet",
        "--evaluator", "per-case", "--policy", "policy"])
    assert found == {"cases": "c.jsonl", "as_of": "2025-08-01", "out": "o.jsonl", "workers": 2,
                     "only": ["a", "b"], "citations": "full", "because": True, "nulls": False,
                     "format": "parquet", "evaluator": "per-case", "policy": Path("policy")}
    assert batch_run.arguments(["-", "--out", "-", "--nulls"])["cases"] == "-"
    assert batch_run.arguments(["-", "--out", "-", "--nulls"])["out"] == "-"
    assert batch_run.arguments(["-", "--nulls"])["nulls"] is True
    assert batch_run.arguments(["c.jsonl", "--workers", "64"])["workers"] == 64


@pytest.mark.parametrize("argv", [
    [], ["--help"], ["c.jsonl", "--help"], ["c.jsonl", "d.jsonl"], ["c.jsonl", "--format", "csv"],
    ["c.jsonl", "--citations", "some"], ["c.jsonl", "--evaluator", "fast"],
    ["c.jsonl", "--workers", "0"], ["c.jsonl", "--workers", "65"], ["c.jsonl", "--workers", "two"],
    ["c.jsonl", "--workers", "-1"], ["c.jsonl", "--out"], ["c.jsonl", "--out", "--workers"],
    ["c.jsonl", "--because=yes"], ["c.jsonl", "--verbose"], ["c.jsonl", "-w"], ["--", "c.jsonl"],
    ["c.jsonl", "--policy="], ["c.jsonl", "--runner", "spark"], ["c.jsonl", "--runner", "local"],
    ["c.jsonl", "--spark-master", "local[2]"],
])
def test_leaves_everything_else_to_typer(argv):
    assert batch_run.arguments(argv) is None
    assert batch_run.main(argv) is None


#: The rate a run reports, which differs from run to run.
RATE = re.compile(r"\d+ cases/s")


def same_runs(text: str, directory: Path) -> str:
    """The report of a run, its directory and rate replaced by placeholders."""
    return RATE.sub("N cases/s", text.replace(str(directory), "{dir}"))


def both_ways(argv: list, tmp_path: Path, capsys) -> tuple:
    """(exit code, stdout, stderr, files written) of the direct path and of the Typer command,
    each writing into a directory of its own (named the same in the arguments)."""
    outcomes = []
    for way in ("direct", "typer"):
        directory = tmp_path / way
        directory.mkdir()
        args = [str(a).replace("{dir}", str(directory)) for a in argv]
        if way == "direct":
            code = batch_run.main(args)
            captured = capsys.readouterr()
            out, err = captured.out, captured.err
        else:
            result = invoke("batch", *args)
            code, out, err = result.exit_code, result.stdout, result.stderr
        files = {p.name: p.read_bytes() for p in sorted(directory.iterdir())}
        outcomes.append((code, out.replace(str(directory), "{dir}"), same_runs(err, directory),
                         files))
    return tuple(outcomes)


@pytest.mark.parametrize("argv", [
    [CASES_JSONL, "--out", "{dir}/o.jsonl"],
    [CASES_JSONL, "--out", "{dir}/o.jsonl", "--workers", "2", "--as-of", "2025-08-01"],
    [CASES_JSONL, "--out={dir}/o.jsonl", "--citations", "none", "--nulls"],
    [CASES_JSONL, "--citations", "full", "--only", "eligibility.level_of_care"],
    [CASES_JSONL, "--citations", "none", "--evaluator", "per-case", "--as-of", "2018-06-01"],
    [CASES_JSONL, "--out", "{dir}/o.jsonl", "--because", "--no-nulls"],
    [CASES_JSONL, "--citations", "deciding"],
    [CASES_JSONL, "--out", "{dir}/o.jsonl", "--only", "no.such_result"],
    [CASES_JSONL, "--out", "{dir}/o.jsonl", "--as-of", "2018-02-30"],
    [CASES_JSONL, "--out", "{dir}/o.parquet", "--format", "parquet", "--no-nulls"],
    ["{dir}/missing.jsonl", "--out", "{dir}/o.jsonl"],
    [CASES_JSONL, "--out", "{dir}/o.jsonl", "--policy", "{dir}/no-rulebooks"],
])
def test_writes_what_the_typer_command_writes(argv, tmp_path, capsys):
    direct, through_typer = both_ways(argv, tmp_path, capsys)
    assert direct == through_typer


def test_errors_per_case_and_the_exit_code(bad_jsonl, tmp_path, capsys):
    direct, through_typer = both_ways([bad_jsonl, "--out", "{dir}/o.jsonl", "--workers", "2"],
                                      tmp_path, capsys)
    assert direct == through_typer
    code, _, err, files = direct
    assert code == 1 and "4 case(s) evaluated, 2 error(s)" in err
    assert b'"code":"E100"' in files["o.jsonl"].splitlines()[1]


def test_the_process_gives_the_same_files_help_and_errors(bad_jsonl, tmp_path):
    """Through ``python -m engine`` (engine/cli/fast.py): the direct path for a run, Typer for
    help and for a value it refuses, each as the full application gives it."""
    out = tmp_path / "process.jsonl"
    process = run_module("batch", bad_jsonl, "--out", out, "--workers", "2")
    typer_out = tmp_path / "typer.jsonl"
    through_typer = invoke("batch", bad_jsonl, "--out", typer_out, "--workers", "2")
    assert process.returncode == through_typer.exit_code == 1
    assert RATE.sub("", process.stderr) == \
        RATE.sub("", through_typer.stderr.replace(str(typer_out), str(out)))
    # Citation ids number every citation the process has read (CitationIds.of_process): this
    # test process has loaded other rulebooks too, so the lines are compared as a reader sees
    # them, each id replaced by the citation its own table gives.
    assert resolved(out) == resolved(typer_out)
    for argv in (["--help"], [bad_jsonl, "--workers", "0"], [bad_jsonl, "--format", "csv"]):
        process = run_module("batch", *argv)
        through_typer = invoke("batch", *argv)
        assert process.returncode == through_typer.exit_code
        assert (process.returncode == 0) == (argv == ["--help"])
        assert process.stdout == through_typer.stdout
        assert process.stderr == through_typer.stderr


@pytest.mark.parametrize("cases", ["missing.jsonl", "missing-directory/"])
@pytest.mark.parametrize("options", [[], ["--format", "parquet"]], ids=["jsonl", "parquet"])
def test_an_unreadable_input_leaves_the_output_file_alone(cases, options, tmp_path, capsys):
    """The input is refused before ``--out`` is opened: a missing cases file used to leave an
    existing output file emptied (both paths run the same body)."""
    out = tmp_path / "kept.jsonl"
    out.write_bytes(b"earlier results\n")
    code = batch_run.main([str(tmp_path / cases), "--out", str(out), *options])
    through_typer = invoke("batch", tmp_path / cases, "--out", out, *options)
    assert code == through_typer.exit_code == 2
    assert "E107" in capsys.readouterr().err and "E107" in through_typer.stderr
    assert out.read_bytes() == b"earlier results\n"


#: Imported by nothing a usual batch run does, once the rulebooks are a compiled bundle: PyYAML
#: and jinja2 (rulebooks read from YAML, reasons and notices rendered), ~60 ms of its start;
#: Typer, Click, pydantic and rich (the Typer command, the progress bar on a terminal).
NOT_IMPORTED = ("yaml", "jinja2", "typer", "click", "pydantic", "rich")
IMPORTED = """
import sys
from engine.cli.fast import main
sys.argv = ["policy", "batch", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(" ".join(sorted(name for name in {names!r} if name in sys.modules)))
"""


def test_a_run_served_by_the_bundle_imports_no_yaml_nor_jinja2(tmp_path):
    script = IMPORTED.format(names=NOT_IMPORTED)
    env = dict(os.environ, POLICY_CACHE_DIR=str(tmp_path / "cache"))
    runs = []
    for index in range(2):      # the first run compiles the bundle (from YAML); the second reads it
        out = tmp_path / f"out{index}.jsonl"
        done = subprocess.run([sys.executable, "-c", script, str(CASES_JSONL), "--out", str(out),
                               "--workers", "2"], capture_output=True, text=True, cwd=REPO,
                              env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        runs.append((done.stdout.split(), out.read_bytes()))
    assert {"yaml", "jinja2"} <= set(runs[0][0])
    assert runs[1][0] == []
    assert runs[1][1] == runs[0][1]
