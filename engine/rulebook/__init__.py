"""From files to a program: `reader` turns one rulebook file into definitions, `compiler` links
every file into one checked `Program`.

``engine.rulebook`` used to be the reader itself; its names (``read``, ``RulebookFile``, ...) are
still found here, with a ``DeprecationWarning``, until callers import ``engine.rulebook.reader``.
"""

from __future__ import annotations

import importlib
import warnings


def __getattr__(name: str) -> object:
    if name.startswith("__"):
        raise AttributeError(name)
    reader = importlib.import_module(f"{__name__}.reader")
    if not hasattr(reader, name):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(f"engine.rulebook.{name} is deprecated; import it from engine.rulebook.reader.",
                  DeprecationWarning, stacklevel=2)
    return getattr(reader, name)
