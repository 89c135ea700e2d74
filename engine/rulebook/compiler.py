"""Compiling rulebooks: one program from many files, every name resolved, no cycles.

The compiler takes the :class:`~engine.rulebook.reader.RulebookFile` objects of a rulebook directory
and produces a :class:`Program`:

1. namespaces are merged (a name defined twice is an error naming both files);
2. entity kinds are linked (parent, collections, id facts);
3. every name and call in every expression is resolved to a *reference*, a small function the
   evaluator calls (a fact of the entity or of one above it, a rule, a parameter, a function, an
   argument, a built-in); an unknown name is an error that names it, the file and the line;
4. the dependency graph of rules and functions is checked for cycles, and a cycle is reported
   with its whole path (``magi.a -> magi.b -> magi.a``).

All problems found are reported together, so that ``policy check`` shows every one at once.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from typing import Callable

from ..language.builtins import BUILTINS
from ..model.definitions import AggregateBody, Chart, Function, Rule
from ..model.entities import EntityKind
from ..model.names import NameContext, Resolved
from ..errors import CompileError, Problem, codes
from ..language.closures import compile_tree
from ..language.expressions import Expression
from ..model.parameters import Parameter
from ..language.reasons import BUILTIN_NAMES
from .reader import RulebookFile
from ..runtime.trace import FactRead, REASON_DEPTH
from ..actions import deadlines, mass_change, notices, recipients


@dataclass
class Program:
    """Compiled rulebooks: every definition by qualified name, ready to evaluate."""

    files: list[RulebookFile]
    namespaces: dict[str, list[RulebookFile]]
    parameters: dict[str, Parameter]
    functions: dict[str, Function]
    rules: dict[str, Rule]
    charts: dict[str, Chart]
    entity_kinds: dict[str, EntityKind]
    root_kind: EntityKind | None
    dependencies: dict[str, set[str]] = field(default_factory=dict)
    # Section 11 of docs/language.md, by qualified name (see compile_case_actions).
    calendars: dict = field(default_factory=dict)
    countings: dict = field(default_factory=dict)
    deadlines: dict = field(default_factory=dict)
    notices: dict = field(default_factory=dict)
    changes: dict = field(default_factory=dict)
    recipients: dict = field(default_factory=dict)   # engine.actions.recipients

    def outputs_for(self, kind: EntityKind) -> list[Rule]:
        cache = self.__dict__.setdefault("_outputs", {})
        rules = cache.get(kind.name)
        if rules is None:
            rules = cache[kind.name] = [r for r in self.rules.values()
                                        if r.output and r.entity_kind is kind]
        return rules

    def chart(self, name: str) -> Chart | None:
        if name in self.charts:
            return self.charts[name]
        matches = [c for c in self.charts.values() if c.short == name]
        return matches[0] if len(matches) == 1 else None


def compile_files(files: list[RulebookFile]) -> Program:
    return _Compiler(files).run()


class _Compiler:
    def __init__(self, files: list[RulebookFile]):
        self.files = files
        self.problems: list[Problem] = []
        self.parameters: dict[str, Parameter] = {}
        self.functions: dict[str, Function] = {}
        self.rules: dict[str, Rule] = {}
        self.charts: dict[str, Chart] = {}
        self.kinds: dict[str, EntityKind] = {}
        self.namespaces: dict[str, list[RulebookFile]] = {}
        self.edges: dict[str, set[str]] = {}
        self.fact_reads: dict[str, set[str]] = {}    # definition -> facts its expressions read
        self.pending_reasons: list = []              # checked once every definition is compiled
        self.edge_lines: dict[tuple[str, str], tuple] = {}
        self.resolved: Resolved | None = None        # what the last name or call resolved to

    def error(self, message, file=None, line=None, field=None, code=codes.COMPILE):
        self.problems.append(Problem(code, message, file, line, field))

    # -----------------------------------------------------------------------------------------
    def run(self) -> Program:
        self.merge()
        self.link_entities()
        for rule in self.rules.values():
            self.compile_rule(rule)
        for function in self.functions.values():
            self.compile_function(function)
        for chart in self.charts.values():
            self.compile_chart(chart)
        self.compile_case_actions()
        for definition in self.pending_reasons:
            self.check_reason(definition)
        self.find_cycles()
        if self.problems:
            raise CompileError(problems=self.problems)
        for expression in self.all_expressions():
            if not expression.is_constant:
                expression.fn = compile_tree(expression.tree)
        root = next((k for k in self.kinds.values() if k.parent is None), None)
        for uid, definition in enumerate(list(self.rules.values()) + list(self.functions.values())):
            definition.uid = uid
        return Program(self.files, self.namespaces, self.parameters, self.functions, self.rules,
                       self.charts, self.kinds, root, self.edges,
                       self.calendars, self.countings, self.deadlines, self.notices, self.changes,
                       self.recipients)

    def compile_case_actions(self):
        """Section 11: link deadlines to their counting rules and calendars, and resolve the
        expressions of notices and change comparisons like a rule's (engine.actions.deadlines,
        engine.actions.notices, engine.actions.mass_change)."""
        deadlines.link(self)
        self.notices = notices.compile_notices(self)
        self.changes = mass_change.compile_changes(self)
        self.recipients = recipients.compile_recipients(self)

    def all_expressions(self):
        """Every expression of every rule, function and chart (for the closure compiler)."""
        for definition in list(self.rules.values()) + list(self.functions.values()):
            yield from definition.body.expressions()
            if getattr(definition, "output_when", None) is not None:
                yield definition.output_when
        for chart in self.charts.values():
            for group in chart.groups:
                for _, e in group.for_each + group.row:
                    yield e
                if group.when is not None:
                    yield group.when
        for section in (self.notices, self.changes):
            for item in section.values():
                yield from _expressions_in(vars(item).values())

    def merge(self):
        seen: dict[str, str] = {}
        for book in self.files:
            self.namespaces.setdefault(book.namespace, []).append(book)
            for table, kind in ((book.parameters, "parameter"), (book.functions, "function"),
                                (book.rules, "rule"), (book.charts, "table")):
                for short, definition in table.items():
                    qualified = f"{book.namespace}.{short}"
                    if qualified in seen:
                        self.error(f"The name {qualified} is defined twice: in {seen[qualified]} and "
                                   f"in {book.path}. Each name may be defined once per namespace.",
                                   book.path, definition.line, qualified, code=codes.DEFINED_TWICE)
                        continue
                    seen[qualified] = book.path
                    {"parameter": self.parameters, "function": self.functions, "rule": self.rules,
                     "table": self.charts}[kind][qualified] = definition
            for name, kind in book.entities.items():
                if name in self.kinds:
                    self.error(f"The entity kind '{name}' is declared twice (also in "
                               f"{self.kinds[name].file}).", book.path, kind.line, name,
                               code=codes.DEFINED_TWICE)
                    continue
                self.kinds[name] = kind
        for book in self.files:
            for used in book.uses:
                if used not in self.namespaces and used not in ("outer",):
                    self.error(f"The rulebook uses the namespace '{used}', but no rulebook defines "
                               f"it. Known namespaces: {', '.join(sorted(self.namespaces))}.",
                               book.path, None, "uses", code=codes.UNKNOWN_NAMESPACE)

    def link_entities(self):
        roots = []
        for kind in self.kinds.values():
            if kind.parent_name is None:
                roots.append(kind)
                continue
            parent = self.kinds.get(kind.parent_name)
            if parent is None:
                self.error(f"The entity kind '{kind.name}' has parent '{kind.parent_name}', which is "
                           "not declared.", kind.file, kind.line, f"{kind.name}.parent",
                           code=codes.ENTITIES)
                continue
            if not kind.collection:
                self.error(f"The entity kind '{kind.name}' needs `collection`: the name of the list "
                           f"in its {parent.name} that holds it.", kind.file, kind.line,
                           f"{kind.name}.collection", code=codes.ENTITIES)
                continue
            kind.parent = parent
            parent.children[kind.collection] = kind
        if self.kinds and len(roots) != 1:
            names = ", ".join(k.name for k in roots) or "none"
            self.error(f"Exactly one entity kind must have no parent (the case); found: {names}.",
                       code=codes.ENTITIES)
        for kind in self.kinds.values():
            for fact in kind.facts.values():
                target = self.kinds.get(fact.references) if fact.references else None
                if fact.references and (target is None or not target.id_fact):
                    self.error(f"The fact '{fact.name}' of '{kind.name}' references "
                               f"'{fact.references}', which is not an entity kind with an id.",
                               fact.file, fact.line, f"{kind.name}.{fact.name}.references",
                               code=codes.ENTITIES)
            if kind.id_fact and kind.id_fact not in kind.facts:
                self.error(f"The entity kind '{kind.name}' names '{kind.id_fact}' as its id, but has "
                           "no such fact.", kind.file, kind.line, f"{kind.name}.id",
                           code=codes.ENTITIES)
        for kind in self.kinds.values():  # a cycle in parents would loop forever later
            seen = set()
            k = kind
            while k is not None:
                if id(k) in seen:
                    self.error(f"The entity kinds' parents form a loop at '{kind.name}'.", kind.file,
                               kind.line, code=codes.ENTITIES)
                    k.parent = None
                    break
                seen.add(id(k))
                k = k.parent

    # -- definitions --------------------------------------------------------------------------
    def book_of(self, definition) -> RulebookFile:
        for book in self.namespaces.get(definition.namespace, []):
            if book.path == definition.file:
                return book
        return self.namespaces[definition.namespace][0]

    def context(self, definition, entity_kind=None, args=(), pure=False) -> NameContext:
        book = self.book_of(definition)
        return NameContext(definition.namespace, frozenset(book.uses), definition, entity_kind,
                        frozenset(args), None, pure)

    def entity_kind_for(self, item, what: str):
        """The entity kind a notice or change is declared for; E314 when it is not declared."""
        kind = self.kinds.get(item.entity_name)
        if kind is None:
            self.error(f"{what} {item.name} is for '{item.entity_name}', which is not a declared "
                       f"entity kind ({', '.join(sorted(self.kinds))}).", item.file, item.line,
                       f"{item.name}.entity", code=codes.UNKNOWN_ENTITY)
        return kind

    def compile_rule(self, rule: Rule):
        kind = self.kinds.get(rule.entity_name)
        if kind is None:
            known = ", ".join(sorted(self.kinds)) or "none are declared"
            self.error(f"Rule {rule.name} is computed for '{rule.entity_name}', which is not a "
                       f"declared entity kind ({known}).", rule.file, rule.line,
                       f"{rule.name}.entity", code=codes.UNKNOWN_ENTITY)
            return
        rule.entity_kind = kind
        ctx = self.context(rule, kind)
        self.compile_body(rule, ctx)
        if rule.output_when is not None:
            self.compile_expression(rule.output_when, ctx)
        if rule.value_names is not None:
            if rule.value_names not in self.parameters and "." not in rule.value_names:
                rule.value_names = f"{rule.namespace}.{rule.value_names}"
            names = self.parameters.get(rule.value_names)
            if names is None or names.kind != "table":
                self.error(f"Rule {rule.name} takes the plain names of its values from "
                           f"`{rule.value_names}`, which is not a table parameter.", rule.file,
                           rule.line, f"{rule.name}.value_names", code=codes.UNKNOWN_NAME)
            else:       # the names are read when the result is shown (W560 counts that)
                self.edges.setdefault(rule.name, set()).add(rule.value_names)
        self.pending_reasons.append(rule)

    def compile_function(self, function: Function):
        ctx = self.context(function, None, function.args, pure=True)
        self.compile_body(function, ctx)
        self.pending_reasons.append(function)

    def compile_body(self, definition, ctx: NameContext):
        body = definition.body
        if isinstance(body, AggregateBody):
            if ctx.entity_kind is None:
                self.error(f"{definition.name} aggregates over '{body.over}', but only rules "
                           "(computed for an entity) can aggregate.", definition.file,
                           definition.line, code=codes.AGGREGATE)
                return
            found = ctx.entity_kind.find_collection(body.over)
            if found is None:
                reachable = sorted({c for k in ctx.entity_kind.ancestors() for c in k.children})
                self.error(f"Rule {definition.name} aggregates over '{body.over}', which is not a "
                           f"collection of a {ctx.entity_kind.name} or of an entity above it "
                           f"(available: {', '.join(reachable) or 'none'}).", definition.file,
                           body.line, f"{definition.name}.aggregate.over", code=codes.AGGREGATE)
                return
            body.levels_up, body.member_kind = found
            if body.function not in ("count", "list", "first") and body.of is None:
                self.error(f"Rule {definition.name} uses '{body.function}', which needs `of`: the "
                           "value to take from each member.", definition.file, body.line,
                           f"{definition.name}.aggregate.of", code=codes.AGGREGATE)
            if body.function == "list" and body.member_kind.id_fact is None:
                self.error(f"Rule {definition.name} lists members of '{body.over}', but a "
                           f"{body.member_kind.name} has no id.", definition.file, body.line,
                           code=codes.AGGREGATE)
            member_ctx = NameContext(ctx.namespace, ctx.uses, ctx.owner, body.member_kind,
                                  frozenset(), ctx, False)
            for expression in (body.where, body.of):
                if expression is not None:
                    self.compile_expression(expression, member_ctx)
            if body.default is not None:
                self.compile_expression(body.default, ctx)
            return
        for expression in body.expressions():
            self.compile_expression(expression, ctx)

    def compile_chart(self, chart: Chart):
        book = self.book_of(chart)
        for group in chart.groups:
            # Each `for_each` list is independent of the others: the rows are their product.
            names = [var for var, _ in group.for_each]
            for _, expression in group.for_each:
                self.compile_expression(expression, NameContext(chart.namespace, frozenset(book.uses),
                                                             chart, None, frozenset(), None, True))
            ctx = NameContext(chart.namespace, frozenset(book.uses), chart, None, frozenset(names), None, True)
            if group.when is not None:
                self.compile_expression(group.when, ctx)
            for _, expression in group.row:
                self.compile_expression(expression, ctx)
            columns = [c for c, _ in group.row]
            if chart.columns and columns != chart.columns:
                missing = [c for c in chart.columns if c not in columns]
                extra = [c for c in columns if c not in chart.columns]
                if missing or extra:
                    self.error(f"A group of chart {chart.name} does not give the chart's columns "
                               f"(missing: {', '.join(missing) or 'none'}; not in `columns`: "
                               f"{', '.join(extra) or 'none'}).", chart.file, group.line,
                               f"{chart.name}.groups", code=codes.TABLE_COLUMNS)

    def with_transparent(self, owners):
        """``owners``, each followed by the transparent rules it reads (recursively): what a
        transparent test reads counts as read where the test is read (runtime.trace.inputs_of)."""
        out, stack = [], list(reversed(owners))
        while stack:
            owner = stack.pop()
            out.append(owner)
            for target in reversed(list(self.edges.get(owner, ()))):
                rule = self.rules.get(target)
                if rule is not None and getattr(rule, "transparent", False) and not rule.output:
                    stack.append(target)
        return out

    def check_reason(self, definition):
        """A `because` text may use what the rule read, directly or through the rules and
        functions it read, down to the depth at which results look values up
        (:data:`engine.runtime.trace.REASON_DEPTH`), written as in expressions (``magi.household_income``)
        or, as before, with the dots written as ``__``."""
        reasons = [definition.because]
        body = definition.body
        for attr in ("conditions", "rows"):
            for item in getattr(body, attr, ()) or ():
                reasons.append(item.because)
        if all(reason is None for reason in reasons):
            return
        names = set(BUILTIN_NAMES)
        for expression in body.expressions():
            for n in expression.name_ids():
                names.add(n.replace(".", "__").replace("-", "_"))
                names.add(n.rsplit(".", 1)[-1])
            for call in expression.calls:
                names.add(call.func.id.replace(".", "__"))
                names.add(call.func.id.rsplit(".", 1)[-1])
        names.update(getattr(definition, "args", []) or [])
        level, seen = [definition.name], {definition.name}
        for _ in range(REASON_DEPTH):
            following = []
            for owner in self.with_transparent(level):
                names.update(self.fact_reads.get(owner, ()))
                for target in self.edges.get(owner, ()):
                    names.add(target.replace(".", "__").replace("-", "_"))
                    names.add(target.rsplit(".", 1)[-1])
                    if target not in seen:
                        seen.add(target)
                        following.append(target)
            level = following
        for reason in reasons:
            if reason is None:
                continue
            unknown = set(reason.bare - names)
            for dotted in reason.dotted:
                base = dotted.split(".", 1)[0]
                if base not in names and dotted.replace(".", "__").replace("-", "_") not in names:
                    unknown.add(dotted)
            if unknown:
                self.error(f"The `because` text of {definition.name} uses {', '.join(sorted(unknown))}, "
                           "which the rule does not read. A reason may use `value`, `person`, `as_of` "
                           "and the names the rule reads, directly or through the rules it reads, "
                           "written as in expressions (`magi.household_income`).", reason.file,
                           reason.line, f"{definition.name}.because", code=codes.BECAUSE_UNKNOWN_NAME)

    # -- names --------------------------------------------------------------------------------
    def compile_expression(self, expression: Expression, ctx: NameContext):
        handled = set()
        for call in expression.calls:
            if call.func.id == "in_force":
                handled.update(id(a) for a in call.args)
                self.compile_in_force(call, ctx, expression)
            elif call.func.id == "value_on":
                if call.args:
                    handled.add(id(call.args[0]))
                self.compile_value_on(call, ctx, expression)
        for node in expression.names:
            if id(node) in handled:
                continue
            ref = self.resolve_name(node.id, ctx, expression)
            if ref is not None:
                node.ref, node.resolved = ref, self.resolved
        for call in expression.calls:
            if call.func.id in ("in_force", "value_on"):
                continue
            ref = self.resolve_call(call.func.id, len(call.args), ctx, expression)
            if ref is not None:
                call.ref, call.resolved = ref, self.resolved

    def parameter_argument(self, call, ctx: NameContext, expression: Expression, counts, usage):
        """The parameter named by the first argument of ``in_force``/``value_on`` (which take a
        parameter's name, not its value), or None after reporting why not."""
        args = call.args
        name = call.func.id
        if len(args) not in counts or not isinstance(args[0], ast.Name):
            self.error(f"`{name}` takes {usage}; `{expression.text}` gives something else.",
                       expression.file, expression.line, expression.field, code=codes.BAD_CALL)
            return None
        kind, definition = self.lookup(args[0].id, ctx, expression)
        if kind != "param":
            if kind != "reported":
                self.error(f"`{name}({args[0].id}, ...)`: `{args[0].id}` is not a parameter.",
                           expression.file, expression.line, expression.field, code=codes.BAD_CALL)
            return None
        return definition

    def compile_in_force(self, call, ctx: NameContext, expression: Expression):
        """``in_force(param)``: whether a parameter has a value on the evaluation date."""
        definition = self.parameter_argument(
            call, ctx, expression, (1,),
            "the name of one parameter, as in `in_force(magi.aeg)`")
        if definition is None:
            return
        self.add_edge(ctx, definition.name, expression)
        call.lazy = True
        call.ref = _in_force(definition)

    def compile_value_on(self, call, ctx: NameContext, expression: Expression):
        """``value_on(param, date)`` / ``value_on(param, date, key)``: a parameter's value in force
        on another date than the evaluation date (the nursing rate on the application date)."""
        definition = self.parameter_argument(
            call, ctx, expression, (2, 3),
            "a parameter's name, a date and, for a table or bands parameter, a key, as in "
            "`value_on(mhabd.rate, application_date)`")
        if definition is None:
            return
        if (definition.kind == "scalar") != (len(call.args) == 2):
            needs = "no key" if definition.kind == "scalar" else "a key as its third argument"
            self.error(f"`value_on({definition.name}, ...)`: {definition.name} is a "
                       f"{definition.kind} parameter and takes {needs}.", expression.file,
                       expression.line, expression.field, code=codes.BAD_CALL)
            return
        self.add_edge(ctx, definition.name, expression)
        call.lazy = True
        call.ref = _value_on(definition)

    def unknown(self, name: str, ctx: NameContext, expression: Expression, what="name"):
        hint = self.suggest(name, ctx)
        owner = getattr(ctx.owner, "name", "?")
        self.error(f"{owner} uses the {what} `{name}` in `{expression.text}`, but no fact, "
                   f"parameter, function or rule has that name{hint}.", expression.file,
                   expression.line, expression.field, code=codes.UNKNOWN_NAME)

    def suggest(self, name: str, ctx: NameContext) -> str:
        candidates = set(ctx.args) | set(BUILTINS) | {"as_of"}
        for table in (self.parameters, self.functions, self.rules):
            for qualified in table:
                candidates.add(qualified)
                if qualified.startswith(ctx.namespace + "."):
                    candidates.add(qualified.split(".", 1)[1])
        if ctx.entity_kind is not None:
            for kind in ctx.entity_kind.ancestors():
                candidates.update(kind.facts)
        close = difflib.get_close_matches(name, sorted(candidates), n=1)
        return f" (did you mean `{close[0]}`?)" if close else ""

    def lookup(self, name: str, ctx: NameContext, expression: Expression):
        """What a name means in a context: ('param'|'function'|'rule', definition) or a fact."""
        if "." in name:
            namespace, short = name.split(".", 1)
            if namespace != ctx.namespace and namespace not in ctx.uses and namespace in self.namespaces:
                self.error(f"{getattr(ctx.owner, 'name', '?')} refers to `{name}` but its rulebook "
                           f"does not list '{namespace}' in `uses`.", expression.file,
                           expression.line, expression.field, code=codes.NAMESPACE_NOT_USED)
                return "reported", None
        else:
            namespace, short = ctx.namespace, name
        qualified = f"{namespace}.{short}"
        if qualified in self.parameters:
            return "param", self.parameters[qualified]
        if qualified in self.functions:
            return "function", self.functions[qualified]
        if qualified in self.rules:
            return "rule", self.rules[qualified]
        return None, None

    def add_edge(self, ctx: NameContext, target: str, expression: Expression):
        owner = getattr(ctx.owner, "name", None)
        if owner is None:
            return
        self.edges.setdefault(owner, set()).add(target)
        self.edge_lines.setdefault((owner, target), (expression.file, expression.line))

    def resolve_name(self, name: str, ctx: NameContext, expression: Expression):
        if name.startswith("outer."):
            if ctx.outer is None:
                self.error(f"`{name}` in `{expression.text}`: `outer.` can only be used inside an "
                           "aggregate's `where` or `of`.", expression.file, expression.line,
                           expression.field, code=codes.OUTER_OUTSIDE_AGGREGATE)
                return None
            inner = self.resolve_name(name[6:], ctx.outer, expression)
            self.resolved = Resolved("outer", self.resolved)
            return _outer(inner) if inner is not None else None
        if name in ctx.args:
            self.resolved = Resolved("arg", name)
            return _arg(name)
        if name == "as_of":
            self.resolved = Resolved("as_of", None)
            return _as_of
        kind, definition = self.lookup(name, ctx, expression)
        if kind == "reported":
            return None
        if kind == "param":
            if definition.kind != "scalar":
                self.error(f"`{name}` in `{expression.text}` is a {definition.kind} parameter; "
                           f"call it with a key, such as `{name}(household_size)`.",
                           expression.file, expression.line, expression.field,
                           code=codes.WRONG_KIND_OF_NAME)
                return None
            self.add_edge(ctx, definition.name, expression)
            self.resolved = Resolved("param", definition)
            return _param(definition)
        if kind == "function":
            self.error(f"`{name}` in `{expression.text}` is a function; call it with its arguments "
                       f"({', '.join(definition.args)}).", expression.file, expression.line,
                       expression.field, code=codes.WRONG_KIND_OF_NAME)
            return None
        if kind == "rule":
            self.resolved = Resolved("rule", definition)
            return self.rule_ref(definition, ctx, expression)
        if "." not in name and ctx.entity_kind is not None and not ctx.pure:
            for depth, entity_kind in enumerate(ctx.entity_kind.ancestors()):
                if name in entity_kind.facts:
                    owner = getattr(ctx.owner, "name", None)
                    if owner is not None:
                        self.fact_reads.setdefault(owner, set()).add(name)
                    self.resolved = Resolved("fact", entity_kind.facts[name])
                    return _fact(name, depth)
        if ctx.pure and "." not in name and ctx.owner is not None:
            all_facts = {f for k in self.kinds.values() for f in k.facts}
            if name in all_facts:
                self.error(f"{ctx.owner.name} reads the fact `{name}`, but functions and tables may "
                           "not read case facts; pass it as an argument.", expression.file,
                           expression.line, expression.field, code=codes.IMPURE_FUNCTION)
                return None
        self.unknown(name, ctx, expression)
        return None

    def rule_ref(self, rule: Rule, ctx: NameContext, expression: Expression):
        if ctx.pure:
            self.error(f"{ctx.owner.name} reads the rule {rule.name}, but functions and tables may not "
                       "read rules, which depend on a case.", expression.file, expression.line,
                       expression.field, code=codes.IMPURE_FUNCTION)
            return None
        target_kind = self.kinds.get(rule.entity_name)
        if target_kind is None or ctx.entity_kind is None:
            return None  # reported with the rule itself
        depth = ctx.entity_kind.distance_to(target_kind)
        if depth is None:
            self.error(f"{ctx.owner.name} (for each {ctx.entity_kind.name}) reads {rule.name}, which "
                       f"is computed for each {target_kind.name}; use an aggregate over them.",
                       expression.file, expression.line, expression.field, code=codes.WRONG_ENTITY)
            return None
        self.add_edge(ctx, rule.name, expression)
        return _rule(rule, depth)

    def resolve_call(self, name: str, argc: int, ctx: NameContext, expression: Expression):
        kind, definition = (None, None)
        if name not in BUILTINS or "." in name:
            kind, definition = self.lookup(name, ctx, expression)
        if kind == "reported":
            return None
        if kind == "function":
            if argc != len(definition.args):
                self.error(f"`{name}` takes {len(definition.args)} argument(s) "
                           f"({', '.join(definition.args)}) but `{expression.text}` gives {argc}.",
                           expression.file, expression.line, expression.field, code=codes.BAD_CALL)
                return None
            self.add_edge(ctx, definition.name, expression)
            self.resolved = Resolved("function", definition)
            return _call_function(definition)
        if kind == "param":
            if definition.kind == "scalar":
                self.error(f"`{name}` is a single-value parameter; use it without parentheses.",
                           expression.file, expression.line, expression.field, code=codes.BAD_CALL)
                return None
            if argc != 1:
                self.error(f"The {definition.kind} parameter `{name}` takes one key, but "
                           f"`{expression.text}` gives {argc}.", expression.file, expression.line,
                           expression.field, code=codes.BAD_CALL)
                return None
            self.add_edge(ctx, definition.name, expression)
            self.resolved = Resolved("param", definition)
            return _lookup(definition)
        if kind == "rule":
            self.error(f"`{name}` is a rule; use it without parentheses.", expression.file,
                       expression.line, expression.field, code=codes.BAD_CALL)
            return None
        builtin = BUILTINS.get(name)
        if builtin is None:
            self.unknown(name, ctx, expression, what="function")
            return None
        fewest, most = builtin.fewest, builtin.most
        if argc < fewest or (most is not None and argc > most):
            expected = str(fewest) if fewest == most else (f"{fewest} or more" if most is None else f"{fewest} to {most}")
            self.error(f"`{name}` takes {expected} argument(s) but `{expression.text}` gives {argc}.",
                       expression.file, expression.line, expression.field, code=codes.BAD_CALL)
            return None
        self.resolved = Resolved("builtin", builtin)
        return _builtin(builtin.function)

    # -- cycles -------------------------------------------------------------------------------
    def find_cycles(self):
        state: dict[str, int] = {}
        stack: list[str] = []
        reported: set[frozenset] = set()

        def visit(name: str):
            state[name] = 1
            stack.append(name)
            for target in sorted(self.edges.get(name, ())):
                if state.get(target) == 1:
                    cycle = stack[stack.index(target):] + [target]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        file, line = self.edge_lines.get((name, target), (None, None))
                        self.error(f"These definitions depend on each other in a cycle: "
                                   f"{' -> '.join(cycle)}. A value cannot be computed from itself.",
                                   file, line, name, code=codes.CYCLE)
                elif state.get(target) is None:
                    visit(target)
            stack.pop()
            state[name] = 2

        for name in sorted(self.edges):
            if state.get(name) is None:
                visit(name)


def _expressions_in(values):
    """Every Expression among values, lists, tuples and dicts of them (notices, changes)."""
    for value in values:
        if isinstance(value, Expression):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from _expressions_in(value)
        elif isinstance(value, dict):
            yield from _expressions_in(value.values())


# --------------------------------------------------------------------------------------------
# References: what the evaluator calls for each name and call node.
# --------------------------------------------------------------------------------------------

# A reference whose `cites` is False never appends a record with citations to the frame, so the
# closure compiler needs no deciding-citation marks around it (engine.language.marks.may_cite).

def _arg(name: str) -> Callable:
    def ref(state):
        return state.scope.args[name]
    ref.cites = False
    ref.target = ("arg", name)
    return ref


def _as_of(state):
    return state.as_of


_as_of.cites = False
_as_of.target = ("as_of",)


def _outer(inner: Callable) -> Callable:
    def ref(state):
        # Only the scope changes (and comes back, error or not); by hand rather than through
        # State.entering, since filters such as `id == outer.id` run once per member.
        scope = state.scope
        state.scope = scope.outer
        try:
            return inner(state)
        finally:
            state.scope = scope
    ref.cites = getattr(inner, "cites", True)
    ref.target = ("outer", inner.target)
    return ref


def _fact(name: str, depth: int) -> Callable:
    def read(state, entity):
        record = entity.reads.get(name)
        if record is None:
            try:
                value = entity.facts[name]
            except KeyError:
                value = entity.fact(name, state.describe)
            record = entity.reads[name] = FactRead(name, entity, value)
        state.frame.append(record)
        return record.value

    if depth == 0:
        def ref(state):
            # `read` inlined: the facts of the entity itself are most of the facts read.
            entity = state.scope.entity
            record = entity.reads.get(name)
            if record is None:
                return read(state, entity)
            state.frame.append(record)
            return record.value
    else:
        def ref(state):
            entity = state.scope.entity
            for _ in range(depth):
                entity = entity.parent
            return read(state, entity)
    ref.cites = False          # a fact carries no citation
    ref.target = ("fact", name, depth)
    return ref


def _param(parameter: Parameter) -> Callable:
    def ref(state):
        return state.parameter(parameter).read()
    ref.parameter = parameter  # lets checks see which parameter a name reads (E505)
    ref.target = ("param", parameter)
    return ref


def _rule(rule: Rule, depth: int) -> Callable:
    if depth == 0:
        def ref(state):
            # The hot path of evaluation: State.rule inlined for rules of the same entity.
            entity = state.scope.entity
            node = state.rules.get((rule.uid, entity.uid))
            if node is None:
                node = state._compute(rule, entity, (rule.uid, entity.uid))
            state.frame.append(node)
            return node.value
        ref.target = ("rule", rule, 0)
        return ref

    def ref(state):
        entity = state.scope.entity
        for _ in range(depth):
            entity = entity.parent
        return state.rule(rule, entity).value
    ref.target = ("rule", rule, depth)
    return ref


def _call_function(function: Function) -> Callable:
    def ref(state, args):
        return state.call(function, args).value
    ref.target = ("function", function)
    return ref


def _lookup(parameter: Parameter) -> Callable:
    def ref(state, args):
        return state.parameter(parameter).lookup(args[0])
    ref.parameter = parameter
    ref.target = ("lookup", parameter)
    return ref


def _value_on(parameter: Parameter) -> Callable:
    def ref(state, nodes):
        evaluate = state.evaluator.evaluate_node
        on = evaluate(nodes[1])
        if on is None:
            return None
        value = state.parameter_on(parameter, on)
        return value.read() if len(nodes) == 2 else value.lookup(evaluate(nodes[2]))
    ref.target = ("value_on", parameter)
    return ref


def _in_force(parameter: Parameter) -> Callable:
    def ref(state, _nodes):
        return state.shared.in_force(parameter, state.as_of)
    ref.cites = False          # answers without reading the value: nothing is cited
    ref.target = ("in_force", parameter)
    return ref


def _builtin(function: Callable) -> Callable:
    def ref(state, args):
        return function(*args)
    ref.target = ("builtin", function)
    ref.builtin = function     # lets the closure compiler call the built-in directly
    return ref
