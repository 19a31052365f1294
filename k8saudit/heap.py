"""Keeping Python's cyclic garbage collector off the inventory.

An inventory is millions of small dicts, lists and strings parsed from JSON: trees that never
form reference cycles, so reference counting frees them and the cyclic collector can only waste
time on them. Left alone, it walks every object collected so far again and again while a scan
grows the heap (more than half of the collection time of a 10,000-pod cluster), then again on
every full collection while the report is browsed, and once more when the process exits.

- `gc_paused()` around code that builds many acyclic objects (parsing pages, loading a snapshot,
  running checks): no collection runs inside it.
- `settle()` once a large structure is built, still inside `gc_paused()`: everything alive moves
  to the collector's permanent generation, which no later collection scans. (Outside, the first
  allocation after the pause would trigger a collection of everything allocated during it.)
  The objects are still freed by reference counting when dropped (a rescan replaces the
  inventory); only cyclic garbage alive at that moment stays until the process ends, and a scan
  leaves little of it. So a frozen cycle must not hold on to a report: the UI's screens are
  cycles, alive at every freeze while the next report is built, and let go of their report when
  removed (`screens.base`); nothing cached per inventory may refer back to it
  (`checks.exposure_index`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection inside the block; the previous state comes back after it (nests)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def settle() -> None:
    """Exempt every object alive now from later cyclic collections (see the module docstring)."""
    gc.freeze()
