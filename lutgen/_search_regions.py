"""The budget search's hierarchical layouts: 2 to 16 regions, equal or counted.

For the narrowest range of each fold and every guard-bit count, each number of
regions gets the largest shift per region that keeps faithful knots feasible
(exactly, :class:`lutgen._region_fit.ShiftChooser`), then the same with words one
and two bits narrower; for the best three guard-bit counts, counted regions whose
boundaries the search places (:mod:`lutgen._region_counted`). The cheapest layouts
by their exact knot count and word are compiled with faithful coefficients and
measured by the exhaustive analysis like every other design of the search; the
cheapest that meets the budget wins.
"""

from __future__ import annotations

from ._reference import clipped, reference_on_codes
from ._region_counted import counted_layouts
from ._region_fit import ShiftChooser
from .regions import Regions
from .spec import Coeffs, Interp

__all__ = ["REGION_COUNTS", "best_regions"]

REGION_COUNTS = tuple(range(2, 17))
MEASURED = 6  # layouts compiled and analysed, cheapest estimate first
SCOUT_REGIONS = 8  # every guard-bit count is tried at this many regions first ...
GUARDS_KEPT = 3  # ... and the best three at every region count


def best_regions(search, configs, target: float, best):
    """The cheapest hierarchical design meeting ``target`` (a violation), or None.

    ``search`` is the running :class:`lutgen.search._Search` (its compile, measure
    and cost); ``best`` the cheapest design found so far (only cheaper ones are measured).
    """
    firsts = {}
    for opts in configs:  # narrowest range first, folded first
        if opts["interp"] is Interp.LINEAR:
            firsts.setdefault(opts["fold"], {}).setdefault(opts["guard_bits"], opts)
    ref = None
    estimates = []
    for fold, by_guard in firsts.items():
        if estimates:
            break  # a folded layout exists: the unfolded ones store twice the knots
        # every guard-bit count at one region count, then every region count at the best two
        scout = {}
        for guard, opts in by_guard.items():
            found = []
            ref = _estimate(search, opts, ref, found, (SCOUT_REGIONS,))
            scout[guard] = min((e[0] for e in found), default=None)
            estimates += found
        ranked = sorted((bits, g) for g, bits in scout.items() if bits is not None)
        for _, guard in ranked[:GUARDS_KEPT]:
            ref = _estimate(search, by_guard[guard], ref, estimates,
                            [n for n in REGION_COUNTS if n != SCOUT_REGIONS])
            ref = _estimate(search, by_guard[guard], ref, estimates, (2,), counted=True)
    estimates.sort(key=lambda e: e[0])
    found = None
    for bits, opts, shifts in estimates[:MEASURED]:
        if search.max_rom_bits is not None and bits > search.max_rom_bits:
            continue
        if found is not None and bits >= found.table.rom_bits:
            break
        if best is not None and bits > search.cost(best.table)[0] and search.objective == "bits":
            break
        design = search.measure({**opts, "coeffs": Coeffs.FAITHFUL, "regions": shifts})
        if design is not None and search.violation(design.report) < target and (
                found is None or search.rank(design) < search.rank(found)):
            found = design
    return found


def _estimate(search, opts, ref, estimates, counts, counted=False):
    """Adds the layouts of each region count at ``opts`` to ``estimates`` (``counted``: the
    counted-region layouts over the intervals of the first count instead); returns ``ref``."""
    for n in counts:
        dense = search.compile({**opts, "coeffs": Coeffs.SAMPLE, "regions": (0,) * n})
        if dense is None or dense.regions is None:
            continue
        if ref is None:
            ref = reference_on_codes(dense.spec)
            if dense.spec.clips_reference:
                ref = clipped(ref, dense.out_format)
        # the chooser works on the knots as chosen (a negating fold stores them minus E)
        chooser = ShiftChooser(dense.values + dense.fold_e, dense.prog, dense.layout, ref,
                               search.budget_lsb, offset=dense.fold_e)
        estimates += counted_layouts(chooser, dense, opts) if counted else _layouts(chooser, opts)
    return ref


def _layouts(chooser: ShiftChooser, opts):
    """(estimated ROM bits, options, shifts) of the layouts worth compiling."""
    out = []
    shifts = chooser.choose()
    if shifts is None:
        return out
    word = chooser.narrowest(shifts)
    if word is None:
        return out
    out.append((_bits(chooser, shifts, word[0]), opts, shifts))
    for bits in (word[0] - 1, word[0] - 2):
        for lo_hi in chooser.words_below(bits) if bits > 0 else ():
            narrow = chooser.choose(lo_hi)
            if narrow is not None:
                out.append((_bits(chooser, narrow, bits), opts, narrow))
                break
        else:
            break  # no layout in this word: none in a narrower one
    return out


def _bits(chooser: ShiftChooser, shifts, word_bits: int) -> int:
    regions = Regions(chooser.rb, shifts)
    return regions.knots * word_bits + regions.table_bits
