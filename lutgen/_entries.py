"""Choosing a table's stored integers (its coefficients): ``sample`` and ``minimax``.

The compiler (:mod:`lutgen.table`) fixes the layout -- where the segments lie,
the output format, the guard bits -- and this module chooses the integers stored
in it. Every choice is measured in the exact integer arithmetic of
``docs/ARITHMETIC.md`` (the kernels), never in floating point.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import math

import numpy as np

from . import _kernels as K
from .errors import DomainError, SpecError
from .activations import Asymptote
from .fixedpoint import FixedFormat
from .regions import Regions
from ._reference import EXHAUSTIVE_LIMIT_BITS
from .spec import Fold, Interp

__all__ = ["Layout", "FIT_FINE_BITS", "sample", "minimax", "clip_to_output", "round_half_up",
           "line_constants", "fold_constant", "bits_for", "ACC_LIMIT_BITS", "acc_bits"]

ACC_LIMIT_BITS = 62  # |acc| < 2**62, so +/- a rounding constant stays inside int64

FIT_FINE_BITS = 20  # the minimax objective resolves 2**-20 output LSB


@dataclass(frozen=True)
class Layout:
    """Where a table's entries lie and what they hold: everything but their values."""

    fin: FixedFormat
    fout: FixedFormat
    lo_code: int
    shift: int  # S: segments are 2**S input codes wide
    entries: int
    interp: Interp
    guard: int  # G: extra fraction bits of the stored values
    fold: Fold
    regions: Regions | None = None  # a hierarchical table: shift is SMAX, entries its segments

    @property
    def span(self) -> int:
        """HI - LO."""
        return self.regions.span if self.regions else self.entries << self.shift

    @property
    def hi_code(self) -> int:
        return self.lo_code + self.span

    def knot_offsets(self) -> np.ndarray:
        """``off`` of every knot (linear, nearest); the last is the span."""
        if self.regions:
            return self.regions.knot_offsets()
        return np.arange(self.entries + 1, dtype=np.int64) << self.shift

    def locate(self, off) -> tuple[np.ndarray, np.ndarray]:
        """Linear tables: the knot ``i`` and weight ``w`` (of ``2^shift``) of offsets ``off``."""
        if self.regions:
            return self.regions.locate(off)
        off = np.asarray(off, dtype=np.int64)
        return off >> self.shift, off & ((1 << self.shift) - 1)

    @property
    def frac_stored(self) -> int:
        return self.fout.frac + self.guard

    @property
    def words(self) -> int:
        return self.entries + (0 if self.interp is Interp.NONE else 1)

    @property
    def n_valid(self) -> int:
        """Input codes the table itself serves (its segments inside the format)."""
        return min(self.span, self.fin.max_code + 1 - self.lo_code)


def round_half_up(v: np.ndarray) -> np.ndarray:
    """floor(v + 1/2) exactly (v + 0.5 itself rounds for |v| >= 2^52), as int64."""
    f = np.floor(v)
    return (f + (v - f >= 0.5)).astype(np.int64)


def sample(layout: Layout, f, name: str) -> np.ndarray:
    """The rounded reference at the knots (segment centres for ``none``)."""
    lo, s, n = layout.lo_code, layout.shift, layout.entries
    if layout.interp is Interp.NONE:
        # the centre of each segment's codes: lo + i*2^S + (2^S - 1)/2
        x = layout.fin.codes_to_real(lo + np.arange(n) * 2.0**s + (2.0**s - 1) / 2)
    else:
        x = layout.fin.codes_to_real(lo + layout.knot_offsets().astype(np.float64))
    y = f(x)
    if not np.isfinite(y).all():
        bad = x[~np.isfinite(y)][0]
        raise DomainError(
            f"'{name}' is not finite at x = {bad:g}, a knot of the table; "
            "choose a range that avoids it"
        )
    fout, g = layout.fout, layout.guard
    # entries beyond the output format only saturate: keep one bit of headroom
    lim_lo = (2 * fout.min_code - 1) * 2.0**g
    lim_hi = (2 * fout.max_code + 2) * 2.0**g
    v = np.clip(np.ldexp(fout.real_to_codes(y), g), lim_lo, lim_hi)
    stored = round_half_up(v)
    if fout.is_affine:
        # y / scale is rounded once in float64; where that lands within a hair of a tie the
        # rounding could go either way, so those few are decided in exact arithmetic
        near = np.flatnonzero(np.abs(v - np.floor(v) - 0.5) < 1e-6)
        for i in near:
            exact = (Fraction(float(y[i])) / Fraction(fout.scale) + fout.zero_point) * 2**g
            stored[i] = min(max(math.floor(exact + Fraction(1, 2)), lim_lo), lim_hi)
    return stored


def clip_to_output(values: np.ndarray, layout: Layout, fold_code: int) -> np.ndarray:
    """``none``/``nearest`` entries clipped to what the output can show, outputs unchanged.

    Such an entry is the output (rounded by G bits, then saturated), so a value
    beyond the format only saturates: clipping it to the format's end changes no
    output. With a negating fold the mirror ``F - v`` must saturate alike, so
    the bounds widen to keep it.
    """
    if layout.interp is Interp.LINEAR or layout.fold is Fold.EVEN_LINE:
        return values  # (an even_line fold's entries are not outputs: a * x is added)
    g, fout = layout.guard, layout.fout
    lo, hi = fout.min_code << g, fout.max_code << g
    if layout.fold.negates:
        hi = max(hi, fold_code - lo)
        lo = min(lo, fold_code - (fout.max_code << g))
    return np.clip(values, lo, hi)


def minimax(values, prog, layout: Layout, ref) -> np.ndarray:
    """Entries minimising the max error over every input they serve (never worse than ``values``).

    ``ref(codes)`` is the finite float64 reference at input codes.
    """
    n_valid = layout.n_valid
    if n_valid > 1 << EXHAUSTIVE_LIMIT_BITS:
        raise SpecError(
            f"minimax coefficients are fitted over every input of the range: {n_valid} codes is "
            f"more than 2^{EXHAUSTIVE_LIMIT_BITS}; use --coeffs sample or a narrower range"
        )
    codes = np.arange(layout.lo_code, layout.lo_code + n_valid, dtype=np.int64)
    fine = _fine(ref(codes), layout.fout)
    fine_h = fine  # what the entries themselves must hold
    if layout.fold is Fold.EVEN_LINE:  # the line term a * (x - Z) is added to every entry
        fine_h = fine - ((int(prog[K.P_LINE_M]) * (codes - layout.lo_code))
                         << (FIT_FINE_BITS - int(prog[K.P_LINE_E])))
    if layout.interp is Interp.LINEAR:
        return _minimax_linear(values, prog, layout, fine, fine_h)
    return _minimax_groups(values, layout, fine_h)


def _minimax_groups(values, layout: Layout, fine):
    """none / nearest: each entry serves a group of inputs alone; the best is a rounding
    of the group's mid-range."""
    s, g, fout = layout.shift, layout.guard, layout.fout
    off = np.arange(layout.n_valid)
    group = off >> s if layout.interp is Interp.NONE else (off + ((1 << s) >> 1)) >> s
    gmin = np.full(values.size, np.iinfo(np.int64).max)
    gmax = np.full(values.size, np.iinfo(np.int64).min)
    np.minimum.at(gmin, group, fine)
    np.maximum.at(gmax, group, fine)
    table = values.copy()
    served = gmin <= gmax
    one = 1 << FIT_FINE_BITS
    lo_fine, hi_fine = gmin[served], gmax[served]

    def err(cand):
        return np.maximum(np.abs(cand * one - lo_fine), np.abs(cand * one - hi_fine))

    mid = np.floor_divide(lo_fine + hi_fine, 2 * one)
    cands = [np.clip(c, fout.min_code, fout.max_code) for c in (mid, mid + 1)]
    errs = [err(c) for c in cands]
    best = np.where(errs[1] < errs[0], cands[1], cands[0])
    best_err = np.minimum(errs[0], errs[1])
    # keep the sampled entry where it is as good (never worse, and stable)
    old = np.clip((values[served] + ((1 << g) >> 1)) >> g, fout.min_code, fout.max_code)
    table[served] = np.where(err(old) <= best_err, values[served], best << g)
    return table


def _minimax_linear(values, prog, layout: Layout, fine, fine_h):
    """Joint fit of neighbouring knots: a continuous start, then integer descent.

    The start moves every knot by the mean of the best offsets of the chords on
    either side (each chord's best offset centres its error band); coordinate
    descent in the exact integer arithmetic then settles each knot. The result
    is kept only if its max error over the range is no worse than ``values``.
    """
    s, n_valid = layout.shift, layout.n_valid
    n = values.size - 1
    off = np.arange(n_valid)
    seg, w = layout.locate(off)
    w = w / float(1 << s)
    v = values.astype(np.float64)
    chord = v[seg] + (v[seg + 1] - v[seg]) * w
    dev = np.ldexp(fine_h.astype(np.float64), layout.guard - FIT_FINE_BITS) - chord
    starts = layout.knot_offsets()[:-1]
    starts = starts[starts < n_valid]
    used = seg.max() + 1
    centre = np.zeros(n)
    centre[:used] = (np.maximum.reduceat(dev, starts) + np.minimum.reduceat(dev, starts)) / 2
    left = np.concatenate(([centre[0]], centre))
    right = np.concatenate((centre, [centre[-1]]))
    table = np.floor(v + (left + right) / 2 + 0.5).astype(np.int64)
    K.fit_linear_minimax(table, prog, fine, FIT_FINE_BITS, n_valid, 2, 400)
    n_seg = starts.size  # the segments that serve inputs
    if (_max_fine_error(table, prog, fine, n_valid, n_seg)
            > _max_fine_error(values, prog, fine, n_valid, n_seg)):
        return values
    return table


def _max_fine_error(table, prog, fine, n_valid, n_seg):
    """Max error over the first ``n_seg`` segments, in output LSBs times 2**FIT_FINE_BITS
    (both halves)."""
    return max(K.segment_error(table, prog, fine, FIT_FINE_BITS, seg, n_valid)[0]
               for seg in range(n_seg))


def _fine(y, fout: FixedFormat) -> np.ndarray:
    """Reference in output LSBs times 2**FIT_FINE_BITS, rounded, kept inside int64."""
    span = 1 << 20
    scaled = np.ldexp(fout.real_to_codes(y), FIT_FINE_BITS)
    lo = float((fout.min_code - span) << FIT_FINE_BITS)
    hi = float((fout.max_code + span) << FIT_FINE_BITS)
    return round_half_up(np.clip(scaled, lo, hi))


def line_constants(asym: Asymptote, fin: FixedFormat, fout: FixedFormat, guard: int):
    """Integers M, C, K with ``acc = u*M + C``, ``y = round_shift(acc, K)`` following ``asym``.

    The line in output codes is ``a * u + b`` with ``a = slope * in_scale / out_scale``
    and ``b = intercept / out_scale + out_zp - a * in_zp`` (for power-of-two formats
    ``slope * 2^(fo - fi)`` and ``intercept * 2^fo``). K is the smallest value >= guard that makes M exact (a dyadic slope: a shift
    in hardware), or, for other slopes, the smallest that keeps the rounding of M
    below 2^-4 output LSB over every input (a short constant multiplier).
    """
    slope, intercept = float(asym.slope), float(asym.intercept)
    # u may be -min_code after folding, 2Z - min_code about a zero point Z
    x_bits = fin.bits + (2 if fin.zero_point else 1)
    m_budget = ACC_LIMIT_BITS - 3 - x_bits  # leaves room for C, the rounding and the unfold
    k = guard
    a = slope * (fin.lsb / fout.lsb)  # exact for power-of-two formats
    b = float(fout.real_to_codes(intercept)) - a * fin.zero_point
    if a != 0.0:
        base = 0
        mant, exp = math.frexp(abs(a))  # a = mant * 2^exp, 0.5 <= mant < 1
        # bits of M at shift k: exp + base + k; make M exact if that fits
        num = mant
        tz = 53
        while tz > 0 and num * 2 ** (tz - 1) == math.floor(num * 2 ** (tz - 1)):
            tz -= 1
        k_exact = max(guard, tz - exp - base)
        # enough bits that the rounding of M moves the line by < 2^-4 LSB over every input
        # (|u| < 2^(x_bits-1), |dM| <= 1/2: the line moves by < 2^(x_bits - 2 - K) codes)
        k_enough = max(guard, x_bits + 2)
        k = min(k_exact, k_enough)
        if exp + base + k > m_budget:
            k = max(guard, m_budget - exp - base)
    m = math.floor(math.ldexp(a, k) + 0.5)
    c = math.floor(math.ldexp(b, k) + 0.5)
    if abs(c) >= 1 << (ACC_LIMIT_BITS - 2):
        raise SpecError("the asymptote's intercept does not fit the accumulator; use --tails clamp")
    return int(m), int(c), int(k)


def fold_constant(center: float, fout: FixedFormat, guard: int) -> int:
    """F: twice the output code of the centre, with G guard bits (docs/ARITHMETIC.md, step 5)."""
    scaled = 2.0 * math.ldexp(float(fout.real_to_codes(center)), guard)
    if scaled != math.floor(scaled) or abs(scaled) >= 2.0**61:
        if fout.is_affine:
            raise SpecError(
                f"the fold centre {center:g} lies between two codes of {fout} (code "
                f"{float(fout.real_to_codes(center)):g}): the mirrored half cannot be exact; "
                "drop --fold or choose an output scale that makes it a code or a half code"
            )
        raise SpecError(f"the fold centre {center:g} is not representable with "
                        f"{fout.frac + guard} fraction bits")
    return int(scaled)


def bits_for(v: int, signed: bool) -> int:
    """Word bits to hold ``v`` in two's complement (signed) or unsigned."""
    if signed:
        return (v.bit_length() if v >= 0 else (~v).bit_length()) + 1
    return max(1, v.bit_length())


def acc_bits(values, layout: Layout, tails, fold_code) -> int:
    """Bits of the widest ``acc`` (docs/ARITHMETIC.md, "Widths"); a SpecError beyond 62.

    ``tails``: the two sides' :class:`~lutgen.table.Tail` (or None).
    """
    shift, interp, guard = layout.shift, layout.interp, layout.guard
    lines = [t for t in tails if t is not None and t.is_line]
    vmax = int(np.abs(values).max()) if values.size else 0
    if interp is Interp.LINEAR:
        bound = (vmax << shift) + 2 * vmax * (1 << shift)
    else:
        bound = vmax
    fin = layout.fin
    xmax = max(abs(fin.min_code), abs(fin.max_code), abs(2 * fin.zero_point - fin.min_code)) + 1
    for tail in lines:
        bound = max(bound, xmax * abs(tail.m) + abs(tail.c))
    r_max = max([guard + (shift if interp is Interp.LINEAR else 0)] + [t.k for t in lines])
    bound += abs(fold_code) << (r_max - guard)
    bound += 1 << max(r_max - 1, 0)
    bits = bound.bit_length() + 1
    if bits > ACC_LIMIT_BITS:
        raise SpecError(
            f"this table needs a {bits}-bit accumulator, more than {ACC_LIMIT_BITS}; "
            "use fewer guard bits, narrower formats or more entries"
        )
    return bits
