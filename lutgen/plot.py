"""Figures of a table and of a fit: PNG, SVG or PDF, byte-stable.

matplotlib is imported inside the functions, never at module import, so the
rest of lutgen (``lutgen list``) starts without it. Figures are built on
:class:`matplotlib.figure.Figure` directly: no pyplot, no global figure state,
no display backend.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

import numpy as np

from ._text import up_sig
from .errors import ExportError
from .regions import format_regions

__all__ = ["plot_table", "plot_pareto", "check_plot_path"]

FORMATS = ("png", "svg", "pdf")
# Metadata that would carry a timestamp or a version string is left out: byte-stable files.
_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}
_RC = {"svg.hashsalt": "lutgen", "svg.fonttype": "path", "pdf.compression": 6}

MAX_MARKED_BOUNDARIES = 64  # more segment boundaries than this: mark every k-th
MAX_POINTS = 8192  # a curve with more points is drawn as its min/max envelope
STEP_POINTS = 4096  # up to this many input codes the table output is drawn as steps
MARGIN = 0.25  # the output panel shows the table range plus this fraction each side
INTERP_STYLE = {  # colour and marker per interpolation mode
    "linear": ("C0", "o"),
    "nearest": ("C1", "s"),
    "none": ("C2", "^"),
}


def check_plot_path(path) -> tuple[Path, str]:
    """The path and its format (``png``, ``svg`` or ``pdf``), or :class:`ExportError`.

    Checked before any work: the extension names the format, and the folder
    must exist.
    """
    path = Path(path)
    ext = path.suffix.lower().lstrip(".")
    if ext not in FORMATS:
        what = f"the extension '.{ext}' is not a plot format" if ext else "it has no extension"
        raise ExportError(
            f"cannot plot to '{path}': {what}; allowed: " + ", ".join(f".{f}" for f in FORMATS)
        )
    if path.is_dir():
        raise ExportError(f"cannot write plot '{path}': it is a folder; choose a file name")
    if not path.parent.is_dir():
        raise ExportError(
            f"cannot write plot '{path}': the folder '{path.parent}' does not exist; create it "
            "or choose another path"
        )
    return path, ext


def plot_table(table, path, *, report=None, budget_lsb=None) -> Path:
    """Plot a table against its reference, and its error over every input.

    The upper panel shows the reference and the table's output over the table
    range plus a margin (the tails), the derivative on a second axis when the
    activation has one, segment boundaries and the shaded table range. The
    lower panel shows the error in output LSBs over every input code of the
    format (the codes :func:`lutgen.analysis.analysis_codes` analyses), with
    the budget, the error floor and +/-1 LSB.

    Parameters
    ----------
    table : Table
    path : str or Path
        ``.png``, ``.svg`` or ``.pdf``; written atomically.
    report : ErrorReport, optional
        The table's analysis (computed if not given).
    budget_lsb : float, optional
        An error budget in output LSBs, drawn as +/- lines.

    Returns
    -------
    Path
        The file written.
    """
    path, fmt = check_plot_path(path)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # huge values: the error below
            fig = _figure_table(table, report=report, budget_lsb=budget_lsb)
            _save(fig, path, fmt)
    except ExportError:
        raise
    except (ValueError, OverflowError) as exc:  # matplotlib cannot scale such values
        raise ExportError(
            f"cannot plot {table.name}: its values or errors are beyond what matplotlib "
            f"can draw ({exc}); plot a narrower input format"
        ) from None
    return path


def plot_pareto(result, path) -> Path:
    """Plot max error against ROM bits of the designs of a :func:`lutgen.search.fit`.

    One series per interpolation mode (filled markers: meets the budget), its
    Pareto front as a step line, the best design highlighted, the budget and
    the error floor as horizontal lines; ROM bits on a log axis.
    """
    path, fmt = check_plot_path(path)
    fig = _figure_pareto(result)
    _save(fig, path, fmt)
    return path


# ---- saving ---------------------------------------------------------------------------------
def _save(fig, path: Path, fmt: str) -> None:
    import matplotlib

    from .export import atomic_write

    buf = io.BytesIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format=fmt, metadata=_METADATA[fmt])
    try:
        atomic_write(path, buf.getvalue())
    except OSError as exc:
        raise ExportError(
            f"cannot write plot '{path}': {exc.strerror or exc}; choose a writable path"
        ) from None


def _new_figure(nrows: int, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, height), dpi=100, layout="constrained")
    axes = fig.subplots(nrows, 1, squeeze=False)[:, 0]
    return fig, axes


# ---- the table figure -----------------------------------------------------------------------
def _figure_table(table, *, report=None, budget_lsb=None):
    """The Figure of :func:`plot_table` (two axes: output, error)."""
    from .analysis import analyze

    if report is None:
        report = analyze(table)
    fig, (ax_out, ax_err) = _new_figure(2, 8.5)
    ax_out.set_title(_table_title(table, report), fontsize=10)
    _draw_output(ax_out, table)
    _draw_error(ax_err, table, report, budget_lsb)
    return fig


def _table_title(table, report) -> str:
    from .activations import get

    spec = table.spec
    act = get(spec.activation)
    name = act.formula if act.category == "user" and act.name == "expr" else act.name
    changed = {k: v for k, v in spec.params if act.defaults.get(k) != v}
    if changed:
        name += "(" + ", ".join(f"{k}={_short(v)}" for k, v in changed.items()) + ")"
    if spec.derivative:
        name += " derivative"
    if act.n_outputs > 1:
        name += f" output {spec.output}"
    entries = f"{table.entries} entries" + (
        f" in {table.regions.n} regions" if table.regions is not None else "")
    line1 = (f"{name}: {table.in_format} \u2192 {table.out_format}, {entries}, "
             f"interp {table.interp.value}, fold {table.fold.value if table.fold else 'no'}")
    line2 = (f"max error {up_sig(report.max_error_lsb)} LSB "
             f"(floor {up_sig(report.floor_max_error_lsb)}), "
             f"{'faithful' if report.faithful else 'not faithful'}, "
             f"{'exhaustive' if report.exhaustive else 'sampled'} over {report.n_inputs} inputs, "
             f"{table.rom_bits} ROM bits")
    return line1 + "\n" + line2


def _short(value) -> str:
    if isinstance(value, tuple):
        return f"[{len(value)} values]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _table_codes(table) -> tuple[int, int]:
    """First and one-past-last input code the table stores (both halves when folded)."""
    lo = 2 * table.in_format.zero_point - table.hi_code if table.fold else table.lo_code
    return lo, table.hi_code


def _window_codes(table) -> np.ndarray:
    """Input codes of the table range plus a margin each side, inside the format."""
    fin = table.in_format
    lo, hi = _table_codes(table)
    margin = int((hi - lo) * MARGIN)
    first = max(fin.min_code, lo - margin)
    last = min(fin.max_code, hi + margin)
    n = last - first + 1
    stride = max(1, -(-n >> 24))  # at most ~2^24 codes evaluated; drawn as an envelope
    codes = np.arange(first, last + 1, stride, dtype=np.int64)
    if codes[-1] != last:
        codes = np.append(codes, last)
    return codes


def _draw_output(ax, table) -> None:
    from .activations import get
    from ._reference import reference_on_codes

    fin, fout = table.in_format, table.out_format
    codes = _window_codes(table)
    x = fin.dequantize(codes)
    ref = reference_on_codes(table.spec, codes)
    ref = np.where(np.isfinite(ref), ref, np.nan)  # a pole or an overflow: a gap, not a line
    y = fout.dequantize(table.eval_int(codes))

    _shade_range(ax, table)
    _mark_boundaries(ax, table, x[0], x[-1])
    ax.plot(*_envelope(x, ref), color="0.6", lw=3.0, alpha=0.7, label="reference (float64)")
    if codes.size <= STEP_POINTS:
        ax.plot(x, y, color="C3", lw=1.0, drawstyle="steps-post",
                label="table output (per input code)")
    else:
        ax.plot(*_envelope(x, y), color="C3", lw=0.8, alpha=0.9,
                label="table output (min/max per pixel)")
    ax.set_xlim(x[0], x[-1])
    ax.set_xlabel(f"input x ({fin}, LSB {_lsb_text(fin)})")
    ax.set_ylabel(f"output ({fout}, LSB {_lsb_text(fout)})")
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()

    act = get(table.spec.activation)
    if act.derivative is not None and not table.spec.derivative:
        xs = np.linspace(x[0], x[-1], 1001)
        with np.errstate(all="ignore"):
            dy = act.evaluate(xs, table.spec.params_dict, derivative=True)
        if act.n_outputs > 1:
            dy = dy[table.spec.output]
        dy = np.where(np.isfinite(dy), dy, np.nan)
        ax_d = ax.twinx()
        ax_d.plot(xs, dy, color="C2", lw=1.0, ls="--", label="derivative (right axis)")
        ax_d.set_ylabel("derivative dy/dx", color="C2")
        ax_d.tick_params(axis="y", colors="C2")
        h, lab = ax_d.get_legend_handles_labels()
        handles, labels = handles + h, labels + lab
    ax.legend(handles, labels, loc="best", fontsize=8, framealpha=0.85)


def _shade_range(ax, table) -> None:
    lo, hi = table.range
    tails = ", ".join(f"{side} {t.mode if t else 'none'}"
                      for side, t in zip(("left", "right"), table.tails))
    ax.axvspan(lo, hi, color="C0", alpha=0.07, lw=0,
               label=f"table range [{lo:g}, {hi:g}); tails: {tails}")


def _lsb_text(fmt) -> str:
    """``2^-12`` for a power-of-two format, the scale for an affine one."""
    return f"{fmt.scale!r}" if fmt.is_affine else f"2^{-fmt.frac}"


def _mark_boundaries(ax, table, x_lo, x_hi) -> None:
    """Light vertical lines at segment boundaries (every k-th when there are many)."""
    step = 1
    while table.entries // step > MAX_MARKED_BOUNDARIES:
        step *= 2
    codes = table.knot_codes[::step]
    label = f"segment boundaries ({table.entries} segments" + (
        f", 1 in {step} marked)" if step > 1 else ")")
    _vlines(ax, table, codes, x_lo, x_hi, label, dict(color="0.6", lw=0.5, alpha=0.6))
    if table.regions is not None:
        r = table.regions
        bounds = table.lo_code + np.array((*r.starts, r.span), dtype=np.int64)
        _vlines(ax, table, bounds, x_lo, x_hi,
                f"region boundaries ({r.n} regions, {'shifts' if r.equal else 'S x C'} "
                f"{format_regions(r.spec_value())})",
                dict(color="C3", lw=0.9, alpha=0.7, linestyles="dashed"))


def _vlines(ax, table, codes, x_lo, x_hi, label, style) -> None:
    if table.fold:
        codes = np.unique(np.concatenate([2 * table.in_format.zero_point - codes, codes]))
    xs = table.in_format.dequantize(codes)
    xs = xs[(xs >= x_lo) & (xs <= x_hi)]
    ax.vlines(xs, 0, 1, transform=ax.get_xaxis_transform(), label=label, **style)


def _error_curve(table):
    """Signed error in output LSBs at the analysed codes (undefined inputs left out)."""
    from .analysis import analysis_codes
    from ._reference import reference_on_codes

    codes, exhaustive = analysis_codes(table)
    ref = reference_on_codes(table.spec, None if exhaustive else codes)
    y = table.eval_int(codes)
    with np.errstate(all="ignore"):
        err = y - table.out_format.real_to_codes(ref)
    defined = np.isfinite(err)
    return table.in_format.dequantize(codes[defined]), err[defined]


def _draw_error(ax, table, report, budget_lsb) -> None:
    x, err = _error_curve(table)
    _shade_range(ax, table)
    ax.axhline(0, color="0.5", lw=0.5)
    xs, es = _envelope(x, err)
    style = {"marker": ".", "ms": 3} if x.size <= 512 else {}
    what = "every input" if report.exhaustive else f"{x.size} sampled inputs"
    ax.plot(xs, es, color="C3", lw=0.7, label=f"table - reference, over {what}", **style)
    if budget_lsb is not None:
        _pm_lines(ax, budget_lsb, "C1", "--", f"budget \u00b1{budget_lsb:.4g} LSB")
    _pm_lines(ax, 1.0, "C2", "-.", "faithful \u00b11 LSB")
    if math.isfinite(report.floor_max_error_lsb):
        _pm_lines(ax, report.floor_max_error_lsb, "0.3", ":",
                  f"error floor \u00b1{report.floor_max_error_lsb:.4g} LSB (rounded reference)")
    ax.set_xlim(x[0], x[-1])
    ax.set_xlabel(f"input x ({table.in_format}, whole format)")
    ax.set_ylabel("error [output LSB]")
    ax.grid(True, alpha=0.3)
    _legend_below(ax, ncols=3)


def _legend_below(ax, ncols) -> None:
    """A legend under the axes, where it cannot hide the data."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=ncols, fontsize=8,
              frameon=False)


def _pm_lines(ax, value, color, ls, label) -> None:
    ax.axhline(value, color=color, ls=ls, lw=1.0, label=label)
    ax.axhline(-value, color=color, ls=ls, lw=1.0)


def _envelope(x, y, max_points=MAX_POINTS):
    """At most ``max_points`` points keeping each bucket's min and max, in x order.

    A curve over millions of inputs would make huge SVG/PDF files; the envelope
    looks the same and keeps every extreme (the plotted max error is the max).
    """
    n = y.size
    if n <= max_points:
        return x, y
    k = -(-n // (max_points // 2))  # codes per bucket
    m = -(-n // k)
    padded = np.concatenate([y, np.full(m * k - n, np.nan)]).reshape(m, k)
    nan = np.isnan(padded)
    i_min = np.where(nan, np.inf, padded).argmin(axis=1)
    i_max = np.where(nan, -np.inf, padded).argmax(axis=1)
    start = np.arange(m) * k
    idx = np.stack([start + np.minimum(i_min, i_max), start + np.maximum(i_min, i_max)], 1)
    idx = np.minimum(idx.ravel(), n - 1)
    return x[idx], y[idx]


# ---- the Pareto figure ----------------------------------------------------------------------
def _pareto_front(points):
    """(rom_bits, error) points no other point beats on both, by ascending ROM bits."""
    front = []
    for bits, err in sorted(points):
        if not front or err < front[-1][1]:
            front.append((bits, err))
    return front


def _figure_pareto(result):
    """The Figure of :func:`plot_pareto`."""
    fig, (ax,) = _new_figure(1, 6.0)
    designs = list(getattr(result, "evaluated", ()) or result.candidates)
    right = max((d.table.rom_bits for d in designs), default=1)
    for interp, (color, marker) in INTERP_STYLE.items():
        group = [d for d in designs if d.table.interp.value == interp]
        if not group:
            continue
        pts = [(d.table.rom_bits, d.report.max_error_lsb) for d in group]
        face = [color if d.meets else "none" for d in group]
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=marker, s=36,
                   facecolors=face, edgecolors=color, zorder=3,
                   label=f"{interp} ({len(group)} designs)")
        front = _pareto_front(pts)
        front.append((right, front[-1][1]))  # the front holds to the right edge
        ax.step([p[0] for p in front], [p[1] for p in front], where="post", color=color,
                lw=1.0, alpha=0.7, label=f"{interp} Pareto front")
    best = result.best
    if best is not None:
        t = best.table
        ax.scatter([t.rom_bits], [best.report.max_error_lsb], marker="*", s=300,
                   facecolors="gold", edgecolors="k", zorder=4,
                   label=f"best: {t.entries} entries, {t.interp.value}"
                         f"{', fold' if t.spec.fold else ''}, {t.spec.coeffs.value}, "
                         f"G={t.guard_bits}: {t.rom_bits} bits, "
                         f"{best.report.max_error_lsb:.3g} LSB")
    ax.axhline(result.budget_lsb, color="C3", ls="--", lw=1.0,
               label=f"budget {result.budget_lsb:.4g} LSB")
    if math.isfinite(result.floor_max_error_lsb):
        ax.axhline(result.floor_max_error_lsb, color="0.3", ls=":", lw=1.0,
                   label=f"error floor {result.floor_max_error_lsb:.4g} LSB")
    ax.set_xscale("log")
    _plain_log_ticks(ax, designs)
    ax.set_xlabel("ROM bits (log scale)")
    errors = [d.report.max_error_lsb for d in designs if d.report.max_error_lsb > 0]
    if errors and max(errors) > 20 * min(errors):  # outliers would flatten the front
        ax.set_yscale("log")
        ax.set_ylabel("max error [output LSB] (log scale)")
    else:
        ax.set_ylabel("max error [output LSB]")
    ax.set_title(_pareto_title(result, len(designs)), fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    if not designs:
        ax.text(0.5, 0.5, "no design could be built", transform=ax.transAxes, ha="center")
    _legend_below(ax, ncols=3)
    return fig


def _plain_log_ticks(ax, designs) -> None:
    """ROM bits as plain numbers; minor ticks labelled too when the span is narrow."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    plain = FuncFormatter(lambda v, _pos: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    bits = [d.table.rom_bits for d in designs]
    narrow = bool(bits) and max(bits) < 30 * min(bits)
    ax.xaxis.set_minor_formatter(plain if narrow else NullFormatter())


def _pareto_title(result, n) -> str:
    head = "lutgen fit"
    if result.best is not None:
        t = result.best.table
        head += (f": {t.spec.activation}{' derivative' if t.spec.derivative else ''}, "
                 f"{t.in_format} \u2192 {t.out_format}")
    verdict = "met" if result.met else "not met (closest designs shown)"
    return (f"{head}\nmax error vs ROM bits of {n} candidate designs (filled: meets the "
            f"budget); budget {result.budget_lsb:.4g} LSB {verdict}")
