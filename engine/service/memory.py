"""The rulebooks kept out of the cyclic garbage collector's sight once a worker has loaded them.

A worker holds tens of thousands of long-lived objects (the compiled rulebooks, the modules),
and every evaluation allocates thousands of short-lived ones. Python's collector counts
allocations and, every so often, walks every object it tracks, the rulebooks included, although
they never become garbage: measured on the Jones household, freezing them (``gc.freeze``) takes
4-6% off the CPU of an evaluation and removes the occasional full collection (a pause of
milliseconds in the middle of a request) from the latency tail. See benchmarks/README.md.

Frozen objects are still freed when their reference count drops to zero; only garbage *cycles*
among them would never be collected. So a rulebook reload unfreezes, collects the old set, and
freezes again (:func:`refreeze`).
"""

from __future__ import annotations

import gc


def freeze() -> None:
    """Collect what is garbage now, then move everything alive out of the collector's sight."""
    gc.collect()
    gc.freeze()


def refreeze() -> None:
    """After a reload: let the collector see everything again, collect the set that was
    replaced, and freeze what is alive."""
    gc.unfreeze()
    freeze()
