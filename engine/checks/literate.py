"""E590/W591: a rulebook says what it covers, and its rules quote the sentences they implement.

A reader of ``policy/`` should not need the manual open beside every file: each rulebook opens
with a ``description`` (what it covers, from which sources), and each rule quotes, in ``says``,
the sentence of the manual it implements, so that the docs site can show the two side by side.

* **E590**: a rulebook file has no top-level ``description`` (or an empty one).
* **W591**: a rule whose result is reported (``output: true``) has no ``says``, neither on
  itself nor on any of its conditions or decision-table rows. A warning, and only for reported
  results: those are what a caseworker or an applicant reads, so a reviewer must be able to set
  each beside the manual's sentence. Helper rules (a household's members, a category test) are
  building blocks that often have no single sentence behind them; warning about each would bury
  the warnings that need action. Give them ``says`` where a sentence exists.
"""

from __future__ import annotations

from ..io.yaml_loader import line_of
from .context import CheckContext, cited, problem, raw_citations
from ..errors import codes


def run(context: CheckContext) -> list:
    found = []
    for source in context.sources:
        data = source.data
        if not isinstance(data, dict):
            continue
        found.extend(_description(source, data))
        found.extend(_says(source, data))
    return found


def _description(source, data) -> list:
    if str(data.get("description") or "").strip():
        return []
    return [problem(codes.DESCRIPTION_MISSING, "The rulebook has no `description`. Add a top-level `description:` "
                    "saying in a few sentences what it covers and from which sources, so that "
                    "the docs site and a reviewer can tell what the file is for.",
                    source.path, line_of(data, "description") or line_of(data, "rulebook") or 1,
                    "description")]


def _says(source, data) -> list:
    rules = data.get("rules") or {}
    found = []
    for name, raw in rules.items():
        if not isinstance(raw, dict) or not raw.get("output") or _has_says(raw):
            continue
        qualified = f"{source.namespace}.{name}"
        found.append(problem(
            codes.SAYS_MISSING, f"The rule {qualified} reports a result but does not quote what the manual "
            "says: add `says:` with the sentence it implements, on the rule or on its conditions "
            "or rows."
            + cited(raw_citations(source, raw.get("citation"))),
            source.path, line_of(rules, name), f"{qualified}.says"))
    return found


def _has_says(raw: dict) -> bool:
    if raw.get("says"):
        return True
    branches = list(raw.get("conditions") or [])
    table = raw.get("table")
    if isinstance(table, dict):
        branches.extend(table.get("rows") or [])
    return any(isinstance(b, dict) and b.get("says") for b in branches)
