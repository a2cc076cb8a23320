"""Faithful coefficients: integer entries that keep every input within 1 output LSB.

With one rounding at the end (``docs/ARITHMETIC.md``, step 6), "the output of
input x is within the budget of its reference" is, for each input, an integer
interval the accumulator must land in before ``round_shift``. An entry of a
``none``/``nearest`` table is that accumulator itself, so each entry's feasible
set is the intersection of its inputs' intervals. A ``linear`` table's
accumulator is ``T[i] * (2^S - w) + T[i+1] * w``: each input is a linear
constraint on two neighbouring knots, and chained knots make an exact
feasibility problem over the knot integers. A dynamic program over the knots
decides it: the set of values knot ``k + 1`` can take given some feasible
knots ``0..k`` is kept as a bit mask over a window (the knot's own input's
interval; around the sampled value, clipped to the output range, for a knot no
input pins), and a backward
pass picks one solution.

On top of feasibility the entries are chosen to need the narrowest storage
word (each window cut to a word range, the narrowest that stays feasible), and,
at that width, the smallest max error (the budget bisected below 1 LSB).
Errors are measured as the analysis measures them: ``|y - ref / lsb|`` in
float64, over every input code the entries serve (the mirrored inputs of a
folded table and the inputs a clamp tail serves included).
"""

from __future__ import annotations

import numpy as np

from . import _kernels as K
from . import _kernels_faithful as KF
from ._entries import ACC_LIMIT_BITS, Layout, bits_for, minimax
from .errors import SpecError
from .spec import Interp

__all__ = ["faithful", "FAITHFUL_MAX_BITS", "BIG", "Problem", "knot_windows", "word_ranges"]

FAITHFUL_MAX_BITS = 20  # every input is a constraint: up to 2^20 of them
BIG = KF.FAITHFUL_BIG  # an unbounded side of an interval (a saturating output)
TIGHTEN_STEPS = 8  # bisection of the budget below 1 LSB: 2^-8 LSB resolution


def faithful(values, prog, layout: Layout, ref, ref_every, name: str,
             store_bits: int | None = None, stored_offset: int = 0) -> np.ndarray:
    """Entries whose every output is within 1 LSB of the reference, in the narrowest word.

    ``values`` are the sampled entries (the centres of the search windows),
    ``ref(codes)`` the finite float64 reference at input codes (as for
    :func:`~lutgen._entries.minimax`), ``ref_every()`` the float64 reference at
    every input code of the format (non-finite where undefined: those inputs are
    left out, as the analysis leaves them). ``store_bits``: entries in words of
    exactly that many bits (signed or unsigned) instead of the narrowest.
    ``stored_offset``: the words hold the entries minus it (a negating fold's centre E,
    docs/ARITHMETIC.md step 5), so the word ranges are counted on those. Raises
    :class:`SpecError` when no such entries exist.
    """
    fin = layout.fin
    if fin.bits > FAITHFUL_MAX_BITS:
        raise SpecError(
            f"faithful coefficients are fitted over every input: {fin} has more than "
            f"2^{FAITHFUL_MAX_BITS} codes; use --coeffs minimax or sample"
        )
    r = layout.guard + (layout.shift if layout.interp is Interp.LINEAR else 0)
    if layout.fout.bits + r + layout.shift + 4 > ACC_LIMIT_BITS:
        raise SpecError(f"a faithful fit of this table needs more than a {ACC_LIMIT_BITS}-bit "
                        "accumulator; use fewer guard bits, narrower formats or more entries")
    problem = Problem(values, prog, layout, ref_every(), store_bits)
    problem.offset = int(stored_offset)
    problem.check_lines(name)
    if layout.interp is Interp.LINEAR:
        return problem.solve_linear(name)
    return problem.solve_groups(minimax(values, prog, layout, ref), name)


def knot_windows(klo, khi, seg_start, centre, smax, guard):
    """Per knot, the values it may take: its own input's interval (``w = 0``), cut to a
    window around the sampled value clipped to the output range (which bounds the knots
    no input pins). Returns ``(lo, hi, empty)``: ``empty`` the first knot with no value
    (at most the last segment's), else -1."""
    n = seg_start.size
    reach = (1 << (guard + 3)) + 8  # 8 LSB either side: far beyond any faithful knot
    lo, hi = centre - reach, centre + reach
    own_lo, own_hi = klo[seg_start], khi[seg_start]
    # T << SMAX in [own_lo, own_hi]
    pinned_lo = np.where(own_lo <= -BIG, -BIG, -((-own_lo) >> smax))
    pinned_hi = np.where(own_hi >= BIG, BIG, own_hi >> smax)
    lo[:n] = np.maximum(lo[:n], pinned_lo)
    hi[:n] = np.minimum(hi[:n], pinned_hi)
    empty = np.flatnonzero(lo > hi)
    return lo, hi, (int(min(empty[0], n - 1)) if empty.size else -1)


def word_ranges(lo, hi, first_bits=1):
    """(bits, signed, lo, hi) of the word ranges from the narrowest any entry allows up."""
    near = np.where(lo > 0, lo, np.where(hi < 0, hi, 0))
    can_unsigned = bool((hi >= 0).all())
    first = max(bits_for(int(near.min()), True), bits_for(int(near.max()), True))
    if can_unsigned:
        first = min(first, max(1, int(near.max()).bit_length()))
    for bits in range(max(1, first, first_bits), ACC_LIMIT_BITS):
        if can_unsigned:
            yield bits, False, 0, (1 << bits) - 1
        yield bits, True, -(1 << (bits - 1)), (1 << (bits - 1)) - 1


class Problem:
    """Per input code: the path it takes, as keys into the entries, and its reference."""

    def __init__(self, values, prog, layout: Layout, ref, store_bits=None):
        self.values, self.prog, self.layout = values, prog, layout
        self.store_bits = store_bits
        self.offset = 0  # the words hold entry - offset
        # sampled values beyond the output range only saturate (they are clipped to twice
        # it): the windows of their knots are centred at the range's end instead
        g = layout.guard
        self.centre = np.clip(np.asarray(values, dtype=np.int64), layout.fout.min_code << g,
                              layout.fout.max_code << g)
        fin, s = layout.fin, layout.shift
        codes = fin.codes().astype(np.int64)
        defined = np.isfinite(ref)
        u = codes.copy()
        neg = np.zeros(codes.size, dtype=bool)
        z = int(prog[K.P_FOLD_Z])
        if prog[K.P_FOLD] != K.FOLD_OFF:
            below = codes < z
            u[below] = 2 * z - codes[below]
            if prog[K.P_FOLD] == K.FOLD_NEGATE:
                neg = below
        off = u - layout.lo_code
        width = layout.span
        line = ((off < 0) & (prog[K.P_LMODE] == K.TAIL_LINE)) | (
            (off >= width) & (prog[K.P_RMODE] == K.TAIL_LINE))
        keep = defined & ~line  # the line tails do not read the entries
        self.line_codes = codes[defined & line]
        self.line_ref = layout.fout.real_to_codes(ref[defined & line])
        off = np.clip(off[keep], 0, width - 1)  # a clamp tail holds the table's end
        if layout.interp is Interp.LINEAR:
            key = off  # segment << S | w
            self.r = layout.guard + s
        elif layout.interp is Interp.NEAREST and s > 0:
            key = (off + (1 << (s - 1))) >> s
            self.r = layout.guard
        else:
            key = off >> s
            self.r = layout.guard
        self.key = key
        self.neg = neg[keep]
        self.ref_codes = layout.fout.real_to_codes(ref[keep])
        self.n_keys = width if layout.interp is Interp.LINEAR else layout.words
        # F in the accumulator's scale: the unfold is acc' = (F << (R - G)) - acc
        self.fold_acc = int(prog[K.P_FOLD_F]) << (self.r - layout.guard)
        self.codes = codes[keep]
        # an even_line fold adds a * (x - Z) to the accumulator: its intervals, less that
        self.term = np.zeros(self.codes.size, dtype=np.int64)
        if prog[K.P_FOLD] == K.FOLD_LINE:
            self.term = (int(prog[K.P_LINE_M]) * (self.codes - z)) << (
                self.r - int(prog[K.P_LINE_E]))
        # linear: segment k covers offsets seg_start[k] .. + 2^seg_shift[k] (knot k at its start)
        self.knot_off = layout.knot_offsets()
        self.seg_start = np.ascontiguousarray(self.knot_off[:-1])
        self.seg_shift = (layout.regions.segment_shifts() if layout.regions
                          else np.full(self.seg_start.size, s, dtype=np.int64))

    def check_lines(self, name):
        """The asymptote tails read no entry: they are faithful by themselves or never."""
        if not self.line_codes.size:
            return
        y = K.eval_codes(self.line_codes, self.values, self.prog,
                         np.empty(self.line_codes.size, dtype=np.int64))
        err = np.abs(y - self.line_ref)
        worst = int(np.argmax(err))
        if not err[worst] < 1.0:
            x = float(self.layout.fin.codes_to_real(int(self.line_codes[worst])))
            raise SpecError(
                f"no faithful table of '{name}' exists with this range: its asymptote tail is "
                f"{float(err[worst]):.3g} LSB from the reference at x = {x:g}, whatever the "
                "entries; use a wider range or --tails clamp"
            )

    def intervals(self, budget: float):
        """Per key, the accumulator interval [lo, hi] keeping its inputs within ``budget``.

        An input whose allowed outputs include the format's end lets the
        unsaturated output run beyond it (``BIG``). A key without inputs is
        unbounded; an input allowed no output at all empties its key (lo > hi).
        """
        fout, r = self.layout.fout, self.r
        ymin, ymax = fout.min_code, fout.max_code
        rc = self.ref_codes
        with np.errstate(invalid="ignore", over="ignore"):
            base = np.floor(np.clip(rc, ymin - 4, ymax + 4)).astype(np.int64)
        qa = np.full(rc.size, ymax + 1, dtype=np.int64)
        qb = np.full(rc.size, ymin - 1, dtype=np.int64)
        for d in (-1, 0, 1, 2):
            q = base + d
            # exactly the analysis' test: |y - ref / lsb| < budget in float64
            ok = (np.abs(q - rc) < budget) & (q >= ymin) & (q <= ymax)
            qa = np.where(ok, np.minimum(qa, q), qa)
            qb = np.where(ok, np.maximum(qb, q), qb)
        empty = qa > qb
        half = (1 << (r - 1)) if r > 0 else 0
        lo = np.where(qa == ymin, -BIG, (qa << r) - half)
        hi = np.where(qb == ymax, BIG, (qb << r) + ((half - 1) if r > 0 else 0))
        lo[empty], hi[empty] = BIG, -BIG
        t = self.term
        lo = np.where(lo <= -BIG, lo, lo - t)
        hi = np.where(hi >= BIG, hi, hi - t)
        # a negated input's accumulator is F' - acc: the interval of acc mirrors
        m = self.neg & ~empty
        f = self.fold_acc
        mlo = np.where(hi[m] >= BIG, -BIG, f - hi[m])
        mhi = np.where(lo[m] <= -BIG, BIG, f - lo[m])
        lo[m], hi[m] = mlo, mhi
        klo = np.full(self.n_keys, -BIG, dtype=np.int64)
        khi = np.full(self.n_keys, BIG, dtype=np.int64)
        np.maximum.at(klo, self.key, lo)
        np.minimum.at(khi, self.key, hi)
        return klo, khi

    def _infeasible(self, where_key: int, name: str):
        """``where_key``: the offset of a knot (linear), else an entry's index."""
        layout = self.layout
        at = self.key == where_key
        if layout.interp is not Interp.LINEAR and at.any():
            x = layout.fin.codes_to_real(int(self.codes[np.argmax(at)]))
        elif layout.interp is Interp.LINEAR:
            x = layout.fin.codes_to_real(layout.lo_code + int(where_key))
        else:
            x = layout.fin.codes_to_real(layout.lo_code + (where_key << layout.shift))
        return SpecError(
            f"no faithful table of '{name}' exists with {layout.entries} entries and "
            f"{layout.guard} guard bits: no integer entries keep every output within 1 LSB "
            f"near x = {float(x):g}; use more entries, more guard bits or --coeffs minimax"
        )

    # -- none / nearest: every entry alone ------------------------------------------------
    def solve_groups(self, start, name):
        klo, khi = self.intervals(1.0)
        bad = np.flatnonzero(klo > khi)
        if bad.size:
            raise self._infeasible(int(bad[0]), name)
        signed, lo_w, hi_w = self._narrowest_word(klo, khi, lambda wlo, whi: (
            (np.maximum(klo, wlo) <= np.minimum(khi, whi)).all()), name)
        lo = np.maximum(klo, lo_w)
        hi = np.minimum(khi, hi_w)
        # the error is quasi-convex in an entry: the minimax entry, clipped into its faithful
        # interval, is the best faithful entry; a finer budget only narrows that interval
        best = np.clip(start, lo, hi)
        tight = self._tightest(lambda b: self._groups_at(b, lo_w, hi_w))
        if tight is not None:
            tlo, thi = tight
            best = np.clip(start, tlo, thi)
        return best.astype(np.int64)

    def _groups_at(self, budget, lo_w, hi_w):
        klo, khi = self.intervals(budget)
        lo, hi = np.maximum(klo, lo_w), np.minimum(khi, hi_w)
        return (lo, hi) if (lo <= hi).all() else None

    # -- linear: chained knots -----------------------------------------------------------
    def solve_linear(self, name):
        klo, khi = self.intervals(1.0)
        windows = self._windows(klo, khi)
        if windows is None:
            raise self._infeasible(self.knot_off[self._empty_knot], name)
        wlo, whi = windows
        stuck = self._forward(klo, khi, wlo, whi)[0]
        if stuck >= 0:
            raise self._infeasible(self.knot_off[stuck], name)

        def feasible(lo_w, hi_w):
            a, b = np.maximum(wlo, lo_w), np.minimum(whi, hi_w)
            return (a <= b).all() and self._forward(klo, khi, a, b)[0] < 0

        signed, lo_w, hi_w = self._narrowest_word(wlo, whi, feasible, name)
        best = self._solve_at(1.0, lo_w, hi_w)
        tight = self._tightest(lambda b: self._solve_at(b, lo_w, hi_w))
        return best if tight is None else tight

    def _solve_at(self, budget, lo_w, hi_w):
        klo, khi = self.intervals(budget)
        windows = self._windows(klo, khi)
        if windows is None:
            return None
        wlo, whi = np.maximum(windows[0], lo_w), np.minimum(windows[1], hi_w)
        if (wlo > whi).any():
            return None
        stuck, reach, starts = self._forward(klo, khi, wlo, whi)
        if stuck >= 0:
            return None
        out = np.empty(wlo.size, dtype=np.int64)
        KF.faithful_backtrack(klo, khi, self.seg_start, self.seg_shift, self.layout.shift, wlo,
                             whi, starts, reach, self.centre, out)
        return out

    def _windows(self, klo, khi):
        """Per knot, the values it may take (:func:`knot_windows`); None when one has none."""
        lo, hi, empty = knot_windows(klo, khi, self.seg_start, self.centre, self.layout.shift,
                                     self.layout.guard)
        if empty >= 0:
            self._empty_knot = empty
            return None
        return lo, hi

    def _forward(self, klo, khi, wlo, whi):
        size = whi - wlo + 1
        starts = np.zeros(size.size + 1, dtype=np.int64)
        np.cumsum(size, out=starts[1:])
        reach = np.zeros(int(starts[-1]), dtype=np.uint8)
        stuck = KF.faithful_forward(klo, khi, self.seg_start, self.seg_shift, self.layout.shift,
                                   wlo, whi, starts, reach)
        return stuck, reach, starts

    # -- shared --------------------------------------------------------------------------
    def _narrowest_word(self, lo, hi, feasible, name):
        """(signed, lo, hi) of the narrowest word range in which ``feasible`` holds.

        ``lo``/``hi``: per entry, the values it may take. Every entry needs at least
        the bits of its value nearest zero, so the search starts there. With
        ``store_bits`` given only that width is tried. Words hold entry - ``offset``.
        """
        e = self.offset
        if e:
            inner = feasible
            feasible = lambda wlo, whi: inner(wlo + e, whi + e)  # noqa: E731
            found = self._narrowest_word_stored(lo - e, hi - e, feasible, name)
            return found[0], found[1] + e, found[2] + e
        return self._narrowest_word_stored(lo, hi, feasible, name)

    def _narrowest_word_stored(self, lo, hi, feasible, name):
        if self.store_bits is not None:
            bits = self.store_bits
            if bits >= 1 and (hi >= 0).all() and feasible(0, (1 << bits) - 1):
                return False, 0, (1 << bits) - 1
            if bits >= 1 and feasible(-(1 << (bits - 1)), (1 << (bits - 1)) - 1):
                return True, -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            layout = self.layout
            raise SpecError(
                f"no faithful table of '{name}' with {layout.entries} entries and "
                f"{layout.guard} guard bits fits {bits}-bit words"
            )
        for bits, signed, lo_w, hi_w in word_ranges(lo, hi):
            if feasible(lo_w, hi_w):
                return signed, lo_w, hi_w
        raise AssertionError("a feasible problem has a finite word")  # pragma: no cover

    def _tightest(self, solve_at):
        """The solution at the smallest budget below 1 LSB that stays feasible (bisection)."""
        lo, hi, best = 0.0, 1.0, None
        for _ in range(TIGHTEN_STEPS):
            mid = (lo + hi) / 2
            sol = solve_at(mid)
            if sol is None:
                lo = mid
            else:
                hi, best = mid, sol
        return best
