"""Output formats for ``policy check``: pluggable reporters, one function each.

Each reporter takes a :class:`~engine.check.CheckReport` and returns the text to print. Add a
format by adding a function to :data:`REPORTERS`.
"""

from __future__ import annotations

import json

from ..check import CheckReport


def text(report: CheckReport) -> str:
    lines = [p.render() for p in report.errors + report.warnings]
    summary = (f"{len(report.errors)} error(s), {len(report.warnings)} warning(s) in "
               f"{report.files} rulebook file(s).")
    lines.append(summary if lines else f"No problems found in {report.files} rulebook file(s).")
    return "\n".join(lines)


def as_json(report: CheckReport) -> str:
    return json.dumps({"errors": [p.as_dict() for p in report.errors],
                       "warnings": [p.as_dict() for p in report.warnings]}, indent=2, ensure_ascii=False)


def _escape(value: str, property: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github(report: CheckReport) -> str:
    """GitHub Actions workflow commands: annotations on the YAML lines."""
    lines = []
    for p in report.errors + report.warnings:
        level = "warning" if p.severity == "warning" else "error"
        props = []
        if p.file:
            props.append(f"file={_escape(p.file, True)}")
        if p.line:
            props.append(f"line={p.line}")
        props.append(f"title={_escape(p.code, True)}")
        lines.append(f"::{level} {','.join(props)}::{_escape(p.message)}")
    return "\n".join(lines)


REPORTERS = {"text": text, "json": as_json, "github": github}
