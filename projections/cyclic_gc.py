"""Python's cyclic garbage collector, paused while views catch up.

Why: a catch-up makes objects by the hundred thousand (a Change per event, rows, parsed fields) and frees
them a batch later, and the collector, triggered by those allocations, walked the whole heap again and
again (14 full collections over 100,000 events: a tenth to a sixth of the catch-up's time) to find almost
nothing (74 objects in cycles over that run). Reference counting still frees everything else at once,
and the collector runs as before as soon as the catch-up is over.

The pause is process-wide, so it is counted: two catch-ups in two threads resume the collector when the
last one ends, and a collector that was off before stays off.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pausing = 0  # catch-ups running now
_was_enabled = False  # the collector's state when the first of them began


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while inside (reference counting frees objects as usual)."""
    global _pausing, _was_enabled
    with _lock:
        if _pausing == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _lock:
            _pausing -= 1
            if _pausing == 0 and _was_enabled:
                gc.enable()
