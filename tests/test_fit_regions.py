"""`lutgen fit` searches hierarchical layouts (regions) alongside uniform ones."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest
from click.testing import CliRunner

import lutgen
from lutgen._region_fit import ShiftChooser
from lutgen._reference import reference_on_codes
from lutgen.cli import cli
from lutgen.regions import Regions

from .naive import naive_eval_codes


@pytest.fixture(scope="module")
def sigmoid_fit():
    return lutgen.fit("sigmoid", in_format="s12.8", out_format="s12.10", max_error="1lsb")


def test_fit_finds_a_hierarchical_table_cheaper_than_every_uniform_one(sigmoid_fit):
    best = sigmoid_fit.best
    assert sigmoid_fit.met and best.table.regions is not None
    uniform = [d for d in sigmoid_fit.evaluated if d.table.regions is None and d.meets]
    assert uniform and best.table.rom_bits < min(d.table.rom_bits for d in uniform)
    # the design is re-checked on every input, and the naive reference agrees with the kernel
    report = lutgen.analyze(best.table)
    assert report.exhaustive and report.max_error_lsb < 1.0
    codes = best.table.in_format.codes()
    assert np.array_equal(best.table.eval_int(codes), naive_eval_codes(best.table, codes))


def test_fit_reports_the_layout_in_words_json_and_the_build_command(tmp_path):
    args = ["fit", "sigmoid", "--in-format", "s12.8", "--out-format", "s12.10",
            "--max-error", "1lsb"]
    text = CliRunner().invoke(cli, args)
    assert text.exit_code == 0, text.output
    doc = json.loads(CliRunner().invoke(cli, args + ["--json"]).output)
    reg = doc["best"]["regions"]
    if reg["granule_bits"] is None:  # counted regions
        assert "regions (counted, selected by comparison) ([0, " in text.output
        written = [f"{s}x{c}" for s, c in zip(reg["shifts"], reg["counts"])]
    else:
        assert f"regions of 2^{reg['granule_bits']} codes ([0, " in text.output
        written = reg["shifts"]
    assert doc["best"]["options"]["regions"] == written
    # the layout in JSON is self-consistent: starts and bases are the counts' prefix sums
    widths = [c << s for s, c in zip(reg["shifts"], reg["counts"])]
    assert reg["starts"] == [sum(widths[:r]) for r in range(len(widths))]
    assert reg["bases"] == [sum(reg["counts"][:r]) for r in range(len(widths))]
    command = doc["build_command"]
    assert f"--regions {','.join(map(str, written))}" in command and "--entries" not in command
    # the command builds the very table that was measured
    words = shlex.split(command)[2:]
    built = CliRunner().invoke(cli, ["build", *words, "-o", str(tmp_path)])
    assert built.exit_code == 0, built.output
    saved = json.loads((tmp_path / "sigmoid.json").read_text())["table"]
    assert saved["rom_bits"] == doc["best"]["rom_bits"]
    assert saved["regions"]["shifts"] == reg["shifts"]
    assert saved["regions"]["counts"] == reg["counts"]


def test_shift_chooser_agrees_with_the_faithful_compiler():
    """Shifts the chooser calls feasible compile to faithful tables; one more bit in any
    region is infeasible for the chooser and for the compiler alike."""
    opts = dict(in_format="s12.8", out_format="s12.10", fold=True, range=(0, 8), guard_bits=2)
    dense = lutgen.compile_table("tanh", regions=[0] * 4, **opts)
    chooser = ShiftChooser(dense.values, dense.prog, dense.layout,
                           reference_on_codes(dense.spec), 1.0)
    shifts = chooser.choose()
    assert shifts is not None and chooser.stuck(shifts) < 0
    table = lutgen.compile_table("tanh", regions=shifts, coeffs="faithful", **opts)
    assert lutgen.analyze(table).max_error_lsb < 1.0
    bits, _ = chooser.narrowest(shifts)
    assert table.store_bits == bits
    assert table.rom_bits == Regions(chooser.rb, shifts).knots * bits + table.regions.table_bits
    for r in range(4):
        if shifts[r] < chooser.rb:
            wider = shifts[:r] + (shifts[r] + 1,) + shifts[r + 1:]
            assert chooser.stuck(wider, region=r) >= 0
            with pytest.raises(lutgen.SpecError, match="no faithful table"):
                lutgen.compile_table("tanh", regions=wider, coeffs="faithful", **opts)


def test_fit_keeps_to_uniform_tables_when_asked():
    result = lutgen.fit("tanh", in_format="s8.4", out_format="q7", max_error="1lsb",
                        regions=False)
    assert result.met and all(d.table.regions is None for d in result.evaluated)
    with_regions = lutgen.fit("tanh", in_format="s8.4", out_format="q7", max_error="1lsb")
    assert with_regions.best.table.regions is not None
    assert with_regions.best.table.rom_bits < result.best.table.rom_bits


def test_a_project_fits_hierarchical_tables_only_if_its_emit_kinds_export_them(tmp_path,
                                                                             monkeypatch):
    # every kind exports regions now: pretend mem does not
    import lutgen.batch

    monkeypatch.setattr(lutgen.batch, "REGION_KINDS", {"c", "c-split", "json"})
    text = ('name = "p"\nemit = [EMIT]\n[[tables]]\nactivation = "tanh"\nin_format = "s8.4"\n'
            'out_format = "q7"\nmax_error = "1lsb"\n')
    for emit, hierarchical in (('"c", "json"', True), ('"c", "mem", "json"', False)):
        project = tmp_path / "p.toml"
        project.write_text(text.replace("EMIT", emit))
        out = tmp_path / emit.replace('"', "").replace(", ", "_")
        result = CliRunner().invoke(cli, ["batch", str(project), "-o", str(out)])
        assert result.exit_code == 0, result.output
        saved = json.loads((out / "tanh.json").read_text())["table"]
        assert ("regions" in saved) is hierarchical


def test_a_project_table_may_keep_to_uniform_layouts(tmp_path):
    """hierarchical = false (an MCU's narrow accumulator): the fit searches uniform tables."""
    text = ('name = "p"\nemit = ["c", "json"]\n[defaults]\nHIER\n[[tables]]\n'
            'activation = "tanh"\nin_format = "s8.4"\nout_format = "q7"\nmax_error = "1lsb"\n')
    saved = {}
    for line, key in (("", "any"), ("hierarchical = false", "uniform"),
                      ("hierarchical = true", "any2")):
        project = tmp_path / f"{key}.toml"
        project.write_text(text.replace("HIER", line))
        result = CliRunner().invoke(cli, ["batch", str(project), "-o", str(tmp_path / key)])
        assert result.exit_code == 0, result.output
        saved[key] = json.loads((tmp_path / key / "tanh.json").read_text())["table"]
    assert "regions" in saved["any"] and "regions" in saved["any2"]
    assert "regions" not in saved["uniform"]
    assert saved["uniform"]["entries"] != saved["any"]["entries"]


@pytest.mark.parametrize("line,message", [
    ('hierarchical = "no"', "tables[0].hierarchical: 'no' is not true or false"),
    ("hierarchical = false\nmax_error = 0", None),
])
def test_the_hierarchical_key_is_checked(tmp_path, line, message):
    body = ('name = "p"\n[[tables]]\nactivation = "tanh"\nin_format = "s8.4"\n'
            f'out_format = "q7"\n{line}\n')
    if message is None:  # without max_error the key has no meaning: an error too
        body = body.replace("max_error = 0\n", "")
        message = "tables[0].hierarchical: only a fitted table"
    project = tmp_path / "p.toml"
    project.write_text(body)
    result = CliRunner().invoke(cli, ["batch", str(project), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "o").exists()

