"""The README's table of the shipped examples is scripts/hw_report.py's output: every
hw_out table has its row, with the latency the Verilog exporter gives (cheap checks; the
measurement itself is the script's, run by hand: Yosys and nextpnr take minutes)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def hw():
    spec = importlib.util.spec_from_file_location("hw_report", ROOT / "scripts" / "hw_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _section(hw) -> str:
    doc = (ROOT / "README.md").read_text()
    start, end = doc.index(hw.BEGIN), doc.index(hw.END)
    return doc[start + len(hw.BEGIN):end]


def test_every_fpga_example_has_its_row_and_latency(hw):
    text = _section(hw)
    assert f"Measured by `{hw.COMMAND}`" in text
    tables = hw.project_tables(ROOT / "hw_out" / "fpga_16bit")
    rows = {m[1]: m for m in re.finditer(
        r"^\| `(\w+)` \| (\d+) / (\d+) \| ([\d.]+) \| ([\d.]+) \| (\d+) / (\d+) / (\d+) / (\d+) \|"
        r" (\d+) / (\d+) / (\d+) / (\d+) \|$", text, re.M)}
    assert sorted(rows) == sorted(tables)
    for name, table in tables.items():
        m = rows[name]
        # the deepest pipeline: 9 cycles, 10 for a hierarchical table (its region stage)
        deepest = 9 if table.regions is None else 10
        assert (int(m[2]), int(m[3])) == hw.latencies(table) == (2, deepest)
        assert int(m[9]) == 1 and int(m[13]) == 1  # one SB_MAC16, one DSP48E1 (linear units)
        if name in ("sigmoid", "tanh", "gelu"):  # issue 11's Fmax targets (the fitted units)
            assert float(m[4]) >= 50.0 and float(m[5]) >= 80.0


def test_every_mcu_example_has_its_cycles(hw):
    text = _section(hw)
    names = hw.project_tables(ROOT / "hw_out" / "mcu_int8")
    found = re.findall(r"^\| `(\w+)` \| `int(?:16|32)_t` \| [\d.]+ \| \d+ \| \d+ \| \d+ \| \d+ \|$",
                       text, re.M)
    assert sorted(found) == sorted(names)


def test_write_replaces_only_the_section(hw, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{hw.BEGIN}\nold\n{hw.END}\nafter\n")
    hw.write_readme("new table\n", readme)
    assert readme.read_text() == f"before\n{hw.BEGIN}\nnew table\n{hw.END}\nafter\n"
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit):
        hw.write_readme("x\n", readme)
