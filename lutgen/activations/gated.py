"""Gated linear units in their 1-D self-gated form a = b = x.

A GLU computes a * gate(b). In hardware the table is the gate (named in each description) and the
product is a multiplier; the registered reference is the whole self-gated product x * gate(x).
"""

from __future__ import annotations

import numpy as np

from ._registry import Activation, Param, Traits, register
from .smooth import (
    RECTIFIER,
    ZERO,
    dsig,
    norm_cdf,
    norm_pdf,
    scaled,
    sig,
    silu,
    square,
    dsilu,
)

GLU_SOURCE = "Shazeer, GLU Variants Improve Transformer, arXiv 2002.05202, 2020"

GLU = register(Activation(
    name="glu", category="gated",
    formula="x*sigmoid(x)",
    reference=silu, derivative=dsilu,
    traits=RECTIFIER,
    description="Gated linear unit a*sigmoid(b) with a = b = x; gate table: sigmoid",
    source="Dauphin et al., Language Modeling with Gated Convolutional Networks, "
           "arXiv 1612.08083, 2017",
))

GEGLU = register(Activation(
    name="geglu", category="gated",
    formula="x*gelu(x) = x^2*Phi(x)",
    reference=lambda x: square(x) * norm_cdf(x),
    derivative=lambda x: 2.0 * x * norm_cdf(x) + square(x) * norm_pdf(x),
    traits=Traits(neg=ZERO),  # grows as x^2 at +inf: no asymptote
    description="GELU-gated linear unit a*gelu(b) with a = b = x; gate table: gelu",
    source=GLU_SOURCE,
))


def _swiglu(x, beta):
    return square(x) * sig(scaled(x, beta))


def _dswiglu(x, beta):
    z = scaled(x, beta)  # where clipped, dsig(z) is exactly 0
    return x * (2.0 * sig(z) + z * dsig(z))


def _swiglu_traits(beta):
    if beta > 0:
        return Traits(neg=ZERO)
    if beta < 0:
        return Traits(pos=ZERO)
    return Traits(symmetry="even")  # x^2/2


SWIGLU = register(Activation(
    name="swiglu", category="gated",
    formula="x*swish(x) = x^2*sigmoid(beta*x)",
    reference=_swiglu, derivative=_dswiglu,
    params=(Param("beta", 1.0, "slope of the swish gate"),),
    traits=_swiglu_traits,
    description="Swish-gated linear unit a*swish(b) with a = b = x (PaLM, LLaMA); "
                "gate table: swish",
    source=GLU_SOURCE,
))

REGLU = register(Activation(
    name="reglu", category="gated",
    formula="x*relu(x) = max(x, 0)^2",
    reference=lambda x: square(np.maximum(x, 0.0)),
    derivative=lambda x: 2.0 * np.maximum(x, 0.0),
    traits=Traits(monotonic="increasing", neg=ZERO),
    description="ReLU-gated linear unit a*relu(b) with a = b = x; gate table: relu",
    source=GLU_SOURCE,
))
