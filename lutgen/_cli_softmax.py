"""``lutgen build|eval|analyze softmax``: the composite softmax on the command line.

The group routes ``lutgen <command> softmax ...`` here (``LutgenGroup.resolve_command``):
softmax is no element-wise table, so it has its own options (``--n``, the tables'
fraction bits) instead of the table options. Imports no numba until a command runs.
"""

from __future__ import annotations

import click

from ._cli_support import UserError, echo_json

__all__ = ["COMMANDS", "SOFTMAX_KINDS"]

SOFTMAX_KINDS = ("c", "verilog", "tb", "hls", "json")


def _softmax_options(fn):
    options = [
        click.option("--n", "n", type=int, required=True, metavar="N",
                     help="The vector length (1..65536)."),
        click.option("--in-format", default="s16.12", show_default=True, metavar="F",
                     help="Input format (power-of-two): s16.12, ap_fixed<16,6>..."),
        click.option("--out-format", default=None, metavar="F",
                     help="Output format [default: the input format]."),
        click.option("--exp-frac", type=int, default=None, metavar="FE",
                     help="Fraction bits of the exp(-d) table's output [default: Fo + 4]."),
        click.option("--recip-frac", type=int, default=None, metavar="FR",
                     help="Fraction bits of the 1/(1+f) table's output [default: Fo + 4]."),
        click.option("--mantissa-bits", type=int, default=None, metavar="M",
                     help="Bits of the normalised sum's mantissa [default: Fo + 6]."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _compile(kw, pipeline=None):
    from .softmax import softmax

    return softmax(kw.pop("n"), kw.pop("in_format"), kw.pop("out_format"),
                   exp_frac=kw.pop("exp_frac"), recip_frac=kw.pop("recip_frac"),
                   mantissa_bits=kw.pop("mantissa_bits"), pipeline=pipeline)


def _load_vectors(path: str, n: int):
    import numpy as np

    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or "not a .npy file of numbers"
        raise UserError(f"cannot read --vectors {path!r}: {reason}") from None
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "iuf":
        raise UserError(f"--vectors {path!r} must hold real logits (a numeric array), "
                        f"not {getattr(x, 'dtype', type(x).__name__)}")
    from .softmax import MAX_N
    from .softmax_analysis import check_vectors

    return check_vectors(n, x) if 1 <= n <= MAX_N else x  # a bad N: softmax() names it


@click.command("build")
@_softmax_options
@click.option("-o", "--out-dir", default="hw_out", show_default=True, metavar="DIR",
              help="Where the artifacts go.")
@click.option("--emit", default="json", show_default=True, metavar="KINDS",
              help="Comma-separated: c, verilog (with its .mem files), tb (an Icarus testbench "
                   "over stored vectors; brings verilog), hls (hls4ml's softmax signature), "
                   "json (always written).")
@click.option("--name", default="softmax", show_default=True, help="Name in files and symbols.")
@click.option("--pipeline", default=None, metavar="P",
              help="Verilog pipeline stages of both tables' modules, 2..16 or max "
                   "[default: 2]; the softmax's latency is 2 ceil(log2 N) + Le + Lr + 4.")
def build_softmax(**kw):
    """Compile a softmax (an exp table, a reciprocal table and integer glue) and write it.

    \b
    Example:
      lutgen build softmax --n 10 --in-format 'ap_fixed<16,6>' --out-format 'ap_fixed<16,6>' \\
        -o hw_out --emit c,verilog,tb,json
    """
    from .export import identifier, write_artifacts
    from .export import softmax_hls, softmax_testbench, softmax_verilog
    from .export.softmax_c import render, render_json

    kinds = [k.strip().lower() for k in kw.pop("emit").split(",") if k.strip()]
    bad = [k for k in kinds if k not in SOFTMAX_KINDS]
    if bad or not kinds:
        raise UserError(f"unknown --emit kind {bad[0] if bad else ''!r} for softmax; "
                        f"allowed: {', '.join(SOFTMAX_KINDS)}")
    if "tb" in kinds and "verilog" not in kinds:
        kinds.append("verilog")  # the testbench runs the module: never one without
    kinds = list(dict.fromkeys(kinds + ["json"]))
    name = identifier(kw.pop("name"))
    out_dir = kw.pop("out_dir")
    pipeline = kw.pop("pipeline")
    sm = _compile(kw, None if pipeline is None else
                  int(pipeline) if pipeline.strip().isdigit() else pipeline.strip())
    artifacts = render_json(sm, name, kinds) + (render(sm, name) if "c" in kinds else [])
    if "verilog" in kinds:
        artifacts += softmax_verilog.render(sm, name)
    if "tb" in kinds:
        artifacts += softmax_testbench.render(sm, name)
    if "hls" in kinds:
        artifacts += softmax_hls.render(sm, name)
    paths = write_artifacts(artifacts, out_dir)
    click.echo(f"softmax N={sm.n}: {sm.in_format} -> {sm.out_format}; exp "
               f"{sm.exp_table.entries} entries {sm.exp_table.interp.value}, recip "
               f"{sm.recip_table.entries} entries {sm.recip_table.interp.value}; "
               f"rom_bits {sm.rom_bits}")
    for path in paths:
        click.echo(f"  wrote {path}")


@click.command("eval")
@_softmax_options
@click.option("--vectors", required=True, metavar="FILE.npy",
              help="Real logits, shape (count, N), quantised with the input format.")
@click.option("--json", "as_json", is_flag=True, help="Print the codes as a JSON list of lists.")
def eval_softmax(**kw):
    """Output codes of softmax for every logit vector of FILE.npy.

    \b
    Example:
      lutgen eval softmax --n 10 --in-format 'ap_fixed<16,6>' --vectors logits.npy --json
    """
    x = _load_vectors(kw.pop("vectors"), kw["n"])
    as_json = kw.pop("as_json")
    sm = _compile(kw)
    codes = sm.eval_int(sm.quantize(x))
    if as_json:
        echo_json(codes.tolist())
        return
    for row in codes.tolist():
        click.echo(" ".join(str(c) for c in row))


@click.command("analyze")
@_softmax_options
@click.option("--vectors", default=None, metavar="FILE.npy",
              help="Real logits, shape (count, N) [default: random, see --dist].")
@click.option("--dist", "dists", multiple=True, metavar="normal:MU,SIGMA",
              help="Random logits (repeatable) [default: normal:0,0.1 normal:0,1 normal:0,3].")
@click.option("--count", type=int, default=100_000, show_default=True,
              help="Vectors per distribution.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def analyze_softmax(**kw):
    """Argmax flips (and their floor), reorderings, errors and sums of softmax on vectors.

    \b
    Example:
      lutgen analyze softmax --n 10 --in-format 'ap_fixed<16,6>' --dist normal:0,3 --json
    """
    from .softmax_analysis import DEFAULT_DISTS, analyze_softmax as analyze

    path, dists, as_json = kw.pop("vectors"), kw.pop("dists"), kw.pop("as_json")
    count, seed = kw.pop("count"), kw.pop("seed")
    vectors = None if path is None else _load_vectors(path, kw["n"])
    sm = _compile(kw)
    report = analyze(sm, vectors, dists=dists or DEFAULT_DISTS, count=count, seed=seed)
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(report.to_markdown(), nl=False)


COMMANDS = {"build": build_softmax, "eval": eval_softmax, "analyze": analyze_softmax}
