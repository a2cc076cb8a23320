"""Finding the activations of an ONNX graph: plain ops and the decomposed forms exporters write.

An activation is a *region*: element-wise nodes whose only non-constant input is one
tensor ``x`` (a plain ``Sigmoid``; ``Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5``;
``Sigmoid(x) -> Mul x``; ``Add 3 -> Clip 0,6 -> Mul x -> Div 6``), found from a *seed*
(a nonlinear op: Erf, Sigmoid, Tanh, Clip, ...) by walking up through arithmetic with
constants to ``x`` and down through element-wise consumers. A QuantizeLinear ->
DequantizeLinear pair inside the region (QDQ models quantise every op's output) is looked
through. The region's function is then named: evaluated in float64 on a grid and compared
with lutgen's reference of each candidate (the region's ops choose the parameters:
LeakyRelu's alpha, HardSigmoid's alpha and beta, Clip's bounds); the most downstream
node whose function is a candidate, and whose inner tensors nothing outside reads, ends
the activation.

This module needs ``onnx`` (imported by the caller) only through the ModelProto it gets.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .activations import get as get_activation

__all__ = ["GraphView", "Region", "find_regions", "SEEDS"]

ARITH = {"Add", "Sub", "Mul", "Div", "Pow", "Neg", "Identity"}  # walked up through from a seed
SEEDS = ("Erf", "Tanh", "Sigmoid", "HardSigmoid", "HardSwish", "Relu", "LeakyRelu", "Elu",
         "Selu", "Softplus", "Softsign", "Mish", "Gelu", "Clip")
ELEMENTWISE = ARITH | set(SEEDS) | {"Exp", "Log", "Sqrt", "Abs", "Reciprocal", "Max", "Min"}
MAX_REGION = 16  # nodes; the longest form (GELU tanh) has 9

# the registry's activations a region without parameters may be
PLAIN_CANDIDATES = ("gelu", "gelu_tanh", "silu", "hard_swish", "mish", "sigmoid", "tanh",
                    "relu", "relu6", "softplus", "softsign", "hard_sigmoid_torch", "selu", "elu")
GRID = np.concatenate((np.linspace(-8.0, 8.0, 321), [-20.0, -12.5, -0.3, 0.3, 12.5, 20.0]))
TOLERANCE = 1e-6  # relative to 1 + |reference|: float32 constants (sqrt 2, 0.044715) pass


@dataclass
class Region:
    """One activation found in the graph (before its formats are known)."""

    x: str  # the float tensor the activation is a function of (QDQ looked through)
    reads: list[str]  # the tensors its nodes read for x (a DequantizeLinear's output in QDQ)
    root: str  # the tensor holding its result
    nodes: list  # its NodeProtos, in graph order (inner Q/DQ pairs included)
    activation: str | None  # a registry name, or None with ``expr``
    params: dict = field(default_factory=dict)
    expr: str | None = None

    @property
    def form(self) -> str:
        """The op types of the region, in graph order (inner Q/DQ pairs left out)."""
        ops = [n.op_type for n in self.nodes
               if n.op_type not in ("QuantizeLinear", "DequantizeLinear", "Identity")]
        return "/".join(ops)


class GraphView:
    """Who produces and who reads each tensor, and the value of constant tensors."""

    def __init__(self, graph):
        from onnx import numpy_helper

        self._numpy_helper = numpy_helper
        self.graph = graph
        self.nodes = list(graph.node)
        self.order = {id(n): i for i, n in enumerate(self.nodes)}
        self.init = {t.name: t for t in graph.initializer}
        self.producer = {o: n for n in self.nodes for o in n.output if o}
        self.consumers = defaultdict(list)
        for n in self.nodes:
            for name in n.input:
                if name:
                    self.consumers[name].append(n)
        self._const_cache: dict = {}

    def attr(self, node, name, default=None):
        from onnx import helper

        for a in node.attribute:
            if a.name == name:
                value = helper.get_attribute_value(a)
                return value.decode() if isinstance(value, bytes) else value
        return default

    def const(self, name: str):
        """The value of a constant tensor (initializer, Constant, or a DequantizeLinear or
        Cast of constants) as float64, or None."""
        if not name:
            return None
        if name not in self._const_cache:
            self._const_cache[name] = self._const(name)
        return self._const_cache[name]

    def raw_const(self, name: str):
        """A constant's value in its own dtype (no conversion), or None."""
        if name in self.init:
            return self._numpy_helper.to_array(self.init[name])
        node = self.producer.get(name)
        if node is not None and node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    return self._numpy_helper.to_array(a.t)
                if a.name in ("value_float", "value_int"):
                    return np.asarray(a.f if a.name == "value_float" else a.i)
                if a.name in ("value_floats", "value_ints"):
                    return np.asarray(list(a.floats if a.name == "value_floats" else a.ints))
        if node is not None and node.op_type == "Identity":
            return self.raw_const(node.input[0])
        return None

    def _const(self, name: str):
        raw = self.raw_const(name)
        if raw is not None:
            return raw.astype(np.float64) if raw.dtype.kind in "iuf" else None
        node = self.producer.get(name)
        if node is None:
            return None
        if node.op_type == "Cast":
            return self.const(node.input[0])
        if node.op_type == "DequantizeLinear":
            quantize = self.producer.get(node.input[0])
            if quantize is not None and quantize.op_type == "QuantizeLinear":
                return self.const(quantize.input[0])  # a fake-quantised constant: the constant
            q, s = self.const(node.input[0]), self.const(node.input[1])
            zp = self.const(node.input[2]) if len(node.input) > 2 and node.input[2] else 0.0
            if q is None or s is None or zp is None or np.size(s) != 1:
                return None
            return (q - zp) * s
        return None

    def src(self, name: str) -> str:
        """``name`` with fake quantisation (QuantizeLinear -> DequantizeLinear) looked through."""
        dq = self.producer.get(name)
        if dq is None or dq.op_type != "DequantizeLinear":
            return name
        q = self.producer.get(dq.input[0])
        if q is None or q.op_type != "QuantizeLinear" or self.const(dq.input[0]) is not None:
            return name
        return self.src(q.input[0])

    def readers(self, name: str) -> list:
        """The nodes reading ``name``, directly or through a Q -> DQ pair."""
        out = []
        for c in self.consumers.get(name, []):
            if c.op_type == "QuantizeLinear":
                for dq in self.consumers.get(c.output[0], []):
                    if dq.op_type == "DequantizeLinear":
                        out.extend(self.readers(dq.output[0]))
                    else:
                        out.append(c)
            else:
                out.append(c)
        return out

    def is_output(self, name: str) -> bool:
        return any(o.name == name for o in self.graph.output)


def _variable_inputs(view: GraphView, node) -> list[str]:
    """The inputs of ``node`` that are not constants (Clip's bounds must be constants)."""
    return [i for i in node.input if i and view.const(i) is None]


def _leaf_candidates(view: GraphView, seed) -> list[str]:
    """Tensors the seed's region may be a function of: the outermost first."""
    ins = _variable_inputs(view, seed)
    if len(ins) != 1:
        return []
    near = view.src(ins[0])
    leaves, stack, seen = set(), [near], set()
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        seen.add(t)
        p = view.producer.get(t)
        if p is not None and p.op_type in ARITH and len(seen) < MAX_REGION:
            stack.extend(view.src(i) for i in _variable_inputs(view, p))
        else:
            leaves.add(t)
    far = next(iter(leaves)) if len(leaves) == 1 else None
    return [far, near] if far is not None and far != near else [near]


def _grow(view: GraphView, x: str, seed) -> list:
    """The element-wise nodes computing from ``x`` alone, around ``seed``, in graph order."""
    region = {id(seed): seed}
    tensors = {x}
    # the arithmetic between x and the seed
    stack = [view.src(i) for i in _variable_inputs(view, seed)]
    while stack:
        t = stack.pop()
        if t in tensors:
            continue
        p = view.producer.get(t)
        if p is None or p.op_type not in ARITH:
            return []  # the seed reads something other than x
        region[id(p)] = p
        tensors.add(t)
        stack.extend(view.src(i) for i in _variable_inputs(view, p))
    tensors |= {o for n in region.values() for o in n.output}
    changed = True
    while changed and len(region) < MAX_REGION:
        changed = False
        for t in list(tensors):
            for c in view.readers(t):
                if id(c) in region or c.op_type not in ELEMENTWISE:
                    continue
                if all(view.src(i) in tensors for i in _variable_inputs(view, c)):
                    region[id(c)] = c
                    tensors.update(o for o in c.output if o)
                    changed = True
    return sorted(region.values(), key=lambda n: view.order[id(n)])


def _evaluate(view: GraphView, x: str, nodes) -> dict:
    """Every region tensor as a float64 function of x on :data:`GRID`."""
    from scipy.special import erf

    vals = {x: GRID}

    def arg(name):
        c = view.const(name)
        return c.reshape(()) if c is not None and c.size == 1 else (
            c if c is not None else vals[view.src(name)])

    for n in nodes:
        a = [arg(i) if i else None for i in n.input]
        op, at = n.op_type, lambda k, d=None: view.attr(n, k, d)
        with np.errstate(all="ignore"):
            if op in ("Add", "Sub", "Mul", "Div", "Pow"):
                y = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply,
                     "Div": np.divide, "Pow": np.power}[op](a[0], a[1])
            elif op in ("Max", "Min"):
                y = (np.maximum if op == "Max" else np.minimum)(a[0], a[1])
                for extra in a[2:]:
                    y = (np.maximum if op == "Max" else np.minimum)(y, extra)
            elif op == "Clip":
                lo = a[1] if len(a) > 1 and a[1] is not None else at("min", -np.inf)
                hi = a[2] if len(a) > 2 and a[2] is not None else at("max", np.inf)
                y = np.clip(a[0], lo, hi)
            else:
                v = a[0]
                unary = {
                    "Neg": lambda: -v, "Identity": lambda: v, "Erf": lambda: erf(v),
                    "Tanh": lambda: np.tanh(v), "Sigmoid": lambda: 0.5 * (1 + np.tanh(v / 2)),
                    "Relu": lambda: np.maximum(v, 0.0), "Exp": lambda: np.exp(v),
                    "Log": lambda: np.log(v), "Sqrt": lambda: np.sqrt(v), "Abs": lambda: abs(v),
                    "Reciprocal": lambda: 1.0 / v,
                    "Softplus": lambda: np.logaddexp(0.0, v), "Softsign": lambda: v / (1 + abs(v)),
                    "HardSigmoid": lambda: np.clip(at("alpha", 0.2) * v + at("beta", 0.5), 0, 1),
                    "HardSwish": lambda: v * np.clip(v / 6 + 0.5, 0, 1),
                    "LeakyRelu": lambda: np.where(v >= 0, v, at("alpha", 0.01) * v),
                    "Elu": lambda: np.where(v >= 0, v, at("alpha", 1.0) * np.expm1(v)),
                    "Selu": lambda: at("gamma", 1.0507009873554805) * np.where(
                        v > 0, v, at("alpha", 1.6732632423543772) * np.expm1(v)),
                    "Mish": lambda: v * np.tanh(np.logaddexp(0.0, v)),
                    "Gelu": lambda: (0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (
                        v + 0.044715 * v**3)))) if at("approximate", "none") == "tanh"
                    else 0.5 * v * (1 + erf(v / math.sqrt(2))),
                }
                y = unary[op]()
        vals[n.output[0]] = np.broadcast_to(np.asarray(y, dtype=np.float64), GRID.shape)
    return vals


def _candidates(view: GraphView, nodes) -> list[tuple[str | None, dict, str | None]]:
    """(activation, params, expr) a region may be: the parametrised ops' own, then the rest."""
    out = []
    for n in nodes:
        at = lambda k, d=None: view.attr(n, k, d)  # noqa: E731
        if n.op_type == "LeakyRelu":
            out.append(("leaky_relu", {"alpha": float(np.float32(at("alpha", 0.01)))}, None))
        elif n.op_type == "Elu":
            out.append(("elu", {"alpha": float(np.float32(at("alpha", 1.0)))}, None))
        elif n.op_type == "Selu":
            out.append(("selu", {"alpha": float(np.float32(at("alpha", 1.6732632423543772))),
                                 "scale": float(np.float32(at("gamma", 1.0507009873554805)))},
                        None))
        elif n.op_type == "HardSigmoid":
            out.append(("hard_sigmoid", {"slope": float(np.float32(at("alpha", 0.2))),
                                         "offset": float(np.float32(at("beta", 0.5)))}, None))
        elif n.op_type == "Clip":
            lo = view.const(n.input[1]) if len(n.input) > 1 and n.input[1] else None
            hi = view.const(n.input[2]) if len(n.input) > 2 and n.input[2] else None
            lo = float(lo.reshape(())) if lo is not None and lo.size == 1 else at("min")
            hi = float(hi.reshape(())) if hi is not None and hi.size == 1 else at("max")
            if lo is not None and hi is not None:
                out.append((None, {}, f"clip(x, {lo!r}, {hi!r})"))
            elif lo is not None:
                out.append((None, {}, f"maximum(x, {lo!r})"))
            elif hi is not None:
                out.append((None, {}, f"minimum(x, {hi!r})"))
    return [*[(a, {}, None) for a in PLAIN_CANDIDATES], *out]


def _reference(candidate):
    act, params, expr = candidate
    if expr is not None:
        from .activations import from_expression

        return from_expression(expr)(GRID)
    return get_activation(act).evaluate(GRID, params)


def _matches(values, ref) -> bool:
    ok = np.isfinite(ref)
    return bool(ok.any() and np.all(np.abs(values[ok] - ref[ok]) <= TOLERANCE * (1 + abs(ref[ok]))))


def _closure(view: GraphView, x: str, nodes, root: str) -> list:
    """The nodes of ``nodes`` that ``root`` depends on (Q/DQ pairs of inner tensors included)."""
    by_out = {o: n for n in nodes for o in n.output}
    keep, stack = {}, [root]
    while stack:
        t = view.src(stack.pop())
        n = by_out.get(t)
        if n is None or id(n) in keep:
            continue
        keep[id(n)] = n
        stack.extend(i for i in _variable_inputs(view, n) if view.src(i) != x)
    inner = [n for n in keep.values()]
    for n in list(inner):  # the fake quantisation of each inner tensor
        if n.output[0] != root:
            for q in view.consumers.get(n.output[0], []):
                if q.op_type == "QuantizeLinear":
                    keep[id(q)] = q
                    for dq in view.consumers.get(q.output[0], []):
                        keep[id(dq)] = dq
    return sorted(keep.values(), key=lambda n: view.order[id(n)])


def _sealed(view: GraphView, nodes, root: str) -> bool:
    """Does nothing outside ``nodes`` read a tensor inside them (but ``root``)?"""
    inside = {id(n) for n in nodes}
    for n in nodes:
        for o in n.output:
            if o == root:
                continue
            if view.is_output(o) or any(id(c) not in inside for c in view.consumers.get(o, [])):
                return False
    return True


def _reads(view: GraphView, x: str, nodes) -> list[str]:
    return list(dict.fromkeys(i for n in nodes for i in _variable_inputs(view, n)
                              if view.src(i) == x and n.op_type not in ("QuantizeLinear",
                                                                        "DequantizeLinear")))


def find_regions(view: GraphView) -> tuple[list[Region], list]:
    """(the activations found, in graph order; the seed nodes of no known form)."""
    taken: set[int] = set()
    found, unknown = [], []
    for seed in view.nodes:
        if seed.op_type not in SEEDS or id(seed) in taken:
            continue
        region = None
        for x in _leaf_candidates(view, seed):
            region = _name_region(view, x, seed)
            if region is not None:
                break
        if region is None:
            unknown.append(seed)
            continue
        taken.update(id(n) for n in region.nodes)
        found.append(region)
    found.sort(key=lambda r: view.order[id(r.nodes[-1])])
    return found, unknown


def _name_region(view: GraphView, x: str, seed) -> Region | None:
    nodes = _grow(view, x, seed)
    if not nodes:
        return None
    try:
        vals = _evaluate(view, x, nodes)
    except (KeyError, TypeError, ValueError, IndexError):
        return None  # a constant of another shape: not one element-wise function of x
    candidates = _candidates(view, nodes)
    refs = {}
    for n in reversed(nodes):
        root = n.output[0]
        if n.op_type in ("QuantizeLinear", "DequantizeLinear"):
            continue
        part = _closure(view, x, nodes, root)
        if not any(p is seed for p in part) or not _sealed(view, part, root):
            continue
        for cand in candidates:
            key = repr(cand)
            if key not in refs:
                refs[key] = _reference(cand)
            if _matches(vals[root], refs[key]):
                act, params, expr = cand
                return Region(x, _reads(view, x, part), root, part, act, dict(params), expr)
    return None
