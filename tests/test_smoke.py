from click.testing import CliRunner

import lutgen
from lutgen.cli import cli


def test_version_matches_package():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"lutgen, version {lutgen.__version__}"
    assert lutgen.__version__ != "0.0.0+unknown"


def test_sigmoid_reference_at_zero_is_half():
    assert lutgen.reference("sigmoid", 0.0) == 0.5


def test_choices_of_the_cli_are_the_library_enums():
    import click

    from lutgen import cli
    from lutgen.spec import OPTIONS

    for command in ("build", "analyze", "eval", "plot"):
        params = {p.name: p for p in cli.cli.commands[command].params}
        for option in OPTIONS:
            if option.kind == "choice":
                choice = params[option.name].type
                assert isinstance(choice, click.Choice), (command, option.name)
                assert list(choice.choices) == [m.value for m in option.choices]


def test_listing_does_not_load_numba_or_matplotlib():
    import subprocess
    import sys

    code = (
        "import sys; from lutgen.cli import main\n"
        "try:\n    main(['list'])\nexcept SystemExit:\n    pass\n"
        "print('numba' in sys.modules, 'matplotlib' in sys.modules, file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "False False"


def test_the_benchmark_script_runs_its_quick_mode():
    """scripts/bench.py is how speed is shown: it must keep running as the code changes."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, str(root / "scripts" / "bench.py"), "--quick"],
                         capture_output=True, text=True, cwd=root, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "eval_int" in out.stdout and "faithful" in out.stdout
