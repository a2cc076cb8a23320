"""Verification: does a build folder still hold exactly what its manifest's specs give?

Every table is re-compiled from its saved spec, every file re-rendered, and the
bytes compared: edited words, edited figures, dropped entries, added or stray
files are all reported.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .analysis import analyze
from . import __version__
from .batch import MANIFEST, BuiltTable, Project, project_artifacts
from .errors import LutgenError, ProjectError
from .export import identifier, render

__all__ = ["verify"]


def verify(directory) -> list[str]:
    """Differences between a build folder and its manifest (empty: all good).

    Every table is re-compiled from its saved spec and every file re-rendered from
    those tables, then compared byte for byte with the folder: a changed table word
    is found even when its SHA-256 in the manifest was updated, and an edited figure
    or a dropped entry of the manifest itself shows as a ``manifest.json`` that its
    own tables do not give. Files the manifest does not list (added files, stray
    temporaries, folders) are differences too, and so is a missing or corrupt
    manifest. Only a folder that does not exist is an error (:class:`ProjectError`).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ProjectError(f"{str(directory)!r} is not a folder; give a folder built by "
                           "lutgen batch")
    manifest, problem = _read_manifest(directory)
    if manifest is None:
        return [problem]
    problems = []
    listed = manifest["files"]
    names_ok = True
    for i, entry in enumerate(manifest["tables"]):
        if not _is_table_name(entry["name"]):
            problems.append(f"tables[{i}].name {entry['name']!r}: not a table name inside the "
                            "folder; not checked")
            names_ok = False
    for filename in sorted(listed):
        if not _is_file_name(filename):
            problems.append(f"{filename}: not a file name inside the folder; not checked")
    expected: dict[str, bytes] = {}
    complete = False  # expected holds every file of the folder, manifest.json too
    generator = f"lutgen {__version__}"
    if manifest["generator"] != generator:
        problems.append(f"{MANIFEST}: written by {manifest['generator']}, not {generator}; "
                        "only the SHA-256 of each file was checked: rebuild to compare")
    elif names_ok:
        expected, complete, rebuild_problems = _rerender(directory, manifest)
        problems += rebuild_problems
    present = {p.name: p for p in directory.iterdir()}
    for filename in sorted(set(listed) | set(expected) | set(present)):
        if not _is_file_name(filename):
            continue
        path = directory / filename
        if filename == MANIFEST:
            if complete and path.read_bytes() != expected[MANIFEST]:
                problems.append(f"{MANIFEST}: differs from the manifest its own tables give "
                                "(an edited figure, digest or file list, or a dropped entry)")
            continue
        if filename not in listed and filename not in expected:
            if path.is_dir():
                problems.append(f"{filename}/: a folder the manifest does not list")
            elif filename.startswith(".") and filename.endswith((".tmp", ".bak", ".lock")):
                problems.append(f"{filename}: a stray temporary file the manifest does not list")
            else:
                problems.append(f"{filename}: not in the manifest")
            continue
        if filename not in present:
            problems.append(f"{filename}: missing")
            continue
        if not path.is_file():
            problems.append(f"{filename}: not a file")
            continue
        data = path.read_bytes()
        if filename in listed and hashlib.sha256(data).hexdigest() != listed[filename]:
            problems.append(f"{filename}: SHA-256 differs from the manifest")
        elif filename in expected and data != expected[filename]:
            problems.append(f"{filename}: differs from what the saved specs re-compile to")
        elif complete and filename not in expected:
            problems.append(f"{filename}: listed in the manifest, but no table writes it")
    return problems


def _read_manifest(directory: Path):
    """The manifest as a dict, or None and the problem with it."""
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"{MANIFEST}: missing; build the folder with lutgen batch"
    except OSError as exc:
        return None, f"{MANIFEST}: cannot read it ({exc.strerror})"
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        why = "it nests too deeply" if isinstance(exc, RecursionError) else str(exc)
        return None, f"{MANIFEST}: not valid JSON ({why}); rebuild the folder with lutgen batch"
    strings = (lambda v: isinstance(v, list) and all(isinstance(k, str) for k in v))
    ok = (isinstance(manifest, dict)
          and all(isinstance(manifest.get(k), str) for k in ("generator", "project", "source"))
          and strings(manifest.get("emit"))
          and isinstance(manifest.get("files"), dict) and manifest["files"]
          and all(isinstance(v, str) for v in manifest["files"].values())
          and isinstance(manifest.get("tables"), list)
          and all(isinstance(t, dict) and isinstance(t.get("name"), str)
                  and isinstance(t.get("spec"), dict) and isinstance(t.get("fitted"), bool)
                  for t in manifest["tables"]))
    if not ok:
        return None, (f"{MANIFEST}: not a lutgen manifest (it needs its generator, project, "
                      "source, emit, files and tables); rebuild the folder with lutgen batch")
    return manifest, None


def _is_file_name(name: str) -> bool:
    return Path(name).name == name and name not in ("", ".", "..") and "\\" not in name


def _is_table_name(name: str) -> bool:
    try:
        return identifier(name) == name
    except LutgenError:
        return False


def _recorded_dist(budget):
    """The distribution a fitted table was budgeted for: a file is read again from the path
    the manifest recorded, and must still have the recorded SHA-256."""
    from .analysis import Distribution

    if not budget or budget.get("dist") is None:
        return None
    if "dist_file" in budget:
        return Distribution.from_record(budget)
    return Distribution.parse(budget["dist"])


def _rebuild(entry: dict, built: list[BuiltTable]):
    """A manifest entry's table from its saved spec; a table with ``knots_from`` from the
    rebuilt table it names (lutgen.shared), which comes before it."""
    from .table import TableSpec, build

    source = entry.get("knots_from")
    if source is None:
        return build(TableSpec.from_dict(entry["spec"]))
    from .shared import sigmoid_from_tanh

    found = [b for b in built if b.name == source]
    if not found:
        raise KeyError(f"knots_from {source!r}: no earlier table of that name")
    return sigmoid_from_tanh(found[0].table, name=source)


def _rerender(directory: Path, manifest: dict):
    """Every file of the folder as the saved specs give it, and what could not be rebuilt."""
    built, problems = [], []
    for entry in manifest["tables"]:
        name = entry["name"]
        budget = entry.get("budget")
        try:
            dist = _recorded_dist(budget)
        except (ValueError, KeyError, TypeError, AttributeError, LutgenError) as exc:
            problems.append(f"{name}: {exc}; its files were checked against their SHA-256 only")
            continue
        try:
            table = _rebuild(entry, built)
            report = analyze(table, dist=dist)
            resources = None
            if "resources" in entry:  # measured once: re-rendered from the saved figures
                from .resources import Resources

                resources = Resources.from_dict(entry["resources"])
            artifacts = render(table, report, list(manifest["emit"]), name, resources)
        except (ValueError, KeyError, TypeError, AttributeError, LutgenError) as exc:
            problems.append(f"{name}: cannot re-compile from its spec ({exc})")
            continue
        built.append(BuiltTable(name, table, report, tuple(artifacts), entry["fitted"], budget,
                                resources))
        try:
            stored = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
            if [int(v) for v in table.values] != stored["table"]["values"]:
                problems.append(f"{name}: the re-compiled table differs from {name}.json")
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            pass  # the byte comparison names that file
    partial = {a.filename: a.text.encode("utf-8") for b in built for a in b.artifacts}
    if problems:
        return partial, False, problems
    project = Project(manifest["project"], tuple(manifest["emit"]), (), manifest["source"])
    try:
        files = project_artifacts(project, built)
    except LutgenError as exc:
        return partial, False, [f"{MANIFEST}: its tables do not make a project ({exc})"]
    return {a.filename: a.text.encode("utf-8") for a in files}, True, []
