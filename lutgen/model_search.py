"""The search of a model-level budget, over any model runner (no torch, no onnx here).

:func:`search_budget` takes the activations to replace (:class:`Slot`: formats and the
inputs each saw on calibration data) and ``evaluate``, a callable that runs the model with
some of its activations replaced by tables and returns the model's outputs. For each
activation it fits the cheapest table at each rung of a ladder of error budgets
(:func:`lutgen.fit`), then searches the combinations for the fewest total ROM bits (or C
bytes) that keeps a model-level :class:`Criterion` against the unmodified model's outputs
(``evaluate({})``). :mod:`lutgen.model_budget` runs PyTorch modules,
:mod:`lutgen.onnx_budget` ONNX models in ONNX Runtime.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from . import __version__
from .analysis import Distribution, ErrorReport, analyze
from .errors import SpecError
from .export import identifier
from .fixedpoint import FixedFormat
from .search import fit

__all__ = ["Criterion", "ModelFigures", "Choice", "ModelBudgetResult", "Slot", "search_budget",
           "check_options", "figures_of", "LADDER", "SEARCHES", "EXHAUSTIVE_LIMIT"]

LADDER = (0.5, 1, 2, 4, 8, 16, 32)  # output LSBs: the error budgets each table is fitted to
SEARCHES = ("auto", "greedy", "exhaustive")
EXHAUSTIVE_LIMIT = 4096  # combinations "auto" still searches exhaustively


@dataclass(frozen=True)
class Criterion:
    """What the model must keep; every bound given must hold.

    ``min_agreement``: top-1 agreement with the unmodified model, in percent;
    ``max_logit_dev`` / ``mean_logit_dev``: bounds on the max / mean absolute
    deviation of the model's outputs from the unmodified model's.
    """

    min_agreement: float | None = None
    max_logit_dev: float | None = None
    mean_logit_dev: float | None = None

    def __post_init__(self):
        given = [v for v in (self.min_agreement, self.max_logit_dev, self.mean_logit_dev)
                 if v is not None]
        if not given:
            raise SpecError("give a model-level criterion: min_agreement (percent), "
                            "max_logit_dev or mean_logit_dev")
        for name in ("min_agreement", "max_logit_dev", "mean_logit_dev"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise SpecError(f"{name} must be a finite number >= 0, got {v!r}")
        if self.min_agreement is not None and self.min_agreement > 100:
            raise SpecError(f"min_agreement is a percentage (0..100), got {self.min_agreement!r}")

    def holds(self, f: "ModelFigures") -> bool:
        return ((self.min_agreement is None or f.agreement >= self.min_agreement)
                and (self.max_logit_dev is None or f.max_logit_dev <= self.max_logit_dev)
                and (self.mean_logit_dev is None or f.mean_logit_dev <= self.mean_logit_dev))

    def __str__(self) -> str:
        parts = []
        if self.min_agreement is not None:
            parts.append(f"top-1 agreement >= {self.min_agreement:g} %")
        if self.max_logit_dev is not None:
            parts.append(f"max output deviation <= {self.max_logit_dev:g}")
        if self.mean_logit_dev is not None:
            parts.append(f"mean output deviation <= {self.mean_logit_dev:g}")
        return " and ".join(parts)

    def to_dict(self) -> dict:
        return {"min_agreement": self.min_agreement, "max_logit_dev": self.max_logit_dev,
                "mean_logit_dev": self.mean_logit_dev}


@dataclass(frozen=True)
class ModelFigures:
    """The model's outputs against the unmodified model's, on the evaluation data."""

    agreement: float  # % of samples whose top-1 class is the unmodified model's
    max_logit_dev: float
    mean_logit_dev: float
    accuracy: float | None = None  # % against the labels, when given

    def to_dict(self) -> dict:
        return {"agreement": self.agreement, "max_logit_dev": self.max_logit_dev,
                "mean_logit_dev": self.mean_logit_dev, "accuracy": self.accuracy}


def accuracy_of(out: np.ndarray, labels) -> float | None:
    """% of samples whose top-1 class is the label (None without labels)."""
    if labels is None:
        return None
    return float((np.argmax(out, axis=-1) == labels).mean()) * 100


def figures_of(out, base, labels=None) -> ModelFigures:
    """The figures of outputs ``out`` against the unmodified model's ``base`` (both (n, k))."""
    out, base = np.asarray(out, dtype=np.float64), np.asarray(base, dtype=np.float64)
    dev = np.abs(out - base)
    agree = float((np.argmax(out, axis=-1) == np.argmax(base, axis=-1)).mean()) * 100
    return ModelFigures(agree, float(dev.max()), float(dev.mean()), accuracy_of(out, labels))


@dataclass(frozen=True)
class Choice:
    """The table chosen for one activation, with its own and model-level figures."""

    module: str
    module_type: str
    activation: str
    params: dict
    budget_lsb: float  # the ladder rung it was fitted to
    table: object = field(repr=False)
    report: ErrorReport = field(repr=False)
    alone: ModelFigures  # the model with only this table substituted
    calib_mean_error_lsb: float  # the mean error weighted by the calibration inputs
    candidates: tuple[dict, ...] = ()  # every rung's table: budget, ROM bits, max LSB
    table_name: str | None = None  # the project's name for it [default: activation_module]

    @property
    def name(self) -> str:
        """The table's name in the project (activation and module unless given)."""
        if self.table_name:
            return identifier(self.table_name)
        return identifier(f"{self.activation}_{self.module}".replace(".", "_"))

    def to_dict(self) -> dict:
        t, r = self.table, self.report
        return {"name": self.name, "module": self.module, "module_type": self.module_type,
                "activation": self.activation, "params": dict(self.params),
                "budget_lsb": self.budget_lsb, "in_format": str(t.in_format),
                "out_format": str(t.out_format), "entries": t.entries,
                "interp": t.interp.value, "rom_bits": t.rom_bits, "c_bytes": t.c_bytes,
                "max_error_lsb": r.max_error_lsb, "mean_error_lsb": r.mean_error_lsb,
                "calib_mean_error_lsb": self.calib_mean_error_lsb,
                "alone": self.alone.to_dict(), "spec": t.spec.to_dict(),
                "candidates": list(self.candidates)}


@dataclass(frozen=True)
class ModelBudgetResult:
    """What a model-level budget found: ``met``, the chosen tables and the figures."""

    met: bool
    criterion: Criterion
    objective: str
    choices: tuple[Choice, ...]
    figures: ModelFigures  # the chosen combination
    floor: ModelFigures  # every activation at its most accurate table
    unmodified_accuracy: float | None
    evaluations: int
    search: str
    samples: int

    @property
    def rom_bits(self) -> int:
        return sum(c.table.rom_bits for c in self.choices)

    @property
    def c_bytes(self) -> int:
        return sum(c.table.c_bytes for c in self.choices)

    @property
    def tables(self) -> dict:
        """Module (activation) name -> chosen Table."""
        return {c.module: c.table for c in self.choices}

    def to_dict(self) -> dict:
        return {"generator": f"lutgen {__version__}", "met": self.met,
                "criterion": self.criterion.to_dict(), "objective": self.objective,
                "search": self.search, "evaluations": self.evaluations,
                "samples": self.samples, "unmodified_accuracy": self.unmodified_accuracy,
                "figures": self.figures.to_dict(), "floor": self.floor.to_dict(),
                "rom_bits": self.rom_bits, "c_bytes": self.c_bytes,
                "tables": [c.to_dict() for c in self.choices]}


@dataclass(frozen=True)
class Slot:
    """One activation to replace: where, what it computes, its formats, its calibration inputs."""

    module: str  # the name ``evaluate`` knows it by
    module_type: str  # a torch module's class, an ONNX region's ops
    activation: str
    params: dict
    in_format: FixedFormat
    out_format: FixedFormat
    samples: np.ndarray = field(repr=False)  # the inputs it saw on the calibration data
    expr: str | None = None  # an expression in place of a registry activation
    table_name: str | None = None


def check_options(criterion_values, objective, search, ladder, labels, samples) -> tuple:
    """``(Criterion, ladder tuple, labels array or None)``; SpecError for a bad option."""
    criterion = Criterion(*criterion_values)
    if objective not in ("bits", "bytes"):
        raise SpecError(f"unknown objective {objective!r}; allowed: bits, bytes")
    if search not in SEARCHES:
        raise SpecError(f"unknown search {search!r}; allowed: {', '.join(SEARCHES)}")
    ladder = tuple(float(v) for v in ladder)
    if not ladder or not all(math.isfinite(v) and v > 0 for v in ladder):
        raise SpecError(f"the ladder must list positive LSB budgets, got {list(ladder)}")
    if labels is not None:
        y = np.asarray(labels)
        if (y.shape != (samples,) or y.dtype.kind not in "iuf"
                or y.dtype.kind == "f" and not bool((y == np.round(y)).all())):
            raise SpecError(f"labels must be one integer class per evaluation sample, shape "
                            f"({samples},); got shape {tuple(y.shape)}")
        labels = y.astype(np.int64)
    return criterion, ladder, labels


@dataclass
class _Candidate:
    budget_lsb: float
    table: object
    report: ErrorReport
    cost: tuple


def _candidates(slot: Slot, ladder, objective, saturation, progress):
    """Per rung the fitted table; duplicates dropped; cheapest first, most accurate last."""
    out, seen = [], set()
    for rung in sorted(ladder):  # the most accurate first: kept even when it misses (closest)
        result = fit(slot.activation, expr=slot.expr, params=slot.params,
                     in_format=slot.in_format, out_format=slot.out_format,
                     max_error=f"{rung}lsb", saturation=saturation, objective=objective)
        if progress is not None:
            progress(f"{slot.activation} at {rung:g} LSB")
        if result.best is None or (not result.met and out):
            continue
        t = result.best.table
        key = (t.values.tobytes(), t.prog.tobytes())
        if key in seen:
            continue
        seen.add(key)
        cost = (t.rom_bits, t.c_bytes) if objective == "bits" else (t.c_bytes, t.rom_bits)
        out.append(_Candidate(float(rung), t, result.best.report, cost))
    out.sort(key=lambda c: (c.cost, c.report.max_error_lsb))
    # a dearer table that is no more accurate than a cheaper one is never worth it
    kept = []
    for c in out:
        if all(c.report.max_error_lsb < k.report.max_error_lsb for k in kept):
            kept.append(c)
    return kept


def search_budget(slots, evaluate, criterion: Criterion, *, labels=None, ladder=LADDER,
                  objective="bits", saturation="allowed", search="auto",
                  progress=None) -> ModelBudgetResult:
    """The cheapest tables for ``slots`` that keep ``criterion``, judged by ``evaluate``.

    ``evaluate(tables)`` runs the model on the evaluation data with each activation named
    in ``tables`` (a dict: :attr:`Slot.module` -> Table) replaced bit-exactly, the others
    unmodified, and returns its outputs, shape (samples, classes); ``evaluate({})`` is the
    unmodified model. Options are checked by :func:`check_options`.

    Exhaustive search tries the combinations cheapest first and stops at the first that
    keeps the criterion (the optimum); greedy starts from the most accurate tables and
    takes, step by step, the cheaper table that saves the most while the criterion holds.
    Auto: exhaustive up to 4096 combinations.
    """
    slots = list(slots)
    names = [s.module for s in slots]
    base = np.asarray(evaluate({}), dtype=np.float64)
    runs = [0]

    def run(tables: dict) -> ModelFigures:
        runs[0] += 1
        return figures_of(evaluate(tables), base, labels)

    cands = {s.module: _candidates(s, ladder, objective, saturation, progress) for s in slots}
    cache = {}

    def judge(pick: tuple) -> ModelFigures:
        if pick not in cache:
            cache[pick] = run({n: cands[n][i].table for n, i in zip(names, pick)})
        return cache[pick]

    def cost(pick):
        return tuple(map(sum, zip(*(cands[n][i].cost for n, i in zip(names, pick)))))

    top = tuple(len(cands[n]) - 1 for n in names)
    floor = judge(top)
    combos = math.prod(len(cands[n]) for n in names)
    how = search if search != "auto" else ("exhaustive" if combos <= EXHAUSTIVE_LIMIT
                                           else "greedy")
    pick = top
    if criterion.holds(floor):
        pick = _exhaustive(names, cands, judge, cost, criterion) if how == "exhaustive" \
            else _greedy(names, cands, judge, cost, criterion, top)
    figures = judge(pick)
    choices = []
    for s, i in zip(slots, pick):
        c = cands[s.module][i]
        weighted = analyze(c.table, dist=Distribution("samples", path="calibration",
                                                      data=s.samples)).weighted_mean_abs_error
        choices.append(Choice(
            s.module, s.module_type, s.activation, dict(s.params), c.budget_lsb, c.table,
            c.report, run({s.module: c.table}), weighted / c.table.out_format.lsb,
            tuple({"budget_lsb": k.budget_lsb, "rom_bits": k.table.rom_bits,
                   "c_bytes": k.table.c_bytes, "max_error_lsb": k.report.max_error_lsb,
                   "chosen": k is c} for k in cands[s.module]), s.table_name))
    return ModelBudgetResult(criterion.holds(figures), criterion, objective, tuple(choices),
                             figures, floor, accuracy_of(base, labels), runs[0], how,
                             len(base))


def _exhaustive(names, cands, judge, cost, criterion):
    picks = sorted(itertools.product(*(range(len(cands[n])) for n in names)),
                   key=lambda p: (cost(p), [-i for i in p]))
    return next(p for p in picks if criterion.holds(judge(p)))  # the most accurate holds


def _greedy(names, cands, judge, cost, criterion, start):
    pick = start
    while True:
        best = None
        for k in range(len(names)):
            for i in range(pick[k]):  # the cheapest first: the first that holds is the step
                trial = pick[:k] + (i,) + pick[k + 1:]
                if criterion.holds(judge(trial)):
                    if best is None or cost(trial) < cost(best):
                        best = trial
                    break
        if best is None:
            return pick
        pick = best
