"""``policy eval`` without Typer (engine/cli/eval_run.py): the same output, errors and exit codes
as the Typer command for every form it reads itself, and Typer for every other form."""

from __future__ import annotations

import pytest

from engine.cli import eval_run

from .helpers import CASES, JONES, invoke, run_module

pytestmark = pytest.mark.usefixtures("repo_cwd_and_cached_engines")


@pytest.fixture(autouse=True)
def cached_engine(monkeypatch):
    """The Typer command's engines (tests/cli/conftest.py) for the direct path too."""
    from engine.cli import eval_cmd
    monkeypatch.setattr(eval_run, "load_engine", eval_cmd.load_engine)


def test_reads_the_usual_forms():
    assert eval_run.arguments([str(JONES)]) == {
        "case": str(JONES), "as_of": None, "format": "text", "explain": False,
        "provenance": False, "only": [], "policy": None}
    found = eval_run.arguments(["--format", "json", "c.yaml", "--as-of=2025-06-01", "--only", "a",
                                "--only=b", "--explain", "--provenance", "--policy", "policy"])
    assert found == {"case": "c.yaml", "as_of": "2025-06-01", "format": "json", "explain": True,
                     "provenance": True, "only": ["a", "b"], "policy": "policy"}
    assert eval_run.arguments(["-"])["case"] == "-"


@pytest.mark.parametrize("argv", [
    [], ["--help"], ["c.yaml", "--help"], ["c.yaml", "d.yaml"], ["c.yaml", "--format", "xml"],
    ["c.yaml", "--as-of"], ["c.yaml", "--only", "--explain"], ["c.yaml", "--explain=yes"],
    ["c.yaml", "--verbose"], ["c.yaml", "-x"], ["--", "c.yaml"], ["c.yaml", "--policy="],
])
def test_leaves_everything_else_to_typer(argv):
    assert eval_run.arguments(argv) is None
    assert eval_run.main(argv) is None


@pytest.mark.parametrize("argv", [
    [JONES, "--format", "json"],
    [JONES],
    [JONES, "--format=json", "--explain"],
    [JONES, "--format", "json", "--provenance", "--as-of", "2025-06-01"],
    [JONES, "--format", "json", "--only", "magi.household_size", "--only", "chip.family_premium"],
    [JONES, "--format", "text", "--explain", "--as-of=2019-01-01"],
    [CASES / "unknown_field.yaml", "--format", "json"],
    [CASES / "unparsable.yaml"],
    [CASES / "not_a_mapping.yaml", "--format", "json"],
    [CASES / "missing.yaml", "--format", "json"],
    [JONES, "--format", "json", "--as-of", "2018-02-30"],
    [JONES, "--format", "json", "--only", "no.such_result"],
])
def test_prints_what_the_typer_command_prints(argv, capsys):
    argv = [str(a) for a in argv]
    code = eval_run.main(argv)
    direct = capsys.readouterr()
    through_typer = invoke("eval", *argv)
    assert code == through_typer.exit_code
    assert direct.out == through_typer.stdout
    assert direct.err == through_typer.stderr


def test_standard_input_and_the_process_exit_code():
    case = JONES.read_text(encoding="utf-8")
    direct = run_module("eval", "-", "--format", "json", input=case)
    through_typer = invoke("eval", "-", "--format", "json", input=case)
    assert direct.returncode == through_typer.exit_code == 0
    assert direct.stdout == through_typer.stdout
    refused = run_module("eval", "-", input="just text")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == invoke("eval", "-", input="just text").stderr


def test_policy_eval_does_not_import_numpy(tmp_path):
    """NumPy (about 50 ms of CPU to import, more with its thread pools) is the columnar plan's,
    and a batch's reading of cases into rows; ``policy eval`` of one household needs neither.
    A top-level import of the row reader in engine/api.py once made every cold ``policy eval``
    pay for it (0.17 -> 0.32 s of CPU above a bare Python start, benchmarks/cold_start.py)."""
    import os
    import subprocess
    import sys

    from .helpers import REPO

    script = ("import sys\nfrom engine.cli.fast import main\n"
              "sys.argv = ['policy', 'eval', sys.argv[1]]\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              "print('numpy' in sys.modules, file=sys.stderr)\n")
    env = dict(os.environ, POLICY_CACHE_DIR=str(tmp_path / "cache"))
    for _ in range(2):      # the first run compiles the bundle; the second reads it
        done = subprocess.run([sys.executable, "-c", script, str(JONES)], capture_output=True,
                              text=True, cwd=REPO, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip().splitlines()[-1] == "False"
