"""``nnet_lutgen_<name>.h``: the table as an hls4ml activation in HLS C++.

``nnet::lutgen_<name><data_T, res_T, CONFIG_T>(data, res)`` has the signature of
hls4ml's own activations (``nnet::sigmoid`` in ``nnet_activation.h``), in an
array (io_parallel) and an ``hls::stream`` (io_stream) form. It works on raw bits:
each input's ``.range()`` is the input code, the output code goes into the
result's ``.range()``, and everything between is docs/ARITHMETIC.md in
``ap_int`` of the exact widths (``work_bits``), so C simulation and synthesis
give the integers ``Table.eval_int`` gives. ``static_assert``s refuse element
types whose width, integer bits or sign differ from the table's formats: a
mismatch would reinterpret the bits, not convert them. A hierarchical table
(``regions``) carries its region table as two ``static const`` arrays
(``region_base``, ``region_shift``) and computes step 3h; counted regions add
``region_start`` and select the region by comparison (step 3h').

The knots are ``lutgen_<name>_table``, a ``static const`` array at namespace scope.
A sigmoid reading a tanh table's knots (:mod:`lutgen.shared`) defines none: its
header includes ``nnet_lutgen_<tanh>.h`` and reads the first words of that array.
"""

from __future__ import annotations

from ._common import (Artifact, array_rows, knot_array, provenance_lines, stored_meaning,
                      table_digest, work_bits)

__all__ = ["render"]


def render(table, report, name: str) -> list[Artifact]:
    """The header ``nnet_lutgen_<name>.h`` of ``table`` (``name`` is an identifier)."""
    return [Artifact(f"nnet_lutgen_{name}.h", _Hls(table, report, name).text())]


def _lit(v: int) -> str:
    """A C++ integer constant of value ``v``, typed wide enough."""
    v = int(v)
    text = str(v) if -(1 << 31) < v < (1 << 31) else f"{v}LL"
    return text if v >= 0 else f"({text})"


def _int(bits: int, signed: bool) -> str:
    return f"ap_{'' if signed else 'u'}int<{bits}>"


# once per translation unit, however many lutgen headers it includes
_TRAITS = """\
#ifndef NNET_LUTGEN_TRAITS_H_
#define NNET_LUTGEN_TRAITS_H_
namespace nnet {
// the sign of an ap_fixed / ap_ufixed element type (ap_fixed_base's _AP_S)
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
constexpr bool lutgen_is_signed(const ap_fixed_base<W, I, S, Q, O, N> *) { return S; }
} // namespace nnet
#endif"""


class _Hls:
    def __init__(self, table, report, name: str):
        self.t, self.report, self.name = table, report, name
        self.fn = f"lutgen_{name}"
        self.a = work_bits(table)  # every intermediate fits ap_int<a>
        self.acc = f"ap_int<{self.a}>"
        # a table reading another's knots (lutgen.shared) reads that table's array
        self.source, self.knots = knot_array(table, name)

    def text(self) -> str:
        t, fin, fout = self.t, self.t.in_format, self.t.out_format
        guard = f"NNET_LUTGEN_{self.name.upper()}_H_{table_digest(t)}"
        lines = [
            "/*",
            *(f" * {line}".rstrip() for line in provenance_lines(t, self.report, self.name)),
            " *",
            " * hls4ml: call nnet::" + self.fn + "<data_T, res_T, CONFIG_T>(data, res) where the",
            " * layer calls nnet::sigmoid (CONFIG_T needs n_in); docs/HLS.md shows how.",
            f" * data_T: ap_{'' if fin.signed else 'u'}fixed<{fin.bits},{fin.bits - fin.frac}>"
            f" (input {fin}); res_T: ap_{'' if fout.signed else 'u'}fixed<{fout.bits},"
            f"{fout.bits - fout.frac}> (output {fout}); any rounding and overflow modes.",
            " */",
            f"#ifndef {guard}",
            f"#define {guard}",
            "",
            '#include "ap_fixed.h"',
            '#include "ap_int.h"',
            '#include "hls_stream.h"',
            '#include "nnet_common.h"',
            '#include "nnet_types.h"',
            *self._include(),
            "",
            _TRAITS,
            "",
            "namespace nnet {",
            "",
            *self._table(),
            "",
            *self._code(),
            "",
            *self._array(),
            "",
            *self._stream(),
            "",
            "} // namespace nnet",
            "",
            f"#endif // {guard}",
        ]
        return "\n".join(lines) + "\n"

    # ---- the knots ----------------------------------------------------------------------
    def _include(self) -> list[str]:
        """A shared sigmoid: the header of the table whose array it reads, that very table."""
        if self.source is None:
            return []
        guard = f"NNET_LUTGEN_{self.source.upper()}_H_{table_digest(self.t.knots_of)}"
        return [
            f'#include "nnet_lutgen_{self.source}.h" // the knots: {self.knots}',
            f"#ifndef {guard}",
            f'#error "lutgen: nnet_lutgen_{self.source}.h is not the tanh table whose knots '
            f'{self.fn} reads; regenerate both"',
            "#endif",
        ]

    def _table(self) -> list[str]:
        t = self.t
        if self.source is not None:
            return [
                f"// the knots: the first {t.values.size} words of {self.knots}, the array of "
                f"the tanh table '{self.source}'",
                f"// (nnet_lutgen_{self.source}.h): sigmoid(x) = 1/2 + tanh(x/2)/2 "
                '(docs/ARITHMETIC.md "Shared knots"),',
                "// so one array serves both functions",
            ]
        return [
            f"// the knots: {t.values.size} words with {stored_meaning(t)}",
            f"static const {_int(t.store_bits, t.store_signed)} {self.knots}[{t.values.size}] = {{",
            *array_rows([_lit(v) for v in t.values]),
            "};",
        ]

    # ---- the per-element evaluator ------------------------------------------------------
    def _code(self) -> list[str]:
        t, acc = self.t, self.acc
        fin, fout = t.in_format, t.out_format
        body = []
        z = fin.zero_point
        if t.fold and z != 0:  # mirror about the zero point Z, the code of real 0
            var, what = ("neg", "f(x) = F - f(2Z - x)") if t.fold.negates else (
                "mirror", "f(x) = f(2Z - x)")
            body += [f"    const bool {var} = x < {_lit(z)}; // 1. fold about Z = {z}: {what}",
                     f"    {acc} u = x;", f"    if ({var}) u = {_lit(2 * z)} - u;"]
        elif t.fold.negates:
            body += ["    const bool neg = x < 0; // 1. fold: f(-x) = F - f(x)",
                     f"    {acc} u = x;", "    if (neg) u = -u;"]
        elif t.fold:
            body += [f"    {acc} u = x; // 1. fold: f(-x) = f(x)", "    if (x < 0) u = -u;"]
        else:
            body.append(f"    {acc} u = x;")
        body.append(f"    {acc} y;")
        lo, hi = t.lo_code, t.hi_code
        left, right = t.tails
        branches = []
        if left is not None and left.is_line:
            branches.append((f"u < {_lit(lo)}", "2. left tail: an asymptote", self._line(left)))
        if right is not None and right.is_line:
            branches.append((f"u >= {_lit(hi)}", "2. right tail: an asymptote",
                             self._line(right)))
        table_path = []
        if left is not None and not left.is_line:
            table_path.append(f"if (u < {_lit(lo)}) u = {_lit(lo)}; // 2. left tail: clamp")
        if right is not None and not right.is_line:
            table_path.append(f"if (u >= {_lit(hi)}) u = {_lit(hi - 1)}; // 2. right tail: clamp")
        table_path += self._lookup()
        for n, (cond, note, lines) in enumerate(branches):
            body.append(f"    {'if' if n == 0 else '} else if'} ({cond}) {{ // {note}")
            body += ["        " + line for line in lines]
        body.append("    } else {" if branches else "    {")
        body += ["        " + line for line in table_path]
        body += [
            "    }",
            f"    if (y < {_lit(fout.min_code)}) y = {_lit(fout.min_code)}; // 6. saturate",
            f"    if (y > {_lit(fout.max_code)}) y = {_lit(fout.max_code)};",
            f"    return y.range({fout.bits - 1}, 0);",
        ]
        return [
            f"// output code ({fout}) of input code x ({fin}): docs/ARITHMETIC.md step by step;",
            f"// every intermediate fits {self.a} bits (acc_bits {t.acc_bits} and the formats)",
            f"inline ap_uint<{fout.bits}> {self.fn}_code({_int(fin.bits, fin.signed)} x) {{",
            "    #pragma HLS INLINE",
            *body,
            "}",
        ]

    def _lookup(self) -> list[str]:
        t, acc = self.t, self.acc
        s, g = t.shift, t.guard_bits
        off = "u" if t.lo_code == 0 else f"u - {_lit(t.lo_code)}"
        lines = [f"const {acc} off = {off}; // 3. table"]
        interp = t.interp.value
        if s == 0:
            lines.append(f"{acc} acc = {self.knots}[off];")
            r = g
        elif interp == "none":
            lines.append(f"{acc} acc = {self.knots}[off >> {s}];")
            r = g
        elif interp == "nearest":
            lines.append(f"{acc} acc = {self.knots}[(off + {_lit(1 << (s - 1))}) >> {s}];")
            r = g
        elif getattr(t, "regions", None) is not None:
            lines += self._regions()
            r = g + t.regions.smax
        else:
            lines += [
                f"const {acc} i = off >> {s};",
                f"const ap_uint<{s}> w = off.range({s - 1}, 0);",
                f"const {acc} t0 = {self.knots}[i];",
                f"const {acc} t1 = {self.knots}[i + 1];",
                f"{acc} acc = (t0 << {s}) + (t1 - t0) * w;",
            ]
            r = g + s
        return lines + self._finish(r)

    def _regions(self) -> list[str]:
        """Step 3h: the region table, then the knots as a uniform table with S = SMAX."""
        reg, acc = self.t.regions, self.acc
        rb, n, smax = reg.granule_bits, len(reg.shifts), reg.smax
        bw, sw = max(1, reg.bases[-1].bit_length()), max(1, smax.bit_length())
        if not reg.equal:
            return self._counted(bw, sw)
        return [
            f"// 3h. {n} regions of 2^{rb} codes: region r = off >> {rb} starts at knot "
            "BASE[r], segments 2^S_r",
            f"static const ap_uint<{bw}> region_base[{n}] = "
            f"{{{', '.join(map(str, reg.bases))}}};",
            f"static const ap_uint<{sw}> region_shift[{n}] = "
            f"{{{', '.join(map(str, reg.shifts))}}};",
            f"const ap_uint<{max(1, (n - 1).bit_length())}> r = off >> {rb};",
            f"const {acc} o = off & {_lit((1 << rb) - 1)};",
            *self._region_read(),
        ]

    def _counted(self, bw: int, sw: int) -> list[str]:
        """Step 3h': r counts the START[k] (k >= 1) that off reaches; o = off - START[r]."""
        reg, acc = self.t.regions, self.acc
        n = reg.n
        terms = [f"(off >= region_start[{k}])" for k in range(1, n)]
        return [
            f"// 3h'. {n} counted regions: region r = the START[k], k >= 1, that off reaches; "
            "it starts at knot BASE[r], segments 2^S_r",
            f"static const ap_uint<{reg.start_bits}> region_start[{n}] = "
            f"{{{', '.join(map(str, reg.starts))}}};",
            f"static const ap_uint<{bw}> region_base[{n}] = "
            f"{{{', '.join(map(str, reg.bases))}}};",
            f"static const ap_uint<{sw}> region_shift[{n}] = "
            f"{{{', '.join(map(str, reg.shifts))}}};",
            f"const ap_uint<{max(1, (n - 1).bit_length())}> r = "
            + (" + ".join(terms) if terms else "0") + ";",
            f"const {acc} o = off - region_start[r];",
            *self._region_read(),
        ]

    def _region_read(self) -> list[str]:
        """Step 3h from the region's shift and base: i, w' and the one multiply."""
        acc, smax = self.acc, self.t.regions.smax
        return [
            f"const {acc} sr = region_shift[r];",
            f"const {acc} i = region_base[r] + (o >> sr);",
            f"const ap_uint<{smax}> w = (o & (({acc}(1) << sr) - 1)) << ({smax} - sr); "
            "// w' = w << (SMAX - S_r)",
            f"const {acc} t0 = {self.knots}[i];",
            f"const {acc} t1 = {self.knots}[i + 1];",
            f"{acc} acc = (t0 << {smax}) + (t1 - t0) * w;",
        ]

    def _line(self, tail) -> list[str]:
        return [f"{self.acc} acc = u * {_lit(tail.m)} + {_lit(tail.c)}; // 4. slope "
                f"{tail.slope!r}, intercept {tail.intercept!r}", *self._finish(tail.k)]

    def _finish(self, r: int) -> list[str]:
        t = self.t
        lines = []
        if t.fold.negates:
            f = (t.fold_f - t.fold_e) << (r - t.guard_bits)
            if t.fold_e:  # the words hold f - E, the centre: it comes back on every input
                e = t.fold_e << (r - t.guard_bits)
                lines.append(f"acc = neg ? {self.acc}({_lit(f)} - acc) : {self.acc}(acc + "
                             f"{_lit(e)}); // 5. unfold, the centre E back")
            else:
                lines.append(f"if (neg) acc = {_lit(f)} - acc; // 5. unfold")
        elif t.fold_lm:  # even_line: the line a * x, (x - Z) * LM * 2^(R - LE) output codes
            k, z = t.fold_lm << (r - t.fold_le), t.in_format.zero_point
            xz = f"({self.acc}(x) - {_lit(z)})" if z else f"{self.acc}(x)"
            lines.append(f"acc += {xz} * {_lit(k)}; // 5. the line term a * x")
        if r == 0:
            lines.append("y = acc;")
        else:  # ap_int's >> of a signed value is arithmetic: floor(a / 2^r)
            lines.append(f"y = (acc + {_lit(1 << (r - 1))}) >> {r}; // 6. round half up")
        return lines

    # ---- the hls4ml entry points ----------------------------------------------------------
    def _asserts(self, data_t: str, res_t: str) -> list[str]:
        fin, fout = self.t.in_format, self.t.out_format
        out = []
        for typ, fmt, what in ((data_t, fin, "data_T"), (res_t, fout, "res_T")):
            what = what if typ == what else f"{what}'s elements"
            kind = f"ap_{'' if fmt.signed else 'u'}fixed<{fmt.bits},{fmt.bits - fmt.frac}>"
            out += [
                f"    static_assert({typ}::width == {fmt.bits} && {typ}::iwidth == "
                f"{fmt.bits - fmt.frac} && nnet::lutgen_is_signed(({typ} *)0) == "
                f"{'true' if fmt.signed else 'false'},",
                f'                  "{self.fn}: {what} must be {kind} ({fmt}), the table\'s '
                f'{"input" if fmt is fin else "output"} format");',
            ]
        return out

    def _array(self) -> list[str]:
        fin, fout = self.t.in_format, self.t.out_format
        return [
            "// io_parallel: hls4ml's activation signature",
            "template <class data_T, class res_T, typename CONFIG_T>",
            f"void {self.fn}(data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {{",
            *self._asserts("data_T", "res_T"),
            "    #pragma HLS PIPELINE",
            "    for (unsigned ii = 0; ii < CONFIG_T::n_in; ii++) {",
            "        #pragma HLS UNROLL",
            f"        {_int(fin.bits, fin.signed)} x;",
            f"        x.range({fin.bits - 1}, 0) = data[ii].range({fin.bits - 1}, 0);",
            f"        res[ii].range({fout.bits - 1}, 0) = {self.fn}_code(x);",
            "    }",
            "}",
        ]

    def _stream(self) -> list[str]:
        fin, fout = self.t.in_format, self.t.out_format
        return [
            "// io_stream: data_T and res_T are nnet::array<element, size>",
            "template <class data_T, class res_T, typename CONFIG_T>",
            f"void {self.fn}(hls::stream<data_T> &data, hls::stream<res_T> &res) {{",
            "    typedef typename data_T::value_type data_E;",
            "    typedef typename res_T::value_type res_E;",
            *self._asserts("data_E", "res_E"),
            "    static_assert(data_T::size == res_T::size, "
            f'"{self.fn}: data_T and res_T must hold as many elements");',
            "    for (unsigned i = 0; i < CONFIG_T::n_in / res_T::size; i++) {",
            "        #pragma HLS PIPELINE",
            "        data_T in_data = data.read();",
            "        res_T out_data;",
            "        PRAGMA_DATA_PACK(out_data)",
            "        for (unsigned j = 0; j < res_T::size; j++) {",
            "            #pragma HLS UNROLL",
            f"            {_int(fin.bits, fin.signed)} x;",
            f"            x.range({fin.bits - 1}, 0) = in_data[j].range({fin.bits - 1}, 0);",
            f"            out_data[j].range({fout.bits - 1}, 0) = {self.fn}_code(x);",
            "        }",
            "        res.write(out_data);",
            "    }",
            "}",
        ]
