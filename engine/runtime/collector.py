"""Python's cyclic garbage collector paused around work that makes many objects alive at once.

Loading the rulebooks and evaluating a batch each allocate hundreds of thousands of objects that
stay alive for the whole block (rulebook definitions; a chunk's values, lists and results).
Every allocation counts towards a collection, so with the collector on it runs again and again
during such a block, each time walking everything alive: measured as about a third of a load
from the cache and more than half of the columnar plan's time. Neither block makes garbage
cycles worth collecting before it ends (a ``policy batch`` chunk leaves none at all once its
lines are written), so the collector is paused for it and switched back on (if it was on) at
its end, when it collects whatever it would have.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused_collector() -> Iterator[None]:
    """Run a block with the cyclic collector paused; as it was before, after. Nested blocks and
    blocks in other threads leave it to the outermost block that paused it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
