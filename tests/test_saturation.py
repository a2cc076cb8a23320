"""saturation = "allowed": errors against the reference clipped to the output range."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from lutgen import analyze, compile_table, fit
from lutgen.activations import get
from lutgen.cli import cli
from lutgen.spec import Saturation, TableSpec, make_spec, regenerate_args

SILU = dict(in_format="s8.4", out_format="s8.5")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def silu_on_every_code():
    x = np.arange(-128, 128) / 16.0  # s8.4
    return x, get("silu").evaluate(x)


def rounding_error_lsb(y, lo=-128, hi=127, frac=5):
    """The error of the correctly rounded (half up), saturated output, in LSBs."""
    v = y * 2.0**frac
    return float(np.abs(np.clip(np.floor(v + 0.5), lo, hi) - v).max())


def test_floor_is_the_clipped_references_rounding_error():
    _, y = silu_on_every_code()
    report = analyze(compile_table("silu", **SILU, saturation="allowed"))
    assert report.floor_max_error_lsb == rounding_error_lsb(np.clip(y, -4.0, 127 / 32))
    assert report.floor_max_error_lsb <= 0.5
    # the reference itself is still reported: silu(7.9375) = 7.93 is 126.9 LSB above 3.97
    assert report.unclipped_floor_max_error_lsb == rounding_error_lsb(y)
    assert report.unclipped_floor_max_error_lsb == pytest.approx(126.909, abs=1e-3)
    counted = analyze(compile_table("silu", **SILU))
    assert counted.floor_max_error_lsb == report.unclipped_floor_max_error_lsb


def test_both_figures_are_against_the_table_outputs():
    x, y = silu_on_every_code()
    table = compile_table("silu", **SILU, saturation="allowed", entries=32)
    out = table.eval_int(np.arange(-128, 128)).astype(np.float64)
    report = analyze(table)
    assert report.max_error_lsb == pytest.approx(
        np.abs(out - np.clip(y, -4.0, 127 / 32) * 32).max(), abs=1e-12)
    assert report.unclipped_max_error_lsb == pytest.approx(np.abs(out - y * 32).max(), abs=1e-12)
    assert report.unclipped_mean_error_lsb == pytest.approx(np.abs(out - y * 32).mean(), abs=1e-9)
    d = report.to_dict()
    assert d["saturation"] == "allowed" and d["unclipped_max_error_lsb"] > 100


def test_counted_is_the_default_and_keeps_the_report_as_it_was():
    report = analyze(compile_table("silu", **SILU))
    assert report.saturation == "counted"
    assert "saturation" not in report.to_dict()
    assert "unclipped_max_error_lsb" not in report.to_dict()
    assert "saturation" not in make_spec("silu", **SILU).to_dict()


def test_silu_s85_fits_1lsb_only_with_saturation_allowed():
    result = run("fit", "silu", "--in-format", "s8.4", "--out-format", "s8.5", "--max-error",
                 "1lsb", "--saturation", "allowed", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["met"] and doc["best"]["max_error_lsb"] < 1.0
    assert doc["best"]["unclipped_max_error_lsb"] > 126
    assert doc["floor_max_error_lsb"] <= 0.5
    assert "--saturation allowed" in doc["build_command"]
    text = run("fit", "silu", "--in-format", "s8.4", "--out-format", "s8.5", "--max-error", "1lsb",
               "--saturation", "allowed")
    assert "against the reference itself: max 126.9" in text.output
    counted = run("fit", "silu", "--in-format", "s8.4", "--out-format", "s8.5", "--max-error",
                  "1lsb")
    assert counted.exit_code == 1
    assert "floor of the output format is 126.9" in counted.output


def test_fit_api_and_the_build_line_rebuild_the_same_table():
    result = fit("silu", **SILU, max_error="1lsb", saturation="allowed")
    assert result.met
    table = result.best.table
    assert table.spec.saturation is Saturation.ALLOWED
    again = TableSpec.from_dict(json.loads(json.dumps(table.spec.to_dict())))
    assert again == table.spec
    assert "--saturation" in regenerate_args(table.spec)
    assert "allowed" in regenerate_args(table.spec)


def test_summary_shows_the_unclipped_figure():
    result = run("analyze", "silu", "--in-format", "s8.4", "--out-format", "s8.5", "--saturation",
                 "allowed")
    assert result.exit_code == 0
    assert ("saturation allowed: errors against the reference clipped to [-4, 3.96875]; against "
            "the reference itself: max 126.9094 LSB") in result.output


def test_bad_saturation_value():
    result = run("analyze", "silu", "--saturation", "sometimes")
    assert result.exit_code == 2
    assert "'sometimes' is not one of 'counted', 'allowed'" in result.output


def test_project_key(tmp_path):
    project = tmp_path / "p.toml"
    project.write_text('[defaults]\nin_format = "s8.4"\n[[tables]]\nactivation = "silu"\n'
                       'out_format = "s8.5"\nmax_error = "1lsb"\nsaturation = "allowed"\n')
    out = tmp_path / "out"
    result = run("batch", project, "-o", out)
    assert result.exit_code == 0, result.output
    report = (out / "report.md").read_text()
    assert "- silu: max 126.9094 LSB" in report
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tables"][0]["spec"]["saturation"] == "allowed"
    assert manifest["tables"][0]["report"]["unclipped_floor_max_error_lsb"] > 126
    assert run("verify", out).exit_code == 0
    project.write_text('[[tables]]\nactivation = "silu"\nsaturation = "maybe"\n')
    bad = run("batch", project, "-o", tmp_path / "bad")
    assert bad.exit_code == 2
    assert bad.output.startswith("Error: tables[0].saturation: ")
    assert "allowed: counted, allowed" in bad.output
