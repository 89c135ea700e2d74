"""Marks made while a value is computed: which parts of what it read decided it.

Evaluation appends every record it reads to the frame of the value being computed
(``State.frame``). Where only part of a frame decides, the code that knows it (a boolean operator,
``min``/``max``, a body) adds a *mark* to ``State.marks``: a range of frame positions to leave out
(``SKIP``) or the range that the branch giving the value read (``TAKEN``; the rest, not skipped,
is what made earlier branches fail). Both evaluators (the compiled closures and simpleeval's tree
walk) record the same marks; :mod:`engine.runtime.deciding` turns them into deciding citations.
"""

from __future__ import annotations

import ast

from .builtins import BUILTINS

#: Kinds of marks: frame positions that did not decide, and the positions the taken branch read.
SKIP = 0
TAKEN = 1

#: Built-ins whose value is one of their arguments: only that argument decides.
SELECTORS = frozenset({BUILTINS["min"].function, BUILTINS["max"].function})



# --------------------------------------------------------------------------------------------
# Recording (called while a value is computed)
# --------------------------------------------------------------------------------------------

def skip(state, start: int, end: int) -> None:
    """Frame positions ``start`` to ``end`` (exclusive) did not decide the value being computed."""
    if start < end:
        marks = state.marks
        if marks is None:
            state.marks = [(SKIP, start, end)]
        else:
            marks.append((SKIP, start, end))


def take(state, start: int, end: int | None = None) -> None:
    """Frame positions ``start`` to ``end`` (None: the end of the frame) are what the branch that
    gave the value read; the other positions not skipped made earlier branches fail."""
    marks = state.marks
    if marks is None:
        state.marks = [(TAKEN, start, end)]
    else:
        marks.append((TAKEN, start, end))


def keep_chosen(state, bounds: list[int], values: list, result) -> None:
    """After ``min``/``max`` of several arguments: only the argument that gave ``result`` decides
    (the first of equal ones, as Python's ``min`` and ``max`` return). ``bounds`` holds the frame
    length before each argument and after the last."""
    index = values.index(result)
    skip(state, bounds[0], bounds[index])
    skip(state, bounds[index + 1], bounds[-1])


def may_cite(node: ast.AST) -> bool:
    """Whether evaluating a resolved expression tree can read a value that has citations (a
    parameter, a rule or a function). Facts, arguments, ``as_of``, ``in_force`` and built-ins
    over such values cannot, so marks around them are never needed."""
    if isinstance(node, ast.Constant):
        return False
    if isinstance(node, ast.Name):
        return getattr(getattr(node, "ref", None), "cites", True)
    if isinstance(node, ast.Call):
        ref = getattr(node, "ref", None)
        if getattr(node, "lazy", False):
            return getattr(ref, "cites", True)
        if getattr(ref, "builtin", None) is not None:
            return any(may_cite(arg) for arg in node.args)
        return True
    return any(may_cite(child) for child in ast.iter_child_nodes(node))
