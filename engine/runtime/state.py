"""Evaluating one case (or one chart) as of a date.

:class:`State` is the per-evaluation working memory: the date, the current scope (which entity,
which arguments), the frame that records what the value being computed reads, and the cache of
rule values for this case. It is created for one evaluation and never shared between threads;
the compiled :class:`~engine.rulebook.compiler.Program` it reads is immutable.

Parameter values and function results depend only on the date and the arguments, not on the
case, so they are cached across evaluations in a :class:`DateCache` owned by the engine; that is
what keeps per-case work small when thousands of households are evaluated against one policy.
"""

from __future__ import annotations

import datetime as dt
import decimal
from contextlib import AbstractContextManager
from decimal import Decimal
import itertools
import threading

from ..model.citations import merge
from ..model.definitions import Function, Rule, Scope, no_condition_holds, not_true_or_false
from ..language.marks import take
from ..errors import EvaluationError, codes
from ..language.closures import SourceWriter, TooDeep, generate
from ..language.expressions import Evaluator, reraise
from ..language.numbers import CONTEXT
from ..model.parameters import Parameter, ParameterValue
from .deciding import known_own_record
from .trace import Node
from ..language.dates import parse_date

#: Most rule and function evaluations for one case: a guard against pathological rulebooks.
MAX_STEPS = 200_000
#: Most function results kept per date in the shared cache.
MAX_CACHED_CALLS = 200_000


class DateCache:
    """Parameter values and function results by date, shared by every evaluation (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parameters: dict[tuple, ParameterValue] = {}
        self._calls: dict[dt.date, dict] = {}
        self._in_force: dict[tuple, bool] = {}

    def parameter(self, parameter: Parameter, on: dt.date) -> ParameterValue:
        key = (id(parameter), on)
        value = self._parameters.get(key)
        if value is None:
            value = parameter.at(on)
            with self._lock:
                self._parameters[key] = value
        return value

    def in_force(self, parameter: Parameter, on: dt.date) -> bool:
        """Whether ``parameter`` has a value on ``on`` (``in_force(name)``), found once per date."""
        key = (id(parameter), on)
        known = self._in_force.get(key)
        if known is None:
            known = self._in_force[key] = parameter.has_value(on)
        return known

    def calls(self, on: dt.date) -> dict:
        table = self._calls.get(on)
        if table is None:
            with self._lock:
                table = self._calls.setdefault(on, {})
        if len(table) > MAX_CACHED_CALLS:
            with self._lock:
                table.clear()
        return table


_SAME = object()      # State.entering: leave this part of the state as it is


class Entered:
    """What :meth:`State.entering` returns: swaps the state's scope, frame and current
    definition in on ``__enter__`` (returning the frame) and the saved ones back on ``__exit__``.
    A new frame starts with no marks (:mod:`engine.runtime.deciding`); the marks of the frame
    left behind come back with it.

    A small class rather than a generator-based context manager: ``State._compute`` enters one
    for every rule and function computed, so it is on the hot path.
    """

    __slots__ = ("state", "new", "saved")

    def __init__(self, state: State, scope, frame, definition, entity, args):
        self.state = state
        self.new = (scope, frame, definition, entity, args)

    def __enter__(self) -> list:
        state = self.state
        self.saved = saved = (state.scope, state.frame, state.marks, state.current,
                              state.current_entity, state.current_args)
        scope, frame, definition, entity, args = self.new
        state.scope = saved[0] if scope is None else scope
        if frame is not None:
            state.frame, state.marks = frame, None
        if definition is not _SAME:
            state.current = definition
        if entity is not _SAME:
            state.current_entity = entity
        if args is not _SAME:
            state.current_args = args
        return state.frame

    def __exit__(self, *exc) -> None:
        state = self.state
        if self.new[1] is None:
            # The same frame: the marks made inside (an ``and`` in an aggregate's filter, for a
            # member) are marks of that frame and stay with it.
            marks = state.marks
            (state.scope, state.frame, _, state.current, state.current_entity,
             state.current_args) = self.saved
            state.marks = marks
            return
        (state.scope, state.frame, state.marks, state.current, state.current_entity,
         state.current_args) = self.saved


class State:
    """Working memory for one evaluation."""

    def __init__(self, program, cache: DateCache, as_of: dt.date, reference: bool = False):
        self.program = program
        self.shared = cache
        self.as_of = as_of
        self.evaluator = Evaluator(self, reference)
        self.reference = reference          # simpleeval's tree walk instead of the closures
        self.scope = Scope()
        self.frame: list = []
        self.marks: list | None = None     # which parts of the frame decided (engine.runtime.deciding)
        self.rules: dict[tuple[int, int], Node] = {}
        self.current = None
        self.current_entity = None
        self.current_args = None
        self._calls = None                 # the shared cache of function results for as_of
        self.steps = 0
        self._where = self.describe        # bound once: passed to every expression evaluation

    # -- what references call -----------------------------------------------------------------
    def parameter(self, parameter: Parameter) -> ParameterValue:
        try:
            value = self.shared.parameter(parameter, self.as_of)
        except EvaluationError as exc:
            if self.current is not None:
                problem = exc.problem
                raise EvaluationError(f"{self.describe()} cannot be computed. {problem.message}",
                                      code=problem.code, file=problem.file, line=problem.line,
                                      field=problem.field) from None
            raise
        self.frame.append(value)
        return value

    def parameter_on(self, parameter: Parameter, on) -> ParameterValue:
        """A parameter's value on another date than the evaluation date (``value_on``)."""
        on = parse_date(on)
        try:
            value = self.shared.parameter(parameter, on)
        except EvaluationError as exc:
            problem = exc.problem
            raise EvaluationError(f"{self.describe()} cannot be computed. {problem.message}",
                                  code=problem.code, file=problem.file, line=problem.line,
                                  field=problem.field) from None
        self.frame.append(value)
        return value

    def shows(self, rule: Rule, entity) -> bool:
        """Whether an output rule is listed for this entity (its ``output_when``, if any)."""
        condition = rule.output_when
        if condition is None:
            return True
        with self.entering(entity.scope, [], rule, entity, None):
            shown = self.evaluator.run(condition, self.describe)
        if not isinstance(shown, bool):
            raise EvaluationError(f"{self.describe()}: its `output_when` gave {shown!r}, not true "
                                  "or false.",
                                  code=codes.NOT_TRUE_OR_FALSE, file=rule.file, line=rule.line)
        return shown

    def rule(self, rule: Rule, entity) -> Node:
        key = (rule.uid, entity.uid)
        node = self.rules.get(key)
        if node is None:
            node = self._compute(rule, entity, key)
        self.frame.append(node)
        return node

    def call(self, function: Function, args: list) -> Node:
        calls = self._calls
        if calls is None:
            calls = self._calls = self.shared.calls(self.as_of)
        try:
            # Typed key: True == 1 and Decimal("2.5") == Decimal("2.50") must not share a result.
            # (A function's uid fixes how many arguments it takes, so a key of one argument
            # written flat cannot meet a key of several.)
            if len(args) == 1:
                a = args[0]
                key = (function.uid, a.__class__, str(a) if a.__class__ is Decimal else a)
            else:
                key = (function.uid,
                       *[(a.__class__, str(a) if a.__class__ is Decimal else a) for a in args])
            node = calls.get(key)
        except TypeError:          # an unhashable argument (a list): compute without caching
            key, node = None, None
        if node is None:
            node = self._compute(function, None, None, args)
            if key is not None:
                calls[key] = node
        self.frame.append(node)
        return node

    def compute_rule(self, rule: Rule, entity, key) -> Node:
        """Compute ``rule`` for ``entity`` (not computed yet; ``key`` is its key in
        :attr:`rules`): its generated function when it has one, else :meth:`_compute`. What the
        generated expressions call (:class:`~engine.language.closures.SourceWriter`)."""
        entry = _RULE_FUNCTIONS.get(rule)
        if entry is not None and entry[1] and entry[0] is rule.body and not self.reference:
            return entry[1](self, entity, key)
        return self._compute(rule, entity, key)

    # -- entering a scope ----------------------------------------------------------------------
    def entering(self, scope: Scope | None = None, frame: list | None = None, definition=_SAME,
                 entity=_SAME, args=_SAME) -> Entered:
        """A context manager that computes inside ``scope``, recording every value read into
        ``frame``, on behalf of ``definition`` (with its ``entity`` or ``args``, as error messages
        name them), and puts all of them back as they were on the way out, error or not.

        What is not given stays as it is: ``state.entering(scope.outer)`` changes only the scope,
        ``state.entering(frame=reads)`` only where reads are recorded.
        """
        return Entered(self, scope, frame, definition, entity, args)

    # -- computing -----------------------------------------------------------------------------
    def _compute(self, definition, entity, key, args=None) -> Node:
        """Compute a rule for an entity (``key`` set) or a function for arguments.

        Cycles cannot happen here: the compiler refuses any cycle in the dependency graph,
        including a rule that reads itself for another member through an aggregate. The step
        bound stops any other runaway evaluation.
        """
        if not self.reference:
            # Computed often enough, a rule gets a generated function, and the expressions of
            # any other definition generated ones (see _warm).
            entry = _RULE_FUNCTIONS.get(definition)
            if entry is None or entry[0] is not definition.body:
                entry = _new_entry(definition)
            fn = entry[1]
            if fn is None:
                count = entry[2] = entry[2] + 1
                if count == WARM_AFTER:
                    fn = entry[1] = _warm(definition)
            if fn and args is None:
                return fn(self, entity, key)
        steps = self.steps + 1
        self.steps = steps          # (a budgeted state's setter stops here when over budget)
        if steps > MAX_STEPS:
            raise too_many_steps(definition, entity)
        deps: list = []
        # Save and restore by hand rather than through `entering`: this runs for every rule and
        # function computed, so it is the hottest path of evaluation. A new frame starts with no
        # marks (engine.runtime.deciding); the saved ones come back with the saved frame.
        saved = (self.scope, self.frame, self.marks, self.current, self.current_entity,
                 self.current_args)
        self.scope = entity.scope if args is None else Scope(None, dict(zip(definition.args, args)))
        self.frame, self.marks = deps, None
        self.current, self.current_entity, self.current_args = definition, entity, args
        where = self._where
        try:
            body = definition.body
            if body.kind == "formula":      # the common case, without the tuple round trip
                expression = body.expression
                fn = expression.fn
                if fn is None or self.reference:
                    value = self.evaluator.run(expression, where)
                else:
                    # Evaluator.run inlined (its closure path): one call less per rule.
                    try:
                        value = fn(self)
                    except Exception as exc:
                        reraise(expression, where, exc)
                citations = reason = None
            else:
                value, citations, reason = body.evaluate(self, where)
            if definition.needs_finish:
                passes = definition.passes
                if passes is None or value.__class__ not in passes:
                    value = definition.finish(value, where)
            marks = self.marks
        finally:
            (self.scope, self.frame, self.marks, self.current, self.current_entity,
             self.current_args) = saved
        own = _own_citations(definition.citations, citations) if citations else \
            definition.citations
        # Node(definition, entity, args, value, deps, own, reason, branch, marks), written out:
        # a node is made for every value computed, and the class call with its __init__ was a
        # tenth of an evaluation. The frame is kept as read (Node.deps keeps each record once,
        # when asked); when only part of it decided the value, the marks are kept for
        # engine.runtime.deciding. tests/engine/test_node_slots.py holds the two to the same slots.
        node = _new(Node)
        node.definition = definition
        node.entity = entity
        node.args = tuple(args) if args is not None else None
        node.value = value
        node.reads = deps
        node.own_citations = own
        node.reason = reason if reason is not None else definition.because
        node.branch_citations = citations or None
        node.marks = (deps, marks) if marks else None
        node._deps = node._all_citations = node._ordered = node._core = node._deciding = \
            node._own = None
        if key is not None:
            self.rules[key] = node
        return node

    def release(self) -> None:
        """Break the references that tie this state into a cycle (its evaluator points back at
        it, and ``_where`` is its own bound method), once nothing more will be computed: the
        state and the values no result holds are then freed at once by reference counting,
        instead of waiting for the cyclic garbage collector, whose full passes over a large
        heap cost a fifth of the evaluation time when they pile up. Results keep their nodes."""
        self.evaluator.state = None
        self._where = None

    def describe(self) -> str:
        """How errors name what is being computed: ``Rule magi.x for person 'dad'``."""
        definition = self.current
        if definition is None:
            return "The expression"
        if isinstance(definition, Rule):
            return f"Rule {definition.name} for {self.current_entity.label()}"
        shown = ", ".join(str(a) for a in (self.current_args or ()))
        return f"Function {definition.name}({shown})"

    def current_file(self):
        return getattr(self.current, "file", None)


_new = object.__new__

#: merge(rule citations, branch citations) per pair of tuples, by their ids (both tuples are kept
#: in the entry, so their ids cannot be reused): a rulebook has a bounded number of branches, so
#: a node's own citations are merged once per branch, not once per value. A body may also give
#: citations made per value (a deadline's holidays): the table is emptied when it grows past
#: this many entries, which only costs merging again.
_OWN_CITATIONS: dict = {}
MAX_OWN_CITATIONS = 20_000


def _own_citations(general: tuple, branch: tuple) -> tuple:
    """A node's own citations: its rule's, then those of the branch (condition, table row) that
    gave the value, each once; one shared tuple per (rule, branch)."""
    key = (id(general), id(branch))
    entry = _OWN_CITATIONS.get(key)
    if entry is not None and entry[0] is general and entry[1] is branch:
        return entry[2]
    own = merge(general, branch)
    if len(_OWN_CITATIONS) >= MAX_OWN_CITATIONS:
        _OWN_CITATIONS.clear()
    _OWN_CITATIONS[key] = (general, branch, own)
    return own


def too_many_steps(definition, entity) -> EvaluationError:
    """The error for an evaluation that ran past :data:`MAX_STEPS` computations."""
    what = (f"{definition.kind_label} {definition.name}" +
            (f" for {entity.label()}" if entity is not None else ""))
    return EvaluationError(f"Evaluating this case took more than {MAX_STEPS:,} steps; the "
                           f"budget ran out while computing {what}. The rulebooks may loop "
                           "through aggregates or functions.", code=codes.TOO_MANY_STEPS,
                           file=definition.file, line=definition.line, field=definition.name)


# --------------------------------------------------------------------------------------------
# One generated function per rule
# --------------------------------------------------------------------------------------------
#
# ``State._compute`` runs for every value computed: it saves the state, calls the body (which
# calls each condition's and value's function in turn), restores the state and writes the node.
# For a rule whose body is a formula or conditions (most rules), all of that is written out as
# one Python function instead, with the expressions' statements in place
# (:class:`~engine.language.closures.SourceWriter`): the same steps in the same order, the same
# marks, the same errors raised from the same places, without a call per body and expression.
# The source is made from the checked trees and the rule's own structure only; everything the
# function refers to is handed over in its namespace. Functions (computed for arguments),
# decision tables, aggregates and other bodies keep ``State._compute``.

#: Per definition (by identity): [the body it is for, its generated function (or False when it
#: has none; None until warm), how many times it was computed before that].
_RULE_FUNCTIONS: dict = {}
MAX_RULE_FUNCTIONS = 20_000
#: Computations of a definition after which it is made faster. Writing and compiling its
#: source costs about 0.2-2 ms (0.6 ms on average for the Missouri rulebooks, 65 ms for all of
#: them), about what a thousand computations gain back: what a single evaluation computes a few
#: times (a cold ``policy eval``) is left as it is, and a process evaluating a few dozen
#: households pays for little more than what it uses.
WARM_AFTER = 32
_MISSING = object()         # no condition gave the value yet


def forget_generated() -> None:
    """Forget every definition's generated function and count. The table holds definitions
    by identity, so rulebooks replaced by a reload (``policy serve``) would stay alive through
    it; the definitions still in use are generated again once they are warm. Evaluations
    running meanwhile are unaffected (an entry is only ever looked up, made or replaced)."""
    _RULE_FUNCTIONS.clear()


def _new_entry(definition) -> list:
    entry = [definition.body, None, 0]
    if len(_RULE_FUNCTIONS) >= MAX_RULE_FUNCTIONS:
        _RULE_FUNCTIONS.clear()
    _RULE_FUNCTIONS[definition] = entry
    return entry


def _warm(definition):
    """Make a definition computed often faster: a rule whose body is a formula or conditions
    gets its generated function (returned); any other definition's expressions get generated
    functions in place of their closures (``Expression.fn``: the same value, marks and errors;
    False is returned). Concurrent evaluations may both do it: the results are equivalent."""
    if isinstance(definition, Rule):
        try:
            fn = _write_rule_function(definition)
        except TooDeep:
            fn = None
        if fn is not None:
            return fn
    for expression in definition.body.expressions() if hasattr(definition.body, "expressions") \
            else ():
        if expression.fn is not None and not expression.is_constant:
            generated = generate(expression.tree)
            if generated is not None:
                expression.fn = generated
    return False


def _write_rule_function(rule):
    """``compute(state, entity, key) -> Node``: ``State._compute`` for ``rule``, written out;
    None for a body it does not write (a decision table, an aggregate...)."""
    body = rule.body
    kind = getattr(body, "kind", None)
    if kind == "formula":
        branches = [(None, body.expression, None, None, None)]
    elif kind == "conditions":
        branches = [(c.when, c.then, c.citations, c.because, c.line) for c in body.conditions]
    else:
        return None
    for when, then, _, _, _ in branches:
        for expression in (when, then):
            if expression is not None and not expression.is_constant and expression.fn is None:
                return None       # not compiled (the reference evaluator's rulebooks)
    w = SourceWriter(_compiled_rule)
    k = w.constant
    rule_k = k(rule)
    lines = w.lines
    w.emit(1, "steps = state.steps + 1")
    w.emit(1, "state.steps = steps")
    w.emit(1, f"if steps > {k(MAX_STEPS)}:")
    w.emit(2, f"raise {k(too_many_steps)}({rule_k}, entity)")
    w.emit(1, "frame = []")
    w.emit(1, "saved = (state.scope, state.frame, state.marks, state.current, "
              "state.current_entity, state.current_args)")
    w.emit(1, "state.scope = entity.scope")
    w.emit(1, "state.frame = frame")
    w.emit(1, "state.marks = None")
    w.emit(1, f"state.current = {rule_k}")
    w.emit(1, "state.current_entity = entity")
    w.emit(1, "state.current_args = None")
    w.emit(1, "where = state._where")
    w.emit(1, "try:")
    reraise_k = k(reraise)
    if kind == "formula":
        expression = body.expression
        w.emit(2, "try:")
        w.emit(3, f"value = {_expression_value(w, expression, 3)}")
        w.emit(2, "except Exception as exc:")
        w.emit(3, f"{reraise_k}({k(expression)}, where, exc)")
        w.emit(2, "branch = None")
        w.emit(2, "because = None")
        w.emit(2, f"own = {k(known_own_record(None, rule.citations))}")
    else:
        missing_k = k(_MISSING)
        w.emit(2, f"branch = {missing_k}")
        w.emit(2, "current = None")
        w.emit(2, "try:")
        w.emit(3, "while True:      # one pass: `break` once a condition gives the value")
        for when, then, citations, because, line in branches:
            w.emit(4, "start = len(frame)")
            depth = 4
            if when is not None:
                w.emit(4, f"current = {k(when)}")
                test = _expression_value(w, when, 4)
                w.emit(4, f"if {test} is not True:")
                w.emit(5, f"if {test} is not False:")
                w.emit(6, f"raise {k(not_true_or_false)}(where, current, {test}, "
                          f"{k(body.file)}, {k(line)})")
                w.emit(4, "else:")
                depth = 5
            w.emit(depth, "if start:")
            w.emit(depth + 1, f"{k(take)}(state, start)")
            w.emit(depth, f"current = {k(then)}")
            w.emit(depth, f"value = {_expression_value(w, then, depth)}")
            w.emit(depth, f"branch = {k(citations)}")
            w.emit(depth, f"because = {k(because)}")
            w.emit(depth, f"own = {k(known_own_record(citations or None, rule.citations))}")
            w.emit(depth, "break")
            if when is None:
                break             # an `otherwise`: what follows it is never reached
        else:
            w.emit(4, "break")
        w.emit(2, "except Exception as exc:")
        w.emit(3, f"{reraise_k}(current, where, exc)")
        w.emit(2, f"if branch is {missing_k}:")
        w.emit(3, f"raise {k(no_condition_holds)}(where, {k(body.file)}, {k(body.line)})")
    if rule.needs_finish:
        finish = f"value = {rule_k}.finish(value, where)"
        if rule.passes is None:
            w.emit(2, finish)
        else:
            w.emit(2, f"if value.__class__ not in {k(rule.passes)}:")
            w.emit(3, finish)
    w.emit(2, "marks = state.marks")
    w.emit(1, "finally:")
    w.emit(2, "(state.scope, state.frame, state.marks, state.current, state.current_entity, "
              "state.current_args) = saved")
    # The node, as State._compute writes it (tests/engine/test_node_slots.py).
    w.emit(1, f"node = {k(_new)}({k(Node)})")
    w.emit(1, f"node.definition = {rule_k}")
    w.emit(1, "node.entity = entity")
    w.emit(1, "node.args = None")
    w.emit(1, "node.value = value")
    w.emit(1, "node.reads = frame")
    w.emit(1, "if branch:")
    w.emit(2, f"node.own_citations = {k(_own_citations)}({rule_k}.citations, branch)")
    w.emit(2, "node.branch_citations = branch")
    w.emit(1, "else:")
    w.emit(2, f"node.own_citations = {rule_k}.citations")
    w.emit(2, "node.branch_citations = None")
    w.emit(1, f"node.reason = because if because is not None else {rule_k}.because")
    w.emit(1, "node.marks = (frame, marks) if marks else None")
    w.emit(1, "node._deps = node._all_citations = node._ordered = node._core = "
              "node._deciding = None")
    # What deciding citations take from the branch and rule, worked out here when it can be
    # (known_own_record), kept in the node while the rule's citations are the ones it was for.
    w.emit(1, f"node._own = own if {rule_k}.citations is {k(rule.citations)} else None")
    w.emit(1, "if key is not None:")
    w.emit(2, "state.rules[key] = node")
    w.emit(1, "return node")
    head = ["def compute(state, entity, key):"]
    if w.rules:
        head.append("    rules = state.rules")
    return w.define(head + lines, "compute")


def _compiled_rule(rule):
    """The generated function of ``rule`` when it has one already: a rule's function calls it
    directly for a value not computed yet, as ``State.compute_rule`` would (in the evaluations
    that run generated code: with the closures, on the rulebooks the functions were made for)."""
    entry = _RULE_FUNCTIONS.get(rule)
    if entry is not None and entry[1] and entry[0] is rule.body:
        return entry[1]
    return None


def _expression_value(writer: SourceWriter, expression, depth: int) -> str:
    """Write ``expression``'s statements into ``writer`` at ``depth``; the name of its value.
    A constant expression is its value (as ``Evaluator.run`` gives it)."""
    if expression.is_constant:
        return writer.constant(expression.constant)
    return writer.value(expression.tree, depth)


def decimal_context() -> AbstractContextManager[decimal.Context]:
    """The decimal context every evaluation runs in (thread-local, so thread-safe)."""
    return decimal.localcontext(CONTEXT)


def product(named_lists: list[tuple[str, list]]):
    """Every combination of the named lists, in order, as dicts."""
    names = [n for n, _ in named_lists]
    for combo in itertools.product(*[values for _, values in named_lists]):
        yield dict(zip(names, combo))


