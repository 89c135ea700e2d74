"""Old import paths, kept working for a while with a ``DeprecationWarning``.

Until the engine was split into layer packages (``engine.io``, ``engine.language``,
``engine.model``, ``engine.rulebook``, ``engine.runtime``, ``engine.actions``, ``engine.tools``),
every module sat directly in ``engine/``. Code outside this repository may still write
``from engine.check import check`` or ``import engine.compiler``. Rather than keep a stub module
for each old name at the top of ``engine/``, a finder on ``sys.meta_path`` answers for the old
names: importing one warns once and hands back the module at its new place, so both names refer
to the very same module object (its classes, its caches).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import warnings
from types import ModuleType

#: old module name -> the module that replaced it (docs/architecture.md lists the layers)
MOVED = {
    "engine.check": "engine.checks",
    "engine.yaml_loader": "engine.io.yaml_loader",
    "engine.schemas": "engine.io.schemas",
    "engine.paths": "engine.io.paths",
    "engine.numbers": "engine.language.numbers",
    "engine.dates": "engine.language.dates",
    "engine.builtins": "engine.language.builtins",
    "engine.expressions": "engine.language.expressions",
    "engine.closures": "engine.language.closures",
    "engine.reasons": "engine.language.reasons",
    "engine.citations": "engine.model.citations",
    "engine.parameters": "engine.model.parameters",
    "engine.definitions": "engine.model.definitions",
    "engine.entities": "engine.model.entities",
    "engine.holidays": "engine.model.calendars",
    "engine.compiler": "engine.rulebook.compiler",
    "engine.evaluation": "engine.runtime.state",
    "engine.trace": "engine.runtime.trace",
    "engine.results": "engine.runtime.results",
    "engine.charts": "engine.runtime.charts",
    "engine.deadlines": "engine.actions.deadlines",
    "engine.notices": "engine.actions.notices",
    "engine.mass_change": "engine.actions.mass_change",
    "engine.testing": "engine.tools.testing",
    "engine.coverage": "engine.tools.coverage",
    "engine.batch": "engine.tools.batch",
    "engine.diff": "engine.tools.diff",
    "engine.docsite": "engine.tools.docsite",
}


def warn_moved(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated and will be removed; import {new} instead.",
                  DeprecationWarning, stacklevel=3)


# The finder and loader follow the import protocols without subclassing importlib.abc: that
# module imports importlib.resources, which every start of the engine would pay for.

class _AliasLoader:
    """Loads an old name as the module at its new place, leaving that module's own spec intact."""

    def __init__(self, new: str) -> None:
        self.new = new
        self.spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warn_moved(spec.name, self.new)
        module = importlib.import_module(self.new)
        self.spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self.spec      # the import machinery set it to the old name's spec


class _MovedFinder:
    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(new))


def install() -> None:
    """Answer for the old names (once per process)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())


def moved_attribute(name: str) -> ModuleType:
    """``engine.<old name>`` as an attribute (``from engine import compiler``)."""
    old = f"engine.{name}"
    if old not in MOVED:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    return importlib.import_module(old)
