"""``policy diff OLD NEW``: parameter values and rules that changed, and the cases they affect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Tuple

import typer

from ..api import Engine
from ..tools.batch import read_cases
from ..tools.diff import compare_cases, diff_programs, load_revisions, temporary_directory
from ..errors import InputError, codes
from ..io.paths import default_policy_dir
from ..language.dates import as_of_date
from .common import AsOfOption, Format, OK, PROBLEMS, exits


def diff_command(
    old: Optional[Path] = typer.Argument(None, help="The old rulebook directory."),
    new: Optional[Path] = typer.Argument(None, help="The new rulebook directory."),
    git: Optional[Tuple[str, str]] = typer.Option(None, "--git", metavar="REV1 REV2",
                                                  help="Compare the policy directory at two git revisions instead (for example HEAD~1 HEAD)."),
    cases: Optional[Path] = typer.Option(None, "--cases", metavar="FILE|DIR",
                                         help="Re-evaluate these cases (JSONL, a case file, or a directory of case and test files) under both versions."),
    as_of: Optional[str] = AsOfOption,
    format: Format = typer.Option(Format.text, "--format", help="Output format."),
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 when a rule, value or case result changed."),
    classify: bool = typer.Option(False, "--classify", help="With --cases: classify each changed result the way a mass change is (no_change, increase, reduction, loss, gain, ...), with its notices, by the new rulebooks' change comparisons."),
    policy: Optional[Path] = typer.Option(None, "--policy", metavar="DIR", help="With --git: the rulebook directory (default: ./policy)."),
):
    """Compare two versions of the rulebooks: every parameter value (by effective date), rule,
    function and table that changed; with --cases, every case whose results changed."""
    with exits():
        if as_of:
            as_of = as_of_date(as_of).isoformat()
        with temporary_directory() as workdir:
            if git:
                if old or new:
                    raise InputError("Give either two directories or --git REV1 REV2, not both.",
                                     code=codes.DIFF_VERSIONS)
                (old_engine, new_engine), (old_root, new_root) = load_revisions(
                    tuple(git), policy or default_policy_dir(), workdir)
                labels = (git[0], git[1])
            else:
                if old is None or new is None:
                    raise InputError("Give two rulebook directories (OLD NEW) or --git REV1 REV2.",
                                     code=codes.DIFF_VERSIONS)
                old_engine, new_engine = Engine.load(old), Engine.load(new)
                old_root, new_root = str(old), str(new)
                labels = (str(old), str(new))
            changes = diff_programs(old_engine.program, new_engine.program, old_root, new_root)
            case_diff = classified = None
            if cases is not None:
                case_diff = compare_cases(old_engine, new_engine,
                                          read_cases(cases, new_engine.program), as_of)
                if classify:
                    from ..tools.rulebook_change import classify_cases
                    classified = classify_cases(old_engine, new_engine,
                                                read_cases(cases, new_engine.program), as_of)
            elif classify:
                raise InputError("--classify needs --cases FILE|DIR.", code=codes.DIFF_VERSIONS)
    changed = bool(changes) or bool(case_diff and case_diff.changed)
    if format == Format.json:
        data = {"old": labels[0], "new": labels[1], "changes": [c.as_dict() for c in changes]}
        if case_diff is not None:
            data["cases"] = case_diff.as_dict()
        if classified is not None:
            data["classified"] = classified.as_dict()
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        typer.echo(render_text(labels, changes, case_diff))
        if classified is not None:
            typer.echo("")
            typer.echo(classified.render())
    raise typer.Exit(PROBLEMS if exit_code and changed else OK)


def render_text(labels, changes, case_diff) -> str:
    lines = [f"Rulebook changes from {labels[0]} to {labels[1]}: {len(changes)}"]
    lines += [f"  {c.render()}" for c in changes] or ["  (none)"]
    if case_diff is not None:
        data = case_diff.as_dict()
        lines.append("")
        lines.append(f"Cases: {data['evaluated']} evaluated, {data['changed']} changed, "
                     f"{data['unchanged']} unchanged, {data['errors']} could not be evaluated.")
        for t in data["transitions"]:
            lines.append(f"  {t['name']}: {_v(t['old'])} -> {_v(t['new'])}: {t['count']} result(s)")
        for case in data["changed_cases"]:
            lines.append(f"  {case['case']} ({case['case_id']}, as of {case['as_of']}):")
            for c in case["changes"]:
                who = f"{c['person']}: " if c["person"] is not None else ""
                lines.append(f"      {who}{c['name']} {_v(c['old'])} -> {_v(c['new'])}")
        for error in data["error_cases"]:
            lines.append(f"  {error['case']}: cannot be evaluated ({error['side']}): "
                         f"{error['code']} {error['message']}")
    return "\n".join(lines)


def _v(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return "None" if value is None else str(value)
