"""Compiling checked expressions into Python closures: the fast path for evaluation.

:class:`~engine.language.expressions.Evaluator` (simpleeval) walks an expression's syntax tree on every
evaluation, dispatching on node type each time. That is the reference semantics, and it is
what the differential tests compare against. For throughput, the compiler turns each checked
tree into nested closures **once**, after names are resolved: evaluating is then one Python call
per node, with no dispatch, no attribute lookups on the tree, and nothing allocated but results.

The closures use exactly the same operator functions (:data:`~engine.language.operators.OPERATORS`)
and the same name and call references as the reference evaluator, so the two cannot drift apart
in arithmetic or in what a name means; ``tests/engine/test_closures.py`` checks that every rulebook
expression gives identical results both ways.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

from .marks import SELECTORS, keep_chosen, may_cite, skip
from .operators import MAX_SEQUENCE, OPERATORS

Closure = Callable[[Any], Any]


def compile_tree(node: ast.AST) -> Closure:
    """A closure ``f(state) -> value`` for a checked, resolved expression tree.

    Nested closures are cheap to make (loading rulebooks makes one per expression, and a cold
    ``policy eval`` pays for them); :func:`generate` writes a faster function for a tree, at the
    cost of a call to ``compile``, which the evaluator makes only for what it computes often
    (``engine.runtime.state``)."""
    return closure_tree(node)


def closure_tree(node: ast.AST) -> Closure:
    """Nested closures ``f(state) -> value`` for a checked, resolved expression tree, one per
    node: what expressions start with, and what :func:`generate` calls for the rare kinds of
    nodes it does not write out (chained comparisons keep their own, for instance)."""
    builder = _BUILDERS.get(type(node))
    if builder is None:  # pragma: no cover - the checker admits only the node types below
        raise TypeError(f"cannot compile {type(node).__name__}")
    return builder(node)


def _constant(node: ast.Constant) -> Closure:
    value = node.value
    return lambda state: value


def _name(node: ast.Name) -> Closure:
    return node.ref


def _unary(node: ast.UnaryOp) -> Closure:
    operand = closure_tree(node.operand)
    if isinstance(node.op, ast.Not):
        return lambda state: not operand(state)
    fn = OPERATORS[type(node.op)]
    return lambda state: fn(operand(state))


def _binary(node: ast.BinOp) -> Closure:
    fn = OPERATORS[type(node.op)]
    left, right = closure_tree(node.left), closure_tree(node.right)
    # A constant operand is passed as it is rather than through a closure that returns it.
    if isinstance(node.right, ast.Constant):
        value = node.right.value
        return lambda state: fn(left(state), value)
    if isinstance(node.left, ast.Constant):
        value = node.left.value
        return lambda state: fn(value, right(state))
    return lambda state: fn(left(state), right(state))


def _compare_one(kind: type, fn, left: Closure, right: Closure, left_node: ast.AST,
                 right_node: ast.AST) -> Closure:
    """One comparison (``a < b``, ``x == "hourly"``): the most common node of conditions.
    The six ordering and equality operators are written inline (``OPERATORS`` maps them to
    ``operator.lt`` and its kin, which do exactly what the inline operator does), and a constant
    operand is passed as it is; ``in``, ``not in``, ``is`` and ``is not`` call their function."""
    if isinstance(right_node, ast.Constant) and kind in _INLINE_AGAINST:
        return _INLINE_AGAINST[kind](left, right_node.value)
    if isinstance(left_node, ast.Constant) or isinstance(right_node, ast.Constant) or \
            kind not in _INLINE:
        if isinstance(right_node, ast.Constant):
            value = right_node.value
            return lambda state: fn(left(state), value)
        if isinstance(left_node, ast.Constant):
            value = left_node.value
            return lambda state: fn(value, right(state))
        return lambda state: fn(left(state), right(state))
    return _INLINE[kind](left, right)


#: ``left OP right`` for both operands computed, and ``left OP value`` for a constant on the
#: right (Python evaluates the left operand first either way, as ``fn(left(state), ...)`` does).
_INLINE = {
    ast.Eq: lambda a, b: lambda state: a(state) == b(state),
    ast.NotEq: lambda a, b: lambda state: a(state) != b(state),
    ast.Lt: lambda a, b: lambda state: a(state) < b(state),
    ast.LtE: lambda a, b: lambda state: a(state) <= b(state),
    ast.Gt: lambda a, b: lambda state: a(state) > b(state),
    ast.GtE: lambda a, b: lambda state: a(state) >= b(state),
}
_INLINE_AGAINST = {
    ast.Eq: lambda a, v: lambda state: a(state) == v,
    ast.NotEq: lambda a, v: lambda state: a(state) != v,
    ast.Lt: lambda a, v: lambda state: a(state) < v,
    ast.LtE: lambda a, v: lambda state: a(state) <= v,
    ast.Gt: lambda a, v: lambda state: a(state) > v,
    ast.GtE: lambda a, v: lambda state: a(state) >= v,
}


def _boolean(node: ast.BoolOp) -> Closure:
    # Same value semantics as Python (and simpleeval): the deciding operand is returned.
    values = [closure_tree(v) for v in node.values]
    is_and = isinstance(node.op, ast.And)
    if any(may_cite(v) for v in node.values[:-1]):
        return _boolean_marked(values, is_and)
    if is_and:
        if len(values) == 2:
            a, b = values
            return lambda state: a(state) and b(state)

        def all_of(state):
            result = True
            for value in values:
                result = value(state)
                if not result:
                    return result
            return result
        return all_of
    if len(values) == 2:
        a, b = values
        return lambda state: a(state) or b(state)

    def any_of(state):
        result = False
        for value in values:
            result = value(state)
            if result:
                return result
        return result
    return any_of


def _boolean_marked(values: list[Closure], is_and: bool) -> Closure:
    """``and``/``or`` whose earlier operands may read cited values: when the operator stops at an
    operand (the first false one of an ``and``, the first true one of an ``or``), only that
    operand decided, and what the operands before it read is marked as not deciding."""
    if len(values) == 2:
        a, b = values
        if is_and:
            def both(state):
                frame = state.frame
                start = len(frame)
                result = a(state)
                if not result:
                    return result
                middle = len(frame)
                result = b(state)
                if not result and middle > start:
                    skip(state, start, middle)
                return result
            return both

        def either(state):
            frame = state.frame
            start = len(frame)
            result = a(state)
            if result:
                return result
            middle = len(frame)
            result = b(state)
            if result and middle > start:
                skip(state, start, middle)
            return result
        return either

    def marked(state):
        frame = state.frame
        start = len(frame)
        result = is_and
        for value in values:
            before = len(frame)
            result = value(state)
            if (not result) if is_and else result:
                skip(state, start, before)
                return result
        return result
    return marked


def _compare(node: ast.Compare) -> Closure:
    left = closure_tree(node.left)
    ops = [OPERATORS[type(op)] for op in node.ops]
    rights = [closure_tree(c) for c in node.comparators]
    if len(ops) == 1:
        fn, right = ops[0], rights[0]
        return _compare_one(type(node.ops[0]), fn, left, right, node.left, node.comparators[0])

    def chained(state):
        current = left(state)
        for fn, right in zip(ops, rights):
            following = right(state)
            if not fn(current, following):
                return False
            current = following
        return True
    return chained


def _if(node: ast.IfExp) -> Closure:
    test, body, orelse = closure_tree(node.test), closure_tree(node.body), closure_tree(node.orelse)
    return lambda state: body(state) if test(state) else orelse(state)


def _call(node: ast.Call) -> Closure:
    ref = node.ref
    if node.lazy:
        nodes = node.args
        return lambda state: ref(state, nodes)
    args = [closure_tree(a) for a in node.args]
    builtin = getattr(ref, "builtin", None)
    if builtin is not None:
        if builtin in SELECTORS and len(args) > 1 and any(may_cite(a) for a in node.args):
            return _selector(builtin, args)
        if len(args) == 1:
            (a,) = args
            return lambda state: builtin(a(state))
        if len(args) == 2:
            a, b = args
            return lambda state: builtin(a(state), b(state))
        return lambda state: builtin(*[arg(state) for arg in args])
    if len(args) == 1:
        (a,) = args
        if isinstance(node.args[0], ast.Constant):
            value = node.args[0].value
            return lambda state: ref(state, [value])
        return lambda state: ref(state, [a(state)])
    if len(args) == 2:
        a, b = args
        if isinstance(node.args[0], ast.Constant):
            value = node.args[0].value
            return lambda state: ref(state, [value, b(state)])
        return lambda state: ref(state, [a(state), b(state)])
    if len(args) == 3:
        a, b, c = args
        if isinstance(node.args[0], ast.Constant):
            value = node.args[0].value
            return lambda state: ref(state, [value, b(state), c(state)])
        return lambda state: ref(state, [a(state), b(state), c(state)])
    return lambda state: ref(state, [arg(state) for arg in args])


def _selector(builtin, args: list[Closure]) -> Closure:
    """``min``/``max`` of several arguments that may read cited values: only the argument that
    gave the value decides."""
    def chosen(state):
        frame = state.frame
        bounds, values = [], []
        for arg in args:
            bounds.append(len(frame))
            values.append(arg(state))
        bounds.append(len(frame))
        result = builtin(*values)
        keep_chosen(state, bounds, values, result)
        return result
    return chosen


def _sequence(node) -> Closure:
    items = [closure_tree(e) for e in node.elts]
    if len(items) > MAX_SEQUENCE:  # pragma: no cover - bounded by the expression length
        raise ValueError("the list is too long")
    return lambda state: [item(state) for item in items]


_BUILDERS = {
    ast.Constant: _constant,
    ast.Name: _name,
    ast.UnaryOp: _unary,
    ast.BinOp: _binary,
    ast.BoolOp: _boolean,
    ast.Compare: _compare,
    ast.IfExp: _if,
    ast.Call: _call,
    ast.List: _sequence,
    ast.Tuple: _sequence,
}


# --------------------------------------------------------------------------------------------
# One generated function per expression
# --------------------------------------------------------------------------------------------
#
# Nested closures cost one Python call per node of the tree, and a name reference (a fact, a
# rule) one more. :func:`generate` writes the same evaluation out as the statements of one
# function instead: every node's value goes into a local variable, in the order the closures
# compute them, and the commonest references (a fact or a rule of the entity itself) are written
# in place, calling their reference only when the value is not there yet.
#
# Safety: the source is made only from the node types below, of a tree the checker admitted and
# the compiler resolved; everything it refers to (constants, references, operator functions) is
# handed to it in its namespace under generated names (``k0``, ``k1``...), never written into
# the text, so nothing from a rulebook or a case can become code. The semantics are the
# closures' (same operator functions, same references, same order of evaluation, same marks for
# deciding citations), and ``tests/engine/test_closures.py`` holds both to the reference
# evaluator.

#: Deepest nesting of generated blocks; a deeper tree (an ``and`` of a hundred operands, say)
#: keeps its closures. Python itself refuses 100 levels of indentation.
MAX_GENERATED_DEPTH = 40

_SYMBOLS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
            ast.GtE: ">="}


class TooDeep(Exception):
    """The tree nests more blocks than :data:`MAX_GENERATED_DEPTH`: keep the closures."""


class SourceWriter:
    """The source of one generated function, and the namespace it runs in. The statements
    written read the locals ``state``, ``frame`` (``state.frame``), ``entity``
    (``state.scope.entity``) and ``rules`` (``state.rules``), as its flags say, and call
    ``state.compute_rule(rule, entity, key)`` for a rule of the entity not computed yet."""

    def __init__(self, compiled_rule=None):
        # compiled_rule(rule): the function that computes a rule for an entity, as
        # state.compute_rule would call it, when there is one already (None: ask the state).
        self.compiled_rule = compiled_rule
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {}
        self.count = 0
        self.frame = self.entity = self.rules = False     # which state fields it reads

    def constant(self, value) -> str:
        name = f"k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def temp(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def emit(self, depth: int, text: str) -> None:
        if depth > MAX_GENERATED_DEPTH:
            raise TooDeep
        self.lines.append("    " * depth + text)

    def define(self, lines: list[str], name: str) -> Closure | None:
        """Compile ``lines`` (this writer's statements with their head) and give the function
        ``name`` they define, or None if Python refuses the source (too deeply nested)."""
        try:
            code = compile("\n".join(lines) + "\n", "<expression>", "exec")
        except (SyntaxError, RecursionError, MemoryError):  # pragma: no cover - bounded above
            return None
        namespace = self.namespace
        exec(code, namespace)             # defines `name` from the source written here
        return namespace[name]

    def value(self, node: ast.AST, depth: int) -> str:
        """Write the statements computing ``node`` at ``depth``; the name holding its value."""
        kind = type(node)
        if kind is ast.Constant:
            return self.constant(node.value)
        if kind is ast.Name:
            return self.name(node, depth)
        if kind is ast.Compare and len(node.ops) == 1:
            left = self.value(node.left, depth)
            right = self.value(node.comparators[0], depth)
            out = self.temp()
            op = type(node.ops[0])
            symbol = _SYMBOLS.get(op)
            if symbol is not None:
                self.emit(depth, f"{out} = {left} {symbol} {right}")
            else:
                fn = self.constant(OPERATORS[op])
                self.emit(depth, f"{out} = {fn}({left}, {right})")
            return out
        if kind is ast.BinOp:
            fn = self.constant(OPERATORS[type(node.op)])
            left = self.value(node.left, depth)
            right = self.value(node.right, depth)
            out = self.temp()
            self.emit(depth, f"{out} = {fn}({left}, {right})")
            return out
        if kind is ast.UnaryOp:
            operand = self.value(node.operand, depth)
            out = self.temp()
            if isinstance(node.op, ast.Not):
                self.emit(depth, f"{out} = not {operand}")
            else:
                fn = self.constant(OPERATORS[type(node.op)])
                self.emit(depth, f"{out} = {fn}({operand})")
            return out
        if kind is ast.BoolOp:
            return self.boolean(node, depth)
        if kind is ast.IfExp:
            test = self.value(node.test, depth)
            out = self.temp()
            self.emit(depth, f"if {test}:")
            self.emit(depth + 1, f"{out} = {self.value(node.body, depth + 1)}")
            self.emit(depth, "else:")
            self.emit(depth + 1, f"{out} = {self.value(node.orelse, depth + 1)}")
            return out
        if kind is ast.Call:
            return self.call(node, depth)
        if kind is ast.List or kind is ast.Tuple:
            if len(node.elts) > MAX_SEQUENCE:  # pragma: no cover - bounded by the length
                raise ValueError("the list is too long")
            items = [self.value(e, depth) for e in node.elts]
            out = self.temp()
            self.emit(depth, f"{out} = [{', '.join(items)}]")
            return out
        # Anything else (a chained comparison): its closures, called from here.
        fn = self.constant(closure_tree(node))
        out = self.temp()
        self.emit(depth, f"{out} = {fn}(state)")
        return out

    def name(self, node: ast.Name, depth: int) -> str:
        ref = node.ref
        target = getattr(ref, "target", None)
        call = self.constant(ref)
        out = self.temp()
        if target is not None and target[0] in ("fact", "rule") and target[-1] == 0:
            # A fact or rule of the entity itself, as its reference reads it; the reference
            # is called only for a value not read or computed yet (it then records it).
            self.frame = self.entity = True
            record = self.temp()
            if target[0] == "rule":
                # Not computed yet: computed through the state's compute_rule (the reference's
                # State._compute, without the reference's own look-up again).
                self.rules = True
                rule = self.constant(target[1])
                key = self.temp()
                self.emit(depth, f"{key} = ({rule}.uid, entity.uid)")
                self.emit(depth, f"{record} = rules.get({key})")
                self.emit(depth, f"if {record} is None:")
                known = self.compiled_rule(target[1]) if self.compiled_rule else None
                if known is not None:
                    self.emit(depth + 1, f"{record} = {self.constant(known)}(state, entity, {key})")
                else:
                    self.emit(depth + 1, f"{record} = state.compute_rule({rule}, entity, {key})")
                self.emit(depth, f"frame.append({record})")
                self.emit(depth, f"{out} = {record}.value")
                return out
            self.emit(depth, f"{record} = entity.reads.get({self.constant(target[1])})")
            self.emit(depth, f"if {record} is None:")
            self.emit(depth + 1, f"{out} = {call}(state)")
            self.emit(depth, "else:")
            self.emit(depth + 1, f"frame.append({record})")
            self.emit(depth + 1, f"{out} = {record}.value")
            return out
        self.emit(depth, f"{out} = {call}(state)")
        return out

    def boolean(self, node: ast.BoolOp, depth: int) -> str:
        """``and``/``or``: the operand that stops the operator is the value. When an earlier
        operand may read a cited value, what the operands before the one that stopped read is
        marked as not deciding (as :func:`_boolean_marked` does)."""
        is_and = isinstance(node.op, ast.And)
        values = node.values
        marked = any(may_cite(v) for v in values[:-1])
        out = self.temp()
        start = None
        if marked:
            self.frame = True
            start = self.temp()
            self.emit(depth, f"{start} = len(frame)")
        self.emit(depth, f"{out} = {self.value(values[0], depth)}")
        go_on = f"if {out}:" if is_and else f"if not {out}:"
        stops = f"if not {out}:" if is_and else f"if {out}:"
        skip_fn = self.constant(skip) if marked else None
        for value in values[1:]:
            self.emit(depth, go_on)
            depth += 1
            before = None
            if marked:
                before = self.temp()
                self.emit(depth, f"{before} = len(frame)")
            self.emit(depth, f"{out} = {self.value(value, depth)}")
            if marked:
                self.emit(depth, stops)
                self.emit(depth + 1, f"{skip_fn}(state, {start}, {before})")
        return out

    def call(self, node: ast.Call, depth: int) -> str:
        ref = node.ref
        call = self.constant(ref)
        out = self.temp()
        if node.lazy:
            self.emit(depth, f"{out} = {call}(state, {self.constant(node.args)})")
            return out
        builtin = getattr(ref, "builtin", None)
        if builtin is not None:
            fn = self.constant(builtin)
            if builtin in SELECTORS and len(node.args) > 1 and any(may_cite(a) for a in node.args):
                # min/max: only the argument that gave the value decides (as _selector does).
                self.frame = True
                bounds, values = [], []
                for arg in node.args:
                    bound = self.temp()
                    self.emit(depth, f"{bound} = len(frame)")
                    bounds.append(bound)
                    values.append(self.value(arg, depth))
                bound = self.temp()
                self.emit(depth, f"{bound} = len(frame)")
                bounds.append(bound)
                self.emit(depth, f"{out} = {fn}({', '.join(values)})")
                self.emit(depth, f"{self.constant(keep_chosen)}(state, [{', '.join(bounds)}], "
                                 f"[{', '.join(values)}], {out})")
                return out
            args = [self.value(a, depth) for a in node.args]
            self.emit(depth, f"{out} = {fn}({', '.join(args)})")
            return out
        args = [self.value(a, depth) for a in node.args]
        self.emit(depth, f"{out} = {call}(state, [{', '.join(args)}])")
        return out


def generate(node: ast.AST) -> Closure | None:
    """One Python function ``f(state) -> value`` computing a checked, resolved expression tree
    exactly as its closures do; None when the tree nests too deep to be written out (or is a
    constant or a name alone, which gain nothing)."""
    if isinstance(node, (ast.Constant, ast.Name)):
        return None
    writer = SourceWriter()
    try:
        result = writer.value(node, 1)
    except TooDeep:
        return None
    head = ["def generated(state):"]
    if writer.frame:
        head.append("    frame = state.frame")
    if writer.entity:
        head.append("    entity = state.scope.entity")
    if writer.rules:
        head.append("    rules = state.rules")
    return writer.define(head + writer.lines + [f"    return {result}"], "generated")
