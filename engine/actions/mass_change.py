"""Mass changes: a case's results at two dates, compared the way a rulebook says.

When the poverty guidelines or a cost-of-living adjustment change, every open case is
re-determined, and what staff must do depends on how each person's result moved: no change, a
reduction, a closure. A rulebook's ``changes:`` section declares such a comparison: the kind of
entity, the rule compared (``compare``), and ``columns``: expressions that see

* ``before`` and ``after``: the compared rule's value for the entity at the two dates,
* ``before_date``, ``after_date`` and ``notice_date`` (None unless given),
* for each rule named under ``also`` (``also: {eligible: twha.eligible}``), ``before_eligible``
  and ``after_eligible``: that rule's value for the same entity at the two dates, for a
  classification that needs more than the compared value (a premium that drops to zero because
  the person lost eligibility is a loss, not a reduction),
* every column declared above them.

Columns are evaluated under the policy in force on the after date, in a pure context (functions,
parameters and deadlines, no case facts), so that the classification itself is a cited rulebook
function. Nothing here knows what a reduction is.

A rulebook may declare several comparisons (one per program a mass change can move):
``compare_all`` evaluates the case once on each date for all of them and classifies each. An
entity whose compared value is None on both dates (a person without Medicare for ``msp.level``)
is not compared: the result does not apply to it.

The after case may be a different file: an FPL update changes only the date, but a COLA also
changes the incomes, which the case as it stands after the change must show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..errors import EvaluationError, PolicyError, codes
from ..io.yaml_loader import line_of
from ..language.dates import as_of_date
from ..model.citations import merge
from ..model.definitions import Scope
from ..model.names import NameContext
from ..runtime.results import json_value
from ..runtime.state import State, decimal_context
from ..runtime.trace import Node, collect_citations, inputs_of
from ..types import EngineLike
from .recipients import recipients_for

#: Names every column expression may use.
ARGUMENTS = ("before", "after", "before_date", "after_date", "notice_date")


@dataclass(eq=False)
class Change:
    name: str
    namespace: str
    short: str
    title: str
    description: str | None
    entity_name: str
    compare: str
    columns: list
    citations: tuple
    file: str | None = None
    line: int | None = None
    also: list = field(default_factory=list)   # (local name, rule name) read on both dates
    entity_kind: object = None          # set by the compiler
    rule: object = None                 # the compared rule, set by the compiler

    def rule_names(self) -> list[str]:
        """Every rule the comparison reads from the two evaluations."""
        return [self.compare] + [rule for _, rule in self.also]


@dataclass
class ChangeRow:
    entity: str
    person: object
    before: object
    after: object
    columns: dict
    because: list = field(default_factory=list)
    citations: tuple = ()               # the comparison's, its columns' and the compared results'
    column_citations: tuple = ()        # the comparison's own and what its columns read

    def as_dict(self) -> dict:
        return {"entity": self.entity, "person": self.person,
                "before": json_value(self.before), "after": json_value(self.after),
                **{k: json_value(v) for k, v in self.columns.items()},
                "because": list(self.because),
                "citations": [c.as_dict() for c in self.citations]}

    def named_dict(self, change: "Change") -> dict:
        """The row as one item of a list of compared results: named by the compared result."""
        return {"name": change.compare, "change": change.name, **self.as_dict()}


@dataclass
class ChangeResult:
    change: Change
    case_id: object
    before_date: dt.date
    after_date: dt.date
    notice_date: dt.date | None
    rows: list
    unmatched: list
    failure: object = None      # the PolicyError that stopped this comparison (compare_all goes on)

    def as_dict(self) -> dict:
        c = self.change
        return {"change": c.name, "title": c.title, "case_id": self.case_id,
                "compare": c.compare, "before_date": self.before_date.isoformat(),
                "after_date": self.after_date.isoformat(),
                "notice_date": self.notice_date.isoformat() if self.notice_date else None,
                "columns": [name for name, _ in c.columns],
                "rows": [r.as_dict() for r in self.rows],
                "unmatched": list(self.unmatched)}


@dataclass
class MassChange:
    """Every comparison of the rulebooks (or those asked for) for one case."""

    case_id: object
    before_date: dt.date
    after_date: dt.date
    notice_date: dt.date | None
    comparisons: list            # ChangeResult, in declaration order
    recipients: dict = field(default_factory=dict)   # entity label -> Recipients (after date)

    def rows(self):
        """(comparison, row) for every compared entity of every comparison."""
        for result in self.comparisons:
            for row in result.rows:
                yield result.change, row

    def as_dict(self) -> dict:
        return {"case_id": self.case_id, "before_date": self.before_date.isoformat(),
                "after_date": self.after_date.isoformat(),
                "notice_date": self.notice_date.isoformat() if self.notice_date else None,
                "comparisons": [{"name": r.change.compare, "change": r.change.name,
                                 "title": r.change.title,
                                 "columns": [name for name, _ in r.change.columns],
                                 "compared": len(r.rows), "unmatched": list(r.unmatched),
                                 **({"error": r.failure.problem.as_dict()} if r.failure else {})}
                                for r in self.comparisons],
                "results": [self._with_recipients(row.named_dict(change), row)
                            for change, row in self.rows()]}

    def _with_recipients(self, item: dict, row) -> dict:
        found = self.recipients.get(row.entity)
        item["recipients"] = found.as_dict() if found is not None else None
        return item


def build_change(builder, name: str, raw: dict, parent) -> Change:
    qualified = f"{builder.namespace}.{name}"
    columns_raw = raw["columns"]
    columns = [(c, builder.expr(e, columns_raw, c, f"{qualified}.columns.{c}"))
               for c, e in columns_raw.items()]
    also = list((raw.get("also") or {}).items())
    return Change(qualified, builder.namespace, name, raw["title"], raw.get("description"),
                  raw["entity"], raw["compare"], columns,
                  builder.cites(raw.get("citation"), raw, "citation"),
                  builder.file, line_of(parent, name), also)


def compile_changes(compiler) -> dict:
    """Resolve each comparison's rule and entity, and its columns' names (a compile step)."""
    found = {}
    for book in compiler.files:
        for change in book.changes.values():
            found[change.name] = change
            kind = change.entity_kind = compiler.entity_kind_for(change, "Change")
            change.compare, change.rule = _resolve_rule(compiler, book, change, kind,
                                                        change.compare, "compare")
            change.also = [(local, _resolve_rule(compiler, book, change, kind, rule,
                                                 f"also.{local}")[0])
                           for local, rule in change.also]
            names = list(ARGUMENTS)
            for local, _ in change.also:
                names += [f"before_{local}", f"after_{local}"]
            for column, expression in change.columns:
                ctx = NameContext(change.namespace, frozenset(book.uses), change, None,
                               frozenset(names), None, True)
                compiler.compile_expression(expression, ctx)
                names.append(column)
    return found


def _resolve_rule(compiler, book, change, kind, name: str, field_name: str):
    """The qualified name and rule a comparison reads (``compare`` or an ``also`` entry)."""
    namespace = name.split(".", 1)[0] if "." in name else book.namespace
    qualified = name if "." in name else f"{book.namespace}.{name}"
    rule = compiler.rules.get(qualified)
    where = f"{change.name}.{field_name}"
    if namespace != book.namespace and namespace not in book.uses:
        compiler.error(f"Change {change.name} reads {qualified}, but its rulebook does "
                       f"not list '{namespace}' in `uses`.", change.file, change.line, where,
                       code=codes.NAMESPACE_NOT_USED)
    elif rule is None:
        compiler.error(f"Change {change.name} reads {qualified}, which is not a rule.",
                       change.file, change.line, where, code=codes.UNKNOWN_NAME)
    elif kind is not None and rule.entity_name != kind.name:
        compiler.error(f"Change {change.name} is for each {kind.name}, but {qualified} is "
                       f"computed for each {rule.entity_name}.", change.file, change.line,
                       where, code=codes.WRONG_ENTITY)
    return qualified, rule


def find(program, name: str | None) -> Change:
    changes = program.changes
    if name is None:
        if len(changes) == 1:
            return next(iter(changes.values()))
        known = ", ".join(sorted(changes)) or "none are declared"
        raise EvaluationError(f"Name the change comparison to run (changes: {known}).",
                              code=codes.UNKNOWN_CHANGE)
    if name in changes:
        return changes[name]
    matches = [c for c in changes.values() if c.short == name]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(sorted(changes)) or "none are declared"
    raise EvaluationError(f"There is no change comparison named {name} (changes: {known}).",
                          code=codes.UNKNOWN_CHANGE)


def select(program, names=None) -> list[Change]:
    """The comparisons asked for: each by its name, its short name or the result it compares;
    all of them, in declaration order, when ``names`` is empty."""
    changes = list(program.changes.values())
    if not names:
        if not changes:
            raise EvaluationError("The rulebooks declare no change comparison.", code=codes.UNKNOWN_CHANGE)
        return changes
    chosen = []
    for name in names:
        by_result = [c for c in changes if c.compare == name]
        for change in by_result or [find(program, name)]:
            if change not in chosen:
                chosen.append(change)
    return chosen


def compare(engine: EngineLike, case, before, after, name: str | None = None, after_case=None,
            notice_date=None) -> ChangeResult:
    """Evaluate ``case`` on ``before`` and (``after_case`` or ``case``) on ``after``, and one
    comparison's columns for each entity found in both. ``name`` is the comparison's name or
    the result it compares; it may be left out when the rulebooks declare only one."""
    change = select(engine.program, [name])[0] if name else find(engine.program, None)
    result = compare_all(engine, case, before, after, [change.name], after_case,
                         notice_date).comparisons[0]
    if result.failure is not None:
        raise result.failure
    return result


def compare_all(engine, case, before, after, names=None, after_case=None,
                notice_date=None) -> MassChange:
    """Every comparison (or those ``names`` choose) for one case: the case is evaluated once on
    each date for all the rules they read. A comparison whose columns cannot be computed (a
    parameter without a value on the date) keeps its error (``failure``) and the others go on."""
    changes = select(engine.program, names)
    before_date, after_date, notice = parse_dates(before, after, notice_date)
    first = engine.read_case(case)
    second = engine.read_case(after_case) if after_case is not None else first
    wanted = list(dict.fromkeys(n for c in changes for n in c.rule_names()))
    old = _by_rule(engine.evaluate(first, before_date, names=wanted))
    new = _by_rule(engine.evaluate(second, after_date, names=wanted))
    results = [_guarded(engine, change, old, new, first.case_id, before_date, after_date, notice)
               for change in changes]
    return MassChange(first.case_id, before_date, after_date, notice, results,
                      recipients_for(engine, second, after_date))


def _guarded(engine, change, old, new, case_id, before_date, after_date, notice) -> ChangeResult:
    """One comparison; its evaluation error is kept in the result instead of stopping the rest."""
    try:
        return _classify(engine, change, old, new, case_id, before_date, after_date, notice)
    except PolicyError as exc:
        return ChangeResult(change, case_id, before_date, after_date, notice, [], [], exc)


def parse_dates(before, after, notice_date=None) -> tuple:
    """The before, after and notice dates of a change (ISO strings or dates); E407 without a
    before or an after date, E109 for a date that does not exist."""
    before_date, after_date = as_of_date(before), as_of_date(after)
    if before_date is None or after_date is None:
        raise EvaluationError("A change needs both a before date and an after date.", code=codes.UNKNOWN_CHANGE)
    return before_date, after_date, as_of_date(notice_date)


def compare_engines(old_engine, new_engine, case, as_of=None, names=None,
                    notice_date=None) -> MassChange:
    """A rulebook edit read as a mass change (``policy diff --cases --classify``): the case under
    the old rulebooks and under the new ones, on the same date, classified by the new rulebooks'
    comparisons. A rule the old rulebooks lack is compared with nothing (its rows are unmatched).
    Date-bound columns see the same date twice (so no April premium refund is given)."""
    changes = select(new_engine.program, names)
    first = new_engine.read_case(case)
    on = as_of_date(as_of) or first.as_of or dt.date.today()
    wanted = list(dict.fromkeys(n for c in changes for n in c.rule_names()))
    old_wanted = [n for n in wanted if n in old_engine.program.rules]
    old = _by_rule(old_engine.evaluate(first.data, on, names=old_wanted))
    new = _by_rule(new_engine.evaluate(first, on, names=wanted))
    notice = as_of_date(notice_date)
    results = [_guarded(new_engine, change, old, new, first.case_id, on, on, notice)
               for change in changes]
    return MassChange(first.case_id, on, on, notice, results)


def _by_rule(evaluation) -> dict:
    """The results of an evaluation by rule name, then by entity key, in order."""
    out: dict = {}
    for result in evaluation.results:
        out.setdefault(result.name, {})[_key(result.entity)] = result
    return out


def _classify(engine, change, old: dict, new: dict, case_id, before_date, after_date,
              notice) -> ChangeResult:
    earlier, later_all = old.get(change.compare, {}), dict(new.get(change.compare, {}))
    rows, unmatched = [], []
    state = State(engine.program, engine.cache, after_date, engine.reference)
    with decimal_context():
        for key, result in earlier.items():
            later = later_all.pop(key, None)
            if later is None:
                unmatched.append(result.entity.label())
                continue
            if result.value is None and later.value is None:
                continue        # the result does not apply to this entity on either date
            args = {"before": result.value, "after": later.value, "before_date": before_date,
                    "after_date": after_date, "notice_date": notice}
            for local, rule in change.also:
                a, b = old.get(rule, {}).get(key), new.get(rule, {}).get(key)
                args[f"before_{local}"] = a.value if a is not None else None
                args[f"after_{local}"] = b.value if b is not None else None
            deps: list = []
            columns = {}
            with state.entering(Scope(None, args), deps):
                for column, expression in change.columns:
                    def where(c=column):
                        return f"Change {change.name}, column {c}, for {result.entity.label()},"
                    value = state.evaluator.run(expression, where)
                    columns[column] = args[column] = value
            own = merge(change.citations, *(collect_citations(d) for d in deps))
            citations = merge(own, result.citations, later.citations)
            rows.append(ChangeRow(result.entity.label(), result.person, result.value, later.value,
                                  columns, _reasons(deps, after_date), citations, own))
    unmatched.extend(r.entity.label() for r in later_all.values()
                     if r.value is not None)
    return ChangeResult(change, case_id, before_date, after_date, notice, rows, unmatched)


def _key(entity) -> tuple:
    """How an entity is matched between the two cases: by id, else by its place in the case."""
    return (entity.kind.name, entity.id if entity.id is not None else entity.path)


def _reasons(deps, as_of) -> list[str]:
    """The plain-language reasons of the functions the columns called directly."""
    out = []
    for dep in deps:
        if not isinstance(dep, Node) or dep.reason is None:
            continue
        variables = inputs_of(dep)
        if dep.args is not None:
            variables.update(zip(getattr(dep.definition, "args", []), dep.args))
        variables.update(value=dep.value, person=None, entity=None, as_of=as_of)
        text = dep.reason.render(variables)
        if text and text not in out:
            out.append(text)
    return out
