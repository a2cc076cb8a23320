#!/usr/bin/env python3
"""One knot array for sigmoid and tanh: what sharing saves (issue 12, item 3).

    python scripts/shared_sigmoid_tanh.py

Fits tanh s16.12 -> s16.14 and -> s16.15 to 1 LSB, builds the sigmoid of the same
formats over the tanh's knots (lutgen.shared.sigmoid_from_tanh: sigmoid(x) = 1/2 +
tanh(x/2)/2), measures it on every input, and compares the pair with two tables of
their own. A project asks for it with ``knots_from`` (README, "One knot array").
"""

from __future__ import annotations

import lutgen
from lutgen.regions import format_regions
from lutgen.search import fit
from lutgen.shared import sigmoid_from_tanh


def main():
    for out in ("s16.14", "s16.15"):
        tanh = fit("tanh", in_format="s16.12", out_format=out, max_error="1lsb").best.table
        sig = sigmoid_from_tanh(tanh)
        report = lutgen.analyze(sig)
        alone = fit("sigmoid", in_format="s16.12", out_format=out, max_error="1lsb").best.table
        pair, apart = tanh.rom_bits + sig.rom_bits, tanh.rom_bits + alone.rom_bits
        print(f"s16.12 -> {out}: tanh {tanh.rom_bits} ROM bits (G = {tanh.guard_bits}); the "
              f"sigmoid over its first {sig.values.size} knots (regions "
              f"{format_regions(sig.regions.spec_value())}, G = {sig.guard_bits}) adds "
              f"{sig.rom_bits}: max {report.max_error_lsb:.4f} LSB on every input "
              f"({'faithful' if report.faithful else 'NOT faithful'}); the pair {pair} bits, "
              f"two tables {apart} ({alone.rom_bits} for a sigmoid of its own): "
              f"{1 - pair / apart:.0%} saved")


if __name__ == "__main__":
    main()
