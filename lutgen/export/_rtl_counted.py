"""The region decode of a table with counted regions (docs/ARITHMETIC.md step 3h').

Counted regions have any widths: region ``r`` is ``C_r`` segments of ``2^S_r`` codes
from ``START[r]`` on, so ``r`` is not a bit field of ``off``. The module finds it by
``n - 1`` comparisons ``u >= LO + START[k]`` (``off >= START[k]``: a thermometer code,
taken from ``u`` beside the subtraction ``d = u - LO``, not after it), and a priority
mux on them gives the region's constants. Because ``START[r]`` is a multiple of
``2^S_r``, ``i = K_r + (off >> S_r)`` with ``K_r = BASE[r] - (START[r] >> S_r)`` and
``w = off & (2^S_r - 1)``: no subtraction of ``START[r]``. ``K_r`` may be negative; the
adders work modulo ``2^width`` of their result (``0 <= i < 2^iw``), so ``K_r`` is stored
as ``K_r mod 2^width`` and ``off >> S_r`` is cut to that width. From there on the
module is the equal regions' (``address_adders``: ``K_r`` takes ``BASE[r]``'s place).
"""

from __future__ import annotations

from ._rtl import lit, vec

__all__ = ["ADDR_CUT", "offset_bits", "constants", "at_least", "decode", "header_lines"]

ADDR_CUT = ("after the tail comparisons, the offset, the region comparisons u >= LO + "
            "START[k] and the priority muxes on them (K_r, K_r + 1, off >> S_r, w'); the two "
            "address adders follow the cut")


def offset_bits(regions) -> int:
    """Bits of ``off`` (``0 <= off < START[n] = HI - LO``)."""
    return max(1, (regions.span - 1).bit_length())


def constants(regions) -> list[int]:
    """``K_r = BASE[r] - (START[r] >> S_r)`` of every region (may be negative)."""
    return [b - (st >> s) for b, st, s in zip(regions.bases, regions.starts, regions.shifts)]


def at_least(u: str, uw: int, us: bool, code: int) -> str:
    """``u >= code`` (``u``: ``uw`` bits) as AND/OR terms of ``u``'s bits, not a subtraction.

    Unsigned ``a >= c`` from the lowest bit up: ``g = 1``, then ``g = a[i] & g`` where
    ``c[i]`` is 1 and ``g = a[i] | g`` where it is 0 (so ``c``'s trailing zeros vanish:
    START[k] is a multiple of ``2^S_k``); signed, the sign bits are inverted first. Synthesis
    maps the few terms to a shallow LUT tree, where ``>=`` would be a carry chain.
    """
    c = (code + (1 << (uw - 1)) if us else code) % (1 << uw)  # the unsigned order
    assert c == (code + (1 << (uw - 1)) if us else code) and c > 0, (code, uw, us)

    def bit(i: int) -> str:
        return f"~{u}[{i}]" if us and i == uw - 1 else f"{u}[{i}]"
    low = (c & -c).bit_length() - 1
    g = bit(low)
    for i in range(low + 1, uw):
        g = f"{bit(i)} {'&' if c >> i & 1 else '|'} {g if ' ' not in g else f'({g})'}"
    return g


def _arms(values, reach: list[int]) -> list[tuple[int, str]]:
    """The arms ``(k, value)`` of a priority mux ``ge_top ? v_top : ... : v_0`` over the
    regions ``reach`` (>= 1, highest first). ``off >= START[k]`` implies every lower
    comparison, so an arm whose value is the next lower region's is dropped."""
    arms = []
    for pos, r in enumerate(reach):
        below = reach[pos + 1] if pos + 1 < len(reach) else 0
        if values[r] != values[below]:
            arms.append((r, values[r]))
    return arms


def decode(m, regions, ow: int, u: str, uw: int, us: bool) -> None:
    """Emit the muxes' values ``region_base`` (``K_r``), ``region_base1`` (``K_r + 1``),
    ``region_seg`` (``off >> S_r``) and ``frac`` (``w'``) for ``address_adders``."""
    shifts, starts, smax, n = regions.shifts, regions.starts, regions.smax, regions.n
    ks, iw = constants(regions), m.iw
    # SMAX = 0: one bank, no i + 1 and no w'; else the even bank's (i + 1) >> 1, ew bits
    ew = max(1, ((len(m.t.values) - 1) >> 1).bit_length()) if smax else -1
    # the adders' widths: every bit of off >> S_r either adder reads, and no more
    qw = m.region_qw = min(ow - min(shifts), max(iw, ew + 1))
    reach = list(range(n - 1, 0, -1))  # (counted regions end at the format's top, or before)

    def seg_of(s: int) -> str:
        hi = min(ow - 1, s + qw - 1)
        if hi < s:
            return lit(0, qw, False)
        part = f"off[{hi}:{s}]"
        return part if hi - s + 1 == qw else f"{{{lit(0, qw - (hi - s + 1), False)}, {part}}}"

    def frac_of(s: int) -> str:
        if s == 0:
            return lit(0, smax, False)
        part = f"off[{s - 1}:0]"
        return part if s == smax else f"{{{part}, {lit(0, smax - s, False)}}}"
    muxes = [(f"{vec(iw)}region_base", "region_base", iw, [lit(k, iw, False) for k in ks],
              f"K_r mod 2^{iw}"),
             (f"{vec(qw)}region_seg", "region_seg", qw, [seg_of(s) for s in shifts],
              "off >> S_r")]
    if smax:
        muxes += [(f"{vec(ew + 1)}region_base1", "region_base1", ew + 1,
                   [lit(k + 1, ew + 1, False) for k in ks], f"K_r + 1 mod 2^{ew + 1}"),
                  (f"{vec(smax)}frac", "frac", smax, [frac_of(s) for s in shifts],
                   "w' = (off & (2^S_r - 1)) << (SMAX - S_r)")]
    arms = [_arms(values, reach) for *_, values, _ in muxes]
    m.w(f"// region decode (step 3h', counted regions): r = the number of k in 1..{n - 1} "
        "with off >= START[k],")
    m.w("// i = K_r + (off >> S_r) with K_r = BASE[r] - (START[r] >> S_r) (taken modulo "
        "the adder's width),")
    m.w(f"// w' = (off & (2^S_r - 1)) << (SMAX - S_r), SMAX = {smax}")
    for k in sorted({k for mux in arms for k, _ in mux}):
        m.wire(f"region_ge{k}", at_least(u, uw, us, m.t.lo_code + starts[k]),
               f"off >= START[{k}] = {starts[k]}: u >= LO + START[{k}] = "
               f"{m.t.lo_code + starts[k]}")
    for (decl, value, width, values, note), mux in zip(muxes, arms):
        m.w(f"wire {decl} =  // {note}")
        for k, v in mux:
            m.w(f"    region_ge{k} ? {v} :")
        m.w(f"    {values[0]};")
        m.put(value, value, vec(width))
    # every region's arms read off[0] up to its top bit; off >> S_r is taken modulo the
    # adders' width, so the top bits of off may be read by none
    top = max(min(ow - 1, shifts[r] + qw - 1) for r in [0] + [k for k, _ in arms[1]])
    if top < ow - 1:
        m.unused.append(f"off[{ow - 1}:{top + 1}]")


def header_lines(table) -> list[str]:
    """The module header's description of counted regions, one line per region."""
    reg = table.regions
    lines = [f"  Regions (counted, docs/ARITHMETIC.md step 3h'): n = {reg.n} regions, "
             f"SMAX = {reg.smax}, {len(table.values)} chained knots;",
             "  r = the number of k in 1..n-1 with off >= START[k] (u >= LO + START[k]),",
             "  i = K_r + (off >> S_r) with K_r = BASE[r] - (START[r] >> S_r),",
             "  w' = (off & (2^S_r - 1)) << (SMAX - S_r), R = G + SMAX; START[k], K_r and S_r are",
             "  constants (n - 1 comparisons and a priority mux on them):",
             "    r   inputs u              S_r  START[r]  BASE[r]  K_r      segments"]
    for r, (s, start, width, b, k_r, c) in enumerate(zip(
            reg.shifts, reg.starts, reg.widths, reg.bases, constants(reg), reg.counts)):
        first = table.lo_code + start
        lines.append(f"    {r:<3} [{first}, {first + width})".ljust(28)
                     + f" {s:<4} {start:<9} {b:<8} {k_r:<8} {c}")
    return lines
