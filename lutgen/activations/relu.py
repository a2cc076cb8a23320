"""The ReLU family: relu, relu6, leaky_relu, prelu, rrelu, elu, selu, celu, srelu, crelu,
dynamic_relu, quant_relu.

Conventions shared by every entry:

- At a kink the derivative is the right-hand one (``relu'(0) = 1``, ``relu6'(6) = 0``).
- Exponentials are only ever taken of ``min(x, 0)`` (or ``min(x, 0)/alpha``), so the branch
  ``np.where`` discards never overflows.
- Functions that multiply run under :func:`flush_underflow`: ``exp(-1e4)`` or ``0.01 * 5e-324``
  rounding to 0 (or a subnormal) is the correct result, not an error, even under
  ``np.errstate(all="raise")``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..errors import ParameterError
from ._registry import Activation, Asymptote, Param, Traits, register

SLOPE_ONE = Asymptote(1.0, 0.0)


def flush_underflow(fn):
    """Run ``fn`` with floating-point underflow silenced (results flush to 0 as IEEE rounds them)."""
    @functools.wraps(fn)
    def quiet(*args, **kwargs):
        with np.errstate(under="ignore"):
            return fn(*args, **kwargs)
    return quiet


def _require_ordered(name: str, lo_name: str, lo: float, hi_name: str, hi: float,
                     strict: bool) -> None:
    """Raise ParameterError unless ``lo < hi`` (``strict``) or ``lo <= hi``."""
    if lo < hi or (not strict and lo == hi):
        return
    rel = "<" if strict else "<="
    raise ParameterError(
        f"'{name}' needs {lo_name} {rel} {hi_name}; got {lo_name}={lo:g}, {hi_name}={hi:g}"
    )


def _step(x, at: float = 0.0):
    """1.0 where x >= at, else 0.0: the right-hand derivative of a ramp starting at ``at``."""
    return (x >= at).astype(np.float64)


# ---- relu, relu6 --------------------------------------------------------------------------

def _relu(x):
    return np.maximum(x, 0.0)


RELU = register(Activation(
    name="relu", category="relu",
    formula="max(0, x)",
    reference=_relu, derivative=_step,
    traits=Traits(monotonic="increasing", neg=Asymptote.constant(0.0), pos=SLOPE_ONE),
    description="Rectified linear unit; derivative 1 at x = 0 (right-hand)",
    source="Fukushima 1969; Nair & Hinton, ICML 2010",
))


RELU6 = register(Activation(
    name="relu6", category="relu",
    formula="min(max(0, x), 6)",
    reference=lambda x: np.clip(x, 0.0, 6.0),
    derivative=lambda x: ((x >= 0.0) & (x < 6.0)).astype(np.float64),
    traits=Traits(monotonic="increasing",
                  neg=Asymptote.constant(0.0), pos=Asymptote.constant(6.0)),
    description="ReLU capped at 6, the activation of MobileNet; right-hand derivative at 0 and 6",
    source="Krizhevsky 2010 (CIFAR-10 convolutional DBN); Howard et al., MobileNets, 2017",
))


# ---- leaky_relu, prelu, rrelu: one negative slope ------------------------------------------

@flush_underflow
def _leaky(x, slope: float):
    return np.where(x >= 0.0, x, slope * np.minimum(x, 0.0))


def _dleaky(x, slope: float):
    return np.where(x >= 0.0, 1.0, slope)


def _leaky_traits(slope: float) -> Traits:
    """x if x >= 0 else slope*x: slope 1 is the identity (odd), slope -1 is |x| (even)."""
    symmetry = {1.0: "odd", -1.0: "even"}.get(slope)
    return Traits(monotonic="increasing" if slope >= 0 else None, symmetry=symmetry,
                  neg=Asymptote(slope, 0.0), pos=SLOPE_ONE)


LEAKY_RELU = register(Activation(
    name="leaky_relu", aliases=("lrelu", "leakyrelu"), category="relu",
    formula="x if x >= 0 else alpha*x",
    reference=lambda x, alpha: _leaky(x, alpha),
    derivative=lambda x, alpha: _dleaky(x, alpha),
    params=(Param("alpha", 0.01, "slope for x < 0"),),
    traits=lambda alpha: _leaky_traits(alpha),
    description="Leaky ReLU: a small fixed slope for x < 0 keeps units from dying",
    source="Maas, Hannun & Ng, ICML 2013 workshop",
))

PRELU = register(Activation(
    name="prelu", aliases=("parametric_relu",), category="relu",
    formula="x if x >= 0 else alpha*x",
    reference=lambda x, alpha: _leaky(x, alpha),
    derivative=lambda x, alpha: _dleaky(x, alpha),
    params=(Param("alpha", 0.25, "the learned slope for x < 0 (0.25 is the paper's init)"),),
    traits=lambda alpha: _leaky_traits(alpha),
    description="Parametric ReLU: learned negative slope; the table uses the given alpha",
    source="He, Zhang, Ren & Sun, Delving Deep into Rectifiers, ICCV 2015",
))


def _check_rrelu(lower: float, upper: float) -> None:
    _require_ordered("rrelu", "lower", lower, "upper", upper, strict=False)


RRELU = register(Activation(
    name="rrelu", aliases=("randomized_leaky_relu",), category="relu",
    formula="x if x >= 0 else (lower + upper)/2 * x",
    reference=lambda x, lower, upper: _leaky(x, 0.5 * (lower + upper)),
    derivative=lambda x, lower, upper: _dleaky(x, 0.5 * (lower + upper)),
    params=(
        Param("lower", 1 / 8, "lower bound of the random training slope", lo=0.0),
        Param("upper", 1 / 3, "upper bound of the random training slope", lo=0.0),
    ),
    check=_check_rrelu,
    traits=lambda lower, upper: _leaky_traits(0.5 * (lower + upper)),
    description="Randomized leaky ReLU, inference form: the mean slope (lower+upper)/2 for x < 0",
    source="Xu, Wang, Chen & Li, Empirical Evaluation of Rectified Activations, arXiv 1505.00853, 2015",
))


# ---- elu, selu, celu: exponential negative half --------------------------------------------

@flush_underflow
def _elu(x, alpha: float):
    return np.where(x >= 0.0, x, alpha * np.expm1(np.minimum(x, 0.0)))


@flush_underflow
def _delu(x, alpha: float, scale: float = 1.0):
    return scale * np.where(x >= 0.0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))


ELU = register(Activation(
    name="elu", category="relu",
    formula="x if x > 0 else alpha*(exp(x) - 1)",
    reference=_elu, derivative=_delu,
    params=(Param("alpha", 1.0, "saturation value -alpha for x -> -inf"),),
    traits=lambda alpha: Traits(monotonic="increasing" if alpha >= 0 else None,
                                neg=Asymptote.constant(-alpha), pos=SLOPE_ONE),
    description="Exponential linear unit; derivative 1 at x = 0 (right-hand) when alpha != 1",
    source="Clevert, Unterthiner & Hochreiter, ICLR 2016",
))

# Klambauer et al. 2017, eqs. 14-15 (to 32 digits). Some copies print alpha as
# 1.67326154998824..., which is wrong from the sixth decimal on.
SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717

SELU = register(Activation(
    name="selu", category="relu",
    formula="scale * (x if x > 0 else alpha*(exp(x) - 1))",
    reference=flush_underflow(lambda x, scale, alpha: scale * _elu(x, alpha)),
    derivative=lambda x, scale, alpha: _delu(x, alpha, scale),
    params=(
        Param("scale", SELU_SCALE, "lambda, the output scale", lo=0.0, lo_open=True),
        Param("alpha", SELU_ALPHA, "alpha of the inner ELU", lo=0.0),
    ),
    traits=lambda scale, alpha: Traits(monotonic="increasing",
                                       neg=Asymptote.constant(-scale * alpha),
                                       pos=Asymptote(scale, 0.0)),
    description="Scaled ELU whose fixed point keeps activations at zero mean, unit variance",
    source="Klambauer, Unterthiner, Mayr & Hochreiter, Self-Normalizing Neural Networks, "
           "NeurIPS 2017 (lambda, alpha from eqs. 14-15; beware copies with a mistyped alpha)",
))


def _celu_exp_arg(x, alpha: float):
    # min(x, 0)/alpha may overflow to -inf for a tiny alpha; exp(-inf) = 0 is the right limit.
    with np.errstate(over="ignore"):
        return np.minimum(x, 0.0) / alpha


@flush_underflow
def _celu(x, alpha: float):
    return np.where(x >= 0.0, x, alpha * np.expm1(_celu_exp_arg(x, alpha)))


@flush_underflow
def _dcelu(x, alpha: float):
    return np.where(x >= 0.0, 1.0, np.exp(_celu_exp_arg(x, alpha)))


CELU = register(Activation(
    name="celu", category="relu",
    formula="max(0, x) + min(0, alpha*(exp(x/alpha) - 1))",
    reference=_celu, derivative=_dcelu,
    params=(Param("alpha", 1.0, "saturation value -alpha (must be > 0)", lo=0.0, lo_open=True),),
    traits=lambda alpha: Traits(monotonic="increasing",
                                neg=Asymptote.constant(-alpha), pos=SLOPE_ONE),
    description="Continuously differentiable ELU: slope 1 on both sides of 0 for every alpha",
    source="Barron, Continuously Differentiable Exponential Linear Units, arXiv 1704.07483, 2017",
))


# ---- srelu --------------------------------------------------------------------------------

@flush_underflow
def _srelu(x, tl: float, al: float, tr: float, ar: float):
    left = tl + al * (np.minimum(x, tl) - tl)
    right = tr + ar * (np.maximum(x, tr) - tr)
    return np.where(x <= tl, left, np.where(x < tr, x, right))


def _dsrelu(x, tl: float, al: float, tr: float, ar: float):
    # Right-hand derivative: 1 at x = tl, ar at x = tr.
    return np.where(x < tl, al, np.where(x < tr, 1.0, ar))


def _check_srelu(tl: float, al: float, tr: float, ar: float) -> None:
    _require_ordered("srelu", "tl", tl, "tr", tr, strict=True)


def _srelu_traits(tl: float, al: float, tr: float, ar: float) -> Traits:
    # Odd when the two outer pieces mirror each other through the origin.
    odd = tl == -tr and al == ar
    return Traits(monotonic="increasing" if al >= 0 and ar >= 0 else None,
                  symmetry="odd" if odd else None,
                  neg=Asymptote(al, tl - al * tl), pos=Asymptote(ar, tr - ar * tr))


SRELU = register(Activation(
    name="srelu", category="relu",
    formula="tl + al*(x - tl) if x <= tl; x if tl < x < tr; tr + ar*(x - tr) if x >= tr",
    reference=_srelu, derivative=_dsrelu,
    params=(
        Param("tl", 0.0, "left threshold"),
        Param("al", 0.01, "slope left of tl"),
        Param("tr", 1.0, "right threshold (> tl)"),
        Param("ar", 0.01, "slope right of tr"),
    ),
    check=_check_srelu,
    traits=_srelu_traits,
    description="S-shaped ReLU: identity between two thresholds, learned slopes outside",
    source="Jin, Xu, Feng, Wei, Xiong & Yan, Deep Learning with S-shaped Rectified Linear "
           "Activation Units, AAAI 2016",
))


# ---- crelu: two outputs -------------------------------------------------------------------

CRELU = register(Activation(
    name="crelu", aliases=("concatenated_relu",), category="relu",
    formula="[max(0, x), max(0, -x)]",
    reference=lambda x: np.stack([_relu(x), _relu(-x)]),
    # d/dx relu(-x) is -1 for x < 0 and (right-hand) 0 from x = 0 on.
    derivative=lambda x: np.stack([_step(x), -(x < 0.0).astype(np.float64)]),
    n_outputs=2,
    # Traits describe one output; the second is the mirror image of the first
    # (out[1](x) = out[0](-x)), so no monotonicity, symmetry or asymptote fits both.
    traits=Traits(),
    description="Concatenated ReLU: two tables, relu(x) and relu(-x), output shape (2, *x.shape)",
    source="Shang, Sohn, Almeida & Lee, ICML 2016",
))


# ---- dynamic_relu -------------------------------------------------------------------------

def _dynamic_coeffs(c: float, a_min: float, a_max: float, b_scale: float) -> tuple[float, float]:
    """(a, b) of the negative half: a = a_min + (a_max - a_min)*sigmoid(c), b = b_scale*tanh(c)."""
    sig = 0.5 * (1.0 + math.tanh(0.5 * c))  # the logistic function, overflow-free for any c
    return a_min + (a_max - a_min) * sig, b_scale * math.tanh(c)


@flush_underflow
def _dynamic_relu(x, c, a_min, a_max, b_scale):
    a, b = _dynamic_coeffs(c, a_min, a_max, b_scale)
    return np.where(x >= 0.0, x, a * np.minimum(x, 0.0) + b)


def _ddynamic_relu(x, c, a_min, a_max, b_scale):
    a, _ = _dynamic_coeffs(c, a_min, a_max, b_scale)
    return np.where(x >= 0.0, 1.0, a)


def _check_dynamic_relu(c, a_min, a_max, b_scale) -> None:
    _require_ordered("dynamic_relu", "a_min", a_min, "a_max", a_max, strict=False)


def _dynamic_relu_traits(c, a_min, a_max, b_scale) -> Traits:
    a, b = _dynamic_coeffs(c, a_min, a_max, b_scale)
    # f(0-) = b and f(0) = 0: non-decreasing needs a >= 0 and a downward (or no) jump into 0.
    return Traits(monotonic="increasing" if a >= 0 and b <= 0 else None,
                  neg=Asymptote(a, b), pos=SLOPE_ONE)


DYNAMIC_RELU = register(Activation(
    name="dynamic_relu", aliases=("dy_relu",), category="relu",
    formula="x if x >= 0 else a*x + b; a = a_min + (a_max - a_min)*sigmoid(c), b = b_scale*tanh(c)",
    reference=_dynamic_relu, derivative=_ddynamic_relu,
    params=(
        Param("c", 0.0, "the context value the slope and offset are generated from"),
        Param("a_min", 0.01, "smallest negative-half slope"),
        Param("a_max", 0.2, "largest negative-half slope (>= a_min)"),
        Param("b_scale", 0.1, "largest |offset| of the negative half"),
    ),
    check=_check_dynamic_relu,
    traits=_dynamic_relu_traits,
    description="Dynamic ReLU, 1-D form: negative slope and offset set by a context c "
                "(jumps at 0 unless c = 0)",
    source="Chen, Dai, Liu, Chen, Yuan & Liu, Dynamic ReLU, ECCV 2020 (simplified 1-D form)",
))


# ---- quant_relu ---------------------------------------------------------------------------

def _round_half_up(v):
    """floor(v + 0.5) computed without the rounding error of ``v + 0.5`` (exact for |v| < 2**52)."""
    q = np.floor(v)
    return q + (v - q >= 0.5)


@flush_underflow
def _quant_relu(x, levels: int, max_val: float):
    steps = _round_half_up(np.clip(x, 0.0, max_val) / max_val * levels)
    return steps / levels * max_val


QUANT_RELU = register(Activation(
    name="quant_relu", aliases=("quantized_relu",), category="relu",
    formula="round_half_up(clip(x, 0, max_val)/max_val * levels)/levels * max_val",
    reference=_quant_relu,
    # Zero almost everywhere (undefined at the steps). A straight-through estimator
    # (1 on [0, max_val]) is a training trick, not this function's derivative.
    derivative=lambda x, levels, max_val: np.zeros_like(x),
    params=(
        Param("levels", 4, "number of steps; the output takes levels + 1 values", kind="int",
              lo=1),
        Param("max_val", 1.0, "clipping value, the largest output", lo=0.0, lo_open=True),
    ),
    default_range=(-1.0, 2.0),
    traits=lambda levels, max_val: Traits(monotonic="increasing",
                                          neg=Asymptote.constant(0.0),
                                          pos=Asymptote.constant(max_val)),
    tie_rule="half-up: floor(v + 0.5) as hardware rounders do, not NumPy's round-half-even",
    description="ReLU clipped at max_val and quantised to levels + 1 uniform values, ties "
                "rounded half-up; derivative 0 almost everywhere",
    source="uniform activation quantisation, e.g. DoReFa-Net (Zhou et al. 2016), "
           "PACT (Choi et al. 2018)",
))
