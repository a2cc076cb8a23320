"""The region decode of a hierarchical table's Verilog module (docs/ARITHMETIC.md step 3h).

A hierarchical table splits ``off = u - LO`` into ``n`` regions of ``2^RB`` codes;
region ``r = off >> RB`` has its own segment shift ``S_r`` and first knot ``BASE[r]``,
both constants. The module computes the knot address ``i = BASE[r] + (o >> S_r)``
and the weight ``w' = (o & (2^S_r - 1)) << (SMAX - S_r)`` (``o = off & (2^RB - 1)``)
with two small muxes on ``r`` and one adder; from there on the datapath is a
uniform table's with ``S = SMAX`` (even/odd knot banks, one signed ``D * w'``,
one rounding at ``R = G + SMAX``). Counted regions (step 3h') decode in
:mod:`lutgen.export._rtl_counted` and share the address adders.
"""

from __future__ import annotations

from . import _rtl_counted as counted
from ._rtl import ext, lit, vec

__all__ = ["ADDR_CUT", "address_adders", "offset_bits", "even_address_bits", "above_expr",
           "decode", "header_parts", "header_lines"]


ADDR_CUT = ("after the tail comparisons, the offset and the region decode's muxes on r "
            "(BASE[r], BASE[r] + 1, o >> S_r, w'); the two address adders follow the cut")


def offset_bits(regions) -> int:
    """Bits of ``off`` (``0 <= off < n << RB``): RB plus the bits of the region number."""
    if not regions.equal:
        return counted.offset_bits(regions)
    return regions.granule_bits + max(1, (len(regions.shifts) - 1).bit_length())


def even_address_bits(knots: int) -> int:
    """Bits of the even bank's address ``(i + 1) >> 1 <= (knots - 1) >> 1``."""
    return max(1, ((knots - 1) >> 1).bit_length())


def above_expr(regions, dw: int) -> str | None:
    """``u >= HI`` from ``d = u - LO`` (``dw`` bits), or None when ``n`` is a power of two.

    ``HI - LO = n << RB``: for a power-of-two ``n`` a set bit at or above ``offset_bits``
    (the uniform module's test); otherwise ``d >= 0`` and either a set bit above the
    region number or a region number ``>= n``, written as the few numbers it can be (a
    LUT, where ``>=`` would be a carry chain in front of the clamp and the region muxes).
    """
    n, rb = len(regions.shifts), regions.granule_bits
    if not regions.equal:  # counted regions: the module compares u with HI if need be
        return None
    if n & (n - 1) == 0:
        return None
    ow = offset_bits(regions)
    rw = ow - rb
    past = " | ".join(f"(d[{ow - 1}:{rb}] == {lit(r, rw, False)})" for r in range(n, 1 << rw))
    high = f"|d[{dw - 2}:{ow}] | " if ow < dw - 1 else ""
    return f"~d[{dw - 1}] & ({high}{past})"


def _mux(m, decl: str, arms, default: str, note: str) -> None:
    """``wire decl = c0 ? v0 : c1 ? v1 : ... default;`` one arm a line."""
    m.w(f"wire {decl} =  // {note}")
    for cond, value in arms:
        m.w(f"    {cond} ? {value} :")
    m.w(f"    {default};")


def decode(m, regions, ow: int, u: str = "", uw: int = 0, us: bool = False) -> None:
    """Emit the muxes' values for ``address_adders`` and ``frac`` (``w'``, SMAX bits) from
    ``off`` (counted regions: and the comparisons of ``u``, ``uw`` bits)."""
    if not regions.equal:
        counted.decode(m, regions, ow, u, uw, us)
        return
    rb, shifts, bases, smax = (regions.granule_bits, tuple(regions.shifts),
                               tuple(regions.bases), regions.smax)
    rw, iw = ow - rb, m.iw
    m.region_qw = rb - min(shifts)  # bits of o >> S_r, read by address_adders
    m.w(f"// region decode (step 3h): r = off >> RB (RB = {rb}), o = off & (2^RB - 1);")
    m.w("// BASE[r] and S_r are constants: i = BASE[r] + (o >> S_r),")
    m.w(f"// w' = (o & (2^S_r - 1)) << (SMAX - S_r), SMAX = {smax}")
    m.wire(f"{vec(rw)}region", f"off[{ow - 1}:{rb}]", "r")
    m.wire(f"{vec(rb)}region_off", f"off[{rb - 1}:0]", "o")
    is_r = [f"region == {lit(r, rw, False)}" for r in range(len(shifts))]
    _mux(m, f"{vec(iw)}region_base", [(c, lit(b, iw, False)) for c, b in
                                      zip(is_r[:-1], bases[:-1])],
         lit(bases[-1], iw, False), "BASE[r]: region r's first knot")
    # the regions of one shift share an arm of the o-muxes
    groups: dict[int, list[str]] = {}
    for cond, s in zip(is_r, shifts):
        groups.setdefault(s, []).append(cond)
    order = sorted(groups, key=lambda s: shifts.index(s))
    last = shifts[-1]
    order.remove(last)
    order.append(last)  # the last region's shift is the default arm
    conds = {s: " || ".join(groups[s]) for s in order}
    conds = {s: f"({c})" if len(groups[s]) > 1 else c for s, c in conds.items()}
    qw = rb - min(shifts)  # bits of o >> S_r in the region of the smallest shift
    if qw:
        def seg_of(s: int) -> str:
            if s == rb:
                return lit(0, qw, False)
            part = f"region_off[{rb - 1}:{s}]"
            return part if rb - s == qw else f"{{{lit(0, qw - (rb - s), False)}, {part}}}"
        _mux(m, f"{vec(qw)}region_seg", [(conds[s], seg_of(s)) for s in order[:-1]],
             seg_of(order[-1]), "o >> S_r: the segment inside the region")
    ew = even_address_bits(len(m.t.values)) if smax else -1  # SMAX = 0: one bank, no w'
    if smax:
        _mux(m, f"{vec(ew + 1)}region_base1", [(c, lit(b + 1, ew + 1, False)) for c, b in
                                               zip(is_r[:-1], bases[:-1])],
             lit(bases[-1] + 1, ew + 1, False), "BASE[r] + 1")

    def frac_of(s: int) -> str:
        if s == 0:
            return lit(0, smax, False)
        part = f"region_off[{s - 1}:0]"
        return part if s == smax else f"{{{part}, {lit(0, smax - s, False)}}}"
    if smax:
        _mux(m, f"{vec(smax)}frac", [(conds[s], frac_of(s)) for s in order[:-1]],
             frac_of(order[-1]), "w' = (o & (2^S_r - 1)) << (SMAX - S_r)")
        m.put("frac", "frac", vec(smax))
    for value, width in (("region_base", iw), ("region_base1", ew + 1), ("region_seg", qw)):
        if width:
            m.put(value, value, vec(width))


def header_parts(table, cuts: dict, why: str):
    """The module header of a hierarchical table: cut texts, constants, banks, regions."""
    knots = len(table.values)
    why = why.replace("N+1 words", f"{knots} knots").replace("store N words",
                                                             f"store {knots - 1} words")
    reg = table.regions
    if not reg.equal:
        return (dict(cuts, addr=counted.ADDR_CUT), f"SMAX = {reg.smax}", why,
                counted.header_lines(table))
    shape = f"RB = {reg.granule_bits}, SMAX = {reg.smax}"
    return dict(cuts, addr=ADDR_CUT), shape, why, header_lines(table)


def header_lines(table) -> list[str]:
    """The module header's description of the regions, one line per region."""
    reg = table.regions
    rb, n, lo = reg.granule_bits, len(reg.shifts), table.lo_code
    knots = len(table.values)
    lines = [f"  Regions (hierarchical table, docs/ARITHMETIC.md step 3h): n = {n} regions of "
             f"2^RB = {1 << rb} codes,",
             f"  SMAX = {reg.smax}, {knots} chained knots; r = off >> RB, o = off & "
             "(2^RB - 1), i = BASE[r] + (o >> S_r),",
             "  w' = (o & (2^S_r - 1)) << (SMAX - S_r), R = G + SMAX; BASE[r] and S_r are "
             "constants (a mux on r):",
             "    r   inputs u              S_r  BASE[r]  segments"]
    for r, (s, b) in enumerate(zip(reg.shifts, reg.bases)):
        start = lo + (r << rb)
        lines.append(f"    {r:<3} [{start}, {start + (1 << rb)})".ljust(28)
                     + f" {s:<4} {b:<8} {1 << (rb - s)}")
    return lines


def address_adders(m) -> None:
    """``seg`` (``i``) and ``seg_next`` (``i + 1``) from the muxes' values (after 'addr')."""
    reg = m.regions
    qw, iw = m.region_qw, m.iw  # (counted regions: BASE[r] is K_r, o is off)
    base, q = m.get("region_base"), m.get("region_seg") if qw else ""

    def plus(b: str, width: int) -> str:  # b + (o >> S_r), or b: one-segment regions
        return f"{b} + {ext(q, qw, False, width)}" if qw else b
    m.wire(f"{vec(iw)}region_i", plus(base, iw), "i = BASE[r] + (o >> S_r)" if reg.equal
           else f"i = K_r + (off >> S_r), modulo 2^{iw}")
    m.put("seg", "region_i", vec(iw))
    if not reg.smax:  # every segment one code: one bank, read at i
        m.wire(f"{vec(iw)}seg", m.get("seg"))
        return
    ew = even_address_bits(len(m.t.values))
    base1 = m.get("region_base1")
    # the even bank's address (i + 1) >> 1 from a second adder beside the first, not after
    # it: BASE[r] + 1 is one more constant of the mux
    m.wire(f"{vec(ew + 1)}region_i1", plus(base1, ew + 1), "i + 1")
    m.put("seg_next", "region_i1", vec(ew + 1))
    m.cut("region")  # the adders' own stage: they feed the ROM addresses (LUT ROMs too)
    m.wire(f"{vec(iw)}seg", m.get("seg"))
    m.wire(f"{vec(ew + 1)}seg_next", m.get("seg_next"))
    m.unused.append("seg_next[0]")
