"""Affine (scale, zero point) formats: what :class:`~lutgen.fixedpoint.FixedFormat` needs of them.

TFLite and ONNX quantise a tensor as ``real = scale * (code - zero_point)`` in an
integer storage type. This module holds their storage types, the checks and the
parsing of ``int8(0.0235,-3)``, the float64 division of quantisation, and the
snapping of real range bounds to codes (the division by a non-power-of-two scale
is inexact).
"""

from __future__ import annotations

import math
import re

import numpy as np

from .errors import FormatError

__all__ = ["AFFINE_STORAGE", "AFFINE_NAMES", "check_affine", "parse_affine", "scale_affine",
           "floor_code", "ceil_code"]

# the integer storage types of affine formats, as TFLite and ONNX name them
AFFINE_STORAGE = {"int8": (True, 8), "uint8": (False, 8), "int16": (True, 16),
                  "uint16": (False, 16), "int32": (True, 32)}
AFFINE_NAMES = {v: k for k, v in AFFINE_STORAGE.items()}

# a real range bound within this many codes (relative) of a code is that code
CODE_SNAP = 1e-9


def check_affine(fmt) -> None:
    """Validate and normalise a FixedFormat's ``scale`` and ``zero_point`` (in place)."""
    zp = fmt.zero_point
    if isinstance(zp, bool) or not isinstance(zp, (int, np.integer)):
        raise FormatError(f"zero point must be an integer, got {zp!r}")
    object.__setattr__(fmt, "zero_point", int(zp))
    if fmt.scale is None:
        if fmt.zero_point != 0:
            raise FormatError("a zero point needs a scale: write e.g. int8(0.0235,-3)")
        return
    scale = fmt.scale
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)):
        raise FormatError(f"scale must be a number, got {scale!r}")
    scale = float(scale)
    if not (math.isfinite(scale) and scale > 0):
        raise FormatError(f"scale must be a positive finite number, got {scale!r}")
    object.__setattr__(fmt, "scale", scale)
    if (fmt.signed, fmt.bits) not in AFFINE_NAMES:
        raise FormatError(
            f"an affine format's storage is one of {', '.join(AFFINE_STORAGE)}; "
            f"got {'signed' if fmt.signed else 'unsigned'} {fmt.bits} bits"
        )
    if fmt.frac != 0:
        raise FormatError(f"an affine format has frac 0 (its scale says the rest), got {fmt.frac}")
    if not fmt.min_code <= fmt.zero_point <= fmt.max_code:
        raise FormatError(
            f"zero point {fmt.zero_point} is outside {AFFINE_NAMES[(fmt.signed, fmt.bits)]}"
            f" ({fmt.min_code}..{fmt.max_code})"
        )


def parse_affine(m, raw) -> tuple[str, float, int]:
    """(storage, scale, zero point) of a matched ``STORAGE(SCALE,ZERO_POINT)``."""
    storage = (m.group(1) + m.group(2)).lower()
    if storage not in AFFINE_STORAGE:
        raise FormatError(f"unknown storage type {storage!r} in {raw!r}; allowed: "
                          + ", ".join(AFFINE_STORAGE))
    try:
        scale = float(m.group(3))
    except ValueError:
        raise FormatError(f"scale {m.group(3)!r} in {raw!r} is not a number; "
                          "write e.g. int8(0.0235,-3)") from None
    if not re.fullmatch(r"[+-]?\d+", m.group(4)):
        raise FormatError(f"zero point {m.group(4)!r} in {raw!r} is not an integer; "
                          "write e.g. int8(0.0235,-3)")
    return storage, scale, int(m.group(4))


def scale_affine(x: np.ndarray, scale: float, wraps: bool) -> np.ndarray:
    """``x / scale`` in float64 (ONNX QuantizeLinear's division), keeping the sign of a tiny
    nonzero quotient for floor and ceil; under wrap a finite value too large for float64 has
    no meaningful low bits and becomes 0."""
    with np.errstate(over="ignore", under="ignore"):
        y = x / scale
    y = np.where((y == 0) & (x != 0), np.copysign(np.nextafter(0.0, 1.0), x), y)
    if wraps:
        y = np.where(np.isinf(y) & np.isfinite(x), 0.0, y)
    return y


def floor_code(v) -> int:
    """floor of a real-valued code, a code within :data:`CODE_SNAP` of ``v`` being ``v``."""
    v = float(v)
    r = round(v)
    return int(r) if abs(v - r) <= CODE_SNAP * max(1.0, abs(v)) else math.floor(v)


def ceil_code(v) -> int:
    """ceil of a real-valued code, a code within :data:`CODE_SNAP` of ``v`` being ``v``."""
    v = float(v)
    r = round(v)
    return int(r) if abs(v - r) <= CODE_SNAP * max(1.0, abs(v)) else math.ceil(v)
