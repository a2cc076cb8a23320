"""The error analysis against figures recomputed here, independently.

The reference is re-evaluated from the activation (tests/naive.py), the outputs
come from tests/naive.py (small formats) or the kernel (large formats, which
tests/test_kernels.py checks against tests/naive.py), and every error is taken
exactly with Fractions. A float64 subtraction of two exact values is correctly
rounded, so the report's maxima must equal ``float()`` of the exact maxima.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import lutgen
from lutgen.analysis import Distribution, analysis_codes, analyze
from lutgen.table import compile_table

from . import naive
from .test_kernels import compile_or_reject, table_specs


def _float(q: Fraction) -> float:
    """float(q), or inf where q is beyond float64 (the report's float figures overflow too)."""
    try:
        return float(q)
    except OverflowError:
        return math.inf


def _code_of(table, x: float) -> int:
    """The input code of a real input the report names (it must be exactly a code)."""
    c = Fraction(x) * Fraction(2) ** table.in_format.frac
    assert c.denominator == 1, f"{x} is not an input code of {table.in_format}"
    return int(c)


def _exact_rows(table, codes, ys):
    """(code, y, exact reference in LSBs) for the inputs whose reference is finite."""
    refs = naive.reference_codes(table, codes)
    rows = []
    for c, y, r in zip(codes, ys, refs):
        lsb = naive.exact_lsb(table, float(r))
        if lsb is not None:
            rows.append((int(c), int(y), lsb))
    return rows


# ---- every figure of the report, on random small tables ---------------------------------------
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(spec=table_specs(max_bits=11))
def test_report_matches_independent_figures(spec):
    table = compile_or_reject(spec)
    fin, fout = table.in_format, table.out_format
    report = analyze(table)
    codes = fin.codes()
    traces = {int(c): naive.trace(table, c) for c in codes}
    rows = _exact_rows(table, codes, [traces[int(c)].y for c in codes])
    errs = {c: abs(y - r) for c, y, r in rows}

    assert report.exhaustive is True
    assert report.n_inputs == len(rows)
    assert report.n_undefined == fin.n_codes - len(rows)
    if not rows:
        return
    worst = max(errs.values())
    assert report.max_error_lsb == _float(worst)
    assert report.max_abs_error == _float(worst) * fout.lsb  # inf if the LSB figure overflowed
    # where it occurs (float64 ties, e.g. 8 + 1e-17 and 8 + 5e-17, may pick either)
    assert _float(errs[_code_of(table, report.argmax_x)]) == report.max_error_lsb
    if _float(worst) < 1e150:  # beyond, float64 squares and sums overflow: see
        # test_rms_of_huge_errors_is_finite (a clamped exp tail over a huge format)
        mean = sum(errs.values()) / len(errs)
        assert math.isclose(report.mean_error_lsb, float(mean), rel_tol=1e-9, abs_tol=1e-12)
        rms = math.sqrt(sum(e * e for e in errs.values()) / len(errs))
        assert math.isclose(report.rms_error, rms * fout.lsb, rel_tol=1e-9)

    # the best any table could do: the reference rounded half up, saturated
    floor = max(abs(naive.saturate(table, naive.round_half_up(r)) - r) for _, _, r in rows)
    assert report.floor_max_error_lsb == _float(floor)
    assert report.floor_max_error_lsb <= report.max_error_lsb
    assert report.faithful == (report.max_error_lsb < 1)
    assert report.saturated == sum(traces[c].y != traces[c].unsaturated for c, _, _ in rows)

    # monotonicity is judged where the (finite) reference is monotonic
    refs = [r for _, _, r in rows]
    ys = [y for _, y, _ in rows]
    pairs = list(zip(zip(refs, refs[1:]), zip(ys, ys[1:])))
    if all(b >= a for (a, b), _ in pairs):
        assert report.monotonic == all(b >= a for _, (a, b) in pairs)
    elif all(b <= a for (a, b), _ in pairs):
        assert report.monotonic == all(b <= a for _, (a, b) in pairs)
    else:
        assert report.monotonic is None

    # the table range (folded inputs by |x|) and the tails
    def in_table(c):
        u = abs(c) if table.fold else c
        return table.lo_code <= u < table.hi_code

    inside = [e for c, e in errs.items() if in_table(c)]
    outside = [e for c, e in errs.items() if not in_table(c)]
    assert report.n_tail_inputs == len(outside)
    assert report.range_max_error_lsb == (_float(max(inside)) if inside else None)
    assert report.tails_max_error_lsb == (_float(max(outside)) if outside else None)
    assert report.max_error_lsb == max(x for x in (report.range_max_error_lsb,
                                                   report.tails_max_error_lsb) if x is not None)
    if table.fold.value == "even_line":  # y(-x) is not a mirror of y(x): a*x is added
        assert report.fold_mismatches is None
    elif table.fold:
        want = _fold_mismatches(table, traces, errs)
        if want is not None:
            assert report.fold_mismatches == want
    else:
        assert report.fold_mismatches is None
    assert report.entries == table.entries
    assert report.rom_bits == table.values.size * table.store_bits
    assert (report.in_format, report.out_format, report.interp) == (
        str(fin), str(fout), table.interp.value)
    assert report.dist is None and report.weighted_mean_abs_error is None


def _fold_mismatches(table, traces, defined):
    """Inputs x < 0 (with a finite reference and -x a code) where y(x) is not the mirror of y(-x).

    The mirror of an output code y is y (even), -y (odd) or 2c - y (point), saturated;
    None where 2c is not a whole output LSB (an output format coarser than the centre).
    """
    center2 = Fraction(table.fold_f, 2**table.guard_bits)  # 2c in output LSBs
    if center2.denominator != 1 and table.fold.value != "even":
        return None
    count = 0
    for c in defined:
        if c >= 0 or -c > table.in_format.max_code:
            continue
        y_pos = traces[-c].y
        mirror = y_pos if table.fold.value == "even" else naive.saturate(table, int(center2) - y_pos)
        count += traces[c].y != mirror
    return count


# ---- exhaustive up to 24 bits, sampled beyond ---------------------------------------------------
def _kernel_errors(table, codes):
    """Exact errors from kernel outputs (for formats too large for naive.trace)."""
    rows = _exact_rows(table, codes, table.eval_int(codes))
    return {c: abs(y - r) for c, y, r in rows}


def test_24_bit_formats_are_analysed_exhaustively():
    table = compile_table("sigmoid", in_format="s24.20", range=(-8.0, 8.0))
    report = analyze(table)
    assert report.exhaustive is True
    assert report.n_inputs == 2**24 and report.n_undefined == 0
    # every code, errors in float64: exact here (see the module docstring)
    codes = table.in_format.codes()
    ref = np.ldexp(naive.reference_codes(table, codes), table.out_format.frac)
    err = np.abs(table.eval_int(codes) - ref)
    assert report.max_error_lsb == err.max()
    assert report.argmax_x == codes[np.argmax(err)] * table.in_format.lsb


@pytest.fixture(scope="module")
def wide():
    """A 26-bit input format: too many codes for an exhaustive analysis."""
    table = compile_table("tanh", in_format="s26.10", range=(-6.0, 6.0), entries=64,
                          interp="linear", fold=True)
    codes, exhaustive = analysis_codes(table)
    return table, codes, exhaustive, analyze(table)


def test_wide_formats_are_sampled(wide):
    table, codes, exhaustive, report = wide
    fmt = table.in_format
    assert exhaustive is False and report.exhaustive is False
    assert report.n_inputs == codes.size < fmt.n_codes
    assert codes.size >= 2**22  # the documented dense part
    assert np.all(np.diff(codes) > 0)
    assert codes[0] == fmt.min_code and codes[-1] == fmt.max_code
    sampled = set(codes.tolist())
    for k in range(table.entries + 1):
        boundary = table.lo_code + (k << table.shift)
        for b in (boundary, -boundary):  # folded: both signs
            for d in range(-2, 3):
                if fmt.min_code <= b + d <= fmt.max_code:
                    assert b + d in sampled, f"segment boundary {b} {d:+d} not analysed"


def test_wide_report_bounds_the_errors_it_sampled(wide):
    table, codes, _, report = wide
    # the whole sample through the kernel, exactly
    ref = np.ldexp(naive.reference_codes(table, codes), table.out_format.frac)
    err = np.abs(table.eval_int(codes) - ref)
    assert report.max_error_lsb == err.max()
    # and a slice through the document's arithmetic: never above the reported bound
    rng = np.random.default_rng(7)
    pick = np.concatenate([rng.choice(codes, 300, replace=False), codes[:50], codes[-50:]])
    for c in pick:
        e = naive.naive_error_lsb(table, c)
        assert e <= Fraction(report.max_error_lsb)


# ---- single figures --------------------------------------------------------------------------
def test_rms_of_huge_errors_is_finite():
    table = compile_table("exp", in_format="s8.-2", interp="none")
    with np.errstate(over="ignore"):
        report = analyze(table)
    assert report.max_error_lsb > 1e200
    assert math.isfinite(report.rms_error)


def test_floor_is_half_an_lsb_for_a_smooth_function():
    # the whole format: the output format has room for tanh(8), so nothing saturates
    table = compile_table("tanh", in_format="s12.8", range=(-8.0, 8.0), entries=64)
    report = analyze(table)
    codes = table.in_format.codes()
    errs = [abs(naive.best_code(table, c) - naive.reference_lsb(table, c)) for c in codes]
    assert report.floor_max_error_lsb == float(max(errs))
    # 4096 irrational values: some lie within 2^-10 LSB of a half
    assert 0.499 < report.floor_max_error_lsb <= 0.5
    assert report.floor_max_error_lsb <= report.max_error_lsb


def test_faithful_table():
    """A table with one entry per input code, sampled, is the rounded reference: faithful."""
    table = compile_table("tanh", in_format="s10.6", range=(-8.0, 8.0), entries=1024,
                          interp="none")
    report = analyze(table)
    assert report.faithful is True and report.max_error_lsb <= 0.5
    coarse = analyze(compile_table("tanh", in_format="s10.6", entries=4, interp="none"))
    assert coarse.faithful is False and coarse.max_error_lsb >= 1


def test_q15_tanh_saturates_at_plus_one():
    """tanh(x) rounds to 1.0 = 32768 in q15 for x > atanh(1 - 2^-16) ~ 5.89: saturated to 32767."""
    assert 1 - math.tanh(7.0) < 2**-18
    table = compile_table("tanh", in_format="s12.7", out_format="s16.15", range=(-16.0, 16.0),
                          interp="linear", entries=256)
    report = analyze(table)
    codes = table.in_format.codes()
    traces = [naive.trace(table, c) for c in codes]
    expected = sum(not -32768 <= t.unsaturated <= 32767 for t in traces)
    assert expected > 0
    assert report.saturated == expected
    assert int(table.eval_int(np.array([table.in_format.max_code]))[0]) == 32767
    # from x = 7 on, tanh(x) > 1 - 2^-18 and every knot is 1.0 = 32768 << G: all saturate
    assert report.saturated >= sum(c >= 7 * 2**7 for c in codes) == 2048 - 896


@pytest.mark.parametrize("interp", ["none", "nearest", "linear"])
def test_sigmoid_tables_are_monotonic(interp):
    table = compile_table("sigmoid", in_format="s12.8", interp=interp, entries=64)
    report = analyze(table)
    y = table.eval_int(table.in_format.codes())
    assert np.all(np.diff(y) >= 0)
    assert report.monotonic is True


def test_non_monotonic_reference_gives_none():
    table = compile_table("tanh", in_format="s10.6", derivative=True)  # 1 - tanh^2: a bump
    assert analyze(table).monotonic is None


def test_normal_weighted_mean_is_a_weighted_average():
    table = compile_table("tanh", in_format="s12.8", entries=32)
    report = analyze(table, dist="normal:0,1")
    codes = table.in_format.codes()
    x = codes / 256.0
    w = np.exp(-x * x / 2)  # the normal density up to a constant: weights are normalised
    errs = _kernel_errors(table, codes)
    err = np.array([float(errs[int(c)]) for c in codes])
    want = float(np.sum(w * err) / np.sum(w)) * table.out_format.lsb
    assert math.isclose(report.weighted_mean_abs_error, want, rel_tol=1e-12)
    want_rms = math.sqrt(float(np.sum(w * err * err) / np.sum(w))) * table.out_format.lsb
    assert math.isclose(report.weighted_rms_error, want_rms, rel_tol=1e-12)
    assert report.dist == "normal:0,1"
    # mass near 0, where tanh is steepest: differs from the plain mean
    assert not math.isclose(report.weighted_mean_abs_error, report.mean_abs_error, rel_tol=1e-3)


def test_uniform_weights_default_to_the_table_range():
    table = compile_table("sigmoid", in_format="s10.6", range=(-2.0, 2.0), entries=16)
    report = analyze(table, dist="uniform")
    lo, hi = table.range
    errs = _kernel_errors(table, table.in_format.codes())
    inside = [e for c, e in errs.items() if lo <= c / 64 < hi]
    assert math.isclose(report.weighted_mean_abs_error,
                        float(sum(inside) / len(inside)) / 2**table.out_format.frac, rel_tol=1e-12)


@pytest.mark.parametrize("text, want", [
    ("normal:0,1", Distribution("normal", 0.0, 1.0)),
    (" Normal:-1.5,0.25 ", Distribution("normal", -1.5, 0.25)),
    ("uniform", Distribution("uniform")),
    ("uniform:-2,3", Distribution("uniform", -2.0, 3.0)),
])
def test_distribution_parse(text, want):
    assert Distribution.parse(text) == want
    assert Distribution.parse(str(want)) == want


@pytest.mark.parametrize("text", [
    "", "normal", "normal:", "normal:0", "normal:0,0", "normal:0,-1", "normal:0,1,2", "normal:a,b",
    "normal:nan,1", "normal:0,inf", "uniform:1", "uniform:2,1", "uniform:1,1", "uniform:0,inf",
    "cauchy:0,1", "gauss",
])
def test_distribution_parse_errors(text):
    with pytest.raises(lutgen.SpecError, match="cannot parse distribution"):
        Distribution.parse(text)


def test_a_distribution_without_weight_on_the_inputs_is_an_error():
    table = compile_table("sigmoid", in_format="s8.4")
    with pytest.raises(lutgen.SpecError, match="no weight"):
        analyze(table, dist="uniform:100,200")


def test_no_tails_when_the_range_covers_the_format():
    table = compile_table("tanh", in_format="s8.4", range=(-8.0, 8.0))
    report = analyze(table)
    assert report.n_tail_inputs == 0 and report.tails_max_error_lsb is None
    assert report.range_max_error_lsb == report.max_error_lsb


def test_tails_and_range_are_split():
    table = compile_table("sigmoid", in_format="s10.6", range=(-2.0, 2.0), tails="clamp")
    report = analyze(table)
    # codes -128..127 are the table (4 * 64 codes), the other 768 the tails
    assert report.n_tail_inputs == 1024 - 256
    errs = _kernel_errors(table, table.in_format.codes())
    inside = [e for c, e in errs.items() if -128 <= c < 128]
    outside = [e for c, e in errs.items() if not -128 <= c < 128]
    assert report.range_max_error_lsb == float(max(inside))
    assert report.tails_max_error_lsb == float(max(outside))
    # clamped: sigmoid(8) ~ 1 is held at sigmoid(2 - 1/64) ~ 0.88: an error of ~0.12 * 2^frac
    assert report.tails_max_error_lsb > 0.1 * 2**table.out_format.frac


def test_folded_odd_table_has_few_mismatches():
    table = compile_table("tanh", in_format="s12.8", range=(-8.0, 8.0), fold=True, entries=64)
    report = analyze(table)
    traces = {int(c): naive.trace(table, c) for c in table.in_format.codes()}
    assert report.fold_mismatches == _fold_mismatches(table, traces, traces)
    assert report.fold_mismatches <= 0.03 * 2048  # ties only: a few % of the negative inputs


def test_even_fold_has_no_mismatches():
    table = compile_table("tanh", in_format="s12.8", derivative=True, fold=True, entries=64)
    assert table.fold.value == "even"
    report = analyze(table)
    assert report.fold_mismatches == 0
    codes = np.arange(1, 2048)
    np.testing.assert_array_equal(table.eval_int(-codes), table.eval_int(codes))
