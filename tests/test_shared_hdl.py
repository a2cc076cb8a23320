"""The Verilog of a sigmoid over a tanh table's knots: one module, both functions, one ROM set.

``lutgen_<sigmoid>.v`` computes y = sigmoid(x) and tanh_y = tanh(tanh_x) in two pipelines
reading the tanh's two knot banks. Icarus runs the generated testbench (both functions fed
every input code at once, each in its own stream; expected codes from ``Table.eval_int``,
which tests/test_shared.py checks against tests/naive.py), Verilator lints the module,
Yosys counts its memories and read ports and, on a true dual-port block RAM (xc7), the
block RAMs: the pair's are the tanh's alone.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import lutgen
from lutgen.cli import cli
from lutgen.errors import ExportError
from lutgen.export import export
from lutgen.shared import sigmoid_from_tanh

from .conftest import require_tool
from .test_export_hdl import _run, run_testbench, simulate, simulate_fail
from .test_shared import SMALL

SHIPPED = Path(__file__).resolve().parent.parent / "hw_out" / "fpga_sigmoid_tanh16"


def _pair(folder: Path, case: str, **options):
    """The tanh of ``case`` and the sigmoid over its knots, the pair's files in ``folder``."""
    th = lutgen.compile_table("tanh", fold=True, tails="clamp", **{**SMALL[case], **options})
    sig = sigmoid_from_tanh(th, name="th")
    written = export(sig, None, "verilog,tb", folder, name="sig")
    return th, sig, sorted(p.name for p in written)


@pytest.mark.parametrize("pipeline", [2, "max"])
@pytest.mark.parametrize("case", list(SMALL))
def test_both_functions_match_the_model_on_every_input(tmp_path, case, pipeline):
    th, sig, files = _pair(tmp_path, case, pipeline=pipeline)
    # the module reads the tanh's banks: the sigmoid's export brings those files, no others
    assert files == ["lutgen_sig.v", "sig_vectors.mem", "tb_lutgen_sig.v", "th_even.mem",
                     "th_odd.mem"]
    n = th.in_format.n_codes
    lines = (tmp_path / "sig_vectors.mem").read_text().splitlines()
    assert len(lines) == n and all(re.fullmatch(r"[0-9a-f]+ [0-9a-f]+ [0-9a-f]+", x)
                                   for x in lines)
    assert f"PASS {n} vectors" in simulate(tmp_path, "sig")


def test_lanes_of_both_functions_read_one_rom_set(tmp_path):
    _pair(tmp_path, "counted-s10.6", pipeline="max")
    out = run_testbench(tmp_path, "sig", params=[("LANES", 2), ("TANH_LANES", 3)])
    assert out.returncode == 0 and "PASS 1024 vectors" in out.stdout, out.stdout[-2000:]


@pytest.mark.parametrize("case", list(SMALL))
def test_verilator_lint_is_clean(tmp_path, case):
    verilator = require_tool("verilator")
    _pair(tmp_path, case, pipeline="max")
    out = _run([verilator, "--lint-only", "-Wall", "lutgen_sig.v"], tmp_path)
    assert out.returncode == 0 and out.stderr == "", out.stderr


@pytest.mark.parametrize("past,fails", [(False, ["mismatch", "tanh_mismatch"]),
                                        (True, ["tanh_mismatch"])])
def test_a_changed_knot_fails_the_functions_that_read_it(tmp_path, past, fails):
    """A knot both functions read fails both; one past the sigmoid's knots only the tanh:
    each side is checked against its own expected codes."""
    th, sig, _ = _pair(tmp_path, "equal-s12.8")
    knot = sig.values.size + 2 if past else 2
    assert knot < th.values.size - 1
    bank = tmp_path / ("th_even.mem" if knot % 2 == 0 else "th_odd.mem")
    rows = bank.read_text().splitlines()
    rows[knot // 2] = format(int(rows[knot // 2], 16) ^ 1 << (th.store_bits - 1), "x")
    bank.write_text("\n".join(rows) + "\n")
    out = simulate_fail(tmp_path, name="sig")
    for side in ("mismatch", "tanh_mismatch"):
        assert (re.search(rf"^{side} ", out, re.M) is not None) == (side in fails), out


def test_yosys_sees_two_memories_each_read_by_both_functions(tmp_path):
    yosys = require_tool("yosys")
    th, _, _ = _pair(tmp_path, "equal-s12.8")
    even, odd = (len(th.values) + 1) // 2, len(th.values) // 2
    script = ("read_verilog lutgen_sig.v; synth -top lutgen_sig -run begin:fine; "
              "select -assert-count 2 t:$mem_v2; "
              "select -assert-count 2 t:$mem_v2 r:RD_PORTS=2 %i; "
              f"select -assert-count 1 t:$mem_v2 r:SIZE={even} %i; "
              f"select -assert-count 1 t:$mem_v2 r:SIZE={odd} %i")
    out = _run([yosys, "-q", "-p", script], tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr


def _xc7_cells(folder: Path, top: str) -> dict[str, int]:
    yosys = require_tool("yosys")
    out = _run([yosys, "-q", "-p", f"read_verilog {top}.v; synth_xilinx -top {top}; "
                "tee -q -o stat.txt stat"], folder, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    text = (folder / "stat.txt").read_text()
    return {m[1]: int(m[2]) for m in re.finditer(r"^\s+(\w+)\s+(\d+)$", text, re.M)}


def test_the_shipped_pair_computes_both_functions_on_every_input(tmp_path):
    folder = tmp_path / "pair"
    shutil.copytree(SHIPPED, folder)
    assert "PASS 65536 vectors" in simulate(folder, "sigmoid16")
    # one true dual-port block RAM per bank serves both functions: the pair takes the
    # tanh's block RAMs and one more multiplier
    pair, alone = _xc7_cells(folder, "lutgen_sigmoid16"), _xc7_cells(folder, "lutgen_tanh16")
    assert pair["RAMB18E1"] == alone["RAMB18E1"] == 2
    assert pair["DSP48E1"] == 2 * alone["DSP48E1"] == 2


def test_a_tanh_of_one_code_segments_has_no_shared_module(tmp_path):
    th = lutgen.compile_table("tanh", in_format="s8.4", out_format="s8.6", range=(-4, 4),
                              entries=64, fold=True, tails="clamp")
    assert th.shift == 0
    sig = sigmoid_from_tanh(th, name="th8")
    with pytest.raises(ExportError, match="the tanh table 'th8' stores one knot per input code"):
        export(sig, None, "c,verilog", tmp_path)
    assert list(tmp_path.iterdir()) == []
    export(sig, None, "c,hls", tmp_path)  # the headers read its array as they are
    # in a project: one Error line naming the key and the tanh's entry, nothing written
    path = tmp_path / "p.toml"
    path.write_text("""
emit = ["c", "verilog"]
[defaults]
in_format = "s8.4"
out_format = "s8.6"
[[tables]]
activation = "tanh"
name = "th8"
fold = true
range = [-4, 4]
entries = 64
tails = "clamp"
[[tables]]
activation = "sigmoid"
name = "sig"
knots_from = "th8"
""")
    result = CliRunner().invoke(cli, ["batch", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output == ("Error: tables[1].knots_from: --emit verilog: the tanh table 'th8' "
                             "stores one knot per input code (no even/odd banks), the sigmoid "
                             "over its knots reads two per cycle; emit c, hls, json, or build the "
                             "tanh with fewer entries\n")
    assert not (tmp_path / "out").exists()


def test_build_from_the_saved_json_writes_the_shipped_pair(tmp_path):
    result = CliRunner().invoke(cli, ["build", "--from", str(SHIPPED / "sigmoid16.json"),
                                      "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["lutgen_sigmoid16.v", "nnet_lutgen_sigmoid16.h", "sigmoid16.json",
                       "sigmoid16_vectors.mem", "tanh16_even.mem", "tanh16_odd.mem",
                       "tb_lutgen_sigmoid16.v"]
    for name in written:  # the module brings the tanh's banks: the very files the tanh wrote
        assert (tmp_path / name).read_text() == (SHIPPED / name).read_text(), name


def test_a_project_measures_the_pair_module(tmp_path):
    """report_resources: the pair's module holds both datapaths (two multipliers) and its
    ports do not fit the up5k's package: it is placed on the hx8k, and report.md says so."""
    require_tool("nextpnr-ice40")
    path = tmp_path / "pair.toml"
    path.write_text("""
name = "pair"
emit = ["verilog", "json"]
report_resources = true
[defaults]
in_format = "s10.6"
out_format = "s10.8"
[[tables]]
activation = "tanh"
name = "th"
fold = true
range = [-3, 3]
regions = "2x16,3x8,4x5"
tails = "clamp"
[[tables]]
activation = "sigmoid"
name = "sig"
knots_from = "th"
""")
    result = CliRunner().invoke(cli, ["batch", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    report = (tmp_path / "out" / "report.md").read_text()
    rows = {tuple(c.strip() for c in line.split("|")[1:4]): line.split("|")
            for line in report.split("## Resources")[1].splitlines()
            if line.startswith(("| th |", "| sig |"))}
    assert set(rows) == {("th", "ice40 up5k", "`synth_ice40 -dsp`"),
                         ("th", "xc7", "`synth_xilinx`"), ("sig", "ice40 hx8k", "`synth_ice40`"),
                         ("sig", "xc7", "`synth_xilinx`")}
    dsp = {key: int(cells[7]) for key, cells in rows.items()}
    assert dsp[("sig", "xc7", "`synth_xilinx`")] == 2 * dsp[("th", "xc7", "`synth_xilinx`")] == 2
    assert "`lutgen_sig.v` computes sig and th" in report
