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
)
from . import classic, relu, smooth, gated, piecewise, user  # noqa: F401  (they register)

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
]
