"""Hierarchical tables (``regions``, docs/ARITHMETIC.md step 3h) in the hardware exporters.

The Verilog module's region decode (a mux on ``r = off >> RB`` giving ``BASE[r]`` and
``S_r``) is simulated in Icarus against ``Table.eval_int`` on every input code of
8-, 12- and 16-bit tables (folded and not, clamp and asymptote tails, a number of
regions that is no power of two, a table running past the input format, an affine
input folded about its zero point), at every ``pipeline`` setting of one table, with
LANES, stalls and the AXI4-Stream wrapper; linted by Verilator -Wall; synthesised by
Yosys to exactly one SB_MAC16 (``synth_ice40 -dsp``) and one DSP48E1
(``synth_xilinx``); placed and routed by nextpnr-ice40 for Fmax. A module whose
region constant is wrong must fail its testbench. Counted regions (``S x C``, step 3h':
comparisons with START[k], constants K_r = BASE[r] - (START[r] >> S_r)) go through the
same tests. The memory files hold the chained
knots; the region table is documented beside them and is in no memory file.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from lutgen.export.verilog import deepest, latency
from lutgen.table import compile_table
from tests.conftest import require_tool
from tests.test_export_hdl import (_write, read_coe, read_mif, run_testbench, simulate,
                                   simulate_fail, yosys_stats)
from tests.test_export_iface import _axis_tb
from tests.test_export_pipeline import UP5K_MHZ, HX8K_MHZ, _ice40_stat, _report_module

# the 16-bit sigmoid: faithful, 16 regions (the widest mux), 2^11 codes each
SIGMOID16 = dict(name="sigmoid", in_format="s16.12", out_format="s16.14", range=(-8, 8),
                 fold=True, tails="clamp", coeffs="faithful",
                 regions="5,5,6,6,7,7,8,8,9,9,10,10,11,11,11,11")

KINDS = "mem,coe,mif,verilog,tb"

# what `lutgen fit sigmoid --in-format s16.12 --out-format s16.14 --max-error 1lsb` chose
# (1384 ROM bits): small knot banks, which Yosys puts in LUTs
FITTED_SIGMOID16 = dict(name="sigmoid", in_format="s16.12", out_format="s16.14",
                        range=(-7.832275390625, 7.832275390625), regions="8,8,8,8,9,10,11,11",
                        interp="linear", tails="clamp", fold=True, coeffs="faithful",
                        guard_bits=2)

# and what it chose for tanh (s16.14) and GELU (s16.12): 10 regions (u >= HI a comparison),
# 16 regions with asymptote tails
FITTED_TANH16 = dict(name="tanh", in_format="s16.12", out_format="s16.14",
                     range=(-4.99609375, 4.99609375), regions="6,6,6,7,8,8,9,10,11,11",
                     interp="linear", tails="clamp", fold=True, coeffs="faithful", guard_bits=3)
FITTED_GELU16 = dict(name="gelu", in_format="s16.12", out_format="s16.12",
                     range=(-3.831298828125, 3.83154296875),
                     regions="11,9,9,9,9,8,7,7,7,8,9,9,9,9,10,11", interp="linear",
                     tails="auto", coeffs="faithful", guard_bits=3)

HIER = {
    # three regions (no power of two: u >= HI is a comparison), a clamp tail
    "sigmoid_s8_fold_3_regions": dict(name="sigmoid", in_format="s8.4", fold=True,
                                      tails="clamp", range=(-6, 6), guard_bits=2,
                                      regions="1,2,4"),
    # no fold, asymptote (line) tails on both sides, G = 0 (the rounding half in A << S)
    "gelu_s8_asym_g0": dict(name="gelu", in_format="s8.4", tails="asymptote", range=(-4, 4),
                            guard_bits=0, regions="3,1,1,3"),
    # a region of one-code segments (S_r = 0) and one of a single segment (S_r = RB)
    "tanh_s8_fold_asym_s0": dict(name="tanh", in_format="s8.4", fold=True, tails="asymptote",
                                 range=(-4, 4), guard_bits=0, regions="0,1,2,4"),
    # every S_r = 0 (one-code segments: one ROM, no multiply), and equal shifts
    "sigmoid_s8_all_s0": dict(name="sigmoid", in_format="s8.4", range=(-6, 6),
                              regions="0,0,0"),
    "sigmoid_s8_equal_shifts": dict(name="sigmoid", in_format="s8.4", range=(-6, 6),
                                    regions="2,2,2"),
    # unsigned input, five regions running past the format's last code (no right tail)
    "exp_u8_minimax_past_the_end": dict(name="exp", in_format="u8.6", range=(0, 3),
                                        coeffs="minimax", regions="2,2,3,3,4"),
    # an affine input folded about its zero point 128
    "tanh_uint8_affine_fold_zp": dict(name="tanh", in_format="uint8(0.03,128)",
                                      out_format="int8(0.0078125,-1)", fold=True,
                                      tails="asymptote", range=(-2, 2), guard_bits=3,
                                      regions="1,2,3"),
    "tanh_s12_fold": dict(name="tanh", in_format="s12.8", out_format="s12.10", fold=True,
                          tails="clamp", regions="4,4,5,6,7,8"),
    "silu_s12_eight_regions": dict(name="silu", in_format="s12.6", regions="3,2,1,1,2,3,4,5",
                                   range=(-8, 8), guard_bits=4),
    "sigmoid_s16_faithful_16_regions": SIGMOID16,
    "sigmoid_s16_fitted": FITTED_SIGMOID16,
    "tanh_s16_fitted": FITTED_TANH16,
    "gelu_s16_fitted": FITTED_GELU16,
}

# counted regions (S x C, docs/ARITHMETIC.md step 3h'): any widths, found by comparison
TANH16_COUNTED = dict(name="tanh", in_format="s16.12", out_format="s16.14", range=(-5, 5),
                      fold=True, coeffs="faithful", guard_bits=2,
                      regions="7x8,6x68,7x26,8x12,9x5,10x2,11x2")
COUNTED = {
    # a clamp tail at HI - LO = 96 (no power of two); regions 2 and 3 share S and K_r
    "sigmoid_s8_fold_counted": dict(name="sigmoid", in_format="s8.4", fold=True,
                                    tails="clamp", range=(-6, 6), guard_bits=2,
                                    regions="1x4,2x6,3x6,3x2"),
    # no fold, asymptotes on both sides, G = 0, a region of one-code segments (S = 0),
    # negative K_r (BASE[r] < START[r] >> S_r), off >> S_r wider than the adders
    "gelu_s8_counted_asym_s0": dict(name="gelu", in_format="s8.4", tails="asymptote",
                                    range=(-4, 4), guard_bits=0,
                                    regions="3x2,1x4,0x8,1x8,2x8,3x7"),
    # one region of 3 segments: no comparison, u >= HI = 12 one
    "sigmoid_s8_one_region_of_3": dict(name="sigmoid", in_format="s8.4", fold=True,
                                       tails="clamp", range=(0, 0.75), regions="2x3"),
    # every S_r = 0: one ROM read at i, no multiply
    "sigmoid_s8_counted_all_s0": dict(name="sigmoid", in_format="s8.4", range=(-6, 6),
                                      regions="0x64,0x64,0x64"),
    # unsigned input, regions up to the format's last code (no right tail)
    "exp_u8_counted_to_the_top": dict(name="exp", in_format="u8.6", range=(0, 3),
                                      coeffs="minimax", regions="2x8,3x12,4x8"),
    # an affine input folded about its zero point 128
    "tanh_uint8_affine_counted_zp": dict(name="tanh", in_format="uint8(0.03,128)",
                                         out_format="int8(0.0078125,-1)", fold=True,
                                         tails="asymptote", range=(-2, 2), guard_bits=3,
                                         regions="1x8,2x6,3x5"),
    "tanh_s12_fold_counted": dict(name="tanh", in_format="s12.8", out_format="s12.10",
                                  fold=True, tails="clamp", regions="4x12,5x10,6x8,7x3"),
    "silu_s12_counted_seven": dict(name="silu", in_format="s12.6", range=(-8, 8), guard_bits=4,
                                   regions="3x16,2x24,1x40,1x48,2x32,3x20,4x21"),
    "tanh_s16_counted": TANH16_COUNTED,
}
CASES = {**HIER, **COUNTED}
AT_MAX = {"sigmoid_s16_faithful_16_regions", "tanh_s16_counted"}  # pipeline "max" when exact


def _table(case: str, pipeline=2):
    args = dict(CASES[case])
    return compile_table(args.pop("name"), pipeline=pipeline, **args)


def _run(args, cwd: Path, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _lint(folder: Path) -> None:
    out = _run([require_tool("verilator"), "--lint-only", "-Wall", "lutgen_t.v"], folder)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == "", out.stderr


def _bases(shifts, rb):
    """BASE[r] = sum over q < r of 2^(RB - S_q), written out here."""
    out, total = [], 0
    for s in shifts:
        out.append(total)
        total += 2 ** (rb - s)
    return out, total + 1


# ---- the module against the kernel, every input -------------------------------------------
@pytest.mark.parametrize("case", list(CASES))
def test_hierarchical_module_is_bit_exact_in_iverilog_and_lint_clean(tmp_path, case):
    table = _table(case, "max" if case in AT_MAX else 2)
    assert table.regions is not None and table.regions.n == len(CASES[case]["regions"].split(","))
    assert table.regions.equal == (case in HIER)
    _write(tmp_path, table, "t", KINDS)
    n = table.in_format.n_codes  # every input code
    assert len((tmp_path / "t_vectors.mem").read_text().splitlines()) == n
    assert simulate(tmp_path).strip().splitlines()[-1] == f"PASS {n} vectors"
    _lint(tmp_path)


def _settings():
    table = _table("sigmoid_s8_fold_3_regions")
    return [pytest.param(p, id=str(p)) for p in range(2, deepest(table) + 1)]


@pytest.mark.parametrize("pipeline", _settings())
@pytest.mark.parametrize("case", ["sigmoid_s8_fold_3_regions", "gelu_s8_asym_g0",
                                  "gelu_s8_counted_asym_s0"])
def test_every_pipeline_setting_of_a_hierarchical_table(tmp_path, case, pipeline):
    table = _table(case, pipeline)
    # banked linear: D = 9, and the region decode's adders get a stage of their own
    assert latency(table) == pipeline and deepest(table) == 10
    arts = _write(tmp_path, table, "t", KINDS)
    assert len(re.findall(r"// ---- register cut '", arts["lutgen_t.v"])) == pipeline - 1
    assert simulate(tmp_path).strip().splitlines()[-1] == "PASS 256 vectors"
    _lint(tmp_path)


@pytest.mark.parametrize("lanes", [2, 3])
@pytest.mark.parametrize("case", ["tanh_s12_fold", "tanh_s12_fold_counted"])
def test_lanes_and_stalls_of_a_hierarchical_table(tmp_path, case, lanes):
    table = _table(case, 4)
    _write(tmp_path, table, "t", KINDS)
    out = run_testbench(tmp_path, params=[("LANES", lanes)])
    assert out.returncode == 0, out.stdout[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "PASS 4096 vectors"


def test_axis_wrapper_of_a_hierarchical_table(tmp_path):
    table = _table("tanh_s12_fold", "max")
    _write(tmp_path, table, "t", KINDS)
    (tmp_path / "tb_axis.v").write_text(_axis_tb(table, 2))
    out = _run([require_tool("iverilog"), "-g2005", "-o", "axis.vvp", "tb_axis.v",
                "lutgen_t_axis.v", "lutgen_t.v"], tmp_path)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    out = _run([require_tool("vvp"), "-n", "axis.vvp"], tmp_path)
    m = re.search(r"got (\d+) sent (\d+) bad (\d+) cycles (\d+)", out.stdout)
    assert m, out.stdout
    assert tuple(map(int, m.groups()[:3])) == (4096, 4096, 0)


@pytest.mark.parametrize(("old", "new"), [
    ("region == 2'd1 ? 5'd16 :", "region == 2'd1 ? 5'd15 :"),  # BASE[1] one knot off
    ("region == 2'd1 ? {1'd0, region_off[4:2]} :", "region == 2'd1 ? {2'd0, region_off[4:3]} :"),
])
def test_a_wrong_region_constant_fails_the_testbench(tmp_path, old, new):
    _write(tmp_path, _table("sigmoid_s8_fold_3_regions"), "t", KINDS)
    path = tmp_path / "lutgen_t.v"
    text = path.read_text()
    assert text.count(old) == 1, text
    path.write_text(text.replace(old, new))
    assert "mismatch" in simulate_fail(tmp_path)


@pytest.mark.parametrize(("case", "old", "new"), [
    # START[2] = 32 made 40: inputs 32..39 decoded in region 1
    ("sigmoid_s8_fold_counted", "wire region_ge2 = ~u[8] & (u[7] | (u[6] | u[5]));",
     "wire region_ge2 = ~u[8] & (u[7] | (u[6] | (u[5] & (u[4] | u[3]))));"),
    # K_3 = 14 - (32 >> 1) = -2 (62 mod 2^6) one knot off
    ("gelu_s8_counted_asym_s0", "region_ge3 ? 6'd62 :", "region_ge3 ? 6'd63 :"),
    # K_4 + 1 = 11 one knot off: the even bank's address, in [-1, 1) where GELU bends
    ("gelu_s8_counted_asym_s0", "region_ge4 ? 6'd11 :", "region_ge4 ? 6'd12 :"),
])
def test_a_wrong_counted_region_constant_fails_the_testbench(tmp_path, case, old, new):
    _write(tmp_path, _table(case), "t", KINDS)
    path = tmp_path / "lutgen_t.v"
    text = path.read_text()
    assert text.count(old) == 1, text
    assert "PASS 256 vectors" in simulate(tmp_path)  # as generated
    path.write_text(text.replace(old, new))
    assert "mismatch" in simulate_fail(tmp_path)


def test_the_module_header_documents_counted_regions(tmp_path):
    table = _table("gelu_s8_counted_asym_s0")
    text = _write(tmp_path, table, "t", "mem,verilog")["lutgen_t.v"]
    # 3x2,1x4,0x8,1x8,2x8,3x7 written out: START, BASE and K_r = BASE - (START >> S)
    rows = [(3, 0, 0, 0, 2), (1, 16, 2, -6, 4), (0, 24, 6, -18, 8), (1, 32, 14, -2, 8),
            (2, 48, 22, 10, 8), (3, 80, 30, 20, 7)]
    assert table.lo_code == -64 and len(table.values) == 38
    assert "n = 6 regions, SMAX = 3, 38 chained knots" in text
    assert "LO = -64, HI = 72, SMAX = 3," in text
    for r, (s, start, base, k_r, c) in enumerate(rows):
        first = -64 + start
        row = (rf"//     {r}\s+\[{first}, {first + (c << s)}\)\s+{s}\s+{start}\s+{base}\s+"
               rf"{k_r}\s+{c}\n")
        assert re.search(row, text), row
        if r:
            assert f"off >= START[{r}] = {start}: u >= LO + START[{r}] = {first}" in text
    assert not re.search(r"\bS = \d|N = \d|RB = |segment 2\^\d+ codes", text)
    assert "(6 counted regions, S x C: 3x2,1x4,0x8,1x8,2x8,3x7)" in text


def test_the_module_header_documents_the_regions(tmp_path):
    table = _table("silu_s12_eight_regions")
    text = _write(tmp_path, table, "t", "mem,verilog")["lutgen_t.v"]
    shifts, rb = [3, 2, 1, 1, 2, 3, 4, 5], table.regions.granule_bits
    assert rb == 7  # 1024 codes of [-8, 8) in s12.6, in 8 regions
    bases, knots = _bases(shifts, rb)
    assert len(table.values) == knots
    assert "n = 8 regions of 2^RB = 128 codes" in text
    assert f"SMAX = 5, {knots} chained knots" in text
    assert f"LO = {table.lo_code}, HI = {table.lo_code + (8 << 7)}, RB = 7, SMAX = 5," in text
    for r, (s, b) in enumerate(zip(shifts, bases)):
        start = table.lo_code + r * 128
        row = rf"//     {r}\s+\[{start}, {start + 128}\)\s+{s}\s+{b}\s+{2 ** (7 - s)}\n"
        assert re.search(row, text), row
    # no uniform S or N is claimed
    assert not re.search(r"\bS = \d|N = \d|segment 2\^\d+ codes", text)
    assert "(8 regions of 2^7 codes, segment shifts 3,2,1,1,2,3,4,5)" in text


def test_wide_inputs_drive_every_segment_boundary_of_every_region(tmp_path):
    table = compile_table("tanh", in_format="s20.16", out_format="s16.14", fold=True,
                          range=(-4, 4), regions="10,11,12,13")
    arts = _write(tmp_path, table, "t", "mem,verilog,tb")
    codes = {int(line.split()[0], 16) for line in arts["t_vectors.mem"].splitlines()}
    codes = {c - (1 << 20) if c >= 1 << 19 else c for c in codes}
    starts = [0]
    for r, s in enumerate([10, 11, 12, 13]):
        starts += [(r << 16) + (k << s) for k in range(1, 2 ** (16 - s))] + [(r + 1) << 16]
    for b in starts:
        assert {b - 1, b, b + 1, -b - 1, -b, -b + 1} <= codes, b
    out = run_testbench(tmp_path)
    assert out.returncode == 0, out.stdout[-2000:]
    assert out.stdout.strip().splitlines()[-1] == f"PASS {len(codes)} vectors"


# ---- one multiplier, no latches, Fmax --------------------------------------------------------
@pytest.mark.parametrize("pipeline", [2, "max"])
@pytest.mark.parametrize("case", ["sigmoid_s16_faithful_16_regions", "tanh_s16_counted"])
def test_a_16_bit_hierarchical_sigmoid_is_one_dsp_block(tmp_path, case, pipeline):
    table = _table(case, pipeline)
    _write(tmp_path, table, "t", "mem,verilog")
    assert _ice40_stat(tmp_path, "t").get("SB_MAC16", 0) == 1
    assert _report_module().xc7(tmp_path / "lutgen_t.v")["dsps"] == 1
    yosys_stats(tmp_path, "t", memories=2)  # the two knot banks as ROMs, no latch


@pytest.mark.parametrize("case", ["sigmoid_s16_faithful_16_regions", "sigmoid_s16_fitted",
                                  "tanh_s16_fitted", "gelu_s16_fitted", "tanh_s16_counted"])
def test_16_bit_hierarchical_units_meet_the_fmax_targets(tmp_path, case):
    require_tool("nextpnr-ice40")
    table = _table(case, "max")
    _write(tmp_path, table, "t", "mem,verilog")
    result = _report_module().ice40(tmp_path / "lutgen_t.v", ("up5k", "hx8k"))
    up5k, hx8k = result["up5k"], result["hx8k"]
    print({d: (r["fmax_mhz"], r["luts"], r["dsps"]) for d, r in result.items()})
    assert up5k["dsps"] == 1 and hx8k["dsps"] == 0
    assert up5k["fmax_mhz"] >= UP5K_MHZ, up5k["fmax_mhz"]
    assert hx8k["fmax_mhz"] >= HX8K_MHZ, hx8k["fmax_mhz"]


# ---- memory files ---------------------------------------------------------------------------
def _words(text: str, bits: int, signed: bool) -> list[int]:
    out = []
    for line in text.splitlines():
        v = int(line, 16)
        out.append(v - (1 << bits) if signed and v >= 1 << (bits - 1) else v)
    return out


def test_memory_files_hold_the_chained_knots_and_describe_the_region_table(tmp_path):
    table = _table("sigmoid_s8_fold_3_regions")
    arts = _write(tmp_path, table, "t", "mem")
    knots = [int(v) for v in table.values]
    bases, count = _bases([1, 2, 4], 5)
    assert len(knots) == count == 27
    sb, ss = table.store_bits, table.store_signed
    assert _words(arts["t.mem"], sb, ss) == knots
    assert _words(arts["t_even.mem"], sb, ss) == knots[0::2]
    assert _words(arts["t_odd.mem"], sb, ss) == knots[1::2]
    side = arts["t_rom.txt"]
    assert "T[0..26]: the 27 chained knots of 3 regions" in side
    for r, (s, b) in enumerate(zip([1, 2, 4], bases)):
        assert re.search(rf"^  {r}\s+{32 * r}\s+{s}\s+{b}\s+{2 ** (5 - s)}$", side, re.M)
    assert "in no\nmemory file: constants of lutgen_t.v's region decode" in side
    assert not re.search(r"segment 2\^\d+ codes|knots of \d+ segments", side)


@pytest.mark.parametrize("case", ["sigmoid_s8_fold_3_regions", "tanh_uint8_affine_fold_zp"])
def test_coe_and_mif_hold_the_knots_and_say_the_region_table_is_elsewhere(tmp_path, case):
    table = _table(case)
    arts = _write(tmp_path, table, "t", "coe,mif")
    knots, sb, ss = [int(v) for v in table.values], table.store_bits, table.store_signed
    shifts = [int(v) for v in HIER[case]["regions"].split(",")]
    rb = table.regions.granule_bits
    bases, count = _bases(shifts, rb)
    assert len(knots) == count
    banks = {"": knots, "_even": knots[0::2], "_odd": knots[1::2]}
    assert sorted(arts) == sorted(f"t{b}.{k}" for b in banks for k in ("coe", "mif"))
    for bank, words in banks.items():
        coe, mif = arts[f"t{bank}.coe"], arts[f"t{bank}.mif"]
        assert read_coe(coe, sb, ss) == words
        assert read_mif(mif, ss) == (sb, words)
        for text, mark in ((coe, ";"), (mif, "--")):
            assert f"{mark} memory file: constants of lutgen_t.v's region decode" in text
            for r, (s, b) in enumerate(zip(shifts, bases)):
                first = table.lo_code + (r << rb)
                row = rf"^{mark}   {r}\s+{first}\s+{s}\s+{b}\s+{2 ** (rb - s)}$"
                assert re.search(row, text, re.M), row
            assert not re.search(r"segment 2\^\d+ codes|knots of \d+ segments", text)



def test_memory_files_of_counted_regions_list_start_and_the_comparison(tmp_path):
    table = _table("sigmoid_s8_fold_counted")
    arts = _write(tmp_path, table, "t", "mem,coe")
    knots = [int(v) for v in table.values]
    assert len(knots) == 4 + 6 + 6 + 2 + 1
    assert _words(arts["t.mem"], table.store_bits, table.store_signed) == knots
    assert "docs/ARITHMETIC.md step 3h'; its region table is below" in arts["t_rom.txt"]
    for text, mark in ((arts["t_rom.txt"], ""), (arts["t.coe"], "; ")):
        assert "r = the number of k in 1..n-1 with u >= LO + START[k] (LO = 0)." in text
        # 1x4,2x6,3x6,3x2: START 0, 8, 32, 80 and BASE 0, 4, 10, 16, written out
        for r, (s, start, base, c) in enumerate([(1, 0, 0, 4), (2, 8, 4, 6), (3, 32, 10, 6),
                                                 (3, 80, 16, 2)]):
            row = rf"^{re.escape(mark)}  {r}\s+{start}\s+{s}\s+{start}\s+{base}\s+{c}$"
            assert re.search(row, text, re.M), row
