"""Expressions: parsed once at load, checked, then evaluated many times with simpleeval.

An expression in a rulebook is a small Python-like formula (``guideline(size) * percent / 100``).
This module turns its text into a checked syntax tree **once**, when the rulebook loads:

* only whitelisted syntax survives (arithmetic, comparisons, ``and``/``or``/``not``, ``if``/``else``,
  calls, list literals): no attributes, subscripts, lambdas, comprehensions or assignments;
* a dotted name such as ``fpl.first_person`` becomes one qualified name, so that attribute access
  never exists at run time;
* number literals become exact :class:`~decimal.Decimal` values read from the source text;
* size limits bound the work any expression can ask for.

The compiler then attaches a *reference* to every name and call node (what the name means: a
fact, a rule, a parameter, an argument...). Evaluation is done by :class:`Evaluator`, a
:class:`simpleeval.SimpleEval` whose name and call handlers follow those references.
"""

from __future__ import annotations

import ast
import inspect
from decimal import Decimal, DecimalException, DivisionByZero, InvalidOperation
from typing import Any, Callable, NoReturn

import simpleeval

from ..errors import CompileError, EvaluationError, codes
from .builtins import RuleFailure
from .closures import compile_tree
from .marks import SELECTORS, keep_chosen, skip
from .numbers import NotANumber, check_magnitude, to_decimal
from .operators import MAX_SEQUENCE, OPERATORS

#: Longest expression, in characters.
MAX_EXPRESSION_LENGTH = 2_000
#: Most syntax nodes in one expression.
MAX_NODES = 400
#: Deepest nesting of an expression's syntax tree (a sum of N terms nests N deep). Checked
#: before anything walks the tree recursively, so Python's own recursion limit is never reached.
MAX_DEPTH = 64

#: Names that read as literals, for analysts used to YAML and JSON spellings.
LITERAL_NAMES = {"true": True, "false": False, "True": True, "False": False,
                 "None": None, "none": None, "null": None}

_ALLOWED_NODES = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.Attribute, ast.UnaryOp, ast.BinOp,
    ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.List, ast.Tuple,
    ast.UAdd, ast.USub, ast.Not, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod,
    ast.Pow, ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In,
    ast.NotIn, ast.Is, ast.IsNot,
)

_FRIENDLY = {
    ast.Subscript: "indexing with [ ]", ast.Lambda: "lambda functions",
    ast.ListComp: "comprehensions", ast.GeneratorExp: "comprehensions",
    ast.DictComp: "comprehensions", ast.SetComp: "comprehensions", ast.Dict: "mappings { }",
    ast.Set: "sets { }", ast.JoinedStr: "f-strings", ast.NamedExpr: "assignments (:=)",
    ast.Starred: "* unpacking", ast.Await: "await", ast.Yield: "yield",
    ast.BitAnd: "the & operator", ast.BitOr: "the | operator", ast.BitXor: "the ^ operator",
    ast.LShift: "the << operator", ast.RShift: "the >> operator", ast.Invert: "the ~ operator",
    ast.MatMult: "the @ operator", ast.Slice: "slices",
}


class Expression:
    """A checked, parsed expression and where it came from (for error messages).

    ``names`` lists the name nodes and ``calls`` the call nodes, so the compiler can attach
    references; ``text`` is the source, quoted in every error.
    """

    __slots__ = ("text", "tree", "names", "calls", "file", "line", "field", "constant", "fn")

    def __init__(self, text: str, tree: ast.AST, names: list, calls: list, file, line, field):
        self.text = text
        self.tree = tree
        self.names = names
        self.calls = calls
        self.file = file
        self.line = line
        self.field = field
        self.constant = tree.value if isinstance(tree, ast.Constant) else _NOT_CONSTANT
        self.fn = None             # the compiled closure, set once names are resolved

    @property
    def is_constant(self) -> bool:
        """Whether the expression is one literal, whose value ``constant`` holds (and no
        closure is needed)."""
        return self.constant is not _NOT_CONSTANT

    def name_ids(self) -> set[str]:
        return {n.id for n in self.names}

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


class _NotConstant:
    """Marks an expression that is not a constant: one object, also in an unpickled bundle."""

    __slots__ = ()

    def __reduce__(self):
        return "_NOT_CONSTANT"


_NOT_CONSTANT = _NotConstant()


def parse(source: Any, *, file: str | None = None, line: int | None = None,
          field: str | None = None) -> Expression:
    """Parse and check an expression. Literal numbers and booleans from YAML are accepted too."""
    if isinstance(source, bool) or source is None:
        text = "null" if source is None else repr(source)
        return Expression(text, ast.Constant(source), [], [], file, line, field)
    if isinstance(source, (int, Decimal)):
        return Expression(str(source), ast.Constant(source), [], [], file, line, field)
    if not isinstance(source, str):
        raise CompileError(f"An expression must be text, a number or true/false, not {type(source).__name__}.",
                           code=codes.EXPRESSION_SYNTAX, file=file, line=line, field=field)
    text = source.strip()
    if not text:
        raise CompileError("The expression is empty.",
                           code=codes.EXPRESSION_SYNTAX, file=file, line=line, field=field)
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise CompileError(f"The expression is {len(text)} characters long; the limit is "
                           f"{MAX_EXPRESSION_LENGTH}. Split it into smaller rules.",
                           code=codes.EXPRESSION_LIMIT, file=file, line=line, field=field)
    # Parsed inside parentheses, so that a formula may run over several indented YAML lines
    # (`formula: >-` blocks) exactly as Python allows inside brackets.
    wrapped = f"({text}\n)"
    try:
        module = ast.parse(wrapped, mode="eval")
    except SyntaxError as exc:
        detail = exc.msg or "invalid syntax"
        where = f" at character {exc.offset - 1}" if exc.offset and exc.offset > 1 else ""
        raise CompileError(f"The expression `{text}` cannot be read: {detail}{where}.",
                           code=codes.EXPRESSION_SYNTAX, file=file, line=line, field=field) from None
    except (RecursionError, MemoryError):
        raise CompileError(f"The expression `{text}` nests too deeply to read; the limit is "
                           f"{MAX_DEPTH} levels. Split it into smaller rules.",
                           code=codes.EXPRESSION_LIMIT, file=file, line=line, field=field) from None
    depth = _depth(module.body)
    if depth > MAX_DEPTH:
        raise CompileError(f"The expression `{text}` nests {depth} levels deep (a sum of many "
                           f"terms or a chain of operators nests one level a term); the limit is "
                           f"{MAX_DEPTH}. Split it into smaller rules.",
                           code=codes.EXPRESSION_LIMIT, file=file, line=line, field=field)
    checker = _Checker(text, wrapped, file, line, field)
    tree = checker.visit(module.body)
    if checker.count > MAX_NODES:
        raise CompileError(f"The expression `{text}` has {checker.count} parts; the limit is "
                           f"{MAX_NODES}. Split it into smaller rules.",
                           code=codes.EXPRESSION_LIMIT, file=file, line=line, field=field)
    return Expression(text, tree, checker.names, checker.calls, file, line, field)


def _depth(root: ast.AST) -> int:
    """The depth of a syntax tree, measured without recursion (operator and context nodes such
    as ``Add`` and ``Load`` are leaves and not counted)."""
    deepest = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)):
                continue
            stack.append((child, depth + 1))
    return deepest


class _Checker(ast.NodeTransformer):
    """Whitelists syntax, folds dotted names and reads number literals as decimals."""

    def __init__(self, text, source, file, line, field):
        self.text, self.file, self.line, self.field = text, file, line, field
        self.source = source      # the text as parsed (wrapped in parentheses)
        self.names: list[ast.Name] = []
        self.calls: list[ast.Call] = []
        self.count = 0

    def fail(self, message: str):
        raise CompileError(f"The expression `{self.text}` {message}",
                           code=codes.EXPRESSION_FORBIDDEN,
                           file=self.file, line=self.line, field=self.field)

    def generic_visit(self, node):
        self.count += 1
        if not isinstance(node, _ALLOWED_NODES):
            what = _FRIENDLY.get(type(node), type(node).__name__)
            self.fail(f"uses {what}, which rulebook expressions do not allow.")
        return super().generic_visit(node)

    def visit_Attribute(self, node):
        dotted = _dotted(node)
        if dotted is None:
            self.fail("reads an attribute of a computed value; only names such as "
                      "`fpl.first_person` may contain dots.")
        if any(part.startswith("_") for part in dotted.split(".")):
            self.fail(f"uses the name `{dotted}`; names may not start with an underscore.")
        self.count += 1
        name = ast.Name(id=dotted, ctx=ast.Load())
        self.names.append(name)
        return name

    def visit_Name(self, node):
        self.count += 1
        if node.id in LITERAL_NAMES:
            return ast.Constant(LITERAL_NAMES[node.id])
        if node.id.startswith("_"):
            self.fail(f"uses the name `{node.id}`; names may not start with an underscore.")
        self.names.append(node)
        return node

    def visit_Constant(self, node):
        self.count += 1
        value = node.value
        if isinstance(value, bool) or value is None:
            return node
        if isinstance(value, (int, float)):
            literal = ast.get_source_segment(self.source, node) or repr(value)
            try:
                number = Decimal(literal.replace("_", ""))
                check_magnitude(number)
            except InvalidOperation:
                self.fail(f"has a number `{literal}` that is not a plain decimal.")
            except NotANumber as exc:
                self.fail(f"has a number `{literal}` that cannot be policy: {exc}.")
            if isinstance(value, int):
                return ast.Constant(int(number))
            return ast.Constant(number)
        if isinstance(value, str):
            if len(value) > MAX_SEQUENCE:
                self.fail("has a string literal that is too long.")
            return node
        self.fail(f"has a literal of a kind that is not allowed ({type(value).__name__}).")

    def visit_Call(self, node):
        self.count += 1
        if node.keywords:
            self.fail("passes arguments by name; pass them in order instead.")
        if isinstance(node.func, ast.Attribute):
            dotted = _dotted(node.func)
            if dotted is None:
                self.fail("calls a method of a computed value, which is not allowed.")
            node.func = ast.Name(id=dotted, ctx=ast.Load())
        elif not isinstance(node.func, ast.Name):
            self.fail("calls something that is not a named function.")
        if node.func.id.startswith("_"):
            self.fail(f"calls `{node.func.id}`; names may not start with an underscore.")
        node.args = [self.visit(arg) for arg in node.args]
        node.lazy = False          # set by the compiler for calls that take names, not values
        self.calls.append(node)
        return node


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


# --------------------------------------------------------------------------------------------
class Evaluator(simpleeval.SimpleEval):
    """simpleeval with the engine's name and call resolution, for one evaluation at a time.

    simpleeval's tree walk is the reference semantics (``reference=True``). By default ``run``
    calls the closure the compiler built from the same tree (:mod:`engine.language.closures`), which uses
    the same operators and references and is several times faster; the differential tests hold
    the two to identical results.

    An evaluator is not shared between threads: the engine creates one per case evaluation (or
    per table). ``state`` is the engine's evaluation context; every name node carries a
    ``ref`` callable ``ref(state) -> value`` and every call node a ``ref`` callable
    ``ref(state, args) -> value``, both attached by the compiler.
    """

    def __init__(self, state, reference: bool = False):
        # simpleeval's own __init__ is not called: one evaluator is made per case evaluated,
        # and most of that __init__'s time went into a table of handlers this class replaces
        # (built under warnings.catch_warnings()). The attributes simpleeval's methods read
        # are set here, as it would set them for these arguments.
        self.operators = OPERATORS
        self.functions = {}
        self.names = {}
        self.allowed_attrs = None
        self.ATTR_INDEX_FALLBACK = simpleeval.ATTR_INDEX_FALLBACK
        self.state = state
        self.reference = reference

    @property
    def nodes(self) -> dict:
        """The handler of each node type (what simpleeval keeps per evaluator), made when asked."""
        return {kind: handler.__get__(self) for kind, handler in _HANDLERS.items()}

    @nodes.setter
    def nodes(self, _value) -> None:
        """simpleeval's ``__del__`` clears its table; this class keeps one per class."""

    def _eval(self, node):
        # The checker already refused every node type without a handler, and no handler can
        # produce a module or a forbidden function, so simpleeval's per-node content check
        # is not needed on this hot path. One table for the class, not one per evaluator.
        return _HANDLERS[type(node)](self, node)

    def _eval_name(self, node):
        return node.ref(self.state)

    def _eval_call(self, node):
        if node.lazy:
            return node.ref(self.state, node.args)
        builtin = getattr(node.ref, "builtin", None)
        if builtin in SELECTORS and len(node.args) > 1:
            # min/max: only the argument that gave the value decides (engine.runtime.deciding).
            frame = self.state.frame
            bounds, values = [], []
            for arg in node.args:
                bounds.append(len(frame))
                values.append(self._eval(arg))
            bounds.append(len(frame))
            result = builtin(*values)
            keep_chosen(self.state, bounds, values, result)
            return result
        return node.ref(self.state, [self._eval(a) for a in node.args])

    def _eval_boolop(self, node):
        # Python's (and simpleeval's) semantics: the operand that stops the operator is returned.
        # That operand alone decided the value: what the operands before it read is marked
        # (engine.runtime.deciding).
        is_and = isinstance(node.op, ast.And)
        frame = self.state.frame
        start = len(frame)
        result = is_and
        for value in node.values:
            before = len(frame)
            result = self._eval(value)
            if (not result) if is_and else result:
                skip(self.state, start, before)
                return result
        return result

    def evaluate_node(self, node):
        """One sub-expression, by the compiled closure when there is one (lazy built-ins)."""
        if self.reference:
            return self._eval(node)
        fn = getattr(node, "fn", None)
        if fn is None:
            fn = node.fn = compile_tree(node)
        return fn(self.state)

    def _eval_list(self, node):
        if len(node.elts) > MAX_SEQUENCE:
            raise ValueError("the list is too long")
        return [self._eval(e) for e in node.elts]

    def run(self, expression: Expression, where: Callable[[], str]):
        """Evaluate, turning Python errors into an :class:`EvaluationError` that quotes the
        expression and says where it is (``where()`` names the rule and entity)."""
        fn = expression.fn
        if fn is not None and not self.reference:     # the hot path: the compiled closure
            try:
                return fn(self.state)
            except Exception as exc:
                reraise(expression, where, exc)
        constant = expression.constant
        if constant is not _NOT_CONSTANT:
            return constant
        try:
            return self._eval(expression.tree)
        except Exception as exc:
            reraise(expression, where, exc)


def _handler(name: str) -> Callable:
    """``Evaluator.<name>`` as a function of (evaluator, node), a static method included."""
    found = inspect.getattr_static(Evaluator, name)
    if isinstance(found, staticmethod):
        function = found.__func__
        return lambda _evaluator, node: function(node)
    return found


#: The handler of each node type the checker admits (functions of :class:`Evaluator`).
_HANDLERS = {
    ast.Constant: _handler("_eval_constant"),
    ast.Name: Evaluator._eval_name,
    ast.UnaryOp: Evaluator._eval_unaryop,
    ast.BinOp: Evaluator._eval_binop,
    ast.BoolOp: Evaluator._eval_boolop,
    ast.Compare: Evaluator._eval_compare,
    ast.IfExp: Evaluator._eval_ifexp,
    ast.Call: Evaluator._eval_call,
    ast.List: Evaluator._eval_list,
    ast.Tuple: Evaluator._eval_list,
}


def reraise(expression: Expression | None, where: Callable[[], str], exc: Exception) -> NoReturn:
    """Raise what ``exc``, raised while evaluating ``expression``, stands for: an
    :class:`EvaluationError` as it is, a Python error :func:`failure` knows as the error that
    quotes the expression, anything else unchanged. Every place that calls a compiled closure
    directly (here, ``State._compute``, the conditions and aggregate bodies: inlined on purpose,
    they are the hottest paths) shares it from its ``except`` clause, where a call costs nothing
    on the way that does not fail. ``expression`` is None when the error came from no expression
    (it is then left as it is).

    The names are cleared on the way out: the error's traceback holds this frame, and a frame
    that still held the error would make a cycle that only the cyclic collector frees."""
    try:
        if expression is not None and not isinstance(exc, EvaluationError):
            error = failure(expression, where, exc)
            if error is not None:
                raise error from None
        raise exc
    finally:
        exc = error = None


def failure(expression: Expression, where: Callable[[], str],
             exc: Exception) -> EvaluationError | None:
    """The :class:`EvaluationError` a Python error raised while evaluating ``expression``
    stands for, or None for an error that is not the expression's (left to propagate)."""
    if isinstance(exc, RuleFailure):
        return EvaluationError(f"{where()} cannot be decided: {exc}", code=codes.RULE_FAILURE,
                               file=expression.file, line=expression.line,
                               field=expression.field)
    if isinstance(exc, (ZeroDivisionError, DivisionByZero)):
        message = f"divides by zero in `{expression.text}`"
    elif isinstance(exc, (TypeError, NotANumber, InvalidOperation)):
        message = f"cannot compute `{expression.text}`: {_type_message(exc)}"
    elif isinstance(exc, DecimalException):      # Overflow and the rest of decimal's signals
        message = (f"cannot compute `{expression.text}`: the number is out of range "
                   f"({type(exc).__name__})")
    elif isinstance(exc, (ValueError, OverflowError, simpleeval.InvalidExpression)):
        message = f"cannot compute `{expression.text}`: {exc}"
    elif isinstance(exc, RecursionError):
        message = f"nests too deeply while computing `{expression.text}`"
    else:
        return None
    return EvaluationError(f"{where()} {message}.", code=codes.CANNOT_COMPUTE,
                           file=expression.file, line=expression.line, field=expression.field)


def _type_message(exc: Exception) -> str:
    text = str(exc)
    if "NoneType" in text or "None" in text:
        return ("one of its values is empty (None); a fact that was not given or a rule that "
                "gave no value")
    return text.replace("decimal.Decimal", "number").replace("'Decimal'", "number").replace(
        "'str'", "text").replace("'int'", "number").replace("'bool'", "yes/no")
