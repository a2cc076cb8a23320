"""The activation registry: declarations, parameters, traits, look-up.

An :class:`Activation` is one declaration carrying everything lutgen needs to
know about a function: its float64 reference, analytic derivative, typed
parameters, default range, traits (monotonicity, symmetry, asymptotes, domain),
category and source. Catalog modules declare them with :func:`register`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ..errors import ParameterError, RangeError, SpecError, UnknownActivationError, did_you_mean

__all__ = [
    "Activation",
    "Asymptote",
    "Param",
    "Traits",
    "register",
    "unregister",
    "get",
    "activations",
    "reference",
    "derivative",
    "CATEGORIES",
    "check_name",
    "check_range",
]

CATEGORIES = ("classic", "relu", "smooth", "gated", "piecewise", "user")
INF = math.inf


@dataclass(frozen=True, slots=True)
class Asymptote:
    """The line ``slope * x + intercept`` a function approaches at one end.

    ``slope == 0`` is a constant (horizontal) asymptote.
    """

    slope: float
    intercept: float = 0.0

    @classmethod
    def constant(cls, value: float) -> "Asymptote":
        return cls(0.0, float(value))

    def __call__(self, x):
        return self.slope * np.asarray(x, dtype=np.float64) + self.intercept

    def to_dict(self) -> dict:
        return {"slope": self.slope, "intercept": self.intercept}


@dataclass(frozen=True, slots=True)
class Traits:
    """What a function does, as far as table building cares.

    monotonic : ``"increasing"`` or ``"decreasing"`` (non-strict), or None.
    symmetry : ``"odd"`` (f(-x) = -f(x)), ``"even"`` (f(-x) = f(x)),
        ``"point"`` (f(-x) = 2*center - f(x)), ``"even_line"`` (f(x) - slope*x is even:
        f(-x) = f(x) - 2*slope*x, as GELU and SiLU with slope 1/2), or None.
    neg, pos : the asymptote for x -> -inf and x -> +inf, or None.
    domain : the closed interval on which the function is finite.
    poles : points inside the domain where it is not finite.
    """

    monotonic: str | None = None
    symmetry: str | None = None
    center: float = 0.0
    slope: float = 0.0  # the line of an "even_line" symmetry
    neg: Asymptote | None = None
    pos: Asymptote | None = None
    domain: tuple[float, float] = (-INF, INF)
    poles: tuple[float, ...] = ()

    def __post_init__(self):
        if self.monotonic not in (None, "increasing", "decreasing"):
            raise ValueError(f"bad monotonic {self.monotonic!r}")
        if self.symmetry not in (None, "odd", "even", "point", "even_line"):
            raise ValueError(f"bad symmetry {self.symmetry!r}")
        if self.symmetry == "odd" and self.center != 0.0:
            raise ValueError("odd symmetry has center 0; use 'point'")
        if self.symmetry == "even_line" and self.slope == 0.0:
            raise ValueError("even_line symmetry with slope 0 is 'even'")

    def finite_on(self, lo: float, hi: float) -> bool:
        """True if the function is finite on every x in [lo, hi]."""
        d_lo, d_hi = self.domain
        return d_lo <= lo and hi <= d_hi and not any(lo <= p <= hi for p in self.poles)

    def to_dict(self) -> dict:
        return {
            "monotonic": self.monotonic,
            "symmetry": self.symmetry,
            "center": self.center if self.symmetry == "point" else None,
            "line_slope": self.slope if self.symmetry == "even_line" else None,
            "asymptote_neg": self.neg.to_dict() if self.neg else None,
            "asymptote_pos": self.pos.to_dict() if self.pos else None,
            "domain": [_json_float(v) for v in self.domain],
            "poles": list(self.poles),
        }


def _json_float(v: float):
    return v if math.isfinite(v) else ("inf" if v > 0 else "-inf")


@dataclass(frozen=True, slots=True)
class Param:
    """A typed parameter with a default and bounds.

    ``kind`` is ``"float"``, ``"int"`` or ``"points"`` (a tuple of floats).
    Bounds are inclusive unless ``lo_open`` / ``hi_open``.
    """

    name: str
    default: Any
    doc: str = ""
    kind: str = "float"
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False

    def allowed(self) -> str:
        if self.kind == "points":
            return "a list of numbers"
        kind = "an integer" if self.kind == "int" else "a finite number"
        parts = []
        if self.lo is not None:
            parts.append(f"{'>' if self.lo_open else '>='} {self.lo:g}")
        if self.hi is not None:
            parts.append(f"{'<' if self.hi_open else '<='} {self.hi:g}")
        return kind + (" " + " and ".join(parts) if parts else "")

    def coerce(self, value, owner: str):
        """Return ``value`` converted to this parameter's type, or raise ParameterError."""
        where = f"parameter {self.name}={value!r} of '{owner}'"
        if self.kind == "points":
            try:
                if isinstance(value, str):
                    value = [float(v) for v in value.replace(";", ",").split(",") if v.strip()]
                pts = tuple(float(v) for v in np.asarray(value, dtype=np.float64).ravel())
            except (TypeError, ValueError):
                raise ParameterError(f"{where} must be {self.allowed()}") from None
            if not all(math.isfinite(v) for v in pts):
                raise ParameterError(f"{where} must hold finite numbers")
            return pts
        try:
            if isinstance(value, bool):
                raise ValueError
            if self.kind == "int":
                num = float(value)
                if not num.is_integer():
                    raise ValueError
                num = int(num)
            else:
                num = float(value)
        except (TypeError, ValueError):
            raise ParameterError(f"{where} must be {self.allowed()}") from None
        if not math.isfinite(num):
            raise ParameterError(f"{where} must be {self.allowed()}")
        too_low = self.lo is not None and (num <= self.lo if self.lo_open else num < self.lo)
        too_high = self.hi is not None and (num >= self.hi if self.hi_open else num > self.hi)
        if too_low or too_high:
            raise ParameterError(f"{where} is out of range; allowed: {self.allowed()}")
        return num

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "default": list(self.default) if self.kind == "points" else self.default,
            "kind": self.kind,
            "allowed": self.allowed(),
            "doc": self.doc,
        }


@dataclass(frozen=True, eq=False)
class Activation:
    """One registered activation function.

    ``reference(x, **params)`` and ``derivative(x, **params)`` take a float64
    array and return float64 of the same shape (``(n_outputs, *x.shape)`` for a
    multi-output activation). ``traits`` is a :class:`Traits`, or a callable
    taking the resolved parameters as keywords and returning one. ``check``
    validates relations between parameters (raise ParameterError).
    """

    name: str
    formula: str
    reference: Callable
    derivative: Callable | None
    category: str
    description: str
    source: str
    params: tuple[Param, ...] = ()
    aliases: tuple[str, ...] = ()
    default_range: tuple[float, float] = (-8.0, 8.0)
    traits: Traits | Callable[..., Traits] = field(default_factory=Traits)
    check: Callable[..., None] | None = None
    n_outputs: int = 1
    composite: bool = False
    tie_rule: str | None = None  # how a rounding inside the function breaks ties
    range_of: Callable[..., tuple[float, float]] | None = None  # default range from params
    expression: str | None = None  # the source of a user expression (from_expression)

    def __post_init__(self):
        if self.category not in CATEGORIES:
            raise ValueError(f"category {self.category!r} not in {CATEGORIES}")
        lo, hi = self.default_range
        if not lo < hi:
            raise ValueError(f"{self.name}: default range {self.default_range} is empty")

    def __repr__(self) -> str:
        return f"<Activation {self.name}>"

    # ---- parameters --------------------------------------------------------------------
    @property
    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def resolve(self, params: Mapping | None = None) -> dict:
        """Defaults overlaid with ``params``, each value type-checked and validated."""
        params = dict(params or {})
        by_name = {p.name: p for p in self.params}
        unknown = [k for k in params if k not in by_name]
        if unknown:
            allowed = ", ".join(by_name) if by_name else "none"
            raise ParameterError(
                f"unknown parameter {unknown[0]!r} for '{self.name}'"
                f"{did_you_mean(unknown[0], by_name)} (parameters: {allowed})"
            )
        resolved = {}
        for p in self.params:
            resolved[p.name] = p.coerce(params[p.name], self.name) if p.name in params else p.default
        if self.check is not None:
            self.check(**resolved)
        return resolved

    def range_for(self, params: Mapping | None = None) -> tuple[float, float]:
        """The default input range for these parameters (lut: its first and last point)."""
        if self.range_of is None:
            return self.default_range
        lo, hi = self.range_of(**self.resolve(params))
        return float(lo), float(hi)

    def traits_for(self, params: Mapping | None = None) -> Traits:
        if isinstance(self.traits, Traits):
            return self.traits
        return self.traits(**self.resolve(params))

    # ---- evaluation --------------------------------------------------------------------
    def __call__(self, x, **params) -> np.ndarray:
        return self.evaluate(x, params)

    def evaluate(self, x, params: Mapping | None = None, *, derivative: bool = False):
        fn = self.derivative if derivative else self.reference
        if fn is None:
            raise SpecError(f"activation '{self.name}' has no analytic derivative")
        resolved = self.resolve(params)
        arr = np.asarray(x, dtype=np.float64)
        # subnormal inputs signal underflow in almost any operation: they are zero to 1e-308
        arr = np.where(np.abs(arr) < np.finfo(np.float64).tiny, 0.0, arr)
        out = np.asarray(fn(arr, **resolved), dtype=np.float64)
        shape = arr.shape if self.n_outputs == 1 else (self.n_outputs, *arr.shape)
        if out.shape != shape:
            out = np.broadcast_to(out, shape).copy()
        return out

    def to_dict(self, params: Mapping | None = None) -> dict:
        traits = self.traits_for(params)
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "category": self.category,
            "formula": self.formula,
            "description": self.description,
            "source": self.source,
            "params": [p.to_dict() for p in self.params],
            "default_range": list(self.default_range),
            "derivative": self.derivative is not None,
            "n_outputs": self.n_outputs,
            "composite": self.composite,
            "tie_rule": self.tie_rule,
            **traits.to_dict(),
        }


_REGISTRY: dict[str, Activation] = {}
_ALIASES: dict[str, str] = {}


def register(act: Activation, *, replace: bool = False) -> Activation:
    """Add an activation to the registry and return it."""
    taken = [n for n in (act.name, *act.aliases) if n in _ALIASES]
    if taken and not replace:
        raise ParameterError(f"activation name {taken[0]!r} is already registered")
    if replace and act.name in _REGISTRY:
        unregister(act.name)
    _REGISTRY[act.name] = act
    for n in (act.name, *act.aliases):
        _ALIASES[n] = act.name
    return act


def unregister(name: str) -> None:
    act = get(name)
    del _REGISTRY[act.name]
    for n in (act.name, *act.aliases):
        _ALIASES.pop(n, None)


def get(name) -> Activation:
    """Look up an activation by name or alias (case-insensitive, '-' as '_')."""
    if isinstance(name, Activation):
        return name
    key = str(name).strip().lower().replace("-", "_")
    if key in _ALIASES:
        return _REGISTRY[_ALIASES[key]]
    hint = did_you_mean(key, _ALIASES) or "; run 'lutgen list' to see them all"
    raise UnknownActivationError(f"unknown activation {name!r}{hint}")


def activations() -> Mapping[str, Activation]:
    """The registry: canonical name -> Activation (read-only view)."""
    return MappingProxyType(_REGISTRY)


def reference(name, x, **params) -> np.ndarray:
    """The float64 reference of activation ``name`` at ``x``."""
    return get(name).evaluate(x, params)


def derivative(name, x, **params) -> np.ndarray:
    """The analytic derivative of activation ``name`` at ``x`` (float64)."""
    return get(name).evaluate(x, params, derivative=True)


def check_name(name, what: str = "activation name") -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ParameterError(
            f"{what} {name!r} is not a valid identifier; use letters, digits and '_', "
            "e.g. name='my_act'"
        )
    return name.lower()  # the registry looks names up in lower case


def check_range(rng, owner: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in rng)
    except (TypeError, ValueError):
        raise RangeError(f"range {rng!r} of '{owner}' must be two numbers (lo, hi)") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise RangeError(f"range {rng!r} of '{owner}' must be finite with lo < hi")
    return lo, hi
