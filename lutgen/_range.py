"""The compiler's input range: the fold, the requested range, and its alignment to segments.

:class:`RangeChooser` is the part of ``lutgen.table``'s compiler that turns a
spec's range, entries or regions into the table's first input code ``LO`` and
its segment layout, widening the range to whole segments (and saying so in the
table's notes) and refusing ranges outside the input format or the function's
domain.
"""

from __future__ import annotations

import numpy as np

from ._affine import ceil_code, floor_code
from .errors import DomainError, RangeError, SpecError
from .regions import Regions, format_regions
from .spec import Fold

__all__ = ["RangeChooser", "DEFAULT_ENTRIES", "folded_range", "range_codes"]

DEFAULT_ENTRIES = 256


def folded_range(fin, lo: float, hi: float) -> tuple[float, float]:
    """The real range a folded table stores: from real 0 to the larger end, inside ``fin``."""
    return 0.0, min(max(hi, -lo), fin.max + fin.lsb)


def range_codes(fin, lo: float, hi: float) -> tuple[int, int]:
    """``[lo, hi)`` in input codes: the code at or below ``lo``, the code at or above ``hi``."""
    return floor_code(fin.real_to_codes(lo)), ceil_code(fin.real_to_codes(hi))


class RangeChooser:
    """Mixed into the compiler: needs ``spec``, ``fin``, ``act``, ``traits`` and ``notes``."""

    def _fold_kind(self) -> Fold:
        if not self.spec.fold:
            return Fold.NONE
        sym = self.traits.symmetry
        what = f"'{self.act.name}'" + (" derivative" if self.spec.derivative else "")
        if sym is None:
            raise SpecError(
                f"{what} is not odd, even or point-symmetric, so it cannot be folded; drop --fold"
            )
        if not self.fin.signed and not self.fin.is_affine:
            raise SpecError(f"folding needs a signed input format, got {self.fin}")
        if self.fin.zero_point <= self.fin.min_code:
            raise SpecError(
                f"folding mirrors the inputs below real 0 (code {self.fin.zero_point}), but "
                f"{self.fin} has none; drop --fold"
            )
        return Fold(sym)

    def _requested_range(self, fold):
        fin = self.fin
        fmt_lo, fmt_hi = fin.min, fin.max + fin.lsb
        if self.spec.range is not None:
            lo, hi = self.spec.range
            if lo < fmt_lo or hi > fmt_hi:
                raise RangeError(
                    f"range [{lo:g}, {hi:g}) is outside the input format {fin} "
                    f"([{fmt_lo:g}, {fmt_hi:g})); choose a range inside it or a wider format"
                )
        else:
            default = self.act.range_for(self.spec.params_dict)
            lo, hi = max(default[0], fmt_lo), min(default[1], fmt_hi)
            if not lo < hi:
                raise RangeError(
                    f"the default range {list(default)} of '{self.act.name}' lies "
                    f"outside the input format {fin} ([{fmt_lo:g}, {fmt_hi:g})); give --range"
                )
        return folded_range(fin, lo, hi) if fold else (lo, hi)

    def _check_domain(self, lo, hi, fold):
        t = self.traits
        spans = [(lo, hi)] + ([(-hi, -lo)] if fold else [])
        for a, b in spans:
            if not t.finite_on(a, b):
                where = f"its domain is [{t.domain[0]:g}, {t.domain[1]:g}]"
                if t.poles:
                    where += f" without {', '.join(f'{p:g}' for p in t.poles)}"
                raise DomainError(
                    f"'{self.act.name}' is not finite on the range [{a:g}, {b:g}): {where}; "
                    "choose a range inside it"
                )

    def _regions(self, rb, shifts) -> Regions:
        big = [s for s in shifts if s > rb]
        if big:
            lo, hi = (float(v) for v in self.fin.codes_to_real(np.array([0, 1 << rb])))
            raise SpecError(
                f"regions {','.join(map(str, shifts))}: shift {big[0]} exceeds the regions' "
                f"width: the range splits into {len(shifts)} regions of 2^{rb} codes "
                f"({hi - lo:g} wide), so each shift must be 0..{rb}; use smaller shifts, fewer "
                "regions or a wider range")
        return Regions(rb, shifts)

    def _counted_range(self, lo, hi, regions: Regions) -> int:
        """LO of counted regions: the range's first code; they must cover the range."""
        fin = self.fin
        lo_code, hi_code = range_codes(fin, lo, hi)
        real = fin.codes_to_real
        end = lo_code + regions.span
        shown = f"regions {format_regions(regions.spec_value())}"
        if end < hi_code:
            raise SpecError(f"{shown} cover {regions.span} input codes, [{float(real(lo_code)):g}, "
                            f"{float(real(end)):g}), less than the range [{lo:g}, {hi:g}): add "
                            "segments or narrow the range")
        top = fin.max_code + 1  # folded: u reaches 2Z - min_code
        if self.spec.fold:
            top = max(top, 2 * fin.zero_point - fin.min_code + 1)
        if end > top:
            raise SpecError(f"{shown} cover {regions.span} input codes from {float(real(lo_code)):g}"
                            f", beyond the top of {fin}: remove segments")
        if end != hi_code or lo_code != float(fin.real_to_codes(lo)):
            self.notes.append(f"range widened from [{lo:g}, {hi:g}) to [{float(real(lo_code)):g}, "
                              f"{float(real(end)):g}) by the regions' segments")
        return lo_code

    def _align(self, lo, hi, entries, what):
        fin = self.fin
        lo_code, hi_code = range_codes(fin, lo, hi)
        span = hi_code - lo_code
        if entries is None:
            entries = min(DEFAULT_ENTRIES, 1 << max(0, (span - 1).bit_length()))
        elif entries > 1 << max(0, (span - 1).bit_length()):
            raise SpecError(
                f"{'entries' if what == 'segments' else what} {entries} exceed the {span} input "
                "codes of the range; "
                f"use at most {1 << max(0, (span - 1).bit_length())} or a wider range"
            )
        shift = max(0, (-(-span // entries) - 1).bit_length())
        new_hi = lo_code + (entries << shift)
        if new_hi != hi_code and not self.spec.fold:
            # widen to the right, up to the top of the format and then to the left
            # (no stored entry wasted on inputs that cannot occur), keeping the function's
            # domain; if nothing fits both, the plain widening to the right
            width = entries << shift
            real = fin.codes_to_real
            for start in (lo_code, min(lo_code, fin.max_code + 1 - width), hi_code - width):
                inside = start >= fin.min_code and start + width <= fin.max_code + 1
                if inside and self.traits.finite_on(float(real(start)), float(real(start + width))):
                    lo_code, new_hi = start, start + width
                    break
        if new_hi != hi_code or lo_code != float(fin.real_to_codes(lo)):
            self.notes.append(
                f"range widened from [{lo:g}, {hi:g}) to [{float(fin.codes_to_real(lo_code)):g}, "
                f"{float(fin.codes_to_real(new_hi)):g}) so that {entries} {what} of 2^{shift} "
                "codes cover it"
            )
        return lo_code, shift, entries

