"""Vector-level analysis of the composite softmax: figures checked by hand, and the issue's targets."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lutgen.errors import SpecError
from lutgen.softmax import softmax
from lutgen.softmax_analysis import analyze_softmax, strict_reorderings

from .test_softmax import compiled


def _brute_reorderings(x, y) -> int:
    return sum(any(x[v, i] > x[v, j] and y[v, i] < y[v, j]
                   for i in range(x.shape[1]) for j in range(x.shape[1]))
               for v in range(x.shape[0]))


@pytest.mark.parametrize("x, y, expected", [
    ([[1, 2, 3]], [[1, 2, 3]], 0),
    ([[1, 2, 3]], [[1, 3, 2]], 1),
    ([[1, 1, 2]], [[5, 3, 6]], 0),  # equal logits may get any outputs
    ([[1, 1, 2]], [[5, 3, 4]], 1),  # 2 > 1 but 4 < 5
    ([[3, 2, 1], [1, 2, 3]], [[1, 1, 1], [2, 1, 1]], 1),
])
def test_strict_reorderings_by_hand(x, y, expected):
    assert strict_reorderings(np.array(x), np.array(y)) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5).flatmap(lambda n: st.tuples(
    st.lists(st.lists(st.integers(0, 3), min_size=n, max_size=n), min_size=1, max_size=6),
    st.lists(st.lists(st.integers(0, 3), min_size=n, max_size=n), min_size=6, max_size=6))))
def test_strict_reorderings_matches_brute_force(xy):
    x = np.array(xy[0])
    y = np.array(xy[1][: len(xy[0])])
    assert strict_reorderings(x, y) == _brute_reorderings(x, y)


def test_figures_of_one_vector_by_hand():
    sm = softmax(10, "ap_fixed<16,6>")
    # ten equal logits: every output 102 codes where 0.1 is 102.4
    c = analyze_softmax(sm, np.zeros((1, 10))).cases[0]
    assert (c.count, c.argmax_flips, c.floor_flips, c.strict_reorderings) == (1, 0, 0, 0)
    assert c.max_error_lsb == pytest.approx(0.4) and c.mean_error_lsb == pytest.approx(0.4)
    assert c.sum_min == c.sum_max == 1020 / 1024 and c.sum_error_max_lsb == 4


def test_floor_counts_ties_of_the_correctly_rounded_softmax():
    # s8.4 out: logits 0 and 1/16 give p = 0.4844, 0.5156 = 7.75, 8.25 LSBs: both round to 8,
    # and the first index wins the tie: the correctly rounded softmax flips the argmax
    sm = softmax(2, "s8.4")
    c = analyze_softmax(sm, [[0.0, 1 / 16]]).cases[0]
    assert (c.count, c.floor_flips) == (1, 1)


@pytest.mark.parametrize("fmt", ["ap_fixed<16,6>", "ap_fixed<8,4>"])
def test_issue_targets(fmt):
    """Flips <= 1.2 x floor, no strict reordering, max error <= 1 LSB, sum within 1 +- 8 LSB,
    ROM <= half of hls4ml's 36 864 bits: 100 000 seeded vectors at sigma 0.1, 1 and 3."""
    report = analyze_softmax(softmax(10, fmt), count=100_000, seed=0)
    assert [c.source for c in report.cases] == ["normal:0,0.1", "normal:0,1", "normal:0,3"]
    for c in report.cases:
        assert c.count == 100_000
        assert c.argmax_flips <= 1.2 * c.floor_flips, c
        assert c.strict_reorderings == 0
        assert c.max_error_lsb <= 1.0, c
        assert c.sum_error_max_lsb <= 8, c
    assert report.rom_bits <= 36864 // 2
    d = json.loads(json.dumps(report.to_dict()))
    assert d["rom_bits"] == report.rom_bits and len(d["cases"]) == 3
    md = report.to_markdown()
    assert f"rom_bits: {report.rom_bits}" in md and md.count("| normal:0,") == 3


@pytest.mark.parametrize("name", ["n3_s6.2_u8.8", "n4_none_tables", "n17_u8.5_s12.10"])
def test_no_strict_reordering_at_any_spread(name):
    report = analyze_softmax(compiled(name), dists=("normal:0,0.1", "normal:0,3", "normal:5,20"),
                             count=20_000, seed=1)
    assert [c.strict_reorderings for c in report.cases] == [0, 0, 0]


@pytest.mark.parametrize("kwargs, message", [
    ({"vectors": np.zeros((3, 4))}, r"shape \(count, 2\) with count >= 1, got \(3, 4\)"),
    ({"vectors": np.zeros((0, 2))}, r"got \(0, 2\)"),
    ({"vectors": [[0.0, np.nan]]}, "finite"),
    ({"vectors": [["a", "b"]]}, "real array"),
    ({"dists": ("normal:0,-1",)}, "cannot read logit distribution 'normal:0,-1'"),
    ({"dists": ("uniform:0,1",)}, "write normal:MU,SIGMA"),
    ({"count": 0}, "count must be an integer 1..10000000, got 0"),
    ({"seed": -1}, "seed must be a non-negative integer, got -1"),
])
def test_bad_analysis_arguments(kwargs, message):
    with pytest.raises(SpecError, match=message):
        analyze_softmax(softmax(2, "s8.4"), **kwargs)


def test_hls4ml_comparison_script_prints_lutgen_figures(monkeypatch, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "softmax_vs_hls4ml.py"
    spec = importlib.util.spec_from_file_location("softmax_vs_hls4ml", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.delenv("LUTGEN_HLS_INCLUDE", raising=False)
    assert script.main(["--count", "3000"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "3000 vectors of N(0, 3), N = 10, seed 0, ap_fixed<16,6> in and out"
    sm = softmax(10, "ap_fixed<16,6>")
    x = np.random.default_rng(0).normal(0.0, 3.0, (3000, 10))
    c = analyze_softmax(sm, x).cases[0]
    fields = lines[2].split()
    assert fields[0] == "lutgen" and fields[-1] == str(sm.rom_bits)
    assert [int(v) for v in fields[1:4]] == [c.argmax_flips, c.floor_flips, 0]
    assert lines[3].startswith("hls4ml: skipped")
