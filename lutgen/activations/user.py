"""User-defined activations: the decorator, safe expressions, and the lut activation.

* :func:`activation` registers a user's vectorised Python function.
* :func:`from_expression` turns a command-line expression such as
  ``'x*tanh(exp(x))'`` into an :class:`Activation` without ``eval``.
* ``lut`` is a user's own table of points, linearly interpolated;
  :func:`load_points` reads those points from a CSV or NPY file.
"""

from __future__ import annotations

import ast
import inspect
import math
import operator
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import ExpressionError, ParameterError, RangeError, did_you_mean
from ._registry import Activation, Asymptote, Param, Traits, register
from .classic import sigmoid

__all__ = ["activation", "from_expression", "register_expression", "load_points", "LUT"]


def _check_name(name, what: str = "activation name") -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ParameterError(
            f"{what} {name!r} is not a valid identifier; use letters, digits and '_', "
            "e.g. name='my_act'"
        )
    return name.lower()  # the registry looks names up in lower case


def _check_range(rng, owner: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in rng)
    except (TypeError, ValueError):
        raise RangeError(f"range {rng!r} of '{owner}' must be two numbers (lo, hi)") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise RangeError(f"range {rng!r} of '{owner}' must be finite with lo < hi")
    return lo, hi


# ---- the decorator -------------------------------------------------------------------------
def _infer_params(fn: Callable, owner: str) -> tuple[Param, ...]:
    """Params from the keyword defaults of ``fn(x, **params)``: ints -> int, numbers -> float."""
    if isinstance(fn, np.ufunc):  # np.sin: its out=, where= ... are not parameters
        if fn.nin != 1 or fn.nout != 1:
            raise ParameterError(f"ufunc {fn.__name__} of '{owner}' must take and return one array")
        return ()
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        raise ParameterError(f"cannot read the signature of {fn!r} for '{owner}'") from None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    args = [p for p in sig.parameters.values()
            if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    if not args or args[0].kind not in positional:
        raise ParameterError(
            f"the function of '{owner}' must take the input x as its first argument"
        )
    params = []
    for p in args[1:]:
        default = p.default
        if default is inspect.Parameter.empty:
            raise ParameterError(
                f"parameter {p.name!r} of '{owner}' has no default; give it a numeric default "
                "so lutgen can infer its type"
            )
        numeric = isinstance(default, (int, float, np.number))
        if isinstance(default, (bool, np.bool_)) or not numeric:
            raise ParameterError(
                f"parameter {p.name}={default!r} of '{owner}' must default to an int or a float"
            )
        if isinstance(default, (int, np.integer)):
            params.append(Param(p.name, int(default), kind="int"))
        else:
            params.append(Param(p.name, float(default)))
    return tuple(params)


def _probe(fn: Callable, what: str, owner: str, lo: float, hi: float, defaults: dict) -> None:
    """Call ``fn`` once on a small float64 array so a non-vectorised function fails early."""
    x = np.linspace(lo, hi, 5)
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(fn(x, **defaults), dtype=np.float64)
        np.broadcast_to(out, x.shape)
    except Exception as exc:  # any failure means the function cannot serve as a reference
        raise ParameterError(
            f"the {what} of '{owner}' failed on a float64 array ({type(exc).__name__}: {exc}); "
            "it must be vectorised: use NumPy (np.exp, np.where), not math or if/else"
        ) from None


def activation(name=None, *, range=(-8.0, 8.0), derivative=None, traits=None, aliases=(),
               description="user function", formula=None, replace=False):
    """Register a vectorised function ``f(x, **params)`` as a "user" activation.

    Usable bare (``@activation``) or with arguments
    (``@activation(name="mine", range=(-4, 4))``); returns the function unchanged.

    Parameters
    ----------
    name : str, optional
        A valid identifier (stored in lower case); defaults to the function's name.
    range : (float, float)
        The default input range.
    derivative : callable, optional
        ``f'(x, **params)``; without it the activation has no derivative table.
    traits : Traits or callable, optional
        What the function does (see :class:`Traits`); nothing is assumed by default.
    aliases : sequence of str
        Other names to look it up by.
    description, formula : str
        Shown by ``lutgen show``; ``formula`` defaults to the function's qualified name.
    replace : bool
        Replace an activation already registered under ``name``; otherwise that is a
        :class:`ParameterError`.

    Examples
    --------
    >>> @activation(range=(-4, 4))
    ... def scaled_tanh(x, a=1.7159, b=0.6667):
    ...     return a * np.tanh(b * x)
    """
    if callable(name):  # bare @activation
        return activation()(name)

    def decorate(fn: Callable) -> Callable:
        if not callable(fn):
            raise ParameterError(f"@activation decorates a function, got {fn!r}")
        act_name = _check_name(name if name is not None else getattr(fn, "__name__", None))
        alias_names = tuple(
            _check_name(a, "alias") for a in ((aliases,) if isinstance(aliases, str) else aliases)
        )
        lo, hi = _check_range(range, act_name)
        params = _infer_params(fn, act_name)
        if derivative is not None and not callable(derivative):
            raise ParameterError(
                f"derivative of '{act_name}' must be a function, got {derivative!r}"
            )
        if traits is not None and not (isinstance(traits, Traits) or callable(traits)):
            raise ParameterError(
                f"traits of '{act_name}' must be a Traits or a function of the params"
            )
        defaults = {p.name: p.default for p in params}
        _probe(fn, "function", act_name, lo, hi, defaults)
        if derivative is not None:
            _probe(derivative, "derivative", act_name, lo, hi, defaults)
        where = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', act_name)}"
        register(Activation(
            name=act_name, aliases=alias_names, category="user",
            formula=formula or f"{where}(x)",
            reference=fn, derivative=derivative,
            params=params, default_range=(lo, hi),
            traits=traits if traits is not None else Traits(),
            description=description, source=f"user function {where}",
        ), replace=replace)
        return fn

    return decorate


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
    act_name = _check_name(name)
    lo, hi = _check_range(range, act_name)
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


# ---- the lut activation --------------------------------------------------------------------
def _check_points(xs, ys, where: str) -> None:
    if len(xs) != len(ys):
        raise ParameterError(f"{where}: xs has {len(xs)} points but ys has {len(ys)}")
    if len(xs) < 2:
        raise ParameterError(f"{where}: need at least 2 points, got {len(xs)}")
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ParameterError(f"{where}: every point must be finite")
    steps = np.diff(np.asarray(xs, dtype=np.float64))
    if np.any(steps <= 0):
        i = int(np.argmax(steps <= 0))
        raise ParameterError(
            f"{where}: xs must be strictly increasing, but xs[{i}] = {xs[i]!r} "
            f"and xs[{i + 1}] = {xs[i + 1]!r}; sort the points and drop duplicates"
        )


def _read_csv(path: Path) -> np.ndarray:
    rows, header_allowed = [], True
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ParameterError(
            f"points file '{path}' is not text: write x,y per line (CSV) or save an .npy array"
        ) from None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        cells = [c.strip() for c in line.replace(";", ",").split(",")]
        try:
            row = [float(c) for c in cells]
        except ValueError:
            if header_allowed:  # only the first line with content may be a header
                header_allowed = False
                continue
            raise ParameterError(
                f"points file '{path}' line {number}: {line!r} is not two numbers x,y"
            ) from None
        header_allowed = False
        if len(row) != 2:
            raise ParameterError(
                f"points file '{path}' line {number}: expected 2 columns x,y, got {len(row)}"
            )
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(-1, 2)


def _read_npy(path: Path) -> np.ndarray:
    """The array of an .npy file, mapped rather than read: a header claiming more data
    than the file holds is refused here instead of allocating it."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # numpy warns of overflow in a giant claimed size
            return np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, EOFError, OverflowError, MemoryError) as exc:
        why = str(exc).split("\n")[0]
        if isinstance(exc, EOFError):
            why = "it is empty"
        elif isinstance(exc, (OverflowError, MemoryError)) or "mmap length" in why \
                or "too big" in why:
            why = "its header claims more data than the file holds"
        elif "Python objects" in why:
            why = "it holds Python objects, not numbers"
        raise ParameterError(
            f"points file '{path}' is not a readable .npy array ({why}); save an array of "
            "shape (n, 2) with numpy.save"
        ) from None
    except OSError as exc:
        raise ParameterError(f"cannot read points file '{path}': {exc.strerror}") from None


def load_points(path) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Read the points of a ``lut`` activation: ``(xs, ys)`` as tuples of floats.

    ``path`` is a ``.npy`` file holding an array of shape (n, 2), or a text file
    (``.csv``, ``.txt``) of two comma-separated columns x,y with an optional header
    line and ``#`` comments. xs must be strictly increasing and every value finite.
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"points file '{path}' does not exist")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        data = _read_npy(path)
        if data.dtype.kind not in "iuf":
            raise ParameterError(f"points file '{path}' holds {data.dtype} values; need numbers")
        if data.ndim != 2 or data.shape[1] != 2:
            raise ParameterError(
                f"points file '{path}' has shape {data.shape}; need (n, 2) for x,y"
            )
    elif suffix in (".csv", ".txt"):
        data = _read_csv(path)
    else:
        raise ParameterError(
            f"points file '{path}' has unsupported type {suffix!r}; "
            "use .csv (two columns x,y) or .npy (shape (n, 2))"
        )
    if suffix == ".npy":
        data = np.array(data, dtype=np.float64)  # off the mapped file, into memory
    xs = tuple(float(v) for v in data[:, 0])
    ys = tuple(float(v) for v in data[:, 1])
    _check_points(xs, ys, f"points file '{path}'")
    return xs, ys


def _lut(x, xs, ys):
    return np.interp(x, xs, ys)


def _dlut(x, xs, ys):
    """The slope of the segment holding x, right-hand at knots; 0 outside [xs[0], xs[-1])."""
    xs_a, ys_a = np.asarray(xs), np.asarray(ys)
    slopes = np.concatenate(([0.0], np.diff(ys_a) / np.diff(xs_a), [0.0]))
    seg = np.searchsorted(xs_a, x, side="right")  # 0 before xs[0], n at or after xs[-1]
    return np.where(np.isnan(x), np.nan, slopes[seg])


def _lut_check(xs, ys):
    _check_points(xs, ys, "activation 'lut'")


def _lut_traits(xs, ys) -> Traits:
    steps = np.diff(ys)
    monotonic = "increasing" if np.all(steps >= 0) else "decreasing" if np.all(steps <= 0) else None
    return Traits(monotonic=monotonic, neg=Asymptote.constant(ys[0]),
                  pos=Asymptote.constant(ys[-1]))


_LUT_XS = tuple((10 * i - 60) / 12 for i in range(13))  # -5 to 5 by 5/6, correctly rounded
_LUT_YS = tuple(round(float(v), 4) for v in sigmoid(np.array(_LUT_XS)))

LUT = register(Activation(
    name="lut", category="piecewise",
    formula="interp(x; xs, ys), held constant beyond the ends",
    reference=_lut, derivative=_dlut,
    params=(
        Param("xs", _LUT_XS, "knot inputs, strictly increasing", kind="points"),
        Param("ys", _LUT_YS, "knot outputs", kind="points"),
    ),
    default_range=(_LUT_XS[0], _LUT_XS[-1]),
    range_of=lambda xs, ys: (xs[0], xs[-1]),
    traits=_lut_traits, check=_lut_check,
    description="A user's own table of points, linearly interpolated (default: 13 sigmoid points)",
    source="user-supplied points (CSV/NPY file or a list); np.interp",
))
