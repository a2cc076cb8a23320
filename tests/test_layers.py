"""Dependencies point one way: errors -> kernels/fixedpoint/activations -> table ->
analysis -> search -> export -> plot -> batch -> cli. Read from each module's imports."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "lutgen"

# module (dotted, relative to lutgen) -> lutgen modules it may import, and third parties it may not
RANK = {
    "errors": 0, "_json": 0, "_text": 0,
    "fixedpoint": 1, "_kernels": 1, "activations": 1,
    "table": 2,
    "analysis": 3, "search": 3.5,  # search measures its designs with analysis
    "export": 4, "plot": 4.5,  # plot writes through export's atomic_write
    "batch": 5,
    "cli": 6,
}
FORBIDDEN_THIRD_PARTY = {
    "export": {"numba", "matplotlib", "scipy"},
    "activations": {"numba", "matplotlib"},
    "fixedpoint": {"numba", "matplotlib", "scipy"},
    "errors": {"numba", "matplotlib", "scipy", "numpy"},
    "_kernels": {"matplotlib", "scipy"},
}


def _layer(module: str) -> str:
    return module.split(".")[0]


def _imports(path: Path, module: str):
    """(lutgen module, third-party top level) pairs imported anywhere in the file."""
    tree = ast.parse(path.read_text())
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                yield (alias.name.split(".", 1)[1] if top == "lutgen" and "." in alias.name
                       else None, None if top == "lutgen" else top)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                if not target:  # "from .. import x" at the top: the names are modules
                    for alias in node.names:
                        yield alias.name, None
                else:
                    yield target, None
            elif node.module.split(".")[0] == "lutgen":
                yield node.module.partition(".")[2] or None, None
            else:
                yield None, node.module.split(".")[0]


MODULES = sorted(
    (p, ".".join(p.relative_to(PKG).with_suffix("").parts).replace(".__init__", ""))
    for p in PKG.rglob("*.py") if p.name != "__init__.py" or p.parent != PKG
)


@pytest.mark.parametrize("path,module", MODULES, ids=[m for _, m in MODULES])
def test_imports_point_down_the_layers(path, module):
    layer = _layer(module)
    assert layer in RANK, f"{module}: add its layer to RANK"
    for target, third in _imports(path, module):
        if target:
            other = _layer(target)
            if other in RANK and other != layer:
                assert RANK[other] < RANK[layer], f"{module} imports {target} (a higher layer)"
        if third:
            assert third not in FORBIDDEN_THIRD_PARTY.get(layer, set()), f"{module} imports {third}"


def test_nothing_imports_the_cli():
    for path, module in MODULES:
        if module != "cli":
            assert all(t != "cli" for t, _ in _imports(path, module)), module


def test_exporters_load_neither_numba_nor_matplotlib():
    code = ("import sys, lutgen.export as e\n"
            "for k in e.KINDS.values(): __import__('lutgen.export.' + k)\n"
            "print('numba' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
