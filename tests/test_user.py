"""User-defined activations: @activation, from_expression, and the lut activation."""

import ast
import builtins
import math
import warnings
from fractions import Fraction

import numpy as np
import pytest

import lutgen
from lutgen.activations import Param, Traits, get
from lutgen.activations._registry import unregister
from lutgen.activations.expression import _FUNCTIONS
from lutgen.activations.user import activation, from_expression, load_points
from lutgen.errors import (
    ExpressionError,
    ParameterError,
    RangeError,
    SpecError,
    UnknownActivationError,
)

# Check values for the catalog entries this module registers: (x, params, expected).
# Default lut: knots xs = linspace(-5, 5, 13) (step 5/6), ys = round(sigmoid(xs), 4).
CUSTOM = {"xs": (0.0, 1.0, 3.0), "ys": (0.0, 2.0, -2.0)}
CHECKS = {
    "lut": [
        (0.0, {}, 0.5),  # the knot at 0: round(1/(1+e^0), 4)
        (-5.0, {}, 0.0067),  # the first knot: 1/(1 + e^5) = 1/149.41316 = 0.0066929
        # midway between the knots 0 and 5/6: (0.5 + round(1/(1+e^(-5/6)), 4))/2,
        # e^(-5/6) = 0.4345982, 1/1.4345982 = 0.6970592 -> 0.6971, mean 0.59855
        (5.0 / 12.0, {}, 0.59855),
        (7.0, {}, 0.9933),  # held beyond the last knot: 1/(1 + e^-5) = 0.9933071
        (2.0, CUSTOM, 0.0),  # midway between (1, 2) and (3, -2)
        (0.25, CUSTOM, 0.5),  # a quarter of the way from (0, 0) to (1, 2)
        (-1.0, CUSTOM, 0.0),  # held at ys[0] before the first knot
        (10.0, CUSTOM, -2.0),  # held at ys[-1] after the last knot
    ],
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_values(name):
    for x, params, expected in CHECKS[name]:
        assert lutgen.reference(name, x, **params) == pytest.approx(expected, abs=1e-12)


@pytest.fixture
def cleanup():
    """Names registered by a test, unregistered afterwards."""
    names = []
    yield names
    for name in names:
        try:
            unregister(name)
        except UnknownActivationError:
            pass


# ---- @activation ---------------------------------------------------------------------------
def test_bare_decorator_registers_and_returns_the_function(cleanup):
    def scaled_cube(x, a=2.0, n=3):
        return a * x**n

    cleanup.append("scaled_cube")
    assert activation(scaled_cube) is scaled_cube
    act = get("scaled_cube")
    assert act.category == "user"
    assert act.derivative is None
    assert act.default_range == (-8.0, 8.0)
    assert act.params == (Param("a", 2.0), Param("n", 3, kind="int"))
    assert lutgen.reference("scaled_cube", 2.0) == 16.0  # 2 * 2**3
    assert lutgen.reference("scaled_cube", 3.0, a=0.5, n=2) == 4.5  # 0.5 * 3**2
    np.testing.assert_array_equal(
        lutgen.reference("scaled_cube", [-1.0, 0.0, 1.0]), [-2.0, 0.0, 2.0]
    )
    with pytest.raises(SpecError, match="no analytic derivative"):
        lutgen.derivative("scaled_cube", 1.0)


def test_decorator_with_arguments(cleanup):
    def dswish(x, beta=1.0):
        s = 1.0 / (1.0 + np.exp(-beta * x))
        return s + beta * x * s * (1.0 - s)

    cleanup.append("myswish")

    @activation(name="MySwish", range=(-4, 4), derivative=dswish, aliases=("my_alias",),
                traits=Traits(neg=lutgen.Asymptote.constant(0.0)), description="mine",
                formula="x*sigmoid(beta*x)")
    def swish_fn(x, beta=1.0):
        return x / (1.0 + np.exp(-beta * x))

    act = get("myswish")
    assert get("MySwish") is act and get("my_alias") is act
    assert act.default_range == (-4.0, 4.0)
    assert act.formula == "x*sigmoid(beta*x)" and act.description == "mine"
    assert act.traits_for().neg == lutgen.Asymptote.constant(0.0)
    # swish(1) = 1/(1 + e^-1); swish'(1) = s + s(1 - s) with s = sigmoid(1)
    s = 1.0 / (1.0 + math.exp(-1.0))
    assert lutgen.reference("my_alias", 1.0) == pytest.approx(s, rel=1e-15)
    assert lutgen.derivative("myswish", 1.0) == pytest.approx(s + s * (1 - s), rel=1e-15)
    # beta = 2 at x = 0.5: 0.5 * sigmoid(1)
    assert lutgen.reference("myswish", 0.5, beta=2) == pytest.approx(0.5 * s, rel=1e-15)
    assert act.to_dict()["derivative"] is True


def test_inferred_params_are_validated(cleanup):
    @activation(name="powered")
    def _(x, a=1.5, n=2):
        return a * x**n

    cleanup.append("powered")
    with pytest.raises(ParameterError, match=r"n=2\.5.*must be an integer"):
        lutgen.reference("powered", 1.0, n=2.5)
    with pytest.raises(ParameterError, match="must be a finite number"):
        lutgen.reference("powered", 1.0, a="abc")
    with pytest.raises(ParameterError, match="unknown parameter 'aa'.*did you mean 'a'"):
        lutgen.reference("powered", 1.0, aa=1)
    assert lutgen.reference("powered", 3.0, n="1") == 4.5  # "1" coerces to the int 1


def test_reregistering_needs_replace(cleanup):
    cleanup.append("twice")
    activation(name="twice")(lambda x: x + 1.0)
    with pytest.raises(ParameterError, match="'twice' is already registered"):
        activation(name="twice")(lambda x: x + 2.0)
    assert lutgen.reference("twice", 0.0) == 1.0
    activation(name="twice", replace=True)(lambda x: x + 2.0)
    assert lutgen.reference("twice", 0.0) == 2.0


def test_cannot_shadow_a_catalog_name():
    with pytest.raises(ParameterError, match="'sigmoid' is already registered"):
        activation(name="sigmoid")(lambda x: x)
    assert lutgen.reference("sigmoid", 0.0) == 0.5


@pytest.mark.parametrize(
    "kwargs, fn, error, match",
    [
        ({"name": "1bad"}, lambda x: x, ParameterError, "'1bad' is not a valid identifier"),
        ({"name": "bad-name"}, lambda x: x, ParameterError, "not a valid identifier"),
        ({}, lambda x: x, ParameterError, "'<lambda>' is not a valid identifier"),
        ({"name": "ok", "aliases": ("a b",)}, lambda x: x, ParameterError, "alias 'a b'"),
        ({"name": "nodefault"}, lambda x, a: a * x, ParameterError, "'a' .* has no default"),
        ({"name": "strdefault"}, lambda x, a="1": x, ParameterError, "a='1'.*int or a float"),
        ({"name": "booldefault"}, lambda x, a=True: x, ParameterError, "a=True"),
        ({"name": "nox"}, lambda *, a=1.0: a, ParameterError, "input x as its first argument"),
        ({"name": "scalar_only"}, lambda x: math.exp(x), ParameterError, "must be vectorised"),
        ({"name": "badrange", "range": (1, -1)}, lambda x: x, RangeError, "lo < hi"),
        ({"name": "nanrange", "range": (0, math.inf)}, lambda x: x, RangeError, "finite"),
        ({"name": "baddx", "derivative": 3}, lambda x: x, ParameterError, "must be a function"),
        ({"name": "scalar_dx", "derivative": lambda x: math.cos(x)}, lambda x: np.sin(x),
         ParameterError, "derivative of 'scalar_dx' failed"),
        ({"name": "binary_ufunc"}, np.add, ParameterError, "must take and return one array"),
    ],
)
def test_decorator_rejects(kwargs, fn, error, match):
    with pytest.raises(error, match=match):
        activation(**kwargs)(fn)
    assert kwargs.get("name", "<lambda>").lower() not in lutgen.activations()


def test_a_ufunc_registers_without_params(cleanup):
    cleanup.append("my_sin")
    assert activation(name="my_sin", range=(-math.pi, math.pi), derivative=np.cos)(np.sin) is np.sin
    assert get("my_sin").params == ()
    assert lutgen.reference("my_sin", 0.5) == math.sin(0.5)
    assert lutgen.derivative("my_sin", 0.5) == math.cos(0.5)


def test_traits_may_depend_on_params(cleanup):
    cleanup.append("slope")

    @activation(name="slope", traits=lambda k: Traits(monotonic="increasing" if k >= 0 else
                                                      "decreasing"))
    def _(x, k=1.0):
        return k * x

    assert get("slope").traits_for().monotonic == "increasing"
    assert get("slope").traits_for({"k": -2}).monotonic == "decreasing"


# ---- from_expression -----------------------------------------------------------------------
def _vec(fn):
    """Apply a scalar math-module function point by point: an independent reference."""
    return lambda xs: np.array([fn(float(v)) for v in xs])


def _sig(v):
    return 1.0 / (1.0 + math.exp(-v))


# (expression, the same function written with the math module, domain). The domains put
# no sample on a kink of floor, ceil, sign, abs, relu, minimum, maximum or clip.
EXPRESSIONS = [
    ("x*tanh(exp(x))", lambda v: v * math.tanh(math.exp(v)), (-4, 3)),
    ("sqrt(x**2 + 4)/2 + x/2", lambda v: math.sqrt(v * v + 4) / 2 + v / 2, (-5, 5)),
    ("erf(x/sqrt(2))", lambda v: math.erf(v / math.sqrt(2)), (-5, 5)),
    ("erfc(x) - 1", lambda v: math.erfc(v) - 1, (-3, 3)),
    ("x*sigmoid(1.702*x)", lambda v: v * _sig(1.702 * v), (-6, 6)),
    ("softplus(x) - log(1 + exp(x))", lambda v: 0.0, (-5, 5)),
    ("softplus(2*x)/2", lambda v: math.log1p(math.exp(2 * v)) / 2, (-5, 5)),
    ("log(x) + log1p(x) - expm1(x)", lambda v: math.log(v) + math.log1p(v) - math.expm1(v),
     (0.05, 3)),
    ("sinh(x) * cosh(x) / 3", lambda v: math.sinh(v) * math.cosh(v) / 3, (-2, 2)),
    ("sin(pi*x) + cos(e*x) - tan(x/2)",
     lambda v: math.sin(math.pi * v) + math.cos(math.e * v) - math.tan(v / 2), (-2, 2)),
    ("arctan(x) + atan(2*x)", lambda v: math.atan(v) + math.atan(2 * v), (-4, 4)),
    ("arcsin(x) + acos(x/2) - arccos(x) + asin(x/3)",
     lambda v: math.asin(v) + math.acos(v / 2) - math.acos(v) + math.asin(v / 3), (-0.95, 0.95)),
    ("arcsinh(x) + asinh(x/2) + arctanh(x/2) + atanh(x/3)",
     lambda v: math.asinh(v) + math.asinh(v / 2) + math.atanh(v / 2) + math.atanh(v / 3),
     (-1.9, 1.9)),
    ("abs(x) + sign(x) + relu(x - 1)",
     lambda v: abs(v) + math.copysign(1.0, v) + max(v - 1, 0.0), (-3.01, 3)),
    ("floor(x) + ceil(x/2)", lambda v: math.floor(v) + math.ceil(v / 2), (-3.99, 4)),
    ("minimum(x, 1) + maximum(x, -1) + clip(x, -2, 2.5)",
     lambda v: min(v, 1) + max(v, -1) + min(max(v, -2), 2.5), (-4.02, 4)),
    ("-x**3 + +x**2 - 2**x", lambda v: -(v**3) + v**2 - 2**v, (-3, 3)),
    ("x**x", lambda v: v**v, (0.1, 3)),
    ("(x - 1)**-2 / 4", lambda v: (v - 1) ** -2 / 4, (1.5, 4)),
    ("2*pi", lambda v: 2 * math.pi, (-1, 1)),
]


def test_every_function_is_exercised():
    used = {
        n.func.id
        for text, _, _ in EXPRESSIONS
        for n in ast.walk(ast.parse(text, mode="eval"))
        if isinstance(n, ast.Call)
    }
    assert used == set(_FUNCTIONS)


@pytest.mark.parametrize("text, fn, domain", EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS])
def test_expression_matches_math(text, fn, domain):
    xs = np.linspace(*domain, 61)
    act = from_expression(text)
    np.testing.assert_allclose(act(xs), _vec(fn)(xs), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("text, fn, domain", EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS])
def test_expression_derivative_matches_central_differences(text, fn, domain):
    xs = np.linspace(*domain, 61)[1:-1]
    h = 1e-6
    expected = (_vec(fn)(xs + h) - _vec(fn)(xs - h)) / (2 * h)
    got = from_expression(text).evaluate(xs, derivative=True)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "text, x, expected",
    [
        # d/dx x*tanh(e^x) = tanh(e^x) + x e^x (1 - tanh^2(e^x)); at 0: tanh(1)
        ("x*tanh(exp(x))", 0.0, math.tanh(1.0)),
        ("x**3", -2.0, 12.0),  # 3 x^2 with a negative base
        ("x**0", 0.0, 0.0),  # constant 1
        ("x**2", 0.0, 0.0),
        # kinks take the right-hand slope, as the whole catalog does
        ("relu(x)", 0.0, 1.0),
        ("relu(-x)", 0.0, 0.0),
        ("abs(x)", 0.0, 1.0),
        ("abs(-2*x)", 0.0, 2.0),  # |-2x| = 2|x|
        ("maximum(x, 0)", 0.0, 1.0),
        ("maximum(0, -x)", 0.0, 0.0),
        ("minimum(x, 0)", 0.0, 0.0),
        ("minimum(2*x, x)", 0.0, 1.0),  # x to the right of 0
        ("clip(x, -1, 1)", -1.0, 1.0),
        ("clip(x, -1, 1)", 1.0, 0.0),
        ("clip(3*x, x, 2*x)", 0.0, 2.0),  # min(max(3x, x), 2x) = 2x for x > 0
        ("floor(x)", 0.5, 0.0),
        ("2**x", 3.0, 8.0 * math.log(2.0)),
        ("pi", 1.0, 0.0),
    ],
)
def test_expression_derivative_exact_values(text, x, expected):
    h = 2.0**-20  # the right-hand difference quotient agrees to O(h)
    f = from_expression(text)
    assert (f(x + h) - f(x)) / h == pytest.approx(expected, abs=1e-4)
    assert f.evaluate(x, derivative=True) == pytest.approx(expected, abs=1e-15)


def test_expression_shapes_and_metadata():
    act = from_expression("  x + 1 ", name="Plus_One", range=(-2, 3))
    assert act.name == "plus_one" and act.category == "user" and act.formula == "x + 1"
    assert act.default_range == (-2.0, 3.0)
    out = act(2.0)
    assert out.shape == () and out == 3.0
    const = from_expression("2*e")(np.zeros((2, 3)))
    assert const.shape == (2, 3) and np.all(const == 2 * math.e)
    assert const.dtype == np.float64
    with pytest.raises(UnknownActivationError):  # not registered
        get("plus_one")
    with pytest.raises(ParameterError, match="not a valid identifier"):
        from_expression("x", name="no good")
    with pytest.raises(RangeError, match="lo < hi"):
        from_expression("x", range=(3, 3))


def test_undefined_points_give_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = from_expression("log(x) + exp(x)")(np.array([-1.0, 0.0, 1000.0]))
        pole = from_expression("1/x")(0.0)
        d = from_expression("sqrt(x)").evaluate(np.array([-1.0, 0.0]), derivative=True)
    assert np.isnan(out[0]) and out[1] == -math.inf and out[2] == math.inf and pole == math.inf
    assert np.isnan(d[0]) and d[1] == math.inf
    # huge integer powers stay float64 arithmetic, not Python big integers
    assert from_expression("9**9**9**9")(0.0) == math.inf


def test_expression_never_uses_eval(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec called")

    real_compile = builtins.compile

    def parse_only(source, filename, mode, flags=0, *args, **kwargs):
        # ast.parse calls compile with PyCF_ONLY_AST: a tree, no code object
        assert flags & ast.PyCF_ONLY_AST, "compile called for code"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", parse_only)
    act = from_expression("x*tanh(exp(x))")
    assert act(0.0) == 0.0 and act.evaluate(0.0, derivative=True) == math.tanh(1.0)


@pytest.mark.parametrize(
    "text, token",
    [
        ("np.exp(x)", "attribute access 'np.exp'"),
        ("x.__class__", "attribute access 'x.__class__'"),
        ("().__class__.__bases__[0].__subclasses__()", "'().__class__.__bases__[0]."),
        ("x[0]", "subscript 'x[0]'"),
        ("(lambda: 1)()", "lambda 'lambda: 1'"),
        ("lambda x: x", "lambda 'lambda x: x'"),
        ("sum([x for x in (1, 2)])", "unknown function 'sum'"),
        ("[x*2 for y in (1, 2)]", "comprehension '[x*2 for y in (1, 2)]'"),
        ("y + 1", "unknown name 'y'. "),
        ("xx + 1", "unknown name 'xx'; did you mean 'x'?"),
        ("pii*x", "unknown name 'pii'; did you mean 'pi'?"),
        ("foo(x)", "unknown function 'foo'"),
        ("sigmiod(x)", "unknown function 'sigmiod'; did you mean 'sigmoid'?"),
        ("__import__('os')", "unknown function '__import__'"),
        ("eval('1')", "unknown function 'eval'"),
        ("getattr(x, 'real')", "unknown function 'getattr'"),
        ("clip(x, 0, hi=1)", "keyword argument 'hi=1'"),
        ("'abc'", "string constant \"'abc'\""),
        ("x + b'1'", "string constant \"b'1'\""),
        ("True", "bool constant 'True'"),
        ("1j*x", "complex constant '1j'"),
        ("None", "NoneType constant 'None'"),
        ("1e999", "number '1e999' is too large"),
        ("x*", "cannot parse it: invalid syntax at the end"),
        ("x +* 2", "cannot parse it: invalid syntax at column 4"),
        ("exp(x", "cannot parse it: '(' was never closed"),
        ("x = 1", "cannot parse it"),
        ("", "it is empty"),
        ("x % 2", "operator '%' in 'x % 2'"),
        ("x ^ 2", "operator '^' in 'x ^ 2' is not allowed (use ** for powers)"),
        ("x // 2", "operator '//'"),
        ("~x", "operator '~'"),
        ("not x", "operator 'not'"),
        ("x < 1", "comparison 'x < 1'"),
        ("x and 1", "boolean operator 'x and 1'"),
        ("x if x else 1", "conditional expression 'x if x else 1'"),
        ("(x, 1)", "tuple '(x, 1)'"),
        ("f'{x}'", "f-string"),
        ("exp(*x)", "star argument '*x'"),
        ("exp", "function 'exp' must be called"),
        ("x(2)", "'x' is not a function"),
        ("exp(x, 1)", "function 'exp' takes 1 argument, got 2 in 'exp(x, 1)'"),
        ("clip(x)", "function 'clip' takes 3 arguments, got 1"),
        ("exp(x)(x)", "call of 'exp(x)' is not allowed"),
        ("-" * 100_000 + "x", "too deeply nested"),
    ],
)
def test_expression_rejections(text, token):
    with pytest.raises(ExpressionError) as info:
        from_expression(text)
    message = str(info.value)
    assert token in message
    assert message.startswith("expression ")
    assert "Allowed: the variable x" in message and "tanh" in message
    assert "\n" not in message and len(message) < 600
    assert isinstance(info.value, ValueError) and isinstance(info.value, lutgen.LutgenError)


def test_expression_must_be_text():
    with pytest.raises(ExpressionError, match="must be text"):
        from_expression(3)


# ---- the lut activation --------------------------------------------------------------------
DEFAULT_XS = [float(Fraction(-5) + Fraction(5, 6) * i) for i in range(13)]  # nearest doubles
DEFAULT_YS = [round(1.0 / (1.0 + math.exp(-v)), 4) for v in DEFAULT_XS]


def test_lut_defaults():
    act = get("lut")
    assert act.category == "piecewise"
    assert act.default_range == (-5.0, 5.0)
    assert list(act.defaults["xs"]) == DEFAULT_XS
    assert list(act.defaults["ys"]) == DEFAULT_YS
    np.testing.assert_allclose(act(np.array(DEFAULT_XS)), DEFAULT_YS, rtol=0, atol=1e-15)
    traits = act.traits_for()
    assert traits.monotonic == "increasing"
    assert traits.neg.slope == 0 and traits.neg.intercept == DEFAULT_YS[0]
    assert traits.pos.slope == 0 and traits.pos.intercept == DEFAULT_YS[-1]


def test_lut_with_points_as_params_and_as_text():
    np.testing.assert_array_equal(
        lutgen.reference("lut", [-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 4.0], **CUSTOM),
        [0.0, 0.0, 1.0, 2.0, 0.0, -2.0, -2.0],
    )
    assert lutgen.reference("lut", 2.0, xs="0, 1, 3", ys="0;2;-2") == 0.0
    assert get("lut").traits_for(CUSTOM).monotonic is None
    assert get("lut").traits_for({"xs": (0, 1), "ys": (5, -1)}).monotonic == "decreasing"


def test_lut_derivative_is_the_right_hand_slope():
    # slopes: (2 - 0)/(1 - 0) = 2 on [0, 1), (-2 - 2)/(3 - 1) = -2 on [1, 3), 0 outside
    x = [-1.0, 0.0, 0.5, 1.0, 2.0, 2.999, 3.0, 5.0]
    np.testing.assert_array_equal(
        lutgen.derivative("lut", x, **CUSTOM), [0.0, 2.0, 2.0, -2.0, -2.0, -2.0, 0.0, 0.0]
    )
    assert np.isnan(lutgen.derivative("lut", math.nan))
    # the default's first segment: (ys[1] - ys[0]) / (5/6)
    assert lutgen.derivative("lut", -5.0) == pytest.approx(
        (DEFAULT_YS[1] - DEFAULT_YS[0]) / (5 / 6), rel=1e-12
    )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"xs": (0, 1, 2), "ys": (0, 1)}, "xs has 3 points but ys has 2"),
        ({"xs": (0,), "ys": (1,)}, "at least 2 points, got 1"),
        ({"xs": (0, 1, 1), "ys": (0, 1, 2)}, r"strictly increasing, but xs\[1\] = 1.0 and xs\[2\]"),
        ({"xs": (0, 2, 1), "ys": (0, 1, 2)}, "strictly increasing"),
        ({"xs": "0, a", "ys": (0, 1)}, "must be a list of numbers"),
        ({"xs": (0, math.nan), "ys": (0, 1)}, "finite"),
    ],
)
def test_lut_param_validation(params, match):
    with pytest.raises(ParameterError, match=match):
        lutgen.reference("lut", 0.0, **params)


def test_load_points_csv_with_header(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("x,y\n# a comment\n-1, 1\n0,0  # inline\n\n2,4\n")
    xs, ys = load_points(path)
    assert xs == (-1.0, 0.0, 2.0) and ys == (1.0, 0.0, 4.0)
    # 0.5 lies a quarter of the way from (0, 0) to (2, 4)
    assert lutgen.reference("lut", 0.5, xs=xs, ys=ys) == 1.0


def test_load_points_csv_without_header_and_npy(tmp_path):
    csv = tmp_path / "pts.txt"
    csv.write_text("0,1\n1,3\n")
    assert load_points(str(csv)) == ((0.0, 1.0), (1.0, 3.0))
    npy = tmp_path / "pts.npy"
    np.save(npy, np.array([[0.0, 10.0], [4.0, 20.0], [5.0, 0.0]]))
    xs, ys = load_points(npy)
    assert xs == (0.0, 4.0, 5.0) and ys == (10.0, 20.0, 0.0)
    assert lutgen.reference("lut", 1.0, xs=xs, ys=ys) == 12.5  # 10 + (20 - 10) * 1/4
    np.save(npy, np.array([[0, 1], [2, 3]], dtype=np.int32))
    assert load_points(npy) == ((0.0, 2.0), (1.0, 3.0))


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("missing.csv", None, "does not exist"),
        ("p.xlsx", "0,1\n1,2\n", "unsupported type '.xlsx'"),
        ("p.csv", "", "at least 2 points, got 0"),
        ("p.csv", "x,y\n0,1\n", "at least 2 points, got 1"),
        ("p.csv", "0,1\n1,2,3\n", "line 2: expected 2 columns x,y, got 3"),
        ("p.csv", "0,1\nx,y\n", "line 2: 'x,y' is not two numbers"),
        ("p.csv", "0,1\n1,nan\n", "every point must be finite"),
        ("p.csv", "0,1\n0,2\n", "strictly increasing"),
        ("p.npy", np.zeros(4), r"shape \(4,\); need \(n, 2\)"),
        ("p.npy", np.zeros((3, 3)), r"shape \(3, 3\)"),
        ("p.npy", np.array([[0, 1], [1, np.inf]]), "every point must be finite"),
        ("p.npy", np.array([[1, 1], [0, 2]]), r"xs\[0\] = 1.0 and xs\[1\] = 0.0"),
        ("p.npy", np.array([["a", "b"], ["c", "d"]]), "holds <U1 values"),
        ("p.npy", b"not an npy file", "not a readable .npy"),
    ],
)
def test_load_points_errors(tmp_path, name, content, match):
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        np.save(path, content)
    with pytest.raises(ParameterError, match=match) as info:
        load_points(path)
    assert name in str(info.value)
