"""``lutgen build --report-resources`` and :mod:`lutgen.resources`: Yosys and nextpnr figures.

The figures are checked against Yosys's own ``stat`` run here by hand on the emitted
module (not against the code under test), and a missing tool is one ``Error:`` line.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from click.testing import CliRunner

from lutgen.cli import cli
from lutgen.errors import ToolError
from tests.conftest import require_tool

DIRECT = ["sigmoid", "--in-format", "s8.4", "--out-format", "s8.6", "--entries", "256",
          "--interp", "none"]


def _stat(folder, top, synth) -> dict[str, int]:
    out = subprocess.run([require_tool("yosys"), "-q", "-p",
                          f"read_verilog lutgen_{top}.v; {synth} -top lutgen_{top}; "
                          "tee -q -o stat.txt stat"], cwd=folder, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    text = (folder / "stat.txt").read_text()
    return {m[1]: int(m[2]) for m in re.finditer(r"^\s+(\S+)\s+(\d+)\s*$", text, re.M)}


def test_build_reports_resources_in_json_and_markdown(tmp_path):
    require_tool("yosys")
    require_tool("nextpnr-ice40")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", *DIRECT, "--emit", "verilog", "--report-resources",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "sigmoid.json").read_text())["resources"]
    fams = {f["family"]: f for f in doc["families"]}
    ice, x = fams["ice40"], fams["xc7"]
    assert ice["device"] == "up5k" and ice["synth"].startswith("synth_ice40 -dsp")
    # the same module through Yosys by hand
    by_hand = _stat(out, "sigmoid", "synth_ice40 -dsp")
    assert ice["luts"] == by_hand.get("SB_LUT4", 0)
    assert ice["brams"] == by_hand.get("SB_RAM40_4K", 0) == 1  # 256 x 7 bits: one 4-kbit block
    assert ice["dsps"] == by_hand.get("SB_MAC16", 0) == 0  # a direct table: no multiply
    assert ice["ffs"] == sum(n for c, n in by_hand.items() if c.startswith("SB_DFF"))
    assert 20.0 < ice["fmax_mhz"] < 500.0
    xc = _stat(out, "sigmoid", "synth_xilinx")
    assert x["luts"] == sum(xc.get(f"LUT{k}", 0) for k in range(1, 7)) and x["dsps"] == 0
    assert x["fmax_mhz"] is None and x["brams"] == xc.get("RAMB18E1", 0) + xc.get("RAMB36E1", 0)
    md = (out / "sigmoid_resources.md").read_text()
    assert f"| ice40 up5k | `synth_ice40 -dsp` | {ice['luts']} | {ice['ffs']} | 1 | 0 |" in md
    assert "--report-resources" in md and "Yosys" in md
    assert f"ice40 up5k (synth_ice40 -dsp): {ice['luts']} LUT" in result.output


def test_a_linear_table_reports_its_multiplier(tmp_path):
    from lutgen.resources import measure
    from lutgen.table import compile_table

    require_tool("yosys")
    table = compile_table("gelu", in_format="s10.6", out_format="s10.6", range=(-4, 4),
                          entries=32, interp="linear")
    res = measure(table, "g", place=False)
    assert res.get("ice40").dsps == 1 and res.get("ice40").fmax_mhz is None
    assert res.get("xc7").dsps == 1
    assert res.module == "lutgen_g"


def test_missing_yosys_is_one_error_line_and_nothing_written(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["build", *DIRECT, "--report-resources", "-o", str(out)],
        env={"PATH": str(tmp_path)})
    assert result.exit_code == 2
    assert result.stderr == ("Error: yosys and nextpnr-ice40 are not installed; resource "
                             "figures need them (Debian: apt-get install yosys nextpnr-ice40)\n")
    assert not out.exists()


def test_library_callers_get_a_tool_error(tmp_path, monkeypatch):
    from lutgen.resources import measure
    from lutgen.table import compile_table

    monkeypatch.setenv("PATH", str(tmp_path))
    table = compile_table("tanh", in_format="s8.4", entries=16)
    with pytest.raises(ToolError, match="yosys is not installed"):
        measure(table, place=False)
    with pytest.raises(RuntimeError):  # ToolError is a RuntimeError too
        measure(table)


PROJECT = """\
name = "small"
emit = ["verilog"]
report_resources = {flag}

[[tables]]
activation = "sigmoid"
in_format = "s8.4"
out_format = "s8.6"
entries = 256
interp = "none"
"""


def test_a_project_reports_resources_in_report_md_and_verify_keeps_them(tmp_path):
    require_tool("yosys")
    require_tool("nextpnr-ice40")
    from lutgen.verify import verify

    (tmp_path / "p.toml").write_text(PROJECT.format(flag="true"))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "p.toml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    figures = json.loads((out / "sigmoid.json").read_text())["resources"]["families"]
    ice = next(f for f in figures if f["family"] == "ice40")
    report = (out / "report.md").read_text()
    assert "## Resources" in report
    row = (f"| sigmoid | ice40 up5k | `synth_ice40 -dsp` | {ice['luts']} | {ice['ffs']} | 1 | 0 "
           f"| {ice['fmax_mhz']:.1f} |")
    assert row in report
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tables"][0]["resources"]["families"] == figures
    assert verify(out) == []
    # the figures are re-rendered from the manifest: an edited report.md is a difference
    (out / "report.md").write_text(report.replace(row, row.replace("| 1 | 0 |", "| 2 | 0 |")))
    assert any("report.md" in p for p in verify(out))


def test_a_project_without_yosys_or_with_a_bad_flag_writes_nothing(tmp_path):
    out = tmp_path / "out"
    (tmp_path / "p.toml").write_text(PROJECT.format(flag="true"))
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "p.toml"), "-o", str(out)],
                                env={"PATH": str(tmp_path)})
    assert result.exit_code == 2 and result.output.startswith(
        "Error: yosys and nextpnr-ice40 are not installed")
    assert not out.exists()
    (tmp_path / "p.toml").write_text(PROJECT.format(flag='"yes"'))
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "p.toml"), "-o", str(out)])
    assert result.exit_code == 2
    assert result.output == "Error: report_resources: 'yes' is not true or false\n"
    assert not out.exists()


def test_a_tool_running_over_its_time_is_a_tool_error(monkeypatch):
    require_tool("yosys")
    import lutgen.resources as resources
    from lutgen.table import compile_table

    monkeypatch.setattr(resources, "TIMEOUT", 0.001)
    table = compile_table("tanh", in_format="s8.4", entries=16)
    with pytest.raises(ToolError, match=r"yosys ran over 0.001 s"):
        resources.measure(table, place=False)
