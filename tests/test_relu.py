"""The ReLU-family catalog (lutgen/activations/relu.py).

The generic checks (known values, stability, right-hand derivatives, declared traits, parameter
errors) are the methods of ``CatalogContract``, which tests/test_piecewise.py reuses.
"""

import math
from decimal import Decimal

import numpy as np
import pytest

import lutgen
from lutgen.activations import Activation, get, relu as relu_module

# Klambauer et al. 2017, eqs. 14-15, parsed from the paper's digits (not from lutgen).
SELU_LAMBDA = float(Decimal("1.0507009873554804934193349852946"))
SELU_ALPHA = float(Decimal("1.6732632423543772848170429916717"))
SELU_ALPHA_MISTYPED = 1.673261549988240216825385979984  # the seed article's copy


def _sigmoid(c):
    return 1.0 / (1.0 + math.exp(-c))


CHECKS: dict[str, list[tuple[float, dict, float]]] = {
    "relu": [
        (3.5, {}, 3.5),
        (-2.0, {}, 0.0),
        (0.0, {}, 0.0),
    ],
    "relu6": [
        (7.0, {}, 6.0),  # capped
        (2.5, {}, 2.5),
        (-1.0, {}, 0.0),
        (6.0, {}, 6.0),
    ],
    "leaky_relu": [
        (-2.0, {}, -0.02),  # 0.01 * -2
        (3.0, {}, 3.0),
        (-10.0, {"alpha": 0.2}, -2.0),
        (-1.5, {"alpha": -1.0}, 1.5),  # alpha = -1 is |x|
    ],
    "prelu": [
        (-2.0, {}, -0.5),  # 0.25 * -2
        (1.5, {}, 1.5),
        (-4.0, {"alpha": 0.1}, -0.4),
    ],
    "rrelu": [
        (-48.0, {}, -11.0),  # slope (1/8 + 1/3)/2 = 11/48
        (2.0, {}, 2.0),
        (-2.0, {"lower": 0.1, "upper": 0.3}, -0.4),  # slope 0.2
    ],
    "elu": [
        (-1.0, {}, math.exp(-1.0) - 1.0),  # -0.6321205588285577
        (2.0, {}, 2.0),
        (0.0, {}, 0.0),
        (-2.0, {"alpha": 0.5}, 0.5 * (math.exp(-2.0) - 1.0)),
    ],
    "selu": [
        # lambda*alpha*(e^-1 - 1) = -1.1113307378125625
        (-1.0, {}, SELU_LAMBDA * SELU_ALPHA * (math.exp(-1.0) - 1.0)),
        (1.0, {}, SELU_LAMBDA),
        (-1.0, {"scale": 1.0, "alpha": 1.0}, math.exp(-1.0) - 1.0),  # plain ELU
        (3.0, {"scale": 2.0, "alpha": 1.0}, 6.0),
    ],
    "celu": [
        (-1.0, {}, math.exp(-1.0) - 1.0),  # alpha = 1 is ELU
        (-1.0, {"alpha": 2.0}, 2.0 * (math.exp(-0.5) - 1.0)),
        (3.0, {"alpha": 2.0}, 3.0),
    ],
    "srelu": [
        (-2.0, {}, -0.02),  # 0 + 0.01*(-2 - 0)
        (0.5, {}, 0.5),
        (3.0, {}, 1.02),  # 1 + 0.01*(3 - 1)
        (-3.0, {"tl": -1.0, "al": 0.1, "tr": 2.0, "ar": 0.5}, -1.2),  # -1 + 0.1*(-2)
        (4.0, {"tl": -1.0, "al": 0.1, "tr": 2.0, "ar": 0.5}, 3.0),  # 2 + 0.5*2
    ],
    "crelu": [  # [relu(x), relu(-x)]
        (2.0, {}, (2.0, 0.0)),
        (-3.0, {}, (0.0, 3.0)),
        (0.0, {}, (0.0, 0.0)),
    ],
    "dynamic_relu": [
        (-2.0, {}, -0.21),  # c = 0: a = 0.01 + 0.19/2 = 0.105, b = 0
        (1.5, {}, 1.5),
        # c = 1: a = 0.01 + 0.19*sigmoid(1), b = 0.1*tanh(1)
        (-2.0, {"c": 1.0}, -2.0 * (0.01 + 0.19 * _sigmoid(1.0)) + 0.1 * math.tanh(1.0)),
        (-1.0, {"c": -1.0, "a_min": 0.0, "a_max": 1.0, "b_scale": 1.0},
         -_sigmoid(-1.0) + math.tanh(-1.0)),
    ],
    "quant_relu": [
        (0.3, {}, 0.25),  # 0.3*4 = 1.2 -> 1 -> 1/4
        (0.125, {}, 0.25),  # tie 0.5 rounds up (np.round would give 0)
        (0.375, {}, 0.5),  # tie 1.5 rounds up (np.round also gives 2)
        (5.0, {}, 1.0),
        (-1.0, {}, 0.0),
        (3.0, {"levels": 3, "max_val": 6.0}, 4.0),  # 3/6*3 = 1.5, tie -> 2 -> 2/3*6
        (2.9, {"levels": 3, "max_val": 6.0}, 2.0),  # 1.45 -> 1 -> 2
    ],
}

# (name, params, kinks): the configurations every generic property test runs on.
CONFIGS = [
    ("relu", {}, [0.0]),
    ("relu6", {}, [0.0, 6.0]),
    ("leaky_relu", {}, [0.0]),
    ("leaky_relu", {"alpha": 1.0}, []),
    ("leaky_relu", {"alpha": -1.0}, [0.0]),
    ("leaky_relu", {"alpha": -0.5}, [0.0]),
    ("prelu", {}, [0.0]),
    ("rrelu", {}, [0.0]),
    ("rrelu", {"lower": 0.0, "upper": 0.0}, [0.0]),
    ("elu", {}, []),
    ("elu", {"alpha": 2.0}, [0.0]),
    ("elu", {"alpha": -0.5}, [0.0]),
    ("selu", {}, [0.0]),
    ("selu", {"scale": 2.0, "alpha": 0.5}, [0.0]),
    ("celu", {}, []),
    ("celu", {"alpha": 0.01}, []),
    ("celu", {"alpha": 1e-300}, []),
    ("celu", {"alpha": 5.0}, []),
    ("srelu", {}, [0.0, 1.0]),
    ("srelu", {"tl": -1.0, "al": 0.2, "tr": 1.0, "ar": 0.2}, [-1.0, 1.0]),
    ("srelu", {"tl": -2.0, "al": -0.5, "tr": 3.0, "ar": 2.0}, [-2.0, 3.0]),
    ("crelu", {}, [0.0]),
    ("dynamic_relu", {}, [0.0]),
    ("dynamic_relu", {"c": 2.0}, [0.0]),
    ("dynamic_relu", {"c": -2.0}, [0.0]),
    ("quant_relu", {}, None),  # a staircase: no derivative check
    ("quant_relu", {"levels": 7, "max_val": 0.5}, None),
]

# (name, params, monotonic, symmetry, neg, pos), asymptotes as (slope, intercept): by hand.
EXPECTED_TRAITS = [
    ("relu", {}, "increasing", None, (0.0, 0.0), (1.0, 0.0)),
    ("relu6", {}, "increasing", None, (0.0, 0.0), (0.0, 6.0)),
    ("leaky_relu", {}, "increasing", None, (0.01, 0.0), (1.0, 0.0)),
    ("leaky_relu", {"alpha": 1.0}, "increasing", "odd", (1.0, 0.0), (1.0, 0.0)),
    ("leaky_relu", {"alpha": -1.0}, None, "even", (-1.0, 0.0), (1.0, 0.0)),
    ("elu", {"alpha": 2.0}, "increasing", None, (0.0, -2.0), (1.0, 0.0)),
    ("elu", {"alpha": -0.5}, None, None, (0.0, 0.5), (1.0, 0.0)),
    ("selu", {}, "increasing", None,
     (0.0, -float(Decimal("1.0507009873554804934193349852946")
                  * Decimal("1.6732632423543772848170429916717"))),
     (SELU_LAMBDA, 0.0)),
    ("celu", {"alpha": 3.0}, "increasing", None, (0.0, -3.0), (1.0, 0.0)),
    ("srelu", {}, "increasing", None, (0.01, 0.0), (0.01, 0.99)),
    ("srelu", {"tl": -1.0, "al": 0.2, "tr": 1.0, "ar": 0.2}, "increasing", "odd",
     (0.2, -0.8), (0.2, 0.8)),
    ("srelu", {"tl": -2.0, "al": -0.5, "tr": 3.0, "ar": 2.0}, None, None,
     (-0.5, -3.0), (2.0, -3.0)),
    # mirrored thresholds but unequal outer slopes: not odd
    ("srelu", {"tl": -1.0, "al": 0.2, "tr": 1.0, "ar": 0.5}, "increasing", None,
     (0.2, -0.8), (0.5, 0.5)),
    ("crelu", {}, None, None, None, None),
    ("dynamic_relu", {}, "increasing", None, (0.105, 0.0), (1.0, 0.0)),
    ("dynamic_relu", {"c": 2.0}, None, None,
     (0.01 + 0.19 * _sigmoid(2.0), 0.1 * math.tanh(2.0)), (1.0, 0.0)),
    ("quant_relu", {"levels": 7, "max_val": 0.5}, "increasing", None, (0.0, 0.0), (0.0, 0.5)),
]

# (name, params, fragments the message must contain)
PARAM_ERRORS = [
    ("leaky_relu", {"alpha": "steep"}, ["alpha='steep'", "a finite number"]),
    ("leaky_relu", {"alhpa": 0.1}, ["'alhpa'", "did you mean 'alpha'"]),
    ("rrelu", {"lower": -0.1}, ["lower=-0.1", ">= 0"]),
    ("rrelu", {"lower": 0.5, "upper": 0.2}, ["lower=0.5", "upper=0.2", "lower <= upper"]),
    ("elu", {"alpha": math.inf}, ["alpha=inf", "a finite number"]),
    ("selu", {"scale": 0}, ["scale=0", "> 0"]),
    ("selu", {"alpha": -1}, ["alpha=-1", ">= 0"]),
    ("celu", {"alpha": 0}, ["alpha=0", "> 0"]),
    ("celu", {"alpha": -1.5}, ["alpha=-1.5", "> 0"]),
    ("srelu", {"tl": 1.0, "tr": 1.0}, ["tl=1", "tr=1", "tl < tr"]),
    ("srelu", {"tl": 2.0}, ["tl=2", "tr=1", "tl < tr"]),
    ("dynamic_relu", {"a_min": 0.3}, ["a_min=0.3", "a_max=0.2", "a_min <= a_max"]),
    ("quant_relu", {"levels": 0}, ["levels=0", "an integer >= 1"]),
    ("quant_relu", {"levels": 2.5}, ["levels=2.5", "an integer"]),
    ("quant_relu", {"max_val": 0}, ["max_val=0", "> 0"]),
    ("quant_relu", {"max_val": -1.0}, ["max_val=-1", "> 0"]),
]


# ---- the generic tests, shared with tests/test_piecewise.py -------------------------------

def module_activations(module) -> dict[str, Activation]:
    """The activations a catalog module declares, by name (as amaranth's CRC_CHECKS test)."""
    return {v.name: v for v in vars(module).values() if isinstance(v, Activation)}


def _grid(act, n=100_001):
    lo, hi = act.default_range
    return np.linspace(min(lo, -20.0), max(hi, 20.0), n)


def _line(asym):
    return None if asym is None else (asym.slope, asym.intercept)


class CatalogContract:
    """What every entry of one catalog module must satisfy.

    A ``Test*`` subclass names the module and its tables (``checks``; ``configs`` as
    ``(name, params, kinks)``, kinks None for no difference-quotient check;
    ``expected_traits``; ``param_errors``); :func:`pytest_generate_tests` parametrizes each
    test below from them.
    """

    module = None
    category = ""
    names: list = []
    checks: dict = {}
    configs: list = []
    expected_traits: list = []
    param_errors: list = []

    def test_every_activation_has_checks(self):
        declared = module_activations(self.module)
        assert set(declared) == set(self.names) == set(self.checks)
        for name, act in declared.items():
            cases = self.checks[name]
            assert act.category == self.category
            assert len(cases) >= 3, name
            assert any(params == {} for _, params, _ in cases), f"{name}: no default-params check"
            if act.params:
                assert any(params for _, params, _ in cases), f"{name}: no non-default check"

    def test_known_values(self, name, x, params, expected):
        got = lutgen.reference(name, x, **params)
        assert got == pytest.approx(np.asarray(expected), rel=1e-12, abs=1e-300)

    def test_stable_over_wide_range(self, name, params, kinks):
        """f and f' finite, with no floating-point warning at all, over [-1e4, 1e4]."""
        x = np.concatenate([np.linspace(-1e4, 1e4, 40_001), np.linspace(-10.0, 10.0, 4001),
                            [0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324, 1e4, -1e4]])
        with np.errstate(all="raise"):
            f = lutgen.reference(name, x, **params)
            d = lutgen.derivative(name, x, **params)
        assert np.all(np.isfinite(f)) and np.all(np.isfinite(d))

    def test_derivative_is_right_hand(self, name, params, kinks):
        """f' equals the right difference quotient, at random points and at every kink."""
        act, h = get(name), 1e-7
        x = np.concatenate([np.random.default_rng(1).uniform(*act.default_range, 500), kinks])
        quotient = (act(x + h, **params) - act(x, **params)) / h
        assert lutgen.derivative(name, x, **params) == pytest.approx(quotient, rel=1e-6, abs=1e-6)

    def test_declared_traits_hold(self, name, params, kinks):
        act = get(name)
        traits = act.traits_for(params)
        for asym, end in ((traits.neg, -1e4), (traits.pos, 1e4)):
            if asym is not None:
                assert act(end, **params) == pytest.approx(float(asym(end)), rel=1e-12, abs=1e-6)
        x = _grid(act, 20_001)
        f, f_mirror = act(x, **params), act(-x, **params)
        mirror = {"odd": -f, "even": f, "point": 2 * traits.center - f}.get(traits.symmetry)
        if mirror is not None:
            assert f_mirror == pytest.approx(mirror, rel=1e-12, abs=1e-12)
        if traits.monotonic is not None:
            steps = np.diff(act(np.concatenate([[-1e4], _grid(act), [1e4]]), **params))
            assert np.all(steps >= 0 if traits.monotonic == "increasing" else steps <= 0)

    def test_traits(self, name, params, monotonic, symmetry, neg, pos):
        traits = get(name).traits_for(params)
        assert (traits.monotonic, traits.symmetry) == (monotonic, symmetry)
        assert _line(traits.neg) == (None if neg is None else pytest.approx(neg, rel=1e-15))
        assert _line(traits.pos) == (None if pos is None else pytest.approx(pos, rel=1e-15))

    def test_parameter_errors(self, name, params, fragments):
        with pytest.raises(lutgen.ParameterError) as info:
            lutgen.reference(name, 0.5, **params)
        for fragment in fragments:
            assert fragment in str(info.value)


_CONTRACT_ARGS = {
    "test_known_values": ("name, x, params, expected", lambda cls: [
        (name, x, params, expected)
        for name, cases in cls.checks.items() for x, params, expected in cases]),
    "test_stable_over_wide_range": ("name, params, kinks", lambda cls: cls.configs),
    "test_derivative_is_right_hand": ("name, params, kinks",
                                      lambda cls: [c for c in cls.configs if c[2] is not None]),
    "test_declared_traits_hold": ("name, params, kinks", lambda cls: cls.configs),
    "test_traits": ("name, params, monotonic, symmetry, neg, pos",
                    lambda cls: cls.expected_traits),
    "test_parameter_errors": ("name, params, fragments", lambda cls: cls.param_errors),
}


def pytest_generate_tests(metafunc):
    """Parametrize a CatalogContract subclass's tests from its tables."""
    cls, test = metafunc.cls, metafunc.function.__name__
    if cls is None or not issubclass(cls, CatalogContract) or test not in _CONTRACT_ARGS:
        return
    argnames, rows = _CONTRACT_ARGS[test]
    rows = rows(cls)
    ids = [f"{r[0]}({r[1]}, {r[2]})" if test == "test_known_values" else f"{r[0]}{r[1] or ''}"
           for r in rows]
    metafunc.parametrize(argnames, rows, ids=ids)


class TestReluFamily(CatalogContract):
    module = relu_module
    category = "relu"
    names = ["relu", "relu6", "leaky_relu", "prelu", "rrelu", "elu", "selu", "celu", "srelu",
             "crelu", "dynamic_relu", "quant_relu"]
    checks = CHECKS
    configs = CONFIGS
    expected_traits = EXPECTED_TRAITS
    param_errors = PARAM_ERRORS


# ---- specific behaviour -------------------------------------------------------------------

def test_selu_uses_the_papers_alpha_not_the_mistyped_copy():
    saturation = lutgen.reference("selu", -1e4)
    assert saturation == pytest.approx(-SELU_LAMBDA * SELU_ALPHA, rel=1e-15)
    assert saturation != pytest.approx(-SELU_LAMBDA * SELU_ALPHA_MISTYPED, rel=1e-9)


def test_relu_derivative_at_zero_is_right_hand():
    assert lutgen.derivative("relu", [-1.0, 0.0, 1.0]).tolist() == [0.0, 1.0, 1.0]
    assert lutgen.derivative("relu6", [0.0, 5.0, 6.0]).tolist() == [1.0, 1.0, 0.0]


def test_elu_derivative_below_zero():
    # d/dx alpha*(e^x - 1) = alpha*e^x
    assert lutgen.derivative("elu", -1.0, alpha=2.0) == pytest.approx(2.0 * math.exp(-1.0))


def test_crelu_has_two_outputs_and_derivatives():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    assert get("crelu").n_outputs == 2
    out = lutgen.reference("crelu", x)
    assert out.shape == (2, 5)
    assert out.tolist() == [[0.0, 0.0, 0.0, 0.5, 3.0], [2.0, 0.5, 0.0, 0.0, 0.0]]
    # d/dx relu(x) = [x >= 0]; d/dx relu(-x) = -[x < 0] (right-hand at 0)
    d = lutgen.derivative("crelu", x)
    assert d.tolist() == [[0.0, 0.0, 1.0, 1.0, 1.0], [-1.0, -1.0, 0.0, 0.0, 0.0]]


def test_srelu_is_continuous_at_both_thresholds():
    for params in ({}, {"tl": -1.0, "al": 0.3, "tr": 2.5, "ar": -0.2},
                   {"tl": 0.5, "al": 5.0, "tr": 0.75, "ar": 3.0}):
        p = get("srelu").resolve(params)
        for t in (p["tl"], p["tr"]):
            near = lutgen.reference("srelu", [t - 1e-9, t, t + 1e-9], **params)
            assert near[1] == t
            assert near == pytest.approx([t, t, t], abs=1e-8)


def test_dynamic_relu_jumps_at_zero_when_c_is_not_zero():
    # b = 0.1*tanh(2) is the value just left of 0; f(0) = 0.
    left, at0 = lutgen.reference("dynamic_relu", [-1e-12, 0.0], c=2.0)
    assert left == pytest.approx(0.1 * math.tanh(2.0), abs=1e-11)
    assert at0 == 0.0


@pytest.mark.parametrize("x, expected", [
    (0.125, 0.25), (0.375, 0.5), (0.625, 0.75), (0.875, 1.0),  # ties 0.5, 1.5, 2.5, 3.5 go up
    (0.1249, 0.0), (0.1251, 0.25),
])
def test_quant_relu_rounds_ties_half_up(x, expected):
    # np.round (half-even) would give 0.0 for 0.125 and 0.5 for 0.625.
    assert lutgen.reference("quant_relu", x, levels=4, max_val=1.0) == expected


def test_quant_relu_states_its_tie_rule():
    assert "half-up" in get("quant_relu").tie_rule
    assert get("quant_relu").to_dict()["tie_rule"] == get("quant_relu").tie_rule


@pytest.mark.parametrize("levels, max_val", [(1, 1.0), (4, 1.0), (7, 0.5), (255, 6.0)])
def test_quant_relu_outputs_exactly_levels_plus_one_values(levels, max_val):
    x = np.linspace(-2.0 * max_val, 3.0 * max_val, 200_001)
    values = np.unique(lutgen.reference("quant_relu", x, levels=levels, max_val=max_val))
    assert len(values) == levels + 1
    assert values == pytest.approx([k * max_val / levels for k in range(levels + 1)], rel=1e-15)


def test_quant_relu_derivative_is_zero_everywhere():
    x = np.linspace(-5.0, 5.0, 1001)
    assert not np.any(lutgen.derivative("quant_relu", x, levels=3, max_val=2.0))
