"""The ``lut`` activation: a user's own points, linearly interpolated; :func:`load_points`."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..errors import ParameterError
from ._registry import Activation, Asymptote, Param, Traits, register
from .classic import sigmoid

__all__ = ["load_points", "LUT"]


# ---- the lut activation --------------------------------------------------------------------
def _check_points(xs, ys, where: str) -> None:
    if len(xs) != len(ys):
        raise ParameterError(f"{where}: xs has {len(xs)} points but ys has {len(ys)}")
    if len(xs) < 2:
        raise ParameterError(f"{where}: need at least 2 points, got {len(xs)}")
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ParameterError(f"{where}: every point must be finite")
    steps = np.diff(np.asarray(xs, dtype=np.float64))
    if np.any(steps <= 0):
        i = int(np.argmax(steps <= 0))
        raise ParameterError(
            f"{where}: xs must be strictly increasing, but xs[{i}] = {xs[i]!r} "
            f"and xs[{i + 1}] = {xs[i + 1]!r}; sort the points and drop duplicates"
        )


def _read_csv(path: Path) -> np.ndarray:
    rows, header_allowed = [], True
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ParameterError(
            f"points file '{path}' is not text: write x,y per line (CSV) or save an .npy array"
        ) from None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        cells = [c.strip() for c in line.replace(";", ",").split(",")]
        try:
            row = [float(c) for c in cells]
        except ValueError:
            if header_allowed:  # only the first line with content may be a header
                header_allowed = False
                continue
            raise ParameterError(
                f"points file '{path}' line {number}: {line!r} is not two numbers x,y"
            ) from None
        header_allowed = False
        if len(row) != 2:
            raise ParameterError(
                f"points file '{path}' line {number}: expected 2 columns x,y, got {len(row)}"
            )
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(-1, 2)


def _read_npy(path: Path) -> np.ndarray:
    """The array of an .npy file, mapped rather than read: a header claiming more data
    than the file holds is refused here instead of allocating it."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # numpy warns of overflow in a giant claimed size
            return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, EOFError, OverflowError, MemoryError) as exc:
        why = str(exc).split("\n")[0]
        if isinstance(exc, EOFError):
            why = "it is empty"
        elif isinstance(exc, (OverflowError, MemoryError)) or "mmap length" in why \
                or "too big" in why:
            why = "its header claims more data than the file holds"
        elif "Python objects" in why:
            why = "it holds Python objects, not numbers"
        raise ParameterError(
            f"points file '{path}' is not a readable .npy array ({why}); save an array of "
            "shape (n, 2) with numpy.save"
        ) from None
    except OSError as exc:
        raise ParameterError(f"cannot read points file '{path}': {exc.strerror}") from None


def load_points(path) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Read the points of a ``lut`` activation: ``(xs, ys)`` as tuples of floats.

    ``path`` is a ``.npy`` file holding an array of shape (n, 2), or a text file
    (``.csv``, ``.txt``) of two comma-separated columns x,y with an optional header
    line and ``#`` comments. xs must be strictly increasing and every value finite.
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"points file '{path}' does not exist")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        data = _read_npy(path)
        if data.dtype.kind not in "iuf":
            raise ParameterError(f"points file '{path}' holds {data.dtype} values; need numbers")
        if data.ndim != 2 or data.shape[1] != 2:
            raise ParameterError(
                f"points file '{path}' has shape {data.shape}; need (n, 2) for x,y"
            )
    elif suffix in (".csv", ".txt"):
        data = _read_csv(path)
    else:
        raise ParameterError(
            f"points file '{path}' has unsupported type {suffix!r}; "
            "use .csv (two columns x,y) or .npy (shape (n, 2))"
        )
    if suffix == ".npy":
        data = np.array(data, dtype=np.float64)  # off the mapped file, into memory
    xs = tuple(float(v) for v in data[:, 0])
    ys = tuple(float(v) for v in data[:, 1])
    _check_points(xs, ys, f"points file '{path}'")
    return xs, ys


def _lut(x, xs, ys):
    return np.interp(x, xs, ys)


def _dlut(x, xs, ys):
    """The slope of the segment holding x, right-hand at knots; 0 outside [xs[0], xs[-1])."""
    xs_a, ys_a = np.asarray(xs), np.asarray(ys)
    slopes = np.concatenate(([0.0], np.diff(ys_a) / np.diff(xs_a), [0.0]))
    seg = np.searchsorted(xs_a, x, side="right")  # 0 before xs[0], n at or after xs[-1]
    return np.where(np.isnan(x), np.nan, slopes[seg])


def _lut_check(xs, ys):
    _check_points(xs, ys, "activation 'lut'")


def _lut_traits(xs, ys) -> Traits:
    steps = np.diff(ys)
    monotonic = "increasing" if np.all(steps >= 0) else "decreasing" if np.all(steps <= 0) else None
    return Traits(monotonic=monotonic, neg=Asymptote.constant(ys[0]),
                  pos=Asymptote.constant(ys[-1]))


_LUT_XS = tuple((10 * i - 60) / 12 for i in range(13))  # -5 to 5 by 5/6, correctly rounded
_LUT_YS = tuple(round(float(v), 4) for v in sigmoid(np.array(_LUT_XS)))

LUT = register(Activation(
    name="lut", category="piecewise",
    formula="interp(x; xs, ys), held constant beyond the ends",
    reference=_lut, derivative=_dlut,
    params=(
        Param("xs", _LUT_XS, "knot inputs, strictly increasing", kind="points"),
        Param("ys", _LUT_YS, "knot outputs", kind="points"),
    ),
    default_range=(_LUT_XS[0], _LUT_XS[-1]),
    range_of=lambda xs, ys: (xs[0], xs[-1]),
    traits=_lut_traits, check=_lut_check,
    description="A user's own table of points, linearly interpolated (default: 13 sigmoid points)",
    source="user-supplied points (CSV/NPY file or a list); np.interp",
))
