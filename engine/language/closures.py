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
    """A closure ``f(state) -> value`` for a checked, resolved expression tree."""
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
    operand = compile_tree(node.operand)
    if isinstance(node.op, ast.Not):
        return lambda state: not operand(state)
    fn = OPERATORS[type(node.op)]
    return lambda state: fn(operand(state))


def _binary(node: ast.BinOp) -> Closure:
    fn = OPERATORS[type(node.op)]
    left, right = compile_tree(node.left), compile_tree(node.right)
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
    values = [compile_tree(v) for v in node.values]
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
    left = compile_tree(node.left)
    ops = [OPERATORS[type(op)] for op in node.ops]
    rights = [compile_tree(c) for c in node.comparators]
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
    test, body, orelse = compile_tree(node.test), compile_tree(node.body), compile_tree(node.orelse)
    return lambda state: body(state) if test(state) else orelse(state)


def _call(node: ast.Call) -> Closure:
    ref = node.ref
    if node.lazy:
        nodes = node.args
        return lambda state: ref(state, nodes)
    args = [compile_tree(a) for a in node.args]
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
    items = [compile_tree(e) for e in node.elts]
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
