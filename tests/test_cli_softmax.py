"""`lutgen build|eval|analyze softmax`: the composite on the command line."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from lutgen.cli import cli
from lutgen.softmax import softmax

from .conftest import require_tool

FORMATS = ["--n", "4", "--in-format", "s8.4", "--out-format", "u9.8"]


def run(*args):
    return CliRunner().invoke(cli, list(args), prog_name="lutgen")


@pytest.fixture(scope="module")
def logits(tmp_path_factory):
    path = tmp_path_factory.mktemp("v") / "logits.npy"
    x = np.random.default_rng(5).normal(0, 2, (50, 4))
    x[0] = [1.0, 1.0, 1.0, 1.0]
    np.save(path, x)
    return path, x


def test_eval_prints_the_codes_of_every_vector(logits):
    path, x = logits
    result = run("eval", "softmax", *FORMATS, "--vectors", str(path), "--json")
    assert result.exit_code == 0, result.output
    codes = json.loads(result.output)
    sm = softmax(4, "s8.4", "u9.8")
    assert codes == sm.eval_int(sm.quantize(x)).tolist()
    assert codes[0] == [64, 64, 64, 64]  # four equal logits: 0.25 = 64 / 256


def test_analyze_carries_rom_bits(logits):
    path, _ = logits
    result = run("analyze", "softmax", *FORMATS, "--dist", "normal:0,3", "--count", "500",
                 "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    sm = softmax(4, "s8.4", "u9.8")
    assert doc["rom_bits"] == sm.rom_bits == doc["exp_rom_bits"] + doc["recip_rom_bits"]
    assert [c["source"] for c in doc["cases"]] == ["normal:0,3"]
    assert doc["cases"][0]["count"] == 500 and doc["cases"][0]["strict_reorderings"] == 0
    given = json.loads(run("analyze", "softmax", *FORMATS, "--vectors", str(path),
                           "--json").output)
    assert [c["source"] for c in given["cases"]] == ["vectors"] and given["seed"] is None
    text = run("analyze", "softmax", *FORMATS, "--count", "100").output
    assert f"- rom_bits: {sm.rom_bits}" in text and text.count("| normal:0,") == 3


def test_build_writes_json_and_c(tmp_path):
    result = run("build", "softmax", *FORMATS, "-o", str(tmp_path), "--emit", "c")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "softmax.h", "softmax.json", "softmax_exp.h", "softmax_recip.h"]
    doc = json.loads((tmp_path / "softmax.json").read_text())
    assert doc["softmax"]["n"] == 4 and doc["emit"] == ["c", "json"]
    assert doc["command"].startswith("lutgen build softmax --n 4 --in-format 's8.4'")


def test_build_writes_the_verilog_and_its_testbench(tmp_path):
    result = run("build", "softmax", *FORMATS, "-o", str(tmp_path), "--emit", "tb")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([
        "softmax.json", "lutgen_softmax.v", "lutgen_softmax_exp.v", "lutgen_softmax_recip.v",
        "tb_lutgen_softmax.v", "softmax_vectors.mem",
        "softmax_exp.mem", "softmax_exp.bin", "softmax_exp_rom.txt",  # exp: interp none
        *[f"softmax_recip{s}" for s in (".mem", ".bin", "_rom.txt", "_even.mem", "_odd.mem")]])
    doc = json.loads((tmp_path / "softmax.json").read_text())
    assert doc["emit"] == ["tb", "verilog", "json"]
    text = (tmp_path / "lutgen_softmax.v").read_text()
    assert "--name softmax --emit verilog" in text and "localparam N = 4;" in text
    assert "--pipeline" not in text and "localparam LATENCY = 12;" in text  # 2*2 + 2 + 2 + 4
    # a complete set: the testbench runs in the folder as written
    iverilog, vvp = require_tool("iverilog"), require_tool("vvp")
    sources = ["tb_lutgen_softmax.v", "lutgen_softmax.v", "lutgen_softmax_exp.v",
               "lutgen_softmax_recip.v"]
    proc = subprocess.run([iverilog, "-g2005", "-o", "tb.vvp", *sources], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([vvp, "-n", "tb.vvp"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("PASS 1205 vectors")


def test_build_pipeline_deepens_both_tables_and_is_in_the_regenerate_line(tmp_path):
    result = run("build", "softmax", *FORMATS, "-o", str(tmp_path), "--emit", "verilog",
                 "--pipeline", "4")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "lutgen_softmax.v").read_text()
    assert "--pipeline 4 --name softmax --emit verilog" in text
    assert "localparam LATENCY = 16;" in text  # 2*2 + 4 + 4 + 4
    for table in ("exp", "recip"):
        assert "Latency: 4 cycles (pipeline = 4;" in (
            tmp_path / f"lutgen_softmax_{table}.v").read_text()
    doc = json.loads((tmp_path / "softmax.json").read_text())
    assert "--pipeline 4 " in doc["command"]


def test_build_writes_the_hls_headers(tmp_path):
    result = run("build", "softmax", *FORMATS, "-o", str(tmp_path), "--emit", "hls",
                 "--name", "sm-10")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "nnet_lutgen_sm_10.h", "nnet_lutgen_sm_10_exp.h", "nnet_lutgen_sm_10_recip.h",
        "sm_10.json"]
    text = (tmp_path / "nnet_lutgen_sm_10.h").read_text()
    assert ("void lutgen_sm_10(data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in])"
            in text)
    assert "--name sm_10 --emit hls" in text


def test_softmax_is_no_longer_refused_but_routed():
    result = run("build", "softmax", "--help")
    assert result.exit_code == 0 and "lutgen build softmax --n 10" in result.output
    for command in ("eval", "analyze"):
        out = run(command, "softmax", "--help").output
        assert f"{command} softmax [OPTIONS]" in out and "Example:" in out


@pytest.mark.parametrize("args, message", [
    (["build", "softmax"], "Error: Missing option '--n'. (see 'lutgen build softmax --help')"),
    (["build", "softmax", "--n", "0"], "Error: softmax length n must be an integer 1..65536, got 0"),
    (["build", "softmax", "--n", "3", "--emit", "c,coe"],
     "Error: unknown --emit kind 'coe' for softmax; allowed: c, verilog, tb, hls, json"),
    (["build", "softmax", "--n", "3", "--pipeline", "1"],
     "Error: pipeline must be an integer 2..16 or 'max', got 1"),
    (["eval", "softmax", "--n", "3", "--vectors", "/nonexistent/x.npy"],
     "Error: cannot read --vectors '/nonexistent/x.npy': No such file or directory"),
    (["analyze", "softmax", "--n", "3", "--in-format", "int8(0.1,0)"],
     "Error: softmax needs a power-of-two input format, not the affine int8(0.1,0)"),
    (["analyze", "softmax", "--n", "3", "--in-format", "s8.4", "--dist", "normal:0"],
     "Error: cannot read logit distribution 'normal:0'; write normal:MU,SIGMA with SIGMA > 0, "
     "e.g. normal:0,3"),
    (["analyze", "softmax", "--n", "3", "--in-format", "s8.4", "--count", "0"],
     "Error: count must be an integer 1..10000000, got 0"),
])
def test_mistakes_are_one_error_line(args, message, tmp_path):
    result = CliRunner().invoke(cli, args + ["-o", str(tmp_path / "out")] if args[0] == "build"
                                else args, prog_name="lutgen")
    assert result.exit_code == 2
    assert result.output == message + "\n"
    assert not (tmp_path / "out").exists()


def test_wrong_vector_shape_is_one_error_line(logits):
    path, _ = logits
    result = run("eval", "softmax", "--n", "3", "--vectors", str(path))
    assert result.exit_code == 2
    assert result.output == ("Error: logit vectors must have shape (count, 3) with count >= 1, "
                             "got (50, 4)\n")
