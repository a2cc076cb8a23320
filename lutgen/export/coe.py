"""``<name>.coe``: the stored table as a Xilinx coefficient file (Block Memory Generator).

``memory_initialization_radix=16``; the vector holds ``table.values`` in
order, each the ``store_bits``-bit two's complement in hex, separated by
commas and ended by ``;``. Provenance goes in ``;`` comment lines, which COE
files allow before the keywords.
"""

from __future__ import annotations

from ._common import Artifact, provenance_lines
from .mem import comment_block, hex_word, word_kind

__all__ = ["render"]

WORDS_PER_LINE = 8


def render(table, report, name: str) -> list[Artifact]:
    bits = table.store_bits
    words = [hex_word(int(v), bits) for v in table.values]
    head = provenance_lines(table, report, name) + [
        "",
        f"{len(words)} {word_kind(table)}: ROM width {bits}, depth {len(words)}",
    ]
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
    return [Artifact(f"{name}.coe", text)]
