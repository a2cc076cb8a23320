"""Classic activations: sigmoid, tanh, linear, exp, reciprocal, softmax."""

from __future__ import annotations

import numpy as np

from ._registry import INF, Activation, Asymptote, Traits, register

EXP_MAX = 709.782712893384  # log(DBL_MAX): exp overflows beyond it


EXP_MIN = -708.0  # exp below it is subnormal (an underflow); e^-708 ~ 3e-308 stands for 0


def _exp(x):
    """exp without underflow: arguments below EXP_MIN give e^EXP_MIN, which is 0 to 1e-307."""
    return np.exp(np.maximum(x, EXP_MIN))


def sigmoid(x):
    """Logistic function, stable for any float64: never evaluates exp of a positive value."""
    e = _exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _dsigmoid(x):
    s = sigmoid(x)
    return s * (1.0 - s)


SIGMOID = register(Activation(
    name="sigmoid", aliases=("logistic",), category="classic",
    formula="1/(1+exp(-x))",
    reference=sigmoid, derivative=_dsigmoid,
    default_range=(-8.0, 8.0),
    traits=Traits(monotonic="increasing", symmetry="point", center=0.5,
                  neg=Asymptote.constant(0.0), pos=Asymptote.constant(1.0)),
    description="Logistic sigmoid, the classic squashing function",
    source="Verhulst 1845; Rumelhart, Hinton & Williams 1986",
))

def _sech2(x):
    """1 - tanh(x)^2 = 4 / (e^x + e^-x)^2, accurate in the tails; |x| > 350 gives ~4e-304."""
    a = np.minimum(np.abs(x), 350.0)
    return 4.0 / (np.exp(a) + np.exp(-a)) ** 2


TANH = register(Activation(
    name="tanh", category="classic",
    formula="tanh(x)",
    reference=lambda x: np.tanh(np.clip(x, -20.0, 20.0)),  # tanh(20) is 1.0 in float64
    derivative=lambda x: _sech2(x),
    default_range=(-4.0, 4.0),
    traits=Traits(monotonic="increasing", symmetry="odd",
                  neg=Asymptote.constant(-1.0), pos=Asymptote.constant(1.0)),
    description="Hyperbolic tangent",
    source="LeCun et al., Efficient BackProp, 1998",
))

LINEAR = register(Activation(
    name="linear", aliases=("identity",), category="classic",
    formula="x",
    reference=lambda x: x.copy(), derivative=np.ones_like,
    traits=Traits(monotonic="increasing", symmetry="odd",
                  neg=Asymptote(1.0, 0.0), pos=Asymptote(1.0, 0.0)),
    description="Identity, the activation of a linear output layer",
    source="textbook",
))

EXP = register(Activation(
    name="exp", category="classic",
    formula="exp(x)",
    reference=_exp, derivative=_exp,
    default_range=(-8.0, 0.0),
    traits=Traits(monotonic="increasing", neg=Asymptote.constant(0.0),
                  domain=(-INF, EXP_MAX)),
    description="Exponential: the exponent table of a hardware softmax",
    source="textbook; softmax hardware e.g. Du et al., ISCAS 2019",
))


def _reciprocal(x):
    with np.errstate(divide="ignore"):
        return 1.0 / x


def _dreciprocal(x):
    """-1/x^2; beyond float64 (|x| < 1e-154) it is -inf, as the true value is."""
    with np.errstate(divide="ignore", over="ignore"):
        r = 1.0 / x
        return -(r * r)


RECIPROCAL = register(Activation(
    name="reciprocal", category="classic",
    formula="1/x",
    reference=_reciprocal, derivative=_dreciprocal,
    default_range=(1.0, 2.0),
    traits=Traits(symmetry="odd", neg=Asymptote.constant(0.0), pos=Asymptote.constant(0.0),
                  poles=(0.0,)),
    description="Reciprocal: the normalising divider of a hardware softmax (pole at 0)",
    source="textbook; Newton-Raphson seed tables",
))


def _softmax(x):
    """Softmax over the last axis (not element-wise: a composite of exp and reciprocal)."""
    if x.ndim == 0:
        return np.ones_like(x)
    z = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return z / np.sum(z, axis=-1, keepdims=True)


SOFTMAX = register(Activation(
    name="softmax", category="classic",
    formula="exp(x_i) / sum_j exp(x_j)",
    reference=_softmax, derivative=None,
    composite=True,
    description="Softmax over a vector; built in hardware from an exp and a reciprocal table",
    source="Bridle 1990",
))
