"""The C header of counted regions (docs/ARITHMETIC.md step 3h'): bit-exact on every input.

The header holds ``START[r]``, ``BASE[r]`` and ``S_r`` as ``const`` arrays and selects
the region by comparing ``off`` with ``START[1..n-1]``. Each table is compiled as C,
as C++ and with sanitizers and compared with ``Table.eval_int`` on every input code;
``tests/naive.py`` checks the kernel on the same tables.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import lutgen
from lutgen.export import render

from .conftest import require_tool
from .naive import naive_eval_codes
from .test_export_c import C_FLAGS, CXX_FLAGS, NO_FLOAT, SANITIZE, _build_and_run, _compile, _run

COUNTED = {
    # 8 bits, not folded, clamp tails, three regions of three widths
    "sigmoid-s8.4-clamp": ("sigmoid", dict(in_format="s8.4", range=(-8, 8),
                                           regions="3x8,2x16,4x8")),
    # folded (odd), asymptote tail, a region of one-code segments (S = 0)
    "tanh-s8.4-fold-asymptote-s0": ("tanh", dict(in_format="s8.4", range=(-4, 4), fold=True,
                                                 tails="asymptote", guard_bits=0,
                                                 regions="0x4,1x6,2x4,4x2")),
    # 12 bits, asymptote tails on both sides, five regions
    "gelu-s12.8-asymptote": ("gelu", dict(in_format="s12.8", range=(-4, 4), tails="asymptote",
                                          regions="6x8,5x8,4x32,5x8,6x8")),
    # 16 bits, folded, clamp, seven regions whose counts are not powers of two
    "tanh-s16.12-faithful": ("tanh", dict(in_format="s16.12", out_format="s16.14",
                                          range=(-5, 5), fold=True, coeffs="faithful",
                                          guard_bits=2,
                                          regions="7x8,6x68,7x26,8x12,9x5,10x2,11x2")),
    # one region of 3 segments: not a power of two, so it stays a region table
    "sigmoid-s8.4-one-region-clamp": ("sigmoid", dict(in_format="s8.4", range=(0, 0.75),
                                                      regions="2x3")),
    "sigmoid-s8.4-one-region-asymptote": ("sigmoid", dict(in_format="s8.4", range=(0, 0.75),
                                                          tails="asymptote", regions="2x3")),
    # folded s8.4: u reaches 128 (x = -128), one past the format's last code; the last
    # region (0x1) serves only it
    "tanh-s8.4-fold-past-last-code": ("tanh", dict(in_format="s8.4", range=(-8, 8), fold=True,
                                                   regions="3x4,4x6,0x1")),
    # unsigned, the range widened by the segments up to the format's top
    "exp-u8.6-widened-to-top": ("exp", dict(in_format="u8.6", range=(0, 3.0), coeffs="minimax",
                                            regions="2x8,3x4,5x6")),
}


def _compile_case(case_id):
    activation, kwargs = COUNTED[case_id]
    return lutgen.compile_table(activation, **kwargs)


@pytest.fixture(scope="module")
def tables():
    return {case_id: _compile_case(case_id) for case_id in COUNTED}


def test_cases_cover_the_layouts(tables):
    ts = list(tables.values())
    assert all(t.regions is not None and not t.regions.equal for t in ts)
    assert {t.in_format.bits for t in ts} == {8, 12, 16}
    assert {bool(t.fold) for t in ts} == {True, False}
    assert {tail.mode for t in ts for tail in t.tails if tail is not None} == {
        "clamp", "asymptote"}
    assert any(0 in t.regions.shifts for t in ts)
    assert any(t.regions.n == 1 and t.regions.segments == 3 for t in ts)
    assert any(t.hi_code > t.in_format.max_code + 1 for t in ts)  # past the last code
    assert any(not t.in_format.signed for t in ts)


@pytest.mark.parametrize("case_id", list(COUNTED))
def test_naive_agrees_with_the_kernel(tables, case_id):
    t = tables[case_id]
    codes = t.in_format.codes()
    expected = naive_eval_codes(t, codes)
    got = t.eval_int(codes)
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, f"kernel differs from naive at code {codes[bad[0]]}"


def test_c_header_matches_the_kernel_on_every_input(tmp_path, tables):
    gcc, gxx = require_tool("gcc"), require_tool("g++")
    named = [(f"k{n}", t, None) for n, t in enumerate(tables.values())]
    for stem, compiler, flags, suffix in (
            ("c", gcc, C_FLAGS + NO_FLOAT + ["-O2"], ".c"),
            ("cxx", gxx, CXX_FLAGS + ["-O1"], ".cpp"),
            ("san", gcc, C_FLAGS + SANITIZE + ["-O1"], ".c")):
        outs = _build_and_run(tmp_path, f"counted_{stem}", named, compiler, flags, suffix)
        for case_id, (_, t, _), out in zip(tables, named, outs):
            codes = t.in_format.codes()
            bad = np.flatnonzero(out != t.eval_int(codes))
            assert bad.size == 0, (stem, case_id, f"first bad input code {codes[bad[0]]}")


def _header(table, name: str) -> str:
    (art,) = render(table, None, ["c"], name=name)
    return art.text


def test_header_states_start_base_and_shift():
    t = _compile_case("sigmoid-s8.4-clamp")
    text = _header(t, "sig")
    assert "static const uint8_t lutgen_sig_start[3] = { 0, 64, 128 };" in text
    assert "static const uint8_t lutgen_sig_base[3] = { 0, 8, 24 };" in text
    assert "static const uint8_t lutgen_sig_rshift[3] = { 3, 2, 4 };" in text
    assert "#define LUTGEN_SIG_REGIONS 3" in text and "REGION_BITS" not in text
    wide = _header(_compile_case("tanh-s16.12-faithful"), "th")
    assert ("static const uint16_t lutgen_th_start[7] = "
            "{ 0, 1024, 5376, 8704, 11776, 14336, 16384 };") in wide


def test_a_wrong_start_constant_changes_the_output(tmp_path):
    # the planted fault: START[1] 64 -> 72 in the rendered header. Offsets 64..71 then
    # fall in region 0 and region 1's o is 8 too small; region 0 and region 2 are untouched
    gcc = require_tool("gcc")
    t = _compile_case("sigmoid-s8.4-clamp")
    good = "lutgen_sig_start[3] = { 0, 64, 128 };"
    text = _header(t, "sig")
    assert good in text
    (tmp_path / "sig.h").write_text(text.replace(good, "lutgen_sig_start[3] = { 0, 72, 128 };"))
    source = tmp_path / "fault.c"
    source.write_text("\n".join([
        "#include <stdio.h>", "#include <stdint.h>",
        "#define LUTGEN_SIG_IMPLEMENTATION", '#include "sig.h"',
        "int main(void)", "{",
        "    for (int c = -128; c <= 127; ++c) {",
        "        const int64_t v = lutgen_sig_eval((int8_t)c);",
        "        fwrite(&v, sizeof v, 1, stdout);",
        "    }",
        "    return 0;", "}", ""]))
    exe = tmp_path / "fault"
    _compile(gcc, source, exe, C_FLAGS + ["-O1"])
    out = _run(exe)
    codes = t.in_format.codes()
    off = codes - t.lo_code
    bad = out != t.eval_int(codes)
    assert bad.any(), "a wrong START[1] changed no output: the comparison is not used"
    assert ((off[bad] >= 64) & (off[bad] < 128)).all()  # only region 1's codes, 64..127
    assert bad[(off >= 64) & (off < 72)].any()  # the ones the comparison misplaces


_ARRAY = re.compile(r"^(?:static )?const u?int(8|16|32|64)_t lutgen_(\w+?)_(start|base|rshift)"
                    r"\[(\d+)\] = \{ ([^}]*) \};$", re.M)
_TABLE = re.compile(r"^const u?int(8|16|32|64)_t lutgen_\w+_table\[LUTGEN_\w+_WORDS\]", re.M)


@pytest.mark.parametrize("case_id", list(COUNTED))
def test_c_bytes_counts_the_arrays_the_header_holds(tables, case_id):
    t = tables[case_id]
    text = _header(t, "t")
    arrays = _ARRAY.findall(text)
    assert sorted(kind for _, _, kind, _, _ in arrays) == ["base", "rshift", "start"]
    region_bytes = 0
    for width, _, _, count, values in arrays:
        assert len(values.split(",")) == int(count)  # the declared size is what it holds
        region_bytes += int(width) // 8 * int(count)
    (word,) = _TABLE.findall(text)
    words = int(re.search(r"#define LUTGEN_T_WORDS (\d+)", text).group(1))
    assert t.c_bytes == words * int(word) // 8 + region_bytes


def test_c_bytes_of_equal_regions_is_unchanged():
    t = lutgen.compile_table("sigmoid", in_format="s8.4", range=(-8, 8), regions="2,1,2,3")
    arrays = _ARRAY.findall(_header(t, "t"))
    assert sorted(kind for _, _, kind, _, _ in arrays) == ["base", "rshift"]
    assert t.c_bytes == t.values.size * 2 + 4 + 4  # uint16_t words, uint8_t BASE and S
