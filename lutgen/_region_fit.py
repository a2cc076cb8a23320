"""Choosing the segment shifts of a hierarchical table (for the budget search).

For one range split into ``n`` regions of ``2^RB`` codes, :class:`ShiftChooser`
decides exactly (the dynamic program of :mod:`lutgen._faithful`) whether integer
knots keep every input within the budget for a given tuple of shifts, region by
region or for the whole table, optionally in a given word range. The intervals
are computed once, at ``R = G + RB``: a table whose largest shift is below
``RB`` rounds the same integers (``round_shift(a << k, R + k) = round_shift(a, R)``),
so one set of intervals serves every tuple of shifts.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import _kernels_faithful as KF
from ._entries import Layout
from ._faithful import Problem, knot_windows, word_ranges
from .regions import Regions

__all__ = ["ShiftChooser"]


class ShiftChooser:
    """Feasible shifts for the regions of ``layout`` (a table with every shift 0).

    ``dense`` are that table's sampled values: one knot per input offset, so the
    sampled value of any knot of any layout of these regions is ``dense[offset]``.
    ``ref_every`` is the float64 reference at every input code, ``budget`` in LSB.
    """

    def __init__(self, dense, prog, layout: Layout, ref_every, budget: float, offset: int = 0):
        self.offset = int(offset)  # words hold knot - offset (a negating fold's centre E)
        self.rb = layout.regions.granule_bits
        self.n = layout.regions.n
        self.guard = layout.guard
        virtual = dataclasses.replace(layout, shift=self.rb)  # R = G + RB for every layout
        self.problem = Problem(dense, prog, virtual, ref_every)
        self.klo, self.khi = self.problem.intervals(min(budget, 1.0))
        self.centre = self.problem.centre

    def _check(self, knot_off, seg_shift, word, pin_last: bool) -> int:
        """The dynamic program over knots at offsets ``knot_off`` (segment ``k`` between knots
        ``k`` and ``k + 1``, ``2^seg_shift[k]`` codes): -1 if feasible, else the first knot
        (index into ``knot_off``) no value reaches. ``pin_last``: the last knot starts a
        segment of the table (its ``w = 0`` input pins it too)."""
        seg_start = np.ascontiguousarray(knot_off[:-1])
        pins = knot_off if pin_last else seg_start
        lo, hi, _ = knot_windows(self.klo, self.khi, pins, self.centre[knot_off], self.rb,
                                 self.guard)
        if word is not None:  # a stored word range: knots = words + offset
            lo = np.maximum(lo, word[0] + self.offset)
            hi = np.minimum(hi, word[1] + self.offset)
        bad = np.flatnonzero(lo > hi)
        if bad.size:
            return int(bad[0])
        size = hi - lo + 1
        starts = np.zeros(size.size + 1, dtype=np.int64)
        np.cumsum(size, out=starts[1:])
        reach = np.zeros(int(starts[-1]), dtype=np.uint8)
        k = KF.faithful_forward(self.klo, self.khi, seg_start, seg_shift, self.rb, lo, hi, starts,
                               reach)
        return int(k)

    def stuck(self, shifts, word=None, region=None) -> int:
        """-1 if integer knots exist (in ``word = (lo, hi)`` if given; over region ``region``
        alone if given), else the first knot no value reaches."""
        if region is not None:
            sr, rb = shifts[region], self.rb
            count = 1 << (rb - sr)
            knot_off = (region << rb) + (np.arange(count + 1, dtype=np.int64) << sr)
            k = self._check(knot_off, np.full(count, sr, dtype=np.int64), word,
                            region + 1 < self.n)
            return -1 if k < 0 else Regions(rb, tuple(shifts)).bases[region] + k
        regions = Regions(self.rb, tuple(shifts))
        return self._check(regions.knot_offsets(), regions.segment_shifts(), word, False)

    @property
    def span(self) -> int:
        """The offsets the intervals cover (the dense table's span)."""
        return int(self.klo.size)

    def feasible_run(self, start: int, shift: int, limit: int, word=None) -> int:
        """How many segments of ``2^shift`` codes from offset ``start`` (ending by ``limit``)
        integer knots keep within the budget as one region on its own (exactly)."""
        count = (min(limit, self.span) - start) >> shift
        if count <= 0:
            return 0
        knot_off = start + (np.arange(count + 1, dtype=np.int64) << shift)
        k = self._check(knot_off, np.full(count, shift, dtype=np.int64), word,
                        int(knot_off[-1]) < self.span)
        return count if k < 0 else max(0, k - 1)

    def layout_stuck(self, regions: Regions, word=None) -> int:
        """-1 if integer knots exist for ``regions`` (any form), else the first stuck knot."""
        return self._check(regions.knot_offsets(), regions.segment_shifts(), word, False)

    def region_of(self, shifts, knot: int) -> int:
        """The region whose segments end at ``knot`` (the one before it at a boundary)."""
        bases = Regions(self.rb, tuple(shifts)).bases
        return max(0, int(np.searchsorted(bases, knot, side="left")) - 1)

    def choose(self, word=None, cap=None) -> tuple[int, ...] | None:
        """The largest shift per region that stays feasible (each at most ``cap[r]``), then
        lowered region by region until the whole table is; None if even shift 0 fails."""
        cap = cap or (self.rb,) * self.n
        shifts = [0] * self.n
        for r in range(self.n):
            for s in range(cap[r], -1, -1):
                trial = shifts[:r] + [s] + shifts[r + 1:]
                if self.stuck(trial, word, region=r) < 0:
                    shifts[r] = s
                    break
            else:
                return None
        for _ in range(self.n * (self.rb + 1)):
            k = self.stuck(shifts, word)
            if k < 0:
                return tuple(shifts)
            r = self.region_of(shifts, k)
            while r >= 0 and shifts[r] == 0:
                r -= 1
            if r < 0:
                return None
            shifts[r] -= 1
        return None

    def narrowest(self, shifts) -> tuple[int, tuple[int, int]] | None:
        """The narrowest word (bits, (lo, hi)) in which ``shifts`` (equal regions' shifts,
        or :class:`Regions`) stay feasible."""
        regions = shifts if isinstance(shifts, Regions) else Regions(self.rb, tuple(shifts))
        knot_off = regions.knot_offsets()
        lo, hi, empty = knot_windows(self.klo, self.khi, np.ascontiguousarray(knot_off[:-1]),
                                     self.centre[knot_off], self.rb, self.guard)
        if empty >= 0 or (lo > hi).any():
            return None
        for bits, _signed, lo_w, hi_w in word_ranges(lo - self.offset, hi - self.offset):
            if bits > 40:
                return None
            if self.layout_stuck(regions, (lo_w, hi_w)) < 0:
                return bits, (lo_w, hi_w)
        return None

    def words_below(self, bits: int):
        """The word ranges of ``bits`` bits: unsigned first when every sampled knot is >= 0."""
        if (self.centre >= self.offset).all():
            yield 0, (1 << bits) - 1
        yield -(1 << (bits - 1)), (1 << (bits - 1)) - 1
