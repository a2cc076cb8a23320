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
model with the tables substituted bit-exactly (:func:`lutgen.torch.substitute`). The
search itself (:func:`lutgen.model_search.search_budget`) is shared with ONNX models.

The result writes a batch project (``lutgen batch``) of the chosen tables and a
report (JSON and Markdown) with the model-level figures next to each table's.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from .errors import LutgenError, ModelError, SpecError
from .fixedpoint import FixedFormat
from .model_search import (LADDER, Choice, Criterion, ModelBudgetResult, ModelFigures, Slot,
                           check_options, search_budget)
from .torch import TableActivation, activation_modules, activation_of

__all__ = ["Criterion", "ModelFigures", "Choice", "ModelBudgetResult", "model_budget",
           "observe_formats", "load_model", "check_runs", "LADDER", "STORAGE"]

STORAGE = {"int8": (torch.qint8, None), "uint8": (torch.quint8, None),
           "int16": (torch.qint32, (-32768, 32767)), "uint16": (torch.qint32, (0, 65535))}


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
    """One working copy of the model; a combination of tables is set in place and run."""

    def __init__(self, model, x, batch_size):
        self.work = copy.deepcopy(model).eval()
        self.original = dict(self.work.named_modules())
        self.x, self.batch_size = x, batch_size
        self.modules = {}  # id(table) -> (table, its TableActivation)

    def _module(self, table):
        if id(table) not in self.modules:
            self.modules[id(table)] = (table, TableActivation(table, quantize=True))
        return self.modules[id(table)][1]

    def __call__(self, tables: dict) -> np.ndarray:
        """The outputs with ``tables`` (module name -> Table) in place, others original."""
        for name, t in tables.items():
            _set(self.work, name, self._module(t))
        try:
            out = _run(self.work, self.x, self.batch_size)
        finally:
            for name in tables:
                _set(self.work, name, self.original[name])
        return out.detach().double().cpu().numpy()


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
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    x_calib, x_eval = _tensor(calib, "calib", dtype), _tensor(eval_data, "eval", dtype)
    criterion, ladder, y = check_options((min_agreement, max_logit_dev, mean_logit_dev),
                                         objective, search, ladder,
                                         None if labels is None else np.asarray(labels),
                                         len(x_eval))
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
    slots = []
    for n in names:
        act, params = activation_of(all_modules[n])
        slots.append(Slot(n, type(all_modules[n]).__name__, act, params, *formats[n],
                          samples[n]))
    return search_budget(slots, _Evaluator(model, x_eval, batch_size), criterion, labels=y,
                         ladder=ladder, objective=objective, saturation=saturation,
                         search=search, progress=progress)


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
