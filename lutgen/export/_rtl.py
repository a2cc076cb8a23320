"""What the Verilog exporters share: literals and widths, the pipeline's register cuts.

:func:`latency` is the contract between the module (:mod:`lutgen.export.verilog`)
and its testbench (:mod:`lutgen.export.testbench`); docs/ARITHMETIC.md lists the cuts.
"""

from __future__ import annotations

__all__ = ["LATENCY", "CUTS", "banked", "regions_of", "cut_order", "deepest",
           "latency", "cuts_of", "lit", "ext", "vec", "signed_bits", "banked_ranges",
           "rom_attribute", "ROM_ATTRIBUTES"]

LATENCY = 2  # cycles from in_valid to out_valid at the default pipeline setting

# the optional register cuts, by name: where each sits in the datapath
CUTS = {
    "fold": "after the input stage: u of a folded table (|x|, or 2Z - x below an input "
            "zero point Z) and its negate, or x itself",
    "addr": "after the tail comparisons, the offset and the ROM addresses (the line "
            "tails' constant multiply)",
    "rom": "the ROM data again, before the even/odd swap (and the line tails' rounding)",
    "diff": "after the swap, A (the knot, unfolded, plus the rounding half) and the knot "
            "difference D (the DSP's input registers)",
    "mul": "after the multiply D * w (the DSP's MREG)",
    "acc": "after the accumulate (A << S) + D * w (the DSP's PREG)",
    "round": "after the unfold and the rounding (banked linear: the shift), before the "
             "saturation",
    "region": "after the region decode's two address adders, i and i + 1 (hierarchical "
              "tables), before the ROM addresses",
}


# rom_style -> the attribute on every ROM: rom_style for Vivado (and Yosys), ramstyle for
# Quartus; Quartus' block RAM names are per device (M9K, M10K, M20K), and it puts a
# synchronous-read ROM there by default, so "block" sets only rom_style
ROM_ATTRIBUTES = {
    "auto": "",
    "block": '(* rom_style = "block" *) ',
    "distributed": '(* rom_style = "distributed", ramstyle = "logic" *) ',
}


def rom_attribute(table) -> str:
    """The synthesis attribute in front of each ROM's declaration (``table.spec.rom_style``)."""
    style = getattr(table.spec, "rom_style", None)
    return ROM_ATTRIBUTES[style.value if style is not None else "auto"]


def regions_of(table):
    """The table's regions (docs/ARITHMETIC.md step 3h), or None for a uniform table."""
    return getattr(table, "regions", None)


def banked(table) -> bool:
    """Does the module read an even and an odd knot bank (and multiply)?"""
    return table.interp.value == "linear" and table.shift > 0  # (regions: shift = SMAX)


def cut_order(table) -> list[str]:
    """The optional cuts in the order further pipeline stages enable them."""
    if banked(table):
        order = ["mul", "rom", "acc", "fold", "addr", "diff", "round"]
        return order + ["region"] if regions_of(table) is not None else order
    return ["rom", "fold", "addr", "round"]


def deepest(table) -> int:
    """The latency of ``pipeline = "max"``: every cut registered."""
    return LATENCY + len(cut_order(table))


def latency(table) -> int:
    """Cycles from ``in_valid`` to ``out_valid`` of ``table``'s module."""
    setting = getattr(table.spec, "pipeline", LATENCY)
    return deepest(table) if setting == "max" else min(int(setting), deepest(table))


def cuts_of(table) -> set[str]:
    """The optional cuts registered at ``table.spec.pipeline``."""
    return set(cut_order(table)[: latency(table) - LATENCY])


def lit(value: int, width: int, signed: bool = True) -> str:
    """A sized literal: ``W'sdV``, ``-W'sdV`` (hex for the most negative), or ``W'dV``."""
    if not signed:
        return f"{width}'d{value & ((1 << width) - 1)}"
    if value >= 0 or -value < 1 << (width - 1):
        return f"{'-' if value < 0 else ''}{width}'sd{abs(value)}"
    return f"{width}'sh{value & ((1 << width) - 1):x}"


def ext(sig: str, width: int, signed: bool, to: int) -> str:
    """Signal ``sig`` sign- or zero-extended (or sliced) from ``width`` to ``to`` bits."""
    if to <= width:
        return sig if to == width else f"{sig}[{to - 1}:0]"
    fill = f"{sig}[{width - 1}]" if signed else "1'b0"
    return f"{{{{{to - width}{{{fill}}}}}, {sig}}}"


def vec(width: int, signed: bool = False) -> str:
    return ("signed " if signed else "") + f"[{width - 1}:0] "


def signed_bits(bounds) -> int:
    """Two's complement bits holding every integer in ``[lo, hi]`` (at least 2)."""
    lo, hi = bounds
    return max(2, (-lo - 1).bit_length() + 1 if lo < 0 else 1, hi.bit_length() + 1)


def banked_ranges(table) -> dict:
    """Bounds of the banked datapath's values: ``a`` (A), ``d`` (D), ``acc`` ((A << S) + D*w).

    From the stored knots, for both halves of a negating fold (see ``table_value``).
    """
    v = [int(x) for x in table.values]
    hg = 1 << (table.guard_bits - 1) if table.guard_bits else 0
    knots, diffs = v[:-1] or v, [b - a for a, b in zip(v, v[1:])] or [0]
    e = table.fold_e  # the stored centre: A holds it back (docs/ARITHMETIC.md step 5)
    a = [k + hg + e for k in knots]
    d = list(diffs)
    if table.fold.negates:
        a += [table.fold_f - e + hg - k for k in knots]
        d += [-x for x in diffs]
    s = table.shift  # regions: SMAX, and w' = w << (SMAX - S_r) < 2^SMAX in every region
    dabs = max(abs(min(d)), abs(max(d))) * ((1 << s) - 1)
    low = 0 if table.guard_bits else 1 << (s - 1)
    t_lo, t_hi = line_term_range(table, table.guard_bits + s)
    base = ((min(a) << s) + t_lo, (max(a) << s) + low + t_hi)  # (A << S) + the line term
    return {"a": (min(a), max(a)), "d": (min(d), max(d)), "base": base,
            "acc": (base[0] - dabs, base[1] + dabs)}


def line_term_range(table, r: int) -> tuple[int, int]:
    """Bounds of an even_line fold's term ``(LM * (x - Z)) << (R - LE)`` ((0, 0) without)."""
    fin, lm = table.in_format, table.fold_lm
    if not lm:
        return 0, 0
    ends = [(lm * (c - fin.zero_point)) << (r - table.fold_le) for c in (fin.min_code,
                                                                        fin.max_code)]
    return min(ends), max(ends)
