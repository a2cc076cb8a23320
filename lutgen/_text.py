"""Printed text shared by the summaries and the artifacts.

Error bounds round up: a figure on a screen or in a file is never below the error.

``up(0.93531, 4) == "0.9354"``; ``up_sig(5.4506e-05, 4) == "5.451e-05"``. Non-finite
values print as ``inf`` / ``nan``.
"""

from __future__ import annotations

import math

__all__ = ["up", "up_sig", "OUTPUT_ARITHMETIC"]

# How every table produces its output code (docs/ARITHMETIC.md, step 6), whatever modes the
# requested output format carries: printed beside the output format wherever it is shown.
OUTPUT_ARITHMETIC = "rounded half up, saturated"


def up(value: float, decimals: int = 4) -> str:
    """``value`` rounded up (toward +inf) to ``decimals`` decimals."""
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    scale = 10**decimals
    return f"{math.ceil(round(v * scale, 6)) / scale:.{decimals}f}"


def up_sig(value: float, digits: int = 4) -> str:
    """``value`` rounded up (away from zero for positive values) to ``digits`` significant digits."""
    v = float(value)
    if not math.isfinite(v) or v == 0:
        return f"{v:g}"
    exponent = math.floor(math.log10(abs(v)))
    scale = 10.0 ** (digits - 1 - exponent)
    return f"{math.ceil(round(v * scale, 6)) / scale:.{digits}g}"
