"""Slow, obviously right softmax: ``docs/SOFTMAX.md`` step by step, in Python ints.

Written from the document, not from the kernel: it reads a :class:`lutgen.softmax.Softmax`'s
documented fields (its formats, ``mantissa_bits`` and its two tables, evaluated one code at
a time by ``tests/naive.py``), never a program vector.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from . import naive


def naive_softmax_codes(sm, codes) -> list[int]:
    """The output codes of one vector of input codes (a list of Python ints)."""
    x = [int(c) for c in codes]
    assert len(x) == sm.n
    fin = sm.in_format
    assert all(fin.min_code <= c <= fin.max_code for c in x)
    m = max(x)  # 1. max
    d = [m - c for c in x]  # 2. unsigned differences
    assert all(0 <= v < 2**fin.bits for v in d)
    e = [naive.naive_eval(sm.exp_table, v) for v in d]  # 3. exp(-d)
    s = sum(e)  # 4. the sum, We + L bits
    assert 0 < s < 2 ** (sm.exp_table.out_format.bits + (sm.n - 1).bit_length())
    k = s.bit_length() - 1  # 5. leading one: 2^k <= S < 2^(k+1)
    mb = sm.mantissa_bits
    f = int(Fraction(s - 2**k, 2**k) * 2**mb // 1)  # 6. M bits below it, truncated
    assert 0 <= f < 2**mb
    r = naive.naive_eval(sm.recip_table, f)  # 7. 1/(1+f)
    sh = sm.recip_table.out_format.frac + k - sm.out_format.frac
    assert sh >= 1
    y = [naive.round_shift(v * r, sh) for v in e]  # 8-9. one multiply, one rounding
    return [min(v, sm.out_format.max_code) for v in y]  # 10. saturation


def naive_softmax_batch(sm, rows) -> np.ndarray:
    return np.array([naive_softmax_codes(sm, row) for row in rows], dtype=np.int64)
