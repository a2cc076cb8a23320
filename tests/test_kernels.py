"""The numba kernels against tests/naive.py, bit for bit, on random table specs.

Every compiled table must compute, for every input code, the integer that
``docs/ARITHMETIC.md`` prescribes; tests/naive.py is that document in Python ints.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import lutgen
from lutgen import _kernels as K
from lutgen.fixedpoint import FixedFormat, Overflow, Rounding
from lutgen.table import compile_table

from . import naive

# activations the random specs draw from (a removed one fails here, by its lookup)
WANTED = (
    "sigmoid", "tanh", "exp", "linear", "reciprocal", "relu", "relu6", "leaky_relu", "elu",
    "gelu", "gelu_tanh", "silu", "softsign", "softplus", "hard_sigmoid", "hard_swish", "mish",
    "arctan", "cosine", "sinc",
)
ACTS = tuple(n for n in WANTED
             if lutgen.activations()[n].n_outputs == 1 and not lutgen.activations()[n].composite)
FOLD_KINDS = ("odd", "even", "point", "even_line")
BY_SYMMETRY = {  # reciprocal is odd, but its pole at 0 keeps it from folding
    kind: tuple(n for n in ACTS if n != "reciprocal"
                and lutgen.activations()[n].traits_for({}).symmetry == kind)
    for kind in FOLD_KINDS
}
EXHAUSTIVE_BITS = 12  # check every code up to 2**12 codes, else a sample
SAMPLE = 2000
MINIMAX_MAX_BITS = 10  # linear minimax is slow on wide inputs: tanh s16.12, 64 entries, G=6 ~2 min


def _range_in_quarters(draw, fin: FixedFormat, name: str):
    """A range as two multiples of a quarter input LSB inside the format (or None)."""
    q = Fraction(2) ** (-fin.frac - 2)  # a quarter LSB
    lo_q, hi_q = 4 * fin.min_code, 4 * (fin.max_code + 1)
    if name == "exp":  # exp on x <= 0 keeps the values bounded
        hi_q = min(hi_q, 0)
    if name == "reciprocal":  # strictly inside (0.5, 4)
        lo_q = max(lo_q, math.floor(Fraction(1, 2) / q) + 1)
        hi_q = min(hi_q, math.ceil(4 / q) - 1)
    assume(lo_q < hi_q)
    if draw(st.integers(0, 5)) == 0:
        return None  # the activation's default range, clipped to the format
    a = draw(st.integers(lo_q, hi_q - 1))
    b = draw(st.integers(a + 1, hi_q))
    return float(a * q), float(b * q)


@st.composite
def table_specs(draw, max_bits=16):
    """Keyword arguments of :func:`compile_table` (some invalid: compile them with
    :func:`compile_or_reject`)."""
    # the fold kind first, then an activation with that symmetry: each kind folds in about a
    # fifth of the examples (drawn from the activations instead, "fold even" was one in 200)
    kind = draw(st.sampled_from([None, None, *FOLD_KINDS]))
    fold = kind is not None
    name = draw(st.sampled_from(BY_SYMMETRY[kind] if fold else ACTS))
    act = lutgen.activations()[name]
    if name == "exp" or fold:
        signed = True
    elif name == "reciprocal":
        signed = False
    else:
        signed = draw(st.booleans())
    bits = draw(st.integers(4, max_bits))
    fin = FixedFormat(signed, bits, draw(st.integers(-2, bits + 2)))
    rng = _range_in_quarters(draw, fin, name)
    # a derivative has another symmetry (odd -> even): only unfolded tables take one
    derivative = not fold and act.derivative is not None and draw(st.integers(0, 5)) == 0
    out = None
    if draw(st.booleans()):
        ob = draw(st.integers(4, 16))
        out = FixedFormat(draw(st.booleans()), ob, draw(st.integers(-2, ob + 2)))
    return dict(
        name=name,
        in_format=fin,
        out_format=out,
        range=rng,
        entries=draw(st.none() | st.integers(0, min(bits, 10)).map(lambda k: 1 << k)),
        interp=draw(st.sampled_from(["none", "nearest", "linear"])),
        tails=draw(st.sampled_from(["auto", "clamp", "asymptote"])),
        fold=fold,
        fit=draw(st.sampled_from(["sample", "minimax"])) if bits <= MINIMAX_MAX_BITS else "sample",
        guard_bits=draw(st.none() | st.integers(0, 6)),
        derivative=derivative,
    )


def compile_or_reject(kwargs):
    """Compile, or tell hypothesis to drop an invalid spec; a non-LutgenError fails the test."""
    kwargs = dict(kwargs)
    try:
        return compile_table(kwargs.pop("name"), **kwargs)
    except lutgen.LutgenError:
        assume(False)


def codes_to_check(table, seed: int) -> np.ndarray:
    """Every code of a small format; else a sample, the segment boundaries +/- 1 and the ends."""
    fmt = table.in_format
    if fmt.bits <= EXHAUSTIVE_BITS:
        return fmt.codes()
    rng = np.random.default_rng(seed)
    bounds = table.lo_code + (np.arange(table.entries + 1, dtype=np.int64) << table.shift)
    if table.fold:
        bounds = np.concatenate([bounds, -bounds])
    codes = np.concatenate([
        rng.integers(fmt.min_code, fmt.max_code + 1, SAMPLE),
        (bounds[:, None] + np.array([-1, 0, 1])).ravel(),
        [fmt.min_code, fmt.max_code],
    ])
    return np.unique(codes[(codes >= fmt.min_code) & (codes <= fmt.max_code)])


# ---- the property ----------------------------------------------------------------------------
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(spec=table_specs(), seed=st.integers(0, 2**32 - 1))
def test_kernel_matches_the_document(spec, seed):
    table = compile_or_reject(spec)
    codes = codes_to_check(table, seed)
    traces = [naive.trace(table, c) for c in codes]
    _record_coverage(table, traces)
    expected = np.array([t.y for t in traces], dtype=np.int64)
    got = table.eval_int(codes)
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, (
        f"input {codes[bad[0]]}: kernel {got[bad[0]]}, document {expected[bad[0]]}; "
        f"{table.to_dict()}"
    )
    # docs/ARITHMETIC.md "Widths": acc and its rounding constant fit acc_bits <= 62 bits
    assert table.acc_bits <= 62
    for t in traces:
        rounded = t.acc + (2 ** (t.r - 1) if t.r else 0)
        for v in (t.acc, rounded):
            assert -(2 ** (table.acc_bits - 1)) <= v < 2 ** (table.acc_bits - 1)
    # the stored word is the narrowest that holds the entries
    assert (table.store_bits, table.store_signed) == naive.narrowest_word(table.values)
    assert table.rom_bits == table.values.size * table.store_bits
    if table.spec.coeffs.value == "sample":
        _check_sample_fit(table)


def _record_coverage(table, traces):
    """Hypothesis events (``--hypothesis-show-statistics``): which paths the specs reach."""
    event(f"{table.interp.value}, fold {table.fold.value}, coeffs {table.spec.coeffs.value}")
    event("line path" if any(t.path == "line" for t in traces) else "no line path")
    event("saturates" if any(t.y != t.unsaturated for t in traces) else "never saturates")
    event(f"shift {min(table.shift, 4)}{'+' if table.shift >= 4 else ''}")


def _check_sample_fit(table):
    """``sample`` stores the reference rounded half up at knots / centres (docs, Fitting).

    Points whose value lies outside the output format may be clipped (one bit of
    headroom, a compiler choice the document does not describe): only in-format
    points are compared exactly.
    """
    g = table.guard_bits
    lo, hi = table.out_format.min_code << g, table.out_format.max_code << g
    lo, hi = lo - table.fold_e, hi - table.fold_e  # stored minus the centre E (step 5)
    for k, (stored, want) in enumerate(zip(table.values, naive.naive_sample_values(table))):
        assert want is not None, "the compiler stored an entry where the reference is not finite"
        if lo <= want <= hi:
            assert int(stored) == want, f"entry {k}: stored {stored}, reference rounds to {want}"


# ---- every interp x fold kind x tails, deterministically -----------------------------------------
# one activation per fold kind, each with asymptotes so that every tails mode applies
SWEEP_ACTS = {None: "elu", "odd": "tanh", "even": "sinc", "point": "sigmoid",
              "even_line": "gelu"}
SWEEP = [(interp, kind, tails) for interp in ("none", "nearest", "linear")
         for kind in (None, *FOLD_KINDS) for tails in ("auto", "clamp", "asymptote")]


@pytest.mark.parametrize("interp, kind, tails", SWEEP,
                         ids=[f"{i}-fold_{k}-{t}" for i, k, t in SWEEP])
def test_kernel_matches_the_document_in_every_combination(interp, kind, tails):
    """Every input code of s8.4, a range inside it so that both tails serve inputs."""
    table = compile_table(SWEEP_ACTS[kind], in_format="s8.4", range=(-3.0, 3.0), entries=8,
                          interp=interp, tails=tails, fold=kind is not None)
    assert (table.interp.value, table.fold.value) == (interp, kind or "none")
    assert table.shift > 0  # segments of several codes: nearest and linear interpolate
    codes = table.in_format.codes()
    traces = [naive.trace(table, c) for c in codes]
    np.testing.assert_array_equal(table.eval_int(codes), [t.y for t in traces])
    paths = {t.path for t in traces}
    modes = [t.mode if t else None for t in table.tails]
    if kind is None:
        assert None not in modes  # inputs on both sides of the range
    else:  # folded: no left side; negative inputs take the mirrored paths
        assert modes[0] is None and modes[1] is not None
        assert {naive.trace(table, c).path for c in codes[codes < 0]} == paths
    if tails == "clamp":
        assert set(modes) - {None} == {"clamp"} and paths == {"table"}
    elif tails == "asymptote":
        assert set(modes) - {None} == {"asymptote"} and paths == {"table", "line"}


# ---- fixed cases of the document's corner paths -------------------------------------------------
CORNERS = [
    # line tails on both sides (slope 1), asymmetric range
    dict(name="linear", in_format="s8.4", range=(-2.0, 3.0), interp="linear", tails="asymptote"),
    # point-symmetric fold: F = 2^(frac_out + G), right tail reached by -min_code
    dict(name="sigmoid", in_format="s10.6", range=(-4.0, 4.0), fold=True, interp="linear"),
    # point fold through the line path: acc = (F << (K - G)) - (u*M + C)
    dict(name="sigmoid", in_format="s8.4", range=(-2.0, 2.0), fold=True, tails="asymptote",
         guard_bits=2),
    # odd fold with a line tail serving both sides
    dict(name="linear", in_format="s8.3", range=(-4.0, 4.0), fold=True, tails="asymptote"),
    # nearest with j = N at the clamped right end
    dict(name="tanh", in_format="s8.4", range=(-2.0, 2.0), interp="nearest", entries=8),
    # an explicit output format that exp(0) = 1.0 (256 in u8.8) saturates
    dict(name="exp", in_format="s8.4", range=(-4.0, 0.5), out_format="u8.8", interp="linear"),
]


@pytest.mark.parametrize("spec", CORNERS, ids=lambda s: f"{s['name']}-{s['in_format']}")
def test_kernel_matches_the_document_on_corner_cases(spec):
    kwargs = dict(spec)
    table = compile_table(kwargs.pop("name"), **kwargs)
    codes = table.in_format.codes()
    np.testing.assert_array_equal(table.eval_int(codes), naive.naive_eval_codes(table, codes))


def test_corner_cases_take_the_paths_they_are_meant_to():
    """The corner cases above really exercise line tails, unfolding and saturation."""
    lin = compile_table("linear", in_format="s8.4", range=(-2.0, 3.0), tails="asymptote")
    paths = {naive.trace(lin, c).path for c in lin.in_format.codes()}
    assert paths == {"table", "line"}
    point_line = compile_table("sigmoid", in_format="s8.4", range=(-2.0, 2.0), fold=True,
                               tails="asymptote", guard_bits=2)
    assert naive.trace(point_line, -100).path == "line"
    assert int(point_line.eval_int(np.array([-100]))[0]) == 0  # the asymptote 1, mirrored: 1 - 1
    sig = compile_table("sigmoid", in_format="s10.6", range=(-4.0, 4.0), fold=True)
    assert sig.fold.value == "point" and sig.fold_f == 1 << (sig.out_format.frac + sig.guard_bits)
    # sigmoid(-x) = 1 - sigmoid(x): at x = -2 (code -128) within an LSB of 1 - sigmoid(2)
    want = (1 - 1 / (1 + math.exp(-2.0))) * 2**sig.out_format.frac
    assert abs(int(sig.eval_int(np.array([-128]))[0]) - want) <= 1
    ex = compile_table("exp", in_format="s8.4", range=(-4.0, 0.5), out_format="u8.8")
    assert naive.trace(ex, 0).unsaturated == 256  # exp(0) = 1.0 = 256 / 2^8
    assert int(ex.eval_int(np.array([0]))[0]) == 255


# ---- plain tests ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tanh16():
    return compile_table("tanh", in_format="s16.12", range=(-4.0, 4.0), tails="clamp")


def test_sequential_parallel_and_flagged_kernels_agree(tanh16):
    codes = tanh16.in_format.codes()
    outs = [np.empty(codes.size, dtype=np.int64) for _ in range(3)]
    K.eval_codes(codes, tanh16.values, tanh16.prog, outs[0])
    K.eval_codes_parallel(codes, tanh16.values, tanh16.prog, outs[1])
    flags = np.empty(codes.size, dtype=np.uint8)
    K.eval_codes_flagged(codes, tanh16.values, tanh16.prog, outs[2], flags)
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])
    # eval_int looks 16-bit codes up in the table of every output, which the kernel made
    np.testing.assert_array_equal(tanh16.eval_int(codes), outs[0])
    np.testing.assert_array_equal(tanh16.eval_int(codes[:1000]), outs[0][:1000])
    # an int32 output array gets the same codes as an int64 one
    out32 = np.empty(codes.size, dtype=np.int32)
    K.eval_codes(codes, tanh16.values, tanh16.prog, out32)
    np.testing.assert_array_equal(out32, outs[0])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
                                   np.int64])
def test_input_dtypes_give_the_same_codes(dtype):
    table = compile_table("sigmoid", in_format="s8.4", range=(-4.0, 4.0))
    info = np.iinfo(dtype)
    codes = table.in_format.codes()
    codes = codes[(codes >= info.min) & (codes <= info.max)]
    np.testing.assert_array_equal(
        table.eval_int(codes.astype(dtype)), naive.naive_eval_codes(table, codes)
    )


def test_input_shapes_are_kept(tanh16):
    grid = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    out = tanh16.eval_int(grid)
    assert out.shape == (3, 4)
    np.testing.assert_array_equal(out.ravel(), naive.naive_eval_codes(tanh16, grid.ravel()))


@pytest.mark.parametrize("codes", [
    np.array([-32769]), np.array([32768]), np.array([0, 1, 2**40]),
])
def test_eval_int_rejects_codes_outside_the_format(tanh16, codes):
    with pytest.raises(lutgen.RangeError, match=r"outside s16\.12 \(-32768\.\.32767\)"):
        tanh16.eval_int(codes)


def test_eval_int_rejects_negative_codes_of_an_unsigned_format():
    table = compile_table("sigmoid", in_format="u8.4", range=(0.0, 8.0))
    with pytest.raises(lutgen.LutgenError, match="-1 is outside u8.4"):
        table.eval_int(np.array([3, -1]))


@pytest.mark.parametrize("bad", [
    np.array([0.0, 1.0]), np.array([1.5]), [0.5], np.array([True]), np.array([1], dtype=np.uint64),
    np.array(["1"]),
])
def test_eval_int_rejects_non_integer_arrays(tanh16, bad):
    with pytest.raises(lutgen.LutgenError, match="integer array"):
        tanh16.eval_int(bad)


@settings(max_examples=40, deadline=None)
@given(x=st.lists(st.floats(-20.0, 20.0, allow_nan=False), min_size=1, max_size=30)
       | st.lists(st.integers(-2 * 4096 * 8, 2 * 4096 * 8).map(lambda n: n / 8192), min_size=1,
                  max_size=30))
def test_eval_is_quantize_eval_int_dequantize(tanh16, x):
    """s16.12 carries no modes: ``Table.eval`` rounds half up and saturates (ties at half LSBs
    are drawn on purpose; formats with modes: tests/test_input_quantisation.py)."""
    fin, fout = tanh16.in_format, tanh16.out_format
    codes = []
    for v in x:  # nearest, ties toward +inf, saturated: by hand with Fractions
        c = naive.round_half_up(Fraction(v) * 2**fin.frac)
        codes.append(min(max(c, fin.min_code), fin.max_code))
    want = [Fraction(naive.naive_eval(tanh16, c)) / 2**fout.frac for c in codes]
    got = tanh16.eval(np.array(x))
    assert [Fraction(float(g)) for g in got] == want
    # the same as the format's own quantise / dequantise
    q = fin.quantize(np.array(x), Rounding.NEAREST_UP, Overflow.SATURATE)
    np.testing.assert_array_equal(got, fout.dequantize(tanh16.eval_int(q)))


def test_eval_keeps_scalars_scalar(tanh16):
    y = tanh16.eval(0.5)
    assert np.shape(y) == ()
    assert abs(float(y) - math.tanh(0.5)) < 2 * tanh16.out_format.lsb


def test_table_arrays_are_read_only(tanh16):
    for arr in (tanh16.values, tanh16.prog):
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = 1
    with pytest.raises(AttributeError):
        tanh16.shift = 3


def test_table_arrays_cannot_be_made_writeable_again(tanh16):
    with pytest.raises(ValueError):
        tanh16.values.setflags(write=True)
    with pytest.raises(ValueError):
        tanh16.prog.setflags(write=True)


def test_table_tails_are_immutable():
    table = compile_table("linear", in_format="s8.4", range=(-2.0, 3.0), tails="asymptote")
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.tails[1].m = 0


@pytest.mark.parametrize("kwargs", [
    dict(name="tanh", in_format="s12.8", fit="minimax", interp="linear", entries=32),
    dict(name="sigmoid", in_format="s10.6", fit="minimax", interp="none", fold=True),
    dict(name="exp", in_format="s12.8", range=(-6.0, 0.0), interp="nearest"),
])
def test_same_spec_compiles_to_identical_integers(kwargs):
    a = compile_or_reject(kwargs)
    b = compile_or_reject(kwargs)
    assert a.values.dtype == b.values.dtype == np.int64
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.prog, b.prog)
    assert a.to_dict() == b.to_dict()


# ---- minimax never raises the maximum (docs, Fitting); tests/test_table.py sweeps the catalog --
def _max_segment_error(table, codes):
    errs = [naive.naive_error_lsb(table, c) for c in codes]
    return max(e for e in errs if e is not None)


def test_minimax_never_raises_the_maximum_over_the_range():
    """docs/ARITHMETIC.md: the maximum never rises (a single segment below it may)."""
    kwargs = dict(in_format="s12.8", range=(-8.0, 8.0), entries=32, interp="linear")
    sample = compile_table("tanh", fit="sample", **kwargs)
    minimax = compile_table("tanh", fit="minimax", **kwargs)
    codes = range(sample.lo_code, sample.hi_code)
    assert _max_segment_error(minimax, codes) <= _max_segment_error(sample, codes)


# ---- compiler findings ----------------------------------------------------------------------
def test_sample_fit_rounds_half_up_for_wide_entries():
    table = compile_table("exp", in_format="s16.8", range=(19.5, 20.0), out_format="u32.0",
                          interp="none", guard_bits=24, tails="clamp")
    assert 2**52 <= int(table.values.min())  # the entries are that wide
    assert [int(v) for v in table.values] == naive.naive_sample_values(table)


def test_wide_entries_still_evaluate_as_documented():
    """The same table: 54-bit accumulator, int64 output codes, still bit-exact."""
    table = compile_table("exp", in_format="s16.8", range=(19.5, 20.0), out_format="u32.0",
                          interp="none", guard_bits=24, tails="clamp")
    assert table.acc_bits > 53
    codes = table.in_format.codes()[::7]
    got = table.eval_int(codes)
    assert got.dtype == np.int64  # u32 codes do not fit int32
    np.testing.assert_array_equal(got, naive.naive_eval_codes(table, codes))


def test_reciprocal_on_a_negative_range_compiles():
    table = compile_table("reciprocal", in_format="s16.4", range=(-2.0, -0.5))
    assert table.range[0] <= -2.0 and table.range[1] >= -0.5


def test_folded_range_is_served_by_the_table():
    table = compile_table("tanh", in_format="s8.4", range=(-4.0, 4.0), fold=True)
    lo, hi = table.range
    for c in range(round(lo * 16), round(hi * 16)):
        assert table.lo_code <= abs(c) < table.hi_code, f"code {c} is in Table.range"


# ---- eval_int: the look-up of every input's output; the checked kernel ---------------------
GATHERED = [  # 8/12/16-bit inputs, folded and with line tails: eval_int looks these up
    dict(name="tanh", in_format="s8.4", range=(-4.0, 4.0)),
    dict(name="sigmoid", in_format="s12.8", range=(-4.0, 4.0), fold=True, tails="asymptote"),
    dict(name="linear", in_format="s12.6", range=(-4.0, 4.0), fold=True, tails="asymptote"),
    dict(name="gelu", in_format="s16.12", range=(-4.0, 4.0), interp="nearest", tails="asymptote"),
    dict(name="sigmoid", in_format="s16.10", range=(-8.0, 8.0), fold=True, tails="asymptote"),
    dict(name="exp", in_format="u16.12", range=(0.0, 2.0), out_format="u16.8", tails="clamp"),
    dict(name="elu", in_format="s16.12", range=(-3.0, 2.0), interp="none", entries=64,
         out_format="s32.24"),
]


def _kernel_on(table, codes):
    out = np.empty(codes.size, dtype=np.int64)
    return K.eval_codes(codes.astype(np.int64), table.values, table.prog, out)


@pytest.mark.parametrize("spec", GATHERED, ids=lambda s: f"{s['name']}-{s['in_format']}")
def test_looked_up_outputs_are_the_kernels_on_every_code(spec):
    kwargs = dict(spec)
    table = compile_table(kwargs.pop("name"), **kwargs)
    assert table.in_format.bits <= table._GATHER_MAX_BITS
    codes = np.random.default_rng(7).permutation(table.in_format.codes())  # unsorted
    got = table.eval_int(codes)
    assert got.dtype == table.code_dtype
    np.testing.assert_array_equal(got, _kernel_on(table, codes))
    if table.in_format.bits <= 8:
        np.testing.assert_array_equal(got, naive.naive_eval_codes(table, codes))
    # the unsaturated paths really are exercised
    assert {naive.trace(table, int(c)).path for c in codes[:: max(1, codes.size // 512)]} >= (
        {"table", "line"} if spec.get("tails") == "asymptote" else {"table"})


def test_the_table_of_every_output_is_read_only_and_made_once(tanh16):
    full = tanh16._every_output
    assert full is tanh16._every_output
    assert full.dtype == tanh16.code_dtype and full.size == 1 << 16
    assert not full.flags.writeable
    with pytest.raises(ValueError):
        full[0] = 1
    out = tanh16.eval_int(np.array([0, 1]))
    out[0] = 12345  # the caller's array is its own
    assert tanh16.eval_int(np.array([0]))[0] != 12345 and full.flags.writeable is False


@pytest.mark.parametrize("size", [1, 2**16 - 1, 2**16, 2**16 + 1, 2**18 + 1, 2**19 - 1, 2**19,
                                  2**20 + 3])
def test_sizes_around_the_thresholds_give_the_same_codes(tanh16, size):
    codes = np.random.default_rng(size).integers(-32768, 32768, size).astype(np.int16)
    np.testing.assert_array_equal(tanh16.eval_int(codes), _kernel_on(tanh16, codes))


@pytest.fixture(scope="module")
def tanh20():
    """Wider than 16 bits: evaluated by the kernel."""
    return compile_table("tanh", in_format="s20.16", range=(-4.0, 4.0), fold=True,
                         tails="asymptote")


@pytest.mark.parametrize("size", [0, 1, 2**16 - 1, 2**16, 2**16 + 1, 2**17 - 1, 2**17,
                                  2**18 + 7])
def test_a_wide_format_gives_the_kernels_codes_at_every_size(tanh20, size):
    assert tanh20.in_format.bits > tanh20._GATHER_MAX_BITS
    codes = np.random.default_rng(size).integers(-(2**19), 2**19, size)
    got = tanh20.eval_int(codes)
    assert got.shape == (size,) and got.dtype == tanh20.code_dtype
    np.testing.assert_array_equal(got, _kernel_on(tanh20, codes))


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.int64,
                                   ">i2", ">i4"])
def test_every_input_dtype_gives_the_same_codes_on_both_paths(tanh16, tanh20, dtype):
    info = np.iinfo(np.dtype(dtype))
    for table in (tanh16, tanh20):
        lo, hi = max(info.min, table.in_format.min_code), min(info.max, table.in_format.max_code)
        codes = np.arange(lo, hi + 1, max(1, (hi - lo) // 5000))
        np.testing.assert_array_equal(table.eval_int(codes.astype(dtype)),
                                      _kernel_on(table, codes))


@pytest.mark.parametrize("where", [0, 5, 2**16 - 1, 2**16 + 3, 2**19 + 5])
def test_the_first_code_outside_the_format_is_named_on_both_paths(tanh16, tanh20, where):
    for table, bad, worse in ((tanh16, 40000, -40000), (tanh20, 2**19, -(2**20))):
        # 2^20 inputs are shared between two threads: the first bad one is still named
        codes = np.zeros(2**20, dtype=np.int64)
        codes[where] = bad
        codes[-1] = worse  # a later one is not the one reported
        with pytest.raises(lutgen.RangeError, match=rf"^input code {bad} is outside"):
            table.eval_int(codes)


def test_the_checked_kernel_is_the_kernel():
    table = compile_table("silu", in_format="s12.6", range=(-6.0, 6.0), tails="asymptote")
    codes = table.in_format.codes()
    out = np.empty(codes.size, dtype=np.int64)
    assert K.eval_codes_checked(codes, table.values, table.prog, -2048, 2047, out) == -1
    np.testing.assert_array_equal(out, _kernel_on(table, codes))
    assert K.eval_codes_checked(codes, table.values, table.prog, -2048, 2046, out) == codes.size - 1
    assert K.gather_codes(codes, table._every_output, -2047, out) == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(spec=table_specs(max_bits=MINIMAX_MAX_BITS), seed=st.integers(0, 2**32 - 1))
def test_the_checked_kernel_and_the_look_up_are_the_kernel_on_random_specs(spec, seed):
    """Wider formats run the checked kernel: the same integers as the kernel, on any table."""
    table = compile_or_reject(spec)
    fin = table.in_format
    codes = np.random.default_rng(seed).permutation(fin.codes())
    want = _kernel_on(table, codes)
    out = np.empty(codes.size, dtype=np.int64)
    assert K.eval_codes_checked(codes, table.values, table.prog, fin.min_code, fin.max_code,
                                out) == -1
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(table.eval_int(codes), want)


def test_eval_int_writes_into_a_callers_buffer():
    table = compile_table("tanh", in_format="s16.12", entries=64, fold=True)
    codes = np.arange(-32768, 32768, dtype=np.int32).reshape(256, 256)
    out = np.full(codes.shape, 7, dtype=table.code_dtype)
    assert table.eval_int(codes, out=out) is out
    np.testing.assert_array_equal(out, table.eval_int(codes))
    wide = compile_table("tanh", in_format="s20.16", entries=64)
    buf = np.empty(5, dtype=wide.code_dtype)
    x = np.array([-5, 0, 3, 65536, -524288])
    np.testing.assert_array_equal(wide.eval_int(x, out=buf), wide.eval_int(x))
    for bad in (np.empty((256, 255), out.dtype), np.empty(codes.shape, np.int64),
                np.empty((256, 512), out.dtype)[:, ::2]):
        with pytest.raises(lutgen.SpecError, match="out must be a writable C-contiguous"):
            table.eval_int(codes, out=bad)
