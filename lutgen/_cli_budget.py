"""``lutgen budget``: the model-level budget of a PyTorch or ONNX model on the command line.

Imports no torch (nor onnx) until the command runs (``lutgen --help`` stays fast and works
without the extras); without PyTorch (or onnx and onnxruntime) the command says how to
install them.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from ._cli_support import UserError, echo_json
from ._text import up

__all__ = ["budget_cmd"]


def _named_formats(values, flag: str) -> dict:
    out = {}
    for item in values:
        name, sep, fmt = item.partition("=")
        if not sep or not name.strip() or not fmt.strip():
            raise UserError(f"{flag} {item!r} must be written MODULE=FORMAT, "
                            f"e.g. {flag} 1='int8(0.04,-15)'")
        out[name.strip()] = fmt.strip()
    return out


def _ladder(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or not all(v > 0 and v != float("inf") for v in values):
        raise UserError(f"--ladder {text!r} must list positive LSB budgets, e.g. "
                        "0.5,1,2,4,8,16")
    return values


def _load_array(path: str, flag: str):
    import numpy as np

    try:
        x = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise UserError(f"{flag} {path!r} does not exist") from None
    except (OSError, ValueError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or "not a .npy array"
        raise UserError(f"cannot read {flag} {path!r}: {reason}") from None
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "iuf" or x.ndim == 0 or not len(x):
        raise UserError(f"{flag} {path!r} must hold a numeric array of samples "
                        "(the first axis: one per sample)")
    return x


@click.command("budget")
@click.option("--torch", "model_path", default=None, metavar="MODEL.pt",
              help="A whole nn.Module saved with torch.save(model, PATH) (not TorchScript, "
              "not a state_dict). Loading unpickles it: only files you trust.")
@click.option("--onnx", "onnx_path", default=None, metavar="MODEL.onnx",
              help="An ONNX model (QDQ int8/int16 or float), run in ONNX Runtime; its "
              "activations named as `lutgen from-onnx` lists them (gelu_1, ...).")
@click.option("--write-model", default=None, metavar="OUT.onnx",
              help="With --onnx: also write the model with the chosen tables as Gather "
              "lookups.")
@click.option("--calib", "calib_path", required=True, metavar="X.npy",
              help="Calibration inputs: observe the formats not given.")
@click.option("--eval", "eval_path", required=True, metavar="X.npy",
              help="Evaluation inputs: every combination is judged on them.")
@click.option("--labels", "labels_path", default=None, metavar="Y.npy",
              help="Labels of the evaluation inputs: the accuracy is reported.")
@click.option("--min-agreement", type=float, default=None, metavar="PCT",
              help="Top-1 agreement with the unmodified model, in percent, e.g. 99.5.")
@click.option("--max-logit-dev", type=float, default=None, metavar="Y",
              help="Bound on the max absolute deviation of the model's outputs.")
@click.option("--mean-logit-dev", type=float, default=None, metavar="Y",
              help="Bound on the mean absolute deviation of the model's outputs.")
@click.option("--module", "modules", multiple=True, metavar="NAME",
              help="An activation module to replace (repeatable) [default: every one]; "
              "ONNX: a name from-onnx lists, e.g. gelu_1.")
@click.option("--in-format", "in_formats", multiple=True, metavar="MODULE=FORMAT",
              help="A module's input format (repeatable) [default: observed].")
@click.option("--out-format", "out_formats", multiple=True, metavar="MODULE=FORMAT",
              help="A module's output format (repeatable) [default: observed].")
@click.option("--storage", type=click.Choice(("int8", "uint8", "int16", "uint16")),
              default="int8", show_default=True,
              help="Storage of the formats PyTorch's MinMaxObserver picks (ONNX: of those "
              "chosen from --calib for sides the model does not quantise).")
@click.option("--ladder", default="0.5,1,2,4,8,16,32", show_default=True, metavar="LSBS",
              help="The error budgets (output LSBs) each table is fitted to.")
@click.option("--objective", type=click.Choice(("bits", "bytes")), default="bits",
              show_default=True, help="Fewest ROM bits, or fewest bytes of the C arrays.")
@click.option("--search", type=click.Choice(("auto", "greedy", "exhaustive")),
              default="auto", show_default=True,
              help="auto: exhaustive up to 4096 combinations, else greedy.")
@click.option("--saturation", type=click.Choice(("allowed", "counted")), default="allowed",
              show_default=True, help="Whether clipping to the output format counts as "
              "table error (calibrated formats clip deliberately).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, metavar="N",
              help="Run the model on N samples at a time [default: all at once].")
@click.option("-o", "--out", "out_path", required=True, metavar="PROJECT.toml",
              help="The project to write; the report goes next to it (.budget.json, .budget.md).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def budget_cmd(model_path, onnx_path, write_model, calib_path, eval_path, labels_path, min_agreement, max_logit_dev,
               mean_logit_dev, modules, in_formats, out_formats, storage, ladder, objective,
               search, saturation, batch_size, out_path, as_json):
    """The cheapest tables a PyTorch or ONNX model can afford, judged on its outputs.

    Replaces each activation (GELU, SiLU, Sigmoid, Tanh, ...) by a table
    fitted at each error budget of --ladder, and finds the combination with the
    fewest ROM bits that keeps the criterion against the unmodified model, running
    the model with the tables substituted bit-exactly. Writes a `lutgen batch`
    project of the chosen tables and a report (JSON, Markdown) next to it.
    Exit code 1, writing nothing, if even the most accurate tables break it.

    \b
    Example:
      lutgen budget --torch mlp.pt --calib xc.npy --eval xe.npy --min-agreement 99.5 -o mlp.toml
      lutgen budget --torch mlp.pt --calib xc.npy --eval xe.npy --max-logit-dev 0.5 -o mlp.toml
      lutgen budget --onnx mlp_int8.onnx --calib xc.npy --eval xe.npy --min-agreement 99.5 \\
        -o mlp.toml --write-model mlp_lut.onnx
    """
    from .model_report import budget_paths

    if (model_path is None) == (onnx_path is None):
        raise UserError("give one model: --torch MODEL.pt or --onnx MODEL.onnx"
                        + (", not both" if model_path is not None else ""))
    if write_model is not None and onnx_path is None:
        raise UserError("--write-model writes an ONNX model: it needs --onnx MODEL.onnx")
    if write_model is not None and not write_model.endswith(".onnx"):
        raise UserError(f"--write-model {write_model!r}: the model file ends in .onnx")
    if write_model is not None and not (Path(write_model).parent or Path(".")).is_dir():
        raise UserError(f"--write-model {write_model!r}: folder "
                        f"{str(Path(write_model).parent)!r} does not exist")
    budget_paths(out_path)  # a bad path fails before the work
    if min_agreement is None and max_logit_dev is None and mean_logit_dev is None:
        raise UserError("give a criterion: --min-agreement PCT, --max-logit-dev Y or "
                        "--mean-logit-dev Y")
    rungs = _ladder(ladder)
    ins, outs = _named_formats(in_formats, "--in-format"), _named_formats(out_formats,
                                                                          "--out-format")
    calib = _load_array(calib_path, "--calib")
    x_eval = _load_array(eval_path, "--eval")
    labels = None if labels_path is None else _load_array(labels_path, "--labels")
    formats = {n: (ins.get(n), outs.get(n)) for n in {**ins, **outs}}
    options = dict(labels=labels, formats=formats, modules=list(modules) or None,
                   min_agreement=min_agreement, max_logit_dev=max_logit_dev,
                   mean_logit_dev=mean_logit_dev, ladder=rungs, objective=objective,
                   storage=storage, saturation=saturation, search=search,
                   batch_size=batch_size)
    if onnx_path is not None:
        from .onnx import load_model as load_onnx
        from .onnx_budget import onnx_budget

        proto = load_onnx(onnx_path)
        result = onnx_budget(proto, calib, x_eval, **options)
    else:
        result = _torch_budget(model_path, calib_path, eval_path, calib, x_eval, options)
    from .model_report import write_budget

    command = "lutgen budget " + shlex.join(
        (["--torch", model_path] if onnx_path is None else ["--onnx", onnx_path])
        + ["--calib", calib_path, "--eval", eval_path]
        + (["--labels", labels_path] if labels_path else [])
        + sum(([flag, str(v)] for flag, v in (("--min-agreement", min_agreement),
              ("--max-logit-dev", max_logit_dev), ("--mean-logit-dev", mean_logit_dev))
               if v is not None), [])
        + sum((["--module", m] for m in modules), [])
        + sum((["--in-format", f] for f in in_formats), [])
        + sum((["--out-format", f] for f in out_formats), [])
        + ["--storage", storage, "--ladder", ladder, "--objective", objective,
           "--search", search, "--saturation", saturation, "-o", out_path]
        + (["--write-model", write_model] if write_model else []))
    model_bytes = None
    if result.met and write_model is not None:  # rendered and checked before anything is written
        from .onnx import check_lookups, write_outputs
        from .onnx_budget import chosen_model

        rewritten, acts = chosen_model(proto, result)
        check_lookups(rewritten, acts, [c.table for c in result.choices])
        model_bytes = rewritten.SerializeToString()
    paths = write_budget(result, out_path, command=command) if result.met else []
    if model_bytes is not None:
        paths += write_outputs({write_model: model_bytes})
    if as_json:
        echo_json(result.to_dict())
    else:
        for c in result.choices:
            t = c.table
            click.echo(f"{c.name}: {t.in_format} -> {t.out_format}, {t.entries} entries "
                       f"{t.interp.value}, {t.rom_bits} ROM bits ({t.c_bytes} bytes in C), "
                       f"max {up(c.report.max_error_lsb)} LSB (fitted to {c.budget_lsb:g}); "
                       f"alone: agreement {c.alone.agreement:.2f} %")
        f = result.figures
        acc = "" if f.accuracy is None else (f", accuracy {f.accuracy:.2f} % (unmodified "
                                             f"{result.unmodified_accuracy:.2f} %)")
        click.echo(f"model: agreement {f.agreement:.2f} %, max output deviation "
                   f"{f.max_logit_dev:.4g}, mean {f.mean_logit_dev:.4g}{acc}")
        click.echo(f"total: {result.rom_bits} ROM bits, {result.c_bytes} C bytes; "
                   f"{result.evaluations} model runs ({result.search} search)")
        if paths:
            click.echo("wrote " + ", ".join(str(p) for p in paths))
    if not result.met:
        click.echo(f"no combination keeps {result.criterion}: even the most accurate tables "
                   f"(above) give agreement {result.floor.agreement:.2f} %, max output "
                   f"deviation {result.floor.max_logit_dev:.4g}; nothing written (relax the "
                   "criterion or widen the formats)", err=True)
        raise click.exceptions.Exit(1)


def _torch_budget(model_path, calib_path, eval_path, calib, x_eval, options):
    try:
        from .model_budget import check_runs, load_model, model_budget
    except ModuleNotFoundError as exc:
        if exc.name != "torch":
            raise
        raise UserError("lutgen budget needs PyTorch: pip install 'lutgen[torch]'") from None
    model = load_model(model_path)
    check_runs(model, calib, f"--calib {calib_path!r}")
    check_runs(model, x_eval, f"--eval {eval_path!r}")
    return model_budget(model, calib, x_eval, **options)
