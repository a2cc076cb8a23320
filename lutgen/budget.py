"""What the budget search works with: an error :class:`Budget`, each evaluated
:class:`Design`, and the :class:`FitResult` that :func:`lutgen.fit` returns.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .analysis import ErrorReport
from .errors import SpecError
from .fixedpoint import FixedFormat
from .table import Table

__all__ = ["Budget", "Design", "FitResult"]


@dataclass(frozen=True)
class Budget:
    """An error bound: absolute (``1e-3``) or in output LSBs (``1lsb``)."""

    value: float
    lsb: bool

    @classmethod
    def parse(cls, text) -> "Budget":
        if isinstance(text, Budget):
            return text
        raw = str(text).strip().lower()
        m = re.fullmatch(r"([0-9.eE+-]+)\s*(lsb)?", raw)
        try:
            value = float(m.group(1)) if m else math.nan
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise SpecError(
                f"cannot read error budget {text!r}; write a positive number (1e-3) or LSBs "
                "of the output format (1lsb, 0.5lsb)"
            )
        return cls(value, bool(m.group(2)))

    def in_lsb(self, fout: FixedFormat) -> float:
        return self.value if self.lsb else self.value / fout.lsb

    def __str__(self) -> str:
        return f"{self.value:g}lsb" if self.lsb else f"{self.value:g}"


@dataclass(frozen=True)
class Design:
    """One evaluated table: its options (as ``lutgen build`` names them) and figures.

    ``meets``: its exhaustive errors meet the error budget (the ROM cap is no
    error figure: a design above it is never a candidate).
    """

    table: Table = field(repr=False)
    report: ErrorReport = field(repr=False)
    meets: bool

    def to_dict(self) -> dict:
        t, r = self.table, self.report
        lo, hi = t.spec.range if t.spec.range is not None else t.range
        return {
            "entries": t.entries,
            "regions": None if t.regions is None else t.regions.to_dict(),
            "interp": t.interp.value,
            "range": [lo, hi],
            "effective_range": list(t.range),
            "tails": t.spec.tails.value,
            "fold": t.spec.fold,
            "coeffs": t.spec.coeffs.value,
            "guard_bits": t.guard_bits,
            "in_format": str(t.in_format),
            "out_format": str(t.out_format),
            "meets": self.meets,
            **{k: v for k, v in r.to_dict().items()
               if k not in ("entries", "in_format", "out_format", "interp")},
            "weighted_mean_error_lsb": (None if r.weighted_mean_abs_error is None
                                        else r.weighted_mean_abs_error / t.out_format.lsb),
            "options": t.spec.to_dict(),  # what `lutgen build` takes to make it again
        }


@dataclass(frozen=True)
class FitResult:
    best: Design | None  # the cheapest design meeting the budget, or the closest one
    met: bool
    candidates: tuple[Design, ...]
    floor_max_error_lsb: float
    budget_lsb: float
    evaluated: tuple[Design, ...] = ()  # every design within the cap (for the Pareto plot)
    budget: dict = field(default_factory=dict)  # what the user asked for, as given

    def to_dict(self) -> dict:
        return {
            "met": self.met,
            "budget": dict(self.budget),
            "budget_lsb": self.budget_lsb,
            "floor_max_error_lsb": self.floor_max_error_lsb,
            "best": None if self.best is None else self.best.to_dict(),
            "candidates": [d.to_dict() for d in self.candidates],
        }
