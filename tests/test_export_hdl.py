"""FPGA exporters: .mem/.bin, COE, MIF, the Verilog module and its testbench.

The Verilog module is an independent implementation of docs/ARITHMETIC.md; the
testbench compares it, bit for bit and for every 8- and 16-bit input, with the
numba model (``Table.eval_int``) in Icarus Verilog. The module is also linted
by Verilator -Wall and synthesised by Yosys (ROMs inferred as memories with a
synchronous read port, no latches). The ROM files are read back by parsers
written here, not by the exporter's code.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import lutgen
from lutgen.export import render
from lutgen.table import compile_table
from tests.conftest import require_tool

HDL_KINDS = "mem,coe,mif,verilog,tb"

# Each case names what it covers; together: interp none/nearest/linear, tails
# clamp/asymptote (line tails of slope 0, 1 and a non-dyadic 0.01), fold
# no/odd/point/even, 8- and 16-bit inputs, signed and unsigned, guard bits 0 and 3,
# stored words signed and unsigned, of widths not divisible by 4, 1 to 256 entries.
CASES = {
    "sigmoid_s8_linear": dict(name="sigmoid", in_format="s8.4", interp="linear", entries=16,
                              tails="clamp", guard_bits=3),
    "sigmoid_s8_linear_fold_asym": dict(name="sigmoid", in_format="s8.4", interp="linear",
                                        fold=True, tails="asymptote", range=(-4, 4),
                                        guard_bits=0),
    "sigmoid_s16_nearest_clamp": dict(name="sigmoid", in_format="s16.12", interp="nearest",
                                      tails="clamp", range=(-6, 6), guard_bits=0),
    "sigmoid_s8_none_asym_g3": dict(name="sigmoid", in_format="s8.4", interp="none", entries=8,
                                    tails="asymptote", range=(-3, 3), guard_bits=3),
    "tanh_s8_none_fold": dict(name="tanh", in_format="s8.5", interp="none", entries=32,
                              fold=True, tails="clamp", guard_bits=0),
    "tanh_s16_linear_fold_asym": dict(name="tanh", in_format="s16.12", interp="linear",
                                      fold=True, tails="asymptote", range=(-4, 4), guard_bits=3),
    "tanh_u8_nearest_asym": dict(name="tanh", in_format="u8.6", interp="nearest", entries=16,
                                 tails="asymptote", range=(0, 2), guard_bits=3),
    "tanh_s8_linear_2_entries": dict(name="tanh", in_format="s8.4", interp="linear", entries=2,
                                     tails="clamp", range=(-2, 2), guard_bits=0),
    "exp_s8_linear_clamp": dict(name="exp", in_format="s8.4", interp="linear", entries=16,
                                tails="clamp", range=(-4, 2), guard_bits=3),
    "exp_u16_none": dict(name="exp", in_format="u16.12", interp="none", tails="clamp",
                         range=(0, 4), guard_bits=0),
    "reciprocal_u8_linear": dict(name="reciprocal", in_format="u8.4", interp="linear",
                                 entries=16, tails="clamp", range=(1, 8), guard_bits=3),
    "reciprocal_u16_nearest_asym": dict(name="reciprocal", in_format="u16.8", interp="nearest",
                                        tails="asymptote", range=(1, 64), guard_bits=0),
    "linear_s8_linear_asym": dict(name="linear", in_format="s8.4", interp="linear", entries=8,
                                  tails="asymptote", range=(-2, 2), guard_bits=3),
    "linear_u16_none": dict(name="linear", in_format="u16.8", interp="none", tails="clamp",
                            guard_bits=0),
    "sigmoid_s8_one_entry": dict(name="sigmoid", in_format="s8.4", interp="linear", entries=1,
                                 tails="clamp", range=(0, 1), guard_bits=3),
    "relu_s8_linear_asym": dict(name="relu", in_format="s8.4", interp="linear", entries=4,
                                tails="asymptote", range=(-1, 1), guard_bits=3),
    "gelu_s16_linear_asym": dict(name="gelu", in_format="s16.12", interp="linear",
                                 tails="asymptote", range=(-4, 4), guard_bits=3),
    "silu_s8_nearest_asym": dict(name="silu", in_format="s8.4", interp="nearest", entries=16,
                                 tails="asymptote", range=(-4, 4), guard_bits=0),
    "leaky_relu_s8_linear_asym": dict(name="leaky_relu", in_format="s8.4", interp="linear",
                                      entries=4, tails="asymptote", range=(-1, 1), guard_bits=0),
    # even_line folds (h = f - x/2 stored, x/2 added in step 5): banked with G = 0, line
    # tails, nearest, a constant multiplier LM = 3 (eswish), an affine input with a zero point
    "gelu_s16_linear_fold_line": dict(name="gelu", in_format="s16.12", out_format="s16.12",
                                      fold=True, entries=128, guard_bits=0, coeffs="minimax"),
    "silu_s8_linear_fold_line_asym": dict(name="silu", in_format="s8.4", out_format="s8.2",
                                          fold=True, entries=8, tails="asymptote",
                                          range=(-3, 3)),
    "gelu_s8_nearest_fold_line": dict(name="gelu_tanh", in_format="s8.4", out_format="s8.4",
                                      fold=True, interp="nearest", entries=16),
    "eswish_s8_none_fold_line_lm3": dict(name="eswish", in_format="s8.4", out_format="s10.4",
                                         fold=True, interp="none", entries=16,
                                         tails="asymptote", range=(-3, 3)),
    "silu_int8_affine_fold_line_zp": dict(name="silu", in_format="int8(0.0625,-20)",
                                          out_format="int8(0.125,-10)", fold=True, entries=16,
                                          tails="asymptote", range=(-3, 3)),
    "cosine_s8_linear_fold": dict(name="cosine", in_format="s8.5", interp="linear", entries=16,
                                  fold=True, tails="clamp", guard_bits=3),
    "cosine_s16_nearest_fold": dict(name="cosine", in_format="s16.13", interp="nearest",
                                    fold=True, tails="clamp", guard_bits=3),
    # affine formats: zero points and non-dyadic slopes in the line constants, a fold with
    # an output zero point in F
    "gelu_int8_affine_linear_asym": dict(name="gelu", in_format="int8(0.0235,-3)",
                                         out_format="int8(0.0235,-3)", interp="linear",
                                         entries=16, tails="asymptote", range=(-1, 1),
                                         guard_bits=3),
    "silu_uint8_affine_nearest_asym": dict(name="silu", in_format="uint8(0.05,100)",
                                           out_format="int16(0.001,-20)", interp="nearest",
                                           entries=32, tails="asymptote", range=(-3, 3),
                                           guard_bits=0),
    "tanh_int8_affine_fold": dict(name="tanh", in_format="int8(0.03,0)",
                                  out_format="int8(0.0078125,-1)", interp="linear", entries=16,
                                  fold=True, tails="clamp", range=(-2, 2), guard_bits=3),
    # folds about a nonzero zero point Z (u = x < Z ? 2Z - x : x): unsigned, signed, even
    "tanh_uint8_affine_fold_zp_asym": dict(name="tanh", in_format="uint8(0.03,128)",
                                           out_format="int8(0.0078125,-1)", interp="linear",
                                           entries=16, fold=True, tails="asymptote",
                                           range=(-2, 2), guard_bits=3),
    "sigmoid_int8_affine_fold_zp": dict(name="sigmoid", in_format="int8(0.05,40)",
                                        out_format="uint8(0.00390625,0)", interp="linear",
                                        entries=16, fold=True, tails="asymptote", range=(-3, 3),
                                        guard_bits=0),
    "cosine_int8_affine_fold_even_zp": dict(name="cosine", in_format="int8(0.05,-20)",
                                            out_format="int8(0.0078125,0)", interp="nearest",
                                            entries=16, fold=True, tails="clamp",
                                            range=(-3, 3), guard_bits=3),
}


def _params() -> list:
    return [pytest.param(case, id=case) for case in CASES]


def _write(folder: Path, table, name: str, kinds: str = HDL_KINDS) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    arts = {a.filename: a.text for a in render(table, None, kinds, name)}
    for filename, text in arts.items():
        (folder / filename).write_text(text)
    return arts


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """case -> (table, folder with every artifact), built once per case."""
    cache = {}

    def get(case):
        if case not in cache:
            table = compile_table(**CASES[case])
            folder = tmp_path_factory.mktemp(case)
            _write(folder, table, "t")
            cache[case] = table, folder
        return cache[case]

    return get


def _run(args, cwd, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def run_testbench(folder: Path, name: str = "t", cwd: Path | None = None, params=(),
                  extra=()) -> subprocess.CompletedProcess:
    """Compile the testbench and module with iverilog -g2005 (in ``folder``), run vvp in ``cwd``.

    ``params``: (parameter, value) overrides of the testbench (``-P``); ``extra``:
    more Verilog files (their modules become extra roots).
    """
    iverilog, vvp = require_tool("iverilog"), require_tool("vvp")
    args = [iverilog, "-g2005", "-o", str(folder / "tb.vvp")]
    args += [f"-Ptb_lutgen_{name}.{p}={v}" for p, v in params]
    if extra:
        args += [f"-stb_lutgen_{name}"] + [f"-s{Path(f).stem}" for f in extra]
    args += [str(folder / f"tb_lutgen_{name}.v"), str(folder / f"lutgen_{name}.v"), *map(str, extra)]
    out = _run(args, folder)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    return _run([vvp, "-n", str(folder / "tb.vvp")], cwd or folder)


def simulate(folder: Path, name: str = "t") -> str:
    """The testbench's output; it must exit 0 (and so have printed PASS)."""
    out = run_testbench(folder, name)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr
    return out.stdout


def simulate_fail(folder: Path, **kwargs) -> str:
    """The output of a testbench that must fail: a non-zero exit and a FAIL line."""
    out = run_testbench(folder, **kwargs)
    assert out.returncode != 0, out.stdout[-2000:]
    assert "PASS" not in out.stdout, out.stdout[-2000:]
    assert "FATAL: " in out.stdout, out.stdout[-2000:]  # $fatal, not $finish
    return out.stdout.split("FATAL: ")[0]  # what the testbench printed before $fatal


def yosys_stats(folder: Path, top: str, memories: int) -> dict[str, int]:
    """Synthesise ``top`` with Yosys; assert its memories and no latches; its cell counts.

    After the coarse passes (``-run begin:fine``) the design must hold exactly
    ``memories`` ``$mem_v2`` cells, all with a clocked (synchronous) read port;
    after a full ``synth`` no latch. Returns ``stat``'s count per cell type and
    ``"cells"`` for the total.
    """
    yosys = require_tool("yosys")
    coarse = (f"read_verilog lutgen_{top}.v; synth -top lutgen_{top} -run begin:fine; "
              f"select -assert-count {memories} t:$mem_v2; "
              f"select -assert-count {memories} t:$mem_v2 r:RD_CLK_ENABLE=1'1 %i")
    out = _run([yosys, "-q", "-p", coarse], folder)
    assert out.returncode == 0, out.stdout + out.stderr
    full = (f"read_verilog lutgen_{top}.v; synth -top lutgen_{top}; "
            "select -assert-none t:$dlatch t:$_DLATCH_*; tee -q -o stat.txt stat")
    out = _run([yosys, "-q", "-p", full], folder)
    assert out.returncode == 0, out.stdout + out.stderr
    text = (folder / "stat.txt").read_text()
    stats = {m[1]: int(m[2]) for m in re.finditer(r"^\s+(\$\S+)\s+(\d+)$", text, re.M)}
    stats["cells"] = int(re.search(r"Number of cells:\s+(\d+)", text)[1])
    return stats


def _vector_count(folder: Path, name: str = "t") -> int:
    lines = (folder / f"{name}_vectors.mem").read_text().splitlines()
    assert all(re.fullmatch(r"[0-9a-f]+ [0-9a-f]+", line) for line in lines)  # data only
    return len(lines)


# ---- the module, simulated, linted, synthesised -----------------------------------------
@pytest.mark.parametrize("case", _params())
def test_module_matches_the_model_in_iverilog(built, case):
    table, folder = built(case)
    stdout = simulate(folder)
    n = 1 << table.in_format.bits  # every input code of an 8- or 16-bit format
    assert _vector_count(folder) == n
    assert stdout.strip().splitlines()[-1] == f"PASS {n} vectors", stdout[-2000:]


@pytest.mark.parametrize("case", _params())
def test_verilator_lint_is_clean(built, case):
    verilator = require_tool("verilator")
    _, folder = built(case)
    text = (folder / "lutgen_t.v").read_text()
    assert not re.search(r"lint_off|/[/*]\s*verilator", text)  # no waivers
    out = _run([verilator, "--lint-only", "-Wall", "lutgen_t.v"], folder)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == "", out.stderr


@pytest.mark.parametrize("case", _params())
def test_yosys_infers_roms_and_no_latches(built, case, tmp_path):
    table, folder = built(case)
    # the documented layout: linear tables with segments wider than one code keep the
    # N + 1 knots in an even and an odd bank, anything else is one memory of all words;
    # a one-word memory is a constant, which Yosys folds away
    n = table.entries
    if table.interp.value == "linear" and table.shift > 0:
        words = [(n + 2) // 2, (n + 1) // 2]
    else:
        words = [n if table.interp.value == "none" else n + 1]
    banks = sum(1 for w in words if w > 1)
    stats = yosys_stats(folder, "t", banks)
    assert stats["cells"] > 0
    record = {"case": case, "memories": banks, "rom_bits": table.rom_bits, "stat": stats}
    (tmp_path / "yosys_stat.json").write_text(json.dumps(record, indent=1))
    print(json.dumps(record))


def test_corrupted_vectors_make_the_testbench_fail(tmp_path):
    table = compile_table(**CASES["sigmoid_s8_linear"])
    _write(tmp_path, table, "t")
    path = tmp_path / "t_vectors.mem"
    lines = path.read_text().splitlines()
    for k in (3, 200):  # flip the lowest bit of two expected outputs
        x, y = lines[k].split()
        lines[k] = f"{x} {int(y, 16) ^ 1:0{len(y)}x}"
    path.write_text("\n".join(lines) + "\n")
    stdout = simulate_fail(tmp_path)
    assert stdout.strip().splitlines()[-1] == "FAIL 2 of 256", stdout
    assert "mismatch 3:" in stdout and "mismatch 200:" in stdout


def test_a_flipped_rom_bit_makes_the_testbench_fail(tmp_path):
    # word 4 of the even bank is knot 8, which serves inputs of segments 7 and 8
    table = compile_table(**CASES["sigmoid_s8_linear"])
    _write(tmp_path, table, "t")
    path = tmp_path / "t_even.mem"
    lines = path.read_text().splitlines()
    lines[4] = f"{int(lines[4], 16) ^ 0x100:03x}"
    path.write_text("\n".join(lines) + "\n")
    last = simulate_fail(tmp_path).strip().splitlines()[-1]
    assert last.startswith("FAIL ") and last.endswith(" of 256")


@pytest.mark.parametrize("case", ["sigmoid_s8_linear", "tanh_s8_none_fold"])
def test_run_from_another_folder_fails_unless_given_the_paths(tmp_path, case):
    # $readmemh resolves names from the working directory: from elsewhere the memories
    # and vectors are X, which the testbench reports instead of passing
    table = compile_table(**CASES[case])
    folder, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    arts = _write(folder, table, "t")
    stdout = simulate_fail(folder, cwd=elsewhere)
    assert "FAIL vector file missing or short" in stdout, stdout
    files = re.findall(r'parameter (\w+) = "([^"]+)"', arts["tb_lutgen_t.v"])
    assert [p for p, _ in files][0] == "VECFILE" and len(files) >= 2
    # the vectors found, a memory still missing: the ROM check fails
    only_vec = [("VECFILE", f'"{folder / files[0][1]}"')]
    stdout = simulate_fail(folder, cwd=elsewhere, params=only_vec)
    assert "FAIL memory file missing or short" in stdout, stdout
    every = [(p, f'"{folder / f}"') for p, f in files]
    out = run_testbench(folder, cwd=elsewhere, params=every)
    assert out.returncode == 0 and out.stdout.strip().splitlines()[-1] == "PASS 256 vectors"


def test_a_short_memory_file_makes_the_testbench_fail(tmp_path):
    table = compile_table(**CASES["tanh_s8_none_fold"])
    _write(tmp_path, table, "t")
    path = tmp_path / "t.mem"
    path.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")  # last word gone
    assert "FAIL memory file missing or short" in simulate_fail(tmp_path)


def test_x_on_the_output_makes_the_testbench_fail(tmp_path):
    table = compile_table(**CASES["sigmoid_s8_linear"])
    _write(tmp_path, table, "t")
    bits = table.out_format.bits
    force = tmp_path / "force_x.v"
    force.write_text(f"module force_x; initial begin #1000 force tb_lutgen_t.dut.y = "
                     f"{{{bits}{{1'bx}}}}; #20 release tb_lutgen_t.dut.y; end endmodule\n")
    stdout = simulate_fail(tmp_path, extra=[force])
    assert "FAIL an output is X or Z" in stdout, stdout


def test_a_lost_output_makes_the_testbench_fail(tmp_path):
    # out_valid held low for one cycle: no mismatch, but out_valid no longer follows in_valid
    table = compile_table(**CASES["sigmoid_s8_linear"])
    _write(tmp_path, table, "t")
    force = tmp_path / "drop_one.v"
    force.write_text("module drop_one; initial begin #1003 force tb_lutgen_t.dut.out_valid = "
                     "1'b0; #10 release tb_lutgen_t.dut.out_valid; end endmodule\n")
    stdout = simulate_fail(tmp_path, extra=[force])
    assert stdout.strip().splitlines()[-1] == (
        "FAIL out_valid does not follow in_valid by LATENCY cycles"), stdout


# ---- ROM files read back by parsers written here ----------------------------------------
def _from_twos(pattern: int, bits: int, signed: bool) -> int:
    assert 0 <= pattern < 1 << bits
    return pattern - (1 << bits) if signed and pattern >> (bits - 1) else pattern


def read_mem(text: str, bits: int, signed: bool, base: int = 16) -> list[int]:
    """Words of a $readmemh/$readmemb data file: one word a line, nothing else."""
    digits = (bits + 3) // 4 if base == 16 else bits
    words = []
    assert text.endswith("\n")
    for line in text.splitlines():
        # one word and nothing else (no comments), zero-padded to whole digits
        assert re.fullmatch("[0-9a-f]+" if base == 16 else "[01]+", line), line
        assert len(line) == digits, line
        words.append(_from_twos(int(line, base), bits, signed))
    return words


def read_coe(text: str, bits: int, signed: bool) -> list[int]:
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(";"))
    keys = dict(re.findall(r"(\w+)\s*=\s*([^;]*);", body, re.S))
    assert keys["memory_initialization_radix"] == "16"
    items = [s.strip() for s in keys["memory_initialization_vector"].split(",")]
    assert body.rstrip().endswith(";")
    return [_from_twos(int(s, 16), bits, signed) for s in items]


def read_mif(text: str, signed: bool) -> tuple[int, list[int]]:
    body = "\n".join(line.split("--")[0] for line in text.splitlines())
    header = dict(re.findall(r"(\w+)\s*=\s*(\w+)\s*;", body.split("CONTENT")[0]))
    assert header["ADDRESS_RADIX"] == "HEX" and header["DATA_RADIX"] == "HEX"
    width, depth = int(header["WIDTH"]), int(header["DEPTH"])
    content = re.search(r"CONTENT\s+BEGIN(.*)END\s*;", body, re.S)[1]
    words = [None] * depth
    for addr, data in re.findall(r"([0-9A-Fa-f]+)\s*:\s*([0-9A-Fa-f]+)\s*;", content):
        words[int(addr, 16)] = _from_twos(int(data, 16), width, signed)
    return width, words


ROM_CASES = ["tanh_s8_linear_2_entries", "linear_s8_linear_asym", "cosine_s8_linear_fold",
             "gelu_s16_linear_asym", "sigmoid_s8_linear_fold_asym", "exp_u16_none",
             "tanh_int8_affine_fold"]


@pytest.mark.parametrize("case", ROM_CASES)
def test_rom_files_read_back_to_the_table(case):
    table = compile_table(**CASES[case])
    values = [int(v) for v in table.values]
    bits, signed = table.store_bits, table.store_signed
    arts = {a.filename: a.text for a in render(table, None, HDL_KINDS, "t")}
    assert read_mem(arts["t.mem"], bits, signed) == values
    assert read_mem(arts["t.bin"], bits, signed, base=2) == values
    assert read_coe(arts["t.coe"], bits, signed) == values
    assert read_mif(arts["t.mif"], signed) == (bits, values)
    if table.interp.value == "linear" and table.shift > 0:
        # the banks the module reads, in each format: knot k in bank k & 1, word k >> 1
        for bank, words in (("even", values[0::2]), ("odd", values[1::2])):
            assert read_mem(arts[f"t_{bank}.mem"], bits, signed) == words
            assert read_coe(arts[f"t_{bank}.coe"], bits, signed) == words
            assert read_mif(arts[f"t_{bank}.mif"], signed) == (bits, words)
            assert f"t_{bank}.mem: $readmemh bank of lutgen_t.v" in arts["t_rom.txt"]
    else:
        assert not [f for f in arts if "_even." in f or "_odd." in f]
    assert arts["t_rom.txt"].startswith(f"Generated by lutgen {lutgen.__version__}")


def test_rom_sidecar_states_what_a_word_is_worth():
    # power of two: a fixed-point word; affine output: output codes times 2^G (a scale and
    # zero point, no fraction bits), as the C header and docs/ARITHMETIC.md say
    pow2 = compile_table(**CASES["tanh_s8_linear_2_entries"])
    text = {a.filename: a.text for a in render(pow2, None, "mem", "t")}["t_rom.txt"]
    f = pow2.out_format.frac + pow2.guard_bits
    assert f"Real value = word * 2^-{f} ({pow2.out_format.frac} output fraction bits" in text
    affine = compile_table(**CASES["tanh_int8_affine_fold"])
    text = {a.filename: a.text for a in render(affine, None, "mem", "t")}["t_rom.txt"]
    assert ("Word: output codes of int8(0.0078125,-1):nearest-up,saturate times 2^3 "
            "(G = 3 guard bits); real value = 0.0078125 * (word / 2^3 - -1).") in text
    assert "fraction bits" not in text.split("\n\n", 1)[1]


def test_rom_cases_cover_negative_words_and_odd_widths():
    tables = [compile_table(**CASES[c]) for c in ROM_CASES]
    assert any(int(t.values.min()) < 0 for t in tables)
    assert any(not t.store_signed and int(t.values.max()) >> (t.store_bits - 1) for t in tables)
    assert any(t.store_bits % 4 for t in tables) and any(t.store_bits % 4 == 0 for t in tables)


def test_iverilog_loads_mem_and_bin(tmp_path):
    # the exporter's .mem/.bin through $readmemh/$readmemb
    table = compile_table(**CASES["tanh_s8_linear_2_entries"])  # negative, 8-bit words
    _write(tmp_path, table, "t", "mem")
    n, bits = table.values.size, table.store_bits
    (tmp_path / "tb_lutgen_t.v").write_text(f"""
module tb_lutgen_t;
    reg signed [{bits - 1}:0] h [0:{n - 1}];
    reg signed [{bits - 1}:0] b [0:{n - 1}];
    integer k;
    initial begin
        $readmemh("t.mem", h);
        $readmemb("t.bin", b);
        for (k = 0; k < {n}; k = k + 1) $display("%0d %0d", h[k], b[k]);
    end
endmodule
""")
    (tmp_path / "lutgen_t.v").write_text("module unused_dut; endmodule\n")
    rows = [tuple(map(int, line.split())) for line in simulate(tmp_path).split("\n") if line]
    assert rows == [(int(v), int(v)) for v in table.values]


# ---- determinism and golden files ---------------------------------------------------------
def test_rendering_is_deterministic():
    from lutgen.analysis import analyze

    table = compile_table(**CASES["tanh_s8_none_fold"])
    report = analyze(table)
    first = render(table, report, HDL_KINDS, "t")
    second = render(compile_table(**CASES["tanh_s8_none_fold"]), report, HDL_KINDS, "t")
    assert [(a.filename, a.text) for a in first] == [(a.filename, a.text) for a in second]
    assert {a.filename for a in first} == {
        "t.mem", "t.bin", "t_rom.txt", "t.coe", "t.mif", "lutgen_t.v", "lutgen_t_axis.v",
        "tb_lutgen_t.v", "t_vectors.mem"}
    for art in first:  # provenance first, in each file's comment syntax; data files: none
        suffix = Path(art.filename).suffix
        if suffix in (".mem", ".bin"):
            assert re.fullmatch(r"([0-9a-f]+( [0-9a-f]+)?\n)+", art.text), art.filename
            continue
        prefix = {".coe": "; ", ".mif": "-- ", ".txt": ""}.get(suffix, "// ")
        assert art.text.startswith(f"{prefix}Generated by lutgen {lutgen.__version__}")


def _regen_module():
    path = Path(__file__).parent.parent / "scripts" / "regen_golden.py"
    spec = importlib.util.spec_from_file_location("regen_golden", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REGEN = _regen_module()
KINDS = HDL_KINDS.split(",")


def test_golden_files_are_registered_under_golden_hdl():
    assert {kind: REGEN.GOLDEN_KINDS.get(kind) for kind in KINDS} == {
        kind: f"hdl/{kind}" for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("spec_name", sorted(REGEN.GOLDEN_SPECS))
def test_render_equals_golden_files(kind, spec_name):
    folder = REGEN.GOLDEN_DIR / f"hdl/{kind}"
    for art in REGEN.golden_artifacts(kind, spec_name):
        golden = folder / art.filename
        assert golden.exists(), f"run scripts/regen_golden.py {kind}"
        assert art.text.encode("utf-8") == golden.read_bytes(), (
            f"{kind}/{art.filename} changed; review and run scripts/regen_golden.py {kind}")


def test_wide_inputs_get_boundaries_and_seeded_random_codes(tmp_path):
    # 20-bit input: not exhaustive; the testbench still checks every vector it drives
    from lutgen.export.testbench import vector_codes

    table = compile_table("tanh", in_format="s20.14", interp="linear", fold=True, entries=64)
    codes, how = vector_codes(table)
    assert "splitmix64" in how and 20_000 <= codes.size < 1 << 20
    fmt = table.in_format
    bounds = [table.lo_code + (k << table.shift) for k in range(table.entries + 1)]
    wanted = {b + d for b in bounds + [-b for b in bounds] for d in (-1, 0, 1)}
    wanted = {c for c in wanted if fmt.min_code <= c <= fmt.max_code}
    assert wanted | {fmt.min_code, fmt.max_code} <= set(codes.tolist())
    assert np.array_equal(codes, vector_codes(table)[0])  # a fixed seed
    _write(tmp_path, table, "t")
    assert _vector_count(tmp_path) == codes.size
    assert simulate(tmp_path).strip().splitlines()[-1] == f"PASS {codes.size} vectors"


def test_asking_for_the_testbench_alone_writes_the_rom_files_it_needs(tmp_path):
    """`--emit tb` (or `verilog`) without `mem` used to write a testbench that failed."""
    from click.testing import CliRunner

    from lutgen.cli import cli

    result = CliRunner().invoke(cli, ["build", "sigmoid", "--in-format", "s8.4", "--entries",
                                      "16", "--emit", "verilog,tb", "--name", "t", "-o",
                                      str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "t.mem").exists() or (tmp_path / "t_even.mem").exists()
    assert "PASS 256" in simulate(tmp_path)
