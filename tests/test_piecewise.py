"""The piecewise / hardware-friendly catalog (lutgen/activations/piecewise.py)."""

import math
import sys

import numpy as np
import pytest

import lutgen
from lutgen.activations import get, piecewise as piecewise_module

from .test_relu import CatalogContract, pytest_generate_tests  # noqa: F401 (the hook)

EVONORM_K = 0.9 * 1.0 + 1e-5  # (1 - v)*running_v + eps with the defaults

CHECKS: dict[str, list[tuple[float, dict, float]]] = {
    "hard_sigmoid": [
        (1.0, {}, 0.7),  # 0.2*1 + 0.5
        (0.0, {}, 0.5),
        (-3.0, {}, 0.0),  # -0.1 clipped
        (3.0, {}, 1.0),  # 1.1 clipped
        (1.0, {"slope": 0.25, "offset": 0.25}, 0.5),
    ],
    "hard_sigmoid_torch": [
        (0.0, {}, 0.5),  # 3/6
        (1.5, {}, 0.75),  # 4.5/6
        (-4.0, {}, 0.0),
        (4.0, {}, 1.0),  # relu6(7) = 6
    ],
    "hard_swish": [
        (1.0, {}, 4.0 / 6.0),  # 1*4/6
        (-1.5, {}, -0.375),  # the minimum: -1.5*1.5/6
        (5.0, {}, 5.0),
        (-5.0, {}, 0.0),
    ],
    "maxout": [
        (-3.0, {}, 3.0),  # |x|
        (2.0, {}, 2.0),
        (1.0, {"w1": 2.0, "b1": 1.0, "w2": 0.5, "b2": 3.0}, 3.5),  # max(3, 3.5)
        (4.0, {"w1": 2.0, "b1": 1.0, "w2": 0.5, "b2": 3.0}, 9.0),  # max(9, 5)
    ],
    "pau": [
        (2.0, {}, 2.4),  # 2 + 0.1*2^2
        (-2.0, {}, -2.4),  # odd: -2 - 0.1*2^2
        (0.5, {"a1": 0.0, "a2": 1.0, "b2": 1.5}, math.sqrt(0.125)),  # 0.5^1.5
        (-3.0, {"b2": 3.0}, -5.7),  # -3 + 0.1*(-27)
    ],
    "evonorm_b0": [
        (1.0, {}, 1.0 / math.sqrt(0.1 + EVONORM_K)),  # 1/sqrt(0.1*1 + 0.9 + 1e-5)
        (0.0, {}, 0.0),
        (-3.0, {}, -3.0 / math.sqrt(0.9 + EVONORM_K)),
        # 2*2/sqrt(0.5*4 + 0.5*2 + 1e-3) + 1*2
        (2.0, {"gamma": 2.0, "beta": 1.0, "v": 0.5, "running_v": 2.0, "eps": 1e-3},
         4.0 / math.sqrt(3.001) + 2.0),
    ],
}

# (name, params, kinks); None: no difference-quotient check.
CONFIGS = [
    ("hard_sigmoid", {}, [-2.5, 2.5]),
    ("hard_sigmoid", {"slope": 0.25, "offset": 0.25}, [-1.0, 3.0]),
    ("hard_sigmoid", {"slope": 1.0}, [-0.5, 0.5]),
    ("hard_sigmoid_torch", {}, [-3.0, 3.0]),
    ("hard_swish", {}, [-3.0, 3.0]),
    ("maxout", {}, [0.0]),
    ("maxout", {"w1": 2.0, "b1": 1.0, "w2": 0.5, "b2": 2.5}, [1.0]),
    ("maxout", {"w1": -1.0, "b1": 0.0, "w2": -2.0, "b2": 1.0}, [1.0]),
    ("maxout", {"w1": 1.5, "b1": 0.0, "w2": 1.5, "b2": -1.0}, []),
    ("maxout", {"w1": 0.5, "b1": 1.0, "w2": -0.5, "b2": 1.0}, [0.0]),
    ("pau", {}, []),
    ("pau", {"a1": 0.0, "a2": 1.0, "b2": 1.5}, []),
    ("pau", {"a2": -0.05, "b2": 3.0}, []),
    ("pau", {"a1": 2.0, "a2": 0.5, "b2": 1.0}, []),
    ("pau", {"a2": 1.0, "b2": 70.0}, None),  # 8^70: too steep for the quotient's tolerance
    ("evonorm_b0", {}, []),
    ("evonorm_b0", {"gamma": 2.0, "beta": 1.0, "v": 0.5, "running_v": 2.0, "eps": 1e-3}, []),
    ("evonorm_b0", {"v": 0.0}, []),
    ("evonorm_b0", {"gamma": -1.0, "beta": 0.5}, []),
    ("evonorm_b0", {"gamma": 1.0, "beta": -2.0}, []),
    ("evonorm_b0", {"v": 1.0, "running_v": 0.0, "eps": 1e-300}, None),  # slope 1e150 at 0
]

# (name, params, monotonic, symmetry, neg, pos), asymptotes as (slope, intercept): by hand.
EXPECTED_TRAITS = [
    ("hard_sigmoid", {}, "increasing", "point", (0.0, 0.0), (0.0, 1.0)),
    ("hard_sigmoid", {"slope": 0.25, "offset": 0.25}, "increasing", None, (0.0, 0.0), (0.0, 1.0)),
    ("hard_sigmoid_torch", {}, "increasing", "point", (0.0, 0.0), (0.0, 1.0)),
    ("hard_swish", {}, None, "even_line", (0.0, 0.0), (1.0, 0.0)),
    ("maxout", {}, None, "even", (-1.0, 0.0), (1.0, 0.0)),
    # the shallower line at -inf, the steeper at +inf
    ("maxout", {"w1": 2.0, "b1": 1.0, "w2": 0.5, "b2": 2.5}, "increasing", None,
     (0.5, 2.5), (2.0, 1.0)),
    ("maxout", {"w1": -1.0, "b1": 0.0, "w2": -2.0, "b2": 1.0}, "decreasing", None,
     (-2.0, 1.0), (-1.0, 0.0)),
    # parallel lines: the higher one, 1.5x + 0
    ("maxout", {"w1": 1.5, "b1": 0.0, "w2": 1.5, "b2": -1.0}, "increasing", "odd",
     (1.5, 0.0), (1.5, 0.0)),
    ("pau", {}, "increasing", "odd", None, None),
    ("pau", {"a1": 2.0, "a2": 0.5, "b2": 1.0}, "increasing", "odd", (2.5, 0.0), (2.5, 0.0)),
    ("pau", {"a2": -0.05, "b2": 3.0}, None, "odd", None, None),
    # gamma*x/sqrt(v x^2) -> +-gamma/sqrt(v)
    ("evonorm_b0", {}, "increasing", "odd", (0.0, -1 / math.sqrt(0.1)), (0.0, 1 / math.sqrt(0.1))),
    ("evonorm_b0", {"gamma": 2.0, "beta": 1.0, "v": 0.5, "running_v": 2.0, "eps": 1e-3},
     "increasing", "odd", (1.0, -2 / math.sqrt(0.5)), (1.0, 2 / math.sqrt(0.5))),
    # v = 0: the line x/sqrt(running_v + eps)
    ("evonorm_b0", {"v": 0.0}, "increasing", "odd",
     (1 / math.sqrt(1.00001), 0.0), (1 / math.sqrt(1.00001), 0.0)),
    # slope -1/sqrt(K) + 0.5 < 0 at 0, 0.5 far out
    ("evonorm_b0", {"gamma": -1.0, "beta": 0.5}, None, "odd",
     (0.5, 1 / math.sqrt(0.1)), (0.5, -1 / math.sqrt(0.1))),
    ("evonorm_b0", {"gamma": 1.0, "beta": -2.0}, "decreasing", "odd",
     (-2.0, -1 / math.sqrt(0.1)), (-2.0, 1 / math.sqrt(0.1))),
]

PARAM_ERRORS = [
    ("hard_sigmoid", {"slope": 0}, ["slope=0", "> 0"]),
    ("hard_sigmoid", {"slope": -0.2}, ["slope=-0.2", "> 0"]),
    ("hard_swish", {"alpha": 1.0}, ["unknown parameter 'alpha'", "parameters: none"]),
    ("maxout", {"w1": "one"}, ["w1='one'", "a finite number"]),
    ("pau", {"b1": 0.5}, ["b1=0.5", ">= 1"]),
    ("pau", {"b2": 0}, ["b2=0", ">= 1"]),
    ("evonorm_b0", {"v": 1.5}, ["v=1.5", "<= 1"]),
    ("evonorm_b0", {"v": -0.1}, ["v=-0.1", ">= 0"]),
    ("evonorm_b0", {"running_v": -1}, ["running_v=-1", ">= 0"]),
    ("evonorm_b0", {"eps": 0}, ["eps=0", "> 0"]),
]
class TestPiecewise(CatalogContract):
    module = piecewise_module
    category = "piecewise"
    names = ["hard_sigmoid", "hard_sigmoid_torch", "hard_swish", "maxout", "pau", "evonorm_b0"]
    checks = CHECKS
    configs = CONFIGS
    expected_traits = EXPECTED_TRAITS
    param_errors = PARAM_ERRORS


# ---- specific behaviour -------------------------------------------------------------------

def test_maxout_defaults_are_abs():
    x = np.linspace(-50.0, 50.0, 10_001)
    assert np.array_equal(lutgen.reference("maxout", x), np.abs(x))
    # right-hand at the crossing: the steeper line, slope 1
    assert lutgen.derivative("maxout", [-2.0, 0.0, 2.0]).tolist() == [-1.0, 1.0, 1.0]


def test_hard_sigmoid_centres():
    assert get("hard_sigmoid").traits_for().center == 0.5
    assert get("hard_sigmoid_torch").traits_for().center == 0.5


def test_hard_swish_kinks_and_minimum():
    # slope (2x + 3)/6 on [-3, 3): -1/2 just right of -3, 0 at the minimum -3/2, 1 from 3 on
    d = lutgen.derivative("hard_swish", [-3.5, -3.0, -1.5, 0.0, 3.0])
    assert d.tolist() == [0.0, -0.5, 0.0, 0.5, 1.0]


def test_aliases():
    assert get("hardsigmoid").name == "hard_sigmoid_torch"
    assert get("h-swish").name == "hard_swish"
    assert get("evonorm").name == "evonorm_b0"


def test_pau_derivative_at_zero_is_finite():
    # d/dx [x + 0.1 x|x|] = 1 + 0.2|x|; with b1 = 1 the |x|^0 term is 1 at 0
    assert lutgen.derivative("pau", [0.0, 2.0, -2.0]).tolist() == [1.0, 1.4, 1.4]
    assert lutgen.derivative("pau", 0.0, b1=1.5) == 0.0  # 1.5|x|^0.5 + 0.2|x| at 0


def test_pau_domain_ends_where_powers_overflow():
    # |a|*b*|x|^b <= DBL_MAX/4 for a = 1, b = 100
    radius = (sys.float_info.max / 400.0) ** (1 / 100)
    traits = get("pau").traits_for({"a1": 0.0, "a2": 1.0, "b2": 100.0})
    assert traits.domain == pytest.approx((-radius, radius), rel=1e-12)
    assert radius < 1e4
    with np.errstate(all="raise"):
        assert np.all(np.isfinite(lutgen.reference("pau", [-radius, radius], a1=0.0, b2=100.0,
                                                   a2=1.0)))
        assert np.all(np.isfinite(lutgen.derivative("pau", [-radius, radius], a1=0.0,
                                                    b2=100.0, a2=1.0)))
    assert get("pau").traits_for().domain[1] > 1e100


def test_evonorm_derivative_closed_form():
    # d/dx x/sqrt(v x^2 + K) = K/(v x^2 + K)^1.5, K = (1 - v)*running_v + eps
    for x in (-2.0, 0.0, 0.7, 5.0):
        expected = EVONORM_K / (0.1 * x * x + EVONORM_K) ** 1.5
        assert lutgen.derivative("evonorm_b0", x) == pytest.approx(expected, rel=1e-13)
