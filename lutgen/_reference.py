"""The float64 reference of a spec, at input codes; cached per function and input format.

Fitting, the budget search and the analysis all measure against it, so formats
of up to :data:`EXHAUSTIVE_LIMIT_BITS` bits are evaluated once over every code.
"""

from __future__ import annotations

import functools

import numpy as np

from .errors import SpecError
from .spec import TableSpec

__all__ = ["EXHAUSTIVE_LIMIT_BITS", "function", "reference_on_codes", "clear_cache", "clipped"]

EXHAUSTIVE_LIMIT_BITS = 24


def function(spec: TableSpec):
    """``x -> f(x)`` of the tabulated function, float64, warnings silenced."""
    return _evaluator(spec.act, spec.params, spec.derivative, spec.output)


def _evaluator(act, params, derivative, output):
    fn = act.derivative if derivative else act.reference
    kwargs, multi = dict(params), act.n_outputs > 1

    def f(x):
        with np.errstate(all="ignore"):
            y = np.asarray(fn(np.asarray(x, dtype=np.float64), **kwargs), dtype=np.float64)
        return y[output] if multi else y

    return f


@functools.lru_cache(maxsize=6)
def _on_every_code(act, params, derivative, output, fmt):
    y = _evaluator(act, params, derivative, output)(fmt.dequantize(fmt.codes()))
    y.setflags(write=False)
    return y


def reference_on_codes(spec: TableSpec, codes: np.ndarray | None = None) -> np.ndarray:
    """The float64 reference at input codes (all codes of the format if None).

    For formats of up to 2**24 codes the whole format is evaluated once and
    cached per (activation, params, derivative, output, format).
    """
    fmt = spec.in_format
    if fmt.bits <= EXHAUSTIVE_LIMIT_BITS:
        full = _on_every_code(spec.act, spec.params, spec.derivative, spec.output, fmt)
        if codes is None:
            return full
        return full[np.asarray(codes, dtype=np.int64) - fmt.min_code]
    if codes is None:
        raise SpecError(f"{fmt} has too many codes to evaluate them all")
    return function(spec)(fmt.dequantize(np.asarray(codes, dtype=np.int64)))


def clear_cache() -> None:
    """Forget every cached reference (benchmarks time the cold path with it)."""
    _on_every_code.cache_clear()


def clipped(y: np.ndarray, fout) -> np.ndarray:
    """The reference clipped to what ``fout`` can show (``saturation = "allowed"``).

    Non-finite values stay as they are: an input where the function is undefined (a
    pole) stays undefined, as the analysis counts it.
    """
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(y), np.clip(y, fout.min, fout.max), y)
