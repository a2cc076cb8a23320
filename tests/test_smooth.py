"""The smooth / modern catalog: known values, parameters, and the declared traits."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest

import lutgen
from lutgen.activations import activations, get

REL = 1e-12
SQRT2 = math.sqrt(2.0)
E = math.e
PI = math.pi


def sigm(x):
    """Logistic sigmoid from the math module."""
    return 1.0 / (1.0 + math.exp(-x))


def phi(x):
    """Standard normal CDF from math.erfc (accurate in the lower tail)."""
    return 0.5 * math.erfc(-x / SQRT2)


def decimal_squareplus(x: int, b: int) -> float:
    """(x + sqrt(x^2 + b))/2 in 50-digit decimal arithmetic."""
    with localcontext() as ctx:
        ctx.prec = 50
        return float((Decimal(x) + (Decimal(x) ** 2 + b).sqrt()) / 2)


ALPHA_SUGAR = 1.67

# (x, params, expected); each expected value from the math module or a derivation by hand
CHECKS: dict[str, list[tuple[float, dict, float]]] = {
    "gelu": [
        (0.0, {}, 0.0),  # 0 * Phi(0)
        (1.0, {}, 0.8413447460685429),  # Phi(1) = (1 + erf(1/sqrt 2))/2
        (-1.0, {}, -phi(-1.0)),  # -0.1586552539314571
        (2.0, {}, 2.0 * phi(2.0)),
        (-6.0, {}, -6.0 * phi(-6.0)),  # lower tail: erfc keeps relative accuracy
    ],
    "gelu_tanh": [
        (0.0, {}, 0.0),
        (1.0, {}, 0.5 * (1.0 + math.tanh(math.sqrt(2 / PI) * (1.0 + 0.044715)))),
        (-2.0, {}, -1.0 * (1.0 + math.tanh(math.sqrt(2 / PI) * (-2.0 - 0.044715 * 8)))),
        (3.0, {}, 1.5 * (1.0 + math.tanh(math.sqrt(2 / PI) * (3.0 + 0.044715 * 27)))),
    ],
    "swish": [
        (1.0, {}, sigm(1.0)),  # beta = 1 is SiLU
        (2.0, {"beta": 0.5}, 2.0 * sigm(1.0)),
        (3.0, {"beta": 0.0}, 1.5),  # x * sigma(0) = x/2
        (-1.0, {"beta": -2.0}, -sigm(2.0)),
    ],
    "silu": [
        (0.0, {}, 0.0),
        (1.0, {}, 1.0 / (1.0 + math.exp(-1.0))),  # 0.7310585786300049
        (-1.0, {}, -1.0 / (1.0 + E)),
        (10.0, {}, 10.0 / (1.0 + math.exp(-10.0))),
    ],
    "eswish": [
        (1.0, {}, 1.5 * sigm(1.0)),
        (-2.0, {}, -3.0 * sigm(-2.0)),
        (1.0, {"beta": 2.0}, 2.0 * sigm(1.0)),
        (0.0, {"beta": 1.25}, 0.0),
    ],
    "mish": [
        (0.0, {}, 0.0),
        (1.0, {}, math.tanh(math.log(1.0 + E))),  # 0.8650983882673103
        (-1.0, {}, -math.tanh(math.log(1.0 + 1.0 / E))),  # -0.3034014613741089
        (5.0, {}, 5.0 * math.tanh(math.log1p(math.exp(5.0)))),
        (-30.0, {}, -30.0 * math.tanh(math.log1p(math.exp(-30.0)))),
    ],
    "b_silu": [
        (0.0, {}, 0.0),  # (0 + a)*1/2 - a/2
        (1.0, {}, (1.0 + ALPHA_SUGAR) * sigm(1.0) - ALPHA_SUGAR / 2),
        (-3.0, {}, (-3.0 + ALPHA_SUGAR) * sigm(-3.0) - ALPHA_SUGAR / 2),
        (2.0, {"alpha": 0.0}, 2.0 * sigm(2.0)),  # alpha = 0 is SiLU
        (-1.0, {"alpha": 1.0}, 0.0 * sigm(-1.0) - 0.5),  # x = -alpha zeroes the product
    ],
    "squareplus": [
        (0.0, {}, 1.0),  # sqrt(4)/2
        (1.5, {}, 2.0),  # (1.5 + sqrt(2.25 + 4))/2 = (1.5 + 2.5)/2
        (-1.5, {}, 0.5),  # (-1.5 + 2.5)/2
        (3.0, {"b": 0.0}, 3.0),  # b = 0 is ReLU
        (-3.0, {"b": 0.0}, 0.0),
        (0.0, {"b": 0.0}, 0.0),
        (-1e4, {}, decimal_squareplus(-10_000, 4)),  # cancels in float64: 50-digit Decimal
    ],
    "sqnl": [
        (0.0, {}, 0.0),
        (1.0, {}, 0.75),  # 1 - 1/4
        (-1.0, {}, -0.75),  # -1 + 1/4
        (2.0, {}, 1.0),  # 2 - 4/4
        (3.0, {}, 1.0),
        (-2.5, {}, -1.0),
    ],
    "bent_identity": [
        (0.0, {}, 0.0),
        (1.0, {}, (math.sqrt(2.0) - 1.0) / 2 + 1.0),
        (-1.0, {}, (math.sqrt(2.0) - 1.0) / 2 - 1.0),
        (3.0, {}, (math.sqrt(10.0) - 1.0) / 2 + 3.0),
    ],
    "tanhexp": [
        (0.0, {}, 0.0),
        (1.0, {}, math.tanh(E)),
        (-1.0, {}, -math.tanh(1.0 / E)),
        (2.0, {}, 2.0 * math.tanh(E * E)),
    ],
    "softplus": [
        (0.0, {}, math.log(2.0)),
        (1.0, {}, math.log(1.0 + E)),  # 1.3132616875182228
        (-1.0, {}, math.log(1.0 + 1.0 / E)),
        (40.0, {}, 40.0 + math.log1p(math.exp(-40.0))),
        (-40.0, {}, math.log1p(math.exp(-40.0))),  # ~4.2e-18, must not be rounded to 0
    ],
    "parametric_softplus": [
        (0.0, {}, math.log(2.0)),
        (1.0, {"alpha": 2.0, "beta": 2.0}, math.log(1.0 + E * E) / 2),
        (1.0, {"alpha": 1.0, "beta": 0.5}, 2.0 * math.log(1.0 + E)),
        (-3.0, {"alpha": 2.0, "beta": 1.0}, math.log1p(math.exp(-6.0))),
    ],
    "softsign": [
        (0.0, {}, 0.0),
        (1.0, {}, 0.5),
        (-3.0, {}, -0.75),
        (9.0, {}, 0.9),
    ],
    "log_sigmoid": [
        (0.0, {}, -math.log(2.0)),
        (1.0, {}, -math.log(1.0 + 1.0 / E)),
        (-1.0, {}, -math.log(1.0 + E)),
        (-50.0, {}, -50.0 - math.log1p(math.exp(-50.0))),
        (50.0, {}, -math.log1p(math.exp(-50.0))),
    ],
    "learnable_sigmoid": [
        (0.0, {}, 0.5),
        (1.0, {}, sigm(1.0)),
        (1.0, {"alpha": 2.0, "beta": -1.0}, sigm(1.0)),
        (0.0, {"alpha": 3.0, "beta": 2.0}, sigm(2.0)),
        (2.0, {"alpha": -1.0, "beta": 0.0}, sigm(-2.0)),
    ],
    "arctan": [
        (0.0, {}, 0.0),
        (1.0, {}, PI / 4),
        (-1.0, {}, -PI / 4),
        (math.sqrt(3.0), {}, PI / 3),
    ],
    "sine": [
        (0.0, {}, 0.0),
        (PI / 6, {}, 0.5),
        (PI / 2, {}, 1.0),
        (-PI / 2, {}, -1.0),
    ],
    "cosine": [
        (0.0, {}, 1.0),
        (PI / 3, {}, 0.5),
        (PI, {}, -1.0),
        (-PI / 3, {}, 0.5),
    ],
    "sinc": [
        (0.0, {}, 1.0),
        (0.5, {}, 2.0 / PI),  # sin(pi/2)/(pi/2)
        (-0.5, {}, 2.0 / PI),
        (1.5, {}, -2.0 / (3.0 * PI)),  # sin(3pi/2)/(3pi/2)
        (1.0, {}, 0.0),  # zero at the nonzero integers
        (1e-3, {}, math.sin(PI * 1e-3) / (PI * 1e-3)),
    ],
    "sinc_unnormalized": [
        (0.0, {}, 1.0),
        (PI / 2, {}, 2.0 / PI),
        (1.0, {}, math.sin(1.0)),  # 0.8414709848078965
        (-2.0, {}, math.sin(2.0) / 2.0),
        (PI, {}, 0.0),
    ],
}

# (x, params, expected derivative), each derived by hand
DERIVATIVE_CHECKS: dict[str, list[tuple[float, dict, float]]] = {
    "gelu": [(0.0, {}, 0.5), (1.0, {}, phi(1.0) + math.exp(-0.5) / math.sqrt(2 * PI))],
    "gelu_tanh": [(0.0, {}, 0.5)],
    "silu": [(0.0, {}, 0.5), (1.0, {}, sigm(1.0) * (1.0 + 1.0 * (1.0 - sigm(1.0))))],
    "swish": [(0.0, {"beta": 3.0}, 0.5), (2.0, {"beta": 0.0}, 0.5)],
    "mish": [(0.0, {}, 0.6)],  # tanh(ln 2) = 3/5, plus 0
    "b_silu": [(0.0, {}, 0.5 + ALPHA_SUGAR / 4)],  # sigma(0) + alpha*sigma'(0)
    "squareplus": [(0.0, {}, 0.5), (1.5, {}, (1.0 + 1.5 / 2.5) / 2)],
    "sqnl": [(0.0, {}, 1.0), (1.0, {}, 0.5), (-1.0, {}, 0.5), (3.0, {}, 0.0)],
    "bent_identity": [(0.0, {}, 1.0), (1.0, {}, 1.0 + 1.0 / (2.0 * SQRT2))],
    "tanhexp": [(0.0, {}, math.tanh(1.0) + 0.0)],
    "softplus": [(0.0, {}, 0.5), (2.0, {}, sigm(2.0))],
    "parametric_softplus": [(0.0, {"alpha": 3.0, "beta": 2.0}, 0.75)],  # (alpha/beta)/2
    "softsign": [(0.0, {}, 1.0), (1.0, {}, 0.25), (-3.0, {}, 1.0 / 16)],
    "log_sigmoid": [(0.0, {}, 0.5), (-2.0, {}, sigm(2.0))],
    "learnable_sigmoid": [(0.0, {"alpha": 4.0, "beta": 0.0}, 1.0)],  # alpha/4
    "arctan": [(0.0, {}, 1.0), (1.0, {}, 0.5)],
    "sine": [(0.0, {}, 1.0), (PI / 3, {}, 0.5)],
    "cosine": [(0.0, {}, 0.0), (PI / 6, {}, -0.5)],
    "sinc": [(0.0, {}, 0.0), (0.5, {}, -4.0 / PI), (1.0, {}, -1.0)],  # (cos(pi x) - sinc x)/x
    # near 0: (y cos y - sin y)/y^2 = -y/3 + y^3/30 - ...
    "sinc_unnormalized": [(0.0, {}, 0.0), (PI / 2, {}, -4.0 / PI**2),
                          (1e-4, {}, -1e-4 / 3 + 1e-12 / 30)],
}


def approx_or_zero(expected, rel=REL):
    # a true zero (sin(pi) and friends) gets an absolute tolerance of a few ulps of 1
    return pytest.approx(expected, rel=rel, abs=1e-15 if expected == 0 else 0.0)


def known_cases(values, derivatives):
    """pytest params (fn, name, x, params, expected, rel) for values and derivatives."""
    kinds = ((lutgen.reference, "", REL, values), (lutgen.derivative, "d", 1e-11, derivatives))
    return [pytest.param(fn, n, x, p, e, rel, id=f"{d}{n}({x:g},{p})")
            for fn, d, rel, checks in kinds for n, cs in checks.items() for x, p, e in cs]


def names_in(category):
    return sorted(n for n, a in activations().items() if a.category == category)


def test_every_smooth_activation_has_checks():
    assert names_in("smooth") == sorted(CHECKS)
    for name, cases in CHECKS.items():
        assert len(cases) >= 3, name
        assert any(p for _, p, _ in cases) or not get(name).params, f"{name}: no non-default case"


@pytest.mark.parametrize("fn,name,x,params,expected,rel", known_cases(CHECKS, DERIVATIVE_CHECKS))
def test_known_value(fn, name, x, params, expected, rel):
    assert float(fn(name, x, **params)) == approx_or_zero(expected, rel)


def test_squareplus_matches_published_doctest_values():
    # TheAlgorithms/Python neural_network/activation_functions/squareplus.py doctests,
    # printed by numpy to 8 decimals: good to half a unit in the last place
    x = [2.3, 0.6, -2.0, -3.8]
    expected = [2.5, 1.06811457, 0.22474487, 0.12731349]
    assert lutgen.reference("squareplus", x, b=2) == pytest.approx(expected, rel=0, abs=5e-9)
    expected3 = [0.0808119, 0.72891979, 1.11977651, 0.15893419]
    got = lutgen.reference("squareplus", [-9.2, -0.3, 0.45, -4.56], b=3)
    assert got == pytest.approx(expected3, rel=0, abs=5e-9)


def test_aliases():
    assert get("gelu_erf") is get("gelu")
    assert get("logsigmoid") is get("log_sigmoid")
    assert get("atan") is get("arctan")
    assert get("sin") is get("sine") and get("cos") is get("cosine")


# ---- parameters -----------------------------------------------------------------------
@pytest.mark.parametrize("name,params,bad", [
    ("squareplus", {"b": -1.0}, "-1.0"),
    ("parametric_softplus", {"beta": 0.0}, "0.0"),
    ("parametric_softplus", {"beta": -2.0}, "-2.0"),
    ("parametric_softplus", {"alpha": -0.5}, "-0.5"),
    ("eswish", {"beta": 0.0}, "0.0"),
    ("b_silu", {"alpha": -0.25}, "-0.25"),
    ("swish", {"beta": float("inf")}, "inf"),
    ("swish", {"beta": float("nan")}, "nan"),
    ("learnable_sigmoid", {"alpha": "steep"}, "steep"),
    ("gelu", {"beta": 1.0}, "beta"),
])
def test_bad_parameter_is_rejected_with_its_value(name, params, bad):
    with pytest.raises(lutgen.ParameterError, match=bad) as info:
        lutgen.reference(name, 0.5, **params)
    assert name in str(info.value)


def test_bound_message_says_what_is_allowed():
    with pytest.raises(lutgen.ParameterError, match=r"b=-1.0 .*allowed: a finite number >= 0"):
        lutgen.reference("squareplus", 0.0, b=-1.0)


def test_squareplus_parameters_from_barron():
    x = np.linspace(-20.0, 20.0, 400001)
    softplus = np.logaddexp(0.0, x)  # numpy's own softplus, independent of lutgen's
    # b >= 4 ln^2 2 keeps squareplus above softplus: at 0, sqrt(b)/2 >= ln 2
    for b in (4 * math.log(2.0) ** 2, 2.0, 4.0, 9.0):
        assert np.min(lutgen.reference("squareplus", x, b=b) - softplus) >= -1e-15, b
    assert np.min(lutgen.reference("squareplus", x, b=1.9) - softplus) < 0
    # b = 1.52382103 is the minimax fit, with max gap 0.075931
    gap = np.abs(lutgen.reference("squareplus", x, b=1.52382103) - softplus)
    assert np.max(gap) == pytest.approx(0.075931, abs=1e-5)


def test_b_silu_with_alpha_zero_is_silu():
    x = np.linspace(-20.0, 20.0, 4001)
    assert np.array_equal(lutgen.reference("b_silu", x, alpha=0.0), lutgen.reference("silu", x))


def test_gelu_tanh_is_within_1e_3_of_gelu():
    x = np.linspace(-10.0, 10.0, 200001)
    diff = np.abs(lutgen.reference("gelu_tanh", x) - lutgen.reference("gelu", x))
    assert 1e-4 < np.max(diff) < 1e-3


# ---- declared traits hold -------------------------------------------------------------
def test_b_silu_asymptotes_are_derived():
    # x -> -inf: (x + a)*sigma(x) -> 0 leaves -a/2; x -> +inf: x + a - a/2
    t = get("b_silu").traits_for()
    assert (t.neg.slope, t.neg.intercept) == (0.0, -ALPHA_SUGAR / 2)
    assert (t.pos.slope, t.pos.intercept) == (1.0, ALPHA_SUGAR / 2)
    t = get("bent_identity").traits_for()
    assert (t.neg.slope, t.neg.intercept, t.pos.slope, t.pos.intercept) == (0.5, -0.5, 1.5, -0.5)


# non-default parameter sets whose traits differ from the defaults'
TRAIT_PARAMS = {
    "swish": [{"beta": 0.0}, {"beta": -1.5}, {"beta": 4.0}],
    "eswish": [{"beta": 2.0}],
    "b_silu": [{"alpha": 0.0}, {"alpha": 3.0}],
    "squareplus": [{"b": 0.0}, {"b": 1.52382103}],
    "parametric_softplus": [{"alpha": 3.0, "beta": 0.5}],
    "learnable_sigmoid": [{"alpha": -2.0, "beta": 0.0}, {"alpha": 0.5, "beta": 1.0},
                          {"alpha": 0.0, "beta": 1.0}],
}


def trait_cases(category, extra):
    return [pytest.param(n, p, id=f"{n}{p or ''}") for n in names_in(category)
            for p in [{}, *extra.get(n, [])]]


def _gap(name, params, side, asym, at):
    x = side * np.linspace(at - 10.0, at, 2001)
    return np.max(np.abs(lutgen.reference(name, x, **params) - asym(x)))


def check_asymptotes(name, params):
    t = get(name).traits_for(params)
    for side, asym in ((-1, t.neg), (1, t.pos)):
        if asym is None:
            continue
        # some close in as 1/x (arctan, softsign, squareplus, sinc): small at 1e4, tiny at 1e8
        assert _gap(name, params, side, asym, 1e4) < 1e-3
        assert _gap(name, params, side, asym, 1e8) < 1e-6


def check_symmetry(name, params):
    act = get(name)
    t = act.traits_for(params)
    lo, hi = act.default_range
    x = np.linspace(0.0, 2 * max(abs(lo), abs(hi)), 20001)
    f, f_neg = act.evaluate(x, params), act.evaluate(-x, params)
    if t.symmetry == "even_line":  # f(x) - slope*x is even: compare those, to rounding of x
        h, h_neg = f - t.slope * x, f_neg + t.slope * x
        assert (np.abs(h_neg - h) <= 1e-12 * np.maximum(1.0, np.abs(x))).all()
        assert t.slope != 0 and np.max(np.abs(f_neg - f)) > 1e-6  # not merely even
        return
    mirror = {"odd": -f, "even": f, "point": 2 * t.center - f, None: None}[t.symmetry]
    if mirror is None:  # undeclared: neither even nor point-symmetric about (0, f(0))
        assert np.max(np.abs(f_neg - f)) > 1e-6
        assert np.max(np.abs(f_neg + f - 2 * f[0])) > 1e-6
    else:
        assert f_neg == pytest.approx(mirror, rel=1e-12, abs=1e-15)


def check_monotonic(name, params):
    act = get(name)
    lo, hi = act.default_range
    x = np.concatenate([np.linspace(lo, hi, 100001), np.linspace(-60.0, 60.0, 100001)])
    f = act.evaluate(np.unique(x), params)
    steps = np.diff(f)
    ulps = 4 * np.finfo(float).eps * np.maximum(1.0, np.abs(f[1:]))  # rounding, not shape
    mono = act.traits_for(params).monotonic
    if mono == "increasing":
        assert np.all(steps >= -ulps)
    elif mono == "decreasing":
        assert np.all(steps <= ulps)
    else:  # undeclared: it really goes both ways
        assert np.min(steps) < -1e-9 and np.max(steps) > 1e-9


@pytest.mark.parametrize("check", [check_asymptotes, check_symmetry, check_monotonic])
@pytest.mark.parametrize("name,params", trait_cases("smooth", TRAIT_PARAMS))
def test_declared_traits_hold(check, name, params):
    check(name, params)


def test_traits_follow_parameters():
    swish = get("swish")
    assert swish.traits_for({"beta": 0.0}).symmetry == "odd"
    assert swish.traits_for({"beta": -1.0}).pos.to_dict() == {"slope": 0.0, "intercept": 0.0}
    ls = get("learnable_sigmoid")
    assert ls.traits_for().symmetry == "point" and ls.traits_for().center == 0.5
    assert ls.traits_for({"beta": 1.0}).symmetry is None
    assert ls.traits_for({"alpha": -1.0}).monotonic == "decreasing"
    assert get("eswish").traits_for({"beta": 2.0}).pos.slope == 2.0
    assert get("parametric_softplus").traits_for({"alpha": 3.0, "beta": 0.5}).pos.slope == 6.0


def test_default_ranges():
    assert get("sine").default_range == (-PI, PI) == get("cosine").default_range
    assert get("gelu").default_range == (-8.0, 8.0)
