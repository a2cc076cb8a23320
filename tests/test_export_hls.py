"""The hls4ml export, compiled with g++ against hls4ml's own ap_types and nnet_utils headers.

The headers come from the hls4ml wheel (``scripts/fetch_hls_headers.sh DIR``, run by
``.ci/run``); ``LUTGEN_HLS_INCLUDE`` names the folder holding ``ap_types/`` and
``nnet_utils/``. Without it the tests skip, or fail under ``LUTGEN_REQUIRE_TOOLS=1``.
One harness runs every table's array and stream entry points on every input code
and writes the output codes as int64; they must equal ``Table.eval_int``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lutgen.export import render
from lutgen.table import compile_table
from tests.conftest import require_tool

# the vendor headers' ap_private default constructor reads its uninitialised word
# (gcc's -W(maybe-)uninitialized point into ap_private.h); everything else is an error
CXX_FLAGS = ["-std=c++14", "-O1", "-Wall", "-Wextra", "-Werror", "-Wno-unknown-pragmas",
             "-Wno-uninitialized", "-Wno-maybe-uninitialized"]


def hls_include() -> Path:
    """The folder with hls4ml's ``ap_types/`` and ``nnet_utils/``; skip or fail without it."""
    folder = os.environ.get("LUTGEN_HLS_INCLUDE")
    if folder and (Path(folder) / "ap_types" / "ap_fixed.h").is_file() \
            and (Path(folder) / "nnet_utils" / "nnet_activation.h").is_file():
        return Path(folder)
    message = ("hls4ml's headers are missing: run scripts/fetch_hls_headers.sh DIR and set "
               f"LUTGEN_HLS_INCLUDE=DIR (now {folder!r})")
    if os.environ.get("LUTGEN_REQUIRE_TOOLS") == "1":
        pytest.fail(message + "; LUTGEN_REQUIRE_TOOLS=1 makes this a failure")
    pytest.skip(message)


def _case(case_id, activation, **kwargs):
    return pytest.param(activation, kwargs, id=case_id)


CASES = [
    _case("sigmoid-s8.4-linear-fold-g3", "sigmoid", in_format="s8.4", fold=True, entries=16,
          guard_bits=3),
    _case("tanh-s8.4-nearest-fold-g0", "tanh", in_format="s8.4", interp="nearest", fold=True,
          guard_bits=0),
    _case("tanh-s8.4-s8.7-default", "tanh", in_format="s8.4", out_format="s8.7"),
    _case("linear-s8.4-none-asymptote", "linear", in_format="s8.4", range=(-1.0, 1.0),
          entries=4, interp="none", tails="asymptote", guard_bits=0),
    _case("exp-u8.8-none-32-g3", "exp", in_format="u8.8", range=(0.0, 1.0), entries=32,
          interp="none", guard_bits=3),
    _case("sigmoid-s16.12-linear-fold-minimax-g3", "sigmoid", in_format="s16.12", fold=True,
          coeffs="minimax", guard_bits=3),
    _case("tanh-s16.12-linear-fold-asymptote-g3", "tanh", in_format="s16.12", fold=True,
          tails="asymptote", guard_bits=3),
    _case("sigmoid-u16.12-nearest-clamp-g3", "sigmoid", in_format="u16.12", interp="nearest",
          guard_bits=3),
    _case("exp-s16.12-linear-asymptote-g3", "exp", in_format="s16.12", range=(-6.0, 8.0),
          tails="asymptote", guard_bits=3),
    _case("gelu-s16.12-linear-minimax", "gelu", in_format="s16.12", range=(-4.0, 4.0),
          coeffs="minimax"),
    _case("leaky_relu-s16.12-linear-g3", "leaky_relu", in_format="s16.12", range=(-2.0, 2.0),
          guard_bits=3),
    _case("cosine-s16.12-linear-fold-even-g3", "cosine", in_format="s16.12", range=(-3.0, 3.0),
          fold=True, guard_bits=3),
    _case("gelu-s16.12-linear-fold-line-g0", "gelu", in_format="s16.12", out_format="s16.12",
          fold=True, entries=128, guard_bits=0, coeffs="minimax"),
    _case("silu-s8.4-nearest-fold-line-asymptote", "silu", in_format="s8.4",
          out_format="s8.2", fold=True, interp="nearest", entries=16, tails="asymptote"),
    _case("tanh-q15-default", "tanh", in_format="q15"),
    # affine inputs: folded about the zero point Z (u = 2Z - x below it), the line term x - Z
    _case("sigmoid-int8-zp-fold-point", "sigmoid", in_format="int8(0.05,10)", out_format="s8.7",
          fold=True, entries=32, range=(-5.5, 5.5)),
    _case("cosine-int8-zp-fold-even", "cosine", in_format="int8(0.03,-7)", out_format="s8.6",
          fold=True, range=(-3.0, 3.0)),
    _case("gelu-uint8-zp-fold-line", "gelu", in_format="uint8(0.0625,128)", out_format="s8.4",
          fold=True, entries=16, range=(-4.0, 4.0)),
    # hierarchical tables (regions, docs/ARITHMETIC.md step 3h): the region table and w'
    _case("sigmoid-s16.12-regions-faithful", "sigmoid", in_format="s16.12",
          out_format="s16.14", range=(-8.0, 8.0), fold=True, tails="clamp", coeffs="faithful",
          regions="5,5,6,6,7,7,8,8,9,9,10,10,11,11,11,11"),
    _case("gelu-s8.4-regions-asymptote-g0", "gelu", in_format="s8.4", range=(-4.0, 4.0),
          tails="asymptote", guard_bits=0, regions="3,1,1,3"),
    _case("tanh-s8.4-regions-fold-s0", "tanh", in_format="s8.4", range=(-4.0, 4.0), fold=True,
          tails="asymptote", guard_bits=0, regions="0,1,2,4"),
    _case("exp-u8.6-regions-past-the-end", "exp", in_format="u8.6", range=(0.0, 3.0),
          coeffs="minimax", regions="2,2,3,3,4"),
    _case("sigmoid-s8.4-regions-all-s0", "sigmoid", in_format="s8.4", range=(-6.0, 6.0),
          regions="0,0,0"),
    # counted regions (step 3h'): region_start and the region chosen by comparison
    _case("sigmoid-s8.4-counted-clamp", "sigmoid", in_format="s8.4", range=(-8.0, 8.0),
          regions="3x8,2x16,4x8"),
    _case("tanh-s8.4-counted-fold-asymptote-s0", "tanh", in_format="s8.4", range=(-4.0, 4.0),
          fold=True, tails="asymptote", guard_bits=0, regions="0x4,1x6,2x4,4x2"),
    _case("gelu-s12.8-counted-asymptote", "gelu", in_format="s12.8", range=(-4.0, 4.0),
          tails="asymptote", regions="6x8,5x8,4x32,5x8,6x8"),
    _case("tanh-s16.12-counted-faithful", "tanh", in_format="s16.12", out_format="s16.14",
          range=(-5.0, 5.0), fold=True, coeffs="faithful", guard_bits=2,
          regions="7x8,6x68,7x26,8x12,9x5,10x2,11x2"),
    _case("sigmoid-s8.4-counted-one-region-2x3", "sigmoid", in_format="s8.4", range=(0.0, 0.75),
          tails="asymptote", regions="2x3"),
    _case("tanh-s8.4-counted-fold-past-last-code", "tanh", in_format="s8.4", range=(-8.0, 8.0),
          fold=True, regions="3x4,4x6,0x1"),
    _case("exp-u8.6-counted-widened-to-top", "exp", in_format="u8.6", range=(0.0, 3.0),
          coeffs="minimax", regions="2x8,3x4,5x6"),
]


def _ap(fmt) -> str:
    return f"ap_{'' if fmt.signed else 'u'}fixed<{fmt.bits},{fmt.bits - fmt.frac}>"


def _run_block(name: str, table) -> list[str]:
    """C++ writing, for every input code, the array and then the stream outputs."""
    fin, fout = table.in_format, table.out_format
    n, d, r = fin.n_codes, _ap(fin), _ap(fout)
    int_t = f"ap_{'' if fout.signed else 'u'}int<{fout.bits}>"
    return [
        "    {",
        f"        static {d} data[{n}]; static {r} res[{n}];",
        f"        for (long c = {fin.min_code}; c <= {fin.max_code}; ++c)",
        f"            data[c - ({fin.min_code})].range({fin.bits - 1}, 0) = c;",
        f"        nnet::lutgen_{name}<{d}, {r}, cfg<{n}> >(data, res);",
        f"        for (unsigned k = 0; k < {n}; ++k) {{ {int_t} v; "
        f"v.range({fout.bits - 1}, 0) = res[k].range({fout.bits - 1}, 0); put((long long)v); }}",
        f"        typedef nnet::array<{d}, 4> A; typedef nnet::array<{r}, 4> B;",
        "        hls::stream<A> in; hls::stream<B> out;",
        f"        for (unsigned k = 0; k < {n}; k += 4) {{ A a; "
        "for (unsigned j = 0; j < 4; ++j) a[j] = data[k + j]; in.write(a); }",
        f"        nnet::lutgen_{name}<A, B, cfg<{n}> >(in, out);",
        f"        for (unsigned k = 0; k < {n}; k += 4) {{ B b = out.read(); "
        f"for (unsigned j = 0; j < 4; ++j) {{ {int_t} v; "
        f"v.range({fout.bits - 1}, 0) = b[j].range({fout.bits - 1}, 0); put((long long)v); }} }}",
        "    }",
    ]


def _compile(source: Path, exe: Path, include: Path, expect_ok=True):
    gxx = require_tool("g++")
    cmd = [gxx, *CXX_FLAGS, f"-I{source.parent}", "-isystem", str(include / "ap_types"),
           "-isystem", str(include / "nnet_utils"), str(source), "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if expect_ok and proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed:\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """case id -> (table, array outputs, stream outputs) from one harness."""
    include = hls_include()
    tmp = tmp_path_factory.mktemp("hls")
    lines = ["#include <cstdio>", "#include \"nnet_activation.h\"",
             "#include \"nnet_activation_stream.h\"",  # hls4ml's own, beside ours
             "static void put(long long v) { fwrite(&v, sizeof v, 1, stdout); }",
             "template <unsigned N> struct cfg { static const unsigned n_in = N; };"]
    tables = []
    for n, case in enumerate(CASES):
        table = compile_table(case.values[0], **case.values[1])
        name = f"t{n}"
        (art,) = render(table, None, ["hls"], name=name)
        assert art.filename == f"nnet_lutgen_{name}.h"
        (tmp / art.filename).write_text(art.text)
        lines.append(f'#include "{art.filename}"')
        tables.append((case.id, name, table))
    lines += ["int main() {"]
    for _, name, table in tables:
        lines += _run_block(name, table)
    lines += ["    return 0;", "}"]
    source = tmp / "harness.cpp"
    source.write_text("\n".join(lines) + "\n")
    exe = tmp / "harness"
    _compile(source, exe, include)
    proc = subprocess.run([str(exe)], capture_output=True, check=True)
    flat = np.frombuffer(proc.stdout, dtype=np.int64)
    sizes = [2 * t.in_format.n_codes for _, _, t in tables]
    assert flat.size == sum(sizes)
    result = {}
    for (case_id, _, table), chunk in zip(tables, np.split(flat, np.cumsum(sizes)[:-1])):
        half = table.in_format.n_codes
        result[case_id] = (table, chunk[:half], chunk[half:])
    return result


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_hls_matches_kernel_on_every_input_code(outputs, case_id):
    table, array_out, stream_out = outputs[case_id]
    expected = table.eval_int(table.in_format.codes())
    bad = np.flatnonzero(array_out != expected)
    assert bad.size == 0, (f"array form differs at input code "
                           f"{table.in_format.min_code + bad[0]}: {array_out[bad[0]]} != "
                           f"{expected[bad[0]]}")
    np.testing.assert_array_equal(stream_out, expected)


def test_cases_cover_every_path(outputs):
    tables = [t for t, _, _ in outputs.values()]
    assert {t.interp.value for t in tables} == {"none", "nearest", "linear"}
    assert {tail.mode for t in tables for tail in t.tails if tail is not None} == {
        "clamp", "asymptote"}
    assert {t.fold.value for t in tables} == {"none", "odd", "point", "even", "even_line"}
    assert {(t.in_format.bits, t.in_format.signed) for t in tables} == {
        (8, True), (8, False), (12, True), (16, True), (16, False)}
    equal = [t for t in tables if t.regions is not None and t.regions.equal]
    counted = [t for t in tables if t.regions is not None and not t.regions.equal]
    assert {len(t.regions.shifts) for t in equal} == {3, 4, 5, 16}
    assert {t.regions.n for t in counted} == {1, 3, 4, 5, 7}
    assert any(0 in t.regions.shifts for t in counted)
    assert any(t.hi_code > t.in_format.max_code + 1 for t in counted)  # past the last code


@pytest.mark.parametrize("data_t,res_t,message", [
    ("ap_fixed<8,5>", "ap_fixed<8,1>", "data_T must be ap_fixed<8,4> (s8.4)"),
    ("ap_ufixed<8,4>", "ap_fixed<8,1>", "data_T must be ap_fixed<8,4> (s8.4)"),
    ("ap_fixed<8,4>", "ap_fixed<16,1>", "res_T must be ap_fixed<8,1> (s8.7)"),
])
def test_element_types_that_are_not_the_formats_do_not_compile(tmp_path, data_t, res_t,
                                                               message):
    include = hls_include()
    table = compile_table("tanh", in_format="s8.4", out_format="s8.7")
    (art,) = render(table, None, ["hls"], name="th")
    (tmp_path / art.filename).write_text(art.text)
    src = tmp_path / "bad.cpp"
    src.write_text(f'#include "{art.filename}"\nstruct cfg {{ static const unsigned n_in = 4; }};\n'
                   f"int main() {{ {data_t} d[4]; {res_t} r[4];\n"
                   f"    nnet::lutgen_th<{data_t}, {res_t}, cfg>(d, r); return 0; }}\n")
    proc = _compile(src, tmp_path / "bad", include, expect_ok=False)
    assert proc.returncode != 0
    assert f"lutgen_th: {message}, the table's" in proc.stderr


def test_cli_writes_the_hls_header(tmp_path):
    from click.testing import CliRunner

    from lutgen.cli import cli

    result = CliRunner().invoke(cli, ["build", "tanh", "--in-format", "s8.4", "--emit", "hls",
                                       "--name", "my-tanh", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "nnet_lutgen_my_tanh.h").read_text()
    assert "void lutgen_my_tanh(data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in])" in text
    assert "void lutgen_my_tanh(hls::stream<data_T> &data, hls::stream<res_T> &res)" in text


def test_tables_differing_only_in_their_regions_get_different_include_guards():
    # the same knots, formats and span, placed by other regions: another table, so one
    # header must not compile the other out as a repeat
    import dataclasses

    from lutgen.regions import Regions

    a = compile_table("sigmoid", in_format="s8.4", range=(-4.0, 4.0), regions="1,2,2,1")
    b = dataclasses.replace(a, regions=Regions(a.regions.granule_bits, (2, 1, 1, 2)))
    assert b.regions.segments == a.regions.segments and b.hi_code == a.hi_code
    guard = [re.search(r"#ifndef (NNET_LUTGEN_T_H_\w+)", render(t, None, ["hls"], name="t")[0]
                       .text)[1] for t in (a, b)]
    assert guard[0] != guard[1]

