"""Plain-language reasons (``because``): jinja2 templates, sandboxed, compiled at load.

A rulebook is untrusted, so its templates run in jinja2's immutable sandbox: no attribute
access to Python internals, no mutation. Templates are compiled once when the rulebook loads and
rendered only when a result is shown, so evaluating a case never pays for text it does not print.

Compiling a template to Python code (jinja2's lexer, parser and code generator) was the larger
part of printing one case's reasons at a cold start. A pickled :class:`Reason` (the compiled
rulebook bundle, :mod:`engine.rulebook.bundle`) therefore carries that code, marshalled as
jinja2's own bytecode cache does, and a reason restored from it renders without compiling. The
code is the sandboxed environment's, compiled from the same text; it is used only by the same
Python bytecode version (``sys.implementation.cache_tag``), and the bundle holding it is signed.

jinja2 itself is imported when a template is first parsed, compiled or rendered by it
(:func:`environment`): a process served by a compiled bundle that prints no reasons (``policy
batch`` without ``--because``) never does, and importing jinja2 was ~45 ms of its start. Plain
templates render without it (:func:`_render_plan`).
"""

from __future__ import annotations

import marshal
import sys
from decimal import Decimal
from functools import cache

from ..errors import CompileError, codes
from .numbers import format_decimal, money_text

#: Names every template may use besides the names its rule read.
BUILTIN_NAMES = {"value", "person", "entity", "as_of", "args"}


def _percent(value) -> str:
    return "none" if value is None else f"{format_decimal(value)}%"


def shown(value):
    """How a value reads in a sentence: yes/no, "no value" for a missing one, a list as its
    items (or "none"), a decimal with thousands separators (5,199.60), never Python's spelling
    (True, None, ['a'], Decimal)."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return "no value"
    if isinstance(value, Decimal):
        return format(value, ",f")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(shown(v)) for v in value) if value else "none"
    return value


#: The filters reasons may use besides jinja2's own: ``money`` is the one spelling of money
#: (language.numbers).
FILTERS = {"money": money_text, "percent": _percent}


@cache
def environment():
    """The sandboxed jinja2 environment of every reason (made, and jinja2 imported, on first
    use)."""
    import jinja2

    from .sandbox import BoundedSandbox
    made = BoundedSandbox(autoescape=False, undefined=jinja2.StrictUndefined,
                          trim_blocks=True, lstrip_blocks=True, finalize=shown)
    made.filters.update(FILTERS)
    return made


def __getattr__(name: str):
    """``ENVIRONMENT``: :func:`environment`'s, for code that names it."""
    if name == "ENVIRONMENT":
        return environment()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Reason:
    """A compiled ``because`` template and the names it uses."""

    __slots__ = ("text", "_template", "_code", "names", "dotted", "bare", "members", "plan",
                 "file", "line")

    def __init__(self, text: str, file: str | None, line: int | None):
        self.text = text
        self.file = file
        self.line = line
        self._template = None
        self._code = None
        import jinja2
        from jinja2 import meta, nodes
        try:
            # Parsing finds syntax errors and the names used; compiling to Python code is left
            # to the first render, so loading hundreds of reasons stays fast.
            tree = environment().parse(text)
        except jinja2.TemplateSyntaxError as exc:
            raise CompileError(f"The `because` text cannot be read: {exc.message}.",
                               code=codes.BECAUSE_UNREADABLE,
                               file=file, line=line, field="because") from None
        self.names = meta.find_undeclared_variables(tree)
        # A name read from another namespace is written as it is in expressions,
        # `{{ magi.household_income }}`: jinja2 sees `magi` with an attribute. `dotted` holds
        # those (`magi.household_income`), `bare` the names used on their own.
        self.dotted: set[str] = set()
        bases: set[int] = set()
        for node in tree.find_all(nodes.Getattr):
            if isinstance(node.node, nodes.Name) and node.node.name in self.names:
                self.dotted.add(f"{node.node.name}.{node.attr}")
                bases.add(id(node.node))
        self.bare = {n.name for n in tree.find_all(nodes.Name)
                     if n.ctx == "load" and id(n) not in bases} & self.names
        self.plan = _plan_of(tree)
        # A name used only as `magi.household_income` (never alone, subscripted or passed on)
        # can only show those members: what renders it needs just them (trace.inputs_of).
        self.members: dict[str, frozenset] = {}
        for name in self.names - self.bare:
            attributes = frozenset(d.partition(".")[2] for d in self.dotted
                                   if d.partition(".")[0] == name)
            if attributes:
                self.members[name] = attributes

    @property
    def template(self):
        if self._template is None:
            code = _unmarshal(self._code)
            sandbox = environment()
            if code is None:
                template = sandbox.from_string(self.text)
            else:   # what from_string does, without compiling the text again
                template = sandbox.template_class.from_code(
                    sandbox, code, sandbox.make_globals(None), None)
            # jinja2 keeps a template's globals as a ChainMap over the environment's and copies
            # that into a new dict on every render, which costs more than the rendering itself.
            # Nothing adds globals once the environment is made, so a plain dict of the same
            # names reads the same.
            template.globals = dict(template.globals)
            self._template = template
        return self._template

    # -- pickling (the rulebook bundle) -----------------------------------------------------------
    _STATE = ("text", "names", "dotted", "bare", "members", "plan", "file", "line")

    def __getstate__(self) -> dict:
        """The reason's fields and its template compiled to code (marshalled, tagged with the
        bytecode version), so that a reason restored from a bundle renders without compiling."""
        state = {name: getattr(self, name) for name in self._STATE}
        code = self._code
        if code is None:
            code = (sys.implementation.cache_tag, marshal.dumps(environment().compile(self.text)))
        state["code"] = code
        return state

    def __setstate__(self, state: dict) -> None:
        for name in self._STATE:
            setattr(self, name, state[name])
        code = state.get("code")
        self._code = code if isinstance(code, tuple) and len(code) == 2 else None
        self._template = None

    def render(self, variables: dict) -> str:
        if self.plan is not None:
            text = _render_plan(self.plan, variables)
            if text is not None:
                return text.strip()
        from jinja2 import UndefinedError   # a template that is not plain renders with jinja2
        try:
            return self.template.render(**variables).strip()
        except UndefinedError as exc:
            return f"(reason unavailable: {exc.message})"
        except Exception as exc:  # a sandbox refusal or a bad filter argument
            return f"(reason unavailable: {exc})"


#: The filters a plain template may use (:data:`FILTERS`, the environment's own functions).
_PLAIN_FILTERS = ("money", "percent")
_MISSING = object()


def _plan_of(tree) -> tuple | None:
    """A template that is only text and values (``{{ person }}``, ``{{ magi.household_size }}``,
    ``{{ magi.household_income | money }}``) as a plan :func:`_render_plan` follows without
    jinja2: texts, and ``(name, attribute, filter)`` for each value. Most reasons are such
    templates, and rendering one through jinja2 costs more than everything else a result does
    to become JSON. None for any other template (statements, expressions, other filters)."""
    from jinja2 import nodes
    if not tree.body:
        return ()
    if len(tree.body) != 1 or not isinstance(tree.body[0], nodes.Output):
        return None
    plan: list = []
    for node in tree.body[0].nodes:
        if isinstance(node, nodes.TemplateData):
            plan.append(node.data)
            continue
        applied = None
        if isinstance(node, nodes.Filter):
            if node.name not in _PLAIN_FILTERS or node.args or node.kwargs or node.dyn_args \
                    or node.dyn_kwargs:
                return None
            applied, node = node.name, node.node
        if isinstance(node, nodes.Name) and node.ctx == "load":
            plan.append((node.name, None, applied))
        elif isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name) \
                and node.node.ctx == "load" and node.ctx == "load":
            plan.append((node.node.name, node.attr, applied))
        else:
            return None
    return tuple(plan)


def _render_plan(plan: tuple, variables: dict) -> str | None:
    """What jinja2 renders for a plain template, or None whenever it could differ (a name not
    given, an attribute jinja2 would look up differently, a filter or value that fails): the
    caller then renders with jinja2, which says what went wrong.

    It does what jinja2's compiled code does for these templates: a name from the variables;
    ``a.b`` as the sandbox's ``getattr`` finds it when ``a`` has no such attribute (``a["b"]``);
    the environment's filter; then ``str(shown(value))`` (``shown`` is the ``finalize``)."""
    out = []
    try:
        for part in plan:
            if part.__class__ is str:
                out.append(part)
                continue
            name, attribute, applied = part
            value = variables.get(name, _MISSING)
            if value is _MISSING:
                return None
            if attribute is not None:
                if hasattr(value, attribute):
                    return None
                value = value[attribute]
            if applied is not None:
                value = FILTERS[applied](value)
            out.append(str(shown(value)))
    except Exception:
        return None
    return "".join(out)


def _unmarshal(code):
    """The code object of a marshalled template, or None (none kept, or another Python's)."""
    if code is None or code[0] != sys.implementation.cache_tag:
        return None
    try:
        return marshal.loads(code[1])
    except (ValueError, EOFError, TypeError):
        return None
