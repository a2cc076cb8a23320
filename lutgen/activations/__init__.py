"""The activation catalog (see ``shared/ACTIVATIONS.md``) and its registry.

Importing this package registers every catalog entry.
"""

from ._registry import (
    CATEGORIES,
    Activation,
    Asymptote,
    Param,
    Traits,
    activations,
    derivative,
    get,
    reference,
    register,
    unregister,
)
from . import classic, relu, smooth, gated, piecewise, expression, lut, user  # noqa: F401  (they register)
from .user import activation, from_expression, load_points

__all__ = [
    "CATEGORIES",
    "Activation",
    "Asymptote",
    "Param",
    "Traits",
    "activations",
    "derivative",
    "get",
    "reference",
    "register",
    "unregister",
    "activation",
    "from_expression",
    "load_points",
]
