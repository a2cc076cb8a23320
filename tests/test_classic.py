"""Known values of the classic activations, from independent sources."""

import math

import numpy as np
import pytest

import lutgen

# (x, params, expected): each expected value derived with the math module, not lutgen
CHECKS = {
    "sigmoid": [
        (0.0, {}, 0.5),
        (1.0, {}, 1 / (1 + math.exp(-1))),  # 0.7310585786300049
        (-3.0, {}, 1 / (1 + math.exp(3))),
        (-800.0, {}, 0.0),  # e^-800 underflows: the limit
        (800.0, {}, 1.0),
    ],
    "tanh": [(0.0, {}, 0.0), (0.5, {}, math.tanh(0.5)), (-2.0, {}, math.tanh(-2.0))],
    "linear": [(0.0, {}, 0.0), (-3.25, {}, -3.25), (7.5, {}, 7.5)],
    "exp": [(0.0, {}, 1.0), (1.0, {}, math.e), (-8.0, {}, math.exp(-8.0))],
    "reciprocal": [(1.0, {}, 1.0), (2.0, {}, 0.5), (-0.25, {}, -4.0), (1.5, {}, 2 / 3)],
    # softmax of a scalar is 1 (a one-element vector)
    "softmax": [(0.0, {}, 1.0), (3.0, {}, 1.0), (-7.0, {}, 1.0)],
}


@pytest.mark.parametrize(
    "name,x,params,expected",
    [(n, x, p, e) for n, rows in CHECKS.items() for x, p, e in rows],
)
def test_known_values(name, x, params, expected):
    assert lutgen.reference(name, x, **params) == pytest.approx(expected, rel=1e-13, abs=1e-300)


def test_softmax_is_over_the_last_axis():
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    e = np.exp([1.0, 2.0, 3.0])
    got = lutgen.reference("softmax", x)
    np.testing.assert_allclose(got[0], e / e.sum(), rtol=1e-14)
    np.testing.assert_allclose(got[1], [1 / 3] * 3, rtol=1e-14)


def test_softmax_is_composite_and_cannot_be_a_table():
    with pytest.raises(lutgen.SpecError, match="not element-wise"):
        lutgen.compile_table("softmax")


def test_reciprocal_declares_its_pole_and_exp_its_overflow():
    acts = lutgen.activations()
    assert acts["reciprocal"].traits_for().poles == (0.0,)
    assert not acts["reciprocal"].traits_for().finite_on(-1.0, 1.0)
    assert acts["exp"].traits_for().domain[1] == pytest.approx(math.log(np.finfo(float).max))


def test_logistic_is_an_alias_of_sigmoid():
    assert lutgen.reference("logistic", 0.3) == lutgen.reference("sigmoid", 0.3)
