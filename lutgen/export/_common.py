"""What every exporter shares: provenance, identifiers, atomic writes.

Exporters never import numba or matplotlib: they read a compiled
:class:`~lutgen.table.Table` (and its :class:`~lutgen.analysis.ErrorReport`)
and return text.
"""

from __future__ import annotations

import hashlib
import keyword
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from .._text import OUTPUT_ARITHMETIC, up, up_sig
from ..errors import ExportError
from ..regions import format_regions
from ..spec import regenerate_args

__all__ = ["Artifact", "provenance_lines", "identifier", "macro_name", "atomic_write",
           "stage_file", "build_command", "work_bits", "table_digest", "array_rows",
           "knot_array"]

_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if "
    "inline int long register restrict return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while _Bool _Complex _Imaginary bool true false class "
    "namespace template this new delete".split()
)
_VERILOG_KEYWORDS = frozenset(
    "always and assign begin buf case casex casez cmos deassign default defparam disable edge "
    "else end endcase endfunction endgenerate endmodule endprimitive endspecify endtable endtask "
    "event for force forever fork function generate genvar if initial inout input integer join "
    "localparam macromodule module nand negedge nmos nor not or output parameter posedge "
    "primitive pull0 pull1 pulldown pullup reg release repeat rnmos rpmos rtran signed specify "
    "specparam supply0 supply1 table task time tran tri tri0 tri1 triand trior trireg unsigned "
    "vectored wait wand weak0 weak1 while wire wor xnor xor logic bit byte".split()
)


@dataclass(frozen=True)
class Artifact:
    """One generated file: its name inside the output folder and its text."""

    filename: str
    text: str


def identifier(name: str) -> str:
    """A table name made into a C and Verilog identifier, or ExportError.

    Runs of characters other than letters, digits and '_' become one '_'; a
    leading digit gets a '_' prefix. A name that sanitises to nothing, or to a
    keyword of C, C++ or Verilog, is an error.
    """
    if not isinstance(name, str):
        raise ExportError(f"a table name must be text, got {name!r}")
    clean = re.sub(r"[^A-Za-z0-9_]+", "_", name.strip()).strip("_")
    if clean and clean[0].isdigit():
        clean = "_" + clean
    if not clean:
        raise ExportError(f"table name {name!r} has no letters or digits; use letters, digits, '_'")
    if clean in _C_KEYWORDS or clean in _VERILOG_KEYWORDS or keyword.iskeyword(clean):
        raise ExportError(f"table name {name!r} is a C or Verilog keyword; choose another --name")
    return clean


def macro_name(name: str) -> str:
    """The prefix of a header's macros and include guard, one per table name.

    ``LUTGEN_SIGMOID`` for a name without capitals; a name with capitals keeps them
    after ``Lutgen_`` (``Sig`` gives ``Lutgen_Sig``), so names that differ only in
    case never share a guard that would silently compile one header out.
    """
    return f"LUTGEN_{name.upper()}" if name == name.lower() else f"Lutgen_{name}"


def _signed_bits(v: int) -> int:
    """Bits of the narrowest two's-complement word holding ``v``."""
    return int(v).bit_length() + 1 if v >= 0 else (~int(v)).bit_length() + 1


def work_bits(table) -> int:
    """Two's-complement bits that hold every intermediate of docs/ARITHMETIC.md.

    ``acc_bits`` (the compiler's bound) covers ``acc``, the products, the unfold
    and the rounding constant; ``u`` (``2Z - x`` of the most negative code when
    folded about the zero point ``Z``, an unsigned code as signed), ``off`` (with the ``nearest`` half) and
    the saturation bounds are bounded by the formats and the table's span.
    """
    fin, fout = table.in_format, table.out_format
    span = (table.entries << table.shift) + (1 << table.shift)
    return max(
        table.acc_bits,
        _signed_bits(fin.min_code), _signed_bits(fin.max_code),
        _signed_bits(2 * fin.zero_point - fin.min_code) if table.fold else 0,  # u = 2Z - x
        _signed_bits(span),
        _signed_bits(fout.min_code), _signed_bits(fout.max_code),
    )


def knot_array(table, name: str) -> tuple[str | None, str]:
    """Whose knot array the headers of ``table`` (exported as ``name``) read, and its C
    name: ``(None, "lutgen_<name>_table")``, or for a table reading another's knots
    (lutgen.shared) that table's export name and array."""
    source = None if table.knots_of is None else identifier(table.knots_name)
    return source, f"lutgen_{source or name}_table"


def array_rows(words: list[str]) -> list[str]:
    """An array initialiser's rows: the words (literals), comma-separated, as many to a
    four-space-indented row as fit in about 100 columns, no comma after the last."""
    per_line = max(1, 96 // (max(len(w) for w in words) + 2))
    rows = ["    " + ", ".join(words[i : i + per_line]) + ","
            for i in range(0, len(words), per_line)]
    rows[-1] = rows[-1][:-1]
    return rows


def table_digest(table) -> str:
    """8 hex digits naming this very table (formats, layout, tails, words): the
    include guards carry it, so only the same table is compiled out as a repeat."""
    tails = [None if t is None else (t.mode, t.m, t.c, t.k) for t in table.tails]
    key = (str(table.in_format), str(table.out_format), table.lo_code, table.hi_code,
           table.shift, table.interp.value, table.guard_bits, table.fold.value,
           table.fold_f, tails, [int(v) for v in table.values])
    if table.fold_e or table.fold_lm:
        key += (table.fold_e, table.fold_lm, table.fold_le)
    if getattr(table, "regions", None) is not None:  # the same knots, placed otherwise
        reg = table.regions
        key += ((reg.granule_bits, reg.shifts) if reg.equal else (reg.shifts, reg.counts),)
    return hashlib.sha256(repr(key).encode()).hexdigest()[:8].upper()


def _regions_words(reg) -> str:
    if reg.equal:
        return (f"({reg.n} regions of 2^{reg.granule_bits} codes, segment "
                f"shifts {','.join(map(str, reg.shifts))}); ")
    return f"({reg.n} counted regions, S x C: {format_regions(reg.spec_value())}); "


def build_command(table) -> str:
    """The ``lutgen build`` command that regenerates ``table`` (without ``-o``), shell-quoted.

    Generated from the option table (:func:`lutgen.spec.regenerate_args`), with
    the formats, range, entries and guard bits the compiler chose.
    """
    spec = table.spec
    return " ".join(regenerate_args(
        spec, in_format=table.in_format, out_format=table.out_format,
        range=table.range if spec.range is None else spec.range,
        entries=table.entries if spec.regions is None else None, guard_bits=table.guard_bits))


def regenerate_command(table, name: str) -> str:
    """The command that rebuilds ``table`` as ``name``: ``lutgen build ... --name``, or for a
    table reading another's knots (lutgen.shared), ``--from`` its JSON, which carries both specs."""
    if table.knots_of is not None:
        return f"lutgen build --from {name}.json"
    return f"{build_command(table)} --name {name}"


def stored_meaning(table) -> str:
    """What a stored word is worth: fraction bits, or (affine output) output codes times 2^G."""
    fout, g = table.out_format, table.guard_bits
    if fout.is_affine:
        return (f"output codes of {fout} times 2^{g} (G = {g} guard bits); real value = "
                f"{fout.scale!r} * (word / 2^{g} - {fout.zero_point})")
    return f"{fout.frac + g} fraction bits"


def provenance_lines(table, report, name: str, command: str | None = None) -> list[str]:
    """The provenance block every artifact starts with (no timestamps: byte-stable)."""
    lo, hi = table.range
    params = ", ".join(
        f"{k}={list(v) if isinstance(v, tuple) else v}" for k, v in table.spec.params
    ) or "none"
    tails = ", ".join(
        f"{side}: {t.mode if t else 'none'}" for side, t in zip(("left", "right"), table.tails)
    )
    lines = [
        f"Generated by lutgen {__version__} -- do not edit.",
        f"Regenerate: {command} --name {name}" if command else
        f"Regenerate: {regenerate_command(table, name)}",
        f"Activation: {table.spec.activation}"
        + (" (derivative)" if table.spec.derivative else "")
        + f"; params: {params}",
        f"Formats: in {table.in_format}, out {table.out_format} ({OUTPUT_ARITHMETIC}); "
        f"stored {'s' if table.store_signed else 'u'}{table.store_bits} with "
        f"{table.guard_bits} guard bits",
        f"Range: [{lo:.17g}, {hi:.17g}); entries {table.entries} "
        + (f"(segment 2^{table.shift} codes); " if table.regions is None else
           _regions_words(table.regions)) +
        f"interp {table.interp.value}; fold {table.fold.value if table.fold else 'no'}; {tails}",
    ]
    if report is not None:
        lines.append(
            f"Error: max {up(report.max_error_lsb)} LSB ({up_sig(report.max_abs_error, 6)}), "
            f"mean {report.mean_error_lsb:.4f} LSB, rms {report.rms_error:.6g}, "
            f"floor {up(report.floor_max_error_lsb)} LSB, "
            f"{'faithful' if report.faithful else 'not faithful'}, "
            f"{'exhaustive' if report.exhaustive else 'sampled'} over {report.n_inputs} inputs"
        )
        if report.saturation == "allowed":
            fout = table.out_format
            lines.append(
                f"Saturation allowed: errors against the reference clipped to [{fout.min:g}, "
                f"{fout.max:g}]; against the reference itself: max "
                f"{up(report.unclipped_max_error_lsb)} LSB, floor "
                f"{up(report.unclipped_floor_max_error_lsb)} LSB"
            )
    if table.knots_of is not None:
        lines.append(f"Knots: the first {table.values.size} words of table "
                     f"'{table.knots_name}' (tanh): sigmoid(x) = 1/2 + tanh(x/2)/2, "
                     "docs/ARITHMETIC.md \"Shared knots\"")
    lines.append(f"ROM: {table.rom_bits} bits"
                 + (" (its region table; the knots are counted in their table)"
                    if table.knots_of is not None else "") + "; arithmetic: docs/ARITHMETIC.md")
    return lines


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def stage_file(path, data) -> str:
    """Write text or bytes to a temporary file beside ``path``; return its name.

    ``os.replace(tmp, path)`` then puts it in place atomically.
    """
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; a plain file gets the usual
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return tmp


def atomic_write(path, data) -> None:
    """Write text or bytes to ``path`` via a temporary file and a rename."""
    os.replace(stage_file(path, data), path)
