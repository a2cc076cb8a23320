"""``fit --target`` / ``--objective``: the derived cost models, checked against Yosys.

The block RAM counts are worked out by hand in the comments (the blocks' shapes are the
vendors' data: SB_RAM40_4K 256x16/512x8/1024x4/2048x2, RAMB18E1 512x36/1Kx18/2Kx9/...)
and compared with Yosys's stat: equal with ``rom_style = "block"``, never below it with
the synthesiser's own choice (it may keep a small ROM in LUTs).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lutgen.cli import cli
from lutgen.errors import SpecError
from lutgen.search import fit
from lutgen.table import compile_table
from lutgen.targets import costs, footprint, get_target, resolve
from tests.conftest import require_tool

DESIGNS = {
    # 256 x 7 bits, one memory: iCE40 one 512x8 block; xc7 one RAMB18 (2Kx9)
    "direct_8bit": (dict(name="sigmoid", in_format="s8.4", out_format="s8.6", entries=256,
                         interp="none"), 1, 1, 0),
    # 64 segments, 65 knots in banks of 33 and 32 words of 17 bits: iCE40 each bank
    # 2 blocks (256x16 twice; 512x8 would take 3): 4; xc7 each bank one RAMB18 (1Kx18): 2
    "linear_17bit": (dict(name="tanh", in_format="s10.6", out_format="s16.14", range=(-4, 4),
                          entries=64, interp="linear", guard_bits=2), 4, 2, 1),
    # 513 knots of 13 bits: banks of 257 and 256 words: iCE40 2 + 1 (257 > 256 rows of
    # 256x16; 512x8 needs 2 as well); xc7 one RAMB18 each
    "linear_257_words": (dict(name="sigmoid", in_format="s10.6", out_format="s12.11",
                              entries=512, interp="linear", guard_bits=2), 3, 2, 1),
}


def _table(args, **extra):
    args = dict(args)
    return compile_table(args.pop("name"), **args, **extra)


@pytest.mark.parametrize("case", DESIGNS)
def test_model_matches_yosys_block_ram_and_never_under_counts(case):
    require_tool("yosys")
    from lutgen.resources import measure

    args, ice40_brams, xc7_brams, dsps = DESIGNS[case]
    block = _table(args, rom_style="block")
    fp = footprint(block)
    ice, x = costs(fp, "ice40-up5k"), costs(fp, "xc7")
    assert (ice["brams"], x["brams"], ice["dsps"], x["dsps"]) == (ice40_brams, xc7_brams,
                                                                  dsps, dsps)
    got = measure(block, "m", place=False)
    assert got.get("ice40").brams == ice40_brams
    xc = got.get("xc7")
    assert xc.cells.get("RAMB18E1", 0) + 2 * xc.cells.get("RAMB36E1", 0) == xc7_brams
    # one multiplier at most: Yosys may build a narrow product from LUTs instead
    assert got.get("ice40").dsps <= dsps and xc.dsps <= dsps
    auto = measure(_table(args), "m", place=False)  # the synthesiser's choice
    assert auto.get("ice40").brams <= ice40_brams and auto.get("ice40").dsps <= dsps
    assert auto.get("xc7").cells.get("RAMB18E1", 0) + 2 * auto.get("xc7").cells.get(
        "RAMB36E1", 0) <= xc7_brams


def test_model_on_a_16_bit_unit():
    # hw_out's fitted tanh (s16.12 -> s16.14, 512 linear segments, 15-bit faithful knots):
    # banks of 257 and 256 words of 15 bits: iCE40 2 + 1 = 3 (as hw_out/README.md measures)
    require_tool("yosys")
    from lutgen.resources import measure

    table = compile_table("tanh", in_format="s16.12", out_format="s16.14",
                          range=(-4.99609375, 4.99609375), entries=512, interp="linear",
                          tails="clamp", fold=True, coeffs="faithful", guard_bits=1,
                          rom_style="block")
    fp = footprint(table)
    assert fp.banks == (257, 256) and costs(fp, "ice40-up5k")["brams"] == 3
    got = measure(table, "t16", families=("ice40",), place=False).get("ice40")
    assert got.brams == 3 and got.dsps == 1


def test_words_pack_into_the_targets_ports():
    assert [get_target("ice40-up5k").port_bits(w) for w in (1, 3, 7, 9, 16, 17, 33)] == \
        [2, 4, 8, 16, 16, 32, 48]
    assert [get_target("xc7").port_bits(w) for w in (1, 3, 5, 9, 10, 18, 19, 36, 37)] == \
        [1, 4, 9, 9, 18, 18, 36, 36, 54]
    assert [get_target("avr").port_bits(w) for w in (7, 9, 17)] == [8, 16, 32]
    assert get_target("generic").port_bits(17) == 17


ARGS8 = dict(in_format="s8.4", out_format="s8.6", max_error="1lsb")


def test_an_fpga_target_prefers_a_block_ram_table_without_a_multiplier():
    fpga = fit("sigmoid", **ARGS8, target="ice40-up5k")
    generic = fit("sigmoid", **ARGS8, target="generic", objective="bits")
    assert fpga.met and generic.met
    assert generic.best.table.interp.value == "linear" and generic.best.table.entries == 4
    on_ice40 = costs(footprint(generic.best.table), "ice40-up5k")
    assert (on_ice40["brams"], on_ice40["dsps"]) == (2, 1)  # two knot banks and a SB_MAC16
    assert fpga.best.table.interp.value in ("none", "nearest")
    chosen = fpga.cost(fpga.best)
    assert (chosen["brams"], chosen["dsps"]) == (1, 0)
    assert fpga.best.table.rom_bits > generic.best.table.rom_bits  # dearer in plain bits
    # the dsp objective agrees; xc7 too
    assert fit("sigmoid", **ARGS8, target="xc7", objective="dsp").cost(
        fit("sigmoid", **ARGS8, target="xc7", objective="dsp").best)["dsps"] == 0


def test_fit_json_reports_target_objective_and_costs():
    args = ["fit", "sigmoid", "--in-format", "s8.4", "--out-format", "s8.6", "--max-error",
            "1lsb", "--target", "ice40-up5k", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["target"] == "ice40-up5k" and doc["objective"] == "bram"
    best = doc["best"]
    cost = best["cost"]
    assert cost["brams"] == 1 and cost["dsps"] == 0 and cost["bram_primitive"] == "SB_RAM40_4K"
    assert best["interp"] == "none" and cost["rom_bits"] == best["rom_bits"]
    width = best["rom_bits"] // best["entries"]  # one word per entry
    assert width <= 8 and cost["packed_bits"] == best["entries"] * 8  # 8-bit ports (512x8)
    assert "--interp none" in doc["build_command"] or "--interp nearest" in doc["build_command"]
    text = CliRunner().invoke(cli, args[:-1]).output
    assert text.startswith("best design (fewest SB_RAM40_4K block RAMs, then SB_MAC16 DSPs on "
                           "ice40-up5k)")


def test_bytes_is_the_default_on_an_mcu_and_bits_on_generic():
    assert resolve("avr", None)[1] == "bytes" and resolve("cortex-m", None)[1] == "bytes"
    assert resolve("generic", None)[1] == "bits" and resolve("xc7", None)[1] == "bram"
    assert fit("sigmoid", **ARGS8).budget["objective"] == "bits"


def test_fpga_objectives_need_an_fpga_target():
    result = CliRunner().invoke(cli, ["fit", "sigmoid", "--in-format", "s8.4", "--max-error",
                                      "1lsb", "--objective", "bram", "--target", "avr"])
    assert result.exit_code == 2
    assert result.output == ("Error: objective 'bram' counts an FPGA's resources; target 'avr' "
                             "has none: give --target ice40-up5k or xc7\n")
    with pytest.raises(SpecError, match=r"unknown target 'ice40'; did you mean 'ice40-up5k'\?"):
        fit("sigmoid", **ARGS8, target="ice40")
    result = CliRunner().invoke(cli, ["fit", "sigmoid", "--max-error", "1lsb", "--target", "x"])
    assert result.exit_code == 2 and "'x' is not one of" in result.output


def test_luts_objective_measures_the_best_few_with_yosys():
    require_tool("yosys")
    result = CliRunner().invoke(cli, ["fit", "sigmoid", *("--in-format s8.4 --out-format s8.6 "
                                      "--max-error 1lsb --target ice40-up5k --objective luts "
                                      "--json").split()])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    luts = [c["cost"].get("luts") for c in doc["candidates"][:3]]
    assert all(isinstance(n, int) for n in luts) and luts == sorted(luts)
    assert doc["best"]["cost"]["luts"] == luts[0] and "luts" not in doc["candidates"][3]["cost"]
