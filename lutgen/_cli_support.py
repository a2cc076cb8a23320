"""What the ``lutgen`` commands share: the one-line errors, the table options generated
from :data:`lutgen.spec.OPTIONS`, and the text the commands print.

Every :class:`~lutgen.errors.LutgenError` becomes one ``Error: ...`` line on
stderr and exit code 2.
"""

from __future__ import annotations

import json
import sys

import click

from . import _json
from ._text import OUTPUT_ARITHMETIC, up, up_sig
from .errors import LutgenError
from .spec import OLD_NAMES

class UserError(click.ClickException):
    """A user mistake: ``Error: <message>`` on stderr, exit code 2."""

    exit_code = 2


class LutgenGroup(click.Group):
    """Every mistake, the library's or click's own, as one ``Error:`` line.

    Library errors become :class:`UserError`; click's usage errors (a bad option
    value, a missing argument) print no usage block: the hint to ``--help`` goes
    on the same line.
    """

    routes: dict = {}  # NAME -> {command: click command}: `lutgen build softmax` is no table

    def resolve_command(self, ctx, args):
        if len(args) >= 2 and args[0] in self.routes.get(args[1], {}):
            return f"{args[0]} {args[1]}", self.routes[args[1]][args[0]], args[2:]
        return super().resolve_command(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except LutgenError as exc:
            raise UserError(str(exc)) from None
        except RecursionError:  # input nested past what any reader of it expects
            raise UserError(f"the input of 'lutgen {ctx.invoked_subcommand}' is nested too "
                            "deeply to read; flatten it") from None
        except MemoryError:
            raise UserError(f"'lutgen {ctx.invoked_subcommand}' ran out of memory; use a "
                            "narrower input format") from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # plain `lutgen`: its help
            click.echo(exc.ctx.get_help() if exc.ctx else "")
            rv = 0
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            click.echo(f"Error: {exc.format_message()}{hint}", err=True)
            rv = 2
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            rv = exc.exit_code
        except click.Abort:
            click.echo("Aborted!", err=True)
            rv = 1
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


def echo_json(obj) -> None:
    click.echo(_json.dumps(obj, indent=2))


# ---- table options, shared by build / analyze / eval --------------------------------------
def parse_params(values) -> dict:
    params = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"parameter {item!r} must be written KEY=VALUE, e.g. -p alpha=0.1")
        params[key.strip()] = value.strip()
    return params


def click_option(o):
    """The click option of one entry of :data:`lutgen.spec.OPTIONS`."""
    shown = o.default.value if hasattr(o.default, "value") else o.default
    help_text = o.help + (f"  [default: {shown}]" if shown not in (None, False) else "")
    if o.kind == "bool":
        return click.option(o.flag, o.name, is_flag=True, default=None, help=help_text)
    if o.kind == "choice":
        extra = {"type": click.Choice([m.value for m in o.choices])}
    else:
        extra = {"int": {"type": int}, "range": {"type": (float, float), "metavar": "LO HI"},
                 "format": {"metavar": "FORMAT"}, "text": {"metavar": o.name.upper()},
                 "stages": {"metavar": "N|max"}, "shifts": {"metavar": "S0,S1,..."}}[o.kind]
    return click.option(o.flag, o.name, default=None, help=help_text, **extra)


def table_options(fn=None, *, only=None):
    """The options naming a table: NAME, -p/--param, --points and one per table option.

    Generated from :data:`lutgen.spec.OPTIONS` (``only``: a subset of its names);
    every default is None here, so what the user gave is known (the spec fills
    in the defaults).
    """
    from .spec import OPTIONS

    if fn is None:
        return lambda f: table_options(f, only=only)
    options = [
        click.argument("name", required=False),
        click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
                     help="An activation parameter (repeatable), e.g. -p alpha=0.1."),
    ]
    if only is None:
        options.append(click.option(
            "--points", type=click.Path(dir_okay=False), default=None, metavar="FILE",
            help="Points of the 'lut' activation: a CSV (x,y per line) or NPY file."))
    options += [click_option(o) for o in OPTIONS if o.name not in ("activation", "params")
                and (only is None or o.name in only)]
    if only is None:
        options += [click.option(f"--{old}", old, default=None, hidden=True)
                    for old in OLD_NAMES]
    for option in reversed(options):
        fn = option(fn)
    return fn


def activation_name(name, expr):
    """NAME, or the name of an --expr table: exactly one of them."""
    if expr is not None:
        if name is not None:
            raise UserError(f"give an activation NAME or --expr, not both (got {name!r} and --expr)")
        return "expr"
    if name is None:
        raise UserError("missing activation NAME (or --expr); run 'lutgen list' to see them")
    return name


def note(text: str) -> None:
    click.echo(f"note: {text}", err=True)


def table_spec(opts):
    """The validated spec of the table options (old option names read with a note)."""
    from .spec import make_spec, rename_old

    opts = rename_old({k: v for k, v in opts.items() if v is not None}, note)
    name = activation_name(opts.pop("name", None), opts.get("expr"))
    params = parse_params(opts.pop("params", ()))
    points = opts.pop("points", None)
    if points is not None:
        from .activations import get, load_points

        if get(name).name != "lut":
            raise UserError(f"--points feeds the 'lut' activation, not {name!r}")
        params["xs"], params["ys"] = load_points(points)
    return make_spec(name, params=params, **opts)


def compile_opts(opts):
    from .table import build

    return build(table_spec(opts))


def table_keys():
    from .spec import OLD_NAMES, OPTIONS

    return ("name", "points", *(o.name for o in OPTIONS if o.name != "activation"), *OLD_NAMES)


def split_options(kwargs):
    return {k: kwargs.pop(k) for k in table_keys()}, kwargs


def summary(table, report) -> str:
    lo, hi = table.range
    lines = [
        f"{table.name}: {table.spec.activation}"
        + (" derivative" if table.spec.derivative else "")
        + f", {table.in_format} -> {table.out_format} ({OUTPUT_ARITHMETIC}), "
        f"range [{lo:g}, {hi:g}), "
        f"{table.entries} entries, {table.interp.value}"
        + (f", fold {table.fold.value}" if table.fold else ""),
        f"  stored {table.values.size} x {table.store_bits} bits = {table.rom_bits} ROM bits "
        f"({table.c_bytes} bytes in C), guard bits {table.guard_bits}, tails "
        + ", ".join(t.mode if t else "none" for t in table.tails),
        f"  max error {up(report.max_error_lsb)} LSB ({up_sig(report.max_abs_error)}), "
        f"mean {report.mean_error_lsb:.4f} LSB, floor {up(report.floor_max_error_lsb)} LSB, "
        + ("faithful" if report.faithful else "not faithful")
        + f", {'exhaustive' if report.exhaustive else 'sampled'} over {report.n_inputs} inputs",
    ]
    if table.regions is not None:
        lines.append("  " + layout_line(table))
    if report.saturation == "allowed":
        lines.append(saturation_line(table, report, "  "))
    lines += [f"  note: {n}" for n in table.notes]
    return "\n".join(lines)


def layout_line(table) -> str:
    """A hierarchical table's regions in words."""
    return "layout: " + table.regions.describe(
        table.lo_code, lambda c: table.in_format.codes_to_real(c)) + (
        " (x < 0 mirrored)" if table.fold else "")


def saturation_line(table, report, indent: str) -> str:
    fout = table.out_format
    return (f"{indent}saturation allowed: errors against the reference clipped to "
            f"[{fout.min:g}, {fout.max:g}]; against the reference itself: max "
            f"{up(report.unclipped_max_error_lsb)} LSB, mean "
            f"{report.unclipped_mean_error_lsb:.4f} LSB, floor "
            f"{up(report.unclipped_floor_max_error_lsb)} LSB")


def load_saved(path, opts, rest):
    """The table, emit kinds and name saved in a <name>.json by `lutgen build`."""
    given = [k for k, v in opts.items() if v not in (None, ())]
    if given or rest["table_name"] is not None or rest["emit"] is not None:
        what = f"--{given[0].replace('_', '-')}" if given else (
            "--name" if rest["table_name"] is not None else "--emit")
        raise UserError(f"--from rebuilds exactly what the file says; drop {what} (give no "
                        "table options, --name or --emit with it)")
    from .table import TableSpec, build

    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        if not isinstance(doc, dict) or not isinstance(doc.get("table"), dict):
            raise ValueError("no 'table' object")
        spec = TableSpec.from_dict(doc["table"]["spec"], note=note)
        source = _knot_source(doc["table"].get("knots_from"))
        kinds, name = doc.get("emit", ["json"]), doc["name"]
        if not isinstance(name, str) or not isinstance(kinds, list) or not all(
                isinstance(k, str) for k in kinds):
            raise ValueError("'name' must be text and 'emit' a list of kinds")
    except FileNotFoundError:
        raise UserError(f"--from file {path!r} does not exist") from None
    except LutgenError as exc:
        raise UserError(f"--from file {path!r}: {exc}") from None
    except RecursionError:
        raise UserError(f"--from file {path!r} nests too deeply to be a lutgen table file") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"--from file {path!r} is not a lutgen table file ({exc})") from None
    if "json" not in kinds:
        kinds = [*kinds, "json"]  # the saved spec is always written
    if source is not None:  # a sigmoid reading a tanh table's knots: rebuilt from the tanh's
        return source, kinds, name
    return build(spec), kinds, name


def _knot_source(saved):
    """The table a saved ``knots_from`` names, rebuilt from its spec (None: none named)."""
    if saved is None:
        return None
    from .shared import sigmoid_from_tanh
    from .table import TableSpec, build

    if not isinstance(saved, dict) or not isinstance(saved.get("name"), str):
        raise ValueError("'knots_from' must name the table and hold its spec")
    return sigmoid_from_tanh(build(TableSpec.from_dict(saved["spec"], note=note)),
                             name=saved["name"])


def fit_progress():
    """A one-line counter on stderr: a 24-bit fit measures designs for minutes."""
    def show(n: int) -> None:
        click.echo(f"\rfit: {n} designs measured", nl=False, err=True)

    return show


def fit_text(result) -> str:
    lines = []
    budget = result.budget
    asked = f"max error < {budget.get('max_error', f'{result.budget_lsb:g}lsb')}"
    if budget.get("mean_error"):
        asked += f", mean error < {budget['mean_error']}"
        asked += f" (weighted by {budget['dist']})" if budget.get("dist") else ""
    if budget.get("max_rom_bits"):
        asked += f", at most {budget['max_rom_bits']} ROM bits"
    objective = _objective_text(budget.get("objective"), result.target)
    fpga = result.target in ("ice40-up5k", "xc7")
    if result.met:
        lines.append(f"best design (fewest {objective}) meeting {asked} "
                     f"({result.budget_lsb:.4g} LSB):")
    elif result.best is None:
        lines.append(f"no design meets {asked}: no table fits in "
                     f"{budget.get('max_rom_bits')} ROM bits")
    else:
        lines.append(
            f"no design meets the budget of {result.budget_lsb:.4g} LSB ({asked}); the error "
            f"floor of the output format is {up(result.floor_max_error_lsb)} LSB. Closest found "
            "(the smallest error, at the least cost):"
        )
    weighted = budget.get("dist") is not None
    docs = [d.to_dict() for d in result.candidates]
    ranges = [f"[{x['range'][0]!r}, {x['range'][1]!r})" for x in docs]  # as build --range
    width = max([24, *map(len, ranges)])
    header = (f"  {'entries':>7} {'interp':<7} {'fold':<5} {'coeffs':<7} {'G':>2} "
              f"{'range':<{width}} {'ROM bits':>8} {'C bytes':>7} {'max LSB':>8} {'mean LSB':>8}"
              + (f" {'dist mean':>9}" if weighted else "")
              + (f" {'BRAM':>4} {'DSP':>3}" if fpga else "")
              + (f" {'LUTs':>5}" if result.luts else ""))
    if result.candidates:
        lines.append(header)
    for i, (x, rng) in enumerate(zip(docs, ranges)):
        line = (
            f"{'*' if i == 0 else ' '} {x['entries']:>7} {x['interp']:<7} "
            f"{'yes' if x['fold'] else 'no':<5} {x['coeffs']:<7} {x['guard_bits']:>2} "
            f"{rng:<{width}} "
            f"{x['rom_bits']:>8} {x['c_bytes']:>7} {up(x['max_error_lsb']):>8} "
            f"{x['mean_error_lsb']:>8.4f}"
        )
        if weighted:
            line += f" {x['weighted_mean_error_lsb']:>9.4f}"
        cost = result.cost(result.candidates[i])
        if fpga:
            line += f" {cost['brams']:>4} {cost['dsps']:>3}"
        if result.luts:
            line += f" {cost['luts'] if cost.get('luts') is not None else '-':>5}"
        lines.append(line)
    if result.best is not None:
        from .export import build_command

        if result.best.report.saturation == "allowed":
            lines.append(saturation_line(result.best.table, result.best.report, "* "))
        if result.best.table.regions is not None:
            lines.append("* " + layout_line(result.best.table))
        lines.append(f"build it: {build_command(result.best.table)}")
    return "\n".join(lines)


def _objective_text(objective, target) -> str:
    """What 'cheapest' meant, in the words of the fit's header line."""
    from .targets import get_target

    t = get_target(target)
    where = "" if t.kind == "generic" else f" on {t.name}"
    return {"bytes": "C bytes", "bram": f"{t.bram} block RAMs, then {t.dsp} DSPs",
            "dsp": f"{t.dsp} DSPs, then {t.bram} block RAMs",
            "luts": "LUTs counted by Yosys (3 best in packed bits)"}.get(
        objective, "ROM bits" + (" packed into the target's words" if where else "")) + where
