"""Cycles per evaluation of lutgen's C headers on an AVR (ATmega328P), measured in simavr.

Usage::

    python scripts/avr_cycles.py [--json] [--keep DIR]

For each table (the int8 sigmoid and tanh of ``hw_out/mcu_int8``, and a q15 tanh) the
header is compiled twice with ``avr-gcc -Os -mmcu=atmega328p`` (table in flash:
``PROGMEM`` + ``pgm_read_*``): with the accumulator the compiler proves (``int16_t``
when ``acc_bits`` <= 16) and with ``int32_t`` forced. The program runs under
``simavr -m atmega328p -f 16000000`` and evaluates every input code. Timer 1 runs at
the CPU clock (prescaler 1): for each input it reads ``TCNT1`` around a call of a
``noinline`` function that evaluates the table, and around a call of the same shape
returning its argument; the difference is the cycles of one evaluation (simavr counts
the instructions' cycles as the datasheet gives them). The program prints every
output code (8-bit inputs) or an FNV-1a hash of all of them (16-bit inputs), which
is compared with ``Table.eval_int`` on every input: a mismatch is an error.
Code bytes: ``avr-nm -S`` of the evaluating function (the header's ``static inline``
code inlined into it); table bytes: ``LUTGEN_<NAME>_WORDS`` x word bytes.

Tools: Debian ``gcc-avr avr-libc simavr``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's lutgen

from lutgen.export import c_header  # noqa: E402
from lutgen.export.c_header import acc_width  # noqa: E402
from lutgen.fixedpoint import c_word_bits  # noqa: E402
from lutgen.spec import TableSpec  # noqa: E402
from lutgen.table import build, compile_table  # noqa: E402

MCU, FREQ = "atmega328p", 16_000_000
TOOLS = ("avr-gcc", "avr-nm", "simavr")
FNV_OFFSET, FNV_PRIME = 0x811C9DC5, 0x01000193


def tables() -> dict:
    """name -> Table: the shipped int8 sigmoid and tanh, and a q15 tanh."""
    out = {}
    for name in ("sigmoid", "tanh"):
        doc = json.loads((ROOT / "hw_out" / "mcu_int8" / f"{name}.json").read_text())
        out[f"{name}_int8"] = build(TableSpec.from_dict(doc["table"]["spec"]))
    out["tanh_q15"] = compile_table("tanh", in_format="s16.12", out_format="s16.15",
                                    range=(-4, 4), entries=64, interp="linear", fold=True,
                                    coeffs="minimax")
    return out


def _ctype(fmt) -> str:
    return f"{'' if fmt.signed else 'u'}int{c_word_bits(fmt.bits)}_t"


def program(table, name: str) -> str:
    """The C program that times and checks every input of ``table``."""
    fin, fout = table.in_format, table.out_format
    per_input = fin.bits <= 8
    macro = name.upper()
    each = 'printf("y %ld %u\\n", (long)c, y);' if per_input else ""
    return f"""\
#include <avr/io.h>
#include <avr/interrupt.h>
#include <avr/pgmspace.h>
#include <avr/sleep.h>
#include <stdio.h>
#define LUTGEN_TABLE_ATTR PROGMEM
#define LUTGEN_READ_8(p) pgm_read_byte(p)
#define LUTGEN_READ_16(p) pgm_read_word(p)
#define LUTGEN_READ_32(p) pgm_read_dword(p)
#define LUTGEN_{macro}_IMPLEMENTATION
#include "{name}.h"

static int uart_put(char c, FILE *f)
{{
    (void)f;
    while (!(UCSR0A & _BV(UDRE0)));
    UDR0 = c;
    return 0;
}}
static FILE uart = FDEV_SETUP_STREAM(uart_put, NULL, _FDEV_SETUP_WRITE);
__attribute__((noinline)) {_ctype(fout)} evaluate({_ctype(fin)} x)
{{
    return lutgen_{name}_eval(x);
}}
__attribute__((noinline)) {_ctype(fin)} same({_ctype(fin)} x) {{ return x; }}
volatile {_ctype(fout)} sink_y;
volatile {_ctype(fin)} sink_x;

int main(void)
{{
    uint32_t hash = {FNV_OFFSET}UL, total = 0, count = 0;
    uint16_t least = 0xffff, most = 0;
    stdout = &uart;
    UCSR0B = _BV(TXEN0);
    TCCR1A = 0;
    TCCR1B = _BV(CS10); /* timer 1 at the CPU clock */
    for (int32_t c = {fin.min_code}L; c <= {fin.max_code}L; c++) {{
        const {_ctype(fin)} x = ({_ctype(fin)})c;
        uint16_t t0 = TCNT1;
        sink_y = evaluate(x);
        uint16_t t1 = TCNT1;
        uint16_t b0 = TCNT1;
        sink_x = same(x);
        uint16_t b1 = TCNT1;
        const uint16_t cycles = (uint16_t)((t1 - t0) - (b1 - b0));
        const uint16_t y = (uint16_t)(int32_t)evaluate(x);
        hash = (hash ^ (y & 0xff)) * {FNV_PRIME}UL;
        hash = (hash ^ (y >> 8)) * {FNV_PRIME}UL;
        total += cycles;
        count++;
        if (cycles < least) least = cycles;
        if (cycles > most) most = cycles;
        {each}
    }}
    printf("hash %lu count %lu total %lu min %u max %u\\n", (unsigned long)hash,
           (unsigned long)count, (unsigned long)total, least, most);
    cli();
    sleep_cpu(); /* simavr stops: sleeping with interrupts off */
    return 0;
}}
"""


def expected(table) -> tuple[list[int], int]:
    """Every output code as the 16-bit pattern the program prints, and their FNV-1a hash."""
    codes = table.in_format.codes()
    ys = [int(y) & 0xFFFF for y in table.eval_int(codes)]
    h = FNV_OFFSET
    for y in ys:
        for byte in (y & 0xFF, y >> 8):
            h = ((h ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return ys, h


def require_tools() -> dict[str, str]:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        raise SystemExit(f"Error: {', '.join(missing)} not installed "
                         "(Debian: apt-get install gcc-avr avr-libc simavr)")
    return {t: shutil.which(t) for t in TOOLS}


def measure(table, name: str, acc: int | None, folder: Path) -> dict:
    """Compile, run under simavr, check every output; the cycle and byte figures."""
    tools = require_tools()
    folder.mkdir(parents=True, exist_ok=True)
    header = c_header.render(table, None, name, acc_width=acc)[0]
    (folder / header.filename).write_text(header.text)
    (folder / "main.c").write_text(program(table, name))
    elf = folder / "main.elf"
    subprocess.run([tools["avr-gcc"], f"-mmcu={MCU}", "-Os", "-std=c99", "-Wall", "-Wextra",
                    "-Werror", "-o", str(elf), "main.c"], cwd=folder, check=True,
                   capture_output=True, text=True)
    run = subprocess.run([tools["simavr"], "-m", MCU, "-f", str(FREQ), str(elf)], cwd=folder,
                         capture_output=True, text=True, timeout=600)
    # simavr's UART echo: colour codes, and '.' for each newline
    text = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout + run.stderr)
    summary = re.search(r"hash (\d+) count (\d+) total (\d+) min (\d+) max (\d+)", text)
    if summary is None:
        raise RuntimeError(f"simavr printed no summary for {name}:\n{text[-2000:]}")
    ys, h = expected(table)
    got_hash, count, total, least, most = map(int, summary.groups())
    if table.in_format.bits <= 8:
        printed = [int(m[1]) for m in re.finditer(r"y -?\d+ (\d+)", text)]
        if printed != ys:
            bad = next((i for i, (a, b) in enumerate(zip(printed, ys)) if a != b),
                       min(len(printed), len(ys)))
            raise RuntimeError(f"{name}: input code {table.in_format.min_code + bad}: "
                               f"AVR {printed[bad:bad + 1]}, Table.eval_int {ys[bad:bad + 1]}")
    if count != len(ys) or got_hash != h:
        raise RuntimeError(f"{name}: the AVR's outputs differ from Table.eval_int "
                           f"({count} inputs, hash {got_hash:#x}, expected {h:#x})")
    sizes = subprocess.run([tools["avr-nm"], "-S", str(elf)],
                           capture_output=True, text=True, check=True).stdout
    code = {m[2]: int(m[1], 16) for m in re.finditer(r"^\w+ (\w+) \w (\w+)$", sizes, re.M)}
    return {
        "table": name, "acc": f"int{acc if acc is not None else acc_width(table)}_t",
        "proven_acc": f"int{acc_width(table)}_t", "acc_bits": table.acc_bits,
        "inputs": count, "bit_exact": True,
        "cycles_mean": total / count, "cycles_min": least, "cycles_max": most,
        "code_bytes": code.get("evaluate"),
        "table_bytes": table.c_bytes,
    }


def report(folder: Path) -> list[dict]:
    rows = []
    for name, table in tables().items():
        widths = [None] + ([32] if acc_width(table) < 32 else [])
        for acc in widths:
            rows.append(measure(table, name, acc, folder / f"{name}_{acc or 'proven'}"))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--keep", type=Path, default=None, help="keep the programs in DIR")
    args = parser.parse_args(argv)
    if args.keep is not None:
        rows = report(args.keep)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            rows = report(Path(tmp))
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print("ATmega328P, avr-gcc -Os, simavr; cycles of one evaluation (beyond an identity "
          "call), every input checked against Table.eval_int")
    print(f"{'table':<13} {'acc':<8} {'acc_bits':>8} {'inputs':>6} {'mean':>7} {'min':>4} "
          f"{'max':>4} {'code B':>6} {'table B':>7}")
    for r in rows:
        print(f"{r['table']:<13} {r['acc']:<8} {r['acc_bits']:>8} {r['inputs']:>6} "
              f"{r['cycles_mean']:>7.1f} {r['cycles_min']:>4} {r['cycles_max']:>4} "
              f"{r['code_bytes']:>6} {r['table_bytes']:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
