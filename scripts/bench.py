#!/usr/bin/env python3
"""lutgen's speed, as ratios against baselines measured in the same run.

    python scripts/bench.py            # the full run (10^7 inputs, 2^24 analysis)
    python scripts/bench.py --quick    # smaller sizes, for a smoke check

Prints, for 10^7 random (unsorted) int16 inputs:
  * the linear and nearest kernels against numpy.interp on the same knots and
    against a vectorised NumPy integer implementation of the same arithmetic;
  * an exhaustive analysis of 2^16 and 2^24 inputs against NumPy evaluating the
    bare float reference on those inputs;
  * the wall time of `lutgen build` of a 16-bit table in a cold process (numba cache warm).
Targets (docs in the README): linear >= 25x numpy.interp and >= 8x the NumPy
integer version; analysis <= 2x the bare reference; build < 1.5 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

import numpy as np

import lutgen
from lutgen import _kernels as K
from lutgen.analysis import analyze
from lutgen.table import _reference_cached


def best_of(fn, repeat=5):
    """Smallest wall time of ``repeat`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def numpy_int_linear(x, table):
    """The same integer arithmetic as the kernel, vectorised with NumPy (no tails, no fold)."""
    off = x.astype(np.int64) - table.lo_code
    s, g = table.shift, table.guard_bits
    i = off >> s
    w = off & ((1 << s) - 1)
    k0 = table.values[i]
    k1 = table.values[i + 1]
    acc = (k0 << s) + (k1 - k0) * w
    r = g + s
    y = (acc + (1 << (r - 1))) >> r
    return np.clip(y, table.out_format.min_code, table.out_format.max_code)


def numpy_int_nearest(x, table):
    off = x.astype(np.int64) - table.lo_code
    s, g = table.shift, table.guard_bits
    j = (off + (1 << (s - 1))) >> s
    y = table.values[j]
    if g:
        y = (y + (1 << (g - 1))) >> g
    return np.clip(y, table.out_format.min_code, table.out_format.max_code)


def kernel_section(n, repeat):
    rng = np.random.default_rng(2026)
    x = rng.integers(-32768, 32768, size=n, dtype=np.int16)
    print(f"kernels: {n:,} random int16 inputs, best of {repeat}")
    rows = []
    for interp, numpy_int in (("linear", numpy_int_linear), ("nearest", numpy_int_nearest)):
        table = lutgen.compile_table("tanh", in_format="s16.12", out_format="s16.15",
                                     range=(-8, 8), entries=256, interp=interp, guard_bits=3)
        def par():
            return K.eval_codes_parallel(x, table.values, table.prog, np.empty(n, table.code_dtype))

        def seq():
            return K.eval_codes(x, table.values, table.prog, np.empty(n, table.code_dtype))

        assert np.array_equal(par(), numpy_int(x, table)), "baseline disagrees with the kernel"
        knots_x = table.in_format.dequantize(
            table.lo_code + (np.arange(table.entries + 1) << table.shift))
        knots_y = table.values / 2.0 ** (table.out_format.frac + table.guard_bits)
        xf = table.in_format.dequantize(x)
        t_par = best_of(par, repeat)
        t_seq = best_of(seq, repeat)
        t_interp = best_of(lambda: np.interp(xf, knots_x, knots_y), repeat)
        t_npint = best_of(lambda: numpy_int(x, table), repeat)
        rows.append((interp, t_par, t_seq, t_interp, t_npint))
        print(f"  {interp:<8} kernel {t_par * 1e3:7.1f} ms ({n / t_par / 1e6:6.0f} M/s) "
              f"[1 core {t_seq * 1e3:6.1f} ms]  numpy.interp {t_interp * 1e3:7.1f} ms  "
              f"numpy int {t_npint * 1e3:7.1f} ms  ->  {t_interp / t_par:5.1f}x numpy.interp, "
              f"{t_npint / t_par:5.1f}x numpy int")
    return rows


def analysis_section(bits_list, repeat):
    print("exhaustive analysis vs NumPy evaluating the bare reference on the same inputs")
    for bits in bits_list:
        fmt = lutgen.FixedFormat(True, bits, bits - 4)
        table = lutgen.compile_table("sigmoid", in_format=fmt, entries=256)
        x = fmt.dequantize(fmt.codes())

        def bare():
            e = np.exp(-np.abs(x))
            return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

        reps = repeat * 10 if bits <= 16 else repeat  # sub-millisecond: more samples
        t_ref = best_of(bare, reps)
        _reference_cached.cache_clear()
        t0 = time.perf_counter()
        analyze(table)
        t_cold = time.perf_counter() - t0
        t_warm = best_of(lambda: analyze(table), reps)
        print(f"  2^{bits} inputs: reference {t_ref * 1e3:7.1f} ms; analysis {t_warm * 1e3:7.1f} ms"
              f" with the cached reference ({t_warm / t_ref:4.2f}x), {t_cold * 1e3:7.1f} ms "
              f"computing it ({t_cold / t_ref:4.2f}x)")


def build_section():
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "lutgen.cli", "build", "gelu", "--in-format", "s16.12",
               "--range", "-4", "4", "-o", tmp]
        subprocess.run(cmd, check=True, capture_output=True)  # warms the numba cache
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - t0)
    print(f"`lutgen build gelu` (16-bit, cold process, warm numba cache): {min(times):.2f} s wall")


FIT_TARGETS = [  # (activation, out format, ROM bits the issue promises)
    ("sigmoid", "s16.14", 4096),
    ("tanh", "s16.14", 9216),
    ("gelu", "s16.12", 8192),
]


def fit_section():
    """The faithful (1 LSB) fits, timed, each re-checked by a fresh compile and analysis."""
    from lutgen.search import fit

    print("fit to 1 LSB from s16.12 (each re-checked on every input)")
    for name, out_format, limit in FIT_TARGETS:
        t0 = time.perf_counter()
        result = fit(name, in_format="s16.12", out_format=out_format, max_error="1lsb")
        elapsed = time.perf_counter() - t0
        d = result.best.to_dict()
        again = analyze(lutgen.compile_table(
            name, in_format="s16.12", out_format=out_format, range=tuple(d["range"]),
            entries=d["entries"], interp=d["interp"], tails=d["tails"], fold=d["fold"],
            fit=d["fit"], guard_bits=d["guard_bits"]))
        lo, hi = d["effective_range"]
        print(f"  {name:<8} -> {out_format}: {d['entries']} entries {d['interp']}, "
              f"fold {'yes' if d['fold'] else 'no'}, {d['fit']}, G={d['guard_bits']}, "
              f"range [{lo:g}, {hi:g}), {d['rom_bits']} ROM bits (target <= {limit}), "
              f"max {again.max_error_lsb:.4f} LSB, {'faithful' if again.faithful else 'NOT'}; "
              f"{elapsed:.1f} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, a smoke check")
    args = ap.parse_args()
    n = 10**6 if args.quick else 10**7
    repeat = 2 if args.quick else 5
    kernel_section(n, repeat)
    analysis_section([16] if args.quick else [16, 24], repeat)
    build_section()
    fit_section()


if __name__ == "__main__":
    main()
