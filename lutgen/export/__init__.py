"""Artifact exporters: C header, Verilog ROM files, COE, MIF, Verilog module, testbench, JSON.

Each kind is one small module with ``render(table, report, name) -> list[Artifact]``.
:func:`export` renders every requested kind in memory first, then writes each
file atomically, so a failure leaves no half-written file behind.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from ..errors import ExportError, did_you_mean
from ._common import Artifact, atomic_write, identifier

__all__ = ["KINDS", "Artifact", "export", "render", "write_artifacts", "identifier",
           "parse_kinds"]

# kind -> module implementing render()
KINDS = {
    "c": "c_header",
    "mem": "mem",
    "coe": "coe",
    "mif": "mif",
    "verilog": "verilog",
    "tb": "testbench",
    "json": "table_json",
}


def parse_kinds(text) -> list[str]:
    """``"c,mem,verilog"`` (or a list) to a list of kinds, or ExportError."""
    items = text.split(",") if isinstance(text, str) else list(text)
    kinds = []
    for raw in items:
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
    return list(dict.fromkeys(kinds))


def render(table, report, kinds, name: str | None = None) -> list[Artifact]:
    """Every artifact of ``kinds`` for ``table``, in memory."""
    name = identifier(name if name is not None else table.name)
    kinds = parse_kinds(kinds)
    artifacts: list[Artifact] = []
    for kind in kinds:
        module = importlib.import_module(f".{KINDS[kind]}", __name__)
        if kind == "json":  # the saved spec records what was emitted, for `build --from`
            artifacts.extend(module.render(table, report, name, kinds=kinds))
        else:
            artifacts.extend(module.render(table, report, name))
    return artifacts


def export(table, report, kinds, outdir, name: str | None = None) -> list[Path]:
    """Render and write the artifacts into ``outdir``; returns the paths written."""
    return write_artifacts(render(table, report, kinds, name), outdir)


def write_artifacts(artifacts, outdir) -> list[Path]:
    """Write rendered artifacts into ``outdir``, each file atomically."""
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise ExportError(f"output directory {str(out)!r} is a file; give a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create output directory {str(out)!r}: {exc.strerror}") from None
    if not os.access(out, os.W_OK):
        raise ExportError(f"output directory {str(out)!r} is not writable")
    paths = []
    for art in artifacts:
        path = out / art.filename
        try:
            atomic_write(path, art.text)
        except OSError as exc:
            raise ExportError(f"cannot write {str(path)!r}: {exc.strerror}") from None
        paths.append(path)
    return paths
