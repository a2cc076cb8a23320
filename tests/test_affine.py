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
