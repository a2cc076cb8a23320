"""lutgen: compile activation functions into bit-exact fixed-point lookup tables."""

from importlib.metadata import PackageNotFoundError, version as _version

from .errors import (
    DomainError,
    ExportError,
    ExpressionError,
    FormatError,
    LutgenError,
    ParameterError,
    QuantizationError,
    RangeError,
    SpecError,
    UnknownActivationError,
)
from .fixedpoint import FixedFormat, Overflow, Rounding
from .activations import Activation, Asymptote, Param, Traits, activations, derivative, reference

try:
    __version__ = _version("lutgen")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = [
    # fixed point
    "FixedFormat",
    "Rounding",
    "Overflow",
    # activations
    "Activation",
    "Asymptote",
    "Param",
    "Traits",
    "activations",
    "reference",
    "derivative",
    # errors
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
]
