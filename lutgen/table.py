"""The table compiler: a spec in, a frozen :class:`Table` of integers out.

The arithmetic the table is evaluated with is ``docs/ARITHMETIC.md``; this
module only chooses its integers (range alignment, output format, guard bits,
tails, fold, entries) and checks that they fit 64-bit arithmetic.
"""

from __future__ import annotations

import enum
import functools
import math
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from . import _kernels as K
from .activations import get as get_activation
from .activations._registry import Activation, Asymptote, Traits
from .errors import DomainError, LutgenError, RangeError, SpecError
from .fixedpoint import FixedFormat, Overflow, Rounding

__all__ = ["Interp", "Tails", "Fit", "TableSpec", "Table", "compile_table", "reference_on_codes"]

MAX_ENTRIES = 1 << 20
MAX_GUARD_BITS = 24
ACC_LIMIT_BITS = 62  # |acc| < 2**62, so +/- a rounding constant stays inside int64
FIT_FINE_BITS = 20  # the minimax objective resolves 2**-20 output LSB
DEFAULT_ENTRIES = 256
DEFAULT_LINEAR_GUARD = 3


class Interp(enum.Enum):
    """How inputs between table entries are served."""

    NONE = "none"  # one entry per segment (a plain ROM lookup)
    NEAREST = "nearest"  # the nearest of N+1 knots
    LINEAR = "linear"  # interpolation between two knots: one multiply

    @classmethod
    def coerce(cls, value):
        return _coerce(cls, value, "interp")


class Tails(enum.Enum):
    """What inputs outside the table range get."""

    AUTO = "auto"  # asymptote if the function has a linear one, else clamp
    CLAMP = "clamp"  # hold the table's end values
    ASYMPTOTE = "asymptote"  # the registry's asymptote line at that side

    @classmethod
    def coerce(cls, value):
        return _coerce(cls, value, "tails")


class Fit(enum.Enum):
    """How the integer entries are chosen."""

    SAMPLE = "sample"  # the rounded reference at knots / segment centres
    MINIMAX = "minimax"  # minimise the max error over every input they serve

    @classmethod
    def coerce(cls, value):
        return _coerce(cls, value, "fit")


def _coerce(cls, value, what):
    if isinstance(value, cls):
        return value
    for member in cls:
        if member.value == str(value).strip().lower():
            return member
    raise SpecError(
        f"unknown {what} {value!r}; allowed: {', '.join(m.value for m in cls)}"
    )


# ---- the spec -----------------------------------------------------------------------------
@dataclass(frozen=True)
class TableSpec:
    """Everything that defines a table, as the user asked for it (validated)."""

    activation: str
    params: tuple = ()  # sorted (name, value) pairs, resolved with defaults
    derivative: bool = False
    output: int = 0
    in_format: FixedFormat = FixedFormat(True, 16, 12)
    out_format: FixedFormat | None = None
    range: tuple[float, float] | None = None
    entries: int | None = None
    interp: Interp = Interp.LINEAR
    tails: Tails = Tails.AUTO
    fold: bool = False
    fit: Fit = Fit.SAMPLE
    guard_bits: int | None = None

    @property
    def params_dict(self) -> dict:
        return dict(self.params)

    def to_dict(self) -> dict:
        """The options under the names ``lutgen build`` takes."""
        expr = get_activation(self.activation).expression
        return {
            "activation": self.activation,
            **({"expr": expr} if expr is not None else {}),
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.params},
            "derivative": self.derivative,
            "output": self.output,
            "in_format": str(self.in_format),
            "out_format": None if self.out_format is None else str(self.out_format),
            "range": None if self.range is None else list(self.range),
            "entries": self.entries,
            "interp": self.interp.value,
            "tails": self.tails.value,
            "fold": self.fold,
            "fit": self.fit.value,
            "guard_bits": self.guard_bits,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "TableSpec":
        if d.get("expr") is not None:  # a user expression: compile it again, by its name
            from .activations.user import register_expression

            register_expression(d["expr"], name=d["activation"])
        return _make_spec(
            d["activation"], params=d.get("params"), derivative=d.get("derivative", False),
            output=d.get("output", 0), in_format=d.get("in_format", "s16.12"),
            out_format=d.get("out_format"), range=d.get("range"), entries=d.get("entries"),
            interp=d.get("interp", "linear"), tails=d.get("tails", "auto"),
            fold=d.get("fold", False), fit=d.get("fit", "sample"),
            guard_bits=d.get("guard_bits"),
        )


def _make_spec(name, *, params=None, derivative=False, output=None, in_format="s16.12",
               out_format=None, range=None, entries=None, interp="linear", tails="auto",
               fold=False, fit="sample", guard_bits=None) -> TableSpec:
    act = get_activation(name)
    if act.composite:
        raise SpecError(
            f"'{act.name}' is not element-wise and cannot be one table; "
            "build it from its parts (exp and reciprocal tables)"
        )
    resolved = act.resolve(params)
    if act.n_outputs > 1:
        if output is None or not (isinstance(output, int) and 0 <= output < act.n_outputs):
            raise SpecError(
                f"'{act.name}' has {act.n_outputs} outputs, one table each; "
                f"choose output 0..{act.n_outputs - 1}, got {output!r}"
            )
    elif output not in (None, 0):
        raise SpecError(f"'{act.name}' has one output; output must be 0, got {output!r}")
    if derivative and act.derivative is None:
        raise SpecError(f"activation '{act.name}' has no analytic derivative to tabulate")
    if entries is not None:
        if isinstance(entries, bool) or not isinstance(entries, (int, np.integer)):
            raise SpecError(f"entries must be an integer power of two, got {entries!r}")
        entries = int(entries)
        if entries < 1 or entries > MAX_ENTRIES or entries & (entries - 1):
            raise SpecError(
                f"entries must be a power of two from 1 to {MAX_ENTRIES} (2^20), got {entries}"
            )
    if guard_bits is not None:
        if isinstance(guard_bits, bool) or not isinstance(guard_bits, (int, np.integer)) or not (
            0 <= guard_bits <= MAX_GUARD_BITS
        ):
            raise SpecError(f"guard bits must be an integer 0..{MAX_GUARD_BITS}, got {guard_bits!r}")
        guard_bits = int(guard_bits)
    if range is not None:
        range = _check_range(range)
    return TableSpec(
        activation=act.name,
        params=tuple(sorted(resolved.items())),
        derivative=bool(derivative),
        output=int(output or 0),
        in_format=FixedFormat.parse(in_format),
        out_format=None if out_format is None else FixedFormat.parse(out_format),
        range=range,
        entries=entries,
        interp=Interp.coerce(interp),
        tails=Tails.coerce(tails),
        fold=bool(fold),
        fit=Fit.coerce(fit),
        guard_bits=guard_bits,
    )


def _check_range(rng) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in rng)
    except (TypeError, ValueError):
        raise RangeError(f"a range is two numbers LO HI, got {rng!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RangeError(f"range [{lo}, {hi}) must be finite")
    if not lo < hi:
        raise RangeError(f"range [{lo:g}, {hi:g}) is empty: LO must be below HI")
    return lo, hi


# ---- the reference, cached per activation, params and input format -----------------------
def _function(act: Activation, params: dict, derivative: bool, output: int):
    fn = act.derivative if derivative else act.reference

    def f(x):
        with np.errstate(all="ignore"):
            y = np.asarray(fn(np.asarray(x, dtype=np.float64), **params), dtype=np.float64)
        return y[output] if act.n_outputs > 1 else y

    return f


@functools.lru_cache(maxsize=6)
def _reference_cached(act_id, act, params, derivative, output, fmt):
    f = _function(act, dict(params), derivative, output)
    y = f(fmt.dequantize(fmt.codes()))
    y.setflags(write=False)
    return y


EXHAUSTIVE_LIMIT_BITS = 24


def reference_on_codes(spec: TableSpec, codes: np.ndarray | None = None) -> np.ndarray:
    """The float64 reference at input codes (all codes of the format if None).

    For formats of up to 2**24 codes the whole format is evaluated once and
    cached per (activation, params, derivative, output, format), so fitting and
    analysis loops do not evaluate it again.
    """
    act = get_activation(spec.activation)
    fmt = spec.in_format
    if fmt.bits <= EXHAUSTIVE_LIMIT_BITS:
        full = _reference_cached(id(act), act, spec.params, spec.derivative, spec.output, fmt)
        if codes is None:
            return full
        return full[np.asarray(codes, dtype=np.int64) - fmt.min_code]
    if codes is None:
        raise SpecError(f"{fmt} has too many codes to evaluate them all")
    f = _function(act, dict(spec.params), spec.derivative, spec.output)
    return f(fmt.dequantize(np.asarray(codes, dtype=np.int64)))


def spec_traits(spec: TableSpec) -> Traits:
    """The traits of the tabulated function (the derivative's, if tabulating it)."""
    act = get_activation(spec.activation)
    t = act.traits_for(spec.params_dict)
    if act.n_outputs > 1:
        return Traits(domain=t.domain, poles=t.poles)
    if not spec.derivative:
        return t
    sym = {"odd": "even", "point": "even", "even": "odd"}.get(t.symmetry)

    def d_asym(a: Asymptote | None):
        return None if a is None else Asymptote.constant(a.slope)

    return Traits(symmetry=sym, neg=d_asym(t.neg), pos=d_asym(t.pos), domain=t.domain,
                  poles=t.poles)


# ---- the compiled table ---------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Table:
    """A compiled table: frozen integers and what they mean.

    ``values`` are the stored entries (``frac_out + guard_bits`` fraction bits);
    ``prog`` is the parameter vector the kernels read. Analysis and exporters
    only read a Table.
    """

    spec: TableSpec
    values: np.ndarray
    prog: np.ndarray
    in_format: FixedFormat
    out_format: FixedFormat
    lo_code: int
    shift: int
    entries: int
    guard_bits: int
    fold: str | None  # None, "odd", "point" or "even"
    fold_f: int
    tails: tuple[dict | None, dict | None]  # per side: None (no such inputs) or the mode
    store_bits: int
    store_signed: bool
    acc_bits: int
    notes: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        act = get_activation(self.spec.activation)
        base = act.name + ("_d" if self.spec.derivative else "")
        return base + (f"_{self.spec.output}" if act.n_outputs > 1 else "")

    @property
    def interp(self) -> Interp:
        return self.spec.interp

    @property
    def hi_code(self) -> int:
        return self.lo_code + (self.entries << self.shift)

    @property
    def range(self) -> tuple[float, float]:
        """The effective input range [lo, hi) of the table (after alignment, fold)."""
        lsb = self.in_format.lsb
        # folded: x = -HI mirrors to HI, which the right tail serves
        lo = (1 - self.hi_code) * lsb if self.fold else self.lo_code * lsb
        return (lo, self.hi_code * lsb)

    @property
    def rom_bits(self) -> int:
        return int(self.values.size) * self.store_bits

    def eval_int(self, codes) -> np.ndarray:
        """Output codes for input codes, exactly as the hardware computes them."""
        arr = np.asarray(codes)
        if arr.dtype.kind not in "iu" or arr.dtype == np.uint64:
            raise SpecError(f"input codes must be an integer array (not {arr.dtype})")
        flat = np.ascontiguousarray(arr.ravel())
        bad = (flat < self.in_format.min_code) | (flat > self.in_format.max_code)
        if bad.any():
            raise RangeError(
                f"input code {int(flat[bad][0])} is outside {self.in_format} "
                f"({self.in_format.min_code}..{self.in_format.max_code})"
            )
        kernel = K.eval_codes_parallel if flat.size >= 1 << 16 else K.eval_codes
        out = np.empty(flat.size, dtype=self.code_dtype)
        return kernel(flat, self.values, self.prog, out).reshape(arr.shape)

    @property
    def code_dtype(self):
        """The narrowest of int16, int32 and int64 that holds every output code."""
        top = self.out_format.max_code
        return np.int16 if top < 2**15 else np.int32 if top < 2**31 else np.int64

    def eval(self, x) -> np.ndarray:
        """Real outputs for real inputs: quantise, :meth:`eval_int`, dequantise."""
        codes = self.in_format.quantize(x, Rounding.NEAREST_UP, Overflow.SATURATE)
        return self.out_format.dequantize(self.eval_int(np.atleast_1d(codes))).reshape(
            np.shape(codes)
        )

    def to_dict(self) -> dict:
        lo, hi = self.range
        return {
            "name": self.name,
            "spec": self.spec.to_dict(),
            "in_format": str(self.in_format),
            "out_format": str(self.out_format),
            "range": [lo, hi],
            "lo_code": self.lo_code,
            "hi_code": self.hi_code,
            "shift": self.shift,
            "entries": self.entries,
            "interp": self.interp.value,
            "guard_bits": self.guard_bits,
            "fold": self.fold,
            "fold_f": self.fold_f,
            "tails": {"left": _plain(self.tails[0]), "right": _plain(self.tails[1])},
            "store_bits": self.store_bits,
            "store_signed": self.store_signed,
            "acc_bits": self.acc_bits,
            "rom_bits": self.rom_bits,
            "values": [int(v) for v in self.values],
            "notes": list(self.notes),
        }


# ---- the compiler -------------------------------------------------------------------------
def compile_table(name, *, in_format="s16.12", out_format=None, range=None, entries=None,
                  interp="linear", tails="auto", fold=False, fit="sample", guard_bits=None,
                  derivative=False, params=None, output=None) -> Table:
    """Compile activation ``name`` into a fixed-point table.

    Parameters
    ----------
    name : str
        A registered activation (or alias).
    in_format, out_format : FixedFormat or str
        The input format (default ``s16.12``); the output format (default: chosen
        so the function's values over the range and tails fit, same word bits as
        the input).
    range : (lo, hi), optional
        The table's input range; default the activation's, clipped to the input
        format. Widened to whole segments of ``2**shift`` codes; the effective
        range is :attr:`Table.range` and a note says when it changed.
    entries : int, optional
        Segments, a power of two up to 2**20; default 256 (fewer if the range has
        fewer input codes).
    interp : {"linear", "nearest", "none"}
    tails : {"auto", "clamp", "asymptote"}
    fold : bool
        Store x >= 0 only and mirror (odd, point-symmetric or even functions).
    fit : {"sample", "minimax"}
    guard_bits : int, optional
        Extra fraction bits of the stored entries; default 3 for linear
        interpolation with segments wider than one code, else 0.
    derivative : bool
        Tabulate the analytic derivative instead.
    params : dict, optional
        The activation's parameters.
    output : int, optional
        Which output of a multi-output activation (crelu).

    Raises
    ------
    LutgenError
        A subclass naming the bad value for every invalid option.
    """
    spec = _make_spec(name, params=params, derivative=derivative, output=output,
                      in_format=in_format, out_format=out_format, range=range, entries=entries,
                      interp=interp, tails=tails, fold=fold, fit=fit, guard_bits=guard_bits)
    return build(spec)


def build(spec: TableSpec) -> Table:
    """Compile a validated :class:`TableSpec`."""
    return _Compiler(spec).run()


class _Compiler:
    def __init__(self, spec: TableSpec):
        self.spec = spec
        self.fin = spec.in_format
        self.act = get_activation(spec.activation)
        self.traits = spec_traits(spec)
        self.f = _function(self.act, spec.params_dict, spec.derivative, spec.output)
        self.notes: list[str] = []

    def run(self) -> Table:
        spec, fin = self.spec, self.fin
        fold = self._fold_kind()
        lo, hi = self._requested_range(fold)
        self._check_domain(lo, hi, fold)
        lo_code, shift, entries = self._align(lo, hi)
        hi_code = lo_code + (entries << shift)
        interp = spec.interp
        guard = spec.guard_bits
        if guard is None:
            guard = DEFAULT_LINEAR_GUARD if (interp is Interp.LINEAR and shift > 0) else 0
        sides = self._tail_sides(lo_code, hi_code, fold)
        fout = spec.out_format or self._auto_out_format(lo_code, hi_code, fold, sides)
        frac_s = fout.frac + guard

        values = self._sample(lo_code, shift, entries, interp, frac_s, fout)
        left = self._tail(sides[0], "neg", fout, guard)
        right = self._tail(sides[1], "pos", fout, guard)
        fold_code = 0
        if fold in ("odd", "point"):
            fold_code = self._exact(2 * self.traits.center, frac_s, "fold centre")
        prog = np.zeros(K.PROG_LEN, dtype=np.int64)
        prog[K.P_LO] = lo_code
        prog[K.P_SHIFT] = shift
        prog[K.P_N] = entries
        prog[K.P_INTERP] = {Interp.NONE: K.INTERP_NONE, Interp.NEAREST: K.INTERP_NEAREST,
                            Interp.LINEAR: K.INTERP_LINEAR}[interp]
        prog[K.P_FOLD] = {None: K.FOLD_OFF, "odd": K.FOLD_NEGATE, "point": K.FOLD_NEGATE,
                          "even": K.FOLD_MIRROR}[fold]
        prog[K.P_FOLD_F] = fold_code
        prog[K.P_GUARD] = guard
        prog[K.P_YMIN] = fout.min_code
        prog[K.P_YMAX] = fout.max_code
        for base, tail in ((K.P_LMODE, left), (K.P_RMODE, right)):
            if tail is not None and tail["mode"] == "line":
                prog[base] = K.TAIL_LINE
                prog[base + 1], prog[base + 2], prog[base + 3] = tail["m"], tail["c"], tail["k"]

        if spec.fit is Fit.MINIMAX:
            values = self._minimax(values, prog, lo_code, shift, entries, interp, guard, fout)
        store_signed = bool(values.min() < 0)
        store_bits = max(_bits_for(int(values.min()), store_signed),
                         _bits_for(int(values.max()), store_signed))
        acc_bits = self._acc_bits(values, shift, interp, guard, left, right, fold_code)
        return Table(
            spec=spec, values=_frozen(values), prog=_frozen(prog), in_format=fin, out_format=fout,
            lo_code=lo_code, shift=shift, entries=entries, guard_bits=guard, fold=fold,
            fold_f=fold_code, tails=(_frozen_map(left), _frozen_map(right)), store_bits=store_bits,
            store_signed=store_signed, acc_bits=acc_bits, notes=tuple(self.notes),
        )

    # -- range ---------------------------------------------------------------------------
    def _fold_kind(self):
        if not self.spec.fold:
            return None
        sym = self.traits.symmetry
        what = f"'{self.act.name}'" + (" derivative" if self.spec.derivative else "")
        if sym is None:
            raise SpecError(
                f"{what} is not odd, even or point-symmetric, so it cannot be folded; drop --fold"
            )
        if not self.fin.signed:
            raise SpecError(f"folding needs a signed input format, got {self.fin}")
        return sym

    def _requested_range(self, fold):
        fin = self.fin
        fmt_lo, fmt_hi = fin.min, fin.max + fin.lsb
        if self.spec.range is not None:
            lo, hi = self.spec.range
            if lo < fmt_lo or hi > fmt_hi:
                raise RangeError(
                    f"range [{lo:g}, {hi:g}) is outside the input format {fin} "
                    f"([{fmt_lo:g}, {fmt_hi:g})); choose a range inside it or a wider format"
                )
        else:
            default = self.act.range_for(self.spec.params_dict)
            lo, hi = max(default[0], fmt_lo), min(default[1], fmt_hi)
            if not lo < hi:
                raise RangeError(
                    f"the default range {list(default)} of '{self.act.name}' lies "
                    f"outside the input format {fin} ([{fmt_lo:g}, {fmt_hi:g})); give --range"
                )
        if fold:
            lo, hi = 0.0, max(hi, -lo)
            hi = min(hi, fmt_hi)
        return lo, hi

    def _check_domain(self, lo, hi, fold):
        t = self.traits
        spans = [(lo, hi)] + ([(-hi, -lo)] if fold else [])
        for a, b in spans:
            if not t.finite_on(a, b):
                where = f"its domain is [{t.domain[0]:g}, {t.domain[1]:g}]"
                if t.poles:
                    where += f" without {', '.join(f'{p:g}' for p in t.poles)}"
                raise DomainError(
                    f"'{self.act.name}' is not finite on the range [{a:g}, {b:g}): {where}; "
                    "choose a range inside it"
                )

    def _align(self, lo, hi):
        fin = self.fin
        lo_code = math.floor(lo * 2.0**fin.frac)
        hi_code = math.ceil(hi * 2.0**fin.frac)
        span = hi_code - lo_code
        entries = self.spec.entries
        if entries is None:
            entries = min(DEFAULT_ENTRIES, 1 << max(0, (span - 1).bit_length()))
        elif entries > 1 << max(0, (span - 1).bit_length()):
            raise SpecError(
                f"entries {entries} exceed the {span} input codes of the range; "
                f"use at most {1 << max(0, (span - 1).bit_length())} or a wider range"
            )
        shift = max(0, (-(-span // entries) - 1).bit_length())
        new_hi = lo_code + (entries << shift)
        if new_hi != hi_code and not self.spec.fold:
            # widen to the right, up to the top of the format and then to the left
            # (no stored entry wasted on inputs that cannot occur), keeping the function's
            # domain; if nothing fits both, the plain widening to the right
            lsb, width = fin.lsb, entries << shift
            for start in (lo_code, min(lo_code, fin.max_code + 1 - width), hi_code - width):
                inside = start >= fin.min_code and start + width <= fin.max_code + 1
                if inside and self.traits.finite_on(start * lsb, (start + width) * lsb):
                    lo_code, new_hi = start, start + width
                    break
        if new_hi != hi_code or lo_code != lo * 2.0**fin.frac:
            self.notes.append(
                f"range widened from [{lo:g}, {hi:g}) to [{lo_code * fin.lsb:g}, "
                f"{new_hi * fin.lsb:g}) so that {entries} segments of 2^{shift} codes cover it"
            )
        return lo_code, shift, entries

    # -- tails ---------------------------------------------------------------------------
    def _tail_sides(self, lo_code, hi_code, fold):
        """Per side: None where no input lies, else 'clamp' or 'line'."""
        fin = self.fin
        has_left = lo_code > fin.min_code and not fold
        has_right = hi_code <= fin.max_code or (fold and hi_code <= -fin.min_code)
        t = self.traits
        mode = self.spec.tails
        if mode is Tails.AUTO:
            linear = any(a is not None and a.slope != 0 for a in (t.neg, t.pos))
            mode = Tails.ASYMPTOTE if linear else Tails.CLAMP
            pick = lambda a: "line" if a is not None else "clamp"  # noqa: E731
        else:
            pick = None
        sides = []
        for present, asym, where in ((has_left, t.neg, "-inf"), (has_right, t.pos, "+inf")):
            if not present:
                sides.append(None)
            elif mode is Tails.CLAMP:
                sides.append("clamp")
            elif pick is not None:
                sides.append(pick(asym))
            elif asym is None:
                raise SpecError(
                    f"'{self.act.name}' has no asymptote at {where}, so --tails asymptote cannot "
                    "serve inputs there; use --tails clamp or a range that covers them"
                )
            else:
                sides.append("line")
        return sides

    def _tail(self, side, which, fout, guard):
        if side is None:
            return None
        if side == "clamp":
            return {"mode": "clamp"}
        asym = getattr(self.traits, which)
        m, c, k = _line_constants(asym, self.fin, fout, guard)
        return {"mode": "line", "slope": asym.slope, "intercept": asym.intercept,
                "m": m, "c": c, "k": k}

    # -- output format -------------------------------------------------------------------
    def _auto_out_format(self, lo_code, hi_code, fold, sides):
        fin = self.fin
        top = min(hi_code, fin.max_code + 1)
        # every code of formats the reference cache holds; wider ones: about 2^20 codes
        # (a peak between them may saturate by a little: the analysis counts it)
        step = 1 if fin.bits <= EXHAUSTIVE_LIMIT_BITS else max(1, (top - lo_code) >> 20)
        codes = np.append(np.arange(lo_code, top - 1, step, dtype=np.int64), top - 1)
        y = self._ref(codes)
        values = [y]
        if fold:
            mirrored = {"odd": -y, "even": y, "point": 2 * self.traits.center - y}[fold]
            values.append(mirrored)
        for side, which, x in ((sides[0], "neg", fin.min), (sides[1], "pos", fin.max)):
            if side == "line":
                values.append(np.atleast_1d(getattr(self.traits, which)(x)))
        allv = np.concatenate(values)
        signed = fin.signed or float(allv.min()) < 0
        return fitted_format(float(allv.min()), float(allv.max()), signed, fin.bits,
                             self.act.name)

    def _ref(self, codes):
        y = reference_on_codes(self.spec, codes)
        bad = ~np.isfinite(y)
        if bad.any():
            x = self.fin.dequantize(codes[bad][:1])[0]
            raise DomainError(
                f"'{self.act.name}' is not finite at x = {x:g} inside the table range; "
                "choose a range that avoids it"
            )
        return y

    # -- entries ---------------------------------------------------------------------------
    def _sample(self, lo_code, shift, entries, interp, frac_s, fout):
        fin = self.fin
        if interp is Interp.NONE:
            # the centre of each segment's codes: lo + i*2^S + (2^S - 1)/2
            x = (lo_code + np.arange(entries) * 2.0**shift + (2.0**shift - 1) / 2) * fin.lsb
        else:
            x = (lo_code + np.arange(entries + 1) * 2.0**shift) * fin.lsb
        y = self.f(x)
        if not np.isfinite(y).all():
            bad = x[~np.isfinite(y)][0]
            raise DomainError(
                f"'{self.act.name}' is not finite at x = {bad:g}, a knot of the table; "
                "choose a range that avoids it"
            )
        # entries beyond the output format only saturate: keep one bit of headroom
        lim_lo = (2 * fout.min_code - 1) * 2.0 ** (frac_s - fout.frac)
        lim_hi = (2 * fout.max_code + 2) * 2.0 ** (frac_s - fout.frac)
        scaled = np.clip(np.ldexp(y, frac_s), lim_lo, lim_hi)
        return _round_half_up(scaled)

    def _minimax(self, values, prog, lo_code, shift, entries, interp, guard, fout):
        fin = self.fin
        n_valid = min(entries << shift, fin.max_code + 1 - lo_code)
        if n_valid > 1 << EXHAUSTIVE_LIMIT_BITS:
            raise SpecError(
                f"minimax fitting evaluates every input of the range: {n_valid} codes is more "
                f"than 2^{EXHAUSTIVE_LIMIT_BITS}; use --fit sample or a narrower range"
            )
        codes = np.arange(lo_code, lo_code + n_valid, dtype=np.int64)
        fine = _fine(self._ref(codes), fout)
        if interp is Interp.LINEAR:
            return self._minimax_linear(values, prog, shift, guard, fout, fine, n_valid)
        # none / nearest: each entry serves a group of inputs on its own: the
        # best integer output is a rounding of the group's mid-range
        off = np.arange(n_valid)
        if interp is Interp.NONE:
            group = off >> shift
        else:
            group = (off + ((1 << shift) >> 1)) >> shift
        n_groups = values.size
        gmin = np.full(n_groups, np.iinfo(np.int64).max)
        gmax = np.full(n_groups, np.iinfo(np.int64).min)
        np.minimum.at(gmin, group, fine)
        np.maximum.at(gmax, group, fine)
        table = values.copy()
        served = gmin <= gmax
        one = 1 << FIT_FINE_BITS
        mid_floor = np.floor_divide(gmin[served] + gmax[served], 2 * one)
        best = None
        for cand in (mid_floor, mid_floor + 1):
            cand = np.clip(cand, fout.min_code, fout.max_code)
            err = np.maximum(np.abs(cand * one - gmin[served]), np.abs(cand * one - gmax[served]))
            if best is None:
                best, best_err = cand, err
            else:
                better = err < best_err
                best = np.where(better, cand, best)
                best_err = np.where(better, err, best_err)
        # keep the sample entry where it is as good (never worse, and stable)
        old = np.clip((values[served] + ((1 << guard) >> 1)) >> guard, fout.min_code, fout.max_code)
        old_err = np.maximum(np.abs(old * one - gmin[served]), np.abs(old * one - gmax[served]))
        keep = old_err <= best_err
        table[served] = np.where(keep, values[served], best << guard)
        return table

    def _minimax_linear(self, values, prog, shift, guard, fout, fine, n_valid):
        """Joint fit of neighbouring knots: a continuous start, then integer descent.

        The start moves every knot by the mean of the best offsets of the chords on
        either side (each chord's best offset centres its error band); coordinate
        descent in the exact integer arithmetic then settles each knot. The result
        is kept only if its max error over the range is no worse than ``values``.
        """
        n = values.size - 1
        off = np.arange(n_valid)
        seg = off >> shift
        w = (off & ((1 << shift) - 1)) / float(1 << shift)
        v = values.astype(np.float64)
        chord = v[seg] + (v[seg + 1] - v[seg]) * w
        dev = np.ldexp(fine.astype(np.float64), guard - FIT_FINE_BITS) - chord
        starts = np.arange(0, n_valid, 1 << shift)
        used = seg.max() + 1
        centre = np.zeros(n)
        centre[:used] = (np.maximum.reduceat(dev, starts) + np.minimum.reduceat(dev, starts)) / 2
        left = np.concatenate(([centre[0]], centre))
        right = np.concatenate((centre, [centre[-1]]))
        table = np.floor(v + (left + right) / 2 + 0.5).astype(np.int64)
        K.fit_linear_minimax(table, prog, fine, FIT_FINE_BITS, n_valid, 2, 400)
        if self._max_fine_error(table, prog, fine, n_valid) > self._max_fine_error(
                values, prog, fine, n_valid):
            return values
        return table

    @staticmethod
    def _max_fine_error(table, prog, fine, n_valid):
        """Max error over the range, in output LSBs times 2**FIT_FINE_BITS (both halves)."""
        n_seg = -(-n_valid >> prog[K.P_SHIFT])
        return max(K._segment_error(table, prog, fine, FIT_FINE_BITS, seg, n_valid)[0]
                   for seg in range(n_seg))

    # -- widths --------------------------------------------------------------------------
    def _acc_bits(self, values, shift, interp, guard, left, right, fold_code):
        vmax = int(np.abs(values).max()) if values.size else 0
        if interp is Interp.LINEAR:
            bound = (vmax << shift) + 2 * vmax * (1 << shift)
        else:
            bound = vmax
        fin = self.fin
        xmax = max(abs(fin.min_code), abs(fin.max_code)) + 1
        for tail in (left, right):
            if tail is not None and tail["mode"] == "line":
                bound = max(bound, xmax * abs(tail["m"]) + abs(tail["c"]))
        r_max = max([guard + (shift if interp is Interp.LINEAR else 0)]
                    + [t["k"] for t in (left, right) if t and t["mode"] == "line"])
        bound += abs(fold_code) << (r_max - guard)
        bound += 1 << max(r_max - 1, 0)
        bits = bound.bit_length() + 1
        if bits > ACC_LIMIT_BITS:
            raise SpecError(
                f"this table needs a {bits}-bit accumulator, more than {ACC_LIMIT_BITS}; "
                "use fewer guard bits, narrower formats or more entries"
            )
        return bits

    def _exact(self, value, frac, what):
        scaled = value * 2.0**frac
        if scaled != math.floor(scaled) or abs(scaled) >= 2.0**61:
            raise SpecError(f"the {what} {value:g} is not representable with {frac} fraction bits")
        return int(scaled)


def _round_half_up(v: np.ndarray) -> np.ndarray:
    """floor(v + 1/2) exactly (v + 0.5 itself rounds for |v| >= 2^52), as int64."""
    f = np.floor(v)
    return (f + (v - f >= 0.5)).astype(np.int64)


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only view of a read-only copy: setflags(write=True) cannot undo it."""
    base = np.array(a)
    base.setflags(write=False)
    view = base.view()
    view.setflags(write=False)
    return view


def _plain(d):
    return None if d is None else dict(d)


def _frozen_map(d):
    return None if d is None else MappingProxyType(dict(d))


def fitted_format(ymin: float, ymax: float, signed: bool, bits: int, what: str) -> FixedFormat:
    """The format of ``bits`` bits with the most fraction bits that holds [ymin, ymax]."""
    sign = 1 if signed else 0
    for int_bits in range(-bits, 64):
        fmt = FixedFormat(signed, bits, bits - sign - int_bits)
        top, bottom = ymax * 2.0**fmt.frac, ymin * 2.0**fmt.frac  # may overflow to inf
        if (math.isfinite(top) and math.isfinite(bottom)
                and math.floor(top + 0.5) <= fmt.max_code
                and math.floor(bottom + 0.5) >= fmt.min_code):
            break
    if int_bits + sign > 32:
        raise SpecError(
            f"the values of '{what}' reach {max(-ymin, ymax):.6g}, which needs more than "
            "32 integer bits; narrow the range or the input format"
        )
    return fmt


def _fine(y, fout: FixedFormat) -> np.ndarray:
    """Reference in output LSBs times 2**FIT_FINE_BITS, rounded, kept inside int64."""
    span = 1 << 20
    scaled = np.ldexp(y, fout.frac + FIT_FINE_BITS)
    lo = float((fout.min_code - span) << FIT_FINE_BITS)
    hi = float((fout.max_code + span) << FIT_FINE_BITS)
    return _round_half_up(np.clip(scaled, lo, hi))


def _line_constants(asym: Asymptote, fin: FixedFormat, fout: FixedFormat, guard: int):
    """Integers M, C, K with ``acc = u*M + C``, ``y = round_shift(acc, K)`` following ``asym``.

    The line in output codes is ``slope * 2^(fo - fi) * u + intercept * 2^fo``.
    K is the smallest value >= guard that makes M exact (a dyadic slope: a shift
    in hardware), or, for other slopes, the smallest that keeps the rounding of M
    below 2^-4 output LSB over every input (a short constant multiplier).
    """
    slope, intercept = float(asym.slope), float(asym.intercept)
    x_bits = fin.bits + 1  # u may be -min_code after folding
    m_budget = ACC_LIMIT_BITS - 3 - x_bits  # leaves room for C, the rounding and the unfold
    k = guard
    if slope != 0.0:
        base = fout.frac - fin.frac
        mant, exp = math.frexp(abs(slope))  # slope = mant * 2^exp, 0.5 <= mant < 1
        # bits of M at shift k: exp + base + k; make M exact if that fits
        num = mant
        tz = 53
        while tz > 0 and num * 2 ** (tz - 1) == math.floor(num * 2 ** (tz - 1)):
            tz -= 1
        k_exact = max(guard, tz - exp - base)
        # enough bits that the rounding of M moves the line by < 2^-4 LSB over every input
        # (|u| < 2^(x_bits-1), |dM| <= 1/2: the line moves by < 2^(x_bits - 2 - K) codes)
        k_enough = max(guard, x_bits + 2)
        k = min(k_exact, k_enough)
        if exp + base + k > m_budget:
            k = max(guard, m_budget - exp - base)
    m = math.floor(slope * 2.0 ** (fout.frac - fin.frac + k) + 0.5)
    c = math.floor(intercept * 2.0 ** (fout.frac + k) + 0.5)
    if abs(c) >= 1 << (ACC_LIMIT_BITS - 2):
        raise SpecError("the asymptote's intercept does not fit the accumulator; use --tails clamp")
    return int(m), int(c), int(k)


def _bits_for(v: int, signed: bool) -> int:
    """Word bits to hold ``v`` in two's complement (signed) or unsigned."""
    if signed:
        return (v.bit_length() if v >= 0 else (~v).bit_length()) + 1
    return max(1, v.bit_length())
