"""Design to an error budget: the cheapest table (fewest ROM bits) that meets it.

The search walks interpolation modes, folding, tails, guard bits and fitting
methods; for each combination it finds the fewest entries that meet the budget
by bisection over powers of two (the error falls as entries grow), and the
narrowest range whose tails alone meet the budget. Every figure it reports is
the exhaustive analysis of the compiled table (:func:`lutgen.analyze`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from .analysis import ErrorReport, analyze
from .errors import LutgenError, SpecError
from .fixedpoint import FixedFormat
from .fixedpoint import sized_format
from ._reference import EXHAUSTIVE_LIMIT_BITS, reference_on_codes
from .spec import Coeffs, Interp, Tails, TableSpec, make_spec, spec_traits
from .table import Table, build

__all__ = ["Budget", "Design", "FitResult", "fit"]

GUARD_CHOICES = (0, 1, 2, 3, 4, 5, 6)
INTERPS = ("linear", "nearest", "none")


@dataclass(frozen=True)
class Budget:
    """An error bound: absolute (``1e-3``) or in output LSBs (``1lsb``)."""

    value: float
    lsb: bool

    @classmethod
    def parse(cls, text) -> "Budget":
        if isinstance(text, Budget):
            return text
        raw = str(text).strip().lower()
        m = re.fullmatch(r"([0-9.eE+-]+)\s*(lsb)?", raw)
        try:
            value = float(m.group(1)) if m else math.nan
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise SpecError(
                f"cannot read error budget {text!r}; write a positive number (1e-3) or LSBs "
                "of the output format (1lsb, 0.5lsb)"
            )
        return cls(value, bool(m.group(2)))

    def in_lsb(self, fout: FixedFormat) -> float:
        return self.value if self.lsb else self.value / fout.lsb

    def __str__(self) -> str:
        return f"{self.value:g}lsb" if self.lsb else f"{self.value:g}"


@dataclass(frozen=True)
class Design:
    """One evaluated table: its options (as ``lutgen build`` names them) and figures."""

    table: Table = field(repr=False)
    report: ErrorReport = field(repr=False)
    meets: bool

    def to_dict(self) -> dict:
        t, r = self.table, self.report
        lo, hi = t.spec.range if t.spec.range is not None else t.range
        return {
            "entries": t.entries,
            "interp": t.interp.value,
            "range": [lo, hi],
            "effective_range": list(t.range),
            "tails": t.spec.tails.value,
            "fold": t.spec.fold,
            "coeffs": t.spec.coeffs.value,
            "guard_bits": t.guard_bits,
            "in_format": str(t.in_format),
            "out_format": str(t.out_format),
            "meets": self.meets,
            **{k: v for k, v in r.to_dict().items()
               if k not in ("entries", "in_format", "out_format", "interp")},
        }


@dataclass(frozen=True)
class FitResult:
    best: Design | None  # the cheapest design meeting the budget, or the closest one
    met: bool
    candidates: tuple[Design, ...]
    floor_max_error_lsb: float
    budget_lsb: float
    evaluated: tuple[Design, ...] = ()  # every design the search compiled (for the Pareto plot)

    def to_dict(self) -> dict:
        return {
            "met": self.met,
            "budget_lsb": self.budget_lsb,
            "floor_max_error_lsb": self.floor_max_error_lsb,
            "best": None if self.best is None else self.best.to_dict(),
            "candidates": [d.to_dict() for d in self.candidates],
        }


def fit(name, *, expr=None, max_error, mean_error=None, dist=None, in_format="s16.12", out_format=None,
        interp="any", max_rom_bits=None, params=None, derivative=False, output=None,
        fits=("sample", "minimax")) -> FitResult:
    """The table with the fewest ROM bits whose exhaustive error meets the budget.

    Parameters
    ----------
    max_error : str or float or Budget
        The bound on the max error: ``1e-3`` absolute or ``"1lsb"``; met when the
        max error is below it.
    mean_error : optional
        A bound on the mean absolute error (weighted by ``dist`` if given).
    interp : ``"any"`` or one of none, nearest, linear
    max_rom_bits : int, optional
        Designs above it are not candidates.
    """
    base = make_spec(name, expr=expr, params=params, derivative=derivative, output=output,
                     in_format=in_format, out_format=out_format)
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
    if max_rom_bits is not None and max_rom_bits <= 0:
        raise SpecError(f"--max-rom-bits must be positive, got {max_rom_bits}")
    return _Search(base, budget, mean_budget, dist, interps, max_rom_bits, fits).run()


class _Search:
    def __init__(self, base: TableSpec, budget, mean_budget, dist, interps, max_rom_bits, fits):
        self.base = base
        self.budget = budget
        self.mean_budget = mean_budget
        self.dist = dist
        self.interps = interps
        self.max_rom_bits = max_rom_bits
        self.fits = fits
        self.traits = spec_traits(base)
        self.seen: dict = {}
        self.last_error: LutgenError | None = None
        self.fout = base.out_format or self._fitted_out_format()
        self.budget_lsb = budget.in_lsb(self.fout)

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

    # -- evaluation -----------------------------------------------------------------------
    def evaluate(self, **opts) -> Design | None:
        key = tuple(sorted(opts.items()))
        if key in self.seen:
            return self.seen[key]
        spec = TableSpec(**{**self.base.to_options(), "out_format": self.fout, **opts})
        try:
            table = build(spec)
        except LutgenError as exc:
            self.seen[key] = None
            self.last_error = exc
            return None
        report = analyze(table, dist=self.dist)
        meets = report.max_error_lsb < self.budget_lsb
        if self.mean_budget is not None:
            mean = report.weighted_mean_abs_error if self.dist else report.mean_abs_error
            meets = meets and mean / self.fout.lsb < self.mean_budget.in_lsb(self.fout)
        if self.max_rom_bits is not None and table.rom_bits > self.max_rom_bits:
            meets = False
        design = Design(table, report, meets)
        self.seen[key] = design
        return design

    # -- the search -----------------------------------------------------------------------
    def run(self) -> FitResult:
        fin = self.base.in_format
        fold_options = [False]
        if self.traits.symmetry is not None and fin.signed:
            fold_options.append(True)
        tail_options = [Tails.AUTO] if self._has_linear_asymptote() else [Tails.CLAMP]
        best: Design | None = None
        for interp in self.interps:
            guards = GUARD_CHOICES if interp == "linear" else (0,)
            for fold in fold_options:
                for tails in tail_options:
                    rng = self._narrowest_range(tails, fold)
                    for guard in guards:
                        opts = dict(range=rng, interp=Interp(interp), tails=tails, fold=fold,
                                    guard_bits=guard)
                        found = None
                        if "sample" in self.fits:
                            found = self._fewest_entries(coeffs=Coeffs.SAMPLE, best=best, **opts)
                        if "minimax" in self.fits:
                            # minimax is slower and never worse: try it below what sample needs
                            start = found.table.entries // 2 if found else self._max_entries(opts)
                            found = self._minimax_below(start, opts) or found
                        if found is not None and (best is None or _cost(found) < _cost(best)):
                            best = found
        designs = [d for d in self.seen.values() if d is not None]
        if not designs:
            raise SpecError(f"no table of '{self.base.activation}' over {fin} can be built: "
                            f"{self.last_error}")
        meeting = sorted((d for d in designs if d.meets), key=_cost)
        floor = min((d.report.floor_max_error_lsb for d in designs), default=math.nan)
        if meeting:
            return FitResult(meeting[0], True, tuple(meeting[:12]), floor, self.budget_lsb,
                             tuple(designs))
        closest = sorted(designs, key=lambda d: (d.report.max_error_lsb, d.table.rom_bits))
        return FitResult(closest[0] if closest else None, False, tuple(closest[:12]), floor,
                         self.budget_lsb, tuple(designs))

    def _has_linear_asymptote(self) -> bool:
        return any(a is not None and a.slope != 0 for a in (self.traits.neg, self.traits.pos))

    def _fewest_entries(self, *, best, **opts) -> Design | None:
        """Bisection over log2(entries): the error falls as entries grow."""
        top = self._max_entries(opts).bit_length() - 1
        lo, hi = 0, top
        top_design = self.evaluate(entries=1 << hi, **opts)
        if top_design is None or not top_design.meets:
            return None
        found = top_design
        while lo < hi:
            mid = (lo + hi) // 2
            if best is not None and _words(1 << mid, opts) * 1 > best.table.rom_bits:
                lo = mid + 1  # even one-bit words would cost more than the best so far
                continue
            design = self.evaluate(entries=1 << mid, **opts)
            if design is not None and design.meets:
                found, hi = design, mid
            else:
                lo = mid + 1
        return found

    def _max_entries(self, opts) -> int:
        """Entries of a full table over the range: one per input code (at most 2^16)."""
        fin = self.base.in_format
        lo, hi = opts["range"]
        lo_code = 0 if opts["fold"] else math.floor(lo * 2.0**fin.frac)
        span = math.ceil(hi * 2.0**fin.frac) - lo_code
        return 1 << min(16, max(0, (span - 1).bit_length()))

    def _minimax_below(self, entries, opts) -> Design | None:
        """Minimax from ``entries`` down, halving while it still meets the budget."""
        best = None
        while entries >= 1:
            design = self.evaluate(entries=entries, coeffs=Coeffs.MINIMAX, **opts)
            if design is None or not design.meets:
                break
            best, entries = design, entries // 2
        return best

    def _narrowest_range(self, tails, fold) -> tuple[float, float]:
        """The narrowest [lo, hi) whose tails alone stay inside the budget.

        For each input beyond a boundary the tail error is measured from the
        reference: the rounded asymptote against f(x) (for a clamp, the rounded
        f(b) against every f(x) beyond b).
        """
        fin, fout = self.base.in_format, self.fout
        codes = fin.codes()
        x = fin.dequantize(codes)
        y = reference_on_codes(self.base)
        finite = np.isfinite(y)
        scale = 2.0**fout.frac
        with np.errstate(over="ignore"):
            y_lsb = np.where(finite, y, 0.0) * scale
        limit = self.budget_lsb
        n = codes.size

        def quantized(v):
            return np.clip(np.floor(v + 0.5), fout.min_code, fout.max_code)

        def tail_ok(asym, side):
            # inputs where the reference is not finite are left out of the analysis:
            # any tail serves them
            if tails is not Tails.CLAMP and asym is not None:
                # the line's output, rounded once, against the reference
                with np.errstate(all="ignore"):
                    err = np.abs(quantized(asym(x) * scale) - y_lsb)
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


def _words(entries, opts) -> int:
    return entries + (0 if opts["interp"].value == "none" else 1)


def _cost(d: Design):
    return (d.table.rom_bits, d.report.max_error_lsb)
