"""Smooth / modern activations: GELU, Swish and its kin, softplus, periodic functions.

Every reference and derivative is finite over [-1e4, 1e4] and raises no NumPy floating-point
signal, underflow included: exponentials and squares whose result would be subnormal are
flushed to exactly 0 first (their true values are below 1e-299, far under any table's LSB).
"""

from __future__ import annotations

import math

import numpy as np

from ._registry import Activation, Asymptote, Param, Traits, register
from .classic import sigmoid

EXP_FLOOR = -690.0  # exp(-690) ~ 2e-300: products with it stay normal; below it exp is flushed to 0
NDTR_FLOOR = -37.0  # ndtr(-37) ~ 6e-300; scipy returns subnormals below ~ -37.5
TINY = 1e-150  # the square of anything smaller is subnormal
SQRT_2PI = math.sqrt(2.0 * math.pi)
ZERO = Asymptote.constant(0.0)
IDENTITY = Asymptote(1.0, 0.0)


# ---- shared numerics (also used by gated.py) ----------------------------------------------
def exp_flushed(z, hi=0.0):
    """exp(min(z, hi)), exactly 0 where it would be subnormal (below ``EXP_FLOOR``)."""
    return np.where(z < EXP_FLOOR, 0.0, np.exp(np.clip(z, EXP_FLOOR, hi)))


def sig(x):
    """``classic.sigmoid`` with both tails saturated before its exp goes subnormal."""
    return np.where(x < EXP_FLOOR, 0.0, sigmoid(np.clip(x, EXP_FLOOR, -EXP_FLOOR)))


def dsig(x):
    """sigma'(x) = sigma(x)*sigma(-x): no cancellation in 1 - sigma(x) for large x."""
    return sig(x) * sig(-x)


def square(x):
    """x**2, exactly 0 where it would be subnormal."""
    return np.square(np.where(np.abs(x) < TINY, 0.0, x))


def norm_cdf(x):
    """Phi(x) via scipy's ndtr (accurate in the tails), flushed to 0 before it goes subnormal."""
    from scipy.special import ndtr  # here, not at the top: scipy.special costs 0.25 s to import

    return np.where(x < NDTR_FLOOR, 0.0, ndtr(np.maximum(x, NDTR_FLOOR)))


def norm_pdf(x):
    return exp_flushed(-0.5 * square(x)) / SQRT_2PI


def scaled(x, a, b=0.0):
    """a*x + b with x clipped where sigma(a*x + b) has long saturated: finite for any finite a."""
    if abs(a) > 1.0:
        lim = (abs(b) + 1000.0) / abs(a)
        x = np.clip(x, -lim, lim)
    return a * x + b


def softplus(x):
    """ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|): no overflow, no underflow."""
    return np.maximum(x, 0.0) + np.log1p(exp_flushed(-np.abs(x)))


def gelu(x):
    return x * norm_cdf(x)


def _dgelu(x):
    return norm_cdf(x) + x * norm_pdf(x)


def swish(x, beta=1.0):
    return x * sig(scaled(x, beta))


def _dswish(x, beta=1.0):
    z = scaled(x, beta)  # where clipped, sig(z)*sig(-z) is exactly 0
    return sig(z) + z * dsig(z)


def silu(x):
    return x * sig(x)


def dsilu(x):
    return sig(x) + x * dsig(x)


RECTIFIER = Traits(neg=ZERO, pos=IDENTITY)  # 0 at -inf, the identity at +inf
# x/2 plus an even function: x*g(x) with g - 1/2 odd (GELU: Phi, SiLU: sigma), or softplus
HALF_LINE = dict(symmetry="even_line", slope=0.5)
GATED_RECTIFIER = Traits(neg=ZERO, pos=IDENTITY, **HALF_LINE)


# ---- GELU ---------------------------------------------------------------------------------
GELU = register(Activation(
    name="gelu", aliases=("gelu_erf",), category="smooth",
    formula="x*Phi(x) = x/2*(1 + erf(x/sqrt(2)))",
    reference=gelu, derivative=_dgelu,
    default_range=(-8.0, 8.0),
    traits=GATED_RECTIFIER,
    description="Gaussian error linear unit, exact erf form (BERT, GPT-2, ViT)",
    source="Hendrycks & Gimpel, Gaussian Error Linear Units (GELUs), arXiv 1606.08415, 2016",
))

GELU_TANH_K = 0.044715
GELU_TANH_C = math.sqrt(2.0 / math.pi)


def _gelu_tanh_arg(x):
    # 0.5*(1 + tanh(u)) = sigma(2u): the sigmoid form keeps relative accuracy in the negative tail
    return 2.0 * GELU_TANH_C * x * (1.0 + GELU_TANH_K * square(x))


def _gelu_tanh(x):
    return x * sig(_gelu_tanh_arg(x))


def _dgelu_tanh(x):
    z = _gelu_tanh_arg(x)
    dz = 2.0 * GELU_TANH_C * (1.0 + 3.0 * GELU_TANH_K * square(x))
    return sig(z) + x * dsig(z) * dz


GELU_TANH = register(Activation(
    name="gelu_tanh", category="smooth",
    formula="0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3)))",
    reference=_gelu_tanh, derivative=_dgelu_tanh,
    traits=GATED_RECTIFIER,
    description="GELU's tanh approximation (PyTorch approximate='tanh'), within 1e-3 of erf GELU",
    source="Hendrycks & Gimpel, arXiv 1606.08415, 2016",
))


# ---- Swish family -------------------------------------------------------------------------
def _swish_traits(beta):
    if beta > 0:
        return GATED_RECTIFIER
    if beta < 0:
        return Traits(neg=IDENTITY, pos=ZERO, **HALF_LINE)
    half = Asymptote(0.5, 0.0)  # x*sigma(0) = x/2
    return Traits(monotonic="increasing", symmetry="odd", neg=half, pos=half)


SWISH = register(Activation(
    name="swish", category="smooth",
    formula="x*sigmoid(beta*x)",
    reference=swish, derivative=_dswish,
    params=(Param("beta", 1.0, "slope of the sigmoid gate (0 gives x/2)"),),
    traits=_swish_traits,
    description="Swish: self-gated x*sigmoid(beta*x), found by automated search",
    source="Ramachandran, Zoph & Le, Searching for Activation Functions, arXiv 1710.05941, 2017",
))

SILU = register(Activation(
    name="silu", category="smooth",
    formula="x*sigmoid(x)",
    reference=silu, derivative=dsilu,
    traits=GATED_RECTIFIER,
    description="Sigmoid-weighted linear unit (Swish with beta = 1)",
    source="Elfwing, Uchibe & Doya, arXiv 1702.03118, 2017 (Neural Networks 2018); "
           "Hendrycks & Gimpel 2016",
))

ESWISH = register(Activation(
    name="eswish", category="smooth",
    formula="beta*x*sigmoid(x)",
    reference=lambda x, beta: beta * silu(x),
    derivative=lambda x, beta: beta * dsilu(x),
    params=(Param("beta", 1.5, "output scale (the paper uses 1 <= beta <= 2)",
                  lo=0.0, lo_open=True),),
    traits=lambda beta: Traits(neg=ZERO, pos=Asymptote(beta, 0.0), symmetry="even_line",
                               slope=beta / 2.0),
    description="E-swish: SiLU scaled by beta",
    source="Alcaide, E-swish: Adjusting Activations to Different Network Depths, "
           "arXiv 1801.07145, 2018",
))


def _tanh_softplus(x):
    """tanh(softplus(x)), 1 - tanh and 1 + tanh, as ratios of exponentials of -|x|.

    With w = 1 + e^x, tanh(ln w) = (w^2 - 1)/(w^2 + 1); divided through by e^(2x) for x > 0.
    """
    e = exp_flushed(-np.abs(x))
    e2 = exp_flushed(-2.0 * np.abs(x))  # e*e would underflow
    n = e * (e + 2.0)  # x < 0: w^2 - 1
    den_pos = 1.0 + 2.0 * e * (1.0 + e)
    t = np.where(x < 0, n / (n + 2.0), (1.0 + 2.0 * e) / den_pos)
    one_minus_t = np.where(x < 0, 2.0 / (n + 2.0), 2.0 * e2 / den_pos)
    return t, one_minus_t, 1.0 + t


def _mish(x):
    return x * _tanh_softplus(x)[0]


def _dmish(x):
    t, one_minus_t, one_plus_t = _tanh_softplus(x)
    return t + x * sig(x) * one_minus_t * one_plus_t


MISH = register(Activation(
    name="mish", category="smooth",
    formula="x*tanh(softplus(x))",
    reference=_mish, derivative=_dmish,
    traits=RECTIFIER,
    description="Mish: self-regularised non-monotonic activation (YOLOv4)",
    source="Misra, Mish: A Self Regularized Non-Monotonic Activation Function, "
           "arXiv 1908.08681, 2019",
))


def _b_silu(x, alpha):
    return (x + alpha) * sig(x) - alpha / 2.0


def _db_silu(x, alpha):
    return sig(x) + (x + alpha) * dsig(x)


B_SILU = register(Activation(
    name="b_silu", category="smooth",
    formula="(x + alpha)*sigmoid(x) - alpha/2",
    reference=_b_silu, derivative=_db_silu,
    params=(Param("alpha", 1.67, "bias of the linear factor (0 gives SiLU)", lo=0.0),),
    # x -> -inf: (x + alpha)*sigma(x) -> 0; x -> +inf: sigma -> 1, so x + alpha - alpha/2
    traits=lambda alpha: Traits(neg=Asymptote.constant(0.0 - alpha / 2.0),
                                pos=Asymptote(1.0, alpha / 2.0)),
    description="Bounded SiLU: the SUGAR surrogate gradient that stands in for ReLU's derivative",
    source="Horuz et al., The Resurrection of the ReLU (SUGAR), arXiv 2505.22074, 2025 "
           "(alpha = 1.67)",
))


# ---- algebraic and piecewise-smooth -------------------------------------------------------
def _squareplus_parts(x, b):
    """sqrt(x^2 + b), a safe divisor, and the x < 0 mask."""
    r = np.hypot(x, math.sqrt(b))  # hypot: no overflow of x^2, no underflow for tiny x
    neg = x < 0
    return r, np.where(neg, r - x, 1.0), neg


def _squareplus(x, b):
    r, r_minus_x, neg = _squareplus_parts(x, b)
    # x + r cancels for x < 0: multiply by the conjugate, x + r = b/(r - x)
    return np.where(neg, b / (2.0 * r_minus_x), (x + r) / 2.0)


def _dsquareplus(x, b):
    r, r_minus_x, neg = _squareplus_parts(x, b)
    r_safe = np.where(r > 0, r, 1.0)  # r = 0 only at x = 0 with b = 0: slope 1/2 (limit b -> 0)
    # 1 + x/r = (r + x)/r = b/(r*(r - x)) for x < 0
    return np.where(neg, (b / r_safe) / (2.0 * r_minus_x), (1.0 + x / r_safe) / 2.0)


SQUAREPLUS = register(Activation(
    name="squareplus", category="smooth",
    formula="(x + sqrt(x^2 + b))/2",
    reference=_squareplus, derivative=_dsquareplus,
    params=(Param("b", 4.0, "curvature at 0 (0 gives ReLU; >= 4*ln(2)^2 stays above softplus)",
                  lo=0.0),),
    traits=Traits(monotonic="increasing", neg=ZERO, pos=IDENTITY),
    description="SquarePlus: softplus-like rectifier from a square root only",
    source="Barron, Squareplus: A Softplus-Like Algebraic Rectifier, arXiv 2112.11687, 2021",
))


def _sqnl(x):
    a = np.minimum(np.abs(x), 2.0)
    return np.copysign(a * (1.0 - a / 4.0), x)  # a - a^2/4 without squaring a tiny a


SQNL = register(Activation(
    name="sqnl", category="smooth",
    formula="1 if x > 2; x - x^2/4 on [0, 2]; x + x^2/4 on [-2, 0); -1 if x < -2",
    reference=_sqnl, derivative=lambda x: 1.0 - np.minimum(np.abs(x), 2.0) / 2.0,
    traits=Traits(monotonic="increasing", symmetry="odd",
                  neg=Asymptote.constant(-1.0), pos=Asymptote.constant(1.0)),
    description="Square nonlinearity: a tanh-like sigmoid from two parabolas",
    source="Wuraola & Patel, SQNL: A New Computationally Efficient Activation Function, IJCNN 2018",
))


def _bent_identity(x):
    # (sqrt(x^2 + 1) - 1) = x^2/(sqrt(x^2 + 1) + 1): no cancellation near 0
    return x + square(x) / (2.0 * (np.hypot(x, 1.0) + 1.0))


BENT_IDENTITY = register(Activation(
    name="bent_identity", category="smooth",
    formula="(sqrt(x^2 + 1) - 1)/2 + x",
    reference=_bent_identity, derivative=lambda x: 1.0 + x / (2.0 * np.hypot(x, 1.0)),
    # sqrt(x^2 + 1) = |x| + O(1/|x|): (|x| - 1)/2 + x, i.e. x/2 - 1/2 and 3x/2 - 1/2
    traits=Traits(monotonic="increasing",
                  neg=Asymptote(0.5, -0.5), pos=Asymptote(1.5, -0.5)),
    description="Bent identity: identity plus half a hyperbola (slopes 1/2 and 3/2)",
    source="no original paper; listed in Wikipedia's 'Activation function' table",
))


def _tanhexp(x):
    return x * np.tanh(exp_flushed(x, hi=20.0))  # tanh(e^20) == 1 in float64


def _dtanhexp(x):
    u = exp_flushed(x, hi=20.0)
    g = exp_flushed(-2.0 * u)
    sech2 = 4.0 * g / np.square(1.0 + g)  # sech(u)^2 without cosh overflow
    return np.tanh(u) + x * u * sech2


TANHEXP = register(Activation(
    name="tanhexp", category="smooth",
    formula="x*tanh(exp(x))",
    reference=_tanhexp, derivative=_dtanhexp,
    traits=RECTIFIER,
    description="TanhExp: fast-converging activation for lightweight networks",
    source="Liu & Di, TanhExp: A Smooth Activation Function with High Convergence Speed for "
           "Lightweight Neural Networks, arXiv 2003.09855, 2020",
))


# ---- softplus family ----------------------------------------------------------------------
SOFTPLUS = register(Activation(
    name="softplus", category="smooth",
    formula="ln(1 + exp(x))",
    reference=softplus, derivative=sig,
    # ln(1 + e^x) - x/2 = ln(2 cosh(x/2)) is even
    traits=Traits(monotonic="increasing", neg=ZERO, pos=IDENTITY, **HALF_LINE),
    description="Softplus, the smooth ReLU; its derivative is the sigmoid",
    source="Dugas et al., Incorporating Second-Order Functional Knowledge for Better Option "
           "Pricing, NIPS 2000",
))


def _parametric_softplus(x, alpha, beta):
    return softplus(alpha * x) / beta


def _dparametric_softplus(x, alpha, beta):
    return (alpha / beta) * sig(alpha * x)


PARAMETRIC_SOFTPLUS = register(Activation(
    name="parametric_softplus", category="smooth",
    formula="ln(1 + exp(alpha*x))/beta",
    reference=_parametric_softplus, derivative=_dparametric_softplus,
    params=(Param("alpha", 1.0, "input scale (sharpness)", lo=0.0, lo_open=True),
            Param("beta", 1.0, "output divisor (alpha = beta is PyTorch's Softplus(beta))",
                  lo=0.0, lo_open=True)),
    traits=lambda alpha, beta: Traits(monotonic="increasing", neg=ZERO,
                                      pos=Asymptote(alpha / beta, 0.0)),
    description="Softplus with an input scale and an output divisor",
    source="Dugas et al. 2000 softplus, scaled as in PyTorch Softplus(beta)",
))

SOFTSIGN = register(Activation(
    name="softsign", category="smooth",
    formula="x/(1 + |x|)",
    reference=lambda x: x / (1.0 + np.abs(x)),
    derivative=lambda x: 1.0 / np.square(1.0 + np.abs(x)),
    traits=Traits(monotonic="increasing", symmetry="odd",
                  neg=Asymptote.constant(-1.0), pos=Asymptote.constant(1.0)),
    description="Softsign: tanh-like squashing with polynomial tails",
    source="Turian, Bergstra & Bengio, Quadratic Features and Deep Architectures for Chunking, "
           "NAACL 2009; Glorot & Bengio 2010",
))

LOG_SIGMOID = register(Activation(
    name="log_sigmoid", aliases=("logsigmoid",), category="smooth",
    formula="ln(sigmoid(x)) = -softplus(-x)",
    reference=lambda x: -softplus(-x), derivative=lambda x: sig(-x),
    traits=Traits(monotonic="increasing", neg=IDENTITY, pos=ZERO),
    description="Logarithm of the sigmoid (PyTorch LogSigmoid), computed stably",
    source="textbook; PyTorch torch.nn.LogSigmoid",
))


def _learnable_sigmoid_traits(alpha, beta):
    lo, hi = Asymptote.constant(0.0), Asymptote.constant(1.0)
    if alpha == 0:
        lo = hi = Asymptote.constant(float(sig(np.float64(beta))))  # the constant sigma(beta)
    elif alpha < 0:
        lo, hi = hi, lo
    sym = {}
    if alpha == 0:
        sym = dict(symmetry="even")  # a constant
    elif beta == 0:
        sym = dict(symmetry="point", center=0.5)
    return Traits(monotonic="decreasing" if alpha < 0 else "increasing", neg=lo, pos=hi, **sym)


LEARNABLE_SIGMOID = register(Activation(
    name="learnable_sigmoid", category="smooth",
    formula="sigmoid(alpha*x + beta)",
    reference=lambda x, alpha, beta: sig(scaled(x, alpha, beta)),
    derivative=lambda x, alpha, beta: alpha * dsig(scaled(x, alpha, beta)),
    params=(Param("alpha", 1.0, "learned slope"), Param("beta", 0.0, "learned offset")),
    traits=_learnable_sigmoid_traits,
    description="Sigmoid with a learned slope and offset, tabulated at their trained values",
    source="textbook: logistic sigmoid with trainable slope and bias",
))


# ---- periodic and trigonometric -----------------------------------------------------------
ARCTAN = register(Activation(
    name="arctan", aliases=("atan",), category="smooth",
    formula="atan(x)",
    reference=np.arctan, derivative=lambda x: 1.0 / (1.0 + square(x)),
    traits=Traits(monotonic="increasing", symmetry="odd",
                  neg=Asymptote.constant(-math.pi / 2), pos=Asymptote.constant(math.pi / 2)),
    description="Arctangent, a squashing function with polynomial tails",
    source="textbook",
))

SINE = register(Activation(
    name="sine", aliases=("sin",), category="smooth",
    formula="sin(x)",
    reference=np.sin, derivative=np.cos,
    default_range=(-math.pi, math.pi),
    traits=Traits(symmetry="odd"),
    description="Sine, the periodic activation of implicit neural representations (SIREN)",
    source="Sitzmann et al., Implicit Neural Representations with Periodic Activation Functions, "
           "NeurIPS 2020",
))

COSINE = register(Activation(
    name="cosine", aliases=("cos",), category="smooth",
    formula="cos(x)",
    reference=np.cos, derivative=lambda x: -np.sin(x),
    default_range=(-math.pi, math.pi),
    traits=Traits(symmetry="even"),
    description="Cosine, a periodic activation (Fourier features)",
    source="textbook",
))

# d/dy sin(y)/y = sum_k (-1)^k 2k y^(2k-1)/(2k+1)!, used for |y| < 1 where the closed form cancels
_SINC_SERIES = tuple((-1) ** k * 2 * k / math.factorial(2 * k + 1) for k in range(1, 10))


def _sin_over(y):
    """sin(y)/y, 1 at y = 0."""
    y_safe = np.where(y == 0, 1.0, y)
    return np.where(y == 0, 1.0, np.sin(y_safe) / y_safe)


def _dsin_over(y):
    """d/dy sin(y)/y = (y cos y - sin y)/y^2, by its Taylor series for |y| < 1."""
    small = np.abs(y) < 1.0
    t = square(y)
    series = np.zeros_like(t)
    for c in reversed(_SINC_SERIES):
        series = series * t + c
    y_big = np.where(small, 1.0, y)
    closed = (y_big * np.cos(y_big) - np.sin(y_big)) / np.square(y_big)
    return np.where(small, y * series, closed)


SINC = register(Activation(
    name="sinc", category="smooth",
    formula="sin(pi*x)/(pi*x), 1 at 0",
    reference=lambda x: _sin_over(np.pi * x),
    derivative=lambda x: np.pi * _dsin_over(np.pi * x),
    traits=Traits(symmetry="even", neg=ZERO, pos=ZERO),
    description="Normalised sinc (numpy.sinc): zeros at the nonzero integers",
    source="Woodward & Davies 1952; textbook",
))

SINC_UNNORMALIZED = register(Activation(
    name="sinc_unnormalized", category="smooth",
    formula="sin(x)/x, 1 at 0",
    reference=_sin_over, derivative=_dsin_over,
    traits=Traits(symmetry="even", neg=ZERO, pos=ZERO),
    description="Unnormalised sinc: zeros at the nonzero multiples of pi",
    source="textbook",
))
