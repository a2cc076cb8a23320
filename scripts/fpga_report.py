"""Resources and Fmax of a generated Verilog module: Yosys + nextpnr-ice40 (and synth_xilinx).

Usage::

    python scripts/fpga_report.py OUT/lutgen_sigmoid.v [more .v] [--devices up5k,hx8k]
                                  [--xc7] [--json]

For each module (its memory files beside it: Yosys runs in that folder, where
``$readmemh`` finds them) and each iCE40 device: ``synth_ice40 -dsp`` then
``nextpnr-ice40`` (placed and routed, IOs unconstrained, seed 1), and the
cells that matter: LUT4, flip-flops (every ``SB_DFF*``), carries, block RAMs
(``SB_RAM40_4K``), DSPs (``SB_MAC16``), and nextpnr's routed Fmax of the clock.
Devices without DSP blocks (hx8k) are synthesised without ``-dsp``.
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
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# device -> nextpnr-ice40 arguments (a package with IOs enough for 16-bit x and y)
DEVICES = {
    "up5k": ["--up5k", "--package", "sg48"],
    "hx8k": ["--hx8k", "--package", "ct256"],
    "hx1k": ["--hx1k", "--package", "tq144"],
    "lp8k": ["--lp8k", "--package", "cm81"],
}
HAS_DSP = {"up5k"}  # iCE40 devices with SB_MAC16 blocks
ICE40_CELLS = {"luts": ("SB_LUT4",), "carries": ("SB_CARRY",), "brams": ("SB_RAM40_4K",),
               "dsps": ("SB_MAC16",)}
XC7_CELLS = {"luts": ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"),
             "brams": ("RAMB18E1", "RAMB36E1"), "dsps": ("DSP48E1",)}


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"fpga_report: {name} is not installed (Debian: yosys, nextpnr-ice40)")
    return path


def _cells(stat: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"^\s+(\S+)\s+(\d+)\s*$", stat, re.M)}


def _count(cells: dict[str, int], names) -> int:
    return sum(cells.get(n, 0) for n in names)


def _module_name(vfile: Path) -> str:
    m = re.search(r"^module\s+(\w+)", vfile.read_text(), re.M)
    if m is None:
        raise SystemExit(f"fpga_report: no module in {vfile}")
    return m[1]


def _run(args, cwd, timeout) -> str:
    out = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed:\n{out.stdout[-3000:]}"
                           f"{out.stderr[-3000:]}")
    return out.stdout + out.stderr


def ice40(vfile, devices=("up5k", "hx8k"), freq: float = 100.0, seed: int = 1,
          timeout: int = 600) -> dict:
    """Synthesise ``vfile`` for iCE40 and place and route it on each device.

    ``synth_ice40 -dsp`` for devices with DSPs (up5k), plain ``synth_ice40`` for
    the others (no SB_MAC16 there: the multiply is built from LUTs and carries).
    Returns ``{device: {cells, luts, ffs, carries, brams, dsps, fmax_mhz, synth}}``.
    """
    vfile = Path(vfile).resolve()
    top = _module_name(vfile)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for device in devices:
            dsp = device in HAS_DSP
            netlist, stat = Path(tmp) / f"net{int(dsp)}.json", Path(tmp) / f"stat{int(dsp)}.txt"
            synth = f"synth_ice40{' -dsp' if dsp else ''} -top {top}"
            if not netlist.exists():
                _run([tool("yosys"), "-q", "-p", f"read_verilog {vfile.name}; {synth} "
                      f"-json {netlist}; tee -q -o {stat} stat"], vfile.parent, timeout)
            cells = _cells(stat.read_text())
            log = _run([tool("nextpnr-ice40"), *DEVICES[device], "--json", str(netlist),
                        "--pcf-allow-unconstrained", "--timing-allow-fail", "--freq", str(freq),
                        "--seed", str(seed)], tmp, timeout)
            found = re.findall(r"Max frequency for clock '[^']*': ([\d.]+) MHz", log)
            if not found:
                raise RuntimeError(f"nextpnr-ice40 printed no Fmax for {top} on {device}")
            results[device] = {
                "module": top, "synth": synth, "cells": cells,
                "ffs": sum(n for c, n in cells.items() if c.startswith("SB_DFF")),
                **{k: _count(cells, names) for k, names in ICE40_CELLS.items()},
                "fmax_mhz": float(found[-1]),  # the last report: after routing
            }
    return results


def xc7(vfile, timeout: int = 600) -> dict:
    """Cell counts of ``synth_xilinx`` (7-series) for ``vfile``."""
    vfile = Path(vfile).resolve()
    top = _module_name(vfile)
    with tempfile.TemporaryDirectory() as tmp:
        stat = Path(tmp) / "stat.txt"
        _run([tool("yosys"), "-q", "-p", f"read_verilog {vfile.name}; synth_xilinx -top {top}; "
              f"tee -q -o {stat} stat"], vfile.parent, timeout)
        cells = _cells(stat.read_text())
    return {"module": top, "cells": cells,
            "ffs": sum(n for c, n in cells.items() if re.fullmatch(r"FD[CPRS]E?", c)),
            **{k: _count(cells, names) for k, names in XC7_CELLS.items()}}


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
    for vfile in args.verilog:
        row = {"file": str(vfile), "ice40": ice40(vfile, devices, args.freq)}
        if args.xc7:
            row["xc7"] = xc7(vfile)
        rows.append(row)
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
