"""Error analysis: how far a table is from its float64 reference, over every input.

Formats of up to 2**24 codes are analysed exhaustively. Wider ones are
analysed on a documented sample: every ``stride``-th code (2**22 codes in all),
every segment boundary of the table +/- 2 codes, and both extremes of the
format; the report then says ``exhaustive: false``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from . import _distributions as files
from . import _kernels as K
from .errors import SpecError
from ._reference import EXHAUSTIVE_LIMIT_BITS, clipped, reference_on_codes
from .spec import Fold
from .table import Table

__all__ = ["ErrorReport", "Distribution", "analyze", "analysis_codes"]

SAMPLE_BITS = 22


@dataclass(frozen=True)
class Distribution:
    """An input distribution weighting the mean errors.

    normal or uniform, or real data read from a file: ``samples`` (an ``.npy`` array of
    inputs) or ``hist`` (an ``.npz`` of ``edges`` and ``counts``), which give each input
    code the mass of the inputs that quantise to it.
    """

    kind: str  # "normal", "uniform", "samples" or "hist"
    a: float | None = None  # mean, or low end
    b: float | None = None  # std, or high end
    path: str | None = None  # a file's path as written (relative to the project file)
    file: str | None = None  # the file read
    sha256: str | None = None  # of the file's bytes
    data: object = field(default=None, compare=False, repr=False)
    _mass: dict = field(default_factory=dict, compare=False, repr=False)  # format -> mass

    @classmethod
    def parse(cls, text, base=None) -> "Distribution":
        """``normal:MEAN,STD``, ``uniform`` (the table range), ``uniform:LO,HI``,
        ``samples:FILE.npy`` or ``hist:FILE.npz`` (relative paths from ``base``)."""
        if isinstance(text, Distribution):
            return text
        kind, _, args = str(text).strip().partition(":")
        kind = kind.lower()
        if kind in files.FILE_KINDS:
            if not args.strip():
                raise SpecError(f"distribution {text!r} names no file; write "
                                f"{kind}:FILE{files.FILE_KINDS[kind]}")
            path = files.resolve(args.strip(), base)
            data, sha256 = files.load(kind, path)
            return cls(kind, path=args.strip(), file=str(path.resolve()), sha256=sha256,
                       data=data)
        try:
            nums = [float(v) for v in args.split(",")] if args else []
        except ValueError:
            nums = None
        if kind == "normal" and nums and len(nums) == 2 and nums[1] > 0 and all(
            map(math.isfinite, nums)
        ):
            return cls("normal", nums[0], nums[1])
        if kind == "uniform" and nums == []:
            return cls("uniform")
        if kind == "uniform" and nums and len(nums) == 2 and nums[0] < nums[1] and all(
            map(math.isfinite, nums)
        ):
            return cls("uniform", nums[0], nums[1])
        raise SpecError(
            f"cannot parse distribution {text!r}; write normal:MEAN,STD (STD > 0), "
            "uniform, uniform:LO,HI (LO < HI), samples:FILE.npy or hist:FILE.npz"
        )

    @classmethod
    def from_record(cls, record: dict) -> "Distribution":
        """The distribution a manifest recorded (:meth:`record`): its file, unchanged."""
        text, file, sha256 = record["dist"], record["dist_file"], record["dist_sha256"]
        kind, _, path = text.partition(":")
        dist = cls.parse(f"{kind}:{file}")
        if dist.sha256 != sha256:
            raise SpecError(f"distribution file '{file}' has changed since the build (its "
                            "SHA-256 differs from the manifest's)")
        return cls(kind, path=path, file=dist.file, sha256=sha256, data=dist.data)

    def record(self) -> dict:
        """What a manifest stores to read the distribution again: text, file, SHA-256."""
        rec = {"dist": str(self)}
        if self.file is not None:
            rec.update(dist_file=self.file, dist_sha256=self.sha256)
        return rec

    def weights(self, x: np.ndarray, table_range, codes=None, fmt=None) -> np.ndarray:
        """The weight of each input ``x`` (its ``codes`` of ``fmt`` for file data), summing to 1."""
        if self.kind in files.FILE_KINDS:
            if fmt not in self._mass:
                self._mass[fmt] = files.code_mass(self.kind, self.data, fmt)
            known, mass = self._mass[fmt]
            at = np.minimum(np.searchsorted(known, codes), known.size - 1)
            w = np.where(known[at] == codes, mass[at], 0.0)
        elif self.kind == "normal":
            with np.errstate(over="ignore", under="ignore"):  # far from the mean: weight 0
                w = np.exp(-0.5 * ((x - self.a) / self.b) ** 2)
        else:
            lo, hi = (self.a, self.b) if self.a is not None else table_range
            w = ((x >= lo) & (x < hi)).astype(np.float64)
        total = w.sum()
        if not total > 0:
            raise SpecError(f"the distribution {self} puts no weight on the analysed inputs")
        return w / total

    def __str__(self) -> str:
        if self.kind in files.FILE_KINDS:
            return f"{self.kind}:{self.path}"
        if self.kind == "normal":
            return f"normal:{self.a:g},{self.b:g}"
        return "uniform" if self.a is None else f"uniform:{self.a:g},{self.b:g}"


@dataclass(frozen=True)
class ErrorReport:
    """Error figures of a table; attribute names are the JSON keys."""

    max_abs_error: float
    mean_abs_error: float
    rms_error: float
    max_error_lsb: float
    mean_error_lsb: float
    argmax_x: float
    floor_max_error_lsb: float
    faithful: bool
    monotonic: bool | None  # None: the reference is not monotonic
    exhaustive: bool
    n_inputs: int
    n_undefined: int  # inputs where the reference is not finite (excluded)
    saturated: int
    range_max_error_lsb: float | None
    tails_max_error_lsb: float | None
    n_tail_inputs: int
    fold_mismatches: int | None  # folded tables: inputs where y(-x) != mirror of y(x)
    entries: int
    rom_bits: int
    c_bytes: int  # what the C header's array occupies (Table.c_bytes)
    in_format: str
    out_format: str
    interp: str
    dist: str | None = None
    weighted_mean_abs_error: float | None = None
    weighted_rms_error: float | None = None
    # saturation = "allowed": the figures above are against the reference clipped to the
    # output range; these are against the reference itself, so nothing is hidden
    saturation: str = "counted"
    unclipped_max_error_lsb: float | None = None
    unclipped_mean_error_lsb: float | None = None
    unclipped_floor_max_error_lsb: float | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.saturation == "counted":  # the figures are the unclipped ones: as before
            for key in _SATURATION_KEYS:
                del d[key]
        return d


_SATURATION_KEYS = ("saturation", "unclipped_max_error_lsb", "unclipped_mean_error_lsb",
                    "unclipped_floor_max_error_lsb")


def analysis_codes(table: Table) -> tuple[np.ndarray, bool]:
    """The input codes analysed, and whether that is every code of the format."""
    fmt = table.in_format
    if fmt.bits <= EXHAUSTIVE_LIMIT_BITS:
        return fmt.codes(), True
    stride = fmt.n_codes >> SAMPLE_BITS
    dense = fmt.min_code + np.arange(0, fmt.n_codes, stride, dtype=np.int64)
    bounds = table.knot_codes
    if table.fold:
        bounds = np.concatenate([bounds, -bounds])
    near = (bounds[:, None] + np.arange(-2, 3, dtype=np.int64)[None, :]).ravel()
    ends = np.array([fmt.min_code, fmt.max_code], dtype=np.int64)
    codes = np.sort(np.concatenate([dense, near, ends]))
    codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))]  # np.unique, faster
    codes = codes[(codes >= fmt.min_code) & (codes <= fmt.max_code)]
    return codes, False


def analyze(table: Table, dist=None) -> ErrorReport:
    """Measure ``table`` against its float64 reference on every input code.

    Parameters
    ----------
    table : Table
    dist : Distribution or str, optional
        Weights for ``weighted_mean_abs_error`` / ``weighted_rms_error``
        (``normal:MEAN,STD``, ``uniform``, ``uniform:LO,HI``).
    """
    fin, fout = table.in_format, table.out_format
    codes, exhaustive = analysis_codes(table)
    clip = table.spec.clips_reference
    ref = _reference_lsb(table.spec, fout, None if exhaustive else codes, clip)
    saturated = np.empty(codes.size, dtype=np.uint8)
    y = np.empty(codes.size, dtype=table.code_dtype)
    # one core: on this 2-core class of machine numba's thread pool measured no faster at
    # 2^24 inputs and far slower when the other core is busy (scripts/bench.py, prange)
    K.eval_codes_flagged(codes, table.values, table.prog, y, saturated)

    n_undefined = ref.n_undefined
    ref_lsb = ref.values
    if n_undefined:
        codes, y, saturated = codes[ref.defined], y[ref.defined], saturated[ref.defined]
    if codes.size == 0:
        raise SpecError(f"'{table.spec.activation}' is not finite at any input of {fin}")

    unclipped = {}
    if clip:  # the same inputs against the reference itself
        raw = _reference_lsb(table.spec, fout, None if exhaustive else codes, False)
        raw_err = np.abs(y - raw.values)  # clipping keeps which inputs are defined
        unclipped = dict(saturation="allowed",
                         unclipped_max_error_lsb=float(raw_err.max()),
                         unclipped_mean_error_lsb=_stable(raw_err.mean()),
                         unclipped_floor_max_error_lsb=raw.floor_lsb)

    err_lsb = y - ref_lsb
    np.abs(err_lsb, out=err_lsb)
    worst = int(np.argmax(err_lsb))
    lsb = fout.lsb
    max_lsb = float(err_lsb[worst])
    mean_lsb = _stable(err_lsb.mean())
    # the squares of errors beyond 1e150 LSB would overflow: scale them first; an error
    # beyond float64 itself (a reference of 1e300 in a fine output format) is inf
    scale = max_lsb if 1e150 < max_lsb < math.inf else 1.0
    scaled = err_lsb / scale if scale != 1.0 else err_lsb
    if math.isfinite(max_lsb):
        rms_lsb = _stable(scale * math.sqrt(float(np.einsum("i,i->", scaled, scaled)) / codes.size))
    else:
        rms_lsb = math.inf

    # the inputs the table serves are one run of the (ascending) codes, two when folded
    if table.fold:  # mirrored about the input zero point z
        z2 = 2 * fin.zero_point
        runs = [(z2 + 1 - table.hi_code, z2 - table.lo_code + 1), (table.lo_code, table.hi_code)]
    else:
        runs = [(table.lo_code, table.hi_code)]
    in_table = [slice(*np.searchsorted(codes, r)) for r in runs]
    in_table = [sl for sl in in_table if sl.stop > sl.start]
    if table.fold and len(in_table) == 2 and in_table[0].stop >= in_table[1].start:
        in_table = [slice(in_table[0].start, in_table[1].stop)]  # lo = 0: one run
    n_in = sum(sl.stop - sl.start for sl in in_table)
    n_tail = int(codes.size - n_in)
    range_max = max((float(err_lsb[sl].max()) for sl in in_table), default=None)
    if n_tail:
        tail_mask = np.ones(codes.size, dtype=bool)
        for sl in in_table:
            tail_mask[sl] = False
        tails_max = float(err_lsb[tail_mask].max())
    else:
        tails_max = None

    weighted_mean = weighted_rms = None
    if dist is not None:
        dist = Distribution.parse(dist)
        w = dist.weights(fin.dequantize(codes), table.range, codes, fin)
        weighed = w > 0  # an input of weight 0 counts for nothing, even with an infinite error
        w, werr, wscaled = w[weighed], err_lsb[weighed], scaled[weighed]
        weighted_mean = _stable(float(np.einsum("i,i->", w, werr)) * lsb)
        with np.errstate(invalid="ignore", over="ignore"):
            weighted_rms = _stable(
                scale * math.sqrt(float(np.einsum("i,i,i->", w, wscaled, wscaled))) * lsb)

    return ErrorReport(
        max_abs_error=max_lsb * lsb,
        mean_abs_error=_stable(mean_lsb * lsb),
        rms_error=_stable(rms_lsb * lsb),
        max_error_lsb=max_lsb,
        mean_error_lsb=mean_lsb,
        argmax_x=float(fin.dequantize(codes[worst : worst + 1])[0]),
        floor_max_error_lsb=ref.floor_lsb,
        faithful=max_lsb < 1.0,
        monotonic=_monotonic(ref.direction, y),  # analysis codes are ascending
        exhaustive=exhaustive,
        n_inputs=int(codes.size),
        n_undefined=n_undefined,
        saturated=int(saturated.sum()),
        range_max_error_lsb=range_max,
        tails_max_error_lsb=tails_max,
        n_tail_inputs=n_tail,
        fold_mismatches=_fold_mismatches(table, codes, y) if table.fold else None,
        entries=table.entries,
        rom_bits=table.rom_bits,
        c_bytes=table.c_bytes,
        in_format=str(fin),
        out_format=str(fout),
        interp=table.interp.value,
        dist=None if dist is None else str(dist),
        weighted_mean_abs_error=weighted_mean,
        weighted_rms_error=weighted_rms,
        **unclipped,
    )


def _stable(v) -> float:
    """A sum over millions of inputs, to 13 significant digits.

    Summation order (SIMD width, threads) moves the last bits between machines;
    rounded, the figures and the artifacts that print them are the same everywhere.
    """
    return float(f"{float(v):.13g}")


def _monotonic(direction: int, y) -> bool | None:
    """Does ``y`` keep the reference's monotonicity (None if the reference has none)?"""
    if direction == 0:
        return None
    if direction > 0:
        return bool(np.all(y[1:] >= y[:-1]))
    return bool(np.all(y[1:] <= y[:-1]))


@dataclass(frozen=True)
class _ReferenceLSB:
    """The reference in output LSBs, with what depends on it alone (not on the table)."""

    values: np.ndarray  # at the defined inputs
    defined: np.ndarray | None  # mask of finite inputs, None if all are
    n_undefined: int
    floor_lsb: float  # the error of the correctly rounded, saturated reference
    direction: int  # +1 non-decreasing, -1 non-increasing, 0 neither


def _reference_lsb(spec, fout, codes, clip=False) -> _ReferenceLSB:
    """``clip``: the reference clipped to the output range (saturation = "allowed")."""
    if codes is None:  # every code of the format: cached per spec and output format
        return _reference_lsb_cached(spec.act, spec, fout, clip)  # re-registered: another act
    return _make_reference_lsb(reference_on_codes(spec, codes), fout, clip)


@functools.lru_cache(maxsize=4)
def _reference_lsb_cached(act, spec, fout, clip) -> _ReferenceLSB:
    return _make_reference_lsb(reference_on_codes(spec), fout, clip)


def _make_reference_lsb(ref, fout, clip=False) -> _ReferenceLSB:
    if clip:
        ref = clipped(ref, fout)
    defined = np.isfinite(ref)
    n_undefined = int(ref.size - np.count_nonzero(defined))
    if n_undefined:
        ref = ref[defined]
    with np.errstate(over="ignore"):  # beyond float64 in output LSBs: inf, reported as such
        values = fout.real_to_codes(ref)
    best = np.floor(values + 0.5)
    np.clip(best, fout.min_code, fout.max_code, out=best)
    best -= values
    floor_lsb = float(np.abs(best).max()) if values.size else 0.0
    d = np.diff(ref)
    direction = 1 if (d >= 0).all() else -1 if (d <= 0).all() else 0
    values.setflags(write=False)
    return _ReferenceLSB(values, defined if n_undefined else None, n_undefined, floor_lsb,
                         direction)


def _fold_mismatches(table: Table, codes, y) -> int:
    """Inputs x < 0 whose output is not the exact mirror of y(-x) (the tie effect)."""
    z = table.in_format.zero_point
    neg = codes < z
    mirror = 2 * z - codes[neg]
    inside = mirror <= table.in_format.max_code
    mirror = mirror[inside]
    y_neg = y[neg][inside]
    y_pos = table.eval_int(mirror).astype(np.int64)
    g = table.guard_bits
    if table.fold is Fold.EVEN:
        expect = y_pos
    else:
        f_out = table.fold_f >> g
        expect = np.clip(f_out - y_pos, table.out_format.min_code, table.out_format.max_code)
    return int((y_neg != expect).sum())
