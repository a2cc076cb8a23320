"""What a table's Verilog module costs on real FPGAs: Yosys cell counts and nextpnr's Fmax.

For a module (its memory files beside it) and each family:

- ``ice40``: ``synth_ice40 -dsp`` (iCE40 UltraPlus, which has ``SB_MAC16`` blocks), then
  ``nextpnr-ice40 --up5k`` (package sg48, IOs unconstrained, seed 1) for the routed Fmax;
  other iCE40 devices (hx8k: no DSP blocks) are synthesised without ``-dsp``.
- ``xc7``: ``synth_xilinx`` (7-series) cell counts; no place and route (no open tool).

The figures: LUTs (``SB_LUT4`` / ``LUT1``-``LUT6``), flip-flops (every ``SB_DFF*`` / ``FD*``),
block RAMs (``SB_RAM40_4K`` / ``RAMB18E1`` + ``RAMB36E1``, each as Yosys reports it), DSPs
(``SB_MAC16`` / ``DSP48E1``). :func:`measure` renders a table's module into a temporary
folder and measures it there; ``scripts/fpga_report.py`` measures modules already written.
A missing tool raises :class:`~lutgen.errors.ToolError` before anything runs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ToolError

__all__ = ["FamilyResources", "Resources", "DEVICES", "require_tools", "ice40", "xc7",
           "measure", "measure_verilog", "module_name", "rank_by_luts"]

# iCE40 device -> nextpnr-ice40 arguments (a package with IOs enough for 16-bit x and y)
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
PACKAGES = {"yosys": "yosys", "nextpnr-ice40": "nextpnr-ice40"}  # tool -> Debian package
TIMEOUT = 600


@dataclass(frozen=True)
class FamilyResources:
    """One family's figures for one module (``device``: the iCE40 part placed, or None)."""

    family: str
    device: str | None
    synth: str  # the Yosys script's synthesis command
    luts: int
    ffs: int
    brams: int
    dsps: int
    carries: int | None = None
    fmax_mhz: float | None = None  # nextpnr's routed estimate (iCE40 only)
    cells: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        return {"family": self.family, "device": self.device, "synth": self.synth,
                "luts": self.luts, "ffs": self.ffs, "brams": self.brams, "dsps": self.dsps,
                "carries": self.carries, "fmax_mhz": self.fmax_mhz, "cells": dict(self.cells)}

    def text(self) -> str:
        where = f"{self.family} {self.device}" if self.device else self.family
        fmax = "" if self.fmax_mhz is None else f", Fmax {self.fmax_mhz:.1f} MHz"
        return (f"{where} ({self.synth.split(' -top')[0]}): {self.luts} LUT, {self.ffs} FF, "
                f"{self.brams} BRAM, {self.dsps} DSP{fmax}")


@dataclass(frozen=True)
class Resources:
    """The figures of one module on every family measured."""

    module: str
    families: tuple[FamilyResources, ...]
    tools: dict = field(default_factory=dict, compare=False)  # tool -> version line

    @classmethod
    def from_dict(cls, doc: dict) -> "Resources":
        """The figures :meth:`to_dict` saved (``lutgen verify`` re-renders from them)."""
        return cls(doc["module"], tuple(FamilyResources(**f) for f in doc["families"]),
                   dict(doc.get("tools", {})))

    def get(self, family: str, device: str | None = None) -> FamilyResources:
        for f in self.families:
            if f.family == family and (device is None or f.device == device):
                return f
        raise KeyError(f"no {family} {device or ''} figures".strip())

    def to_dict(self) -> dict:
        return {"module": self.module, "tools": dict(self.tools),
                "families": [f.to_dict() for f in self.families]}

    def markdown(self) -> str:
        """A table of the figures (for report.md)."""
        rows = ["| family | synthesis | LUT | FF | BRAM | DSP | Fmax MHz |",
                "|---|---|---|---|---|---|---|"]
        for f in self.families:
            where = f"{f.family} {f.device}" if f.device else f.family
            rows.append(f"| {where} | `{f.synth.split(' -top')[0]}` | {f.luts} | {f.ffs} | "
                        f"{f.brams} | {f.dsps} | "
                        f"{'-' if f.fmax_mhz is None else f'{f.fmax_mhz:.1f}'} |")
        return "\n".join(rows) + "\n"


# the modules a module instantiates come from <module>.v beside it (a softmax's tables)
LIBDIR = "hierarchy -libdir . -top {top}; "


def require_tools(place: bool = True) -> dict[str, str]:
    """The paths of Yosys (and nextpnr-ice40 if ``place``), or ToolError naming what is missing."""
    names = ["yosys"] + (["nextpnr-ice40"] if place else [])
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        raise ToolError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed; "
            f"resource figures need them (Debian: apt-get install "
            f"{' '.join(PACKAGES[n] for n in missing)})")
    return {n: shutil.which(n) for n in names}


def _versions(paths: dict[str, str]) -> dict[str, str]:
    out = {}
    for name, path in paths.items():
        run = subprocess.run([path, "-V" if name == "yosys" else "--version"],
                             capture_output=True, text=True, timeout=60)
        text = (run.stdout + run.stderr).strip().splitlines()
        out[name] = text[0] if text else ""
    return out


def _cells(stat: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"^\s+(\S+)\s+(\d+)\s*$", stat, re.M)}


def _count(cells: dict[str, int], names) -> int:
    return sum(cells.get(n, 0) for n in names)


def module_name(vfile: Path) -> str:
    m = re.search(r"^module\s+(\w+)", Path(vfile).read_text(), re.M)
    if m is None:
        raise ToolError(f"no Verilog module in {vfile}")
    return m[1]


def _run(args, cwd) -> str:
    timeout = TIMEOUT
    try:
        out = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ToolError(f"{Path(str(args[0])).name} ran over {timeout} s; measure a smaller "
                        "table or raise lutgen.resources.TIMEOUT") from None
    if out.returncode != 0:
        raise ToolError(f"{Path(str(args[0])).name} failed on {cwd}: "
                        f"{(out.stdout + out.stderr).strip().splitlines()[-1:]}")
    return out.stdout + out.stderr


def ice40(vfile, devices=("up5k",), freq: float = 100.0, seed: int = 1,
          place: bool = True) -> list[FamilyResources]:
    """Synthesise ``vfile`` for iCE40 and (``place``) place and route it on each device.

    ``synth_ice40 -dsp`` for devices with DSPs (up5k), plain ``synth_ice40`` for the
    others (no SB_MAC16 there: the multiply is built from LUTs and carries).
    """
    paths = require_tools(place)
    vfile = Path(vfile).resolve()
    top = module_name(vfile)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for device in devices:
            dsp = device in HAS_DSP
            netlist, stat = Path(tmp) / f"net{int(dsp)}.json", Path(tmp) / f"stat{int(dsp)}.txt"
            synth = f"synth_ice40{' -dsp' if dsp else ''} -top {top}"
            if not netlist.exists():
                libdir = LIBDIR.format(top=top)
                _run([paths["yosys"], "-q", "-p", f"read_verilog {vfile.name}; {libdir}{synth} "
                      f"-json {netlist}; tee -q -o {stat} stat"], vfile.parent)
            cells = _cells(stat.read_text())
            fmax = None
            if place:
                log = _run([paths["nextpnr-ice40"], *DEVICES[device], "--json", netlist,
                            "--pcf-allow-unconstrained", "--timing-allow-fail", "--freq", freq,
                            "--seed", seed], tmp)
                found = re.findall(r"Max frequency for clock '[^']*': ([\d.]+) MHz", log)
                if not found:
                    raise ToolError(f"nextpnr-ice40 printed no Fmax for {top} on {device}")
                fmax = float(found[-1])  # the last report: after routing
            results.append(FamilyResources(
                "ice40", device, synth, cells=cells, fmax_mhz=fmax,
                ffs=sum(n for c, n in cells.items() if c.startswith("SB_DFF")),
                **{k: _count(cells, names) for k, names in ICE40_CELLS.items()}))
    return results


def xc7(vfile) -> FamilyResources:
    """Cell counts of ``synth_xilinx`` (7-series) for ``vfile``."""
    paths = require_tools(place=False)
    vfile = Path(vfile).resolve()
    top = module_name(vfile)
    with tempfile.TemporaryDirectory() as tmp:
        stat = Path(tmp) / "stat.txt"
        synth = f"synth_xilinx -top {top}"
        libdir = LIBDIR.format(top=top)
        _run([paths["yosys"], "-q", "-p", f"read_verilog {vfile.name}; {libdir}{synth}; "
              f"tee -q -o {stat} stat"], vfile.parent)
        cells = _cells(stat.read_text())
    return FamilyResources("xc7", None, synth, cells=cells,
                           ffs=sum(n for c, n in cells.items() if re.fullmatch(r"FD[CPRS]E?", c)),
                           **{k: _count(cells, names) for k, names in XC7_CELLS.items()})


def measure_verilog(vfile, devices=("up5k",), families=("ice40", "xc7"),
                    place: bool = True) -> Resources:
    """Every family's figures for a module already written (its memory files beside it)."""
    paths = require_tools(place and "ice40" in families)
    found: list[FamilyResources] = []
    if "ice40" in families:
        found += ice40(vfile, devices, place=place)
    if "xc7" in families:
        found.append(xc7(vfile))
    return Resources(module_name(vfile), tuple(found), _versions(paths))


def measure(table, name: str | None = None, devices=None, families=("ice40", "xc7"),
            place: bool = True) -> Resources:
    """Render ``table``'s Verilog module and memory files into a temporary folder and measure.

    ``devices``: the iCE40 devices to place on (default up5k; a sigmoid over a tanh's knots
    is a module of both functions, whose ports outnumber the up5k's IOs: hx8k).
    Raises :class:`~lutgen.errors.ToolError` when Yosys (or, with ``place``,
    nextpnr-ice40) is missing, before rendering anything.
    """
    from .export import identifier, render, write_artifacts

    if devices is None:
        devices = ("up5k",) if getattr(table, "knots_of", None) is None else ("hx8k",)
    require_tools(place and "ice40" in families)
    name = identifier(name if name is not None else table.name)
    with tempfile.TemporaryDirectory() as tmp:
        write_artifacts(render(table, None, ["verilog", "mem"], name), tmp)
        return measure_verilog(Path(tmp) / f"lutgen_{name}.v", devices, families, place)


def rank_by_luts(result, count: int = 3):
    """``result`` (a :class:`~lutgen.budget.FitResult` of ``objective="luts"``) with its
    first ``count`` candidates synthesised for the target's family and re-ranked by LUTs
    (then block RAMs, DSPs, and the search's own order).

    No model predicts how Yosys maps a ROM to LUTs, so the few cheapest designs in
    packed bits are measured (synthesis only, no place and route).
    """
    import dataclasses

    from .targets import get_target

    target = get_target(result.target)
    if target.kind != "fpga":
        raise ToolError(f"LUTs are counted on an FPGA target, not {target.name!r}")
    require_tools(place=False)
    head = list(result.candidates[:count])
    if not head:
        return result
    counted = []
    for i, design in enumerate(head):
        fam = measure(design.table, "fit", families=(target.family,), place=False).families[0]
        counted.append(((fam.luts, fam.brams, fam.dsps, i), design))
    counted.sort(key=lambda pair: pair[0])
    ranked = [d for _, d in counted] + list(result.candidates[count:])
    best = ranked[0] if (result.best is None or result.best is result.candidates[0]) \
        else result.best
    return dataclasses.replace(result, best=best, candidates=tuple(ranked),
                               luts=tuple(key[0] for key, _ in counted))
