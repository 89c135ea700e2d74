"""The engine's layers, enforced: docs/architecture.md section 2 describes them.

Every import inside ``engine/`` is read from the source with :mod:`ast`, at module level and inside
functions alike (an import moved into a function still ties the two modules together). The rules:

* each layer imports only the layers below it (``LAYERS``, lowest first); modules of one layer may
  import each other, but no two modules may import each other, directly or through others;
* no module imports another module's private (``_name``) names, or reads them from a module it
  imported (``deadlines._plural``): what is shared is made public;
* at most six modules sit directly in ``engine/``; everything else is in a layer package.
"""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "engine"

#: Lowest first. A module belongs to the first entry its dotted name equals or starts with.
LAYERS = [
    ("engine.compat",),          # old import paths: imports nothing of the engine itself
    ("engine.types",),           # Protocols for what crosses layers
    ("engine.errors",),
    ("engine.io",),
    ("engine.language",),
    ("engine.model",),
    ("engine.runtime",),
    ("engine.actions",),
    ("engine.rulebook",),
    ("engine.api",),
    ("engine.tools",),
    ("engine.checks",),
    ("engine.service",),         # policy serve: the HTTP service around the public API
    ("engine.cli",),
    ("engine", "engine.__main__"),    # the package itself: the public facade
]
MAX_TOP_MODULES = 6


def _modules() -> dict[str, Path]:
    found = {}
    for path in ENGINE.rglob("*.py"):
        parts = path.relative_to(ENGINE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def layer_of(module: str) -> int:
    for index, names in enumerate(LAYERS):
        for name in names:
            if module == name or (name != "engine" and module.startswith(name + ".")):
                return index
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS in tests/test_layers.py "
                         "and to docs/architecture.md")


def _target(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if MODULES[module].name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str):
    """(imported engine module, imported name or None, line, alias) for every import."""
    tree = ast.parse(MODULES[module].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _target(module, node)
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if full in MODULES:            # from package import module
                    yield full, None, node.lineno, alias.asname or alias.name
                elif target in MODULES:
                    yield target, alias.name, node.lineno, alias.asname or alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES:
                    yield alias.name, None, node.lineno, alias.asname


GRAPH = {m: {dst for dst, _, _, _ in _imports(m) if dst != m} for m in MODULES}


def test_every_module_is_in_a_layer():
    for module in MODULES:
        layer_of(module)


def test_each_layer_imports_only_layers_below():
    wrong = []
    for module in sorted(MODULES):
        for target, name, line, _ in _imports(module):
            if target == module or (MODULES[target].name == "__init__.py"
                                    and module.startswith(target + ".")):
                continue                      # a package's own __init__: same layer
            if layer_of(target) > layer_of(module):
                wrong.append(f"{module} (line {line}) imports {target}, a higher layer")
    assert not wrong, "\n".join(wrong)


def cycles_in(graph: dict[str, set[str]]) -> list[str]:
    """Strongly connected components of more than one module (Tarjan), each as one line."""
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            first = min(component)
            # a package re-exporting its own modules is not a cycle between modules
            if len(component) > 1 and not all(c == first or c.startswith(first + ".")
                                               for c in component):
                cycles.append(" -> ".join(sorted(component)))

    for module in graph:
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycles():
    cycles = cycles_in(GRAPH)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_no_private_names_across_modules():
    wrong = []
    for module in sorted(MODULES):
        aliases = {}
        for target, name, line, alias in _imports(module):
            if target == module:
                continue
            if name is None:
                if alias:
                    aliases[alias] = target
            elif name.startswith("_") and not name.startswith("__"):
                wrong.append(f"{module} (line {line}) imports {name} from {target}")
        for node in ast.walk(ast.parse(MODULES[module].read_text())):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                wrong.append(f"{module} (line {node.lineno}) reads {node.attr} of "
                             f"{aliases[node.value.id]}")
    assert not wrong, "\n".join(wrong)


def test_few_modules_directly_in_engine():
    top = sorted(p.name for p in ENGINE.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, f"{len(top)} modules directly in engine/: {top}"


def test_the_checks_can_fail():
    """An upward import and a cycle would be found."""
    assert layer_of("engine.api") > layer_of("engine.language.numbers")
    assert layer_of("engine.cli.app") > layer_of("engine.checks.report") > layer_of("engine.tools.batch")
    graph = {m: set(targets) for m, targets in GRAPH.items()}
    graph["engine.errors"].add("engine.api")        # errors -> api -> ... -> errors
    assert any("engine.api" in c and "engine.errors" in c for c in cycles_in(graph))
