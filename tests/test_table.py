"""The table compiler: ranges, formats, tails, folding, fitting, guard bits, errors."""

import numpy as np
import pytest

import lutgen
from lutgen import compile_table
from lutgen.analysis import analyze
from tests import naive


def reaches_floor(table):
    r = analyze(table)
    return r.max_error_lsb <= r.floor_max_error_lsb + 1e-12


# ---- piecewise-linear functions reach the error floor -----------------------------------
@pytest.mark.parametrize("name,params", [("relu", {}), ("relu6", {}),
                                         ("leaky_relu", {"alpha": 0.125})])
def test_piecewise_linear_reaches_floor_without_guard_bits(name, params):
    # knots every 1/16 over [-8, 8): the breakpoints 0 and 6 are knots, slopes are dyadic
    table = compile_table(name, params=params, range=(-8, 8), entries=256, guard_bits=0)
    assert reaches_floor(table)


@pytest.mark.parametrize("name,guard", [("hard_sigmoid_torch", 2), ("hard_sigmoid", 3)])
def test_non_dyadic_slopes_need_guard_bits_to_reach_floor(name, guard):
    # slopes 1/6 and 0.2 are not representable: the knots round, and only guard bits
    # keep that rounding from adding to the final one
    with_guard = compile_table(name, range=(-8, 8), entries=256, guard_bits=guard)
    fewer = compile_table(name, range=(-8, 8), entries=256, guard_bits=guard - 1)
    assert reaches_floor(with_guard)
    assert not reaches_floor(fewer)


def test_quant_relu_is_exact_with_steps_on_segment_boundaries():
    # levels=4, max_val=1: steps at 1/8, 3/8, 5/8, 7/8; 128 segments of 1/8 over [-8, 8)
    table = compile_table("quant_relu", interp="none", entries=128, range=(-8, 8))
    report = analyze(table)
    assert report.max_error_lsb == 0.0
    # linear interpolation cannot follow a jump
    assert analyze(compile_table("quant_relu", entries=128, range=(-8, 8))).max_error_lsb > 1


# ---- minimax ---------------------------------------------------------------------------
SMALL = [n for n, a in lutgen.activations().items()
         if not a.composite and a.n_outputs == 1 and a.category != "user"]


@pytest.mark.parametrize("in_format", ["s8.4", "s16.12"])
@pytest.mark.parametrize("interp", ["linear", "none"])
def test_minimax_is_never_worse_than_sample(in_format, interp):
    worse = []
    for name in SMALL:
        try:
            sample = compile_table(name, in_format=in_format, interp=interp, entries=64)
        except lutgen.LutgenError:
            continue  # e.g. a default range outside this format
        minimax = compile_table(name, in_format=in_format, interp=interp, entries=64,
                                fit="minimax")
        a, b = analyze(sample), analyze(minimax)
        if a.range_max_error_lsb is not None and b.range_max_error_lsb > a.range_max_error_lsb:
            worse.append((name, a.range_max_error_lsb, b.range_max_error_lsb))
    assert not worse


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "gelu"])
def test_minimax_is_strictly_better_for_smooth_linear_tables(name):
    a = analyze(compile_table(name, in_format="s16.12", entries=256))
    b = analyze(compile_table(name, in_format="s16.12", entries=256, fit="minimax"))
    assert b.range_max_error_lsb < 0.8 * a.range_max_error_lsb


def test_a_full_8bit_table_is_already_correctly_rounded():
    table = compile_table("sigmoid", in_format="s8.4", entries=256)
    assert table.shift == 0
    assert reaches_floor(table)


def test_folded_minimax_sigmoid_is_faithful_in_a_small_rom():
    table = compile_table("sigmoid", in_format="s16.12", out_format="s16.14", entries=128,
                          fold=True, fit="minimax", guard_bits=3)
    report = analyze(table)
    assert report.faithful and report.max_error_lsb < 1
    assert table.values.size == 129 and report.rom_bits <= 2400
    # the same table unfolded, sampled, without guard bits is not faithful
    plain = analyze(compile_table("sigmoid", in_format="s16.12", out_format="s16.14",
                                  entries=256, guard_bits=0))
    assert not plain.faithful


# ---- range, formats --------------------------------------------------------------------
def test_range_is_widened_to_whole_segments_and_says_so():
    table = compile_table("relu6", range=(0, 6), entries=256)
    assert table.range == (0.0, 8.0)
    assert table.shift == 7
    assert any("widened from [0, 6) to [0, 8)" in n for n in table.notes)
    exact = compile_table("relu6", range=(-8, 8), entries=256)
    assert exact.notes == ()


def test_default_entries_shrink_to_the_codes_in_range():
    table = compile_table("exp", in_format="s8.4")  # [-8, 0): 128 codes
    assert table.entries == 128 and table.shift == 0


def test_automatic_output_format_fits_the_values():
    assert str(compile_table("sigmoid").out_format) == "s16.15"
    assert str(compile_table("relu6").out_format) == "s16.12"  # 6 needs 3 integer bits
    assert str(compile_table("sigmoid", derivative=True).out_format) == "s16.16"  # 0.25 = 2^-2
    assert str(compile_table("exp", in_format="u8.4", range=(0, 8)).out_format) == "u8.-4"
    with pytest.raises(lutgen.SpecError, match="more than 32 integer bits"):
        compile_table("exp", in_format="s32.16", range=(0, 512))


def test_saturation_is_counted_not_hidden():
    # q15 tanh: 1.0 is not representable, so large inputs saturate at 1 - 2^-15
    table = compile_table("tanh", in_format="s16.12", out_format="q15", range=(-8, 8))
    report = analyze(table)
    assert table.eval_int(np.array([32767]))[0] == 32767
    assert report.saturated > 0


# ---- tails ----------------------------------------------------------------------------
def test_asymptote_tails_let_a_small_gelu_cover_the_whole_input():
    table = compile_table("gelu", range=(-4, 4), out_format="s16.12")
    assert [t.mode for t in table.tails] == ["asymptote", "asymptote"]
    report = analyze(table)
    assert report.n_tail_inputs == 32768
    assert report.tails_max_error_lsb < 1.0
    clamped = analyze(compile_table("gelu", range=(-4, 4), out_format="s16.12", tails="clamp"))
    assert clamped.tails_max_error_lsb > 1000


def test_line_tail_with_a_non_dyadic_slope_is_a_fixed_point_multiply():
    table = compile_table("leaky_relu", range=(0, 4), entries=64, out_format="s16.12")
    left = table.tails[0]
    assert left.mode == "asymptote" and left.m not in (0, 1) and left.m & (left.m - 1)
    report = analyze(table)
    assert report.tails_max_error_lsb <= 0.5 + 1e-3


def test_tails_auto_clamps_functions_without_a_linear_asymptote():
    assert [t.mode for t in compile_table("sigmoid", range=(-4, 4)).tails] == ["clamp"] * 2


# ---- folding ----------------------------------------------------------------------------
@pytest.mark.parametrize("name,kind", [("tanh", "odd"), ("sigmoid", "point"),
                                       ("cosine", "even")])
def test_fold_halves_the_table_and_keeps_the_error(name, kind):
    folded = compile_table(name, in_format="s16.12", entries=128, fold=True, range=(-4, 4))
    full = compile_table(name, in_format="s16.12", entries=256, range=(-4, 4))
    assert folded.fold.value == kind
    assert folded.values.size == full.values.size // 2 + 1
    a, b = analyze(folded), analyze(full)
    assert a.range_max_error_lsb <= b.range_max_error_lsb + 1.0
    assert a.fold_mismatches <= 0.01 * a.n_inputs


def test_fold_needs_symmetry_and_a_signed_input():
    with pytest.raises(lutgen.SpecError, match="cannot be folded"):
        compile_table("exp", fold=True)
    with pytest.raises(lutgen.SpecError, match="signed input"):
        compile_table("sigmoid", in_format="u16.12", fold=True, range=(0, 8))


# ---- other outputs ----------------------------------------------------------------------
def test_crelu_is_two_tables():
    x = np.array([-2.0, -0.5, 0.0, 1.5])
    pos = compile_table("crelu", output=0, in_format="s8.4")
    neg = compile_table("crelu", output=1, in_format="s8.4")
    np.testing.assert_array_equal(pos.eval(x), np.maximum(x, 0))
    np.testing.assert_array_equal(neg.eval(x), np.maximum(-x, 0))
    assert pos.name == "crelu_0" and neg.name == "crelu_1"
    with pytest.raises(lutgen.SpecError, match="choose output 0..1"):
        compile_table("crelu")


def test_derivative_table_follows_the_derivative():
    table = compile_table("sigmoid", derivative=True, fit="minimax")
    x = np.linspace(-7.9, 7.9, 101)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(table.eval(x), s * (1 - s), atol=4 * table.out_format.lsb)


# ---- bad specs --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"entries": 3}, lutgen.SpecError, "power of two"),
        ({"entries": 1 << 21}, lutgen.SpecError, "power of two from 1 to 1048576"),
        ({"entries": 1024, "in_format": "s8.4"}, lutgen.SpecError, "exceed the 256 input codes"),
        ({"guard_bits": -1}, lutgen.SpecError, "guard bits"),
        ({"interp": "cubic"}, lutgen.SpecError, "unknown interp 'cubic'"),
        ({"range": (4, -4)}, lutgen.RangeError, "empty"),
        ({"range": (-9, 0)}, lutgen.RangeError, "outside the input format"),
        ({"in_format": "q15", "range": None}, None, None),
    ],
)
def test_bad_specs_raise_typed_errors(kwargs, error, match):
    if error is None:
        compile_table("sigmoid", **kwargs)
        return
    with pytest.raises(error, match=match):
        compile_table("sigmoid", **kwargs)


def test_function_not_finite_in_range_is_a_domain_error():
    with pytest.raises(lutgen.DomainError, match="not finite on the range"):
        compile_table("reciprocal", range=(-1, 1))
    with pytest.raises(lutgen.DomainError):
        compile_table("exp", in_format="s32.16", range=(0, 1000))


def test_accumulator_wider_than_64_bits_is_refused():
    with pytest.raises(lutgen.SpecError, match="accumulator"):
        compile_table("linear", in_format="s32.0", out_format="s32.0", entries=2,
                      guard_bits=24, range=(-2**31, 2**31 - 1))


def test_same_spec_same_table_and_tables_are_frozen():
    a = compile_table("gelu", fit="minimax")
    b = compile_table("gelu", fit="minimax")
    np.testing.assert_array_equal(a.values, b.values)
    with pytest.raises(ValueError):
        a.values[0] = 1
    with pytest.raises(ValueError):
        a.prog[0] = 1


# ---- none / nearest entries hold only what the output can show -----------------------------
@pytest.mark.parametrize("interp", ["none", "nearest"])
def test_direct_entries_are_clipped_to_the_output_range_without_changing_an_output(interp):
    """u8.8 sigmoid: entries that round to 256 only saturate; stored in 8 bits, not 9."""
    table = compile_table("sigmoid", in_format="u8.4", out_format="u8.8", interp=interp,
                          entries=128 if interp == "none" else 64)
    assert table.store_bits == 8 and int(table.values.max()) == 255
    assert table.rom_bits == 8 * table.values.size
    codes = table.in_format.codes()
    # every output is what the unclipped arithmetic gives: the rounded, saturated reference
    want = np.clip(np.floor(lutgen.reference("sigmoid", table.in_format.dequantize(codes))
                            * 256 + 0.5), 0, 255)
    if interp == "none":
        np.testing.assert_array_equal(table.eval_int(codes), want)
    assert int(table.eval_int(codes).max()) == 255


def test_a_negating_fold_keeps_the_entries_its_mirror_needs():
    """tanh s8.4 -> s8.7: +1.0 (code 128) saturates to 127, but its mirror -1.0 is -128."""
    table = compile_table("tanh", in_format="s8.4", out_format="s8.7", interp="none",
                          entries=64, fold=True)
    codes = table.in_format.codes()
    y = table.eval_int(codes)
    assert int(y.min()) == -128 and int(y.max()) == 127
    assert [naive.naive_eval(table, c) for c in codes] == [int(v) for v in y]
