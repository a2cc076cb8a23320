"""``<name>.mem`` / ``<name>.bin``: the stored table for ``$readmemh`` / ``$readmemb``.

One word per line, word ``k`` on line ``k``, nothing else: the
``store_bits``-bit two's complement of ``table.values[k]``, in
``ceil(store_bits / 4)`` hex digits (zero-padded; the top digit only uses the
bits that exist) or ``store_bits`` binary digits. The data files carry no
comments (Vivado's synthesis guide does not allow them in its data files); the
provenance and the layout of each file are in the sidecar ``<name>_rom.txt``
(and in the Verilog module's header).

The Verilog module (:mod:`lutgen.export.verilog`) loads these very words. A
``linear`` table whose segments are wider than one code reads two knots per
input, ``T[i]`` and ``T[i + 1]``; it keeps them in two memories, so each is a
plain one-read-port ROM: ``<name>_even.mem`` holds ``T[0], T[2], T[4], ...``
and ``<name>_odd.mem`` holds ``T[1], T[3], ...`` (word ``k`` is ``T[2k]`` and
``T[2k + 1]``). Neighbouring knots always sit in different banks. Those two
files are emitted as well; ``<name>.mem`` stays the plain table users expect
for their own ROMs. A hierarchical table (``regions``) stores its chained knots
here; its region table (``BASE[r]``, ``S_r``) is in no memory file: the sidecar
lists it and the Verilog module holds it as constants.
"""

from __future__ import annotations

from ._common import Artifact, provenance_lines, stored_meaning

__all__ = ["render", "rom_banks", "module_roms", "rom_files", "region_table_lines", "twos_complement", "hex_word", "comment_block",
           "word_kind"]


def twos_complement(value: int, bits: int) -> int:
    """``value`` as the unsigned ``bits``-bit pattern of its two's complement."""
    if not -(1 << bits) <= value < (1 << bits):
        raise ValueError(f"{value} does not fit {bits} bits")
    return value & ((1 << bits) - 1)


def hex_word(value: int, bits: int) -> str:
    """Zero-padded hex of the ``bits``-bit two's complement of ``value`` (lower case)."""
    return format(twos_complement(value, bits), f"0{(bits + 3) // 4}x")


def comment_block(lines, prefix: str) -> str:
    """``lines`` as comment lines starting with ``prefix`` (no trailing blanks)."""
    return "".join(f"{prefix} {line}".rstrip() + "\n" if line else prefix + "\n" for line in lines)


def word_kind(table) -> str:
    """``"10-bit unsigned words"`` or ``"8-bit two's complement words"``."""
    return f"{table.store_bits}-bit " + (
        "two's complement words" if table.store_signed else "unsigned words")


def rom_banks(table) -> list[tuple[str, str, list[int]]]:
    """The memories the Verilog module loads: ``(file suffix, what, words)``.

    One memory holding the whole table, except for ``linear`` tables with
    segments wider than one code, which need ``T[i]`` and ``T[i + 1]`` in one
    cycle: those get an even-knot and an odd-knot bank.
    """
    values = [int(v) for v in table.values]
    if table.interp.value == "linear" and table.shift > 0:
        return [
            ("_even", "even knots: word k is T[2k]", values[0::2]),
            ("_odd", "odd knots: word k is T[2k+1]", values[1::2]),
        ]
    return [("", "the whole table: word k is T[k]", values)]


def module_roms(table, name: str, prefix: str = "") -> list[tuple[str, str, str, int]]:
    """The ROMs ``lutgen_<name>.v`` declares, one per bank of :func:`rom_banks`:
    ``(label, parameter, default file, words)``, e.g. ``("even", "MEMFILE_EVEN",
    "<name>_even.mem", 60)``; ``prefix`` goes in front of the parameter."""
    return [(suffix.lstrip("_") or "rom", f"{prefix}MEMFILE{suffix.upper()}",
             f"{name}{suffix}.mem", len(words)) for suffix, _, words in rom_banks(table)]


def rom_files(table, name: str) -> list[tuple[str, str, list[int]]]:
    """The memory files an exporter writes: ``(file suffix, what, words)``.

    The whole table, and for a banked linear table each bank the module reads too.
    """
    values = [int(v) for v in table.values]
    return [("", "the whole table: word k is T[k]", values)] + [
        (suffix, f"bank of lutgen_{name}.v: {what}", words)
        for suffix, what, words in rom_banks(table) if suffix]


def _layout(table) -> str:
    n = table.entries
    reg = getattr(table, "regions", None)
    if reg is not None:
        step = "3h" if reg.equal else "3h'"
        return (f"T[0..{n}]: the {n + 1} chained knots of {reg.n} regions (a hierarchical "
                f"table, docs/ARITHMETIC.md step {step}; its region table is below)")
    return _uniform_layout(table)


def region_table_lines(table, name: str) -> list[str]:
    """A hierarchical table's region table in words: it is in no memory file."""
    reg = table.regions
    size = (f"of 2^RB = {1 << reg.granule_bits} input codes" if reg.equal else
            "of C_r segments (counted: START[r] stored too)")
    lines = [f"Region table: {reg.n} regions {size}, region r"
             " in segments of 2^S_r codes",
             f"from knot BASE[r]; SMAX = {reg.smax}. The region table ({reg.table_bits} bits, "
             "counted in rom_bits) is in no",
             f"memory file: constants of lutgen_{name}.v's region decode (const arrays in the "
             "C and HLS headers).",
             "  r   first input code u   S_r  BASE[r]  segments"]
    if not reg.equal:  # the region is found by comparison: say with what
        lines[-1:] = ["Counted regions: r = the number of k in 1..n-1 with u >= LO + START[k] "
                      f"(LO = {table.lo_code}).",
                      "  r   first input code u   S_r  START[r]  BASE[r]  segments"]
    for r, (shift, base, count, start) in enumerate(zip(reg.shifts, reg.bases, reg.counts,
                                                         reg.starts)):
        lines.append(f"  {r:<3} {table.lo_code + start:<20} {shift:<4} "
                     + ("" if reg.equal else f"{start:<9} ") + f"{base:<8} {count}")
    return lines


def _uniform_layout(table) -> str:
    n = table.entries
    if table.interp.value == "none":
        return f"T[0..{n - 1}]: one entry per segment ({n} words)"
    return f"T[0..{n}]: the {n + 1} knots of {n} segments"


def _real_value(table) -> str:
    fout = table.out_format
    if fout.is_affine:
        return f"Word: {stored_meaning(table)}."
    return (f"Real value = word * 2^-{fout.frac + table.guard_bits} "
            f"({fout.frac} output fraction bits + {table.guard_bits} guard bits).")


def data_text(words, fmt) -> str:
    """One formatted word per line, nothing else."""
    return "".join(fmt(v) + "\n" for v in words)


def render(table, report, name: str) -> list[Artifact]:
    bits = table.store_bits
    words = [int(v) for v in table.values]
    hexd = lambda v: hex_word(v, bits)  # noqa: E731
    bind = lambda v: format(twos_complement(v, bits), f"0{bits}b")  # noqa: E731
    layout = _layout(table)
    arts = [Artifact(f"{name}.mem", data_text(words, hexd)),
            Artifact(f"{name}.bin", data_text(words, bind))]
    about = [
        f"{name}.mem: $readmemh, one hex word per line; {name}.bin: $readmemb, one binary",
        f"word per line. {layout}; {len(words)} {word_kind(table)}.",
    ]
    for suffix, what, bank in rom_banks(table):
        if suffix:
            arts.append(Artifact(f"{name}{suffix}.mem", data_text(bank, hexd)))
            about.append(f"{name}{suffix}.mem: $readmemh bank of lutgen_{name}.v, {what} "
                         f"({len(bank)} words).")
    if getattr(table, "regions", None) is not None:
        about += region_table_lines(table, name)
    about += [
        _real_value(table),
        "The data files hold only the words (no comment lines), so every tool loads them.",
    ]
    head = provenance_lines(table, report, name) + [""] + about
    arts.append(Artifact(f"{name}_rom.txt", "".join(f"{line}\n" for line in head)))
    return arts
