"""E501-E503: types in expressions, inferred before any case is evaluated.

Every value an expression reads has a type the rulebooks already declare: a parameter's
``unit``, a fact's ``type``, a rule's ``type``, a function's ``type`` or ``unit``. From these
this module infers the type of every sub-expression and reports combinations that cannot work or
cannot mean what the analyst meant:

* E501: text compared with a number (always false), arithmetic on true/false, text or dates,
  ``<`` between values of different types, a text key passed to a table keyed by integers...;
* E502: a rule or function whose expression gives another type than it declares (a ``boolean``
  rule whose formula is a sum);
* E503: a condition, filter or ``when`` that is not true/false.

What a name means is not looked up again here: the compiler records on every name and call node
what it resolved it to (``node.resolved``, an ``engine.model.names.Resolved``), and the types are
read from that. A type is a set of base types (a rule that may give ``None`` is ``{number, none}``), or unknown
(a function's argument). A problem is reported only when it is certain: when no member of the
set could work. ``None`` is left to evaluation, where a missing value has its own clear error.
"""

from __future__ import annotations

import ast
from decimal import Decimal

from ..errors import codes
from ..language import builtins
from ..language.builtins import Builtin
from ..model.definitions import AggregateBody, ConditionsBody, DecisionTableBody, FormulaBody
from ..model.names import Resolved
from ..model.units import NUMERIC_UNITS
from .context import CheckContext, cited, problem

# The type names are the ones the built-ins' records use (engine.language.builtins), so that what
# each built-in needs and gives is read from the same record the compiler checks calls against.
NUMBER, BOOL, TEXT, DATE, LIST = (builtins.NUMBER, builtins.BOOLEAN, builtins.TEXT, builtins.DATE,
                                  builtins.LIST)
NONE = "none"
ANY = None

_WORDS = {NUMBER: "a number", BOOL: "true/false", TEXT: "text", DATE: "a date", LIST: "a list",
          NONE: "None"}

_DECLARED = {"money": NUMBER, "decimal": NUMBER, "percent": NUMBER, "integer": NUMBER,
             "boolean": BOOL, "text": TEXT, "date": DATE, "list": LIST}


def of(*types) -> frozenset:
    return frozenset(types)


def unit_type(unit):
    if unit in NUMERIC_UNITS:
        return of(NUMBER)
    return {"boolean": of(BOOL), "text": of(TEXT), "date": of(DATE)}.get(unit, ANY)


def declared_type(type_name):
    base = _DECLARED.get(type_name)
    return of(base) if base else ANY


def fact_type(spec):
    base = {"text": TEXT, "integer": NUMBER, "decimal": NUMBER, "money": NUMBER,
            "percent": NUMBER, "boolean": BOOL, "date": DATE, "list": LIST}.get(spec.type)
    if base is None:
        return ANY
    nullable = not spec.required and not spec.has_default
    return of(base, NONE) if nullable else of(base)


def words(t) -> str:
    known = sorted(x for x in t if x != NONE) or [NONE]
    return " or ".join(_WORDS[x] for x in known)


def union(*types):
    if any(t is ANY for t in types):
        return ANY
    out = frozenset()
    for t in types:
        out |= t
    return out


def _values(t) -> frozenset | None:
    """The non-None members of a known type; None when unknown or only None."""
    if t is ANY:
        return None
    known = t - {NONE}
    return known or None


# ---------------------------------------------------------------------------------------------
class _Checker:
    def __init__(self, context: CheckContext):
        self.program = context.program
        self.found: list = []
        self.function_types: dict[str, object] = {}
        self.owner = None

    # -- reporting ----------------------------------------------------------------------------
    def report(self, code, expression, message):
        owner = self.owner
        label = f"{owner.kind_label.capitalize()} {owner.name}" if owner is not None else "An expression"
        cites = getattr(owner, "citations", ())
        self.found.append(problem(code, f"{label}: `{expression.text}` {message}{cited(cites)}",
                                  expression.file, expression.line, expression.field, cites))

    # -- inference ----------------------------------------------------------------------------
    def infer(self, expression):
        self.expression = expression
        return self.node(expression.tree)

    def node(self, node):
        method = getattr(self, "_" + type(node).__name__, None)
        return method(node) if method else ANY

    def _Constant(self, node):
        value = node.value
        if value is None:
            return of(NONE)
        if isinstance(value, bool):
            return of(BOOL)
        if isinstance(value, (int, Decimal, float)):
            return of(NUMBER)
        if isinstance(value, str):
            return of(TEXT)
        return ANY

    def _Name(self, node):
        return self.resolved_type(getattr(node, "resolved", None))

    def resolved_type(self, resolved: Resolved | None):
        """The type of a name, from what the compiler resolved it to (``node.resolved``)."""
        if resolved is None:
            return ANY
        kind, what = resolved
        if kind == "outer":
            return self.resolved_type(what)
        if kind == "as_of":
            return of(DATE)
        if kind == "rule":
            t = declared_type(what.type)
            return t | {NONE} if t is not ANY else ANY
        if kind == "param":
            return unit_type(what.unit) if what.kind == "scalar" else ANY
        if kind == "fact":
            return fact_type(what)
        return ANY                                       # an argument: any type

    def _List(self, node):
        for element in node.elts:
            self.node(element)
        return of(LIST)

    _Tuple = _List

    def _UnaryOp(self, node):
        operand = self.node(node.operand)
        if isinstance(node.op, ast.Not):
            return of(BOOL)
        known = _values(operand)
        if known is not None and NUMBER not in known:
            self.report(codes.TYPE_ERROR,
                        self.expression, f"negates {words(known)}; only numbers have a sign.")
        return of(NUMBER)

    def _BinOp(self, node):
        left, right = self.node(node.left), self.node(node.right)
        lk, rk = _values(left), _values(right)
        only_none = (left is not ANY and left == {NONE}) or (right is not ANY and right == {NONE})
        if only_none:
            self.report(codes.TYPE_ERROR,
                        self.expression, "does arithmetic with None, which always fails.")
            return ANY
        if isinstance(node.op, ast.Add):
            pairs = {NUMBER, TEXT, LIST}
            if lk is not None and rk is not None:
                shared = lk & rk & pairs
                if not shared:
                    self.report(codes.TYPE_ERROR,
                                self.expression, f"adds {words(rk)} to {words(lk)}; `+` "
                                "adds two numbers or joins two texts or two lists.")
                    return ANY
                return frozenset(shared)
            one = lk if lk is not None else rk
            if one is not None and not (one & pairs):
                self.report(codes.TYPE_ERROR,
                            self.expression, f"adds {words(one)}, which cannot be added.")
                return ANY
            return ANY if one is None else frozenset(one & pairs)
        for side in (lk, rk):
            if side is not None and NUMBER not in side:
                self.report(codes.TYPE_ERROR, self.expression, f"does arithmetic on {words(side)}; "
                            f"`{_op(node.op)}` needs numbers.")
                return ANY
        return of(NUMBER)

    def _BoolOp(self, node):
        types = [self.node(v) for v in node.values]
        for value, t in zip(node.values, types):
            known = _values(t)
            if known is not None and BOOL not in known:
                self.report(codes.CONDITION_NOT_BOOLEAN,
                            self.expression, f"uses {words(known)} with "
                            f"`{'and' if isinstance(node.op, ast.And) else 'or'}`, which joins "
                            "true/false values.")
        return union(*types)

    def _Compare(self, node):
        left = self.node(node.left)
        for op, comparator in zip(node.ops, node.comparators):
            right = self.node(comparator)
            self.compare(op, left, right)
            left = right
        return of(BOOL)

    def compare(self, op, left, right, text=None):
        lk, rk = _values(left), _values(right)
        if isinstance(op, (ast.Is, ast.IsNot)):
            return
        if isinstance(op, (ast.In, ast.NotIn)):
            if rk is not None and not (rk & {LIST, TEXT}):
                self.report(codes.TYPE_ERROR,
                            self.expression, f"tests membership `in` {words(rk)}; `in` "
                            "needs a list or a text on its right.")
            elif rk is not None and rk == {TEXT} and lk is not None and TEXT not in lk:
                self.report(codes.TYPE_ERROR, self.expression, f"looks for {words(lk)} in a text.")
            return
        if lk is None or rk is None:
            return
        if isinstance(op, (ast.Eq, ast.NotEq)):
            if not (lk & rk):
                always = "false" if isinstance(op, ast.Eq) else "true"
                self.report(codes.TYPE_ERROR,
                            self.expression, f"compares {words(lk)} with {words(rk)}, "
                            f"which is always {always}.")
            return
        orderable = lk & rk & {NUMBER, TEXT, DATE}
        if not orderable:
            self.report(codes.TYPE_ERROR,
                        self.expression, f"orders {words(lk)} against {words(rk)} with "
                        f"`{_op(op)}`; only two numbers, two texts or two dates can be ordered.")

    def _IfExp(self, node):
        self.condition(self.node(node.test), "the test of `if ... else`")
        return union(self.node(node.body), self.node(node.orelse))

    def condition(self, t, what, expression=None):
        known = _values(t)
        if known is not None and BOOL not in known:
            self.report(codes.CONDITION_NOT_BOOLEAN,
                        expression or self.expression, f"is used as {what} but gives "
                        f"{words(known)}, not true/false.")

    def _Call(self, node):
        name = node.func.id
        if name == "in_force":
            return of(BOOL)
        args = [self.node(a) for a in node.args]
        kind, what = getattr(node, "resolved", None) or (None, None)
        builtin = what if kind == "builtin" else None
        definition = what if kind in ("function", "param") else None
        if definition is not None:
            if hasattr(definition, "entries"):           # a table or bands parameter
                self.key(definition, args[0] if args else ANY)
                return unit_type(definition.unit)
            return self.function_type(definition)
        result = builtin.result if builtin is not None else ANY
        if builtin is not None:
            self.builtin_args(builtin, args)
        if result == builtins.ARG:
            known = [t for t in args if t is not ANY]
            if name == "coalesce":
                return union(*args) - {NONE} if known and len(known) == len(args) else ANY
            if len(args) == 1:
                return ANY                                # min(list)
            return union(*args)
        return of(result) if isinstance(result, str) else ANY

    def builtin_args(self, builtin: Builtin, args):
        name = builtin.name
        if builtin.number_first:
            first = _values(args[0]) if args else None
            if first is not None and NUMBER not in first:
                self.report(codes.TYPE_ERROR,
                            self.expression, f"passes {words(first)} to `{name}`, which "
                            "needs a number.")
        if builtin.date_args:
            for index in builtin.date_args:
                if index < len(args):
                    t = _values(args[index])
                    if t is not None and not (t & {DATE, TEXT}):
                        self.report(codes.TYPE_ERROR,
                                    self.expression, f"passes {words(t)} to `{name}`, "
                                    "which needs a date.")
        if builtin.list_first:
            t = _values(args[0]) if args else None
            if t is not None and LIST not in t:
                self.report(codes.TYPE_ERROR,
                            self.expression, f"passes {words(t)} to `{name}`, which "
                            "needs a list.")

    def key(self, parameter, t):
        known = _values(t)
        if known is None:
            return
        if parameter.kind == "bands" and NUMBER not in known:
            self.report(codes.TYPE_ERROR,
                        self.expression, f"looks up {words(known)} in the bands of "
                        f"{parameter.name}, which are ranges of numbers.")
        elif parameter.kind == "table" and parameter.key in ("integer", "text"):
            want = NUMBER if parameter.key == "integer" else TEXT
            if want not in known:
                keys = "whole numbers" if want == NUMBER else "texts"
                self.report(codes.TYPE_ERROR, self.expression, f"looks up {words(known)} in "
                            f"{parameter.name}, whose keys are {keys}.")

    def function_type(self, function):
        """A function's declared type (``type``, else ``unit``), else its body's."""
        declared = declared_type(function.type) if function.type != "any" else ANY
        if declared is ANY and function.unit:
            declared = unit_type(function.unit)
        if declared is not ANY:
            return declared | {NONE}
        if function.name in self.function_types:
            return self.function_types[function.name]
        self.function_types[function.name] = ANY       # guard against recursion
        saved = (self.owner, getattr(self, "expression", None), len(self.found))
        t = self.body_type(function, report=False)
        del self.found[saved[2]:]                       # reported when the function itself is checked
        self.owner, self.expression = saved[0], saved[1]
        self.function_types[function.name] = t
        return t

    # -- definitions ----------------------------------------------------------------------------
    def body_type(self, definition, report=True):
        self.owner = definition
        body = definition.body
        if isinstance(body, FormulaBody):
            return self.infer(body.expression)
        if isinstance(body, ConditionsBody):
            results = []
            for condition in body.conditions:
                if condition.when is not None:
                    self.condition(self.infer(condition.when), "a condition", condition.when)
                results.append((condition.then, self.infer(condition.then)))
            self.branches = results
            return union(*(t for _, t in results)) if results else ANY
        if isinstance(body, DecisionTableBody):
            inputs = {name: self.infer(e) for name, e in body.inputs}
            results = []
            for row in body.rows:
                for name, cell in row.tests:
                    self.cell(inputs.get(name, ANY), cell)
                results.append((row.then, self.infer(row.then)))
            if body.default is not None:
                results.append((body.default, self.infer(body.default)))
            self.branches = results
            t = union(*(t for _, t in results)) if results else ANY
            return of(LIST) if body.hit_policy == "collect" else t
        if isinstance(body, AggregateBody):
            return self.aggregate(body)
        return ANY

    def cell(self, input_type, cell):
        op = cell.op
        if op == "any":
            return
        a = self.infer(cell.a)
        ops = {"==": ast.Eq(), "!=": ast.NotEq(), "<": ast.Lt(), "<=": ast.LtE(), ">": ast.Gt(),
               ">=": ast.GtE(), "in": ast.In(), "not in": ast.NotIn()}
        if op in ops:
            self.compare(ops[op], input_type, a)
            return
        b = self.infer(cell.b)
        self.compare(ast.LtE(), a, input_type)
        self.compare(ast.LtE(), input_type, b)

    def aggregate(self, body: AggregateBody):
        if body.where is not None:
            self.condition(self.infer(body.where), "a filter (`where`)", body.where)
        of_type = self.infer(body.of) if body.of is not None else ANY
        if body.default is not None:
            self.infer(body.default)
        fn = body.function
        if fn == "count":
            return of(NUMBER)
        if fn == "list":
            return of(LIST)
        if fn in ("any", "all"):
            self.condition(of_type, f"the value of `{fn}`", body.of)
            return of(BOOL)
        if fn == "sum":
            known = _values(of_type)
            if known is not None and NUMBER not in known:
                self.report(codes.TYPE_ERROR,
                            body.of, f"is summed but gives {words(known)}, not a number.")
            return of(NUMBER)
        return of_type

    def check_definition(self, definition):
        self.branches = None
        t = self.body_type(definition)
        declared, what, shown = declared_type(definition.type), "type", definition.type
        if declared is ANY and getattr(definition, "unit", None):
            declared, what, shown = unit_type(definition.unit), "unit", definition.unit
        if declared is ANY:
            return
        body = definition.body
        if isinstance(body, FormulaBody):
            branches = [(body.expression, t)]
        elif isinstance(body, AggregateBody):
            branches = [(body.of or _Located(definition), t)]
        elif isinstance(body, DecisionTableBody) and body.hit_policy == "collect":
            branches = [(_Located(definition), t)]
        else:
            branches = self.branches or []
        for expression, bt in branches:
            known = _values(bt)
            if known is not None and not (known & declared):
                self.report(codes.DECLARED_TYPE,
                            expression, f"gives {words(known)}, but {definition.name} "
                            f"declares {what} {shown}.")

    def check_chart(self, chart):
        self.owner = chart
        for group in chart.groups:
            for _, expression in group.for_each:
                t = self.infer(expression)
                known = _values(t)
                if known is not None and LIST not in known:
                    self.report(codes.TYPE_ERROR,
                                expression, f"gives {words(known)}, but `for_each` needs "
                                "a list.")
            if group.when is not None:
                self.condition(self.infer(group.when), "a `when`", group.when)
            for _, expression in group.row:
                self.infer(expression)


class _Located:
    """Where a definition stands, for problems about it as a whole."""

    def __init__(self, definition):
        self.text = definition.name
        self.file = definition.file
        self.line = definition.line
        self.field = definition.name


def _op(op) -> str:
    return {ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
            ast.Pow: "**", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
            ast.Add: "+"}.get(type(op), "?")


def run(context: CheckContext) -> list:
    checker = _Checker(context)
    program = context.program
    for definition in list(program.rules.values()) + list(program.functions.values()):
        checker.check_definition(definition)
    for chart in program.charts.values():
        checker.check_chart(chart)
    # one problem per expression and code is enough
    seen, out = set(), []
    for p in checker.found:
        key = (p.code, p.file, p.line, p.field, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
