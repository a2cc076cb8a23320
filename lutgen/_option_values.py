"""The values of table options: each kind's parser, with one typed error per bad value.

:mod:`lutgen.spec` declares the options; these turn what a user wrote (command
line, project file, saved JSON, keyword argument) into the spec's value or raise
:class:`~lutgen.errors.SpecError` / :class:`~lutgen.errors.RangeError` naming it.
"""

from __future__ import annotations

import math

from .errors import RangeError, SpecError
from .fixedpoint import FixedFormat

__all__ = ["MAX_ENTRIES", "MAX_GUARD_BITS", "MAX_PIPELINE", "check_int", "parse_bool",
           "parse_entries", "parse_guard", "parse_pipeline", "parse_output", "parse_range",
           "parse_format", "parse_text", "parse_params"]

MAX_ENTRIES = 1 << 20
MAX_GUARD_BITS = 24
MAX_PIPELINE = 16


def check_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            import numpy as np

            if isinstance(value, np.integer):
                return int(value)
        except ImportError:  # pragma: no cover
            pass
        raise SpecError(f"{name} must be an integer, got {value!r}")
    return int(value)


def parse_bool(value, name):
    if isinstance(value, bool):
        return value
    raise SpecError(f"{name} must be true or false, got {value!r}")


def parse_entries(value, name):
    if value is None:
        return None
    n = check_int(value, name)
    if n < 1 or n > MAX_ENTRIES or n & (n - 1):
        raise SpecError(f"entries must be a power of two from 1 to {MAX_ENTRIES} (2^20), got {n}")
    return n


def parse_guard(value, name):
    if value is None:
        return None
    g = check_int(value, name)
    if not 0 <= g <= MAX_GUARD_BITS:
        raise SpecError(f"guard bits must be an integer 0..{MAX_GUARD_BITS}, got {value!r}")
    return g


def parse_pipeline(value, name):
    """Verilog pipeline stages: an integer 2..16 or "max" (the module's deepest)."""
    if isinstance(value, str) and value.strip().lower() == "max":
        return "max"
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= MAX_PIPELINE:
        raise SpecError(f"pipeline must be an integer 2..{MAX_PIPELINE} or 'max', got {value!r}")
    return int(value)


def parse_output(value, name):
    return None if value is None else check_int(value, name)


def parse_range(value, name):
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2 or any(
            isinstance(v, bool) for v in value):
        raise RangeError(f"a range is two numbers LO HI, got {value!r}")
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise RangeError(f"a range is two numbers LO HI, got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RangeError(f"range [{lo}, {hi}) must be finite")
    if not lo < hi:
        raise RangeError(f"range [{lo:g}, {hi:g}) is empty: LO must be below HI")
    return lo, hi


def parse_format(value, name):
    if value is None:
        return None
    return FixedFormat.parse(value)


def parse_text(value, name):
    if value is None:
        return None
    if not isinstance(value, str):
        raise SpecError(f"{name} must be text, got {value!r}")
    return value


def parse_params(value, name):
    if value is None:
        return {}
    if isinstance(value, tuple):  # the spec's own sorted pairs
        return dict(value)
    if not isinstance(value, dict):
        raise SpecError(f"params must be a table of NAME = VALUE, got {value!r}")
    return dict(value)
