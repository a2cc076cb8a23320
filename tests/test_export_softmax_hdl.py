"""The softmax Verilog module: Icarus against the kernel on stored vectors, Verilator, Yosys."""

from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lutgen.export.softmax_testbench import default_vectors
from lutgen.export.softmax_testbench import render as render_tb
from lutgen.export.softmax_verilog import render, softmax_latency
from lutgen.softmax import softmax

from .conftest import require_tool
from .test_softmax import CASES as KERNEL_CASES
from .test_softmax import compiled

# name -> (n, in_format, out_format, random vectors per sigma[, the tables' pipeline])
CASES = {
    "n10_ap16_pipeline_max": (10, "ap_fixed<16,6>", None, 100, "max"),
    "n3_ap8_pipeline_5": (3, "ap_fixed<8,4>", None, 100, 5),
    "issue_n10_ap16": (10, "ap_fixed<16,6>", "ap_fixed<16,6>", 1000),
    "n4_ap8": (4, "ap_fixed<8,4>", "ap_fixed<8,4>", 400),
    "n1_ap16": (1, "ap_fixed<16,6>", None, 100),
    "n2_ap16": (2, "ap_fixed<16,6>", None, 400),
    "n1_ap8": (1, "ap_fixed<8,4>", None, 100),
    "n2_ap8": (2, "ap_fixed<8,4>", None, 400),
}
# the kernel tests' designs too: unsigned inputs, wider outputs, nearest and none tables
ALL = sorted(CASES) + sorted(f"kernel_{k}" for k in KERNEL_CASES)
FILES = ["lutgen_sm.v", "lutgen_sm_exp.v", "lutgen_sm_recip.v"]


@functools.lru_cache(maxsize=None)
def _design(case: str):
    if case.startswith("kernel_"):
        return compiled(case[7:]), 150
    n, fin, fout, count, *pipeline = CASES[case]
    return softmax(n, fin, fout, pipeline=pipeline[0] if pipeline else None), count


def _write(folder: Path, case: str) -> np.ndarray:
    sm, count = _design(case)
    folder.mkdir(parents=True, exist_ok=True)
    codes = default_vectors(sm, count)
    for art in render(sm, "sm") + render_tb(sm, "sm", codes):
        (folder / art.filename).write_text(art.text)
    return codes


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    cache = {}

    def get(case):
        if case not in cache:
            folder = tmp_path_factory.mktemp(case)
            cache[case] = _write(folder, case), folder
        return cache[case]

    return get


def _run(args, cwd, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def run_tb(folder: Path, cwd: Path | None = None, params=()) -> subprocess.CompletedProcess:
    iverilog, vvp = require_tool("iverilog"), require_tool("vvp")
    args = [iverilog, "-g2005", "-o", str(folder / "tb.vvp")]
    args += [f"-Ptb_lutgen_sm.{p}={v}" for p, v in params]
    args += [str(folder / f) for f in ["tb_lutgen_sm.v", *FILES]]
    out = _run(args, folder)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    return _run([vvp, "-n", str(folder / "tb.vvp")], cwd or folder)


def simulate_fail(folder: Path, **kwargs) -> str:
    out = run_tb(folder, **kwargs)
    assert out.returncode != 0, out.stdout[-2000:]
    assert "PASS" not in out.stdout, out.stdout[-2000:]
    assert "FATAL: " in out.stdout, out.stdout[-2000:]  # $fatal, not $finish
    return out.stdout.split("FATAL: ")[0]


def _read_vectors(folder: Path, sm) -> tuple[np.ndarray, np.ndarray]:
    """The vector file parsed here: (input codes, expected codes), two's complement."""
    def signed(word: str, fmt) -> int:
        v = int(word, 16)
        return v - (1 << fmt.bits) if fmt.signed and v >> (fmt.bits - 1) else v

    xs, ys = [], []
    for line in (folder / "sm_vectors.mem").read_text().splitlines():
        words = line.split()
        assert len(words) == 2 * sm.n and all(re.fullmatch(r"[0-9a-f]+", w) for w in words)
        xs.append([signed(w, sm.in_format) for w in words[: sm.n]])
        ys.append([signed(w, sm.out_format) for w in words[sm.n:]])
    return np.array(xs, dtype=np.int64), np.array(ys, dtype=np.int64)


# ---- bit-exact in Icarus ---------------------------------------------------------------
@pytest.mark.parametrize("case", ALL)
def test_module_matches_the_kernel_in_iverilog(built, case):
    codes, folder = built(case)
    sm, count = _design(case)
    xs, ys = _read_vectors(folder, sm)
    assert np.array_equal(xs, codes) and len(xs) == 3 * count + 5
    assert np.array_equal(ys, sm.eval_int(codes))  # the kernel's codes, as stored
    out = run_tb(folder)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr
    assert out.stdout.strip().splitlines()[-1] == f"PASS {len(xs)} vectors", out.stdout[-2000:]


def test_the_vectors_reach_every_leading_one_and_the_saturation():
    """The stored vectors exercise the normalisation's every shift and the saturation."""
    sm, count = _design("issue_n10_ap16")
    codes = default_vectors(sm, count)
    e = sm.exp_table.eval_int(codes.max(axis=1, keepdims=True) - codes)
    k = {int(s).bit_length() - 1 for s in e.sum(axis=1)}
    assert k == set(range(sm.k_min, 18))  # S from EXP(0) = 2^14 up to 10 EXP(0) < 2^18
    assert sm.eval_int(codes).max() == 1 << sm.out_format.frac  # the one-hot corner: 1.0
    # u8.8 holds no 1.0: the one-hot corner saturates to 255
    sm, count = _design("kernel_n3_s6.2_u8.8")
    assert (sm.eval_int(default_vectors(sm, count)) == 255).any()


# 2*4 + 2 + 2 + 4, 2*0 + 2 + 2 + 4; the deepest linear tables: 9 cycles each; 5 cycles each
LATENCIES = {"issue_n10_ap16": 16, "n1_ap8": 8, "n10_ap16_pipeline_max": 8 + 9 + 9 + 4,
             "n3_ap8_pipeline_5": 4 + 5 + 5 + 4}


@pytest.mark.parametrize("case", sorted(LATENCIES))
def test_latency_is_2l_plus_the_tables_plus_4(built, case):
    _, folder = built(case)
    sm, _ = _design(case)
    lat = LATENCIES[case]
    assert softmax_latency(sm) == lat
    text = (folder / "lutgen_sm.v").read_text()
    assert f"localparam LATENCY = {lat};" in text
    assert f"localparam LATENCY = {lat};" in (folder / "tb_lutgen_sm.v").read_text()


# ---- planted faults: the testbench must fail ---------------------------------------------
def test_a_flipped_exp_rom_word_makes_the_testbench_fail(tmp_path):
    _write(tmp_path, "n4_ap8")
    path = tmp_path / "sm_exp_even.mem"
    lines = path.read_text().splitlines()
    lines[0] = f"{int(lines[0], 16) ^ 0x4:0{len(lines[0])}x}"  # knot 0: every exp(0)
    path.write_text("\n".join(lines) + "\n")
    stdout = simulate_fail(tmp_path)
    assert re.search(r"^FAIL \d+ of 1205 vectors$", stdout.strip().splitlines()[-1]), stdout
    assert "mismatch vector" in stdout


def test_a_flipped_recip_rom_word_makes_the_testbench_fail(tmp_path):
    _write(tmp_path, "n4_ap8")
    path = tmp_path / "sm_recip_even.mem"
    lines = path.read_text().splitlines()
    lines = [f"{int(w, 16) ^ 0x10:0{len(w)}x}" for w in lines]
    path.write_text("\n".join(lines) + "\n")
    stdout = simulate_fail(tmp_path)
    assert stdout.strip().splitlines()[-1].startswith("FAIL "), stdout


def test_a_wrong_expected_code_makes_the_testbench_fail(tmp_path):
    _write(tmp_path, "n4_ap8")
    path = tmp_path / "sm_vectors.mem"
    lines = path.read_text().splitlines()
    words = lines[7].split()
    words[-1] = f"{int(words[-1], 16) ^ 1:0{len(words[-1])}x}"
    lines[7] = " ".join(words)
    path.write_text("\n".join(lines) + "\n")
    stdout = simulate_fail(tmp_path)
    assert stdout.strip().splitlines()[-1] == "FAIL 1 of 1205 vectors", stdout
    assert "mismatch vector 7 code 3:" in stdout


@pytest.mark.parametrize("change", ["drop", "add"])
def test_a_vector_file_of_another_length_makes_the_testbench_fail(tmp_path, change):
    _write(tmp_path, "n4_ap8")
    path = tmp_path / "sm_vectors.mem"
    lines = path.read_text().splitlines()
    lines = lines[:-1] if change == "drop" else lines + [lines[0]]
    path.write_text("\n".join(lines) + "\n")
    stdout = simulate_fail(tmp_path)
    expected = ("FAIL vector file missing or short" if change == "drop"
                else "FAIL vector file of the wrong length")
    assert expected in stdout, stdout


def test_missing_files_fail_unless_given_the_paths(tmp_path):
    folder, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    _write(folder, "n2_ap8")
    assert "FAIL vector file missing or short" in simulate_fail(folder, cwd=elsewhere)
    tb = (folder / "tb_lutgen_sm.v").read_text()
    files = re.findall(r'parameter (\w+) = "([^"]+)"', tb)
    assert [p for p, _ in files] == ["VECFILE", "EXP_MEMFILE_EVEN", "EXP_MEMFILE_ODD",
                                     "RECIP_MEMFILE_EVEN", "RECIP_MEMFILE_ODD"]
    only_vec = [("VECFILE", f'"{folder / files[0][1]}"')]
    assert "FAIL memory file missing or short" in simulate_fail(folder, cwd=elsewhere,
                                                                 params=only_vec)
    every = [(p, f'"{folder / f}"') for p, f in files]
    out = run_tb(folder, cwd=elsewhere, params=every)
    assert out.returncode == 0 and out.stdout.strip().splitlines()[-1] == "PASS 1205 vectors"


def test_a_stuck_output_valid_makes_the_testbench_fail(tmp_path):
    _write(tmp_path, "n2_ap8")
    force = tmp_path / "drop_one.v"
    force.write_text("module drop_one; initial begin #1003 force tb_lutgen_sm.dut.out_valid = "
                     "1'b0; #10 release tb_lutgen_sm.dut.out_valid; end endmodule\n")
    iverilog, vvp = require_tool("iverilog"), require_tool("vvp")
    out = _run([iverilog, "-g2005", "-o", "tb.vvp", "-stb_lutgen_sm", "-sdrop_one",
                "tb_lutgen_sm.v", *FILES, "drop_one.v"], tmp_path)
    assert out.returncode == 0, out.stderr
    out = _run([vvp, "-n", "tb.vvp"], tmp_path)
    assert out.returncode != 0
    assert "FAIL out_valid does not follow in_valid by LATENCY cycles" in out.stdout


# ---- lint and synthesis ------------------------------------------------------------------
@pytest.mark.parametrize("case", ALL)
def test_verilator_lint_is_clean(built, case):
    verilator = require_tool("verilator")
    _, folder = built(case)
    text = (folder / "lutgen_sm.v").read_text()
    assert not re.search(r"lint_off|/[/*]\s*verilator", text)  # no waivers
    out = _run([verilator, "--lint-only", "-Wall", "--top-module", "lutgen_sm", *FILES], folder)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == "", out.stderr


def ice40_stat(folder: Path) -> dict[str, int]:
    """Yosys ``synth_ice40 -dsp`` of the softmax: no latch; its cell counts."""
    out = _run([require_tool("yosys"), "-q", "-p",
                f"read_verilog {' '.join(FILES)}; synth_ice40 -dsp -top lutgen_sm; "
                "select -assert-none t:$dlatch t:$_DLATCH_*; tee -q -o ice40.txt stat"],
               folder, timeout=1200)
    assert out.returncode == 0, out.stdout + out.stderr
    text = (folder / "ice40.txt").read_text()
    stats = {m[1]: int(m[2]) for m in re.finditer(r"^\s+(SB_\w+)\s+(\d+)\s*$", text, re.M)}
    stats["cells"] = int(re.search(r"Number of cells:\s+(\d+)", text)[1])
    return stats


def test_yosys_synthesises_it_for_ice40(built):
    # ap_fixed<8,4>, N = 4: the 4 products e_i * r (9 x 9 bits) and the reciprocal's
    # interpolation (a 7-bit segment offset) take one SB_MAC16 each; the exp table's
    # 1-bit offsets are multiplied in LUTs
    _, folder = built("n4_ap8")
    stats = ice40_stat(folder)
    print(stats)
    assert stats["SB_MAC16"] == 5
    assert stats["SB_DFFE"] > 0 and stats["SB_LUT4"] > 0


def test_fpga_report_reads_the_table_modules_beside_the_softmax(built):
    # scripts/fpga_report.py finds lutgen_sm_exp and lutgen_sm_recip by their file names
    import importlib.util

    require_tool("yosys")
    path = Path(__file__).parent.parent / "scripts" / "fpga_report.py"
    spec = importlib.util.spec_from_file_location("fpga_report", path)
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    _, folder = built("n4_ap8")
    xc7 = report.xc7(folder / "lutgen_sm.v")
    print(xc7)
    assert xc7["module"] == "lutgen_sm" and xc7["brams"] == 0
    assert xc7["dsps"] >= 5 and xc7["luts"] > 0  # the 4 products and the reciprocal at least
