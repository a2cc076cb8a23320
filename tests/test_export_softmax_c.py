"""The softmax C export, compiled with gcc (-Wall -Wextra -Werror ...) and run against the kernel."""

from __future__ import annotations

import platform
import subprocess

import numpy as np
import pytest

from lutgen.export.softmax_c import render

from .conftest import require_tool
from .test_softmax import compiled

C_FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Werror"]
NO_FLOAT = ["-mgeneral-regs-only"] if platform.machine() in ("x86_64", "AMD64") else []
SANITIZE = ["-fsanitize=undefined,address", "-fno-sanitize-recover=all", "-g"]


def _vectors(sm, count: int) -> np.ndarray:
    """Random logits at two spreads, and the corners: all equal, one high among the lowest."""
    fin = sm.in_format
    rng = np.random.default_rng(7)
    parts = [sm.quantize(rng.normal(0, s, (count, sm.n))) for s in (0.1, 3.0)]
    corner = np.full((4, sm.n), fin.min_code)
    corner[1] = fin.max_code
    corner[2, 0] = fin.max_code
    corner[3, -1] = fin.min_code + 1
    return np.concatenate(parts + [corner]).astype(np.int64)


def _run_c(tmp_path, sm, codes, flags) -> np.ndarray:
    gcc = require_tool("gcc")
    for art in render(sm, "sm"):
        (tmp_path / art.filename).write_text(art.text)
    tin = "".join(("" if sm.in_format.signed else "u", "int",
                   str(max(8, 1 << (sm.in_format.bits - 1).bit_length())), "_t"))
    tout = "".join(("" if sm.out_format.signed else "u", "int",
                    str(max(8, 1 << (sm.out_format.bits - 1).bit_length())), "_t"))
    rows = ",\n".join("{" + ", ".join(f"{int(c)}" for c in row) + "}" for row in codes)
    (tmp_path / "main.c").write_text(f"""\
#define LUTGEN_SM_IMPLEMENTATION
#include "sm.h"
#include <stdio.h>
static const {tin} X[{len(codes)}][{sm.n}] = {{
{rows}
}};
int main(void)
{{
    {tout} y[{sm.n}];
    int v, i;
    for (v = 0; v < {len(codes)}; v++) {{
        lutgen_sm(X[v], y);
        for (i = 0; i < {sm.n}; i++) printf("%ld ", (long)y[i]);
        printf("\\n");
    }}
    return 0;
}}
""")
    exe = tmp_path / "harness"
    proc = subprocess.run([gcc, *flags, "-o", str(exe), str(tmp_path / "main.c")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    return np.array([[int(t) for t in line.split()] for line in out.splitlines()])


@pytest.mark.parametrize("name", ["n10_ap8", "n3_s6.2_u8.8", "n1_s8.4", "n17_u8.5_s12.10",
                                  "n5_given_tables", "n4_none_tables"])
def test_c_matches_the_kernel(tmp_path, name):
    sm = compiled(name)
    codes = _vectors(sm, 300)
    c = _run_c(tmp_path, sm, codes, C_FLAGS + NO_FLOAT + ["-O2"])
    assert np.array_equal(c, sm.eval_int(codes))


def test_c_matches_the_kernel_on_the_issue_case(tmp_path):
    from lutgen.softmax import softmax

    sm = softmax(10, "ap_fixed<16,6>")
    codes = _vectors(sm, 2000)
    c = _run_c(tmp_path, sm, codes, C_FLAGS + NO_FLOAT + ["-O2"])
    assert np.array_equal(c, sm.eval_int(codes))


def test_c_is_clean_under_sanitizers(tmp_path):
    sm = compiled("n17_u8.5_s12.10")
    codes = _vectors(sm, 100)
    c = _run_c(tmp_path, sm, codes, C_FLAGS + SANITIZE + ["-O1"])
    assert np.array_equal(c, sm.eval_int(codes))


def test_c_header_of_a_table_whose_output_fills_its_accumulator_type(tmp_path):
    """u15.14 output in an int16_t accumulator: no always-false saturation compare (-Wextra
    -Werror refused the header: "comparison is always false due to limited range")."""
    from lutgen.export.c_header import render as render_table
    from lutgen.table import compile_table

    gcc = require_tool("gcc")
    table = compile_table("e", expr="exp(-x)", in_format="u8.5", out_format="u15.14",
                          range=(0, 8), entries=256, interp="none", tails="clamp")
    (tmp_path / "e.h").write_text(render_table(table, None, "e")[0].text)
    codes = np.arange(256)
    (tmp_path / "main.c").write_text(
        '#define LUTGEN_E_IMPLEMENTATION\n#include "e.h"\n#include <stdio.h>\n'
        "int main(void)\n{\n    int x;\n    for (x = 0; x < 256; x++) "
        'printf("%ld\\n", (long)lutgen_e_eval((uint8_t)x));\n    return 0;\n}\n')
    exe = tmp_path / "e"
    proc = subprocess.run([gcc, *C_FLAGS, "-o", str(exe), str(tmp_path / "main.c")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    assert [int(v) for v in out.split()] == table.eval_int(codes).tolist()
