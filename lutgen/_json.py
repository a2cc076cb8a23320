"""JSON that every parser reads: non-finite floats become the strings "inf", "-inf", "nan".

(``json.dumps`` would write the bare tokens ``Infinity`` and ``NaN``, which are not JSON.)
"""

from __future__ import annotations

import json
import math

__all__ = ["dumps"]


def _safe(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, dict):
        return {k: _safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_safe(v) for v in obj]
    return obj


def dumps(obj, **kwargs) -> str:
    return json.dumps(_safe(obj), allow_nan=False, **kwargs)
