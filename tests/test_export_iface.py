"""The Verilog interface: clock enable, stalls, resets, LANES, the AXI4-Stream wrapper, rom_style.

The emitted testbench drops ``ce`` and ``in_valid`` at pseudo-random points and
resets the module in mid-stream; it is run for several tables, pipeline
settings and LANES = 1, 2, 3, and made to fail by modules that ignore ``ce`` or
change ``y`` on a reset. The AXI4-Stream wrapper is checked by a testbench
written here (random ``s_axis_tvalid`` and ``m_axis_tready``, the AXI rule that
valid data holds until taken, every vector bit-exact, the count). Yosys: no
latches, a two-lane module reads each ROM through one dual-port block RAM on
xc7, and ``rom_style`` moves the ROMs between block RAM and LUTs.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from lutgen.table import compile_table
from tests.conftest import require_tool
from tests.test_export_hdl import CASES, _write, run_testbench, simulate_fail
from tests.test_export_pipeline import PIPE_CASES

IFACE = {
    "sigmoid_s8_linear_fold": PIPE_CASES["sigmoid_s8_linear_fold"],
    "gelu_s16_linear_asym": CASES["gelu_s16_linear_asym"],
    "tanh_u8_nearest_asym": CASES["tanh_u8_nearest_asym"],
    "tanh_s8_none_fold": CASES["tanh_s8_none_fold"],
    "tanh_uint8_affine_fold_zp_asym": CASES["tanh_uint8_affine_fold_zp_asym"],
    # 12-bit codes: AXI4-Stream lanes padded to 16 bits
    "sigmoid_s12_linear": dict(name="sigmoid", in_format="s12.8", out_format="s12.10",
                               interp="linear", entries=32, tails="clamp", range=(-6, 6)),
}


def _table(case: str, pipeline=2, **extra):
    args = dict(IFACE[case], **extra)
    return compile_table(args.pop("name"), pipeline=pipeline, **args)


def _run(args, cwd: Path, timeout=600):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("lanes", [1, 2, 3])
@pytest.mark.parametrize("pipeline", [2, 4, "max"])
@pytest.mark.parametrize("case", list(IFACE))
def test_stalls_and_a_midstream_reset_stay_bit_exact(tmp_path, case, pipeline, lanes):
    table = _table(case, pipeline)
    arts = _write(tmp_path, table, "t")
    tb = arts["tb_lutgen_t.v"]
    assert "$random(seed) % 6" in tb and "resets = 2;" in tb  # ce stalls, the mid-stream reset
    out = run_testbench(tmp_path, params=[("LANES", lanes)])
    n = table.in_format.n_codes
    assert out.returncode == 0, out.stdout[-2000:]
    assert out.stdout.strip().splitlines()[-1] == f"PASS {n} vectors"


def _patched(tmp_path: Path, case: str, old: str, new: str) -> None:
    _write(tmp_path, _table(case, "max"), "t")
    path = tmp_path / "lutgen_t.v"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_module_that_ignores_ce_fails(tmp_path):
    _patched(tmp_path, "gelu_s16_linear_asym", "always @(posedge clk) if (ce) begin",
             "always @(posedge clk) begin")
    last = simulate_fail(tmp_path).strip().splitlines()[-1]
    assert re.fullmatch(r"FAIL \d+ of 65536", last), last


def test_valid_bits_that_ignore_ce_fail(tmp_path):
    _patched(tmp_path, "sigmoid_s8_linear_fold", "end else if (ce) begin", "end else begin")
    assert "FAIL out_valid does not follow in_valid by LATENCY cycles" in simulate_fail(tmp_path)


def test_y_loaded_on_a_reset_edge_fails(tmp_path):
    # y must hold while out_valid is low, also across the mid-stream reset
    _patched(tmp_path, "sigmoid_s8_linear_fold", "if (ce && !rst && valid_q[", "if (ce && valid_q[")
    assert "FAIL y changed while out_valid is low" in simulate_fail(tmp_path)


def test_module_ports_and_y_hold(tmp_path):
    text = _write(tmp_path, _table("sigmoid_s8_linear_fold"), "t", "mem,verilog")["lutgen_t.v"]
    assert "parameter LANES = 1," in text
    for port in ("input  wire ce,", "input  wire [LANES*8-1:0] x,",
                 "output wire [LANES*8-1:0] y"):
        assert port in text
    assert "if (ce && !rst && valid_q[0]) y_lane <=" in text


# ---- the AXI4-Stream wrapper, against a testbench written here ---------------------------
def _axis_tb(table, lanes: int) -> str:
    fi, fo = table.in_format, table.out_format
    bi, bo = fi.bits, fo.bits
    bib, bob = -(-bi // 8) * 8, -(-bo // 8) * 8
    n = fi.n_codes
    expect = (f"$signed(m_axis_tdata[l*{bob} +: {bob}]) !== $signed(v[2*p(l, got)+1][{bo - 1}:0])"
              if fo.signed else f"m_axis_tdata[l*{bob} +: {bob}] !== v[2*p(l, got)+1][{bo - 1}:0]")
    return f"""
module tb_axis;
    reg [31:0] v [0:{2 * n - 1}];
    reg aclk = 0, aresetn = 0, s_axis_tvalid = 0, m_axis_tready = 0;
    reg [{lanes * bib - 1}:0] s_axis_tdata = 0;
    wire s_axis_tready, m_axis_tvalid;
    wire [{lanes * bob - 1}:0] m_axis_tdata;
    reg [{lanes * bob - 1}:0] held;
    reg was_stalled = 0;
    integer sent = 0, got = 0, bad = 0, seed = 7, l, cycles = 0;
    lutgen_t_axis #(.LANES({lanes})) dut (.aclk(aclk), .aresetn(aresetn),
        .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready), .s_axis_tdata(s_axis_tdata),
        .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready), .m_axis_tdata(m_axis_tdata));
    always #5 aclk = ~aclk;
    function integer p(input integer lane, input integer i);
        p = (lane % 2) != 0 ? {n - 1} - i : i;
    endfunction
    always @(posedge aclk) if (aresetn) begin
        cycles = cycles + 1;
        // the master side: data that was valid and not taken must still be there
        if (was_stalled && (!m_axis_tvalid || m_axis_tdata !== held)) bad = bad + 1000000;
        was_stalled = m_axis_tvalid && !m_axis_tready;
        held = m_axis_tdata;
        if (m_axis_tvalid && m_axis_tready) begin
            for (l = 0; l < {lanes}; l = l + 1)
                if ({expect}) bad = bad + 1;
            got = got + 1;
        end
        if (s_axis_tvalid && s_axis_tready) sent = sent + 1;
        // the slave side: valid stays high until taken (AXI4-Stream), data then changes
        if (!(s_axis_tvalid && !s_axis_tready)) begin
            s_axis_tvalid <= sent < {n} && ($random(seed) % 5) != 0;
            for (l = 0; l < {lanes}; l = l + 1)  // ones in the padding: ignored
                s_axis_tdata[l*{bib} +: {bib}] <= ({{{bib}{{1'b1}}}} << {bi}) |
                                                  v[2*p(l, sent)][{bi - 1}:0];
        end
        m_axis_tready <= ($random(seed) % 4) != 0;
    end
    initial begin
        $readmemh("t_vectors.mem", v);
        repeat (3) @(posedge aclk);
        aresetn <= 1;
        wait (got == {n});
        repeat (40) @(posedge aclk);
        $display("got %0d sent %0d bad %0d cycles %0d", got, sent, bad, cycles);
        $finish;
    end
endmodule
"""


@pytest.mark.parametrize("lanes", [1, 2])
@pytest.mark.parametrize(("case", "pipeline"), [("sigmoid_s8_linear_fold", 2),
                                                ("sigmoid_s8_linear_fold", "max"),
                                                ("tanh_uint8_affine_fold_zp_asym", 3),
                                                ("sigmoid_s12_linear", "max")])
def test_axis_wrapper_streams_every_vector_under_backpressure(tmp_path, case, pipeline, lanes):
    table = _table(case, pipeline)
    _write(tmp_path, table, "t")
    (tmp_path / "tb_axis.v").write_text(_axis_tb(table, lanes))
    iverilog, vvp = require_tool("iverilog"), require_tool("vvp")
    out = _run([iverilog, "-g2005", "-o", "axis.vvp", "tb_axis.v", "lutgen_t_axis.v",
                "lutgen_t.v"], tmp_path)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    out = _run([vvp, "-n", "axis.vvp"], tmp_path)
    n = table.in_format.n_codes
    m = re.search(r"got (\d+) sent (\d+) bad (\d+) cycles (\d+)", out.stdout)
    assert m, out.stdout
    got, sent, bad, cycles = map(int, m.groups())
    assert (got, sent, bad) == (n, n, 0)
    assert cycles > n * 1.3  # the random tvalid gaps and tready stalls did happen


@pytest.mark.parametrize("lanes", [1, 2, 3])
@pytest.mark.parametrize("case", ["sigmoid_s8_linear_fold", "sigmoid_s12_linear",
                                  "tanh_s8_none_fold"])
def test_wrapper_and_module_lint_clean_and_latch_free(tmp_path, case, lanes):
    _write(tmp_path, _table(case, "max"), "t", "mem,verilog")
    out = _run([require_tool("verilator"), "--lint-only", "-Wall", f"-GLANES={lanes}",
                "lutgen_t_axis.v", "lutgen_t.v"], tmp_path, 120)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == "", out.stderr
    script = (f"read_verilog lutgen_t.v lutgen_t_axis.v; chparam -set LANES {lanes} "
              "lutgen_t_axis; synth -top lutgen_t_axis; "
              "select -assert-none t:$dlatch t:$_DLATCH_*")
    out = _run([require_tool("yosys"), "-q", "-p", script], tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr


# ---- Yosys: dual-port ROM sharing, rom_style ------------------------------------------------
def _xc7_cells(folder: Path, lanes: int = 1) -> dict[str, int]:
    script = (f"read_verilog lutgen_t.v; chparam -set LANES {lanes} lutgen_t; "
              "synth_xilinx -top lutgen_t; tee -q -o xc7.txt stat")
    out = _run([require_tool("yosys"), "-q", "-p", script], folder)
    assert out.returncode == 0, out.stdout + out.stderr
    text = (folder / "xc7.txt").read_text()
    return {m[1]: int(m[2]) for m in re.finditer(r"^\s+(\S+)\s+(\d+)\s*$", text, re.M)}


def _brams(cells: dict[str, int]) -> int:
    return sum(v for k, v in cells.items() if k.startswith("RAMB"))


def test_two_lanes_share_each_rom_through_a_dual_port_block_ram(tmp_path):
    table = _table("gelu_s16_linear_asym", "max", rom_style="block")
    _write(tmp_path, table, "t", "mem,verilog")
    one, two = _xc7_cells(tmp_path, 1), _xc7_cells(tmp_path, 2)
    assert _brams(one) == 2  # the even and the odd bank
    assert _brams(two) == _brams(one)  # the second lane reads the second port
    assert one.get("DSP48E1") == 1 and two.get("DSP48E1") == 2  # one multiplier a lane
    four = _xc7_cells(tmp_path, 4)  # a copy of each bank per two lanes
    assert _brams(four) == 2 * _brams(one) and four.get("DSP48E1") == 4


def test_rom_style_attributes_reach_the_netlist_and_move_the_roms(tmp_path):
    texts, brams = {}, {}
    for style in ("auto", "block", "distributed"):
        folder = tmp_path / style
        table = _table("sigmoid_s8_linear_fold", "max", rom_style=style)
        texts[style] = _write(folder, table, "t", "mem,verilog")["lutgen_t.v"]
        # the attribute is on both memories of the netlist
        want = {"auto": 0, "block": 2, "distributed": 2}[style]
        value = "block" if style == "block" else "distributed"
        script = ("read_verilog lutgen_t.v; hierarchy -top lutgen_t; proc; memory_collect; "
                  f"select -assert-count {want} t:$mem_v2 a:rom_style={value} %i")
        out = _run([require_tool("yosys"), "-q", "-p", script], folder)
        assert out.returncode == 0, out.stdout + out.stderr
        if style != "distributed":  # Yosys (0.23) maps no ROM to LUTRAM: Vivado's value
            brams[style] = _brams(_xc7_cells(folder))
    assert brams == {"auto": 0, "block": 2}  # 9 and 8 words: LUTs, unless asked otherwise
    assert "rom_style" not in texts["auto"]
    assert texts["block"].count('(* rom_style = "block" *) reg [') == 2
    assert texts["distributed"].count(
        '(* rom_style = "distributed", ramstyle = "logic" *) reg [') == 2
    assert "--rom-style block" in texts["block"] and "--rom-style" not in texts["auto"]


def test_rom_style_option_through_cli_and_project_file(tmp_path):
    from click.testing import CliRunner

    from lutgen.batch import compile_entry
    from lutgen.cli import cli

    result = CliRunner().invoke(cli, ["build", "tanh", "--in-format", "s8.4", "--rom-style",
                                      "bram", "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
    assert result.output.splitlines()[-1].startswith("Error: Invalid value for '--rom-style': "
                                                     "'bram' is not one of 'auto', 'block', "
                                                     "'distributed'")
    table, _ = compile_entry(0, {"activation": "tanh", "in_format": "s8.4", "entries": 16,
                                 "rom_style": "distributed"})
    assert table.spec.rom_style.value == "distributed"
    assert table.spec.to_dict()["rom_style"] == "distributed"
