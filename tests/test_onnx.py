"""lutgen.onnx and ``lutgen from-onnx``: a model trained here on scikit-learn's digits, exported
by both of torch's exporters, quantised by ONNX Runtime, read back, turned into a project and
a model whose activations are Gather lookups. Needs onnx, onnxruntime, torch and scikit-learn
(skipped without them, failed under LUTGEN_REQUIRE_TOOLS=1)."""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from lutgen.cli import cli
from tests.conftest import require_module

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

HINT = "pip install 'lutgen[onnx]' torch scikit-learn"
ACTS = ("gelu", "silu", "sigmoid", "tanh", "hard_swish", "relu6")  # the model's, in order
QDQ_ACTS = ACTS[:5]  # ONNX Runtime's quantiser folds ReLU6 into the Gemm's output range


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Float and QDQ int8 ONNX files of one small MLP: {key: path}, plus the data."""
    onnx = require_module("onnx", HINT)
    require_module("onnxruntime", HINT)
    require_module("torch", HINT)
    require_module("sklearn", HINT)
    from tests import onnx_models

    x, y = onnx_models.digits()
    net = onnx_models.trained_mlp(x, y)
    out = tmp_path_factory.mktemp("onnx")
    paths = {}
    for opset in (13, 17, 20):  # 13: HardSwish as HardSigmoid*x; < 20: GELU written out
        paths[f"ts{opset}"] = out / f"ts{opset}.onnx"
        onnx_models.export(net, x, paths[f"ts{opset}"], opset)
    paths["dy18"] = out / "dy18.onnx"
    onnx_models.export(net, x, paths["dy18"], 18, dynamo=True)
    for key in ("ts17", "dy18"):
        paths[f"{key}_q"] = out / f"{key}_q.onnx"
        onnx_models.quantize_qdq(paths[key], paths[f"{key}_q"], x)
    paths["calib"] = out / "calib.npy"
    np.save(paths["calib"], x[:300])
    assert onnx.load(paths["dy18_q"]).graph.node  # the files are real
    return {"paths": paths, "net": net, "x": x, "y": y}


def _listing(path):
    result = run("from-onnx", path, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["activations"]


# ---- finding activations ----------------------------------------------------------------
GELU_FORM = {"ts13": "Div/Erf/Add/Mul/Mul", "ts17": "Div/Erf/Add/Mul/Mul", "ts20": "Gelu",
             "dy18": "Div/Erf/Add/Mul/Mul"}
HARDSWISH_FORM = {"ts13": "HardSigmoid/Mul", "ts17": "HardSwish", "ts20": "HardSwish",
                  "dy18": "HardSwish"}


@pytest.mark.parametrize("key", ["ts13", "ts17", "ts20", "dy18"])
def test_finds_every_activation_of_both_exporters(models, key):
    acts = _listing(models["paths"][key])
    assert [a["activation"] for a in acts] == list(ACTS)
    forms = {a["activation"]: a["form"] for a in acts}
    assert forms["gelu"] == GELU_FORM[key]
    assert forms["silu"] == "Sigmoid/Mul"
    assert forms["hard_swish"] == HARDSWISH_FORM[key]
    assert forms["relu6"] == "Clip"
    assert all(a["in_format"] is None and a["out_format"] is None for a in acts)  # float


def _initializer_format(onnx, graph, quantize):
    """int8(SCALE,ZP) of a QuantizeLinear node, read from its initializers."""
    init = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
    scale, zp = init[quantize.input[1]], init[quantize.input[2]]
    assert zp.dtype == np.int8
    return f"int8({float(scale)!r},{int(zp)})"


@pytest.mark.parametrize("key", ["ts17_q", "dy18_q"])
def test_reads_the_scales_and_zero_points_of_a_qdq_model(models, key):
    onnx = require_module("onnx", HINT)
    graph = onnx.load(models["paths"][key]).graph
    acts = _listing(models["paths"][key])
    assert [a["activation"] for a in acts] == list(QDQ_ACTS)
    assert not [n for n in graph.node if n.op_type == "Clip"]  # ReLU6 was folded away
    # independently: activation k sits between the k-th Gemm and the next; its input format
    # is the QuantizeLinear of the Gemm's output, its output format the one feeding the next
    producer = {o: n for n in graph.node for o in n.output}
    consumers = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    gemms = [n for n in graph.node if n.op_type == "Gemm"]
    for k, act in enumerate(acts):
        q_in = [c for c in consumers[gemms[k].output[0]] if c.op_type == "QuantizeLinear"]
        dq_next = producer[gemms[k + 1].input[0]]
        q_out = producer[dq_next.input[0]]
        assert act["in_format"] == _initializer_format(onnx, graph, q_in[0]), act
        assert act["out_format"] == _initializer_format(onnx, graph, q_out), act
        assert act["formats_from"] == "model"


def test_text_listing_names_each_activation_and_its_formats(models):
    result = run("from-onnx", models["paths"]["dy18_q"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == len(QDQ_ACTS)
    assert lines[0].split()[:4] == ["1", "gelu_1", "gelu", "Div/Erf/Add/Mul/Mul"]
    assert "int8(" in lines[0] and " -> " in lines[0]


# ---- hand-written graphs: the other forms, and mistakes -----------------------------------
def _model(tmp_path, nodes, consts, name="m.onnx"):
    onnx = require_module("onnx", HINT)
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(np.array(v, np.float32), k) for k, v in consts.items()]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                         [None, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / name
    onnx.save(model, path)
    return path


def _node(op, ins, outs, **attrs):
    from onnx import helper

    return helper.make_node(op, ins, outs, **attrs)


def test_hard_swish_written_out_with_add_clip_div_mul(tmp_path):
    require_module("onnx", HINT)
    path = _model(tmp_path, [
        _node("Add", ["x", "three"], ["a"]), _node("Clip", ["a", "zero", "six"], ["c"]),
        _node("Mul", ["x", "c"], ["m"]), _node("Div", ["m", "six"], ["y"])],
        {"three": 3.0, "zero": 0.0, "six": 6.0})
    acts = _listing(path)
    assert [(a["activation"], a["form"], a["input"], a["output"]) for a in acts] == [
        ("hard_swish", "Add/Clip/Mul/Div", "x", "y")]


def test_gelu_tanh_form_and_parametrised_ops(tmp_path):
    require_module("onnx", HINT)
    c = math.sqrt(2 / math.pi)
    path = _model(tmp_path, [
        _node("Pow", ["x", "three"], ["p"]), _node("Mul", ["p", "k"], ["pk"]),
        _node("Add", ["x", "pk"], ["inner"]), _node("Mul", ["inner", "c"], ["ic"]),
        _node("Tanh", ["ic"], ["t"]), _node("Add", ["t", "one"], ["t1"]),
        _node("Mul", ["x", "t1"], ["xt"]), _node("Mul", ["xt", "half"], ["g"]),
        _node("LeakyRelu", ["g"], ["l"], alpha=0.2),
        _node("Clip", ["l", "lo", "hi"], ["y"])],
        {"three": 3.0, "k": 0.044715, "c": c, "one": 1.0, "half": 0.5, "lo": -1.5, "hi": 2.5})
    acts = _listing(path)
    assert [(a["activation"], a["expr"]) for a in acts] == [
        ("gelu_tanh", None), ("leaky_relu", None), (None, "clip(x, -1.5, 2.5)")]
    assert acts[1]["params"] == {"alpha": float(np.float32(0.2))}
    assert acts[0]["form"] == "Pow/Mul/Add/Mul/Tanh/Add/Mul/Mul"


def _only_error(result, text):
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and text in lines[0], lines
    assert "Traceback" not in result.output


def test_mistakes_are_one_error_line_and_write_nothing(tmp_path):
    require_module("onnx", HINT)
    out = tmp_path / "out"
    out.mkdir()
    text = tmp_path / "notes.onnx"
    text.write_text("not a model\n")
    _only_error(run("from-onnx", text, "-o", out / "p.toml"), "is not an ONNX model")
    _only_error(run("from-onnx", tmp_path / "missing.onnx"), "does not exist")
    erf = _model(tmp_path, [_node("Erf", ["x"], ["y"])], {}, "erf.onnx")
    _only_error(run("from-onnx", erf, "-o", out / "p.toml"), "node")
    _only_error(run("from-onnx", erf, "--skip-unknown"), "no activations lutgen knows")
    plain = _model(tmp_path, [_node("Add", ["x", "one"], ["y"])], {"one": 1.0}, "add.onnx")
    _only_error(run("from-onnx", plain), "no activations lutgen knows")
    sig = _model(tmp_path, [_node("Sigmoid", ["x"], ["y"])], {}, "sig.onnx")
    _only_error(run("from-onnx", sig, "-o", out / "p.toml"), "give --in-format")
    _only_error(run("from-onnx", sig, "-o", out / "p.txt"), "ends in .toml")
    bad = tmp_path / "bad.npy"
    bad.write_text("x")
    _only_error(run("from-onnx", sig, "--calib", bad, "-o", out / "p.toml"),
                "is not a readable .npy")
    np.save(tmp_path / "wide.npy", np.zeros((5, 7), np.float32))
    _only_error(run("from-onnx", sig, "--calib", tmp_path / "wide.npy", "-o", out / "p.toml"),
                "does not fit the model's input")
    _only_error(run("from-onnx", sig, "--in-format", "int8(0.1,300)", "--out-format",
                    "uint8(0.00390625,0)", "-o", out / "p.toml"), "zero point 300")
    assert list(out.iterdir()) == []


def test_a_qdq_models_formats_are_kept(models, tmp_path):
    _only_error(run("from-onnx", models["paths"]["dy18_q"], "--in-format", "int8(0.1,0)",
                    "-o", tmp_path / "p.toml"), "drop --in-format")
    assert list(tmp_path.iterdir()) == []


# ---- the project and the calibration histograms ------------------------------------------
def _torch_activations(models, n):
    """Each activation's (input, output) over the first n calibration rows, from torch hooks."""
    torch = require_module("torch", HINT)
    seen = []
    net = models["net"]
    hooks = [m.register_forward_hook(lambda mod, i, o: seen.append((i[0].detach().numpy(),
                                                                      o.detach().numpy())))
             for m in list(net)[1::2]]
    with torch.no_grad():
        net(torch.tensor(models["x"][:n]))
    for h in hooks:
        h.remove()
    return seen


def test_project_of_a_qdq_model_with_calibration_histograms(models, tmp_path):
    paths = models["paths"]
    project = tmp_path / "proj" / "digits.toml"
    result = run("from-onnx", paths["dy18_q"], "--calib", paths["calib"], "-o", project)
    assert result.exit_code == 0, result.output
    acts = _listing(paths["dy18_q"])
    doc = tomllib.loads(project.read_text())
    assert doc["name"] == "digits"
    assert project.read_text().startswith("# generated by lutgen")
    assert f"lutgen from-onnx {paths['dy18_q']} --calib" in project.read_text()
    tables = doc["tables"]
    assert [t["activation"] for t in tables] == list(QDQ_ACTS)
    float_acts = _torch_activations(models, 300)
    for t, act, (xs, _) in zip(tables, acts, float_acts):
        assert (t["name"], t["in_format"], t["out_format"]) == (
            act["name"], act["in_format"], act["out_format"])
        assert t["saturation"] == "allowed" and t["max_error"] == "1lsb"
        assert t["dist"] == f"hist:digits.{t['name']}.npz" and t["mean_error"] == "0.5lsb"
        hist = np.load(project.parent / t["dist"][5:])
        edges, counts = hist["edges"], hist["counts"]
        assert counts.sum() == 300 * 24  # every value the activation saw, once
        scale = float(t["in_format"].split("(")[1].split(",")[0])
        assert np.allclose(np.diff(edges), scale)  # one bin per input code
        # the QDQ model's inputs are close to the float model's: the same distribution
        lo = edges[0]
        ref = np.bincount(np.clip(np.floor((xs.ravel() - lo) / scale).astype(int), 0,
                                  counts.size - 1), minlength=counts.size)
        tv = 0.5 * np.abs(ref / ref.sum() - counts / counts.sum()).sum()
        assert tv < 0.15, (t["name"], tv)
    built = run("batch", project, "-o", tmp_path / "hw")
    assert built.exit_code == 0, built.output
    manifest = json.loads((tmp_path / "hw" / "manifest.json").read_text())
    text = json.dumps(manifest)
    assert "weighted_mean_abs_error" in text and "hist:" in text


def test_float_model_formats_from_calibration(models, tmp_path):
    paths = models["paths"]
    _only_error(run("from-onnx", paths["dy18"], "--calib", paths["calib"], "-o",
                    tmp_path / "float.toml"), "rename the file")  # a C keyword
    project = tmp_path / "floatmodel.toml"
    result = run("from-onnx", paths["dy18"], "--calib", paths["calib"], "-o", project, "--json")
    assert result.exit_code == 0, result.output
    acts = json.loads(result.output)["activations"]
    assert [a["formats_from"] for a in acts] == ["calibration"] * len(ACTS)
    # the rule (docs/ONNX.md), recomputed from torch's own activations: MinMax, with 0 in
    # the range, 256 codes of int8, the scale a float32, the zero point rounded
    for act, (xs, ys) in zip(acts, _torch_activations(models, 300)):
        for fmt, values in ((act["in_format"], xs), (act["out_format"], ys)):
            lo, hi = min(values.min(), 0.0), max(values.max(), 0.0)
            scale = (hi - lo) / 255
            got_scale, got_zp = fmt[5:-1].split(",")
            assert float(got_scale) == pytest.approx(scale, rel=1e-5), act["name"]
            assert abs(int(got_zp) - round(-128 - lo / scale)) <= 1, act["name"]
    tables = tomllib.loads(project.read_text())["tables"]
    assert [t["in_format"] for t in tables] == [a["in_format"] for a in acts]


def test_float_model_formats_from_options(models, tmp_path):
    project = tmp_path / "opts.toml"
    result = run("from-onnx", models["paths"]["ts17"], "--in-format", "int8(0.05,0)",
                 "--out-format", "int8(0.05,-20)", "-o", project)
    assert result.exit_code == 0, result.output
    tables = tomllib.loads(project.read_text())["tables"]
    assert {(t["in_format"], t["out_format"]) for t in tables} == {
        ("int8(0.05,0)", "int8(0.05,-20)")}
    assert "dist" not in tables[0] and "mean_error" not in tables[0]  # no calibration
    assert "(from options)" in result.output


# ---- the model with its tables: Gather over the codes -------------------------------------
def _compile(project):
    from lutgen.batch import compile_project, load_project

    return {b.name: b.table for b in compile_project(load_project(project))}


def _lookup_model(onnx, written, name, in_dtype):
    """The written model's Cast -> Add -> Gather of table ``name`` alone, over a codes input."""
    from onnx import helper

    nodes = [n for n in written.graph.node if n.name in (f"{name}_cast", f"{name}_index",
                                                         f"{name}_lookup")]
    assert [n.op_type for n in nodes] == ["Cast", "Add", "Gather"]
    wanted = {i for n in nodes for i in n.input}
    inits = [t for t in written.graph.initializer if t.name in wanted]
    codes, result = nodes[0].input[0], nodes[-1].output[0]
    table = next(t for t in inits if t.name == f"{name}_table")
    graph = helper.make_graph(nodes, "lookup", [helper.make_tensor_value_info(codes, in_dtype,
                                                                              [None])],
                              [helper.make_tensor_value_info(result, table.data_type, [None])],
                              inits)
    return helper.make_model(graph, opset_imports=list(written.opset_import))


def _session(ort, model_or_path, optimize=True):
    options = ort.SessionOptions()
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    source = model_or_path.SerializeToString() if hasattr(model_or_path, "SerializeToString") \
        else str(model_or_path)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("key", ["ts17_q", "dy18_q"])
def test_written_model_runs_each_table_bit_exactly(models, tmp_path, key):
    onnx = require_module("onnx", HINT)
    ort = require_module("onnxruntime", HINT)
    paths = models["paths"]
    project, out = tmp_path / "p.toml", tmp_path / "lut.onnx"
    result = run("from-onnx", paths[key], "-o", project, "--write-model", out)
    assert result.exit_code == 0, result.output
    assert (f"checked in ONNX Runtime: each Gather equals eval_int on every input code "
            f"({256 * len(QDQ_ACTS)} codes, {len(QDQ_ACTS)} tables)") in result.output
    tables = _compile(project)
    written = onnx.load(out)
    ops = {n.op_type for n in written.graph.node}
    assert not ops & {"Erf", "Sigmoid", "Tanh", "HardSwish", "Gelu", "Div"}  # all replaced
    codes = np.arange(-128, 128, dtype=np.int8)
    for name, table in tables.items():
        lookup = _lookup_model(onnx, written, name, onnx.TensorProto.INT8)
        got = _session(ort, lookup).run(None, {lookup.graph.input[0].name: codes})[0]
        assert got.dtype == np.int8
        assert np.array_equal(got.astype(np.int64), table.eval_int(codes.astype(np.int64))), name
    # the whole model: as the QDQ model decides, or nearly (1 LSB tables)
    x, y = models["x"], models["y"]
    qdq = _session(ort, paths[key]).run(None, {"x": x})[0].argmax(1)
    lut = _session(ort, out).run(None, {"x": x})[0].argmax(1)
    agree = float((qdq == lut).mean())
    print(f"{key}: top-1 agreement of the table model with the QDQ model {agree:.4f}, "
          f"accuracy {float((lut == y).mean()):.4f} (QDQ {float((qdq == y).mean()):.4f})")
    assert agree >= 0.97


def test_written_float_model_quantises_around_each_table(models, tmp_path):
    onnx = require_module("onnx", HINT)
    ort = require_module("onnxruntime", HINT)
    paths = models["paths"]
    out = tmp_path / "lut.onnx"
    result = run("from-onnx", paths["dy18"], "--calib", paths["calib"], "--write-model", out)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "dy18.toml").exists()  # no -o: only the model
    written = onnx.load(out)
    chain = [n.op_type for n in written.graph.node if n.name.startswith("gelu_1_")]
    assert chain == ["QuantizeLinear", "Cast", "Add", "Gather", "DequantizeLinear"]
    x, y = models["x"], models["y"]
    ref = _session(ort, paths["dy18"]).run(None, {"x": x})[0].argmax(1)
    lut = _session(ort, out).run(None, {"x": x})[0].argmax(1)
    assert float((ref == lut).mean()) >= 0.95


# ---- against ONNX Runtime's own int8 activations -------------------------------------------
_MP = {"sigmoid": lambda v: 1 / (1 + __import__("mpmath").exp(-v)),
       "tanh": lambda v: __import__("mpmath").tanh(v),
       "gelu": lambda v: v * (1 + __import__("mpmath").erf(v / __import__("mpmath").sqrt(2))) / 2}


def _correctly_rounded(name, fin, fout):
    """round(f(x) / scale_out) + zero_point_out, saturated, in 50-digit arithmetic."""
    mpmath = require_module("mpmath", "pip install mpmath")
    mpmath.mp.dps = 50
    fn = _MP[name]
    out = []
    for q in range(fin.min_code, fin.max_code + 1):
        v = fn(mpmath.mpf(fin.scale) * (q - fin.zero_point)) / mpmath.mpf(fout.scale)
        code = int(mpmath.floor(v + mpmath.mpf(0.5))) + fout.zero_point
        out.append(min(max(code, fout.min_code), fout.max_code))
    return np.array(out, dtype=np.int64)


def _ort_qdq(ort, onnx, op, fin, fout, domain=""):
    """ONNX Runtime's int8 ``op`` over every int8 code: DQ -> op -> Q, or com.microsoft's
    QLinear op; run with its graph optimisations (which fuse DQ -> op -> Q) and without."""
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(np.array(fin.scale, np.float32), "si"),
             numpy_helper.from_array(np.array(fin.zero_point, np.int8), "zi"),
             numpy_helper.from_array(np.array(fout.scale, np.float32), "so"),
             numpy_helper.from_array(np.array(fout.zero_point, np.int8), "zo")]
    if domain:
        nodes = [helper.make_node(op, ["q", "si", "zi", "so", "zo"], ["y"], domain=domain)]
    else:
        nodes = [helper.make_node("DequantizeLinear", ["q", "si", "zi"], ["x"]),
                 helper.make_node(op, ["x"], ["f"]),
                 helper.make_node("QuantizeLinear", ["f", "so", "zo"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("q", TensorProto.INT8,
                                                                         [256])],
                              [helper.make_tensor_value_info("y", TensorProto.INT8, [256])],
                              inits)
    opsets = [helper.make_opsetid("", 20)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    model = helper.make_model(graph, opset_imports=opsets)
    codes = np.arange(-128, 128, dtype=np.int8)
    return {("optimised" if opt else "not optimised"): _session(ort, model, opt).run(
        None, {"q": codes})[0].astype(np.int64) for opt in (True, False)}


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "gelu"])
def test_int8_tables_against_onnx_runtimes_own(models, name):
    onnx = require_module("onnx", HINT)
    ort = require_module("onnxruntime", HINT)
    from lutgen import compile_table
    from lutgen.fixedpoint import FixedFormat

    act = next(a for a in _listing(models["paths"]["dy18_q"]) if a["activation"] == name)
    fin, fout = FixedFormat.parse(act["in_format"]), FixedFormat.parse(act["out_format"])
    codes = np.arange(-128, 128, dtype=np.int64)
    exact = _correctly_rounded(name, fin, fout)
    # a direct table, one entry per input code, is correctly rounded: equal on every code
    span = (fin.scale * (-128 - fin.zero_point), fin.scale * (128 - fin.zero_point))
    direct = compile_table(name, in_format=fin, out_format=fout, interp="none", entries=256,
                           range=span)
    assert np.array_equal(direct.eval_int(codes), exact)
    runs = _ort_qdq(ort, onnx, name.capitalize(), fin, fout)  # Gelu: an op since opset 20
    if name == "sigmoid":
        runs.update({f"QLinearSigmoid {k}": v for k, v in _ort_qdq(
            ort, onnx, "QLinearSigmoid", fin, fout, domain="com.microsoft").items()})
    fitted = compile_table(name, in_format=fin, out_format=fout, saturation="allowed",
                           **_fit_options(name, fin, fout))
    print(f"\n{name} {fin} -> {fout}:")
    for label, ort_codes in runs.items():
        differ = np.flatnonzero(ort_codes != exact)
        print(f"  ORT ({label}): {differ.size} of 256 codes differ from the correctly rounded "
              f"value, by at most {int(np.abs(ort_codes - exact).max())}")
        # float32 arithmetic and a polynomial exp/tanh: off by one next to a rounding tie
        assert differ.size <= 8 and np.abs(ort_codes - exact).max() <= 1
        near_tie = [abs(float(_frac(name, fin, fout, int(codes[i]))) - 0.5) for i in differ]
        assert all(d < 1e-4 for d in near_tie), near_tie
    fit_diff = fitted.eval_int(codes) - exact
    print(f"  lutgen 1-LSB table ({fitted.rom_bits} ROM bits): {np.count_nonzero(fit_diff)} of "
          f"256 codes differ from the correctly rounded value (direct table: 0, "
          f"{direct.rom_bits} ROM bits)")
    assert np.abs(fit_diff).max() <= 1


def _frac(name, fin, fout, q):
    """The fractional part of f(x) / scale_out: how close the code's value is to a tie."""
    import mpmath

    fn = _MP[name]
    v = fn(mpmath.mpf(fin.scale) * (q - fin.zero_point)) / mpmath.mpf(fout.scale)
    return v - mpmath.floor(v)


def _fit_options(name, fin, fout):
    """The options of the cheapest 1-LSB table, as `lutgen batch` fits it."""
    from lutgen import fit

    best = fit(name, in_format=fin, out_format=fout, saturation="allowed",
               max_error="1lsb").best.table.spec.to_dict()
    return {k: best[k] for k in ("range", "entries", "interp", "tails", "fold", "coeffs",
                                 "guard_bits")}


def test_direct_project_tables_are_correctly_rounded(models, tmp_path):
    from lutgen.fixedpoint import FixedFormat

    project = tmp_path / "direct.toml"
    result = run("from-onnx", models["paths"]["dy18_q"], "--direct", "--calib",
                 models["paths"]["calib"], "-o", project)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["direct.toml"]  # no histograms
    doc = tomllib.loads(project.read_text())["tables"]
    assert {(t["entries"], t["interp"]) for t in doc} == {(256, "none")}
    assert not any("max_error" in t or "dist" in t for t in doc)
    tables = _compile(project)
    codes = np.arange(-128, 128, dtype=np.int64)
    for t in doc:
        if t["activation"] in _MP:
            fin, fout = FixedFormat.parse(t["in_format"]), FixedFormat.parse(t["out_format"])
            exact = _correctly_rounded(t["activation"], fin, fout)
            assert np.array_equal(tables[t["name"]].eval_int(codes), exact), t["name"]


def test_the_lookup_check_catches_a_wrong_entry(models):
    onnx = require_module("onnx", HINT)
    from onnx import numpy_helper

    from lutgen.errors import ModelError
    from lutgen.onnx import (check_lookups, compile_plan, load_model, plan_project, read_model,
                             rewrite_model)

    proto = load_model(models["paths"]["dy18_q"])
    acts = read_model(proto)
    tables = [b.table for b in compile_plan(plan_project(proto, acts, stem="p", source="m"))]
    written = rewrite_model(proto, acts, tables)
    assert check_lookups(written, acts, tables) == 256 * len(acts)
    init = next(t for t in written.graph.initializer if t.name == "tanh_4_table")
    entries = numpy_helper.to_array(init).copy()
    entries[200] += 1
    init.CopyFrom(numpy_helper.from_array(entries, init.name))
    with pytest.raises(ModelError, match="table tanh_4: ONNX Runtime's Gather gives"):
        check_lookups(written, acts, tables)
    assert onnx.checker.check_model(written) is None


@pytest.mark.parametrize("storage", ["QUInt8", "QInt16"])
def test_uint8_and_int16_qdq_models(models, tmp_path, storage):
    """The storage types of a zero point become uint8(...)/int16(...) formats, and the
    written model's Gathers hold and return them."""
    ort = require_module("onnxruntime", HINT)
    from onnxruntime.quantization import QuantType

    from tests import onnx_models

    x = models["x"]
    model, out = tmp_path / "q.onnx", tmp_path / "lut.onnx"
    onnx_models.quantize_qdq(models["paths"]["dy18"], model, x, getattr(QuantType, storage),
                             samples=300)
    result = run("from-onnx", model, "--write-model", out, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    prefix = {"QUInt8": "uint8(", "QInt16": "int16("}[storage]
    assert all(a["in_format"].startswith(prefix) and a["out_format"].startswith(prefix)
               for a in doc["activations"])
    assert doc["codes_checked"] == len(QDQ_ACTS) * (256 if storage == "QUInt8" else 65536)
    qdq = _session(ort, model).run(None, {"x": x})[0].argmax(1)
    lut = _session(ort, out).run(None, {"x": x})[0].argmax(1)
    assert float((qdq == lut).mean()) >= 0.97


def test_without_the_extra_from_onnx_says_how_to_install_it(tmp_path):
    """Runs whether or not onnx is installed: the import is blocked in a subprocess."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['onnx'] = None; sys.modules['onnxruntime'] = None\n"
            "from lutgen.cli import main\n"
            f"main(['from-onnx', {str(tmp_path / 'm.onnx')!r}])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr == ("Error: ONNX support needs the packages onnx and onnxruntime (onnx is "
                          "missing); install the extra: pip install 'lutgen[onnx]'\n")
