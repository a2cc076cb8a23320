"""C text helpers of the table header (lutgen.export.c_header): types, literals, comments."""

from __future__ import annotations

from ..fixedpoint import c_word_bits

__all__ = ["c_word", "scale_rows", "c_lit", "c_comment", "region_rows"]


def c_word(bits: int, signed: bool) -> tuple[str, int]:
    """The narrowest ``<stdint.h>`` type holding ``bits``-bit codes, and its width."""
    width = c_word_bits(bits)
    return f"{'' if signed else 'u'}int{width}_t", width


def scale_rows(prefix: str, fmt) -> list:
    """``_FRAC`` for a power-of-two format; ``_SCALE`` and ``_ZERO_POINT`` for an affine one."""
    if fmt.is_affine:
        return [(f"{prefix}_SCALE", f"{fmt.scale!r}", "real = SCALE * (code - ZERO_POINT)"),
                (f"{prefix}_ZERO_POINT", c_lit(fmt.zero_point), None)]
    return [(f"{prefix}_FRAC", fmt.frac, None)]


def c_lit(v: int) -> str:
    """A C integer constant of value ``v`` (|v| < 2**62), typed wide enough on any target."""
    v = int(v)
    if not -(1 << 31) < v < (1 << 31):
        return f"INT64_C({v})"
    return str(v) if v >= 0 else f"({v})"


def c_comment(lines) -> list[str]:
    """A block comment; text such as ``*/``, ``/*`` or a trigraph cannot break it."""
    body = []
    for line in lines:
        for bad, fix in (("*/", "* /"), ("/*", "/ *"), ("??", "? ?")):
            line = line.replace(bad, fix)
        body.append(f" * {line}".rstrip())
    return ["/*", *body, " */"]


def region_rows(regions) -> list:
    if not regions.equal:
        return [("ENTRIES", regions.segments, f"segments in {regions.n} regions, interp linear"),
                ("REGIONS", regions.n, "counted regions of C_r segments of 2^S_r codes"),
                ("SHIFT", regions.smax, "SMAX: the largest region shift")]
    return [("ENTRIES", regions.segments, f"segments in {regions.n} regions, interp linear"),
            ("REGIONS", regions.n, "regions of 2^REGION_BITS codes, one shift each"),
            ("REGION_BITS", regions.granule_bits, None),
            ("SHIFT", regions.smax, "SMAX: the largest region shift")]
