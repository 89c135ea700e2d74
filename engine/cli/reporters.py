"""Output formats for ``policy check``: pluggable reporters, one function each.

Each reporter takes a :class:`~engine.checks.report.CheckReport` and returns the text to print.
Add a format by adding a function to :data:`REPORTERS`.

* ``text``: one paragraph per problem, ``file:line: error CODE: message (field: ...)``;
* ``json``: ``{"errors": [...], "warnings": [...]}`` (the interface contract);
* ``github``: GitHub Actions workflow commands, which annotate the YAML lines of a pull request;
* ``junit``: JUnit XML with one testcase per rulebook file (errors are failures; warnings are
  listed in the testcase's output), for CI systems that show test reports;
* ``sarif``: SARIF 2.1.0 with one rule per code and a physical location (file and line) per
  result, for code-scanning dashboards.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from xml.etree import ElementTree as ET

from ..checks.codes import describe, short_name
from ..checks.report import CheckReport
from ..io.paths import repository_dir

TOOL = "policy check"
HELP_DOC = "docs/checks.md"


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
            props.append(f"file={_escape(relative(p.file), True)}")
        if p.line:
            props.append(f"line={p.line}")
        props.append(f"title={_escape(p.code + ' ' + short_name(p.code), True)}")
        lines.append(f"::{level} {','.join(props)}::{_escape(p.message)}")
    return "\n".join(lines)


def relative(path: str) -> str:
    """A path relative to the working directory when it is below it (as CI tools expect)."""
    try:
        rel = os.path.relpath(Path(path).resolve(), Path.cwd().resolve())
    except ValueError:  # pragma: no cover - another drive on Windows
        return Path(path).as_posix()
    return Path(path).as_posix() if rel.startswith("..") else Path(rel).as_posix()


def junit(report: CheckReport) -> str:
    """JUnit XML: a testsuite with one testcase per rulebook file checked."""
    by_file: dict[str, list] = {relative(p): [] for p in report.paths}
    for p in report.errors + report.warnings:
        by_file.setdefault(relative(p.file) if p.file else "(rulebooks)", []).append(p)
    suite = ET.Element("testsuite", name=TOOL, tests=str(len(by_file)),
                       failures=str(sum(1 for ps in by_file.values()
                                        if any(p.severity != "warning" for p in ps))),
                       errors="0", skipped="0")
    for file, problems in by_file.items():
        case = ET.SubElement(suite, "testcase", classname="policy.check", name=file, file=file)
        errors = [p for p in problems if p.severity != "warning"]
        warnings = [p for p in problems if p.severity == "warning"]
        if errors:
            failure = ET.SubElement(case, "failure", type=errors[0].code,
                                    message=f"{len(errors)} error(s); the first: {errors[0].message}")
            failure.text = "\n".join(p.render() for p in errors)
        if warnings:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(p.render() for p in warnings)
    suites = ET.Element("testsuites", name=TOOL, tests=suite.get("tests"),
                        failures=suite.get("failures"), errors="0")
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def sarif(report: CheckReport) -> str:
    """SARIF 2.1.0: one run, one rule per code, one result per problem with its location."""
    problems = report.errors + report.warnings
    codes = sorted({p.code for p in problems})
    index = {code: i for i, code in enumerate(codes)}
    rules = [{"id": code, "name": _pascal(short_name(code)),
              "shortDescription": {"text": describe(code)},
              "fullDescription": {"text": describe(code)},
              "helpUri": _help_uri(code),
              "defaultConfiguration": {"level": "warning" if code.startswith("W") else "error"}}
             for code in codes]
    results = []
    for p in problems:
        result = {"ruleId": p.code, "ruleIndex": index[p.code],
                  "level": "warning" if p.severity == "warning" else "error",
                  "message": {"text": p.message}}
        if p.file:
            location = {"physicalLocation": {"artifactLocation": {"uri": relative(p.file),
                                                                  "uriBaseId": "%SRCROOT%"}}}
            if p.line:
                location["physicalLocation"]["region"] = {"startLine": p.line}
            if p.field:
                location["logicalLocations"] = [{"fullyQualifiedName": p.field}]
            result["locations"] = [location]
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL, "informationUri": _help_uri(None), "rules": rules}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().resolve().as_uri() + "/"}},
            "artifacts": [{"location": {"uri": relative(f), "uriBaseId": "%SRCROOT%"}}
                          for f in report.paths],
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)


def _help_uri(code) -> str:
    doc = (repository_dir() / HELP_DOC).resolve().as_uri()
    return f"{doc}#{code.lower()}" if code else doc


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


REPORTERS = {"text": text, "json": as_json, "github": github, "junit": junit, "sarif": sarif}
