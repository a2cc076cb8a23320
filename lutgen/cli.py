"""The ``lutgen`` command line: parses, calls the library, formats.

Every :class:`~lutgen.errors.LutgenError` becomes one ``Error: ...`` line on
stderr and exit code 2.
"""

from __future__ import annotations

import sys

import click
import numpy as np

from . import __version__
from ._cli_support import (
    LutgenGroup,
    UserError,
    activation_name,
    compile_opts,
    echo_json,
    fit_progress,
    fit_text,
    load_saved,
    note,
    parse_params,
    split_options,
    summary,
    table_options,
)
from ._cli_onnx import COMMANDS as ONNX_COMMANDS
from ._cli_softmax import COMMANDS as SOFTMAX_COMMANDS
from ._cli_budget import budget_cmd
from ._text import up
from .activations import CATEGORIES, activations, get
from .spec import Interp

# The table options come from lutgen.spec.OPTIONS; the compiler itself (numba) loads on first use.

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=LutgenGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="lutgen")
def cli():
    """Compile activation functions into bit-exact fixed-point lookup tables.

    \b
    Example:
      lutgen list --category relu
      lutgen show gelu
    """


cli.routes = {"softmax": SOFTMAX_COMMANDS}  # a composite, not a table: docs/SOFTMAX.md
cli.add_command(budget_cmd)  # a model-level budget (PyTorch): docs/QUANTIZED.md
for _command in ONNX_COMMANDS:  # lutgen[onnx]: docs/ONNX.md
    cli.add_command(_command)


def _format_params(act) -> str:
    return ", ".join(
        f"{p.name}={list(p.default) if p.kind == 'points' else p.default}" for p in act.params
    )


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--category", type=click.Choice(CATEGORIES), help="Only this category.")
def list_cmd(as_json, category):
    """List every registered activation with its category, parameters and default range.

    \b
    Example:
      lutgen list --category smooth
      lutgen list --json
    """
    acts = [a for a in activations().values() if category is None or a.category == category]
    if as_json:
        echo_json([a.to_dict() for a in acts])
        return
    width = max((len(a.name) for a in acts), default=4)
    for a in acts:
        lo, hi = a.default_range
        params = _format_params(a)
        click.echo(f"{a.name:<{width}}  {a.category:<9}  [{lo:g}, {hi:g})  {params}".rstrip())


@cli.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def show_cmd(name, as_json):
    """Describe one activation: formula, parameters, range, properties.

    \b
    Example:
      lutgen show gelu
      lutgen show leaky_relu --json
    """
    act = get(name)
    info = act.to_dict()
    if as_json:
        echo_json(info)
        return
    lines = [
        f"{act.name}" + (f" (aliases: {', '.join(act.aliases)})" if act.aliases else ""),
        f"  {act.description}",
        f"  formula:       {act.formula}",
        f"  category:      {act.category}",
        f"  source:        {act.source}",
        f"  default range: [{act.default_range[0]:g}, {act.default_range[1]:g})",
        f"  derivative:    {'analytic' if info['derivative'] else 'none'}",
        f"  monotonic:     {info['monotonic'] or 'no'}",
        f"  symmetry:      {info['symmetry'] or 'none'}"
        + (f" about (0, {info['center']:g})" if info["symmetry"] == "point" else "")
        + (f": f(x) - {info['line_slope']:g}*x is even" if info["symmetry"] == "even_line" else ""),
    ]
    for side in ("neg", "pos"):
        a = info[f"asymptote_{side}"]
        where = "-inf" if side == "neg" else "+inf"
        text = "none" if a is None else (
            f"{a['intercept']:g}" if a["slope"] == 0 else f"{a['slope']:g}*x + {a['intercept']:g}"
        )
        lines.append(f"  at {where}:{' ' * (11 - len(where))}{text}")
    lo, hi = info["domain"]
    if lo != "-inf" or hi != "inf" or info["poles"]:
        lines.append(f"  domain:        [{lo}, {hi}]" + (
            f" except {', '.join(f'{p:g}' for p in info['poles'])}" if info["poles"] else ""))
    if act.n_outputs > 1:
        lines.append(f"  outputs:       {act.n_outputs} (one table each)")
    if act.composite:
        lines.append("  composite:     not element-wise; built from other tables")
    if act.tie_rule:
        lines.append(f"  ties:          {act.tie_rule}")
    if act.params:
        lines.append("  parameters:")
        for p in act.params:
            default = list(p.default) if p.kind == "points" else p.default
            lines.append(f"    {p.name} = {default}  ({p.allowed()}) {p.doc}".rstrip())
    click.echo("\n".join(lines))


@cli.command("build")
@table_options
@click.option("-o", "--out-dir", default="hw_out", show_default=True, metavar="DIR",
              help="Where the artifacts go.")
@click.option("--emit", default=None, metavar="KINDS",
              help="Comma-separated: c, c-split, hls, mem, coe, mif, verilog, tb, json, or all "
                   "(json, the saved spec, is always written; verilog and tb bring the mem "
                   "files they read).  [default: json]")
@click.option("--name", "table_name", default=None,
              help="Name of the table in file and symbol names [default: the activation's].")
@click.option("--from", "from_json", default=None, metavar="FILE",
              help="Rebuild from a saved DIR/<name>.json (same spec, name and --emit kinds).")
@click.option("--report-resources", is_flag=True,
              help="Synthesise the Verilog module with Yosys (synth_ice40 -dsp, synth_xilinx) "
                   "and place it with nextpnr-ice40 (up5k): LUT/FF/BRAM/DSP and Fmax go into "
                   "<name>.json and <name>_resources.md (needs yosys and nextpnr-ice40).")
def build_cmd(**kwargs):
    """Compile a table and write its artifacts (DIR/<name>.json and the --emit kinds).

    \b
    Example:
      lutgen build sigmoid --in-format s16.12 --out-format s16.14 --entries 128 --fold
      lutgen build gelu --range -4 4 --emit c,verilog,tb -o hw_out
      lutgen build sigmoid --in-format s8.4 --entries 256 --interp none --report-resources
    """
    opts, rest = split_options(kwargs)
    from .analysis import analyze
    from .export import export, identifier, parse_kinds

    if rest["report_resources"]:
        from .resources import require_tools

        require_tools()  # a missing tool fails before anything is compiled or written
    if rest["from_json"] is not None:
        table, kinds, name = load_saved(rest["from_json"], opts, rest)
    else:
        kinds = parse_kinds(rest["emit"] or "json")
        if "json" not in kinds:
            kinds.append("json")
        table, name = compile_opts(opts), rest["table_name"]
    report = analyze(table)
    resources = None
    if rest["report_resources"]:
        from .resources import measure

        name = identifier(name if name is not None else table.name)
        resources = measure(table, name)  # in a temporary folder: nothing written yet
    paths = export(table, report, kinds, rest["out_dir"], name, resources=resources)
    click.echo(summary(table, report))
    if resources is not None:
        for fam in resources.families:
            click.echo(f"  resources: {fam.text()}")
    for path in paths:
        click.echo(f"  wrote {path}")


@cli.command("analyze")
@table_options
@click.option("--dist", default=None, metavar="DIST",
              help="Weight the mean errors: normal:MEAN,STD, uniform, uniform:LO,HI, "
                   "samples:FILE.npy or hist:FILE.npz (edges, counts).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def analyze_cmd(**kwargs):
    """Measure a table against the float reference over every input.

    \b
    Example:
      lutgen analyze tanh --fold --coeffs minimax --json
      lutgen analyze gelu --dist normal:0,1
    """
    opts, rest = split_options(kwargs)
    table = compile_opts(opts)
    from .analysis import analyze

    report = analyze(table, dist=rest["dist"])
    if rest["as_json"]:
        echo_json(report.to_dict())
        return
    click.echo(summary(table, report))
    width = max(len(k) for k in report.to_dict())
    for key, value in report.to_dict().items():
        if value is not None:
            click.echo(f"  {key:<{width}}  {value:.6g}" if isinstance(value, float)
                       else f"  {key:<{width}}  {value}")


@cli.command("eval", context_settings={"ignore_unknown_options": True})
@table_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("-x", "xs", multiple=True, type=float, metavar="X",
              help="An input value (repeatable); the values may also follow NAME.")
@click.argument("values", nargs=-1)
def eval_cmd(**kwargs):
    """Evaluate a table at inputs X..., as the hardware would (float and integer code).

    Inputs become codes with the input format's own modes (an 'ap_fixed<8,4>' input wraps 9.0
    to -7.0; s8.4 rounds half up and saturates), as Table.eval does.

    \b
    Example:
      lutgen eval sigmoid -1.5 0 2
      lutgen eval gelu --range -4 4 --json 1 -0.5
      lutgen eval --expr 'x*x' -x 1.5
    """
    values = list(kwargs.pop("values"))
    if kwargs["expr"] is not None and kwargs["name"] is not None:
        values.insert(0, kwargs["name"])  # with --expr, the first value is no NAME
        kwargs["name"] = None
    opts, rest = split_options(kwargs)
    xs = list(rest["xs"])
    for v in values:
        try:
            xs.append(float(v))
        except ValueError:
            if v.startswith("--"):
                raise UserError(f"no such option {v!r} (see 'lutgen eval --help')") from None
            raise UserError(f"input {v!r} is not a number; give inputs as numbers, "
                            "e.g. lutgen eval sigmoid 0.5 -1") from None
    rest["xs"] = xs
    if not rest["xs"]:
        raise UserError("no input given; pass values after NAME, e.g. lutgen eval sigmoid 0.5 -1")
    table = compile_opts(opts)
    from ._reference import reference_on_codes

    x = np.asarray(rest["xs"], dtype=np.float64)
    x_codes = table.quantize(x)
    y_codes = table.eval_int(np.atleast_1d(x_codes))
    y = table.out_format.dequantize(y_codes)
    ref = reference_on_codes(table.spec, np.atleast_1d(x_codes))
    rows = [
        {"x": float(xi), "x_code": int(xc), "y": float(yi), "y_code": int(yc),
         "reference": float(r)}
        for xi, xc, yi, yc, r in zip(x, np.atleast_1d(x_codes), y, y_codes, ref)
    ]
    if rest["as_json"]:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"x={r['x']:g} (code {r['x_code']}) -> y={r['y']:.10g} (code {r['y_code']}), "
                   f"reference {r['reference']:.10g}")


@cli.command("fit")
@table_options(only=("expr", "derivative", "output", "in_format", "out_format", "saturation"))
@click.option("--max-error", required=True, metavar="E",
              help="Bound on the max error: a number (1e-3) or output LSBs (1lsb, 0.5lsb).")
@click.option("--mean-error", default=None, metavar="E", help="Bound on the mean error.")
@click.option("--dist", default=None, metavar="DIST",
              help="Weight the mean error: normal:MEAN,STD, uniform, uniform:LO,HI, "
                   "samples:FILE.npy or hist:FILE.npz (edges, counts).")
@click.option("--interp", type=click.Choice(("any",) + tuple(m.value for m in Interp)),
              default="any", show_default=True)
@click.option("--max-rom-bits", type=int, default=None, metavar="B",
              help="Only designs with at most B ROM bits.")
@click.option("--target", type=click.Choice(("generic", "ice40-up5k", "xc7", "cortex-m", "avr")),
              default="generic", show_default=True,
              help="Where the table goes: the word widths that pack (16-bit iCE40 / 18-bit "
                   "xc7 block RAM ports, 8/16/32-bit MCU words) and the default objective.")
@click.option("--objective", type=click.Choice(("bits", "bytes", "bram", "dsp", "luts")),
              default=None,
              help="Cheapest in ROM bits (packed into the target's words), bytes of the C "
                   "array (MCU: a 17-bit word takes 4 bytes), block RAMs, DSPs, or LUTs "
                   "(Yosys counts the best 3; FPGA targets).  [default: the target's: bram "
                   "on FPGAs, bytes on MCUs, bits for generic]")
@click.option("--json", "as_json", is_flag=True, help="Print {best, candidates} as JSON.")
@click.option("--plot", "plot_file", default=None, metavar="FILE",
              help="Also plot max error vs ROM bits per interpolation (PNG/SVG/PDF).")
def fit_cmd(name, params, expr, derivative, output, in_format, out_format, saturation,
            max_error, mean_error, dist, interp, max_rom_bits, target, objective, as_json,
            plot_file):
    """Find the cheapest table (ROM bits, or C bytes) that meets an error budget.

    Every design is checked by the exhaustive analysis. Exit code 1 if no design
    meets the budget (for instance below the error floor of the output format).

    \b
    Example:
      lutgen fit sigmoid --in-format s16.12 --out-format s16.14 --max-error 1lsb
      lutgen fit gelu --out-format s16.12 --max-error 1e-3 --mean-error 2e-4 --json
      lutgen fit sigmoid --in-format s8.4 --out-format s8.6 --max-error 1lsb --target ice40-up5k
    """
    name = activation_name(name, expr)
    if dist is not None and mean_error is None:
        raise UserError("--dist weights the mean error: give --mean-error with it")
    from .export import build_command
    from .search import fit
    from .targets import resolve

    resolve(target, objective)  # a bad pair fails before the search
    if objective == "luts":
        from .resources import require_tools

        require_tools(place=False)
    progress = fit_progress() if sys.stderr.isatty() else None
    try:
        result = fit(name, expr=expr, params=parse_params(params), derivative=derivative,
                     output=output, in_format=in_format, out_format=out_format,
                     saturation=saturation, max_error=max_error, mean_error=mean_error, dist=dist, interp=interp,
                     max_rom_bits=max_rom_bits, objective=objective, progress=progress,
                     target=target)
    finally:
        if progress is not None:
            click.echo("\r\033[K", nl=False, err=True)  # clear the counter line
    if result.budget.get("objective") == "luts":
        from .resources import rank_by_luts

        result = rank_by_luts(result)
    if plot_file is not None:
        from .plot import plot_pareto

        plot_pareto(result, plot_file)
    if as_json:
        doc = result.to_dict()
        doc["build_command"] = None if result.best is None else build_command(result.best.table)
        echo_json(doc)
    else:
        click.echo(fit_text(result))
    if not result.met:
        raise click.exceptions.Exit(1)


@cli.command("batch")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("-o", "--out-dir", default="hw_out", show_default=True, metavar="DIR")
def batch_cmd(config, out_dir):
    """Build every table of a project file, with a manifest and an error report.

    Writes each table's artifacts, one combined C header, manifest.json (spec,
    effective range, error figures and SHA-256 of every file) and report.md.
    A bad entry names itself (tables[3].out_format: ...) and nothing is written.

    \b
    Example:
      lutgen batch examples/mcu_int8.toml -o hw_out/mcu_int8
    """
    from .batch import compile_project, load_project, write_project

    project = load_project(config)
    for text in project.notes:
        note(text)
    if sys.stdout.isatty():
        with click.progressbar(length=len(project.tables), label="tables") as bar:
            built = compile_project(project, progress=lambda name: bar.update(1))
    else:
        built = compile_project(project)
    paths = write_project(project, built, out_dir)
    for b in built:
        r = b.report
        click.echo(f"{b.name}: {b.table.rom_bits} ROM bits ({b.table.c_bytes} bytes in C), "
                   f"max {up(r.max_error_lsb)} LSB"
                   + (f" (fitted to max {b.budget['max_error']})" if b.fitted else ""))
    click.echo(f"wrote {len(paths)} files to {out_dir}")


@cli.command("verify")
@click.argument("directory", type=click.Path(file_okay=False))
def verify_cmd(directory):
    """Check a build folder against its manifest.json (exit 1 listing what differs).

    Every table is re-compiled from its saved spec and every file re-rendered and
    compared byte for byte; files the manifest does not list, and a missing or
    corrupt manifest, are differences too.

    \b
    Example:
      lutgen verify hw_out/mcu_int8
    """
    from .verify import verify

    problems = verify(directory)
    if problems:
        for p in problems:
            click.echo(p)
        click.echo(f"{len(problems)} difference(s)", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"{directory}: every file and table matches its manifest")


@cli.command("plot")
@table_options
@click.option("-o", "--out-file", "out_file", required=True, metavar="FILE",
              help="The figure to write: .png, .svg or .pdf.")
@click.option("--budget", default=None, metavar="E",
              help="Draw an error budget: a number (1e-3) or output LSBs (1lsb, 0.5lsb).")
def plot_cmd(**kwargs):
    """Plot a table against its reference, and its error in LSBs over every input.

    \b
    Example:
      lutgen plot sigmoid --in-format s8.4 --out-format s8.6 --entries 16 -o sigmoid.png
      lutgen plot gelu --range -4 4 --entries 32 --budget 1lsb -o gelu.svg
    """
    opts, rest = split_options(kwargs)
    from .plot import check_plot_path, plot_table
    from .search import Budget

    check_plot_path(rest["out_file"])  # a bad path fails before the compile
    budget = None if rest["budget"] is None else Budget.parse(rest["budget"])
    table = compile_opts(opts)
    from .analysis import analyze

    path = plot_table(table, rest["out_file"], report=analyze(table),
                      budget_lsb=None if budget is None else budget.in_lsb(table.out_format))
    click.echo(f"wrote {path}")


def main(argv=None):
    """Console-script entry point."""
    return cli.main(args=argv, prog_name="lutgen")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
