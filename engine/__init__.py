"""A small, safe interpreter for policy rulebooks written as data.

The public API is :class:`Engine` (load rulebooks once, evaluate many cases) and the error
classes, all subclasses of :class:`PolicyError`. See ``docs/embedding.md``.
"""

from . import compat
from .api import Case, Engine
from .errors import (CaseError, CompileError, EvaluationError, InputError, PolicyError, Problem,
                     SchemaError)
from .runtime.results import Evaluation, Result

__all__ = ["Engine", "Case", "Evaluation", "Result", "PolicyError", "InputError", "SchemaError",
           "CompileError", "EvaluationError", "CaseError", "Problem"]
__version__ = "0.1.0"

compat.install()


def __getattr__(name: str) -> object:
    """Old module names as attributes of ``engine`` (deprecated; see :mod:`engine.compat`)."""
    return compat.moved_attribute(name)
