"""Slow, obviously right references for the tests: ``docs/ARITHMETIC.md`` in Python ints.

Written from the document, step by step, not from ``lutgen/_kernels.py``: it reads
only a table's documented fields (``lo_code``, ``shift``, ``entries``, ``interp``,
``guard_bits``, ``fold``, ``fold_f``, ``fold_e``, ``fold_lm``, ``fold_le``, ``tails``,
``values``, the formats), never
``prog``. Python ints do not overflow and ``//`` floors, so every step is the
exact integer of the document; rounding goes through :class:`fractions.Fraction`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np


HALF = Fraction(1, 2)


def round_half_up(value: Fraction) -> int:
    """The integer nearest ``value``, ties toward +inf."""
    return math.floor(value + HALF)


def round_shift(acc: int, r: int) -> int:
    """``round_shift(a, r)`` of the document: ``a / 2^r`` rounded to nearest, ties up."""
    return round_half_up(Fraction(acc, 2**r))


def saturate(table, y: int) -> int:
    return min(max(y, table.out_format.min_code), table.out_format.max_code)


@dataclass(frozen=True)
class Trace:
    """What the pipeline computed for one input code."""

    path: str  # "table" or "line"
    acc: int  # after the unfold, before rounding
    r: int  # the final shift R
    unsaturated: int  # round_shift(acc, R)
    y: int  # the output code


def trace(table, x) -> Trace:
    """Steps 1-6 of ``docs/ARITHMETIC.md`` for input code ``x``."""
    fin = table.in_format
    x = int(x)
    if not fin.min_code <= x <= fin.max_code:
        raise ValueError(f"{x} is not a code of {fin}")
    t = [int(v) for v in table.values]
    lo, s, n, g = table.lo_code, table.shift, table.entries, table.guard_bits
    hi = lo + n * 2**s
    interp = table.interp.value
    regions = getattr(table, "regions", None)
    if regions is not None:
        # hierarchical ("regions"): region r is C_r segments of 2^S_r codes from offset
        # START[r] (equal regions: C_r = 2^(RB - S_r), START[r] = r * 2^RB), its first knot
        # BASE[r] = C_0 + ... + C_(r-1); SMAX the largest shift
        assert interp == "linear", "regions are linear only"
        rb, shifts = regions.granule_bits, list(regions.shifts)
        assert 1 <= len(shifts) <= 16
        if rb is not None:
            assert all(0 <= sr <= rb for sr in shifts)
            counts = [2 ** (rb - sr) for sr in shifts]
        else:
            counts = list(regions.seg_counts)
        starts = [sum(c * 2**q for c, q in zip(counts[:r], shifts[:r]))
                  for r in range(len(shifts))]
        assert all(a % 2**sr == 0 for a, sr in zip(starts, shifts)), "aligned regions"
        bases = [sum(counts[:r]) for r in range(len(shifts))]
        smax = max(shifts)
        hi = lo + starts[-1] + counts[-1] * 2 ** shifts[-1]
        assert len(t) == bases[-1] + counts[-1] + 1, "the chained knots"
    else:
        assert len(t) == (n if interp == "none" else n + 1), "N words for none, N + 1 knots else"

    # 1. fold
    fold = table.fold.value  # "none", "odd", "point" or "even"
    if fold == "none":
        u, neg = x, False
    else:
        assert fold in ("odd", "point", "even", "even_line")
        z = fin.zero_point  # the code of real 0: 0 for power-of-two formats
        assert lo == z, "a folded table starts at the code of real 0 (LO = Z)"
        u = 2 * z - x if x < z else x  # the mirror image about z
        neg = x < z and fold in ("odd", "point")

    # 2. path selection
    path = "table"
    if u < lo or u >= hi:
        side = table.tails[0] if u < lo else table.tails[1]
        assert side is not None, f"input {x} lies in a tail the table says has no inputs"
        if side.mode == "clamp":
            u = lo if u < lo else hi - 1
        else:
            assert side.mode == "asymptote", side
            path = "line"

    if path == "table" and regions is not None:
        # 3h. the hierarchical table path
        off = u - lo
        assert 0 <= off < hi - lo
        if rb is not None:  # equal regions: the top bits
            r = off // 2**rb
        else:  # counted regions (3h'): how many of START[1..n-1] are <= off
            r = sum(1 for a in starts[1:] if off >= a)
        o = off - starts[r]
        sr = shifts[r]
        i, w = bases[r] + o // 2**sr, o % 2**sr
        wp = w * 2 ** (smax - sr)
        acc, r = t[i] * 2**smax + (t[i + 1] - t[i]) * wp, g + smax
    elif path == "table":
        # 3. table path
        off = u - lo
        assert 0 <= off < n * 2**s
        i, w = off // 2**s, off % 2**s
        if interp == "none":
            acc, r = t[i], g
        elif interp == "nearest":
            j = i if s == 0 else (off + 2 ** (s - 1)) // 2**s
            assert 0 <= j <= n
            acc, r = t[j], g
        else:
            # the document's second form: T[i] * (2^S - w) + T[i+1] * w
            acc, r = t[i] * (2**s - w) + t[i + 1] * w, g + s
    else:
        # 4. line path
        m, c, k = side.m, side.c, side.k
        assert k >= g, "the document requires K >= G"
        acc, r = u * m + c, k

    # 5. unfold: the stored centre E comes back on every input of a negating fold; an
    # even_line fold adds its line term a * (x - Z) = LM * 2^-LE * (x - Z) output codes
    e = table.fold_e
    if fold in ("odd", "point"):
        assert e in (0, Fraction(table.fold_f, 2)), "E is F/2 or 0"
        acc = (table.fold_f - e) * 2 ** (r - g) - acc if neg else acc + e * 2 ** (r - g)
    else:
        assert e == 0, "only a negating fold stores a centre"
    if fold == "even_line":
        assert r >= table.fold_le, "the compiler makes R >= LE on every path"
        acc = acc + table.fold_lm * (x - fin.zero_point) * 2 ** (r - table.fold_le)
    else:
        assert table.fold_lm == 0

    # 6. round once and saturate
    unsat = round_shift(acc, r)
    return Trace(path, acc, r, unsat, saturate(table, unsat))


def naive_eval(table, x) -> int:
    """The output code of input code ``x``."""
    return trace(table, x).y


def naive_eval_codes(table, codes) -> np.ndarray:
    return np.array([naive_eval(table, c) for c in codes], dtype=np.int64)


# ---- the reference and errors, exactly -------------------------------------------------------
def reference_codes(table, codes) -> np.ndarray:
    """The float64 reference of the tabulated function at input codes (array)."""
    spec = table.spec
    act = spec.act  # the registry's, or the spec's own expression
    fin = table.in_format
    if fin.is_affine:  # real = scale * (code - zero_point): one correctly rounded product
        x = fin.scale * (np.asarray(codes, dtype=np.float64) - fin.zero_point)
    else:
        x = np.ldexp(np.asarray(codes, dtype=np.float64), -fin.frac)  # exact: dyadic
    with np.errstate(all="ignore"):  # overflow to inf is a reference value like any other
        y = act.evaluate(x, spec.params_dict, derivative=spec.derivative)
    return y[spec.output] if act.n_outputs > 1 else y


def reference_at(table, x_code) -> float:
    """The reference at one (possibly half-integer) code ``x_code``."""
    return float(reference_codes(table, [float(Fraction(x_code))])[0])


def output_code(fmt, value) -> Fraction:
    """A real value as an exact (unrounded) output code: ``value / scale + zero_point``."""
    if fmt.is_affine:
        return Fraction(value) / Fraction(fmt.scale) + fmt.zero_point
    return Fraction(value) * Fraction(2) ** fmt.frac


def exact_lsb(table, ref: float) -> Fraction | None:
    """A float64 reference value in output LSBs (as an output code), exactly (None where it
    is not finite)."""
    if not math.isfinite(ref):
        return None
    return output_code(table.out_format, ref)


def reference_lsb(table, x_code: int) -> Fraction | None:
    """The reference in output LSBs, exactly (None where it is not finite)."""
    return exact_lsb(table, reference_at(table, int(x_code)))


def naive_error_lsb(table, x_code: int, y: int | None = None) -> Fraction | None:
    """``|y - reference|`` in output LSBs, exactly; ``y`` defaults to :func:`naive_eval`."""
    ref = reference_lsb(table, x_code)
    if ref is None:
        return None
    if y is None:
        y = naive_eval(table, x_code)
    return abs(int(y) - ref)


def best_code(table, x_code: int) -> int | None:
    """The best any table can do: the reference rounded half up, saturated."""
    ref = reference_lsb(table, x_code)
    return None if ref is None else saturate(table, round_half_up(ref))


# ---- fitting ----------------------------------------------------------------------------------
def sample_points(table) -> list[Fraction]:
    """The input codes (exact, possibly half-integers) the ``sample`` fit evaluates.

    Knots ``LO + k 2^S`` for ``nearest`` and ``linear``; segment centres
    ``LO + i 2^S + (2^S - 1)/2`` (the middle of the segment's codes) for ``none``.
    """
    lo, s, n = table.lo_code, table.shift, table.entries
    if table.interp.value == "none":
        return [lo + i * 2**s + Fraction(2**s - 1, 2) for i in range(n)]
    return [Fraction(lo + k * 2**s) for k in range(n + 1)]


def naive_sample_values(table) -> list[int | None]:
    """The ``sample`` fit: the reference at each point as an output code with G guard bits,
    rounded half up, as stored: minus a negating fold's centre E; an even_line fold stores
    ``f(x) - a*x`` (``a*x`` is ``LM * 2^-LE * (x - Z)`` output codes, exactly).

    None where the reference is not finite.
    """
    guard = Fraction(2) ** table.guard_bits
    out = []
    for p in sample_points(table):
        y = reference_at(table, p)
        if not math.isfinite(y):
            out.append(None)
            continue
        code = output_code(table.out_format, y)
        if table.fold.value == "even_line":
            code -= table.fold_lm * Fraction(2) ** -table.fold_le * (p - table.in_format.zero_point)
        out.append(round_half_up(code * guard) - table.fold_e)
    return out


def narrowest_word(values) -> tuple[int, bool]:
    """Bits and signedness of the narrowest word holding every value (unsigned if none < 0)."""
    values = [int(v) for v in values]
    signed = min(values) < 0
    bits = 1
    while True:
        lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
        if lo <= min(values) and max(values) <= hi:
            return bits, signed
        bits += 1
