"""Resources and Fmax of generated Verilog modules: Yosys + nextpnr-ice40 (and synth_xilinx).

Usage::

    python scripts/fpga_report.py OUT/lutgen_sigmoid.v [more .v] [--devices up5k,hx8k]
                                  [--xc7] [--json]

The measuring is :mod:`lutgen.resources` (``lutgen build --report-resources`` uses it
too). For each module (its memory files beside it: Yosys runs in that folder, where
``$readmemh`` finds them) and each iCE40 device: ``synth_ice40 -dsp`` (plain
``synth_ice40`` on devices without DSP blocks, hx8k) then ``nextpnr-ice40`` (placed and
routed, IOs unconstrained, seed 1): LUT4, flip-flops (every ``SB_DFF*``), carries, block
RAMs (``SB_RAM40_4K``), DSPs (``SB_MAC16``), and nextpnr's routed Fmax of the clock.
With ``--xc7``: ``synth_xilinx`` (7-series) cell counts (LUTs, FFs, RAMB18/36,
``DSP48E1``); no place and route.

Example (the fitted 16-bit sigmoid at the deepest pipeline)::

    lutgen build sigmoid --in-format s16.12 --out-format s16.14 \\
        --range -7.832275390625 7.832275390625 --entries 128 --interp linear --tails clamp \\
        --fold --coeffs minimax --guard-bits 2 --pipeline max --emit mem,verilog -o out
    python scripts/fpga_report.py out/lutgen_sigmoid.v --xc7
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's lutgen

from lutgen.errors import ToolError  # noqa: E402
from lutgen.resources import DEVICES, ice40 as _ice40, xc7 as _xc7  # noqa: E402


def ice40(vfile, devices=("up5k", "hx8k"), freq: float = 100.0, seed: int = 1) -> dict:
    """``{device: {module, synth, cells, luts, ffs, carries, brams, dsps, fmax_mhz}}``."""
    from lutgen.resources import module_name

    top = module_name(Path(vfile))
    return {r.device: {"module": top, **r.to_dict()} for r in _ice40(vfile, devices, freq, seed)}


def xc7(vfile) -> dict:
    """Cell counts of ``synth_xilinx`` (7-series) for ``vfile``."""
    from lutgen.resources import module_name

    return {"module": module_name(Path(vfile)), **_xc7(vfile).to_dict()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("verilog", nargs="+", type=Path, help="lutgen_<name>.v files")
    parser.add_argument("--devices", default="up5k,hx8k",
                        help=f"iCE40 devices, comma-separated: {', '.join(DEVICES)}")
    parser.add_argument("--freq", type=float, default=100.0, help="nextpnr target MHz")
    parser.add_argument("--xc7", action="store_true", help="also synth_xilinx cell counts")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    devices = [d.strip() for d in args.devices.split(",") if d.strip()]
    unknown = [d for d in devices if d not in DEVICES]
    if unknown:
        parser.error(f"unknown device {unknown[0]!r}; allowed: {', '.join(DEVICES)}")
    rows = []
    try:
        for vfile in args.verilog:
            row = {"file": str(vfile), "ice40": ice40(vfile, devices, args.freq)}
            if args.xc7:
                row["xc7"] = xc7(vfile)
            rows.append(row)
    except ToolError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for row in rows:
        for device, r in row["ice40"].items():
            print(f"{r['module']}: iCE40 {device} ({r['synth'].split(' -top')[0]}, nextpnr-ice40): "
                  f"Fmax {r['fmax_mhz']:.1f} MHz; {r['luts']} LUT4, {r['ffs']} FF, "
                  f"{r['carries']} carry, {r['brams']} SB_RAM40_4K, {r['dsps']} SB_MAC16")
        if "xc7" in row:
            x = row["xc7"]
            print(f"{x['module']}: xc7 (synth_xilinx): {x['luts']} LUT, {x['ffs']} FF, "
                  f"{x['brams']} RAMB, {x['dsps']} DSP48E1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
