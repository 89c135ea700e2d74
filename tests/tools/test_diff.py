"""``policy diff``: changed values and rules, and the cases a change affects."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from engine import Engine
from engine.tools.diff import diff_programs

from .conftest import FIXTURES, POLICY

runner = CliRunner()


def diff(*args):
    return runner.invoke(app(), ["diff", *map(str, args)])


def app():
    from engine.cli.app import app as policy_app
    return policy_app


def test_a_changed_poverty_guideline_lists_the_affected_cases(policy_copy):
    # 2025 guideline for 3: 15,650 + 2 x 5,500 = 26,650; Jones earns 30 x 40 x 4.333 = 5,199.60 a
    # month: 5,199.60 x 12 / 26,650 = 234.13% -> CHIP 75 (above 225%). With first_person 17,650
    # the guideline for 3 is 28,650: 217.78% -> CHIP 74 (above 185%, at most 225%). The family
    # premium for 3 (chart from July 1, 2024) falls from tier 3's $242 to tier 2's $99.
    new = policy_copy("fpl.yaml", "value: 15650", "value: 17650")   # first_person from 2025-04-01
    result = diff(POLICY, new, "--cases", FIXTURES / "cases.jsonl", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (change,) = [c for c in data["changes"] if c["name"] == "fpl.first_person"]
    assert change == {**change, "change": "changed", "what": "value", "effective_from": "2025-04-01",
                      "old": 15650, "new": 17650}
    cases = data["cases"]
    assert (cases["evaluated"], cases["changed"], cases["errors"]) == (2, 2, 0)
    transitions = {(t["name"], str(t["old"]), str(t["new"])): t["count"] for t in cases["transitions"]}
    assert transitions[("eligibility.level_of_care", "CHIP_75", "CHIP_74")] == 2
    assert transitions[("chip.family_premium", "242", "99")] == 1
    jones = next(c for c in cases["changed_cases"] if c["case_id"] == "jones-2025")
    kid1 = [c for c in jones["changes"] if c["person"] == "kid1" and c["name"] == "eligibility.level_of_care"]
    assert kid1 == [{"name": "eligibility.level_of_care", "person": "kid1", "old": "CHIP_75", "new": "CHIP_74"}]


def test_text_output_names_the_change_and_the_transitions(policy_copy):
    new = policy_copy("fpl.yaml", "value: 15650", "value: 17650")
    result = diff(POLICY, new, "--cases", FIXTURES / "cases.jsonl")
    assert "parameter fpl.first_person, value from 2025-04-01: value changed: 15650 -> 17650" in result.stdout
    assert "eligibility.level_of_care: CHIP_75 -> CHIP_74: 2 result(s)" in result.stdout
    assert "Cases: 2 evaluated, 2 changed, 0 unchanged, 0 could not be evaluated." in result.stdout


def test_no_change_means_no_differences_and_exit_code_0_even_with_exit_code():
    result = diff(POLICY, POLICY, "--cases", FIXTURES / "cases.jsonl", "--exit-code")
    assert result.exit_code == 0, result.output
    assert "Rulebook changes from" in result.stdout and "(none)" in result.stdout
    assert "2 evaluated, 0 changed, 2 unchanged" in result.stdout


def test_exit_code_1_when_something_changed(policy_copy):
    new = policy_copy("fpl.yaml", "value: 15650", "value: 17650")
    assert diff(POLICY, new, "--exit-code").exit_code == 1


def test_rule_changes_name_the_part_that_changed(clean_copy):
    from .conftest import CLEAN
    new = clean_copy("rules.yaml", "formula: years < 19 and", "formula: years < 21 and")
    changes = diff_programs(Engine.load(CLEAN).program, Engine.load(new).program)
    (change,) = changes
    assert (change.kind, change.name, change.what) == ("rule", "demo.is_child", "formula")
    assert change.old.startswith("years < 19") and change.new.startswith("years < 21")


def test_condition_and_citation_changes_are_named(clean_copy):
    from .conftest import CLEAN
    new = clean_copy("rules.yaml", 'then: round_up(monthly * 1.05, "1")', 'then: round_up(monthly * 1.06, "1")')
    (change,) = diff_programs(Engine.load(CLEAN).program, Engine.load(new).program)
    assert (change.name, change.what) == ("demo.maybe", "condition 2")
    assert "1.06" in change.new and "1.05" in change.old


def test_added_and_removed_values_by_effective_date(clean_copy):
    from .conftest import CLEAN
    new = clean_copy("other.yaml", "      2025-07-01: 10", "      2024-07-01: 10")
    changes = diff_programs(Engine.load(CLEAN).program, Engine.load(new).program)
    got = {(c.name, c.change, c.effective_from) for c in changes}
    assert got == {("other.base", "added", "2024-07-01"), ("other.base", "removed", "2025-07-01")}


def test_band_and_table_values_compare_by_content(clean_copy):
    from .conftest import CLEAN
    new = clean_copy("rules.yaml", "1996-07-16: {1: 141, 2: 241}", "1996-07-16: {1: 141, 2: 242}")
    (change,) = [c for c in diff_programs(Engine.load(CLEAN).program, Engine.load(new).program)
                 if c.name == "demo.sizes"]
    assert change.what == "value" and change.old == {"1": 141, "2": 241} and change.new["2"] == 242


@pytest.fixture
def git_repo(tmp_path):
    """A git repository whose policy/ has two commits: the second changes one value."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    from .conftest import CLEAN
    repo = tmp_path / "repo"
    shutil.copytree(CLEAN, repo / "policy")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}

    def git(*args):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)

    git("init", "-q")
    git("add", "policy")
    git("commit", "-q", "-m", "one")
    path = repo / "policy" / "other.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("2026-07-01: 11", "2026-07-01: 12"), encoding="utf-8")
    git("commit", "-q", "-am", "two")
    return repo


def test_git_revisions_of_the_policy_directory(git_repo):
    result = diff("--git", "HEAD~1", "HEAD", "--policy", git_repo / "policy", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["old"], data["new"]) == ("HEAD~1", "HEAD")
    assert [(c["name"], c["effective_from"], c["old"], c["new"]) for c in data["changes"]] == \
        [("other.base", "2026-07-01", 11, 12)]
    assert data["changes"][0]["file"] == "other.yaml"


def test_an_unknown_revision_is_exit_2_with_a_sentence(git_repo):
    result = diff("--git", "no-such-rev", "HEAD", "--policy", git_repo / "policy")
    assert result.exit_code == 2
    assert "E111" in result.output and "no-such-rev" in result.output


def test_arguments_are_required():
    result = diff(POLICY)
    assert result.exit_code == 2 and "two rulebook directories" in result.output


def test_a_revision_that_looks_like_an_option_is_refused(tmp_path):
    """git would read `--output=...` as an option of `git archive`, not as a revision."""
    from engine.tools.diff import checkout_revision
    from engine.errors import InputError
    with pytest.raises(InputError) as raised:
        checkout_revision("--output=" + str(tmp_path / "x.tar"), POLICY, tmp_path)
    assert raised.value.problem.code == "E111"
    assert not (tmp_path / "x.tar").exists()
