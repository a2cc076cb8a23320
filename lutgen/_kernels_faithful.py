"""Numba kernels of the faithful dynamic program (``docs/ARITHMETIC.md``, ``faithful``).

A second kernel module beside :mod:`lutgen._kernels` (same decorator, same rules:
integer arrays and plain ints only, never ``fastmath``): the knots of a linear
table, uniform or hierarchical, are searched over bounded windows for integers
that keep every input's accumulator inside its interval.
"""

from __future__ import annotations

import numpy as np

from ._kernels import jit, jit_inline

# ---- faithful fitting -----------------------------------------------------------------
FAITHFUL_BIG = np.int64(1) << 60  # an unbounded side of an accumulator interval


@jit_inline
def _next_knot_bounds(lo_c, hi_c, seg_start, seg_shift, smax, k, a):
    """The values of knot ``k + 1`` that keep segment ``k``'s inputs inside their intervals
    when knot ``k`` is ``a``: ``lo_c[off] <= a*(2^SMAX - w') + b*w' <= hi_c[off]`` for every
    input ``off = seg_start[k] + w`` (``w >= 1``) of the segment, ``w' = w << (SMAX -
    seg_shift[k])``. Widest intermediate: ``a * 2^SMAX`` plus an interval end (< 2^61)."""
    big = FAITHFUL_BIG
    blo = -big
    bhi = big
    base = seg_start[k]
    sk = seg_shift[k]
    width = np.int64(1) << smax
    step = smax - sk
    for w in range(1, np.int64(1) << sk):
        wp = np.int64(w) << step
        c = a * (width - wp)
        lo = lo_c[base + w]
        hi = hi_c[base + w]
        if lo > -big:
            t = -((c - lo) // wp)  # ceil((lo - c) / w')
            if t > blo:
                blo = t
        if hi < big:
            t = (hi - c) // wp  # floor
            if t < bhi:
                bhi = t
    return blo, bhi


@jit
def faithful_forward(lo_c, hi_c, seg_start, seg_shift, smax, win_lo, win_hi, starts, reach):
    """Which values each knot can take with every earlier segment's inputs kept inside
    their accumulator intervals: ``reach[starts[k] + v - win_lo[k]] = 1``.

    ``lo_c``/``hi_c`` are indexed by input offset; segment ``k`` starts at offset
    ``seg_start[k]`` and is ``2^seg_shift[k]`` codes wide (``w = 0`` is folded into
    the windows by the caller). Returns the first knot no value reaches, or -1 when
    the last knot is reachable (the problem is feasible). Widest intermediate:
    see :func:`_next_knot_bounds`.
    """
    n_knots = win_lo.shape[0]
    for v in range(starts[0], starts[1]):
        reach[v] = 1
    for k in range(n_knots - 1):
        size_next = win_hi[k + 1] - win_lo[k + 1] + 1
        diff = np.zeros(size_next + 1, dtype=np.int64)
        marked = False
        for j in range(starts[k + 1] - starts[k]):
            if reach[starts[k] + j] == 0:
                continue
            blo, bhi = _next_knot_bounds(lo_c, hi_c, seg_start, seg_shift, smax, k,
                                         win_lo[k] + j)
            lo = max(blo, win_lo[k + 1]) - win_lo[k + 1]
            hi = min(bhi, win_hi[k + 1]) - win_lo[k + 1]
            if lo <= hi:
                diff[lo] += 1
                diff[hi + 1] -= 1
                marked = True
        if not marked:
            return k + 1
        run = np.int64(0)
        for j in range(size_next):
            run += diff[j]
            reach[starts[k + 1] + j] = 1 if run > 0 else 0
    return -1


@jit
def faithful_backtrack(lo_c, hi_c, seg_start, seg_shift, smax, win_lo, win_hi, starts, reach,
                       centre, out):
    """One solution of a feasible :func:`faithful_forward`, last knot first: each knot the
    reachable value nearest ``centre[k]`` (ties: the smaller magnitude) that reaches the
    knot already chosen after it."""
    n_knots = win_lo.shape[0]
    for k in range(n_knots - 1, -1, -1):
        best = np.int64(0)
        found = False
        for j in range(starts[k + 1] - starts[k]):
            if reach[starts[k] + j] == 0:
                continue
            v = win_lo[k] + j
            if k < n_knots - 1:
                blo, bhi = _next_knot_bounds(lo_c, hi_c, seg_start, seg_shift, smax, k, v)
                if out[k + 1] < blo or out[k + 1] > bhi:
                    continue
            if not found:
                best = v
                found = True
            else:
                d_new = abs(v - centre[k])
                d_old = abs(best - centre[k])
                if d_new < d_old or (d_new == d_old and abs(v) < abs(best)):
                    best = v
        out[k] = best
    return out
