"""``lutgen budget --onnx``: the model-level budget of a QDQ int8 ONNX model, judged in ONNX
Runtime. The tables it returns keep the criterion when re-checked here, independently (the
project compiled by ``lutgen batch``'s code, put into the model as ``from-onnx`` does, run
in a session of our own), and no cheaper combination of tables fitted here would have."""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tests.conftest import require_module

HINT = "pip install 'lutgen[onnx]' torch scikit-learn"
onnx = require_module("onnx", HINT)
ort = require_module("onnxruntime", HINT)
require_module("torch", HINT)
require_module("sklearn", HINT)

import lutgen  # noqa: E402
from lutgen.batch import compile_project, load_project  # noqa: E402
from lutgen.cli import cli  # noqa: E402
from lutgen.onnx import read_model, rewrite_model  # noqa: E402
from lutgen.onnx_budget import onnx_budget  # noqa: E402
from tests import onnx_models  # noqa: E402

LADDER = (1, 8)  # two rungs: 2^5 combinations, few enough to try every one here
NAMES = ["gelu_1", "silu_2", "sigmoid_3", "tanh_4", "hard_swish_5"]  # ReLU6 folds into Gemm


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    x, y = onnx_models.digits()
    net = onnx_models.trained_mlp(x, y)
    d = tmp_path_factory.mktemp("obudget")
    onnx_models.export(net, x, d / "mlp.onnx", 17)
    onnx_models.quantize_qdq(d / "mlp.onnx", d / "mlp_q.onnx", x)
    np.save(d / "calib.npy", x[:600])
    np.save(d / "eval.npy", x[600:])
    np.save(d / "labels.npy", y[600:])
    np.save(d / "wide.npy", np.zeros((4, 65), np.float32))
    return d


def _outputs(model, x):
    """The model's first output in a plain ONNX Runtime session of our own."""
    data = model.SerializeToString() if hasattr(model, "graph") else str(model)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def agreement(model, tables, x):
    """% top-1 agreement of the QDQ model with ``tables`` (name -> Table) put in as Gathers."""
    proto = onnx.load(str(model))
    acts = [a for a in read_model(proto) if a.name in tables]
    lut = _outputs(rewrite_model(proto, acts, [tables[a.name] for a in acts]), x)
    return float((lut.argmax(1) == _outputs(model, x).argmax(1)).mean()) * 100


@pytest.fixture(scope="module")
def result(d):
    return onnx_budget(d / "mlp_q.onnx", np.load(d / "calib.npy"), np.load(d / "eval.npy"),
                       labels=np.load(d / "labels.npy"), min_agreement=99.5, ladder=LADDER,
                       search="exhaustive")


def test_the_chosen_tables_keep_the_criterion(d, result, tmp_path):
    x = np.load(d / "eval.npy")
    assert result.met and [c.name for c in result.choices] == NAMES
    # the formats are the QDQ model's, as from-onnx reads them
    acts = read_model(d / "mlp_q.onnx")
    def affine(f):
        return f.signed, f.bits, f.scale, f.zero_point

    assert [(affine(c.table.in_format), affine(c.table.out_format)) for c in result.choices] \
        == [(affine(a.in_format), affine(a.out_format)) for a in acts]
    got = agreement(d / "mlp_q.onnx", {c.name: c.table for c in result.choices}, x)
    assert got >= 99.5 and got == result.figures.agreement
    # from the project written, compiled by `lutgen batch`'s own code
    from lutgen.model_report import write_budget

    paths = write_budget(result, tmp_path / "mlp.toml")
    built = compile_project(load_project(paths[0]))
    rebuilt = {c.name: b.table for c, b in zip(result.choices, built)}
    for c in result.choices:
        codes = c.table.in_format.codes()
        assert np.array_equal(rebuilt[c.name].eval_int(codes), c.table.eval_int(codes))
    assert agreement(d / "mlp_q.onnx", rebuilt, x) == result.figures.agreement
    assert result.unmodified_accuracy == pytest.approx(
        float((_outputs(d / "mlp_q.onnx", x).argmax(1) == np.load(d / "labels.npy")).mean())
        * 100)
    md = paths[2].read_text()
    assert "**met**" in md and "| gelu_1 | gelu_1 (Div/Erf/Add/Mul/Mul) | gelu |" in md


def test_no_cheaper_combination_keeps_it(d, result):
    """Every combination of the tables lutgen.fit gives at each rung, cheaper than the
    chosen one, breaks the criterion (re-judged here, each in its own session)."""
    x = np.load(d / "eval.npy")
    acts = read_model(d / "mlp_q.onnx")
    fitted = []
    for a in acts:
        tables = {}
        for rung in LADDER:
            t = lutgen.fit(a.region.activation, params=a.region.params or None,
                           in_format=a.in_format, out_format=a.out_format,
                           max_error=f"{rung}lsb", saturation="allowed",
                           objective="bits").best.table
            tables[(t.values.tobytes(), t.prog.tobytes())] = t
        fitted.append(list(tables.values()))
    chosen = {c.name: c.table for c in result.choices}
    for c, options in zip(result.choices, fitted):  # the chosen tables are among them
        assert any(t.rom_bits == c.table.rom_bits and np.array_equal(t.values, c.table.values)
                   for t in options)
    cheaper = [p for p in itertools.product(*fitted)
               if sum(t.rom_bits for t in p) < result.rom_bits]
    assert cheaper and len(chosen) == 5  # not vacuous: the search had cheaper ones to refuse
    for pick in cheaper:
        assert agreement(d / "mlp_q.onnx", dict(zip(NAMES, pick)), x) < 99.5


def test_the_session_trick_equals_the_written_model(d, result):
    """The search feeds each table's entries as graph inputs to one session; the alone
    figures (one table replaced) equal a model rewritten with that table as an initializer."""
    x = np.load(d / "eval.npy")
    for c in result.choices:
        assert agreement(d / "mlp_q.onnx", {c.name: c.table}, x) == c.alone.agreement


# ---- the command line -----------------------------------------------------------------------
def budget(d, *args):
    base = ["budget", "--onnx", str(d / "mlp_q.onnx"), "--calib", str(d / "calib.npy"),
            "--eval", str(d / "eval.npy")]
    return CliRunner().invoke(cli, base + [str(a) for a in args])


def test_cli_writes_the_project_the_report_and_the_model(d, result, tmp_path):
    out, model = tmp_path / "mlp.toml", tmp_path / "mlp_lut.onnx"
    r = budget(d, "--labels", d / "labels.npy", "--min-agreement", "99.5", "--ladder", "1,8",
               "-o", out, "--write-model", model)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[-1] == f"wrote {out}, {tmp_path}/mlp.budget.json, " \
        f"{tmp_path}/mlp.budget.md, {model}"
    assert f"total: {result.rom_bits} ROM bits" in r.output
    # the written model, run here, agrees as reported
    x = np.load(d / "eval.npy")
    lut, base = _outputs(model, x), _outputs(d / "mlp_q.onnx", x)
    got = float((lut.argmax(1) == base.argmax(1)).mean()) * 100
    assert got >= 99.5 and got == result.figures.agreement
    assert float(np.abs(lut - base).max()) == pytest.approx(result.figures.max_logit_dev)
    built = compile_project(load_project(out))
    assert [b.table.rom_bits for b in built] == [c.table.rom_bits for c in result.choices]
    assert "# Regenerate: lutgen budget --onnx" in out.read_text()
    doc = json.loads((tmp_path / "mlp.budget.json").read_text())
    assert doc["met"] and doc["rom_bits"] == result.rom_bits


def test_cli_not_met_writes_nothing(d, tmp_path):
    r = budget(d, "--max-logit-dev", "1e-9", "--module", "tanh_4", "--ladder", "8", "-o",
               tmp_path / "never.toml", "--write-model", tmp_path / "never.onnx")
    assert r.exit_code == 1
    assert "no combination keeps max output deviation <= 1e-09" in r.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args,message", [
    (["--torch", "m.pt"], "Error: give one model: --torch MODEL.pt or --onnx MODEL.onnx, not both"),
    (["--onnx", "{d}/none.onnx"], "Error: model file '{d}/none.onnx' does not exist"),
    (["--onnx", "{d}/calib.npy"], "Error: '{d}/calib.npy' is not an ONNX model"),
    (["--write-model", "{t}/m.txt"], "Error: --write-model '{t}/m.txt': the model file ends in "
     ".onnx"),
    (["--write-model", "{t}/no/m.onnx"], "Error: --write-model '{t}/no/m.onnx': folder "
     "'{t}/no' does not exist"),
    (["--module", "gelu_9"], "Error: the model has no activation 'gelu_9'; its activations: "
     "gelu_1, silu_2, sigmoid_3, tanh_4, hard_swish_5"),
    (["--in-format", "gelu_1=int8(0.1,0)"], "Error: gelu_1: its input is quantised in the "
     "model ({fmt}), whose format lutgen keeps; drop its --in-format"),
    (["--out-format", "relu6_6=int8(0.1,0)"], "Error: formats given for 'relu6_6', which is "
     "not replaced; replaced: gelu_1"),
    (["--eval", "{d}/wide.npy"], "Error: the model cannot run on the evaluation data (shape "
     "(4, 65))"),
    (["--calib", "{d}/wide.npy"], "Error: the calibration data does not fit the model's input "
     "'x' (shape (4, 65))"),
    (["--labels", "{d}/wide.npy"], "Error: labels must be one integer class per evaluation "
     "sample, shape (1197,); got shape (4, 65)"),
    (["--min-agreement", "101"], "Error: min_agreement is a percentage (0..100), got 101.0"),
])
def test_cli_mistakes_are_one_error_line(d, tmp_path, args, message):
    args = [a.replace("{d}", str(d)).replace("{t}", str(tmp_path)) for a in args]
    if "--min-agreement" not in args:
        args += ["--min-agreement", "99"]
    r = budget(d, *args, "-o", tmp_path / "bad.toml")
    assert r.exit_code == 2, r.output
    fmt = str(read_model(d / "mlp_q.onnx")[0].in_format)  # the scale depends on the training
    assert r.output.startswith(message.replace("{d}", str(d)).replace("{t}", str(tmp_path))
                               .replace("{fmt}", fmt)), r.output
    assert r.output.count("\n") == 1 and "Traceback" not in r.output
    assert list(tmp_path.iterdir()) == []


def test_cli_needs_one_model_and_write_model_needs_onnx(tmp_path):
    base = ["budget", "--calib", "c.npy", "--eval", "e.npy", "--min-agreement", "99", "-o",
            str(tmp_path / "p.toml")]
    r = CliRunner().invoke(cli, base)
    assert (r.exit_code, r.output) == (2, "Error: give one model: --torch MODEL.pt or --onnx "
                                          "MODEL.onnx\n")
    r = CliRunner().invoke(cli, base + ["--torch", "m.pt", "--write-model", "m.onnx"])
    assert (r.exit_code, r.output) == (2, "Error: --write-model writes an ONNX model: it needs "
                                          "--onnx MODEL.onnx\n")
    assert list(tmp_path.iterdir()) == []


def test_a_float_models_formats_follow_from_onnx(d, tmp_path):
    """Sides the model does not quantise get from-onnx's formats from the calibration data;
    the result re-checks in a float model rewritten with the chosen table."""
    r = CliRunner().invoke(cli, ["from-onnx", str(d / "mlp.onnx"), "--calib",
                                 str(d / "calib.npy"), "-o", str(tmp_path / "f.toml"),
                                 "--json"])
    assert r.exit_code == 0, r.output
    listed = {a["name"]: a for a in json.loads(r.output)["activations"]}
    x = np.load(d / "eval.npy")
    result = onnx_budget(d / "mlp.onnx", np.load(d / "calib.npy"), x, modules=["sigmoid_3"],
                         min_agreement=99.0, ladder=(1, 8))
    (c,) = result.choices
    assert str(c.table.in_format) == listed["sigmoid_3"]["in_format"]
    assert str(c.table.out_format).split(":")[0] == listed["sigmoid_3"]["out_format"]
    proto = onnx.load(str(d / "mlp.onnx"))
    acts = [a for a in read_model(proto) if a.name == "sigmoid_3"]
    lut, base = _outputs(rewrite_model(proto, acts, [c.table]), x), _outputs(proto, x)
    got = float((lut.argmax(1) == base.argmax(1)).mean()) * 100
    assert result.met and got == result.figures.agreement >= 99.0


def test_without_the_extra_budget_onnx_says_how_to_install_it(d, tmp_path):
    import subprocess
    import sys

    code = ("import sys; sys.modules['onnx'] = None; sys.modules['onnxruntime'] = None\n"
            "from lutgen.cli import main\n"
            f"main(['budget', '--onnx', {str(d / 'mlp_q.onnx')!r}, '--calib', "
            f"{str(d / 'calib.npy')!r}, '--eval', {str(d / 'eval.npy')!r}, "
            f"'--min-agreement', '99', '-o', {str(tmp_path / 'p.toml')!r}])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr.startswith("Error: ONNX support needs the packages onnx and onnxruntime")
    assert out.stderr.count("\n") == 1 and list(tmp_path.iterdir()) == []
