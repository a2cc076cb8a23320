"""The pipelined Verilog module: every ``pipeline`` setting, one multiplier, Fmax.

Each setting of a few tables (linear folded sigmoid, GELU with asymptote line
tails, nearest, none; affine ones folded about their input zero point, with
non-dyadic line tails) is simulated against ``Table.eval_int`` for every input
in Icarus (the testbench checks the latency too) and linted by Verilator
-Wall. Yosys must map the linear modules' multiply to exactly one SB_MAC16
(``synth_ice40 -dsp``) and one DSP48E1 (``synth_xilinx``). nextpnr-ice40
places and routes the fitted 16-bit sigmoid, tanh and GELU units (hw_out's
fpga_16bit specs) at the deepest setting and must reach the issue's targets.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from lutgen.cli import cli
from lutgen.export import render
from lutgen.export.verilog import LATENCY, cut_order, deepest, latency
from lutgen.spec import make_spec, regenerate_args
from lutgen.table import compile_table
from tests.conftest import require_tool
from tests.test_export_hdl import CASES, _write, run_testbench, simulate, simulate_fail

PIPE_CASES = {
    "sigmoid_s8_linear_fold": dict(name="sigmoid", in_format="s8.4", interp="linear", fold=True,
                                   entries=8, tails="asymptote", range=(-4, 4), guard_bits=2),
    "gelu_s16_linear_asym": CASES["gelu_s16_linear_asym"],
    "tanh_u8_nearest_asym": CASES["tanh_u8_nearest_asym"],
    "tanh_s8_none_fold": CASES["tanh_s8_none_fold"],
    # affine formats: the fold about the input zero point Z (u = x < Z ? 2Z - x : x; unsigned
    # and signed inputs, odd, point-symmetric with an output zero point, even) and line tails
    # of non-dyadic code-space slopes, at every register cut
    "tanh_uint8_affine_fold_zp_asym": CASES["tanh_uint8_affine_fold_zp_asym"],
    "sigmoid_int8_affine_fold_zp": CASES["sigmoid_int8_affine_fold_zp"],
    "cosine_int8_affine_fold_even_zp": CASES["cosine_int8_affine_fold_even_zp"],
    "gelu_int8_affine_linear_asym": CASES["gelu_int8_affine_linear_asym"],
    # even_line folds: the line term x/2 rides the pipeline from stage 1 to step 5
    "silu_s8_linear_fold_line_asym": CASES["silu_s8_linear_fold_line_asym"],
    "eswish_s8_none_fold_line_lm3": CASES["eswish_s8_none_fold_line_lm3"],
    "silu_int8_affine_fold_line_zp": CASES["silu_int8_affine_fold_line_zp"],
}

# the fitted 16-bit units of hw_out/fpga_16bit (their regenerate lines)
FITTED = {
    "sigmoid": dict(name="sigmoid", in_format="s16.12", out_format="s16.14",
                    range=(-7.832275390625, 7.832275390625), entries=128, interp="linear",
                    tails="clamp", fold=True, coeffs="minimax", guard_bits=2),
    "tanh": dict(name="tanh", in_format="s16.12", out_format="s16.14",
                 range=(-4.99609375, 4.99609375), entries=512, interp="linear", tails="clamp",
                 fold=True, coeffs="minimax", guard_bits=1),
    "gelu": dict(name="gelu", in_format="s16.12", out_format="s16.12",
                 range=(-3.921142578125, 3.92138671875), entries=256, interp="linear",
                 tails="auto", coeffs="minimax", guard_bits=1),
}
UP5K_MHZ, HX8K_MHZ = 50.0, 80.0


def _report_module():
    path = Path(__file__).parent.parent / "scripts" / "fpga_report.py"
    spec = importlib.util.spec_from_file_location("fpga_report", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _table(args: dict, pipeline):
    args = dict(args)
    return compile_table(args.pop("name"), pipeline=pipeline, **args)


def _settings():
    out = []
    for case, args in PIPE_CASES.items():
        table = _table(args, 2)
        out += [pytest.param(case, p, id=f"{case}-{p}") for p in range(2, deepest(table) + 1)]
    return out


@pytest.mark.parametrize(("case", "pipeline"), _settings())
def test_every_pipeline_setting_is_bit_exact_and_lint_clean(tmp_path, case, pipeline):
    table = _table(PIPE_CASES[case], pipeline)
    assert latency(table) == pipeline
    arts = _write(tmp_path, table, "t")
    assert f"localparam LATENCY = {pipeline};" in arts["tb_lutgen_t.v"]
    # one register stage per cycle of latency: the valid bits and the cuts' banners
    text = arts["lutgen_t.v"]
    assert len(re.findall(r"// ---- register cut '", text)) == pipeline - 1
    n = 1 << table.in_format.bits
    assert simulate(tmp_path).strip().splitlines()[-1] == f"PASS {n} vectors"
    out = subprocess.run([require_tool("verilator"), "--lint-only", "-Wall", "lutgen_t.v"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == "", out.stderr


def test_max_is_the_deepest_setting_and_deeper_settings_clamp():
    args = PIPE_CASES["sigmoid_s8_linear_fold"]
    deep = deepest(_table(args, 2))
    assert deep == LATENCY + len(cut_order(_table(args, 2))) == 9
    texts = {}
    for p in ("max", deep, 16):
        table = _table(args, p)
        assert latency(table) == deep
        texts[p] = [a.text for a in render(table, None, "verilog", "t")][0]
    # the same module, but for the provenance lines naming the setting
    body = {p: t.split("module lutgen_t")[1] for p, t in texts.items()}
    assert body["max"] == body[deep] == body[16]
    assert "nearest" not in cut_order(_table(PIPE_CASES["tanh_s8_none_fold"], 2))
    assert deepest(_table(PIPE_CASES["tanh_s8_none_fold"], 2)) == 6


def test_pipeline_does_not_change_the_tables_integers():
    args = PIPE_CASES["gelu_s16_linear_asym"]
    a, b = _table(args, 2), _table(args, "max")
    assert a.values.tolist() == b.values.tolist() and a.acc_bits == b.acc_bits
    codes = a.in_format.codes()
    assert a.eval_int(codes).tolist() == b.eval_int(codes).tolist()


def test_a_testbench_for_another_latency_fails(tmp_path):
    # the testbench checks when out_valid rises, not only the values and their count
    args = PIPE_CASES["sigmoid_s8_linear_fold"]
    _write(tmp_path, _table(args, 2), "t", "mem,verilog")
    _write(tmp_path, _table(args, 3), "t", "tb")
    stdout = simulate_fail(tmp_path)
    assert "FAIL out_valid does not follow in_valid by LATENCY cycles" in stdout


def test_pipeline_option_through_cli_spec_and_regenerate_line(tmp_path):
    spec = make_spec("tanh", pipeline="max")
    assert spec.pipeline == "max" and spec.to_dict()["pipeline"] == "max"
    assert "--pipeline max" in " ".join(regenerate_args(spec))
    assert "--pipeline" not in " ".join(regenerate_args(make_spec("tanh")))
    assert make_spec("tanh", pipeline="5").pipeline == 5
    result = CliRunner().invoke(cli, ["build", "tanh", "--in-format", "s8.4", "--pipeline", "1",
                                      "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output == "Error: pipeline must be an integer 2..16 or 'max', got 1\n"
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(cli, ["build", "tanh", "--in-format", "s8.4", "--entries", "16",
                                      "--pipeline", "max", "--emit", "verilog", "-o",
                                      str(tmp_path / "ok")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "ok" / "lutgen_tanh.v").read_text()
    assert "--pipeline max --name tanh" in text
    assert "reg [7:0] valid_q;" in text  # latency 9: 8 valid bits, then out_valid


# ---- one multiplier -------------------------------------------------------------------------
def _ice40_stat(folder: Path, top: str) -> dict[str, int]:
    out = subprocess.run([require_tool("yosys"), "-q", "-p",
                          f"read_verilog lutgen_{top}.v; synth_ice40 -dsp -top lutgen_{top}; "
                          "tee -q -o ice40.txt stat"], cwd=folder, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    text = (folder / "ice40.txt").read_text()
    return {m[1]: int(m[2]) for m in re.finditer(r"^\s+(\S+)\s+(\d+)\s*$", text, re.M)}


# what 'lutgen fit gelu --in-format s16.12 --out-format s16.12 --max-error 1lsb' chooses with the
# even_line fold: h = gelu - x/2 stored (1806 bits instead of 4369), x/2 added in step 5
FOLDED_GELU = dict(name="gelu", in_format="s16.12", out_format="s16.12",
                   range=(-3.83154296875, 3.83154296875), entries=128, interp="linear",
                   tails="auto", fold=True, coeffs="faithful", guard_bits=1)


@pytest.mark.parametrize("pipeline", [2, "max"])
@pytest.mark.parametrize("case", ["gelu_s16_linear_asym", "fitted_sigmoid", "fitted_tanh",
                                  "fitted_gelu", "folded_gelu"])
def test_one_dsp_block_per_multiply(tmp_path, case, pipeline):
    # 16-bit units (an 8-bit table's few-bit product is left in LUTs by Yosys)
    args = FITTED[case[7:]] if case.startswith("fitted_") else PIPE_CASES.get(case, FOLDED_GELU)
    table = _table(args, pipeline)
    _write(tmp_path, table, "t", "mem,verilog")
    assert _ice40_stat(tmp_path, "t").get("SB_MAC16", 0) == 1
    assert _report_module().xc7(tmp_path / "lutgen_t.v")["dsps"] == 1


# ---- Fmax: the targets --------------------------------------------------------------
def test_fitted_16_bit_units_meet_the_fmax_targets(tmp_path):
    require_tool("nextpnr-ice40")
    report = _report_module()
    for name, args in FITTED.items():
        table = _table(args, "max")
        _write(tmp_path / name, table, name, "mem,verilog")
        result = report.ice40(tmp_path / name / f"lutgen_{name}.v", ("up5k", "hx8k"))
        up5k, hx8k = result["up5k"], result["hx8k"]
        print(name, {d: r["fmax_mhz"] for d, r in result.items()})
        assert up5k["dsps"] == 1 and hx8k["dsps"] == 0  # the hx8k has no DSP blocks
        assert up5k["fmax_mhz"] >= UP5K_MHZ, (name, up5k["fmax_mhz"])
        assert hx8k["fmax_mhz"] >= HX8K_MHZ, (name, hx8k["fmax_mhz"])


def test_the_fitted_deepest_units_are_bit_exact(tmp_path):
    table = _table(FITTED["sigmoid"], "max")
    _write(tmp_path, table, "t")
    out = run_testbench(tmp_path)
    assert out.returncode == 0 and out.stdout.strip().splitlines()[-1] == "PASS 65536 vectors"


@pytest.mark.parametrize("pipeline", [2, 5, "max"])
def test_the_folded_gelu_is_bit_exact_on_every_input(tmp_path, pipeline):
    table = _table(FOLDED_GELU, pipeline)
    assert (table.fold.value, table.rom_bits) == ("even_line", 1806)
    _write(tmp_path, table, "t")
    out = run_testbench(tmp_path)
    assert out.returncode == 0 and out.stdout.strip().splitlines()[-1] == "PASS 65536 vectors"


def test_a_fitted_project_entry_keeps_its_pipeline():
    # batch passes pipeline around the budget search (it never changes the integers)
    from lutgen.batch import compile_entry

    entry = {"activation": "tanh", "in_format": "s8.4", "max_error": "1lsb", "pipeline": "max"}
    table, fitted = compile_entry(0, entry)
    plain, _ = compile_entry(0, {k: v for k, v in entry.items() if k != "pipeline"})
    assert fitted and table.spec.pipeline == "max" and plain.spec.pipeline == 2
    assert table.values.tolist() == plain.values.tolist()
    assert "--pipeline max" in [a.text for a in render(table, None, "verilog", "t")][0]


def test_the_shipped_fitted_units_meet_the_fmax_targets(tmp_path):
    """What `lutgen fit` picks today (hierarchical; GELU with its even_line fold), as shipped
    in hw_out/fpga_16bit: one multiplier, >= 50 MHz up5k and >= 80 MHz hx8k at pipeline max."""
    import json

    import lutgen

    require_tool("nextpnr-ice40")
    report = _report_module()
    shipped = Path(__file__).resolve().parent.parent / "hw_out" / "fpga_16bit"
    for name in ("sigmoid", "tanh", "gelu"):
        spec = json.loads((shipped / f"{name}.json").read_text())["table"]["spec"]
        table = lutgen.build(lutgen.TableSpec.from_dict(spec).replace(pipeline="max"))
        assert table.regions is not None  # the fit's choice since the hierarchical layouts
        _write(tmp_path / name, table, name, "mem,verilog")
        result = report.ice40(tmp_path / name / f"lutgen_{name}.v", ("up5k", "hx8k"))
        up5k, hx8k = result["up5k"], result["hx8k"]
        print(name, table.rom_bits, {d: r["fmax_mhz"] for d, r in result.items()})
        assert up5k["dsps"] == 1 and hx8k["dsps"] == 0
        assert up5k["fmax_mhz"] >= UP5K_MHZ, (name, up5k["fmax_mhz"])
        assert hx8k["fmax_mhz"] >= HX8K_MHZ, (name, hx8k["fmax_mhz"])
