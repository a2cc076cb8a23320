"""User mistakes found by an audit of the CLI: each is one Error line, exit 2, nothing written."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from lutgen.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def lutgen(*args):
    """The real console entry point: stdout and stderr apart."""
    return subprocess.run([sys.executable, "-m", "lutgen.cli", *map(str, args)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("args,start", [
    (["analyze", "sigmoid", "--entries", "abc"],
     "Error: Invalid value for '--entries': 'abc' is not a valid integer."),
    (["fit", "sigmoid"], "Error: Missing option '--max-error'."),
    (["bulid", "sigmoid"], "Error: No such command 'bulid'. Did you mean 'build'?"),
    (["list", "--category", "nope"], "Error: Invalid value for '--category'"),
])
def test_usage_errors_are_one_line_with_a_help_hint(args, start):
    out = lutgen(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.startswith(start)
    assert out.stderr.count("\n") == 1 and "--help'" in out.stderr


def test_plain_lutgen_shows_its_help():
    out = lutgen()
    assert out.returncode == 0 and "Commands:" in out.stdout and out.stderr == ""


def test_huge_lut_values_are_refused_not_crashed():
    result = run("analyze", "lut", "-p", "xs=0,1,2", "-p", "ys=1,1e300,3")
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and "32 integer bits" in result.output


def test_binary_points_file(tmp_path):
    garbage = tmp_path / "pts.csv"
    garbage.write_bytes(bytes(range(256)))
    result = run("analyze", "lut", "--points", garbage)
    assert result.exit_code == 2
    assert result.output == (f"Error: points file '{garbage}' is not text: write x,y per line "
                             "(CSV) or save an .npy array\n")


def test_too_long_names_leave_nothing(tmp_path):
    result = run("build", "sigmoid", "-o", tmp_path / ("d" * 300))
    assert result.exit_code == 2 and "File name too long" in result.output
    project = tmp_path / "p.toml"
    project.write_text('[[tables]]\nactivation = "sigmoid"\nin_format = "s8.4"\n'
                       f'[[tables]]\nactivation = "tanh"\nin_format = "s8.4"\nname = "{"n" * 260}"\n')
    out = tmp_path / "out"
    result = run("batch", project, "-o", out)
    assert result.exit_code == 2 and result.output.startswith("Error: cannot write ")
    assert not out.exists()  # not even the first table's files


def test_a_failed_write_into_an_existing_folder_leaves_it_as_it_was(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = run("build", "sigmoid", "--in-format", "s8.4", "--emit", "c", "--name", "n" * 250,
                 "-o", tmp_path)
    assert result.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize("body,message", [
    ('[[tables]]\nactivation = "leaky_relu"\nparams = "alpha=0.1"\n',
     "Error: tables[0].params: 'alpha=0.1' is not a table, e.g. { alpha = 0.1 }\n"),
    ('[[tables]]\nactivation = "sigmoid"\nentries = "64"\n',
     "Error: tables[0].entries: '64' is not an integer power of two\n"),
    ('[[tables]]\nactivation = "sigmoid"\nrange = [1]\n',
     "Error: tables[0].range: [1] is not two numbers, e.g. [-4, 4]\n"),
    ('[[tables]]\nactivation = "sigmoid"\nfold = "yes"\n',
     "Error: tables[0].fold: 'yes' is not true or false\n"),
])
def test_batch_option_types(tmp_path, body, message):
    project = tmp_path / "p.toml"
    project.write_text(body)
    result = run("batch", project, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert result.output == message


@pytest.mark.parametrize("manifest", ["[]", "{}", '{"files": {"a": "b"}, "tables": ["x"]}'])
def test_verify_refuses_what_is_not_a_manifest(tmp_path, manifest):
    (tmp_path / "manifest.json").write_text(manifest)
    out = lutgen("verify", tmp_path)
    assert out.returncode == 1  # a folder that differs from what a batch makes
    assert out.stdout.startswith("manifest.json: not a lutgen manifest")
    assert len(out.stdout.splitlines()) == 1
    assert out.stderr == "1 difference(s)\n"


def test_plot_of_undrawable_values_is_an_error_line(tmp_path):
    out = lutgen("plot", "exp", "--in-format", "s24.0", "-o", tmp_path / "e.png")
    assert out.returncode == 2
    assert out.stderr.startswith("Error: cannot plot exp") and out.stderr.count("\n") == 1
    assert not (tmp_path / "e.png").exists()


def test_a_far_distribution_warns_nothing():
    out = lutgen("fit", "sigmoid", "--in-format", "s8.4", "--max-error", "1lsb",
                 "--mean-error", "0.5lsb", "--dist", "normal:1e300,1")
    assert out.returncode == 2
    assert out.stderr == ("Error: the distribution normal:1e+300,1 puts no weight on the "
                          "analysed inputs\n")


def test_fit_takes_an_expression():
    result = run("fit", "--expr", "x*sigmoid(x)", "--in-format", "s8.4", "--out-format", "s8.4",
                 "--max-error", "1lsb", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["best"]["max_error_lsb"] < 1


@pytest.mark.parametrize("body,message", [
    ('[[tables]]\nactivation = "sigmoid"\nname = "manifest"\nin_format = "s8.4"\n',
     "Error: tables[0].name: 'manifest' would overwrite manifest.json; choose another name\n"),
    ('name = "set"\n[[tables]]\nactivation = "sigmoid"\nname = "set"\nin_format = "s8.4"\n',
     "Error: tables[0].name: 'set' would overwrite set.h (the combined header); "
     "choose another name\n"),
    ('[[tables]]\nactivation = "sigmoid"\nmax_error = "abc"\n',
     "Error: tables[0].max_error: cannot read error budget 'abc'"),
    ('[[tables]]\nactivation = "sigmoid"\nmax_error = "1lsb"\nmax_rom_bits = -1\n',
     "Error: tables[0].max_rom_bits: "),
    ('[[tables]]\nactivation = "sigmoid"\nmean_error = "1lsb"\n',
     "Error: tables[0].mean_error: only a fitted table (one with max_error) takes it"),
])
def test_batch_names_the_right_key(tmp_path, body, message):
    project = tmp_path / "p.toml"
    project.write_text(body)
    result = run("batch", project, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert result.output.startswith(message), result.output
    assert not (tmp_path / "out").exists()


def test_fit_options_that_need_each_other():
    result = run("fit", "sigmoid", "--max-error", "1lsb", "--dist", "normal:0,1")
    assert result.output == "Error: --dist weights the mean error: give --mean-error with it\n"
    ok = run("fit", "crelu", "--output", "1", "--in-format", "s8.4", "--max-error", "1lsb")
    assert ok.exit_code == 0, ok.output


def test_fit_of_a_function_with_a_pole_in_every_range_says_why():
    result = run("fit", "reciprocal", "--max-error", "1lsb")
    assert result.exit_code == 2
    assert result.output.startswith("Error: no table of 'reciprocal' over s16.12 can be built: ")


def test_fit_fits_its_output_format_to_every_input():
    # the lut ramp reaches 1.0 past its range: an s16.15 output could not hold it
    result = run("fit", "lut", "-p", "xs=0,1", "-p", "ys=0,1", "--max-error", "1lsb", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["best"]["out_format"] == "s16.14"


def test_json_output_is_strict_json_even_for_infinite_errors(tmp_path):
    result = run("analyze", "exp", "--in-format", "s24.0", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output, parse_constant=lambda c: pytest.fail(f"bare {c}"))
    assert report["max_error_lsb"] == "inf"


def test_widening_stays_inside_the_format():
    table = lutgen_compile("sigmoid", range=(-5, 5))
    assert table.range == (-8.0, 8.0)


def lutgen_compile(*args, **kwargs):
    import lutgen

    return lutgen.compile_table(*args, **kwargs)


def test_verify_checks_no_path_outside_the_folder(tmp_path):
    import lutgen

    (tmp_path / "manifest.json").write_text(json.dumps(
        {"generator": f"lutgen {lutgen.__version__}", "project": "p", "source": "p.toml",
         "emit": ["json"], "files": {"../../etc/hostname": "0" * 64}, "tables": []}))
    result = run("verify", tmp_path)
    assert result.exit_code == 1
    assert "../../etc/hostname: not a file name inside the folder; not checked" in result.output


def test_plot_write_errors_say_so(tmp_path):
    out = lutgen("plot", "sigmoid", "--in-format", "s8.4", "-o", tmp_path / "no" / "x.png")
    assert out.returncode == 2 and "matplotlib" not in out.stderr


def test_eval_names_a_mistyped_option():
    result = run("eval", "sigmoid", "1", "--entires", "64")
    assert result.output == "Error: no such option '--entires' (see 'lutgen eval --help')\n"


# ---- red-team pass: hostile and broken input -------------------------------------------------
ALLOWED_TAIL = ". Allowed: the variable x, numbers, the constants pi and e"


def test_a_comment_in_an_expression_is_refused():
    # "x # rm -rf ~" would tabulate x and make the rest of the text a comment
    out = lutgen("analyze", "--expr", "x # rm -rf ~", "--in-format", "s8.4")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith("Error: expression 'x # rm -rf ~': '#' at column 3 is not "
                                 "allowed (no comments)" + ALLOWED_TAIL)
    assert out.stderr.count("\n") == 1


@pytest.mark.parametrize("expr,message", [
    ('"\\d"', "string constant '\"\\\\d\"' is not allowed"),
    ("1 is 1", "comparison '1 is 1' is not allowed"),
])
def test_no_warning_before_the_error_line(expr, message):
    env = {**os.environ, "PYTHONWARNINGS": "always"}  # what Python 3.12 shows by default
    out = subprocess.run([sys.executable, "-m", "lutgen.cli", "analyze", "--expr", expr],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 2
    assert out.stderr.startswith(f"Error: expression {expr!r}: {message}"), out.stderr
    assert out.stderr.count("\n") == 1


@pytest.mark.parametrize("expr,why", [
    ("-" * 980 + "x", "it is nested 982 levels deep; at most 200 are allowed"),  # overflowed eval
    ("sqrt(-" * 150 + "x" + ")" * 150, "it is nested 302 levels deep; at most 200 are allowed"),
    ("x" + "+x" * 60000, "it is too deeply nested (at most 200 levels)"),  # the parser gives up
])
def test_too_deep_expressions_are_one_error_line(expr, why):
    out = lutgen("analyze", "--expr", expr, "--in-format", "s8.4")
    assert out.returncode == 2, out.stderr[-300:]
    assert out.stderr.startswith(f"Error: expression {expr[:77] + '...'!r}: {why}" + ALLOWED_TAIL)
    assert out.stderr.count("\n") == 1


def test_an_expression_at_the_depth_limit_still_builds():
    out = lutgen("analyze", "--expr", "-" * 197 + "x", "--in-format", "s8.4", "--json")
    assert out.returncode == 0, out.stderr[-300:]
    assert json.loads(out.stdout)["max_error_lsb"] < 1


def _npy_header(shape) -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buf.getvalue()


@pytest.mark.parametrize("content,why", [
    (b"", "it is empty"),
    (_npy_header((10**12, 2)), "its header claims more data than the file holds"),
    (_npy_header((2**62, 2)), "its header claims more data than the file holds"),
    (_npy_header((3, 2)) + b"\0" * 8, "its header claims more data than the file holds"),
])
def test_broken_npy_points_files(tmp_path, content, why):
    points = tmp_path / "pts.npy"
    points.write_bytes(content)
    out = lutgen("analyze", "lut", "--points", points, "--in-format", "s8.4")
    assert out.returncode == 2
    assert out.stderr == (f"Error: points file '{points}' is not a readable .npy array ({why}); "
                          "save an array of shape (n, 2) with numpy.save\n")


def test_a_zero_weight_on_an_infinite_error_counts_for_nothing():
    # exp over s12.0 overflows the output format far right (an infinite error, weight 0 there);
    # uniform:0,1 weighs x = 0 alone, so the weighted mean is the error at 0
    result = run("analyze", "exp", "--in-format", "s12.0", "--dist", "uniform:0,1", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["max_error_lsb"] == "inf"
    at0 = json.loads(run("eval", "exp", "--in-format", "s12.0", "--json", "0").output)[0]
    assert report["weighted_mean_abs_error"] == abs(at0["y"] - at0["reference"])
    assert report["weighted_rms_error"] == abs(at0["y"] - at0["reference"])


def test_deeply_nested_json_is_one_error_line(tmp_path):
    saved = tmp_path / "deep.json"
    saved.write_text("[" * 100000 + "]" * 100000)
    out = lutgen("build", "--from", saved, "-o", tmp_path / "out")
    assert out.returncode == 2
    assert out.stderr == (f"Error: --from file '{saved}' nests too deeply to be a lutgen "
                          "table file\n")
    assert not (tmp_path / "out").exists()


def _address_space(limit):
    def cap():
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return cap


def test_an_expression_too_big_for_memory_at_24_bits_is_one_error_line():
    # 60 nested calls keep ~240 arrays of 2^24 float64 alive: far beyond a 2.5 GB address space
    expr = "maximum(x," * 60 + "x" + ")" * 60
    out = subprocess.run([sys.executable, "-m", "lutgen.cli", "analyze", "--expr", expr,
                          "--in-format", "s24.0"], capture_output=True, text=True,
                         preexec_fn=_address_space(2_500_000_000))
    assert out.returncode == 2, out.stderr[-300:]
    assert out.stderr == (f"Error: expression {expr[:77] + '...'!r}: its intermediate arrays "
                          "over 16777216 inputs do not fit in memory; use a narrower input "
                          "format or a simpler expression\n")
