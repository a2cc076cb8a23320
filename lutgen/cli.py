"""The ``lutgen`` command line: parses, calls the library, formats.

Every :class:`~lutgen.errors.LutgenError` becomes one ``Error: ...`` line on
stderr and exit code 2.
"""

from __future__ import annotations

import json
import sys

import click

from . import __version__
from .activations import CATEGORIES, activations, get
from .errors import LutgenError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class UserError(click.ClickException):
    """A user mistake: ``Error: <message>`` on stderr, exit code 2."""

    exit_code = 2


class LutgenGroup(click.Group):
    """Turns library errors raised inside any command into :class:`UserError`."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except LutgenError as exc:
            raise UserError(str(exc)) from None


def _echo_json(obj) -> None:
    click.echo(json.dumps(obj, indent=2, sort_keys=False))


@click.group(cls=LutgenGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="lutgen")
def cli():
    """Compile activation functions into bit-exact fixed-point lookup tables.

    \b
    Example:
      lutgen list --category relu
      lutgen show gelu
    """


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
        _echo_json([a.to_dict() for a in acts])
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
        _echo_json(info)
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
        + (f" about (0, {info['center']:g})" if info["symmetry"] == "point" else ""),
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


def main(argv=None):
    """Console-script entry point."""
    return cli.main(args=argv, prog_name="lutgen")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
