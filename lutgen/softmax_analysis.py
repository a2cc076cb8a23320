"""Vector-level error analysis of a compiled :class:`~lutgen.softmax.Softmax`.

Inputs cannot be enumerated (2^(B N) vectors), so the softmax is measured on
given logit vectors or on seeded random ones, against float64 softmax of the same
quantised logits: argmax flips and their floor (the flips of the correctly rounded
softmax in the same output format), strict reorderings, the probability error in
output LSBs and the range of the sum of the outputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .errors import SpecError
from .softmax import Softmax

__all__ = ["VectorStats", "SoftmaxReport", "analyze_softmax", "parse_normal", "check_vectors",
           "vector_stats", "measure", "strict_reorderings",
           "DEFAULT_DISTS"]

DEFAULT_DISTS = ("normal:0,0.1", "normal:0,1", "normal:0,3")
MAX_COUNT = 10_000_000


def parse_normal(text) -> tuple[float, float]:
    """``normal:MU,SIGMA`` as ``(mu, sigma)``; a :class:`SpecError` naming the text otherwise."""
    m = re.fullmatch(r"\s*normal\s*:\s*([^,]+),([^,]+)", str(text))
    try:
        mu, sigma = (float(m.group(1)), float(m.group(2))) if m else (np.nan, np.nan)
    except ValueError:
        mu, sigma = np.nan, np.nan
    if not (np.isfinite(mu) and np.isfinite(sigma) and sigma > 0):
        raise SpecError(f"cannot read logit distribution {text!r}; write normal:MU,SIGMA with "
                        "SIGMA > 0, e.g. normal:0,3")
    return mu, sigma


@dataclass(frozen=True)
class VectorStats:
    """The figures of one set of vectors (one distribution, or the given vectors)."""

    source: str
    count: int
    argmax_flips: int
    floor_flips: int
    strict_reorderings: int
    max_error_lsb: float
    mean_error_lsb: float
    sum_min: float
    sum_max: float
    sum_error_max_lsb: float  # max |sum of output codes - 2^Fo|

    def to_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


@dataclass(frozen=True)
class SoftmaxReport:
    softmax: Softmax = field(repr=False)
    cases: tuple[VectorStats, ...]
    seed: int | None

    @property
    def rom_bits(self) -> int:
        return self.softmax.rom_bits

    def to_dict(self) -> dict:
        sm = self.softmax
        return {
            "name": "softmax",
            "n": sm.n,
            "in_format": str(sm.in_format),
            "out_format": str(sm.out_format),
            "exp_format": str(sm.exp_table.out_format),
            "recip_format": str(sm.recip_table.out_format),
            "mantissa_bits": sm.mantissa_bits,
            "exp_rom_bits": sm.exp_table.rom_bits,
            "recip_rom_bits": sm.recip_table.rom_bits,
            "rom_bits": self.rom_bits,
            "seed": self.seed,
            "cases": [c.to_dict() for c in self.cases],
        }

    def to_markdown(self) -> str:
        sm = self.softmax
        lines = [
            f"# softmax, N = {sm.n}: {sm.in_format} -> {sm.out_format}",
            "",
            f"- exp(-d) table: {sm.diff_format} -> {sm.exp_table.out_format}, "
            f"{sm.exp_table.entries} entries ({sm.exp_table.interp.value}), "
            f"{sm.exp_table.rom_bits} ROM bits",
            f"- 1/(1+f) table: {sm.recip_table.in_format} -> {sm.recip_table.out_format}, "
            f"{sm.recip_table.entries} entries ({sm.recip_table.interp.value}), "
            f"{sm.recip_table.rom_bits} ROM bits",
            f"- rom_bits: {self.rom_bits}",
            "",
            "| vectors | count | argmax flips | floor | strict reorderings | max error (LSB) "
            "| mean error (LSB) | sum range | max sum error (LSB) |",
            "|---|---:|---:|---:|---:|---:|---:|---|---:|",
        ]
        for c in self.cases:
            lines.append(f"| {c.source} | {c.count} | {c.argmax_flips} | {c.floor_flips} | "
                         f"{c.strict_reorderings} | {c.max_error_lsb:.3f} | "
                         f"{c.mean_error_lsb:.3f} | [{c.sum_min:.6g}, {c.sum_max:.6g}] | "
                         f"{c.sum_error_max_lsb:g} |")
        return "\n".join(lines) + "\n"


def analyze_softmax(sm: Softmax, vectors=None, *, dists=DEFAULT_DISTS, count=100_000,
                    seed=0) -> SoftmaxReport:
    """Measure ``sm`` on real logit vectors (shape (count, N)) or on seeded normal ones.

    Parameters
    ----------
    vectors : array_like, optional
        Real-valued logits, quantised with the input format. When given, ``dists`` is
        not used.
    dists : sequence of str
        ``normal:MU,SIGMA`` distributions, each drawing ``count`` vectors from
        ``numpy.random.default_rng(seed)``.
    """
    if vectors is not None:
        x = check_vectors(sm.n, vectors)
        return SoftmaxReport(sm, (measure(sm, x, "vectors"),), None)
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) \
            or not 1 <= count <= MAX_COUNT:
        raise SpecError(f"count must be an integer 1..{MAX_COUNT}, got {count!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SpecError(f"seed must be a non-negative integer, got {seed!r}")
    cases = []
    for text in dists:
        mu, sigma = parse_normal(text)
        x = np.random.default_rng(seed).normal(mu, sigma, (int(count), sm.n))
        cases.append(measure(sm, x, f"normal:{mu:g},{sigma:g}"))
    return SoftmaxReport(sm, tuple(cases), int(seed))


def check_vectors(n: int, vectors) -> np.ndarray:
    """Real logits as a float64 array of shape (count, ``n``), or a :class:`SpecError`."""
    try:
        x = np.asarray(vectors, dtype=np.float64)
    except (TypeError, ValueError):
        raise SpecError("logit vectors must be a real array of shape (count, N)") from None
    if x.ndim != 2 or x.shape[1] != n or x.shape[0] == 0:
        raise SpecError(f"logit vectors must have shape (count, {n}) with count >= 1, "
                        f"got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise SpecError("logit vectors must be finite (no nan or inf)")
    return x


def measure(sm: Softmax, x_real: np.ndarray, source: str) -> VectorStats:
    """The figures of :class:`VectorStats` for real logits ``x_real`` (shape (count, N))."""
    codes = sm.quantize(x_real).astype(np.int64)
    return vector_stats(codes, sm.eval_int(codes), sm.in_format, sm.out_format, source)


def vector_stats(codes, y, in_format, out_format, source: str) -> VectorStats:
    """The figures of any softmax's output codes ``y`` for input codes ``codes`` (both
    (count, N)), in the given formats: lutgen's, or another implementation's."""
    codes, y = np.asarray(codes, dtype=np.int64), np.asarray(y, dtype=np.int64)
    fo = out_format
    xq = in_format.dequantize(codes)
    z = np.exp(xq - xq.max(axis=1, keepdims=True))
    p_lsb = z / z.sum(axis=1, keepdims=True) * 2.0**fo.frac  # exact softmax, in output LSBs
    rounded = np.clip(np.floor(p_lsb + 0.5), fo.min_code, fo.max_code)  # correctly rounded
    truth = np.argmax(xq, axis=1)
    err = np.abs(y - p_lsb)
    sums = y.sum(axis=1)
    return VectorStats(
        source=source,
        count=int(codes.shape[0]),
        argmax_flips=int(np.count_nonzero(np.argmax(y, axis=1) != truth)),
        floor_flips=int(np.count_nonzero(np.argmax(rounded, axis=1) != truth)),
        strict_reorderings=strict_reorderings(codes, y),
        max_error_lsb=float(err.max()),
        mean_error_lsb=float(err.mean()),
        sum_min=float(fo.dequantize(sums.min())),
        sum_max=float(fo.dequantize(sums.max())),
        sum_error_max_lsb=float(np.abs(sums - 2.0**fo.frac).max()),
    )


def strict_reorderings(x_codes: np.ndarray, y_codes: np.ndarray) -> int:
    """Vectors holding a pair with ``x_i > x_j`` but ``y_i < y_j``.

    Sorted by ``x`` then ``y``, a vector has such a pair exactly when the first
    element of some run of equal ``x`` has a smaller ``y`` than an element before
    the run.
    """
    order = np.lexsort((y_codes, x_codes), axis=-1)
    xs = np.take_along_axis(x_codes, order, axis=1)
    ys = np.take_along_axis(y_codes, order, axis=1)
    before = np.maximum.accumulate(ys, axis=1)[:, :-1]
    starts = xs[:, 1:] > xs[:, :-1]
    return int(np.count_nonzero(np.any(starts & (ys[:, 1:] < before), axis=1)))
