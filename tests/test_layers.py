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
    "errors": 0, "_json": 0, "_text": 0, "_threads": 0,
    "_affine": 0.5,  # affine (scale, zero point) format helpers of fixedpoint
    "fixedpoint": 1, "_kernels": 1, "activations": 1,
    "_kernels_faithful": 1.05,  # the faithful dynamic program's kernels
    "regions": 1.2,  # the region layout of hierarchical tables (no numba)
    "tail": 1.2,  # a table's Tail (clamp or asymptote)
    "_option_values": 1.4,  # the option value parsers of spec
    "spec": 1.5,  # the table spec and its one option table: no numba
    "_reference": 1.6, "_entries": 1.7,  # the reference cache; choosing the stored integers
    "_faithful": 1.8,  # exact faithful entries (uses _entries' minimax for none/nearest)
    "_unfold": 1.6,  # step 5 at compile time: the stored centre, the even_line term
    "_region_fit": 1.85,  # feasible segment shifts of hierarchical tables (budget search)
    "_region_counted": 1.95,  # counted-region layouts (budget search)
    "_distributions": 1.6,  # input distributions read from files (samples, histograms)
    "_range": 1.9,  # the compiler's input range and its alignment
    "table": 2,
    "shared": 2.2,  # a sigmoid over a tanh table's knots (one array, two functions)
    "targets": 2.5,  # the cost models of fit --target (footprints of compiled tables)
    "analysis": 3, "budget": 3.4, "search": 3.5,  # search measures its designs with analysis
    "_search_regions": 3.45,  # the search's hierarchical layouts
    "softmax": 3.6, "softmax_analysis": 3.7,  # the composite softmax fits its tables
    "export": 4, "plot": 4.5,  # plot writes through export's atomic_write
    "resources": 4.6,  # Yosys / nextpnr on the rendered Verilog
    "_project_report": 4.9,  # a project's report.md
    "batch": 5, "verify": 5.5,
    "_onnx_graph": 5.55, "_onnx_rewrite": 5.6, "onnx": 5.7,  # lutgen[onnx]: over batch
    "model_search": 5.65,  # the model-level budget's search over any model runner (no extras)
    "onnx_budget": 5.75,  # the model-level budget of ONNX models (ONNX Runtime)
    "torch": 5.8, "model_budget": 5.85,  # integrations: the only modules that import torch
    "model_report": 5.86,  # what a model-level budget writes (no torch)
    "_cli_support": 5.9, "_cli_softmax": 5.95, "_cli_budget": 5.96, "_cli_onnx": 5.97, "cli": 6,
}
# the optional extras: only their own modules may import these (lazily: see below)
EXTRAS = {"onnx": {"onnx", "_onnx_graph", "_onnx_rewrite", "_cli_onnx", "onnx_budget"},
          "onnxruntime": {"onnx", "_onnx_graph", "_onnx_rewrite", "_cli_onnx", "onnx_budget"}}
FORBIDDEN_THIRD_PARTY = {
    "export": {"numba", "matplotlib", "scipy"},
    "activations": {"numba", "matplotlib"},
    "fixedpoint": {"numba", "matplotlib", "scipy"},
    "errors": {"numba", "matplotlib", "scipy", "numpy"},
    "_kernels": {"matplotlib", "scipy"},
    "_kernels_faithful": {"matplotlib", "scipy"},
    "spec": {"numba", "matplotlib", "scipy"},
    "_option_values": {"numba", "matplotlib", "scipy"},
    "regions": {"numba", "matplotlib", "scipy"},
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


INTEGRATIONS = {"torch": {"torch"}, "model_budget": {"torch"}}  # layer -> packages it may use


@pytest.mark.parametrize("path,module", MODULES, ids=[m for _, m in MODULES])
def test_only_the_integrations_import_torch(path, module):
    allowed = INTEGRATIONS.get(_layer(module), set())
    assert all(third in allowed for _, third in _imports(path, module)
               if third in {"torch"}), f"{module} imports torch"


def test_lutgen_and_its_cli_load_no_torch():
    """The core works without the [torch] extra: importing it, or the CLI, loads no torch."""
    code = ("import sys, lutgen, lutgen.cli, lutgen.table, lutgen.batch, lutgen.search\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("path,module", MODULES, ids=[m for _, m in MODULES])
def test_only_the_integrations_import_their_extras(path, module):
    for _, third in _imports(path, module):
        if third in EXTRAS:
            assert _layer(module) in EXTRAS[third], f"{module} imports {third}"


def test_the_core_and_the_cli_start_without_the_extras():
    """`import lutgen` and `lutgen --help` load neither onnx nor onnxruntime (nor torch)."""
    code = ("import sys, lutgen, lutgen.cli\n"
            "from click.testing import CliRunner\n"
            "r = CliRunner().invoke(lutgen.cli.cli, ['--help'])\n"
            "h = CliRunner().invoke(lutgen.cli.cli, ['from-onnx', '--help'])\n"
            "print(r.exit_code, h.exit_code, 'from-onnx' in r.output,\n"
            "      *(m in sys.modules for m in ('onnx', 'onnxruntime', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "0", "True", "False", "False", "False"]


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


def _package(module: str) -> str:
    """The package a module belongs to ('' for lutgen's top-level modules)."""
    parts = module.split(".")
    return ".".join(parts[:-1]) if len(parts) > 1 else ""


def _visible(home: str, own: str) -> bool:
    """A package's private names serve the package and the packages inside it."""
    return home == "" or own == home or own.startswith(home + ".")


def _private_uses(path: Path, module: str):
    """Private names of other modules, and private modules of other packages, that ``module``
    reaches (a package's private modules serve the package and the packages inside it)."""
    tree = ast.parse(path.read_text())
    own = _package(module) if path.name != "__init__.py" else module
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    aliases = {}  # local name -> lutgen module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{target}.{alias.name}" if target else alias.name
                if (PKG / Path(*full.split("."))).with_suffix(".py").exists() or (
                        PKG / Path(*full.split("."))).is_dir():
                    aliases[alias.asname or alias.name] = full
                    private = alias.name.startswith("_") and not _visible(_package(full), own)
                else:  # a name defined in module `target`: its private names are its own
                    private = alias.name.startswith("_") and not alias.name.startswith("__")
                if private:
                    yield f"from {target or '.'} import {alias.name}"
            segments = target.split(".") if target else []
            for i, seg in enumerate(segments):
                if seg.startswith("_") and not _visible(".".join(segments[:i]), own):
                    yield f"from {target} import ..."
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            yield f"{aliases[node.value.id]}.{node.attr}"


@pytest.mark.parametrize("path,module", MODULES, ids=[m for _, m in MODULES])
def test_no_module_reaches_another_modules_private_names(path, module):
    assert list(_private_uses(path, module)) == []


def test_the_private_name_check_catches_what_it_should(tmp_path):
    probe = PKG / "table.py"
    text = probe.read_text()
    assert list(_private_uses(probe, "table")) == []
    bad = tmp_path / "table.py"
    bad.write_text(text + "\nfrom .activations._registry import Traits\nK._segment\n")
    found = list(_private_uses(bad, "table"))
    assert "from activations._registry import ..." in found and "_kernels._segment" in found


def test_cli_start_up_loads_neither_scipy_nor_numba():
    """`lutgen --help` pays for neither: scipy.special alone took a quarter of a second."""
    code = ("import sys, lutgen.cli\n"
            "print(*(m in sys.modules for m in ('scipy', 'numba', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False False"


def test_scipy_loads_when_a_reference_needs_it():
    code = ("import sys, lutgen\n"
            "from lutgen.activations import from_expression\n"
            "a = lutgen.reference('gelu', 1.0); b = from_expression('erf(x)')(0.5)\n"
            "print('scipy.special' in sys.modules, repr(float(a)), repr(float(b)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    from scipy.special import erf, ndtr

    assert out.stdout.split() == ["True", repr(float(1.0 * ndtr(1.0))), repr(float(erf(0.5)))]


def test_without_torch_the_integrations_say_how_to_install_it(tmp_path):
    """torch blocked: lutgen works, `lutgen budget` is one Error line, lutgen.torch says why."""
    import numpy as np

    np.save(tmp_path / "x.npy", np.zeros((3, 4)))
    x = str(tmp_path / "x.npy")
    code = ("import sys; sys.modules['torch'] = None\n"
            "from lutgen.cli import main\n"
            f"main(['budget', '--torch', 'm.pt', '--calib', {x!r}, '--eval', {x!r}, "
            f"'--min-agreement', '99', '-o', {str(tmp_path / 'p.toml')!r}])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=PKG.parent)
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == "Error: lutgen budget needs PyTorch: pip install 'lutgen[torch]'\n"
    code = "import sys; sys.modules['torch'] = None\nimport lutgen.torch"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stderr.strip().splitlines()[-1] == (
        "ModuleNotFoundError: lutgen.torch needs PyTorch: pip install 'lutgen[torch]'")
