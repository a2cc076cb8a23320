"""Projects: many tables from one TOML file, a manifest, a report, and verification.

A project file lists tables, each with explicit table options or an error
budget to fit::

    name = "mcu_int8"                       # names the combined header <name>.h
    emit = ["c", "mem", "json"]             # artifact kinds for every table

    [defaults]                              # options every table starts from
    in_format = "s8.4"

    [[tables]]
    activation = "sigmoid"
    out_format = "s8.7"
    entries = 64

    [[tables]]
    activation = "tanh"
    name = "tanh8"
    out_format = "s8.6"
    max_error = "1lsb"                      # fit: the cheapest table meeting it

:func:`compile_project` compiles every table (in memory), then :func:`write_project` writes each
table's artifacts, one combined C header, ``manifest.json`` (spec, effective
range, error figures and SHA-256 of every file) and ``report.md``. Any bad entry
raises :class:`ProjectError` naming it (``tables[3].out_format: ...``) before a
single file is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

from . import __version__, _json
from ._project_report import report_md
from ._text import up
from .analysis import analyze
from .errors import LutgenError, ProjectError
from .export import (KINDS, REGION_KINDS, Artifact, identifier, macro_name, parse_kinds, render,
                     replace_folder, shared_kinds)
from .spec import OPTION, rename_old

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

__all__ = ["Project", "BuiltTable", "load_project", "compile_project", "project_artifacts",
           "write_project", "ProjectError"]

TABLE_OPTIONS = ("name", *OPTION)  # generated from the one option table (lutgen.spec)
FIT_OPTIONS = ("max_error", "mean_error", "dist", "max_rom_bits", "target", "objective")
# a fitted table may be kept to uniform layouts (hierarchical = false): an MCU's accumulator
# stays narrower (docs/ARITHMETIC.md, "Hierarchical tables")
LAYOUT_KEY = "hierarchical"
# a sigmoid table may read an earlier tanh table's knots (lutgen.shared): one array, two functions
SHARE_KEY = "knots_from"
SHARE_CONFLICTS = ("range", "entries", "regions", "interp", "tails", "fold", "coeffs",
                   "guard_bits", "derivative", "expr", "pipeline", "rom_style", *FIT_OPTIONS,
                   LAYOUT_KEY)
PROJECT_KEYS = ("name", "emit", "defaults", "tables", "report_resources")
MANIFEST = "manifest.json"
REPORT = "report.md"


@dataclass(frozen=True)
class Project:
    name: str
    emit: tuple[str, ...]
    tables: tuple[dict, ...]  # each entry's options, defaults merged
    source: str
    notes: tuple[str, ...] = ()  # old option names read, and what they are called now
    report_resources: bool = False  # Yosys/nextpnr figures of every table (lutgen.resources)


def load_project(path) -> Project:
    """Read and validate a project file (keys and types; tables compile later)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectError(f"project file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise ProjectError(f"cannot read project file {str(path)!r}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{path.name}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ProjectError(f"{path.name}: not valid TOML: its arrays or tables nest too "
                           "deeply to read") from None
    _unknown(raw, PROJECT_KEYS, "")
    name = raw.get("name", path.stem)
    if not isinstance(name, str):
        raise ProjectError(f"name: {name!r} is not text, e.g. name = \"mcu_int8\"")
    try:
        name = identifier(name)
    except LutgenError as exc:
        raise ProjectError(f"name: {exc}") from None
    emit = raw.get("emit", ["c", "json"])
    if not (isinstance(emit, str) or isinstance(emit, list)
            and all(isinstance(k, str) for k in emit)):
        raise ProjectError(f"emit: {emit!r} is not a list of kinds, e.g. emit = [\"c\", \"mem\"]")
    try:
        kinds = parse_kinds(emit)
    except LutgenError as exc:
        raise ProjectError(f"emit: {exc}") from None
    if "json" not in kinds:
        kinds.append("json")  # the saved spec: `build --from` and `verify` need it
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ProjectError("defaults: must be a table of options, e.g. [defaults]")
    notes: list[str] = []
    defaults = _renamed(defaults, "defaults", notes)
    _unknown(defaults, TABLE_OPTIONS + FIT_OPTIONS + (LAYOUT_KEY,), "defaults.")
    tables = raw.get("tables")
    if not isinstance(tables, list) or not tables:
        raise ProjectError("tables: the project lists no tables; add [[tables]] entries")
    entries = []
    for i, entry in enumerate(tables):
        if not isinstance(entry, dict):
            raise ProjectError(f"tables[{i}]: must be a table of options")
        entry = _renamed(entry, f"tables[{i}]", notes)
        _unknown(entry, TABLE_OPTIONS + FIT_OPTIONS + (LAYOUT_KEY, SHARE_KEY), f"tables[{i}].")
        merged = {**defaults, **entry}
        _check_types(merged, f"tables[{i}].")
        if SHARE_KEY in merged:
            clash = [k for k in SHARE_CONFLICTS if k in entry]
            if clash:
                raise ProjectError(f"tables[{i}].{clash[0]}: a table with knots_from takes its "
                                   f"layout, knots and ROM (pipeline, rom_style) from table "
                                   f"'{merged[SHARE_KEY]}'; drop "
                                   f"{clash[0]} or drop knots_from")
            merged = {k: v for k, v in merged.items() if k not in SHARE_CONFLICTS}
        stray = [k for k in FIT_OPTIONS + (LAYOUT_KEY,) if k in merged and k != "max_error"]
        if stray and "max_error" not in merged:
            raise ProjectError(f"tables[{i}].{stray[0]}: only a fitted table (one with "
                               "max_error) takes it; add max_error or drop it")
        if "dist" in merged and "mean_error" not in merged:  # as the CLI's fit refuses it
            raise ProjectError(f"tables[{i}].dist: dist weights the mean error; give "
                               "mean_error with it")
        if ("activation" in merged) == ("expr" in merged):
            raise ProjectError(f"tables[{i}].activation: give an activation or an expr "
                               "(an expression of x), exactly one")
        if "expr" in merged and "name" not in merged:
            raise ProjectError(f"tables[{i}].name: a table with an expr needs a name")
        if "name" in merged:
            _check_not_an_activation(merged, f"tables[{i}].name")
        if "dist" in merged:  # a samples: or hist: file is relative to the project file
            from .analysis import Distribution

            try:
                merged["dist"] = Distribution.parse(merged["dist"], base=path.parent)
            except LutgenError as exc:
                raise ProjectError(f"tables[{i}].dist: {exc}") from None
        entries.append(merged)
    report_resources = raw.get("report_resources", False)
    if not isinstance(report_resources, bool):
        raise ProjectError(f"report_resources: {report_resources!r} is not true or false")
    return Project(name, tuple(kinds), tuple(entries), str(path), tuple(dict.fromkeys(notes)),
                   report_resources)


def _renamed(options: dict, where: str, notes: list) -> dict:
    """``options`` with old option names (``fit``) under today's names."""
    try:
        return rename_old(options, lambda text: notes.append(f"{where}: {text}"))
    except LutgenError as exc:
        raise ProjectError(f"{where}: {exc}") from None


def _check_not_an_activation(entry: dict, where: str) -> None:
    """A table's own name must not be another activation's: 'tanh' named "sigmoid" misleads
    every reader of its files, and an expr named "sigmoid" would shadow the catalog's."""
    from .activations import activations

    registered = {}
    for act in activations().values():
        if act.expression is None:  # an earlier expression is no activation of the catalog
            for n in (act.name, *act.aliases):
                registered[n.lower()] = act.name
    try:
        name = identifier(entry["name"])
    except LutgenError:
        return  # compile_project names the bad name
    taken = registered.get(name.lower())
    own = registered.get(str(entry.get("activation", "")).lower())
    if taken is not None and taken != own:
        raise ProjectError(f"{where}: '{entry['name']}' is the name of the activation "
                           f"'{taken}'; choose another name for this table")


_FIT_TYPES = {  # option -> (allowed TOML types, what to write)
    "name": ((str,), "a name, e.g. \"sig8\""),
    "max_rom_bits": ((int,), "an integer"),
    "max_error": ((str, int, float), "a number or LSBs, e.g. \"1lsb\""),
    "mean_error": ((str, int, float), "a number or LSBs, e.g. \"0.5lsb\""),
    "dist": ((str,), "text, e.g. \"normal:0,1\""),
    "target": ((str,), "a target, e.g. \"xc7\" (lutgen fit --help lists them)"),
    "objective": ((str,), "an objective, e.g. \"bram\" (lutgen fit --help lists them)"),
    LAYOUT_KEY: ((bool,), "true or false"),
    SHARE_KEY: ((str,), "the name of an earlier tanh table, e.g. \"tanh16\""),
}


def _type_ok(key: str, value) -> tuple[bool, str]:
    """Has ``value`` the TOML type of option ``key``? And what to write if not."""
    if key in OPTION:
        return OPTION[key].toml_ok(value), OPTION[key].toml_hint
    types, what = _FIT_TYPES[key]
    return (isinstance(value, types) and not (isinstance(value, bool) and bool not in types),
            what)


def _check_types(entry: dict, where: str):
    for key, value in entry.items():
        ok, what = _type_ok(key, value)
        if not ok:
            raise ProjectError(f"{where}{key}: {value!r} is not {what}")


def _unknown(d: dict, allowed, where: str):
    for key in d:
        if key not in allowed:
            raise ProjectError(f"{where}{key}: unknown key; allowed: {', '.join(allowed)}")


# ---- compiling ------------------------------------------------------------------------------
@dataclass(frozen=True)
class BuiltTable:
    name: str
    table: object
    report: object
    artifacts: tuple[Artifact, ...]
    fitted: bool
    budget: dict | None = None  # a fitted table's budget, as the project gave it
    resources: object = None  # lutgen.resources.Resources (report_resources = true)


def compile_entry(i: int, entry: dict, emit=None):
    """Compile one project entry: explicit options, or the fit of its budget (hierarchical
    layouts only when every kind in ``emit`` exports them; None: any kind may be emitted)."""
    from .search import fit
    from .table import compile_table

    where = f"tables[{i}]"
    opts = {k: v for k, v in entry.items() if k in TABLE_OPTIONS and k != "name"}
    # an expression is named by its table and never registered: no name shadows the catalog
    name = entry["name"] if "expr" in entry else opts.pop("activation")
    if "range" in opts:
        opts["range"] = tuple(opts["range"]) if isinstance(opts["range"], list) else opts["range"]
    try:
        if "max_error" in entry:
            fit_opts = {k: entry[k] for k in FIT_OPTIONS if k in entry}
            for k in ("range", "entries", "regions", "tails", "fold", "coeffs", "guard_bits"):
                if k in opts:
                    raise ProjectError(f"{where}.{k}: a table with max_error is fitted; "
                                       f"drop {k} or drop max_error")
            interp = opts.pop("interp", "any")
            # the Verilog's registers and ROM attribute: not searched
            hdl = {k: opts.pop(k) for k in ("pipeline", "rom_style") if k in opts}
            result = fit(name, interp=interp, **opts, **fit_opts,
                         regions=entry.get(LAYOUT_KEY, True)
                         and all(k in REGION_KINDS for k in (emit or KINDS)))
            if not result.met:
                raise ProjectError(
                    f"{where}.max_error: no design meets {entry['max_error']} (the error floor "
                    f"is {up(result.floor_max_error_lsb)} LSB)"
                )
            if result.budget.get("objective") == "luts":  # Yosys counts the best few
                from .resources import rank_by_luts

                result = rank_by_luts(result)
            table = result.best.table
            if hdl:  # the integers do not depend on them: no recompiling
                table = dataclasses.replace(table, spec=table.spec.replace(**hdl))
            return table, True
        return compile_table(name, **opts), False
    except ProjectError:
        raise
    except LutgenError as exc:
        raise ProjectError(f"{where}.{_blame(exc, entry)}: {exc}") from None
    except TypeError as exc:  # a value of the wrong TOML type
        raise ProjectError(f"{where}: {exc}") from None


def _blame(exc, entry) -> str:
    """The key an error is about, from its type and message."""
    from .errors import (DomainError, FormatError, ParameterError, RangeError,
                         UnknownActivationError)

    text = str(exc)
    for key in ("max_error", "mean_error", "dist", "max_rom_bits", "entries", "guard_bits",
                "interp", "tails", "coeffs", "output", "in_format", "out_format", "expr",
                "saturation", "objective", "target"):
        if key in entry and (repr(entry[key]) in text or f"{entry[key]!s}" in text.split()):
            return key
    if isinstance(exc, UnknownActivationError):
        return "activation"
    if isinstance(exc, ParameterError):
        return "params"
    if isinstance(exc, (RangeError, DomainError)):
        return "range"
    if isinstance(exc, FormatError):
        for key in ("in_format", "out_format"):
            if key in entry and str(entry[key]) in text:
                return key
        return "in_format"
    for key in ("entries", "guard", "interp", "tails", "fold", "coeffs", "output", "max_error",
                "mean_error", "dist", "max_rom_bits"):
        if key in text.replace(" ", "_").lower() or key.replace("_", " ") in text:
            return key.replace("guard", "guard_bits")
    return "activation"


def compile_project(project: Project, progress=None) -> list[BuiltTable]:
    """Every table of the project, compiled and rendered in memory."""
    built: list[BuiltTable] = []
    names: dict[str, tuple[int, str]] = {}  # lower-case name -> (index, name)
    if project.report_resources:
        from .resources import measure, require_tools

        require_tools()  # a missing tool fails before anything is compiled
    for i, entry in enumerate(project.tables):
        if SHARE_KEY in entry:
            table, fitted = _shared_entry(i, entry, built, project.emit), False
        else:
            table, fitted = compile_entry(i, entry, project.emit)
        try:
            name = identifier(entry.get("name", table.name))
        except LutgenError as exc:
            raise ProjectError(f"tables[{i}].name: {exc}") from None
        # names are compared without case: on Windows and macOS Sig.h is sig.h, and no
        # reader should have to tell two tables apart by the case of one letter
        reserved = {Path(MANIFEST).stem: MANIFEST, Path(REPORT).stem: REPORT}
        if "c" in project.emit:
            reserved[project.name.lower()] = f"{project.name}.h (the combined header)"
        key = name.lower()
        if key in reserved:
            raise ProjectError(f"tables[{i}].name: '{name}' would overwrite {reserved[key]}; "
                               "choose another name")
        if key in names:
            j, other = names[key]
            same = "already the name" if other == name else f"'{other}' but for case, the name"
            raise ProjectError(
                f"tables[{i}].name: '{name}' is {same} of tables[{j}]; "
                "give each table its own name"
            )
        names[key] = (i, name)
        budget = None
        if fitted:  # a distribution file: its text, the file read and its SHA-256
            budget = {}
            for k in FIT_OPTIONS:
                dist = entry.get(k) if k == "dist" else None
                budget.update(dist.record() if dist is not None else {k: entry.get(k)})
        # the mean error the budget weighted, next to the uniform one
        report = analyze(table, dist=entry.get("dist"))
        resources = measure(table, name) if project.report_resources else None
        artifacts = render(table, report, list(project.emit), name, resources)
        built.append(BuiltTable(name, table, report, tuple(artifacts), fitted, budget,
                                resources))
        if progress is not None:
            progress(name)
    return built


def _shared_entry(i: int, entry: dict, built: list[BuiltTable], emit):
    """A sigmoid over the knots of the earlier tanh table ``entry`` names (lutgen.shared)."""
    from .activations import get
    from .shared import sigmoid_from_tanh

    where, want = f"tables[{i}]", entry[SHARE_KEY]
    source = next((b for b in built if b.name.lower() == want.lower()), None)
    if source is None:
        raise ProjectError(f"{where}.knots_from: no earlier table is named {want!r}; list "
                           f"the tanh table before this one (tables so far: "
                           f"{', '.join(b.name for b in built) or 'none'})")
    try:
        if get(entry["activation"]).name != "sigmoid":
            raise LutgenError(f"only a sigmoid reads a tanh table's knots, not "
                              f"{entry['activation']!r}")
        shared_kinds(emit, source.table, source.name)  # what the export refuses, up front
        table = sigmoid_from_tanh(source.table, name=source.name)
        for key in ("in_format", "out_format"):
            have = getattr(table, key)  # compared as formats, whatever their modes
            given = OPTION[key].parse(entry[key]) if key in entry else have
            if dataclasses.replace(given, rounding=have.rounding, overflow=have.overflow) != have:
                raise LutgenError(f"{entry[key]!r} is not the {key.replace('_', ' ')} of "
                                  f"'{source.name}' ({getattr(table, key)}): the two tables "
                                  "share one knot array only with the same formats")
    except LutgenError as exc:
        raise ProjectError(f"{where}.{SHARE_KEY}: {exc}") from None
    return table


def project_artifacts(project: Project, built: list[BuiltTable]) -> list[Artifact]:
    """All files of the project: each table's, the combined header, report, manifest."""
    # a shared sigmoid's Verilog brings its tanh's ROM files: the same files, written once
    files = list({(a.filename, a.text): a for b in built for a in b.artifacts}.values())
    if "c" in project.emit:
        files.append(_combined_header(project, built))
    files.append(Artifact(REPORT, report_md(project, built)))
    names = [a.filename.lower() for a in files]
    dup = {a.filename for a in files if names.count(a.filename.lower()) > 1}
    if dup:
        raise ProjectError(f"tables: two tables write the same file {sorted(dup)[0]!r}; "
                           "rename one")
    files.append(Artifact(MANIFEST, _manifest(project, built, files)))
    return files


def write_project(project: Project, built: list[BuiltTable], out_dir) -> list[Path]:
    """Make ``out_dir`` hold exactly the project's files, swapped in by one rename.

    The project owns its folder: files of an earlier build that this one does not
    write are gone after it. A non-empty folder without a manifest is refused.
    """
    return replace_folder(project_artifacts(project, built), out_dir, owner_file=MANIFEST)


def _combined_header(project: Project, built) -> Artifact:
    guard = f"{macro_name(project.name)}_H"
    lines = [
        "/*",
        f" * Generated by lutgen {__version__} -- do not edit.",
        f" * Regenerate: lutgen batch {Path(project.source).name}",
        f" * Every table of project '{project.name}': "
        + ", ".join(b.name for b in built) + ".",
        " * Each section below is that table's own header; include this one file.",
        " */",
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        f"/* One copy of every table: #define {macro_name(project.name)}_IMPLEMENTATION in one .c */",
        f"#ifdef {macro_name(project.name)}_IMPLEMENTATION",
        *(f"#define {macro_name(b.name)}_IMPLEMENTATION" for b in built),
        "#endif",
        "",
    ]
    for b in built:
        header = next(a for a in b.artifacts if a.filename == f"{b.name}.h")
        lines += [f"/* ---- {b.name} ---- */", header.text.rstrip("\n"), ""]
    lines.append(f"#endif /* {guard} */")
    return Artifact(f"{project.name}.h", "\n".join(lines) + "\n")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _manifest(project: Project, built, files) -> str:
    digest = {a.filename: _sha256(a.text) for a in files}
    doc = {
        "generator": f"lutgen {__version__}",
        "project": project.name,
        "source": Path(project.source).name,
        "emit": list(project.emit),
        "tables": [
            {
                "name": b.name,
                "fitted": b.fitted,
                "budget": b.budget,  # max_error, mean_error, dist, max_rom_bits (fitted)
                "spec": b.table.spec.to_dict(),
                "effective_range": list(b.table.range),
                "rom_bits": b.table.rom_bits,
                "c_bytes": b.table.c_bytes,
                **({} if b.table.knots_of is None else {SHARE_KEY: b.table.knots_name}),
                "report": b.report.to_dict(),
                "files": {a.filename: digest[a.filename] for a in b.artifacts},
                **({} if b.resources is None else {"resources": b.resources.to_dict()}),
            }
            for b in built
        ],
        "files": digest,
    }
    return _json.dumps(doc, indent=2) + "\n"
