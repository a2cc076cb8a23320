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
from .mem import comment_block, hex_word, rom_banks
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


def render(table, report, name: str) -> list[Artifact]:
    fi, fo = table.in_format, table.out_format
    codes, how = vector_codes(table)
    expected = table.eval_int(codes)
    head = provenance_lines(table, report, name)
    vw = max(fi.bits, fo.bits)
    n = int(codes.size)
    # data only (no comment lines); its layout is described in the testbench's header
    vectors = "".join(
        f"{hex_word(int(x), fi.bits)} {hex_word(int(y), fo.bits)}\n"
        for x, y in zip(codes, expected)
    )
    mems = [(suffix.lstrip("_") or "rom", "MEMFILE" + suffix.upper(), f"{name}{suffix}.mem",
             len(words)) for suffix, _, words in rom_banks(table)]
    lat = latency(table)
    overrides = ",\n".join(f"        .{p}({p})" for _, p, _, _ in mems)
    tb = comment_block(head + [
        "",
        f"Self-checking testbench of lutgen_{name}: drives {how} from",
        f"{name}_vectors.mem and compares every output with lutgen's bit-exact model.",
        f"{name}_vectors.mem holds one vector per line, nothing else: the input code ({fi})",
        f"and the expected output code ({fo}), each as two's complement hex;",
        "expected = lutgen's bit-exact model (Table.eval_int).",
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
    parameter LANES = 1;  // lane l gets vector i (l even) or N - 1 - i (l odd)
    localparam N = {n};
    localparam LATENCY = {lat};
    localparam BI = {fi.bits};
    localparam BO = {fo.bits};

    reg [{vw - 1}:0] vectors [0:2*N-1];
    reg clk = 1'b0;
    reg rst = 1'b1;
    reg ce = 1'b1;
    reg in_valid = 1'b0;
    reg [LANES*BI-1:0] x = 0;
    wire out_valid;
    wire [LANES*BO-1:0] y;
    reg [LANES*BO-1:0] last_y = 0;  // y as it was at the last edge with out_valid high
    reg seen = 1'b0;
    integer sent = 0;
    integer got = 0;
    integer bad = 0;
    integer cycle = 0;
    integer resets = 3;  // cycles of reset still to drive: 3 at the start, 2 in mid-stream
    integer midstream = 0;  // has the mid-stream reset happened?
    integer seed = {SEED & 0x7FFFFFFF};
    integer k;
    integer l;
    reg go;
    reg [LATENCY-1:0] sent_valid = 0;  // the valid bits as the module must hold them

    lutgen_{name} #(
        .LANES(LANES),
{overrides}
    ) dut (
        .clk(clk), .rst(rst), .ce(ce), .in_valid(in_valid), .x(x), .out_valid(out_valid),
        .y(y)
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
        if (rst) sent = got;  // the module was reset at the last edge: nothing in flight
        if (midstream == 0 && sent >= N / 2 && N >= 4) begin
            midstream = 1;
            resets = 2;
        end
        go = ($random(seed) % 6) != 0;
        ce <= go;
        if (resets > 0) begin
            resets = resets - 1;
            rst <= 1'b1;
            in_valid <= 1'b0;
        end else begin
            rst <= 1'b0;
            if (sent == N || ($random(seed) % 7) == 0) begin
                in_valid <= 1'b0;
            end else begin
                in_valid <= 1'b1;
                for (l = 0; l < LANES; l = l + 1)
                    x[l*BI +: BI] <= vectors[2*pick(l, sent)][BI-1:0];
                if (go) sent = sent + 1;  // taken at the next edge (ce high, rst low)
            end
        end
    end

    // check on the rising edge: outputs arrive in order, LATENCY enabled cycles after
    // their input; an output is taken at an edge with out_valid and ce high; y holds
    // while out_valid is low
    always @(posedge clk) begin
        if (^out_valid === 1'bx && !rst) fail("out_valid is X or Z");
        if (!rst && out_valid !== sent_valid[LATENCY-1]) begin
            $display("out_valid %b at cycle %0d, expected %b: the latency is not %0d",
                     out_valid, cycle, sent_valid[LATENCY-1], LATENCY);
            fail("out_valid does not follow in_valid by LATENCY cycles");
        end
        if (rst) sent_valid <= 0;
        else if (ce) sent_valid <= {{sent_valid[LATENCY-2:0], in_valid}};
        if (out_valid === 1'b0 && seen && y !== last_y) begin
            $display("y %b at cycle %0d, was %b", y, cycle, last_y);
            fail("y changed while out_valid is low");
        end
        if (out_valid === 1'b1) begin
            seen = 1'b1;
            last_y = y;
        end
        if (out_valid === 1'b1 && ce) begin
            if (^y === 1'bx) begin
                $display("output %0d is X or Z: y=%b", got, y);
                fail("an output is X or Z");
            end
            if (got >= N) begin
                bad = bad + 1;
                $display("extra output %0d: y=%0d", got, y);
            end else begin
                for (l = 0; l < LANES; l = l + 1)
                    if (y[l*BO +: BO] !== vectors[2*pick(l, got)+1][BO-1:0]) begin
                        bad = bad + 1;
                        if (bad <= {MAX_SHOWN})
                            $display("mismatch %0d: x=%0d expected %0d got %0d", pick(l, got),
                                     {show(fi.signed, "vectors[2*pick(l, got)][BI-1:0]")},
                                     {show(fo.signed, "vectors[2*pick(l, got)+1][BO-1:0]")},
                                     {show(fo.signed, "y[l*BO +: BO]")});
                    end
            end
            got = got + 1;
        end
    end

    initial begin
        $readmemh(VECFILE, vectors);
        #1;  // after the module's $readmemh
        for (k = 0; k < 2*N; k = k + 1)
            if (^vectors[k] === 1'bx) begin
                $display("vector word %0d of %0s is X: missing or short file", k, VECFILE);
                fail("vector file missing or short");
            end
{"".join(_rom_check(label, p, words) for label, p, _, words in mems)}\
        wait (sent == N && (midstream || N < 4) && !rst);
        k = 0;
        while (got < N && k < 16 * LATENCY + 64) begin  // ce is low one cycle in 6
            @(posedge clk);
            k = k + 1;
        end
        repeat (2 * LATENCY + 4) @(posedge clk);  // an extra output would come in here
        if (got != N) begin
            $display("FAIL %0d outputs for %0d inputs", got, N);
            $fatal(1, "FAIL %0d outputs for %0d inputs", got, N);
        end else if (bad != 0) begin
            $display("FAIL %0d of %0d", bad, LANES * N);
            $fatal(1, "FAIL %0d of %0d", bad, LANES * N);
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
