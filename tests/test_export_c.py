"""The C header exporter, compiled with gcc/g++ and run against ``Table.eval_int``.

Every case below is compiled into one harness that evaluates every input code
of the format (all formats here have at most 16 bits) and writes the outputs
as binary int64 to stdout; the test compares them bit for bit with the kernel.
One gcc and one g++ invocation serve the whole matrix.
"""

from __future__ import annotations

import importlib.util
import platform
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lutgen.analysis import analyze
from lutgen.errors import ExportError, LutgenError
from lutgen.export import identifier, macro_name, render
from lutgen.table import compile_table
from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_C = ROOT / "tests" / "golden" / "c"

C_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Werror"]
CXX_FLAGS = ["-std=c++17", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Werror"]
# x86-64 gcc rejects any floating-point instruction under this flag: the
# evaluator must be integer-only
NO_FLOAT = ["-mgeneral-regs-only"] if platform.machine() in ("x86_64", "AMD64") else []
SANITIZE = ["-fsanitize=undefined,address", "-fno-sanitize-recover=all", "-g"]


# ---- the matrix ---------------------------------------------------------------------------
def _case(case_id, activation, **kwargs):
    return pytest.param(activation, kwargs, id=case_id)


# activation x interp x tails x fold x format (8/16 bits, signed/unsigned) x fit x guard bits
CLASSIC_CASES = [
    _case("sigmoid-s8.4-linear-clamp-sample-g0", "sigmoid", in_format="s8.4", guard_bits=0),
    _case("sigmoid-s16.12-linear-fold-minimax-g3", "sigmoid", in_format="s16.12", fold=True,
          fit="minimax", guard_bits=3),
    _case("sigmoid-u16.12-nearest-clamp-g3", "sigmoid", in_format="u16.12", interp="nearest",
          guard_bits=3),
    _case("sigmoid-s16.12-none-asymptote-minimax", "sigmoid", in_format="s16.12", interp="none",
          tails="asymptote", fit="minimax", guard_bits=0),
    _case("sigmoid-u8.8-linear-16-g3", "sigmoid", in_format="u8.8", entries=16, guard_bits=3),
    _case("tanh-s8.4-nearest-fold-g0", "tanh", in_format="s8.4", interp="nearest", fold=True,
          guard_bits=0),
    _case("tanh-s16.12-linear-fold-asymptote-g3", "tanh", in_format="s16.12", fold=True,
          tails="asymptote", guard_bits=3),
    _case("tanh-s16.12-none-clamp-minimax-64", "tanh", in_format="s16.12", interp="none",
          entries=64, fit="minimax", guard_bits=0),
    _case("tanh-s8.4-linear-minimax-g3", "tanh", in_format="s8.4", entries=16, fit="minimax",
          guard_bits=3),
    _case("exp-s16.12-linear-clamp-minimax-g3", "exp", in_format="s16.12", fit="minimax",
          guard_bits=3),
    _case("exp-u8.8-none-32-g3", "exp", in_format="u8.8", range=(0.0, 1.0), entries=32,
          interp="none", guard_bits=3),
    _case("exp-s16.12-linear-asymptote-g3", "exp", in_format="s16.12", range=(-6.0, 8.0),
          tails="asymptote", guard_bits=3),
    _case("reciprocal-u16.12-linear-clamp-minimax", "reciprocal", in_format="u16.12",
          range=(0.5, 8.0), tails="clamp", fit="minimax", guard_bits=3),
    _case("reciprocal-u16.12-nearest-asymptote-g0", "reciprocal", in_format="u16.12",
          range=(0.25, 15.0), tails="asymptote", interp="nearest", guard_bits=0),
    _case("reciprocal-u8.4-none-clamp", "reciprocal", in_format="u8.4", range=(1.0, 8.0),
          interp="none", tails="clamp", entries=16),
    _case("linear-s8.4-linear-auto-g0", "linear", in_format="s8.4", range=(-2.0, 2.0),
          guard_bits=0),
    _case("linear-s16.12-nearest-fold-asymptote-g3", "linear", in_format="s16.12",
          range=(-1.0, 1.0), fold=True, tails="asymptote", interp="nearest", guard_bits=3,
          entries=64),
]

# the other catalog modules
EXTRA_CASES = [
    _case("leaky_relu-s16.12-linear-auto-g3", "leaky_relu", in_format="s16.12",
          range=(-2.0, 2.0), guard_bits=3),
    _case("gelu-s16.12-linear-auto-minimax", "gelu", in_format="s16.12", range=(-4.0, 4.0),
          fit="minimax"),
    _case("silu-s16.12-none-auto", "silu", in_format="s16.12", range=(-4.0, 4.0),
          interp="none"),
    _case("relu-s8.4-nearest-auto-g0", "relu", in_format="s8.4", range=(-2.0, 2.0),
          interp="nearest", guard_bits=0),
    _case("softsign-s16.12-linear-fold-asymptote-g3", "softsign", in_format="s16.12",
          fold=True, tails="asymptote", guard_bits=3),
    _case("cosine-s16.12-linear-fold-even-g3", "cosine", in_format="s16.12",
          range=(-3.0, 3.0), fold=True, guard_bits=3),
    _case("cosine-s8.4-nearest-fold-even-minimax", "cosine", in_format="s8.4",
          range=(-3.0, 3.0), fold=True, interp="nearest", fit="minimax"),
    # even_line folds: the table holds h = f - x/2, step 5 adds x/2 (LM = 1, LE = 1; LE < 0)
    _case("gelu-s16.12-linear-fold-line-g0", "gelu", in_format="s16.12", out_format="s16.12",
          fold=True, entries=128, guard_bits=0, fit="minimax"),
    _case("silu-s8.4-nearest-fold-line-asymptote", "silu", in_format="s8.4", out_format="s8.2",
          fold=True, interp="nearest", entries=16, tails="asymptote"),
    _case("eswish-s8.4-none-fold-line-lm3", "eswish", in_format="s8.4", out_format="s10.4",
          fold=True, interp="none", entries=16, tails="asymptote"),
]

# affine (scale, zero point) formats: zero points in the line constants, non-dyadic slopes,
# an unsigned input whose real 0 is code 128, folds about code 0 with the output's zero point
AFFINE_CASES = [
    _case("gelu-int8a-linear-asymptote-minimax", "gelu", in_format="int8(0.0235,-3)",
          out_format="int8(0.0235,-3)", range=(-1.0, 1.0), entries=16, tails="asymptote",
          coeffs="minimax"),
    _case("gelu-int8a-other-scale-linear-asymptote-g3", "gelu", in_format="int8(0.0235,-3)",
          out_format="int8(0.0187,5)", range=(-1.5, 1.5), tails="asymptote", guard_bits=3),
    _case("sigmoid-uint8a-nearest-asymptote", "sigmoid", in_format="uint8(0.05,128)",
          out_format="uint8(0.00390625,0)", range=(-3.0, 3.0), entries=32, interp="nearest",
          tails="asymptote"),
    _case("sigmoid-int8a-fold-point-asymptote", "sigmoid", in_format="int8(0.05,0)",
          out_format="uint8(0.00390625,0)", range=(-3.0, 3.0), fold=True, entries=16,
          tails="asymptote"),
    _case("tanh-int8a-fold-odd-zp-out", "tanh", in_format="int8(0.03,0)",
          out_format="int8(0.0078125,-1)", range=(-2.0, 2.0), fold=True, entries=16,
          interp="none"),
    _case("silu-int16a-linear-asymptote", "silu", in_format="int16(0.0005,-100)",
          out_format="int16(0.0007,-300)", range=(-4.0, 4.0), entries=64, tails="asymptote"),
    # folds about a nonzero input zero point Z: u = x < Z ? 2Z - x : x
    _case("tanh-int8a-fold-about-zp-none-minimax", "tanh", in_format="int8(0.03,-3)",
          out_format="int8(0.0078125,-1)", range=(-2.0, 2.0), fold=True, entries=16,
          interp="none", coeffs="minimax"),
    _case("sigmoid-uint8a-fold-about-128-asymptote", "sigmoid", in_format="uint8(0.05,128)",
          out_format="uint8(0.00390625,0)", range=(-3.0, 3.0), fold=True, entries=16,
          tails="asymptote"),
    _case("cosine-int8a-fold-even-about-zp-nearest", "cosine", in_format="int8(0.05,-20)",
          out_format="int8(0.0078125,0)", range=(-3.0, 3.0), fold=True, entries=16,
          interp="nearest"),
    _case("softsign-int16a-fold-about-zp-asymptote", "softsign",
          in_format="int16(0.001,-1000)", out_format="int16(0.00003,3)", fold=True, entries=64,
          tails="asymptote", guard_bits=3),
]

CASES = CLASSIC_CASES + EXTRA_CASES + AFFINE_CASES


def _ctype(bits: int, signed: bool) -> str:
    width = next(w for w in (8, 16, 32, 64) if bits <= w)
    return f"{'' if signed else 'u'}int{width}_t"


def _write_header(folder: Path, table, name: str) -> None:
    (art,) = render(table, None, ["c"], name=name)
    (folder / art.filename).write_text(art.text)


def _loop(name: str, table, codes=None, put="put") -> list[str]:
    """C lines writing lutgen_<name>_eval of every code (or of ``codes``) via ``put``."""
    fmt = table.in_format
    call = f"{put}((int64_t)lutgen_{name}_eval(({_ctype(fmt.bits, fmt.signed)})c));"
    if codes is None:
        lo, hi = fmt.min_code, fmt.max_code
        return [f"    for (int64_t c = {lo}; c <= {hi}; ++c) {{ {call} }}"]
    values = ", ".join(f"INT64_C({int(c)})" for c in codes)
    return [
        "    {",
        f"        static const int64_t codes[] = {{ {values} }};",
        "        for (size_t n = 0; n < sizeof codes / sizeof codes[0]; ++n) {",
        f"            const int64_t c = codes[n]; {call}",
        "        }",
        "    }",
    ]


def _harness(folder: Path, tables, prelude=(), put="put") -> str:
    """A program writing the outputs of every (name, table, codes) as int64 to stdout.

    ``prelude`` comes before the headers (macro overrides); ``put`` names the
    function that writes one output.
    """
    lines = ["#include <stdio.h>", "#include <stddef.h>", "#include <stdint.h>",
             "static void put(int64_t v) { fwrite(&v, sizeof v, 1, stdout); }", *prelude]
    for name, _, _ in tables:  # this one file defines every table
        lines += [f"#define {macro_name(name)}_IMPLEMENTATION", f'#include "{name}.h"']
    lines += ["int main(void)", "{"]
    for name, table, codes in tables:
        _write_header(folder, table, name)
        lines += _loop(name, table, codes, put)
    lines += ["    return 0;", "}"]
    return "\n".join(lines) + "\n"


def _compile(compiler: str, source: Path, out: Path, flags, *extra) -> None:
    cmd = [compiler, *flags, f"-I{source.parent}", str(source), *extra, "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed:\n{proc.stderr}")


def _run(exe: Path) -> np.ndarray:
    proc = subprocess.run([str(exe)], capture_output=True)
    if proc.returncode != 0:
        pytest.fail(f"{exe} exited {proc.returncode}:\n{proc.stderr.decode(errors='replace')}")
    return np.frombuffer(proc.stdout, dtype=np.int64)


def _split(flat: np.ndarray, sizes) -> list[np.ndarray]:
    assert flat.size == sum(sizes), "the harness wrote a different number of outputs"
    return np.split(flat, np.cumsum(sizes)[:-1])


def _build_and_run(tmp: Path, stem: str, tables, compiler, flags, suffix=".c", prelude=(),
                   put="put", per_code=1):
    source = tmp / f"{stem}{suffix}"
    source.write_text(_harness(tmp, tables, prelude, put))
    exe = tmp / stem
    _compile(compiler, source, exe, flags)
    sizes = [per_code * (t.in_format.n_codes if codes is None else len(codes))
             for _, t, codes in tables]
    return _split(_run(exe), sizes)


def _compile_case(activation, kwargs):
    return compile_table(activation, **kwargs)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """case id -> (table, outputs of the C build, outputs of the C++ build)."""
    gcc, gxx = require_tool("gcc"), require_tool("g++")
    tmp = tmp_path_factory.mktemp("c_matrix")
    tables = [(f"t{n}", _compile_case(*case.values), None) for n, case in enumerate(CASES)]
    c_out = _build_and_run(tmp, "harness_c", tables, gcc, C_FLAGS + NO_FLOAT + ["-O2"])
    cxx_out = _build_and_run(tmp, "harness_cxx", tables, gxx, CXX_FLAGS + ["-O1"], ".cpp")
    return {case.id: (t, c, x) for case, (_, t, _), c, x in zip(CASES, tables, c_out, cxx_out)}


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_c_matches_kernel_on_every_input_code(matrix, case_id):
    table, c_out, cxx_out = matrix[case_id]
    expected = table.eval_int(table.in_format.codes())
    mismatch = np.flatnonzero(c_out != expected)
    assert mismatch.size == 0, (
        f"C differs at input code {table.in_format.min_code + mismatch[0]}: "
        f"{c_out[mismatch[0]]} != {expected[mismatch[0]]}"
    )
    np.testing.assert_array_equal(cxx_out, expected)


def test_matrix_covers_every_path(matrix):
    """The cases exercise each interp, tail mode, fold kind, fit and guard setting."""
    tables = [t for t, _, _ in matrix.values()]
    assert {t.interp.value for t in tables} == {"none", "nearest", "linear"}
    modes = {tail.mode for t in tables for tail in t.tails if tail is not None}
    assert modes == {"clamp", "asymptote"}
    assert {t.fold.value for t in tables} == {"none", "odd", "point", "even", "even_line"}
    assert {t.spec.coeffs.value for t in tables} == {"sample", "minimax"}
    assert {t.guard_bits for t in tables} >= {0, 3}
    assert {(t.in_format.bits, t.in_format.signed) for t in tables} == {
        (8, True), (8, False), (16, True), (16, False)
    }
    # a linear table with segments wider than one code, and an asymmetric range
    assert any(t.interp.value == "linear" and t.shift > 0 for t in tables)
    assert any(t.lo_code not in (0, -t.hi_code) for t in tables)


def test_sanitizers_find_no_undefined_behaviour(tmp_path):
    """Exhaustive runs under UBSan+ASan: no shift of a negative, no overflow, no OOB read."""
    gcc = require_tool("gcc")
    picks = ["tanh-s16.12-linear-fold-asymptote-g3", "sigmoid-s16.12-linear-fold-minimax-g3",
             "exp-s16.12-linear-asymptote-g3", "linear-s8.4-linear-auto-g0",
             "reciprocal-u16.12-nearest-asymptote-g0",
             "leaky_relu-s16.12-linear-auto-g3"]  # a 48-bit slope: the widest line multiply
    by_id = {c.id: c for c in CASES}
    tables = [(f"s{n}", _compile_case(*by_id[p].values), None) for n, p in enumerate(picks)]
    outs = _build_and_run(tmp_path, "harness_san", tables, gcc, C_FLAGS + SANITIZE + ["-O1"])
    for (_, table, _), out in zip(tables, outs):
        np.testing.assert_array_equal(out, table.eval_int(table.in_format.codes()))


# ---- 32-bit inputs ------------------------------------------------------------------------
def _sample_codes(table, n_random=4000):
    """Extremes, 0 +/- 2, every segment boundary +/- 1 (both signs if folded), random codes."""
    fmt = table.in_format
    rng = np.random.default_rng(1234)
    bounds = table.lo_code + (np.arange(table.entries + 1, dtype=np.int64) << table.shift)
    bounds = np.concatenate([bounds, -bounds])
    near = (bounds[:, None] + np.array([-1, 0, 1])[None, :]).ravel()
    special = np.array([fmt.min_code, fmt.min_code + 1, fmt.max_code - 1, fmt.max_code,
                        -2, -1, 0, 1, 2], dtype=np.int64)
    rand = rng.integers(fmt.min_code, fmt.max_code, size=n_random, endpoint=True)
    codes = np.unique(np.concatenate([special, near, rand]))
    return codes[(codes >= fmt.min_code) & (codes <= fmt.max_code)]


WIDE_CASES = [
    ("sigmoid", dict(in_format="s32.24", out_format="s32.30", entries=256)),
    ("tanh", dict(in_format="s32.24", out_format="s32.30", entries=256, fold=True,
                  interp="nearest")),
    ("linear", dict(in_format="u32.16", out_format="u32.16", range=(0.0, 1.0), entries=256,
                    tails="asymptote")),
    ("exp", dict(in_format="s32.24", out_format="u32.24", range=(-8.0, 4.0), entries=256,
                 interp="none", tails="clamp")),
]


def test_32_bit_inputs_match_kernel_on_sampled_codes(tmp_path):
    gcc = require_tool("gcc")
    tables = []
    for n, (activation, kwargs) in enumerate(WIDE_CASES):
        table = compile_table(activation, **kwargs)
        tables.append((f"w{n}", table, _sample_codes(table)))
    outs = _build_and_run(tmp_path, "harness_wide", tables, gcc,
                          C_FLAGS + SANITIZE + ["-O1"])
    for (_, table, codes), out in zip(tables, outs):
        assert table.in_format.bits == 32
        np.testing.assert_array_equal(out, table.eval_int(codes))
    text = (tmp_path / "w0.h").read_text()
    assert "lutgen_w0_eval(int32_t x)" in text and "int32_t lutgen_w0_eval" in text
    assert "lutgen_w2_eval(uint32_t x)" in (tmp_path / "w2.h").read_text()


# ---- types, placement and read macros -------------------------------------------------------
def test_types_are_the_narrowest_stdint_words():
    sig = compile_table("sigmoid", in_format="s8.4", entries=16, guard_bits=3)
    (art,) = render(sig, None, ["c"], name="sig")
    word = _ctype(sig.store_bits, sig.store_signed)
    assert f"static const {word} lutgen_sig_table[" in art.text
    assert f"static inline {_ctype(sig.out_format.bits, sig.out_format.signed)} " \
           "lutgen_sig_eval(int8_t x)" in art.text
    rec = compile_table("reciprocal", in_format="u16.12", range=(0.5, 8.0), tails="clamp")
    (art,) = render(rec, None, ["c"], name="rec")
    assert "lutgen_rec_eval(uint16_t x)" in art.text
    assert rec.store_bits > 16 and "static const uint32_t lutgen_rec_table[" in art.text


def test_section_attribute_places_the_table(tmp_path):
    gcc = require_tool("gcc")
    objdump = require_tool("objdump")
    table = compile_table("tanh", in_format="s16.12", entries=64)
    _write_header(tmp_path, table, "sec")
    src = tmp_path / "sec.c"
    src.write_text('#include "sec.h"\nint16_t call(int16_t x);\n'
                   "int16_t call(int16_t x) { return lutgen_sec_eval(x); }\n")

    def section_of_table(*defines):
        obj = tmp_path / "sec.o"
        _compile(gcc, src, obj, C_FLAGS + ["-O0", "-c", "-DLUTGEN_SEC_IMPLEMENTATION", *defines])
        symtab = subprocess.run([objdump, "-t", str(obj)], capture_output=True, text=True,
                                check=True).stdout
        rows = [r.split() for r in symtab.splitlines() if r.endswith(" lutgen_sec_table")]
        assert len(rows) == 1, symtab
        return rows[0][-3]  # ... <section> <size> <name>

    assert section_of_table() == ".rodata"
    attr = '-DLUTGEN_TABLE_ATTR=__attribute__((section(".rodata.lut")))'
    assert section_of_table(attr) == ".rodata.lut"


def _expected_reads(table, codes):
    """Table words one evaluation reads, from docs/ARITHMETIC.md's path selection."""
    u = np.abs(codes) if table.fold else codes
    left, right = table.tails
    line = np.zeros(codes.shape, dtype=bool)
    if left is not None and left.mode == "asymptote":
        line |= u < table.lo_code
    if right is not None and right.mode == "asymptote":
        line |= u >= table.hi_code
    # linear with one code per segment has w == 0: T[i+1] does not matter and is not read
    per_lookup = 2 if (table.interp.value == "linear" and table.shift > 0) else 1
    return np.where(line, 0, per_lookup)


def test_custom_read_macro_is_used_for_every_table_word(tmp_path):
    """An AVR-style read that counts and returns the word as unsigned (pgm_read_word does)."""
    gcc = require_tool("gcc")
    tables = [
        ("lin", compile_table("linear", in_format="s16.12", range=(-1.0, 1.0), entries=64,
                              guard_bits=3), None),
        ("near", compile_table("tanh", in_format="s8.4", interp="nearest", entries=16,
                               guard_bits=2), None),
    ]
    assert all(t.store_signed for _, t, _ in tables)  # the sign must be restored
    prelude = [
        "static long reads;",
        *(f"#define LUTGEN_READ_{w}(p) (++reads, (uint{w}_t)*(p))" for w in (8, 16, 32)),
        "static void put_reads(int64_t v) { put(v); put(reads); reads = 0; }",
    ]
    outs = _build_and_run(tmp_path, "reads", tables, gcc, C_FLAGS + ["-O1"], prelude=prelude,
                          put="put_reads", per_code=2)
    for (_, table, _), out in zip(tables, outs):
        codes = table.in_format.codes()
        np.testing.assert_array_equal(out[0::2], table.eval_int(codes))
        np.testing.assert_array_equal(out[1::2], _expected_reads(table, codes))


# ---- text: golden files, determinism, names -------------------------------------------------
def _regen_module():
    path = ROOT / "scripts" / "regen_golden.py"
    spec = importlib.util.spec_from_file_location("regen_golden", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REGEN = _regen_module()


@pytest.mark.parametrize("spec_name", sorted(REGEN.GOLDEN_SPECS))
def test_render_equals_golden_file(spec_name):
    (art,) = REGEN.golden_artifacts("c", spec_name)
    golden = GOLDEN_C / art.filename
    assert golden.exists(), "run scripts/regen_golden.py c"
    assert art.text.encode("utf-8") == golden.read_bytes(), (
        f"{art.filename} changed; review and run scripts/regen_golden.py c"
    )


def test_golden_folder_holds_only_the_specs():
    assert sorted(p.name for p in GOLDEN_C.iterdir()) == sorted(
        f"{n}.h" for n in REGEN.GOLDEN_SPECS
    )


def test_golden_headers_compile_together(tmp_path):
    gcc = require_tool("gcc")
    src = tmp_path / "golden.c"
    src.write_text("".join(f'#include "{p.name}"\n' for p in sorted(GOLDEN_C.glob("*.h")))
                   + "int main(void) { return 0; }\n")
    _compile(gcc, src, tmp_path / "golden", C_FLAGS + [f"-I{GOLDEN_C}"])


def test_rendering_twice_is_byte_identical():
    kwargs = dict(in_format="s16.12", fold=True, fit="minimax")
    first, second = (compile_table("sigmoid", **kwargs) for _ in range(2))
    a = render(first, analyze(first), ["c"], name="sig")[0].text
    b = render(second, analyze(second), ["c"], name="sig")[0].text
    assert a == b
    assert "Generated by lutgen" in a.splitlines()[1]  # the provenance comes first


def test_header_text_declares_formats_range_and_error():
    table = compile_table("sigmoid", in_format="s8.4", entries=16, fold=True, guard_bits=3)
    report = analyze(table)
    text = render(table, report, ["c"], name="my-sigmoid")[0].text
    defines = {}
    for line in text.splitlines():
        if line.startswith("#define LUTGEN_MY_SIGMOID_") and len(line.split()) > 2:
            key, value = line.split()[1:3]
            defines[key.removeprefix("LUTGEN_MY_SIGMOID_")] = value
    # s8.4 in; folding a [-8, 8) sigmoid range: codes -128 .. 128 (exclusive)
    assert defines["IN_SIGNED"] == "1" and defines["IN_BITS"] == "8"
    assert defines["IN_FRAC"] == "4"
    assert defines["OUT_BITS"] == str(table.out_format.bits)
    assert defines["OUT_FRAC"] == str(table.out_format.frac)
    assert defines["RANGE_LO"] == "(-128)" and defines["RANGE_HI"] == "128"
    assert defines["ENTRIES"] == "16" and defines["SHIFT"] == "3"  # 128 codes / 16
    assert defines["GUARD_BITS"] == "3" and defines["WORDS"] == "17"
    assert float(defines["MAX_ERROR_LSB"]) == pytest.approx(report.max_error_lsb, abs=1e-6)
    assert defines["FAITHFUL"] == ("1" if report.max_error_lsb < 1 else "0")
    assert "#ifndef LUTGEN_MY_SIGMOID_H" in text and 'extern "C"' in text
    assert "#ifndef LUTGEN_TABLE_ATTR" in text and "PROGMEM" in text


def test_identifier_sanitises_and_rejects():
    assert identifier("my-sigmoid") == "my_sigmoid"
    assert identifier("gelu tanh!") == "gelu_tanh"
    assert identifier("123") == "_123"  # a leading digit gets a '_' prefix
    for bad in ("", "---", "int", "static", "module"):
        with pytest.raises(ExportError):
            identifier(bad)
    assert issubclass(ExportError, LutgenError)


def test_render_rejects_a_keyword_name():
    table = compile_table("tanh", in_format="s8.4", entries=8)
    with pytest.raises(ExportError, match="keyword"):
        render(table, None, ["c"], name="int")
    (art,) = render(table, None, ["c"], name="my-tanh")
    assert art.filename == "my_tanh.h" and "lutgen_my_tanh_eval(" in art.text


# ---- names across formats, one copy of the table, the accumulator type ---------------------
def _two_tanh():
    """The issue's pair: an int8 tanh and a q15 tanh, both named 'tanh' by default."""
    return (compile_table("tanh", in_format="s8.4", out_format="s8.7"),
            compile_table("tanh", in_format="q15"))


def test_two_formats_of_one_activation_work_in_one_unit(tmp_path):
    """Each header returns its own table's result when both are included (renamed)."""
    gcc, gxx = require_tool("gcc"), require_tool("g++")
    i8, q15 = _two_tanh()
    assert i8.name == q15.name == "tanh"
    tables = [("tanh_i8", i8, None), ("tanh_q15", q15, None)]
    for compiler, flags, suffix in ((gcc, C_FLAGS + SANITIZE, ".c"), (gxx, CXX_FLAGS, ".cpp")):
        outs = _build_and_run(tmp_path, "two", tables, compiler, flags + ["-O1"], suffix)
        for (_, table, _), out in zip(tables, outs):
            np.testing.assert_array_equal(out, table.eval_int(table.in_format.codes()))


def test_two_tables_under_one_name_stop_the_build_with_an_error(tmp_path):
    """Before: the second header's guard compiled it out and it returned the int8 result."""
    gcc = require_tool("gcc")
    i8, q15 = _two_tanh()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _write_header(tmp_path / "a", i8, "tanh")
    _write_header(tmp_path / "b", q15, "tanh")
    src = tmp_path / "both.c"
    src.write_text('#include "a/tanh.h"\n#include "b/tanh.h"\nint main(void) { return 0; }\n')
    proc = subprocess.run([gcc, *C_FLAGS, f"-I{tmp_path}", str(src), "-o",
                           str(tmp_path / "both")], capture_output=True, text=True)
    assert proc.returncode != 0
    assert ("#error \"lutgen: two different tables named 'tanh' in one translation unit "
            "(this one: s16.15 -> s16.15); regenerate one with another --name, e.g. "
            "--name tanh_s16_15_s16_15\"") in proc.stderr
    # the very same table twice (two copies of one file) is fine
    _write_header(tmp_path / "b", i8, "tanh")
    _compile(gcc, src, tmp_path / "both", C_FLAGS)


def test_the_suggested_name_of_an_affine_table_is_an_identifier(tmp_path):
    """Before: the hint was --name gelu_int8(0_0235,-3)_..., which no C compiler takes."""
    gcc = require_tool("gcc")
    a = compile_table("gelu", in_format="int8(0.0235,-3)", out_format="int8(0.02,-10)")
    b = compile_table("gelu", in_format="int8(0.0235,-3)", out_format="int8(0.03,-10)")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _write_header(tmp_path / "a", a, "gelu")
    _write_header(tmp_path / "b", b, "gelu")
    src = tmp_path / "both.c"
    src.write_text('#include "a/gelu.h"\n#include "b/gelu.h"\nint main(void) { return 0; }\n')
    proc = subprocess.run([gcc, *C_FLAGS, f"-I{tmp_path}", str(src), "-o",
                           str(tmp_path / "both")], capture_output=True, text=True)
    assert proc.returncode != 0
    hint = re.search(r"e\.g\. --name (\S+)\"", proc.stderr).group(1)
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", hint), hint
    # and it is a name the second table builds and links under, beside the first
    _write_header(tmp_path / "b", b, hint)
    src.write_text(f'#define LUTGEN_GELU_IMPLEMENTATION\n#define LUTGEN_{hint.upper()}_IMPLEMENTATION\n'
                   f'#include "a/gelu.h"\n#include "b/{hint}.h"\n'
                   f'int main(void) {{ return lutgen_gelu_eval(0) - lutgen_{hint}_eval(0); }}\n')
    _compile(gcc, src, tmp_path / "both", C_FLAGS)


def _symbols(nm: str, path: Path, symbol: str) -> list[str]:
    """nm's type letters of ``symbol`` in an object or executable."""
    out = subprocess.run([nm, str(path)], capture_output=True, text=True, check=True).stdout
    return [r.split()[-2] for r in out.splitlines() if r.split()[-1:] == [symbol]]


def test_implementation_macro_defines_the_table_once(tmp_path):
    gcc, nm = require_tool("gcc"), require_tool("nm")
    table = compile_table("tanh", in_format="s8.4", out_format="s8.7")
    _write_header(tmp_path, table, "th")
    codes = table.in_format.codes()
    expected = table.eval_int(codes)
    main = tmp_path / "main.c"
    main.write_text(
        "#define LUTGEN_TH_IMPLEMENTATION\n#include \"th.h\"\n#include <stdio.h>\n"
        "int other(int x);\n"
        "int main(void) {\n"
        f"    for (int c = {codes[0]}; c <= {codes[-1]}; ++c)\n"
        "        printf(\"%d %d\\n\", lutgen_th_eval((int8_t)c), other(c));\n"
        "    return 0;\n}\n")
    other = tmp_path / "other.c"
    other.write_text('#include "th.h"\nint other(int x);\n'
                     "int other(int x) { return lutgen_th_eval((int8_t)x); }\n")
    objs = []
    for src in (main, other):
        obj = src.with_suffix(".o")
        _compile(gcc, src, obj, C_FLAGS + ["-O2", "-c"])
        objs.append(obj)
    assert _symbols(nm, objs[0], "lutgen_th_table") == ["R"]  # defined, read-only data
    assert _symbols(nm, objs[1], "lutgen_th_table") == ["U"]  # only referenced
    exe = tmp_path / "prog"
    _compile(gcc, objs[0], exe, [], str(objs[1]))
    assert _symbols(nm, exe, "lutgen_th_table") == ["R"]
    out = np.array(subprocess.run([str(exe)], capture_output=True, text=True, check=True)
                   .stdout.split(), dtype=np.int64).reshape(-1, 2)
    np.testing.assert_array_equal(out[:, 0], expected)
    np.testing.assert_array_equal(out[:, 1], expected)
    # nobody defines it: the link names the missing table
    stub = tmp_path / "stub.c"
    stub.write_text("int other(int x);\nint main(void) { return other(0); }\n")
    proc = subprocess.run([gcc, str(stub), str(objs[1]), "-o", str(tmp_path / "bad")],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "lutgen_th_table" in proc.stderr
    # _STATIC: a private copy in each file that asks for it
    _compile(gcc, other, objs[1], C_FLAGS + ["-O0", "-c", "-DLUTGEN_TH_STATIC"])
    assert _symbols(nm, objs[1], "lutgen_th_table") == ["r"]


def test_c_split_writes_a_header_and_the_c_file_defining_the_table(tmp_path):
    gcc, nm = require_tool("gcc"), require_tool("nm")
    table = compile_table("sigmoid", in_format="s8.4")
    arts = {a.filename: a.text for a in render(table, None, ["c-split"], name="sg")}
    assert sorted(arts) == ["sg.c", "sg.h"]
    assert arts["sg.h"] == render(table, None, ["c"], name="sg")[0].text
    for name, text in arts.items():
        (tmp_path / name).write_text(text)
    obj = tmp_path / "sg.o"
    _compile(gcc, tmp_path / "sg.c", obj, C_FLAGS + ["-c"])
    assert _symbols(nm, obj, "lutgen_sg_table") == ["R"]


def _acc_of(text: str, name: str) -> str:
    line = next(ln for ln in text.splitlines() if f"lutgen_{name}_word(" in ln)
    return line.split()[2]  # static inline <acc> lutgen_<name>_word(...)


def test_accumulator_is_the_narrowest_type_acc_bits_proves(matrix):
    """int16_t for the int8 tables (before: int32_t at best, a 32-bit multiply on AVR)."""
    from lutgen.export.c_header import acc_width

    i8, q15 = _two_tanh()
    assert i8.acc_bits <= 16 and _acc_of(render(i8, None, ["c"], name="a")[0].text, "a") == \
        "int16_t"
    assert _acc_of(render(q15, None, ["c"], name="q")[0].text, "q") == "int32_t"
    seen = set()
    for case_id, (table, _, _) in matrix.items():
        width = acc_width(table)
        assert width == next(w for w in (16, 32, 64) if table.acc_bits <= w) or (
            table.in_format.bits >= 16 and width == 32), case_id
        assert _acc_of(render(table, None, ["c"], name="m")[0].text, "m") == f"int{width}_t"
        seen.add(width)
    assert {16, 32} <= seen  # the matrix runs both narrow types bit-exact under -Wconversion
    big = compile_table("sigmoid", in_format="s16.12", out_format="s32.30", entries=64)
    assert big.acc_bits > 32 and acc_width(big) == 64
    # a 16-bit input that is folded needs 17 bits for -x, whatever acc_bits says
    fold16 = compile_table("tanh", in_format="s16.12", out_format="s8.7", fold=True,
                           interp="none", entries=16, guard_bits=0)
    assert fold16.acc_bits <= 16 and acc_width(fold16) == 32


def test_int16_accumulators_under_sanitizers(tmp_path, matrix):
    gcc = require_tool("gcc")
    from lutgen.export.c_header import acc_width

    tables = [(f"n{n}", t, None) for n, (t, _, _) in enumerate(matrix.values())
              if acc_width(t) == 16]
    assert len(tables) >= 6
    outs = _build_and_run(tmp_path, "harness_n16", tables, gcc, C_FLAGS + SANITIZE + ["-O1"])
    for (_, table, _), out in zip(tables, outs):
        np.testing.assert_array_equal(out, table.eval_int(table.in_format.codes()))
