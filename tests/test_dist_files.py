"""Real input distributions: --dist samples:FILE.npy and hist:FILE.npz."""

import hashlib
import json

import numpy as np
import pytest
from click.testing import CliRunner

from lutgen import Distribution, FixedFormat, analyze, compile_table
from lutgen.activations import get
from lutgen.cli import cli
from lutgen.errors import SpecError

S84 = FixedFormat.parse("s8.4")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def samples(tmp_path):
    x = np.random.default_rng(7).normal(0.5, 1.5, 20_000)
    x[:10] = 100.0  # beyond s8.4: saturates to its top code
    x[10:15] = -100.0
    np.save(tmp_path / "calib.npy", x)
    return x


def naive_code_mass(x):
    """s8.4 rounds half up and saturates: code = clip(floor(16 x + 1/2))."""
    codes = np.clip(np.floor(x * 16 + 0.5), -128, 127).astype(int)
    return np.bincount(codes + 128, minlength=256) / x.size


def test_samples_weight_each_code_by_the_inputs_quantising_to_it(tmp_path, samples):
    dist = Distribution.parse("samples:calib.npy", base=tmp_path)
    codes = S84.codes()
    w = dist.weights(S84.dequantize(codes), (-8, 8), codes, S84)
    np.testing.assert_allclose(w, naive_code_mass(samples), rtol=1e-12, atol=0)
    assert w[-1] == pytest.approx(10 / samples.size) and w[0] == pytest.approx(5 / samples.size)


def test_weighted_figures_of_a_table(tmp_path, samples):
    table = compile_table("gelu", in_format="s8.4", out_format="s8.6", range=(-4, 4), entries=16)
    report = analyze(table, dist=f"samples:{tmp_path / 'calib.npy'}")
    x = S84.dequantize(S84.codes())
    err = np.abs(table.eval_int(S84.codes()) / 64.0 - get("gelu").evaluate(x))
    w = naive_code_mass(samples)
    assert report.weighted_mean_abs_error == pytest.approx(float(w @ err), rel=1e-11)
    assert report.weighted_rms_error == pytest.approx(float(np.sqrt(w @ err**2)), rel=1e-11)
    assert report.dist == f"samples:{tmp_path / 'calib.npy'}"


def test_hist_spreads_each_bin_over_the_codes_it_covers(tmp_path):
    lsb = 1 / 16
    edges = np.array([-0.5 * lsb, 1.5 * lsb, 2.5 * lsb, 10.0, 12.0])  # code 0-1, code 2, 3..127
    counts = np.array([2.0, 3.0, 0.0, 5.0])  # the last bin lies beyond s8.4: saturates
    np.savez(tmp_path / "h.npz", edges=edges, counts=counts)
    dist = Distribution.parse("hist:h.npz", base=tmp_path)
    codes = S84.codes()
    w = dist.weights(S84.dequantize(codes), (-8, 8), codes, S84) * 10
    expect = np.zeros(256)
    expect[128 + 0] = expect[128 + 1] = 1.0
    expect[128 + 2] = 3.0
    expect[-1] = 5.0
    np.testing.assert_allclose(w, expect, rtol=1e-12, atol=1e-12)


def test_hist_of_code_aligned_bins_equals_the_samples(tmp_path, samples):
    edges = (np.arange(-128, 129) - 0.5) / 16  # one bin per code of s8.4
    counts, _ = np.histogram(np.clip(samples, edges[0], edges[-1] - 1e-9), bins=edges)
    np.savez(tmp_path / "calib.npz", edges=edges, counts=counts)
    codes = S84.codes()
    w = Distribution.parse("hist:calib.npz", base=tmp_path).weights(
        S84.dequantize(codes), (-8, 8), codes, S84)
    np.testing.assert_allclose(w, naive_code_mass(samples), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("make, dist, message", [
    (None, "samples:nothere.npy", "distribution file 'nothere.npy' does not exist"),
    (lambda d: np.save(d / "f.npy", np.zeros((3, 2))), "samples:f.npy",
     "samples has shape (3, 2); it must be one-dimensional"),
    (lambda d: np.save(d / "f.npy", np.array([1.0, np.nan])), "samples:f.npy",
     "samples[1] is nan; every value must be finite"),
    (lambda d: np.savez(d / "f.npz", edges=np.arange(4.0), counts=[1.0, -1.0, 2.0]),
     "hist:f.npz", "counts[1] is -1; counts must not be negative"),
    (lambda d: np.savez(d / "f.npz", edges=np.arange(3.0), counts=[1.0, 2.0, 3.0]),
     "hist:f.npz", "edges has 3 values and counts 3; edges needs one more than counts"),
    (lambda d: np.savez(d / "f.npz", counts=[1.0]), "hist:f.npz", "it has no array 'edges'"),
    (lambda d: (d / "f.npy").write_text("not numpy"), "samples:f.npy", "not a readable .npy"),
])
def test_bad_files_end_in_one_error_line(tmp_path, monkeypatch, make, dist, message):
    monkeypatch.chdir(tmp_path)
    if make is not None:
        make(tmp_path)
    result = run("analyze", "tanh", "--in-format", "s8.4", "--dist", dist)
    assert result.exit_code == 2
    assert result.output.startswith("Error: distribution file ")
    assert message in result.output
    assert result.output.count("\n") == 1
    with pytest.raises(SpecError):
        Distribution.parse(dist, base=tmp_path)


def test_fit_with_samples(tmp_path, samples, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("fit", "tanh", "--in-format", "s8.4", "--out-format", "s8.6", "--max-error",
                 "2lsb", "--mean-error", "0.3lsb", "--dist", "samples:calib.npy", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["budget"]["dist"] == "samples:calib.npy"
    assert doc["best"]["dist"] == "samples:calib.npy"
    assert doc["best"]["weighted_mean_error_lsb"] < 0.3


PROJECT = """
[defaults]
in_format = "s8.4"
out_format = "s8.6"
[[tables]]
activation = "tanh"
max_error = "2lsb"
mean_error = "0.3lsb"
dist = "{dist}"
"""


def test_project_dist_relative_to_the_project_file_and_verify(tmp_path, samples):
    sub = tmp_path / "proj"
    sub.mkdir()
    (tmp_path / "calib.npy").rename(sub / "calib.npy")
    project = sub / "p.toml"
    project.write_text(PROJECT.format(dist="samples:calib.npy"))
    out = tmp_path / "out"
    result = run("batch", project, "-o", out)  # run from elsewhere: the path is the project's
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    budget = manifest["tables"][0]["budget"]
    assert budget["dist"] == "samples:calib.npy"
    assert budget["dist_file"] == str((sub / "calib.npy").resolve())
    assert budget["dist_sha256"] == hashlib.sha256((sub / "calib.npy").read_bytes()).hexdigest()
    weighted = manifest["tables"][0]["report"]["weighted_mean_abs_error"]
    assert weighted is not None
    assert f"{weighted / 2**-6:.4f} (samples:calib.npy)" in (out / "report.md").read_text()
    assert run("verify", out).exit_code == 0
    # the file changed: verify says so, and checks the files by SHA-256 only
    np.save(sub / "calib.npy", samples[:100])
    changed = run("verify", out)
    assert changed.exit_code == 1
    assert "has changed since the build" in changed.output
    (sub / "calib.npy").unlink()
    missing = run("verify", out)
    assert missing.exit_code == 1
    assert (f"tanh: distribution file '{(sub / 'calib.npy').resolve()}' does not exist; its "
            "files were checked against their SHA-256 only") in missing.output


def test_project_bad_dist_file(tmp_path):
    project = tmp_path / "p.toml"
    project.write_text(PROJECT.format(dist="hist:none.npz"))
    result = run("batch", project, "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert result.output == (f"Error: tables[0].dist: distribution file "
                             f"'{tmp_path / 'none.npz'}' does not exist\n")
    assert not (tmp_path / "out").exists()
