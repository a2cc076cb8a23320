"""One knot array, two functions: a sigmoid table that reads a tanh table's knots.

``sigmoid(x) - 1/2 = tanh(x/2) / 2``, so a folded linear tanh table over ``u``,
read over ``x = 2u`` (every segment twice as many input codes: each region's
shift plus one, its starts doubled) with one more guard bit (the halving) and
the sigmoid's stored centre ``E`` (docs/ARITHMETIC.md step 5), is a sigmoid
table of the same formats whose knots are the tanh table's first words, word for
word. Nothing of the integer pipeline changes: the sigmoid is an ordinary table
whose ``T`` happens to be a prefix of the tanh's (docs/ARITHMETIC.md, "Shared
knots"). The C and HLS headers of such a table read the tanh's array, and its
Verilog module computes both functions from the tanh's knot banks; whether the
tanh's knots also make a good sigmoid is the analysis' to say, on every input.

>>> from lutgen import compile_table
>>> th = compile_table("tanh", in_format="s8.4", out_format="s8.6", range=(-4, 4),
...                    fold=True, entries=16, tails="clamp")
>>> sig = sigmoid_from_tanh(th)
>>> sig.shift - th.shift, sig.guard_bits - th.guard_bits, sig.rom_bits
(1, 1, 0)
>>> bool((sig.values == th.values[:sig.values.size]).all())
True
"""

from __future__ import annotations

import dataclasses

from . import _entries
from .errors import SpecError
from .regions import Regions, format_regions
from .spec import Fold, Interp
from .table import Table, compile_table

__all__ = ["sigmoid_from_tanh"]


def sigmoid_from_tanh(tanh: Table, name: str | None = None) -> Table:
    """The sigmoid table of ``tanh``'s formats whose knots are ``tanh``'s first words.

    ``tanh``: a folded linear table of tanh (not its derivative) between power-of-two
    formats. The sigmoid covers the input format's range where ``tanh``'s table does
    (``x = 2u``), cut at a knot; past it a clamp tail holds the last knot. ``name``: what
    ``tanh`` is exported as (its C array is ``lutgen_<name>_table``; default its own name).
    Raises :class:`~lutgen.errors.SpecError` naming what does not fit.
    """
    _check_source(tanh)
    fin, fout = tanh.in_format, tanh.out_format
    pairs = _pairs(tanh)
    end = -fin.min_code // 2  # the sigmoid's x = 2u ends at the input format's end: u = end
    kept, top = [], 0
    for s, c in pairs:
        if top + (c << s) > end:  # the run passes the end: cut it at its last knot before
            c = (end - top) >> s
        if c == 0:  # the clamp tail takes over from here
            break
        kept.append((s + 1, c))
        top += c << s
    if not kept:
        raise SpecError("the tanh table's first segment passes half the input range; its "
                        "knots cannot serve a sigmoid")
    hi = fin.codes_to_real(2 * top)
    regions = format_regions(kept)
    try:
        view = compile_table("sigmoid", in_format=str(fin), out_format=str(fout),
                             range=(-float(hi), float(hi)), fold=True, tails="clamp",
                             regions=regions, guard_bits=tanh.guard_bits + 1,
                             # one module reads the one ROM (lutgen.export.verilog): its style
                             # and the pipeline setting are the tanh's
                             pipeline=tanh.spec.pipeline, rom_style=tanh.spec.rom_style)
    except SpecError as exc:
        raise SpecError(f"the sigmoid over the tanh table's knots ({regions}): {exc}") from None
    words = view.values.size  # the sigmoid's knots, sampled on this very layout
    if view.hi_code != 2 * top or words > tanh.values.size:
        raise AssertionError("the sigmoid's layout is not the tanh's, doubled")  # pragma: no cover
    values = tanh.values[:words]
    source = name if name is not None else tanh.name
    acc = _entries.acc_bits(values, view.layout, view.tails, view.fold_f)
    return dataclasses.replace(
        view, values=values, store_bits=tanh.store_bits, store_signed=tanh.store_signed,
        acc_bits=max(acc, view.acc_bits), knots_of=tanh,
        knots_name=source,
        notes=(*view.notes, f"knots: the first {words} words of the tanh table '{source}' "
                            "(sigmoid(x) = 1/2 + tanh(x/2)/2)"))


def _check_source(tanh: Table) -> None:
    spec = tanh.spec
    if spec.act.name != "tanh" or spec.expr is not None or spec.derivative:
        raise SpecError(f"the knots must be a tanh table's; got {tanh.name}")
    if tanh.knots_of is not None:
        raise SpecError("the tanh table reads another table's knots itself")
    if tanh.interp is not Interp.LINEAR or tanh.fold is not Fold.ODD or tanh.fold_e \
            or tanh.lo_code != 0:
        raise SpecError(f"the tanh table must be folded (fold = true) and linear; got interp "
                        f"{tanh.interp.value}, fold {tanh.fold.value}")
    for fmt in (tanh.in_format, tanh.out_format):
        if fmt.is_affine or not fmt.signed:
            raise SpecError(f"sharing knots needs signed power-of-two formats (s16.12, "
                            f"ap_fixed<16,4>); got {fmt}")


def _pairs(tanh: Table) -> list[tuple[int, int]]:
    """The tanh table's segments as (S_r, C_r) runs: counted regions, equal ones, or one."""
    regions: Regions | None = tanh.regions
    if regions is None:
        return [(tanh.shift, tanh.entries)]
    return list(zip(regions.shifts, regions.counts))
