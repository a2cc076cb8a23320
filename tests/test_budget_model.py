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
    with pytest.raises(SpecError, match="3 labels for 397 evaluation samples"):
        model_budget(model, x_calib, x_eval, labels=[1, 2, 3], min_agreement=99)
    with pytest.raises(SpecError, match="unknown search 'best'"):
        model_budget(model, x_calib, x_eval, min_agreement=99, search="best")
