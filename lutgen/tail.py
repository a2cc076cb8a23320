"""What one side's inputs beyond a table get: :class:`Tail` (``clamp`` or an ``asymptote``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Tail"]


@dataclass(frozen=True)
class Tail:
    """What one side's inputs beyond the table get: ``clamp`` or an ``asymptote`` line.

    An asymptote ``y = slope*x + intercept`` is computed as ``acc = u*m + c`` and
    rounded by ``k`` bits (``docs/ARITHMETIC.md``, the line path).
    """

    mode: str  # "clamp" or "asymptote"
    slope: float | None = None
    intercept: float | None = None
    m: int = 0
    c: int = 0
    k: int = 0

    @property
    def is_line(self) -> bool:
        return self.mode == "asymptote"

    def to_dict(self) -> dict:
        if not self.is_line:
            return {"mode": self.mode}
        return {"mode": self.mode, "slope": self.slope, "intercept": self.intercept,
                "m": self.m, "c": self.c, "k": self.k}
