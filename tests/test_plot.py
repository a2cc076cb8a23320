"""Plots: a table against its reference and its error, and the Pareto plot of a fit."""

import math
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import lutgen
from lutgen import plot
from lutgen.activations import activation
from lutgen.activations._registry import unregister
from lutgen.analysis import analyze
from lutgen.cli import cli
from lutgen.search import Design, FitResult, fit

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<svg", "pdf": b"%PDF-"}


@pytest.fixture(scope="module")
def sigmoid8():
    """Sigmoid over every code of s8.4 (256 inputs, the whole format), 16 linear segments."""
    return lutgen.compile_table("sigmoid", in_format="s8.4", out_format="s8.6", entries=16)


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def _line(ax, prefix):
    (line,) = [ln for ln in ax.get_lines() if ln.get_label().startswith(prefix)]
    return line


def _hlines(ax):
    """y of every horizontal line spanning the axes (axhline: x data [0, 1] in axes units)."""
    return sorted(float(ln.get_ydata()[0]) for ln in ax.get_lines()
                  if list(ln.get_xdata()) == [0, 1] and ln.get_ydata()[0] == ln.get_ydata()[1])


# ---- files --------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_table_plot_is_a_valid_file_and_byte_stable(sigmoid8, tmp_path, ext):
    first = plot.plot_table(sigmoid8, tmp_path / f"a.{ext}", budget_lsb=2.0)
    second = plot.plot_table(sigmoid8, tmp_path / f"b.{ext}", budget_lsb=2.0)
    data = first.read_bytes()
    head = data[:2000]
    assert MAGIC[ext] in head and (ext == "svg" or head.startswith(MAGIC[ext]))
    assert data == second.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"a.{ext}", f"b.{ext}"]  # no temp left


@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_pareto_plot_is_a_valid_file_and_byte_stable(tmp_path, ext):
    result = fit("sigmoid", in_format="s8.4", out_format="s8.6", max_error="1lsb")
    a = plot.plot_pareto(result, tmp_path / f"a.{ext}").read_bytes()
    b = plot.plot_pareto(result, tmp_path / f"b.{ext}").read_bytes()
    assert MAGIC[ext] in a[:2000]
    assert a == b


@pytest.mark.parametrize(
    "name,message",
    [
        ("x.txt", "Error: cannot plot to '{d}/x.txt': the extension '.txt' is not a plot format; "
                  "allowed: .png, .svg, .pdf\n"),
        ("x", "Error: cannot plot to '{d}/x': it has no extension; allowed: .png, .svg, .pdf\n"),
        ("missing/x.png", "Error: cannot write plot '{d}/missing/x.png': the folder "
                          "'{d}/missing' does not exist; create it or choose another path\n"),
        ("folder.png", "Error: cannot write plot '{d}/folder.png': it is a folder; "
                       "choose a file name\n"),
    ],
)
def test_plot_cli_bad_path_exits_2_with_one_error_line(tmp_path, name, message):
    (tmp_path / "folder.png").mkdir()
    result = CliRunner().invoke(cli, ["plot", "sigmoid", "--in-format", "s8.4",
                                      "-o", str(tmp_path / name)])
    assert result.exit_code == 2
    assert result.output == message.format(d=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["folder.png"]
    assert list((tmp_path / "folder.png").iterdir()) == []


def test_write_failure_is_an_export_error_and_leaves_nothing(sigmoid8, tmp_path, monkeypatch):
    import lutgen.export

    def refuse(path, data):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(lutgen.export, "atomic_write", refuse)
    with pytest.raises(lutgen.ExportError, match=r"cannot write plot '.*a\.png': Permission "
                                                 r"denied; choose a writable path"):
        plot.plot_table(sigmoid8, tmp_path / "a.png")
    assert list(tmp_path.iterdir()) == []


def test_plot_cli_writes_the_file_and_says_where(tmp_path):
    out = tmp_path / "s.png"
    result = CliRunner().invoke(cli, ["plot", "sigmoid", "--in-format", "s8.4", "--out-format",
                                      "s8.6", "--entries", "16", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {out}\n"
    assert out.read_bytes().startswith(MAGIC["png"])


def test_plot_cli_converts_the_budget_to_output_lsbs(tmp_path, monkeypatch):
    seen = {}

    def record(table, path, *, report=None, budget_lsb=None):
        seen.update(budget_lsb=budget_lsb, max=report.max_error_lsb, entries=table.entries)
        return path

    monkeypatch.setattr(plot, "plot_table", record)
    result = CliRunner().invoke(cli, ["plot", "sigmoid", "--in-format", "s8.4", "--out-format",
                                      "s8.6", "--entries", "8", "--budget", "1e-2",
                                      "-o", str(tmp_path / "s.svg")])
    assert result.exit_code == 0, result.output
    # 1e-2 in LSBs of s8.6 (2^-6): 0.01 * 64 = 0.64
    assert seen["budget_lsb"] == pytest.approx(0.64)
    assert seen["entries"] == 8


def test_fit_plot_option_writes_the_pareto_plot(tmp_path):
    out = tmp_path / "x.png"
    result = CliRunner().invoke(cli, ["fit", "sigmoid", "--in-format", "s8.4", "--out-format",
                                      "s8.6", "--max-error", "1lsb", "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(MAGIC["png"])


def test_importing_plot_does_not_load_matplotlib():
    code = "import sys, lutgen.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---- the table figure: what it shows ------------------------------------------------------
def test_table_figure_title_and_labels(sigmoid8):
    fig = plot._figure_table(sigmoid8)
    ax_out, ax_err = fig.axes[:2]
    title = ax_out.get_title()
    for part in ("sigmoid", "s8.4 \u2192 s8.6", "16 entries", "interp linear", "fold no"):
        assert part in title
    assert "derivative" not in title.split("\n")[0]
    assert ax_out.get_xlabel().startswith("input x")
    assert ax_out.get_ylabel().startswith("output")
    assert ax_err.get_ylabel() == "error [output LSB]"
    assert ax_err.get_xlabel().startswith("input x")
    assert ax_out.get_legend() is not None and ax_err.get_legend() is not None


def test_title_names_changed_params_and_the_derivative():
    t = lutgen.compile_table("leaky_relu", in_format="s8.4", entries=8, params={"alpha": 0.25})
    assert "leaky_relu(alpha=0.25)" in plot._figure_table(t).axes[0].get_title()
    t = lutgen.compile_table("leaky_relu", in_format="s8.4", entries=8)
    assert "alpha" not in plot._figure_table(t).axes[0].get_title()
    t = lutgen.compile_table("tanh", in_format="s8.4", entries=8, derivative=True, fold=True)
    title = plot._figure_table(t).axes[0].get_title()
    assert title.startswith("tanh derivative:") and "fold even" in title


def test_error_curve_is_every_input_against_an_independent_reference(sigmoid8):
    fig = plot._figure_table(sigmoid8)
    line = _line(fig.axes[1], "table - reference")
    x, err = line.get_xdata(), line.get_ydata()
    codes = np.arange(-128, 128)
    assert np.array_equal(x, codes / 16)  # every code of s8.4
    y = sigmoid8.eval_int(codes)
    expected = [int(yc) - _sigmoid(c / 16) * 64 for c, yc in zip(codes, y)]  # output LSB 2^-6
    np.testing.assert_allclose(err, expected, rtol=0, atol=1e-12)
    assert np.max(np.abs(err)) == pytest.approx(analyze(sigmoid8).max_error_lsb, abs=1e-12)


def test_budget_floor_and_faithful_lines(sigmoid8):
    fig = plot._figure_table(sigmoid8, budget_lsb=1.5)
    # the floor: the best output code, the rounded reference, against the reference
    floor = max(abs(math.floor(_sigmoid(c / 16) * 64 + 0.5) - _sigmoid(c / 16) * 64)
                for c in range(-128, 128))
    expected = sorted([0.0, 1.5, -1.5, 1.0, -1.0, floor, -floor])
    np.testing.assert_allclose(_hlines(fig.axes[1]), expected, rtol=0, atol=1e-12)
    without = plot._figure_table(sigmoid8)
    np.testing.assert_allclose(_hlines(without.axes[1]), sorted([0.0, 1, -1, floor, -floor]),
                               rtol=0, atol=1e-12)


def test_wide_format_is_drawn_as_an_envelope_keeping_the_max():
    t = lutgen.compile_table("tanh", in_format="s16.12", out_format="s16.14", entries=64)
    report = analyze(t)
    fig = plot._figure_table(t, report=report)
    err = _line(fig.axes[1], "table - reference").get_ydata()
    assert err.size <= plot.MAX_POINTS
    assert np.max(np.abs(err)) == report.max_error_lsb
    out = _line(fig.axes[0], "table output").get_ydata()
    assert out.size <= plot.MAX_POINTS
    # tanh stays inside (-1, 1) and reaches both ends over [-8, 8)
    assert -1 <= out.min() < -0.999 and 0.999 < out.max() <= 1


def test_output_panel_shows_reference_output_and_tails():
    t = lutgen.compile_table("gelu", in_format="s8.4", out_format="s10.6", range=(-4, 4),
                             entries=16)
    ax = plot._figure_table(t).axes[0]
    x = _line(ax, "table output").get_xdata()
    # the range [-4, 4) plus a quarter of its width each side: [-6, 6]
    assert x[0] == -6.0 and x[-1] == 6.0 and np.all(np.diff(x) == 1 / 16)
    ref = _line(ax, "reference").get_ydata()
    gelu = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x]
    np.testing.assert_allclose(ref, gelu, rtol=0, atol=1e-12)
    # segment boundaries every 0.5 from -4 to 4, all inside the window
    (bounds,) = [c for c in ax.collections if c.get_label().startswith("segment boundaries")]
    xs = sorted(seg[0][0] for seg in bounds.get_segments())
    assert xs == [-4 + 0.5 * i for i in range(17)]
    assert "tails: left asymptote, right asymptote" in _shade_label(ax)


def _shade_label(ax):
    (patch,) = [p for p in ax.patches if p.get_label().startswith("table range")]
    return patch.get_label()


def test_many_segments_mark_every_kth_and_say_so():
    t = lutgen.compile_table("sigmoid", in_format="s16.12", entries=1024)
    ax = plot._figure_table(t).axes[0]
    (bounds,) = [c for c in ax.collections if c.get_label().startswith("segment boundaries")]
    assert bounds.get_label() == "segment boundaries (1024 segments, 1 in 16 marked)"
    # 1024 segments over [-8, 8): boundaries every 1/64; every 16th: every 0.25 from -8 to 7.75
    xs = sorted(seg[0][0] for seg in bounds.get_segments())
    assert xs == [-8 + 0.25 * i for i in range(64)]


def test_derivative_on_a_twin_axis_when_the_activation_has_one(sigmoid8):
    fig = plot._figure_table(sigmoid8)
    assert len(fig.axes) == 3
    d = _line(fig.axes[2], "derivative")
    x, dy = d.get_xdata(), d.get_ydata()
    assert x[0] == -8 and x[-1] == 127 / 16  # the window: all of s8.4
    np.testing.assert_allclose(dy, [_sigmoid(v) * (1 - _sigmoid(v)) for v in x], rtol=1e-12)
    assert max(dy) == pytest.approx(0.25, abs=1e-4)  # s(0)(1 - s(0)), at x near 0


@pytest.fixture
def cube_without_derivative():
    activation(name="plot_test_cube", range=(-2, 2))(lambda x: x * x * x / 8)
    yield "plot_test_cube"
    unregister("plot_test_cube")


def test_no_derivative_axis_without_a_derivative(cube_without_derivative):
    t = lutgen.compile_table(cube_without_derivative, in_format="s8.4", entries=8)
    fig = plot._figure_table(t)
    assert len(fig.axes) == 2
    assert not any(ln.get_label().startswith("derivative") for ln in fig.axes[0].get_lines())
    # a derivative table gets no second derivative either
    t = lutgen.compile_table("sigmoid", in_format="s8.4", entries=8, derivative=True)
    assert len(plot._figure_table(t).axes) == 2


def test_envelope_keeps_each_buckets_extremes_in_order():
    x = np.arange(20.0)
    y = np.array([0, 5, 1, 2, -3, 0, 0, 0, 9, 1, 1, 1, 1, 1, 1, 1, 1, -7, 1, 1], dtype=float)
    ex, ey = plot._envelope(x, y, max_points=8)  # 4 buckets of 5
    # bucket 0 (0..4): max 5 at 1, min -3 at 4; bucket 1 (5..9): min 0 first at 5, max 9 at 8;
    # bucket 2 (10..14): all 1, both at 10; bucket 3 (15..19): max 1 first at 15, min -7 at 17
    assert list(ex) == [1, 4, 5, 8, 10, 10, 15, 17]
    assert list(ey) == [5, -3, 0, 9, 1, 1, 1, -7]


# ---- the Pareto figure --------------------------------------------------------------------
def test_pareto_front_by_hand():
    pts = [(20, 4.0), (10, 5.0), (20, 3.0), (30, 3.5), (40, 1.0), (40, 2.0)]
    assert plot._pareto_front(pts) == [(10, 5.0), (20, 3.0), (40, 1.0)]


def _design(interp, entries, budget_lsb):
    t = lutgen.compile_table("sigmoid", in_format="s8.4", out_format="s8.6", entries=entries,
                             interp=interp)
    r = analyze(t)
    return Design(t, r, r.max_error_lsb < budget_lsb)


def test_pareto_figure_points_per_interp_best_budget_and_floor():
    budget = 4.0  # met by linear/8 entries (about 3.0 LSB) and none/32 (about 3.9 LSB) only
    designs = (_design("linear", 8, budget), _design("linear", 4, budget),
               _design("nearest", 16, budget), _design("none", 32, budget),
               _design("none", 8, budget))
    best = min((d for d in designs if d.meets), key=lambda d: d.table.rom_bits)
    floor = min(d.report.floor_max_error_lsb for d in designs)
    result = FitResult(best, True, designs, floor, budget)
    ax = plot._figure_pareto(result).axes[0]

    scatter = {c.get_label().split(" (")[0]: c for c in ax.collections}
    for interp, n in (("linear", 2), ("nearest", 1), ("none", 2)):
        assert scatter[interp].get_label() == f"{interp} ({n} designs)"
        offsets = scatter[interp].get_offsets()
        mine = [d for d in designs if d.table.interp.value == interp]
        assert sorted(map(tuple, offsets)) == sorted(
            (d.table.rom_bits, d.report.max_error_lsb) for d in mine)
        # designs over the budget are hollow
        hollow = scatter[interp].get_facecolors()[:, 3] == 0
        assert list(hollow) == [not d.meets for d in mine]
    star = [c for c in ax.collections if c.get_label().startswith("best:")][0]
    assert tuple(star.get_offsets()[0]) == (best.table.rom_bits, best.report.max_error_lsb)
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "ROM bits (log scale)"
    assert ax.get_ylabel() == "max error [output LSB]"
    assert _hlines(ax) == sorted([budget, floor])
    assert "sigmoid, s8.4 \u2192 s8.6" in ax.get_title()
    fronts = [ln for ln in ax.get_lines() if ln.get_label().endswith("Pareto front")]
    assert len(fronts) == 3


def test_pareto_figure_of_a_real_fit():
    result = fit("sigmoid", in_format="s8.4", out_format="s8.6", max_error="1lsb")
    ax = plot._figure_pareto(result).axes[0]
    n = sum(len(c.get_offsets()) for c in ax.collections if "designs)" in c.get_label())
    # every design the search compiled, not only the listed candidates
    assert n == len(result.evaluated) > len(result.candidates)
    assert 1.0 in _hlines(ax)  # 1lsb
    assert "budget 1 LSB met" in ax.get_title()
