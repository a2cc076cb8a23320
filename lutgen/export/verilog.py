"""``lutgen_<name>.v``: a synthesizable Verilog-2001 module computing docs/ARITHMETIC.md.

Every width is resolved here, so the only parameters are the memory files and
Verilator ``-Wall`` sees no implicit extension or truncation: values are
extended explicitly to ``table.acc_bits``, in which every step of the contract
is exact (the compiler's bound), so no wider temporaries are needed. The
memory layout is :func:`lutgen.export.mem.rom_banks`.
"""

from __future__ import annotations

from ._common import Artifact, provenance_lines
from .mem import comment_block, rom_banks

__all__ = ["render", "LATENCY", "latency"]

LATENCY = 2  # cycles from in_valid to out_valid


def latency(table) -> int:
    """Cycles from ``in_valid`` to ``out_valid`` of ``table``'s module."""
    return LATENCY


def lit(value: int, width: int, signed: bool = True) -> str:
    """A sized literal: ``W'sdV``, ``-W'sdV`` (hex for the most negative), or ``W'dV``."""
    if not signed:
        return f"{width}'d{value & ((1 << width) - 1)}"
    if value >= 0 or -value < 1 << (width - 1):
        return f"{'-' if value < 0 else ''}{width}'sd{abs(value)}"
    return f"{width}'sh{value & ((1 << width) - 1):x}"


def ext(sig: str, width: int, signed: bool, to: int) -> str:
    """Signal ``sig`` sign- or zero-extended (or sliced) from ``width`` to ``to`` bits."""
    if to <= width:
        return sig if to == width else f"{sig}[{to - 1}:0]"
    fill = f"{sig}[{width - 1}]" if signed else "1'b0"
    return f"{{{{{to - width}{{{fill}}}}}, {sig}}}"


def vec(width: int, signed: bool = False) -> str:
    return ("signed " if signed else "") + f"[{width - 1}:0] "


def render(table, report, name: str) -> list[Artifact]:
    return [Artifact(f"lutgen_{name}.v", _Module(table, report, name).text())]


class _Module:
    """Builds the module text, stage by stage, with every width resolved."""

    def __init__(self, table, report, name):
        self.t, self.report, self.name, self.acc = table, report, name, table.acc_bits
        self.lines: list[str] = []
        self.regs: list[tuple[str, str, str]] = []  # (declaration, name, next value)
        self.unused: list[str] = []  # bits the arithmetic provably never reads
        self.mems: list[tuple[str, str, str, int]] = []  # (label, parameter, file, words)
        self.banked = table.interp.value == "linear" and table.shift > 0
        self.negates = table.fold.negates
        self.iw = (table.entries - 1).bit_length()  # bits of the segment index i

    def w(self, line: str = "") -> None:
        self.lines.append(f"    {line}" if line else "")

    def wire(self, decl: str, expr: str, note: str = "") -> None:
        self.w(f"wire {decl} = {expr};" + (f"  // {note}" if note else ""))

    # -- stage 1: fold, path selection, ROM read, line tails -----------------------------
    def stage1(self) -> None:
        t, bi = self.t, self.t.in_format.bits
        self.w("// ---- stage 1: fold, path selection, ROM address (the ROM registers the data)")
        self.u, self.uw, self.us = "x", bi, t.in_format.signed
        z = t.in_format.zero_point
        if t.fold and z != 0:  # mirror about the zero point Z, the code of real 0
            si = t.in_format.signed
            self.w(f"// u = x < Z ? 2Z - x : x about Z = {z}, x widened by two bits first")
            self.wire(f"signed [{bi + 1}:0] x_wide", ext("x", bi, si, bi + 2) if si
                      else "{2'b00, x}")
            self.wire("below", f"x_wide < {lit(z, bi + 2)}")
            self.wire(f"signed [{bi + 1}:0] u", f"below ? {lit(2 * z, bi + 2)} - x_wide : x_wide")
            self.u, self.uw, self.us = "u", bi + 2, True
            if self.negates:
                self.wire("neg", "below", f"f(x) = F - f(2Z - x) for x < Z (fold {t.fold.value})")
                self.regs.append(("", "neg_q", "neg"))
        elif t.fold:
            self.w(f"// |x| with x widened by one bit first, so -x of {t.in_format.min_code} fits")
            self.wire(f"signed [{bi}:0] x_wide", f"{{x[{bi - 1}], x}}")
            self.wire(f"signed [{bi}:0] u", f"x[{bi - 1}] ? -x_wide : x_wide")
            self.u, self.uw, self.us = "u", bi + 1, True
            if self.negates:
                self.wire("neg", f"x[{bi - 1}]", f"f(x) = F - f(|x|) for x < 0 (fold {t.fold.value})")
                self.regs.append(("", "neg_q", "neg"))
        # (tail, condition wire, offset it clamps to) of the sides that have inputs
        sides = [(tail, cond, code, end) for tail, cond, code, end in zip(
            t.tails, ("below", "above"), (t.lo_code, t.hi_code), (0, -1)) if tail]
        for _, cond, code, _ in sides:
            op = "<" if cond == "below" else ">="
            self.wire(cond, f"{self.u} {op} {lit(code, self.uw, self.us)}", f"u {op} "
                      + ("LO" if cond == "below" else "HI"))
        clamps = [(cond, end) for tail, cond, _, end in sides if not tail.is_line]
        ow = self.iw + t.shift
        if ow:
            off = ext(self.u, self.uw, self.us, ow)
            off += f" - {lit(t.lo_code, ow, False)}" if t.lo_code % (1 << ow) else ""
            for cond, end in reversed(clamps):
                off = f"{cond} ? {lit(end, ow, False)} : {off}"
            self.wire(f"{vec(ow)}off", off, "off = u - LO; clamp tails hold the table's ends")
        else:  # a one-code table: clamping cannot change the offset
            self.unused += [cond for cond, _ in clamps]
        if self.iw:
            self.wire(f"{vec(self.iw)}seg", f"off[{ow - 1}:{t.shift}]", "i = off >> S")
        self.roms()
        line_sides = [(tail, cond) for tail, cond, _, _ in sides if tail.is_line]
        if line_sides:
            self.line_tails(line_sides)

    def roms(self) -> None:
        s, iw = self.t.shift, self.iw
        seg = "seg" if iw else "1'b0"
        if self.banked:
            even, odd = seg, "1'b0"
            if iw >= 2:
                even = f"{{1'b0, seg[{iw - 1}:1]}} + {ext('seg[0]', 1, False, iw)}"
                odd = f"seg[{iw - 1}:1]"
            self.w("// knot k sits in bank k & 1 at word k >> 1: T[i] and T[i+1] in one cycle")
            self.rom(0, even, "(i + 1) >> 1")
            self.rom(1, odd, "i >> 1")
            self.regs.append((vec(s), "frac_q", f"off[{s - 1}:0]"))
            self.regs += [("", "swap_q", "seg[0]")] if iw else []
        elif self.t.interp.value == "nearest" and s:
            addr = f"{{1'b0, seg}} + {ext(f'off[{s - 1}]', 1, False, iw + 1)}" \
                if iw else f"off[{s - 1}]"
            self.unused += [f"off[{s - 2}:0]"] if s > 1 else []
            self.rom(0, addr, "j = (off + 2^(S-1)) >> S = i + off[S-1]")
        else:
            addr = seg if self.t.interp.value == "none" or not iw else f"{{1'b0, {seg}}}"
            self.unused += [f"off[{s - 1}:0]"] if s else []
            self.rom(0, addr, "i")

    def rom(self, bank: int, addr: str, note: str) -> None:
        suffix, _, words = rom_banks(self.t)[bank]
        label, param = suffix.lstrip("_") or "rom", "MEMFILE" + suffix.upper()
        sb = self.t.store_bits
        self.mems.append((label, param, f"{self.name}{suffix}.mem", len(words)))
        self.w(f"reg {vec(sb)}{label}_mem [0:{len(words) - 1}];")
        self.w(f"initial $readmemh({param}, {label}_mem);")
        self.w(f"reg {vec(sb)}{label}_q;")
        self.w(f"always @(posedge clk) {label}_q <= {label}_mem[{addr}];  // {note}")

    def line_tails(self, lines) -> None:
        acc = self.acc
        self.w("// line tails (asymptotes): acc = u*M + C, R = K; computed in stage 1")
        if any(tail.m for tail, _ in lines):
            self.wire(f"signed [{acc - 1}:0] u_acc", ext(self.u, self.uw, self.us, acc))
        ys = []
        for tail, cond in lines:
            side = "left" if cond == "below" else "right"
            m, c, k = tail.m, tail.c, tail.k
            expr = lit(c, acc)
            if m:
                expr = f"u_acc * {'(' * (m < 0)}{lit(m, acc)}{')' * (m < 0)}" + (
                    f" {'-' if c < 0 else '+'} {lit(abs(c), acc)}" if c else "")
            self.wire(f"signed [{acc - 1}:0] {side}_acc", expr, f"M = {m}, C = {c}, K = {k}")
            ys.append(self.round_unfold(f"{side}_acc", f"{side}_y", k, "neg"))
        if len(ys) == 2:
            self.wire(f"signed [{acc - 1}:0] line_y", f"below ? {ys[0]} : {ys[1]}")
        self.saturate("line_y" if len(ys) == 2 else ys[0], "line_sat")
        self.regs += [("", "line_q", " | ".join(cond for _, cond in lines)),
                      (vec(self.t.out_format.bits), "line_sat_q", "line_sat")]

    # -- the contract's steps 5 and 6, shared by both stages -----------------------------
    def round_unfold(self, src: str, dst: str, r: int, neg: str) -> str:
        acc = self.acc
        if self.negates:
            f = self.t.fold_f << (r - self.t.guard_bits)
            minus = f"{lit(f, acc)} - {src}" if f else f"-{src}"
            self.wire(f"signed [{acc - 1}:0] {src}_unf", f"{neg} ? {minus} : {src}",
                      f"unfold: (F << (R - G)) - acc, F = {self.t.fold_f}")
            src += "_unf"
        if r == 0:
            return src
        self.wire(f"signed [{acc - 1}:0] {dst}", f"({src} + {lit(1 << (r - 1), acc)}) >>> {r}",
                  f"round_shift(acc, {r}): add half, arithmetic shift")
        return dst

    def saturate(self, src: str, dst: str) -> None:
        fo, acc = self.t.out_format, self.acc
        bo, pw = fo.bits, max(acc, fo.bits + 2)  # wide enough for both limits and beyond
        if pw > acc:
            self.wire(f"signed [{pw - 1}:0] {dst}_wide", ext(src, acc, True, pw))
            src = f"{dst}_wide"
        self.w(f"wire {vec(bo)}{dst} = {src} > {lit(fo.max_code, pw)} ? "
               f"{lit(fo.max_code, bo, False)} :")
        self.w(f"    {src} < {lit(fo.min_code, pw)} ? {lit(fo.min_code, bo, False)} : "
               f"{src}[{bo - 1}:0];  // saturate to {fo}")

    # -- stage 2: interpolation, unfold, rounding, saturation ----------------------------
    def stage2(self) -> None:
        t, acc = self.t, self.acc
        sb, ss, s = t.store_bits, t.store_signed, t.shift
        self.w()
        self.w("// ---- stage 2: table value, unfold, round once, saturate, register y")
        if self.banked:
            swap = "swap_q" if self.iw else "1'b0"
            self.wire(f"{vec(sb)}knot_a", f"{swap} ? odd_q : even_q", "T[i]")
            self.wire(f"{vec(sb)}knot_b", f"{swap} ? even_q : odd_q", "T[i+1]")
            self.wire(f"signed [{sb}:0] knot_d",
                      f"{ext('knot_b', sb, ss, sb + 1)} - {ext('knot_a', sb, ss, sb + 1)}")
            self.w(f"wire signed [{acc - 1}:0] tab_acc = ({ext('knot_a', sb, ss, acc)} <<< {s}) +")
            self.w(f"    {ext('knot_d', sb + 1, True, acc)} * {ext('frac_q', s, False, acc)};"
                   "  // (T[i] << S) + (T[i+1] - T[i]) * w")
            r = t.guard_bits + s
        else:
            self.wire(f"signed [{acc - 1}:0] tab_acc", ext("rom_q", sb, ss, acc))
            r = t.guard_bits
        self.saturate(self.round_unfold("tab_acc", "tab_y", r, "neg_q"), "tab_sat")
        pick = "line_q ? line_sat_q : tab_sat" if any(n == "line_q" for _, n, _ in self.regs) \
            else "tab_sat"
        self.w(f"always @(posedge clk) y <= {pick};")

    def text(self) -> str:
        self.stage1()
        self.w("always @(posedge clk) begin")
        self.lines += [f"        {n} <= {v};" for _, n, v in self.regs] + ["    end"]
        self.stage2()
        if self.unused:
            self.lines += ["", "    // never read: the offset inside a segment (none/nearest), clamps",
                           "    // of a one-code table; Verilator's --unused-regexp knows the name",
                           f"    wire _unused_ok = &{{1'b0, {', '.join(self.unused)}, 1'b0}};"]
        fi, fo = self.t.in_format, self.t.out_format
        doc = provenance_lines(self.t, self.report, self.name) + [""] + self.header()
        return comment_block(doc, "//") + _MODULE.format(
            name=self.name, x=vec(fi.bits, fi.signed), y=vec(fo.bits, fo.signed),
            params=",\n".join(f'    parameter {p} = "{f}"' for _, p, f, _ in self.mems),
            regs="".join(f"    reg {d}{n};\n" for d, n, _ in self.regs),
            body="\n".join(self.lines))

    def header(self) -> list[str]:
        t, fi, fo = self.t, self.t.in_format, self.t.out_format
        mems = ", ".join(f"{label}_mem ({n} x {t.store_bits} bits, {p})"
                         for label, p, _, n in self.mems)
        text = _HEADER.format(
            name=self.name, fi=fi, fo=fo, sign="signed" if fi.signed else "unsigned", t=t,
            lat=LATENCY, acc=self.acc, mems=mems, why=_WHY_BANKS if self.banked else "")
        return text.splitlines()


_MODULE = """
`default_nettype none

module lutgen_{name} #(
{params}
) (
    input  wire clk,
    input  wire rst,
    input  wire in_valid,
    input  wire {x}x,
    output reg  out_valid,
    output reg  {y}y
);
    reg valid_q;
{regs}
    always @(posedge clk) begin  // synchronous reset of the valid bits only
        if (rst) begin
            valid_q <= 1'b0;
            out_valid <= 1'b0;
        end else begin
            valid_q <= in_valid;
            out_valid <= valid_q;
        end
    end

{body}
endmodule

`default_nettype wire
"""
_HEADER = """\
lutgen_{name}: y = f(x) exactly as docs/ARITHMETIC.md computes it.
  x: input code, {fi} ({sign} {fi.bits} bits); y: output code, {fo}.
  Latency: {lat} cycles. x is sampled on a rising edge with in_valid high; its y is
  on the output while out_valid is high, {lat} rising edges later. One input per
  cycle; rst (synchronous, active high) clears the valid bits only.
  Stage 1: fold, tail selection, ROM address; the ROM data is registered (the
  block-RAM template: synchronous read). Line tails are computed here.
  Stage 2: the table value (one multiply for linear), unfold, one rounding,
  saturation, registered y.
  Constants: LO = {t.lo_code}, HI = {t.hi_code}, S = {t.shift}, N = {t.entries}, \
G = {t.guard_bits}, F = {t.fold_f}; accumulator {acc} bits (acc_bits).
  Memories: {mems}; the data files hold only
  the words, described in {name}_rom.txt.
{why}\
  $readmemh resolves file names from the tool's working directory: run the
  simulator or synthesis there, or override the MEMFILE parameters with full paths.
"""
_WHY_BANKS = """\
  Linear interpolation reads T[i] and T[i+1] in one cycle. Knots i and i+1 always
  lie in different banks (even/odd knots), so each bank is a plain ROM with one
  synchronous read port, which every vendor maps to one block RAM (or LUT ROM),
  and the banks hold exactly the table's N+1 words; a wide (knot, delta) word
  would store N words of 2*store_bits+1 bits, about twice the bits.
"""
