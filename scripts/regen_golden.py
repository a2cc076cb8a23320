"""Regenerate the golden files of the exporters: ``tests/golden/<kind>/``.

Usage::

    python scripts/regen_golden.py            # every kind in GOLDEN_KINDS
    python scripts/regen_golden.py c verilog  # only these

Each kind's folder is rewritten from scratch with the artifacts that
``lutgen.export.render`` makes for every spec in ``GOLDEN_SPECS`` (named by its
key). The tests compare ``render`` with these bytes and import both dicts from
this file, so a spec exists in one place only. To add an exporter, add its kind
here and rerun; review the diff before committing it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_DIR = ROOT / "tests" / "golden"

# kind (as `lutgen build --emit` spells it) -> folder under tests/golden
GOLDEN_KINDS = {
    "c": "c",
    "mem": "hdl/mem",
    "coe": "hdl/coe",
    "mif": "hdl/mif",
    "verilog": "hdl/verilog",
    "tb": "hdl/tb",
}

# name -> compile_table arguments ("activation" is the first positional); small
# tables of the classic catalog only, so the files stay readable
GOLDEN_SPECS = {
    "sigmoid_fold": dict(activation="sigmoid", in_format="s8.4", entries=16, fold=True,
                         guard_bits=3),
    "tanh_nearest": dict(activation="tanh", in_format="s8.4", entries=8, interp="nearest",
                         guard_bits=0),
    "linear_tails": dict(activation="linear", in_format="s8.4", range=(-1.0, 1.0), entries=4,
                         interp="none", tails="asymptote", guard_bits=0),
}


def golden_artifacts(kind: str, spec_name: str):
    """The artifacts of ``kind`` for ``GOLDEN_SPECS[spec_name]``, rendered now."""
    from lutgen.analysis import analyze
    from lutgen.export import render
    from lutgen.table import compile_table

    args = dict(GOLDEN_SPECS[spec_name])
    table = compile_table(args.pop("activation"), **args)
    return render(table, analyze(table), [kind], name=spec_name)


def regenerate(kinds) -> list[Path]:
    written = []
    for kind in kinds:
        if kind not in GOLDEN_KINDS:
            raise SystemExit(f"unknown kind {kind!r}; known: {', '.join(GOLDEN_KINDS)}")
        folder = GOLDEN_DIR / GOLDEN_KINDS[kind]
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            if old.is_file():
                old.unlink()
        for spec_name in GOLDEN_SPECS:
            for art in golden_artifacts(kind, spec_name):
                path = folder / art.filename
                path.write_bytes(art.text.encode("utf-8"))
                written.append(path)
    return written


def main(argv) -> int:
    for path in regenerate(argv or list(GOLDEN_KINDS)):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
