"""The C header on an AVR (ATmega328P) in simavr: bit-exact on every input, and the
``int16_t`` accumulator (``acc_bits`` <= 16) takes far fewer cycles than ``int32_t``.

Runs ``scripts/avr_cycles.py``'s measurement (avr-gcc -Os, table in flash, Timer 1 at
the CPU clock around each evaluation); the tools are Debian's gcc-avr, avr-libc, simavr.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from lutgen.table import compile_table
from tests.conftest import require_tool

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "avr_cycles.py"


@pytest.fixture(scope="module")
def avr():
    for tool in ("avr-gcc", "avr-nm", "simavr"):
        require_tool(tool)
    spec = importlib.util.spec_from_file_location("avr_cycles", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_int8_tables_are_bit_exact_and_the_int16_accumulator_is_cheaper(avr, tmp_path):
    tables = avr.tables()
    for name in ("sigmoid_int8", "tanh_int8"):
        table = tables[name]
        assert table.acc_bits <= 16
        narrow = avr.measure(table, name, None, tmp_path / f"{name}16")
        wide = avr.measure(table, name, 32, tmp_path / f"{name}32")
        assert narrow["acc"] == "int16_t" and wide["acc"] == "int32_t"
        assert narrow["inputs"] == wide["inputs"] == 256 and narrow["bit_exact"]
        # measured 69-100 cycles against 214-250 (scripts/avr_cycles.py): well under 60 %
        assert 20 < narrow["cycles_mean"] < 0.6 * wide["cycles_mean"], (narrow, wide)
        assert narrow["code_bytes"] < wide["code_bytes"]
        assert narrow["table_bytes"] == 17  # 17 knots of 8-bit words in flash


def test_a_q15_table_is_bit_exact_on_every_input(avr, tmp_path):
    table = avr.tables()["tanh_q15"]
    got = avr.measure(table, "tanh_q15", None, tmp_path)
    assert got["acc"] == "int32_t" and got["inputs"] == 65536 and got["bit_exact"]
    assert 50 < got["cycles_min"] <= got["cycles_mean"] <= got["cycles_max"] < 2000


def test_a_wrong_output_is_caught(avr, tmp_path, monkeypatch):
    # the check compares with Table.eval_int: one expected code off by one must fail it
    table = compile_table("tanh", in_format="s8.4", out_format="s8.7", entries=16, fold=True)
    ys, _ = avr.expected(table)
    ys[200] = (ys[200] + 1) & 0xFFFF
    monkeypatch.setattr(avr, "expected", lambda t: (ys, _hash(avr, ys)))
    with pytest.raises(RuntimeError, match="input code 72: AVR"):
        avr.measure(table, "t", None, tmp_path)


def _hash(avr, ys):
    h = avr.FNV_OFFSET
    for y in ys:
        for byte in (y & 0xFF, y >> 8):
            h = ((h ^ byte) * avr.FNV_PRIME) & 0xFFFFFFFF
    return h


def test_an_accumulator_narrower_than_proven_is_refused():
    from lutgen.export import c_header

    table = compile_table("tanh", in_format="s16.12", out_format="s16.15", entries=64)
    with pytest.raises(ValueError, match="accumulator of 16 bits"):
        c_header.render(table, None, "t", acc_width=16)
