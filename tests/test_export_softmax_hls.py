"""The softmax HLS C++, compiled with g++ against hls4ml's ap_types and nnet_utils headers.

``LUTGEN_HLS_INCLUDE`` names the folder (``scripts/fetch_hls_headers.sh DIR``); without it
the tests skip, or fail under ``LUTGEN_REQUIRE_TOOLS=1``. One harness runs every
design's ``nnet::lutgen_s<k>`` on the stored vectors of the Verilog testbench and writes the output
codes as int64; they must equal ``Softmax.eval_int``.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from lutgen.export.softmax_hls import render
from lutgen.export.softmax_testbench import default_vectors

from .test_export_hls import _compile, hls_include
from .test_export_softmax_hdl import ALL, _design


def _ap(fmt) -> str:
    return f"ap_{'' if fmt.signed else 'u'}fixed<{fmt.bits},{fmt.bits - fmt.frac}>"


def _block(k: int, sm, codes) -> tuple[list[str], list[str]]:
    """Declarations and main() lines running design ``k`` (``nnet::lutgen_s<k>``)."""
    fin, fout, n = sm.in_format, sm.out_format, sm.n
    rows = ",\n".join("{" + ", ".join(f"{int(c)}LL" for c in row) + "}" for row in codes)
    int_t = f"ap_{'' if fout.signed else 'u'}int<{fout.bits}>"
    decls = [f'#include "nnet_lutgen_s{k}.h"',
             f"struct cfg{k} {{ static const unsigned n_in = {n}; }};",
             f"static const long long X{k}[{len(codes)}][{n}] = {{", rows, "};"]
    body = [
        f"    for (unsigned v = 0; v < {len(codes)}; v++) {{",
        f"        {_ap(fin)} data[{n}];",
        f"        {_ap(fout)} res[{n}];",
        f"        for (unsigned i = 0; i < {n}; i++) "
        f"data[i].range({fin.bits - 1}, 0) = X{k}[v][i];",
        f"        nnet::lutgen_s{k}<{_ap(fin)}, {_ap(fout)}, cfg{k}>(data, res);",
        f"        for (unsigned i = 0; i < {n}; i++) {{",
        f"            {int_t} c;",
        f"            c.range({fout.bits - 1}, 0) = res[i].range({fout.bits - 1}, 0);",
        "            put(c);",
        "        }",
        "    }",
    ]
    return decls, body


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """case -> (codes, output codes of the HLS C++), all designs in one harness."""
    include = hls_include()
    tmp = tmp_path_factory.mktemp("softmax_hls")
    decls = ["#include <cstdio>", '#include "nnet_activation.h"  // hls4ml\'s own, beside ours',
             "static void put(long long v) { fwrite(&v, sizeof v, 1, stdout); }"]
    body, designs = [], []
    for k, case in enumerate(ALL):
        sm, count = _design(case)
        codes = default_vectors(sm, count)
        for art in render(sm, f"s{k}"):
            (tmp / art.filename).write_text(art.text)
        d, b = _block(k, sm, codes)
        decls += d
        body += b
        designs.append((case, sm, codes))
    source = tmp / "harness.cpp"
    source.write_text("\n".join(decls + ["int main() {"] + body + ["    return 0;", "}"]) + "\n")
    exe = tmp / "harness"
    _compile(source, exe, include)
    flat = np.frombuffer(subprocess.run([str(exe)], capture_output=True, check=True).stdout,
                         dtype=np.int64)
    sizes = [codes.size for _, _, codes in designs]
    assert flat.size == sum(sizes)
    chunks = np.split(flat, np.cumsum(sizes)[:-1])
    return {case: (sm, codes, chunk.reshape(codes.shape))
            for (case, sm, codes), chunk in zip(designs, chunks)}


@pytest.mark.parametrize("case", ALL)
def test_hls_matches_the_kernel_on_the_stored_vectors(outputs, case):
    sm, codes, got = outputs[case]
    expected = sm.eval_int(codes)
    bad = np.flatnonzero((got != expected).any(axis=1))
    assert bad.size == 0, (f"vector {bad[0]}: {codes[bad[0]].tolist()} gives "
                           f"{got[bad[0]].tolist()}, not {expected[bad[0]].tolist()}")


# each instantiation fails on its own static_assert: one compile reports them all
MISTAKES = [
    ("ap_fixed<8,5>", "ap_fixed<8,4>", 4,
     "data_T must be ap_fixed<8,4> (s8.4:floor,wrap), the softmax's input format"),
    ("ap_fixed<8,4>", "ap_ufixed<8,4>", 4,
     "res_T must be ap_fixed<8,4> (s8.4:floor,wrap), the softmax's output format"),
    ("ap_fixed<8,4>", "ap_fixed<8,4>", 5,
     "CONFIG_T::n_in must be 4, the N lutgen built this softmax for"),
]


def test_other_types_or_lengths_do_not_compile(tmp_path):
    include = hls_include()
    sm, _ = _design("n4_ap8")
    for art in render(sm, "sm"):
        (tmp_path / art.filename).write_text(art.text)
    lines = ['#include "nnet_lutgen_sm.h"']
    calls = []
    for k, (data_t, res_t, n_in, _) in enumerate(MISTAKES):
        lines.append(f"struct cfg{k} {{ static const unsigned n_in = {n_in}; }};")
        calls.append(f"    {{ {data_t} d[{n_in}]; {res_t} r[{n_in}]; "
                     f"nnet::lutgen_sm<{data_t}, {res_t}, cfg{k}>(d, r); }}")
    src = tmp_path / "bad.cpp"
    src.write_text("\n".join(lines + ["int main() {"] + calls + ["    return 0;", "}"]) + "\n")
    proc = _compile(src, tmp_path / "bad", include, expect_ok=False)
    assert proc.returncode != 0
    for *_, message in MISTAKES:
        assert f"lutgen_sm: {message}" in proc.stderr, proc.stderr[-3000:]
    assert proc.stderr.count("static assertion failed") == len(MISTAKES), proc.stderr[-3000:]
