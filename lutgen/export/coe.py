"""``<name>.coe``: the stored table as a Xilinx coefficient file (Block Memory Generator).

``memory_initialization_radix=16``; the vector holds ``table.values`` in
order, each the ``store_bits``-bit two's complement in hex, separated by
commas and ended by ``;``. A ``linear`` table read as an even and an odd knot
bank (:func:`lutgen.export.mem.rom_banks`) also gets ``<name>_even.coe`` and
``<name>_odd.coe``, the very banks the Verilog module reads. Provenance goes in ``;`` comment lines, which COE
files allow before the keywords.

A hierarchical table (``regions``) keeps its region table (``BASE[r]``, ``S_r``) out
of the file: its comment lines list it, and the Verilog module holds it as constants.
"""

from __future__ import annotations

from ._common import Artifact, provenance_lines
from .mem import comment_block, hex_word, region_table_lines, rom_files, word_kind

__all__ = ["render"]

WORDS_PER_LINE = 8


def render(table, report, name: str) -> list[Artifact]:
    """``<name>.coe`` (the whole table) and, for a banked linear table, one per bank."""
    return [_coe(table, report, name, *rom) for rom in rom_files(table, name)]


def _coe(table, report, name, suffix, what, values) -> Artifact:
    bits = table.store_bits
    words = [hex_word(v, bits) for v in values]
    head = provenance_lines(table, report, name) + [
        "",
        f"{what}; {len(words)} {word_kind(table)}: ROM width {bits}, depth {len(words)}",
    ] + (region_table_lines(table, name) if table.regions is not None else [])
    rows = [
        ", ".join(words[k : k + WORDS_PER_LINE]) for k in range(0, len(words), WORDS_PER_LINE)
    ]
    text = (
        comment_block(head, ";")
        + "memory_initialization_radix=16;\n"
        + "memory_initialization_vector=\n"
        + ",\n".join(rows)
        + ";\n"
    )
    return Artifact(f"{name}{suffix}.coe", text)
