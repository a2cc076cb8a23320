"""One lane's datapath of the element-wise Verilog module: docs/ARITHMETIC.md step by step.

Every width is resolved here, so Verilator ``-Wall`` sees no implicit truncation:
values are extended explicitly to widths in which every step of the contract is
exact (``table.acc_bits``, or the bounds of the table's own knots); only the one
multiply's narrow operands are extended by their context, so synthesis sees a
narrow signed multiply. The datapath is a sequence of steps with a possible
register cut between neighbours (:data:`lutgen.export._rtl.CUTS`).
:mod:`lutgen.export.verilog` wraps one or two of them (a shared pair) in a module.
"""

from __future__ import annotations

from ._rtl import (banked, banked_ranges, cuts_of, ext, latency, line_term_range, lit,
                   regions_of, rom_attribute, signed_bits, vec)
from ._rtl_counted import at_least
from ._rtl_regions import (above_expr, address_adders, decode, even_address_bits,
                           offset_bits)
from .mem import module_roms

__all__ = ["Datapath"]


class Datapath:
    """One lane's datapath, step by step, with every width resolved.

    ``live`` maps each value later steps still read to its current signal and
    declaration; a register cut registers every live value (and renames it).
    ``side``: the prefix of the module ports this lane reads and drives (``x``, ``y``,
    ``valid_q``): empty, or ``tanh_`` for the tanh of a shared pair. ``roms``: the
    Datapath whose ROMs this one reads (a shared sigmoid reads its tanh's); its
    addresses are widened to theirs.
    """

    def __init__(self, table, name, side: str = "", roms: "Datapath | None" = None):
        self.t, self.name, self.acc = table, name, table.acc_bits
        self.side, self.roms = side, roms
        self.lines: list[str] = []
        self.regs: list[str] = []  # register declarations
        self.unused: list[str] = []  # bits the arithmetic provably never reads
        # (label, parameter, file, words) of the ROMs read, and their address bits
        self.mems: list[tuple[str, str, str, int]] = [] if roms is None else roms.mems
        self.addr_bits: dict[str, int] = {}
        self.banked = banked(table)
        self.negates = table.fold.negates
        self.regions = regions_of(table)  # None, or the regions of docs/ARITHMETIC.md 3h
        self.iw = (table.entries - 1).bit_length()  # bits of the segment index i
        self.cuts = cuts_of(table)
        self.latency = latency(table)
        self.live: dict[str, tuple[str, str]] = {}  # value -> (signal, declaration)
        self.stage = 1
        self.memlines: list[str] = []  # the ROMs, shared by every lane
        self.x = "x_lane"  # this lane's input code

    def w(self, line: str = "") -> None:
        self.lines.append(f"    {line}" if line else "")

    def wire(self, decl: str, expr: str, note: str = "") -> None:
        self.w(f"wire {decl} = {expr};" + (f"  // {note}" if note else ""))

    def put(self, value: str, sig: str, decl: str) -> None:
        self.live[value] = (sig, decl)

    def get(self, value: str, keep: bool = False) -> str:
        sig = self.live[value][0]
        if not keep:
            del self.live[value]
        return sig

    def cut(self, name: str, extra=()) -> None:
        """Register every live value (and ``extra`` (declaration, reg, next) triples)."""
        if name != "read" and name not in self.cuts:
            return
        self.stage += 1
        self.w()
        self.w(f"// ---- register cut '{name}': stage {self.stage} begins")
        assigns = []
        for value, (sig, decl) in list(self.live.items()):
            reg = f"{value}_s{self.stage}"
            self.regs.append(f"reg {decl}{reg};")
            assigns.append(f"{reg} <= {sig};")
            self.live[value] = (reg, decl)
        for decl, reg, nxt in extra:
            self.regs.append(f"reg {decl}{reg};")
            assigns.append(f"{reg} <= {nxt};")
        self.w("always @(posedge clk) if (ce) begin")
        self.lines += [f"        {a}" for a in assigns] + ["    end"]

    # -- input stage: fold --------------------------------------------------------------
    def front(self) -> None:
        t, bi, x = self.t, self.t.in_format.bits, self.x
        self.w("// ---- stage 1: fold, path selection, ROM address")
        z = t.in_format.zero_point
        if t.fold and z != 0:  # mirror about the zero point Z, the code of real 0
            si = t.in_format.signed
            self.w(f"// u = x < Z ? 2Z - x : x about Z = {z}, x widened by two bits first")
            self.wire(f"signed [{bi + 1}:0] x_wide", ext(x, bi, si, bi + 2) if si
                      else f"{{2'b00, {x}}}")
            self.wire("below", f"x_wide < {lit(z, bi + 2)}")
            self.wire(f"signed [{bi + 1}:0] u", f"below ? {lit(2 * z, bi + 2)} - x_wide : x_wide")
            self.put("u", "u", f"signed [{bi + 1}:0] ")
            if self.negates:
                self.wire("neg", "below", f"f(x) = F - f(2Z - x) for x < Z (fold {t.fold.value})")
                self.put("neg", "neg", "")
            self.uw, self.us = bi + 2, True
        elif t.fold:
            self.w(f"// |x| with x widened by one bit first, so -x of {t.in_format.min_code} fits")
            self.wire(f"signed [{bi}:0] x_wide", f"{{{x}[{bi - 1}], {x}}}")
            self.wire(f"signed [{bi}:0] u", f"{x}[{bi - 1}] ? -x_wide : x_wide")
            self.put("u", "u", f"signed [{bi}:0] ")
            if self.negates:
                self.wire("neg", f"{x}[{bi - 1}]",
                          f"f(x) = F - f(|x|) for x < 0 (fold {t.fold.value})")
                self.put("neg", "neg", "")
            self.uw, self.us = bi + 1, True
        else:
            self.put("u", x, vec(bi, t.in_format.signed))
            self.uw, self.us = bi, t.in_format.signed
        if t.fold_lm:  # even_line: the line term's LM * (x - Z), carried to step 5
            fin, z = t.in_format, t.in_format.zero_point
            ends = [t.fold_lm * (c - z) for c in (fin.min_code, fin.max_code)]
            self.xw = xw = signed_bits((min(ends), max(ends)))
            expr = ext(x, bi, fin.signed, xw) + (f" - {lit(z, xw)}" if z else "")
            if t.fold_lm != 1:
                expr = f"({expr}) * {lit(t.fold_lm, xw)}"
            self.wire(f"signed [{xw - 1}:0] xz", expr,
                      f"LM * (x - Z): the line a * x of the even fold (LM = {t.fold_lm}, "
                      f"LE = {t.fold_le})")
            self.put("xz", "xz", f"signed [{xw - 1}:0] ")
            for tail, side in zip(t.tails, ("left", "right")):
                if tail and tail.is_line:  # beside |x|: the term, C and the half of the tail
                    const = tail.c + (1 << (tail.k - 1) if tail.k else 0)
                    self.wire(f"signed [{self.acc - 1}:0] {side}_ltc",
                              f"{self.line_term(tail.k, self.acc, True, xz='xz')} + "
                              f"{lit(const, self.acc)}",
                              "the line term a * x of the even fold + C + 2^(K-1)")
                    self.put(f"{side}_ltc", f"{side}_ltc", f"signed [{self.acc - 1}:0] ")
        self.cut("fold")

    def line_term(self, r: int, width: int, keep: bool, xz: str | None = None) -> str:
        """The even_line term at rounding shift ``r``, ``width`` bits: ``xz << (r - LE)``."""
        xz = xz or self.get("xz", keep=keep)
        return f"({ext(xz, self.xw, True, width)} <<< {r - self.t.fold_le})"

    # -- path selection, ROM address, line tails ----------------------------------------
    def select(self) -> None:
        t = self.t
        u = self.get("u")
        uw, us = self.uw, self.us
        sides = [(tail, cond, code, end) for tail, cond, code, end in zip(
            t.tails, ("below", "above"), (t.lo_code, t.hi_code), (0, -1)) if tail]
        # one subtraction serves the tails and the offset: d = u - LO (exact in uw + 1 bits);
        # u < LO is its sign, u >= HI = LO + (N << S) a set bit at or above bit N + S
        ow = self.iw + t.shift if self.regions is None else offset_bits(self.regions)
        dw = uw + 1
        self.wire(f"{vec(dw)}d", f"{ext(u, uw, us, dw)} - {lit(t.lo_code, dw, us)}",
                  "d = u - LO")
        used = ow  # bits of d read so far
        for _, cond, code, _ in sides:
            if cond == "below":
                expr = f"d[{dw - 1}]"
            elif self.regions is not None and above_expr(self.regions, dw):
                expr = above_expr(self.regions, dw)  # HI - LO = n << RB, n no power of two
            elif self.regions is not None and self.regions.span & (self.regions.span - 1):
                # counted regions: HI - LO any number; compared beside d, not after it
                self.wire(cond, at_least(u, uw, us, code), f"u >= HI = {code}")
                if used > ow and ow < dw - 1:  # the left tail read d's sign only
                    self.unused.append(f"d[{dw - 2}:{ow}]")
                continue
            elif ow < dw - 1:
                expr = f"~d[{dw - 1}] & |d[{dw - 2}:{ow}]"
            else:  # pragma: no cover - a right tail means codes exist at HI = LO + 2^ow
                expr = f"{u} >= {lit(code, uw, us)}"
            used = dw
            self.wire(cond, expr, "u < LO" if cond == "below" else "u >= HI")
        if used < dw:
            self.unused.append(f"d[{dw - 1}:{used}]")
        clamps = [(cond, end) for tail, cond, _, end in sides if not tail.is_line]
        if self.regions is not None and not self.regions.equal:  # HI - 1 - LO, not all ones
            clamps = [(cond, end % self.regions.span) for cond, end in clamps]
        if ow:
            off = f"d[{ow - 1}:0]"
            for cond, end in reversed(clamps):
                off = f"{cond} ? {lit(end, ow, False)} : {off}"
            self.wire(f"{vec(ow)}off", off, "off = u - LO; clamp tails hold the table's ends")
        else:  # a one-code table: clamping cannot change the offset
            self.unused += [cond for cond, _ in clamps]
        if self.regions is not None:  # the muxes on r; their adders follow the 'addr' cut
            decode(self, self.regions, ow, u, uw, us)
        else:
            if self.iw:
                self.wire(f"{vec(self.iw)}seg", f"off[{ow - 1}:{t.shift}]", "i = off >> S")
            self.addresses()
        line_sides = [(tail, cond) for tail, cond, _, _ in sides if tail.is_line]
        self.line_sides = line_sides
        if line_sides:
            self.line_accs(line_sides, u)
        self.cut("addr")
        if self.regions is not None:
            address_adders(self)
            self.addresses()
        reads = [(vec(self.t.store_bits), f"{label}_q", f"{label}_mem[{self.get(label + '_addr')}]")
                 for label in self.reads]
        self.cut("read", reads)  # the ROM's synchronous read: always registered
        for label in self.reads:
            self.put(label, f"{label}_q", vec(self.t.store_bits))

    def addresses(self) -> None:
        s, iw = self.t.shift, self.iw
        seg = "seg" if iw else "1'b0"
        self.reads = []
        if self.banked:
            even, odd = seg, "1'b0"
            # (i + 1) >> 1 <= (knots - 1) >> 1: iw bits, or iw - 1 for an even count of knots
            ew = even_address_bits(len(self.t.values))
            if self.regions is not None:  # the decode's second adder made i + 1
                even, odd = f"seg_next[{ew}:1]", f"seg[{iw - 1}:1]" if iw >= 2 else odd
            elif iw >= 2:  # (N a power of two: ew = iw)
                even = f"{{1'b0, seg[{iw - 1}:1]}} + {ext('seg[0]', 1, False, iw)}"
                odd = f"seg[{iw - 1}:1]"
            self.w("// knot k sits in bank k & 1 at word k >> 1: T[i] and T[i+1] in one cycle")
            self.rom(0, even, ew, "(i + 1) >> 1")
            self.rom(1, odd, max(iw - 1, 1), "i >> 1")
            if self.regions is None:  # (regions: the decode made w')
                self.wire(f"{vec(s)}frac", f"off[{s - 1}:0]", "w = off & (2^S - 1)")
                self.put("frac", "frac", vec(s))
            if iw:
                self.wire("swap", "seg[0]", "i odd: T[i] is in the odd bank")
                self.put("swap", "swap", "")
        elif self.t.interp.value == "nearest" and s:
            addr = f"{{1'b0, seg}} + {ext(f'off[{s - 1}]', 1, False, iw + 1)}" \
                if iw else f"off[{s - 1}]"
            self.unused += [f"off[{s - 2}:0]"] if s > 1 else []
            self.rom(0, addr, iw + 1 if iw else 1, "j = (off + 2^(S-1)) >> S = i + off[S-1]")
        else:
            # (regions, every S_r = 0: knots - 1 = i's top needs no wider address)
            plain = self.t.interp.value == "none" or not iw or (
                self.regions is not None and len(self.t.values) <= 1 << iw)
            addr = seg if plain else f"{{1'b0, {seg}}}"
            self.unused += [f"off[{s - 1}:0]"] if s else []
            self.rom(0, addr, max(iw, 1) if plain else iw + 1, "i")

    def rom(self, bank: int, addr: str, aw: int, note: str) -> None:
        label, param, file, words = module_roms(self.t, self.name)[bank]
        sb = self.t.store_bits
        self.wire(f"{vec(aw)}{label}_addr", addr)
        self.reads.append(label)
        if self.roms is None:
            self.mems.append((label, param, file, words))
            self.memlines += [f"{rom_attribute(self.t)}reg {vec(sb)}{label}_mem "
                              f"[0:{words - 1}];  // read: {note}",
                              f"initial $readmemh({param}, {label}_mem);"]
            self.addr_bits[label] = aw
            self.put(f"{label}_addr", f"{label}_addr", vec(aw))
            return
        have = self.roms.addr_bits[label]  # the other table's ROM: its address width
        assert have >= aw, (label, have, aw)
        sig = f"{{{have - aw}'d0, {label}_addr}}" if have > aw else f"{label}_addr"
        self.put(f"{label}_addr", sig, vec(have))

    def line_accs(self, lines, u) -> None:
        acc = self.acc
        self.w("// line tails (asymptotes): acc = u*M + C, R = K")
        if any(tail.m for tail, _ in lines):
            self.wire(f"signed [{acc - 1}:0] u_acc", ext(u, self.uw, self.us, acc))
        for tail, cond in lines:
            side = "left" if cond == "below" else "right"
            m, c, k = tail.m, tail.c, tail.k
            expr = lit(c, acc)
            if m:
                # a power-of-two slope is a shift, so synthesis spends no multiplier on it
                mag = abs(m)
                prod = f"(u_acc <<< {mag.bit_length() - 1})" if mag & (mag - 1) == 0 else \
                    f"u_acc * {lit(mag, acc)}"
                expr = ("-" if m < 0 else "") + prod + (
                    f" {'-' if c < 0 else '+'} {lit(abs(c), acc)}" if c else "")
            if self.t.fold_lm:  # C, the half and the even fold's term came from the fold stage
                ltc = self.get(f"{side}_ltc")
                expr = (("-" if m < 0 else "") + prod + f" + {ltc}") if m else ltc
            self.wire(f"signed [{acc - 1}:0] {side}_acc", expr, f"M = {m}, C = {c}, K = {k}")
            self.put(f"{side}_acc", f"{side}_acc", f"signed [{acc - 1}:0] ")
        self.wire("line", " | ".join(cond for _, cond in lines), "u is in a line tail")
        self.put("line", "line", "")
        if len(lines) == 2:
            self.put("below", "below", "")

    def line_tails(self) -> None:
        """The line tails' unfold, rounding and saturation (their own stage)."""
        acc, ys = self.acc, []
        neg = self.get("neg", keep=True) if self.negates else ""
        for tail, cond in self.line_sides:
            side = "left" if cond == "below" else "right"
            if self.t.fold_lm:  # acc holds the even fold's term and the half already
                self.wire(f"signed [{acc - 1}:0] {side}_y", f"{self.get(f'{side}_acc')} >>> "
                          f"{tail.k}", f"round_shift(acc, {tail.k}): arithmetic shift")
                ys.append(f"{side}_y")
                continue
            ys.append(self.round_unfold(self.get(f"{side}_acc"), f"{side}_y", tail.k, neg,
                                        keep=True))
        if len(ys) == 2:
            self.wire(f"signed [{acc - 1}:0] line_y", f"{self.get('below')} ? {ys[0]} : {ys[1]}")
        self.saturate("line_y" if len(ys) == 2 else ys[0], "line_sat")
        self.put("line_sat", "line_sat", vec(self.t.out_format.bits))

    # -- the contract's steps 5 and 6 ----------------------------------------------------
    def round_unfold(self, src: str, dst: str, r: int, neg: str, keep: bool = False) -> str:
        """Unfold and round_shift in one adder: ((F' - acc) + h) >> r = ((F' + h) - acc) >> r.

        The stored centre E merges into the constants: ``((F - E) << (R - G)) + h - acc``
        or ``acc + ((E << (R - G)) + h)``. ``keep``: the line term is read again later."""
        acc = self.acc
        half = 1 << (r - 1) if r else 0
        if self.negates:
            t = self.t
            f = (t.fold_f - t.fold_e) << (r - t.guard_bits)
            e = (t.fold_e << (r - t.guard_bits)) + half
            minus = f"{lit(f + half, acc)} - {src}" if f + half else f"-{src}"
            plus = f"{src} + {lit(e, acc)}" if e else src
            self.wire(f"signed [{acc - 1}:0] {dst}_sum", f"{neg} ? {minus} : {plus}",
                      f"unfold, add half: neg ? ((F - E) << (R - G)) - acc : acc + (E << (R - G)),"
                      f" + 2^(R-1); F = {t.fold_f}, E = {t.fold_e}")
        elif self.t.fold_lm:
            term = self.line_term(r, acc, keep)
            self.wire(f"signed [{acc - 1}:0] {dst}_sum",
                      f"{src} + {term}" + (f" + {lit(half, acc)}" if half else ""),
                      "the line term a * x of the even fold, add half")
        elif r:
            self.wire(f"signed [{acc - 1}:0] {dst}_sum", f"{src} + {lit(half, acc)}",
                      "add half")
        else:
            return src
        if r == 0:
            return f"{dst}_sum"
        self.wire(f"signed [{acc - 1}:0] {dst}", f"{dst}_sum >>> {r}",
                  f"round_shift(acc, {r}): arithmetic shift")
        return dst

    def saturate(self, src: str, dst: str, acc: int | None = None) -> None:
        """Saturate by bit tests (no comparator): in range iff the bits above agree."""
        fo, acc = self.t.out_format, acc or self.acc
        bo, pw = fo.bits, max(acc, fo.bits + 1)
        if pw > acc:
            self.wire(f"signed [{pw - 1}:0] {dst}_wide", ext(src, acc, True, pw))
            src = f"{dst}_wide"
        top = f"{src}[{pw - 1}:{bo - 1 if fo.signed else bo}]"
        fits = f"(&{top} | ~|{top})" if fo.signed else f"~|{top}"
        self.w(f"wire {vec(bo)}{dst} = {fits} ? {src}[{bo - 1}:0] :")
        self.w(f"    {src}[{pw - 1}] ? {lit(fo.min_code, bo, False)} : "
               f"{lit(fo.max_code, bo, False)};  // saturate to {fo}")

    # -- the table value: swap, difference, multiply, accumulate -------------------------
    def table_value(self) -> None:
        t, acc = self.t, self.acc
        sb, ss, s = t.store_bits, t.store_signed, t.shift
        if self.line_sides:
            self.line_tails()
        if self.banked and t.fold_lm:
            self.line_base()  # beside the ROM read, not after it
        self.cut("rom")
        if not self.banked:
            self.wire(f"signed [{acc - 1}:0] tab_acc", ext(self.get("rom"), sb, ss, acc))
            self.put("tab_acc", "tab_acc", f"signed [{acc - 1}:0] ")
            return
        swap = self.get("swap") if self.iw else "1'b0"
        even, odd = self.get("even"), self.get("odd")
        rg = banked_ranges(t)
        neg = self.get("neg") if self.negates else ""
        # the unfold and the rounding half move to the knots (narrow adders, exact integers):
        #   acc' = (A << S) + D * w (+ 2^(S-1) if G = 0),  y = sat(acc' >> (G + S)), with
        #   A = T[i] + 2^(G-1), D = T[i+1] - T[i]                  (no negation)
        #   A = F + 2^(G-1) - T[i], D = T[i] - T[i+1]              (neg: the mirrored half)
        aw, dw = signed_bits(rg["a"]), signed_bits(rg["d"])
        hg = 1 << (t.guard_bits - 1) if t.guard_bits else 0
        a_src = f"{swap} ? {odd} : {even}"
        self.wire(f"{vec(sb)}knot_a", a_src, "T[i]")
        he = hg + t.fold_e  # the stored centre E comes back with the rounding half
        plus = f"{ext('knot_a', sb, ss, aw)} + {lit(he, aw, False)}" if he else \
            ext("knot_a", sb, ss, aw)
        if neg:
            flip = f"{swap} ^ {neg}"
            self.wire(f"{vec(sb)}knot_p", f"{flip} ? {even} : {odd}", "neg ? T[i] : T[i+1]")
            self.wire(f"{vec(sb)}knot_q", f"{flip} ? {odd} : {even}", "neg ? T[i+1] : T[i]")
            # (F + h) - T = (F + h + 1) + ~T: one adder after an XOR (no second adder, no mux)
            self.wire(f"{vec(aw)}knot_x", f"{{{aw}{{{neg}}}}} ^ {ext('knot_a', sb, ss, aw)}",
                      "neg ? ~T[i] : T[i]")
            self.wire(f"{vec(aw)}base", f"knot_x + ({neg} ? "
                      f"{lit((t.fold_f - t.fold_e + hg + 1) % (1 << aw), aw, False)} : "
                      f"{lit(he, aw, False)})",
                      f"A: the knot unfolded (F = {t.fold_f}, E = {t.fold_e}) plus 2^(G-1)")
            p, q = "knot_p", "knot_q"
        else:
            self.wire(f"{vec(sb)}knot_b", f"{swap} ? {even} : {odd}", "T[i+1]")
            if not t.fold_lm:  # (an even_line fold adds its constants beside the ROM)
                self.wire(f"{vec(aw)}base", plus,
                          f"A = T[i] + E + 2^(G-1), E = {t.fold_e}" if t.fold_e else
                          "A = T[i] + 2^(G-1)")
            p, q = "knot_b", "knot_a"
        # the differences of neighbouring knots need dw bits (the ROM holds no other pairs),
        # so the multiplier's operands are dw and S + 1 bits: one DSP block
        diff = f"{ext(p, sb, ss, sb + 1)} - {ext(q, sb, ss, sb + 1)}"
        if dw < sb + 1:
            self.wire(f"{vec(sb + 1)}knot_d_full", diff)
            self.unused.append(f"knot_d_full[{sb}:{dw}]")
            diff = f"knot_d_full[{dw - 1}:0]"
        self.wire(f"signed [{dw - 1}:0] knot_d", diff,
                  "D, in [{}, {}]".format(*rg["d"]))
        low = lit(1 << (s - 1), s, False) if not t.guard_bits else f"{s}'d0"
        base_note = "A << S" + ("" if t.guard_bits else " | 2^(S-1): the rounding half")
        bw = aw + s
        if t.fold_lm:  # T[i] << S plus the line term and the constants added beside the ROM
            bw = signed_bits(rg["base"])  # the sum's bounds: a wider operand may wrap mod 2^bw
            self.wire(f"{vec(sb + s)}knot_sh", f"{{knot_a, {s}'d0}}", "T[i] << S")
            self.wire(f"signed [{bw - 1}:0] base_t", f"{ext('knot_sh', sb + s, ss, bw)} + "
                      f"{ext(self.get('line_k'), self.lkw, True, bw)}",
                      "(A << S) + the line term: (T[i] << S) + line_k")
            self.put("base", "base_t", f"signed [{bw - 1}:0] ")
        else:
            self.put("base", "base", vec(aw))
        self.put("knot_d", "knot_d", f"signed [{dw - 1}:0] ")
        self.cut("diff")
        cw = self.accw = signed_bits(rg["acc"])
        pw = min(dw + s + 1, cw)  # a signed dw-bit times a signed (S+1)-bit factor
        d, w = self.get("knot_d"), self.get("frac")
        self.wire(f"signed [{s}:0] frac_signed", f"{{1'b0, {w}}}", "w >= 0 as a signed factor")
        self.wire(f"signed [{pw - 1}:0] prod",
                  f"{d} * frac_signed", "D * w: one signed multiplier "
                  "(narrow operands, extended by the context)")
        self.put("prod", "prod", f"signed [{pw - 1}:0] ")
        self.cut("mul")
        a, p = self.get("base"), self.get("prod")
        if not t.fold_lm:
            self.wire(f"signed [{bw - 1}:0] base_sh", f"{{{a}, {low}}}", base_note)
            a = "base_sh"
        self.wire(f"signed [{cw - 1}:0] tab_acc",
                  f"{ext(a, bw, True, cw)} + {ext(p, pw, True, cw)}",
                  "(A << S) + D * w, the rounding half included")
        self.put("tab_acc", "tab_acc", f"signed [{cw - 1}:0] ")
        self.cut("acc")

    def line_base(self) -> None:
        """An even_line fold's constant part of ``A << S``, computed beside the ROM read:
        ``line_k = ((E + 2^(G-1)) << S | low) + (LM * (x - Z) << (G + S - LE))``, so that
        after the ROM only one adder remains (``(T[i] << S) + line_k``)."""
        t, s = self.t, self.t.shift
        assert not self.negates, "an even_line fold does not negate"
        hg = 1 << (t.guard_bits - 1) if t.guard_bits else 0
        const = ((hg + t.fold_e) << s) | (0 if t.guard_bits else 1 << (s - 1))
        t_lo, t_hi = line_term_range(t, t.guard_bits + s)
        self.lkw = w = signed_bits((min(0, t_lo + const), max(0, t_hi + const)))
        term = self.line_term(t.guard_bits + s, w, False)  # its last reader
        self.wire(f"signed [{w - 1}:0] line_k", f"{term} + {lit(const, w)}" if const else term,
                  "(E + 2^(G-1)) << S (| the rounding half) + the line term a * x")
        self.put("line_k", "line_k", f"signed [{w - 1}:0] ")

    def finish(self) -> None:
        t = self.t
        if self.banked:  # unfold and rounding half are in tab_acc: only the shift is left
            cw, r = self.accw, t.guard_bits + t.shift
            self.wire(f"signed [{cw - 1}:0] tab_y", f"{self.get('tab_acc')} >>> {r}",
                      f"round_shift: the half was added to A; shift by R = {r}")
            self.put("tab_r", "tab_y", f"signed [{cw - 1}:0] ")
        else:
            neg = self.get("neg") if self.negates else ""
            cw = self.acc
            self.put("tab_r", self.round_unfold(self.get("tab_acc"), "tab_y", t.guard_bits, neg),
                     f"signed [{cw - 1}:0] ")
        self.cut("round")
        self.saturate(self.get("tab_r"), "tab_sat", cw)
        pick = "tab_sat"
        if self.line_sides:
            pick = f"{self.get('line')} ? {self.get('line_sat')} : tab_sat"
        assert not self.live, self.live
        self.w(f"always @(posedge clk) if (ce && !rst && {self.side}valid_q[{self.latency - 2}]) "
               f"y_lane <= {pick};")
        bo = self.t.out_format.bits
        self.w(f"assign {self.side}y[lane*{bo} +: {bo}] = y_lane;"
               f"  // stage {self.stage} ends: y registered, held while nothing is valid")

    def build(self) -> list[str]:
        """The lane's body: its declarations and every step, in order."""
        self.front()
        self.select()
        self.table_value()
        self.finish()
        if self.unused:
            self.lines += ["", "    // never read: the offset inside a segment (none/nearest), clamps",
                           "    // of a one-code table; Verilator's --unused-regexp knows the name",
                           f"    wire _unused_ok = &{{1'b0, {', '.join(self.unused)}, 1'b0}};"]
        fi, fo = self.t.in_format, self.t.out_format
        return [f"    wire {vec(fi.bits, fi.signed)}x_lane = {self.side}x[lane*{fi.bits} +: "
                f"{fi.bits}];", f"    reg {vec(fo.bits)}y_lane;"] + \
            [f"    {d}" for d in self.regs] + self.lines
