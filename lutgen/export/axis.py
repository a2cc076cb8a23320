"""``lutgen_<name>_axis.v``: the module behind an AXI4-Stream slave and master port.

Emitted with the module (``--emit verilog``), in its own file (one module per file,
as Verilator and Vivado expect), because that is what an FPGA
engineer drops into a Vivado block design ("Add Module"): IP integrator infers
an AXI4-Stream interface from the ``s_axis_*``/``m_axis_*`` port prefixes and a
clock and an active-low reset from ``aclk``/``aresetn``, and it wants
``tdata`` in whole bytes. The core keeps the plain ``ce``/``in_valid``/
``out_valid`` contract (no combinational path from a port to a port), for use
inside a hand-written datapath.

The handshake is a stall of the whole pipeline: it moves (``ce``) when its output
is taken or empty, ``ce = m_axis_tready | ~m_axis_tvalid``, and that is also
``s_axis_tready``. So ``m_axis_tvalid`` and ``m_axis_tdata`` hold until taken,
a transfer needs no buffer, and the throughput is one per cycle while
``m_axis_tready`` is high. The one combinational path is m_axis_tready ->
s_axis_tready (AXI4-Stream allows it); a register slice after the wrapper breaks it.
"""

from __future__ import annotations

__all__ = ["wrapper", "byte_width"]


def byte_width(bits: int) -> int:
    """``bits`` rounded up to whole bytes (AXI4-Stream ``tdata`` lanes)."""
    return -(-bits // 8) * 8


def wrapper(name: str, fi, fo, params: list[str]) -> str:
    """The wrapper's text; ``params``: the core's MEMFILE parameters (name, file) pairs."""
    bi, bo = fi.bits, fo.bits
    bib, bob = byte_width(bi), byte_width(bo)
    decl = "".join(f',\n    parameter {p} = "{f}"' for p, f in params)
    over = "".join(f", .{p}({p})" for p, _ in params)
    fill = f"y[lane*{bo} + {bo - 1}]" if fo.signed else "1'b0"
    out = (f"{{{{{bob - bo}{{{fill}}}}}, y[lane*{bo} +: {bo}]}}" if bob > bo
           else f"y[lane*{bo} +: {bo}]")
    pad = (f"\n        wire _unused_ok = &{{1'b0, s_axis_tdata[lane*{bib} + {bi} +: {bib - bi}], "
           f"1'b0}};  // padding" if bib > bi else "")
    ext = "sign" if fo.signed else "zero"
    return f"""
`default_nettype none

// lutgen_{name}_axis: lutgen_{name} behind AXI4-Stream ports (drop it into a block design).
//   s_axis_tdata: LANES inputs, lane k in bits [{bib}k +: {bi}] ({fi}; the
//   bits above each lane's {bi} up to {bib} are ignored); m_axis_tdata: LANES
//   outputs, lane k in bits [{bob}k +: {bob}] ({fo}, {ext}-extended to {bob} bits).
//   The pipeline moves when its output is taken or empty: s_axis_tready =
//   m_axis_tready | ~m_axis_tvalid (a combinational path, which AXI4-Stream
//   allows); m_axis_tvalid/tdata hold until taken. aresetn (active low,
//   synchronous) empties the pipeline.
module lutgen_{name}_axis #(
    parameter LANES = 1{decl}
) (
    (* X_INTERFACE_PARAMETER = "ASSOCIATED_BUSIF s_axis:m_axis, ASSOCIATED_RESET aresetn" *)
    input  wire aclk,
    input  wire aresetn,
    input  wire s_axis_tvalid,
    output wire s_axis_tready,
    input  wire [LANES*{bib}-1:0] s_axis_tdata,
    output wire m_axis_tvalid,
    input  wire m_axis_tready,
    output wire [LANES*{bob}-1:0] m_axis_tdata
);
    wire ce = m_axis_tready | ~m_axis_tvalid;  // the output is taken or empty
    wire [LANES*{bi}-1:0] x;
    wire [LANES*{bo}-1:0] y;
    assign s_axis_tready = ce;

    genvar lane;
    generate
    for (lane = 0; lane < LANES; lane = lane + 1) begin : lanes
        assign x[lane*{bi} +: {bi}] = s_axis_tdata[lane*{bib} +: {bi}];
        assign m_axis_tdata[lane*{bob} +: {bob}] = {out};{pad}
    end
    endgenerate

    lutgen_{name} #(.LANES(LANES){over}) core (
        .clk(aclk), .rst(~aresetn), .ce(ce), .in_valid(s_axis_tvalid), .x(x),
        .out_valid(m_axis_tvalid), .y(y)
    );
endmodule

`default_nettype wire
"""
