"""Numba kernels: the integer pipeline of ``docs/ARITHMETIC.md``, and the fitting loops.

Everything jitted in lutgen lives here. Kernels take integer arrays and plain
ints only: no objects, no enums, no floats, never ``fastmath``. A table is
described to them by ``prog``, an int64 array indexed by the ``P_*`` constants
below, so one compiled kernel serves every table (one compilation per input
dtype, cached on disk).

Widest intermediate: ``acc`` of ``docs/ARITHMETIC.md``; the compiler
(``lutgen.table``) refuses tables whose ``acc`` would need more than 62 bits,
so int64 never overflows here.
"""

from __future__ import annotations

import numba
import numpy as np

# ---- the program vector ---------------------------------------------------------------
P_LO = 0  # first input code of the table
P_SHIFT = 1  # S: log2 of the segment width in input codes
P_N = 2  # entries (segments)
P_INTERP = 3  # INTERP_*
P_FOLD = 4  # FOLD_*: mirror negative inputs
P_FOLD_F = 5  # F: 2*center in the stored format
P_GUARD = 6  # G: guard bits of the stored entries
P_YMIN = 7
P_YMAX = 8
P_LMODE = 9  # left tail: TAIL_*
P_LM = 10  # left line: acc = u*M + C, R = K
P_LC = 11
P_LK = 12
P_RMODE = 13
P_RM = 14
P_RC = 15
P_RK = 16
P_FOLD_Z = 17  # Z: the fold mirrors input codes about Z, the input zero point (code of real 0)
P_FOLD_E = 18  # E: the stored centre of a negating fold (F / 2 or 0), added back in step 5
P_LINE_M = 19  # LM: an even_line fold's line term, acc += (LM * (x - Z)) << (R - LE)
P_LINE_E = 20  # LE
P_NREG = 21  # regions of a hierarchical table (0: uniform); P_SHIFT is then SMAX and
P_RB = 22  # P_N the segments; RB: log2 of a region's width in input codes, -1: counted regions
P_REG = 23  # 16 slots: START[r] << 32 | BASE[r] << 8 | S_r per region
P_SPAN = 39  # HI - LO: the input codes the table path serves
PROG_LEN = 40

INTERP_NONE = 0
INTERP_NEAREST = 1
INTERP_LINEAR = 2

FOLD_OFF = 0
FOLD_NEGATE = 1  # odd and point-symmetric: f(-x) = F - f(x)
FOLD_MIRROR = 2  # even: f(-x) = f(x)
FOLD_LINE = 3  # even_line: f(x) = a*x + h(|x|), the table holds h, step 5 adds a*x

TAIL_CLAMP = 0
TAIL_LINE = 1  # an asymptote tail: acc = u*M + C, R = K


def pack_program(*, lo, shift, entries, interp, fold, fold_f, guard, ymin, ymax, left, right,
                 fold_z=0, fold_e=0, line_m=0, line_e=0, regions=None):
    """The program vector of one table, every slot named (plain Python, not jitted).

    ``interp``, ``fold`` are ``INTERP_*`` / ``FOLD_*`` codes; ``left`` and
    ``right`` are ``None`` (clamp, or no such inputs) or the ``(M, C, K)`` of an
    asymptote tail. ``regions``: the :class:`~lutgen.regions.Regions` of a
    hierarchical table (``shift`` is then SMAX; ``entries`` is ignored).
    """
    prog = np.zeros(PROG_LEN, dtype=np.int64)
    prog[P_SPAN] = entries << shift
    if regions is not None:
        prog[P_NREG], prog[P_RB] = regions.n, -1 if regions.granule_bits is None else \
            regions.granule_bits
        for r, (a, b, s) in enumerate(zip(regions.starts, regions.bases, regions.shifts)):
            prog[P_REG + r] = (a << 32) | (b << 8) | s
        entries, prog[P_SPAN] = regions.segments, regions.span
    prog[P_LO], prog[P_SHIFT], prog[P_N], prog[P_INTERP] = lo, shift, entries, interp
    prog[P_FOLD], prog[P_FOLD_F], prog[P_GUARD] = fold, fold_f, guard
    prog[P_YMIN], prog[P_YMAX] = ymin, ymax
    prog[P_FOLD_Z] = fold_z
    prog[P_FOLD_E], prog[P_LINE_M], prog[P_LINE_E] = fold_e, line_m, line_e
    for base, line in ((P_LMODE, left), (P_RMODE, right)):
        if line is not None:
            prog[base] = TAIL_LINE
            prog[base + 1], prog[base + 2], prog[base + 3] = line
    return prog


def jit(*args, **kwargs):
    """The one decorator of lutgen's kernels: nopython, cached, never fastmath."""
    return numba.njit(*args, cache=True, nogil=True, **kwargs)


_jit = jit


def jit_inline(fn):
    """For the small per-element helpers: inlined into the loops at numba's IR level."""
    return numba.njit(cache=True, nogil=True, inline="always")(fn)


_jit_inline = jit_inline


def _jit_parallel(fn):
    return numba.njit(cache=True, nogil=True, parallel=True)(fn)


@_jit_inline
def round_shift(a, r):
    """Round ``a / 2**r`` to nearest, ties toward +inf (add half, arithmetic shift)."""
    if r == 0:
        return a
    return (a + (np.int64(1) << (r - 1))) >> r


@_jit_inline
def saturate(y, lo, hi):
    if y < lo:
        return lo
    if y > hi:
        return hi
    return y


@_jit
def unpack(prog):
    """The program vector as a tuple: read once per call, kept in registers in the loops."""
    return (prog[0], prog[1], prog[2], prog[3], prog[4], prog[5], prog[6], prog[7], prog[8],
            prog[9], prog[10], prog[11], prog[12], prog[13], prog[14], prog[15], prog[16],
            prog[17], prog[18], prog[19], prog[20], prog[21], prog[22], prog[23], prog[24],
            prog[25], prog[26], prog[27], prog[28], prog[29], prog[30], prog[31], prog[32],
            prog[33], prog[34], prog[35], prog[36], prog[37], prog[38], prog[39])


@_jit_inline
def region_entry(p, r):
    """``p[P_REG + r]`` by constant indexes: a tuple indexed at run time is copied to the
    stack on every call, which slowed every kernel (uniform tables too) fourfold."""
    if r < 8:
        if r < 4:
            if r < 2:
                return p[23] if r == 0 else p[24]
            return p[25] if r == 2 else p[26]
        if r < 6:
            return p[27] if r == 4 else p[28]
        return p[29] if r == 6 else p[30]
    if r < 12:
        if r < 10:
            return p[31] if r == 8 else p[32]
        return p[33] if r == 10 else p[34]
    if r < 14:
        return p[35] if r == 12 else p[36]
    return p[37] if r == 14 else p[38]


@_jit_inline
def knot_weight(off, p):
    """Step 3 (3h, 3h' for a hierarchical table) for ``0 <= off < span``: the knot ``i`` and
    the weight ``w`` of ``acc = (T[i] << S) + (T[i+1] - T[i]) * w`` (``S = SMAX``)."""
    s = p[P_SHIFT]
    if p[P_NREG] == 0:
        return off >> s, off & ((np.int64(1) << s) - 1)
    rb = p[P_RB]
    if rb >= 0:  # equal regions: the top bits
        e = region_entry(p, off >> rb)
    else:  # counted regions: the last whose START is <= off
        r = 0
        for k in range(1, p[P_NREG]):
            if off < (region_entry(p, k) >> 32):
                break
            r = k
        e = region_entry(p, r)
    sr = e & 255
    o = off - (e >> 32)
    return ((e >> 8) & 0xFFFFFF) + (o >> sr), (o & ((np.int64(1) << sr) - 1)) << (s - sr)


@_jit_inline
def segment_span(seg, p):
    """The first offset of segment ``seg`` and its shift (its region's)."""
    s = p[P_SHIFT]
    if p[P_NREG] == 0:
        return seg << s, s
    e = region_entry(p, 0)
    for r in range(1, p[P_NREG]):
        nxt = region_entry(p, r)
        if ((nxt >> 8) & 0xFFFFFF) > seg:
            break
        e = nxt
    sr = e & 255
    return (e >> 32) + ((seg - ((e >> 8) & 0xFFFFFF)) << sr), sr


@_jit_inline
def n_segments(p):
    """Segments of the table (knots - 1)."""
    return p[P_N]


@_jit_inline
def eval_unsaturated(x, table, p):
    """The output code of input code ``x`` before saturation (steps 1-6 but ``sat``).

    ``p`` is :func:`unpack` of the program vector.
    """
    x = np.int64(x)
    neg = False
    u = x
    if p[P_FOLD] != FOLD_OFF and x < p[P_FOLD_Z]:
        u = 2 * p[P_FOLD_Z] - x  # -x when Z = 0
        neg = p[P_FOLD] == FOLD_NEGATE
    lo = p[P_LO]
    s = p[P_SHIFT]
    g = p[P_GUARD]
    off = u - lo
    if off >= 0 and off < p[P_SPAN]:
        pass
    elif off < 0 and p[P_LMODE] == TAIL_LINE:
        return round_shift(unfold(u * p[P_LM] + p[P_LC], p[P_LK], x, neg, p), p[P_LK])
    elif off >= 0 and p[P_RMODE] == TAIL_LINE:
        return round_shift(unfold(u * p[P_RM] + p[P_RC], p[P_RK], x, neg, p), p[P_RK])
    elif off < 0:
        off = 0  # clamp: hold the first value
    else:
        off = p[P_SPAN] - 1  # clamp: hold the last value
    i = off >> s
    interp = p[P_INTERP]
    if interp == INTERP_LINEAR:
        i, w = knot_weight(off, p)
        acc = (table[i] << s) + (table[i + 1] - table[i]) * w
        r = g + s
    elif interp == INTERP_NEAREST:
        if s > 0:
            i = (off + (np.int64(1) << (s - 1))) >> s
        acc = table[i]
        r = g
    else:
        acc = table[i]
        r = g
    return round_shift(unfold(acc, r, x, neg, p), r)


@_jit_inline
def unfold(acc, r, x, neg, p):
    """Step 5 for a path that rounds by ``r``: the stored centre E comes back (a negating
    fold; ``neg`` mirrors about F), or an even_line fold's line term is added."""
    fold = p[P_FOLD]
    if fold == FOLD_NEGATE:
        e = p[P_FOLD_E]
        if neg:
            return ((p[P_FOLD_F] - e) << (r - p[P_GUARD])) - acc
        return acc + (e << (r - p[P_GUARD]))
    if fold == FOLD_LINE:
        return acc + ((p[P_LINE_M] * (x - p[P_FOLD_Z])) << (r - p[P_LINE_E]))
    return acc


@_jit_inline
def eval_in_range(x, table, p):
    """:func:`eval_unsaturated` for an unfolded table: the table path inline, others general.

    The same integers; the common case (an input inside the table) takes no
    branch on the table's mode inside the kernels' loops but the interp switch,
    which is the same for every element.
    """
    off = np.int64(x) - p[P_LO]
    s = p[P_SHIFT]
    if off < 0 or off >= p[P_SPAN]:
        return eval_unsaturated(x, table, p)
    i = off >> s
    interp = p[P_INTERP]
    if interp == INTERP_LINEAR:
        i, w = knot_weight(off, p)
        return round_shift((table[i] << s) + (table[i + 1] - table[i]) * w, p[P_GUARD] + s)
    if interp == INTERP_NEAREST and s > 0:
        i = (off + (np.int64(1) << (s - 1))) >> s
    return round_shift(table[i], p[P_GUARD])


@_jit
def eval_codes(x_codes, table, prog, out):
    """Output codes of the table for every input code into ``out`` (sequential)."""
    p = unpack(prog)
    if p[P_FOLD] == FOLD_OFF:
        for n in range(x_codes.shape[0]):
            out[n] = saturate(eval_in_range(x_codes[n], table, p), p[P_YMIN], p[P_YMAX])
    else:
        for n in range(x_codes.shape[0]):
            out[n] = saturate(eval_unsaturated(x_codes[n], table, p), p[P_YMIN], p[P_YMAX])
    return out


@_jit_parallel
def eval_codes_parallel(x_codes, table, prog, out):
    """:func:`eval_codes` over all cores; every element is independent."""
    p = unpack(prog)
    if p[P_FOLD] == FOLD_OFF:
        for n in numba.prange(x_codes.shape[0]):
            out[n] = saturate(eval_in_range(x_codes[n], table, p), p[P_YMIN], p[P_YMAX])
    else:
        for n in numba.prange(x_codes.shape[0]):
            out[n] = saturate(eval_unsaturated(x_codes[n], table, p), p[P_YMIN], p[P_YMAX])
    return out


@_jit_inline
def _flag_one(x, table, p, out, saturated, n):
    y = eval_in_range(x, table, p) if p[P_FOLD] == FOLD_OFF else eval_unsaturated(x, table, p)
    saturated[n] = 1 if (y < p[P_YMIN] or y > p[P_YMAX]) else 0
    out[n] = saturate(y, p[P_YMIN], p[P_YMAX])


@_jit
def eval_codes_flagged(x_codes, table, prog, out, saturated):
    """:func:`eval_codes`, also setting ``saturated[n] = 1`` where saturation acted."""
    p = unpack(prog)
    for n in range(x_codes.shape[0]):
        _flag_one(x_codes[n], table, p, out, saturated, n)
    return out


@_jit
def gather_codes(x_codes, full, lo, out):
    """``out[n] = full[x_codes[n] - lo]``: a table evaluated at every input code, looked up.

    ``full[k]`` is the output code of input code ``lo + k``. Checks each index as
    it goes; returns the position of the first input outside ``full`` (``out``
    is then partly written), or -1 when every input was inside. Widest
    intermediate: the int64 index.
    """
    m = full.shape[0]
    for n in range(x_codes.shape[0]):
        k = np.int64(x_codes[n]) - lo
        if k < 0 or k >= m:
            return n
        out[n] = full[k]
    return -1


@_jit
def eval_codes_checked(x_codes, table, prog, lo, hi, out):
    """:func:`eval_codes` for inputs ``lo <= x <= hi``, checked in the same pass.

    Returns the position of the first input outside ``[lo, hi]`` (``out`` is
    then partly written), or -1 when every input was inside.
    """
    p = unpack(prog)
    for n in range(x_codes.shape[0]):
        x = np.int64(x_codes[n])
        if x < lo or x > hi:
            return n
        if p[P_FOLD] == FOLD_OFF:
            y = eval_in_range(x, table, p)
        else:
            y = eval_unsaturated(x, table, p)
        out[n] = saturate(y, p[P_YMIN], p[P_YMAX])
    return -1


# ---- fitting --------------------------------------------------------------------------
@_jit_inline
def _abs_error(table, p, x, ref, e_bits):
    """|y(x) << e_bits - ref| for one input code."""
    y = saturate(eval_unsaturated(x, table, p), p[P_YMIN], p[P_YMAX])
    e = (y << e_bits) - ref
    return -e if e < 0 else e


@_jit
def segment_error(table, prog, ref_fine, e_bits, seg, n_valid):
    """Max and sum of |y << e_bits - ref_fine| over the valid inputs of segment ``seg``.

    ``ref_fine[off]`` is the reference of input ``LO + off`` in output LSBs times
    ``2**e_bits``, rounded; inputs with ``off >= n_valid`` do not exist. A table
    folded by negation is also measured on the mirrored inputs ``-(LO + off)``,
    whose reference is ``F - ref`` (they round differently at ties): ``2Z - (LO + off)``
    about the input zero point Z. A mirrored code below the input format (Z < 0) is
    measured too; it does not exist, so this only errs on the cautious side. An even_line
    fold is measured on the mirrored inputs too, against ``ref - 2 a x``.
    """
    p = unpack(prog)
    lo = p[P_LO]
    negate = p[P_FOLD] == FOLD_NEGATE
    line = p[P_FOLD] == FOLD_LINE
    g = p[P_GUARD]
    fold_fine = (p[P_FOLD_F] << e_bits) >> g
    z = p[P_FOLD_Z]
    start, s = segment_span(seg, p)
    stop = min(start + (np.int64(1) << s), n_valid)
    worst = np.int64(0)
    total = np.int64(0)
    for off in range(start, stop):
        e = _abs_error(table, p, lo + off, ref_fine[off], e_bits)
        if negate and lo + off > z:
            e = max(e, _abs_error(table, p, 2 * z - (lo + off), fold_fine - ref_fine[off],
                                  e_bits))
        elif line and lo + off > z:
            # the mirrored input's reference: f(-x) = f(x) - 2 a x (a x: LM 2^-LE (x - Z) codes)
            two_ax = (p[P_LINE_M] * (lo + off - z)) << (e_bits + 1 - p[P_LINE_E])
            e = max(e, _abs_error(table, p, 2 * z - (lo + off), ref_fine[off] - two_ax,
                                  e_bits))
        if e > worst:
            worst = e
        total += e >> 8  # keeps the sum of up to 2**32 errors inside int64
    return worst, total


@_jit
def fit_linear_minimax(table, prog, ref_fine, e_bits, n_valid, radius, max_passes):
    """Coordinate descent on the knots of a linear table, in place.

    Each knot moves to the integer within ``radius`` that minimises the larger
    of the errors of the two segments it touches (ties: the smaller summed
    error); a move is taken only if it lowers that pair's (max, sum), so no
    segment's error can make the global maximum rise. Returns the number of
    passes made.
    """
    p = unpack(prog)
    n = n_segments(p)
    passes = 0
    for _ in range(max_passes):
        passes += 1
        changed = False
        for k in range(n + 1):
            first = max(k - 1, 0)
            last = min(k, n - 1)
            if segment_span(first, p)[0] >= n_valid:
                continue
            orig = table[k]
            best_v = orig
            best_max = np.int64(-1)
            best_sum = np.int64(0)
            for step in range(2 * radius + 1):
                # 0, -1, +1, -2, +2, ...: on equal error the smallest move wins
                d = (step + 1) // 2 if step % 2 == 0 else -((step + 1) // 2)
                table[k] = orig + d
                worst = np.int64(0)
                total = np.int64(0)
                for seg in range(first, last + 1):
                    w, t = segment_error(table, prog, ref_fine, e_bits, seg, n_valid)
                    worst = max(worst, w)
                    total += t
                if best_max < 0 or worst < best_max or (worst == best_max and total < best_sum):
                    best_max = worst
                    best_sum = total
                    best_v = orig + d
            table[k] = best_v
            if best_v != orig:
                changed = True
        if not changed:
            break
    return passes


# ---- softmax (docs/SOFTMAX.md) ----------------------------------------------------------
@_jit
def _table_code(x, table, p):
    """The saturated output code of a table (unpacked program ``p``) for input code ``x``."""
    return saturate(eval_unsaturated(x, table, p), p[P_YMIN], p[P_YMAX])


@_jit
def softmax_codes(x_codes, etable, eprog, rtable, rprog, m_bits, r_frac, out_frac, y_max, out):
    """Softmax of every row of ``x_codes`` (shape (count, N)) into ``out``, docs/SOFTMAX.md.

    ``etable``/``eprog``: the exp(-d) table over the difference codes; ``rtable``/``rprog``:
    the 1/(1+f) table over ``m_bits``-bit mantissas; ``r_frac``: its output fraction bits
    (Fr); ``out_frac``: Fo; ``y_max``: the output format's largest code. The caller
    guarantees ``Fr + kmin - Fo >= 1``. Widest intermediate: ``e * r + 2^(sh-1)``, below
    ``2^(We + Wr + 1)``, at most 63 bits (checked by ``lutgen.softmax``).
    """
    pe = unpack(eprog)
    pr = unpack(rprog)
    count = x_codes.shape[0]
    n = x_codes.shape[1]
    e = np.empty(n, dtype=np.int64)
    for v in range(count):
        m = np.int64(x_codes[v, 0])
        for i in range(1, n):
            if np.int64(x_codes[v, i]) > m:
                m = np.int64(x_codes[v, i])
        s = np.int64(0)
        for i in range(n):
            e[i] = _table_code(m - np.int64(x_codes[v, i]), etable, pe)
            s += e[i]
        k = 0
        t = s
        while t > 1:
            t >>= 1
            k += 1
        lead = np.int64(1) << k
        if k >= m_bits:
            f = (s - lead) >> (k - m_bits)
        else:
            f = (s - lead) << (m_bits - k)
        r = _table_code(f, rtable, pr)
        sh = r_frac + k - out_frac
        for i in range(n):
            y = round_shift(e[i] * r, sh)
            out[v, i] = y if y < y_max else y_max


# the faithful dynamic program's kernels are in _kernels_faithful (this module was full)
