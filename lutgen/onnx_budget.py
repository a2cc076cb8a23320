"""Model-level budgets of ONNX models, each combination judged in ONNX Runtime.

:func:`onnx_budget` is :func:`lutgen.model_budget.model_budget` for an ONNX file: the
activations are those ``lutgen from-onnx`` finds (:func:`lutgen.onnx.read_model`), their
formats the model's QDQ scales and zero points (else chosen from the calibration data, as
``from-onnx`` does), the reference the unmodified model's outputs in ONNX Runtime, and each
combination of tables is judged by running the model with the activations replaced by
their ``Gather`` lookups (:func:`lutgen.onnx.rewrite_model`). The search is
:func:`lutgen.model_search.search_budget`.

One ONNX Runtime session serves every combination: the rewritten model takes each
table's entries as a graph input (not an initializer), so a combination is one
``run`` with other entries fed in. Sessions are made once per set of replaced
activations (all of them, and each one alone for the report).
"""

from __future__ import annotations

import numpy as np

from .errors import ModelError, SpecError
from .fixedpoint import FixedFormat
from .model_search import LADDER, ModelBudgetResult, Slot, check_options, search_budget
from ._onnx_rewrite import every_code
from .onnx import (calibration_format, load_model, read_model, require_onnx, rewrite_model,
                   run_calibration)

__all__ = ["onnx_budget", "chosen_model"]

STORAGES = ("int8", "uint8", "int16", "uint16")  # the ONNX tensors a Gather's codes can be


def _dtype(fmt: FixedFormat) -> np.dtype:
    """The NumPy type of ``fmt``'s codes: int8, uint8, int16 or uint16."""
    return np.dtype(f"{'' if fmt.signed else 'u'}int{fmt.bits}")


def _entries(table) -> np.ndarray:
    """``eval_int`` over every input code, in the output's storage: a Gather's data."""
    return np.asarray(table.eval_int(every_code(table.in_format)), dtype=_dtype(table.out_format))


def _array(x, what: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise SpecError(f"{what} data must be numbers, not {arr.dtype}")
    if arr.ndim == 0 or len(arr) == 0:
        raise SpecError(f"{what} data holds no samples")
    return arr


class _Runner:
    """``evaluate(tables) -> outputs`` in ONNX Runtime, a session per set of replaced names."""

    def __init__(self, model, acts, x, batch_size):
        self.onnx, self.ort = require_onnx()
        self.model, self.acts = model, {a.name: a for a in acts}
        inputs = [i for i in model.graph.input
                  if i.name not in {t.name for t in model.graph.initializer}]
        if len(inputs) != 1:
            raise ModelError(f"--eval gives one array, but the model has {len(inputs)} inputs "
                             f"({', '.join(i.name for i in inputs)})")
        self.input = inputs[0].name
        dims = inputs[0].type.tensor_type.shape.dim
        fixed = dims[0].dim_value if dims and dims[0].dim_value > 0 else None
        self.batch = fixed or batch_size or len(x)
        self.x = x.astype(np.float32)
        self.sessions, self.entries = {}, {}

    def _session(self, names: frozenset, tables: dict):
        if names not in self.sessions:
            acts = [self.acts[n] for n in sorted(names)]
            proto = self.model
            if acts:
                proto = rewrite_model(self.model, acts, [tables[a.name] for a in acts])
                fed = {f"{a.name}_table": tables[a.name] for a in acts}
                kept = [t for t in proto.graph.initializer if t.name not in fed]
                del proto.graph.initializer[:]
                proto.graph.initializer.extend(kept)
                helper = self.onnx.helper
                for tensor, t in fed.items():  # the entries become inputs: one session serves all
                    elem = helper.np_dtype_to_tensor_dtype(_dtype(t.out_format))
                    proto.graph.input.append(helper.make_tensor_value_info(
                        tensor, elem, [t.in_format.n_codes]))
            options = self.ort.SessionOptions()
            options.log_severity_level = 3
            try:
                self.sessions[names] = self.ort.InferenceSession(
                    proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
            except Exception as exc:
                raise ModelError("ONNX Runtime cannot load the model"
                                 + (" with its tables" if acts else "")
                                 + f": {str(exc).splitlines()[0][:200]}") from None
        return self.sessions[names]

    def _fed(self, table) -> np.ndarray:
        if id(table) not in self.entries:
            self.entries[id(table)] = (table, _entries(table))
        return self.entries[id(table)][1]

    def __call__(self, tables: dict) -> np.ndarray:
        session = self._session(frozenset(tables), tables)
        feed = {f"{n}_table": self._fed(t) for n, t in tables.items()}
        out = []
        for start in range(0, len(self.x), self.batch):
            feed[self.input] = self.x[start:start + self.batch]
            try:
                y = session.run(None, feed)[0]
            except Exception as exc:
                raise ModelError(f"the model cannot run on the evaluation data (shape "
                                 f"{self.x.shape}): {str(exc).splitlines()[0][:200]}") from None
            out.append(np.asarray(y, dtype=np.float64).reshape(len(feed[self.input]), -1))
        return np.concatenate(out)


def _formats(acts, formats, storage):
    """Each activation's formats: the model's, else given, else from the calibration data."""
    formats = {n: tuple(None if f is None else FixedFormat.parse(f) for f in v)
               for n, v in (formats or {}).items()}
    unknown = [n for n in formats if n not in {a.name for a in acts}]
    if unknown:
        raise SpecError(f"formats given for {unknown[0]!r}, which is not replaced; "
                        f"replaced: {', '.join(a.name for a in acts)}")
    for a in acts:
        given = formats.get(a.name, (None, None))
        for k, side in enumerate(("in", "out")):
            if getattr(a, f"{side}_format") is not None:
                if given[k] is not None:
                    raise ModelError(f"{a.name}: its {side}put is quantised in the model "
                                     f"({getattr(a, f'{side}_format')}), whose format lutgen "
                                     f"keeps; drop its --{side}-format")
                continue
            if given[k] is not None:
                fmt = given[k]
                if not fmt.is_affine or _dtype(fmt).name not in STORAGES:
                    raise SpecError(f"{a.name}: --{side}-format {fmt} cannot be an ONNX "
                                    "tensor; give int8(...), uint8(...), int16(...) or "
                                    "uint16(...)")
            else:
                lo, hi = (a.hist[0], a.hist[1]) if side == "in" else a.out_values
                fmt = calibration_format(lo, hi, storage)
            setattr(a, f"{side}_format", fmt)
            a.format_source = "options" if given[k] is not None else "calibration"


def onnx_budget(model, calib, eval_data, *, labels=None, formats=None, modules=None,
                min_agreement=None, max_logit_dev=None, mean_logit_dev=None, ladder=LADDER,
                objective="bits", storage="int8", saturation="allowed", search="auto",
                batch_size=None, progress=None) -> ModelBudgetResult:
    """The cheapest tables for an ONNX model's activations that keep a model-level criterion.

    Parameters
    ----------
    model : onnx.ModelProto or path
        The unmodified model; its first output is what the criterion compares (the
        logits, shape (samples, classes)).
    calib, eval_data : array
        Calibration inputs (each activation's input histogram, and the formats of the
        sides the model does not quantise) and evaluation inputs.
    modules : iterable of str, optional
        The activations to replace, by their names in ``lutgen from-onnx``'s listing
        (``gelu_1``, ``sigmoid_3`` ...) [default: every one it finds].
    formats : mapping, optional
        Activation name -> ``(in_format, out_format)`` for sides the model does not
        quantise (a QDQ model's own formats are kept).

    The other parameters are :func:`lutgen.model_budget.model_budget`'s; ``storage`` is
    that of the formats chosen from the calibration data. Returns a
    :class:`~lutgen.model_search.ModelBudgetResult` whose choices are named as
    ``from-onnx`` names the tables.
    """
    require_onnx()
    if not hasattr(model, "graph"):
        model = load_model(model)
    x_calib, x_eval = _array(calib, "calib"), _array(eval_data, "eval")
    criterion, ladder, y = check_options((min_agreement, max_logit_dev, mean_logit_dev),
                                         objective, search, ladder, labels, len(x_eval))
    acts = read_model(model, skip_unknown=True)
    if modules is not None:
        wanted = list(modules)
        known = [a.name for a in acts]
        for n in wanted:
            if n not in known:
                raise SpecError(f"the model has no activation {n!r}; its activations: "
                                f"{', '.join(known)}")
        acts = [a for a in acts if a.name in wanted]
        if not acts:
            raise SpecError("no activation to replace: give at least one --module")
    run_calibration(model, acts, x_calib)
    _formats(acts, formats, storage)
    slots = [Slot(a.name, a.region.form, a.region.activation or a.name,
                  dict(a.region.params), a.in_format, a.out_format, a.hist[2],
                  expr=a.region.expr, table_name=a.name) for a in acts]
    runner = _Runner(model, acts, x_eval, batch_size)
    return search_budget(slots, runner, criterion, labels=y, ladder=ladder,
                         objective=objective, saturation=saturation, search=search,
                         progress=progress)


def chosen_model(model, result: ModelBudgetResult):
    """``model`` (a ModelProto or path) with the chosen tables as Gather lookups over their
    entries (initializers): what ``lutgen budget --onnx ... --write-model`` writes."""
    if not hasattr(model, "graph"):
        model = load_model(model)
    by_name = {a.name: a for a in read_model(model, skip_unknown=True)}
    acts = [by_name[c.module] for c in result.choices]
    return rewrite_model(model, acts, [c.table for c in result.choices]), acts
