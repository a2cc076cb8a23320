"""Design to an error budget: the cheapest table (ROM bits or C bytes) that meets it.

The search walks ranges, interpolation modes, folding, guard bits and fitting
methods; for each combination it finds the fewest entries that meet the budget
by bisection over powers of two (the error falls as entries grow), measuring
only tables within the ROM cap and not dearer than the best found so far. The
ranges are those whose tails alone stay below a fixed ladder of errors up to
the max budget (narrowest first). Every figure it reports is the exhaustive
analysis of the compiled table (:func:`lutgen.analyze`).
"""

from __future__ import annotations

import math

import numpy as np

from .analysis import ErrorReport, analyze
from .errors import LutgenError, SpecError
from ._reference import EXHAUSTIVE_LIMIT_BITS, clipped, reference_on_codes
from .fixedpoint import FixedFormat, c_word_bits, sized_format
from .spec import Coeffs, Interp, Tails, TableSpec, make_spec, spec_traits
from .table import Table, build
from .budget import Budget, Design, FitResult
from ._search_regions import best_regions

__all__ = ["Budget", "Design", "FitResult", "fit"]

GUARD_CHOICES = (0, 1, 2, 3, 4, 5, 6)
OBJECTIVES = ("bits", "bytes")
INTERPS = tuple(m.value for m in reversed(Interp))  # linear, nearest, none: the cheapest first


def fit(name, *, expr=None, max_error, mean_error=None, dist=None, in_format="s16.12", out_format=None,
        interp="any", max_rom_bits=None, params=None, derivative=False, output=None,
        fits=("sample", "minimax", "faithful"), objective="bits", progress=None,
        saturation=None, regions=True) -> FitResult:
    """The cheapest table whose exhaustive error meets the budget.

    Parameters
    ----------
    max_error : str or float or Budget
        The bound on the max error: ``1e-3`` absolute or ``"1lsb"``; met when the
        max error is below it.
    mean_error : optional
        A bound on the mean absolute error (weighted by ``dist`` if given).
    interp : ``"any"`` or one of none, nearest, linear
    saturation : ``"counted"`` (default) or ``"allowed"``
        ``"allowed"`` measures every design against the reference clipped to the
        output format's range (deliberate saturation is no error).
    max_rom_bits : int, optional
        Designs above it are not candidates (neither best nor closest).
    objective : ``"bits"`` or ``"bytes"``
        What "cheapest" means: ROM bits (an FPGA or ASIC ROM), or the bytes of the C
        header's array (an MCU: a 17-bit word takes 4 bytes); ties go to the other.
    progress : callable, optional
        Called with the number of designs measured so far, after each one.
    regions : bool
        Also search hierarchical layouts (``regions``: linear tables of 2 to 16 regions,
        for budgets of at most 1 LSB); False keeps to uniform tables.

    Returns
    -------
    FitResult
        ``met`` and the best design, or, when none meets the budget, the closest:
        the smallest error found (relative to the budget), at the least cost.
    """
    base = make_spec(name, expr=expr, params=params, derivative=derivative, output=output,
                     in_format=in_format, out_format=out_format, saturation=saturation)
    if base.in_format.bits > EXHAUSTIVE_LIMIT_BITS:
        raise SpecError(
            f"fit checks every input; {base.in_format} has more than 2^{EXHAUSTIVE_LIMIT_BITS} "
            "codes: use a narrower input format"
        )
    budget = Budget.parse(max_error)
    mean_budget = None if mean_error is None else Budget.parse(mean_error)
    if interp != "any" and interp not in INTERPS:
        raise SpecError(f"unknown interp {interp!r}; allowed: any, {', '.join(INTERPS)}")
    interps = INTERPS if interp == "any" else (interp,)
    if max_rom_bits is not None and (isinstance(max_rom_bits, bool) or max_rom_bits <= 0):
        raise SpecError(f"--max-rom-bits must be positive, got {max_rom_bits}")
    if objective not in OBJECTIVES:
        raise SpecError(f"unknown objective {objective!r}; allowed: {', '.join(OBJECTIVES)}")
    if dist is not None:
        from .analysis import Distribution

        dist = Distribution.parse(dist)  # a file is read once, here
    asked = {"max_error": str(budget), "mean_error": None if mean_budget is None
             else str(mean_budget), "dist": None if dist is None else str(dist),
             "max_rom_bits": max_rom_bits,
             "objective": objective, "interp": interp}
    search = _Search(base, budget, mean_budget, dist, interps, max_rom_bits, fits, objective,
                     progress)
    search.regions = bool(regions)
    return search.run(asked)


class _Search:
    """The grid and its walk.

    The grid: every range of :meth:`_ranges` x interp x fold x guard bits x entries
    (powers of two) for the sample fit, and minimax below the fewest entries sample
    needs. The grid depends on the max budget only through the ranges, and a looser
    max budget only adds ranges; the mean budget and the ROM cap do not change it.
    So loosening any budget keeps every design that met before in the grid.
    """

    def __init__(self, base: TableSpec, budget, mean_budget, dist, interps, max_rom_bits, fits,
                 objective, progress):
        self.base = base
        self.budget = budget
        self.mean_budget = mean_budget
        self.dist = dist
        self.interps = interps
        self.max_rom_bits = max_rom_bits
        self.fits = fits
        self.objective = objective
        self.progress = progress
        self.traits = spec_traits(base)
        self.tables: dict = {}  # options -> Table, or None if it cannot be built
        self.designs: dict = {}  # options -> Design
        self.by_table: dict = {}  # the table's integers -> its Design
        self.last_error: LutgenError | None = None
        self.fout = base.out_format or self._fitted_out_format()
        self.budget_lsb = budget.in_lsb(self.fout)
        self.mean_budget_lsb = None if mean_budget is None else mean_budget.in_lsb(self.fout)
        self._reference = None
        self.regions = True  # also search hierarchical layouts

    def _fitted_out_format(self) -> FixedFormat:
        """Fitted to the reference over every input: the analysis measures all of them."""
        y = reference_on_codes(self.base)
        y = y[np.isfinite(y)]
        if y.size == 0:
            raise SpecError(f"'{self.base.activation}' is not finite at any input of "
                            f"{self.base.in_format}")
        fin = self.base.in_format
        return sized_format(float(y.min()), float(y.max()), fin.signed or y.min() < 0,
                             fin.bits, self.base.activation)

    # -- cost and budget ------------------------------------------------------------------
    def cost(self, table: Table) -> tuple[int, int]:
        """What the objective minimises, then the other measure (ties)."""
        if self.objective == "bytes":
            return (table.c_bytes, table.rom_bits)
        return (table.rom_bits, table.c_bytes)

    def within_cap(self, table: Table) -> bool:
        return self.max_rom_bits is None or table.rom_bits <= self.max_rom_bits

    def violation(self, report: ErrorReport) -> float:
        """The error as a fraction of the budget: below 1 meets it (both bounds are strict)."""
        v = report.max_error_lsb / self.budget_lsb
        if self.mean_budget_lsb is not None:
            mean = (report.weighted_mean_abs_error if self.dist is not None
                    else report.mean_abs_error)
            v = max(v, mean / self.fout.lsb / self.mean_budget_lsb)
        return v

    def rank(self, d: Design):
        return (*self.cost(d.table), d.report.max_error_lsb)

    # -- evaluation -----------------------------------------------------------------------
    def compile(self, opts: dict) -> Table | None:
        key = tuple(sorted(opts.items()))
        if key not in self.tables:
            spec = TableSpec(**{**self.base.to_options(), "out_format": self.fout, **opts})
            try:
                self.tables[key] = build(spec)
            except LutgenError as exc:
                self.tables[key] = None
                self.last_error = exc
        return self.tables[key]

    def measure(self, opts: dict) -> Design | None:
        """The compiled design with its exhaustive analysis (None if it cannot be built)."""
        key = tuple(sorted(opts.items()))
        if key in self.designs:
            return self.designs[key]
        table = self.compile(opts)
        if table is None:
            return None
        same = (table.values.tobytes(), table.prog.tobytes(), table.spec.interp,
                table.spec.coeffs, table.guard_bits)  # two ranges may align to one table
        if same in self.by_table:
            self.designs[key] = self.by_table[same]
            return self.designs[key]
        report = analyze(table, dist=self.dist)
        design = Design(table, report, self.violation(report) < 1.0)
        self.designs[key] = self.by_table[same] = design
        if self.progress is not None:
            self.progress(len(self.by_table))
        return design

    # -- the search -----------------------------------------------------------------------
    def run(self, asked: dict) -> FitResult:
        configs = list(self._configs())
        best = self._sweep(configs, 1.0)
        designs = list(self.by_table.values())
        if not any(t is not None for t in self.tables.values()):
            raise SpecError(f"no table of '{self.base.activation}' over "
                            f"{self.base.in_format} can be built: {self.last_error}")
        floor = min((d.report.floor_max_error_lsb for d in designs), default=math.nan)
        if best is not None:
            meeting = sorted((d for d in self.by_table.values()
                              if d.meets and self.within_cap(d.table)), key=self.rank)
            return FitResult(meeting[0], True, tuple(meeting[:12]), floor, self.budget_lsb,
                             self._evaluated(), asked)
        # nothing meets: the smallest error found, then the cheapest design reaching it
        pool = [d for d in self.by_table.values() if self.within_cap(d.table)]
        if not pool:
            pool = self._affordable_designs(configs)
        if not pool:
            return FitResult(None, False, (), floor, self.budget_lsb, (), asked)
        least = min(self.violation(d.report) for d in pool)
        self._sweep(configs, math.nextafter(least, math.inf))
        pool = [d for d in self.by_table.values() if self.within_cap(d.table)]
        closest = sorted(pool, key=lambda d: (self.violation(d.report), *self.rank(d)))
        floor = min((d.report.floor_max_error_lsb for d in self.by_table.values()),
                    default=math.nan)
        return FitResult(closest[0], False, tuple(closest[:12]), floor, self.budget_lsb,
                         self._evaluated(), asked)

    def _evaluated(self) -> tuple[Design, ...]:
        return tuple(d for d in self.by_table.values() if self.within_cap(d.table))

    def _configs(self):
        """Every combination but the entries and the fit, narrowest range first."""

        fin = self.base.in_format
        fold_options = [False]
        if self.traits.symmetry is not None and fin.zero_point > fin.min_code:  # inputs below 0
            fold_options.insert(0, True)  # half the entries: often the cheapest, try first
        tails = Tails.AUTO if self._has_linear_asymptote() else Tails.CLAMP
        for fold in fold_options:
            for rng in self._distinct(self._ranges(tails, fold), tails, fold):
                for interp in self.interps:
                    for guard in (GUARD_CHOICES if interp == "linear" else (0,)):
                        yield dict(range=rng, interp=Interp(interp), tails=tails, fold=fold,
                                   guard_bits=guard)

    def _distinct(self, ranges, tails, fold):
        """Ranges that align to other tables than a narrower one does (at any entries)."""

        seen = set()
        for rng in ranges:
            opts = dict(range=rng, interp=Interp.NONE, tails=tails, fold=fold, guard_bits=0,
                        coeffs=Coeffs.SAMPLE)
            aligned = []
            for k in range(self._top_log2(opts) + 1):
                t = self.compile({**opts, "entries": 1 << k})
                aligned.append(None if t is None else (t.lo_code, t.shift, t.hi_code))
            if tuple(aligned) not in seen:
                seen.add(tuple(aligned))
                yield rng

    def _sweep(self, configs, target: float) -> Design | None:
        """The cheapest design of the grid whose violation is below ``target``."""

        best = None

        def better(d):
            return d is not None and (best is None or self.rank(d) < self.rank(best))

        # sample first over every combination (cheap), then minimax (slow) against the
        # best sample design; the grid has minimax below the fewest entries sample needs
        tops = []
        for opts in configs:
            found, top = None, self._top_log2(opts) + 1
            if "sample" in self.fits:
                found, top = self._fewest_entries(opts, Coeffs.SAMPLE, target, best)
                if better(found):
                    best = found
            tops.append(top)
        if "minimax" in self.fits:
            for opts, top in zip(configs, tops):
                mm = self._below(opts, Coeffs.MINIMAX, top - 1, target, best)
                if better(mm):
                    best = mm
        if "faithful" in self.fits and self.budget_lsb <= 1.0:
            # exact faithful entries: the narrowest words at sample's entries and below
            # (top 0: even one entry per input code missed with sampled entries: none tried)
            for opts, top in zip(configs, tops):
                start = min(top, self._top_log2(opts)) if top > 0 else -1
                fa = self._below(opts, Coeffs.FAITHFUL, start, target, best)
                if better(fa):
                    best = fa
            if "linear" in self.interps and self.regions:  # hierarchical layouts
                hier = best_regions(self, configs, target, best)
                if better(hier):
                    best = hier
        return best

    def _affordable(self, table: Table | None, best: Design | None) -> bool:
        """Within the cap and not dearer than the best so far: worth measuring."""
        return (table is not None and self.within_cap(table)
                and (best is None or self.cost(table) <= self.cost(best.table)))

    def _may_afford(self, sample: Table | None, best: Design | None) -> bool:
        """Could minimax at the entries of ``sample`` be affordable?

        Its entries approximate the same values as sample's: they need at least one
        bit fewer per word than sample's (the bound the search assumes).
        """
        if sample is None:
            return True
        words, narrower = sample.values.size, max(1, sample.store_bits - 1)
        bits = words * narrower
        if self.max_rom_bits is not None and bits > self.max_rom_bits:
            return False
        if best is None:
            return True
        lower = (words * (c_word_bits(narrower) // 8), bits)
        if self.objective == "bits":
            lower = lower[::-1]
        return lower <= self.cost(best.table)

    def _fewest_entries(self, opts, fit, target, best) -> tuple[Design | None, int]:
        """Bisection over log2(entries) below the dearest affordable table.

        The error falls as entries grow and the cost rises: the fewest entries
        meeting the target, among the tables within the cap and not dearer than
        ``best``, is found with a few exhaustive analyses. Returns it and its log2
        (or the log2 of the fewest entries it may have: above the affordable ones,
        0 if even the full table misses the target).
        """
        top = hi = self._top_log2(opts)
        while hi >= 0 and not self._affordable(self.compile({**opts, "coeffs": fit,
                                                             "entries": 1 << hi}), best):
            hi -= 1  # compiling is cheap; the analysis is what costs
        if hi < 0:
            return None, 0
        found = self.measure({**opts, "coeffs": fit, "entries": 1 << hi})
        if found is None or not self.violation(found.report) < target:
            return None, (hi + 1 if hi < top else 0)
        lo = 0
        while lo < hi:
            mid = (lo + hi) // 2
            design = self.measure({**opts, "coeffs": fit, "entries": 1 << mid})
            if design is not None and self.violation(design.report) < target:
                found, hi = design, mid
            else:
                lo = mid + 1
        return found, hi

    def _top_log2(self, opts) -> int:
        """log2 of the entries of a full table over the range: one per input code (<= 2^16)."""
        fin = self.base.in_format
        lo, hi = opts["range"]
        lo_code = fin.zero_point if opts["fold"] else math.floor(fin.real_to_codes(lo))
        span = math.ceil(fin.real_to_codes(hi)) - lo_code
        return min(16, max(0, (span - 1).bit_length()))

    def _below(self, opts, coeffs, top, target, best) -> Design | None:
        """``coeffs`` entries from ``2^top`` down, halving while they still meet the target.

        A layout without faithful entries ends the walk (fewer entries cannot do
        better); a minimax layout that cannot be built is only skipped.
        """
        found = None
        for k in range(top, -1, -1):
            o = {**opts, "coeffs": coeffs, "entries": 1 << k}
            if not self._may_afford(self.compile({**o, "coeffs": Coeffs.SAMPLE}), best):
                continue  # fitting entries can take seconds: skip the hopeless ones
            table = self.compile(o)
            if table is None and coeffs is Coeffs.FAITHFUL:
                break
            if not self._affordable(table, best):
                continue
            design = self.measure(o)
            if design is None or not self.violation(design.report) < target:
                break
            found = design
        return found

    def _affordable_designs(self, configs) -> list[Design]:
        """When the cap leaves nothing measured: per combination, the most entries within it."""

        out = []
        for opts in configs:
            for k in range(self._top_log2(opts), -1, -1):
                o = {**opts, "coeffs": Coeffs.SAMPLE, "entries": 1 << k}
                if self._affordable(self.compile(o), None):
                    d = self.measure(o)
                    if d is not None:
                        out.append(d)
                    break
        return out

    def _has_linear_asymptote(self) -> bool:
        return any(a is not None and a.slope != 0 for a in (self.traits.neg, self.traits.pos))

    def _ranges(self, tails, fold) -> list[tuple[float, float]]:
        """Ranges whose tails alone stay below L, for L = 2^(i/2) LSB up to the max budget.

        The narrowest suits a max budget; wider ones leave less error in the tails
        for a mean budget. The ladder is fixed (not a fraction of the budget), so a
        looser max budget keeps every range of a tighter one and adds narrower ones.
        """
        fin = self.base.in_format
        full = (fin.min, fin.max + fin.lsb)
        top = math.floor(2 * math.log2(self.budget_lsb))
        out: list[tuple[float, float]] = []
        for i in range(top, top - 64, -1):
            rng = self._narrowest_range(tails, fold, 2.0 ** (i / 2))
            if rng not in out:
                out.append(rng)
            if rng[0] <= full[0] and rng[1] >= full[1] or 2.0 ** (i / 2) < 1 / 64:
                break
        return out

    def _narrowest_range(self, tails, fold, limit) -> tuple[float, float]:
        """The narrowest [lo, hi) whose tails alone stay inside the budget.

        For each input beyond a boundary the tail error is measured from the
        reference: the rounded asymptote against f(x) (for a clamp, the rounded
        f(b) against every f(x) beyond b).
        """

        fin, fout = self.base.in_format, self.fout
        if self._reference is None:
            x = fin.dequantize(fin.codes())
            y = reference_on_codes(self.base)
            if self.base.clips_reference:
                y = clipped(y, fout)
            self._reference = (x, y)
        x, y = self._reference
        finite = np.isfinite(y)
        with np.errstate(over="ignore"):
            y_lsb = fout.real_to_codes(np.where(finite, y, 0.0))
        n = x.size

        def quantized(v):
            return np.clip(np.floor(v + 0.5), fout.min_code, fout.max_code)

        def tail_ok(asym, side):
            # inputs where the reference is not finite are left out of the analysis:
            # any tail serves them
            if tails is not Tails.CLAMP and asym is not None:
                # the line's output, rounded once, against the reference
                with np.errstate(all="ignore"):
                    err = np.abs(quantized(fout.real_to_codes(asym(x))) - y_lsb)
                return (err < limit) | ~finite
            # clamp: a boundary b serves every input beyond it with (about) f(b)
            ys = np.where(finite, y_lsb, np.nan)  # NaN: left out of the running extremes
            ys = ys if side == "left" else ys[::-1]
            cmax = np.fmax.accumulate(ys)
            cmin = np.fmin.accumulate(ys)
            held = quantized(np.append(ys[1:], ys[-1]))  # boundary i+1 holds its value
            with np.errstate(all="ignore"):
                ok = ~(np.fmax(np.abs(held - cmax), np.abs(held - cmin)) >= limit)
            return ok if side == "left" else ok[::-1]

        left_ok = tail_ok(self.traits.neg, "left")
        right_ok = tail_ok(self.traits.pos, "right")
        # the longest prefix / suffix where tails are fine
        i_lo = int(np.argmin(left_ok)) if not left_ok.all() else n
        i_hi = n - (int(np.argmin(right_ok[::-1])) if not right_ok.all() else n)
        if i_lo >= i_hi:  # tails alone meet the budget: a small table around the middle
            mid = (i_lo + i_hi) // 2
            i_lo, i_hi = max(0, mid - 1), min(n, mid + 1)
        lo, hi = float(x[i_lo]), float(x[i_hi - 1]) + fin.lsb
        if fold:
            r = max(-lo, hi)
            lo, hi = -r, min(r, fin.max + fin.lsb)
        return lo, hi


