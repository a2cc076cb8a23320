"""lutgen's softmax against hls4ml's on the same seeded logit vectors (issue 13).

Prints, per implementation: argmax flips against float64 softmax of the same quantised
logits, the floor (flips of the correctly rounded softmax in the same output format),
strict reorderings, max/mean probability error in output LSBs, the range of the sum and
ROM bits. hls4ml's own ``nnet::softmax`` is compiled with g++ only when its headers are at
``$LUTGEN_HLS_INCLUDE`` (``ap_types/`` and ``nnet_utils/``; scripts/fetch_hls_headers.sh).

    python scripts/softmax_vs_hls4ml.py [--count 100000] [--sigma 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lutgen.fixedpoint import FixedFormat  # noqa: E402
from lutgen.softmax import softmax  # noqa: E402
from lutgen.softmax_analysis import vector_stats  # noqa: E402

# hls4ml 1.3.0's defaults for a Softmax layer (Vivado backend): 18-bit tables of 1024 words
HLS_TABLE_T = "ap_fixed<18,8,AP_RND,AP_SAT>"
HLS_TABLE_SIZE = 1024

HARNESS = r"""
#include <cstdio>
#include <cstdint>
#include <vector>
#include "ap_fixed.h"
#include "nnet_utils/nnet_activation.h"

typedef {data_t} data_T;
struct config : nnet::activ_config {{
    static const unsigned n_in = {n};
    static const unsigned n_slice = {n};
    static const unsigned n_outer = 1;
    static const unsigned n_inner = 1;
    static const unsigned parallelization_factor = -1;
    static const unsigned exp_table_size = {size};
    static const unsigned inv_table_size = {size};
    static const unsigned table_size = {size};
    static const unsigned io_type = nnet::io_parallel;
    static const unsigned reuse_factor = 1;
    static const unsigned axis = -1;
    static const nnet::softmax_implementation implementation = nnet::softmax_implementation::{impl};
    static constexpr float exp_scale = 1.0;
    typedef {table_t} exp_table_t;
    typedef {table_t} inv_table_t;
    typedef {table_t} table_t;
    typedef {table_t} accum_t;
    typedef {table_t} inv_inp_t;
    typedef {norm_t} inp_norm_t;
}};

int main(int argc, char **argv)
{{
    FILE *in = std::fopen(argv[1], "rb"), *out = std::fopen(argv[2], "wb");
    int32_t codes[{n}];
    data_T x[{n}], y[{n}];
    while (std::fread(codes, sizeof(int32_t), {n}, in) == {n}) {{
        for (int i = 0; i < {n}; i++) x[i].range() = codes[i];
        nnet::softmax<data_T, data_T, config>(x, y);
        for (int i = 0; i < {n}; i++) codes[i] = (int32_t)y[i].range().to_int();
        std::fwrite(codes, sizeof(int32_t), {n}, out);
    }}
    std::fclose(in);
    std::fclose(out);
    return argc == 3 ? 0 : 1;
}}
"""


def hls4ml_codes(codes: np.ndarray, fmt: FixedFormat, data_t: str, impl: str, norm_t: str):
    """hls4ml's softmax output codes (sign-extended) for input codes, or None without headers."""
    include = os.environ.get("LUTGEN_HLS_INCLUDE")
    gxx = shutil.which("g++")
    if not include or not (Path(include) / "nnet_utils" / "nnet_activation.h").exists() or not gxx:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "harness.cpp"
        src.write_text(HARNESS.format(data_t=data_t, n=codes.shape[1], size=HLS_TABLE_SIZE,
                                      table_t=HLS_TABLE_T, impl=impl, norm_t=norm_t))
        exe = tmp / "harness"
        subprocess.run([gxx, "-std=c++14", "-O2", "-w", f"-I{include}",
                        f"-I{Path(include) / 'ap_types'}", "-o", str(exe), str(src)], check=True)
        (tmp / "in.bin").write_bytes(codes.astype(np.int32).tobytes())
        subprocess.run([str(exe), str(tmp / "in.bin"), str(tmp / "out.bin")], check=True)
        y = np.frombuffer((tmp / "out.bin").read_bytes(), dtype=np.int32).astype(np.int64)
    y = y.reshape(codes.shape) & ((1 << fmt.bits) - 1)
    return np.where(y > fmt.max_code, y - (1 << fmt.bits), y)  # .range() is unsigned


def row(name, s, rom) -> str:
    return (f"{name:<26} {s.argmax_flips:>6} {s.floor_flips:>6} {s.strict_reorderings:>8} "
            f"{s.max_error_lsb:>9.3f} {s.mean_error_lsb:>8.3f}   [{s.sum_min:.4f}, "
            f"{s.sum_max:.4f}] {rom:>8}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--format", default="ap_fixed<16,6>", help="input and output format")
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--sigma", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hls-norm-t", default=None,
                    help="hls4ml's inp_norm_t [default: ap_ufixed<W,I> of the format]")
    args = ap.parse_args(argv)

    sm = softmax(args.n, args.format)
    fmt = sm.in_format
    x = np.random.default_rng(args.seed).normal(0.0, args.sigma, (args.count, args.n))
    codes = sm.quantize(x).astype(np.int64)
    print(f"{args.count} vectors of N(0, {args.sigma:g}), N = {args.n}, seed {args.seed}, "
          f"{args.format} in and out")
    print(f"{'implementation':<26} {'flips':>6} {'floor':>6} {'reorder':>8} {'max LSB':>9} "
          f"{'mean LSB':>8}   {'sum range':<18} {'ROM bits':>8}")
    lut = vector_stats(codes, sm.eval_int(codes), fmt, sm.out_format, "lutgen")
    print(row("lutgen", lut, sm.rom_bits))
    norm_t = args.hls_norm_t or f"ap_ufixed<{fmt.bits},{fmt.int_bits}>"
    rom = 2 * HLS_TABLE_SIZE * 18
    for impl in ("stable", "latency", "legacy"):
        y = hls4ml_codes(codes, fmt, args.format, impl, norm_t)
        if y is None:
            print("hls4ml: skipped (set LUTGEN_HLS_INCLUDE to a folder with ap_types/ and "
                  "nnet_utils/, and install g++)")
            break
        print(row(f"hls4ml {impl}", vector_stats(codes, y, fmt, fmt, impl), rom))
    return 0


if __name__ == "__main__":
    sys.exit(main())
