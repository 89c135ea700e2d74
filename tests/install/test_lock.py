"""The pinned install: requirements.lock pins what pyproject.toml asks for, within its ranges.

scripts/setup.sh installs with requirements.lock as constraints, so a fresh clone tests the same
versions as CI. A dependency added to pyproject.toml without running scripts/lock.sh, or a range
changed so that the pinned version falls outside it, fails here with the command to run.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
FIX = "Run `bash scripts/lock.sh` and commit requirements.lock (docs/limits.md)."


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)$", line.strip())
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def _locked_extras() -> set[str] | None:
    """The extras scripts/lock.sh locked (its header says), or None for all of them."""
    match = re.search(r"\(extras: ([^)]*)\)", (ROOT / "requirements.lock").read_text(encoding="utf-8"))
    if not match or match.group(1).strip() in ("", "none"):
        return set() if match else None
    return {extra.strip() for extra in match.group(1).split(",")}


def _requirements() -> list[Requirement]:
    """The dependencies, and those of every extra the lock covers (LOCK_EXTRAS may leave a
    heavy extra out)."""
    with (ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    listed = list(project.get("dependencies", []))
    locked = _locked_extras()
    for name, extra in project.get("optional-dependencies", {}).items():
        if locked is None or name in locked:
            listed.extend(extra)
    return [Requirement(r) for r in listed]


def test_the_test_extra_is_locked():
    locked = _locked_extras()
    assert locked is None or "test" in locked, f"requirements.lock leaves out the test extra. {FIX}"


def test_every_dependency_is_pinned_within_its_range():
    pins = _pins()
    assert pins, "requirements.lock pins nothing"
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock. {FIX}"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"requirements.lock pins {requirement.name}=={pins[name]}, outside {requirement}. {FIX}"


def test_every_dependency_has_an_upper_bound():
    """A new major version may change behaviour the engine relies on (simpleeval's tree walk is
    overridden by engine.expressions.Evaluator): every range stops below one."""
    for requirement in _requirements():
        assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier), \
            f"{requirement} has no upper bound"


def test_setup_installs_with_the_lock_as_constraints():
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert "--constraint" in setup and "requirements.lock" in setup
