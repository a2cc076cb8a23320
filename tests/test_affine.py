"""Affine (scale, zero point) formats: notation, quantisation as ONNX QuantizeLinear, tables."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lutgen import FixedFormat
from lutgen.errors import FormatError

# ---- notation ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, signed, bits, scale, zp", [
    ("int8(0.0235,-3)", True, 8, 0.0235, -3),
    ("uint8(0.00390625,0)", False, 8, 0.00390625, 0),
    ("int16(3.0517578125e-05,0)", True, 16, 2.0**-15, 0),
    ("uint16(0.5,65535)", False, 16, 0.5, 65535),
    ("int32(1e-06,-7)", True, 32, 1e-6, -7),
])
def test_parse_and_print(text, signed, bits, scale, zp):
    fmt = FixedFormat.parse(text)
    assert (fmt.signed, fmt.bits, fmt.scale, fmt.zero_point) == (signed, bits, scale, zp)
    assert fmt.is_affine and fmt.frac == 0
    assert str(fmt) == text
    assert FixedFormat.parse(str(fmt)) == fmt
    assert eval(repr(fmt)) == fmt  # noqa: S307 - the repr pastes back


def test_print_is_canonical_shortest_scale():
    assert str(FixedFormat.parse(" INT8( 0.02350 , +3 )")) == "int8(0.0235,3)"
    assert str(FixedFormat.parse("int8(2.35e-2,-3)")) == "int8(0.0235,-3)"
    assert str(FixedFormat.affine("uint8", 1 / 255, 0)) == "uint8(0.00392156862745098,0)"


def test_modes_suffix_only_when_not_onnx_default():
    fmt = FixedFormat.parse("int8(0.5,1)")
    assert fmt.rounding.value == "nearest-even" and fmt.overflow.value == "saturate"
    other = FixedFormat.parse("int8(0.5,1):floor,wrap")
    assert str(other) == "int8(0.5,1):floor,wrap"
    assert other.quantize(0.9) == 2  # floor(1.8) + 1


@pytest.mark.parametrize("text, message", [
    ("uint32(1,0)", "unknown storage type 'uint32' in 'uint32(1,0)'; allowed: int8, uint8, "
                    "int16, uint16, int32"),
    ("int8(0,0)", "bad format 'int8(0,0)': scale must be a positive finite number, got 0.0"),
    ("int8(-1,0)", "bad format 'int8(-1,0)': scale must be a positive finite number, got -1.0"),
    ("int8(inf,0)", "bad format 'int8(inf,0)': scale must be a positive finite number, got inf"),
    ("int8(x,0)", "scale 'x' in 'int8(x,0)' is not a number; write e.g. int8(0.0235,-3)"),
    ("int8(1,1.5)", "zero point '1.5' in 'int8(1,1.5)' is not an integer; write e.g. "
                    "int8(0.0235,-3)"),
    ("int8(1,128)", "bad format 'int8(1,128)': zero point 128 is outside int8 (-128..127)"),
    ("uint8(1,-1)", "bad format 'uint8(1,-1)': zero point -1 is outside uint8 (0..255)"),
])
def test_bad_notation(text, message):
    with pytest.raises(FormatError) as exc:
        FixedFormat.parse(text)
    assert str(exc.value) == message


def test_constructor_checks():
    with pytest.raises(FormatError, match="a zero point needs a scale"):
        FixedFormat(True, 8, 0, zero_point=3)
    with pytest.raises(FormatError, match="storage is one of"):
        FixedFormat(True, 12, 0, scale=0.1)
    with pytest.raises(FormatError, match="affine format has frac 0"):
        FixedFormat(True, 8, 3, scale=0.1)


# ---- quantisation: ONNX QuantizeLinear ---------------------------------------------------


def test_real_of_zero_point_is_zero():
    fmt = FixedFormat.parse("int8(0.0235,-3)")
    assert fmt.dequantize(np.array([-3])).tolist() == [0.0]
    assert fmt.lsb == 0.0235
    assert fmt.min == 0.0235 * (-128 + 3) and fmt.max == 0.0235 * (127 + 3)


def test_quantize_rounds_half_to_even_before_adding_the_zero_point():
    # scale 0.5: x / scale is exact, so the ties are real ties
    odd = FixedFormat.parse("int8(0.5,1)")
    # 0.25 / 0.5 = 0.5 -> 0 (even) -> + 1 = 1; rounding 0.5 + 1 = 1.5 would give 2
    assert odd.quantize([0.25, 0.75, -0.25, -0.75]).tolist() == [1, 3, 1, -1]
    even = FixedFormat.parse("uint8(0.5,10)")
    assert even.quantize([0.25, 0.75, 1.25]).tolist() == [10, 12, 12]


def test_quantize_saturates_and_handles_inf():
    fmt = FixedFormat.parse("uint8(0.1,100)")
    assert fmt.quantize([-1e9, 1e9, -np.inf, np.inf, 15.5, -10.0]).tolist() == [
        0, 255, 0, 255, 255, 0]
    with pytest.raises(Exception, match="NaN"):
        fmt.quantize(np.nan)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["int8", "uint8", "int16", "uint16", "int32"]),
       st.floats(1e-6, 100.0), st.data())
def test_quantize_dequantize_round_trip(storage, scale, data):
    probe = FixedFormat.affine(storage, scale, 0)
    zp = data.draw(st.integers(probe.min_code, probe.max_code))
    fmt = FixedFormat.affine(storage, scale, zp)
    q = data.draw(st.integers(fmt.min_code, fmt.max_code))
    assert int(fmt.quantize(fmt.dequantize(np.array([q])))[0]) == q
    # and a real value goes to the nearest code (either one at a tie)
    x = data.draw(st.floats(fmt.min, fmt.max))
    code = int(fmt.quantize(x))
    assert abs(float(fmt.dequantize(np.array([code]))[0]) - x) <= 0.5 * scale * (1 + 1e-9)


def test_power_of_two_formats_unchanged():
    fmt = FixedFormat.parse("s8.4")
    assert not fmt.is_affine and fmt.scale is None and fmt.zero_point == 0
    assert fmt.rounding.value == "nearest-up" and str(fmt) == "s8.4"
    assert fmt.real_to_codes(1.0) == 16.0 and fmt.codes_to_real(16) == 1.0


# ---- tables over affine formats -----------------------------------------------------------
from fractions import Fraction  # noqa: E402
import json  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from lutgen.analysis import analyze  # noqa: E402
from lutgen.cli import cli  # noqa: E402
from lutgen.errors import SpecError  # noqa: E402
from lutgen.spec import TableSpec  # noqa: E402
from lutgen.table import compile_table  # noqa: E402
from tests import naive  # noqa: E402

GELU_INT8 = dict(in_format="int8(0.0235,-3)", out_format="int8(0.0235,-3)")

TABLES = {
    "gelu-linear-asymptote": dict(name="gelu", **GELU_INT8, range=(-1, 1), entries=16,
                                  tails="asymptote"),
    "gelu-minimax-clamp": dict(name="gelu", **GELU_INT8, range=(-2, 2), entries=32,
                               tails="clamp", coeffs="minimax"),
    "gelu-other-scale": dict(name="gelu", in_format="int8(0.0235,-3)",
                             out_format="int8(0.0187,5)", range=(-1.5, 1.5), entries=32,
                             tails="asymptote", guard_bits=3),
    "sigmoid-uint8-nearest": dict(name="sigmoid", in_format="uint8(0.05,128)",
                                  out_format="uint8(0.00390625,0)", range=(-3, 3), entries=32,
                                  interp="nearest", tails="asymptote"),
    "sigmoid-fold-point": dict(name="sigmoid", in_format="int8(0.05,0)",
                               out_format="uint8(0.00390625,0)", range=(-3, 3), fold=True,
                               entries=16, tails="asymptote"),
    "tanh-fold-odd-zp": dict(name="tanh", in_format="int8(0.03,0)",
                             out_format="int8(0.0078125,-1)", range=(-2, 2), fold=True,
                             entries=16, interp="none", coeffs="minimax"),
    "tanh-fold-about-zp": dict(name="tanh", in_format="int8(0.03,-3)",
                               out_format="int8(0.0078125,-1)", range=(-2, 2), fold=True,
                               entries=16, coeffs="minimax"),
    "sigmoid-uint8-fold-about-128": dict(name="sigmoid", in_format="uint8(0.05,128)",
                                         out_format="uint8(0.00390625,0)", range=(-3, 3),
                                         fold=True, entries=16, tails="asymptote"),
    "cosine-fold-even-about-zp": dict(name="cosine", in_format="int8(0.05,-20)",
                                      out_format="int8(0.0078125,0)", range=(-3, 3),
                                      fold=True, entries=16, interp="nearest"),
    "silu-int16": dict(name="silu", in_format="int16(0.0005,-100)",
                       out_format="int16(0.0007,-300)", range=(-4, 4), entries=64,
                       tails="asymptote"),
}


@pytest.fixture(scope="module", params=sorted(TABLES))
def affine_table(request):
    return compile_table(**TABLES[request.param])


def _some_codes(table):
    codes = table.in_format.codes()
    return codes if codes.size <= 4096 else codes[::7]


def test_kernel_matches_the_naive_pipeline(affine_table):
    codes = _some_codes(affine_table)
    np.testing.assert_array_equal(affine_table.eval_int(codes),
                                  naive.naive_eval_codes(affine_table, codes))


# sampled linear knots: minimax entries are chosen otherwise, none/nearest ones are clipped
SAMPLED_LINEAR = sorted(k for k, v in TABLES.items() if v.get("coeffs", "sample") == "sample"
                        and v.get("interp", "linear") == "linear")


@pytest.mark.parametrize("case", SAMPLED_LINEAR)
def test_sample_entries_are_the_rounded_reference_in_output_codes(case):
    table = compile_table(**TABLES[case])
    assert [int(v) for v in table.values] == naive.naive_sample_values(table)


def test_analysis_reports_errors_in_output_codes_and_real_units(affine_table):
    report = analyze(affine_table)
    codes = affine_table.in_format.codes()
    errors = [naive.naive_error_lsb(affine_table, int(c), int(y))
              for c, y in zip(codes, affine_table.eval_int(codes))]
    worst = max(e for e in errors if e is not None)
    assert report.max_error_lsb == pytest.approx(float(worst), rel=1e-9, abs=1e-9)
    scale = affine_table.out_format.scale
    assert report.max_abs_error == pytest.approx(float(worst) * scale, rel=1e-9)
    best = [naive.best_code(affine_table, int(c)) for c in codes]
    floor = max(abs(b - naive.reference_lsb(affine_table, int(c)))
                for b, c in zip(best, codes))
    assert report.floor_max_error_lsb == pytest.approx(float(floor), rel=1e-9, abs=1e-9)


def test_gelu_int8_done_when():
    """The issue's table: int8 GELU at scale 0.0235 / zero point -3, asymptote tails."""
    t = compile_table("gelu", **GELU_INT8, range=(-1, 1), entries=16, tails="asymptote")
    left, right = t.tails
    # left: y = 0, the output code of real 0 is the zero point -3
    assert (left.m, left.c) == (0, -3 << left.k)
    # right: y = x with equal scales and zero points is the identity on codes
    assert (right.m, right.c) == (1 << right.k, 0)
    assert t.eval_int(np.array([127, -128])).tolist() == [127, -3]
    report = analyze(t)
    assert report.tails_max_error_lsb is not None and report.saturated == 0
    # the real value of an output code uses the output's zero point
    assert t.eval(np.array([0.0])).tolist() == [0.0]


def test_non_dyadic_slope_line_in_code_space():
    t = compile_table(**TABLES["gelu-other-scale"])
    right = t.tails[1]
    a = 0.0235 / 0.0187  # output codes per input code
    assert abs(right.m / 2**right.k - a) <= 2.0 ** -right.k
    assert abs(right.c / 2**right.k - (5 + 3 * a)) <= 2.0 ** -right.k
    codes = np.arange(t.hi_code, 128)
    got = t.eval_int(codes).astype(np.int64)
    exact = [naive.round_half_up(Fraction(0.0235) / Fraction(0.0187) * (int(c) + 3) + 5)
             for c in codes]
    assert np.array_equal(got, np.clip(exact, -128, 127))


def test_eval_quantises_real_inputs_as_onnx_does():
    t = compile_table("gelu", in_format="int8(0.5,1)", out_format="int8(0.5,1)",
                      range=(-8, 8), entries=16)
    x = np.array([0.25, 0.75, -0.25, 1e9])
    codes = t.quantize(x)
    assert codes.tolist() == [1, 3, 1, 127]  # round half to even, then + zero point
    assert t.eval(x).tolist() == (0.5 * (t.eval_int(codes).astype(float) - 1)).tolist()


@pytest.mark.parametrize("case", ["tanh-fold-about-zp", "sigmoid-uint8-fold-about-128",
                                  "cosine-fold-even-about-zp"])
def test_fold_mirrors_about_the_input_zero_point(case):
    t = compile_table(**TABLES[case])
    z = t.in_format.zero_point
    assert t.lo_code == z and t.prog[17] == z  # the table starts at the code of real 0
    # inside the range, x < z is served as 2z - x: equal (even) or mirrored about the
    # output code of the centre (F / 2^G), up to the one-LSB tie effect and saturation
    d = np.arange(1, 40)
    below = t.eval_int(z - d).astype(np.int64)
    above = t.eval_int(z + d).astype(np.int64)
    if t.fold.value == "even":
        assert np.array_equal(below, above)
    else:
        f_out = t.fold_f / 2**t.guard_bits
        assert np.abs(below - (f_out - above)).max() <= 1


def test_fold_halves_the_table_of_an_affine_tanh():
    unfolded = compile_table("tanh", in_format="int8(0.03,-3)", out_format="int8(0.0078125,-1)",
                             range=(-2, 2), interp="none", entries=128)
    folded = compile_table("tanh", in_format="int8(0.03,-3)", out_format="int8(0.0078125,-1)",
                           range=(-2, 2), interp="none", entries=64, fold=True)
    assert folded.rom_bits < unfolded.rom_bits
    assert analyze(folded).max_error_lsb <= analyze(unfolded).max_error_lsb + 0.5


def test_fold_needs_inputs_below_real_zero():
    with pytest.raises(SpecError) as exc:
        compile_table("tanh", in_format="uint8(0.03,0)", out_format="int8(0.0078125,0)",
                      fold=True)
    assert str(exc.value) == ("folding mirrors the inputs below real 0 (code 0), but "
                              "uint8(0.03,0) has none; drop --fold")
    with pytest.raises(SpecError, match="folding needs a signed input format, got u8.4"):
        compile_table("tanh", in_format="u8.4", fold=True)


def test_fold_centre_between_output_codes_is_refused():
    with pytest.raises(SpecError) as exc:
        compile_table("sigmoid", in_format="int8(0.05,0)", out_format="uint8(0.0039,0)",
                      fold=True, guard_bits=0)
    assert str(exc.value).startswith("the fold centre 0.5 lies between two codes of uint8(")


def test_spec_round_trip_keeps_the_affine_formats():
    t = compile_table(**TABLES["gelu-other-scale"])
    spec = TableSpec.from_dict(json.loads(json.dumps(t.spec.to_dict())))
    assert spec.in_format == t.spec.in_format and spec.out_format == t.spec.out_format


def test_cli_builds_and_names_bad_affine_formats(tmp_path):
    run = CliRunner().invoke
    ok = run(cli, ["build", "gelu", "--in-format", "int8(0.0235,-3)", "--out-format",
                   "int8(0.0235,-3)", "--range", "-1", "1", "--entries", "16", "--emit", "c",
                   "-o", str(tmp_path / "out")])
    assert ok.exit_code == 0, ok.output
    header = (tmp_path / "out" / "gelu.h").read_text()
    assert "#define LUTGEN_GELU_IN_SCALE 0.0235" in header
    assert "#define LUTGEN_GELU_IN_ZERO_POINT (-3)" in header
    bad = run(cli, ["build", "gelu", "--in-format", "int8(0.0235,-300)", "-o",
                    str(tmp_path / "bad")])
    assert bad.exit_code == 2
    assert bad.output.strip().splitlines()[-1].startswith(
        "Error: ") and "zero point -300 is outside int8 (-128..127)" in bad.output
    assert not (tmp_path / "bad").exists()


def test_batch_project_accepts_affine_formats(tmp_path):
    project = tmp_path / "p.toml"
    project.write_text('name = "q"\nemit = ["c"]\n[[tables]]\nactivation = "gelu"\n'
                       'in_format = "int8(0.0235,-3)"\nout_format = "uint8(0.02,10)"\n'
                       'entries = 16\n')
    result = CliRunner().invoke(cli, ["batch", str(project), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "OUT_ZERO_POINT 10" in (tmp_path / "out" / "gelu.h").read_text()


# ---- the property: random affine tables against the document --------------------------------
from hypothesis import HealthCheck, assume  # noqa: E402

import lutgen  # noqa: E402
from tests.test_kernels import ACTS, BY_SYMMETRY, FOLD_KINDS, _check_sample_fit  # noqa: E402

# dyadic and non-dyadic scales, as calibration tools choose them
SCALES = [0.0235, 0.0187, 1 / 255, 0.00390625, 0.05, 0.1, 0.5, 0.013, 3e-4]


@st.composite
def affine_specs(draw):
    kind = draw(st.sampled_from([None, None, *FOLD_KINDS]))
    name = draw(st.sampled_from(BY_SYMMETRY[kind] if kind else ACTS))
    storage = draw(st.sampled_from(["int8", "uint8", "int8", "uint8", "int16"]))
    probe = FixedFormat.affine(storage, 1.0, 0)
    zp = draw(st.integers(probe.min_code, probe.max_code) | st.just(0))
    fin = FixedFormat.affine(storage, draw(st.sampled_from(SCALES)), zp)
    out = None
    if draw(st.integers(0, 3)):
        ostorage = draw(st.sampled_from(["int8", "uint8", "int16", "uint16"]))
        oprobe = FixedFormat.affine(ostorage, 1.0, 0)
        ozp = draw(st.integers(oprobe.min_code, oprobe.max_code) | st.just(0))
        out = FixedFormat.affine(ostorage, draw(st.sampled_from(SCALES)), ozp)
    rng = None
    if draw(st.booleans()):
        a, b = sorted(draw(st.lists(st.integers(fin.min_code, fin.max_code + 1), min_size=2,
                                    max_size=2, unique=True)))
        rng = (float(fin.codes_to_real(a)), float(fin.codes_to_real(b)))
    return dict(name=name, in_format=fin, out_format=out, range=rng, fold=kind is not None,
                entries=draw(st.none() | st.integers(0, 7).map(lambda k: 1 << k)),
                interp=draw(st.sampled_from(["none", "nearest", "linear"])),
                tails=draw(st.sampled_from(["auto", "clamp", "asymptote"])),
                coeffs=draw(st.sampled_from(["sample", "minimax"])) if fin.bits <= 8 else "sample",
                guard_bits=draw(st.none() | st.integers(0, 4)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(spec=affine_specs())
def test_affine_kernel_matches_the_document(spec):
    kwargs = dict(spec)
    try:
        table = compile_table(kwargs.pop("name"), **kwargs)
    except lutgen.LutgenError:
        assume(False)
    codes = table.in_format.codes()
    if codes.size > 4096:
        codes = np.unique(np.concatenate([codes[::37], [table.lo_code, table.hi_code - 1]]))
        codes = codes[(codes >= table.in_format.min_code) & (codes <= table.in_format.max_code)]
    traces = [naive.trace(table, c) for c in codes]
    expected = np.array([t.y for t in traces], dtype=np.int64)
    got = table.eval_int(codes)
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, (f"input {codes[bad[0]]}: kernel {got[bad[0]]}, document "
                           f"{expected[bad[0]]}; {table.to_dict()}")
    for t in traces:
        assert -(2 ** (table.acc_bits - 1)) <= t.acc < 2 ** (table.acc_bits - 1)
    if table.spec.coeffs.value == "sample":
        _check_sample_fit(table)


def test_entries_at_exact_ties_round_as_the_document_says():
    """y = x at half-code centres: y / scale is a tie that float64 division may miss."""
    t = compile_table("linear", in_format="int8(0.0235,0)", out_format="int8(0.0235,0)",
                      interp="none", entries=128, guard_bits=0)
    assert [int(v) for v in t.values] == naive.naive_sample_values(t)
