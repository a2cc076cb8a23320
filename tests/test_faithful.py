"""``coeffs = "faithful"``: exact faithful entries, against brute force and the analysis."""

from __future__ import annotations

import itertools
import time
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner

import lutgen
from lutgen import _faithful
from lutgen import _kernels as K
from lutgen._reference import reference_on_codes
from lutgen.analysis import analyze
from lutgen.cli import cli
from lutgen.search import fit
from lutgen.table import compile_table

from . import naive


def _ref_codes(table):
    """The reference of every input code in output codes (NaN where undefined)."""
    return table.out_format.real_to_codes(reference_on_codes(table.spec))


def _faithful_everywhere(table, values):
    """Is every output of ``table`` with entries ``values`` within 1 LSB (as the analysis
    measures)? Brute force runs the kernel; the tables it checks are never compiled."""
    codes = table.in_format.codes()
    rc = _ref_codes(table)
    y = K.eval_codes(codes, values, table.prog, np.empty(codes.size, dtype=np.int64))
    ok = np.isfinite(rc)
    return bool((np.abs(y[ok] - rc[ok]) < 1.0).all())


def _brute_force(sample, radius):
    """Every integer combination of the knots within ``radius`` of the sampled ones that is
    faithful on every input (the window the dynamic program searches)."""
    base = np.asarray(sample.values, dtype=np.int64)
    found = []
    for d in itertools.product(range(-radius, radius + 1), repeat=base.size):
        values = base + np.array(d, dtype=np.int64)
        if _faithful_everywhere(sample, values):
            found.append(values)
    return found


def _word_bits(values):
    signed = bool(values.min() < 0)
    return max(lutgen._entries.bits_for(int(v), signed) for v in values)


# three knots (2 entries) of a 6-bit input: both outcomes, folds, clamp and line tails
SMALL = [
    dict(name="gelu", out_format="s6.2", range=(-2, 2), guard_bits=0),
    dict(name="gelu", out_format="s6.2", range=(-2, 2), guard_bits=1),
    dict(name="gelu", out_format="s6.3", range=(-2, 2), guard_bits=0),  # infeasible
    dict(name="gelu", out_format="s6.3", range=(-2, 2), guard_bits=1),  # tail: infeasible
    dict(name="sigmoid", out_format="s6.3", range=(-3, 3), guard_bits=0),  # infeasible
    dict(name="sigmoid", out_format="s6.3", range=(-3, 3), guard_bits=1),
    dict(name="tanh", out_format="s6.2", fold=True, tails="clamp", guard_bits=0),  # infeasible
    dict(name="sigmoid", out_format="u6.4", fold=True, tails="clamp", guard_bits=1),
]


@pytest.mark.parametrize("case", SMALL, ids=lambda c: f"{c['name']}-{c['out_format']}-G"
                         f"{c['guard_bits']}")
def test_faithful_agrees_with_brute_force_on_three_knots(case):
    kw = {k: v for k, v in case.items() if k != "name"}
    kw.update(in_format="s6.2", entries=2)
    sample = compile_table(case["name"], coeffs="sample", **kw)
    assert sample.values.size == 3
    solutions = _brute_force(sample, (1 << (sample.guard_bits + 3)) + 8)
    try:
        table = compile_table(case["name"], coeffs="faithful", **kw)
    except lutgen.SpecError as exc:
        assert "no faithful table" in str(exc)
        assert solutions == []
        return
    assert solutions, "the dynamic program found entries brute force did not"
    assert any((s == table.values).all() for s in solutions)
    # the narrowest word any faithful combination fits
    assert table.store_bits == min(_word_bits(s) for s in solutions)
    report = analyze(table)
    assert report.exhaustive and report.faithful
    # tests/naive.py: every output from the document's arithmetic, errors in Fractions
    rc = _ref_codes(table)
    for code, r in zip(table.in_format.codes(), rc):
        y = naive.trace(table, code).y
        assert abs(Fraction(y) - Fraction(float(r))) < 1


def test_both_outcomes_are_exercised():
    """The brute-force cases above include feasible and infeasible layouts."""
    outcomes = set()
    for case in SMALL:
        kw = {k: v for k, v in case.items() if k != "name"}
        try:
            compile_table(case["name"], coeffs="faithful", in_format="s6.2", entries=2, **kw)
            outcomes.add(True)
        except lutgen.SpecError:
            outcomes.add(False)
    assert outcomes == {True, False}


def _target(table_kw, name, store_bits):
    sample = compile_table(name, coeffs="sample", **table_kw)
    spec = sample.spec
    every = reference_on_codes(spec)
    return _faithful.faithful(
        np.asarray(sample.values), sample.prog, sample.layout,
        lambda codes: every[codes - sample.in_format.min_code], lambda: every, name,
        store_bits=store_bits)


@pytest.mark.parametrize("name,kw", [
    ("gelu", dict(in_format="s6.2", out_format="s6.2", range=(-2, 2), entries=2,
                  guard_bits=1)),
    ("tanh", dict(in_format="s16.12", out_format="s16.14", range=(-5, 5), fold=True,
                  tails="clamp", entries=512, guard_bits=1)),
])
def test_a_given_word_width_is_met_or_refused(name, kw):
    table = compile_table(name, coeffs="faithful", **kw)
    same = _target(kw, name, table.store_bits)
    assert _word_bits(same) <= table.store_bits
    assert _faithful_everywhere(table, same)
    with pytest.raises(lutgen.SpecError, match=f"fits {table.store_bits - 1}-bit words"):
        _target(kw, name, table.store_bits - 1)


@pytest.mark.parametrize("name,kw", [
    ("tanh", dict(out_format="s16.14", range=(-5, 5), fold=True, tails="clamp", entries=512,
                  guard_bits=1)),
    ("sigmoid", dict(out_format="s16.15", range=(-8, 8), fold=True, tails="clamp",
                     entries=256, guard_bits=1)),
    ("gelu", dict(out_format="s16.12", range=(-4, 4), entries=1024, guard_bits=0)),
    ("sigmoid", dict(out_format="s16.10", range=(-8, 8), interp="nearest", entries=4096)),
    ("tanh", dict(out_format="s16.10", range=(-6, 6), fold=True, interp="none",
                  entries=8192)),
    ("sigmoid", dict(out_format="u8.8", range=(-8, 8), entries=64, guard_bits=2,
                     saturation="allowed")),
])
def test_faithful_on_every_input_and_never_wider_than_minimax(name, kw):
    t0 = time.perf_counter()
    table = compile_table(name, in_format="s16.12", coeffs="faithful", **kw)
    took = time.perf_counter() - t0
    report = analyze(table)
    assert report.exhaustive and report.faithful and report.max_error_lsb < 1
    minimax = compile_table(name, in_format="s16.12", coeffs="minimax", **kw)
    assert table.store_bits <= minimax.store_bits
    print(f"{name} {kw}: faithful {table.rom_bits} bits ({table.store_bits}-bit words, "
          f"{report.max_error_lsb:.4f} LSB) vs minimax {minimax.rom_bits} "
          f"({analyze(minimax).max_error_lsb:.4f} LSB), {took:.2f} s")


def test_an_infeasible_layout_is_one_error_line():
    result = CliRunner().invoke(cli, ["build", "tanh", "--in-format", "s16.12", "--out-format",
                                      "s16.14", "--fold", "--entries", "64",
                                      "--coeffs", "faithful"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: no faithful table of 'tanh' exists with 64 "
                                    "entries and 3 guard bits")
    assert result.output.count("\n") == 1


# today's (sample/minimax) ROM bits of these fits: the faithful entries must not lose; the
# sigmoid's words hold sigmoid - 1/2 (one bit fewer), GELU's fold stores gelu - x/2
# (docs/ARITHMETIC.md step 5); `hier`: the best of all once hierarchical layouts (regions)
# are searched too (counted regions: docs/ARITHMETIC.md step 3h'); `target`: issue 12's
@pytest.mark.parametrize("name,out_format,before,expect,hier,target", [
    ("tanh", "s16.14", 8208, 7695, 2071, 2400),
    ("sigmoid", "s16.14", 2064, 1935, 1210, 1300),
    ("gelu", "s16.12", 4369, 1806, 817, 900),
    ("tanh", "s16.15", 9234, 8721, 2741, 2900),
    ("sigmoid", "s16.15", 4112, 3855, 2013, 2150),
])
def test_fit_with_faithful_entries(name, out_format, before, expect, hier, target):
    t0 = time.perf_counter()
    result = fit(name, in_format="s16.12", out_format=out_format, max_error="1lsb")
    took = time.perf_counter() - t0
    best = result.best
    print(f"fit {name} s16.12 -> {out_format}: {best.table.rom_bits} ROM bits "
          f"(before {before}), {best.table.entries} entries, {best.table.store_bits}-bit "
          f"words, coeffs {best.table.spec.coeffs.value}, "
          f"{best.report.max_error_lsb:.4f} LSB, {took:.1f} s")
    assert result.met and took < 30
    uniform = min(d.table.rom_bits for d in result.evaluated
                  if d.meets and d.table.regions is None)
    assert uniform == expect <= before
    assert best.table.rom_bits == hier <= target and best.table.regions is not None
    # re-checked by an independent compile of what it says to build, on every input
    rebuilt = lutgen.build(lutgen.TableSpec.from_dict(best.to_dict()["options"]))
    assert (rebuilt.values == best.table.values).all() and rebuilt.rom_bits == hier
    report = analyze(rebuilt)
    assert report.exhaustive and report.faithful and report.max_error_lsb < 1.0
    # the region table is counted: knots x word + its own bits
    reg = rebuilt.regions
    assert rebuilt.rom_bits == reg.knots * rebuilt.store_bits + reg.table_bits
    # the independent reference evaluates the same integers (every 5th input code)
    codes = rebuilt.in_format.codes()[::5]
    assert np.array_equal(rebuilt.eval_int(codes), naive.naive_eval_codes(rebuilt, codes))


# ---- a property over random small tables ---------------------------------------------------
from hypothesis import HealthCheck, assume, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from .test_kernels import table_specs  # noqa: E402


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(spec=table_specs(max_bits=10), other=st.sampled_from(["sample", "minimax"]))
def test_faithful_exists_whenever_another_fit_is_faithful(spec, other):
    """Random formats, folds, tails, interps: faithful entries are faithful on every input
    (tests/naive.py agrees with the kernel), and whenever the sampled or minimax entries
    are faithful, faithful entries exist in a word no wider than theirs."""
    kw = dict(spec)
    name = kw.pop("name")
    kw.pop("fit")
    try:
        rival = compile_table(name, coeffs=other, **kw)
    except lutgen.LutgenError:
        assume(False)
    rival_faithful = analyze(rival).faithful
    event(f"{other} faithful: {rival_faithful}")
    try:
        table = compile_table(name, coeffs="faithful", **kw)
    except lutgen.SpecError as exc:
        assert "faithful" in str(exc)
        assert not rival_faithful, f"{other} is faithful but faithful entries were not found"
        event("no faithful entries")
        return
    event(f"faithful {table.interp.value}")
    report = analyze(table)
    assert report.exhaustive and report.faithful
    if rival_faithful:
        assert table.store_bits <= rival.store_bits
    ys = table.eval_int(table.in_format.codes())
    assert [naive.trace(table, c).y for c in table.in_format.codes()] == ys.tolist()
