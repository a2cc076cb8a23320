"""The command line through click's runner: output, JSON, exit codes, exact error text."""

import json

import pytest
from click.testing import CliRunner

import lutgen
from lutgen.cli import cli


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_every_command_help_has_a_runnable_example():
    for name, cmd in cli.commands.items():
        result = run(name, "--help")
        assert result.exit_code == 0
        assert "Example:" in result.output, name
        example = result.output.split("Example:")[1].strip().splitlines()[0].strip()
        assert example.startswith(f"lutgen {name}"), example


def test_list_json_has_every_activation_with_params_and_range():
    result = run("list", "--json")
    assert result.exit_code == 0
    entries = json.loads(result.output)
    names = {e["name"] for e in entries}
    assert names == set(lutgen.activations())
    for e in entries:
        assert len(e["default_range"]) == 2 and e["default_range"][0] < e["default_range"][1]
        assert isinstance(e["params"], list)


def test_list_category_filters():
    result = run("list", "--json", "--category", "classic")
    assert {e["category"] for e in json.loads(result.output)} == {"classic"}
    assert "sigmoid" in run("list", "--category", "classic").output


def test_show_describes_sigmoid():
    result = run("show", "sigmoid")
    assert result.exit_code == 0
    assert "1/(1+exp(-x))" in result.output
    assert "point about (0, 0.5)" in result.output
    info = json.loads(run("show", "logistic", "--json").output)
    assert info["name"] == "sigmoid" and info["derivative"] is True
    assert info["asymptote_pos"] == {"slope": 0.0, "intercept": 1.0}


@pytest.mark.parametrize(
    "args,message",
    [
        (["show", "sigmod"], "Error: unknown activation 'sigmod'; did you mean 'sigmoid'"),
        (["analyze", "sigmoid", "--entries", "100"],
         "Error: entries must be a power of two from 1 to 1048576 (2^20), got 100\n"),
        (["analyze", "sigmoid", "--in-format", "s40.3"],
         "Error: "),
        (["analyze", "sigmoid", "--range", "2", "1"],
         "Error: range [2, 1) is empty: LO must be below HI\n"),
        (["analyze", "sigmoid", "--range", "nan", "1"], "Error: range [nan, 1.0) must be finite\n"),
        (["analyze", "sigmoid", "--range", "-1", "inf"],
         "Error: range [-1.0, inf) must be finite\n"),
        (["analyze", "sigmoid", "--range", "-100", "1"],
         "Error: range [-100, 1) is outside the input format s16.12 ([-8, 8)); "
         "choose a range inside it or a wider format\n"),
        (["analyze", "reciprocal", "--range", "-1", "1"],
         "Error: 'reciprocal' is not finite on the range [-1, 1): its domain is [-inf, inf] "
         "without 0; choose a range inside it\n"),
        (["analyze", "sigmoid", "-p", "alpha=1"],
         "Error: unknown parameter 'alpha' for 'sigmoid' (parameters: none)\n"),
        (["analyze", "sigmoid", "-p", "alpha"],
         "Error: parameter 'alpha' must be written KEY=VALUE, e.g. -p alpha=0.1\n"),
        # softmax is routed to the composite (docs/SOFTMAX.md), which needs its vector length
        (["analyze", "softmax"], "Error: Missing option '--n'. (see 'cli analyze softmax --help')\n"),
        (["analyze", "exp", "--range", "-8", "0", "--tails", "asymptote"],
         "Error: 'exp' has no asymptote at +inf, so --tails asymptote cannot serve inputs "
         "there; use --tails clamp or a range that covers them\n"),
        (["analyze", "exp", "--fold"],
         "Error: 'exp' is not odd, even or point-symmetric, so it cannot be folded; "
         "drop --fold\n"),
        (["analyze"], "Error: missing activation NAME (or --expr); run 'lutgen list' to see them\n"),
        (["eval", "sigmoid"],
         "Error: no input given; pass values after NAME, e.g. lutgen eval sigmoid 0.5 -1\n"),
        (["eval", "sigmoid", "0.5", "half"],
         "Error: input 'half' is not a number; give inputs as numbers, "
         "e.g. lutgen eval sigmoid 0.5 -1\n"),
        (["build", "sigmoid", "--emit", "vhdl"], None),
    ],
)
def test_user_mistakes_exit_2_with_one_error_line(args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("Error: ")
    if message is not None and message.endswith("\n"):
        assert result.output == message
    elif message is not None:
        assert result.output.startswith(message)


def test_bad_format_names_the_rule():
    result = run("analyze", "sigmoid", "--in-format", "s40.3")
    assert result.exit_code == 2
    assert "word bits must be 1..32, got 40" in result.output


def test_usage_errors_also_exit_2():
    result = run("analyze", "sigmoid", "--interp", "cubic")
    assert result.exit_code == 2
    assert "Error: Invalid value for '--interp'" in result.output


def test_build_writes_json_and_prints_summary(tmp_path):
    result = run("build", "sigmoid", "--entries", "128", "--fold", "--fit", "minimax",
                 "--out-format", "s16.14", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "sigmoid.json").read_text())
    assert doc["table"]["entries"] == 128
    assert len(doc["table"]["values"]) == 129
    assert doc["report"]["faithful"] is True
    # 129 words of sigmoid - 1/2: 16 bits each (17 uncentred)
    assert "faithful" in result.output and "2064 ROM bits" in result.output


def test_build_into_an_unwritable_place_fails_cleanly(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("build", "sigmoid", "-o", str(blocker))
    assert result.exit_code == 2
    assert result.output.startswith("Error: output directory")
    assert blocker.read_text() == "x"


def test_build_with_bad_spec_writes_nothing(tmp_path):
    out = tmp_path / "out"
    result = run("build", "sigmoid", "--entries", "3", "-o", str(out))
    assert result.exit_code == 2
    assert not out.exists()


def test_analyze_json_has_the_documented_keys():
    result = run("analyze", "tanh", "--fold", "--json")
    assert result.exit_code == 0
    report = json.loads(result.output)
    for key in ("max_abs_error", "mean_abs_error", "rms_error", "max_error_lsb", "mean_error_lsb",
                "argmax_x", "floor_max_error_lsb", "faithful", "monotonic", "exhaustive",
                "n_inputs", "entries", "rom_bits", "in_format", "out_format", "interp",
                "saturated"):
        assert key in report
    assert report["exhaustive"] is True and report["n_inputs"] == 65536


def test_eval_takes_positional_and_negative_inputs():
    a = json.loads(run("eval", "tanh", "-1.5", "0.25", "--json").output)
    b = json.loads(run("eval", "tanh", "-x", "-1.5", "-x", "0.25", "--json").output)
    assert a == b and [r["x"] for r in a] == [-1.5, 0.25]
    c = json.loads(run("eval", "--expr", "x*x", "--out-format", "s16.8", "1.5", "--json").output)
    assert c[0]["y"] == 2.25


def test_eval_matches_the_library():
    result = run("eval", "sigmoid", "-x", "-1.5", "-x", "0", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    table = lutgen.compile_table("sigmoid")
    assert [r["x_code"] for r in rows] == [-6144, 0]
    assert [r["y_code"] for r in rows] == list(table.eval_int(table.in_format.quantize([-1.5, 0])))
    assert rows[1]["y"] == 0.5


def test_expr_is_tabulated_like_the_same_numpy_expression():
    import numpy as np

    result = run("eval", "--expr", "x*tanh(exp(x))", "--out-format", "s16.12",
                 "-x", "0.5", "-x", "-2", "--json")
    assert result.exit_code == 0, result.output
    for row in json.loads(result.output):
        x = row["x"]
        assert row["reference"] == pytest.approx(x * np.tanh(np.exp(x)), rel=1e-15)
        assert abs(row["y"] - row["reference"]) < 4 * 2**-12


def test_expr_rejects_attribute_access():
    result = run("analyze", "--expr", "np.exp(x)")
    assert result.exit_code == 2
    assert result.output.startswith("Error: expression 'np.exp(x)': attribute access 'np.exp'")
    assert len(result.output.strip().splitlines()) == 1


def test_expr_and_name_together_is_a_mistake():
    result = run("analyze", "sigmoid", "--expr", "x")
    assert result.exit_code == 2
    assert "not both" in result.output


def test_points_file_feeds_lut_and_sets_its_range(tmp_path):
    pts = tmp_path / "pts.csv"
    pts.write_text("x,y\n-2,0\n0,1\n2,0.5\n")
    result = run("analyze", "lut", "--points", str(pts), "--in-format", "s8.4", "--json")
    assert result.exit_code == 0, result.output
    table_range = run("eval", "lut", "--points", str(pts), "--in-format", "s8.4", "-x", "1",
                      "--json")
    row = json.loads(table_range.output)[0]
    assert row["reference"] == 0.75  # halfway between (0, 1) and (2, 0.5)
    assert "range [-2, 2)" in run("analyze", "lut", "--points", str(pts), "--in-format",
                                  "s8.4").output


def test_points_file_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n0,1\n")
    result = run("analyze", "lut", "--points", str(bad))
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    other = run("analyze", "sigmoid", "--points", str(bad))
    assert other.output == "Error: --points feeds the 'lut' activation, not 'sigmoid'\n"


def test_build_name_is_sanitised_or_refused(tmp_path):
    ok = run("build", "sigmoid", "--in-format", "s8.4", "--emit", "c", "--name", "my-sigmoid",
             "-o", str(tmp_path))
    assert ok.exit_code == 0, ok.output
    assert "lutgen_my_sigmoid_eval" in (tmp_path / "my_sigmoid.h").read_text()
    bad = run("build", "sigmoid", "--in-format", "s8.4", "--emit", "c", "--name", "int",
              "-o", str(tmp_path / "x"))
    assert bad.exit_code == 2
    assert bad.output == ("Error: table name 'int' is a C or Verilog keyword; "
                          "choose another --name\n")
    assert not (tmp_path / "x").exists()
