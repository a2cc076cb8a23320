"""``<name>.json``: the spec, the integer table, the effective range and the error report."""

from __future__ import annotations


from .. import __version__, _json
from ._common import Artifact, build_command, regenerate_command


def table_document(table, report, name: str, kinds=None, resources=None) -> dict:
    doc = {
        "generator": f"lutgen {__version__}",
        "command": regenerate_command(table, name),
        "name": name,
        "emit": list(kinds or ["json"]),
        "table": table.to_dict(),
        "report": None if report is None else report.to_dict(),
    }
    if resources is not None:  # measured by `lutgen build --report-resources`
        doc["resources"] = resources.to_dict()
    return doc


def render(table, report, name: str, kinds=None, resources=None) -> list[Artifact]:
    text = _json.dumps(table_document(table, report, name, kinds, resources), indent=2) + "\n"
    arts = [Artifact(f"{name}.json", text)]
    if resources is not None:
        arts.append(Artifact(f"{name}_resources.md", resources_markdown(table, name, resources)))
    return arts


def resources_markdown(table, name: str, resources) -> str:
    """``<name>_resources.md``: the measured figures with the command that remakes them."""
    return (f"# Resources of lutgen_{name}.v\n\n"
            f"Measured by `{build_command(table)} --name {name} --report-resources` "
            f"({', '.join(resources.tools.values())}).\n\n" + resources.markdown())
