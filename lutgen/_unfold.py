"""Step 5 of docs/ARITHMETIC.md at compile time: a negating fold's stored centre E and an
``even_line`` fold's line term ``a * x``.

The compiler (:mod:`lutgen.table`) asks here for the integers of both: the line term
``LM * 2^-LE`` (``a * scale_in / scale_out`` must be that exact dyadic rational), the guard
bits that make every path's ``R >= LE``, the tails of ``h(x) = f(x) - a*x`` and the
accumulator bits the term adds. Centring changes no output: the stored words and the
line tails' ``C`` are the uncentred ones minus ``E`` (``E << (K - G)``).
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np

from .activations import Asymptote
from .errors import SpecError
from .spec import Fold, Interp

__all__ = ["line_term", "guard_bits", "without_line", "asymptote_of_h", "centred_tail",
           "acc_bits_with_line"]

MAX_LINE_SHIFT = 20  # LE above this (a scale ratio of 2^-20 or finer) is refused


def line_term(fold: Fold, traits, fin, fout, name: str) -> tuple[int, int]:
    """(LM, LE) with ``a * scale_in / scale_out = LM * 2^-LE``, LM odd; (0, 0) unless even_line."""
    if fold is not Fold.EVEN_LINE:
        return 0, 0
    a = Fraction(traits.slope) * _scale(fin) / _scale(fout)
    den = a.denominator
    if den & (den - 1):
        raise SpecError(
            f"the even fold of '{name}' adds the line {traits.slope:g}*x in output codes, "
            f"{traits.slope:g} * {fin.lsb!r} / {fout.lsb!r} = {float(a):.6g}, which is not a "
            "dyadic rational (an integer times a power of two), so it cannot be exact; choose "
            "formats whose scales differ by a power of two or drop --fold"
        )
    le = den.bit_length() - 1
    lm = a.numerator
    while lm and lm % 2 == 0:
        lm //= 2
        le -= 1
    if le > MAX_LINE_SHIFT:
        raise SpecError(f"the even fold of '{name}' needs its line term {float(a):.6g} "
                        f"to 2^-{le}, finer than 2^-{MAX_LINE_SHIFT}; drop --fold")
    return lm, le


def _scale(fmt) -> Fraction:
    return Fraction(fmt.scale) if fmt.is_affine else Fraction(2) ** -fmt.frac


def guard_bits(asked, interp: Interp, shift: int, line_e: int, default: int) -> int:
    """The guard bits: ``asked``, or the default raised until the table path's R >= LE."""
    s = shift if interp is Interp.LINEAR else 0
    if asked is None:
        guard = default if (interp is Interp.LINEAR and shift > 0) else 0
        return max(guard, line_e - s)
    if asked + s < line_e:
        raise SpecError(
            f"guard bits {asked} are too few for the even fold's line term: it needs "
            f"R = G{' + S' if s else ''} >= {line_e}, so at least {line_e - s} guard bits; "
            "give more or leave --guard-bits to its default"
        )
    return asked


def without_line(f, slope: float):
    """``x -> f(x) - slope * x``: the even part the table of an even_line fold stores."""
    return lambda x: f(x) - slope * np.asarray(x, dtype=np.float64)


def asymptote_of_h(asym: Asymptote | None, slope: float) -> Asymptote | None:
    """The asymptote of ``h(x) = f(x) - slope * x`` at the end where ``f`` follows ``asym``."""
    return None if asym is None else Asymptote(asym.slope - slope, asym.intercept)


def centred_tail(tail, fold_e: int, guard: int):
    """An asymptote tail whose ``C`` is the uncentred one minus ``E << (K - G)``."""
    if tail is None or not tail.is_line:
        return tail
    return dataclasses.replace(tail, c=tail.c - (fold_e << (tail.k - guard)))


def acc_bits_with_line(acc_bits: int, fin, lm: int, le: int, guard: int, shift: int,
                       interp: Interp, tails) -> int:
    """The accumulator bits once the line term ``(LM * (x - Z)) << (R - LE)`` is added."""
    r_max = max([guard + (shift if interp is Interp.LINEAR else 0)]
                + [t.k for t in tails if t is not None and t.is_line])
    z = fin.zero_point
    term = abs(lm) * max(abs(fin.min_code - z), abs(fin.max_code - z)) << (r_max - le)
    return max(acc_bits, term.bit_length() + 1) + 1
