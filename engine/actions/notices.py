"""Notices: what to send, to whom and by when, rendered from templates kept with the rulebooks.

A rulebook's ``notices:`` section declares each notice (or form, or staff instruction): the
kind of entity it is for, ``when`` the case calls for it (an expression over the entity's facts
and rules), ``to`` whom it goes, its ``due`` date (usually a deadline, :mod:`engine.actions.deadlines`),
the ``variables`` its template sees, and its citation. The text is a jinja2 template: a ``.j2``
file beside the rulebook (``template:``) or inline (``text:``).

Rulebooks are untrusted, so templates are compiled once, at load, in jinja2's immutable sandbox
with ``StrictUndefined``: a template that names a variable its notice does not give is refused
when the rulebook loads, and ``include``, ``extends`` and ``import`` are refused (a template sees
only its own variables, never other files). A template file must sit under the rulebook's own
directory and be at most :data:`MAX_TEMPLATE_BYTES` long.

Text is rendered exactly as written: no indentation is added and no line is wrapped, so a
paragraph that policy requires "exactly as written" comes out byte for byte.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from ..language.dates import as_of_date
from ..model.citations import merge
from ..model.definitions import Scope
from ..model.names import NameContext
from ..errors import CompileError, EvaluationError, codes
from ..language.reasons import FILTERS as _REASON_FILTERS, shown
from ..io.yaml_loader import line_of
from ..runtime.state import State, decimal_context
from ..runtime.trace import collect_citations
from ..runtime.results import json_value
from ..types import EngineLike
from .recipients import recipients_for

#: Largest template file read.
MAX_TEMPLATE_BYTES = 100_000

#: Names every notice template may use besides its own variables.
BUILTIN_NAMES = frozenset({"person", "entity", "as_of", "case_id", "to", "due", "form", "title"})

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def _long_date(value) -> str:
    """June 16, 2025."""
    if value is None:
        return "none"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return f"{MONTHS[value.month - 1]} {value.day}, {value.year}"


@cache
def environment():
    """The sandboxed jinja2 environment of notice templates, made (and jinja2 imported) when a
    template is first built or rendered: a process that renders no notice, such as ``policy
    batch`` served by a compiled bundle, does not import jinja2 (~45 ms of its start)."""
    import jinja2

    from ..language.sandbox import BoundedSandbox
    made = BoundedSandbox(autoescape=False, undefined=jinja2.StrictUndefined,
                          trim_blocks=True, lstrip_blocks=True,
                          keep_trailing_newline=False, finalize=shown)
    made.filters["money"] = _REASON_FILTERS["money"]
    made.filters["percent"] = _REASON_FILTERS["percent"]
    made.filters["long_date"] = _long_date
    return made


def __getattr__(name: str):
    """``ENVIRONMENT``: :func:`environment`'s, for code that names it."""
    if name == "ENVIRONMENT":
        return environment()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(eq=False)
class Notice:
    name: str
    namespace: str
    short: str
    title: str
    description: str | None
    form: str | None
    entity_name: str
    when: object
    to: object
    due: object | None
    variables: list
    template: object
    template_names: frozenset
    template_file: str | None
    citations: tuple
    file: str | None = None
    line: int | None = None
    entity_kind: object = None          # set by the compiler
    template_text: str | None = None    # the template's source, to rebuild it after unpickling

    def __getstate__(self):
        """A compiled template cannot be pickled (a rulebook bundle); its text can."""
        state = dict(self.__dict__)
        state["template"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.template = _LazyTemplate(self.template_text or "")


class _LazyTemplate:
    """A notice template compiled on first render (after loading a bundle)."""

    def __init__(self, text: str):
        self.text = text
        self.compiled = None

    def render(self, **context):
        if self.compiled is None:
            self.compiled = environment().from_string(self.text)
        return self.compiled.render(**context)


@dataclass
class RenderedNotice:
    notice: Notice
    entity: object
    person: object
    to: object
    due: dt.date | None
    body: str
    variables: dict = field(default_factory=dict)
    citations: tuple = ()               # the notice's own, and of everything it read
    due_citations: tuple = ()           # of what its due date read (the deadline, the calendar)
    recipients: object = None           # engine.actions.recipients.Recipients, when declared for it

    def as_dict(self) -> dict:
        n = self.notice
        return {"notice": n.name, "title": n.title, "form": n.form,
                "entity": self.entity.label(), "person": self.person,
                "to": json_value(self.to),
                "due": self.due.isoformat() if isinstance(self.due, dt.date) else json_value(self.due),
                "due_from": _due_from(n),
                "body": self.body,
                "variables": {k: json_value(v) for k, v in self.variables.items()},
                "citations": [c.as_dict() for c in self.citations],
                "due_citations": [c.as_dict() for c in self.due_citations],
                "recipients": self.recipients.as_dict() if self.recipients is not None else None}


def _due_from(notice: Notice) -> str | None:
    return notice.due.text if notice.due is not None else None


# --------------------------------------------------------------------------------------------
# Building (engine.rulebook.reader) and compiling (engine.rulebook.compiler)
# --------------------------------------------------------------------------------------------

def _template_text(builder, qualified: str, raw: dict) -> tuple[str, str | None, int | None]:
    if "text" in raw:
        return raw["text"], None, line_of(raw, "text")
    line = line_of(raw, "template")
    base = Path(builder.file).resolve().parent
    path = (base / raw["template"]).resolve()
    if base not in path.parents:
        raise CompileError(f"Notice {qualified}: the template {raw['template']} is not under the "
                           f"rulebook's directory {base}.",
                           code=codes.UNKNOWN_SOURCE, file=builder.file,
                           line=line, field=f"{qualified}.template")
    try:
        size = path.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise CompileError(f"Notice {qualified}: the template {raw['template']} is {size} bytes "
                               f"long; the limit is {MAX_TEMPLATE_BYTES}.",
                               code=codes.UNKNOWN_SOURCE,
                               file=builder.file, line=line, field=f"{qualified}.template")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CompileError(f"Notice {qualified}: the template {raw['template']} cannot be read: "
                           f"{getattr(exc, 'strerror', None) or exc}.", code=codes.UNKNOWN_SOURCE,
                           file=builder.file, line=line, field=f"{qualified}.template") from None
    return text, str(path), line


def build_notice(builder, name: str, raw: dict, parent) -> Notice:
    qualified = f"{builder.namespace}.{name}"
    text, template_file, line = _template_text(builder, qualified, raw)
    where = template_file or builder.file
    import jinja2
    from jinja2 import meta, nodes
    try:
        tree = environment().parse(text)
        refused = next(iter(tree.find_all((nodes.Include, nodes.Extends, nodes.Import,
                                           nodes.FromImport))), None)
        if refused is not None:
            raise CompileError(f"Notice {qualified}: its template uses "
                               f"`{type(refused).__name__.lower()}`; a notice template may use only "
                               "its own variables.", code=codes.BECAUSE_UNREADABLE, file=where,
                               line=refused.lineno if template_file else line,
                               field=f"{qualified}.template")
        names = frozenset(meta.find_undeclared_variables(tree))
        template = environment().from_string(text)
    except jinja2.TemplateSyntaxError as exc:
        raise CompileError(f"Notice {qualified}: the template cannot be read: {exc.message}.",
                           code=codes.BECAUSE_UNREADABLE,
                           file=where, line=exc.lineno if template_file else line,
                           field=f"{qualified}.template") from None
    variables_raw = raw.get("variables") or {}
    variables = [(v, builder.expr(e, variables_raw, v, f"{qualified}.variables.{v}"))
                 for v, e in variables_raw.items()]
    due = builder.expr(raw["due"], raw, "due", f"{qualified}.due") if "due" in raw else None
    return Notice(qualified, builder.namespace, name, raw["title"], raw.get("description"),
                  raw.get("form"), raw["entity"],
                  builder.expr(raw["when"], raw, "when", f"{qualified}.when"),
                  builder.expr(raw["to"], raw, "to", f"{qualified}.to"), due, variables,
                  template, names, template_file,
                  builder.cites(raw.get("citation"), raw, "citation"),
                  builder.file, line_of(parent, name), template_text=text)


def compile_notices(compiler) -> dict:
    """Resolve every notice's expressions in its entity's scope; check its template's names."""
    found = {}
    for book in compiler.files:
        for notice in book.notices.values():
            found[notice.name] = notice
            kind = compiler.entity_kind_for(notice, "Notice")
            if kind is None:
                continue
            notice.entity_kind = kind
            ctx = NameContext(notice.namespace, frozenset(book.uses), notice, kind)
            for expression in [notice.when, notice.to, notice.due] + [e for _, e in notice.variables]:
                if expression is not None:
                    compiler.compile_expression(expression, ctx)
            unknown = sorted(notice.template_names - BUILTIN_NAMES - {v for v, _ in notice.variables})
            if unknown:
                compiler.error(f"The template of notice {notice.name} uses {', '.join(unknown)}, "
                               "which the notice does not give. Add them to its `variables`, or use "
                               f"{', '.join(sorted(BUILTIN_NAMES))}.", notice.file, notice.line,
                               f"{notice.name}.variables", code=codes.NOTICE_TEMPLATE_NAME)
    return found


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------

def _walk(entity):
    yield entity
    for children in entity.children.values():
        for child in children:
            yield from _walk(child)


def render_notices(engine: EngineLike, case, as_of=None, names=None) -> tuple:
    """Every notice the case calls for as of a date: ``(case, date, [RenderedNotice, ...])``.

    ``names`` limits the notices considered (qualified or short names).
    """
    case = engine.read_case(case)
    on = as_of_date(as_of) or case.as_of or dt.date.today()
    notices = list(engine.program.notices.values())
    if names:
        wanted = set(names)
        unknown = wanted - {n.name for n in notices} - {n.short for n in notices}
        if unknown:
            known = ", ".join(n.name for n in notices) or "none are declared"
            raise EvaluationError(f"There is no notice named {', '.join(sorted(unknown))} (notices: "
                                  f"{known}).", code=codes.UNKNOWN_NOTICE)
        notices = [n for n in notices if n.name in wanted or n.short in wanted]
    state = State(engine.program, engine.cache, on, engine.reference)
    rendered: list[RenderedNotice] = []
    with decimal_context():
        for notice in notices:
            for entity in _walk(case.root):
                if entity.kind is not notice.entity_kind:
                    continue
                item = _render_one(state, notice, entity, case, on, collect_citations)
                if item is not None:
                    rendered.append(item)
    if any(item.person is not None for item in rendered):
        found = recipients_for(engine, case, on)
        for item in rendered:
            item.recipients = found.get(item.entity.label())
    return case, on, rendered


def _render_one(state, notice: Notice, entity, case, on, collect_citations):
    def where():
        return f"Notice {notice.name} for {entity.label()}"
    run = state.evaluator.run
    deps: list = []
    due_deps: list = []
    with state.entering(Scope(entity), deps):
        called = run(notice.when, where)
        if not isinstance(called, bool):
            raise EvaluationError(f"{where()}: `when: {notice.when.text}` gave {called!r}, not "
                                  "true or false.", code=codes.NOT_TRUE_OR_FALSE, file=notice.file,
                                  line=notice.when.line)
        if not called:
            return None
        to = run(notice.to, where)
        with state.entering(frame=due_deps):
            due = run(notice.due, where) if notice.due is not None else None
        if due is not None and not isinstance(due, dt.date):
            raise EvaluationError(f"{where()}: `due: {notice.due.text}` gave {due!r}, not a date.",
                                  code=codes.WRONG_TYPE, file=notice.file, line=notice.due.line)
        variables = {name: run(expression, where) for name, expression in notice.variables}
    person = entity.person_id()
    context = dict(variables, person=person, entity=entity.label(), as_of=on,
                   case_id=case.case_id, to=to, due=due, form=notice.form, title=notice.title)
    import jinja2           # its errors; the template made it importable already
    try:
        body = notice.template.render(**context)
    except jinja2.UndefinedError as exc:
        raise EvaluationError(f"{where()}: its template cannot be rendered: {exc.message}.",
                              code=codes.NOTICE_UNRENDERABLE,
                              file=notice.template_file or notice.file,
                              line=notice.line) from None
    except jinja2.TemplateError as exc:
        raise EvaluationError(f"{where()}: its template cannot be rendered: {exc}.",
                              code=codes.NOTICE_UNRENDERABLE,
                              file=notice.template_file or notice.file, line=notice.line) from None
    due_citations = merge(*(collect_citations(d) for d in due_deps))
    citations = merge(notice.citations, due_citations, *(collect_citations(d) for d in deps))
    return RenderedNotice(notice, entity, person, to, due, body, variables, citations,
                          due_citations)
