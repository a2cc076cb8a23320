"""Safe expressions: ``'x*tanh(exp(x))'`` into an :class:`Activation`, without ``eval``.

The expression is parsed with :mod:`ast` and only arithmetic, ``x``, constants, a
list of functions and registered activations are allowed; every value carries its
exact derivative (forward mode), so an expression has a derivative table too.
"""

from __future__ import annotations

import ast
import math
import operator
import warnings

import numpy as np

from ..errors import ExpressionError, did_you_mean
from ._registry import Activation, check_name, check_range, register
from .classic import sigmoid

__all__ = ["from_expression", "register_expression", "ALLOWED"]


# ---- safe expressions ----------------------------------------------------------------------
# Why this is safe: the text is never evaluated. ast.parse only builds a tree (no code object
# is made), and _Builder.build walks it once, turning each node it recognises into a closure
# over a NumPy function taken from the fixed tables below and raising ExpressionError for any
# other node. There is no attribute access, subscript, keyword or name look-up outside those
# tables, hence no path to builtins, dunder attributes or modules. Constants become float64, so
# 9**9**9 is inf rather than a huge Python integer. Every closure returns a (value, derivative)
# pair: forward-mode differentiation, so an expression has an exact derivative table too.

def _sq(v):
    return v * v


def _dual1(fn, dfn):
    """A one-argument function and its derivative, chained: f(u)' = f'(u) u'."""
    return 1, fn, lambda v, d: dfn(v[0]) * d[0]


def _dual_pick(arity, fn, pick):
    """A function whose derivative is one argument's, picked by ``pick(*values, *derivs)``."""
    return arity, fn, lambda v, d: pick(*v, *d)


def _rmax(a, b, da, db):
    """Right-hand derivative of max(a, b): at a tie, the larger slope wins to the right."""
    return np.where(a > b, da, np.where(a < b, db, np.maximum(da, db)))


def _rmin(a, b, da, db):
    return np.where(a < b, da, np.where(a > b, db, np.minimum(da, db)))


def _special():
    """scipy.special, imported on first use: it costs 0.25 s, a quarter of a second of every
    start-up (``lutgen --help``) that never evaluates erf."""
    from scipy import special

    return special


# name -> (arity, f(*values), derivative(values, derivatives)). At a kink the derivative
# is the right-hand one, as everywhere in the catalog (relu'(0) = 1, abs'(0) = 1).
_FUNCTIONS = {
    "exp": _dual1(np.exp, np.exp),
    "log": _dual1(np.log, lambda v: 1.0 / v),
    "log1p": _dual1(np.log1p, lambda v: 1.0 / (1.0 + v)),
    "expm1": _dual1(np.expm1, np.exp),
    "sqrt": _dual1(np.sqrt, lambda v: 0.5 / np.sqrt(v)),
    "abs": _dual_pick(1, np.abs, lambda a, da: _rmax(a, -a, da, -da)),
    "tanh": _dual1(np.tanh, lambda v: 1.0 - _sq(np.tanh(v))),
    "sinh": _dual1(np.sinh, np.cosh),
    "cosh": _dual1(np.cosh, np.sinh),
    "sin": _dual1(np.sin, np.cos),
    "cos": _dual1(np.cos, lambda v: -np.sin(v)),
    "tan": _dual1(np.tan, lambda v: 1.0 + _sq(np.tan(v))),
    "arctan": _dual1(np.arctan, lambda v: 1.0 / (1.0 + _sq(v))),
    "arcsin": _dual1(np.arcsin, lambda v: 1.0 / np.sqrt(1.0 - _sq(v))),
    "arccos": _dual1(np.arccos, lambda v: -1.0 / np.sqrt(1.0 - _sq(v))),
    "arcsinh": _dual1(np.arcsinh, lambda v: 1.0 / np.sqrt(1.0 + _sq(v))),
    "arctanh": _dual1(np.arctanh, lambda v: 1.0 / (1.0 - _sq(v))),
    "erf": _dual1(lambda v: _special().erf(v),
                  lambda v: 2.0 / math.sqrt(math.pi) * np.exp(-_sq(v))),
    "erfc": _dual1(lambda v: _special().erfc(v),
                   lambda v: -2.0 / math.sqrt(math.pi) * np.exp(-_sq(v))),
    "sigmoid": _dual1(sigmoid, lambda v: sigmoid(v) * sigmoid(-v)),
    "softplus": _dual1(lambda v: np.logaddexp(0.0, v), sigmoid),
    "floor": _dual1(np.floor, np.zeros_like),
    "ceil": _dual1(np.ceil, np.zeros_like),
    "sign": _dual1(np.sign, np.zeros_like),
    "relu": _dual_pick(1, lambda v: np.maximum(v, 0.0), lambda a, da: _rmax(a, 0.0, da, 0.0)),
    "minimum": _dual_pick(2, np.minimum, _rmin),
    "maximum": _dual_pick(2, np.maximum, _rmax),
    "clip": _dual_pick(3, np.clip, lambda a, lo, hi, da, dlo, dhi:  # min(max(a, lo), hi)
                       _rmin(np.maximum(a, lo), hi, _rmax(a, lo, da, dlo), dhi)),
}
for _alias in ("atan", "asin", "acos", "asinh", "atanh"):
    _FUNCTIONS[_alias] = _FUNCTIONS["arc" + _alias[1:]]
_CONSTANTS = {"pi": math.pi, "e": math.e}
_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_OTHER_SYMBOLS = {
    ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Not: "not", ast.Invert: "~",
}
_NODE_WORDS = {
    ast.Attribute: "attribute access", ast.Subscript: "subscript", ast.Lambda: "lambda",
    ast.ListComp: "comprehension", ast.SetComp: "comprehension", ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension", ast.Compare: "comparison", ast.BoolOp: "boolean operator",
    ast.IfExp: "conditional expression", ast.NamedExpr: "assignment", ast.Starred: "star argument",
    ast.List: "list", ast.Tuple: "tuple", ast.Set: "set", ast.Dict: "dict",
    ast.JoinedStr: "f-string",
}
ALLOWED = (
    "Allowed: the variable x, numbers, the constants pi and e, the operators + - * / **, "
    "the functions " + ", ".join(sorted(_FUNCTIONS))
    + ", and any activation of 'lutgen list' called on one argument with its default parameters"
)


class _Builder:
    """Validates and compiles one parsed expression into a closure ``x -> (value, derivative)``."""

    def __init__(self, text: str):
        self.text = text
        self.underivable: list[str] = []  # called activations without a derivative

    def fail(self, message: str):
        _fail(self.text, message)

    def token(self, node) -> str:
        text = ast.get_source_segment(self.text, node) or ast.unparse(node)
        return text if len(text) <= 40 else text[:37] + "..."

    def build(self, node):
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            inner = self.build(node.operand)
            if isinstance(node.op, ast.UAdd):
                return inner
            return lambda x: tuple(-t for t in inner(x))
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, (ast.UnaryOp, ast.BinOp)):
            symbol = _OTHER_SYMBOLS.get(type(node.op), type(node.op).__name__)
            hint = " (use ** for powers)" if symbol == "^" else ""
            self.fail(f"operator {symbol!r} in {self.token(node)!r} is not allowed{hint}")
        word = _NODE_WORDS.get(type(node), type(node).__name__)
        self.fail(f"{word} {self.token(node)!r} is not allowed")

    def constant(self, node):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "string" if isinstance(value, (str, bytes)) else type(value).__name__
            self.fail(f"{kind} constant {self.token(node)!r} is not allowed (only real numbers)")
        try:
            v = np.float64(value)
        except OverflowError:
            v = np.float64(np.inf)
        if not np.isfinite(v):
            self.fail(f"number {self.token(node)!r} is too large")
        return lambda x: (v, 0.0)

    def name(self, node):
        if node.id == "x":
            return lambda x: (x, np.ones_like(x))
        if node.id in _CONSTANTS:
            v = np.float64(_CONSTANTS[node.id])
            return lambda x: (v, 0.0)
        if node.id in _FUNCTIONS or _registered(node.id):
            self.fail(f"function {node.id!r} must be called, e.g. {node.id}(x)")
        self.fail(f"unknown name {node.id!r}{did_you_mean(node.id, ['x', *_CONSTANTS])}")

    def binop(self, node):
        a, b = self.build(node.left), self.build(node.right)
        op = type(node.op)
        if op is ast.Add:
            return lambda x: _zip(operator.add, a(x), b(x))
        if op is ast.Sub:
            return lambda x: _zip(operator.sub, a(x), b(x))
        if op is ast.Mult:
            def mul(x):
                (u, du), (v, dv) = a(x), b(x)
                return u * v, du * v + u * dv
            return mul
        if op is ast.Div:
            def div(x):
                (u, du), (v, dv) = a(x), b(x)
                return u / v, (du * v - u * dv) / (v * v)
            return div
        return self.power(a, b, _uses_x(node.left), _uses_x(node.right))

    @staticmethod
    def power(a, b, base_varies: bool, exponent_varies: bool):
        def pow_(x):
            (u, du), (v, dv) = a(x), b(x)
            p = u ** v
            if not exponent_varies:  # d(u**c) = c u**(c-1) du, valid for u <= 0 too
                d = 0.0 if not base_varies else np.where(v == 0, 0.0, v * u ** (v - 1.0) * du)
            else:
                d = p * (dv * np.log(u) + (v * du / u if base_varies else 0.0))
            return p, d
        return pow_

    def call(self, node):
        func = node.func
        if not isinstance(func, ast.Name):
            self.build(func)  # reports the attribute access, subscript... by name
            self.fail(f"call of {self.token(func)!r} is not allowed")
        if func.id == "x" or func.id in _CONSTANTS:
            self.fail(f"{func.id!r} is not a function")
        if func.id not in _FUNCTIONS:  # the built-in functions win over the registry's names
            return self.activation_call(node, func.id)
        if node.keywords:
            kw = node.keywords[0]
            self.fail(f"keyword argument {self.token(kw)!r} in {func.id}() is not allowed "
                      "(pass arguments by position)")
        arity, fn, dfn = _FUNCTIONS[func.id]
        args = [self.build(arg) for arg in node.args]
        if len(args) != arity:
            self.fail(f"function {func.id!r} takes {arity} argument{'s' * (arity > 1)}, "
                      f"got {len(args)} in {self.token(node)!r}")

        def apply(x):
            pairs = [arg(x) for arg in args]
            values = [p[0] for p in pairs]
            return fn(*values), dfn(values, [p[1] for p in pairs])
        return apply


    def activation_call(self, node, name: str):
        """A registered activation, e.g. gelu(x): its reference, chained with its derivative."""
        from ._registry import activations, get

        try:
            act = get(name)
        except LookupError:
            known = dict.fromkeys([*_FUNCTIONS, *(n for a in activations().values()
                                                  for n in (a.name, *a.aliases))])
            self.fail(f"unknown function {name!r}{did_you_mean(name.lower(), known)}")
        if act.composite or act.n_outputs > 1:
            why = "is not element-wise" if act.composite else f"has {act.n_outputs} outputs"
            self.fail(f"activation {act.name!r} {why} and cannot be called in an expression")
        if node.keywords or len(node.args) != 1:
            self.fail(f"activation {act.name!r} takes one argument (its parameters keep their "
                      f"defaults), got {self.token(node)!r}")
        arg = self.build(node.args[0])
        if act.derivative is None:
            self.underivable.append(act.name)

        def apply(x):
            v, dv = arg(x)
            y = act.evaluate(v)
            if act.derivative is None:  # never asked for: the expression has no derivative
                return y, np.full_like(y, np.nan)
            return y, act.evaluate(v, derivative=True) * dv
        return apply


def _registered(name: str) -> bool:
    from ._registry import get

    try:
        get(name)
    except LookupError:
        return False
    return True


def _fail(text: str, message: str):
    shown = text if len(text) <= 80 else text[:77] + "..."
    sep = " " if message.endswith("?") else ". "
    raise ExpressionError(f"expression {shown!r}: {message}{sep}{ALLOWED}")


def _zip(op, p, q):
    return op(p[0], q[0]), op(p[1], q[1])


MAX_DEPTH = 200  # levels of nesting of an expression: far beyond a formula, well inside the stack


def _depth(root) -> int:
    """How many levels deep the tree goes (walked without recursion)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _uses_x(node) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "x" for n in ast.walk(node))


def from_expression(text, *, name="expr", range=(-8.0, 8.0)) -> Activation:
    """Compile a safe arithmetic expression in ``x`` into an (unregistered) Activation.

    Only the variable ``x``, real numbers, ``pi``, ``e``, unary ``+``/``-``, the binary
    operators ``+ - * / **`` and calls by bare name of the functions listed in
    :data:`ALLOWED` are accepted; anything else raises :class:`ExpressionError` naming
    the offending token. The derivative is exact (forward-mode differentiation of the
    tree); at kinks of abs, relu, minimum, maximum and clip it is the right-hand one,
    and floor, ceil and sign have derivative 0.

    Examples
    --------
    >>> act = from_expression("x*tanh(exp(x))")
    >>> round(float(act(1.0)), 6), round(float(act.evaluate(0.0, derivative=True)), 6)
    (0.991329, 0.761594)
    """
    if not isinstance(text, str):
        raise ExpressionError(
            f"an expression must be text such as 'x*tanh(exp(x))', got {text!r}"
        )
    act_name = check_name(name)
    lo, hi = check_range(range, act_name)
    src = " ".join(text.split())  # one line, so the parser's columns index src
    if not src:
        _fail(text, "it is empty; write a formula in x such as 'x*sigmoid(x)'")
    if "#" in src:  # a comment would hide the rest of the text from the parser, not the shell
        _fail(src, f"'#' at column {src.index('#') + 1} is not allowed (no comments)")
    try:
        with warnings.catch_warnings():  # '"\\d"', '1 is 1': the error below says it all
            warnings.simplefilter("ignore")
            tree = ast.parse(src, mode="eval")
    except SyntaxError as exc:
        at_end = not exc.offset or exc.offset > len(src)  # the parser reports 0 at the end
        where = "at the end" if at_end else f"at column {exc.offset}"
        _fail(src, f"cannot parse it: {exc.msg} {where}")
    except (RecursionError, MemoryError):
        _fail(src, f"it is too deeply nested (at most {MAX_DEPTH} levels)")
    depth = _depth(tree.body)
    if depth > MAX_DEPTH:  # building and evaluating recurse once per level
        _fail(src, f"it is nested {depth} levels deep; at most {MAX_DEPTH} are allowed")
    builder = _Builder(src)
    try:
        dual = builder.build(tree.body)
    except RecursionError:
        _fail(src, f"it is too deeply nested (at most {MAX_DEPTH} levels)")

    def run(x, part):
        arr = np.asarray(x, dtype=np.float64)
        try:
            with np.errstate(all="ignore"):
                out = dual(arr)[part]
            return np.broadcast_to(np.asarray(out, dtype=np.float64), arr.shape).copy()
        except RecursionError:  # called from deep in the caller's own stack
            _fail(src, f"it is too deeply nested to evaluate here ({depth} levels)")
        except MemoryError:
            shown = src if len(src) <= 80 else src[:77] + "..."
            raise ExpressionError(
                f"expression {shown!r}: its intermediate arrays over {arr.size} inputs do not "
                "fit in memory; use a narrower input format or a simpler expression"
            ) from None

    return Activation(
        name=act_name, category="user", formula=src,
        reference=lambda x: run(x, 0),
        # an activation called without a derivative leaves the expression without one
        derivative=None if builder.underivable else lambda x: run(x, 1),
        default_range=(lo, hi),
        description=f"user expression {src}", source="command-line expression",
        expression=src,
    )


def register_expression(text, name="expr") -> Activation:
    """Compile ``text`` and register it as ``name``, replacing an earlier user expression.

    A name held by a catalog activation or a decorated function is an error,
    never silently replaced.
    """
    act = from_expression(text, name=name)
    from ._registry import activations as _all

    old = _all().get(act.name)
    if old is not None and old.expression is None:
        raise ExpressionError(
            f"expression name {act.name!r} is taken by a registered activation; choose another"
        )
    return register(act, replace=True)


