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

    __slots__ = ("definition", "entity", "args", "value", "reads", "_deps", "own_citations",
                 "reason", "branch_citations", "marks", "_all_citations", "_ordered", "_core",
                 "_deciding", "_own",
                 "_front")    # _front: set only on transparent tests (engine.runtime.deciding)

    def __init__(self, definition, entity, args, value, reads: list, own_citations,
                 reason=None, branch_citations=None, marks=None):
        self.definition = definition
        self.entity = entity
        self.args = args
        self.value = value
        # Every record read, in the order read; a rule often reads the same value several
        # times. `deps` keeps each once, made when first asked for: citations (a bit mask, each
        # reference once) come from `reads` as they are, and most values are never traced.
        self.reads = reads
        self._deps = None
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
        # What its branch and rule give its deciding citations (deciding.own_record), when the
        # code that made the node knew it; None: looked up when asked for.
        self._own = None

    @property
    def deps(self) -> list:
        """Every record this value read, each once (by identity), in the order first read."""
        deps = self._deps
        if deps is None:
            reads = self.reads
            deps = self._deps = reads if len(reads) < 2 else list(dict.fromkeys(reads))
        return deps

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
        for dep in node.reads:
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
        # A node's frame as read: a record read again is visited once all the same.
        for dep in (current.reads if current.__class__ is Node else current.deps):
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


def inputs_of(node, names=None, members=None) -> dict[str, Any]:
    """The names a rule read, with their values, as a template may use them: by the name as
    written (``magi.household_income``: ``magi`` is a :class:`TemplateNamespace`), with the dots
    as ``__`` (``magi__household_income``), or by the short name.

    The rule's own reads come first; then, for names it read only through a rule of its own
    (a branch that tested ``chip_4m_band``, which read ``magi.household_income``), the values
    found up to :data:`REASON_DEPTH` levels below, nearest first. What a *transparent* rule
    read (one level's test, ``transparent: true``) counts as read where the test was read, as
    if its formula were written there.

    ``names`` (a template's undeclared variables, ``Reason.names``) limits the answer to the
    names the template can look up, each with exactly the value it has in the full mapping (the
    walk and its order are the same), and the walk stops once none of them can change any more.
    ``members`` (``Reason.members``) names the namespaces the template reads only through some
    of their members (``magi.household_income``): such a namespace is complete once those are
    found. Rendering a reason then costs what its text uses, not everything its rule read.
    """
    values: dict[str, Any] = {}
    if names is not None and not names:
        return values
    level, seen = [node], {id(node)}
    for depth in range(REASON_DEPTH):
        following = []
        deeper = depth < REASON_DEPTH - 1
        for current in level:
            for dep in _reads(current):
                name, short, group_key, attr = template_names(dep.name)
                if names is None:
                    values.setdefault(name, dep.value)
                    values.setdefault(short, dep.value)
                else:
                    if name in names and name not in values:
                        values[name] = dep.value
                    if short in names and short not in values:
                        values[short] = dep.value
                if group_key is not None and (names is None or group_key in names):
                    group = values.get(group_key, _NOTHING)
                    if group is _NOTHING:
                        group = values[group_key] = TemplateNamespace()
                    if group.__class__ is TemplateNamespace:
                        group._values.setdefault(attr, dep.value)
                if deeper and dep.__class__ is Node and id(dep) not in seen:
                    seen.add(id(dep))
                    following.append(dep)
        if not following or (names is not None and _complete(values, names, members)):
            break
        level = following
    return values


def _complete(values: dict, names, members) -> bool:
    """Whether every one of ``names`` has its final value: found, and if a namespace (which a
    deeper level may still add to), holding every member the template reads of it."""
    for name in names:
        found = values.get(name, _NOTHING)
        if found is _NOTHING:
            return False
        if found.__class__ is TemplateNamespace:
            wanted = members.get(name) if members else None
            if wanted is None or not found._values.keys() >= wanted:
                return False
    return True


_NOTHING = object()


#: A read name's template spellings, by name (names come from compiled rulebooks: bounded).
_TEMPLATE_NAMES: dict[str, tuple] = {}


def template_names(name: str) -> tuple[str, str, str | None, str | None]:
    """How a template may spell a name it read: ``(full, short, namespace, attribute)``, e.g.
    ``magi.household_income`` as ``magi__household_income``, ``household_income``, and
    ``household_income`` of the namespace ``magi`` (None, None for a name without a dot)."""
    found = _TEMPLATE_NAMES.get(name)
    if found is None:
        full = name.replace(".", "__").replace("-", "_")
        namespace, dot, attr = name.rpartition(".")
        found = (full, full.rsplit("__", 1)[-1],
                 namespace.replace(".", "__").replace("-", "_") if dot else None,
                 attr if dot else None)
        if len(_TEMPLATE_NAMES) < 100_000:
            _TEMPLATE_NAMES[name] = found
    return found


def _reads(node):
    """``node.deps``, each transparent rule followed in place by what it read (recursively).
    (The frame as read, a record read again included: every caller keeps the first value it
    finds for a name, and walks each node once, so a repeat changes nothing.)"""
    for dep in node.reads:
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
