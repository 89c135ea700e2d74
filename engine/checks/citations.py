"""E550, W551: citations an analyst can follow.

The schema already requires a citation on every parameter, function and rule, and the loader
refuses a ``ref`` to a source the file does not define (E306). What is left is a citation that
names a document but not where in it: a ``ref`` to a source with neither ``section`` nor
``url`` and a citation that adds neither (E550). A named source that nothing cites is most likely
a typo in a ``ref`` elsewhere, or left over (W551).
"""

from __future__ import annotations

from ..errors import codes
from ..io.yaml_loader import line_of
from .context import CheckContext, problem, raw_citations


def run(context: CheckContext) -> list:
    found = []
    for source in context.sources:
        data = source.data
        if not isinstance(data, dict):
            continue
        used: set[str] = set()
        for container, where in _citation_sites(data):
            raw = container.get("citation")
            items = raw if isinstance(raw, list) else [raw]
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    continue
                if item.get("ref"):
                    used.add(item["ref"])
                built = raw_citations(source, item)
                if built and not (built[0].section or built[0].url):
                    line = line_of(raw, index) if isinstance(raw, list) else line_of(container, "citation")
                    found.append(problem(
                        codes.CITATION_INCOMPLETE,
                        f"The citation of {where} ({built[0].source}) says neither where "
                        "in the document (`section`) nor where to read it (`url`). Add one, here "
                        "or in the named source.", source.path, line, f"{where}.citation"))
        for name in data.get("sources") or {}:
            if name not in used:
                found.append(problem(
                    codes.SOURCE_UNUSED,
                    f"The named source `{name}` is cited by nothing in this file. Remove "
                    "it, or check the `ref` that was meant to name it.", source.path,
                    line_of(data["sources"], name), f"sources.{name}"))
    return found


def _citation_sites(data):
    """Every mapping in the file that holds a ``citation``, with a readable path to it.

    The walk is generic (every section of the language, present and future, may cite), except
    for ``sources``, whose entries are what citations refer to, not citations themselves.
    """
    namespace = data.get("rulebook")

    def walk(node, path):
        if isinstance(node, dict):
            if "citation" in node:
                yield node, path
            for key, value in node.items():
                if path == "" and key == "sources":
                    continue
                if isinstance(value, (dict, list)):
                    yield from walk(value, _join(path, key, namespace))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, f"{path}[{index}]")

    yield from walk(data, "")


_SECTIONS = {"parameters", "functions", "rules", "charts", "tables", "entities"}


def _join(path: str, key, namespace) -> str:
    """``magi.first_person.values.2025-04-01``: section names become the namespace."""
    if path == "" and key in _SECTIONS:
        return str(namespace)
    if path == "":
        return f"{key}"
    return f"{path}.{key}"
