"""``<name>.mif``: the stored table as an Intel (Altera) memory initialization file.

``WIDTH`` is ``store_bits``, ``DEPTH`` the number of stored words; addresses
and data are hex, data the two's complement of ``table.values``. A banked
``linear`` table also gets ``<name>_even.mif`` and ``<name>_odd.mif``, the
banks the Verilog module reads. Provenance
goes in ``--`` comment lines, which Quartus accepts anywhere in the file.

A hierarchical table (``regions``) keeps its region table (``BASE[r]``, ``S_r``) out
of the file: its comment lines list it, and the Verilog module holds it as constants.
"""

from __future__ import annotations

from ._common import Artifact, provenance_lines
from .mem import comment_block, hex_word, region_table_lines, rom_files, word_kind

__all__ = ["render"]


def render(table, report, name: str) -> list[Artifact]:
    """``<name>.mif`` (the whole table) and, for a banked linear table, one per bank."""
    return [_mif(table, report, name, *rom) for rom in rom_files(table, name)]


def _mif(table, report, name, suffix, what, values) -> Artifact:
    bits = table.store_bits
    depth = len(values)
    adigits = max(1, (max(depth - 1, 1).bit_length() + 3) // 4)
    head = provenance_lines(table, report, name) + [
        "",
        f"{what}; {depth} {word_kind(table)}",
    ] + (region_table_lines(table, name) if table.regions is not None else [])
    body = "".join(
        f"    {format(k, f'0{adigits}x')} : {hex_word(v, bits)};\n" for k, v in enumerate(values)
    )
    text = (
        comment_block(head, "--")
        + f"\nWIDTH={bits};\nDEPTH={depth};\n\nADDRESS_RADIX=HEX;\nDATA_RADIX=HEX;\n\n"
        + "CONTENT BEGIN\n"
        + body
        + "END;\n"
    )
    return Artifact(f"{name}{suffix}.mif", text)
