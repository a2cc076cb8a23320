"""``lutgen from-onnx``: an ONNX model's activations, as a listing, a batch project and a
model whose activations are the tables (docs/ONNX.md). Imports onnx only when run."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from ._cli_support import UserError, echo_json, note

__all__ = ["COMMANDS", "from_onnx_cmd"]


@click.command("from-onnx")
@click.argument("model", type=click.Path(dir_okay=True))
@click.option("-o", "--out", "project_path", default=None, metavar="PROJECT.toml",
              help="Write the batch project here (histograms beside it). Without -o, only "
                   "the listing.")
@click.option("--calib", default=None, metavar="FILE.npy",
              help="Model input samples (numpy.save): one histogram per activation input, "
                   "and the formats of a float model.")
@click.option("--in-format", default=None, metavar="FORMAT",
              help="Input format of every activation the model does not quantise.")
@click.option("--out-format", default=None, metavar="FORMAT",
              help="Output format of every activation the model does not quantise.")
@click.option("--storage", type=click.Choice(("int8", "uint8", "int16", "uint16")),
              default="int8", show_default=True,
              help="Storage of the formats chosen from --calib for a float model.")
@click.option("--max-error", default="1lsb", show_default=True, metavar="E",
              help="Each table's budget (the cheapest table meeting it is fitted).")
@click.option("--mean-error", default="0.5lsb", show_default=True, metavar="E",
              help="Each table's mean-error budget, weighted by its histogram (with --calib).")
@click.option("--direct", is_flag=True,
              help="Direct tables instead: one entry per input code (correctly rounded, "
                   "the largest).")
@click.option("--write-model", default=None, metavar="OUT.onnx",
              help="Also compile the tables and write the model with each activation "
                   "replaced by a Gather over its table.")
@click.option("--skip-unknown", is_flag=True,
              help="List nonlinear ops in no known activation form instead of failing.")
@click.option("--json", "as_json", is_flag=True, help="Print the listing as JSON.")
def from_onnx_cmd(model, project_path, calib, in_format, out_format, storage, max_error,
                  mean_error, direct, write_model, skip_unknown, as_json):
    """List an ONNX model's activations and write a batch project with one table each.

    Finds plain ops (Sigmoid, Tanh, Gelu, HardSwish, Clip as ReLU6 ...) and the forms
    exporters write out (GELU as Div/Erf/Add/Mul/Mul, SiLU as Sigmoid*x, HardSwish as
    x*HardSigmoid); in a QDQ model each table takes the scales and zero points of the
    DequantizeLinear before and the QuantizeLinear after the activation.

    \b
    Example:
      lutgen from-onnx model_int8.onnx
      lutgen from-onnx model_int8.onnx --calib digits.npy -o tables.toml
      lutgen from-onnx model_int8.onnx -o tables.toml --write-model model_lut.onnx
    """
    from .onnx import (check_lookups, compile_plan, load_calibration, load_model, plan_project,
                       read_model, rewrite_model, write_outputs)

    if project_path is not None and not project_path.endswith(".toml"):
        raise UserError(f"-o {project_path!r}: a project file ends in .toml")
    if write_model is not None and not write_model.endswith(".onnx"):
        raise UserError(f"--write-model {write_model!r}: the model file ends in .onnx")
    proto = load_model(model)
    acts = read_model(proto, skip_unknown=skip_unknown)
    data = None if calib is None else load_calibration(calib)
    stem = Path(project_path).stem if project_path else Path(model).stem
    given = [("--calib", calib), ("--in-format", in_format), ("--out-format", out_format),
             ("--storage", None if storage == "int8" else storage),
             ("--max-error", None if max_error == "1lsb" else max_error),
             ("--mean-error", None if mean_error == "0.5lsb" or calib is None else mean_error),
             ("-o", project_path)]
    given += [("--direct", "")] if direct else []
    command = shlex.join(["lutgen", "from-onnx", model]
                         + [w for k, v in given if v is not None for w in (k, v) if w])
    plan = None
    if project_path is not None or write_model is not None or data is not None \
            or in_format is not None or out_format is not None or direct:
        plan = plan_project(proto, acts, stem=stem, source=model, in_format=in_format,
                            out_format=out_format, storage=storage, max_error=max_error,
                            mean_error=mean_error, calib=data, direct=direct,
                            command=command)
    files, checked = {}, 0
    if write_model is not None:
        tables = [b.table for b in compile_plan(plan, f"{stem}.toml")]
        rewritten = rewrite_model(proto, acts, tables)
        checked = check_lookups(rewritten, acts, tables)
        files[write_model] = rewritten.SerializeToString()
    if project_path is not None:
        folder = Path(project_path).parent
        files = {project_path: plan.text,
                 **{str(folder / n): data for n, data in plan.files.items()}, **files}
    written = write_outputs(files) if files else []
    if as_json:
        echo_json({"model": model, "activations": [a.to_dict() for a in acts],
                   "codes_checked": checked, "written": [str(p) for p in written]})
        return
    for a in acts:
        fmts = ("" if a.in_format is None else
                f"  {a.in_format} -> {a.out_format}"
                + ("" if a.format_source == "model" else f" (from {a.format_source})"))
        click.echo(f"{a.index:>2} {a.name:<20} {a.label:<22} {a.region.form:<34} "
                   f"'{a.region.x}' -> '{a.region.root}'{fmts}")
    if checked:
        click.echo(f"  checked in ONNX Runtime: each Gather equals eval_int on every input code "
                   f"({checked} codes, {len(acts)} tables)")
    for p in written:
        click.echo(f"  wrote {p}")
    if plan is None and any(a.in_format is None or a.out_format is None for a in acts):
        note("a float model: give --calib FILE.npy (formats from the data) or "
             "--in-format/--out-format to write a project")


COMMANDS = [from_onnx_cmd]
