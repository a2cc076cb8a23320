"""Piecewise and hardware-friendly activations: hard_sigmoid, hard_sigmoid_torch, hard_swish,
maxout, pau, evonorm_b0.

(``lut``, a user's own table, lives with the user-defined activations.) At a kink the
derivative is the right-hand one, as in :mod:`lutgen.activations.relu`.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from ._registry import Activation, Asymptote, Param, Traits, register
from .relu import flush_underflow

HALF_CENTERED = {"symmetry": "point", "center": 0.5}


# ---- hard sigmoids and hard swish ---------------------------------------------------------

@flush_underflow
def _hard_sigmoid(x, slope: float, offset: float):
    return np.clip(slope * x + offset, 0.0, 1.0)


@flush_underflow
def _dhard_sigmoid(x, slope: float, offset: float):
    z = slope * x + offset
    return np.where((z >= 0.0) & (z < 1.0), slope, 0.0)


def _hard_sigmoid_traits(slope: float, offset: float) -> Traits:
    symmetry = HALF_CENTERED if offset == 0.5 else {}
    return Traits(monotonic="increasing", **symmetry,
                  neg=Asymptote.constant(0.0), pos=Asymptote.constant(1.0))


HARD_SIGMOID = register(Activation(
    name="hard_sigmoid", category="piecewise",
    formula="clip(slope*x + offset, 0, 1)",
    reference=_hard_sigmoid, derivative=_dhard_sigmoid,
    params=(
        Param("slope", 0.2, "slope of the linear part", lo=0.0, lo_open=True),
        Param("offset", 0.5, "value at x = 0 before clipping"),
    ),
    traits=_hard_sigmoid_traits,
    description="Hard sigmoid, Keras 2 / TensorFlow form clip(0.2x + 0.5, 0, 1) "
                "(Keras 3 switched to hard_sigmoid_torch's relu6(x + 3)/6)",
    source="Courbariaux, Bengio & David, BinaryConnect, NeurIPS 2015; Keras 2 hard_sigmoid",
))


def _relu6_shift3(x):
    return np.clip(x + 3.0, 0.0, 6.0)


def _in_ramp(x):
    """1.0 on [-3, 3), where relu6(x + 3) has slope 1 (right-hand at both kinks)."""
    return ((x >= -3.0) & (x < 3.0)).astype(np.float64)


HARD_SIGMOID_TORCH = register(Activation(
    name="hard_sigmoid_torch", aliases=("hardsigmoid", "h_sigmoid"), category="piecewise",
    formula="relu6(x + 3)/6",
    reference=lambda x: _relu6_shift3(x) / 6.0,
    derivative=lambda x: _in_ramp(x) / 6.0,
    traits=Traits(monotonic="increasing", **HALF_CENTERED,
                  neg=Asymptote.constant(0.0), pos=Asymptote.constant(1.0)),
    description="Hard sigmoid of MobileNetV3 and PyTorch nn.Hardsigmoid: slope 1/6 on [-3, 3]",
    source="Howard et al., Searching for MobileNetV3, ICCV 2019",
))


@flush_underflow
def _dhard_swish(x):
    # x*(x + 3)/6 on the ramp has slope (2x + 3)/6; right-hand at -3 gives -1/2 (PyTorch agrees).
    return np.where(x >= 3.0, 1.0, _in_ramp(x) * (2.0 * x + 3.0) / 6.0)


HARD_SWISH = register(Activation(
    name="hard_swish", aliases=("hardswish", "h_swish"), category="piecewise",
    formula="x*relu6(x + 3)/6",
    reference=flush_underflow(lambda x: x * _relu6_shift3(x) / 6.0),
    derivative=_dhard_swish,
    # x*relu6(x + 3)/6 - x/2 = x*clip(x, -3, 3)/6 is even
    traits=Traits(neg=Asymptote.constant(0.0), pos=Asymptote(1.0, 0.0), symmetry="even_line",
                  slope=0.5),
    description="Hard swish: x times hard_sigmoid_torch, minimum -3/8 at x = -3/2",
    source="Howard et al., Searching for MobileNetV3, ICCV 2019",
))


# ---- maxout -------------------------------------------------------------------------------

@flush_underflow
def _maxout(x, w1: float, w2: float, b1: float, b2: float):
    return np.maximum(w1 * x + b1, w2 * x + b2)


@flush_underflow
def _dmaxout(x, w1: float, w2: float, b1: float, b2: float):
    z1, z2 = w1 * x + b1, w2 * x + b2
    # Where the lines cross, the steeper one wins just to the right.
    return np.where(z1 > z2, w1, np.where(z2 > z1, w2, max(w1, w2)))


def _maxout_traits(w1: float, w2: float, b1: float, b2: float) -> Traits:
    # A max of two lines follows the shallower one at -inf and the steeper one at +inf
    # (the higher one everywhere when they are parallel).
    lines = sorted([(w1, b1), (w2, b2)])
    (w_lo, b_lo), (w_hi, b_hi) = lines
    if w_lo == w_hi:
        w_lo, b_lo = w_hi, b_hi
    if w1 == -w2 and b1 == b2:
        symmetry = "even"
    elif w1 == w2 and max(b1, b2) == 0.0:
        symmetry = "odd"
    else:
        symmetry = None
    monotonic = "increasing" if w_lo >= 0 else ("decreasing" if w_hi <= 0 else None)
    return Traits(monotonic=monotonic, symmetry=symmetry,
                  neg=Asymptote(w_lo, b_lo), pos=Asymptote(w_hi, b_hi))


MAXOUT = register(Activation(
    name="maxout", category="piecewise",
    formula="max(w1*x + b1, w2*x + b2)",
    reference=_maxout, derivative=_dmaxout,
    params=(
        Param("w1", 1.0, "slope of the first piece"),
        Param("w2", -1.0, "slope of the second piece"),
        Param("b1", 0.0, "offset of the first piece"),
        Param("b2", 0.0, "offset of the second piece"),
    ),
    traits=_maxout_traits,
    description="Maxout with two linear pieces; the defaults give |x|",
    source="Goodfellow, Warde-Farley, Mirza, Courville & Bengio, Maxout Networks, ICML 2013",
))


# ---- pau ----------------------------------------------------------------------------------
# The power terms overflow only beyond the declared domain.

def _signed_power(x, b: float):
    return np.sign(x) * np.power(np.abs(x), b)


@flush_underflow
def _pau(x, a1: float, a2: float, b1: float, b2: float):
    return a1 * _signed_power(x, b1) + a2 * _signed_power(x, b2)


@flush_underflow
def _dpau(x, a1: float, a2: float, b1: float, b2: float):
    # d/dx sign(x)|x|^b = b|x|^(b-1), finite everywhere because b >= 1 (0**0 = 1).
    ax = np.abs(x)
    return a1 * b1 * np.power(ax, b1 - 1.0) + a2 * b2 * np.power(ax, b2 - 1.0)


def _pau_radius(a1: float, a2: float, b1: float, b2: float) -> float:
    """A |x| up to which every term |a|*b*|x|^b of f and f' stays below DBL_MAX/4."""
    log_cap = math.log(sys.float_info.max / 4)
    radius = math.inf
    for a, b in ((a1, b1), (a2, b2)):
        if a != 0.0:
            log_r = (log_cap - math.log(abs(a) * b)) / b
            radius = min(radius, math.exp(min(log_r, 700.0)))
    return radius


def _pau_traits(a1: float, a2: float, b1: float, b2: float) -> Traits:
    radius = _pau_radius(a1, a2, b1, b2)
    terms = [(a, b) for a, b in ((a1, b1), (a2, b2)) if a != 0.0]
    # Each s(x, b) is odd and increasing, so their sum is odd; it is linear (with an
    # asymptote) only when no term is a higher power.
    linear = all(b == 1.0 for _, b in terms)
    asym = Asymptote(sum(a for a, _ in terms), 0.0) if linear else None
    if all(a >= 0 for a, _ in terms):
        monotonic = "increasing"
    elif all(a <= 0 for a, _ in terms):
        monotonic = "decreasing"
    else:
        monotonic = None
    return Traits(monotonic=monotonic, symmetry="odd", neg=asym, pos=asym,
                  domain=(-radius, radius))


PAU = register(Activation(
    name="pau", category="piecewise",
    formula="a1*s(x, b1) + a2*s(x, b2), s(x, b) = sign(x)*|x|^b",
    reference=_pau, derivative=_dpau,
    params=(
        Param("a1", 1.0, "weight of the first power"),
        Param("a2", 0.1, "weight of the second power"),
        Param("b1", 1.0, "first exponent (>= 1 keeps f' finite at 0)", lo=1.0),
        Param("b2", 2.0, "second exponent (>= 1 keeps f' finite at 0)", lo=1.0),
    ),
    traits=_pau_traits,
    description="Power activation unit, two odd signed powers; exponents >= 1 so f' is finite",
    source="the catalog's seed article ('PAU, Power Activation Unit', simplified K = 2); "
           "not the Pade Activation Unit of Molina et al. 2020",
))


# ---- evonorm_b0 ---------------------------------------------------------------------------
# With v in [0, 1], running_v >= 0 and eps > 0 the radicand v*x^2 + k, k = (1-v)*running_v
# + eps, is >= eps > 0 for every x: the parameter bounds alone keep f and f' finite.

def _evonorm_parts(x, v: float, running_v: float, eps: float):
    k = (1.0 - v) * running_v + eps
    return k, v * x * x + k


@flush_underflow
def _evonorm_b0(x, gamma: float, beta: float, v: float, running_v: float, eps: float):
    _, radicand = _evonorm_parts(x, v, running_v, eps)
    return gamma * x / np.sqrt(radicand) + beta * x


@flush_underflow
def _devonorm_b0(x, gamma: float, beta: float, v: float, running_v: float, eps: float):
    # d/dx x/sqrt(v x^2 + k) = k/(v x^2 + k)^(3/2), written so no power under- or overflows.
    k, radicand = _evonorm_parts(x, v, running_v, eps)
    return gamma * (k / radicand) / np.sqrt(radicand) + beta


def _evonorm_traits(gamma: float, beta: float, v: float, running_v: float, eps: float) -> Traits:
    k = (1.0 - v) * running_v + eps
    slope_at_0 = gamma / math.sqrt(k) + beta
    if v > 0.0:
        # f' runs between beta (|x| -> inf) and its value at 0; f -> beta*x +- gamma/sqrt(v).
        slopes = (slope_at_0, beta)
        neg = Asymptote(beta, -gamma / math.sqrt(v))
        pos = Asymptote(beta, gamma / math.sqrt(v))
    else:
        slopes = (slope_at_0,)
        neg = pos = Asymptote(slope_at_0, 0.0)
    monotonic = ("increasing" if min(slopes) >= 0
                 else "decreasing" if max(slopes) <= 0 else None)
    return Traits(monotonic=monotonic, symmetry="odd", neg=neg, pos=pos)


EVONORM_B0 = register(Activation(
    name="evonorm_b0", aliases=("evonorm",), category="piecewise",
    formula="gamma*x/sqrt(v*x^2 + (1 - v)*running_v + eps) + beta*x",
    reference=_evonorm_b0, derivative=_devonorm_b0,
    params=(
        Param("gamma", 1.0, "output scale"),
        Param("beta", 0.0, "linear term"),
        Param("v", 0.1, "weight of the instance term x^2", lo=0.0, hi=1.0),
        Param("running_v", 1.0, "running variance (frozen for inference)", lo=0.0),
        Param("eps", 1e-5, "variance floor", lo=0.0, lo_open=True),
    ),
    traits=_evonorm_traits,
    description="EvoNorm-B0 as an element-wise function: the running variance is a "
                "fixed parameter (inference)",
    source="Liu, Brock, Simonyan & Le, Evolving Normalization-Activation Layers, NeurIPS 2020 "
           "(simplified element-wise form of the catalog's seed article)",
))
