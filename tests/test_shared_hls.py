"""The hls4ml export of a sigmoid reading a tanh table's knots (lutgen.shared).

The tanh's header defines ``lutgen_<tanh>_table``; the sigmoid's header defines no
array, includes the tanh's and reads that array's first words (docs/ARITHMETIC.md
"Shared knots"). One C++ program includes both headers, in either order, and runs
both functions on every input code (array and stream forms, the harness of
tests/test_export_hls.py); the output codes must equal ``Table.eval_int``.
"""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

import lutgen
from lutgen.export import identifier
from lutgen.export.hls import render
from lutgen.shared import sigmoid_from_tanh

from .test_export_hls import _compile, _run_block, hls_include

PAIRS = {  # tanh tables of each layout (tests/test_shared.py's), 10 and 12 input bits
    "uniform": dict(in_format="s10.6", out_format="s10.8", range=(-8, 8), entries=32),
    "counted": dict(in_format="s10.6", out_format="s10.8", range=(-3, 3),
                    regions="2x16,3x8,4x5"),
    "equal": dict(in_format="s12.8", out_format="s12.10", range=(-8, 8), regions="4,5,6,7"),
}


def _pair(key: str):
    """(tanh name, tanh, sigmoid name, sigmoid): the tanh exported as 'th-<key>'."""
    th = lutgen.compile_table("tanh", fold=True, tails="clamp", **PAIRS[key])
    sig = sigmoid_from_tanh(th, name=f"th-{key}")
    return identifier(sig.knots_name), th, f"sig_{key}", sig


@pytest.fixture(scope="module")
def pairs():
    return {key: _pair(key) for key in PAIRS}


def _write(folder, name: str, table) -> str:
    (art,) = render(table, lutgen.analyze(table), name)
    assert art.filename == f"nnet_lutgen_{name}.h"
    (folder / art.filename).write_text(art.text)
    return art.text


def _run(folder, includes: list[str], tables: list[tuple[str, object]], expect_ok=True):
    """Compile one program including ``includes`` in that order and running ``tables``;
    name -> (array outputs, stream outputs), or the failed compile."""
    lines = ["#include <cstdio>",
             *(f'#include "nnet_lutgen_{name}.h"' for name in includes),
             "static void put(long long v) { fwrite(&v, sizeof v, 1, stdout); }",
             "template <unsigned N> struct cfg { static const unsigned n_in = N; };",
             "int main() {"]
    for name, table in tables:
        lines += _run_block(name, table)
    lines += ["    return 0;", "}"]
    stem = "_".join(includes)
    source = folder / f"{stem}.cpp"
    source.write_text("\n".join(lines) + "\n")
    proc = _compile(source, folder / stem, hls_include(), expect_ok)
    if not expect_ok:
        return proc
    flat = np.frombuffer(subprocess.run([str(folder / stem)], capture_output=True,
                                        check=True).stdout, dtype=np.int64)
    sizes = [2 * t.in_format.n_codes for _, t in tables]
    assert flat.size == sum(sizes)
    chunks = np.split(flat, np.cumsum(sizes)[:-1])
    return {name: np.split(chunk, 2) for (name, _), chunk in zip(tables, chunks)}


def _mismatches(outputs, table) -> np.ndarray:
    """Input codes where the array or the stream form differs from ``Table.eval_int``."""
    codes = table.in_format.codes()
    expected = table.eval_int(codes)
    return codes[np.flatnonzero((outputs[0] != expected) | (outputs[1] != expected))]


def test_the_sigmoid_header_reads_the_tanh_array(tmp_path, pairs):
    for th_name, th, sig_name, sig in pairs.values():
        th_text, sig_text = _write(tmp_path, th_name, th), _write(tmp_path, sig_name, sig)
        assert f"static const ap_uint<{th.store_bits}> lutgen_{th_name}_table" \
               f"[{th.values.size}] = {{" in th_text
        assert (sig.store_bits, sig.store_signed) == (th.store_bits, th.store_signed)
        assert not re.search(r"_table\[\d+\]", sig_text)  # no knot array of its own
        assert not re.search(r"static const ap_u?int<\d+> lutgen_", sig_text)
        assert f'#include "nnet_lutgen_{th_name}.h"' in sig_text
        assert f"t0 = lutgen_{th_name}_table[i];" in sig_text
        assert f"the first {sig.values.size} words of lutgen_{th_name}_table" in sig_text
        assert "table[" not in th_text.replace(f"lutgen_{th_name}_table[", "")


@pytest.mark.parametrize("tanh_first", [True, False], ids=["tanh-first", "sigmoid-first"])
def test_both_functions_match_the_kernel_on_every_input_code(tmp_path, pairs, tanh_first):
    includes, tables = [], []
    for th_name, th, sig_name, sig in pairs.values():
        _write(tmp_path, th_name, th)
        _write(tmp_path, sig_name, sig)
        includes += [th_name, sig_name] if tanh_first else [sig_name, th_name]
        tables += [(th_name, th), (sig_name, sig)]
    outputs = _run(tmp_path, includes, tables)
    for name, table in tables:
        bad = _mismatches(outputs[name], table)
        assert bad.size == 0, f"{name} differs from eval_int at input codes {bad[:5]}"


def test_the_sigmoid_alone_includes_its_tanh(tmp_path, pairs):
    th_name, th, sig_name, sig = pairs["counted"]
    _write(tmp_path, th_name, th)
    _write(tmp_path, sig_name, sig)
    outputs = _run(tmp_path, [sig_name], [(sig_name, sig), (th_name, th)])
    assert _mismatches(outputs[sig_name], sig).size == 0
    assert _mismatches(outputs[th_name], th).size == 0


def test_an_edited_tanh_word_shows_in_the_sigmoid(tmp_path, pairs):
    # the planted fault: one word of the tanh's array, inside the sigmoid's prefix
    th_name, th, sig_name, sig = pairs["counted"]
    text = _write(tmp_path, th_name, th)
    _write(tmp_path, sig_name, sig)
    k = sig.values.size // 2
    head, body = text.split(f"lutgen_{th_name}_table[{th.values.size}] = {{", 1)
    words, tail = body.split("};", 1)
    spans = list(re.finditer(r"\d+", words))
    assert len(spans) == th.values.size and int(spans[k][0]) == th.values[k]
    m = spans[k]
    words = words[:m.start()] + str(int(m[0]) + 3) + words[m.end():]
    (tmp_path / f"nnet_lutgen_{th_name}.h").write_text(
        f"{head}lutgen_{th_name}_table[{th.values.size}] = {{{words}}};{tail}")
    outputs = _run(tmp_path, [th_name, sig_name], [(sig_name, sig)])
    assert _mismatches(outputs[sig_name], sig).size > 0


def test_another_tanh_under_the_name_stops_the_build(tmp_path, pairs):
    th_name, _, sig_name, sig = pairs["counted"]
    other = lutgen.compile_table("tanh", fold=True, tails="clamp", **PAIRS["uniform"])
    _write(tmp_path, th_name, other)
    _write(tmp_path, sig_name, sig)
    proc = _run(tmp_path, [sig_name], [(sig_name, sig)], expect_ok=False)
    assert proc.returncode != 0
    assert (f"nnet_lutgen_{th_name}.h is not the tanh table whose knots lutgen_{sig_name} "
            "reads") in proc.stderr
