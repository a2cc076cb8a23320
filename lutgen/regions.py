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

__all__ = ["Regions", "MAX_REGIONS", "parse_shifts", "format_regions", "regions_to_json"]

MAX_REGIONS = 16
MAX_REGION_SHIFT = 30
MAX_REGION_SEGMENTS = 1 << 20


def parse_shifts(value, what: str = "regions"):
    """Regions as written to a tuple (None stays None).

    ``"8,8,7"`` / ``[8, 8, 7]``: equal regions, one segment shift each (a tuple of
    ints). ``"9x2,8x52"`` / ``["9x2", "8x52"]``: counted regions, ``S x C`` (C segments
    of 2^S codes) each (a tuple of ``(S, C)`` pairs). One form per table.
    """
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value
    if isinstance(items, (bytes, dict)) or not hasattr(items, "__iter__"):
        raise SpecError(f"{what} must be a comma list of segment shifts, e.g. 8,8,7,6, "
                        f"or of S x C (C segments of 2^S codes), e.g. 9x2,8x52; got {value!r}")
    shifts = []
    for item in items:
        text = item.strip() if isinstance(item, str) else item
        if isinstance(text, (tuple, list)) and len(text) == 2:
            text = _written(tuple(text))
        if isinstance(text, str) and "x" in text and text.split("x")[0].strip().isdigit():
            shifts.append(_counted(text, value, what))
            continue
        if isinstance(text, str) and text.isdigit():
            text = int(text)
        if isinstance(text, bool) or not isinstance(text, (int, np.integer)) or not (
                0 <= int(text) <= MAX_REGION_SHIFT):
            raise SpecError(f"{what} must be a comma list of segment shifts 0..{MAX_REGION_SHIFT}"
                            f" (one per region, 1 to {MAX_REGIONS} regions), e.g. 8,8,7,6, or "
                            f"of S x C, e.g. 9x2,8x52; got {value!r}")
        shifts.append(int(text))
    if not 1 <= len(shifts) <= MAX_REGIONS:
        raise SpecError(f"{what} must list 1 to {MAX_REGIONS} regions, "
                        f"got {len(shifts)} in {value!r}")
    if len({isinstance(v, tuple) for v in shifts}) > 1:
        raise SpecError(f"{what}: give every region as a shift (8,8,7) or every one as S x C "
                        f"(9x2,8x52), not both; got {value!r}")
    return tuple(shifts)


def _counted(text: str, value, what: str) -> tuple[int, int]:
    s, _, c = text.partition("x")
    if not (s.strip().isdigit() and c.strip().isdigit()) or not (
            0 <= int(s) <= MAX_REGION_SHIFT and 1 <= int(c) <= MAX_REGION_SEGMENTS):
        raise SpecError(f"{what}: {text!r} is not S x C with a shift S in 0..{MAX_REGION_SHIFT} "
                        f"and 1 to {MAX_REGION_SEGMENTS} segments C, e.g. 9x2; got {value!r}")
    return int(s), int(c)


def _written(region):
    """One parsed region as written: its shift, or ``"SxC"``."""
    return f"{region[0]}x{region[1]}" if isinstance(region, tuple) else int(region)


def format_regions(value) -> str:
    """The written form of parsed regions: ``8,8,7`` or ``9x2,8x52``."""
    return ",".join(str(_written(v)) for v in value)


def regions_to_json(value) -> list:
    """Equal regions as a list of shifts, counted ones as a list of ``"SxC"`` strings."""
    return [_written(v) for v in value]


def _before(sizes) -> tuple[int, ...]:
    """The sum of the sizes before each one: ``(0, a, a + b, ...)``."""
    return tuple(int(v) for v in np.cumsum((0, *sizes[:-1])))


def _bits(v: int) -> int:
    """The unsigned width of ``v`` (at least 1): ``bits(v)`` of the document."""
    return max(1, int(v).bit_length())


@dataclass(frozen=True)
class Regions:
    """``n`` regions, region ``r`` in segments of ``2^shifts[r]`` codes.

    Equal regions (``granule_bits`` = RB, ``seg_counts`` None) are ``2^RB`` codes
    each and selected by the top bits of the offset; counted regions
    (``granule_bits`` None) are ``seg_counts[r]`` segments each, any widths, and
    selected by comparison with their starts (docs/ARITHMETIC.md, step 3h').

    >>> Regions(4, (2, 3))
    Regions(granule_bits=4, shifts=(2, 3), seg_counts=None)
    >>> Regions.counted(((1, 4), (2, 1))).starts
    (0, 8)
    """

    granule_bits: int | None  # RB: every region is 2^RB input codes wide (None: counted)
    shifts: tuple[int, ...]  # S_r per region
    seg_counts: tuple[int, ...] | None = None  # C_r of counted regions

    @classmethod
    def counted(cls, pairs) -> "Regions":
        """Counted regions from ``(S_r, C_r)`` pairs."""
        return cls(None, tuple(p[0] for p in pairs), tuple(p[1] for p in pairs))

    def __post_init__(self):
        object.__setattr__(self, "shifts", tuple(int(s) for s in self.shifts))
        if not 1 <= len(self.shifts) <= MAX_REGIONS:
            raise SpecError(f"a table has 1 to {MAX_REGIONS} regions, got {len(self.shifts)}")
        if self.granule_bits is None:
            counts = tuple(int(c) for c in self.seg_counts or ())
            object.__setattr__(self, "seg_counts", counts)
            if len(counts) != len(self.shifts) or min(counts) < 1 or min(self.shifts) < 0:
                raise SpecError("counted regions need a shift >= 0 and at least one segment "
                                "each")
            for r, (start, sr) in enumerate(zip(self.starts, self.shifts)):
                if start % (1 << sr):
                    raise SpecError(
                        f"region {r} ({sr}x{counts[r]}) starts at offset {start}, not a multiple "
                        f"of its segments' 2^{sr} codes: every segment must start at a "
                        "multiple of its width; reorder or recount the regions")
            return
        bad = [s for s in self.shifts if not 0 <= s <= self.granule_bits]
        if self.granule_bits < 0 or bad:
            raise SpecError(
                f"region shift {bad[0] if bad else self.granule_bits} does not fit regions of "
                f"2^{self.granule_bits} codes: each shift must be 0..{self.granule_bits}")

    @property
    def equal(self) -> bool:
        """Equal regions (selected by the top bits), not counted ones."""
        return self.granule_bits is not None

    @property
    def n(self) -> int:
        return len(self.shifts)

    @property
    def smax(self) -> int:
        """SMAX: the largest shift (the final rounding is by G + SMAX)."""
        return max(self.shifts)

    @property
    def counts(self) -> tuple[int, ...]:
        """Segments per region: ``C_r`` (``2^(RB - S_r)`` for equal regions)."""
        if self.granule_bits is None:
            return self.seg_counts
        return tuple(1 << (self.granule_bits - s) for s in self.shifts)

    @property
    def widths(self) -> tuple[int, ...]:
        """Input codes per region: ``C_r << S_r``."""
        return tuple(c << s for c, s in zip(self.counts, self.shifts))

    @property
    def starts(self) -> tuple[int, ...]:
        """START[r]: region ``r``'s first offset."""
        return _before(self.widths)

    @property
    def span(self) -> int:
        """HI - LO: the input codes the regions cover."""
        return sum(self.widths)

    @property
    def bases(self) -> tuple[int, ...]:
        """BASE[r]: the index of region ``r``'s first knot."""
        return _before(self.counts)

    @property
    def segments(self) -> int:
        """Segments of the whole table (knots - 1)."""
        return sum(self.counts)

    @property
    def knots(self) -> int:
        """Stored knots: ``BASE[n-1] + C_(n-1) + 1``."""
        return self.segments + 1

    @property
    def base_bits(self) -> int:
        return _bits(self.bases[-1])

    @property
    def shift_bits(self) -> int:
        return _bits(self.smax)

    @property
    def start_bits(self) -> int:
        """The width of a stored START[r] (counted regions; 0 for equal ones)."""
        return 0 if self.equal else _bits(self.starts[-1])

    @property
    def table_bits(self) -> int:
        """The region table's bits: ``n * (bits(BASE[n-1]) + bits(SMAX))``, plus
        ``(n - 1) * bits(START[n-1])`` for counted regions."""
        return self.n * (self.base_bits + self.shift_bits) + (self.n - 1) * self.start_bits

    def knot_offsets(self) -> np.ndarray:
        """``off`` (input code - LO) of every knot, ascending; the last is the span."""
        parts = [start + (np.arange(c, dtype=np.int64) << s)
                 for start, s, c in zip(self.starts, self.shifts, self.counts)]
        return np.concatenate(parts + [np.array([self.span], dtype=np.int64)])

    def segment_shifts(self) -> np.ndarray:
        """The shift of every segment (its region's)."""
        return np.repeat(np.array(self.shifts, dtype=np.int64), self.counts)

    def region_of(self, off) -> np.ndarray:
        """The region of offsets ``0 <= off < span``."""
        off = np.asarray(off, dtype=np.int64)
        if self.equal:
            return off >> self.granule_bits
        return np.searchsorted(np.array(self.starts[1:], dtype=np.int64), off, side="right")

    def locate(self, off) -> tuple[np.ndarray, np.ndarray]:
        """Step 3h for offsets ``0 <= off < span``: the knot ``i`` and ``w' = w << (SMAX - S_r)``."""
        off = np.asarray(off, dtype=np.int64)
        r = self.region_of(off)
        o = off - np.array(self.starts, dtype=np.int64)[r]
        s = np.array(self.shifts, dtype=np.int64)[r]
        i = np.array(self.bases, dtype=np.int64)[r] + (o >> s)
        w = (o & ((np.int64(1) << s) - 1)) << (self.smax - s)
        return i, w

    def spec_value(self) -> tuple:
        """The spec's ``regions`` value that builds these regions."""
        if self.equal:
            return self.shifts
        return tuple(zip(self.shifts, self.counts))

    def describe(self, lo_code: int, to_real) -> str:
        """The layout in words: each region's input range and segment width."""
        parts = []
        for r, (s, start, width) in enumerate(zip(self.shifts, self.starts, self.widths)):
            a = float(to_real(lo_code + start))
            b = float(to_real(lo_code + start + width))
            parts.append(f"[{a:g}, {b:g}): {self.counts[r]} x 2^{s}")
        size = (f"of 2^{self.granule_bits} codes" if self.equal else
                "(counted, selected by comparison)")
        return (f"{self.n} regions {size} (" + "; ".join(parts)
                + f"), region table {self.table_bits} bits")

    def to_dict(self) -> dict:
        return {"granule_bits": self.granule_bits, "shifts": list(self.shifts),
                "counts": list(self.counts), "starts": list(self.starts),
                "bases": list(self.bases), "smax": self.smax, "table_bits": self.table_bits}
