"""User-defined activations: the decorator (and, for compatibility, the expression and
lut entry points, which live in :mod:`.expression` and :mod:`.lut`).

* :func:`activation` registers a user's vectorised Python function.
* :func:`from_expression` turns a command-line expression such as
  ``'x*tanh(exp(x))'`` into an :class:`Activation` without ``eval``.
* ``lut`` is a user's own table of points, linearly interpolated;
  :func:`load_points` reads those points from a CSV or NPY file.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from ..errors import ParameterError
from ._registry import Activation, Param, Traits, check_name, check_range, register
from .expression import from_expression, register_expression
from .lut import LUT, load_points

__all__ = ["activation", "from_expression", "register_expression", "load_points", "LUT"]


# ---- the decorator -------------------------------------------------------------------------
def _infer_params(fn: Callable, owner: str) -> tuple[Param, ...]:
    """Params from the keyword defaults of ``fn(x, **params)``: ints -> int, numbers -> float."""
    if isinstance(fn, np.ufunc):  # np.sin: its out=, where= ... are not parameters
        if fn.nin != 1 or fn.nout != 1:
            raise ParameterError(f"ufunc {fn.__name__} of '{owner}' must take and return one array")
        return ()
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        raise ParameterError(f"cannot read the signature of {fn!r} for '{owner}'") from None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    args = [p for p in sig.parameters.values()
            if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    if not args or args[0].kind not in positional:
        raise ParameterError(
            f"the function of '{owner}' must take the input x as its first argument"
        )
    params = []
    for p in args[1:]:
        default = p.default
        if default is inspect.Parameter.empty:
            raise ParameterError(
                f"parameter {p.name!r} of '{owner}' has no default; give it a numeric default "
                "so lutgen can infer its type"
            )
        numeric = isinstance(default, (int, float, np.number))
        if isinstance(default, (bool, np.bool_)) or not numeric:
            raise ParameterError(
                f"parameter {p.name}={default!r} of '{owner}' must default to an int or a float"
            )
        if isinstance(default, (int, np.integer)):
            params.append(Param(p.name, int(default), kind="int"))
        else:
            params.append(Param(p.name, float(default)))
    return tuple(params)


def _probe(fn: Callable, what: str, owner: str, lo: float, hi: float, defaults: dict) -> None:
    """Call ``fn`` once on a small float64 array so a non-vectorised function fails early."""
    x = np.linspace(lo, hi, 5)
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(fn(x, **defaults), dtype=np.float64)
        np.broadcast_to(out, x.shape)
    except Exception as exc:  # any failure means the function cannot serve as a reference
        raise ParameterError(
            f"the {what} of '{owner}' failed on a float64 array ({type(exc).__name__}: {exc}); "
            "it must be vectorised: use NumPy (np.exp, np.where), not math or if/else"
        ) from None


def activation(name=None, *, range=(-8.0, 8.0), derivative=None, traits=None, aliases=(),
               description="user function", formula=None, replace=False):
    """Register a vectorised function ``f(x, **params)`` as a "user" activation.

    Usable bare (``@activation``) or with arguments
    (``@activation(name="mine", range=(-4, 4))``); returns the function unchanged.

    Parameters
    ----------
    name : str, optional
        A valid identifier (stored in lower case); defaults to the function's name.
    range : (float, float)
        The default input range.
    derivative : callable, optional
        ``f'(x, **params)``; without it the activation has no derivative table.
    traits : Traits or callable, optional
        What the function does (see :class:`Traits`); nothing is assumed by default.
    aliases : sequence of str
        Other names to look it up by.
    description, formula : str
        Shown by ``lutgen show``; ``formula`` defaults to the function's qualified name.
    replace : bool
        Replace an activation already registered under ``name``; otherwise that is a
        :class:`ParameterError`.

    Examples
    --------
    >>> @activation(range=(-4, 4))
    ... def scaled_tanh(x, a=1.7159, b=0.6667):
    ...     return a * np.tanh(b * x)
    """
    if callable(name):  # bare @activation
        return activation()(name)

    def decorate(fn: Callable) -> Callable:
        if not callable(fn):
            raise ParameterError(f"@activation decorates a function, got {fn!r}")
        act_name = check_name(name if name is not None else getattr(fn, "__name__", None))
        alias_names = tuple(
            check_name(a, "alias") for a in ((aliases,) if isinstance(aliases, str) else aliases)
        )
        lo, hi = check_range(range, act_name)
        params = _infer_params(fn, act_name)
        if derivative is not None and not callable(derivative):
            raise ParameterError(
                f"derivative of '{act_name}' must be a function, got {derivative!r}"
            )
        if traits is not None and not (isinstance(traits, Traits) or callable(traits)):
            raise ParameterError(
                f"traits of '{act_name}' must be a Traits or a function of the params"
            )
        defaults = {p.name: p.default for p in params}
        _probe(fn, "function", act_name, lo, hi, defaults)
        if derivative is not None:
            _probe(derivative, "derivative", act_name, lo, hi, defaults)
        where = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', act_name)}"
        register(Activation(
            name=act_name, aliases=alias_names, category="user",
            formula=formula or f"{where}(x)",
            reference=fn, derivative=derivative,
            params=params, default_range=(lo, hi),
            traits=traits if traits is not None else Traits(),
            description=description, source=f"user function {where}",
        ), replace=replace)
        return fn

    return decorate


