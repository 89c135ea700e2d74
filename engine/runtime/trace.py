"""Trace records: what each computed value read, so that every result can explain itself.

While the engine evaluates, every value it reads is appended to the *frame* of the rule or
function being computed: facts (:class:`FactRead`), parameter values
(:class:`~engine.model.parameters.ParameterValue`), and other rules and functions (:class:`Node`).
The result is a small graph per case. From it:

* :func:`collect_citations` gathers the citations of every parameter value, function and rule
  that produced a result (only those actually read: a branch not taken cites nothing);
* :func:`flatten` lists the steps in the order they were computed, for ``--explain``.

The graph is built with plain appends on the hot path; all the work of walking it happens only
when a result is printed.
"""

from __future__ import annotations

from typing import Any

from ..model.citations import Citation, mask_of, ordered


class FactRead:
    """A fact read from the case."""

    __slots__ = ("name", "entity", "value")
    kind_label = "fact"
    citations: tuple = ()
    citation_mask: int = 0
    deps: tuple = ()

    def __init__(self, name: str, entity, value):
        self.name = name
        self.entity = entity
        self.value = value


class Node:
    """A rule computed for one entity, or a function called with arguments."""

    __slots__ = ("definition", "entity", "args", "value", "deps", "own_citations", "reason",
                 "branch_citations", "marks", "_all_citations", "_ordered", "_core", "_deciding",
                 "_front")    # _front: set only on transparent tests (engine.runtime.deciding)

    def __init__(self, definition, entity, args, value, deps: list, own_citations,
                 reason=None, branch_citations=None, marks=None):
        self.definition = definition
        self.entity = entity
        self.args = args
        self.value = value
        self.deps = deps
        self.own_citations = own_citations
        self.reason = reason          # the `because` template that applies, if any
        # The citations of the condition or table row that gave the value (None: the rule's),
        # and (frame as read, marks) when only part of what was read decided it (engine.runtime.deciding).
        self.branch_citations = branch_citations
        self.marks = marks
        self._all_citations = None
        self._ordered = None
        self._core = None
        self._deciding = None

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def kind_label(self) -> str:
        return self.definition.kind_label

    @property
    def citations(self) -> tuple[Citation, ...]:
        return self.own_citations


def citation_mask(node) -> int:
    """Every citation behind ``node`` (its own and those of everything it read) as a bit mask
    over canonical citations; memoised, so a value read by many rules is walked once."""
    if node.__class__ is not Node:
        return node.citation_mask
    cached = node._all_citations
    if cached is None:
        cached = mask_of(node.own_citations)
        for dep in node.deps:
            cached |= citation_mask(dep)
        node._all_citations = cached
    return cached


def collect_citations(node) -> tuple[Citation, ...]:
    """The citations behind ``node`` in print order: its own first, then the rest."""
    if node.__class__ is not Node:
        return ordered(node.citations, citation_mask(node))
    if node._ordered is None:
        node._ordered = ordered(node.own_citations, citation_mask(node))
    return node._ordered


def flatten(node) -> list:
    """Every record ``node`` depends on, each once, dependencies before the value that used them."""
    order: list = []
    visited: set[int] = set()

    def visit(current):
        if id(current) in visited:
            return
        visited.add(id(current))
        for dep in current.deps:
            visit(dep)
        order.append(current)

    # Iterative-safe enough: rule chains are shallow, and recursion is bounded by the
    # compile-time dependency depth.
    visit(node)
    return order


#: How many levels below a rule a `because` text may find the values it names.
REASON_DEPTH = 3


class TemplateNamespace:
    """The values a rule read from one namespace, for ``{{ magi.household_income }}`` in a
    ``because`` text. Items only: it has no attributes a sandboxed template could reach."""

    __slots__ = ("_values",)

    def __init__(self):
        self._values: dict[str, Any] = {}

    def __getitem__(self, key):
        return self._values[key]

    def __contains__(self, key) -> bool:
        return key in self._values


def inputs_of(node) -> dict[str, Any]:
    """The names a rule read, with their values, as a template may use them: by the name as
    written (``magi.household_income``: ``magi`` is a :class:`TemplateNamespace`), with the dots
    as ``__`` (``magi__household_income``), or by the short name.

    The rule's own reads come first; then, for names it read only through a rule of its own
    (a branch that tested ``chip_4m_band``, which read ``magi.household_income``), the values
    found up to :data:`REASON_DEPTH` levels below, nearest first. What a *transparent* rule
    read (one level's test, ``transparent: true``) counts as read where the test was read, as
    if its formula were written there.
    """
    values: dict[str, Any] = {}
    level, seen = [node], {id(node)}
    for _ in range(REASON_DEPTH):
        following = []
        for current in level:
            for dep in _reads(current):
                name = dep.name.replace(".", "__").replace("-", "_")
                values.setdefault(name, dep.value)
                values.setdefault(name.rsplit("__", 1)[-1], dep.value)
                namespace, dot, short = dep.name.rpartition(".")
                if dot:
                    group = values.setdefault(namespace.replace(".", "__").replace("-", "_"),
                                              TemplateNamespace())
                    if isinstance(group, TemplateNamespace):
                        group._values.setdefault(short, dep.value)
                if dep.__class__ is Node and id(dep) not in seen:
                    seen.add(id(dep))
                    following.append(dep)
        level = following
    return values


def _reads(node):
    """``node.deps``, each transparent rule followed in place by what it read (recursively)."""
    for dep in node.deps:
        yield dep
        if dep.__class__ is Node:
            definition = dep.definition
            if getattr(definition, "transparent", False) and not definition.output:
                yield from _reads(dep)


def describe_step(record, format_value) -> dict:
    """One trace step as plain data for JSON output."""
    if isinstance(record, FactRead):
        return {"kind": "fact", "name": record.name, "entity": record.entity.label(),
                "value": format_value(record.value)}
    if isinstance(record, Node):
        step = {"kind": record.kind_label, "name": record.name,
                "value": format_value(record.value),
                "citations": [c.as_dict() for c in record.own_citations]}
        if record.entity is not None:
            step["entity"] = record.entity.label()
        if record.args is not None:
            step["args"] = [format_value(a) for a in record.args]
        return step
    # A parameter value.
    step = {"kind": "parameter", "name": record.name, "value": format_value(record.value),
            "effective_from": record.effective_from.isoformat(),
            "effective_to": record.effective_to.isoformat() if record.effective_to else None,
            "citations": [c.as_dict() for c in record.citations]}
    return step
