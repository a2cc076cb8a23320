"""The table compiler: a :class:`~lutgen.spec.TableSpec` in, a frozen :class:`Table` out.

The arithmetic the table is evaluated with is ``docs/ARITHMETIC.md``; this
module only lays the table out (range alignment, output format, guard bits,
tails, fold, entries) and checks that it fits 64-bit arithmetic. Which integers
are stored is :mod:`lutgen._entries`' job.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import numpy as np

from . import _entries, _faithful, _unfold
from . import _kernels as K
from ._entries import ACC_LIMIT_BITS, Layout
from .errors import DomainError, RangeError, SpecError
from .fixedpoint import FixedFormat, Overflow, Rounding, c_word_bits, sized_format
from .regions import Regions
from .tail import Tail
from ._reference import EXHAUSTIVE_LIMIT_BITS, clipped, function, reference_on_codes
from ._range import RangeChooser
from ._threads import run_checked
from .spec import (
    Coeffs,
    Fit,
    Fold,
    Interp,
    Tails,
    TableSpec,
    make_spec,
    spec_traits,
)

__all__ = ["Table", "Tail", "Layout", "compile_table", "build", "reference_on_codes",
           "Interp", "Tails", "Coeffs", "Fit", "Fold", "TableSpec"]

DEFAULT_LINEAR_GUARD = 3

_INTERP_CODE = {Interp.NONE: K.INTERP_NONE, Interp.NEAREST: K.INTERP_NEAREST,
                Interp.LINEAR: K.INTERP_LINEAR}
_FOLD_CODE = {Fold.NONE: K.FOLD_OFF, Fold.ODD: K.FOLD_NEGATE, Fold.POINT: K.FOLD_NEGATE,
              Fold.EVEN: K.FOLD_MIRROR, Fold.EVEN_LINE: K.FOLD_LINE}


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
    fold: Fold
    fold_f: int
    tails: tuple[Tail | None, Tail | None]  # per side: None where no input lies
    store_bits: int
    store_signed: bool
    acc_bits: int
    notes: tuple[str, ...] = field(default=())
    fold_e: int = 0  # E: a negating fold stores the function minus its centre E (step 5)
    fold_lm: int = 0  # an even_line fold adds (LM * (x - Z)) << (R - LE) in step 5
    fold_le: int = 0
    # a hierarchical table (docs/ARITHMETIC.md): shift is then SMAX, entries its segments
    regions: Regions | None = None
    # lutgen.shared: the table whose knot array this one reads (its values are that table's
    # first values.size words, stored and counted there) and the name it is exported under
    knots_of: "Table | None" = None
    knots_name: str | None = None

    @property
    def layout(self) -> Layout:
        return Layout(self.in_format, self.out_format, self.lo_code, self.shift, self.entries,
                      self.interp, self.guard_bits, self.fold, self.regions)

    @property
    def knot_codes(self) -> np.ndarray:
        """The input code of every segment boundary (knot), the last being HI."""
        return self.lo_code + self.layout.knot_offsets()

    @property
    def name(self) -> str:
        act = self.spec.act
        base = act.name + ("_d" if self.spec.derivative else "")
        return base + (f"_{self.spec.output}" if act.n_outputs > 1 else "")

    @property
    def interp(self) -> Interp:
        return self.spec.interp

    @property
    def hi_code(self) -> int:
        return self.lo_code + self.layout.span

    @property
    def range(self) -> tuple[float, float]:
        """The effective input range [lo, hi) of the table (after alignment, fold)."""
        fin = self.in_format
        # folded: x = 2Z - HI mirrors to HI, which the right tail serves (Z: the zero point)
        z = fin.zero_point
        lo = fin.codes_to_real(2 * z + 1 - self.hi_code if self.fold else self.lo_code)
        return (float(lo), float(fin.codes_to_real(self.hi_code)))

    @property
    def rom_bits(self) -> int:
        regions = self.regions.table_bits if self.regions else 0
        return self._words * self.store_bits + regions

    @property
    def _words(self) -> int:
        """The words this table stores: none when it reads another table's knots."""
        return 0 if self.knots_of is not None else int(self.values.size)

    @property
    def c_bytes(self) -> int:
        """Bytes of the C header's table array: words x the ``<stdint.h>`` type they need,
        plus its region arrays (``BASE``, ``S``; counted regions: ``START``, all n)."""
        regions = 0
        if self.regions:  # const arrays BASE[] and S[] (counted: START[] too, all n)
            r = self.regions
            regions = r.n * (c_word_bits(r.base_bits) + c_word_bits(r.shift_bits)) // 8
            if not r.equal:
                regions += r.n * c_word_bits(r.start_bits) // 8
        return self._words * (c_word_bits(self.store_bits) // 8) + regions

    # inputs of at most this many bits are looked up in the output code of every input,
    # computed once per Table (2**16 codes: ~0.2 ms and 128 KiB); wider ones run the kernel
    _GATHER_MAX_BITS = 16

    def eval_int(self, codes, out=None) -> np.ndarray:
        """Output codes for input codes, exactly as the hardware computes them.

        ``codes`` is an integer array of any shape; the result has its shape and
        :attr:`code_dtype`. ``out``, a writable C-contiguous array of that shape and
        dtype, receives the result (streaming callers reuse one buffer and skip the
        page faults of a fresh one). Raises :class:`RangeError` for a code outside
        the input format, :class:`SpecError` for a non-integer array or a bad ``out``.
        """
        arr = np.asarray(codes)
        if arr.dtype.kind not in "iu" or arr.dtype == np.uint64:
            raise SpecError(f"input codes must be an integer array (not {arr.dtype})")
        flat = np.ascontiguousarray(arr.ravel(), dtype=arr.dtype.newbyteorder("="))
        result = out
        if out is None:
            result = np.empty(arr.shape, dtype=self.code_dtype)
        elif not (isinstance(out, np.ndarray) and out.dtype == self.code_dtype
                  and out.shape == arr.shape and out.flags.c_contiguous and out.flags.writeable):
            raise SpecError(f"out must be a writable C-contiguous {np.dtype(self.code_dtype)} "
                            f"array of shape {arr.shape}")
        out = result.reshape(-1)
        fin = self.in_format
        # long inputs are shared with one helper thread (scripts/bench.py: from ~2^18
        # look-ups, ~2^16 kernel evaluations, it pays; numba's own pool did not)
        if fin.bits <= self._GATHER_MAX_BITS:
            bad = run_checked(K.gather_codes, flat, (self._every_output, fin.min_code), out,
                              min_size=1 << 19)
        else:
            bad = run_checked(K.eval_codes_checked, flat,
                              (self.values, self.prog, fin.min_code, fin.max_code), out,
                              min_size=1 << 17)
        if bad >= 0:
            raise RangeError(
                f"input code {int(flat[bad])} is outside {fin} ({fin.min_code}..{fin.max_code})"
            )
        return result

    @functools.cached_property
    def _every_output(self) -> np.ndarray:
        """The output code of every input code, in code order (read-only); computed once."""
        fin = self.in_format
        codes = np.arange(fin.min_code, fin.max_code + 1, dtype=np.int64)
        out = K.eval_codes(codes, self.values, self.prog, np.empty(codes.size, self.code_dtype))
        out.setflags(write=False)
        return out

    @property
    def code_dtype(self):
        """The narrowest of int16, int32 and int64 that holds every output code."""
        top = self.out_format.max_code
        return np.int16 if top < 2**15 else np.int32 if top < 2**31 else np.int64

    def quantize(self, x) -> np.ndarray:
        """Input codes for real inputs, as a conversion to the input format would make them.

        The input format's own rounding and overflow modes: ``ap_fixed<8,4>`` truncates
        and wraps (``9.0`` becomes ``-7.0``), ``ap_fixed<8,4,AP_RND,AP_SAT>`` and a plain
        ``s8.4`` round half up and saturate (docs/ARITHMETIC.md, "Input quantisation").
        """
        return self.in_format.quantize(x)

    def eval(self, x) -> np.ndarray:
        """Real outputs for real inputs: :meth:`quantize`, :meth:`eval_int`, dequantise."""
        codes = self.quantize(x)
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
            "fold": self.fold.value,
            "fold_f": self.fold_f,
            "fold_e": self.fold_e,
            "fold_lm": self.fold_lm,
            "fold_le": self.fold_le,
            "tails": {side: None if tail is None else tail.to_dict()
                      for side, tail in zip(("left", "right"), self.tails)},
            "store_bits": self.store_bits,
            "store_signed": self.store_signed,
            "acc_bits": self.acc_bits,
            "rom_bits": self.rom_bits,
            "values": [int(v) for v in self.values],
            "notes": list(self.notes),
            **({"regions": self.regions.to_dict()} if self.regions else {}),
            # the table whose knots this one reads: its name and its own spec (lutgen.shared)
            **({"knots_from": {"name": self.knots_name, "spec": self.knots_of.spec.to_dict()}}
               if self.knots_of is not None else {}),
        }


# ---- the compiler -------------------------------------------------------------------------
def compile_table(name, **options) -> Table:
    """Compile activation ``name`` into a fixed-point table.

    Parameters
    ----------
    name : str
        A registered activation (or alias); with ``expr``, the name of the expression.
    **options
        The table options of :data:`lutgen.spec.OPTIONS` (``lutgen build --help``
        shows them with their defaults): ``expr``, ``params``, ``derivative``,
        ``output``, ``in_format``, ``out_format`` (default: sized to the
        function's values), ``range`` (widened to whole segments; the effective
        range is :attr:`Table.range` and a note says when it changed),
        ``entries``, ``interp``, ``tails``, ``fold``, ``coeffs`` (``sample``,
        ``minimax`` or ``faithful``; the old name ``fit`` is still read) and ``guard_bits``.

    Raises
    ------
    LutgenError
        A subclass naming the bad value for every invalid option.
    """
    return build(make_spec(name, **options))


def build(spec: TableSpec) -> Table:
    """Compile a validated :class:`TableSpec`."""
    return _Compiler(spec).run()


class _Compiler(RangeChooser):
    def __init__(self, spec: TableSpec):
        self.spec = spec
        self.fin = spec.in_format
        self.act = spec.act
        self.traits = spec_traits(spec)
        self.f = function(spec)
        self.fout = None  # known once sized; saturation = "allowed" clips the reference to it
        self.notes: list[str] = []

    def run(self) -> Table:
        spec, fin = self.spec, self.fin
        fold = self._fold_kind()
        lo, hi = self._requested_range(fold)
        self._check_domain(lo, hi, fold)
        regions = None
        if spec.regions is None:
            lo_code, shift, entries = self._align(lo, hi, spec.entries, "segments")
        elif isinstance(spec.regions[0], tuple):  # counted regions: any widths
            regions = Regions.counted(spec.regions)
            lo_code = self._counted_range(lo, hi, regions)
            shift, entries = regions.smax, regions.segments
            if regions.n == 1 and entries & (entries - 1) == 0:  # a uniform table
                regions = None
        else:
            lo_code, rb, n = self._align(lo, hi, len(spec.regions), "regions")
            regions = self._regions(rb, spec.regions)
            shift, entries = regions.smax, regions.segments
            if regions.n == 1:  # one region: a uniform table
                shift, entries, regions = spec.regions[0], 1 << (rb - spec.regions[0]), None
        hi_code = lo_code + (regions.span if regions else entries << shift)
        interp = spec.interp
        sides = self._tail_sides(lo_code, hi_code, fold)
        fout = spec.out_format or self._sized_out_format(lo_code, hi_code, fold, sides)
        # the table rounds half up and saturates whatever the requested format's modes
        # (ap_fixed's AP_TRN, AP_WRAP): its out_format says so
        fout = dataclasses.replace(fout, rounding=Rounding.NEAREST_UP, overflow=Overflow.SATURATE)
        line_m, line_e = _unfold.line_term(fold, self.traits, fin, fout, self.act.name)
        guard = _unfold.guard_bits(spec.guard_bits, interp, shift, line_e,
                                      DEFAULT_LINEAR_GUARD)
        layout = Layout(fin, fout, lo_code, shift, entries, interp, guard, fold, regions)
        f = self.f
        if spec.clips_reference:
            self.fout = fout
            f = lambda x: clipped(self.f(x), fout)  # noqa: E731
        if fold is Fold.EVEN_LINE:  # the table holds h(x) = f(x) - a*x
            f = _unfold.without_line(f, self.traits.slope)

        values = _entries.sample(layout, f, self.act.name)
        k_min = max(guard, line_e)  # the line tails' R >= LE too
        left = self._tail(sides[0], "neg", fout, k_min)
        right = self._tail(sides[1], "pos", fout, k_min)
        fold_code = 0
        if fold.negates:
            fold_code = _entries.fold_constant(float(self.traits.center), fout, guard)
        fold_e = fold_code // 2 if fold_code % 2 == 0 else 0  # the stored centre E

        def program(fold_e=0):
            prog = K.pack_program(
                lo=lo_code, shift=shift, entries=entries, interp=_INTERP_CODE[interp],
                fold=_FOLD_CODE[fold], fold_f=fold_code, guard=guard, ymin=fout.min_code,
                ymax=fout.max_code, left=_line(left), right=_line(right),
                fold_z=fin.zero_point if fold else 0, fold_e=fold_e, line_m=line_m,
                line_e=line_e,
                regions=regions)
            return prog

        prog = program()  # the entries are chosen uncentred, then stored minus E
        if spec.coeffs is Coeffs.MINIMAX:
            values = _entries.minimax(values, prog, layout, self._ref)
        elif spec.coeffs is Coeffs.FAITHFUL:
            values = _faithful.faithful(values, prog, layout, self._ref, self._ref_every,
                                        self.act.name, stored_offset=fold_e)
        values = _entries.clip_to_output(values, layout, fold_code)
        if fold_e:  # docs/ARITHMETIC.md step 5: every acc is the uncentred one
            values = values - fold_e
            left, right = (_unfold.centred_tail(t, fold_e, guard) for t in (left, right))
            prog = program(fold_e)
        store_signed = bool(values.min() < 0)
        store_bits = max(_entries.bits_for(int(values.min()), store_signed),
                         _entries.bits_for(int(values.max()), store_signed))
        acc_bits = _entries.acc_bits(values, layout, (left, right), fold_code)
        if line_m:
            acc_bits = _unfold.acc_bits_with_line(acc_bits, fin, line_m, line_e, guard, shift,
                                                     interp, (left, right))
        if acc_bits > ACC_LIMIT_BITS:
            raise SpecError(
                f"this table needs a {acc_bits}-bit accumulator, more than {ACC_LIMIT_BITS}; "
                "use fewer guard bits, narrower formats or more entries"
            )
        return Table(
            spec=spec, values=_frozen(values), prog=_frozen(prog), in_format=fin, out_format=fout,
            lo_code=lo_code, shift=shift, entries=entries, guard_bits=guard, fold=fold,
            fold_f=fold_code, tails=(left, right), store_bits=store_bits,
            store_signed=store_signed, acc_bits=acc_bits, notes=tuple(self.notes),
            fold_e=fold_e, fold_lm=line_m, fold_le=line_e, regions=regions,
        )

    # -- tails ---------------------------------------------------------------------------
    def _tail_sides(self, lo_code, hi_code, fold):
        """Per side: None where no input lies, else 'clamp' or 'asymptote'."""
        fin = self.fin
        has_left = lo_code > fin.min_code and not fold
        # folded, input x < Z serves as u = 2Z - x (Z: the zero point)
        has_right = hi_code <= fin.max_code or (fold and hi_code <= 2 * fin.zero_point
                                                - fin.min_code)
        t = self.traits
        mode = self.spec.tails
        if mode is Tails.AUTO:
            linear = any(a is not None and a.slope != 0 for a in (t.neg, t.pos))
            mode = Tails.ASYMPTOTE if linear else Tails.CLAMP
            pick = lambda a: "asymptote" if a is not None else "clamp"  # noqa: E731
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
                sides.append("asymptote")
        return sides

    def _tail(self, side, which, fout, guard) -> Tail | None:
        if side is None:
            return None
        if side == "clamp":
            return Tail("clamp")
        asym = getattr(self.traits, which)
        if self.spec.fold and self.traits.symmetry == "even_line":
            asym = _unfold.asymptote_of_h(asym, self.traits.slope)
        m, c, k = _entries.line_constants(asym, self.fin, fout, guard)
        return Tail("asymptote", float(asym.slope), float(asym.intercept), m, c, k)

    # -- output format -------------------------------------------------------------------
    def _sized_out_format(self, lo_code, hi_code, fold, sides):
        fin = self.fin
        top = min(hi_code, fin.max_code + 1)
        # every code of formats the reference cache holds; wider ones: about 2^20 codes
        # (a peak between them may saturate by a little: the analysis counts it)
        step = 1 if fin.bits <= EXHAUSTIVE_LIMIT_BITS else max(1, (top - lo_code) >> 20)
        codes = np.append(np.arange(lo_code, top - 1, step, dtype=np.int64), top - 1)
        y = self._ref(codes)
        values = [y]
        if fold:
            if fold is Fold.EVEN_LINE:  # f(-x) = f(x) - 2 a x
                mirrored = y - 2 * self.traits.slope * fin.codes_to_real(codes)
            else:
                mirrored = {Fold.ODD: -y, Fold.EVEN: y,
                            Fold.POINT: 2 * self.traits.center - y}[fold]
            values.append(mirrored)
        for side, which, x in ((sides[0], "neg", fin.min), (sides[1], "pos", fin.max)):
            if side == "asymptote":
                values.append(np.atleast_1d(getattr(self.traits, which)(x)))
        allv = np.concatenate(values)
        signed = fin.signed or float(allv.min()) < 0
        return sized_format(float(allv.min()), float(allv.max()), signed, fin.bits,
                             self.act.name)

    def _ref(self, codes):
        y = reference_on_codes(self.spec, codes)
        if self.fout is not None:
            y = clipped(y, self.fout)
        bad = ~np.isfinite(y)
        if bad.any():
            x = self.fin.dequantize(codes[bad][:1])[0]
            raise DomainError(
                f"'{self.act.name}' is not finite at x = {x:g} inside the table range; "
                "choose a range that avoids it"
            )
        return y

    def _ref_every(self):
        """The reference at every input code (non-finite where undefined)."""
        y = reference_on_codes(self.spec)
        return clipped(y, self.fout) if self.fout is not None else y

    # -- widths --------------------------------------------------------------------------


def _line(tail: Tail | None):
    """The (M, C, K) a kernel program takes for an asymptote tail, else None."""
    return (tail.m, tail.c, tail.k) if tail is not None and tail.is_line else None


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only view of a read-only copy: setflags(write=True) cannot undo it."""
    base = np.array(a)
    base.setflags(write=False)
    view = base.view()
    view.setflags(write=False)
    return view
