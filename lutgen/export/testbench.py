"""``tb_lutgen_<name>.v`` and ``<name>_vectors.mem``: a self-checking testbench.

The vectors are (input code, expected output code) pairs from
:meth:`Table.eval_int`, the bit-exact model of docs/ARITHMETIC.md. The
testbench streams them into ``lutgen_<name>`` (one per clock, with ``in_valid``
low one cycle in 7 and ``ce`` low one in 6 at pseudo-random points of a fixed
``$random`` seed, and a two-cycle reset when half the vectors are in, after
which the vectors lost in flight are sent again), checks that ``out_valid``
follows ``in_valid`` by exactly the module's latency in enabled cycles
(:func:`lutgen.export.verilog.latency`) and that ``y`` holds while ``out_valid``
is low, compares every ``y`` taken (``out_valid`` and ``ce``) against the
expected code, and prints ``PASS <n> vectors`` and calls ``$finish``, or prints
``FAIL ...`` and calls ``$fatal`` (a non-zero exit of the simulator). It cannot
pass by accident: a memory file that is missing or short leaves X words, and
every ROM word, every vector and every output is checked for X/Z; the number of
outputs must equal the number of vectors. The file paths are parameters
(``VECFILE`` and the module's ``MEMFILE*``), so it runs from any directory.

Inputs of up to 16 bits are tested exhaustively. Wider ones get every segment
boundary (and the boundaries of the folded half) +/- 1, both format extremes,
and 20 000 codes drawn by splitmix64 from a fixed seed.
"""

from __future__ import annotations

import numpy as np

from ._common import Artifact, provenance_lines
from .mem import comment_block, hex_word, module_roms
from .verilog import latency

__all__ = ["render", "vector_codes"]

EXHAUSTIVE_BITS = 16
RANDOM_CODES = 20_000
SEED = 0x6C757467656E  # "lutgen"
MAX_BOUNDARIES = 1 << 14
MAX_SHOWN = 10


def _splitmix64(state: int, n: int):
    mask = (1 << 64) - 1
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        yield z ^ (z >> 31)


def vector_codes(table) -> tuple[np.ndarray, str]:
    """The input codes the testbench drives, ascending, and how they were chosen."""
    fmt = table.in_format
    if fmt.bits <= EXHAUSTIVE_BITS:
        return fmt.codes(), f"every input code ({fmt.n_codes})"
    step = max(1, (table.entries + 1) // MAX_BOUNDARIES)
    bounds = [int(b) for b in table.knot_codes[::step]]  # (hierarchical: every region's too)
    bounds += [2 * fmt.zero_point - b for b in bounds] if table.fold else []
    picks = {b + d for b in bounds for d in (-1, 0, 1)} | {fmt.min_code, fmt.max_code}
    picks |= {fmt.min_code + r % fmt.n_codes for r in _splitmix64(SEED, RANDOM_CODES)}
    codes = np.array(sorted(c for c in picks if fmt.min_code <= c <= fmt.max_code), np.int64)
    every = "every segment boundary" if step == 1 else f"one segment boundary in {step}"
    return codes, (
        f"{codes.size} codes: {every} +/- 1, the format extremes and "
        f"{RANDOM_CODES} draws of splitmix64 from seed {SEED:#x}"
    )


class _Side:
    """One function the module computes: its port prefix (``tanh_`` for the tanh of a
    shared pair), its table and the column of its expected codes in the vector file."""

    def __init__(self, prefix: str, table, column: int):
        self.p, self.P, self.t, self.col = prefix, prefix.upper(), table, column
        self.lat = latency(table)

    def decls(self) -> str:
        p, P = self.p, self.P
        return f"""\
    reg {p}in_valid = 1'b0;
    reg [{P}LANES*BI-1:0] {p}x = 0;
    wire {p}out_valid;
    wire [{P}LANES*BO-1:0] {p}y;
    reg [{P}LANES*BO-1:0] {p}last_y = 0;  // y as it was at the last edge with out_valid high
    reg {p}seen = 1'b0;
    integer {p}sent = 0;
    integer {p}got = 0;
""" + (f"    integer {p}bad = 0;\n" if p else "")  # (bad: declared with the shared integers)

    def feed(self, stride: str) -> str:
        p, P = self.p, self.P
        return f"""\
            if ({p}sent == N || ($random(seed) % 7) == 0) begin
                {p}in_valid <= 1'b0;
            end else begin
                {p}in_valid <= 1'b1;
                for (l = 0; l < {P}LANES; l = l + 1)
                    {p}x[l*BI +: BI] <= vectors[{stride}*pick(l, {p}sent)][BI-1:0];
                if (go) {p}sent = {p}sent + 1;  // taken at the next edge (ce high, rst low)
            end
"""

    def check(self, stride: str, fi, fo) -> str:
        p, P = self.p, self.P
        want = f"vectors[{stride}*pick(l, {p}got)+{self.col}][BO-1:0]"
        return f"""\
    always @(posedge clk) begin
        if (^{p}out_valid === 1'bx && !rst) fail("{p}out_valid is X or Z");
        if (!rst && {p}out_valid !== {p}sent_valid[{P}LATENCY-1]) begin
            $display("{p}out_valid %b at cycle %0d, expected %b: the latency is not %0d",
                     {p}out_valid, cycle, {p}sent_valid[{P}LATENCY-1], {P}LATENCY);
            fail("{p}out_valid does not follow {p}in_valid by {P}LATENCY cycles");
        end
        if (rst) {p}sent_valid <= 0;
        else if (ce) {p}sent_valid <= {{{p}sent_valid[{P}LATENCY-2:0], {p}in_valid}};
        if ({p}out_valid === 1'b0 && {p}seen && {p}y !== {p}last_y) begin
            $display("{p}y %b at cycle %0d, was %b", {p}y, cycle, {p}last_y);
            fail("{p}y changed while {p}out_valid is low");
        end
        if ({p}out_valid === 1'b1) begin
            {p}seen = 1'b1;
            {p}last_y = {p}y;
        end
        if ({p}out_valid === 1'b1 && ce) begin
            if (^{p}y === 1'bx) begin
                $display("{p}output %0d is X or Z: {p}y=%b", {p}got, {p}y);
                fail("an output is X or Z");
            end
            if ({p}got >= N) begin
                {p}bad = {p}bad + 1;
                $display("extra {p}output %0d: {p}y=%0d", {p}got, {p}y);
            end else begin
                for (l = 0; l < {P}LANES; l = l + 1)
                    if ({p}y[l*BO +: BO] !== {want}) begin
                        {p}bad = {p}bad + 1;
                        if ({p}bad <= {MAX_SHOWN})
                            $display("{p}mismatch %0d: x=%0d expected %0d got %0d", pick(l, {p}got),
                                     {show(fi.signed, f"vectors[{stride}*pick(l, {p}got)][BI-1:0]")},
                                     {show(fo.signed, want)},
                                     {show(fo.signed, f"{p}y[l*BO +: BO]")});
                    end
            end
            {p}got = {p}got + 1;
        end
    end
"""

    def count(self) -> str:
        p, what = self.p, self.p.replace("_", " ")
        return f"""\
        if ({p}got != N) begin
            $display("FAIL %0d {what}outputs for %0d inputs", {p}got, N);
            $fatal(1, "FAIL %0d {what}outputs for %0d inputs", {p}got, N);
        end"""


def render(table, report, name: str) -> list[Artifact]:
    fi, fo = table.in_format, table.out_format
    pair = table.knots_of is not None  # a sigmoid over a tanh's knots: the module has both
    sides = [_Side("", table, 1)] + ([_Side("tanh_", table.knots_of, 2)] if pair else [])
    codes, how = vector_codes(table)
    if pair:  # one stream of codes for both functions: the tanh's boundaries too
        codes = np.union1d(codes, vector_codes(table.knots_of)[0])
        how = how if fi.bits <= EXHAUSTIVE_BITS else f"{codes.size} codes: the sigmoid's " \
            "and the tanh's segment boundaries +/- 1, the format extremes and random draws"
    expected = [side.t.eval_int(codes) for side in sides]
    head = provenance_lines(table, report, name)
    vw = max(fi.bits, fo.bits)
    n = int(codes.size)
    stride = str(len(sides) + 1)
    # data only (no comment lines); its layout is described in the testbench's header
    vectors = "".join(
        " ".join([hex_word(int(x), fi.bits)] + [hex_word(int(e[k]), fo.bits) for e in expected])
        + "\n" for k, x in enumerate(codes))
    mems = module_roms(table.knots_of, table.knots_name) if pair else module_roms(table, name)
    overrides = ",\n".join(f"        .{p}({p})" for _, p, _, _ in mems)
    ports = "".join(f", .{s.p}in_valid({s.p}in_valid), .{s.p}x({s.p}x), "
                    f".{s.p}out_valid({s.p}out_valid),\n        .{s.p}y({s.p}y)" for s in sides)
    about = [
        f"{name}_vectors.mem holds one vector per line, nothing else: the input code ({fi})",
        f"and the expected output code ({fo}), each as two's complement hex;",
        "expected = lutgen's bit-exact model (Table.eval_int).",
    ] if not pair else [
        f"{name}_vectors.mem holds one vector per line, nothing else: the input code ({fi}),",
        f"the expected sigmoid and the expected tanh ('{table.knots_name}') output codes ({fo}),",
        "each as two's complement hex; expected = lutgen's bit-exact model (Table.eval_int).",
        "Both functions get every vector, each in its own stream (own in_valid gaps), at once:",
        "both pipelines read the shared ROMs in the same cycles. TANH_LANES as LANES.",
    ]
    # the wait for the last outputs: the slower pipeline's latency
    lat = "LATENCY" if not pair else str(max(side.lat for side in sides))
    waiting = "got < N" if not pair else "(got < N || tanh_got < N)"
    lanes = "LANES" if not pair else "(LANES + TANH_LANES)"
    bad = "bad" if not pair else "(bad + tanh_bad)"  # each side shows its first mismatches
    tb = comment_block(head + [
        "",
        f"Self-checking testbench of lutgen_{name}: drives {how} from",
        f"{name}_vectors.mem and compares every output with lutgen's bit-exact model.",
        *about,
        f"Run: iverilog -g2005 -o tb tb_lutgen_{name}.v lutgen_{name}.v && vvp -n tb",
        "From another folder, give the file paths: iverilog -P tb_lutgen_"
        f"{name}.VECFILE='\"DIR/{name}_vectors.mem\"' ...",
        "(and the same for each MEMFILE* parameter).",
        "Stalls: ce low one cycle in 6, in_valid low one in 7 ($random, fixed seed); a reset",
        "in mid-stream; LANES (parameter): lane l gets vector i, or N - 1 - i for odd l.",
        f"Prints 'PASS {n} vectors' and finishes, or prints 'FAIL ...' and calls $fatal",
        "(non-zero exit): on a missing or short memory file (X words), an X/Z output,",
        f"a mismatch, y changing while out_valid is low, or a number of outputs other than {n}.",
    ], "//") + f"""
`default_nettype none

module tb_lutgen_{name};
    parameter VECFILE = "{name}_vectors.mem";
{"".join(f'    parameter {p} = "{f}";{chr(10)}' for _, p, f, _ in mems)}\
{"".join(f"    parameter {s.P}LANES = 1;  // lane l gets vector i (l even) or N - 1 - i (l odd){chr(10)}" for s in sides)}\
    localparam N = {n};
{"".join(f"    localparam {s.P}LATENCY = {s.lat};{chr(10)}" for s in sides)}\
    localparam BI = {fi.bits};
    localparam BO = {fo.bits};

    reg [{vw - 1}:0] vectors [0:{stride}*N-1];
    reg clk = 1'b0;
    reg rst = 1'b1;
    reg ce = 1'b1;
{"".join(s.decls() for s in sides)}\
    integer bad = 0;
    integer cycle = 0;
    integer resets = 3;  // cycles of reset still to drive: 3 at the start, 2 in mid-stream
    integer midstream = 0;  // has the mid-stream reset happened?
    integer seed = {SEED & 0x7FFFFFFF};
    integer k;
    integer l;
    reg go;
{"".join(f"    reg [{s.P}LATENCY-1:0] {s.p}sent_valid = 0;  // the valid bits as the module must hold them{chr(10)}" for s in sides)}\

    lutgen_{name} #(
{"".join(f"        .{s.P}LANES({s.P}LANES),{chr(10)}" for s in sides)}\
{overrides}
    ) dut (
        .clk(clk), .rst(rst), .ce(ce){ports}
    );

    always #5 clk = ~clk;

    task fail(input [8*64-1:0] why);
        begin
            $display("FAIL %0s", why);
            $fatal(1, "FAIL %0s", why);
        end
    endtask

    function integer pick(input integer lane, input integer i);
        pick = (lane % 2) != 0 ? N - 1 - i : i;
    endfunction

    // drive on the falling edge: ce low one cycle in 6 and in_valid low one in 7, at
    // pseudo-random points ($random of a fixed seed), and a reset of 2 cycles when half
    // the vectors are in; a reset loses what is in flight, so the vectors after the last
    // output taken are sent again
    always @(negedge clk) begin
        cycle = cycle + 1;
{"".join(f"        if (rst) {s.p}sent = {s.p}got;  // the module was reset at the last edge: nothing in flight{chr(10)}" for s in sides)}\
        if (midstream == 0 && sent >= N / 2 && N >= 4) begin
            midstream = 1;
            resets = 2;
        end
        go = ($random(seed) % 6) != 0;
        ce <= go;
        if (resets > 0) begin
            resets = resets - 1;
            rst <= 1'b1;
{"".join(f"            {s.p}in_valid <= 1'b0;{chr(10)}" for s in sides)}\
        end else begin
            rst <= 1'b0;
{"".join(s.feed(stride) for s in sides)}\
        end
    end

    // check on the rising edge: outputs arrive in order, LATENCY enabled cycles after
    // their input; an output is taken at an edge with out_valid and ce high; y holds
    // while out_valid is low
{"".join(s.check(stride, fi, fo) for s in sides)}
    initial begin
        $readmemh(VECFILE, vectors);
        #1;  // after the module's $readmemh
        for (k = 0; k < {stride}*N; k = k + 1)
            if (^vectors[k] === 1'bx) begin
                $display("vector word %0d of %0s is X: missing or short file", k, VECFILE);
                fail("vector file missing or short");
            end
{"".join(_rom_check(label, p, words) for label, p, _, words in mems)}\
        wait ({" && ".join(f"{s.p}sent == N" for s in sides)} && (midstream || N < 4) && !rst);
        k = 0;
        while ({waiting} && k < 16 * {lat} + 64) begin  // ce is low one cycle in 6
            @(posedge clk);
            k = k + 1;
        end
        repeat (2 * {lat} + 4) @(posedge clk);  // an extra output would come in here
{" else ".join(s.count() for s in sides).replace(" else         if", " else if")} else if ({bad} != 0) begin
            $display("FAIL %0d of %0d", {bad}, {lanes} * N);
            $fatal(1, "FAIL %0d of %0d", {bad}, {lanes} * N);
        end
        $display("PASS %0d vectors", got);
        $finish;
    end
endmodule

`default_nettype wire
"""
    return [Artifact(f"tb_lutgen_{name}.v", tb), Artifact(f"{name}_vectors.mem", vectors)]


def show(signed: bool, expr: str) -> str:
    """``expr`` as $display shows a signed value (or as it is)."""
    return f"$signed({expr})" if signed else expr


def _rom_check(label: str, param: str, words: int) -> str:
    """Initial-block lines failing on an X/Z word of the module's memory ``label``."""
    return f"""\
        for (k = 0; k < {words}; k = k + 1)
            if (^dut.{label}_mem[k] === 1'bx) begin
                $display("word %0d of %0s is X: missing or short memory file", k, {param});
                fail("memory file missing or short");
            end
"""
