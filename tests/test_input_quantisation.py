"""Real inputs become input codes one way: the input format's own modes (docs/ARITHMETIC.md).

``lutgen eval`` and ``Table.eval`` both go through ``Table.quantize``; before, the CLI used the
format's modes and ``Table.eval`` always rounded half up and saturated, so an ``ap_fixed<8,4>``
input of 9.0 was -7.0 on the command line and 7.9375 in Python.
"""

import json

import numpy as np
import pytest
from click.testing import CliRunner

import lutgen
from lutgen.cli import cli

# Every value in s8.4 (LSB 1/16, codes -128..127): beyond each end, half-LSB ties on both
# sides of 0, a tie between odd and even codes, a tie that rounds past the top, the bottom.
XS = [9.0, -9.0, 0.03125, -0.03125, 0.09375, 7.96875, -8.0]

# The codes Vitis HLS's ap_fixed.h makes of XS (printed by the header compiled with g++);
# s8.4 carries no modes: lutgen's default, round half up and saturate.
EXPECTED = {
    "ap_fixed<8,4>": [-112, 112, 0, -1, 1, 127, -128],  # AP_TRN, AP_WRAP
    "ap_fixed<8,4,AP_RND,AP_SAT>": [127, -128, 1, 0, 2, 127, -128],
    "s8.4": [127, -128, 1, 0, 2, 127, -128],
    "ap_fixed<8,4,AP_RND,AP_WRAP>": [-112, 112, 1, 0, 2, -128, -128],
    "ap_fixed<8,4,AP_RND_CONV,AP_SAT_SYM>": [127, -127, 0, 0, 2, 127, -127],
    "ap_ufixed<8,4,AP_TRN,AP_SAT_ZERO>": [144, 0, 0, 0, 1, 127, 0],
}


@pytest.mark.parametrize("in_format", list(EXPECTED))
def test_cli_and_table_eval_quantise_inputs_alike(in_format):
    table = lutgen.compile_table("sigmoid", in_format=in_format, out_format="s16.14")
    expected = np.array(EXPECTED[in_format])
    np.testing.assert_array_equal(table.quantize(XS), expected)

    args = ["eval", "sigmoid", "--in-format", in_format, "--out-format", "s16.14", "--json"]
    for x in XS:
        args += ["-x", repr(x)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["x_code"] for r in rows] == list(expected)
    y_codes = table.eval_int(expected)
    assert [r["y_code"] for r in rows] == list(y_codes)
    y = table.out_format.dequantize(y_codes)
    assert [r["y"] for r in rows] == list(y)
    np.testing.assert_array_equal(table.eval(XS), y)


def test_the_documented_example():
    # README and docs/ARITHMETIC.md: an ap_fixed<8,4> input wraps 9.0 to -7.0
    table = lutgen.compile_table("linear", in_format="ap_fixed<8,4>", out_format="s8.4",
                                 range=(-8, 8))
    assert table.eval(9.0) == -7.0
    assert lutgen.compile_table("linear", in_format="s8.4", out_format="s8.4",
                                range=(-8, 8)).eval(9.0) == 7.9375


# ---- the output format states what the table does ------------------------------------------
def test_an_ap_fixed_output_is_labelled_rounded_and_saturated():
    # ap_fixed<8,4> means AP_TRN, AP_WRAP; the table rounds half up and saturates (step 6 of
    # docs/ARITHMETIC.md), so that is what every label must say. Before, it printed
    # "s8.4:floor,wrap" in the summary, the headers and the analysis.
    from lutgen.export import render

    table = lutgen.compile_table("linear", in_format="s8.4", out_format="ap_fixed<8,4>",
                                 range=(-8, 8), entries=16, interp="linear")
    # what it does: 9.0 does not wrap (-7.0) but saturates; 1/32 (half an LSB) rounds up
    assert table.eval_int(np.array([127, -128])).tolist() == [127, -128]
    quarter = lutgen.compile_table("linear", in_format="s8.5", out_format="ap_fixed<8,4>",
                                   range=(-4, 4))
    assert quarter.eval_int(np.array([1, -1])).tolist() == [1, 0]  # +-1/32: ties up
    assert str(table.out_format) == "s8.4"
    assert table.out_format.rounding is lutgen.Rounding.NEAREST_UP
    assert table.out_format.overflow is lutgen.Overflow.SATURATE
    report = lutgen.analyze(table)
    assert report.out_format == "s8.4"
    for art in render(table, report, ["c", "verilog"], name="t"):
        assert "Formats: in s8.4, out s8.4 (rounded half up, saturated);" in art.text, art.path
    result = CliRunner().invoke(cli, ["analyze", "linear", "--in-format", "s8.4", "--range",
                                      "-8", "8", "--out-format", "ap_fixed<8,4>"])
    assert result.exit_code == 0, result.output
    assert "s8.4 -> s8.4 (rounded half up, saturated)," in result.output
    assert ":floor" not in result.output and "wrap" not in result.output
