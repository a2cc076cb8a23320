"""Projects: lutgen batch, the manifest and report, verify, build --from, the shipped hw_out/."""

import errno
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lutgen.cli import cli
from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def write(tmp_path, text, name="project.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


SMALL = """
name = "small"
emit = ["c", "mem", "json"]
[defaults]
in_format = "s8.4"
[[tables]]
activation = "sigmoid"
out_format = "u8.8"
entries = 32
[[tables]]
activation = "tanh"
name = "tanh_fit"
out_format = "q7"
max_error = "1lsb"
[[tables]]
expr = "x*sigmoid(2*x)"
name = "my_gate"
out_format = "s8.4"
"""


@pytest.fixture
def small_build(tmp_path):
    project = write(tmp_path, SMALL)
    out = tmp_path / "out"
    result = run("batch", project, "-o", out)
    assert result.exit_code == 0, result.output
    return out


def test_batch_writes_every_artifact_manifest_and_report(small_build):
    out = small_build
    manifest = json.loads((out / "manifest.json").read_text())
    assert [t["name"] for t in manifest["tables"]] == ["sigmoid", "tanh_fit", "my_gate"]
    assert manifest["tables"][1]["fitted"] is True
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(list(manifest["files"]) + ["manifest.json"])
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    for t in manifest["tables"]:
        assert {f"{t['name']}.h", f"{t['name']}.mem", f"{t['name']}.json"} <= set(t["files"])
        assert t["report"]["exhaustive"] is True
    report = (out / "report.md").read_text()
    rows = [line for line in report.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 4  # header + 3 tables
    tanh = manifest["tables"][1]["report"]
    assert f"| {tanh['max_error_lsb']:.4f} |" in rows[2]


def test_combined_header_holds_every_table_and_compiles(small_build, tmp_path):
    gcc = require_tool("gcc")
    header = (small_build / "small.h").read_text()
    for name in ("sigmoid", "tanh_fit", "my_gate"):
        assert f"lutgen_{name}_eval" in header
    main = tmp_path / "main.c"
    main.write_text('#define LUTGEN_SMALL_IMPLEMENTATION\n#include "small.h"\n#include "small.h"\n'
                    "int main(void) { return (int)(lutgen_sigmoid_eval(0) + lutgen_tanh_fit_eval(0)"
                    " + lutgen_my_gate_eval(0)) - 128; }\n")
    exe = tmp_path / "main"
    subprocess.run([gcc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-I", str(small_build),
                    str(main), "-o", str(exe)], check=True)
    # sigmoid(0) = 0.5 -> 128 in u8.8; tanh(0) = 0; my_gate(0) = 0
    assert subprocess.run([str(exe)]).returncode == 0


@pytest.mark.parametrize(
    "body,message",
    [
        ('[[tables]]\nactivation = "sigmoid"\nout_fromat = "s8.7"\n',
         "Error: tables[0].out_fromat: unknown key; allowed: "),
        ('[[tables]]\nactivation = "sigmoid"\n[[tables]]\nactivation = "tanh"\n'
         'out_format = "s8.x"\n', "Error: tables[1].out_format: "),
        ('[[tables]]\nactivation = "sigmoud"\n',
         "Error: tables[0].activation: unknown activation 'sigmoud'; did you mean 'sigmoid'?"),
        ('[[tables]]\nactivation = "sigmoid"\nentries = 100\n', "Error: tables[0].entries: "),
        ('[[tables]]\nactivation = "sigmoid"\n[[tables]]\nactivation = "sigmoid"\n',
         "Error: tables[1].name: 'sigmoid' is already the name of tables[0]"),
        ('[[tables]]\nactivation = "leaky_relu"\nparams = { alpah = 0.1 }\n',
         "Error: tables[0].params: unknown parameter 'alpah'"),
        ('[[tables]]\nactivation = "sigmoid"\nrange = [4, -4]\n', "Error: tables[0].range: "),
        ('[[tables]]\nexpr = "os.system(1)"\nname = "bad"\n', "Error: tables[0].expr: "),
        ('[[tables]]\nactivation = "sigmoid"\nmax_error = "0.01lsb"\nin_format = "s8.4"\n'
         'out_format = "s8.6"\n', "Error: tables[0].max_error: no design meets 0.01lsb"),
        ('emit = ["c", "vhdl"]\n[[tables]]\nactivation = "sigmoid"\n',
         "Error: emit: unknown --emit kind 'vhdl'"),
        ('[[tables]]\nactivation = "sigmoid"\nmax_error = "1lsb"\ntarget = "zynq"\n',
         "Error: tables[0].target: unknown target 'zynq'; allowed: ice40-up5k, xc7, cortex-m"),
        ('[[tables]]\nactivation = "sigmoid"\nmax_error = "1lsb"\ntarget = "avr"\n'
         'objective = "bram"\n', "Error: tables[0].objective: objective 'bram' counts an "
         "FPGA's resources; target 'avr' has none"),
        ('[[tables]]\nactivation = "sigmoid"\ntarget = "xc7"\n',
         "Error: tables[0].target: only a fitted table (one with max_error) takes it"),
        ('[[tables]]\nactivation = "sigmoid"\nmax_error = "1lsb"\nobjective = 3\n',
         "Error: tables[0].objective: "),
        ("tables = 3\n", "Error: tables: the project lists no tables"),
        ("[[tables]\n", "Error: project.toml: not valid TOML"),
    ],
)
def test_a_bad_entry_names_itself_and_nothing_is_written(tmp_path, body, message):
    project = write(tmp_path, body)
    out = tmp_path / "out"
    result = run("batch", project, "-o", out)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(message), result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_verify_passes_then_names_what_differs(small_build):
    ok = run("verify", small_build)
    assert ok.exit_code == 0, ok.output
    (small_build / "tanh_fit.mem").write_text("00\n")
    (small_build / "sigmoid.h").unlink()
    doc = json.loads((small_build / "my_gate.json").read_text())
    doc["table"]["values"][3] += 1
    (small_build / "my_gate.json").write_text(json.dumps(doc))
    bad = run("verify", small_build)
    assert bad.exit_code == 1
    lines = bad.stdout.splitlines()
    assert "sigmoid.h: missing" in lines
    assert "tanh_fit.mem: SHA-256 differs from the manifest" in lines
    assert "my_gate.json: SHA-256 differs from the manifest" in lines
    assert "my_gate: the re-compiled table differs from my_gate.json" in lines


def test_verify_without_manifest_differs(tmp_path):
    result = run("verify", tmp_path)
    assert result.exit_code == 1
    assert result.stdout == "manifest.json: missing; build the folder with lutgen batch\n"
    missing = run("verify", tmp_path / "nowhere")
    assert missing.exit_code == 2
    assert missing.output == (f"Error: '{tmp_path / 'nowhere'}' is not a folder; give a folder "
                              "built by lutgen batch\n")


def test_build_from_json_rebuilds_byte_identical(small_build, tmp_path):
    again = tmp_path / "again"
    for name in ("tanh_fit", "my_gate"):
        result = run("build", "--from", small_build / f"{name}.json", "-o", again)
        assert result.exit_code == 0, result.output
        for suffix in (".h", ".mem", ".json"):
            assert (again / f"{name}{suffix}").read_bytes() == \
                (small_build / f"{name}{suffix}").read_bytes()
    mixed = run("build", "sigmoid", "--from", small_build / "tanh_fit.json", "-o", again)
    assert mixed.exit_code == 2


def test_same_spec_into_two_folders_gives_identical_bytes(tmp_path):
    for d in ("a", "b"):
        assert run("build", "gelu", "--range", "-4", "4", "--emit", "all",
                   "-o", tmp_path / d).exit_code == 0
    a = sorted((tmp_path / "a").iterdir())
    assert [p.name for p in a] == sorted(p.name for p in (tmp_path / "b").iterdir())
    for p in a:
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes(), p.name


@pytest.mark.parametrize("project", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_hw_out_is_exactly_what_the_code_generates(project, tmp_path):
    shipped = ROOT / "hw_out" / project.stem
    result = run("batch", project, "-o", tmp_path)
    assert result.exit_code == 0, result.output
    fresh = sorted(p.name for p in tmp_path.iterdir())
    assert fresh == sorted(p.name for p in shipped.iterdir())
    for name in fresh:
        assert (tmp_path / name).read_bytes() == (shipped / name).read_bytes(), name


def test_examples_hold_the_promised_sets():
    import tomllib

    acts = {}
    for project in EXAMPLES.glob("*.toml"):
        doc = tomllib.loads(project.read_text())
        acts[project.stem] = {t.get("activation") or t["name"] for t in doc["tables"]}
    assert acts["mcu_int8"] == {"sigmoid", "tanh", "hard_swish", "relu6", "quant_relu",
                                "softplus"}
    # exp and reciprocal in their softmax forms: exp(-d) for d = max - x >= 0, 1/(1 + f)
    assert acts["mcu_sigmoid_tanh16"] == {"sigmoid", "tanh"}  # one knot array (knots_from)
    assert {"sigmoid", "tanh", "gelu", "silu", "b_silu", "squareplus", "softmax_exp",
            "softmax_recip"} == acts["fpga_16bit"]


# ---- red-team pass: hostile and broken projects ----------------------------------------------
@pytest.mark.parametrize("body,message", [
    ('[[tables]]\nactivation = "sigmoid"\nname = "Sig"\n[[tables]]\nactivation = "tanh"\n'
     'name = "sig"\n',
     "Error: tables[1].name: 'sig' is 'Sig' but for case, the name of tables[0]; "
     "give each table its own name\n"),
    ('name = "set"\n[[tables]]\nactivation = "sigmoid"\nname = "SET"\n',
     "Error: tables[0].name: 'SET' would overwrite set.h (the combined header); "
     "choose another name\n"),
    ('[[tables]]\nactivation = "sigmoid"\nname = "Manifest"\n',
     "Error: tables[0].name: 'Manifest' would overwrite manifest.json; choose another name\n"),
    ('[[tables]]\nactivation = "tanh"\nname = "sigmoid"\n',
     "Error: tables[0].name: 'sigmoid' is the name of the activation 'sigmoid'; "
     "choose another name for this table\n"),
    ('[[tables]]\nexpr = "x*x"\nname = "Logistic"\n',
     "Error: tables[0].name: 'Logistic' is the name of the activation 'sigmoid'; "
     "choose another name for this table\n"),
    ('name = 5\n[[tables]]\nactivation = "sigmoid"\n',
     'Error: name: 5 is not text, e.g. name = "mcu_int8"\n'),
    ('emit = [1, 2]\n[[tables]]\nactivation = "sigmoid"\n',
     'Error: emit: [1, 2] is not a list of kinds, e.g. emit = ["c", "mem"]\n'),
    ('emit = [{c = 1}]\n[[tables]]\nactivation = "sigmoid"\n',
     "Error: emit: [{'c': 1}] is not a list of kinds, e.g. emit = [\"c\", \"mem\"]\n"),
    ('[[tables]]\nactivation = "sigmoid"\nmax_error = "1lsb"\ndist = "normal:0,1"\n',
     "Error: tables[0].dist: dist weights the mean error; give mean_error with it\n"),
    ("a = " + "[" * 5000 + "]" * 5000 + "\n",
     "Error: project.toml: not valid TOML: its arrays or tables nest too deeply to read\n"),
])
def test_hostile_projects_are_one_error_line(tmp_path, body, message):
    project = write(tmp_path, body)
    out = tmp_path / "out"
    result = run("batch", project, "-o", out)
    assert result.exit_code == 2, result.output
    assert result.output == message
    assert not out.exists()


def test_a_table_may_keep_its_own_activation_name_or_alias(tmp_path):
    project = write(tmp_path, '[[tables]]\nactivation = "sigmoid"\nname = "logistic"\n'
                              'in_format = "s8.4"\n[[tables]]\nactivation = "tanh"\n'
                              'name = "tanh"\nin_format = "s8.4"\n')
    result = run("batch", project, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output


def test_headers_of_names_differing_in_case_both_compile(tmp_path):
    gcc = require_tool("gcc")
    for name, act in (("sig", "sigmoid"), ("SIG", "tanh"), ("Sig", "relu")):
        result = run("build", act, "--in-format", "s8.4", "--emit", "c", "--name", name,
                     "-o", tmp_path)
        assert result.exit_code == 0, result.output
    main = tmp_path / "main.c"
    main.write_text("#define LUTGEN_SIG_IMPLEMENTATION\n#define Lutgen_SIG_IMPLEMENTATION\n"
                    "#define Lutgen_Sig_IMPLEMENTATION\n"
                    '#include "sig.h"\n#include "SIG.h"\n#include "Sig.h"\n'
                    "int main(void) { return lutgen_sig_eval(0) + lutgen_SIG_eval(0)"
                    " + lutgen_Sig_eval(16) + (LUTGEN_SIG_IN_FRAC - Lutgen_SIG_IN_FRAC); }\n")
    exe = tmp_path / "main"
    subprocess.run([gcc, "-std=c99", "-Wall", "-Werror", "-I", str(tmp_path), str(main),
                    "-o", str(exe)], check=True)
    # sigmoid(0) = 0.5, tanh(0) = 0, relu(1) = 1: codes of their fitted output formats
    codes = [json.loads(run("eval", act, "--in-format", "s8.4", "--json", x).output)[0]["y_code"]
             for act, x in (("sigmoid", 0), ("tanh", 0), ("relu", 1))]
    assert subprocess.run([str(exe)]).returncode == sum(codes) % 256


# ---- all or none, one writer at a time --------------------------------------------------------
def snapshot(folder: Path) -> dict:
    """Every entry of a folder (recursively) with its bytes; folders map to None."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes()
            for p in sorted(folder.rglob("*"))}


def failing(real, fail_at: int, counted=lambda *a: True):
    """``real``, except that its ``fail_at``-th counted call raises an I/O error."""
    calls = []

    def call(*args, **kwargs):
        if counted(*args):
            calls.append(args)
            if len(calls) - 1 == fail_at:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real(*args, **kwargs)

    call.calls = calls
    return call


def build_args(out, fmt, emit):
    return ("build", "sigmoid", "--in-format", "s8.4", "--out-format", fmt, "--emit", emit,
            "--name", "sig", "-o", out)


@pytest.mark.parametrize("step", range(4))
def test_a_build_that_fails_at_any_rename_leaves_the_folder_as_it_was(tmp_path, monkeypatch,
                                                                     step):
    from lutgen.export import _files

    out = tmp_path / "shared"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert run(*build_args(out, "s8.6", "c,mem")).exit_code == 0
    before = snapshot(out)
    replace = failing(os.replace, step, counted=lambda src, dst: str(src).endswith(".tmp"))
    monkeypatch.setattr(_files.os, "replace", replace)
    result = run(*build_args(out, "s8.7", "c,mem,coe"))  # new contents and one new file
    assert len(replace.calls) == step + 1  # it did fail at that step
    assert result.exit_code == 2
    assert result.output.startswith("Error: cannot write ")
    assert result.output.endswith(": Input/output error\n")
    assert snapshot(out) == before  # old versions back, the new coe file gone, no .tmp/.bak
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared"]  # no lock file left
    monkeypatch.undo()
    assert run(*build_args(out, "s8.7", "c,mem,coe")).exit_code == 0
    assert snapshot(out) != before and set(before) < set(snapshot(out))


V1 = '[[tables]]\nactivation = "sigmoid"\nin_format = "s8.4"\n' \
     '[[tables]]\nactivation = "tanh"\nin_format = "s8.4"\n'
V2 = 'emit = ["mem"]\n[[tables]]\nactivation = "relu"\nin_format = "s8.4"\n'
V2_FILES = ["manifest.json", "relu.bin", "relu.json", "relu.mem", "relu_rom.txt", "report.md"]


@pytest.mark.parametrize("step", range(2))
def test_a_batch_that_fails_at_any_rename_leaves_the_old_folder(tmp_path, monkeypatch, step):
    from lutgen.export import _files

    out = tmp_path / "out"
    assert run("batch", write(tmp_path, V1, "v1.toml"), "-o", out).exit_code == 0
    old = snapshot(out)
    rename = failing(os.rename, step)
    monkeypatch.setattr(_files.os, "rename", rename)
    result = run("batch", write(tmp_path, V2, "v2.toml"), "-o", out)
    assert result.exit_code == 2
    assert result.output == f"Error: cannot replace output directory '{out}': " \
                            "Input/output error\n"
    assert snapshot(out) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "v1.toml", "v2.toml"]
    monkeypatch.undo()
    assert run("batch", tmp_path / "v2.toml", "-o", out).exit_code == 0
    assert sorted(snapshot(out)) == V2_FILES


KILL_AT = """
import os, sys
from lutgen.cli import main
real, calls = os.rename, []
def rename(*args):
    if len(calls) == {step}:
        os._exit(9)  # as a kill would: no clean-up at all
    calls.append(args)
    real(*args)
os.rename = rename
main(sys.argv[1:])
"""


@pytest.mark.parametrize("step", range(2))
def test_a_batch_killed_at_any_rename_leaves_an_old_or_new_folder(tmp_path, step):
    out = tmp_path / "out"
    assert run("batch", write(tmp_path, V1, "v1.toml"), "-o", out).exit_code == 0
    old = snapshot(out)
    killed = subprocess.run([sys.executable, "-c", KILL_AT.format(step=step), "batch",
                             str(write(tmp_path, V2, "v2.toml")), "-o", str(out)],
                            capture_output=True, text=True, cwd=ROOT)
    assert killed.returncode == 9, killed.stderr
    # never a mix: the old folder, or (killed between the renames) none with the old one aside
    assert snapshot(out) in (old, {})
    aside = [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert all(p.name.endswith((".old", ".new", ".lock")) for p in aside)
    again = run("batch", tmp_path / "v2.toml", "-o", out)  # puts back, then replaces
    assert again.exit_code == 0, again.output
    assert sorted(snapshot(out)) == V2_FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "v1.toml", "v2.toml"]


def test_a_batch_replaces_its_whole_folder(tmp_path):
    out = tmp_path / "out"
    assert run("batch", write(tmp_path, V1, "v1.toml"), "-o", out).exit_code == 0
    (out / "stray.txt").write_text("left by hand")
    assert run("batch", write(tmp_path, V2, "v2.toml"), "-o", out).exit_code == 0
    assert sorted(snapshot(out)) == V2_FILES


def test_a_batch_refuses_a_folder_it_does_not_own(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = run("batch", write(tmp_path, V2, "v2.toml"), "-o", tmp_path)
    assert result.exit_code == 2
    assert result.output == (f"Error: output directory '{tmp_path}' is not empty and holds no "
                             "manifest.json: the build replaces its whole output folder; give "
                             "a new or empty folder\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "v2.toml"]


@pytest.mark.parametrize("command", ["build", "batch"])
def test_a_second_writer_into_the_same_folder_stops(tmp_path, command):
    import fcntl

    out = tmp_path / "out"
    args = build_args(out, "s8.6", "c") if command == "build" else \
        ("batch", write(tmp_path, V2, "v2.toml"), "-o", out)
    with open(tmp_path / ".out.lock", "w") as held:  # as a writer at work holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        result = run(*args)
    assert result.exit_code == 2
    assert result.output == (f"Error: another lutgen is writing into '{out}'; wait for it to "
                             "finish, then run again\n")
    assert not out.exists()
    assert run(*args).exit_code == 0
    assert not (tmp_path / ".out.lock").exists()


@pytest.mark.parametrize("command", ["build", "batch"])
def test_a_failed_write_removes_the_parent_folders_it_made(tmp_path, command):
    out = tmp_path / "a" / "b" / "out"
    long = "n" * 260
    args = ("build", "sigmoid", "--in-format", "s8.4", "--name", long, "-o", out) \
        if command == "build" else \
        ("batch", write(tmp_path, f'[[tables]]\nactivation = "tanh"\nin_format = "s8.4"\n'
                                  f'name = "{long}"\n'), "-o", out)
    result = run(*args)
    assert result.exit_code == 2 and result.output.startswith("Error: cannot write ")
    assert "File name too long" in result.output
    assert not (tmp_path / "a").exists()


def test_a_build_clears_the_temporaries_of_a_killed_one(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for stale in (".sig.h.abcd1234.tmp", ".sig.json.0a1b2c3d.bak"):
        (out / stale).write_text("half")
    (out / ".other.h.abcd1234.tmp").write_text("not ours to remove")
    assert run(*build_args(out, "s8.6", "c")).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [".other.h.abcd1234.tmp", "sig.h",
                                                     "sig.json"]


# ---- verify's blind spots ---------------------------------------------------------------------
def verify_lines(folder):
    result = run("verify", folder)
    assert result.exit_code == 1, result.output
    return result.stdout.splitlines()


def test_verify_reports_added_files_temporaries_and_folders(small_build):
    (small_build / "notes.txt").write_text("added")
    (small_build / ".sigmoid.h.abcd1234.tmp").write_text("half")
    (small_build / "sub").mkdir()
    assert verify_lines(small_build) == [
        ".sigmoid.h.abcd1234.tmp: a stray temporary file the manifest does not list",
        "notes.txt: not in the manifest",
        "sub/: a folder the manifest does not list",
    ]


def rewrite_manifest(folder, change):
    manifest = json.loads((folder / "manifest.json").read_text())
    change(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def test_verify_reports_an_edited_figure_of_the_manifest(small_build):
    rewrite_manifest(small_build, lambda m: m["tables"][1]["report"].update(max_error_lsb=0.01))
    assert verify_lines(small_build) == [
        "manifest.json: differs from the manifest its own tables give (an edited figure, "
        "digest or file list, or a dropped entry)"]


def test_verify_reports_a_dropped_entry(small_build):
    def drop(m):
        gone = m["tables"].pop(2)
        for f in gone["files"]:
            del m["files"][f]
    rewrite_manifest(small_build, drop)
    lines = verify_lines(small_build)
    assert "my_gate.h: not in the manifest" in lines
    assert "small.h: differs from what the saved specs re-compile to" in lines
    assert "report.md: differs from what the saved specs re-compile to" in lines


def test_verify_finds_a_changed_word_whose_digest_was_updated(small_build):
    mem = small_build / "tanh_fit.mem"
    lines = mem.read_text().splitlines()
    i = next(n for n, line in enumerate(lines) if line and not line.startswith("//"))
    lines[i] = format(int(lines[i], 16) ^ 1, f"0{len(lines[i])}x")
    mem.write_text("\n".join(lines) + "\n")
    digest = hashlib.sha256(mem.read_bytes()).hexdigest()

    def cover(m):
        m["files"]["tanh_fit.mem"] = digest
        m["tables"][1]["files"]["tanh_fit.mem"] = digest
    rewrite_manifest(small_build, cover)
    assert verify_lines(small_build) == [
        "manifest.json: differs from the manifest its own tables give (an edited figure, "
        "digest or file list, or a dropped entry)",
        "tanh_fit.mem: differs from what the saved specs re-compile to"]


def test_verify_reads_no_table_from_outside_the_folder(small_build, tmp_path):
    rewrite_manifest(small_build, lambda m: m["tables"][0].update(name="../x"))
    (tmp_path / "x.json").write_text("{}")
    lines = verify_lines(small_build)
    assert lines[0] == "tables[0].name '../x': not a table name inside the folder; not checked"


@pytest.mark.parametrize("text,problem", [
    ("{", "manifest.json: not valid JSON (Expecting property name enclosed in double quotes: "
          "line 1 column 2 (char 1)); rebuild the folder with lutgen batch"),
    ("[" * 100000 + "]" * 100000,
     "manifest.json: not valid JSON (it nests too deeply); rebuild the folder with lutgen batch"),
    ('{"files": {"a": "b"}, "tables": ["x"]}',
     "manifest.json: not a lutgen manifest (it needs its generator, project, source, emit, "
     "files and tables); rebuild the folder with lutgen batch"),
])
def test_a_corrupt_manifest_differs(small_build, text, problem):
    (small_build / "manifest.json").write_text(text)
    assert verify_lines(small_build) == [problem]


def test_a_fitted_tables_budget_and_distribution_are_kept(tmp_path):
    project = write(tmp_path, """
name = "budgeted"
emit = ["c", "json"]
[[tables]]
activation = "gelu"
in_format = "s8.4"
out_format = "s8.4"
max_error = "2lsb"
mean_error = "0.3lsb"
dist = "normal:1,2"
[[tables]]
activation = "sigmoid"
in_format = "s8.4"
out_format = "u8.8"
entries = 16
""")
    out = tmp_path / "out"
    result = run("batch", project, "-o", out)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    fitted, plain = manifest["tables"]
    assert fitted["budget"] == {"max_error": "2lsb", "mean_error": "0.3lsb",
                                "dist": "normal:1,2", "max_rom_bits": None, "target": None,
                                "objective": None}
    assert fitted["report"]["dist"] == "normal:1,2"
    weighted = fitted["report"]["weighted_mean_abs_error"]
    assert weighted is not None and weighted / 2**-4 < 0.3  # what the budget bounded
    assert plain["budget"] is None and plain["report"]["dist"] is None
    words = json.loads((out / "gelu.json").read_text())["table"]["values"]
    assert fitted["rom_bits"] <= 8 * len(words) and fitted["c_bytes"] == len(words)  # int8_t
    report = (out / "report.md").read_text()
    row = [ln for ln in report.splitlines() if ln.startswith("| gelu ")][0]
    assert f"{weighted / 2**-4:.4f} (normal:1,2)" in row
    assert "max < 2lsb, mean < 0.3lsb, dist normal:1,2" in row
    assert "C bytes" in report


def test_a_fitted_table_takes_the_target_and_objective_of_fit(tmp_path):
    """``target``/``objective`` in a project are ``lutgen fit --target/--objective``: the
    same design, recorded in the manifest and said in report.md."""
    from lutgen.search import fit

    opts = dict(in_format="s10.6", out_format="s10.8", max_error="1lsb")
    project = write(tmp_path, """
name = "targeted"
emit = ["json"]
[[tables]]
activation = "tanh"
in_format = "s10.6"
out_format = "s10.8"
max_error = "1lsb"
target = "avr"
objective = "bytes"
""")
    out = tmp_path / "out"
    result = run("batch", project, "-o", out)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["tables"][0]
    assert entry["budget"]["target"] == "avr" and entry["budget"]["objective"] == "bytes"
    want = fit("tanh", target="avr", objective="bytes", **opts).best.table
    generic = fit("tanh", **opts).best.table
    assert entry["spec"] == want.spec.to_dict() and entry["c_bytes"] == want.c_bytes
    assert want.c_bytes <= generic.c_bytes  # (the bytes objective never chooses more bytes)
    assert "fewest bytes on avr" in (out / "report.md").read_text()
