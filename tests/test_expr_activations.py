"""Registered activations called inside expressions: gelu(x), sigmoid(2*x), x*gelu(x/2)..."""

import numpy as np
import pytest

from lutgen import compile_table
from lutgen.activations import activation, activations, from_expression, get, unregister
from lutgen.activations.expression import _FUNCTIONS
from lutgen.errors import ExpressionError, SpecError
from lutgen.spec import make_spec

XS = np.linspace(-6.0, 6.0, 1201)
ELEMENTWISE = sorted(a.name for a in activations().values()
                     if not a.composite and a.n_outputs == 1 and a.expression is None
                     and a.name not in _FUNCTIONS)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_called_activation_equals_the_registry(name):
    act = get(name)
    lo, hi = act.range_for()
    xs = np.linspace(lo, hi, 257)
    expr = from_expression(f"{name}(x)")
    np.testing.assert_array_equal(expr(xs), act.evaluate(xs))
    if act.derivative is not None:
        np.testing.assert_array_equal(expr.evaluate(xs, derivative=True),
                                      act.evaluate(xs, derivative=True))


def test_builtin_names_keep_their_meaning():
    # sigmoid, tanh, relu... are expression functions already; the registry's agree anyway
    for name in ("sigmoid", "tanh", "relu", "softplus", "exp"):
        assert name in _FUNCTIONS
        np.testing.assert_allclose(from_expression(f"{name}(x)")(XS), get(name).evaluate(XS),
                                   rtol=1e-15, atol=1e-300)


@pytest.mark.parametrize("text, reference", [
    ("sigmoid(2*x)", lambda x: get("sigmoid").evaluate(2 * x)),
    ("x*gelu(x/2)", lambda x: x * get("gelu").evaluate(x / 2)),
    ("hard_swish(x) + mish(x)", lambda x: get("hard_swish").evaluate(x) + get("mish").evaluate(x)),
    ("gelu(tanh(x))", lambda x: get("gelu").evaluate(np.tanh(x))),
])
def test_composed_values_and_chain_rule(text, reference):
    act = from_expression(text)
    np.testing.assert_allclose(act(XS), reference(XS), rtol=0, atol=1e-15)
    h = 1e-6
    central = (reference(XS + h) - reference(XS - h)) / (2 * h)
    # away from hard_swish's kinks at -3 and 3, where one-sided slopes differ
    smooth = (np.abs(np.abs(XS) - 3) > 1e-3)
    np.testing.assert_allclose(act.evaluate(XS, derivative=True)[smooth], central[smooth],
                               rtol=1e-6, atol=1e-7)


def test_leaky_relu_uses_its_default_slope():
    slope = get("leaky_relu").defaults["alpha"]
    assert slope == 0.01
    act = from_expression("leaky_relu(x)")
    assert act(-2.0) == pytest.approx(-2.0 * slope)
    assert act.evaluate(-2.0, derivative=True) == pytest.approx(slope)


@pytest.mark.parametrize("text, message", [
    ("gelu_tahn(x)", "unknown function 'gelu_tahn'; did you mean 'gelu_tanh'?"),
    ("softmax(x)", "activation 'softmax' is not element-wise and cannot be called"),
    ("crelu(x)", "activation 'crelu' has 2 outputs and cannot be called"),
    ("leaky_relu(x, 0.2)", "activation 'leaky_relu' takes one argument (its parameters keep "
                           "their defaults), got 'leaky_relu(x, 0.2)'"),
    ("gelu(x=1)", "activation 'gelu' takes one argument"),
    ("gelu + 1", "function 'gelu' must be called, e.g. gelu(x)"),
])
def test_bad_calls(text, message):
    with pytest.raises(ExpressionError) as info:
        from_expression(text)
    assert message in str(info.value)


def test_activation_without_derivative_gives_expression_without_one():
    @activation(name="no_slope_for_expr", range=(-2, 2))
    def no_slope_for_expr(x):
        return np.tanh(x) * 0.5

    try:
        act = from_expression("2*no_slope_for_expr(x)")
        np.testing.assert_array_equal(act(XS), np.tanh(XS))
        assert act.derivative is None
        with pytest.raises(SpecError, match="an activation it calls has none"):
            make_spec("e", expr="2*no_slope_for_expr(x)", derivative=True)
        assert from_expression("gelu(x)").derivative is not None
    finally:
        unregister("no_slope_for_expr")


def test_expression_table_equals_the_activation_table():
    opts = dict(in_format="s8.4", out_format="s8.6", range=(-4.0, 4.0), entries=32,
                tails="clamp")
    named = compile_table("gelu", **opts)
    expr = compile_table("g", expr="gelu(x)", **opts)
    np.testing.assert_array_equal(expr.values, named.values)
    codes = named.in_format.codes()
    np.testing.assert_array_equal(expr.eval_int(codes), named.eval_int(codes))


def test_cli_builds_an_expression_calling_gelu(tmp_path):
    from click.testing import CliRunner

    from lutgen.cli import cli

    result = CliRunner().invoke(cli, ["analyze", "--expr", "x*gelu(x)", "--in-format", "s8.4",
                                       "--out-format", "s8.5", "--json"])
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(cli, ["analyze", "--expr", "gelu_tahn(x)"])
    assert bad.exit_code == 2
    assert bad.output.startswith("Error: expression 'gelu_tahn(x)': unknown function "
                                 "'gelu_tahn'; did you mean 'gelu_tanh'?")
    assert bad.output.count("\n") == 1
