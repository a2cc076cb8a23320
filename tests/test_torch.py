"""lutgen.torch: TableActivation is Table.eval_int in torch ops; substitute swaps modules."""

import copy

import numpy as np
import pytest

from tests.conftest import require_module

torch = require_module("torch")
require_module("sklearn", extra="test-models")

import lutgen  # noqa: E402
from lutgen.errors import (QuantizationError, RangeError, SpecError,  # noqa: E402
                           UnknownActivationError)
from lutgen.torch import TableActivation, activation_of, substitute  # noqa: E402
from tests.torch_models import activation_inputs, digits_mlp, int8_specs  # noqa: E402

GELU = dict(in_format="int8(0.0235,-3)", out_format="int8(0.0213,-117)", saturation="allowed")


@pytest.fixture(scope="module")
def gelu():
    return lutgen.compile_table("gelu", entries=16, **GELU)


def test_codes_in_codes_out_is_eval_int(gelu):
    codes = torch.arange(-128, 128).reshape(16, 16)
    out = TableActivation(gelu)(codes)
    want = gelu.eval_int(codes.numpy())
    assert out.dtype == torch.int16 and want.dtype == np.int16
    assert np.array_equal(out.numpy(), want)
    # any integer dtype in; wider formats too (an s12.8 linear table: 4096 codes)
    t = lutgen.compile_table("silu", in_format="s12.8", out_format="s12.8", entries=64)
    c = torch.randint(-2048, 2048, (3, 500), dtype=torch.int32)
    assert np.array_equal(TableActivation(t)(c).numpy(), t.eval_int(c.numpy()))


def test_mistakes_raise_typed_errors(gelu):
    m = TableActivation(gelu)
    with pytest.raises(RangeError, match=r"input code 128 is outside int8\(0.0235,-3\)"):
        m(torch.tensor([0, 128]))
    with pytest.raises(SpecError, match="integer tensor"):
        m(torch.zeros(3))
    with pytest.raises(SpecError, match="real tensor"):
        TableActivation(gelu, quantize=True)(torch.zeros(3, dtype=torch.int64))
    with pytest.raises(SpecError, match="unknown grad 'exact'; allowed: ste, reference"):
        TableActivation(gelu, grad="exact")
    wide = lutgen.compile_table("tanh", in_format="s20.16", out_format="s16.14", entries=64)
    with pytest.raises(SpecError, match="s20.16 has 20 bits"):
        TableActivation(wide)
    with pytest.raises(QuantizationError, match="NaN"):
        TableActivation(gelu, quantize=True)(torch.tensor([0.0, float("nan")]))


@pytest.mark.parametrize("fmt", ["int8(0.0235,-3)", "s8.4", "uint8(0.05,7)",
                                 "ap_fixed<8,4>", "s8.4:nearest-down,saturate-sym",
                                 "int8(0.5,1):floor,wrap", "s8.4:nearest-away,saturate-zero",
                                 "s8.-2:ceil,saturate", "s8.4:nearest-zero,saturate"])
def test_quantize_is_table_quantize(fmt):
    """Every rounding and overflow rule, on ties, overflows and tiny values, in float64 and
    float32, bit for bit as FixedFormat.quantize."""
    t = lutgen.compile_table("tanh", in_format=fmt, out_format="s8.6",
                             range=None)
    m = TableActivation(t, quantize=True)
    lsb = t.in_format.lsb
    x = np.concatenate([np.arange(-300, 300) * lsb / 2, [1e-300, -1e-300, 0.0, -0.0, 1e30,
                        -1e30], np.random.default_rng(0).normal(0, 40 * lsb, 2000)])
    for dtype in (torch.float64, torch.float32):
        xt = torch.tensor(x, dtype=dtype)
        want_codes = t.quantize(xt.double().numpy())
        assert np.array_equal(m.quantize_codes(xt).numpy(), want_codes)
        want = t.out_format.dequantize(t.eval_int(want_codes))
        assert np.array_equal(m(xt).numpy(), want.astype(xt.numpy().dtype))
    assert np.array_equal(m(torch.tensor(x)).numpy(), t.eval(x))
    # infinities saturate, or are an error under wrap, as FixedFormat.quantize
    inf = torch.tensor([float("inf"), -float("inf")], dtype=torch.float64)
    if "wrap" in fmt or fmt.startswith("ap_fixed"):
        with pytest.raises(QuantizationError):
            m(inf)
    else:
        assert np.array_equal(m.quantize_codes(inf).numpy(), t.quantize(inf.numpy()))


def test_gradients(gelu):
    x = torch.linspace(-4, 4, 401, dtype=torch.float64, requires_grad=True)
    ref = TableActivation(gelu, quantize=True, grad="reference")
    y = ref(x)
    assert np.array_equal(y.detach().numpy(), gelu.eval(x.detach().numpy()))
    (g,) = torch.autograd.grad(y.sum(), x)
    fin = gelu.in_format
    xq = fin.dequantize(gelu.quantize(x.detach().numpy()))
    inside = (x.detach().numpy() >= fin.min) & (x.detach().numpy() <= fin.max)
    want = np.where(inside, lutgen.derivative("gelu", xq), 0.0)
    assert np.allclose(g.numpy(), want, rtol=0, atol=1e-12)
    assert inside.sum() < x.numel()  # the test covers saturated inputs (gradient 0)

    ste = TableActivation(gelu, quantize=True, grad="ste")
    (g,) = torch.autograd.grad(ste(x).sum(), x)
    # the table's own slope: within a few output LSB per input step of the true one
    step = gelu.out_format.lsb / fin.lsb
    assert np.all(np.abs(g.numpy() - want)[inside] < 1.5 * step)
    assert np.all(g.numpy()[~inside] == 0)
    # no gradient asked: none built
    assert not ste(x.detach()).requires_grad


def test_substitute_digits_mlp_is_bit_exact():
    model, x_calib, x_eval, _ = digits_mlp()
    specs = int8_specs(model, x_calib)
    assert sorted(specs) == ["1", "3", "5", "7"]
    codes_model, records = substitute(model, specs, quantize=False)
    assert [r.module_type for r in records] == ["GELU", "SiLU", "Sigmoid", "Tanh"]
    assert [r.activation for r in records] == ["gelu", "silu", "sigmoid", "tanh"]
    assert isinstance(model[1], torch.nn.GELU)  # the original is untouched
    real_model, _ = substitute(model, specs)
    # each swapped module, fed the codes of the inputs it sees in the model
    seen = activation_inputs(model, x_eval)
    for r in records:
        codes = r.table.quantize(seen[r.name])
        mod = codes_model.get_submodule(r.name)
        got = mod(torch.from_numpy(codes))
        assert np.array_equal(got.numpy(), r.table.eval_int(codes))
    # the whole real model in float64: each activation is quantise -> eval_int -> dequantise
    want = x_eval.double()
    for i, layer in enumerate(model):
        if str(i) in specs:
            want = torch.from_numpy(real_model.get_submodule(str(i)).table.eval(want.numpy()))
        else:
            want = torch.nn.functional.linear(want, layer.weight.double(), layer.bias.double())
    got = copy.deepcopy(real_model).double()(x_eval.double())
    assert torch.equal(got, want)


def test_trace_and_compile_match_eager(gelu):
    model, x_calib, x_eval, _ = digits_mlp()
    sub, _ = substitute(model, int8_specs(model, x_calib))
    traced = torch.jit.trace(sub, x_calib[:8])
    # other inputs than the example: the lookup was traced, not its result
    assert torch.equal(traced(x_eval), sub(x_eval))
    codes = TableActivation(gelu)
    c = torch.randint(-128, 128, (64,))
    tc = torch.jit.trace(codes, c)
    c2 = torch.arange(-128, 128)
    assert torch.equal(tc(c2), codes(c2))


def test_torch_compile_matches_eager(gelu):
    m = TableActivation(gelu, quantize=True)
    compiled = torch.compile(m)
    x = torch.linspace(-3.5, 3.5, 777)
    assert torch.equal(compiled(x), m(x))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_follows_the_buffer(gelu):  # pragma: no cover - no GPU on CI
    m = TableActivation(gelu).cuda()
    c = torch.arange(-128, 128, device="cuda")
    assert np.array_equal(m(c).cpu().numpy(), gelu.eval_int(np.arange(-128, 128)))


def test_substitute_mistakes(gelu):
    model, _, _, _ = digits_mlp()
    with pytest.raises(UnknownActivationError, match="the model has no module 'body.1'"):
        substitute(model, {"body.1": gelu})
    with pytest.raises(UnknownActivationError, match="Linear is not an activation lutgen can "
                       "replace; known: CELU, ELU, GELU"):
        substitute(model, {"0": gelu})
    with pytest.raises(UnknownActivationError, match="'Dropout' is not an activation"):
        substitute(model, {torch.nn.Dropout: gelu})
    with pytest.raises(SpecError, match=r"module '3' is SiLU \(lutgen 'silu'\) but its table "
                       "tabulates 'gelu'"):
        substitute(model, {"3": gelu})
    # by type; params carried (LeakyReLU's slope is lutgen's alpha)
    leaky = torch.nn.Sequential(torch.nn.LeakyReLU(0.2))
    t = lutgen.compile_table("leaky_relu", params={"alpha": 0.01}, in_format="s8.4",
                             out_format="s8.4")
    with pytest.raises(SpecError, match="tabulates 'leaky_relu'"):
        substitute(leaky, {torch.nn.LeakyReLU: t})
    assert activation_of(torch.nn.LeakyReLU(0.2)) == ("leaky_relu", {"alpha": 0.2})
    assert activation_of(torch.nn.GELU(approximate="tanh")) == ("gelu_tanh", {})
    assert activation_of(torch.nn.Hardsigmoid()) == ("hard_sigmoid_torch", {})


def test_catalog_matches_torch():
    """Each module type maps to a lutgen activation that computes what torch computes."""
    from lutgen.torch import ACTIVATION_TYPES

    x = torch.linspace(-7, 7, 1401, dtype=torch.float64)
    for kind in ACTIVATION_TYPES:
        for module in ([kind(0.2)] if kind is torch.nn.LeakyReLU else
                       [kind(alpha=0.7)] if kind in (torch.nn.ELU, torch.nn.CELU) else
                       [kind(beta=2.0), kind()] if kind is torch.nn.Softplus else
                       [kind(approximate="tanh"), kind()] if kind is torch.nn.GELU else [kind()]):
            name, params = activation_of(module)
            want = module(x).numpy()
            got = lutgen.reference(name, x.numpy(), **params)
            assert np.allclose(got, want, rtol=1e-9, atol=1e-9), (module, name)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lutgen.fixedpoint import FixedFormat, Overflow, Rounding  # noqa: E402
from lutgen.torch import quantize_codes  # noqa: E402

_MODES = st.tuples(st.sampled_from(list(Rounding)),
                   st.sampled_from([o for o in Overflow if o is not Overflow.WRAP_SM]))


@st.composite
def _formats(draw):
    rounding, overflow = draw(_MODES)
    if draw(st.booleans()):
        storage = draw(st.sampled_from(["int8", "uint8", "int16", "uint16"]))
        fmt = FixedFormat.affine(storage, draw(st.floats(1e-6, 1e3)), 0, rounding, overflow)
        zp = draw(st.integers(fmt.min_code, fmt.max_code))
        return FixedFormat.affine(storage, fmt.scale, zp, rounding, overflow)
    return FixedFormat(draw(st.booleans()), draw(st.integers(2, 16)), draw(st.integers(-20, 30)),
                       rounding, overflow)


@settings(max_examples=300, deadline=None)
@given(_formats(), st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64),
                            min_size=1, max_size=20), st.integers(-3, 3))
def test_quantize_matches_fixedformat_property(fmt, xs, step):
    """Random formats and modes; random reals, and ties / neighbours of codes."""
    codes = np.arange(-5, 5) + step
    x = np.concatenate([xs, fmt.codes_to_real(codes + 0.5), fmt.codes_to_real(codes)])
    try:
        want = fmt.quantize(x)
    except lutgen.QuantizationError:
        with pytest.raises(QuantizationError):
            quantize_codes(torch.tensor(x), fmt)
        return
    assert np.array_equal(quantize_codes(torch.tensor(x), fmt).numpy(), want)


def test_a_module_name_wins_over_its_type():
    model, x_calib, _, _ = digits_mlp()
    specs = int8_specs(model, x_calib)
    wide = specs["1"].replace(entries=64)
    _, records = substitute(model, {torch.nn.GELU: specs["1"], "1": wide, "3": specs["3"]})
    assert [(r.name, r.table.entries) for r in records] == [("1", 64), ("3", 32)]
