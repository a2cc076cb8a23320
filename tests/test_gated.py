"""The gated catalog in its 1-D self-gated form a = b = x: known values and declared traits."""

from __future__ import annotations

import numpy as np
import pytest

import lutgen
from lutgen.activations import get

from .test_smooth import (
    approx_or_zero,
    check_asymptotes,
    check_monotonic,
    check_symmetry,
    known_cases,
    names_in,
    phi,
    sigm,
    trait_cases,
)

# (x, params, expected): a * gate(a), the gate from the math module
CHECKS: dict[str, list[tuple[float, dict, float]]] = {
    "glu": [
        (0.0, {}, 0.0),
        (1.0, {}, sigm(1.0)),  # 1 * sigma(1) = 0.7310585786300049
        (-1.0, {}, -sigm(-1.0)),
        (2.0, {}, 2.0 * sigm(2.0)),
    ],
    "geglu": [
        (0.0, {}, 0.0),
        (1.0, {}, 0.8413447460685429),  # 1 * 1 * Phi(1)
        (-1.0, {}, phi(-1.0)),  # (-1) * (-1) * Phi(-1) = 0.15865525393145707
        (2.0, {}, 4.0 * phi(2.0)),
        (-5.0, {}, 25.0 * phi(-5.0)),
    ],
    "swiglu": [
        (1.0, {}, sigm(1.0)),
        (-2.0, {}, 4.0 * sigm(-2.0)),
        (2.0, {"beta": 0.0}, 2.0),  # x^2 * sigma(0) = x^2/2
        (1.0, {"beta": 2.0}, sigm(2.0)),
        (3.0, {"beta": -1.0}, 9.0 * sigm(-3.0)),
    ],
    "reglu": [
        (0.0, {}, 0.0),
        (2.0, {}, 4.0),
        (-2.0, {}, 0.0),
        (0.5, {}, 0.25),
    ],
}

DERIVATIVE_CHECKS: dict[str, list[tuple[float, dict, float]]] = {
    # d/dx x^2 g(x) = 2x g(x) + x^2 g'(x)
    "glu": [(0.0, {}, 0.5)],
    "geglu": [(0.0, {}, 0.0), (1.0, {}, 2.0 * phi(1.0) + np.exp(-0.5) / np.sqrt(2 * np.pi))],
    "swiglu": [(0.0, {}, 0.0), (1.0, {}, 2.0 * sigm(1.0) + sigm(1.0) * (1.0 - sigm(1.0))),
               (3.0, {"beta": 0.0}, 3.0)],
    "reglu": [(-1.0, {}, 0.0), (1.5, {}, 3.0)],
}


def test_every_gated_activation_has_checks():
    assert names_in("gated") == sorted(CHECKS)
    for name, cases in CHECKS.items():
        assert len(cases) >= 3, name


@pytest.mark.parametrize("fn,name,x,params,expected,rel", known_cases(CHECKS, DERIVATIVE_CHECKS))
def test_known_value(fn, name, x, params, expected, rel):
    assert float(fn(name, x, **params)) == approx_or_zero(expected, rel)


@pytest.mark.parametrize("name,gate", [
    ("glu", lambda x: lutgen.reference("sigmoid", x)),
    ("geglu", lambda x: lutgen.reference("gelu", x)),
    ("reglu", lambda x: np.maximum(x, 0.0)),
])
def test_self_gated_product_is_x_times_its_gate(name, gate):
    x = np.linspace(-8.0, 8.0, 1601)
    assert lutgen.reference(name, x) == pytest.approx(x * gate(x), rel=1e-12, abs=1e-300)


def test_swiglu_is_x_times_swish_for_any_beta():
    x = np.linspace(-8.0, 8.0, 1601)
    for beta in (1.0, 0.5, -2.0):
        swish = lutgen.reference("swish", x, beta=beta)
        assert lutgen.reference("swiglu", x, beta=beta) == pytest.approx(x * swish, rel=1e-12)


def test_bad_beta_is_rejected():
    with pytest.raises(lutgen.ParameterError, match="inf"):
        lutgen.reference("swiglu", 1.0, beta=float("inf"))
    with pytest.raises(lutgen.ParameterError, match="alpha"):
        lutgen.reference("reglu", 1.0, alpha=1.0)


TRAIT_PARAMS = {"swiglu": [{"beta": 0.0}, {"beta": -1.0}]}


@pytest.mark.parametrize("check", [check_asymptotes, check_symmetry, check_monotonic])
@pytest.mark.parametrize("name,params", trait_cases("gated", TRAIT_PARAMS))
def test_declared_traits_hold(check, name, params):
    check(name, params)


def test_gate_named_in_description():
    pairs = (("glu", "sigmoid"), ("geglu", "gelu"), ("swiglu", "swish"), ("reglu", "relu"))
    for name, gate in pairs:
        assert f"gate table: {gate}" in get(name).description
