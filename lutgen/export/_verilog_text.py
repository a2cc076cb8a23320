"""The text of the element-wise Verilog module: its frame and its header comment (filled in by
:mod:`lutgen.export.verilog`, one valid chain and one generate loop per function)."""

MODULE = """
`default_nettype none

module lutgen_{name} #(
{params}
) (
    input  wire clk,
    input  wire rst,
    input  wire ce,
{ports}
);
{valid_regs}
{mems}
    always @(posedge clk) begin  // synchronous reset of the valid bits only
        if (rst) begin
{resets}
        end else if (ce) begin
{shifts}
        end
    end

    // {lanes_note}
    genvar lane;
{generates}
endmodule

`default_nettype wire
"""
HEADER = """\
lutgen_{name}: y = f(x) exactly as docs/ARITHMETIC.md computes it.
  x: input code, {fi} ({sign} {fi.bits} bits); y: output code, {fo}.
  Latency: {lat} cycles (pipeline = {setting}; the latency is min(pipeline, {deepest})).
  x is sampled at a rising edge k with in_valid high; its y is on the output,
  with out_valid high, from just after edge k + {lat} - 1 ({lat} register stages).
  ce (clock enable) stalls everything: only edges with ce high count, and a
  result is taken at an edge with ce and out_valid high (tie ce high to run
  free). y loads only with a valid result: it holds while out_valid is low.
  One input per cycle; rst (synchronous, active high, above ce) clears the
  valid bits only. LANES: x and y hold LANES codes (lane k in bits
  [k*{fi.bits} +: {fi.bits}] and [k*{fo.bits} +: {fo.bits}]), one datapath per lane, every
  lane reading the same ROMs (two lanes: the two ports of one block RAM).
  lutgen_{name}_axis.v: this module behind AXI4-Stream ports.
  Datapath: fold (|x|, 2Z - x about Z); tail comparisons, offset, ROM addresses (line tails:
  u*M + C); ROM read; line tails' unfold, rounding, saturation; the even/odd
  swap and knot difference; one signed multiply; accumulate; unfold and one
  rounding; saturation; y. Two registers always exist: the ROM's synchronous
  read (the block-RAM template) and y (latency 2). Each further stage of the
  pipeline setting adds the next of these register cuts:
{cuts}\
  Constants: LO = {t.lo_code}, HI = {t.hi_code}, {shape}, \
G = {t.guard_bits}, F = {t.fold_f}{extra}; accumulator {acc} bits (acc_bits).
  Memories: {mems}; the data files hold only
  the words, described in {name}_rom.txt.
{why}\
  $readmemh resolves file names from the tool's working directory: run the
  simulator or synthesis there, or override the MEMFILE parameters with full paths.
"""
WHY_BANKS = """\
  Linear interpolation reads T[i] and T[i+1] in one cycle. Knots i and i+1 always
  lie in different banks (even/odd knots), so each bank is a plain ROM with one
  synchronous read port, which every vendor maps to one block RAM (or LUT ROM),
  and the banks hold exactly the table's N+1 words; a wide (knot, delta) word
  would store N words of 2*store_bits+1 bits, about twice the bits.
"""
PAIR_HEADER = """\
lutgen_{name}: a sigmoid and a tanh from one set of knot ROMs (docs/ARITHMETIC.md,
  "Shared knots": sigmoid(x) = 1/2 + tanh(x/2)/2), each exactly as docs/ARITHMETIC.md
  computes it: y = sigmoid(x) (this table) and tanh_y = tanh(tanh_x) (table '{source}',
  the datapath of lutgen_{source}.v). x, tanh_x: input codes, {fi}; y, tanh_y: output
  codes, {fo}.
  Two pipelines side by side, sharing clk, rst and ce (as in lutgen_{source}.v) and the
  ROMs: x with in_valid gives y with out_valid {lat} enabled cycles later; tanh_x with
  tanh_in_valid gives tanh_y with tanh_out_valid {tlat} enabled cycles later. Each y loads
  only with its valid result and holds otherwise; rst clears both valid chains.
  LANES, TANH_LANES: x and y hold LANES codes, tanh_x and tanh_y TANH_LANES codes, one
  datapath per lane. Every lane reads the same ROMs: the tanh's {twords} knots; the
  sigmoid's {words} knots are their first words. Each lane is one read port of each
  bank: one lane of each function, the two ports of one true dual-port block RAM.
  Memories, loaded from the files lutgen_{source}.v reads:
{mems}
  $readmemh resolves file names from the tool's working directory: run the simulator
  or synthesis there, or override the MEMFILE parameters with full paths.
  No AXI4-Stream wrapper: the two functions take two streams.
"""
