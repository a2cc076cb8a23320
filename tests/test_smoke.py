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
