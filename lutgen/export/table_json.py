"""``<name>.json``: the spec, the integer table, the effective range and the error report."""

from __future__ import annotations


from .. import __version__, _json
from ._common import Artifact, build_command


def table_document(table, report, name: str, kinds=None) -> dict:
    return {
        "generator": f"lutgen {__version__}",
        "command": f"{build_command(table)} --name {name}",
        "name": name,
        "emit": list(kinds or ["json"]),
        "table": table.to_dict(),
        "report": None if report is None else report.to_dict(),
    }


def render(table, report, name: str, kinds=None) -> list[Artifact]:
    text = _json.dumps(table_document(table, report, name, kinds), indent=2) + "\n"
    return [Artifact(f"{name}.json", text)]
