"""Artifact exporters: C header (or a .c/.h pair), Verilog ROM files, COE, MIF, Verilog module, testbench, JSON.

Each kind is one small module with ``render(table, report, name) -> list[Artifact]``.
:func:`export` renders every requested kind in memory first, then writes them all
or none (see ``_files``), so a failure leaves no half-written file behind.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from ..errors import ExportError, did_you_mean
from ._common import Artifact, atomic_write, build_command, identifier, macro_name
from ._files import replace_folder, write_artifacts
from ._rtl import banked

__all__ = ["KINDS", "Artifact", "export", "render", "write_artifacts", "replace_folder",
           "identifier", "parse_kinds", "build_command", "atomic_write", "macro_name"]
__all__ += ["REGION_KINDS", "shared_kinds"]

# kind -> module implementing render()
KINDS = {
    "c": "c_header",
    "c-split": "c_split",
    "mem": "mem",
    "coe": "coe",
    "mif": "mif",
    "verilog": "verilog",
    "tb": "testbench",
    "hls": "hls",
    "json": "table_json",
}


# the kinds that export hierarchical tables (``regions``); the others refuse them
REGION_KINDS = {"json", "c", "c-split", "verilog", "tb", "mem", "hls", "coe", "mif"}


def parse_kinds(text, complete: bool = True) -> list[str]:
    """``"c,mem,verilog"`` (or a list) to a list of kinds, or ExportError.

    ``complete``: a set of files that works on its own (``verilog`` and ``tb`` bring
    the ``mem`` files the module reads).
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    kinds = []
    for raw in items:
        if not isinstance(raw, str):
            raise ExportError(f"--emit kind {raw!r} is not text; allowed: {', '.join(KINDS)}, all")
        kind = raw.strip().lower()
        if not kind:
            continue
        if kind == "all":
            kinds.extend(KINDS)
            continue
        if kind not in KINDS:
            raise ExportError(
                f"unknown --emit kind {raw.strip()!r}{did_you_mean(kind, KINDS)}; "
                f"allowed: {', '.join(KINDS)}, all"
            )
        kinds.append(kind)
    if not kinds:
        raise ExportError(f"--emit names no kind; allowed: {', '.join(KINDS)}, all")
    if complete and ("verilog" in kinds or "tb" in kinds) and "mem" not in kinds:
        kinds.append("mem")  # the module reads its ROMs from the .mem files: never one without
    return list(dict.fromkeys(kinds))


def render(table, report, kinds, name: str | None = None, resources=None) -> list[Artifact]:
    """Every artifact of ``kinds`` for ``table``, in memory.

    ``resources``: measured :class:`lutgen.resources.Resources` to record in ``<name>.json``
    (and ``<name>_resources.md``).
    """
    name = identifier(name if name is not None else table.name)
    kinds = parse_kinds(kinds, complete=False)
    artifacts: list[Artifact] = []
    if getattr(table, "regions", None) is not None:
        refused = [k for k in kinds if k not in REGION_KINDS]
        if refused:
            raise ExportError(
                f"--emit {refused[0]} cannot export a hierarchical table (regions "
                f"{','.join(map(str, table.regions.shifts))}) yet; emit "
                f"{', '.join(sorted(REGION_KINDS))} or build it with --entries")
    if getattr(table, "knots_of", None) is not None:
        kinds = shared_kinds(kinds, table.knots_of, table.knots_name)
        artifacts += _source_mems(table, kinds)
    for kind in kinds:
        module = importlib.import_module(f".{KINDS[kind]}", __name__)
        if kind == "json":  # the saved spec records what was emitted, for `build --from`
            artifacts.extend(module.render(table, report, name, kinds=kinds,
                                           resources=resources))
        else:
            artifacts.extend(module.render(table, report, name))
    # c and c-split both make <name>.h, the same text: write it once
    return list({(a.filename, a.text): a for a in artifacts}.values())


def shared_kinds(kinds, source, name: str) -> list[str]:
    """The kinds a table reading the knots of table ``source``, exported as ``name``
    (lutgen.shared), writes: its
    C and HLS headers (reading that table's array), its Verilog (one module computing both
    functions from one set of ROMs), testbench and JSON; no memory files of its own (the
    knots are the source's files: its Verilog brings those)."""
    hdl = [k for k in kinds if k in ("verilog", "tb")]
    if hdl and not banked(source):  # the sigmoid's segments (2+ codes) read two banks
        raise ExportError(
            f"--emit {hdl[0]}: the tanh table '{name}' stores one knot per input code "
            "(no even/odd banks), the sigmoid over its knots reads two per cycle; emit c, "
            "hls, json, or build the tanh with fewer entries")
    # c-split's <name>.c would define no table: its header is the c kind's
    return list(dict.fromkeys("c" if k == "c-split" else k for k in kinds
                              if k in ("c", "c-split", "json", "verilog", "tb", "hls")))


def _source_mems(table, kinds) -> list[Artifact]:
    """The memory files a shared table's module reads: its source's ROM banks, the very
    files the source writes (data only; their description is the source's ``_rom.txt``)."""
    if "verilog" not in kinds and "tb" not in kinds:
        return []
    from . import mem
    name = identifier(table.knots_name)
    read = {file for _, _, file, _ in mem.module_roms(table.knots_of, name)}
    return [a for a in mem.render(table.knots_of, None, name) if a.filename in read]


def export(table, report, kinds, outdir, name: str | None = None, resources=None) -> list[Path]:
    """Render and write the artifacts into ``outdir``; returns the paths written."""
    return write_artifacts(render(table, report, kinds, name, resources), outdir)
