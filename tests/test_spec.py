"""The one option table: the CLI, project files, JSON and the regenerate line all follow it."""

import json
import shlex
import subprocess

import pytest
from click.testing import CliRunner

import lutgen
from lutgen import compile_table
from lutgen.batch import TABLE_OPTIONS, load_project
from lutgen.cli import cli
from lutgen.export import build_command
from lutgen.spec import OPTION, OPTIONS, TableSpec, make_spec

CLI_TABLE_COMMANDS = ("build", "analyze", "eval", "plot")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


# ---- every surface is generated from OPTIONS --------------------------------------------------
@pytest.mark.parametrize("command", CLI_TABLE_COMMANDS)
def test_every_option_is_a_flag_of_every_table_command(command):
    flags = {opt for p in cli.commands[command].params for opt in getattr(p, "opts", [])}
    for option in OPTIONS:
        if option.name not in ("activation", "params"):
            assert option.flag in flags, (command, option.name)
    assert "--param" in flags and "--fit" in flags  # -p KEY=VALUE; the old name of --coeffs


def test_every_option_is_a_project_key_and_a_json_key():
    assert set(OPTION) <= set(TABLE_OPTIONS)
    spec = make_spec("sigmoid")
    # expr and a default saturation are left out, so saved specs stay as they were
    assert set(spec.to_dict()) == set(OPTION) - {"expr", "saturation", "regions"}
    assert set(make_spec("e", expr="x*x", saturation="allowed", regions=[1]).to_dict()) == set(
        OPTION)


@pytest.mark.parametrize("name,options", [
    ("sigmoid", {}),
    ("tanh", dict(in_format="s8.4", out_format="s8.7", range=(-3.0, 3.0), entries=16,
                  interp="nearest", tails="clamp", fold=True, coeffs="minimax", guard_bits=2)),
    ("leaky_relu", dict(params={"alpha": 0.2}, in_format="ap_fixed<12,5>")),
    ("crelu", dict(output=1, in_format="s8.4")),
    ("gelu", dict(derivative=True, in_format="s10.6")),
    ("lut", dict(params={"xs": [0.0, 1.0, 2.0], "ys": [0.0, 0.5, 4.0]}, in_format="u8.6")),
    ("my_expr", dict(expr="x*sigmoid(x) + 1", in_format="s8.4")),
])
def test_a_spec_survives_its_json(name, options):
    spec = make_spec(name, **options)
    again = TableSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    a, b = lutgen.build(spec), lutgen.build(again)
    assert list(a.values) == list(b.values)


@pytest.mark.parametrize("name,options", [
    ("sigmoid", dict(in_format="s8.4", fold=True, coeffs="minimax", entries=16)),
    ("tanh", dict(in_format="ap_fixed<10,4>", out_format="ap_fixed<10,2>", interp="none",
                  entries=64)),
    ("leaky_relu", dict(params={"alpha": 0.125}, in_format="s8.4", tails="asymptote",
                        range=(-2.0, 2.0), entries=8)),
    ("e", dict(expr="x*(x+1) - tanh(x)/3", in_format="s8.4", derivative=True)),
])
def test_the_regenerate_line_rebuilds_the_same_table_through_a_real_shell(name, options,
                                                                          tmp_path):
    table = compile_table(name, **options)
    command = build_command(table)
    # a shell splits it into exactly the words lutgen parses ('<', '>', '*' and '(' quoted)
    script = f'lutgen() {{ printf "%s\\n" "$@"; }}\n{command}\n'
    words = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    assert words == shlex.split(command)[1:]
    out = tmp_path / "o"
    assert words[0] == "build"
    result = run(*words, "-o", out)
    assert result.exit_code == 0, result.output
    saved = json.loads(next(out.glob("*.json")).read_text())
    assert saved["table"]["values"] == [int(v) for v in table.values]


# ---- self-contained specs ---------------------------------------------------------------------
def test_registering_another_expression_changes_no_existing_spec():
    from lutgen.activations import unregister
    from lutgen.activations.user import register_expression

    first = compile_table("expr", expr="x*x + 1", in_format="s8.4")
    before = (first.spec.to_dict(), build_command(first))
    try:
        register_expression("x*x*x", name="expr")
        assert (first.spec.to_dict(), build_command(first)) == before
        again = lutgen.build(TableSpec.from_dict(first.spec.to_dict()))
        assert list(again.values) == list(first.values)
    finally:
        unregister("expr")


def test_an_expression_table_never_enters_the_registry(tmp_path):
    names = set(lutgen.activations())
    project = tmp_path / "p.toml"
    project.write_text('[[tables]]\nexpr = "x*x"\nname = "square"\nin_format = "s8.4"\n'
                       '[[tables]]\nactivation = "square"\nname = "other"\n'
                       'in_format = "s8.4"\n')
    result = run("batch", project, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert result.output.startswith("Error: tables[1].activation: unknown activation 'square'")
    assert set(lutgen.activations()) == names


# ---- old spellings are read, with a note ------------------------------------------------------
def test_the_old_fit_option_is_read_with_a_note(tmp_path):
    result = CliRunner().invoke(cli, ["build", "sigmoid", "--in-format", "s8.4", "--fit",
                                      "minimax", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "note: 'fit' is now called 'coeffs'\n" in result.stderr
    saved = json.loads((tmp_path / "sigmoid.json").read_text())
    assert saved["table"]["spec"]["coeffs"] == "minimax" and "fit" not in saved["table"]["spec"]
    assert "--coeffs minimax" in saved["command"]
    assert compile_table("sigmoid", in_format="s8.4", fit="minimax").spec.coeffs.value == \
        "minimax"


def test_giving_both_old_and_new_names_is_an_error():
    result = run("build", "sigmoid", "--fit", "minimax", "--coeffs", "sample")
    assert result.exit_code == 2
    assert result.output == "Error: give coeffs or its old name fit, not both\n"


def test_a_project_with_the_old_key_is_read_with_a_note(tmp_path):
    project = tmp_path / "p.toml"
    project.write_text('[defaults]\nfit = "minimax"\n[[tables]]\nactivation = "tanh"\n'
                       'in_format = "s8.4"\n')
    loaded = load_project(project)
    assert loaded.tables[0]["coeffs"] == "minimax"
    assert loaded.notes == ("defaults: 'fit' is now called 'coeffs'",)


def test_a_saved_spec_with_the_old_key_rebuilds(tmp_path):
    assert run("build", "tanh", "--in-format", "s8.4", "--coeffs", "minimax", "--emit", "c",
               "-o", tmp_path / "a").exit_code == 0
    saved = json.loads((tmp_path / "a" / "tanh.json").read_text())
    saved["table"]["spec"]["fit"] = saved["table"]["spec"].pop("coeffs")
    (tmp_path / "old.json").write_text(json.dumps(saved))
    result = run("build", "--from", tmp_path / "old.json", "-o", tmp_path / "b")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a" / "tanh.h").read_bytes() == (tmp_path / "b" / "tanh.h").read_bytes()


# ---- --from files: typed, complete, alone ----------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    assert run("build", "tanh", "--in-format", "s8.4", "--emit", "c", "-o",
               tmp_path / "a").exit_code == 0
    return json.loads((tmp_path / "a" / "tanh.json").read_text())


@pytest.mark.parametrize("key,value,message", [
    ("fold", "false", "fold must be true or false, got 'false'"),
    ("derivative", "no", "derivative must be true or false, got 'no'"),
    ("entries", "16", "entries must be an integer, got '16'"),
    ("interp", 3, "unknown interp 3; allowed: none, nearest, linear"),
    ("range", [1, "x"], "a range is two numbers LO HI, got [1, 'x']"),
    ("shape", 3, "unknown table option 'shape'; allowed: "),
])
def test_a_saved_spec_with_a_wrong_typed_value_is_one_error(saved, tmp_path, key, value,
                                                            message):
    saved["table"]["spec"][key] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(saved))
    result = run("build", "--from", path, "-o", tmp_path / "b")
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: --from file '{path}': {message}")
    assert not (tmp_path / "b").exists()


def test_from_always_writes_the_saved_spec(saved, tmp_path):
    saved["emit"] = ["c"]
    path = tmp_path / "c_only.json"
    path.write_text(json.dumps(saved))
    assert run("build", "--from", path, "-o", tmp_path / "b").exit_code == 0
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["tanh.h", "tanh.json"]


@pytest.mark.parametrize("extra,named", [(["--entries", "8"], "--entries"),
                                         (["--fold"], "--fold"),
                                         (["--in-format", "s16.12"], "--in-format"),
                                         (["--emit", "c"], "--emit")])
def test_from_takes_no_other_option(saved, tmp_path, extra, named):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(saved))
    result = run("build", "--from", path, *extra, "-o", tmp_path / "b")
    assert result.exit_code == 2
    assert result.output == (f"Error: --from rebuilds exactly what the file says; drop {named} "
                             "(give no table options, --name or --emit with it)\n")


# ---- the front door ---------------------------------------------------------------------------
def test_the_front_door_exports_what_users_call():
    for name in lutgen.__all__:
        assert getattr(lutgen, name) is not None, name
    for name in ("compile_table", "build", "analyze", "fit", "export", "render",
                 "load_project", "compile_project", "write_project", "verify", "TableSpec",
                 "OPTIONS", "ProjectError", "SpecError", "ExportError"):
        assert name in lutgen.__all__, name
    assert issubclass(lutgen.ProjectError, lutgen.LutgenError)
