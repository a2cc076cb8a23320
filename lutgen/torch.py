"""PyTorch integration: a compiled table as a ``torch.nn.Module``, and model substitution.

:class:`TableActivation` evaluates a :class:`~lutgen.Table` with torch integer
operations: a registered buffer holds the table's output code for every input
code (``Table.eval_int`` over the whole input format, once) and a call is one
``index_select``, on the buffer's device. ``torch.jit.trace`` and ``torch.compile``
record that lookup, not its result. With ``quantize=True`` the module takes real
tensors, quantises them with the input format's own rule (as :meth:`Table.quantize`
does, in float64) and returns the dequantised outputs, with a straight-through or
reference-derivative gradient. :func:`substitute` swaps a model's activation
modules for table modules.

Needs PyTorch (``pip install 'lutgen[torch]'``); ``import lutgen`` never loads it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

try:
    import torch
    from torch import nn
except ModuleNotFoundError as exc:  # pragma: no cover - exercised without torch only
    raise ModuleNotFoundError(
        "lutgen.torch needs PyTorch: pip install 'lutgen[torch]'", name="torch"
    ) from exc

from .errors import QuantizationError, RangeError, SpecError, UnknownActivationError
from .fixedpoint import Overflow, Rounding
from .spec import TableSpec
from .table import Table, build

__all__ = ["TableActivation", "substitute", "Replacement", "activation_of",
           "activation_modules", "quantize_codes", "GRADS", "MAX_INPUT_BITS"]

GRADS = ("ste", "reference")
MAX_INPUT_BITS = 16  # the buffer holds one output per input code: 2**16 at most


def _as_table(table) -> Table:
    if isinstance(table, TableSpec):
        return build(table)
    if not isinstance(table, Table):
        raise SpecError(f"expected a lutgen Table or TableSpec, got {type(table).__name__}")
    return table


def _eager() -> bool:
    """True outside tracing and compiling, where data-dependent checks may run."""
    return not (torch.jit.is_tracing() or torch.jit.is_scripting()
                or torch.compiler.is_compiling())


class TableActivation(nn.Module):
    """A compiled table as a module: input codes in, output codes out, bit-exactly.

    Parameters
    ----------
    table : Table or TableSpec
        The table (a spec is compiled). Its input format has at most 16 bits.
    quantize : bool
        False (default): called on an integer tensor of input codes, returns the
        output codes, exactly ``table.eval_int`` (same values, same dtype). True:
        called on a real tensor, quantises it as ``table.quantize`` does (the input
        format's rounding and overflow, in float64), looks the codes up and returns
        the dequantised outputs in the input's dtype.
    grad : ``"ste"`` or ``"reference"``
        The gradient of the ``quantize=True`` module. ``"ste"``: the quantisers are
        the identity (straight through) and the table is differentiated as it is
        stored, by the central difference of its outputs between neighbouring codes.
        ``"reference"``: the activation's analytic derivative at the quantised input.
        Both are 0 where the input lies beyond the input format (it saturates).

    Examples
    --------
    >>> t = lutgen.compile_table("sigmoid", in_format="int8(0.05,0)",
    ...                          out_format="uint8(0.00390625,0)")
    >>> m = TableActivation(t)
    >>> m(torch.tensor([-128, 0, 127])).tolist() == t.eval_int([-128, 0, 127]).tolist()
    True
    """

    def __init__(self, table, quantize: bool = False, grad: str = "ste"):
        super().__init__()
        table = _as_table(table)
        fin = table.in_format
        if fin.bits > MAX_INPUT_BITS:
            raise SpecError(
                f"TableActivation holds the output of every input code; {fin} has "
                f"{fin.bits} bits (at most {MAX_INPUT_BITS}): use a narrower input format"
            )
        if grad not in GRADS:
            raise SpecError(f"unknown grad {grad!r}; allowed: {', '.join(GRADS)}")
        if quantize and fin.overflow is Overflow.WRAP_SM:
            raise SpecError(f"quantize=True does not implement sign-magnitude wrap ({fin}); "
                            "give the input format another overflow mode")
        self.table = table
        self.quantize = bool(quantize)
        self.grad = grad
        codes = fin.codes()
        every = table.eval_int(codes)
        self.register_buffer("outputs", torch.from_numpy(np.array(every)), persistent=False)
        self.min_code = fin.min_code
        self.max_code = fin.max_code
        if self.quantize:
            self.register_buffer("slopes", torch.from_numpy(self._slopes(codes, every)),
                                 persistent=False)

    def _slopes(self, codes, every) -> np.ndarray:
        """d output / d input (reals) at every input code, for the backward pass."""
        table, fin, fout = self.table, self.table.in_format, self.table.out_format
        if self.grad == "reference":
            spec = table.spec
            if spec.derivative:
                raise SpecError("grad='reference' of a derivative table needs a second "
                                "derivative lutgen does not have; use grad='ste'")
            x = fin.codes_to_real(codes)
            with np.errstate(all="ignore"):
                d = spec.act.evaluate(x, spec.params_dict, derivative=True)
            if d.ndim > 1:
                d = d[spec.output]
            return np.nan_to_num(d, nan=0.0, posinf=0.0, neginf=0.0)
        y = fout.codes_to_real(every.astype(np.int64))
        return np.gradient(y, fin.codes_to_real(codes)) if y.size > 1 else np.zeros(1)

    def extra_repr(self) -> str:
        t = self.table
        return (f"{t.name}, in={t.in_format}, out={t.out_format}, entries={t.entries}, "
                f"interp={t.interp.value}, quantize={self.quantize}"
                + (f", grad={self.grad!r}" if self.quantize else ""))

    def forward(self, x):
        if self.quantize:
            return self._real(x)
        return self.lookup(x)

    def lookup(self, codes):
        """Output codes for an integer tensor of input codes (``Table.eval_int``)."""
        if codes.is_floating_point() or codes.is_complex() or codes.dtype == torch.bool:
            raise SpecError(f"input codes must be an integer tensor (not {codes.dtype}); "
                            "use TableActivation(table, quantize=True) for real inputs")
        index = codes.to(torch.int64) - self.min_code
        if _eager():
            bad = (index < 0) | (index > self.max_code - self.min_code)
            if bool(bad.any()):
                code = int(codes[bad].reshape(-1)[0])
                fin = self.table.in_format
                raise RangeError(f"input code {code} is outside {fin} "
                                 f"({fin.min_code}..{fin.max_code})")
        flat = torch.index_select(self.outputs, 0, index.reshape(-1))
        return flat.reshape(codes.shape)

    def quantize_codes(self, x):
        """Input codes (int64) for a real tensor, as ``Table.quantize`` makes them."""
        return quantize_codes(x, self.table.in_format)

    def dequantize_codes(self, codes):
        """Reals (float64) of output codes."""
        fout = self.table.out_format
        c = codes.to(torch.float64)
        if fout.is_affine:
            return fout.scale * (c - fout.zero_point)
        return c * (2.0 ** -fout.frac)

    def _real(self, x):
        if not x.is_floating_point():
            raise SpecError(f"quantize=True takes a real tensor (not {x.dtype}); "
                            "pass input codes to TableActivation(table) instead")
        codes = self.quantize_codes(x)
        y = self.dequantize_codes(self.lookup(codes)).to(x.dtype)
        if not x.requires_grad:
            return y
        # the value of y, the gradient of slope * x: slope is 0 where the input saturated
        inside = (codes > self.min_code) & (codes < self.max_code)
        real = x.detach().to(torch.float64)
        fin = self.table.in_format
        inside = inside | ((real >= fin.min) & (real <= fin.max))
        slope = torch.where(inside, torch.index_select(
            self.slopes, 0, (codes - self.min_code).reshape(-1)).reshape(codes.shape),
            torch.zeros((), dtype=torch.float64, device=x.device))
        delta = torch.where(torch.isfinite(x), x - x.detach(), torch.zeros_like(x))
        return y + slope.to(x.dtype) * delta


# ---- quantisation, as FixedFormat.quantize does it ------------------------------------------
def _round(y, mode: Rounding):
    if mode is Rounding.FLOOR:
        return torch.floor(y)
    if mode is Rounding.CEIL:
        return torch.ceil(y)
    if mode is Rounding.TOWARD_ZERO:
        return torch.trunc(y)
    if mode is Rounding.NEAREST_EVEN:
        return torch.round(y)  # ties to even, as np.rint
    finite = torch.isfinite(y)
    if mode in (Rounding.NEAREST_UP, Rounding.NEAREST_DOWN):
        f = torch.floor(y)
        d = y - f
        up = d >= 0.5 if mode is Rounding.NEAREST_UP else d > 0.5
        return torch.where(finite, f + up.to(y.dtype), y)
    a = torch.abs(y)
    f = torch.floor(a)
    d = a - f
    up = d >= 0.5 if mode is Rounding.NEAREST_AWAY else d > 0.5
    return torch.where(finite, torch.copysign(f + up.to(y.dtype), y), y)


def quantize_codes(x, fmt):
    """Real tensor to int64 codes of ``fmt``, bit for bit as ``FixedFormat.quantize``.

    In float64, with the format's rounding and overflow modes (sign-magnitude wrap
    excepted). NaN, and an overflow under ``error`` or an infinity under ``wrap``,
    raise :class:`QuantizationError` in eager mode (traced or compiled code skips the
    check).
    """
    arr = x.detach().to(torch.float64)
    overflow = fmt.overflow
    if overflow is Overflow.WRAP_SM:
        raise SpecError(f"sign-magnitude wrap ({fmt}) is not implemented in torch; give the "
                        "format another overflow mode")
    wraps = overflow is Overflow.WRAP
    if _eager() and bool(torch.isnan(arr).any()):
        raise QuantizationError(f"cannot quantise NaN to {fmt}")
    tiny = torch.copysign(torch.full_like(arr, np.nextafter(0.0, 1.0)), arr)
    if fmt.is_affine:
        scaled = arr / fmt.scale
        scaled = torch.where((scaled == 0) & (arr != 0), tiny, scaled)
    else:
        scaled = arr * (2.0 ** fmt.frac)  # exact but for overflow and underflow, as ldexp
        if fmt.frac < 0:
            scaled = torch.where((scaled == 0) & (arr != 0), tiny, scaled)
    if wraps:
        scaled = torch.where(torch.isinf(scaled) & torch.isfinite(arr),
                             torch.zeros_like(scaled), scaled)
    r = _round(scaled, fmt.rounding)
    if fmt.is_affine:  # rounded before the zero point is added, as ONNX QuantizeLinear
        r = r + fmt.zero_point
    lo, hi = fmt.min_code, fmt.max_code
    if overflow is Overflow.SATURATE_SYM and fmt.signed and fmt.bits > 1:
        lo = -hi
    outside = (r < lo) | (r > hi)
    if _eager() and (overflow is Overflow.ERROR or wraps):
        bad = outside & (torch.isinf(r) if wraps else torch.ones_like(outside))
        if bool(bad.any()):
            value = float(arr[bad].reshape(-1)[0])
            raise QuantizationError(
                f"value {value!r} overflows {fmt} (representable: {fmt.min} to {fmt.max})")
    if overflow in (Overflow.SATURATE, Overflow.SATURATE_SYM, Overflow.ERROR):
        return torch.clamp(r, lo, hi).to(torch.int64)
    if overflow is Overflow.SATURATE_ZERO:
        return torch.where(outside, torch.zeros_like(r), r).to(torch.int64)
    span = float(1 << (fmt.bits + 1))
    c = torch.fmod(r, span).to(torch.int64) & ((1 << fmt.bits) - 1)
    if fmt.signed:
        c = torch.where(c > fmt.max_code, c - (1 << fmt.bits), c)
    return c


# ---- substitution ---------------------------------------------------------------------------
def _torch_activations():
    """torch module type -> function of the module giving (lutgen name, params)."""
    def gelu(m):
        return ("gelu_tanh" if m.approximate == "tanh" else "gelu"), {}

    def softplus(m):
        if m.beta == 1:
            return "softplus", {}
        return "parametric_softplus", {"alpha": float(m.beta), "beta": float(m.beta)}

    plain = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.SiLU: "silu", nn.Mish: "mish",
             nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Hardswish: "hard_swish",
             nn.Hardsigmoid: "hard_sigmoid_torch", nn.Softsign: "softsign",
             nn.LogSigmoid: "log_sigmoid", nn.SELU: "selu"}
    table = {t: (lambda m, n=n: (n, {})) for t, n in plain.items()}
    table.update({
        nn.GELU: gelu,
        nn.Softplus: softplus,
        nn.LeakyReLU: lambda m: ("leaky_relu", {"alpha": float(m.negative_slope)}),
        nn.ELU: lambda m: ("elu", {"alpha": float(m.alpha)}),
        nn.CELU: lambda m: ("celu", {"alpha": float(m.alpha)}),
    })
    return table


ACTIVATION_TYPES = _torch_activations()


def activation_of(module) -> tuple[str, dict]:
    """The lutgen activation (name, params) a torch activation module computes.

    Raises :class:`UnknownActivationError` for a module lutgen does not know.
    """
    rule = ACTIVATION_TYPES.get(type(module))
    if rule is None:
        known = ", ".join(sorted(t.__name__ for t in ACTIVATION_TYPES))
        raise UnknownActivationError(
            f"{type(module).__name__} is not an activation lutgen can replace; known: {known}")
    return rule(module)


@dataclass(frozen=True)
class Replacement:
    """One swapped module: its qualified name, torch type, lutgen activation and table."""

    name: str
    module_type: str
    activation: str
    params: dict
    table: Table

    def to_dict(self) -> dict:
        t = self.table
        return {"module": self.name, "module_type": self.module_type,
                "activation": self.activation, "params": dict(self.params),
                "in_format": str(t.in_format), "out_format": str(t.out_format),
                "entries": t.entries, "interp": t.interp.value, "rom_bits": t.rom_bits,
                "c_bytes": t.c_bytes}


def activation_modules(model) -> dict[str, nn.Module]:
    """Qualified name -> module of every activation module of ``model`` lutgen knows."""
    return {name: m for name, m in model.named_modules() if type(m) in ACTIVATION_TYPES}


def substitute(model, tables, *, quantize: bool = True, grad: str = "ste", check: bool = True,
               copy_model: bool = True):
    """Swap a model's activation modules for :class:`TableActivation` modules.

    Parameters
    ----------
    model : torch.nn.Module
    tables : mapping or callable
        A mapping from a module's qualified name (``"body.2"``, as ``named_modules``
        gives it) or a module type (``torch.nn.GELU``) to a :class:`Table` or
        :class:`TableSpec` (a name wins over a type); or a callable
        ``factory(name, module)`` returning a Table, a TableSpec or None (keep it).
    quantize, grad :
        Passed to each :class:`TableActivation` (default: real in, real out).
    check : bool
        Refuse a table whose activation is not the one the module computes.
    copy_model : bool
        Work on a deep copy (default) and leave ``model`` as it was.

    Returns
    -------
    (model, list[Replacement])
        The modified model and one record per swapped module, in module order.

    Raises
    ------
    UnknownActivationError
        A mapping key naming no module, or a module that is no activation lutgen knows.
    SpecError
        A table whose activation differs from the module's (with ``check``).
    """
    if not isinstance(model, nn.Module):
        raise SpecError(f"expected a torch.nn.Module, got {type(model).__name__}")
    modules = dict(model.named_modules())
    if not callable(tables):
        for key in tables:
            if isinstance(key, str):
                if key not in modules:
                    names = ", ".join(activation_modules(model)) or "none"
                    raise UnknownActivationError(f"the model has no module {key!r}; its "
                                                 f"activations: {names}")
                activation_of(modules[key])
            elif not (isinstance(key, type) and key in ACTIVATION_TYPES):
                raise UnknownActivationError(
                    f"{getattr(key, '__name__', key)!r} is not an activation module type "
                    "lutgen can replace; known: "
                    + ", ".join(sorted(t.__name__ for t in ACTIVATION_TYPES)))
    work = copy.deepcopy(model) if copy_model else model
    records = []
    for name, module in list(work.named_modules()):
        if not name:
            continue
        if callable(tables):
            chosen = tables(name, module)
        else:
            chosen = tables.get(name, tables.get(type(module)))
        if chosen is None:
            continue
        act, params = activation_of(module)
        table = _as_table(chosen)
        if check:
            _check_same(name, module, act, params, table)
        _set(work, name, TableActivation(table, quantize=quantize, grad=grad))
        records.append(Replacement(name, type(module).__name__, act, params, table))
    return work, records


def _check_same(name, module, act, params, table: Table) -> None:
    spec = table.spec
    theirs = dict(spec.act.resolve(spec.params_dict))
    same = (spec.expr is None and not spec.derivative and spec.act.name == act
            and all(abs(float(theirs.get(k, v)) - v) <= 1e-12 * max(1.0, abs(v))
                    for k, v in params.items()))
    if not same:
        what = spec.act.name + (" (derivative)" if spec.derivative else "")
        raise SpecError(
            f"module {name!r} is {type(module).__name__} (lutgen '{act}'"
            + (f" {params}" if params else "") + f") but its table tabulates '{what}'"
            + (f" {theirs}" if theirs else "") + "; give the matching table or check=False")


def _set(root, name: str, new) -> None:
    parent_name, _, leaf = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, leaf, new)
