"""``policy diff``: what changed between two versions of the rulebooks, and whom it affects.

Two versions (two directories, or two git revisions of the repository's ``policy/``) are loaded
and compared definition by definition:

* every **parameter value** by effective date: added, removed, or changed (the value, ``until``,
  the citation), and parameter-level changes (unit, rounding, citation);
* every **rule, function and table**: added, removed, or changed, naming what changed (the
  formula, a condition, a table row, the citation, the declared type, the rounding, the reason);
* every **fact** of the case vocabulary: added, removed, or of another type.

With cases, each case is evaluated under both versions and every result whose value differs
is listed (``eligibility.level_of_care`` for kid1: ``CHIP_75`` -> ``CHIP_74``), with counts by
result and by transition, so that a reviewer sees whom a change of a guideline touches.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..api import Engine
from .batch import Task, case_data
from ..model.definitions import AggregateBody, ConditionsBody, DecisionTableBody, FormulaBody
from ..errors import InputError, PolicyError, codes
from ..runtime.results import json_value


@dataclass
class Change:
    """One difference between the two versions."""

    kind: str                   # parameter, rule, function, table, fact
    name: str
    change: str                 # added, removed, changed
    what: str | None = None     # value, until, citation, formula, condition 2, ...
    effective_from: str | None = None
    old: object = None
    new: object = None
    file: str | None = None
    line: int | None = None

    def as_dict(self) -> dict:
        out = {"kind": self.kind, "name": self.name, "change": self.change}
        for key in ("what", "effective_from", "file", "line"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.change != "added":
            out["old"] = self.old
        if self.change != "removed":
            out["new"] = self.new
        return out

    def render(self) -> str:
        where = f"  ({self.file}:{self.line})" if self.file and self.line else ""
        subject = f"{self.kind} {self.name}"
        if self.effective_from:
            subject += f", value from {self.effective_from}"
        if self.change == "added":
            detail = f": added{_arrow(None, self.new, only_new=True)}"
        elif self.change == "removed":
            detail = f": removed (was {_short(self.old)})" if self.old is not None else ": removed"
        else:
            detail = f": {self.what} changed{_arrow(self.old, self.new)}"
        return f"{subject}{detail}{where}"


def _short(value, limit: int = 120) -> str:
    text = value if isinstance(value, str) else repr(value) if not isinstance(value, (int, float)) else str(value)
    if isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _arrow(old, new, only_new=False) -> str:
    if only_new:
        return f" ({_short(new)})" if new is not None else ""
    return f": {_short(old)} -> {_short(new)}"


# ----------------------------------------------------------------------------------------------
# Rulebook differences
# ----------------------------------------------------------------------------------------------

def diff_programs(old, new, old_root: str | None = None, new_root: str | None = None) -> list[Change]:
    changes: list[Change] = []
    show_new = _shower(new_root)
    show_old = _shower(old_root)
    changes += _diff_parameters(old.parameters, new.parameters, show_old, show_new)
    for kind, attr in (("rule", "rules"), ("function", "functions"), ("table", "charts")):
        changes += _diff_definitions(kind, getattr(old, attr), getattr(new, attr), show_old, show_new)
    changes += _diff_facts(old.entity_kinds, new.entity_kinds, show_old, show_new)
    return changes


def _shower(root: str | None):
    def show(path):
        if path is None:
            return None
        if root:
            try:
                return Path(os.path.relpath(path, root)).as_posix()
            except ValueError:  # pragma: no cover
                return path
        return path
    return show


def _cites(citations) -> list:
    return [c.as_dict() for c in citations]


def _value(parameter, entry):
    value = entry.value
    if parameter.kind == "bands":
        return [{"from": json_value(b.lower), "from_inclusive": b.lower_inclusive,
                 "to": json_value(b.upper), "to_inclusive": b.upper_inclusive,
                 "value": json_value(b.value)} for b in value]
    if parameter.kind == "table":
        out = {str(k): json_value(v) for k, v in value.items()}
        if entry.each_additional is not None:
            out["each_additional"] = json_value(entry.each_additional)
        return out
    return json_value(value)


def _diff_parameters(old: dict, new: dict, show_old, show_new) -> list[Change]:
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is None:
            out.append(Change("parameter", name, "added", new=_history(b), file=show_new(b.file), line=b.line))
            continue
        if b is None:
            out.append(Change("parameter", name, "removed", old=_history(a), file=show_old(a.file), line=a.line))
            continue
        for what, x, y in (("unit", a.unit, b.unit), ("kind", a.kind, b.kind),
                           ("rounding", _rounding(a.rounding), _rounding(b.rounding)),
                           ("citation", _cites(a.citations), _cites(b.citations)),
                           ("update cycle", a.update_cycle, b.update_cycle)):
            if x != y:
                out.append(Change("parameter", name, "changed", what, None, _plain(x), _plain(y),
                                  show_new(b.file), b.line))
        entries_a = {e.start: e for e in a.entries}
        entries_b = {e.start: e for e in b.entries}
        for start in sorted(set(entries_a) | set(entries_b)):
            ea, eb = entries_a.get(start), entries_b.get(start)
            when = start.isoformat()
            if ea is None:
                out.append(Change("parameter", name, "added", "value", when, new=_value(b, eb),
                                  file=show_new(b.file), line=eb.line))
            elif eb is None:
                out.append(Change("parameter", name, "removed", "value", when, old=_value(a, ea),
                                  file=show_old(a.file), line=ea.line))
            else:
                for what, x, y in (("value", _value(a, ea), _value(b, eb)),
                                   ("until", _iso(ea.until), _iso(eb.until)),
                                   ("citation", _cites(ea.citations), _cites(eb.citations))):
                    if x != y:
                        out.append(Change("parameter", name, "changed", what, when, x, y,
                                          show_new(b.file), eb.line))
    return out


def _history(parameter) -> dict:
    return {e.start.isoformat(): _value(parameter, e) for e in parameter.entries}


def _iso(date):
    return date.isoformat() if date else None


def _rounding(rounding):
    if rounding is None:
        return None
    return {"mode": rounding.mode, "step": str(rounding.step)}


def _plain(value):
    return json_value(value) if not isinstance(value, (dict, list)) else value


def signature(definition) -> dict[str, object]:
    """What a rule, function or table says, part by part, for comparison."""
    parts: dict[str, object] = {}
    for attr in ("type", "unit", "entity_name", "output", "args", "columns", "because_text"):
        if hasattr(definition, attr):
            parts[{"entity_name": "entity", "because_text": "because"}.get(attr, attr)] = \
                _plain(getattr(definition, attr))
    if hasattr(definition, "rounding"):
        parts["rounding"] = _rounding(definition.rounding)
    parts["citation"] = _cites(definition.citations)
    body = getattr(definition, "body", None)
    if isinstance(body, FormulaBody):
        parts["formula"] = body.expression.text
    elif isinstance(body, ConditionsBody):
        for i, c in enumerate(body.conditions, start=1):
            label = f"condition {i}"
            parts[label] = (f"otherwise {c.then.text}" if c.when is None
                            else f"when {c.when.text} then {c.then.text}")
            if c.citations:
                parts[f"{label} citation"] = _cites(c.citations)
    elif isinstance(body, DecisionTableBody):
        parts["hit policy"] = body.hit_policy
        parts["inputs"] = {n: e.text for n, e in body.inputs}
        for i, row in enumerate(body.rows, start=1):
            tests = ", ".join(f"{n}: {cell.text}" for n, cell in row.tests)
            parts[f"row {i}"] = f"when {{{tests}}} then {row.then.text}"
            if row.citations:
                parts[f"row {i} citation"] = _cites(row.citations)
        parts["default"] = body.default.text if body.default is not None else None
    elif isinstance(body, AggregateBody):
        parts["aggregate"] = {"function": body.function, "over": body.over,
                              "where": body.where.text if body.where else None,
                              "of": body.of.text if body.of else None,
                              "default": body.default.text if body.default else None}
    groups = getattr(definition, "groups", None)
    if groups is not None:
        for i, group in enumerate(groups, start=1):
            parts[f"group {i}"] = {"for_each": {v: e.text for v, e in group.for_each},
                                   "row": {c: e.text for c, e in group.row},
                                   "when": group.when.text if group.when else None,
                                   "citation": _cites(group.citations)}
    return parts


def _diff_definitions(kind: str, old: dict, new: dict, show_old, show_new) -> list[Change]:
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is None:
            out.append(Change(kind, name, "added", new=_summary(b), file=show_new(b.file), line=b.line))
            continue
        if b is None:
            out.append(Change(kind, name, "removed", old=_summary(a), file=show_old(a.file), line=a.line))
            continue
        sa, sb = signature(a), signature(b)
        for part in list(dict.fromkeys(list(sa) + list(sb))):
            if sa.get(part) != sb.get(part):
                out.append(Change(kind, name, "changed", part, None, sa.get(part), sb.get(part),
                                  show_new(b.file), b.line))
    return out


def _summary(definition) -> str:
    s = signature(definition)
    return s.get("formula") or s.get("title") or getattr(definition, "title", None) or definition.name


def _diff_facts(old: dict, new: dict, show_old, show_new) -> list[Change]:
    out = []
    for kind_name in sorted(set(old) | set(new)):
        a = old.get(kind_name).facts if kind_name in old else {}
        b = new.get(kind_name).facts if kind_name in new else {}
        for fact in sorted(set(a) | set(b)):
            name = f"{kind_name}.{fact}"
            if fact not in a:
                out.append(Change("fact", name, "added", new=b[fact].type, file=show_new(b[fact].file), line=b[fact].line))
            elif fact not in b:
                out.append(Change("fact", name, "removed", old=a[fact].type, file=show_old(a[fact].file), line=a[fact].line))
            elif (a[fact].type, a[fact].required, a[fact].default, a[fact].enum) != \
                    (b[fact].type, b[fact].required, b[fact].default, b[fact].enum):
                out.append(Change("fact", name, "changed", "declaration",
                                  old=_fact(a[fact]), new=_fact(b[fact]), file=show_new(b[fact].file),
                                  line=b[fact].line))
    return out


def _fact(spec) -> dict:
    return {"type": spec.type, "required": spec.required, "default": _plain(spec.default),
            "enum": list(spec.enum) if spec.enum else None}


# ----------------------------------------------------------------------------------------------
# Cases under both versions
# ----------------------------------------------------------------------------------------------

@dataclass
class CaseChange:
    label: str
    case_id: object
    as_of: str | None
    changes: list = field(default_factory=list)     # {"name", "person", "old", "new"}


@dataclass
class CaseDiff:
    evaluated: int = 0
    changed: list = field(default_factory=list)
    errors: list = field(default_factory=list)      # {"case", "side", "code", "message", ...}
    by_result: Counter = field(default_factory=Counter)
    transitions: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {
            "evaluated": self.evaluated, "changed": len(self.changed),
            "unchanged": self.evaluated - len(self.changed) - len(self.errors),
            "errors": len(self.errors),
            "by_result": [{"name": n, "count": c} for n, c in self.by_result.most_common()],
            "transitions": [{"name": n, "old": o, "new": v, "count": c}
                            for (n, o, v), c in self.transitions.most_common()],
            "changed_cases": [{"case": c.label, "case_id": c.case_id, "as_of": c.as_of,
                               "changes": c.changes} for c in self.changed],
            "error_cases": self.errors,
        }


def _key(result: dict):
    return (result["name"], result["person"], result.get("entity"))


def compare_cases(old: Engine, new: Engine, tasks: Iterable[Task], as_of: str | None = None) -> CaseDiff:
    diff = CaseDiff()
    for task in tasks:
        diff.evaluated += 1
        outcomes = {}
        for side, engine in (("old", old), ("new", new)):
            try:
                data = case_data(task)
                outcomes[side] = engine.evaluate(data, as_of=as_of or task.as_of).as_dict()
            except PolicyError as exc:
                outcomes[side] = exc.problem
        failed = [s for s in ("old", "new") if not isinstance(outcomes[s], dict)]
        if failed:
            problem = outcomes[failed[0]]
            diff.errors.append({"case": task.label, "side": "both" if len(failed) == 2 else failed[0],
                                "code": problem.code, "message": problem.message,
                                "file": problem.file, "line": problem.line})
            continue
        before = {_key(r): r["value"] for r in outcomes["old"]["results"]}
        after = {_key(r): r["value"] for r in outcomes["new"]["results"]}
        changes = []
        for key in list(dict.fromkeys(list(before) + list(after))):
            if before.get(key) != after.get(key):
                name, person, _ = key
                changes.append({"name": name, "person": person, "old": before.get(key),
                                "new": after.get(key)})
                diff.by_result[name] += 1
                diff.transitions[(name, _hashable(before.get(key)), _hashable(after.get(key)))] += 1
        if changes:
            diff.changed.append(CaseChange(task.label, outcomes["new"]["case_id"],
                                           outcomes["new"]["as_of"], changes))
    return diff


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


# ----------------------------------------------------------------------------------------------
# Git revisions
# ----------------------------------------------------------------------------------------------

def checkout_revision(revision: str, policy_dir: Path, into: Path) -> Path:
    """Extract ``policy_dir`` as it is at ``revision`` (``git archive``) below ``into``."""
    if not revision or revision.startswith("-"):
        # git would read it as an option (`--output=...`), not as a revision.
        raise InputError(f"{revision!r} is not a git revision (a revision cannot start with '-').",
                         code=codes.DIFF_VERSIONS)
    policy_dir = policy_dir.resolve()
    try:
        top = subprocess.run(["git", "-C", str(policy_dir), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        raise InputError(f"{policy_dir} is not inside a git repository, so --git cannot read "
                         "its revisions.", code=codes.DIFF_VERSIONS) from None
    relative = Path(os.path.relpath(policy_dir, Path(top).resolve())).as_posix()
    done = subprocess.run(["git", "-C", top, "archive", "--format=tar", revision, "--", relative],
                          capture_output=True)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"git cannot read {relative} at revision {revision!r}: "
                         f"{message[-1] if message else 'unknown error'}.",
                         code=codes.DIFF_VERSIONS)
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(into, filter="data")
    target = into / relative
    if not target.is_dir():
        raise InputError(f"Revision {revision} has no {relative} directory.",
                         code=codes.DIFF_VERSIONS)
    return target


def load_revisions(revisions: tuple[str, str], policy_dir: Path, workdir: str):
    """Engines for two git revisions of the policy directory, and their roots."""
    engines, roots = [], []
    for index, revision in enumerate(revisions):
        target = checkout_revision(revision, policy_dir, Path(workdir) / f"rev{index}")
        engines.append(Engine.load(target))
        roots.append(str(target))
    return engines, roots


def temporary_directory():
    return tempfile.TemporaryDirectory(prefix="policy-diff-")
