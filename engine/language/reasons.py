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
"""

from __future__ import annotations

import marshal
import sys
from decimal import Decimal

import jinja2
from jinja2 import meta, nodes

from ..errors import CompileError, codes
from .sandbox import BoundedSandbox
from .numbers import format_decimal

#: Names every template may use besides the names its rule read.
BUILTIN_NAMES = {"value", "person", "entity", "as_of", "args"}


def _money(value) -> str:
    if value is None:
        return "none"
    amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if amount == amount.to_integral_value() and amount.as_tuple().exponent >= 0:
        return f"${amount:,.0f}"
    return f"${amount:,.2f}"


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


ENVIRONMENT = BoundedSandbox(autoescape=False, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, finalize=shown)
ENVIRONMENT.filters["money"] = _money
ENVIRONMENT.filters["percent"] = _percent


class Reason:
    """A compiled ``because`` template and the names it uses."""

    __slots__ = ("text", "_template", "_code", "names", "dotted", "bare", "file", "line")

    def __init__(self, text: str, file: str | None, line: int | None):
        self.text = text
        self.file = file
        self.line = line
        self._template = None
        self._code = None
        try:
            # Parsing finds syntax errors and the names used; compiling to Python code is left
            # to the first render, so loading hundreds of reasons stays fast.
            tree = ENVIRONMENT.parse(text)
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

    @property
    def template(self):
        if self._template is None:
            code = _unmarshal(self._code)
            if code is None:
                self._template = ENVIRONMENT.from_string(self.text)
            else:   # what from_string does, without compiling the text again
                self._template = ENVIRONMENT.template_class.from_code(
                    ENVIRONMENT, code, ENVIRONMENT.make_globals(None), None)
        return self._template

    # -- pickling (the rulebook bundle) -----------------------------------------------------------
    _STATE = ("text", "names", "dotted", "bare", "file", "line")

    def __getstate__(self) -> dict:
        """The reason's fields and its template compiled to code (marshalled, tagged with the
        bytecode version), so that a reason restored from a bundle renders without compiling."""
        state = {name: getattr(self, name) for name in self._STATE}
        code = self._code
        if code is None:
            code = (sys.implementation.cache_tag, marshal.dumps(ENVIRONMENT.compile(self.text)))
        state["code"] = code
        return state

    def __setstate__(self, state: dict) -> None:
        for name in self._STATE:
            setattr(self, name, state[name])
        code = state.get("code")
        self._code = code if isinstance(code, tuple) and len(code) == 2 else None
        self._template = None

    def render(self, variables: dict) -> str:
        try:
            return self.template.render(**variables).strip()
        except jinja2.UndefinedError as exc:
            return f"(reason unavailable: {exc.message})"
        except Exception as exc:  # a sandbox refusal or a bad filter argument
            return f"(reason unavailable: {exc})"


def _unmarshal(code):
    """The code object of a marshalled template, or None (none kept, or another Python's)."""
    if code is None or code[0] != sys.implementation.cache_tag:
        return None
    try:
        return marshal.loads(code[1])
    except (ValueError, EOFError, TypeError):
        return None
