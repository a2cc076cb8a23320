"""The composite softmax (docs/SOFTMAX.md): kernel against tests/naive_softmax.py, order, checks."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lutgen.errors import FormatError, RangeError, SpecError
from lutgen.softmax import Softmax, softmax
from lutgen.table import compile_table

from .naive_softmax import naive_softmax_batch

# (n, in_format, out_format, options): vector lengths with and without a power of two,
# signed and unsigned inputs, outputs narrower and wider than the input, given tables
CASES = {
    "n10_ap8": (10, "ap_fixed<8,4>", None, {}),
    "n3_s6.2_u8.8": (3, "s6.2", "u8.8", {}),
    "n1_s8.4": (1, "s8.4", None, {}),
    "n17_u8.5_s12.10": (17, "u8.5", "s12.10", {}),
    "n5_given_tables": (5, "s8.4", "s8.4", {"exp": ("linear", 16), "recip": ("nearest", 8)}),
    "n4_none_tables": (4, "s8.4", "u6.6", {"exp": ("none", 32), "recip": ("none", 64)}),
}


def _given_tables(fin: str, opts: dict) -> dict:
    if not opts:
        return {}
    from lutgen.fixedpoint import FixedFormat

    f = FixedFormat.parse(fin)
    interp, entries = opts["exp"]
    exp_table = compile_table("e", expr="exp(-x)", in_format=f"u{f.bits}.{f.frac}",
                              out_format="u10.9", entries=entries, interp=interp,
                              tails="clamp", range=(0, 8))
    interp, entries = opts["recip"]
    recip_table = compile_table("r", expr="1/(1+x)", in_format="u10.10", out_format="u11.10",
                                entries=entries, interp=interp, tails="clamp", range=(0, 1))
    return {"exp_table": exp_table, "recip_table": recip_table}


@functools.lru_cache(maxsize=None)
def compiled(name: str) -> Softmax:
    n, fin, fout, opts = CASES[name]
    return softmax(n, fin, fout, **_given_tables(fin, opts))


def _vectors(sm: Softmax, data, count: int) -> np.ndarray:
    fin = sm.in_format
    # logits within a few units of one another, so the exponents are not all 0
    centre = data.draw(st.integers(fin.min_code, fin.max_code))
    spread = data.draw(st.sampled_from([1, 4, 16, fin.max_code - fin.min_code]))
    lo, hi = max(fin.min_code, centre - spread), min(fin.max_code, centre + spread)
    return np.array(data.draw(st.lists(st.lists(st.integers(lo, hi), min_size=sm.n,
                                                max_size=sm.n),
                                       min_size=1, max_size=count)), dtype=np.int64)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_kernel_matches_naive(name, data):
    sm = compiled(name)
    rows = _vectors(sm, data, 8)
    assert np.array_equal(sm.eval_int(rows), naive_softmax_batch(sm, rows))


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_no_strict_reordering(name, data):
    """x_i > x_j never gives y_i < y_j: the exp table is monotone (checked at compile)."""
    sm = compiled(name)
    rows = _vectors(sm, data, 16)
    y = sm.eval_int(rows)
    bigger = rows[:, :, None] > rows[:, None, :]
    assert not np.any(bigger & (y[:, :, None] < y[:, None, :]))


def test_exp_table_is_checked_monotone_over_every_difference():
    # exp(-d) + 0.2 sin(4d) rises after each trough: refused, and the code where it rises named
    wavy = compile_table("w", expr="exp(-x)+0.2*sin(4*x)", in_format="u8.4", out_format="u9.8",
                         entries=64, interp="linear", tails="clamp", range=(0, 8))
    with pytest.raises(SpecError, match=r"non-increasing; it rises at difference code \d+"):
        softmax(4, "s8.4", exp_table=wavy)


def test_issue_case_is_fitted_within_the_rom_target():
    """N = 10, ap_fixed<16,6>: both tables fitted to 1 LSB, ROM below half of hls4ml's 36 864."""
    sm = softmax(10, "ap_fixed<16,6>")
    assert str(sm.diff_format) == "u16.10"
    assert str(sm.exp_table.out_format) == "u15.14" and str(sm.recip_table.in_format) == "u16.16"
    assert sm.sum_bits == 15 + 4 and sm.product_bits == 30
    assert sm.rom_bits == sm.exp_table.rom_bits + sm.recip_table.rom_bits <= 36864 // 2
    # one maximal logit and nine far below it: probability 1.0 = 1024 codes
    codes = np.array([[-30000] * 9 + [30000]])
    assert sm.eval_int(codes).tolist() == [[0] * 9 + [1024]]
    # ten equal logits: 0.1 each, 102.4 codes, rounded to 102
    assert sm.eval_int(np.zeros((1, 10), dtype=np.int64)).tolist() == [[102] * 10]


def test_output_saturates_where_one_is_not_representable():
    sm = compiled("n3_s6.2_u8.8")
    # one logit far above the others: p = 1.0 is 256 codes of u8.8, held at 255
    assert sm.eval_int(np.array([31, -32, -32])).tolist() == [255, 0, 0]


@pytest.mark.parametrize("call, error, message", [
    (lambda: softmax(0, "s8.4"), SpecError, "softmax length n must be an integer 1..65536, got 0"),
    (lambda: softmax(2.5, "s8.4"), SpecError, "got 2.5"),
    (lambda: softmax(4, "int8(0.1,0)"), FormatError, "power-of-two input format"),
    (lambda: softmax(4, "s8.4", "uint8(0.00390625,0)"), FormatError, "power-of-two output"),
    (lambda: softmax(4, "s26.4"), FormatError, "more than 2^24"),
    (lambda: softmax(4, "s8.4", exp_frac=0), SpecError, "exp_frac must be an integer 1..30"),
    (lambda: softmax(4, "s8.4", exp_table="table"), SpecError, "must be a lutgen Table, got str"),
])
def test_bad_arguments_name_the_value(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("^", r"\^").replace(".", r"\.")):
        call()


def test_given_tables_must_fit_the_glue():
    tables = _given_tables("s8.4", {"exp": ("linear", 16), "recip": ("nearest", 8)})
    with pytest.raises(SpecError, match=r"exp_table must take the difference codes u6\.2, not u8\.4"):
        softmax(4, "s6.2", **tables)
    with pytest.raises(SpecError, match=r"recip_table must take a mantissa format uM\.M, not u8\.4"):
        softmax(4, "s8.4", exp_table=tables["exp_table"], recip_table=tables["exp_table"])
    # the final shift Fr + kmin - Fo would be 10 + 9 - 20 < 1: nothing left to round
    with pytest.raises(SpecError, match="final shift Fr \\+ kmin - Fo = -1 must be at least 1"):
        softmax(4, "s8.4", "s24.20", **tables)


def test_eval_int_checks_its_input():
    sm = compiled("n1_s8.4")
    with pytest.raises(SpecError, match=r"shape \(count, 1\) or \(1,\), got \(2, 2\)"):
        sm.eval_int(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(SpecError, match="integer array"):
        sm.eval_int(np.zeros((2, 1)))
    with pytest.raises(RangeError, match=r"input code 128 is outside s8\.4 \(-128\.\.127\)"):
        sm.eval_int(np.array([[128]]))


def test_eval_quantises_reals_with_the_input_format():
    sm = compiled("n10_ap8")
    x = np.array([[0.0] * 9 + [2.0]])
    assert np.array_equal(sm.eval(x), sm.out_format.dequantize(sm.eval_int(sm.quantize(x))))
    assert sm.eval(x).shape == (1, 10)


@pytest.mark.parametrize("first", ["package", "module"])
def test_lutgen_softmax_compiles_whichever_is_imported_first(first):
    """`lutgen.softmax` is also the module's name: importing the module first made
    `lutgen.softmax(...)` a call of a module."""
    import subprocess
    import sys

    setup = ("import lutgen" if first == "package"
             else "from lutgen.softmax import Softmax; import lutgen")
    code = f"{setup}; print(lutgen.softmax(2, 's6.2').rom_bits > 0)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "True", out.stderr
