"""What a table costs on a target: the derived cost models behind ``lutgen fit --target``.

A table's *footprint* is what its Verilog module and C header store: the memories the
module reads (one, or an even and an odd knot bank for a linear table whose segments
are wider than one code; :func:`lutgen.export.mem.rom_banks`), their word width, and
its multipliers (one for such a linear table, none otherwise). Each target turns a
footprint into figures (docs/RESOURCES.md has the model and how it compares with Yosys):

- ``ice40-up5k``: block RAM ``SB_RAM40_4K`` (4 kbit; 256x16, 512x8, 1024x4, 2048x2);
  a memory of D words of W bits takes ``min over shapes w x d of ceil(W/w) * ceil(D/d)``
  blocks; a word packs into a 2-, 4-, 8- or 16-bit port (a 17-bit word takes two 16-bit
  ports: 32 bits); one ``SB_MAC16`` per multiplier.
- ``xc7``: ``RAMB18E1`` (18 kbit; 512x36, 1Kx18, 2Kx9, 4Kx4, 8Kx2, 16Kx1), words packed
  into 1, 2, 4, 9, 18 or 36-bit ports; one ``DSP48E1`` per multiplier.
- ``cortex-m``, ``avr``: the C header's array: words of 8, 16 or 32 bits.
- ``generic``: ROM bits as stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import SpecError, did_you_mean
from .fixedpoint import c_word_bits

__all__ = ["Footprint", "Target", "TARGETS", "OBJECTIVES", "get_target", "footprint",
           "costs", "cost_key", "resolve"]

OBJECTIVES = ("bits", "bytes", "bram", "dsp", "luts")
FPGA_OBJECTIVES = ("bram", "dsp", "luts")


@dataclass(frozen=True)
class Footprint:
    """The memories (words each), their word width and the multipliers of a table."""

    banks: tuple[int, ...]
    width: int
    multipliers: int
    extra_bits: int = 0  # a hierarchical table's region table: constants, not a memory
    extra_bytes: int = 0  # ... and its two C arrays

    def narrower(self, width: int) -> "Footprint":
        return Footprint(self.banks, width, self.multipliers, self.extra_bits, self.extra_bytes)

    @property
    def words(self) -> int:
        return sum(self.banks)


@dataclass(frozen=True)
class Target:
    """A target's packing: block RAM shapes (width, depth) or MCU words, and its defaults."""

    name: str
    kind: str  # "fpga", "mcu" or "generic"
    objective: str  # the default objective
    family: str | None = None  # the Yosys family of :mod:`lutgen.resources` (FPGAs)
    bram: str | None = None  # the block RAM primitive counted
    dsp: str | None = None  # the multiplier primitive counted
    shapes: tuple[tuple[int, int], ...] = ()  # (port width, depth) of one block
    about: str = ""

    def port_bits(self, width: int) -> int:
        """The bits a ``width``-bit word occupies once packed into the target's words."""
        if self.kind == "mcu":
            return c_word_bits(width)
        if self.kind == "generic":
            return width
        widths = sorted({w for w, _ in self.shapes})
        fits = [w for w in widths if w >= width]
        if fits:
            return fits[0]
        widest = max(w for w in widths if w <= 18)  # side by side: 16-bit (iCE40), 18 (xc7)
        return widest * math.ceil(width / widest)

    def blocks(self, depth: int, width: int) -> int:
        """Block RAMs for one memory of ``depth`` words of ``width`` bits (best shape)."""
        return min(math.ceil(width / w) * math.ceil(depth / d) for w, d in self.shapes)


TARGETS = {
    "ice40-up5k": Target("ice40-up5k", "fpga", "bram", "ice40", "SB_RAM40_4K", "SB_MAC16",
                         ((16, 256), (8, 512), (4, 1024), (2, 2048)),
                         "Lattice iCE40 UltraPlus: 4-kbit SB_RAM40_4K, SB_MAC16"),
    "xc7": Target("xc7", "fpga", "bram", "xc7", "RAMB18E1", "DSP48E1",
                  ((36, 512), (18, 1024), (9, 2048), (4, 4096), (2, 8192), (1, 16384)),
                  "Xilinx 7-series: 18-kbit RAMB18E1, DSP48E1"),
    "cortex-m": Target("cortex-m", "mcu", "bytes", about="Arm Cortex-M: 8/16/32-bit words"),
    "avr": Target("avr", "mcu", "bytes", about="AVR: 8/16/32-bit words in flash"),
    "generic": Target("generic", "generic", "bits", about="ROM bits as stored"),
}


def get_target(name) -> Target:
    if isinstance(name, Target):
        return name
    if name not in TARGETS:
        raise SpecError(f"unknown target {name!r}{did_you_mean(str(name), TARGETS)}; "
                        f"allowed: {', '.join(TARGETS)}")
    return TARGETS[name]


def resolve(target, objective) -> tuple[Target, str]:
    """The target and the objective (None: the target's default), or SpecError."""
    t = get_target(target)
    objective = t.objective if objective is None else objective
    if objective not in OBJECTIVES:
        raise SpecError(f"unknown objective {objective!r}; allowed: {', '.join(OBJECTIVES)}")
    if objective in FPGA_OBJECTIVES and t.kind != "fpga":
        fpgas = ", ".join(n for n, x in TARGETS.items() if x.kind == "fpga")
        raise SpecError(f"objective {objective!r} counts an FPGA's resources; target "
                        f"{t.name!r} has none: give --target {fpgas.replace(', ', ' or ')}")
    return t, objective


def footprint(table) -> Footprint:
    """What ``table``'s module stores and multiplies (the layout of ``mem.rom_banks``)."""
    n = int(table.values.size)
    regions = getattr(table, "regions", None)
    extra = {}
    if regions is not None:
        extra = {"extra_bits": regions.table_bits,
                 "extra_bytes": table.c_bytes - n * c_word_bits(table.store_bits) // 8}
    if table.interp.value == "linear" and table.shift > 0:  # T[i] and T[i+1] in one cycle
        return Footprint(((n + 1) // 2, n // 2), table.store_bits, 1, **extra)
    return Footprint((n,), table.store_bits, 0, **extra)


def costs(fp: Footprint, target) -> dict:
    """Every figure of ``fp`` on ``target`` (what ``fit --json`` reports)."""
    t = get_target(target)
    out = {"target": t.name, "rom_bits": fp.words * fp.width + fp.extra_bits,
           "c_bytes": fp.words * c_word_bits(fp.width) // 8 + fp.extra_bytes,
           "packed_bits": fp.words * t.port_bits(fp.width) + fp.extra_bits,
           "multipliers": fp.multipliers}
    if t.kind == "fpga":
        out.update(brams=sum(t.blocks(d, fp.width) for d in fp.banks if d),
                   dsps=fp.multipliers, bram_primitive=t.bram, dsp_primitive=t.dsp)
    return out


def cost_key(fp: Footprint, target, objective: str) -> tuple:
    """What ``objective`` minimises on ``target``, then the tie-breakers (lower is cheaper).

    ``luts`` has no model: the search ranks by packed bits and the fewest DSPs, and
    :func:`lutgen.resources.rank_by_luts` measures the best few with Yosys.
    """
    c = costs(fp, target)
    if objective == "bytes":
        return (c["c_bytes"], c["rom_bits"])
    if objective == "bram":
        return (c["brams"], c["dsps"], c["packed_bits"], c["rom_bits"])
    if objective == "dsp":
        return (c["dsps"], c["brams"], c["packed_bits"], c["rom_bits"])
    if objective == "luts":
        return (c["packed_bits"], c["dsps"], c["rom_bits"])
    return (c["packed_bits"], c["rom_bits"], c["c_bytes"])  # bits
