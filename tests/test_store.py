"""Free storage tricks of docs/ARITHMETIC.md step 5.

A negating fold stores its function minus its centre E (the sigmoid: sigmoid - 1/2, one bit
narrower) and adds E back on every input; an ``even_line`` fold (GELU, SiLU) stores
``h(x) = f(x) - a*x`` and adds ``a*x`` back. Centring is automatic because it changes no
output: checked here against the uncentred table evaluated by the independent reference
(tests/naive.py), on every input.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lutgen.table import compile_table
from tests import naive

FITTED_SIGMOID = dict(name="sigmoid", in_format="s16.12", out_format="s16.14", fold=True,
                      entries=128, coeffs="minimax", guard_bits=2, tails="clamp",
                      range=(-7.832275390625, 7.832275390625))

CENTRED = {
    "sigmoid_u8_nearest": dict(name="sigmoid", in_format="s8.4", out_format="u8.8", fold=True,
                               interp="nearest", entries=16),
    "sigmoid_u8_linear_faithful": dict(name="sigmoid", in_format="s8.4", out_format="u8.8",
                                       fold=True, entries=16, coeffs="faithful"),
    "sigmoid_s8_linear_asym": dict(name="sigmoid", in_format="s8.4", out_format="u8.8",
                                   fold=True, entries=16, tails="asymptote"),
    "sigmoid_s16_linear_faithful": dict(name="sigmoid", in_format="s10.6", out_format="s12.10",
                                        fold=True, entries=64, coeffs="faithful"),
    # an odd function with an output zero point: F = 2z * 2^G, E = z * 2^G
    "tanh_affine_zp_asym": dict(name="tanh", in_format="int8(0.03,0)",
                                out_format="int8(0.0078125,5)", fold=True, entries=16,
                                tails="asymptote"),
    "sigmoid_affine_in_zp": dict(name="sigmoid", in_format="int8(0.05,40)", out_format="u8.8",
                                 fold=True, entries=16, tails="asymptote", range=(-3, 3)),
}


def uncentred(table):
    """The same table stored the old way: words plus E, line tails' C plus E << (K - G)."""
    e, g = table.fold_e, table.guard_bits
    tails = tuple(t if t is None or not t.is_line else dataclasses.replace(t, c=t.c + (e << (t.k - g)))
                  for t in table.tails)
    return dataclasses.replace(table, values=table.values + e, fold_e=0, tails=tails)


@pytest.mark.parametrize("case", list(CENTRED))
def test_centring_changes_no_output(case):
    table = compile_table(**CENTRED[case])
    assert table.fold_e == table.fold_f // 2 != 0
    codes = table.in_format.codes()
    old = naive.naive_eval_codes(uncentred(table), codes)
    assert (naive.naive_eval_codes(table, codes) == old).all()
    assert (table.eval_int(codes) == old).all()
    # one bit narrower words than the same entries uncentred
    bits, _ = naive.narrowest_word(uncentred(table).values)
    assert table.store_bits == bits - 1
    assert table.rom_bits == table.values.size * (bits - 1)


def test_fitted_sigmoid_is_one_bit_narrower_on_every_input():
    """The issue's figure: 129 knots of 16 bits (2064) become 129 of 15 (1935)."""
    table = compile_table(**FITTED_SIGMOID)
    assert (table.store_bits, table.rom_bits) == (15, 1935)
    assert naive.narrowest_word(uncentred(table).values) == (16, False)
    codes = table.in_format.codes()
    assert (table.eval_int(codes) == naive.naive_eval_codes(uncentred(table), codes)).all()


def test_odd_function_without_zero_point_has_no_centre():
    table = compile_table("tanh", in_format="s8.5", fold=True, entries=16)
    assert (table.fold_f, table.fold_e) == (0, 0)


def test_centre_is_in_the_table_json():
    d = compile_table(**CENTRED["sigmoid_u8_nearest"]).to_dict()
    assert (d["fold_f"], d["fold_e"]) == (256, 128)  # F = 2 * (1/2) * 2^8, G = 0


# ---- even_line: f(x) = a*x + h(x), h even ------------------------------------------------------
EVEN_LINE = {
    "gelu_s8_linear_asym": dict(name="gelu", in_format="s8.4", out_format="s8.4", fold=True,
                                entries=8, tails="asymptote", range=(-3, 3)),
    "silu_s8_linear_minimax_g0": dict(name="silu", in_format="s8.4", out_format="s8.4",
                                      fold=True, entries=16, guard_bits=0, coeffs="minimax"),
    "gelu_tanh_s8_nearest": dict(name="gelu_tanh", in_format="s8.4", out_format="s8.5",
                                 fold=True, interp="nearest", entries=16),
    "softplus_s8_none_faithful": dict(name="softplus", in_format="s8.4", out_format="s8.4",
                                      fold=True, interp="none", entries=128,
                                      coeffs="faithful"),
    "hard_swish_s8_linear": dict(name="hard_swish", in_format="s8.4", out_format="s8.4",
                                 fold=True, entries=16),
    "eswish_lm3": dict(name="eswish", in_format="s8.4", out_format="s10.4", fold=True,
                       entries=16, tails="asymptote", range=(-3, 3)),
    "silu_affine_zp": dict(name="silu", in_format="int8(0.0625,-20)",
                           out_format="int8(0.125,-10)", fold=True, entries=16,
                           tails="asymptote", range=(-3, 3)),
}


@pytest.mark.parametrize("case", list(EVEN_LINE))
def test_even_line_fold_matches_the_document_on_every_input(case):
    table = compile_table(**EVEN_LINE[case])
    assert table.fold.value == "even_line" and table.fold_lm != 0
    codes = table.in_format.codes()
    want = naive.naive_eval_codes(table, codes)
    assert (table.eval_int(codes) == want).all()


@pytest.mark.parametrize("case", ["gelu_s8_linear_asym", "silu_s8_linear_minimax_g0"])
def test_even_line_fold_is_as_accurate_as_the_unfolded_table(case):
    """Same segments on x >= 0: the fold serves x < 0 from them as well as an unfolded table
    with twice the entries over the mirrored range does (to rounding)."""
    from lutgen.analysis import analyze

    spec = EVEN_LINE[case]
    folded = analyze(compile_table(**spec))
    rng = spec.get("range", (-8, 8))
    plain = analyze(compile_table(**{**spec, "fold": False, "entries": 2 * spec["entries"],
                                     "range": (-max(abs(rng[0]), rng[1]), max(abs(rng[0]), rng[1]))}))
    assert folded.max_error_lsb <= plain.max_error_lsb + 0.5


def test_gelu_fold_stores_half_the_words_of_narrower_h():
    table = compile_table("gelu", in_format="s16.12", out_format="s16.12", fold=True,
                          entries=128, guard_bits=1, coeffs="faithful",
                          range=(-3.83154296875, 3.83154296875))
    assert (table.fold_lm, table.fold_le, table.store_bits, table.rom_bits) == (1, 1, 14, 1806)
    codes = np.arange(-32768, 32768, 97)
    assert (table.eval_int(codes) == naive.naive_eval_codes(table, codes)).all()
    from lutgen.analysis import analyze

    assert analyze(table).faithful


def test_even_line_derivative_is_point_symmetric_about_the_slope():
    table = compile_table("gelu", in_format="s8.4", derivative=True, fold=True, entries=16)
    assert table.fold.value == "point" and table.fold_f == 1 << (table.out_format.frac
                                                                 + table.guard_bits)
    codes = table.in_format.codes()
    assert (table.eval_int(codes) == naive.naive_eval_codes(table, codes)).all()


def test_a_non_dyadic_line_term_is_refused():
    from lutgen.errors import SpecError

    with pytest.raises(SpecError, match=r"even fold of 'silu' adds the line 0\.5\*x .* not a "
                                        r"dyadic rational"):
        compile_table("silu", in_format="int8(0.0235,-3)", out_format="int8(0.03,0)", fold=True)


def test_too_few_guard_bits_for_the_line_term_are_refused():
    from lutgen.errors import SpecError

    # nearest rounds at R = G: x/2 in s8.4 -> s8.4 needs G >= 1
    with pytest.raises(SpecError, match="guard bits 0 are too few .* at least 1 guard bits"):
        compile_table("gelu", in_format="s8.4", out_format="s8.4", fold=True,
                      interp="nearest", guard_bits=0)
    assert compile_table("gelu", in_format="s8.4", out_format="s8.4", fold=True,
                         interp="nearest").guard_bits == 1  # the default is raised


def test_cli_refuses_a_non_dyadic_line_term_in_one_line():
    from click.testing import CliRunner

    from lutgen.cli import cli

    result = CliRunner().invoke(cli, ["analyze", "silu", "--in-format", "int8(0.0235,-3)",
                                      "--out-format", "int8(0.03,0)", "--fold"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: the even fold of 'silu' adds the line")
