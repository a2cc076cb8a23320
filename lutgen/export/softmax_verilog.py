"""``lutgen_<name>.v``: a pipelined Verilog-2001 softmax computing docs/SOFTMAX.md.

The two tables are ordinary element-wise modules (:mod:`lutgen.export.verilog`):
``lutgen_<name>_exp`` with ``LANES = N`` (N lookups per cycle; every lane reads the
same ROM description, which synthesis copies per pair of read ports) and
``lutgen_<name>_recip`` with one lane, each with its ``.mem`` files. The glue is
written here with every width resolved: a max tree, the differences, an adder
tree, a priority encoder and barrel shift, N multiplies, one rounding and the
saturation, with a register after every tree level and every step, so the
latency is ``2 L + Le + Lr + 4`` cycles (:func:`softmax_latency`).
Reads a :class:`~lutgen.softmax.Softmax`; imports no numba.
"""

from __future__ import annotations

from .. import __version__
from ._common import Artifact
from ._rtl import ext, latency, lit, vec
from .mem import comment_block, module_roms
from .mem import render as render_mem
from .softmax_c import softmax_command
from .verilog import render as render_table

__all__ = ["render", "softmax_latency", "memories"]


def softmax_latency(sm) -> int:
    """Cycles from ``in_valid`` to ``out_valid``: ``2 L + Le + Lr + 4``.

    L registers of the max tree, one of the differences, the exp module's Le, L of
    the adder tree, one of the normalisation, the recip module's Lr, one of the
    products and y.
    """
    return 2 * sm.extra_bits + latency(sm.exp_table) + latency(sm.recip_table) + 4


def memories(sm, name: str) -> list[tuple[str, str, str, str, int]]:
    """The ROMs: ``(instance, label, softmax parameter, default file, words)``."""
    out = []
    for inst, table, sub in (("u_exp", sm.exp_table, f"{name}_exp"),
                             ("u_recip", sm.recip_table, f"{name}_recip")):
        prefix = "EXP_" if inst == "u_exp" else "RECIP_"
        out += [(inst, *rom) for rom in module_roms(table, sub, prefix)]
    return out


def render(sm, name: str) -> list[Artifact]:
    """``lutgen_<name>.v``, the two table modules and their memory files."""
    arts = [Artifact(f"lutgen_{name}.v", _Glue(sm, name).text())]
    for table, sub in ((sm.exp_table, f"{name}_exp"), (sm.recip_table, f"{name}_recip")):
        arts += [a for a in render_table(table, None, sub) if not a.filename.endswith("_axis.v")]
        arts += render_mem(table, None, sub)
    return arts


class _Glue:
    """The softmax module's text; ``regs`` are the data registers (loaded on ce)."""

    def __init__(self, sm, name: str):
        self.sm, self.name = sm, name
        self.n, self.L = sm.n, sm.extra_bits
        self.b, self.bo = sm.in_format.bits, sm.out_format.bits
        self.we, self.wr = sm.exp_table.out_format.bits, sm.recip_table.out_format.bits
        self.ws, self.m = sm.sum_bits, sm.mantissa_bits
        self.le, self.lr = latency(sm.exp_table), latency(sm.recip_table)
        self.lat = softmax_latency(sm)
        self.lines: list[str] = []
        self.regs: list[str] = []
        self.unused: list[str] = []

    def w(self, line: str = "") -> None:
        self.lines.append(line)

    def reg(self, decl: str, name: str, nxt: str) -> str:
        """A data register loaded with ``nxt`` at every enabled edge."""
        self.regs.append(f"reg {decl}{name};")
        self.w(f"always @(posedge clk) if (ce) {name} <= {nxt};")
        return name

    def delay(self, decl: str, name: str, src: str, count: int) -> str:
        for k in range(1, count + 1):
            src = self.reg(decl, f"{name}_d{k}", src)
        return src

    # -- steps 1 and 2: max tree, differences ---------------------------------------------
    def max_tree(self) -> None:
        n, b, signed = self.n, self.b, self.sm.in_format.signed
        self.w(f"// ---- steps 1-2: max tree ({self.L} registered levels), d_i = m - x_i")
        for i in range(n):
            self.w(f"wire {vec(b, signed)}x_{i} = x[{i * b} +: {b}];")
        nodes, lvl = [f"x_{i}" for i in range(n)], 0
        xs = "x"
        while len(nodes) > 1:
            lvl += 1
            nxt = []
            for j in range(0, len(nodes) - 1, 2):
                a, c = nodes[j], nodes[j + 1]
                nxt.append(self.reg(vec(b, signed), f"max{lvl}_{j // 2}",
                                    f"{a} >= {c} ? {a} : {c}"))
            if len(nodes) % 2:
                nxt.append(self.reg(vec(b, signed), f"max{lvl}_{len(nodes) // 2}", nodes[-1]))
            nodes = nxt
            xs = self.reg(vec(n * b), f"x_d{lvl}", xs)
        self.w(f"// m - x_i >= 0 is below 2^{b}: exact in {b} bits, modulo 2^{b}")
        diffs = []
        for i in range(n):
            self.w(f"wire {vec(b)}d_{i} = {nodes[0]} - {xs}[{i * b} +: {b}];")
            diffs.append(f"d_{i}")
        self.reg(vec(n * b), "d_q", "{" + ", ".join(reversed(diffs)) + "}")

    # -- steps 3 and 4: exp lookups, adder tree -------------------------------------------
    def tables(self) -> None:
        n, we, L = self.n, self.we, self.L
        params = [m for m in memories(self.sm, self.name) if m[0] == "u_exp"]
        self.w("")
        self.w(f"// ---- step 3: e_i = EXP(d_i), {n} lanes of lutgen_{self.name}_exp "
               f"({self.le} cycles)")
        self.w(f"wire {vec(n * we)}e_all;")
        self.w("wire exp_valid_unused;")
        overrides = ", ".join(f".{p[2][4:]}({p[2]})" for p in params)
        self.w(f"lutgen_{self.name}_exp #(.LANES({n}), {overrides}) u_exp (")
        self.w(f"    .clk(clk), .rst(rst), .ce(ce), .in_valid(valid_q[{L}]), .x(d_q),")
        self.w("    .out_valid(exp_valid_unused), .y(e_all));")
        self.w(f"// ---- step 4: S = sum e_i, {L} registered levels, {self.ws} bits")
        nodes = [f"e_all[{i * we} +: {we}]" for i in range(n)]
        width, lvl = we, 0
        while len(nodes) > 1:
            lvl += 1
            nxt = []
            for j in range(0, len(nodes) - 1, 2):
                nxt.append(self.reg(vec(width + 1), f"sum{lvl}_{j // 2}",
                                    f"{ext(nodes[j], width, False, width + 1)} + "
                                    f"{ext(nodes[j + 1], width, False, width + 1)}"))
            if len(nodes) % 2:
                nxt.append(self.reg(vec(width + 1), f"sum{lvl}_{len(nodes) // 2}",
                                    ext(nodes[-1], width, False, width + 1)))
            nodes, width = nxt, width + 1
        self.s = nodes[0]
        self.e_late = self.delay(vec(n * we), "e", "e_all", L + 1 + self.lr)

    # -- steps 5 to 7: leading one, mantissa, reciprocal ----------------------------------
    def normalise(self) -> None:
        sm, ws, m, s = self.sm, self.ws, self.m, self.s
        kmin = sm.k_min
        fr, fo = sm.recip_table.out_format.frac, sm.out_format.frac
        zw = max(1, (ws - 1 - kmin).bit_length())
        hsw = max(1, (sm.shift(ws - 1) - 1).bit_length())
        self.w("")
        self.w(f"// ---- steps 5-6: leading one k of S (priority encoder, k >= kmin = {kmin}),")
        self.w("// z = Ws - 1 - k, the M bits below the leading one, hs = sh - 1 = Fr + k - Fo - 1")
        lead_z = _chain(s, kmin, ws, lambda p: lit(ws - 1 - p, zw, False))
        lead_hs = _chain(s, kmin, ws, lambda p: lit(fr + p - fo - 1, hsw, False))
        self.w(f"wire {vec(zw)}lead_z = {lead_z};")
        self.w(f"wire {vec(hsw)}lead_hs = {lead_hs};")
        self.w(f"wire {vec(ws)}s_norm = {s} << lead_z;  // leading one at bit {ws - 1}")
        if ws == 1:
            mant = lit(0, m, False)
            self.unused.append("s_norm")
        elif m <= ws - 1:
            mant = f"s_norm[{ws - 2}:{ws - 1 - m}]"
            self.unused.append(f"s_norm[{ws - 1}]")
            if ws - 1 - m > 0:
                self.unused.append(f"s_norm[{ws - 2 - m}:0]")
        else:
            mant = f"{{s_norm[{ws - 2}:0], {lit(0, m - ws + 1, False)}}}"
            self.unused.append(f"s_norm[{ws - 1}]")
        f = self.reg(vec(m), "mant_q", mant)
        hs_q = self.reg(vec(hsw), "hs_q", "lead_hs")
        params = [p for p in memories(sm, self.name) if p[0] == "u_recip"]
        overrides = ", ".join(f".{p[2][6:]}({p[2]})" for p in params)
        self.w(f"// ---- step 7: r = RECIP(f) ({self.lr} cycles)")
        self.w(f"wire {vec(self.wr)}r;")
        self.w("wire recip_valid_unused;")
        self.w(f"lutgen_{self.name}_recip #(.LANES(1), {overrides}) u_recip (")
        valid = f"valid_q[{2 * self.L + self.le + 1}]"
        self.w(f"    .clk(clk), .rst(rst), .ce(ce), .in_valid({valid}), .x({f}),")
        self.w("    .out_valid(recip_valid_unused), .y(r));")
        self.hs = self.delay(vec(hsw), "hs", hs_q, self.lr + 1)
        self.hs_mul = f"hs_d{self.lr}"  # beside r: the products' stage

    # -- steps 8 to 10: multiply, round, saturate -----------------------------------------
    def outputs(self) -> None:
        we, wr, bo = self.we, self.wr, self.bo
        pw = we + wr
        fo = self.sm.out_format
        ymax = fo.max_code
        self.w("")
        self.w(f"// ---- step 8: P_i = e_i * r ({pw} bits, unsigned) + 2^hs, registered")
        self.w(f"// ---- steps 9-10: y_i = min((P_i + 2^(sh-1)) >> sh, {ymax}), sh = hs + 1")
        self.w("genvar i;")
        self.w("generate")
        self.w("for (i = 0; i < N; i = i + 1) begin : lane")
        body = [
            f"wire {vec(pw)}prod = {self.e_late}[i*{we} +: {we}] * r;",
            "// the rounding half joins the product (a DSP's post-adder), so the y stage",
            "// holds only the shift and the saturation",
            f"wire {vec(pw + 1)}up = {ext('prod', pw, False, pw + 1)} + "
            f"({lit(1, pw + 1, False)} << {self.hs_mul});",
            f"reg {vec(pw + 1)}up_q;",
            "always @(posedge clk) if (ce) up_q <= up;",
            f"wire {vec(pw + 1)}shifted = up_q >> {self.hs};  // (P + 2^hs) >> hs",
        ]
        # round_shift(P, sh) = ((P + 2^hs) >> hs) >> 1; it is at most 2^(pw + 1 - sh_min) - 1
        yw = pw
        if ymax >= (1 << yw) - 1:
            sat = ext("shifted[%d:1]" % pw, yw, False, bo) if yw < bo else "shifted[%d:1]" % pw
            body.append(f"wire {vec(bo)}ysat = {sat};  // never above {fo.max_code}")
        else:
            low = f"shifted[{bo}:1]" if bo < yw else ext(f"shifted[{pw}:1]", yw, False, bo)
            body.append(f"wire {vec(bo)}ysat = shifted[{pw}:1] > {lit(ymax, yw, False)} ? "
                        f"{lit(ymax, bo, False)} : {low};  // saturate to {fo}")
        body.append("wire _unused_ok = &{1'b0, shifted[0], 1'b0};")
        body.append(f"reg {vec(bo)}y_lane;")
        body.append("always @(posedge clk) if (ce && !rst && valid_q[LATENCY-2]) "
                    "y_lane <= ysat;")
        body.append(f"assign y[i*{bo} +: {bo}] = y_lane;  // held while nothing is valid")
        self.lines += [f"    {line}" for line in body]
        self.w("end")
        self.w("endgenerate")

    def text(self) -> str:
        self.max_tree()
        self.tables()
        self.normalise()
        self.outputs()
        if self.unused:
            self.w("")
            self.w("// never read: the bits around the mantissa, the tables' own valid outputs")
            self.w(f"wire _unused_ok = &{{1'b0, {', '.join(self.unused)}, 1'b0}};")
        sm, lat = self.sm, self.lat
        mems = memories(sm, self.name)
        params = ",\n".join(f'    parameter {p} = "{f}"' for _, _, p, f, _ in mems)
        valid = ("valid_q <= in_valid;" if lat == 2
                 else f"valid_q <= {{valid_q[{lat - 3}:0], in_valid}};")
        body = "\n".join(f"    {x}" if x else "" for x in self.regs + [""] + self.lines)
        return comment_block(self.header(), "//") + f"""
`default_nettype none

module lutgen_{self.name} #(
{params}
) (
    input  wire clk,
    input  wire rst,
    input  wire ce,
    input  wire in_valid,
    input  wire [{self.n * self.b - 1}:0] x,
    output reg  out_valid,
    output wire [{self.n * self.bo - 1}:0] y
);
    localparam N = {self.n};  // the vector length, fixed by the build
    localparam LATENCY = {lat};  // cycles from in_valid to out_valid
    reg [LATENCY-2:0] valid_q;  // valid_q[k]: the values behind k + 1 registers are valid

    always @(posedge clk) begin  // synchronous reset of the valid bits only
        if (rst) begin
            valid_q <= {lat - 1}'d0;
            out_valid <= 1'b0;
        end else if (ce) begin
            {valid}
            out_valid <= valid_q[LATENCY-2];
        end
    end

{body}
endmodule

`default_nettype wire
"""

    def header(self) -> list[str]:
        sm, name, L = self.sm, self.name, self.L
        e, r = sm.exp_table, sm.recip_table
        mems = "; ".join(f"{inst}.{label}_mem ({words} words, {p})"
                         for inst, label, p, _, words in memories(sm, name))
        return [
            f"Generated by lutgen {__version__} -- do not edit.",
            f"Regenerate: {softmax_command(sm, name)} --emit verilog",
            "",
            f"lutgen_{name}: y = softmax(x) over N = {sm.n} codes, exactly the integers of",
            "docs/SOFTMAX.md (the same as lutgen's kernel and C export).",
            f"  x: N input codes of {sm.in_format} side by side, code i in bits "
            f"[i*{self.b} +: {self.b}];",
            f"  y: N output codes of {sm.out_format}, code i in bits [i*{self.bo} +: {self.bo}].",
            "  N is fixed by the build (the widths depend on it): rebuild for another N.",
            f"  Latency: {self.lat} cycles = 2 L + Le + Lr + 4 with L = ceil(log2 N) = {L},",
            f"  Le = {self.le} (lutgen_{name}_exp), Lr = {self.lr} (lutgen_{name}_recip):",
            f"  {L} max-tree levels, d, exp, {L} adder-tree levels, the normalisation, recip,",
            "  the products, y. One vector per cycle: x is sampled at a rising edge k with",
            "  in_valid high; its y is on the output, with out_valid high, from just after",
            f"  edge k + {self.lat} - 1. ce (clock enable) stalls everything; a result is taken",
            "  at an edge with ce and out_valid high. y loads only with a valid result. rst",
            "  (synchronous, active high, above ce) clears the valid bits only.",
            f"  Widths: d {sm.diff_format}; e {e.out_format}; sum {sm.sum_bits} bits; mantissa "
            f"u{sm.mantissa_bits}.{sm.mantissa_bits};",
            f"  r {r.out_format}; products {sm.product_bits} bits; sh = Fr + k - Fo from "
            f"{sm.shift(sm.k_min)} to {sm.shift(sm.sum_bits - 1)}.",
            f"  Tables: lutgen_{name}_exp.v ({e.rom_bits} ROM bits, {sm.n} lanes: each lane reads",
            "  the same ROM; synthesis makes one copy per one or two read ports) and",
            f"  lutgen_{name}_recip.v ({r.rom_bits} ROM bits).",
            f"  Memories: {mems}.",
            "  $readmemh resolves file names from the tool's working directory: run the",
            "  simulator or synthesis there, or override the *MEMFILE* parameters with full paths.",
        ]


def _chain(s: str, kmin: int, ws: int, const) -> str:
    """``s[ws-1] ? c(ws-1) : s[ws-2] ? ... : c(kmin)``: a priority encoder of the leading one."""
    expr = const(kmin)
    for p in range(kmin + 1, ws):
        expr = f"{s}[{p}] ? {const(p)} : {expr}"
    return expr
