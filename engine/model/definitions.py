"""Compiled definitions: rules, functions and charts, and the bodies that compute them.

A rule, a function and a chart group all compute values from expressions; what differs is the
scope they are computed in (an entity, a function's arguments, a chart row's variables). The four
body kinds are here, each one class with an ``evaluate`` method:

* :class:`FormulaBody`: one expression;
* :class:`ConditionsBody`: ordered conditions, the first true one wins;
* :class:`DecisionTableBody`: a decision table with a declared hit policy;
* :class:`AggregateBody`: sum, count, any, all, min, max or list over a collection.

Bodies return ``(value, citations, because)``: the value, the citations of the branch that gave
it (a condition or a table row), and the ``because`` template of that branch, if any.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .citations import Citation
from ..errors import EvaluationError, codes
from ..language.expressions import Expression, reraise
from ..language.marks import SKIP, TAKEN, may_cite, skip, take
from ..language.numbers import Rounding
from ..types import StateLike, Where

RESULT_TYPES = ("money", "decimal", "percent", "integer", "boolean", "text", "date", "list", "any")


class Scope:
    """Where names are looked up: an entity, arguments, and (in aggregates) the outer scope."""

    __slots__ = ("entity", "args", "outer")

    def __init__(self, entity=None, args=None, outer=None):
        self.entity = entity
        self.args = args
        self.outer = outer


# --------------------------------------------------------------------------------------------
# Bodies
# --------------------------------------------------------------------------------------------

class FormulaBody:
    kind = "formula"

    def __init__(self, expression: Expression):
        self.expression = expression

    def expressions(self):
        yield self.expression

    def evaluate(self, state: StateLike, where: Where):
        return state.evaluator.run(self.expression, where), (), None


@dataclass
class Condition:
    when: Expression | None          # None for `otherwise`
    then: Expression
    citations: tuple[Citation, ...] = ()
    because: Any = None
    line: int | None = None
    says: str | None = None          # the manual's sentence this branch implements


class ConditionsBody:
    kind = "conditions"

    def __init__(self, conditions: list[Condition], file: str | None, line: int | None):
        self.conditions = conditions
        self.file = file
        self.line = line

    def expressions(self):
        for c in self.conditions:
            if c.when is not None:
                yield c.when
            yield c.then

    def evaluate(self, state: StateLike, where: Where):
        # The closures called directly (the same as Evaluator.run does, without a call per
        # condition): this body runs for most rules. The reference evaluator (simpleeval's tree
        # walk) goes through Evaluator.run instead. `current` is the expression being
        # evaluated, for the message should it fail.
        closures = not state.evaluator.reference
        frame = state.frame
        current = None
        try:
            for condition in self.conditions:
                start = len(frame)
                current = condition.when
                if current is not None:
                    fn = current.fn if closures else None
                    test = fn(state) if fn is not None else state.evaluator.run(current, where)
                    if test is not True:
                        if test is False:
                            continue
                        raise not_true_or_false(where, current, test, self.file, condition.line)
                if start:
                    # What this condition and its value read decided; what came before made
                    # the earlier conditions fail (engine.runtime.deciding).
                    take(state, start)
                current = condition.then
                fn = current.fn if closures else None
                return ((fn(state) if fn is not None else state.evaluator.run(current, where)),
                        condition.citations, condition.because)
        except Exception as exc:
            reraise(current, where, exc)
        raise no_condition_holds(where, self.file, self.line)


def not_true_or_false(where: Where, condition: Expression, test, file, line) -> EvaluationError:
    """The error for a condition that gave ``test``, neither true nor false (shared with the
    rule functions :mod:`engine.runtime.state` generates)."""
    return EvaluationError(f"{where()}: the condition `{condition.text}` gave {test!r}, not "
                           "true or false.", code=codes.NOT_TRUE_OR_FALSE, file=file, line=line)


def no_condition_holds(where: Where, file, line) -> EvaluationError:
    """The error for conditions none of which is true, without an ``otherwise``."""
    return EvaluationError(f"{where()}: none of its conditions is true and it has no "
                           "`otherwise`.", code=codes.NO_CONDITION_HOLDS, file=file, line=line)


_INTERVAL = re.compile(r"^\s*([\[(])(.+?)\.\.(.+?)([\])])\s*$")
_COMPARISON = re.compile(r"^\s*(<=|>=|==|!=|<|>)(.+)$")


class Cell:
    """One test of a decision-table row against one input."""

    __slots__ = ("op", "a", "b", "low_inclusive", "high_inclusive", "text")

    def __init__(self, op: str, a=None, b=None, low_inclusive=True, high_inclusive=True, text=""):
        self.op = op
        self.a = a
        self.b = b
        self.low_inclusive = low_inclusive
        self.high_inclusive = high_inclusive
        self.text = text

    def expressions(self):
        for e in (self.a, self.b):
            if isinstance(e, Expression):
                yield e

    def test(self, value, run, where) -> bool:
        op = self.op
        if op == "any":
            return True
        a = run(self.a, where)
        b = run(self.b, where) if op == "range" else None
        try:
            return self.passes(value, a, b)
        except TypeError:
            raise EvaluationError(f"{where()}: the test `{self.text}` cannot compare {value!r}.",
                                  code=codes.TABLE_CANNOT_COMPARE) from None

    def passes(self, value, a, b=None) -> bool:
        """Whether ``value`` passes this test once its bounds ``a`` (and ``b`` for a range) are
        known. Both evaluators (the per-case body and the columnar plan) decide a cell here.
        Raises TypeError for values that cannot be compared."""
        op = self.op
        if op == "==":
            return value == a
        if op == "!=":
            return value != a
        if op == "<":
            return value < a
        if op == "<=":
            return value <= a
        if op == ">":
            return value > a
        if op == ">=":
            return value >= a
        if op == "in":
            return value in a
        if op == "not in":
            return value not in a
        low_ok = value > a or (self.low_inclusive and value == a)
        high_ok = value < b or (self.high_inclusive and value == b)
        return low_ok and high_ok


def parse_cell(raw, parse_expr) -> Cell:
    """Read a decision-table test: ``-``, ``< X``, ``[A..B)``, ``in [..]``, or a value."""
    if isinstance(raw, bool) or isinstance(raw, (int, Decimal)):
        return Cell("==", parse_expr(raw), text=str(raw))
    text = str(raw).strip()
    if text in ("-", ""):
        return Cell("any", text=text)
    match = _INTERVAL.match(text)
    if match:
        left, low, high, right = match.groups()
        return Cell("range", parse_expr(low), parse_expr(high), left == "[", right == "]", text)
    if text.startswith("not in "):
        return Cell("not in", parse_expr(text[7:]), text=text)
    if text.startswith("in "):
        return Cell("in", parse_expr(text[3:]), text=text)
    match = _COMPARISON.match(text)
    if match:
        return Cell(match.group(1), parse_expr(match.group(2)), text=text)
    return Cell("==", parse_expr(text), text=text)


@dataclass
class Row:
    tests: list[tuple[str, Cell]]
    then: Expression
    citations: tuple[Citation, ...] = ()
    because: Any = None
    line: int | None = None
    says: str | None = None          # the manual's sentence this row implements


class DecisionTableBody:
    kind = "table"

    def __init__(self, hit_policy: str, inputs: list[tuple[str, Expression]], rows: list[Row],
                 default: Expression | None, file: str | None, line: int | None):
        self.hit_policy = hit_policy
        self.cells_cite = None    # whether a cell's test may read a cited value (on first use)
        self._collections: dict = {}   # citations of each set of rows a `collect` matched
        self.inputs = inputs
        self.rows = rows
        self.default = default
        self.file = file
        self.line = line

    def expressions(self):
        for _, e in self.inputs:
            yield e
        for row in self.rows:
            for _, cell in row.tests:
                yield from cell.expressions()
            yield row.then
        if self.default is not None:
            yield self.default

    def evaluate(self, state: StateLike, where: Where):
        run = state.evaluator.run
        frame = state.frame
        # Frame positions of what each input and each cell read, so that only the tests that
        # decided are cited (engine.runtime.deciding): all tests of a matching row, the failing test of
        # any other row tried.
        base = len(frame)
        values, spans = {}, {}
        for name, expr in self.inputs:
            start = len(frame)
            values[name] = run(expr, where)
            spans[name] = (start, len(frame))
        cells_cite = self.cells_cite
        if cells_cite is None:
            cells_cite = self.cells_cite = any(
                may_cite(e.tree) for row in self.rows for _, cell in row.tests
                for e in cell.expressions())
        if not cells_cite:
            return self._evaluate_plain(state, where, values, spans)
        matches = []
        used: set = set()          # inputs tested by a matching row
        failing: set = set()       # inputs whose test made a row fail
        marks: list = []           # (kind, start, end) of cell tests and values
        for row in self.rows:
            passed = []
            matched = True
            for name, cell in row.tests:
                start = len(frame) if cells_cite else 0
                ok = cell.test(values[name], run, where)
                if cell.op == "any":
                    continue
                if not ok:
                    for _, s0, e0 in passed:          # tests that held did not make it fail
                        marks.append((SKIP, s0, e0))
                    failing.add(name)
                    matched = False
                    break
                passed.append((name, start, len(frame) if cells_cite else 0))
            if not matched:
                continue
            used.update(name for name, _, _ in passed)
            marks.extend((TAKEN, s0, e0) for _, s0, e0 in passed)
            if self.hit_policy == "first":
                value = self._value(state, row.then, where, marks)
                self._mark(state, base, spans, used, failing, marks)
                return value, row.citations, row.because
            matches.append(row)
        if self.hit_policy == "collect":
            citations = self._collected(matches)
            value = [self._value(state, row.then, where, marks) for row in matches]
            self._mark(state, base, spans, used, failing, marks)
            return value, citations, None
        if len(matches) > 1:
            lines = ", ".join(str(r.line) for r in matches if r.line)
            raise EvaluationError(
                f"{where()}: its decision table has hit policy 'unique' but {len(matches)} rows "
                f"match (lines {lines}).",
                code=codes.TABLE_SEVERAL_ROWS, file=self.file, line=matches[1].line)
        if matches:
            row = matches[0]
            value = self._value(state, row.then, where, marks)
            self._mark(state, base, spans, used, failing, marks)
            return value, row.citations, row.because
        if self.default is not None:
            value = self._value(state, self.default, where, marks)
            self._mark(state, base, spans, used, failing, marks)
            return value, (), None
        shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
        raise EvaluationError(f"{where()}: no row of its decision table matches ({shown}) and it "
                              "has no default.",
                              code=codes.TABLE_NO_ROW, file=self.file, line=self.line)

    def _collected(self, matches) -> tuple:
        """The citations of the rows a `collect` table matched: one shared tuple per set of rows,
        so that what is computed once per tuple of citations (engine.runtime.deciding) stays bounded."""
        key = tuple(id(row) for row in matches)
        found = self._collections.get(key)
        if found is None:
            found = self._collections.setdefault(
                key, tuple(c for row in matches for c in row.citations))
        return found

    def _evaluate_plain(self, state, where, values, spans):
        """The common case: no cell reads a cited value, so only the inputs can be marked, and
        nothing is marked when every input was tested by a matching row."""
        run = state.evaluator.run
        used: set = set()
        failing: set = set()
        matches = []
        for row in self.rows:
            tested = []
            for name, cell in row.tests:
                if cell.op == "any":
                    continue
                if not cell.test(values[name], run, where):
                    failing.add(name)
                    break
                tested.append(name)
            else:
                used.update(tested)
                if self.hit_policy == "first":
                    matches = [row]
                    break
                matches.append(row)
        start = len(state.frame)
        if self.hit_policy == "collect":
            result = ([run(row.then, where) for row in matches],
                      self._collected(matches), None)
        elif len(matches) > 1:
            lines = ", ".join(str(r.line) for r in matches if r.line)
            raise EvaluationError(
                f"{where()}: its decision table has hit policy 'unique' but {len(matches)} rows "
                f"match (lines {lines}).", code=codes.TABLE_SEVERAL_ROWS, file=self.file, line=matches[1].line)
        elif matches:
            row = matches[0]
            result = (run(row.then, where), row.citations, row.because)
        elif self.default is not None:
            result = (run(self.default, where), (), None)
        else:
            shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
            raise EvaluationError(f"{where()}: no row of its decision table matches ({shown}) and "
                                  "it has no default.", code=codes.TABLE_NO_ROW, file=self.file, line=self.line)
        if len(used) < len(spans):
            take(state, start)                       # the value of the matching row(s)
            for name, (begin, end) in spans.items():
                if name in used:
                    take(state, begin, end)
                elif name not in failing:
                    skip(state, begin, end)
        return result

    @staticmethod
    def _value(state, expression, where, marks):
        start = len(state.frame)
        value = state.evaluator.run(expression, where)
        marks.append((TAKEN, start, len(state.frame)))
        return value

    @staticmethod
    def _mark(state, base, spans, used, failing, marks):
        """Record the marks: inputs tested by a matching row were taken, inputs only a failing
        test used made rows fail, inputs no deciding test used did not decide. When everything
        the table read was taken, no mark is needed."""
        for name, (start, end) in spans.items():
            if name in used:
                marks.append((TAKEN, start, end))
            elif name not in failing:
                marks.append((SKIP, start, end))
        marks = [m for m in marks if m[1] < m[2]]
        if all(kind == TAKEN for kind, _, _ in marks):
            covered = base
            for _, start, end in sorted(marks, key=lambda m: m[1]):
                if start > covered:
                    break
                covered = max(covered, end)
            if covered >= len(state.frame):
                return
        take(state, len(state.frame), len(state.frame))   # a branch was marked, even if empty
        for kind, start, end in marks:
            if kind == SKIP:
                skip(state, start, end)
            else:
                take(state, start, end)


#: Aggregates whose value one member may decide alone.
_SELECTING = frozenset({"any", "all", "min", "max"})


class AggregateBody:
    kind = "aggregate"

    def __init__(self, function: str, over: str, where: Expression | None, of: Expression | None,
                 default: Expression | None, file: str | None, line: int | None):
        self.function = function
        self.over = over
        self.where = where
        self.of = of
        self.default = default
        self.file = file
        self.line = line
        self.levels_up = 0        # set by the compiler: where the collection hangs
        self.member_kind = None   # set by the compiler
        self.marked = None        # whether one member may decide alone (set on first use)

    def expressions(self):
        for e in (self.where, self.of, self.default):
            if e is not None:
                yield e

    def evaluate(self, state: StateLike, where: Where):
        outer = state.scope
        owner = outer.entity
        for _ in range(self.levels_up):
            owner = owner.parent
        members = owner.children.get(self.over, ())
        run = state.evaluator.run
        values = []
        kept = []
        first_only = self.function == "first"
        # For any, all, min and max, one member may decide alone: remember where each value's
        # reads end in the frame (engine.runtime.deciding).
        frame = state.frame
        marked = self.marked
        if marked is None:
            marked = self.marked = self.function in _SELECTING and any(
                may_cite(e.tree) for e in (self.where, self.of) if e is not None)
        spans = [] if marked else None
        begin = len(frame)
        # Each member is computed in its own scope, swapped in and out by hand (no context
        # manager: this runs once per member of every aggregate). Everything else of the state
        # stays as it is; rules computed inside restore their own. The closures are called
        # directly, as Evaluator.run would (`current` is the expression evaluated, for the
        # message should it fail).
        closures = not state.evaluator.reference
        condition, of = self.where, self.of
        current = None
        # One scope for the members, its entity set to each in turn: a scope is read only while
        # it is the state's (what is computed inside restores the scope it found).
        scope = Scope(None, None, outer)
        try:
            for member in members:
                if first_only and values:
                    break
                start = len(frame)
                scope.entity = member
                state.scope = scope
                if condition is not None:
                    current = condition
                    fn = condition.fn
                    keep = fn(state) if fn is not None and closures else run(condition, where)
                    if keep is not True:
                        if keep is False:
                            continue
                        raise EvaluationError(
                            f"{where()}: its filter `{condition.text}` gave {keep!r} for "
                            f"{member.label()}, not true or false.", code=codes.NOT_TRUE_OR_FALSE,
                            file=self.file, line=self.line)
                kept.append(member)
                if of is not None:
                    current = of
                    fn = of.fn
                    values.append(fn(state) if fn is not None and closures else run(of, where))
                    if spans is not None:
                        spans.append((start, len(frame)))
        except Exception as exc:
            reraise(current, where, exc)
        finally:
            state.scope = outer
        if spans:
            try:
                self._mark(state, values, spans, begin, len(frame))
            except TypeError:       # values min/max cannot compare: reported below
                pass
        fn = self.function
        if fn == "first":
            if values:
                return values[0], (), None
            return (run(self.default, where) if self.default is not None else None), (), None
        if fn == "count":
            return len(kept), (), None
        if fn == "list":
            return [m.id if m.id is not None else m.index for m in kept], (), None
        if fn == "sum":
            total = 0
            for v in values:
                if v is None:
                    continue
                total = total + v
            return total, (), None
        if fn in ("any", "all"):
            for v in values:
                if not isinstance(v, bool):
                    raise EvaluationError(f"{where()}: `{self.of.text}` must be true or false for "
                                          f"'{fn}', not {v!r}.",
                                          code=codes.NOT_TRUE_OR_FALSE, file=self.file,
                                          line=self.line)
            return (any(values) if fn == "any" else all(values)), (), None
        present = [v for v in values if v is not None]
        if not present:
            if self.default is not None:
                return run(self.default, where), (), None
            raise EvaluationError(f"{where()}: '{fn}' of no values; give the aggregate a "
                                  "default.",
                                  code=codes.EMPTY_MIN_MAX, file=self.file, line=self.line)
        return (min(present) if fn == "min" else max(present)), (), None

    def _mark(self, state, values, spans, begin, end):
        """When one member decides (the first true one of a true ``any``, the first false one of
        a false ``all``, the one whose value ``min`` or ``max`` gives), what the others read did
        not decide."""
        fn = self.function
        chosen = None
        if fn in ("any", "all"):
            wanted = fn == "any"
            for index, value in enumerate(values):
                if value is wanted:
                    chosen = index
                    break
        else:
            present = [v for v in values if v is not None]
            if present:
                result = min(present) if fn == "min" else max(present)
                chosen = next(i for i, v in enumerate(values) if v is not None and v == result)
        if chosen is not None:
            start, stop = spans[chosen]
            skip(state, begin, start)
            skip(state, stop, end)


# --------------------------------------------------------------------------------------------
# Definitions
# --------------------------------------------------------------------------------------------

@dataclass(eq=False)
class Definition:
    """What rules and functions share: a name, a body, rounding, citations, a reason."""

    name: str                       # qualified: namespace.short
    namespace: str
    short: str
    body: Any
    citations: tuple[Citation, ...]
    rounding: Rounding | None = None
    because: Any = None             # compiled jinja2 template or None
    because_text: str | None = None
    title: str | None = None
    description: str | None = None
    type: str = "any"
    unit: str | None = None
    published: list = field(default_factory=list)
    says: str | None = None         # the manual's sentence it implements, quoted
    enum: tuple | None = None       # the text values it may give (`then: CHIP_75` written bare)
    file: str | None = None
    line: int | None = None
    uid: int = 0                    # set by the compiler: a small integer key for caches

    def __post_init__(self):
        # Whether a computed value needs rounding or a type check: decided once, read per value.
        self.needs_finish = self.rounding is not None or self.type != "any" or self.enum is not None
        self.passes = self._passes()

    def _passes(self):
        """Without rounding or a list of values, the classes of values :meth:`finish` passes
        unchanged (the evaluator then calls it only for any other value); None: always call it."""
        return _ACCEPTED.get(self.type) if self.rounding is None and self.enum is None else None

    def __getstate__(self) -> dict:
        # `passes` holds classes, which a compiled bundle does not store (its unpickler admits
        # the engine's own records only): it is worked out again when the bundle is read.
        state = self.__dict__.copy()
        state.pop("passes", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.passes = self._passes()

    def finish(self, value, where):
        """Apply the declared rounding and check the declared type."""
        if self.rounding is not None and value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
                raise EvaluationError(f"{where()} must round its value, but {value!r} is not a "
                                      "number.",
                                      code=codes.ROUND_NOT_A_NUMBER, file=self.file, line=self.line)
            value = self.rounding.apply(value)
        if value is None:
            return value
        if self.enum is not None and value not in self.enum:
            raise EvaluationError(f"{where()} gave {value!r}, which is not one of the values it "
                                  f"declares ({', '.join(self.enum)}).", code=codes.WRONG_TYPE,
                                  file=self.file, line=self.line)
        kind = self.type
        if kind == "any" or value.__class__ in _ACCEPTED.get(kind, ()):
            return value          # the common case, decided by the value's class alone
        return check_type(value, kind, where, self.file, self.line)


#: Per declared type, the classes of values :func:`check_type` passes unchanged (any other
#: value goes through it: a subclass, an integral decimal for an integer, or an error).
_ACCEPTED = {
    "money": frozenset({Decimal, int}), "decimal": frozenset({Decimal, int}),
    "percent": frozenset({Decimal, int}), "integer": frozenset({int}),
    "boolean": frozenset({bool}), "text": frozenset({str}), "date": frozenset({dt.date}),
    "list": frozenset({list}),
}


def check_type(value, type_name, where, file, line):
    ok = True
    if type_name in ("money", "decimal", "percent"):
        ok = isinstance(value, (int, Decimal)) and not isinstance(value, bool)
    elif type_name == "integer":
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif type_name == "boolean":
        ok = isinstance(value, bool)
    elif type_name == "text":
        ok = isinstance(value, str)
    elif type_name == "date":
        ok = isinstance(value, dt.date)
    elif type_name == "list":
        ok = isinstance(value, list)
    if not ok:
        raise EvaluationError(f"{where()} is declared as {type_name} but gave {value!r}.",
                              code=codes.WRONG_TYPE, file=file, line=line)
    return value


@dataclass(eq=False)
class Rule(Definition):
    kind_label = "rule"
    entity_name: str = "case"
    entity_kind: Any = None         # set by the compiler
    output: bool = False
    output_when: Any = None         # an Expression: list the output only for entities where true
    summary: bool = False           # shown in the summary of `policy eval`'s text output
    transparent: bool = False       # failing, it cites what made it false (runtime.deciding)
    value_names: str | None = None  # a table parameter naming each value for people


@dataclass(eq=False)
class Function(Definition):
    kind_label = "function"
    output = False                  # never a result of its own (read as Rule.output is)
    args: list[str] = field(default_factory=list)


@dataclass
class ChartGroup:
    for_each: list[tuple[str, Expression]]
    row: list[tuple[str, Expression]]
    when: Expression | None = None
    citations: tuple[Citation, ...] = ()
    line: int | None = None


@dataclass(eq=False)
class Chart:
    kind_label = "table"
    name: str
    namespace: str
    short: str
    title: str | None
    description: str | None
    columns: list[str]
    groups: list[ChartGroup]
    citations: tuple[Citation, ...] = ()
    published: list = field(default_factory=list)
    file: str | None = None
    line: int | None = None
