"""The table spec: what a user asks for, and the one table of options it is read from.

:data:`OPTIONS` declares every table option once: its name (the keyword of
:func:`lutgen.compile_table`, the JSON and TOML key; ``--kebab-case`` on the
command line), its kind, default, choices and help. The CLI's table options,
the project file's key types, :meth:`TableSpec.to_dict` / :meth:`~TableSpec.from_dict`
and the regenerate command are all generated from it: adding an option is one
line here (and its use in the compiler).

Words used everywhere (spec, :class:`~lutgen.table.Table`, JSON, CLI, docs):

* ``coeffs`` -- how the stored entries are chosen (``sample``, ``minimax`` or ``faithful``);
  it was called ``fit``, which is still read (with a note) from the command
  line, project files and saved specs.
* ``fit`` -- only the budget search (``lutgen fit``, :func:`lutgen.fit`).
* ``sized`` -- an output format chosen to hold the function's values.
* tails ``clamp`` and ``asymptote``; a fold is a :class:`Fold`.

This module imports no numba.
"""

from __future__ import annotations

import enum
import functools
import shlex
from dataclasses import dataclass, fields

from .activations import Activation, Asymptote, Traits, from_expression
from .activations import get as get_activation
from .errors import SpecError
from .fixedpoint import FixedFormat
from ._option_values import (MAX_ENTRIES, MAX_GUARD_BITS, parse_bool, parse_entries, parse_format,
                             parse_guard, parse_output, parse_params, parse_pipeline,
                             parse_range, parse_text)
from .regions import format_regions, parse_shifts, regions_to_json

__all__ = ["Interp", "Tails", "Coeffs", "Fit", "Fold", "Saturation", "Option", "OPTIONS", "OPTION",
           "TableSpec", "make_spec", "spec_traits", "regenerate_args", "MAX_ENTRIES",
           "MAX_GUARD_BITS"]
__all__ += ["RomStyle"]


class _Choice(enum.Enum):
    @classmethod
    def coerce(cls, value, what: str | None = None):
        if isinstance(value, cls):
            return value
        for member in cls:
            if member.value == str(value).strip().lower():
                return member
        raise SpecError(f"unknown {what or cls.__name__.lower()} {value!r}; "
                        f"allowed: {', '.join(m.value for m in cls)}")


class RomStyle(_Choice):
    """Where the Verilog module asks synthesis to put its ROMs (an attribute only)."""

    AUTO = "auto"  # no attribute: the synthesiser chooses
    BLOCK = "block"  # block RAM: (* rom_style = "block" *)
    DISTRIBUTED = "distributed"  # LUTs: (* rom_style = "distributed", ramstyle = "logic" *)


class Interp(_Choice):
    """How inputs between table entries are served."""

    NONE = "none"  # one entry per segment (a plain ROM lookup)
    NEAREST = "nearest"  # the nearest of N+1 knots
    LINEAR = "linear"  # interpolation between two knots: one multiply


class Tails(_Choice):
    """What inputs outside the table range get."""

    AUTO = "auto"  # asymptote if the function has a sloped one, else clamp
    CLAMP = "clamp"  # hold the table's end values
    ASYMPTOTE = "asymptote"  # the registry's asymptote line at that side


class Coeffs(_Choice):
    """How the stored integer entries (the coefficients) are chosen."""

    SAMPLE = "sample"  # the rounded reference at knots / segment centres
    MINIMAX = "minimax"  # minimise the max error over every input they serve
    FAITHFUL = "faithful"  # every input within 1 LSB, in the narrowest word (exact)


Fit = Coeffs  # the old name of Coeffs


class Fold(_Choice):
    """How a folded table serves x < 0 from the stored x >= 0."""

    NONE = "none"  # not folded
    ODD = "odd"  # f(-x) = -f(x)
    POINT = "point"  # f(-x) = 2c - f(x)
    EVEN = "even"  # f(-x) = f(x)
    EVEN_LINE = "even_line"  # f(x) = a*x + h(x), h even: the table holds h (GELU, SiLU)

    def __bool__(self) -> bool:
        return self is not Fold.NONE

    @property
    def negates(self) -> bool:
        """Does the mirror subtract from the centre (odd and point symmetry)?"""
        return self in (Fold.ODD, Fold.POINT)


class Saturation(_Choice):
    """Whether outputs beyond the output format's range count as error."""

    COUNTED = "counted"  # measured against the reference itself: clipping is error
    ALLOWED = "allowed"  # against the reference clipped to the output range (deliberate)


# ---- the option table -------------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    """One table option: declared once, read by the CLI, TOML, JSON and the compiler."""

    name: str  # keyword, JSON and TOML key; the CLI flag is --kebab-case
    kind: str  # text | params | bool | int | format | range | choice | stages | shifts
    default: object
    help: str
    choices: type | None = None  # the enum of a choice
    old_names: tuple[str, ...] = ()  # earlier spellings, still read (with a note)
    toml_hint: str = ""  # what to write, in a project file's error message
    always: bool = False  # written in every regenerate line, default or not

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, value):
        """The validated value of the spec field (enum members for choices)."""
        what = self.name.replace("_", " ")
        if self.kind == "choice":
            return self.choices.coerce(self.default if value is None else value, what)
        if self.kind == "int":
            return _INT_PARSERS[self.name](value, what)
        return _PARSERS[self.kind](self.default if value is None else value, what)

    def toml_ok(self, value) -> bool:
        """Has a project-file value the right TOML type (validation comes later)?"""
        kind = self.kind
        if kind == "bool":
            return isinstance(value, bool)
        if kind == "int":
            return isinstance(value, int) and not isinstance(value, bool)
        if kind == "range":
            return isinstance(value, list) and len(value) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        if kind == "params":
            return isinstance(value, dict)
        if kind == "stages":
            return isinstance(value, (int, str)) and not isinstance(value, bool)
        if kind == "shifts":
            return isinstance(value, (list, str))
        return isinstance(value, str)

    def to_json(self, value):
        if value is None:
            return None
        if self.kind == "choice":
            return value.value
        if self.kind == "format":
            return str(value)
        if self.kind == "shifts":
            return regions_to_json(value)
        if self.kind == "range":
            return list(value)
        if self.kind == "params":
            return {k: (list(v) if isinstance(v, tuple) else v) for k, v in value}
        return value

    def cli_args(self, value) -> list[str]:
        """The command-line words that set ``value`` (none for the default)."""
        if self.kind == "params" or self.name in ("activation", "expr"):
            raise AssertionError("written by regenerate_args")  # pragma: no cover
        if value is None or (value == self.parse(self.default) and not self.always):
            return []
        if self.kind == "bool":
            return [self.flag] if value else []
        if self.kind == "range":
            return [self.flag, *(repr(float(v)) for v in value)]
        if self.kind == "shifts":
            return [self.flag, format_regions(value)]
        return [self.flag, str(self.to_json(value))]


_PARSERS = {"text": parse_text, "params": parse_params, "bool": parse_bool,
            "format": parse_format, "range": parse_range, "stages": parse_pipeline,
            "shifts": lambda value, name: parse_shifts(value, name)}
_INT_PARSERS = {"entries": parse_entries, "guard_bits": parse_guard, "output": parse_output}

OPTIONS: tuple[Option, ...] = (
    Option("activation", "text", None, "A registered activation (or alias); see 'lutgen list'.",
           toml_hint='a name, e.g. "sigmoid"'),
    Option("expr", "text", None,
           "Tabulate an expression of x instead of a named activation, e.g. 'x*tanh(exp(x))'.",
           toml_hint='an expression of x, e.g. "x*sigmoid(x)"'),
    Option("params", "params", None, "The activation's parameters, e.g. -p alpha=0.1.",
           toml_hint="a table, e.g. { alpha = 0.1 }"),
    Option("derivative", "bool", False, "Tabulate the analytic derivative.",
           toml_hint="true or false"),
    Option("output", "int", 0, "Which output of a multi-output activation (crelu: 0 or 1).",
           toml_hint="an integer"),
    Option("in_format", "format", "s16.12",
           "Input format: s16.12, q15, Q3.12, ap_fixed<16,4>, fixdt(1,16,12), "
           "int8(0.0235,-3)...",
           always=True, toml_hint='text, e.g. "s16.12"'),
    Option("out_format", "format", None,
           "Output format [default: sized to the function's values].",
           always=True, toml_hint='text, e.g. "s16.14"'),
    Option("range", "range", None, "Input range [LO, HI) [default: the activation's, clipped].",
           always=True, toml_hint="two numbers, e.g. [-4, 4]"),
    Option("entries", "int", None, "Segments, a power of two up to 2^20 [default: 256].",
           always=True, toml_hint="an integer power of two"),
    Option("regions", "shifts", None,
           "Hierarchical table: the segment shift of each of 1..16 equal regions, e.g. "
           "8,8,7,6, or S x C (C segments of 2^S codes) per region, e.g. 9x2,8x52,9x12 "
           "(linear only; instead of --entries).",
           toml_hint='a list of segment shifts, e.g. [8, 8, 7, 6], or of "SxC", e.g. '
                     '["9x2", "8x52"]'),
    Option("interp", "choice", Interp.LINEAR, "How inputs between entries are served.",
           choices=Interp, always=True, toml_hint="text: none, nearest or linear"),
    Option("tails", "choice", Tails.AUTO, "What inputs outside the range get.",
           choices=Tails, always=True, toml_hint="text: auto, clamp or asymptote"),
    Option("fold", "bool", False, "Store x >= 0 only (odd, even, point-symmetric functions).",
           toml_hint="true or false"),
    Option("coeffs", "choice", Coeffs.SAMPLE,
           "How the stored entries are chosen: sampled, minimax over every input, or "
           "faithful (every input within 1 LSB, narrowest word).",
           choices=Coeffs, old_names=("fit",), always=True,
           toml_hint="text: sample, minimax or faithful"),
    Option("guard_bits", "int", None,
           "Extra fraction bits of the stored entries [default: 3 for linear].",
           always=True, toml_hint="an integer"),
    Option("saturation", "choice", Saturation.COUNTED,
           "counted: clipping to the output range is error; allowed: measure against the "
           "reference clipped to it.", choices=Saturation, toml_hint="text: counted or allowed"),
    Option("pipeline", "stages", 2, "Verilog pipeline stages (the latency), 2..16 or max; "
           "the table's integers do not change.", toml_hint='an integer 2..16 or "max"'),
    Option("rom_style", "choice", RomStyle.AUTO, "Verilog ROM attribute: auto (none), block "
           "(block RAM) or distributed (LUTs).", choices=RomStyle,
           toml_hint="text: auto, block or distributed"),
)
OPTION = {o.name: o for o in OPTIONS}
OLD_NAMES = {old: o.name for o in OPTIONS for old in o.old_names}


def rename_old(options: dict, note=None) -> dict:
    """``options`` with earlier spellings (``fit``) under today's names; ``note(text)`` per rename."""
    out = {}
    for key, value in options.items():
        new = OLD_NAMES.get(key)
        if new is not None:
            if new in options:
                raise SpecError(f"give {new} or its old name {key}, not both")
            if note is not None:
                note(f"'{key}' is now called '{new}'")
            key = new
        out[key] = value
    return out


# ---- the spec -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableSpec:
    """Everything that defines a table, as the user asked for it (validated).

    Self-contained: an expression table carries its source in ``expr`` (its
    ``activation`` is then only its name), so nothing registered later changes
    what a spec means.
    """

    activation: str
    expr: str | None = None
    params: tuple = ()  # sorted (name, value) pairs, resolved with defaults
    derivative: bool = False
    output: int = 0
    in_format: FixedFormat = FixedFormat(True, 16, 12)
    out_format: FixedFormat | None = None
    range: tuple[float, float] | None = None
    entries: int | None = None
    regions: tuple[int, ...] | None = None
    interp: Interp = Interp.LINEAR
    tails: Tails = Tails.AUTO
    fold: bool = False
    coeffs: Coeffs = Coeffs.SAMPLE
    guard_bits: int | None = None
    saturation: Saturation = Saturation.COUNTED
    pipeline: int | str = 2
    rom_style: RomStyle = RomStyle.AUTO

    @property
    def clips_reference(self) -> bool:
        """Is the error measured against the reference clipped to the output range?"""
        return self.saturation is Saturation.ALLOWED

    @property
    def fit(self) -> Coeffs:
        """The old name of :attr:`coeffs`."""
        return self.coeffs

    @property
    def params_dict(self) -> dict:
        return dict(self.params)

    @property
    def act(self) -> Activation:
        """The tabulated activation: the registry's, or this spec's own expression."""
        if self.expr is not None:
            return _expression(self.expr, self.activation)
        return get_activation(self.activation)

    def replace(self, **changes) -> "TableSpec":
        """A copy with some options changed (validated again)."""
        return make_spec(**{**self.to_options(), **changes})

    def to_options(self) -> dict:
        """The options as :func:`make_spec` keywords (Python values)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_dict(self) -> dict:
        """The options under the names ``lutgen build`` takes (JSON values)."""
        d = {o.name: o.to_json(getattr(self, o.name)) for o in OPTIONS}
        if d["expr"] is None:
            del d["expr"]
        if d["saturation"] == Saturation.COUNTED.value:  # the default: files stay as they were
            del d["saturation"]
        if d["regions"] is None:  # a uniform table: files stay as they were
            del d["regions"]
        return d

    @classmethod
    def from_dict(cls, d: dict, note=None) -> "TableSpec":
        """A spec from :meth:`to_dict` output (old key names read, unknown keys refused)."""
        if not isinstance(d, dict):
            raise SpecError(f"a table spec is a JSON object of options, got {type(d).__name__}")
        d = rename_old(d, note)
        unknown = sorted(set(d) - set(OPTION))
        if unknown:
            raise SpecError(f"unknown table option {unknown[0]!r}; allowed: {', '.join(OPTION)}")
        if "activation" not in d:
            raise SpecError("a table spec needs its 'activation'")
        return make_spec(**d)


@functools.lru_cache(maxsize=64)
def _expression(source: str, name: str) -> Activation:
    return from_expression(source, name=name)


def make_spec(activation, **options) -> TableSpec:
    """Validate ``options`` (the names of :data:`OPTIONS`) into a :class:`TableSpec`."""
    options = rename_old(options)
    unknown = sorted(set(options) - set(OPTION))
    if unknown:
        raise SpecError(f"unknown table option {unknown[0]!r}; allowed: {', '.join(OPTION)}")
    values = {o.name: o.parse(options.get(o.name)) for o in OPTIONS if o.name != "activation"}
    expr = values["expr"]
    if not isinstance(activation, str):
        raise SpecError(f"activation must be a name, got {activation!r}")
    if expr is not None:
        act = _expression(expr, activation)
        name = act.name
    else:
        act = get_activation(activation)
        name = act.name
    if act.composite:
        raise SpecError(
            f"'{act.name}' is not element-wise and cannot be one table; "
            "build it from its parts (exp and reciprocal tables)"
        )
    resolved = act.resolve(values["params"])
    output = values["output"]
    if act.n_outputs > 1:
        if output is None or not 0 <= output < act.n_outputs:
            raise SpecError(f"'{act.name}' has {act.n_outputs} outputs, one table each; "
                            f"choose output 0..{act.n_outputs - 1}, got {output!r}")
    elif output not in (None, 0):
        raise SpecError(f"'{act.name}' has one output; output must be 0, got {output!r}")
    values["output"] = output or 0
    if values["derivative"] and act.derivative is None:
        calls = " (an activation it calls has none)" if act.expression is not None else ""
        raise SpecError(f"activation '{act.name}' has no analytic derivative to tabulate{calls}")
    values["params"] = tuple(sorted(resolved.items()))
    if values["regions"] is not None:
        shown = format_regions(values["regions"])
        if values["entries"] is not None:
            raise SpecError(f"give entries or regions ({shown}), not both: a hierarchical "
                            "table's segments are set by its regions' shifts")
        if values["interp"] is not Interp.LINEAR:
            raise SpecError(f"regions ({shown}) need interp linear, got interp "
                            f"{values['interp'].value}")
    return TableSpec(activation=name, **values)


def spec_traits(spec: TableSpec) -> Traits:
    """The traits of the tabulated function (the derivative's, if tabulating it)."""
    act = spec.act
    t = act.traits_for(spec.params_dict)
    if act.n_outputs > 1:
        return Traits(domain=t.domain, poles=t.poles)
    if not spec.derivative:
        return t
    sym = {"odd": "even", "point": "even", "even": "odd", "even_line": "point"}.get(t.symmetry)

    def d_asym(a: Asymptote | None):
        return None if a is None else Asymptote.constant(a.slope)

    # (a*x + h(x))' = a + h'(x), h' odd: point-symmetric about (0, a)
    center = t.slope if t.symmetry == "even_line" else 0.0
    if sym == "point" and center == 0.0:
        sym = "odd"
    return Traits(symmetry=sym, center=center, neg=d_asym(t.neg), pos=d_asym(t.pos),
                  domain=t.domain, poles=t.poles)


def regenerate_args(spec: TableSpec, **effective) -> list[str]:
    """The ``lutgen build`` words that rebuild ``spec``, each shell-quoted.

    ``effective`` overrides options with what the compiler chose (a table's
    formats, range, entries and guard bits), so the line is stable across versions.
    """
    words = ["lutgen", "build"]
    words += ["--expr", spec.expr] if spec.expr is not None else [spec.activation]
    for key, value in spec.params:
        text = ",".join(repr(v) for v in value) if isinstance(value, tuple) else repr(value)
        words += ["-p", f"{key}={text}"]
    given = {**spec.to_options(), **{k: v for k, v in effective.items() if v is not None}}
    for o in OPTIONS:
        if o.name not in ("activation", "expr", "params"):
            words += o.cli_args(given[o.name])
    return [shlex.quote(w) for w in words]
