"""Fixed-point formats: notations, derived figures, quantisation (with a naive Fraction model)."""

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lutgen import FixedFormat, FormatError, LutgenError, Overflow, QuantizationError, Rounding

R, O = Rounding, Overflow
FLOOR_WRAP = (R.FLOOR, O.WRAP)  # the Vitis HLS defaults AP_TRN, AP_WRAP
DEFAULT = (R.NEAREST_UP, O.SATURATE)

# ---- notations -------------------------------------------------------------------------------
# (text, signed, bits, frac, (rounding, overflow)); each row derived from the notation's
# definition: ARM Qm.n has m integer bits plus a sign bit; CMSIS qN is Q0.N; ap_fixed<W,I>
# has I integer bits including the sign, so frac = W - I; fixdt(s, W, F) has F fraction bits.
NOTATIONS = [
    ("s16.12", True, 16, 12, DEFAULT),
    ("S16.12", True, 16, 12, DEFAULT),
    ("u8.8", False, 8, 8, DEFAULT),
    ("s16.-3", True, 16, -3, DEFAULT),
    ("u4.6", False, 4, 6, DEFAULT),
    ("  s8.7  ", True, 8, 7, DEFAULT),
    ("q15", True, 16, 15, DEFAULT),
    ("q7", True, 8, 7, DEFAULT),
    ("q31", True, 32, 31, DEFAULT),
    ("Q3.12", True, 16, 12, DEFAULT),
    ("UQ1.7", False, 8, 7, DEFAULT),
    ("Q15", True, 16, 15, DEFAULT),
    ("UQ0.8", False, 8, 8, DEFAULT),
    ("ap_fixed<16,4>", True, 16, 12, FLOOR_WRAP),
    ("ap_fixed< 16 , 4 >", True, 16, 12, FLOOR_WRAP),
    ("ap_ufixed<8,1>", False, 8, 7, FLOOR_WRAP),
    ("ap_fixed<8,10>", True, 8, -2, FLOOR_WRAP),
    ("ap_fixed<16,4,AP_RND,AP_SAT>", True, 16, 12, (R.NEAREST_UP, O.SATURATE)),
    ("ap_fixed<16,4,AP_RND,AP_SAT,0>", True, 16, 12, (R.NEAREST_UP, O.SATURATE)),
    ("ap_ufixed<8,1,AP_RND_CONV,AP_WRAP>", False, 8, 7, (R.NEAREST_EVEN, O.WRAP)),
    # every quantisation mode of UG1399 ("Arbitrary precision fixed-point types"):
    ("ap_fixed<16,4,AP_TRN>", True, 16, 12, (R.FLOOR, O.WRAP)),  # truncate to -inf
    ("ap_fixed<16,4,AP_TRN_ZERO>", True, 16, 12, (R.TOWARD_ZERO, O.WRAP)),
    ("ap_fixed<16,4,AP_RND>", True, 16, 12, (R.NEAREST_UP, O.WRAP)),  # ties to +inf
    ("ap_fixed<16,4,AP_RND_ZERO>", True, 16, 12, (R.NEAREST_ZERO, O.WRAP)),
    ("ap_fixed<16,4,AP_RND_MIN_INF>", True, 16, 12, (R.NEAREST_DOWN, O.WRAP)),
    ("ap_fixed<16,4,AP_RND_INF>", True, 16, 12, (R.NEAREST_AWAY, O.WRAP)),
    ("ap_fixed<16,4,AP_RND_CONV>", True, 16, 12, (R.NEAREST_EVEN, O.WRAP)),
    # every overflow mode of UG1399 ("Overflow Modes"):
    ("ap_fixed<16,4,AP_RND,AP_SAT_SYM>", True, 16, 12, (R.NEAREST_UP, O.SATURATE_SYM)),
    ("ap_fixed<16,4,AP_RND,AP_SAT_ZERO>", True, 16, 12, (R.NEAREST_UP, O.SATURATE_ZERO)),
    ("ap_fixed<16,4,AP_TRN,AP_WRAP_SM>", True, 16, 12, (R.FLOOR, O.WRAP_SM)),
    ("ap_ufixed<8,1,AP_RND,AP_SAT_SYM>", False, 8, 7, (R.NEAREST_UP, O.SATURATE_SYM)),
    # ap_int<N>(double) truncates toward zero (C++'s conversion), then wraps
    ("ap_int<8>", True, 8, 0, (R.TOWARD_ZERO, O.WRAP)),
    ("ap_uint< 16 >", False, 16, 0, (R.TOWARD_ZERO, O.WRAP)),
    ("ap_int<1>", True, 1, 0, (R.TOWARD_ZERO, O.WRAP)),
    ("s16.12:nearest-up,saturate-sym", True, 16, 12, (R.NEAREST_UP, O.SATURATE_SYM)),
    ("s16.12:floor,wrap_sm", True, 16, 12, (R.FLOOR, O.WRAP_SM)),
    ("fixdt(1,16,12)", True, 16, 12, DEFAULT),
    ("fixdt(0,8,8)", False, 8, 8, DEFAULT),
    ("fixdt(1, 16, -2)", True, 16, -2, DEFAULT),
    ("s16.12:floor,wrap", True, 16, 12, (R.FLOOR, O.WRAP)),
    ("u8.8:nearest_even, error", False, 8, 8, (R.NEAREST_EVEN, O.ERROR)),
]


@pytest.mark.parametrize("text, signed, bits, frac, modes", NOTATIONS,
                         ids=[n[0] for n in NOTATIONS])
def test_parse(text, signed, bits, frac, modes):
    f = FixedFormat.parse(text)
    assert (f.signed, f.bits, f.frac) == (signed, bits, frac)
    assert (f.rounding, f.overflow) == modes
    assert FixedFormat.parse(str(f)) == f
    assert eval(repr(f), {"FixedFormat": FixedFormat}) == f
    assert FixedFormat.parse(f) is f


def test_canonical_text():
    assert str(FixedFormat.parse("Q3.12")) == "s16.12"
    assert repr(FixedFormat.parse("Q3.12")) == "FixedFormat.parse('s16.12')"
    assert str(FixedFormat.parse("ap_fixed<16,4>")) == "s16.12:floor,wrap"
    assert str(FixedFormat(False, 8, 8, "nearest-even", "error")) == "u8.8:nearest-even,error"


def test_equivalent_notations_are_equal():
    assert FixedFormat.parse("Q3.12") == FixedFormat.parse("s16.12") == FixedFormat.parse(
        "fixdt(1,16,12)") == FixedFormat(True, 16, 12)
    assert FixedFormat.parse("q15") == FixedFormat.parse("Q15") == FixedFormat.parse("Q0.15")
    # the same bits with HLS modes are a different format
    assert FixedFormat.parse("ap_fixed<16,4>") != FixedFormat.parse("s16.12")
    assert FixedFormat.parse("ap_fixed<16,4,AP_RND,AP_SAT>") == FixedFormat.parse("s16.12")


# (text, what the message must contain besides the quoted text)
PARSE_ERRORS = [
    ("s33.1", "word bits must be 1..32, got 33"),
    ("s0.0", "word bits must be 1..32, got 0"),
    ("s8.300", "fraction bits must be within -256..256"),
    ("x16.2", "write one of"),
    ("s16", "write one of"),
    ("s16.1.2", "write one of"),
    ("", "write one of"),
    ("Q3.", "write one of"),
    ("ap_fixed<16>", "write one of"),
    ("ap_fixed<16,4,AP_FOO>", "unknown quantisation mode 'AP_FOO'"),
    ("ap_fixed<16,4,ap_rnd>", "unknown quantisation mode 'ap_rnd'"),
    ("ap_fixed<16,4,AP_RND,AP_SAT_SYMM>", "unknown overflow mode 'AP_SAT_SYMM'"),
    ("ap_fixed<16,4,AP_RND,AP_SATURATE>", "allowed: AP_WRAP, AP_SAT, AP_SAT_SYM, AP_SAT_ZERO, "
     "AP_WRAP_SM"),
    ("ap_ufixed<8,1,AP_RND,AP_WRAP_SM>", "wrap-sm (AP_WRAP_SM) needs a signed format"),
    ("u8.8:floor,wrap-sm", "wrap-sm (AP_WRAP_SM) needs a signed format"),
    ("ap_int<40>", "word bits must be 1..32, got 40"),
    ("ap_uint<0>", "word bits must be 1..32, got 0"),
    ("ap_int<8,2>", "write one of"),
    ("ap_fixed<16,4,AP_RND,AP_SAT,2>", "saturation bits N=2"),
    ("ap_fixed<16,4,AP_RND,AP_SAT,0,1>", "at most W, I, Q, O, N"),
    ("ap_fixed<40,4>", "word bits must be 1..32, got 40"),
    ("ap_ufixed<0,0>", "word bits must be 1..32, got 0"),
    ("fixdt(2,16,12)", "fixdt signedness must be 0 or 1, got 2"),
    ("fixdt(1,33,0)", "word bits must be 1..32, got 33"),
    ("s16.12:floor", "modes are written ':ROUNDING,OVERFLOW'"),
    ("s16.12:flor,wrap", "unknown rounding mode 'flor'"),
    ("s16.12:floor,clamp", "unknown overflow mode 'clamp'"),
]


@pytest.mark.parametrize("text, expected", PARSE_ERRORS,
                         ids=[e[0] or "empty" for e in PARSE_ERRORS])
def test_parse_errors(text, expected):
    with pytest.raises(FormatError) as info:
        FixedFormat.parse(text)
    message = str(info.value)
    assert repr(text.strip()) in message
    assert expected in message
    assert isinstance(info.value, ValueError) and isinstance(info.value, LutgenError)


@pytest.mark.parametrize("value", [16, None, 1.5])
def test_parse_needs_text(value):
    with pytest.raises(FormatError, match="must be text"):
        FixedFormat.parse(value)


@pytest.mark.parametrize(
    "args, match",
    [
        ((True, 16.0, 12), "bits must be an integer, got 16.0"),
        ((True, True, 12), "bits must be an integer, got True"),
        ((True, 16, "12"), "frac must be an integer"),
        ((True, 16, 12, "bogus"), "unknown rounding mode 'bogus'; allowed: nearest-even"),
        ((True, 16, 12, "floor", "clip"), "unknown overflow mode 'clip'; allowed: saturate"),
    ],
)
def test_constructor_validates(args, match):
    with pytest.raises(FormatError, match=match):
        FixedFormat(*args)


def test_constructor_normalises_types():
    f = FixedFormat(1, np.int64(16), np.int32(12), "NEAREST_EVEN", "WRAP")
    assert f.signed is True and type(f.bits) is int and type(f.frac) is int
    assert f.rounding is R.NEAREST_EVEN and f.overflow is O.WRAP


# ---- derived figures ---------------------------------------------------------------------
# (text, lsb, min, max, n_codes, int_bits), worked by hand: lsb = 2**-frac,
# min = min_code * lsb, max = max_code * lsb, int_bits = bits - frac - sign.
DERIVED = [
    ("s16.12", 2**-12, -32768 / 4096, 32767 / 4096, 65536, 3),  # max 7.999755859375
    ("u8.8", 1 / 256, 0.0, 255 / 256, 256, 0),  # max 0.99609375
    ("s16.-3", 8.0, -32768 * 8, 32767 * 8, 65536, 18),  # -262144 .. 262136
    ("q7", 1 / 128, -1.0, 127 / 128, 256, 0),
    ("u4.6", 1 / 64, 0.0, 15 / 64, 16, -2),  # max 0.234375
    ("s1.0", 1.0, -1.0, 0.0, 2, 0),
    ("u32.0", 1.0, 0.0, 4294967295.0, 2**32, 32),
]


@pytest.mark.parametrize("text, lsb, lo, hi, n_codes, int_bits", DERIVED,
                         ids=[d[0] for d in DERIVED])
def test_derived_figures(text, lsb, lo, hi, n_codes, int_bits):
    f = FixedFormat.parse(text)
    assert (f.lsb, f.min, f.max, f.n_codes, f.int_bits) == (lsb, lo, hi, n_codes, int_bits)
    if n_codes <= 2**16:
        codes = f.codes()
        assert codes.dtype == np.int64 and len(codes) == n_codes
        assert codes[0] == f.min_code and codes[-1] == f.max_code
        assert np.all(np.diff(codes) == 1)


def test_frozen_slotted_and_hashable():
    f = FixedFormat.parse("s16.12")
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.bits = 8
    with pytest.raises((AttributeError, TypeError)):
        f.extra = 1
    table = {f: "q"}
    assert table[FixedFormat.parse("Q3.12")] == "q"
    assert hash(FixedFormat.parse("fixdt(1,16,12)")) == hash(f)
    assert len({f, FixedFormat(True, 16, 12), FixedFormat.parse("ap_fixed<16,4>")}) == 2


def test_mode_coercion():
    assert Rounding.coerce("NEAREST_AWAY") is R.NEAREST_AWAY
    assert Rounding.coerce(R.CEIL) is R.CEIL
    assert Overflow.coerce(" Saturate ") is O.SATURATE
    with pytest.raises(FormatError, match="unknown overflow mode 'sat'"):
        Overflow.coerce("sat")


# ---- a naive model: exact rationals and Python ints ----------------------------------------
def naive_round(q: Fraction, mode: Rounding) -> int:
    """Round the exact rational q to an integer the way ``mode`` says."""
    if mode is R.FLOOR:
        return math.floor(q)
    if mode is R.CEIL:
        return math.ceil(q)
    if mode is R.TOWARD_ZERO:
        return math.trunc(q)
    f = math.floor(q)
    d = q - f
    if d != Fraction(1, 2):
        return f + (d > Fraction(1, 2))
    return {  # an exact tie between f and f + 1
        R.NEAREST_EVEN: f + (f % 2),
        R.NEAREST_UP: f + 1,
        R.NEAREST_DOWN: f,
        R.NEAREST_AWAY: f + 1 if q > 0 else f,
        R.NEAREST_ZERO: f if q > 0 else f + 1,
    }[mode]


def naive_quantize(fmt: FixedFormat, x: float, rounding: Rounding, overflow: Overflow):
    """The code of x, or None where quantize must raise."""
    # AP_SAT_SYM: the most negative code is -max (UG1399: ap_fixed<4,4,AP_RND,AP_SAT_SYM> of
    # -19.0 is -7.0); a 1-bit signed word has no -max but 0, and keeps -1 (as the HLS header)
    lo = -fmt.max_code if overflow is O.SATURATE_SYM and fmt.signed and fmt.bits > 1 \
        else fmt.min_code
    if math.isnan(x):
        return None
    if math.isinf(x):
        if overflow is O.SATURATE_ZERO:
            return 0
        if overflow not in (O.SATURATE, O.SATURATE_SYM):
            return None
        return fmt.max_code if x > 0 else lo
    exact = Fraction(x) * Fraction(2) ** fmt.frac
    n = naive_round(exact, rounding)
    if lo <= n <= fmt.max_code:
        return n
    if overflow in (O.SATURATE, O.SATURATE_SYM):
        return min(max(n, lo), fmt.max_code)
    if overflow is O.SATURATE_ZERO:
        return 0
    wrapped = (n - fmt.min_code) % (1 << fmt.bits) + fmt.min_code  # keep the low `bits` bits
    if overflow is O.WRAP:
        return wrapped
    if overflow is O.WRAP_SM:
        # ap_fixed_base::overflow_adjust: when the first dropped bit of the unrounded value
        # differs from the sign of the wrapped one, invert every bit
        dropped = (math.floor(exact) >> fmt.bits) & 1
        return wrapped if dropped == (wrapped < 0) else -1 - wrapped
    return None


formats = st.builds(FixedFormat, st.booleans(), st.integers(1, 32), st.integers(-8, 40))
roundings = st.sampled_from(list(Rounding))
overflows = st.sampled_from(list(Overflow))
NEAREST = [R.NEAREST_EVEN, R.NEAREST_UP, R.NEAREST_DOWN, R.NEAREST_AWAY, R.NEAREST_ZERO]


@st.composite
def format_and_value(draw, finite=True):
    """A format and a value: any float, or one near the format's grid and range."""
    fmt = draw(formats)
    near = st.builds(
        lambda k, off: (k + off) * fmt.lsb,
        st.integers(fmt.min_code - 4, fmt.max_code + 4),
        st.sampled_from([0.0, 0.5, 0.25, -0.25]) | st.floats(0, 1),
    )
    x = draw(st.floats(allow_nan=False, allow_infinity=not finite) | near)
    return fmt, x


def in_range(fmt, x):
    return fmt.min <= x <= fmt.max


@settings(max_examples=400)
@given(format_and_value(finite=False), roundings, overflows)
def test_quantize_matches_naive_model(fx, rounding, overflow):
    fmt, x = fx
    if overflow is O.WRAP_SM and not fmt.signed:
        with pytest.raises(FormatError, match="needs a signed format"):
            fmt.quantize(x, rounding, overflow)
        return
    expected = naive_quantize(fmt, x, rounding, overflow)
    if expected is None:
        with pytest.raises(QuantizationError):
            fmt.quantize(x, rounding, overflow)
    else:
        assert fmt.quantize(x, rounding, overflow) == expected


@given(format_and_value(), roundings, st.sampled_from([O.SATURATE, O.WRAP]))
def test_codes_stay_in_the_format(fx, rounding, overflow):
    fmt, x = fx
    code = fmt.quantize(np.array([x, -x]), rounding, overflow)
    assert code.dtype == np.int64
    assert np.all((fmt.min_code <= code) & (code <= fmt.max_code))


@given(formats, roundings, st.floats(1, 1e300))
def test_saturate_clips_beyond_the_range(fmt, rounding, beyond):
    above = fmt.max + fmt.lsb * beyond
    below = fmt.min - fmt.lsb * beyond
    assert fmt.quantize(above, rounding, "saturate") == fmt.max_code
    assert fmt.quantize(below, rounding, "saturate") == fmt.min_code
    for x in (above, below):
        with pytest.raises(QuantizationError, match="overflows"):
            fmt.quantize(x, rounding, "error")


@given(format_and_value())
def test_directed_roundings(fx):
    fmt, x = fx
    assume(in_range(fmt, x))
    dq = {m: float(fmt.dequantize(fmt.quantize(x, m, "error"))) for m in Rounding}
    assert dq[R.FLOOR] <= x < dq[R.FLOOR] + fmt.lsb
    assert dq[R.CEIL] - fmt.lsb < x <= dq[R.CEIL]
    assert abs(dq[R.TOWARD_ZERO]) <= abs(x) and math.copysign(1, dq[R.TOWARD_ZERO] or x) == \
        math.copysign(1, x)


@given(format_and_value(), st.sampled_from(NEAREST))
def test_nearest_roundings_are_within_half_an_lsb(fx, rounding):
    fmt, x = fx
    assume(in_range(fmt, x))
    dq = float(fmt.dequantize(fmt.quantize(x, rounding, "error")))
    assert abs(dq - x) <= fmt.lsb / 2


@given(formats, st.data())
def test_exact_ties(fmt, data):
    # x = (k + 1/2) lsb is exactly between codes k and k + 1 (exact in float64: k < 2**32)
    k = data.draw(st.integers(fmt.min_code, fmt.max_code - 1), label="k") if fmt.bits > 1 \
        else fmt.min_code
    assume(k + 1 <= fmt.max_code)
    x = (k + 0.5) * fmt.lsb
    expected = {
        R.NEAREST_EVEN: k if k % 2 == 0 else k + 1,
        R.NEAREST_UP: k + 1,  # toward +inf
        R.NEAREST_DOWN: k,  # toward -inf
        R.NEAREST_AWAY: k + 1 if k >= 0 else k,  # x > 0 exactly when k >= 0
        R.NEAREST_ZERO: k if k >= 0 else k + 1,
    }
    for mode, code in expected.items():
        assert fmt.quantize(x, mode) == code, mode


@pytest.mark.parametrize(
    "x, even, up, down, away, zero",
    [  # s8.0: ties of integers + 1/2, rounded by hand
        (2.5, 2, 3, 2, 3, 2),
        (3.5, 4, 4, 3, 4, 3),
        (-2.5, -2, -2, -3, -3, -2),
        (-3.5, -4, -3, -4, -4, -3),
        (0.5, 0, 1, 0, 1, 0),
        (-0.5, 0, 0, -1, -1, 0),
    ],
)
def test_tie_table(x, even, up, down, away, zero):
    f = FixedFormat(True, 8, 0)
    got = [int(f.quantize(x, m)) for m in NEAREST]
    assert got == [even, up, down, away, zero]


@given(format_and_value(), roundings)
def test_wrap_is_twos_complement_of_the_rounded_integer(fx, rounding):
    fmt, x = fx
    n = naive_round(Fraction(x) * Fraction(2) ** fmt.frac, rounding)
    low = n & ((1 << fmt.bits) - 1)  # Python ints: the low bits of the two's complement
    expected = low - (1 << fmt.bits) if fmt.signed and low >= 1 << (fmt.bits - 1) else low
    assert fmt.quantize(x, rounding, "wrap") == expected


def test_wrap_examples():
    f = FixedFormat(True, 8, 0)  # s8.0 by hand: 128 -> -128, 300 = 256 + 44, -129 -> 127
    np.testing.assert_array_equal(f.quantize([128, 300, -129, -256], overflow="wrap"),
                                  [-128, 44, 127, 0])
    u = FixedFormat(False, 4, 2)  # u4.2: 4.0 is code 16 -> 0; -0.25 is -1 -> 15
    np.testing.assert_array_equal(u.quantize([4.0, -0.25, 4.25], overflow="wrap"), [0, 15, 1])
    # a finite value whose scaled code overflows float64 is a multiple of 2**971: wraps to 0
    assert FixedFormat(True, 8, 40).quantize(1e300, overflow="wrap") == 0


def test_tiny_values_keep_their_side_of_zero():
    # 5e-324 * 2**-1 underflows to 0 in float64; floor and ceil still see its sign
    f = FixedFormat(True, 8, -1)
    assert f.quantize(-5e-324, "floor") == -1
    assert f.quantize(5e-324, "ceil") == 1
    assert f.quantize(5e-324, "floor") == 0 and f.quantize(-5e-324, "ceil") == 0
    assert f.quantize(-5e-324, "nearest-away") == 0


@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize("overflow", list(Overflow))
def test_nan_is_an_error(rounding, overflow):
    f = FixedFormat(True, 16, 12)
    with pytest.raises(QuantizationError, match="NaN"):
        f.quantize(math.nan, rounding, overflow)
    with pytest.raises(QuantizationError, match="NaN"):
        f.quantize([0.0, math.nan], rounding, overflow)


@pytest.mark.parametrize("rounding", list(Rounding))
def test_inf(rounding):
    f = FixedFormat(True, 16, 12)
    np.testing.assert_array_equal(f.quantize([math.inf, -math.inf], rounding, "saturate"),
                                  [32767, -32768])
    np.testing.assert_array_equal(f.quantize([math.inf, -math.inf], rounding, "saturate-sym"),
                                  [32767, -32767])
    np.testing.assert_array_equal(f.quantize([math.inf, -math.inf], rounding, "saturate-zero"),
                                  [0, 0])
    for overflow in ("wrap", "wrap-sm", "error"):
        with pytest.raises(QuantizationError, match="overflows"):
            f.quantize(math.inf, rounding, overflow)
        with pytest.raises(QuantizationError, match="overflows"):
            f.quantize([0.0, -math.inf], rounding, overflow)


@given(formats, st.data(), roundings, overflows)
def test_on_grid_values_round_trip(fmt, data, rounding, overflow):
    assume(fmt.signed or overflow is not O.WRAP_SM)
    code = data.draw(st.integers(fmt.min_code, fmt.max_code), label="code")
    x = float(fmt.dequantize(code))
    assert x == code * 2.0 ** -fmt.frac
    if overflow is O.SATURATE_SYM and fmt.signed and fmt.bits > 1 and code == fmt.min_code:
        assert fmt.quantize(x, rounding, overflow) == -fmt.max_code  # -max is the least code
    else:
        assert fmt.quantize(x, rounding, overflow) == code


# Conversions of doubles by Vitis HLS's ap_fixed.h, compiled with g++: (type, x, result).
# The first rows are UG1399's own examples ("Overflow Modes"); the others were printed by
# the header itself (ap_fixed_base(double), ap_int_base(double)), chosen where the modes
# differ: the most negative code, a rounding carry into the dropped bits, sign-magnitude wrap.
HLS_CONVERSIONS = [
    ("ap_fixed<4,4,AP_RND,AP_SAT>", 19.0, 7.0),
    ("ap_fixed<4,4,AP_RND,AP_SAT>", -19.0, -8.0),
    ("ap_ufixed<4,4,AP_RND,AP_SAT>", 19.0, 15.0),
    ("ap_ufixed<4,4,AP_RND,AP_SAT>", -19.0, 0.0),
    ("ap_fixed<4,4,AP_RND,AP_SAT_ZERO>", 19.0, 0.0),
    ("ap_fixed<4,4,AP_RND,AP_SAT_ZERO>", -19.0, 0.0),
    ("ap_ufixed<4,4,AP_RND,AP_SAT_ZERO>", 19.0, 0.0),
    ("ap_ufixed<4,4,AP_RND,AP_SAT_ZERO>", -19.0, 0.0),
    ("ap_fixed<4,4,AP_RND,AP_SAT_SYM>", 19.0, 7.0),
    ("ap_fixed<4,4,AP_RND,AP_SAT_SYM>", -19.0, -7.0),
    ("ap_ufixed<4,4,AP_RND,AP_SAT_SYM>", 19.0, 15.0),
    ("ap_ufixed<4,4,AP_RND,AP_SAT_SYM>", -19.0, 0.0),
    ("ap_fixed<4,4,AP_RND,AP_WRAP>", 31.0, -1.0),
    ("ap_fixed<4,4,AP_RND,AP_WRAP_SM>", 19.0, -4.0),
    ("ap_fixed<4,4,AP_RND,AP_WRAP_SM>", -19.0, 2.0),
    # printed by the header
    ("ap_fixed<4,4,AP_RND,AP_SAT_SYM>", -8.0, -7.0),  # in range, yet -8 becomes -max
    ("ap_fixed<4,4,AP_RND,AP_SAT_SYM>", -8.25, -7.0),
    ("ap_fixed<4,4,AP_RND,AP_SAT_ZERO>", 7.5, 0.0),  # rounds up to 8: overflow
    ("ap_fixed<4,4,AP_RND,AP_SAT_ZERO>", -8.5, -8.0),  # ties up: -8 is in range
    ("ap_fixed<4,4,AP_RND,AP_WRAP_SM>", 7.5, 7.0),
    ("ap_fixed<4,4,AP_RND,AP_WRAP_SM>", 15.5, 0.0),  # the carry reaches the dropped bit
    ("ap_fixed<1,1,AP_RND,AP_SAT_SYM>", -3.0, -1.0),  # one bit: no -max but 0; -1 stays
    ("ap_int<8>", -2.7, -2.0),
    ("ap_int<8>", 128.0, -128.0),
    ("ap_int<8>", -300.7, -44.0),
    ("ap_uint<8>", -2.5, 254.0),
    ("ap_fixed<8,8>", -2.7, -3.0),  # ap_fixed<N,N> floors where ap_int<N> truncates
]


@pytest.mark.parametrize("text, x, expected", HLS_CONVERSIONS)
def test_conversions_match_vitis_hls(text, x, expected):
    fmt = FixedFormat.parse(text)
    assert float(fmt.dequantize(fmt.quantize(x))) == expected


def test_default_modes_are_the_formats():
    hls = FixedFormat.parse("ap_fixed<8,4>")  # s8.4, floor, wrap
    assert hls.quantize(0.09) == 1  # 0.09 * 16 = 1.44 -> floor 1
    assert hls.quantize(8.0) == -128  # code 128 wraps
    assert hls.quantize(0.09, rounding="ceil") == 2
    assert hls.quantize(8.0, overflow="saturate") == 127
    assert FixedFormat.parse("s8.4").quantize(0.09) == 1  # nearest 1.44 -> 1
    assert FixedFormat.parse("s8.4").quantize(8.0) == 127


def test_scalars_stay_scalars():
    f = FixedFormat(True, 16, 12)
    code = f.quantize(0.5)
    assert isinstance(code, np.int64) and code == 2048
    assert np.ndim(f.dequantize(code)) == 0 and f.dequantize(code) == 0.5
    arr = f.quantize([[0.5, -0.25]])
    assert isinstance(arr, np.ndarray) and arr.shape == (1, 2) and arr.dtype == np.int64
    np.testing.assert_array_equal(arr, [[2048, -1024]])
    zero_d = f.quantize(np.float64(1.0))
    assert np.ndim(zero_d) == 0 and zero_d == 4096


def test_dequantize_needs_integer_codes():
    f = FixedFormat(True, 16, 12)
    with pytest.raises(QuantizationError, match="codes must be integers, got dtype float64"):
        f.dequantize(np.array([1.0]))
    np.testing.assert_array_equal(f.dequantize(np.array([4096, -1], dtype=np.int16)),
                                  [1.0, -2**-12])


def test_wrap_method():
    f = FixedFormat(True, 4, 0)  # codes -8..7; 8 -> -8, 15 -> -1, -9 -> 7
    np.testing.assert_array_equal(f.wrap([8, 15, -9, 3]), [-8, -1, 7, 3])
    u = FixedFormat(False, 4, 0)
    np.testing.assert_array_equal(u.wrap([16, -1, 5]), [0, 15, 5])
