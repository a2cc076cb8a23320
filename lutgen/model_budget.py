"""Model-level error budgets: the cheapest set of tables a PyTorch model can afford.

Per-table LSB figures do not carry across formats or models: what matters is the
model's output. :func:`model_budget` takes a model, the activation modules to
replace (all it knows, by default) with their input and output formats (given, or
observed on calibration data by PyTorch's own ``MinMaxObserver``), evaluation data
and a model-level criterion (top-1 agreement with the unmodified model, or a bound
on the max or mean deviation of its outputs). For each activation it fits the
cheapest table at each rung of a ladder of error budgets (:func:`lutgen.fit`:
0.5, 1, 2, 4 ... LSB), then searches the combinations for the fewest total ROM bits
(or C bytes) that keeps the criterion. Every combination is judged by running the
model with the tables substituted bit-exactly (:func:`lutgen.torch.substitute`).

The result writes a batch project (``lutgen batch``) of the chosen tables and a
report (JSON and Markdown) with the model-level figures next to each table's.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from . import __version__
from .analysis import Distribution, ErrorReport, analyze
from .errors import LutgenError, ModelError, SpecError
from .export import identifier
from .fixedpoint import FixedFormat
from .search import fit
from .torch import TableActivation, activation_modules, activation_of

__all__ = ["Criterion", "ModelFigures", "Choice", "ModelBudgetResult", "model_budget",
           "observe_formats", "load_model", "check_runs", "LADDER", "STORAGE"]

LADDER = (0.5, 1, 2, 4, 8, 16, 32)  # output LSBs: the error budgets each table is fitted to
STORAGE = {"int8": (torch.qint8, None), "uint8": (torch.quint8, None),
           "int16": (torch.qint32, (-32768, 32767)), "uint16": (torch.qint32, (0, 65535))}
SEARCHES = ("auto", "greedy", "exhaustive")
EXHAUSTIVE_LIMIT = 4096  # combinations "auto" still searches exhaustively


@dataclass(frozen=True)
class Criterion:
    """What the model must keep; every bound given must hold.

    ``min_agreement``: top-1 agreement with the unmodified model, in percent;
    ``max_logit_dev`` / ``mean_logit_dev``: bounds on the max / mean absolute
    deviation of the model's outputs from the unmodified model's.
    """

    min_agreement: float | None = None
    max_logit_dev: float | None = None
    mean_logit_dev: float | None = None

    def __post_init__(self):
        given = [v for v in (self.min_agreement, self.max_logit_dev, self.mean_logit_dev)
                 if v is not None]
        if not given:
            raise SpecError("give a model-level criterion: min_agreement (percent), "
                            "max_logit_dev or mean_logit_dev")
        for name in ("min_agreement", "max_logit_dev", "mean_logit_dev"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise SpecError(f"{name} must be a finite number >= 0, got {v!r}")
        if self.min_agreement is not None and self.min_agreement > 100:
            raise SpecError(f"min_agreement is a percentage (0..100), got {self.min_agreement!r}")

    def holds(self, f: "ModelFigures") -> bool:
        return ((self.min_agreement is None or f.agreement >= self.min_agreement)
                and (self.max_logit_dev is None or f.max_logit_dev <= self.max_logit_dev)
                and (self.mean_logit_dev is None or f.mean_logit_dev <= self.mean_logit_dev))

    def __str__(self) -> str:
        parts = []
        if self.min_agreement is not None:
            parts.append(f"top-1 agreement >= {self.min_agreement:g} %")
        if self.max_logit_dev is not None:
            parts.append(f"max output deviation <= {self.max_logit_dev:g}")
        if self.mean_logit_dev is not None:
            parts.append(f"mean output deviation <= {self.mean_logit_dev:g}")
        return " and ".join(parts)

    def to_dict(self) -> dict:
        return {"min_agreement": self.min_agreement, "max_logit_dev": self.max_logit_dev,
                "mean_logit_dev": self.mean_logit_dev}


@dataclass(frozen=True)
class ModelFigures:
    """The model's outputs against the unmodified model's, on the evaluation data."""

    agreement: float  # % of samples whose top-1 class is the unmodified model's
    max_logit_dev: float
    mean_logit_dev: float
    accuracy: float | None = None  # % against the labels, when given

    def to_dict(self) -> dict:
        return {"agreement": self.agreement, "max_logit_dev": self.max_logit_dev,
                "mean_logit_dev": self.mean_logit_dev, "accuracy": self.accuracy}


@dataclass(frozen=True)
class Choice:
    """The table chosen for one activation module, with its own and model-level figures."""

    module: str
    module_type: str
    activation: str
    params: dict
    budget_lsb: float  # the ladder rung it was fitted to
    table: object = field(repr=False)
    report: ErrorReport = field(repr=False)
    alone: ModelFigures  # the model with only this table substituted
    calib_mean_error_lsb: float  # the mean error weighted by the calibration inputs
    candidates: tuple[dict, ...] = ()  # every rung's table: budget, ROM bits, max LSB

    @property
    def name(self) -> str:
        """The table's name in the project: activation and module."""
        return identifier(f"{self.activation}_{self.module}".replace(".", "_"))

    def to_dict(self) -> dict:
        t, r = self.table, self.report
        return {"name": self.name, "module": self.module, "module_type": self.module_type,
                "activation": self.activation, "params": dict(self.params),
                "budget_lsb": self.budget_lsb, "in_format": str(t.in_format),
                "out_format": str(t.out_format), "entries": t.entries,
                "interp": t.interp.value, "rom_bits": t.rom_bits, "c_bytes": t.c_bytes,
                "max_error_lsb": r.max_error_lsb, "mean_error_lsb": r.mean_error_lsb,
                "calib_mean_error_lsb": self.calib_mean_error_lsb,
                "alone": self.alone.to_dict(), "spec": t.spec.to_dict(),
                "candidates": list(self.candidates)}


@dataclass(frozen=True)
class ModelBudgetResult:
    """What :func:`model_budget` found: ``met``, the chosen tables and the figures."""

    met: bool
    criterion: Criterion
    objective: str
    choices: tuple[Choice, ...]
    figures: ModelFigures  # the chosen combination
    floor: ModelFigures  # every activation at its most accurate table
    unmodified_accuracy: float | None
    evaluations: int
    search: str
    samples: int

    @property
    def rom_bits(self) -> int:
        return sum(c.table.rom_bits for c in self.choices)

    @property
    def c_bytes(self) -> int:
        return sum(c.table.c_bytes for c in self.choices)

    @property
    def tables(self) -> dict:
        """Module name -> chosen Table (what :func:`lutgen.torch.substitute` takes)."""
        return {c.module: c.table for c in self.choices}

    def to_dict(self) -> dict:
        return {"generator": f"lutgen {__version__}", "met": self.met,
                "criterion": self.criterion.to_dict(), "objective": self.objective,
                "search": self.search, "evaluations": self.evaluations,
                "samples": self.samples, "unmodified_accuracy": self.unmodified_accuracy,
                "figures": self.figures.to_dict(), "floor": self.floor.to_dict(),
                "rom_bits": self.rom_bits, "c_bytes": self.c_bytes,
                "tables": [c.to_dict() for c in self.choices]}


# ---- observing formats ----------------------------------------------------------------------
def _observer(storage: str):
    from torch.ao.quantization import MinMaxObserver

    if storage not in STORAGE:
        raise SpecError(f"unknown storage {storage!r}; allowed: {', '.join(STORAGE)}")
    dtype, limits = STORAGE[storage]
    extra = {} if limits is None else {"quant_min": limits[0], "quant_max": limits[1]}
    return MinMaxObserver(dtype=dtype, qscheme=torch.per_tensor_affine, **extra)


def _format(observer, storage: str) -> FixedFormat:
    scale, zero_point = observer.calculate_qparams()
    return FixedFormat.affine(storage, float(scale.reshape(-1)[0]),
                              int(zero_point.reshape(-1)[0]))


def observe_formats(model, calib, modules=None, storage: str = "int8", batch_size=None):
    """Affine formats of each activation's input and output, as PyTorch observes them.

    Runs ``model`` on ``calib`` with a ``torch.ao.quantization.MinMaxObserver``
    (per-tensor affine, ``storage`` int8, uint8, int16 or uint16) on the input and the
    output of each activation module, as static quantisation calibrates a model.

    Returns
    -------
    dict
        Module name -> ``(in_format, out_format)``.
    """
    return _observe(model, calib, modules, storage, batch_size)[0]


def _observe(model, calib, modules, storage, batch_size):
    """(formats, calibration inputs) per module: the inputs at most 2**20 per module."""
    names = list(modules) if modules is not None else list(activation_modules(model))
    found = dict(model.named_modules())
    obs, seen, hooks = {}, {n: [] for n in names}, []
    for name in names:
        obs[name] = (_observer(storage), _observer(storage))

        def hook(mod, inputs, output, name=name):
            obs[name][0](inputs[0].detach().float())
            obs[name][1](output.detach().float())
            seen[name].append(inputs[0].detach().double().reshape(-1).cpu().numpy())

        hooks.append(found[name].register_forward_hook(hook))
    try:
        _run(model, calib, batch_size)
    finally:
        for h in hooks:
            h.remove()
    formats = {n: (_format(o[0], storage), _format(o[1], storage)) for n, o in obs.items()}
    rng = np.random.default_rng(0)
    samples = {}
    for n, parts in seen.items():
        x = np.concatenate(parts)
        samples[n] = x if x.size <= 1 << 20 else rng.choice(x, 1 << 20, replace=False)
    return formats, samples


# ---- loading and running the model --------------------------------------------------------
def load_model(path) -> "torch.nn.Module":
    """A whole ``nn.Module`` saved with ``torch.save(model, path)``, on the CPU, in eval mode.

    Loading unpickles the file (``weights_only=False``): load only files you trust.
    TorchScript is refused (its activations are compiled into the graph and cannot be
    swapped), and so is a state_dict (it holds no layers). Raises :class:`ModelError`.
    """
    import warnings

    where = f"--torch {str(path)!r}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise ModelError(f"{where} does not exist") from None
    except (ModuleNotFoundError, AttributeError) as exc:
        raise ModelError(f"cannot load {where}: the model's code is not importable ({exc}); "
                         "run where its module is on PYTHONPATH") from None
    except Exception as exc:  # torch raises many types for a file that is no model
        raise ModelError(f"cannot load {where}: not a model saved with torch.save "
                         f"({type(exc).__name__})") from None
    if isinstance(model, torch.jit.ScriptModule):
        raise ModelError(f"{where} is TorchScript: its activations are compiled into the "
                         "graph and cannot be swapped; save the nn.Module itself with "
                         "torch.save(model, PATH)")
    if not isinstance(model, torch.nn.Module):
        raise ModelError(f"{where} holds a {type(model).__name__}, not a model (a state_dict "
                         "has no layers); save the module with torch.save(model, PATH)")
    return model.eval()


def check_runs(model, x, what: str) -> None:
    """Run ``model`` on the first sample of ``x``; a :class:`ModelError` naming ``what`` if
    it cannot (a shape or dtype the model does not take)."""
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    try:
        with torch.no_grad():
            model(_tensor(x, what, dtype)[:1])
    except LutgenError:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"the model cannot run on {what}: {first}") from None


# ---- running the model ----------------------------------------------------------------------
def _run(model, x, batch_size=None):
    with torch.no_grad():
        if batch_size is None or batch_size >= len(x):
            return model(x)
        return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def _set(root, name: str, new) -> None:
    parent_name, _, leaf = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, leaf, new)


class _Evaluator:
    """One working copy of the model; a combination is set in place and run."""

    def __init__(self, model, x, labels, batch_size):
        self.work = copy.deepcopy(model).eval()
        self.original = dict(self.work.named_modules())
        self.x, self.labels, self.batch_size = x, labels, batch_size
        self.base = _run(self.work, x, batch_size).double()
        self.base_top = self.base.argmax(-1)
        self.count = 0

    def accuracy(self, out) -> float | None:
        if self.labels is None:
            return None
        return float((out.argmax(-1) == self.labels).double().mean()) * 100

    def run(self, modules: dict) -> ModelFigures:
        """The figures with ``modules`` (name -> TableActivation) in place, others original."""
        for name, m in modules.items():
            _set(self.work, name, m)
        try:
            out = _run(self.work, self.x, self.batch_size).double()
        finally:
            for name in modules:
                _set(self.work, name, self.original[name])
        self.count += 1
        dev = (out - self.base).abs()
        return ModelFigures(float((out.argmax(-1) == self.base_top).double().mean()) * 100,
                            float(dev.max()), float(dev.mean()), self.accuracy(out))


# ---- the search -----------------------------------------------------------------------------
@dataclass
class _Candidate:
    budget_lsb: float
    table: object
    report: ErrorReport
    cost: tuple
    module: TableActivation | None = None


def _candidates(act, params, fin, fout, ladder, objective, saturation, progress):
    """Per rung the fitted table; duplicates dropped; cheapest first, most accurate last."""
    out, seen = [], set()
    for rung in sorted(ladder):  # the most accurate first: kept even when it misses (closest)
        result = fit(act, params=params, in_format=fin, out_format=fout,
                     max_error=f"{rung}lsb", saturation=saturation, objective=objective)
        if progress is not None:
            progress(f"{act} at {rung:g} LSB")
        if result.best is None or (not result.met and out):
            continue
        t = result.best.table
        key = (t.values.tobytes(), t.prog.tobytes())
        if key in seen:
            continue
        seen.add(key)
        cost = (t.rom_bits, t.c_bytes) if objective == "bits" else (t.c_bytes, t.rom_bits)
        out.append(_Candidate(float(rung), t, result.best.report, cost))
    out.sort(key=lambda c: (c.cost, c.report.max_error_lsb))
    # a dearer table that is no more accurate than a cheaper one is never worth it
    kept = []
    for c in out:
        if all(c.report.max_error_lsb < k.report.max_error_lsb for k in kept):
            kept.append(c)
    return kept


def model_budget(model, calib, eval_data, *, labels=None, formats=None, modules=None,
                 min_agreement=None, max_logit_dev=None, mean_logit_dev=None, ladder=LADDER,
                 objective="bits", storage="int8", saturation="allowed", search="auto",
                 batch_size=None, progress=None) -> ModelBudgetResult:
    """The cheapest tables for a model's activations that keep a model-level criterion.

    Parameters
    ----------
    model : torch.nn.Module
        The unmodified model (evaluated in ``eval()`` mode, never changed).
    calib, eval_data : torch.Tensor or array
        Calibration inputs (observe the formats not given) and evaluation inputs (judge
        each combination against the unmodified model's outputs).
    labels : optional
        Class labels of ``eval_data``: the accuracy is reported (not a criterion).
    formats : mapping, optional
        Module name -> ``(in_format, out_format)``; what is not given (a module not
        listed, or None in place of a format) is observed on ``calib``.
    modules : iterable of str, optional
        The activation modules to replace [default: every one lutgen knows].
    min_agreement, max_logit_dev, mean_logit_dev : float
        The criterion (:class:`Criterion`); at least one.
    ladder : floats
        The error budgets (output LSBs) each table is fitted to.
    objective : ``"bits"`` or ``"bytes"``
        Fewest total ROM bits, or fewest bytes of the C arrays.
    storage : int8, uint8, int16 or uint16
        The storage of the observed affine formats.
    saturation : ``"allowed"`` (default) or ``"counted"``
        Calibrated formats clip deliberately: by default clipping is no table error.
    search : ``"auto"``, ``"greedy"`` or ``"exhaustive"``
        Exhaustive tries the combinations cheapest first and stops at the first that
        keeps the criterion (the optimum); greedy starts from the most accurate tables
        and takes, step by step, the cheaper table that saves the most while the
        criterion holds. Auto: exhaustive up to 4096 combinations.

    Returns
    -------
    ModelBudgetResult
        ``met`` false when even the most accurate tables break the criterion (the
        result then holds those).
    """
    criterion = Criterion(min_agreement, max_logit_dev, mean_logit_dev)
    if objective not in ("bits", "bytes"):
        raise SpecError(f"unknown objective {objective!r}; allowed: bits, bytes")
    if search not in SEARCHES:
        raise SpecError(f"unknown search {search!r}; allowed: {', '.join(SEARCHES)}")
    ladder = tuple(float(v) for v in ladder)
    if not ladder or not all(math.isfinite(v) and v > 0 for v in ladder):
        raise SpecError(f"the ladder must list positive LSB budgets, got {list(ladder)}")
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    x_calib, x_eval = _tensor(calib, "calib", dtype), _tensor(eval_data, "eval", dtype)
    y = None if labels is None else torch.as_tensor(np.asarray(labels))
    if y is not None and (y.shape != (len(x_eval),) or y.is_floating_point()
                          and not bool((y == y.round()).all())):
        raise SpecError(f"labels must be one integer class per evaluation sample, shape "
                        f"({len(x_eval)},); got shape {tuple(y.shape)}")
    known = activation_modules(model)
    names = list(known) if modules is None else list(modules)
    all_modules = dict(model.named_modules())
    for n in names:
        if n not in all_modules:
            raise SpecError(f"the model has no module {n!r}; its activations: "
                            f"{', '.join(known) or 'none'}")
        activation_of(all_modules[n])
    if not names:
        raise SpecError("the model has no activation module lutgen can replace")
    formats = {n: tuple(None if f is None else FixedFormat.parse(f) for f in v)
               for n, v in (formats or {}).items()}
    unknown = [n for n in formats if n not in names]
    if unknown:
        raise SpecError(f"formats given for {unknown[0]!r}, which is not replaced; "
                        f"replaced: {', '.join(names)}")
    observed, samples = _observe(model, x_calib, names, storage, batch_size)
    formats = {n: tuple(o if g is None else g for o, g in zip(observed[n], formats.get(n, (None,
               None)))) for n in names}

    ev = _Evaluator(model, x_eval, y, batch_size)
    cands, acts = {}, {}
    for n in names:
        act, params = activation_of(all_modules[n])
        acts[n] = (act, params)
        cands[n] = _candidates(act, params, *formats[n], ladder, objective, saturation,
                               progress)
        for c in cands[n]:
            c.module = TableActivation(c.table, quantize=True)

    cache = {}

    def judge(pick: tuple) -> ModelFigures:
        if pick not in cache:
            cache[pick] = ev.run({n: cands[n][i].module for n, i in zip(names, pick)})
        return cache[pick]

    def cost(pick):
        return tuple(map(sum, zip(*(cands[n][i].cost for n, i in zip(names, pick)))))

    top = tuple(len(cands[n]) - 1 for n in names)
    floor = judge(top)
    combos = math.prod(len(cands[n]) for n in names)
    how = search if search != "auto" else ("exhaustive" if combos <= EXHAUSTIVE_LIMIT
                                           else "greedy")
    pick = top
    if criterion.holds(floor):
        pick = _exhaustive(names, cands, judge, cost, criterion) if how == "exhaustive" \
            else _greedy(names, cands, judge, cost, criterion, top)
    figures = judge(pick)
    choices = []
    for n, i in zip(names, pick):
        c = cands[n][i]
        act, params = acts[n]
        choices.append(Choice(
            n, type(all_modules[n]).__name__, act, params, c.budget_lsb, c.table,
            c.report, ev.run({n: c.module}),
            analyze(c.table, dist=Distribution("samples", path="calibration",
                                               data=samples[n])).weighted_mean_abs_error
            / c.table.out_format.lsb,
            tuple({"budget_lsb": k.budget_lsb, "rom_bits": k.table.rom_bits,
                   "c_bytes": k.table.c_bytes, "max_error_lsb": k.report.max_error_lsb,
                   "chosen": k is c} for k in cands[n])))
    return ModelBudgetResult(criterion.holds(figures), criterion, objective, tuple(choices),
                             figures, floor, ev.accuracy(ev.base), ev.count, how, len(x_eval))


def _exhaustive(names, cands, judge, cost, criterion):
    picks = sorted(itertools.product(*(range(len(cands[n])) for n in names)),
                   key=lambda p: (cost(p), [-i for i in p]))
    return next(p for p in picks if criterion.holds(judge(p)))  # the most accurate holds


def _greedy(names, cands, judge, cost, criterion, start):
    pick = start
    while True:
        best = None
        for k in range(len(names)):
            for i in range(pick[k]):  # the cheapest first: the first that holds is the step
                trial = pick[:k] + (i,) + pick[k + 1:]
                if criterion.holds(judge(trial)):
                    if best is None or cost(trial) < cost(best):
                        best = trial
                    break
        if best is None:
            return pick
        pick = best


def _tensor(x, what: str, dtype):
    if isinstance(x, torch.Tensor):
        t = x
    else:
        arr = np.asarray(x)
        if arr.dtype.kind not in "iuf":
            raise SpecError(f"{what} data must be numbers, not {arr.dtype}")
        t = torch.from_numpy(arr)
    if t.ndim == 0 or len(t) == 0:
        raise SpecError(f"{what} data holds no samples")
    return t.to(dtype)
