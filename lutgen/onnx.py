"""ONNX models in, batch projects out (the optional extra ``lutgen[onnx]``).

:func:`read_model` finds a model's activations -- plain ops and the decomposed forms
exporters write (lutgen/_onnx_graph.py) -- with the quantisation of a QDQ model around
each: the input's scale and zero point from the DequantizeLinear feeding it, the output's
from the QuantizeLinear after it. :func:`plan_project` gives each activation its formats
(the model's; else ``in_format``/``out_format``; else chosen from calibration data: see
:func:`calibration_format`), runs the calibration data through the model in ONNX Runtime
(each activation's input added as a graph output) for one histogram per activation, and
renders the batch project. :func:`lutgen.onnx.rewrite_model` (lutgen/_onnx_rewrite.py)
puts the compiled tables back into the model as ``Gather`` nodes over the integer codes.

The core package never imports this module; it imports ``onnx`` and ``onnxruntime``.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from ._affine import AFFINE_STORAGE
from ._onnx_graph import GraphView, Region, find_regions
from ._onnx_rewrite import check_lookups, rewrite_model
from .errors import LutgenError, ModelError
from .fixedpoint import FixedFormat, Overflow

__all__ = ["ModelActivation", "read_model", "load_model", "plan_project", "ProjectPlan",
           "calibration_format", "load_calibration", "run_calibration", "compile_plan",
           "rewrite_model", "check_lookups", "write_outputs", "ModelError", "require_onnx"]

INSTALL_HINT = "install the extra: pip install 'lutgen[onnx]'"
_ONNX_STORAGE = {2: "uint8", 3: "int8", 4: "uint16", 5: "int16"}  # TensorProto elem types


def require_onnx():
    """``(onnx, onnxruntime)``, or a ModelError saying how to install them."""
    try:
        import onnx
        import onnxruntime
    except ImportError as exc:
        raise ModelError(f"ONNX support needs the packages onnx and onnxruntime ({exc.name} "
                         f"is missing); {INSTALL_HINT}") from None
    return onnx, onnxruntime


@dataclass(frozen=True)
class Quant:
    """One side's quantisation as a QDQ model stores it: a DequantizeLinear or QuantizeLinear."""

    node: str  # the node's name (or its output's)
    fmt: FixedFormat


@dataclass
class ModelActivation:
    """One activation of a model: where it is, what it is, and its formats."""

    index: int
    name: str  # the table's name in the project
    region: Region
    in_quant: Quant | None
    out_quant: Quant | None
    in_format: FixedFormat | None = None
    out_format: FixedFormat | None = None
    format_source: str = "model"  # model, options, or calibration
    hist: tuple | None = None  # (edges, counts) of the input, from calibration data
    out_values: tuple | None = None  # (min, max) of the output over the calibration data

    @property
    def label(self) -> str:
        if self.region.expr is not None:
            return self.region.expr
        params = ", ".join(f"{k}={v!r}" for k, v in self.region.params.items())
        return self.region.activation + (f"({params})" if params else "")

    def to_dict(self) -> dict:
        return {
            "index": self.index, "name": self.name, "activation": self.region.activation,
            "params": self.region.params, "expr": self.region.expr, "form": self.region.form,
            "input": self.region.x, "output": self.region.root,
            "nodes": [n.name for n in self.region.nodes],
            "in_format": None if self.in_format is None else str(self.in_format),
            "out_format": None if self.out_format is None else str(self.out_format),
            "formats_from": self.format_source,
            "in_quantize_node": None if self.in_quant is None else self.in_quant.node,
            "out_quantize_node": None if self.out_quant is None else self.out_quant.node,
        }


def load_model(path):
    """The ModelProto in ``path``, or a ModelError naming what is wrong with the file."""
    onnx, _ = require_onnx()
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"model file '{path}' does not exist") from None
    except IsADirectoryError:
        raise ModelError(f"model file '{path}' is a folder, not an ONNX file") from None
    except OSError as exc:
        raise ModelError(f"cannot read model file '{path}': {exc.strerror}") from None
    try:
        model = onnx.load_model_from_string(raw)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ModelError(f"'{path}' is not an ONNX model ({type(exc).__name__}); give a "
                         ".onnx file saved by torch.onnx.export or onnx.save") from None
    if not model.graph.node:
        raise ModelError(f"'{path}' is not an ONNX model with a graph (it has no nodes)")
    from onnx.external_data_helper import load_external_data_for_model, uses_external_data

    if any(uses_external_data(t) for t in model.graph.initializer):
        try:  # torch's dynamo exporter keeps the weights in MODEL.onnx.data beside it
            load_external_data_for_model(model, str(path.parent))
        except (OSError, ValueError) as exc:
            raise ModelError(f"'{path}' keeps its weights in a file beside it that cannot be "
                             f"read ({exc}); copy the .onnx.data file with the model") from None
    return model


def _quant(view: GraphView, node, side: str) -> Quant:
    """The format a DequantizeLinear (input side) or QuantizeLinear (output side) stores."""
    scale = view.const(node.input[1])
    zp_raw = view.raw_const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    where = f"{node.op_type} '{node.name or node.output[0]}'"
    if scale is None or scale.size != 1:
        raise ModelError(f"{where}: its scale is not one constant (per-channel or computed "
                         "quantisation of an activation is not supported)")
    if zp_raw is not None:
        storage = {np.dtype(np.int8): "int8", np.dtype(np.uint8): "uint8",
                   np.dtype(np.int16): "int16", np.dtype(np.uint16): "uint16"}.get(zp_raw.dtype)
        zp = int(zp_raw.reshape(-1)[0]) if zp_raw.size == 1 else None
    else:
        to = view.attr(node, "output_dtype", 0) if side == "out" else 0
        storage, zp = _ONNX_STORAGE.get(to or 2), 0
    if storage is None or zp is None:
        raise ModelError(f"{where}: zero point of type {zp_raw.dtype} or shape {zp_raw.shape}; "
                         f"lutgen reads one zero point of {', '.join(_ONNX_STORAGE.values())}")
    fmt = FixedFormat.parse(f"{storage}({float(scale.reshape(()))!r},{zp})")
    return Quant(node.name or node.output[0], fmt)


def _sides(view: GraphView, region: Region) -> tuple[Quant | None, Quant | None]:
    dqs = [view.producer.get(t) for t in region.reads]
    dqs = [n for n in dqs if n is not None and n.op_type == "DequantizeLinear"]
    quants = {(_quant(view, n, "in").fmt) for n in dqs}
    if len(quants) > 1:
        raise ModelError(f"activation at '{region.root}': its input is dequantised with "
                         f"different formats ({', '.join(sorted(map(str, quants)))})")
    q_in = _quant(view, dqs[0], "in") if dqs else None
    qs = [c for c in view.consumers.get(region.root, []) if c.op_type == "QuantizeLinear"]
    q_out = _quant(view, qs[0], "out") if qs else None
    return q_in, q_out


def _table_name(region: Region, index: int) -> str:
    base = region.activation or region.expr.split("(")[0]
    return f"{base}_{index}"


def read_model(model, *, skip_unknown: bool = False) -> list[ModelActivation]:
    """The activations of ``model`` (a ModelProto or a path), in graph order.

    Raises ModelError when the model has none, or (unless ``skip_unknown``) when a
    nonlinear op (Erf, Sigmoid, Clip...) is in no form lutgen knows.
    """
    if not hasattr(model, "graph"):
        model = load_model(model)
    view = GraphView(model.graph)
    regions, unknown = find_regions(view)
    if unknown and not skip_unknown:
        n = unknown[0]
        raise ModelError(
            f"node '{n.name or n.output[0]}' ({n.op_type}) is in no activation form lutgen "
            "knows (plain ops, GELU as Div/Erf/Add/Mul/Mul or its tanh form, SiLU as "
            "Sigmoid*x, HardSwish as x*HardSigmoid or Add/Clip/Div/Mul, Clip with constant "
            f"bounds); {len(unknown)} such node(s); pass --skip-unknown to list the others")
    if not regions:
        raise ModelError("the model has no activations lutgen knows (Sigmoid, Tanh, Relu, "
                         "LeakyRelu, Elu, Selu, Softplus, Softsign, HardSigmoid, HardSwish, "
                         "Gelu, Mish, Clip, and GELU/SiLU/HardSwish written out)")
    acts = []
    for i, region in enumerate(regions, 1):
        q_in, q_out = _sides(view, region)
        acts.append(ModelActivation(i, _table_name(region, i), region, q_in, q_out,
                                    None if q_in is None else q_in.fmt,
                                    None if q_out is None else q_out.fmt))
    return acts


# ---- calibration -----------------------------------------------------------------------
def calibration_format(lo: float, hi: float, storage: str = "int8") -> FixedFormat:
    """The affine format of a tensor seen over [lo, hi], as ONNX Runtime's MinMax calibration
    chooses it (asymmetric): the range widened to hold 0, ``scale = (hi - lo) / (codes - 1)``
    rounded to float32 (as ONNX stores it), ``zero_point = round(qmin - lo / scale)``."""
    signed, bits = AFFINE_STORAGE[storage]
    qmin = -(1 << (bits - 1)) if signed else 0
    qmax = qmin + (1 << bits) - 1
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if not hi > lo:
        raise ModelError("the calibration data gives a tensor that is always 0; no scale")
    scale = float(np.float32((hi - lo) / (qmax - qmin)))
    zp = int(np.clip(round(qmin - lo / scale), qmin, qmax))
    return FixedFormat.parse(f"{storage}({scale!r},{zp})")


def load_calibration(path) -> np.ndarray:
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ModelError(f"calibration file '{path}' does not exist") from None
    except (OSError, ValueError, EOFError) as exc:
        why = str(exc).split("\n")[0] or type(exc).__name__
        raise ModelError(f"calibration file '{path}' is not a readable .npy array ({why}); "
                         "save the model's input samples with numpy.save") from None
    if not isinstance(data, np.ndarray) or data.dtype.kind not in "iuf" or data.ndim == 0:
        raise ModelError(f"calibration file '{path}' must hold an array of numbers, the "
                         "model's input samples stacked on the first axis")
    return data


def run_calibration(model, acts, data: np.ndarray) -> None:
    """Run ``data`` through ``model`` in ONNX Runtime; set each activation's ``hist`` (input,
    one bin per code of its input format when that is known) and ``out_values``."""
    onnx, ort = require_onnx()
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    present = {o.name for o in probe.graph.output}
    wanted = []
    for a in acts:
        for t in (a.region.reads[0], a.region.root):
            if t not in present and t not in wanted:
                wanted.append(t)
    for t in wanted:
        probe.graph.output.append(onnx.helper.make_tensor_value_info(t, onnx.TensorProto.FLOAT,
                                                                     None))
    inputs = [i for i in probe.graph.input if i.name not in {t.name for t in
                                                             probe.graph.initializer}]
    if len(inputs) != 1:
        raise ModelError(f"--calib gives one array, but the model has {len(inputs)} inputs "
                         f"({', '.join(i.name for i in inputs)})")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(probe.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelError(f"ONNX Runtime cannot load the model: {str(exc).splitlines()[0]}") \
            from None
    dims = inputs[0].type.tensor_type.shape.dim
    batch = dims[0].dim_value if dims and dims[0].dim_value > 0 else 256
    names = [o.name for o in session.get_outputs()]
    seen = {t: [] for t in names}
    x = data.astype(np.float32)
    for start in range(0, x.shape[0], batch):
        try:
            outs = session.run(None, {inputs[0].name: x[start:start + batch]})
        except Exception as exc:
            raise ModelError(f"the calibration data does not fit the model's input "
                             f"'{inputs[0].name}' (shape {x.shape}): "
                             f"{str(exc).splitlines()[0][:200]}") from None
        for t, v in zip(names, outs):
            seen[t].append(np.asarray(v, dtype=np.float64).reshape(-1))
    for a in acts:
        xs = np.concatenate(seen[a.region.reads[0]])
        ys = np.concatenate(seen[a.region.root])
        a.hist = (float(xs.min()), float(xs.max()), xs)
        a.out_values = (float(ys.min()), float(ys.max()))


def _histogram(fmt: FixedFormat, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One bin per input code between the least and greatest seen: edges half a code off."""
    codes = np.asarray(fmt.quantize(xs, overflow=Overflow.SATURATE), dtype=np.int64)
    lo, hi = int(codes.min()), int(codes.max())
    edges = fmt.dequantize(np.arange(lo, hi + 2, dtype=np.int64)) - fmt.scale / 2
    return edges, np.bincount(codes - lo, minlength=hi - lo + 1).astype(np.int64)


# ---- the project -----------------------------------------------------------------------
@dataclass
class ProjectPlan:
    """The project text, its histogram files, and the activations they describe."""

    acts: list[ModelActivation]
    text: str
    files: dict = field(default_factory=dict)  # file name (beside the project) -> bytes


def _toml_value(v) -> str:
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    return repr(v)


def plan_project(model, acts, *, stem: str, source: str, in_format=None, out_format=None,
                 storage: str = "int8", max_error: str = "1lsb", mean_error: str = "0.5lsb",
                 calib=None, direct: bool = False, command: str = "") -> ProjectPlan:
    """Give each activation its formats and render the batch project (see the module doc).

    Each table is fitted to ``max_error`` (and, with calibration data, ``mean_error``
    weighted by its histogram); ``direct`` makes each a direct table instead, one entry per
    input code (``interp = "none"``, the whole input range): correctly rounded, and the
    largest.
    """
    from .export import identifier

    fixed_in = None if in_format is None else FixedFormat.parse(in_format)
    fixed_out = None if out_format is None else FixedFormat.parse(out_format)
    if calib is not None:
        run_calibration(model, acts, calib)
    for a in acts:
        for side, fixed in (("in", fixed_in), ("out", fixed_out)):
            if getattr(a, f"{side}_format") is not None:
                if fixed is not None:
                    raise ModelError(f"--{side}-format: activation {a.index} ({a.name}) is "
                                     "quantised in the model, whose formats lutgen keeps; "
                                     f"drop --{side}-format")
                continue
            if fixed is not None:
                setattr(a, f"{side}_format", fixed)
                a.format_source = "options"
            elif a.hist is not None:
                lo, hi = (a.hist[0], a.hist[1]) if side == "in" else a.out_values
                setattr(a, f"{side}_format", calibration_format(lo, hi, storage))
                a.format_source = "calibration"
            else:
                raise ModelError(
                    f"activation {a.index} ({a.name} at '{a.region.root}') has no {side}put "
                    f"quantisation in the model; give --{side}-format, or --calib FILE.npy "
                    "to choose it from the data")
    try:
        stem = identifier(stem)
    except LutgenError as exc:
        raise ModelError(f"the project is named after its file, '{stem}', which cannot name "
                         f"its C header ({str(exc).split(';')[0]}); rename the file") from None
    lines = [f"# generated by lutgen {__version__} from {Path(source).name} -- do not edit by "
             "hand; regenerate with:", f"#   {command}".rstrip(), "",
             f"name = {_toml_value(stem)}", 'emit = ["c", "json"]', ""]
    files = {}
    for a in acts:
        r = a.region
        lines.append(f"# {a.index}: {r.form} from '{r.x}' to '{r.root}'"
                     + (f"; formats from the {a.format_source}"
                        if a.format_source != "model" else ""))
        entry = {"name": a.name}
        if r.expr is not None:
            entry["expr"] = r.expr
        else:
            entry["activation"] = r.activation
            if r.params:
                entry["params"] = r.params
        entry.update(in_format=str(a.in_format), out_format=str(a.out_format),
                     saturation="allowed")
        fmt = a.in_format
        if direct:
            if fmt.bits > 16:
                raise ModelError(f"--direct: activation {a.index} ({a.name}) has a {fmt.bits}-"
                                 "bit input, too many codes for one entry each (16 bits at most)")
            lo, hi = fmt.dequantize(np.array([fmt.min_code, fmt.max_code], dtype=np.int64))
            entry.update(range=[float(lo), float(hi) + fmt.lsb], entries=1 << fmt.bits,
                         interp="none")
        else:
            entry["max_error"] = max_error
        if a.hist is not None and not direct:  # a project weighs only fitted tables' errors
            edges, counts = _histogram(a.in_format, a.hist[2])
            buf = io.BytesIO()
            np.savez(buf, edges=edges, counts=counts)
            fname = f"{stem}.{a.name}.npz"
            files[fname] = buf.getvalue()
            entry.update(mean_error=mean_error, dist=f"hist:{fname}")
        lines.append("[[tables]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
        lines.append("")
    return ProjectPlan(acts, "\n".join(lines), files)


def compile_plan(plan: ProjectPlan, filename: str = "project.toml"):
    """The BuiltTables of a plan's project, compiled as ``lutgen batch`` would."""
    import tempfile

    from .batch import compile_project, load_project

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / filename).write_text(plan.text, encoding="utf-8")
        for name, data in plan.files.items():
            (Path(tmp) / name).write_bytes(data)
        project = load_project(Path(tmp) / filename)
        return compile_project(project)


def write_outputs(files: dict) -> list[Path]:
    """Write {path: bytes or text} all or none per folder (the model last)."""
    from .export import Artifact, write_artifacts

    by_dir: dict = {}
    for path, data in files.items():
        path = Path(path)
        by_dir.setdefault(path.parent if str(path.parent) else Path(os.curdir), []).append(
            Artifact(path.name, data))
    written = []
    for folder, arts in by_dir.items():
        written += write_artifacts(arts, folder)
    return written
