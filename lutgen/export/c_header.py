"""``<name>.h``: a C99 header holding the table and a bit-exact integer evaluator.

The generated ``lutgen_<name>_eval(x)`` computes, for every input code, the very
integer ``Table.eval_int`` computes: it spells out ``docs/ARITHMETIC.md`` for this
one table, with its constants inlined and the paths it does not use left out.
It has no floating point and no undefined or implementation-defined behaviour:

- ``acc`` is the narrowest of ``int16_t``, ``int32_t``, ``int64_t`` that the table's
  ``acc_bits`` bound (and the widths of ``u``, ``off`` and the output codes) proves
  wide enough, never ``int``; with ``int16_t`` every expression is cast back, so it
  also holds where ``int`` is 16 bits (AVR) and a multiply stays 16-bit;
- negative values are never shifted: ``floor_shift`` of a negative ``a`` is
  ``~(~a >> r)``, and ``T << S`` is written as a multiply by ``2^S``;
- table words read back as unsigned (``pgm_read_word``) get their sign restored
  with a comparison, not a cast.

Names: everything is prefixed by the table name (``lutgen_<name>_eval``,
``LUTGEN_<NAME>_*``): the name the caller chose is the API, and it stays the same
when ``fit`` re-tunes the formats. Two *different* tables under one name in one
translation unit stop the build with an ``#error`` naming the fix (``--name``);
the include guard carries a digest of the table, so only the very same table
is silently included twice.

One copy of the table: the header declares ``lutgen_<name>_table`` ``extern``; the
one ``.c`` file that ``#define``s ``LUTGEN_<NAME>_IMPLEMENTATION`` before including
it defines it (the stb convention). ``LUTGEN_<NAME>_STATIC`` instead gives the
including file a private ``static`` copy.
"""

from __future__ import annotations

import math

from .._text import up
from ._c_text import c_comment, c_lit, c_word, region_rows, scale_rows
from ._common import (Artifact, array_rows, identifier, knot_array, macro_name,
                      provenance_lines, stored_meaning, table_digest, work_bits)

__all__ = ["render"]

def render(table, report, name: str, acc_width: int | None = None) -> list[Artifact]:
    """The header ``<name>.h`` of ``table`` (``name`` is already an identifier).

    ``acc_width``: a wider accumulator than the proven one (16, 32 or 64), to measure
    what the narrow one saves (``scripts/avr_cycles.py``); never narrower.
    """
    return [Artifact(f"{name}.h", _Header(table, report, name, acc_width).text())]


def acc_width(table) -> int:
    """16, 32 or 64: the narrowest ``intN_t`` every intermediate provably fits
    (:func:`~lutgen.export._common.work_bits`)."""
    need = work_bits(table)
    return next(w for w in (16, 32, 64) if need <= w)


class _Header:
    def __init__(self, table, report, name: str, acc: int | None = None):
        self.t = table
        self.report = report
        self.name = name
        self.macro = macro_name(name)
        self.fn = f"lutgen_{name}"
        if acc is not None and (acc not in (16, 32, 64) or acc < acc_width(table)):
            raise ValueError(f"accumulator of {acc} bits: allowed 16, 32, 64 and at least "
                             f"the proven {acc_width(table)}")
        self.acc = f"int{acc if acc is not None else acc_width(table)}_t"
        self.in_type, _ = c_word(table.in_format.bits, table.in_format.signed)
        self.out_type, _ = c_word(table.out_format.bits, table.out_format.signed)
        self.store_type, self.store_width = c_word(table.store_bits, table.store_signed)
        self.read = f"LUTGEN_READ_{self.store_width}"
        # a table reading another's knots (lutgen.shared) reads that table's array
        self.source, self.knots = knot_array(table, name)
        self.needs_floor_shift = False

    def _n(self, expr: str) -> str:
        """``expr`` cast back to ``int16_t``: C computes it in ``int``, which is wider on
        most targets (-Wconversion), and ``acc_width`` proved the value fits."""
        return f"({self.acc})({expr})" if self.acc == "int16_t" else expr

    def text(self) -> str:
        eval_fn = self._eval()  # first: it decides which helpers are needed
        claim = f"{self.macro}_H"
        guard = f"{claim}_{table_digest(self.t)}"  # this very table: included twice, compiled once
        fin, fout = self.t.in_format, self.t.out_format
        other = identifier(f"{self.name}_{fin}_{fout}")  # affine formats: int8(0.0235,-3)
        parts = [
            *c_comment(provenance_lines(self.t, self.report, self.name)),
            f"#ifndef {guard}",
            f"#define {guard}",
            f"#ifdef {claim}",
            f'#error "lutgen: two different tables named \'{self.name}\' in one translation unit '
            f'(this one: {fin} -> {fout}); regenerate one with another --name, e.g. '
            f'--name {other}"',
            "#endif",
            f"#define {claim}",
            "",
            "#include <stdint.h>",
            "",
            *self._placement(),
            "",
            *self._macros(),
            "",
            "#ifdef __cplusplus",
            'extern "C" {',
            "#endif",
            "",
            *self._table(),
            "",
            *self._region_table(),
            *self._helpers(),
            *eval_fn,
            "",
            "#ifdef __cplusplus",
            "}",
            "#endif",
            "",
            f"#endif /* {guard} */",
        ]
        return "\n".join(parts) + "\n"

    # ---- declarations --------------------------------------------------------------
    def _placement(self) -> list[str]:
        w = self.store_width
        return [
            *c_comment([
                "Placement: define these before including the header to move the table.",
                "  LUTGEN_TABLE_ATTR    attributes of the table array (default: none).",
                f"  {self.read}(p)    reads the {w}-bit table word at p (default: *(p)); it may",
                "                       return the word as unsigned: the sign is restored."
                if w < 64 else "                       return the value itself (int64_t if signed).",
                "AVR flash:",
                "  #include <avr/pgmspace.h>",
                "  #define LUTGEN_TABLE_ATTR PROGMEM",
                "  #define LUTGEN_READ_8(p) pgm_read_byte(p)",
                "  #define LUTGEN_READ_16(p) pgm_read_word(p)",
                "  #define LUTGEN_READ_32(p) pgm_read_dword(p)",
                "A linker section:",
                '  #define LUTGEN_TABLE_ATTR __attribute__((section(".rodata.lut")))',
            ]),
            "#ifndef LUTGEN_TABLE_ATTR",
            "#define LUTGEN_TABLE_ATTR /* empty */",
            "#endif",
            f"#ifndef {self.read}",
            f"#define {self.read}(p) (*(p))",
            "#endif",
        ]

    def _macros(self) -> list[str]:
        t, m = self.t, self.macro
        fin, fout = t.in_format, t.out_format
        lo, hi = t.range
        range_lo = 2 * fin.zero_point - t.hi_code if t.fold else t.lo_code
        rows = [
            ("IN_SIGNED", int(fin.signed), f"input format {fin}"),
            ("IN_BITS", fin.bits, None),
            *scale_rows("IN", fin),
            ("OUT_SIGNED", int(fout.signed), f"output format {fout}"),
            ("OUT_BITS", fout.bits, None),
            *scale_rows("OUT", fout),
            ("OUT_MIN", c_lit(fout.min_code), "outputs saturate to [OUT_MIN, OUT_MAX]"),
            ("OUT_MAX", c_lit(fout.max_code), None),
            ("RANGE_LO", c_lit(range_lo), f"input codes of the range [{lo:.17g}, {hi:.17g})"),
            ("RANGE_HI", c_lit(t.hi_code), "(exclusive)"),
            ("TABLE_LO", c_lit(t.lo_code), "first input code the table holds"),
            *(region_rows(t.regions) if t.regions else [
                ("ENTRIES", t.entries, f"segments of 2^SHIFT codes, interp {t.interp.value}"),
                ("SHIFT", t.shift, None)]),
            ("WORDS", t.values.size, f"stored words of {t.store_bits} bits"),
            ("STORE_BITS", t.store_bits, None),
            ("GUARD_BITS", t.guard_bits, "extra fraction bits of the stored words"),
        ]
        if self.report is not None and math.isfinite(self.report.max_error_lsb):
            r = self.report
            rows += [
                ("MAX_ERROR_LSB", up(r.max_error_lsb, 6), "max |error| in output LSB"),
                ("MAX_ERROR_ULSB", math.ceil(r.max_error_lsb * 1e6), "the same in 1e-6 LSB"),
                ("MEAN_ERROR_LSB", f"{r.mean_error_lsb:.6f}", None),
                ("FAITHFUL", int(r.faithful), "max error below 1 LSB"),
            ]
        out = []
        for key, value, note in rows:
            line = f"#define {m}_{key} {value}"
            out.append(line if note is None else f"{line:<44} /* {note} */")
        return out

    def _table(self) -> list[str]:
        t = self.t
        if self.source is not None:  # lutgen.shared: the array of the table named source
            m = macro_name(self.source)
            return [
                *c_comment([
                    f"The knots: the first {self.macro}_WORDS words of {self.knots}, the table",
                    f"of '{self.source}' (sigmoid(x) = 1/2 + tanh(x/2)/2, docs/ARITHMETIC.md",
                    f"\"Shared knots\"): one copy, defined as {self.source}.h says (where",
                    f"{m}_IMPLEMENTATION is defined), or {m}_STATIC: then this header",
                    f"includes {self.source}.h.",
                ]),
                f"#ifdef {m}_STATIC",
                f"#ifndef {m}_H",
                f'#include "{self.source}.h"',
                "#endif",
                "#else",
                f"extern const {self.store_type} {self.knots}[] LUTGEN_TABLE_ATTR;",
                "#endif",
            ]
        rows = array_rows([str(int(v)) for v in t.values])
        m = self.macro
        decl = f"const {self.store_type} {self.fn}_table[{m}_WORDS] LUTGEN_TABLE_ATTR"
        return [
            *c_comment([
                "One copy of the table in the program: in exactly one .c file,",
                f"  #define {m}_IMPLEMENTATION",
                f'  #include "{self.name}.h"',
                "defines it; every other file that includes this header sees the",
                f"extern declaration. {m}_STATIC instead gives the including file",
                "its own static copy.",
            ]),
            f"#if defined({m}_STATIC)",
            f"static {decl} = {{",
            "#else",
            f"extern {decl};",
            f"#ifdef {m}_IMPLEMENTATION",
            f"{decl} = {{",
            "#endif",
            "#endif",
            f"#if defined({m}_STATIC) || defined({m}_IMPLEMENTATION)",
            f"/* {t.values.size} words {'of' if t.out_format.is_affine else 'with'} "
            f"{stored_meaning(t)} */",
            *rows,
            "};",
            "#endif",
        ]

    def _region_table(self) -> list[str]:
        """A hierarchical table's region table: BASE[r] and S_r, two small const arrays
        (counted regions: START[r] too)."""
        regions = self.t.regions
        if regions is None:
            return []
        base_type, _ = c_word(regions.base_bits, False)
        if not regions.equal:
            return self._counted_table(regions, base_type)
        return [
            f"/* regions of 2^{regions.granule_bits} codes: first knot BASE[r] and segment "
            "shift S_r of each */",
            *self._base_and_shift(regions, base_type),
            "",
        ]

    def _base_and_shift(self, regions, base_type: str) -> list[str]:
        """The const arrays BASE[] and S[] of every region table."""
        return [
            f"static const {base_type} {self.fn}_base[{regions.n}] = "
            f"{{ {', '.join(map(str, regions.bases))} }};",
            f"static const uint8_t {self.fn}_rshift[{regions.n}] = "
            f"{{ {', '.join(map(str, regions.shifts))} }};",
        ]

    def _counted_table(self, regions, base_type: str) -> list[str]:
        """Counted regions: START[r] too, all n of them (START[0] = 0 keeps o = off - START[r]
        one expression); ``Table.c_bytes`` counts these three arrays."""
        start_type, _ = c_word(regions.start_bits, False)
        return [
            "/* counted regions (step 3h'): first offset START[r], first knot BASE[r] and "
            "shift S_r */",
            f"static const {start_type} {self.fn}_start[{regions.n}] = "
            f"{{ {', '.join(map(str, regions.starts))} }};",
            *self._base_and_shift(regions, base_type),
            "",
        ]

    def _helpers(self) -> list[str]:
        acc, w = self.acc, self.store_width
        read = f"{self.read}(&{self.knots}[i])"
        restore = self.t.store_signed and w < 64
        if restore:
            # an unsigned read of a negative word is 2^w too large: undo it without a
            # wider type (w - 2^w == -(~w) - 1, and ~w fits w - 1 bits)
            body = [
                f"    const uint{w}_t w = (uint{w}_t){read};",
                f"    return w > {c_lit((1 << (w - 1)) - 1)} ? ({acc})(-({acc})(uint{w}_t)~w - 1)"
                f" : ({acc})w;",
            ]
        else:
            body = [f"    return ({acc}){read};"]
        out = [
            f"/* table word i{', sign restored' if restore else ''} */",
            f"static inline {acc} {self.fn}_word({acc} i)",
            "{",
            *body,
            "}",
            "",
        ]
        if self.needs_floor_shift:
            out += [
                "/* floor(a / 2^r) without shifting a negative value */",
                f"static inline {acc} {self.fn}_floor_shift({acc} a, int r)",
                "{",
                f"    return {self._n('a >= 0 ? a >> r : ~(~a >> r)')};",
                "}",
                "",
            ]
        return out

    # ---- the evaluator -------------------------------------------------------------
    def _eval(self) -> list[str]:
        t, acc = self.t, self.acc
        fin, fout = t.in_format, t.out_format
        lo, hi = t.lo_code, t.hi_code
        body = []
        z = fin.zero_point
        if t.fold and z != 0:  # mirror about the zero point Z, the code of real 0
            var, what = ("neg", "f(x) = F - f(2Z - x)") if t.fold.negates else (
                "mirror", "f(x) = f(2Z - x)")
            body += [
                f"    const int {var} = x < {c_lit(z)}; /* 1. fold about Z = {z}: {what} */",
                f"    {acc} u = {var} ? {c_lit(2 * z)} - ({acc})x : ({acc})x;",
            ]
        elif t.fold.negates:
            body += [
                "    const int neg = x < 0; /* 1. fold: f(-x) = F - f(x) */",
                f"    {acc} u = {self._n(f'neg ? -({acc})x : ({acc})x')};",
            ]
        elif t.fold:  # even
            u = self._n(f"x < 0 ? -({acc})x : ({acc})x")
            body.append(f"    {acc} u = {u}; /* 1. fold: f(-x) = f(x) */")
        else:
            body.append(f"    {acc} u = ({acc})x;")
        body.append(f"    {acc} y;")

        left, right = t.tails
        branches = []
        if left is not None and left.is_line:
            branches.append((f"u < {c_lit(lo)}", "2. left tail: an asymptote", self._line(left)))
        if right is not None and right.is_line:
            branches.append((f"u >= {c_lit(hi)}", "2. right tail: an asymptote", self._line(right)))
        table_path = []
        if left is not None and not left.is_line:
            table_path.append(f"if (u < {c_lit(lo)}) u = {c_lit(lo)}; /* 2. left tail: clamp */")
        if right is not None and not right.is_line:
            table_path.append(
                f"if (u >= {c_lit(hi)}) u = {c_lit(hi - 1)}; /* 2. right tail: clamp */"
            )
        table_path += self._lookup()
        for n, (cond, note, lines) in enumerate(branches):
            body.append(f"    {'if' if n == 0 else '} else if'} ({cond}) {{ /* {note} */")
            body += ["        " + line for line in lines]
        body.append("    } else {" if branches else "    {")
        body += ["        " + line for line in table_path]
        body.append("    }")
        # a bound at the limit of the accumulator type saturates nothing, and comparing
        # against it is always false (gcc -Wextra: -Wtype-limits): it is left out
        limit = 1 << (int(self.acc[3:-2]) - 1)
        body += [
            f"    if (y < {c_lit(fout.min_code)}) y = {c_lit(fout.min_code)}; /* 6. saturate */"
            if fout.min_code > -limit else "    /* 6. saturate: y >= OUT_MIN by its type */",
            f"    if (y > {c_lit(fout.max_code)}) y = {c_lit(fout.max_code)};"
            if fout.max_code < limit - 1 else "    /* y <= OUT_MAX by its type */",
            f"    return ({self.out_type})y;",
        ]
        return [
            f"/* Output code ({fout}) of input code x ({fin}): docs/ARITHMETIC.md step by step */",
            f"static inline {self.out_type} {self.fn}_eval({self.in_type} x)",
            "{",
            *body,
            "}",
        ]

    def _lookup(self) -> list[str]:
        """Step 3, then the shared finish: the table path's lines (``u`` in range)."""
        t = self.t
        s, g, word = t.shift, t.guard_bits, f"{self.fn}_word"
        off = "u" if t.lo_code == 0 else (
            f"u - {c_lit(t.lo_code)}" if t.lo_code > 0 else f"u + {c_lit(-t.lo_code)}"
        )
        n = self._n
        lines = [f"const {self.acc} off = {n(off) if off != 'u' else off}; /* 3. table */"]
        interp = t.interp.value
        if t.regions is not None:
            return lines + self._lookup_regions() + self._finish(g + s)
        if s == 0:  # one code per segment: w == 0, j == i, so every interp reads T[off]
            lines.append(f"{self.acc} acc = {word}(off);")
            r = g
        elif interp == "none":
            lines.append(f"{self.acc} acc = {word}({n(f'off >> {s}')});")
            r = g
        elif interp == "nearest":
            lines.append(f"{self.acc} acc = {word}({n(f'(off + {c_lit(1 << (s - 1))}) >> {s}')});")
            r = g
        else:
            lines += [
                f"const {self.acc} i = {n(f'off >> {s}')};",
                f"const {self.acc} t0 = {word}(i);",
                f"{self.acc} acc = " + n(f"t0 * {c_lit(1 << s)} + ({word}({n('i + 1')}) - t0) * "
                                         f"(off & {c_lit((1 << s) - 1)})") + ";",
            ]
            r = g + s
        return lines + self._finish(r)

    def _lookup_regions(self) -> list[str]:
        """Step 3h: the region of ``off``, its knot and weight, one multiply."""
        regions, acc, n = self.t.regions, self.acc, self._n
        if not regions.equal:
            return self._counted_lookup()
        rb = regions.granule_bits
        return [
            f"const {acc} o = {n(f'off & {c_lit((1 << rb) - 1)}')}; /* 3h. region off >> {rb} */",
            *self._region_read(f"off >> {rb}"),
        ]

    def _region_read(self, r: str) -> list[str]:
        """Step 3h from region ``r``'s shift and first knot: i, w' and the one multiply."""
        acc, n, word, smax = self.acc, self._n, f"{self.fn}_word", self.t.regions.smax
        return [
            f"const int sr = {self.fn}_rshift[{r}];",
            f"const {acc} i = {n(f'({acc}){self.fn}_base[{r}] + (o >> sr)')};",
            f"const {acc} wp = {n(f'(o & (({acc})(({acc})1 << sr) - 1)) << ({smax} - sr)')};",
            f"const {acc} t0 = {word}(i);",
            f"{acc} acc = " + n(f"t0 * {c_lit(1 << smax)} + ({word}({n('i + 1')}) - t0) * wp")
            + ";",
        ]

    def _counted_lookup(self) -> list[str]:
        """Step 3h': r counts the START[k] (k >= 1) that ``off`` reaches, then as 3h."""
        regions, acc, n = self.t.regions, self.acc, self._n
        start = f"{self.fn}_start"
        terms = [f"(off >= ({acc}){start}[{k}])" for k in range(1, regions.n)]
        if not terms:
            select = ["const int r = 0; /* 3h'. one region */"]
        else:
            select = ["const int r = /* 3h'. region: the START[k], k >= 1, that off reaches */"]
            select += [f"    {term}{';' if k == len(terms) - 1 else ' +'}"
                       for k, term in enumerate(terms)]
        return [
            *select,
            f"const {acc} o = {n(f'off - ({acc}){start}[r]')};",
            *self._region_read("r"),
        ]

    def _line(self, tail) -> list[str]:
        """Step 4: ``acc = u*M + C`` (terms that are zero or one left out), then the finish."""
        m, c, k = tail.m, tail.c, tail.k
        terms = []
        if m:
            terms.append("u" if m == 1 else f"u * {c_lit(m)}")
        if c or not terms:
            terms.append(c_lit(c))
        expr = " + ".join(terms).replace("+ -", "- ")
        if expr != "u":
            expr = self._n(expr)
        return [f"{self.acc} acc = {expr}; /* 4. slope {tail.slope!r}, intercept "
                f"{tail.intercept!r} */", *self._finish(k)]

    def _finish(self, r: int) -> list[str]:
        """Steps 5 and 6 for a path that rounds by ``r`` bits: unfold, round once."""
        t = self.t
        lines = []
        if t.fold.negates:
            f = (t.fold_f - t.fold_e) << (r - t.guard_bits)
            unfold = "-acc" if f == 0 else f"{c_lit(f)} - acc"
            if t.fold_e:  # the words hold f - E, the centre: it comes back on every input
                e = c_lit(t.fold_e << (r - t.guard_bits))
                lines.append(f"acc = {self._n(f'neg ? {unfold} : acc + {e}')}; "
                             "/* 5. unfold, the centre E back */")
            else:
                lines.append(f"if (neg) acc = {self._n(unfold)}; /* 5. unfold */")
        elif t.fold_lm:  # even_line: the line a * x, (x - Z) * LM * 2^(R - LE) output codes
            z = t.in_format.zero_point
            xz = f"({self.acc})x" + (f" - {c_lit(z)}" if z else "")
            term = f"({xz}) * {c_lit(t.fold_lm << (r - t.fold_le))}"
            lines.append(f"acc = {self._n(f'acc + {term}')}; /* 5. the line term a * x */")
        if r == 0:
            lines.append("y = acc;")
        else:
            self.needs_floor_shift = True
            lines.append(
                f"y = {self.fn}_floor_shift({self._n(f'acc + {c_lit(1 << (r - 1))}')}, {r}); "
                "/* 6. round half up */"
            )
        return lines
