"""Split a long element-wise kernel call between this thread and one helper thread.

The kernels release the GIL (``nogil=True``), so two Python threads run them on two
cores. Work is handed out in fixed chunks from a shared counter: a core that is busy
with something else simply takes fewer chunks, so a call is never held up waiting
for a slow half. Below ``min_size`` elements, or on one core, the kernel runs once
on the calling thread: starting the helper costs ~30 us, which only pays on long
inputs (scripts/bench.py measures where: a 16-bit look-up gains from ~2^18 inputs).
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

# chunk size: ~30 us of a look-up, ~200 us of the arithmetic kernel; small enough
# that an unlucky last chunk barely delays the call
CHUNK = 1 << 16

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _helper() -> ThreadPoolExecutor | None:
    """The one helper thread (started on first use), or None on a one-core machine."""
    global _pool
    if _pool is None and _cores() > 1:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lutgen")
    return _pool


def run_checked(kernel, x, args, out, min_size: int) -> int:
    """``kernel(x, *args, out)`` over all of ``x``, split into chunks when it is long.

    ``kernel`` writes ``out[n]`` from ``x[n]`` and returns the position of the
    first bad input or -1. Returns the first bad position over the whole input
    (other chunks may be written meanwhile; callers document ``out`` as partly
    written then), or -1.
    """
    n = x.shape[0]
    pool = _helper() if n >= min_size else None
    if pool is None:
        return int(kernel(x, *args, out))
    starts = itertools.count(0, CHUNK)  # next() is atomic under the GIL

    def work() -> int:
        first = -1
        for s in starts:
            if s >= n:
                break
            bad = kernel(x[s:s + CHUNK], *args, out[s:s + CHUNK])
            if bad >= 0 and first < 0:
                first = s + bad
        return first

    other = pool.submit(work)
    mine = work()
    theirs = other.result()
    bad = [v for v in (mine, theirs) if v >= 0]
    return min(bad) if bad else -1
