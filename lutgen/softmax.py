"""Softmax as a composite: an exp(-d) table, a 1/(1+f) table and integer glue.

The integers are those of ``docs/SOFTMAX.md``; :func:`softmax` compiles the two
tables (fitted to one LSB of their own output formats unless given) and checks
every width, :class:`Softmax` is the frozen result and evaluates whole batches of
vectors with one numba kernel.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import types
from dataclasses import dataclass

import numpy as np

from . import _kernels as K
from .errors import FormatError, RangeError, SpecError
from .fixedpoint import FixedFormat
from .table import Table

__all__ = ["Softmax", "softmax", "EXP_EXPR", "RECIP_EXPR", "MAX_N"]

EXP_EXPR = "exp(-x)"
RECIP_EXPR = "1/(1+x)"
MAX_N = 1 << 16
MAX_IN_BITS = 24  # the exp table is checked (and fitted) over every difference code
GUARD_BITS = 4  # default Fe - Fo and Fr - Fo
MANTISSA_EXTRA = 6  # default M - Fo


def _format(value, what: str) -> FixedFormat:
    fmt = value if isinstance(value, FixedFormat) else FixedFormat.parse(value)
    if fmt.is_affine:
        raise FormatError(f"softmax needs a power-of-two {what} format, not the affine {fmt}")
    return fmt


@dataclass(frozen=True, eq=False)
class Softmax:
    """A compiled softmax over vectors of ``n`` input codes (``docs/SOFTMAX.md``).

    ``exp_table`` maps difference codes ``d = max - x`` (format :attr:`diff_format`)
    to ``exp(-d)``; ``recip_table`` maps ``mantissa_bits``-bit normalised mantissas
    ``f`` to ``1/(1+f)``. Frozen: analysis and exporters only read it.
    """

    n: int
    in_format: FixedFormat
    out_format: FixedFormat
    exp_table: Table
    recip_table: Table
    mantissa_bits: int

    @property
    def diff_format(self) -> FixedFormat:
        return FixedFormat(False, self.in_format.bits, self.in_format.frac)

    @property
    def extra_bits(self) -> int:
        """L = ceil(log2 N): the sum's bits beyond one exp code."""
        return (self.n - 1).bit_length()

    @property
    def sum_bits(self) -> int:
        return self.exp_table.out_format.bits + self.extra_bits

    @property
    def k_min(self) -> int:
        """floor(log2 EXP(0)): the smallest leading-one position of the sum."""
        return self.exp_zero.bit_length() - 1

    @property
    def exp_zero(self) -> int:
        return int(self.exp_table.eval_int(np.zeros(1, dtype=np.int64))[0])

    @property
    def product_bits(self) -> int:
        return self.exp_table.out_format.bits + self.recip_table.out_format.bits

    @property
    def rom_bits(self) -> int:
        return self.exp_table.rom_bits + self.recip_table.rom_bits

    def shift(self, k: int) -> int:
        """The final right shift ``sh = Fr + k - Fo`` for leading-one position ``k``."""
        return self.recip_table.out_format.frac + k - self.out_format.frac

    def quantize(self, x) -> np.ndarray:
        """Input codes of real logits, with the input format's own modes."""
        return self.in_format.quantize(np.asarray(x, dtype=np.float64))

    def eval_int(self, codes) -> np.ndarray:
        """Output codes (int64) of input codes of shape (N,) or (count, N), bit-exact.

        Raises :class:`SpecError` for a wrong shape or a non-integer array,
        :class:`RangeError` for a code outside the input format.
        """
        arr = np.asarray(codes)
        if arr.dtype.kind not in "iu" or arr.dtype == np.uint64:
            raise SpecError(f"input codes must be an integer array (not {arr.dtype})")
        single = arr.ndim == 1
        rows = arr.reshape(1, -1) if single else arr
        if rows.ndim != 2 or rows.shape[1] != self.n:
            raise SpecError(f"input codes must have shape (count, {self.n}) or ({self.n},), "
                            f"got {arr.shape}")
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        fin = self.in_format
        if rows.size and (rows.min() < fin.min_code or rows.max() > fin.max_code):
            bad = rows[(rows < fin.min_code) | (rows > fin.max_code)][0]
            raise RangeError(f"input code {int(bad)} is outside {fin} "
                            f"({fin.min_code}..{fin.max_code})")
        out = np.empty(rows.shape, dtype=np.int64)
        e, r = self.exp_table, self.recip_table
        K.softmax_codes(rows, e.values, e.prog, r.values, r.prog, self.mantissa_bits,
                        r.out_format.frac, self.out_format.frac, self.out_format.max_code, out)
        return out[0] if single else out

    def eval(self, x) -> np.ndarray:
        """Real probabilities of real logits: quantise, :meth:`eval_int`, dequantise."""
        return self.out_format.dequantize(self.eval_int(self.quantize(x)))

    def to_dict(self) -> dict:
        e, r = self.exp_table, self.recip_table
        return {
            "name": "softmax",
            "n": self.n,
            "in_format": str(self.in_format),
            "out_format": str(self.out_format),
            "diff_format": str(self.diff_format),
            "exp_format": str(e.out_format),
            "recip_in_format": str(r.in_format),
            "recip_format": str(r.out_format),
            "mantissa_bits": self.mantissa_bits,
            "sum_bits": self.sum_bits,
            "product_bits": self.product_bits,
            "k_min": self.k_min,
            "rom_bits": self.rom_bits,
            "exp_table": e.to_dict(),
            "recip_table": r.to_dict(),
        }


def softmax(n, in_format="s16.12", out_format=None, *, exp_table=None, recip_table=None,
            exp_frac=None, recip_frac=None, mantissa_bits=None, pipeline=None) -> Softmax:
    """Compile a bit-exact softmax over vectors of ``n`` codes of ``in_format``.

    Parameters
    ----------
    n : int
        The vector length, 1 to 65536.
    in_format, out_format : str or FixedFormat
        Power-of-two formats; ``out_format`` defaults to ``in_format``.
    exp_table, recip_table : Table, optional
        The exp(-d) table (input format ``u<B>.<F>`` of the input's ``B`` and ``F``,
        unsigned output) and the 1/(1+f) table (input ``uM.M``, unsigned output).
        Default: fitted with :func:`lutgen.fit` to 1 LSB of ``u(Fe+1).Fe`` and
        ``u(Fr+1).Fr``.
    exp_frac, recip_frac, mantissa_bits : int, optional
        Fe, Fr and M of the default tables [default: Fo + 4, Fo + 4, Fo + 6].
    pipeline : int or "max", optional
        The Verilog pipeline setting of both tables' modules (2..16 or "max"; it never
        changes the integers) [default: the tables' own, 2 for the fitted ones].

    Raises
    ------
    LutgenError
        A :class:`FormatError` or :class:`SpecError` naming the bad value.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_N:
        raise SpecError(f"softmax length n must be an integer 1..{MAX_N}, got {n!r}")
    fin = _format(in_format, "input")
    fout = fin if out_format is None else _format(out_format, "output")
    if fin.bits > MAX_IN_BITS:
        raise FormatError(f"softmax checks its exp table over every difference code; {fin} has "
                          f"more than 2^{MAX_IN_BITS}: use a narrower input format")
    diff = FixedFormat(False, fin.bits, fin.frac)
    fo = fout.frac
    fe = _width(exp_frac, fo + GUARD_BITS, "exp_frac")
    fr = _width(recip_frac, fo + GUARD_BITS, "recip_frac")
    if exp_table is None:
        exp_table = _fitted(EXP_EXPR, "softmax_exp", str(diff), f"u{fe + 1}.{fe}")
    if recip_table is None:
        m = _width(mantissa_bits, fo + MANTISSA_EXTRA, "mantissa_bits")
        recip_table = _fitted(RECIP_EXPR, "softmax_recip", f"u{m}.{m}", f"u{fr + 1}.{fr}")
    _check_table(exp_table, "exp_table")
    _check_table(recip_table, "recip_table")
    ein = exp_table.in_format
    if (ein.signed, ein.bits, ein.frac) != (False, diff.bits, diff.frac):
        raise SpecError(f"exp_table must take the difference codes {diff}, not {ein}")
    rin = recip_table.in_format
    if rin.signed or rin.bits != rin.frac:
        raise SpecError(f"recip_table must take a mantissa format uM.M, not {rin}")
    for table, what in ((exp_table, "exp_table"), (recip_table, "recip_table")):
        if table.out_format.signed:
            raise SpecError(f"{what} needs an unsigned output format, not {table.out_format}")
    if pipeline is not None:  # the Verilog's registers only: no recompiling
        exp_table, recip_table = (
            dataclasses.replace(t, spec=t.spec.replace(pipeline=pipeline))
            for t in (exp_table, recip_table))
    sm = Softmax(int(n), fin, fout, exp_table, recip_table, rin.bits)
    _check_glue(sm)
    return sm


def _width(value, default: int, what: str) -> int:
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 30:
        raise SpecError(f"{what} must be an integer 1..30, got {value!r}")
    return int(value)


def _check_table(table, what: str) -> None:
    if not isinstance(table, Table):
        raise SpecError(f"{what} must be a lutgen Table, got {type(table).__name__}")
    if table.in_format.is_affine or table.out_format.is_affine:
        raise SpecError(f"{what} must have power-of-two formats")


def _check_glue(sm: Softmax) -> None:
    """The checks of docs/SOFTMAX.md: a monotone EXP, EXP(0) >= 1, widths within int64."""
    d = np.arange(sm.diff_format.n_codes, dtype=np.int64)
    e = sm.exp_table.eval_int(d)
    if np.any(np.diff(e) > 0):
        first = int(np.nonzero(np.diff(e) > 0)[0][0]) + 1
        raise SpecError(f"exp_table must be non-increasing; it rises at difference code {first}")
    if e[0] < 1:
        raise SpecError("exp_table gives 0 at d = 0: the sum could be 0")
    if sm.product_bits + 1 > 63:
        raise SpecError(f"exp and recip outputs of {sm.product_bits} bits together overflow "
                        "int64 after the multiply: use narrower table formats")
    if sm.shift(sm.k_min) < 1:
        raise SpecError(f"the final shift Fr + kmin - Fo = {sm.shift(sm.k_min)} must be at "
                        f"least 1: use more recip fraction bits than {sm.out_format.frac} "
                        f"- {sm.k_min}")


@functools.lru_cache(maxsize=16)
def _fitted(expr: str, name: str, in_format: str, out_format: str) -> Table:
    from .search import fit

    # uniform layouts: an 8-bit softmax's exp table stays a direct one (no multiplier in
    # each of the N lanes); a hierarchical one may be given as ``exp_table`` (docs/SOFTMAX.md)
    result = fit(name, expr=expr, max_error="1lsb", in_format=in_format, out_format=out_format,
                 regions=False)
    if not result.met:
        raise SpecError(f"no {expr} table over {in_format} meets 1 LSB of {out_format}: "
                        "give the table or other formats")
    return result.best.table


class _CallableModule(types.ModuleType):
    """``lutgen.softmax(...)`` compiles, whether ``lutgen.softmax`` is still the function the
    package exports or, once ``lutgen.softmax`` was imported as a module, this module."""

    def __call__(self, *args, **kwargs) -> Softmax:
        return softmax(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
