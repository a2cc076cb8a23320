"""Hierarchical tables: the region layout of ``docs/ARITHMETIC.md`` ("Hierarchical tables").

A hierarchical table splits its range ``[LO, HI)`` into ``n`` equal regions of
``2^RB`` input codes (``HI - LO = n << RB``); region ``r`` has its own segment
shift ``S_r`` and its first knot at ``BASE[r]`` of one chained knot array.
:class:`Regions` holds ``RB`` and the shifts and derives the rest. This module
imports no numba: the exporters read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import SpecError

__all__ = ["Regions", "MAX_REGIONS", "parse_shifts"]

MAX_REGIONS = 16
MAX_REGION_SHIFT = 30


def parse_shifts(value, what: str = "regions") -> tuple[int, ...] | None:
    """``"8,8,7"``, ``[8, 8, 7]`` or ``(8, 8, 7)`` to a tuple of shifts (None stays None)."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    if isinstance(items, (bytes, dict)) or not hasattr(items, "__iter__"):
        raise SpecError(f"{what} must be a comma list of segment shifts, e.g. 8,8,7,6, "
                        f"got {value!r}")
    shifts = []
    for item in items:
        text = item.strip() if isinstance(item, str) else item
        if isinstance(text, str) and text.isdigit():
            text = int(text)
        if isinstance(text, bool) or not isinstance(text, (int, np.integer)) or not (
                0 <= int(text) <= MAX_REGION_SHIFT):
            raise SpecError(f"{what} must be a comma list of segment shifts 0..{MAX_REGION_SHIFT}"
                            f" (one per region, 1 to {MAX_REGIONS} regions), e.g. 8,8,7,6; "
                            f"got {value!r}")
        shifts.append(int(text))
    if not 1 <= len(shifts) <= MAX_REGIONS:
        raise SpecError(f"{what} must list 1 to {MAX_REGIONS} segment shifts (one per region), "
                        f"got {len(shifts)} in {value!r}")
    return tuple(shifts)


def _bits(v: int) -> int:
    """The unsigned width of ``v`` (at least 1): ``bits(v)`` of the document."""
    return max(1, int(v).bit_length())


@dataclass(frozen=True)
class Regions:
    """``n`` regions of ``2^granule_bits`` codes, region ``r`` in segments of ``2^shifts[r]``.

    >>> Regions(4, (2, 3))
    Regions(granule_bits=4, shifts=(2, 3))
    """

    granule_bits: int  # RB: every region is 2^RB input codes wide
    shifts: tuple[int, ...]  # S_r per region, 0 <= S_r <= RB

    def __post_init__(self):
        object.__setattr__(self, "shifts", tuple(int(s) for s in self.shifts))
        if not 1 <= len(self.shifts) <= MAX_REGIONS:
            raise SpecError(f"a table has 1 to {MAX_REGIONS} regions, got {len(self.shifts)}")
        bad = [s for s in self.shifts if not 0 <= s <= self.granule_bits]
        if self.granule_bits < 0 or bad:
            raise SpecError(
                f"region shift {bad[0] if bad else self.granule_bits} does not fit regions of "
                f"2^{self.granule_bits} codes: each shift must be 0..{self.granule_bits}")

    @property
    def n(self) -> int:
        return len(self.shifts)

    @property
    def smax(self) -> int:
        """SMAX: the largest shift (the final rounding is by G + SMAX)."""
        return max(self.shifts)

    @property
    def span(self) -> int:
        """HI - LO: the input codes the regions cover."""
        return self.n << self.granule_bits

    @property
    def counts(self) -> tuple[int, ...]:
        """Segments per region: ``2^(RB - S_r)``."""
        return tuple(1 << (self.granule_bits - s) for s in self.shifts)

    @property
    def bases(self) -> tuple[int, ...]:
        """BASE[r]: the index of region ``r``'s first knot."""
        out, total = [], 0
        for c in self.counts:
            out.append(total)
            total += c
        return tuple(out)

    @property
    def segments(self) -> int:
        """Segments of the whole table (knots - 1)."""
        return sum(self.counts)

    @property
    def knots(self) -> int:
        """Stored knots: ``BASE[n-1] + 2^(RB - S_(n-1)) + 1``."""
        return self.segments + 1

    @property
    def base_bits(self) -> int:
        return _bits(self.bases[-1])

    @property
    def shift_bits(self) -> int:
        return _bits(self.smax)

    @property
    def table_bits(self) -> int:
        """The region table's bits: ``n * (bits(BASE[n-1]) + bits(SMAX))``."""
        return self.n * (self.base_bits + self.shift_bits)

    def knot_offsets(self) -> np.ndarray:
        """``off`` (input code - LO) of every knot, ascending; the last is the span."""
        parts = [(r << self.granule_bits) + (np.arange(c, dtype=np.int64) << s)
                 for r, (s, c) in enumerate(zip(self.shifts, self.counts))]
        return np.concatenate(parts + [np.array([self.span], dtype=np.int64)])

    def segment_shifts(self) -> np.ndarray:
        """The shift of every segment (its region's)."""
        return np.repeat(np.array(self.shifts, dtype=np.int64), self.counts)

    def locate(self, off) -> tuple[np.ndarray, np.ndarray]:
        """Step 3h for offsets ``0 <= off < span``: the knot ``i`` and ``w' = w << (SMAX - S_r)``."""
        off = np.asarray(off, dtype=np.int64)
        r = off >> self.granule_bits
        o = off & ((1 << self.granule_bits) - 1)
        s = np.array(self.shifts, dtype=np.int64)[r]
        i = np.array(self.bases, dtype=np.int64)[r] + (o >> s)
        w = (o & ((np.int64(1) << s) - 1)) << (self.smax - s)
        return i, w

    def describe(self, lo_code: int, to_real) -> str:
        """The layout in words: each region's input range and segment width."""
        parts = []
        for r, s in enumerate(self.shifts):
            a = float(to_real(lo_code + (r << self.granule_bits)))
            b = float(to_real(lo_code + ((r + 1) << self.granule_bits)))
            parts.append(f"[{a:g}, {b:g}): {self.counts[r]} x 2^{s}")
        return (f"{self.n} regions of 2^{self.granule_bits} codes (" + "; ".join(parts)
                + f"), region table {self.table_bits} bits")

    def to_dict(self) -> dict:
        return {"granule_bits": self.granule_bits, "shifts": list(self.shifts),
                "bases": list(self.bases), "smax": self.smax, "table_bits": self.table_bits}
