"""policy --version: the package version and a content hash of the rulebooks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

import engine
from engine.api import rulebook_fingerprint
from engine.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def version(monkeypatch, policy: Path) -> tuple[str, str]:
    monkeypatch.setenv("POLICY_DIR", str(policy))
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    first, second = result.output.strip().splitlines()
    found = re.fullmatch(r"rulebooks: (.+) \((\d+) files, sha256 ([0-9a-f]{64})\)", second)
    assert found, second
    assert Path(found.group(1)) == policy
    return first, found.group(3)


def test_prints_the_version_and_the_fingerprint_of_the_rulebooks(monkeypatch):
    first, fingerprint = version(monkeypatch, ROOT / "policy")
    assert first == f"policy {engine.__version__}"
    assert (fingerprint, len(list((ROOT / "policy").rglob("*.yaml"))) +
            len(list((ROOT / "policy").rglob("*.j2")))) == rulebook_fingerprint(ROOT / "policy")


def test_the_fingerprint_follows_the_content_not_the_place(monkeypatch, tmp_path):
    copy = tmp_path / "policy"
    shutil.copytree(ROOT / "policy", copy)
    _, original = version(monkeypatch, ROOT / "policy")
    _, copied = version(monkeypatch, copy)
    assert copied == original
    fpl = copy / "fpl.yaml"
    fpl.write_text(fpl.read_text() + "\n# a comment is a change too\n")
    _, edited = version(monkeypatch, copy)
    assert edited != original
    template = next(copy.rglob("*.j2"))
    fpl.write_text((ROOT / "policy" / "fpl.yaml").read_text())
    assert version(monkeypatch, copy)[1] == original
    template.write_text(template.read_text() + " ")
    assert version(monkeypatch, copy)[1] != original


def test_version_does_not_need_loadable_rulebooks(monkeypatch, tmp_path):
    (tmp_path / "broken.yaml").write_text("rulebook: [unclosed\n")
    first, fingerprint = version(monkeypatch, tmp_path)
    assert first.startswith("policy ") and len(fingerprint) == 64
