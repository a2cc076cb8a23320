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
    ProjectError,
    ToolError,
    UnknownActivationError,
)
from .fixedpoint import FixedFormat, Overflow, Rounding
from .activations import (
    Activation,
    Asymptote,
    Param,
    Traits,
    activation,
    activations,
    derivative,
    from_expression,
    load_points,
    reference,
)

# The compiler and analysis import numba: loaded on first use, so `lutgen list` starts fast.
_LAZY = {
    "TableSpec": "spec",
    "OPTIONS": "spec",
    "Interp": "spec",
    "Tails": "spec",
    "Coeffs": "spec",
    "Fit": "spec",
    "Fold": "spec",
    "compile_table": "table",
    "build": "table",
    "Table": "table",
    "Tail": "table",
    "Regions": "regions",
    "analyze": "analysis",
    "ErrorReport": "analysis",
    "Distribution": "analysis",
    "fit": "search",
    "Budget": "search",
    "FitResult": "search",
    "Resources": "resources",
    "export": "export",
    "render": "export",
    "load_project": "batch",
    "compile_project": "batch",
    "write_project": "batch",
    "verify": "verify",
    "softmax": "softmax",
    "Softmax": "softmax",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lutgen' has no attribute {name!r}")


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
    "activation",
    "from_expression",
    "load_points",
    "reference",
    "derivative",
    # the spec and its options
    "TableSpec",
    "OPTIONS",
    "Interp",
    "Tails",
    "Coeffs",
    "Fit",
    "Fold",
    # tables and their analysis
    "compile_table",
    "build",
    "Table",
    "Tail",
    "Regions",
    "analyze",
    "ErrorReport",
    "Distribution",
    # the budget search
    "fit",
    "Budget",
    "FitResult",
    "Resources",
    # composites
    "softmax",
    "Softmax",
    # artifacts and projects
    "export",
    "render",
    "load_project",
    "compile_project",
    "write_project",
    "verify",
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
    "ProjectError",
    "ToolError",
]
