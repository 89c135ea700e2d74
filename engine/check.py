"""``policy check``: kept so that ``from engine.check import check`` goes on working.

The checks live in the :mod:`engine.checks` package, one module per family of checks.
"""

from __future__ import annotations

from .checks import CheckReport, check, key_columns, reconcile_published

__all__ = ["check", "CheckReport", "reconcile_published", "key_columns"]
