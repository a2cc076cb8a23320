"""Fixed-point formats: the value type, its notations, quantisation.

A :class:`FixedFormat` is a two's-complement (or unsigned) integer of ``bits``
bits whose real value is ``code * 2**-frac``. ``frac`` may be negative or larger
than ``bits``, as FloPoCo's LSB positions are.

Notations understood by :meth:`FixedFormat.parse`:

========================  ====================================================
``s16.12``, ``u8.8``      canonical: signedness, word bits, fraction bits
``q15``, ``q7``, ``q31``  CMSIS: signed, ``bits - 1`` fraction bits
``Q3.12``, ``UQ1.7``      ARM Q notation: integer bits **exclude** the sign
                          (TI's convention counts it; lutgen follows ARM)
``ap_fixed<16,4>``        Vitis HLS / hls4ml: W total bits, I integer bits
``ap_ufixed<8,1>``        including the sign; optional quantisation and
                          overflow arguments (``ap_fixed<16,4,AP_RND,AP_SAT>``)
                          set the format's default modes (HLS defaults:
                          ``AP_TRN``, ``AP_WRAP``)
``ap_int<8>``             Vitis HLS integers: ``s8.0`` and ``u8.0`` with the modes
``ap_uint<8>``            of C++'s conversion from double (``toward-zero``, ``wrap``)
``fixdt(1,16,12)``        MATLAB: signed, word length, fraction length
``int8(0.0235,-3)``       affine (TFLite/ONNX): storage type (``int8``, ``uint8``,
``uint8(0.00390625,0)``   ``int16``, ``uint16``, ``int32``), real ``scale`` and
                          integer ``zero_point``: real = scale * (code - zero_point);
                          quantised as ONNX's QuantizeLinear does (round half to
                          even, add the zero point, saturate)
========================  ====================================================

A power-of-two format is the affine format of scale ``2**-frac`` and zero point 0;
an affine format keeps ``frac`` at 0 and carries ``scale`` and ``zero_point``.
Every conversion between codes and reals goes through :meth:`FixedFormat.real_to_codes`
and :meth:`FixedFormat.codes_to_real`, which serve both kinds.

The canonical text is ``s16.12``; a format whose default modes differ from
lutgen's (nearest-up, saturate) prints them after a colon: ``s16.12:floor,wrap``.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass

import numpy as np

from ._affine import AFFINE_NAMES, AFFINE_STORAGE, check_affine, parse_affine, scale_affine
from .errors import FormatError, QuantizationError, SpecError

__all__ = ["FixedFormat", "Rounding", "Overflow", "sized_format", "c_word_bits"]

MAX_BITS = 32
C_WORD_BITS = (8, 16, 32, 64)  # the exact-width types of <stdint.h>


def c_word_bits(bits: int) -> int:
    """Width of the narrowest ``<stdint.h>`` integer holding ``bits``-bit words.

    The C header stores a table in it (``int16_t`` for 9..16 bits): a 17-bit
    word costs 32 bits of flash on an MCU.
    """
    for width in C_WORD_BITS:
        if bits <= width:
            return width
    raise FormatError(f"{bits}-bit words fit no <stdint.h> type (at most 64 bits)")


class Rounding(enum.Enum):
    """How a real value between two codes picks one of them."""

    NEAREST_EVEN = "nearest-even"  # convergent; AP_RND_CONV, IEEE default
    NEAREST_UP = "nearest-up"  # ties toward +inf: add half, shift; AP_RND, MATLAB Nearest
    NEAREST_DOWN = "nearest-down"  # ties toward -inf; AP_RND_MIN_INF
    NEAREST_AWAY = "nearest-away"  # ties away from zero; AP_RND_INF, MATLAB Round
    NEAREST_ZERO = "nearest-zero"  # ties toward zero; AP_RND_ZERO
    FLOOR = "floor"  # truncation of two's complement; AP_TRN
    CEIL = "ceil"
    TOWARD_ZERO = "toward-zero"  # AP_TRN_ZERO, C's integer division

    @classmethod
    def coerce(cls, value) -> "Rounding":
        return _coerce(cls, value, "rounding")


class Overflow(enum.Enum):
    """What happens to a value beyond the format's codes."""

    SATURATE = "saturate"  # AP_SAT
    SATURATE_SYM = "saturate-sym"  # AP_SAT_SYM: to [-max, max], so the most negative code is -max
    SATURATE_ZERO = "saturate-zero"  # AP_SAT_ZERO: an overflow becomes 0
    WRAP = "wrap"  # AP_WRAP, two's-complement wrap-around
    WRAP_SM = "wrap-sm"  # AP_WRAP_SM, sign-magnitude wrap-around (signed formats only)
    ERROR = "error"

    @classmethod
    def coerce(cls, value) -> "Overflow":
        return _coerce(cls, value, "overflow")


def _coerce(cls, value, what):
    if isinstance(value, cls):
        return value
    text = str(value).strip().lower().replace("_", "-")
    for member in cls:
        if member.value == text:
            return member
    allowed = ", ".join(m.value for m in cls)
    raise FormatError(f"unknown {what} mode {value!r}; allowed: {allowed}")


_AP_ROUNDING = {
    "AP_TRN": Rounding.FLOOR,
    "AP_TRN_ZERO": Rounding.TOWARD_ZERO,
    "AP_RND": Rounding.NEAREST_UP,
    "AP_RND_ZERO": Rounding.NEAREST_ZERO,
    "AP_RND_MIN_INF": Rounding.NEAREST_DOWN,
    "AP_RND_INF": Rounding.NEAREST_AWAY,
    "AP_RND_CONV": Rounding.NEAREST_EVEN,
}
_AP_OVERFLOW = {
    "AP_WRAP": Overflow.WRAP,
    "AP_SAT": Overflow.SATURATE,
    "AP_SAT_SYM": Overflow.SATURATE_SYM,
    "AP_SAT_ZERO": Overflow.SATURATE_ZERO,
    "AP_WRAP_SM": Overflow.WRAP_SM,
}

_NUM = r"\s*(-?\d+)\s*"
_PATTERNS = [
    ("canonical", re.compile(r"^([su])(\d+)\.(-?\d+)$", re.I)),
    ("cmsis", re.compile(r"^q(\d+)$")),
    ("arm", re.compile(r"^(u?)q(\d+)(?:\.(\d+))?$", re.I)),
    ("ap", re.compile(r"^ap_(u?)fixed\s*<" + _NUM + "," + _NUM + r"((?:,\s*\w+\s*)*)>$")),
    ("ap_int", re.compile(r"^ap_(u?)int\s*<" + _NUM + r">$")),
    ("fixdt", re.compile(r"^fixdt\s*\(" + _NUM + "," + _NUM + "," + _NUM + r"\)$", re.I)),
    ("affine", re.compile(r"^(u?int)(\d+)\s*\(\s*([^,()]*?)\s*,\s*([^,()]*?)\s*\)$", re.I)),
]


_NOTATIONS = ("s16.12, u8.8, q15, Q3.12, UQ1.7, ap_fixed<16,4>, ap_ufixed<8,1,AP_RND,AP_SAT>, "
              "ap_int<8>, ap_uint<8>, fixdt(1,16,12), int8(0.0235,-3), uint8(0.00390625,0)")


@dataclass(frozen=True, slots=True)
class FixedFormat:
    """A fixed-point number format.

    Parameters
    ----------
    signed : bool
        Two's complement if true, unsigned otherwise.
    bits : int
        Word length, 1 to 32.
    frac : int
        Fraction bits: the real value is ``code * 2**-frac``. May be negative
        or exceed ``bits``.
    rounding, overflow : Rounding, Overflow
        The modes :meth:`quantize` uses when none is given (default: nearest-up and
        saturate; nearest-even and saturate for an affine format, as ONNX quantises).
    scale, zero_point : float or None, int
        An affine format (TFLite, ONNX): real = ``scale * (code - zero_point)``;
        ``frac`` must then be 0. ``None`` (the default): the power-of-two format.

    Examples
    --------
    >>> FixedFormat.parse("Q3.12")
    FixedFormat.parse('s16.12')
    >>> FixedFormat(True, 16, 12).max
    7.999755859375
    >>> FixedFormat.parse("int8(0.0235,-3)").dequantize(-3)
    0.0
    """

    signed: bool
    bits: int
    frac: int
    rounding: Rounding | None = None
    overflow: Overflow = Overflow.SATURATE
    scale: float | None = None
    zero_point: int = 0

    def __post_init__(self):
        for name in ("bits", "frac"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise FormatError(f"{name} must be an integer, got {value!r}")
            object.__setattr__(self, name, int(value))
        object.__setattr__(self, "signed", bool(self.signed))
        if not 1 <= self.bits <= MAX_BITS:
            raise FormatError(f"word bits must be 1..{MAX_BITS}, got {self.bits}")
        if abs(self.frac) > 256:
            raise FormatError(f"fraction bits must be within -256..256, got {self.frac}")
        check_affine(self)
        if self.rounding is None:
            default = Rounding.NEAREST_EVEN if self.is_affine else Rounding.NEAREST_UP
            object.__setattr__(self, "rounding", default)
        object.__setattr__(self, "rounding", Rounding.coerce(self.rounding))
        object.__setattr__(self, "overflow", Overflow.coerce(self.overflow))
        _check_overflow(self.overflow, self.signed)

    @classmethod
    def affine(cls, storage: str, scale: float, zero_point: int = 0, rounding=None,
               overflow=Overflow.SATURATE) -> "FixedFormat":
        """The affine format ``storage(scale, zero_point)``, e.g. ``affine("int8", 0.0235, -3)``.

        ``storage`` is one of ``int8``, ``uint8``, ``int16``, ``uint16``, ``int32``.
        """
        key = str(storage).strip().lower()
        if key not in AFFINE_STORAGE:
            raise FormatError(f"unknown storage type {storage!r}; allowed: "
                              + ", ".join(AFFINE_STORAGE))
        signed, bits = AFFINE_STORAGE[key]
        return cls(signed, bits, 0, rounding, overflow, scale, zero_point)

    @property
    def is_affine(self) -> bool:
        """True for a format written with a scale and a zero point (``int8(0.0235,-3)``)."""
        return self.scale is not None

    @property
    def zero_code(self) -> int:
        """The code of real 0 (the zero point; 0 for a power-of-two format)."""
        return self.zero_point

    # ---- notations -------------------------------------------------------------------
    @classmethod
    def parse(cls, text) -> "FixedFormat":
        """Parse any notation in the module docstring; a FixedFormat passes through."""
        if isinstance(text, FixedFormat):
            return text
        if not isinstance(text, str):
            raise FormatError(f"a format must be text such as 's16.12', got {text!r}")
        raw = text.strip()
        body, _, modes = raw.partition(":")
        try:
            fmt = cls._parse_body(body.strip(), raw)
            if modes:
                parts = [p.strip() for p in modes.split(",")]
                if len(parts) != 2:
                    raise FormatError(
                        f"cannot parse format {raw!r}: modes are written ':ROUNDING,OVERFLOW', "
                        "e.g. 's16.12:floor,wrap'"
                    )
                fmt = dataclasses.replace(fmt, rounding=Rounding.coerce(parts[0]),
                                          overflow=Overflow.coerce(parts[1]))
        except FormatError as exc:  # the constructor's and coerce's messages lack the text
            if repr(raw) in str(exc):
                raise
            raise FormatError(f"bad format {raw!r}: {exc}") from None
        return fmt

    @classmethod
    def _parse_body(cls, body: str, raw: str) -> "FixedFormat":
        for kind, pattern in _PATTERNS:
            m = pattern.match(body)
            if m is None:
                continue
            if kind == "canonical":
                return cls(m.group(1).lower() == "s", int(m.group(2)), int(m.group(3)))
            if kind == "cmsis":
                n = int(m.group(1))
                return cls(True, n + 1, n)
            if kind == "arm":
                unsigned = m.group(1) != ""
                if m.group(3) is None:  # Qn is Q0.n
                    ints, fracs = 0, int(m.group(2))
                else:
                    ints, fracs = int(m.group(2)), int(m.group(3))
                return cls(not unsigned, ints + fracs + (0 if unsigned else 1), fracs)
            if kind == "ap":
                return cls._parse_ap(m, raw)
            if kind == "ap_int":  # ap_int<N>(double) truncates toward zero, then wraps
                return cls(m.group(1) == "", int(m.group(2)), 0, Rounding.TOWARD_ZERO,
                           Overflow.WRAP)
            if kind == "affine":
                return cls.affine(*parse_affine(m, raw))
            if kind == "fixdt":
                s, w, f = (int(g) for g in m.groups())
                if s not in (0, 1):
                    raise FormatError(f"fixdt signedness must be 0 or 1, got {s} in {raw!r}")
                return cls(bool(s), w, f)
        raise FormatError(f"cannot parse format {raw!r}; write one of: {_NOTATIONS}")

    @classmethod
    def _parse_ap(cls, m, raw) -> "FixedFormat":
        signed = m.group(1) == ""
        width, ints = int(m.group(2)), int(m.group(3))
        args = [a.strip() for a in m.group(4).split(",") if a.strip()]
        rounding, overflow = Rounding.FLOOR, Overflow.WRAP  # the HLS defaults
        if len(args) > 3:
            raise FormatError(f"cannot parse format {raw!r}: at most W, I, Q, O, N")
        if args:
            if args[0] not in _AP_ROUNDING:
                raise FormatError(
                    f"unknown quantisation mode {args[0]!r} in {raw!r}; allowed: "
                    + ", ".join(_AP_ROUNDING)
                )
            rounding = _AP_ROUNDING[args[0]]
        if len(args) > 1:
            if args[1] not in _AP_OVERFLOW:
                raise FormatError(
                    f"unknown overflow mode {args[1]!r} in {raw!r}; allowed: "
                    + ", ".join(_AP_OVERFLOW)
                )
            overflow = _AP_OVERFLOW[args[1]]
        if len(args) > 2 and args[2] != "0":
            raise FormatError(f"saturation bits N={args[2]} in {raw!r} are not supported; use 0")
        return cls(signed, width, width - ints, rounding, overflow)

    def __str__(self) -> str:
        if self.is_affine:  # repr(float): the shortest text that reads back the same scale
            text = f"{AFFINE_NAMES[(self.signed, self.bits)]}({self.scale!r},{self.zero_point})"
            default = Rounding.NEAREST_EVEN
        else:
            text = f"{'s' if self.signed else 'u'}{self.bits}.{self.frac}"
            default = Rounding.NEAREST_UP
        if (self.rounding, self.overflow) != (default, Overflow.SATURATE):
            text += f":{self.rounding.value},{self.overflow.value}"
        return text

    def __repr__(self) -> str:
        return f"FixedFormat.parse({str(self)!r})"

    # ---- derived figures -------------------------------------------------------------
    @property
    def int_bits(self) -> int:
        """Integer bits, excluding the sign bit (ARM's m in Qm.n); power-of-two formats only."""
        return self.bits - self.frac - (1 if self.signed else 0)

    @property
    def n_codes(self) -> int:
        return 1 << self.bits

    @property
    def min_code(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max_code(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def lsb(self) -> float:
        """The real step between neighbouring codes: the scale (``2**-frac``)."""
        return self.scale if self.is_affine else float(2.0 ** -self.frac)

    @property
    def min(self) -> float:
        return float(self.codes_to_real(self.min_code))

    @property
    def max(self) -> float:
        return float(self.codes_to_real(self.max_code))

    def real_to_codes(self, x):
        """Real values to unrounded (float64) codes: ``x / scale + zero_point``."""
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(over="ignore", under="ignore"):
            if self.is_affine:
                return x / self.scale + self.zero_point
            return np.ldexp(x, self.frac)

    def codes_to_real(self, codes):
        """Codes (integers or float64 code positions) to reals: ``scale * (code - zero_point)``."""
        c = np.asarray(codes, dtype=np.float64)
        if self.is_affine:
            return self.scale * (c - self.zero_point)
        return np.ldexp(c, -self.frac)

    def codes(self) -> np.ndarray:
        """Every code of the format, ascending, as int64."""
        return np.arange(self.min_code, self.max_code + 1, dtype=np.int64)

    # ---- quantisation ----------------------------------------------------------------
    def quantize(self, x, rounding=None, overflow=None) -> np.ndarray:
        """Real values to integer codes (int64 array, or int64 scalar for a scalar).

        NaN is always an error. ``inf`` saturates, or is an error under wrap/error.
        """
        rounding = self.rounding if rounding is None else Rounding.coerce(rounding)
        overflow = self.overflow if overflow is None else Overflow.coerce(overflow)
        _check_overflow(overflow, self.signed)
        arr = np.asarray(x, dtype=np.float64)
        if np.isnan(arr).any():
            raise QuantizationError(f"cannot quantise NaN to {self}")
        wraps = overflow in (Overflow.WRAP, Overflow.WRAP_SM)
        if self.is_affine:
            # ONNX QuantizeLinear: round x / scale, then add the zero point (an odd zero point
            # must not move a tie to the other even neighbour)
            scaled = scale_affine(arr, self.scale, wraps)
            r = _round(scaled, rounding) + self.zero_point
            scaled = scaled + self.zero_point
        else:
            scaled = _scale(arr, self.frac, wraps)
            r = _round(scaled, rounding)
        lo, hi = self.min_code, self.max_code
        if overflow is Overflow.SATURATE_SYM and self.signed and self.bits > 1:
            lo = -hi  # AP_SAT_SYM: a result at the most negative code is an underflow too
        outside = (r < lo) | (r > hi)
        if not outside.any():
            codes = r.astype(np.int64)
            return codes if codes.ndim else codes[()]
        if overflow is Overflow.ERROR or (wraps and np.isinf(r[outside]).any()):
            bad = arr[outside].flat[0]
            raise QuantizationError(
                f"value {bad!r} overflows {self} (representable: {self.min} to {self.max})"
            )
        if overflow in (Overflow.SATURATE, Overflow.SATURATE_SYM):
            codes = np.clip(r, lo, hi).astype(np.int64)
        elif overflow is Overflow.SATURATE_ZERO:
            codes = np.where(outside, 0.0, r).astype(np.int64)
        else:
            span = float(1 << (self.bits + 1))  # exact: keeps |r| < 2**(bits + 1)
            codes = self.wrap(np.fmod(r, span).astype(np.int64))
            if overflow is Overflow.WRAP_SM:
                floor_low = np.fmod(np.floor(scaled), span)
                codes = np.where(outside, self._sign_magnitude(codes, floor_low), codes)
        return codes if codes.ndim else codes[()]

    def _sign_magnitude(self, wrapped, floor_low):
        """AP_WRAP_SM of an overflowing value, as Vitis HLS computes it.

        ``wrapped`` is the two's-complement wrap of the rounded code, ``floor_low`` the
        unrounded code's floor modulo ``2**(bits + 1)``. When bit ``bits`` of the unrounded
        code (the first bit dropped) differs from the wrapped code's sign bit, every bit of
        the wrapped code is inverted (``ap_fixed_base::overflow_adjust``).
        """
        dropped = (floor_low.astype(np.int64) >> self.bits) & 1
        sign = (wrapped < 0).astype(np.int64)
        return np.where(dropped != sign, -1 - wrapped, wrapped)

    def wrap(self, codes) -> np.ndarray:
        """Two's-complement wrap of integer codes into the format."""
        c = np.asarray(codes, dtype=np.int64) & np.int64((1 << self.bits) - 1)
        if self.signed:
            c = np.where(c > self.max_code, c - (1 << self.bits), c)
        return c

    def dequantize(self, codes) -> np.ndarray:
        """Integer codes to their exact real values (float64)."""
        arr = np.asarray(codes)
        if arr.dtype.kind not in "iu":
            raise QuantizationError(f"codes must be integers, got dtype {arr.dtype}")
        return self.codes_to_real(arr)


def _check_overflow(overflow: Overflow, signed: bool) -> None:
    if overflow is Overflow.WRAP_SM and not signed:  # as ap_ufixed<..., AP_WRAP_SM> refuses it
        raise FormatError("overflow mode wrap-sm (AP_WRAP_SM) needs a signed format; "
                          "an unsigned one takes saturate, saturate-sym, saturate-zero, wrap "
                          "or error")


def _scale(x: np.ndarray, frac: int, wraps: bool) -> np.ndarray:
    """``x * 2**frac``, keeping what rounding and overflow need where ldexp is inexact.

    A tiny nonzero product that underflows to 0 becomes the smallest subnormal of its
    sign, so floor and ceil still see which side of 0 it lies on (every other mode
    rounds it to 0 either way). A finite product too large for float64 is a multiple
    of 2**971, hence 0 modulo 2**(bits + 1) when ``wraps``; saturate and error see it as inf.
    """
    with np.errstate(over="ignore", under="ignore"):
        y = np.ldexp(x, frac)
    if frac < 0:
        y = np.where((y == 0) & (x != 0), np.copysign(np.nextafter(0.0, 1.0), x), y)
    elif wraps:
        y = np.where(np.isinf(y) & np.isfinite(x), 0.0, y)
    return y


def _round(y: np.ndarray, mode: Rounding) -> np.ndarray:
    """Round float64 ``y`` to integers; exact for every finite float64."""
    if mode is Rounding.FLOOR:
        return np.floor(y)
    if mode is Rounding.CEIL:
        return np.ceil(y)
    if mode is Rounding.TOWARD_ZERO:
        return np.trunc(y)
    if mode is Rounding.NEAREST_EVEN:
        return np.rint(y)
    with np.errstate(invalid="ignore"):  # inf - inf below is masked by isfinite
        if mode in (Rounding.NEAREST_UP, Rounding.NEAREST_DOWN):
            f = np.floor(y)
            d = y - f  # exact
            up = d >= 0.5 if mode is Rounding.NEAREST_UP else d > 0.5
            return np.where(np.isfinite(y), f + up, y)
        a = np.abs(y)
        f = np.floor(a)
        d = a - f
        up = d >= 0.5 if mode is Rounding.NEAREST_AWAY else d > 0.5
        return np.where(np.isfinite(y), np.copysign(f + up, y), y)


def sized_format(ymin: float, ymax: float, signed: bool, bits: int, what: str) -> FixedFormat:
    """The format of ``bits`` bits with the most fraction bits that holds [ymin, ymax].

    "Sized" is lutgen's word for an output format chosen to hold a function's values.
    """
    import math

    sign = 1 if signed else 0
    for int_bits in range(-bits, 64):
        fmt = FixedFormat(signed, bits, bits - sign - int_bits)
        top, bottom = ymax * 2.0**fmt.frac, ymin * 2.0**fmt.frac  # may overflow to inf
        if (math.isfinite(top) and math.isfinite(bottom)
                and math.floor(top + 0.5) <= fmt.max_code
                and math.floor(bottom + 0.5) >= fmt.min_code):
            break
    if int_bits + sign > 32:
        raise SpecError(
            f"the values of '{what}' reach {max(-ymin, ymax):.6g}, which needs more than "
            "32 integer bits; narrow the range or the input format"
        )
    return fmt
