"""The ``policy`` application itself: help, and one entry point for the script and ``python -m``."""

from __future__ import annotations

import re

import pytest

from .helpers import REPO, invoke, run_module

pytestmark = pytest.mark.usefixtures("repo_cwd_and_cached_engines")


def test_help_end_to_end():
    proc = run_module("--help")
    assert proc.returncode == 0, proc.stderr
    for command in ("eval", "check", "test", "param", "table"):
        assert re.search(rf"\b{command}\b", proc.stdout), command


@pytest.mark.parametrize("command", ["eval", "check", "test", "param", "table"])
def test_subcommand_help(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_policy_script_and_python_dash_m_share_one_entry_point():
    """`policy` (pyproject [project.scripts]) and `python -m engine` both call engine.cli.fast:main
    (which starts `eval` alone and hands everything else to engine.cli.app:main)."""
    import tomllib
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["policy"] == "engine.cli.fast:main"
    main_module = (REPO / "engine" / "__main__.py").read_text(encoding="utf-8")
    assert "from .cli.fast import main" in main_module and "main()" in main_module
