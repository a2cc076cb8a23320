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
    from lutgen import cli
    from lutgen.table import Fit, Interp, Tails

    assert set(cli.INTERPS) == {m.value for m in Interp}
    assert set(cli.TAILS) == {m.value for m in Tails}
    assert set(cli.FITS) == {m.value for m in Fit}


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
