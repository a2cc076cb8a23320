"""A sigmoid reading a tanh table's knots (lutgen.shared, docs/ARITHMETIC.md "Shared knots").

The identity sigmoid(x) - 1/2 = tanh(x/2) / 2 is checked independently: a sigmoid
table *sampled* from the float sigmoid on the derived layout stores the very words
a tanh table sampled from the float tanh stores. The shared tables are then
measured on every input against the float reference, checked against
``tests/naive.py``, and their C (the combined project header and the per-table
headers, C and C++) compared with ``Table.eval_int`` on every input code.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

import lutgen
from lutgen.cli import cli
from lutgen.batch import compile_project, load_project, write_project
from lutgen.errors import ProjectError, SpecError
from lutgen.search import fit
from lutgen.shared import sigmoid_from_tanh
from lutgen.verify import verify

from .conftest import require_tool
from .naive import naive_eval_codes
from .test_export_c import C_FLAGS, CXX_FLAGS, NO_FLOAT, _build_and_run, _compile, _run

SMALL = {  # tanh tables of every layout: uniform, equal regions, counted regions
    "uniform-s8.4": dict(in_format="s8.4", out_format="s8.6", range=(-4, 4), entries=16),
    "equal-s12.8": dict(in_format="s12.8", out_format="s12.10", range=(-8, 8),
                        regions="4,5,6,7"),
    "counted-s10.6": dict(in_format="s10.6", out_format="s10.8", range=(-3, 3),
                          regions="2x16,3x8,4x5"),
}


@pytest.fixture(scope="module")
def fitted():
    """The issue's 16-bit pairs: tanh fitted to 1 LSB, the sigmoid over its knots."""
    out = {}
    for fout in ("s16.14", "s16.15"):
        th = fit("tanh", in_format="s16.12", out_format=fout, max_error="1lsb").best.table
        out[fout] = th, sigmoid_from_tanh(th, name="th")
    return out


@pytest.mark.parametrize("case", list(SMALL))
def test_a_sampled_sigmoid_stores_the_sampled_tanh_words(case):
    th = lutgen.compile_table("tanh", fold=True, tails="clamp", **SMALL[case])
    sig = sigmoid_from_tanh(th)
    alone = lutgen.compile_table(  # the same layout, sampled from the float sigmoid itself
        "sigmoid", in_format=str(th.in_format), out_format=str(th.out_format),
        range=sig.spec.range, fold=True, tails="clamp",
        regions=lutgen.regions.format_regions(sig.spec.regions), guard_bits=th.guard_bits + 1)
    assert sig.hi_code == alone.hi_code and sig.fold_e == alone.fold_e > 0
    np.testing.assert_array_equal(alone.values, th.values[:alone.values.size])
    np.testing.assert_array_equal(sig.values, alone.values)
    np.testing.assert_array_equal(sig.eval_int(sig.in_format.codes()),
                                  alone.eval_int(alone.in_format.codes()))


@pytest.mark.parametrize("case", list(SMALL))
def test_the_kernel_follows_the_naive_reference(case):
    th = lutgen.compile_table("tanh", fold=True, tails="clamp", coeffs="minimax", **SMALL[case])
    sig = sigmoid_from_tanh(th)
    codes = sig.in_format.codes()
    np.testing.assert_array_equal(sig.eval_int(codes), naive_eval_codes(sig, codes))


@pytest.mark.parametrize("fout,alone_bits", [("s16.14", 1210), ("s16.15", 2013)])
def test_the_fitted_tanh_knots_make_a_faithful_sigmoid(fitted, fout, alone_bits):
    th, sig = fitted[fout]
    n = sig.values.size
    assert sig.values.base is th.values or np.shares_memory(sig.values, th.values)
    np.testing.assert_array_equal(sig.values, th.values[:n])
    assert sig.regions.shifts == tuple(s + 1 for s in th.regions.shifts[:sig.regions.n])
    assert sig.guard_bits == th.guard_bits + 1 and sig.hi_code == 1 << 15  # all of [-8, 8)
    report = lutgen.analyze(sig)
    assert report.exhaustive and report.n_inputs == 1 << 16
    assert report.faithful and report.max_error_lsb < 0.8
    # stored once: the sigmoid adds only its region table, far below a table of its own
    assert sig.rom_bits == sig.regions.table_bits < 160
    assert th.rom_bits + sig.rom_bits < 0.7 * (th.rom_bits + alone_bits)
    codes = sig.in_format.codes()
    np.testing.assert_array_equal(sig.eval_int(codes), naive_eval_codes(sig, codes))


def test_c_headers_reading_one_array_match_the_kernel(tmp_path, fitted):
    gcc, gxx = require_tool("gcc"), require_tool("g++")
    th, sig = fitted["s16.14"]
    text = lutgen.export.render(sig, None, ["c"], name="sig")[0].text
    assert "lutgen_sig_table" not in text and "&lutgen_th_table[i]" in text
    # th first (the combined header's order), then sig first: sig.h includes th.h itself
    for order in ((("th", th, None), ("sig", sig, None)), (("sig", sig, None), ("th", th, None))):
        for stem, compiler, flags, suffix in (("c", gcc, C_FLAGS + NO_FLOAT + ["-O2"], ".c"),
                                              ("cxx", gxx, CXX_FLAGS + ["-O1"], ".cpp")):
            outs = _build_and_run(tmp_path, f"{order[0][0]}_{stem}", order, compiler, flags,
                                  suffix)
            for (name, t, _), out in zip(order, outs):
                bad = np.flatnonzero(out != t.eval_int(t.in_format.codes()))
                assert bad.size == 0, (name, stem, bad[:3])


PROJECT = """
name = "pair"
emit = [{emit}]

[defaults]
in_format = "s16.12"
out_format = "s16.14"

[[tables]]
activation = "tanh"
name = "th"
max_error = "1lsb"

[[tables]]
activation = "logistic"
name = "sig"
knots_from = "{source}"
{extra}
"""


def _project(tmp_path, emit='"c", "mem", "json"', source="th", extra=""):
    path = tmp_path / "pair.toml"
    path.write_text(PROJECT.format(emit=emit, source=source, extra=extra))
    project = load_project(path)
    return project, compile_project(project)


def test_a_project_shares_the_array(tmp_path):
    gcc = require_tool("gcc")
    project, built = _project(tmp_path)
    out = tmp_path / "out"
    write_project(project, built, out)
    th, sig = (b.table for b in built)
    assert sig.knots_of is th and sig.knots_name == "th"
    files = sorted(p.name for p in out.iterdir())
    assert "th.mem" in files and not any(f.startswith("sig") and f != "sig.h"
                                         and f != "sig.json" for f in files)
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["tables"][1]
    assert entry["knots_from"] == "th" and entry["rom_bits"] == sig.regions.table_bits
    report = (out / "report.md").read_text()
    assert "sig reads the first 117 knots of th" in report
    assert f"Total ROM: {th.rom_bits + sig.rom_bits} bits" in report
    assert verify(out) == []
    # the combined header alone: one array, both functions, every input
    source = tmp_path / "pair_main.c"
    source.write_text("\n".join([
        "#include <stdio.h>", "#include <stdint.h>",
        "#define LUTGEN_PAIR_IMPLEMENTATION", '#include "pair.h"',
        "static void put(int64_t v) { fwrite(&v, sizeof v, 1, stdout); }",
        "int main(void)", "{",
        "    for (int32_t c = -32768; c <= 32767; ++c) put(lutgen_th_eval((int16_t)c));",
        "    for (int32_t c = -32768; c <= 32767; ++c) put(lutgen_sig_eval((int16_t)c));",
        "    return 0;", "}", ""]))
    exe = tmp_path / "pair_main"
    _compile(gcc, source, exe, C_FLAGS + NO_FLOAT + [f"-I{out}", "-O2"])
    got = _run(exe)
    codes = th.in_format.codes()
    np.testing.assert_array_equal(got[:codes.size], th.eval_int(codes))
    np.testing.assert_array_equal(got[codes.size:], sig.eval_int(codes))
    symbols = subprocess.run(["nm", str(exe)], capture_output=True, text=True).stdout
    assert "lutgen_th_table" in symbols and "lutgen_sig_table" not in symbols
    # verify re-derives the sigmoid from the re-compiled tanh: an edited word is found
    header = out / "sig.h"
    header.write_text(header.read_text().replace("&lutgen_th_table[i]", "&lutgen_th_table[i+1]"))
    assert any(p.startswith("sig.h") for p in verify(out))


def test_build_from_the_saved_json_rebuilds_the_shared_table(tmp_path):
    project, built = _project(tmp_path, emit='"c", "json"')
    out = tmp_path / "out"
    write_project(project, built, out)
    saved = json.loads((out / "sig.json").read_text())
    assert saved["command"] == "lutgen build --from sig.json"
    assert saved["table"]["knots_from"]["name"] == "th"
    again = tmp_path / "again"
    result = CliRunner().invoke(cli, ["build", "--from", str(out / "sig.json"), "-o",
                                      str(again)])
    assert result.exit_code == 0, result.output
    assert (again / "sig.h").read_text() == (out / "sig.h").read_text()
    assert (again / "sig.json").read_text() == (out / "sig.json").read_text()


@pytest.mark.parametrize("kwargs,message", [
    (dict(source="nope"), "tables[1].knots_from: no earlier table is named 'nope'"),
    (dict(extra='out_format = "s16.13"'), "is not the out format of 'th'"),
    (dict(extra="fold = true"), "tables[1].fold: a table with knots_from takes its layout"),
    (dict(extra='max_error = "1lsb"'), "tables[1].max_error: a table with knots_from"),
    (dict(extra="pipeline = 3"), "tables[1].pipeline: a table with knots_from takes its"),
])
def test_project_mistakes_name_the_key(tmp_path, kwargs, message):
    with pytest.raises(ProjectError, match=None) as info:
        _project(tmp_path, **kwargs)
    assert message in str(info.value)


def test_only_a_sigmoid_reads_tanh_knots(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(PROJECT.format(emit='"c"', source="th", extra="").replace(
        '"logistic"', '"softsign"'))
    with pytest.raises(ProjectError, match=r"tables\[1\]\.knots_from: only a sigmoid"):
        compile_project(load_project(path))


@pytest.mark.parametrize("activation,kwargs,message", [
    ("sigmoid", dict(fold=True), "must be a tanh table's"),
    ("tanh", dict(fold=False), "must be folded"),
    ("tanh", dict(fold=True, interp="nearest"), "must be folded (fold = true) and linear"),
    ("tanh", dict(fold=True, in_format="int8(0.03125,0)", out_format="int8(0.0078125,0)"),
     "signed power-of-two formats"),
])
def test_sources_that_cannot_share_are_refused(activation, kwargs, message):
    opts = {**dict(in_format="s8.4", out_format="s8.6", range=(-4, 4), entries=16), **kwargs}
    with pytest.raises(SpecError) as info:
        sigmoid_from_tanh(lutgen.compile_table(activation, **opts))
    assert message in str(info.value)


def test_a_tanh_reading_other_knots_is_no_source():
    th = lutgen.compile_table("tanh", in_format="s8.4", out_format="s8.6", range=(-4, 4),
                              entries=16, fold=True)
    sigmoid_from_tanh(th)  # this one can share
    with pytest.raises(SpecError, match="reads another table's knots"):
        sigmoid_from_tanh(dataclasses.replace(th, knots_of=th))
