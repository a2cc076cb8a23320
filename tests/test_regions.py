"""Hierarchical tables (``regions``, docs/ARITHMETIC.md): spec, layout, kernel vs naive."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import lutgen
from lutgen.cli import cli
from lutgen.errors import ExportError, SpecError
from lutgen.export import export
from lutgen.regions import Regions
from lutgen.spec import make_spec

from .naive import naive_eval_codes


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


# ---- the layout ---------------------------------------------------------------------------
def test_regions_derive_bases_knots_and_table_bits_as_the_document_says():
    r = Regions(12, (8, 8, 7, 6, 5, 5, 4, 4))
    # 2^(12 - S_r) segments per region
    assert r.counts == (16, 16, 32, 64, 128, 128, 256, 256)
    assert r.bases == (0, 16, 32, 64, 128, 256, 384, 640)
    assert r.knots == 640 + 256 + 1
    assert r.smax == 8 and r.span == 8 << 12
    # n * (bits(BASE[n-1]) + bits(SMAX)) = 8 * (10 + 4)
    assert r.table_bits == 8 * (10 + 4)
    off = r.knot_offsets()
    assert off[0] == 0 and off[16] == 1 << 12 and off[-1] == 8 << 12 and off.size == r.knots
    i, w = r.locate(np.array([0, 255, 256, 4096 + 300, (7 << 12) + 17]))
    assert list(i) == [0, 0, 1, 16 + 1, 640 + 1]
    # w << (SMAX - S_r)
    assert list(w) == [0, 255, 0, 300 - 256, 1 << 4]


def test_counted_regions_derive_starts_bases_and_table_bits_as_the_document_says():
    r = Regions.counted(((9, 2), (8, 52), (9, 12)))
    assert r.counts == (2, 52, 12) and r.widths == (1024, 52 << 8, 12 << 9)
    assert r.starts == (0, 1024, 1024 + (52 << 8)) and r.bases == (0, 2, 54)
    assert r.span == 1024 + (52 << 8) + (12 << 9) and r.knots == 67 and r.smax == 9
    # n * (bits(BASE[n-1]) + bits(SMAX)) + (n - 1) * bits(START[n-1]); START[0] not stored
    assert r.table_bits == 3 * (6 + 4) + 2 * 14  # BASE[2] = 54, SMAX = 9, START[2] = 14336
    off = r.knot_offsets()
    assert list(off[:4]) == [0, 512, 1024, 1280] and off[-1] == r.span and off.size == r.knots
    # r by comparison: offsets just below and at each start
    i, w = r.locate(np.array([1023, 1024, 14335, 14336, 14336 + 513]))
    assert list(i) == [1, 2, 2 + 51, 54, 55]
    assert list(w) == [511 << 0, 0, 255 << 1, 0, 1]
    assert Regions.counted(((4, 3),)).spec_value() == ((4, 3),)


def test_a_counted_layout_with_a_misaligned_region_is_refused():
    with pytest.raises(SpecError, match=r"region 1 \(3x1\) starts at offset 4, not a multiple"):
        Regions.counted(((2, 1), (3, 1)))


@pytest.mark.parametrize("shifts, rb", [((5,), 4), ((), 4), (tuple([1] * 17), 4), ((-1,), 4)])
def test_regions_refuse_a_bad_layout(shifts, rb):
    with pytest.raises(SpecError):
        Regions(rb, shifts)


# ---- the spec -----------------------------------------------------------------------------
def test_regions_is_one_option_read_from_text_lists_toml_and_json():
    a = make_spec("sigmoid", regions="4, 3,2")
    b = make_spec("sigmoid", regions=[4, 3, 2])
    assert a.regions == b.regions == (4, 3, 2)
    d = a.to_dict()
    assert d["regions"] == [4, 3, 2] and d["entries"] is None
    assert "regions" not in make_spec("sigmoid").to_dict()  # saved uniform tables unchanged
    assert lutgen.TableSpec.from_dict(json.loads(json.dumps(d))) == a


@pytest.mark.parametrize("args, message", [
    (["--regions", "2,1,x"], "Error: regions must be a comma list of segment shifts 0..30 (one "
     "per region, 1 to 16 regions), e.g. 8,8,7,6, or of S x C, e.g. 9x2,8x52; got '2,1,x'\n"),
    (["--regions", "2x3,1x"], "Error: regions: '1x' is not S x C with a shift S in 0..30 and 1 "
     "to 1048576 segments C, e.g. 9x2; got '2x3,1x'\n"),
    (["--regions", "2x3,1"], "Error: regions: give every region as a shift (8,8,7) or every one "
     "as S x C (9x2,8x52), not both; got '2x3,1'\n"),
    (["--regions", "1x3,2x1"], "Error: region 1 (2x1) starts at offset 6, not a multiple of its "
     "segments' 2^2 codes: every segment must start at a multiple of its width; reorder or "
     "recount the regions\n"),
    (["--range", "-8", "8", "--regions", "8x4"], "Error: regions 8x4 cover 1024 input codes, "
     "[-8, -7.75), less than the range [-8, 8): add segments or narrow the range\n"),
    (["--regions", "2,1", "--entries", "16"], "Error: give entries or regions (2,1), not both: "
     "a hierarchical table's segments are set by its regions' shifts\n"),
    (["--regions", "2,1", "--interp", "nearest"],
     "Error: regions (2,1) need interp linear, got interp nearest\n"),
    (["--regions", ",".join(["1"] * 17)], "Error: regions must list 1 to 16 regions, "
     f"got 17 in '{','.join(['1'] * 17)}'\n"),
    (["--in-format", "s8.4", "--range", "-8", "8", "--regions", "9,1"],
     "Error: regions 9,1: shift 9 exceeds the regions' width: the range splits into 2 regions "
     "of 2^7 codes (8 wide), so each shift must be 0..7; use smaller shifts, fewer regions or "
     "a wider range\n"),
])
def test_cli_mistakes_in_regions_are_one_error_line(args, message, tmp_path):
    result = run("build", "sigmoid", *args, "-o", tmp_path)
    assert result.exit_code == 2
    assert result.output == message
    assert list(tmp_path.iterdir()) == []


def test_a_bad_regions_value_is_a_typed_error_for_library_callers():
    with pytest.raises(SpecError, match="not both"):
        lutgen.compile_table("sigmoid", regions=[3, 3], entries=16)


def test_one_region_is_a_uniform_table():
    one = lutgen.compile_table("sigmoid", in_format="s8.4", range=(-8, 8), regions=[3])
    uniform = lutgen.compile_table("sigmoid", in_format="s8.4", range=(-8, 8), entries=32)
    assert one.regions is None
    assert (one.shift, one.entries, one.rom_bits) == (uniform.shift, uniform.entries,
                                                       uniform.rom_bits)
    assert np.array_equal(one.values, uniform.values)
    assert np.array_equal(one.prog, uniform.prog)


def test_rom_bits_count_the_region_table():
    t = lutgen.compile_table("sigmoid", in_format="s8.4", out_format="s8.6", range=(-8, 8),
                             regions="2,1,2,3")
    assert t.regions == Regions(6, (2, 1, 2, 3))
    assert t.values.size == 16 + 32 + 16 + 8 + 1
    assert t.hi_code - t.lo_code == 4 << 6
    assert t.rom_bits == t.values.size * t.store_bits + 4 * (bits(64) + bits(3))
    assert t.to_dict()["regions"]["bases"] == [0, 16, 48, 64]


def bits(v):
    return max(1, v.bit_length())


# ---- kernel against the naive reference, on every input -------------------------------------
CASES = [
    ("sigmoid", dict(in_format="s8.4", out_format="s8.6", regions="2,1,2,3", range=(-8, 8))),
    ("tanh", dict(in_format="s8.4", out_format="s8.6", regions="1,2,3,4", fold=True)),
    ("gelu", dict(in_format="s8.4", regions="0,1,2,2", range=(-3, 3))),  # asymptote tails
    ("sigmoid", dict(in_format="s8.4", regions="3,2,1", range=(-2, 4), tails="clamp",
                     guard_bits=0)),  # three regions, clamp tails both sides
    ("silu", dict(in_format="s12.6", regions="3,2,1,1,2,3,4,5", range=(-8, 8), guard_bits=4)),
    ("sigmoid", dict(in_format="s12.8", out_format="u12.12", regions="4,4,5,6", fold=True,
                     coeffs="minimax")),
    ("sigmoid", dict(in_format="s12.8", out_format="s12.10", regions="4,4,5,6", fold=True,
                     coeffs="faithful")),
    ("tanh", dict(in_format="s16.12", out_format="s16.14", regions="5,5,6,7,8,9,10,11",
                  fold=True, guard_bits=2)),
    ("exp", dict(in_format="s12.8", regions="0,1,2,3,4,5,6,7,7,7,7,7,7,7,7,7", range=(-8, 0),
                 tails="clamp")),
    # counted regions (step 3h'): selected by comparison, any widths
    ("tanh", dict(in_format="s8.4", regions="0x4,1x6,2x4,4x5", range=(-7, 7), fold=True,
                  tails="asymptote")),
    ("gelu", dict(in_format="s8.4", regions="2x8,1x16,3x6", range=(-3, 3), tails="asymptote",
                  guard_bits=0)),  # covers [-3, 4): the range widened to the right
    ("silu", dict(in_format="s12.6", regions="4x16,2x64,5x16", range=(-8, 8), guard_bits=4,
                  coeffs="faithful")),
    ("sigmoid", dict(in_format="s8.4", regions="2x3", range=(0, 0.75), tails="clamp")),
    ("tanh", dict(in_format="s16.12", out_format="s16.14", range=(-5, 5), fold=True,
                  guard_bits=2, coeffs="faithful",
                  regions="7x10,6x60,7x28,8x10,9x6,10x2,11x2")),
]


@pytest.mark.parametrize("name, options", CASES, ids=[f"{n}-{i}" for i, (n, _) in
                                                       enumerate(CASES)])
def test_kernel_matches_naive_on_every_input(name, options):
    t = lutgen.compile_table(name, **options)
    assert t.regions is not None
    codes = t.in_format.codes()
    if t.in_format.bits > 12:
        codes = codes[::7]  # the naive reference is slow; every 7th code still hits each region
    assert np.array_equal(t.eval_int(codes), naive_eval_codes(t, codes))


def test_faithful_hierarchical_entries_are_within_one_lsb_and_narrower_than_sample():
    opts = dict(in_format="s12.8", out_format="s12.10", regions="4,4,5,6", fold=True)
    sample = lutgen.compile_table("sigmoid", **opts)
    faithful = lutgen.compile_table("sigmoid", coeffs="faithful", **opts)
    report = lutgen.analyze(faithful)
    assert report.max_error_lsb < 1.0 and report.exhaustive
    assert faithful.store_bits <= sample.store_bits
    codes = faithful.in_format.codes()
    assert np.array_equal(faithful.eval_int(codes), naive_eval_codes(faithful, codes))


def test_faithful_reports_a_layout_without_faithful_entries():
    with pytest.raises(SpecError, match="no faithful table of 'tanh'"):
        lutgen.compile_table("tanh", in_format="s12.8", out_format="s12.10",
                             regions="3,4,5,6,7,7,7,7", fold=True, coeffs="faithful")


def test_minimax_hierarchical_is_no_worse_than_sample():
    opts = dict(in_format="s12.8", out_format="u12.12", regions="4,4,5,6", fold=True)
    sample = lutgen.analyze(lutgen.compile_table("sigmoid", **opts))
    mm = lutgen.analyze(lutgen.compile_table("sigmoid", coeffs="minimax", **opts))
    assert mm.max_error_lsb <= sample.max_error_lsb
    assert mm.max_error_lsb < 0.7


# ---- saving, regenerating, exporting ----------------------------------------------------------
def test_saved_table_rebuilds_with_its_regions(tmp_path):
    result = run("build", "sigmoid", "--in-format", "s8.4", "--range", "-8", "8", "--regions",
                 "2,1,2,3", "-o", tmp_path / "a")
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "a" / "sigmoid.json").read_text())
    assert "--regions 2,1,2,3" in doc["command"] and "--entries" not in doc["command"]
    assert doc["table"]["regions"]["shifts"] == [2, 1, 2, 3]
    again = run("build", "--from", tmp_path / "a" / "sigmoid.json", "-o", tmp_path / "b")
    assert again.exit_code == 0, again.output
    assert (tmp_path / "b" / "sigmoid.json").read_text() == doc_text(tmp_path / "a")


def doc_text(folder):
    return (folder / "sigmoid.json").read_text()


def test_every_kind_exports_a_hierarchical_table(tmp_path):
    from lutgen.export import KINDS

    t = lutgen.compile_table("sigmoid", in_format="s8.4", range=(-8, 8), regions="2,1,2,3")
    export(t, None, list(KINDS), tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert {"sigmoid.h", "sigmoid.c", "sigmoid.mem", "sigmoid_even.coe", "sigmoid_odd.mif",
            "lutgen_sigmoid.v", "tb_lutgen_sigmoid.v", "nnet_lutgen_sigmoid.h",
            "sigmoid.json"} <= names


@pytest.mark.parametrize("kind", ["coe", "hls"])
def test_a_kind_without_region_support_refuses_them_and_writes_nothing(kind, tmp_path,
                                                                       monkeypatch):
    # a kind added to KINDS but not to REGION_KINDS refuses hierarchical tables
    import lutgen.export as export_package

    monkeypatch.setattr(export_package, "REGION_KINDS", {"json"})
    t = lutgen.compile_table("sigmoid", in_format="s8.4", range=(-8, 8), regions="2,1,2,3")
    with pytest.raises(ExportError, match=f"--emit {kind} cannot export a hierarchical table"):
        export(t, None, [kind], tmp_path)
    assert list(tmp_path.iterdir()) == []


# ---- the C header -------------------------------------------------------------------------------
C_CASES = [0, 1, 2, 3, 4, 5, 7]  # CASES compiled to C: 8-, 12- and 16-bit, folded or not


def test_c_header_matches_the_kernel_on_every_input(tmp_path):
    from .conftest import require_tool
    from .test_export_c import C_FLAGS, CXX_FLAGS, NO_FLOAT, SANITIZE, _build_and_run

    gcc, gxx = require_tool("gcc"), require_tool("g++")
    tables = [(f"r{k}", lutgen.compile_table(CASES[k][0], **CASES[k][1]), None) for k in C_CASES]
    for stem, compiler, flags, suffix in (
            ("c", gcc, C_FLAGS + NO_FLOAT + ["-O2"], ".c"),
            ("cxx", gxx, CXX_FLAGS + ["-O1"], ".cpp"),
            ("san", gcc, C_FLAGS + SANITIZE + ["-O1"], ".c")):
        outs = _build_and_run(tmp_path, f"regions_{stem}", tables, compiler, flags, suffix)
        for (name, table, _), out in zip(tables, outs):
            assert np.array_equal(out, table.eval_int(table.in_format.codes())), (stem, name)


def test_c_header_states_the_region_table():
    from lutgen.export import render

    t = lutgen.compile_table("sigmoid", in_format="s8.4", range=(-8, 8), regions="2,1,2,3")
    (header,) = render(t, None, ["c"], name="sig")
    assert "static const uint8_t lutgen_sig_base[4] = { 0, 16, 48, 64 };" in header.text
    assert "static const uint8_t lutgen_sig_rshift[4] = { 2, 1, 2, 3 };" in header.text
    assert "#define LUTGEN_SIG_REGIONS 4" in header.text
    assert "--regions 2,1,2,3" in header.text and "4 regions of 2^6 codes" in header.text


# ---- plots ------------------------------------------------------------------------------------
def test_plot_marks_region_boundaries_and_every_knot():
    from lutgen import plot

    t = lutgen.compile_table("sigmoid", in_format="s8.4", range=(-8, 8), regions="3,2,3,4")
    fig = plot._figure_table(t)
    ax = fig.axes[0]
    assert "36 entries in 4 regions" in ax.get_title()
    labels = {c.get_label(): c for c in ax.collections}
    region = labels["region boundaries (4 regions, shifts 3,2,3,4)"]
    xs = sorted({round(float(seg[0][0]), 6) for seg in region.get_segments()})
    assert xs == [-8.0, -4.0, 0.0, 4.0]  # 8.0 is past the format's last code
    knots = labels["segment boundaries (36 segments)"]
    knot_xs = sorted({round(float(seg[0][0]), 6) for seg in knots.get_segments()})
    # 2^3 codes (0.5) in [-8, -4), 2^2 (0.25) in [-4, 0), 0.5 in [0, 4), 2^4 (1.0) in [4, 8)
    assert knot_xs == ([-8 + 0.5 * k for k in range(8)] + [-4 + 0.25 * k for k in range(16)]
                       + [0.5 * k for k in range(8)] + [4.0, 5.0, 6.0, 7.0])


# ---- project files ----------------------------------------------------------------------------
def test_project_file_takes_regions_as_a_list(tmp_path):
    project = tmp_path / "p.toml"
    project.write_text('name = "p"\nemit = ["c", "json"]\n[[tables]]\nactivation = "sigmoid"\n'
                       'in_format = "s8.4"\nrange = [-8, 8]\nregions = [2, 1, 2, 3]\n')
    result = run("batch", project, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "out" / "sigmoid.json").read_text())
    assert saved["table"]["regions"]["shifts"] == [2, 1, 2, 3]
    project.write_text(project.read_text().replace("[2, 1, 2, 3]", '"two"'))
    bad = run("batch", project, "-o", tmp_path / "bad")
    assert bad.exit_code == 2
    assert bad.output.startswith("Error: ") and "regions" in bad.output
    assert bad.output.count("\n") == 1 and not (tmp_path / "bad").exists()
