"""Input distributions read from files: raw samples (``.npy``) and histograms (``.npz``).

``samples:FILE.npy`` holds real input values, one-dimensional; ``hist:FILE.npz`` holds
the arrays ``edges`` (n + 1, strictly increasing) and ``counts`` (n, non-negative),
the counts spread evenly over their bins. Either gives each input code the
probability mass of the real inputs that the input format's quantisation maps to
it; mass beyond the format saturates to its end codes (whatever the format's own
overflow mode, as a calibrated model clips its inputs).
"""

from __future__ import annotations

import hashlib
import io
import warnings
import zipfile
from pathlib import Path

import numpy as np

from .errors import SpecError
from .fixedpoint import Overflow

__all__ = ["FILE_KINDS", "resolve", "load", "code_mass"]

FILE_KINDS = {"samples": ".npy", "hist": ".npz"}
_WRITE = {"samples": "a one-dimensional array of real inputs saved with numpy.save",
          "hist": "arrays edges (n + 1) and counts (n) saved with numpy.savez"}


def resolve(path_text: str, base) -> Path:
    """The file a distribution names: relative paths from ``base`` (a project's folder)."""
    path = Path(path_text).expanduser()
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    return path


def _bad(kind: str, path, why: str):
    raise SpecError(f"distribution file '{path}': {why}; {kind}: needs {_WRITE[kind]}")


def load(kind: str, path: Path):
    """The validated data of a distribution file and the SHA-256 of its bytes."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"distribution file '{path}' does not exist") from None
    except IsADirectoryError:
        raise SpecError(f"distribution file '{path}' is a folder, not a file") from None
    except OSError as exc:
        raise SpecError(f"cannot read distribution file '{path}': {exc.strerror}") from None
    sha256 = hashlib.sha256(raw).hexdigest()
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            loaded = np.load(io.BytesIO(raw), allow_pickle=False)
            if kind == "samples":
                if not isinstance(loaded, np.ndarray):
                    _bad(kind, path, "it is an .npz archive, not an .npy array")
                data = _samples(loaded, path)
            else:
                if not isinstance(loaded, np.lib.npyio.NpzFile):
                    _bad(kind, path, "it is not an .npz archive")
                data = _hist(loaded, path)
    except SpecError:
        raise
    except (ValueError, EOFError, OSError, OverflowError, MemoryError, KeyError,
            zipfile.BadZipFile) as exc:
        why = str(exc).split("\n")[0] or type(exc).__name__
        if "Python objects" in why or "allow_pickle" in why:
            why = "it holds Python objects, not numbers"
        _bad(kind, path, f"not a readable {FILE_KINDS[kind]} file ({why})")
    return data, sha256


def _numbers(a, path, kind, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind not in "iuf":
        _bad(kind, path, f"{what} holds {a.dtype} values, not real numbers")
    if a.ndim != 1:
        _bad(kind, path, f"{what} has shape {a.shape}; it must be one-dimensional")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        i = int(np.argmax(~np.isfinite(a)))
        _bad(kind, path, f"{what}[{i}] is {a[i]}; every value must be finite")
    return a


def _samples(a, path) -> np.ndarray:
    samples = _numbers(a, path, "samples", "samples")
    if samples.size == 0:
        _bad("samples", path, "it holds no samples")
    return samples


def _hist(archive, path) -> tuple[np.ndarray, np.ndarray]:
    missing = [k for k in ("edges", "counts") if k not in archive.files]
    if missing:
        _bad("hist", path, f"it has no array {missing[0]!r} (it has: "
             f"{', '.join(archive.files) or 'none'})")
    edges = _numbers(archive["edges"], path, "hist", "edges")
    counts = _numbers(archive["counts"], path, "hist", "counts")
    if edges.size != counts.size + 1 or counts.size == 0:
        _bad("hist", path, f"edges has {edges.size} values and counts {counts.size}; "
             "edges needs one more than counts (at least 2)")
    if (np.diff(edges) <= 0).any():
        i = int(np.argmax(np.diff(edges) <= 0))
        _bad("hist", path, f"edges must be strictly increasing, but edges[{i}] = {edges[i]:g} "
             f"and edges[{i + 1}] = {edges[i + 1]:g}")
    if (counts < 0).any():
        i = int(np.argmax(counts < 0))
        _bad("hist", path, f"counts[{i}] is {counts[i]:g}; counts must not be negative")
    if not counts.sum() > 0:
        _bad("hist", path, "every count is 0")
    return edges, counts


def code_mass(kind: str, data, fmt) -> tuple[np.ndarray, np.ndarray]:
    """(input codes ascending, the mass quantising to each) of a distribution file."""
    if kind == "samples":
        codes = fmt.quantize(data, overflow=Overflow.SATURATE)
        return np.unique(np.atleast_1d(codes), return_counts=True)
    edges, counts = data
    # the codes around the histogram's support; quantisation maps each interval between a
    # code's value and the midpoints to its neighbours to one code (ties carry no mass)
    lo = max(int(fmt.quantize(edges[0], overflow=Overflow.SATURATE)) - 1, fmt.min_code)
    hi = min(int(fmt.quantize(edges[-1], overflow=Overflow.SATURATE)) + 1, fmt.max_code)
    values = fmt.dequantize(np.arange(lo, hi + 1, dtype=np.int64))
    points = np.empty(2 * values.size - 1)
    points[0::2] = values
    points[1::2] = (values[:-1] + values[1:]) / 2
    cdf = np.concatenate(([0.0], np.cumsum(counts)))
    at = np.interp(points, edges, cdf)  # 0 below the first edge, the total above the last
    mass = np.concatenate(([at[0]], np.diff(at), [cdf[-1] - at[-1]]))
    step = (values[1] - values[0]) / 4 if values.size > 1 else 2.0**-fmt.frac / 4
    probes = np.concatenate(([points[0] - step], (points[:-1] + points[1:]) / 2,
                             [points[-1] + step]))
    codes = fmt.quantize(probes, overflow=Overflow.SATURATE)
    uniq, where = np.unique(codes, return_inverse=True)
    return uniq, np.bincount(where, weights=mass, minlength=uniq.size)
