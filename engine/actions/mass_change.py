"""Mass changes: a case's results at two dates, compared the way a rulebook says.

When the poverty guidelines or a cost-of-living adjustment change, every open case is
re-determined, and what staff must do depends on how each person's result moved: no change, a
reduction, a closure. A rulebook's ``changes:`` section declares such a comparison: the kind of
entity, the rule compared (``compare``), and ``columns``: expressions that see

* ``before`` and ``after``: the compared rule's value for the entity at the two dates,
* ``before_date``, ``after_date`` and ``notice_date`` (None unless given),
* every column declared above them.

Columns are evaluated under the policy in force on the after date, in a pure context (functions,
parameters and deadlines, no case facts), so that the classification itself is a cited rulebook
function. Nothing here knows what a reduction is.

The after case may be a different file: an FPL update changes only the date, but a COLA also
changes the incomes, which the case as it stands after the change must show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..language.dates import as_of_date
from ..model.citations import merge
from ..model.definitions import Scope
from ..model.names import NameContext
from ..errors import EvaluationError, codes
from ..io.yaml_loader import line_of
from ..runtime.state import State, decimal_context
from ..runtime.trace import Node, collect_citations, inputs_of
from ..runtime.results import json_value
from ..types import EngineLike

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
    entity_kind: object = None          # set by the compiler
    rule: object = None                 # the compared rule, set by the compiler


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


@dataclass
class ChangeResult:
    change: Change
    case_id: object
    before_date: dt.date
    after_date: dt.date
    notice_date: dt.date | None
    rows: list
    unmatched: list

    def as_dict(self) -> dict:
        c = self.change
        return {"change": c.name, "title": c.title, "case_id": self.case_id,
                "compare": c.compare, "before_date": self.before_date.isoformat(),
                "after_date": self.after_date.isoformat(),
                "notice_date": self.notice_date.isoformat() if self.notice_date else None,
                "columns": [name for name, _ in c.columns],
                "rows": [r.as_dict() for r in self.rows],
                "unmatched": list(self.unmatched)}


def build_change(builder, name: str, raw: dict, parent) -> Change:
    qualified = f"{builder.namespace}.{name}"
    columns_raw = raw["columns"]
    columns = [(c, builder.expr(e, columns_raw, c, f"{qualified}.columns.{c}"))
               for c, e in columns_raw.items()]
    return Change(qualified, builder.namespace, name, raw["title"], raw.get("description"),
                  raw["entity"], raw["compare"], columns,
                  builder.cites(raw.get("citation"), raw, "citation"),
                  builder.file, line_of(parent, name))


def compile_changes(compiler) -> dict:
    """Resolve each comparison's rule and entity, and its columns' names (a compile step)."""
    found = {}
    for book in compiler.files:
        for change in book.changes.values():
            found[change.name] = change
            kind = change.entity_kind = compiler.entity_kind_for(change, "Change")
            namespace = change.compare.split(".", 1)[0] if "." in change.compare else book.namespace
            qualified = change.compare if "." in change.compare else f"{book.namespace}.{change.compare}"
            rule = compiler.rules.get(qualified)
            if namespace != book.namespace and namespace not in book.uses:
                compiler.error(f"Change {change.name} compares {qualified}, but its rulebook does "
                               f"not list '{namespace}' in `uses`.", change.file, change.line,
                               f"{change.name}.compare", code=codes.NAMESPACE_NOT_USED)
            elif rule is None:
                compiler.error(f"Change {change.name} compares {qualified}, which is not a rule.",
                               change.file, change.line, f"{change.name}.compare",
                               code=codes.UNKNOWN_NAME)
            elif kind is not None and rule.entity_name != kind.name:
                compiler.error(f"Change {change.name} is for each {kind.name}, but {qualified} is "
                               f"computed for each {rule.entity_name}.", change.file, change.line,
                               f"{change.name}.compare", code=codes.WRONG_ENTITY)
            change.compare, change.rule = qualified, rule
            names = list(ARGUMENTS)
            for column, expression in change.columns:
                ctx = NameContext(change.namespace, frozenset(book.uses), change, None,
                               frozenset(names), None, True)
                compiler.compile_expression(expression, ctx)
                names.append(column)
    return found


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


def compare(engine: EngineLike, case, before, after, name: str | None = None, after_case=None,
            notice_date=None) -> ChangeResult:
    """Evaluate ``case`` on ``before`` and (``after_case`` or ``case``) on ``after``, and the
    comparison's columns for each entity found in both."""
    change = find(engine.program, name)
    before_date, after_date = as_of_date(before), as_of_date(after)
    if before_date is None or after_date is None:
        raise EvaluationError("A change needs both a before date and an after date.",
                              code=codes.UNKNOWN_CHANGE)
    notice = as_of_date(notice_date)
    first = engine.read_case(case)
    second = engine.read_case(after_case) if after_case is not None else first
    old = engine.evaluate(first, before_date, names=[change.compare])
    new = engine.evaluate(second, after_date, names=[change.compare])
    after_by_entity = {_key(r.entity): r for r in new.results}
    rows, unmatched = [], []
    state = State(engine.program, engine.cache, after_date, engine.reference)
    with decimal_context():
        for result in old.results:
            later = after_by_entity.pop(_key(result.entity), None)
            if later is None:
                unmatched.append(result.entity.label())
                continue
            args = {"before": result.value, "after": later.value, "before_date": before_date,
                    "after_date": after_date, "notice_date": notice}
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
    unmatched.extend(r.entity.label() for r in after_by_entity.values())
    return ChangeResult(change, first.case_id, before_date, after_date, notice, rows, unmatched)


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
