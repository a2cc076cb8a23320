"""Counted-region layouts for the budget search: region boundaries chosen on a grid.

Equal regions put a boundary every ``2^RB`` codes whether the function needs one or
not. Counted regions (docs/ARITHMETIC.md, step 3h') may end anywhere a segment
ends, so a region can hold exactly the stretch one segment width serves. Over the
offsets of a range, every aligned start and shift gets the longest run of segments
that integer knots keep within the budget as one region (exactly:
:meth:`ShiftChooser.feasible_run`); a shortest path over grid points then picks the
regions that cover the range with the fewest stored bits (knots x word plus the
region table). The whole chain is re-checked (the knot two regions share must suit
both), and a region whose knot is stuck gets half-width segments until it holds.
"""

from __future__ import annotations

from ._range import folded_range, range_codes
from ._region_fit import ShiftChooser
from .regions import MAX_REGIONS, Regions

__all__ = ["counted_layouts"]

GRID_CELLS = 128  # about this many grid points a region boundary may take
MAX_RUN = 512  # segments of one region tried at once
REPAIRS = 64  # halvings of a stuck region's segments before giving up


def needed_span(dense, opts) -> int | None:
    """Offsets the configuration's range needs from the dense table's LO, or None when the
    dense table does not start where a counted table of that range would."""
    fin = dense.in_format
    lo, hi = opts["range"]
    if opts["fold"]:
        lo, hi = folded_range(fin, lo, hi)
    lo_code, hi_code = range_codes(fin, lo, hi)
    if lo_code != dense.lo_code:
        return None
    return hi_code - lo_code


class _Planner:
    """The cheapest counted regions over ``[0, need)`` for one chooser and word range."""

    def __init__(self, chooser: ShiftChooser, need: int, word):
        self.chooser, self.need, self.word = chooser, need, word
        self.cell = 1 << max(0, (need - 1).bit_length() - GRID_CELLS.bit_length() + 1)
        self.runs: dict[tuple[int, int], int] = {}

    def run(self, start: int, shift: int) -> int:
        key = (start, shift)
        if key not in self.runs:
            self.runs[key] = self.chooser.feasible_run(start, shift, start + (MAX_RUN << shift),
                                                       self.word)
        return self.runs[key]

    def plan(self, word_bits: int, entry_bits: int) -> list[tuple[int, int]] | None:
        """(S, C) per region minimising knots * word_bits + regions * entry_bits."""
        best = {0: (0, None)}  # offset -> (cost, (previous offset, S, C))
        done = None
        for a in range(0, self.need, self.cell):
            if a not in best:
                continue
            here = best[a][0]
            for s in range(self.chooser.rb + 1):
                if a % (1 << s):
                    break  # larger shifts are not aligned either
                step = max(1, self.cell >> s)  # segments per grid cell
                for c in range(step, self.run(a, s) + 1, step):
                    end = a + (c << s)
                    cost = here + c * word_bits + entry_bits
                    if end >= self.need:
                        if done is None or cost < done[0]:
                            done = (cost, (a, s, c))
                        break
                    if end not in best or cost < best[end][0]:
                        best[end] = (cost, (a, s, c))
        if done is None:
            return None
        pairs, link = [], done[1]
        while link is not None:
            a, s, c = link
            pairs.append((s, c))
            link = best[a][1]
        return pairs[::-1]

    def repaired(self, pairs) -> Regions | None:
        """The layout with stuck regions' segments halved until the whole chain holds."""
        for _ in range(REPAIRS):
            if len(pairs) > MAX_REGIONS:
                return None
            regions = Regions.counted(pairs)
            k = self.chooser.layout_stuck(regions, self.word)
            if k < 0:
                return regions
            r = max(0, sum(1 for b in regions.bases if b < k) - 1)
            s, c = pairs[r]
            if s == 0:
                return None
            pairs = pairs[:r] + [(s - 1, 2 * c)] + pairs[r + 1:]
        return None


def counted_layouts(chooser: ShiftChooser, dense, opts) -> list[tuple[int, dict, tuple]]:
    """(estimated ROM bits, options, regions) of the counted layouts worth compiling."""
    need = needed_span(dense, opts)
    if need is None or need <= 0 or need > chooser.span:
        return []
    out = []
    word, word_bits = None, 16
    for _ in range(3):  # the narrowest word, then one and two bits narrower
        regions = _plan(_Planner(chooser, need, word), word_bits)
        found = regions and chooser.narrowest(regions)
        if not found:
            break
        bits = found[0]
        out.append((regions.knots * bits + regions.table_bits, opts, regions.spec_value()))
        word_bits = bits - 1
        if word_bits <= 0:
            break
        word = next(iter(chooser.words_below(word_bits)))
    return out


def _plan(planner: _Planner, word_bits: int) -> Regions | None:
    """Two passes: the region table's cost per region first guessed, then as found."""
    entry_bits = 24
    regions = None
    for _ in range(2):
        pairs = planner.plan(word_bits, entry_bits)
        if pairs is None:
            return regions
        found = planner.repaired(pairs)
        if found is None:
            return regions
        regions = found
        entry_bits = max(1, round(regions.table_bits / regions.n))
    return regions
