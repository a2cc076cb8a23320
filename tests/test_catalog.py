"""The catalog as a whole: every entry present, checked, stable, and with a right derivative."""

import importlib

import numpy as np
import pytest

import lutgen
from lutgen.activations import get

# Every name of shared/ACTIVATIONS.md
CATALOG = """
sigmoid tanh linear exp reciprocal softmax
relu relu6 leaky_relu prelu rrelu elu selu celu srelu crelu dynamic_relu quant_relu
gelu gelu_tanh swish silu eswish mish b_silu squareplus sqnl bent_identity tanhexp softplus
parametric_softplus softsign log_sigmoid learnable_sigmoid arctan sine cosine sinc
sinc_unnormalized
glu geglu swiglu reglu
hard_sigmoid hard_sigmoid_torch hard_swish maxout pau evonorm_b0 lut
""".split()

CHECK_MODULES = ["test_classic", "test_relu", "test_smooth", "test_gated", "test_piecewise",
                 "test_user"]


def _all_checks():
    checks = {}
    for mod in CHECK_MODULES:
        checks.update(importlib.import_module(f"tests.{mod}").CHECKS)
    return checks


def _catalog_acts():
    return [a for a in lutgen.activations().values() if a.category != "user"]


def test_every_catalog_entry_is_registered():
    missing = [n for n in CATALOG if n not in lutgen.activations()]
    assert not missing, f"not registered: {missing}"
    assert len(CATALOG) == 50


def test_every_registered_activation_has_check_values():
    checks = _all_checks()
    missing = [a.name for a in _catalog_acts() if len(checks.get(a.name, [])) < 3]
    assert not missing, f"fewer than 3 check values: {missing}"


@pytest.mark.parametrize("name", CATALOG)
def test_declaration_is_complete(name):
    act = get(name)
    assert act.description and act.source and act.formula
    assert act.category in lutgen.activations()[act.name].category
    lo, hi = act.default_range
    assert lo < hi
    for p in act.params:  # defaults pass their own validation
        assert act.resolve({p.name: p.default})[p.name] == p.default


SWEEP = np.concatenate([np.linspace(-1e4, 1e4, 200_001), [0.0, 1e-300, -1e-300, 5e-324]])


@pytest.mark.parametrize("name", [n for n in CATALOG if n != "softmax"])
def test_stable_over_wide_inputs(name):
    act = get(name)
    traits = act.traits_for()
    lo, hi = traits.domain
    near_pole = np.zeros(SWEEP.size, bool)
    for p in traits.poles:  # subnormals count as 0, so 5e-324 sits on a pole at 0
        near_pole |= np.abs(SWEEP - p) < np.finfo(float).tiny
    x = SWEEP[(SWEEP >= lo) & (SWEEP <= hi) & ~near_pole]
    with np.errstate(all="raise"):
        y = act.evaluate(x)
        d = act.evaluate(x, derivative=True) if act.derivative else None
    assert np.isfinite(y).all(), name
    if d is not None:
        # near a pole the derivative outgrows float64 (reciprocal: -1/x^2 at 1e-300)
        far = np.all([np.abs(x - p) > 1e-150 for p in traits.poles], axis=0) if traits.poles \
            else np.ones(x.size, bool)
        assert np.isfinite(d[..., far]).all()


def _fd_points(act):
    lo, hi = act.default_range
    n = 97
    # an irrational offset keeps the points off kinks at simple rationals
    return lo + (hi - lo) * (np.arange(n) + 0.5 * np.sqrt(2) - 0.5) / n


@pytest.mark.parametrize("name", [n for n in CATALOG if n != "softmax"])
def test_derivative_matches_central_difference(name):
    act = get(name)
    if act.derivative is None:
        pytest.fail(f"{name} has no analytic derivative")
    x = _fd_points(act)
    h = 1e-6
    fd = (act.evaluate(x + h) - act.evaluate(x - h)) / (2 * h)
    d = act.evaluate(x, derivative=True)
    np.testing.assert_allclose(d, fd, rtol=1e-5, atol=1e-5, err_msg=name)


def test_unknown_activation_suggests_the_closest():
    with pytest.raises(lutgen.UnknownActivationError) as err:
        lutgen.reference("gelu_tahn", 0.0)
    assert str(err.value) == "unknown activation 'gelu_tahn'; did you mean 'gelu_tanh'?"
    assert isinstance(err.value, KeyError)


def test_unknown_parameter_names_the_allowed_ones():
    with pytest.raises(lutgen.ParameterError, match="unknown parameter 'alpah'.*'alpha'"):
        lutgen.reference("leaky_relu", 0.0, alpah=0.1)


def test_derivative_is_public():
    assert lutgen.derivative("sigmoid", 0.0) == 0.25
