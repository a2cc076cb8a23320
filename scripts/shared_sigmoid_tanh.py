#!/usr/bin/env python3
"""Can the fitted tanh table's knots serve sigmoid too? (issue 12, item 3: a measurement)

    python scripts/shared_sigmoid_tanh.py

sigma(x) - 1/2 = tanh(x/2) / 2, so the knots of a tanh table over u, read as a sigmoid
table over x = 2u (every segment twice as many input codes: shifts + 1), one more
guard bit (the halving) and the stored centre 1/2, are a sigmoid table of the same
output format. This fits tanh s16.12 -> s16.14 to 1 LSB, builds that sigmoid table
over [-8, 8) with the tanh's knots (the regions up to u = 4) and measures it on every
input. Nothing is shared in the exporters yet: this only measures whether it would hold.
"""

from __future__ import annotations

import dataclasses

import lutgen
from lutgen.search import fit


def main():
    tanh = fit("tanh", in_format="s16.12", out_format="s16.14", max_error="1lsb").best.table
    reg = tanh.regions
    pairs, end = [], 0
    for start, s, c in zip(reg.starts, reg.shifts, reg.counts):
        if start >= 1 << 14:  # u = 4 (s16.12): sigmoid's x = 8, the input format's end
            break
        pairs.append(f"{s + 1}x{c}")
        end = start + (c << s)
    if end != 1 << 14:
        print(f"the tanh's regions do not end at u = 4 (they pass {end / 4096:g}): fit the pair "
              "together")
        return
    layout = lutgen.compile_table(
        "sigmoid", in_format="s16.12", out_format="s16.14", range=(-8, 8), fold=True,
        tails="clamp", regions=",".join(pairs), guard_bits=tanh.guard_bits + 1)
    shared = dataclasses.replace(layout, values=tanh.values[:layout.values.size].copy())
    report = lutgen.analyze(shared)
    print(f"tanh s16.12 -> s16.14: {tanh.rom_bits} ROM bits, regions "
          f"{lutgen.regions.format_regions(reg.spec_value())}, G = {tanh.guard_bits}")
    print(f"sigmoid s16.12 -> s16.14 from its first {shared.values.size} knots (regions "
          f"{','.join(pairs)}, G = {shared.guard_bits}): max {report.max_error_lsb:.4f} LSB on "
          f"every input ({'faithful' if report.faithful else 'NOT faithful'})")
    alone = fit("sigmoid", in_format="s16.12", out_format="s16.14", max_error="1lsb").best.table
    print(f"a sigmoid table of its own: {alone.rom_bits} ROM bits; the pair in one knot array "
          f"would save {alone.rom_bits / (alone.rom_bits + tanh.rom_bits):.0%} of the two")


if __name__ == "__main__":
    main()
