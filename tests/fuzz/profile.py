"""How hard the property tests search: a few seconds by default, much longer at night.

``POLICY_FUZZ=nightly python -m pytest tests/fuzz`` runs each property on 2,000 random examples
(several minutes on two cores); the default, used by ``scripts/test.sh`` and CI, runs a small fixed
set (``derandomize``) so that the suite stays fast and gives the same result on every run.
Failures print the smallest example found; docs/limits.md describes both profiles.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_RELAXED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

PROFILES = {
    "default": settings(max_examples=30, deadline=None, derandomize=True, database=None,
                        suppress_health_check=_RELAXED),
    "nightly": settings(max_examples=2_000, deadline=None, suppress_health_check=_RELAXED),
}

#: The profile in force: POLICY_FUZZ=nightly for the long run.
FUZZ = PROFILES[os.environ.get("POLICY_FUZZ", "default")]


def scaled(examples: int) -> settings:
    """The profile, with ``examples`` examples by default (the nightly profile keeps its own)."""
    if os.environ.get("POLICY_FUZZ", "default") == "default":
        return settings(FUZZ, max_examples=examples)
    return FUZZ
