"""``lutgen_<name>.v``: a synthesizable Verilog-2001 module computing docs/ARITHMETIC.md.

Every width is resolved (:class:`lutgen.export._rtl_datapath.Datapath`), so the only
parameters are the memory files and LANES, and Verilator ``-Wall`` sees no implicit
truncation. The memory layout is :func:`lutgen.export.mem.rom_banks`.

The datapath is written as a sequence of steps with a possible register cut
between neighbours (:data:`CUTS`); ``table.spec.pipeline`` says how many cuts
exist. Two always do: the ROM read (synchronous, the block-RAM template) and
``y``. Each further stage enables the next cut of :func:`cut_order`, so the
latency is ``min(pipeline, deepest(table))`` cycles and the integers computed
never change.

A sigmoid reading a tanh table's knots (:mod:`lutgen.shared`) is a *pair* module: the
sigmoid's ports and datapath, and a second datapath computing that tanh (``tanh_x``,
``tanh_y``, ``tanh_in_valid``, ``tanh_out_valid``, ``TANH_LANES``); both read the one
set of knot ROMs, loaded from the tanh's memory files.
"""

from __future__ import annotations

from ._common import Artifact, provenance_lines
from ._rtl import CUTS, LATENCY, cut_order, deepest, latency
from ._rtl_datapath import Datapath
from ._rtl_regions import header_parts
from ._verilog_text import HEADER, MODULE, PAIR_HEADER, WHY_BANKS
from .axis import wrapper
from .mem import comment_block

__all__ = ["render", "LATENCY", "latency", "deepest", "cut_order", "CUTS"]


def render(table, report, name: str) -> list[Artifact]:
    if table.knots_of is not None:
        return [Artifact(f"lutgen_{name}.v", _pair(table, report, name))]
    lane = Datapath(table, name)
    body = lane.build()  # (the header lists the memories the build declared)
    doc = provenance_lines(table, report, name) + [""] + _header(lane)
    text = comment_block(doc, "//") + _module(
        name, lane, [(lane, "", body)],
        "one datapath per lane; every lane reads the same ROMs (two lanes: one dual-port read)")
    axis = wrapper(name, table.in_format, table.out_format,
                   [(p, f) for _, p, f, _ in lane.mems])
    return [Artifact(f"lutgen_{name}.v", text),
            Artifact(f"lutgen_{name}_axis.v", comment_block(
                provenance_lines(table, report, name), "//") + axis)]


def _module(name: str, roms: Datapath, sides, lanes_note: str) -> str:
    """The module text around its datapaths: ``sides`` are (Datapath, what its valid chain
    carries, its lane body) per function, each with its own ports, LANES, valid chain and
    generate loop; ``roms`` declares the memories they all read."""
    fi, fo = roms.t.in_format, roms.t.out_format

    def each(template: str, sep: str = "\n") -> str:
        return sep.join(template.format(
            p=lane.side, P=lane.side.upper(), lat_1=lane.latency - 1, lat_2=lane.latency - 2,
            what=what, body=_body(body), bi=fi.bits, bo=fo.bits,
            valid=_valid(lane.side, lane.latency)) for lane, what, body in sides)

    return MODULE.format(
        name=name, mems="".join(f"    {m}\n" for m in roms.memlines),
        params=",\n".join([each("    parameter {P}LANES = 1", ",\n")]
                          + [f'    parameter {p} = "{f}"' for _, p, f, _ in roms.mems]),
        ports=each("    input  wire {p}in_valid,\n    input  wire [{P}LANES*{bi}-1:0] {p}x,\n"
                   "    output reg  {p}out_valid,\n    output wire [{P}LANES*{bo}-1:0] {p}y",
                   ",\n"),
        valid_regs=each("    reg [{lat_2}:0] {p}valid_q;  // {p}valid_q[k]: the {what}value in "
                        "stage k + 2 is valid"),
        resets=each("            {p}valid_q <= {lat_1}'d0;\n            {p}out_valid <= 1'b0;"),
        shifts=each("            {valid}\n            {p}out_valid <= {p}valid_q[{lat_2}];"),
        lanes_note=lanes_note,
        generates=each("    generate\n    for (lane = 0; lane < {P}LANES; lane = lane + 1) "
                       "begin : {p}lanes\n{body}\n    end\n    endgenerate", "\n\n"))


def _valid(side: str, lat: int) -> str:
    """The valid chain's shift: ``valid_q[k]``, the value in stage k + 2 is valid."""
    return (f"{side}valid_q <= {side}in_valid;" if lat == 2
            else f"{side}valid_q <= {{{side}valid_q[{lat - 3}:0], {side}in_valid}};")


def _body(lines: list[str]) -> str:
    return "\n".join(f"    {line}" if line else "" for line in lines)


def _header(lane: Datapath) -> list[str]:
    """The module header's description of one datapath (its formats, latency, constants)."""
    t, fi, fo = lane.t, lane.t.in_format, lane.t.out_format
    mems = ", ".join(f"{label}_mem ({n} x {t.store_bits} bits, {p})"
                     for label, p, _, n in lane.mems)
    said, shape, why, regions = CUTS, f"S = {t.shift}, N = {t.entries}", WHY_BANKS, []
    if lane.regions is not None:  # a hierarchical table: no one S, no uniform N
        said, shape, why, regions = header_parts(t, CUTS, why)
    cuts = "".join(f"    {k + 3}: + '{c}' {said[c]}{' (here)' if c in lane.cuts else ''}\n"
                   for k, c in enumerate(cut_order(t)))
    text = HEADER.format(
        name=lane.name, fi=fi, fo=fo, sign="signed" if fi.signed else "unsigned", t=t,
        lat=lane.latency, acc=lane.acc, mems=mems, why=why if lane.banked else "",
        setting=getattr(t.spec, "pipeline", LATENCY), deepest=deepest(t), cuts=cuts,
        shape=shape, extra=_extra(t))
    lines = text.splitlines()
    at = next(k for k, line in enumerate(lines) if line.startswith("  Memories:"))
    return lines[:at] + regions + lines[at:]


def _extra(t) -> str:
    return (f", E = {t.fold_e}" if t.fold_e else "") + (
        f", line term LM = {t.fold_lm}, LE = {t.fold_le}" if t.fold_lm else "")


def _pair(sig, report, name: str) -> str:
    """The module of a sigmoid over a tanh table's knots: both functions, one set of ROMs."""
    tanh, source = sig.knots_of, sig.knots_name
    th = Datapath(tanh, source, side="tanh_")
    tanh_body = th.build()
    lane = Datapath(sig, name, roms=th)
    body = lane.build()
    fi, fo = sig.in_format, sig.out_format
    doc = provenance_lines(sig, report, name) + [""] + PAIR_HEADER.format(
        name=name, source=source, fi=fi, fo=fo, lat=lane.latency, tlat=th.latency,
        words=len(sig.values), twords=len(tanh.values),
        mems="\n".join(f"    {label}_mem: {n} x {tanh.store_bits} bits, {p} = \"{f}\""
                       for label, p, f, n in th.mems)).splitlines()
    for side, dp in (("y = sigmoid(x)", lane), (f"tanh_y = tanh(tanh_x), table '{source}'", th)):
        t = dp.t
        parts = None if dp.regions is None else header_parts(t, CUTS, "")
        shape = f"S = {t.shift}, N = {t.entries}" if parts is None else parts[1]
        doc += ["", f"  {side}: latency {dp.latency} (pipeline = "
                f"{getattr(t.spec, 'pipeline', LATENCY)}; at most {deepest(t)}),",
                "  register cuts: " + (", ".join(f"'{c}'" for c in cut_order(t)
                                                 if c in dp.cuts) or "none (read and y only)"),
                f"  Constants: LO = {t.lo_code}, HI = {t.hi_code}, {shape}, G = "
                f"{t.guard_bits}, F = {t.fold_f}{_extra(t)}; accumulator {dp.acc} bits."]
        if parts is not None:
            doc += parts[3]
    return comment_block(doc, "//") + _module(
        name, th, [(lane, "sigmoid's ", body), (th, "tanh's ", tanh_body)],
        "one datapath per lane of each function; every lane of both reads the same ROMs")
