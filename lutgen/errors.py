"""The one exception hierarchy of lutgen.

Every user mistake raises a subclass of :class:`LutgenError`; each subclass also
inherits the matching built-in so callers may catch ``ValueError`` or ``KeyError``.
The CLI turns any ``LutgenError`` into a single ``Error: ...`` line and exit code 2.
"""

from __future__ import annotations

import difflib

__all__ = [
    "LutgenError",
    "FormatError",
    "QuantizationError",
    "UnknownActivationError",
    "ParameterError",
    "RangeError",
    "DomainError",
    "ExpressionError",
    "SpecError",
    "ExportError",
    "ProjectError",
    "ModelError",
    "ToolError",
    "did_you_mean",
]


class LutgenError(Exception):
    """Base class of every error lutgen raises for a user mistake."""


class FormatError(LutgenError, ValueError):
    """A fixed-point format that cannot be parsed or does not exist."""


class QuantizationError(LutgenError, ValueError):
    """A value that cannot be quantised (NaN, or overflow with ``Overflow.ERROR``)."""


class UnknownActivationError(LutgenError, KeyError):
    """An activation name that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ParameterError(LutgenError, ValueError):
    """An unknown parameter name, or a parameter value that is not allowed."""


class RangeError(LutgenError, ValueError):
    """An input range that is empty, not finite, or outside the input format."""


class DomainError(LutgenError, ValueError):
    """A function that is not finite over the requested range (a pole, an overflow)."""


class ExpressionError(LutgenError, ValueError):
    """A user expression that is not allowed or does not parse."""


class SpecError(LutgenError, ValueError):
    """A table specification that cannot be compiled (entries, interp, guard bits...)."""


class ExportError(LutgenError, ValueError):
    """An artifact that cannot be written (bad kind, bad name, unwritable directory)."""


class ProjectError(LutgenError, ValueError):
    """A project file (``lutgen batch``) with a bad entry; the message names it."""


class ModelError(LutgenError, ValueError):
    """A model lutgen cannot load, read or run on the data given (``lutgen budget --torch``,
    ``lutgen from-onnx``); the message says why."""


class ToolError(LutgenError, RuntimeError):
    """An external tool lutgen was asked to run (Yosys, nextpnr) is missing or failed."""


def did_you_mean(name: str, choices) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choices, or ``""``."""
    scored = sorted(
        ((difflib.SequenceMatcher(None, name, c).ratio(), c) for c in choices), reverse=True
    )
    # the best match, and others only when they are nearly as close
    close = [c for r, c in scored[:3] if r >= 0.6 and r >= scored[0][0] - 0.1]
    if not close:
        return ""
    if len(close) == 1:
        return f"; did you mean '{close[0]}'?"
    return "; did you mean " + ", ".join(f"'{c}'" for c in close) + "?"
