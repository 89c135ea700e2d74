"""The hostile-input corpus: one file per class of input that must be refused cleanly.

Each file in ``cases/`` (case files), ``rulebooks/`` (rulebooks, each loaded alone from a folder
of its own) and ``commands/`` (command lines) starts with a header:

    # hostile: what the input is
    # run: policy eval {file} --as-of 2025-06-01
    # expect: exit 2, E105, line 11
    # message: February has 28 days in 2025        (optional: words the output must contain)
    # patch: engine.runtime.state.MAX_STEPS = 2000    (optional: a limit lowered to save time)

``{file}`` is the corpus file itself, ``{dir}`` a folder holding only it, ``{case}`` a one-person
case file, ``{jones}`` examples/jones.yaml. The command runs in-process (as ``policy`` does) under
a time limit, and must end with exactly the expected exit code, the expected code in its output,
the file and line named when the header gives a line, and never a traceback or an "internal
error". To add a class, add a file; nothing here needs to change.
"""

from __future__ import annotations

import importlib
import re
import shlex
import shutil
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import common, dates_cmd, eval_cmd, param_cmd
from engine.cli.app import app

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = sorted(p for folder in ("cases", "rulebooks", "commands")
                for p in (HERE / folder).iterdir() if p.is_file())
#: Seconds a corpus command may take before it counts as a hang.
TIME_LIMIT = 60

_HEADER = re.compile(r"^#\s*(hostile|run|expect|message|patch):\s*(.*?)\s*$")
_EXPECT = re.compile(r"exit (\d)(?:, ([EW]\d{3}))?(?:, line (\d+))?$")

runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _repository_rulebooks_loaded_once():
    """The repository's rulebooks are loaded once for the module (a corpus rulebook, in a folder
    of its own, is loaded by its command as usual)."""
    original = common.load_engine
    cache: dict = {}

    def load_engine(policy):
        if policy is not None:
            return original(policy)
        if "repo" not in cache:
            cache["repo"] = original(None)
        return cache["repo"]

    with pytest.MonkeyPatch.context() as mp:
        for module in (eval_cmd, param_cmd, dates_cmd):
            mp.setattr(module, "load_engine", load_engine)
        yield


def header(path: Path) -> dict:
    found: dict = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            match = _HEADER.match(line)
            if match:
                found[match.group(1)] = match.group(2)
    return found


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang(f"the command ran for more than {TIME_LIMIT} seconds")


@pytest.mark.parametrize("path", CORPUS, ids=[f"{p.parent.name}/{p.name}" for p in CORPUS])
def test_hostile_input_is_refused_cleanly(path: Path, tmp_path, monkeypatch):
    spec = header(path)
    assert {"hostile", "run", "expect"} <= set(spec), f"{path.name}: incomplete header {spec}"
    expect = _EXPECT.match(spec["expect"])
    assert expect, f"{path.name}: cannot read `# expect: {spec['expect']}`"
    code, problem_code, line = int(expect.group(1)), expect.group(2), expect.group(3)

    folder = tmp_path / "rulebooks"
    folder.mkdir()
    shutil.copy(path, folder / path.name)
    case = tmp_path / "case.yaml"
    case.write_text("case_id: probe\npeople:\n  - id: a\n", encoding="utf-8")
    command = spec["run"].format(file=path, dir=folder, case=case, jones=REPO / "examples" / "jones.yaml")
    argv = shlex.split(command)
    assert argv[0] == "policy", command

    if "patch" in spec:
        target, value = (part.strip() for part in spec["patch"].split("(")[0].split("="))
        module, attribute = target.rsplit(".", 1)
        monkeypatch.setattr(importlib.import_module(module), attribute, int(value))
    monkeypatch.chdir(REPO)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT)
    try:
        result = runner.invoke(app, argv[1:])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

    output = result.stdout + result.stderr
    shown = f"{command}\nexit {result.exit_code}\n{output[-3000:]}"
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"{shown}\n{result.exception!r}"
    assert "Traceback" not in output and "internal error" not in output, shown
    assert result.exit_code == code, shown
    if code:
        assert result.stderr.strip(), f"nothing on stderr\n{shown}"
    if problem_code:
        assert re.search(rf"\b{problem_code}\b", output), shown
    if line:
        assert re.search(rf"{re.escape(path.name)}:{line}: error {problem_code}", output), shown
    elif code and "{file}" in spec["run"] and path.parent.name == "cases":
        assert path.name in result.stderr, f"the message does not name the file\n{shown}"
    if "message" in spec:
        assert spec["message"] in output, shown


def test_every_folder_of_the_corpus_has_classes():
    for folder in ("cases", "rulebooks", "commands"):
        assert any((HERE / folder).iterdir()), folder
