"""Every code ``policy check`` reports, with a one-line description (kept for older imports).

The codes are stable: CI annotations, SARIF rule ids and scripts rely on them. ``E`` codes are
errors (``policy check`` exits 1), ``W`` codes are warnings (reported, exit 0). The families
before 500 come from reading, validating and compiling rulebooks (``engine/errors/``); the
5xx family is the semantic checks of this package.
"""

from __future__ import annotations

from ..errors.codes import REGISTRY

#: code -> (short name, description), for every code the engine reports (the registry is
#: :mod:`engine.errors.codes`; this view is what the reporters and the SARIF rules read).
CODES: dict[str, tuple[str, str]] = {c.code: (c.name, c.title) for c in REGISTRY.values()}


def describe(code: str) -> str:
    entry = CODES.get(code)
    return entry[1] if entry else "A problem found by policy check."


def short_name(code: str) -> str:
    entry = CODES.get(code)
    return entry[0] if entry else code.lower()
