"""Design to an error budget: `lutgen fit` finds cheap tables that really meet it."""

import json
import shlex

import pytest
from click.testing import CliRunner

import lutgen
from lutgen.analysis import analyze
from lutgen.cli import cli
from lutgen.search import Budget, fit


def test_budget_parsing():
    assert Budget.parse("1lsb") == Budget(1.0, True)
    assert Budget.parse("0.5LSB") == Budget(0.5, True)
    assert Budget.parse("1e-3") == Budget(1e-3, False)
    for bad in ("", "lsb", "-1lsb", "0", "nan", "1 bit"):
        with pytest.raises(lutgen.SpecError, match="cannot read error budget"):
            Budget.parse(bad)


def _rebuild(design):
    """Re-compile the design from its build options, as a user would, and analyze it."""
    d = design.to_dict()
    spec = design.table.spec
    table = lutgen.compile_table(
        spec.activation, in_format=d["in_format"], out_format=d["out_format"],
        range=tuple(d["range"]), entries=d["entries"], interp=d["interp"], tails=d["tails"],
        fold=d["fold"], coeffs=d["coeffs"], guard_bits=d["guard_bits"], params=spec.params_dict)
    return table, analyze(table)


@pytest.mark.parametrize(
    "name,out_format,rom_limit",
    [("sigmoid", "s16.14", 4096), ("tanh", "s16.14", 9216), ("gelu", "s16.12", 8192)],
)
def test_faithful_targets_fit_in_their_rom_budget(name, out_format, rom_limit):
    result = fit(name, in_format="s16.12", out_format=out_format, max_error="1lsb")
    assert result.met
    best = result.best
    assert best.table.rom_bits <= rom_limit
    # the claim, re-checked on every input by an independent compile + analysis
    table, report = _rebuild(best)
    assert report.exhaustive and report.faithful
    assert report.max_error_lsb == best.report.max_error_lsb
    assert table.rom_bits == best.table.rom_bits
    # every candidate listed meets the budget and none is cheaper than the best
    assert all(c.meets for c in result.candidates)
    assert min(c.table.rom_bits for c in result.candidates) == best.table.rom_bits


def test_gelu_uses_asymptote_tails_around_4():
    best = fit("gelu", in_format="s16.12", out_format="s16.12", max_error="1lsb").best
    lo, hi = best.table.range
    assert -4.5 < lo < -3.5 and 3.5 < hi
    assert [t.mode for t in best.table.tails] == ["asymptote", "asymptote"]


def test_absolute_and_mean_budgets():
    result = fit("silu", in_format="s16.12", out_format="s16.12", max_error=2e-3,
                 mean_error="0.3lsb", dist="normal:0,2")
    assert result.met
    r = result.best.report
    assert r.max_abs_error < 2e-3
    assert r.weighted_mean_abs_error / 2**-12 < 0.3


def test_interp_and_rom_limits_are_respected():
    result = fit("tanh", in_format="s8.4", out_format="s8.6", max_error="1lsb", interp="none")
    assert result.met and all(c.table.interp.value == "none" for c in result.candidates)
    capped = fit("tanh", in_format="s16.12", out_format="s16.14", max_error="1lsb",
                 max_rom_bits=100)
    assert not capped.met


def test_below_the_floor_reports_the_floor_and_the_closest(tmp_path):
    result = fit("sigmoid", in_format="s8.4", out_format="s8.6", max_error="0.1lsb")
    assert not result.met
    assert result.best is not None
    assert result.floor_max_error_lsb > 0.1
    assert result.best.report.max_error_lsb >= result.floor_max_error_lsb


def test_cli_fit_json_and_exit_codes():
    runner = CliRunner()
    ok = runner.invoke(cli, ["fit", "sigmoid", "--in-format", "s8.4", "--out-format", "s8.6",
                             "--max-error", "1lsb", "--json"])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.output)
    for key in ("entries", "interp", "range", "tails", "fold", "coeffs", "guard_bits",
                "in_format", "out_format", "max_error_lsb", "max_abs_error", "rom_bits"):
        assert key in doc["best"]
    assert doc["candidates"][0] == doc["best"]
    fail = runner.invoke(cli, ["fit", "sigmoid", "--in-format", "s8.4", "--out-format", "s8.6",
                               "--max-error", "0.1lsb"])
    assert fail.exit_code == 1
    assert "no design meets the budget" in fail.output and "error floor" in fail.output
    bad = runner.invoke(cli, ["fit", "sigmoid", "--max-error", "lots"])
    assert bad.exit_code == 2 and bad.output.startswith("Error: cannot read error budget")


def test_cli_fit_prints_a_build_command_that_rebuilds_the_best(tmp_path):
    runner = CliRunner()
    out = runner.invoke(cli, ["fit", "tanh", "--in-format", "s8.4", "--out-format", "s8.6",
                              "--max-error", "1lsb"])
    assert out.exit_code == 0
    command = [line for line in out.output.splitlines() if line.startswith("build it: ")][0]
    args = shlex.split(command[len("build it: lutgen "):])
    built = runner.invoke(cli, args + ["-o", str(tmp_path)])
    assert built.exit_code == 0, built.output
    doc = json.loads((tmp_path / "tanh.json").read_text())
    assert doc["report"]["faithful"] is True
