"""The model-level budget: the tables it returns keep the criterion when re-checked here,
independently (the model rebuilt from the written project, run with lutgen.torch), and
no cheaper combination of the candidates would have."""

import itertools
import json

import numpy as np
import pytest

from tests.conftest import require_module

torch = require_module("torch")
require_module("sklearn", extra="test-models")

import lutgen  # noqa: E402
from lutgen.batch import compile_project, load_project  # noqa: E402
from lutgen.errors import SpecError  # noqa: E402
from lutgen.model_budget import model_budget, observe_formats  # noqa: E402
from lutgen.model_report import write_budget  # noqa: E402
from lutgen.torch import substitute  # noqa: E402
from tests.torch_models import activation_inputs, digits_mlp  # noqa: E402


def agreement(model, tables, x):
    """% top-1 agreement of the model with ``tables`` substituted, computed from scratch."""
    sub, _ = substitute(model, tables)
    with torch.no_grad():
        return float((sub(x).argmax(1) == model(x).argmax(1)).double().mean()) * 100


@pytest.fixture(scope="module")
def result():
    model, x_calib, x_eval, y_eval = digits_mlp()
    return model_budget(model, x_calib, x_eval, labels=y_eval, min_agreement=99.0,
                        search="exhaustive")


def test_the_chosen_tables_keep_the_criterion(result, tmp_path):
    model, x_calib, x_eval, y_eval = digits_mlp()
    assert result.met and [c.module for c in result.choices] == ["1", "3", "5", "7"]
    # re-checked from the tables alone
    got = agreement(model, result.tables, x_eval)
    assert got >= 99.0 and got == result.figures.agreement
    # and from the project file written, compiled by `lutgen batch`'s own code
    paths = write_budget(result, tmp_path / "mlp.toml")
    assert [p.name for p in paths] == ["mlp.toml", "mlp.budget.json", "mlp.budget.md"]
    built = compile_project(load_project(paths[0]))
    rebuilt = {c.module: b.table for c, b in zip(result.choices, built)}
    for c, b in zip(result.choices, built):
        codes = c.table.in_format.codes()
        assert np.array_equal(b.table.eval_int(codes), c.table.eval_int(codes)), c.name
        assert b.table.rom_bits == c.table.rom_bits
    assert agreement(model, rebuilt, x_eval) == result.figures.agreement
    report = json.loads(paths[1].read_text())
    assert report["met"] and report["rom_bits"] == sum(b.table.rom_bits for b in built)
    assert report["figures"]["agreement"] == result.figures.agreement
    md = paths[2].read_text()
    assert "**met**" in md and "| gelu_1 | 1 (GELU) | gelu |" in md


def test_the_formats_are_pytorchs_observers(result):
    model, x_calib, _, _ = digits_mlp()
    from torch.ao.quantization import MinMaxObserver

    seen = activation_inputs(model, x_calib)
    obs = MinMaxObserver(dtype=torch.qint8)
    obs(torch.from_numpy(seen["1"]).float())
    scale, zp = obs.calculate_qparams()
    fin = result.choices[0].table.in_format
    assert (fin.scale, fin.zero_point) == (float(scale), int(zp))
    assert str(fin).startswith("int8(")
    formats = observe_formats(model, x_calib, storage="int16")
    assert all(str(f).startswith("int16(") for pair in formats.values() for f in pair)


def test_exhaustive_is_the_optimum_and_greedy_keeps_the_criterion(result):
    """No combination of the candidates cheaper than the chosen one keeps the criterion
    (checked here by brute force over the cheaper ones); greedy finds a valid one."""
    model, x_calib, x_eval, _ = digits_mlp()
    tables = {c.module: [] for c in result.choices}
    for c in result.choices:  # the candidates again: fit at each rung the chosen one names
        fin, fout = c.table.in_format, c.table.out_format
        for k in c.candidates:
            r = lutgen.fit(c.activation, params=c.params, in_format=fin, out_format=fout,
                           max_error=f"{k['budget_lsb']}lsb", saturation="allowed")
            assert r.best.table.rom_bits == k["rom_bits"]
            tables[c.module].append(r.best.table)
    cheaper = [combo for combo in itertools.product(*tables.values())
               if sum(t.rom_bits for t in combo) < result.rom_bits]
    assert cheaper  # the check below is not empty
    for combo in cheaper:
        assert agreement(model, dict(zip(tables, combo)), x_eval) < 99.0
    greedy = model_budget(model, x_calib, x_eval, min_agreement=99.0, search="greedy")
    assert greedy.met and greedy.rom_bits >= result.rom_bits
    assert agreement(model, greedy.tables, x_eval) >= 99.0


def test_logit_deviation_criterion_and_given_formats():
    model, x_calib, x_eval, _ = digits_mlp()
    fmts = {"5": ("int8(0.05,0)", "uint8(0.00390625,0)")}
    r = model_budget(model, x_calib, x_eval, modules=["5"], formats=fmts, max_logit_dev=0.5)
    assert r.met and [c.module for c in r.choices] == ["5"]
    assert str(r.choices[0].table.in_format) == "int8(0.05,0)"
    sub, _ = substitute(model, r.tables)
    with torch.no_grad():
        dev = float((sub(x_eval) - model(x_eval)).abs().max())
    assert dev <= 0.5 and dev == pytest.approx(r.figures.max_logit_dev, rel=1e-6)
    # an impossible criterion: not met, the most accurate tables returned
    r0 = model_budget(model, x_calib, x_eval, modules=["5"], formats=fmts, max_logit_dev=1e-9)
    assert not r0.met and r0.figures == r0.floor


def test_budget_mistakes():
    model, x_calib, x_eval, _ = digits_mlp()
    with pytest.raises(SpecError, match="give a model-level criterion"):
        model_budget(model, x_calib, x_eval)
    with pytest.raises(SpecError, match="min_agreement is a percentage"):
        model_budget(model, x_calib, x_eval, min_agreement=150)
    with pytest.raises(SpecError, match="the model has no module 'act'"):
        model_budget(model, x_calib, x_eval, modules=["act"], min_agreement=99)
    with pytest.raises(SpecError, match="formats given for '1', which is not replaced"):
        model_budget(model, x_calib, x_eval, modules=["3"], formats={"1": ("s8.4", "s8.4")},
                     min_agreement=99)
    with pytest.raises(SpecError, match=r"shape \(397,\); got shape \(3,\)"):
        model_budget(model, x_calib, x_eval, labels=[1, 2, 3], min_agreement=99)
    with pytest.raises(SpecError, match="unknown search 'best'"):
        model_budget(model, x_calib, x_eval, min_agreement=99, search="best")


# ---- the command line -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    model, x_calib, x_eval, y_eval = digits_mlp()
    d = tmp_path_factory.mktemp("budget")
    torch.save(model, d / "mlp.pt")
    torch.save(model.state_dict(), d / "weights.pt")
    torch.jit.trace(model, x_calib[:2]).save(str(d / "scripted.pt"))
    np.save(d / "x_calib.npy", x_calib.numpy())
    np.save(d / "x_eval.npy", x_eval.numpy())
    np.save(d / "y_eval.npy", y_eval.numpy())
    np.save(d / "x_wide.npy", np.zeros((4, 65), np.float32))
    np.save(d / "names.npy", np.array(["a", "b"]))
    return d


def budget(d, *args):
    from click.testing import CliRunner

    from lutgen.cli import cli

    base = ["budget", "--torch", str(d / "mlp.pt"), "--calib", str(d / "x_calib.npy"),
            "--eval", str(d / "x_eval.npy")]
    return CliRunner().invoke(cli, base + list(args))


def test_cli_writes_the_project_and_the_report(files, result):
    out = files / "mlp.toml"
    r = budget(files, "--labels", str(files / "y_eval.npy"), "--min-agreement", "99",
               "--search", "exhaustive", "-o", str(out))
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("gelu_1: int8(") and "alone: agreement" in lines[0]
    assert lines[4] == (f"model: agreement {result.figures.agreement:.2f} %, max output "
                        f"deviation {result.figures.max_logit_dev:.4g}, mean "
                        f"{result.figures.mean_logit_dev:.4g}, accuracy "
                        f"{result.figures.accuracy:.2f} % (unmodified "
                        f"{result.unmodified_accuracy:.2f} %)")
    assert lines[5].startswith(f"total: {result.rom_bits} ROM bits")
    # the same tables as the API chose; the project regenerates itself
    built = compile_project(load_project(out))
    assert [b.table.rom_bits for b in built] == [c.table.rom_bits for c in result.choices]
    assert "# Regenerate: lutgen budget --torch" in out.read_text()
    doc = json.loads((files / "mlp.budget.json").read_text())
    assert doc["rom_bits"] == result.rom_bits and doc["met"] is True


def test_cli_not_met_writes_nothing(files):
    out = files / "never.toml"
    r = budget(files, "--max-logit-dev", "1e-9", "--module", "5", "-o", str(out))
    assert r.exit_code == 1
    assert "no combination keeps max output deviation <= 1e-09" in r.output
    assert not out.exists() and not (files / "never.budget.json").exists()


@pytest.mark.parametrize("args,message", [
    ([], "Error: give a criterion: --min-agreement PCT, --max-logit-dev Y or --mean-logit-dev Y"),
    (["--min-agreement", "99", "--ladder", "1,x"],
     "Error: --ladder '1,x' must list positive LSB budgets, e.g. 0.5,1,2,4,8,16"),
    (["--min-agreement", "101"], "Error: min_agreement is a percentage (0..100), got 101.0"),
    (["--min-agreement", "99", "--in-format", "1"],
     "Error: --in-format '1' must be written MODULE=FORMAT, e.g. --in-format 1='int8(0.04,-15)'"),
    (["--min-agreement", "99", "--in-format", "1=int8(0.1,300)"],
     "Error: bad format 'int8(0.1,300)': zero point 300 is outside int8 (-128..127)"),
    (["--min-agreement", "99", "--module", "0"],
     "Error: Linear is not an activation lutgen can replace; known: CELU, ELU, GELU"),
    (["--min-agreement", "99", "--torch", "{d}/weights.pt"],
     "Error: --torch '{d}/weights.pt' holds a OrderedDict, not a model (a state_dict has no "
     "layers); save the module with torch.save(model, PATH)"),
    (["--min-agreement", "99", "--torch", "{d}/scripted.pt"],
     "Error: --torch '{d}/scripted.pt' is TorchScript: its activations are compiled into the "
     "graph and cannot be swapped; save the nn.Module itself with torch.save(model, PATH)"),
    (["--min-agreement", "99", "--torch", "{d}/x_eval.npy"],
     "Error: cannot load --torch '{d}/x_eval.npy': not a model saved with torch.save"),
    (["--min-agreement", "99", "--torch", "{d}/none.pt"],
     "Error: --torch '{d}/none.pt' does not exist"),
    (["--min-agreement", "99", "--eval", "{d}/x_wide.npy"],
     "Error: the model cannot run on --eval '{d}/x_wide.npy': mat1 and mat2 shapes cannot be "
     "multiplied"),
    (["--min-agreement", "99", "--calib", "{d}/names.npy"],
     "Error: --calib '{d}/names.npy' must hold a numeric array of samples"),
    (["--min-agreement", "99", "--labels", "{d}/x_wide.npy"],
     "Error: labels must be one integer class per evaluation sample, shape (397,); got "
     "shape (4, 65)"),
])
def test_cli_mistakes_are_one_error_line(files, args, message):
    out = files / "bad.toml"
    args = [a.replace("{d}", str(files)) for a in args]
    # a later --torch/--eval/--calib wins over the one budget() puts first
    r = budget(files, *args, "-o", str(out))
    assert r.exit_code == 2, r.output
    assert r.output.startswith(message.replace("{d}", str(files))), r.output
    assert r.output.count("\n") == 1 and "Traceback" not in r.output
    assert not out.exists()


def test_cli_refuses_a_project_path_that_is_no_toml(files):
    r = budget(files, "--min-agreement", "99", "-o", str(files / "mlp.txt"))
    assert r.exit_code == 2 and r.output == (f"Error: the project file '{files}/mlp.txt' must "
                                             "end in .toml\n")
