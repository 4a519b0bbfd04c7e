"""The 2-D toy GAN: the default recipe learns the ring of 8 Gaussians; mode counting; flags."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from support import EXAMPLES, load_example

toy_2d = load_example("toy_2d")

# A GAN whose samples all lie within 3 std of a mode would score 98.9% (P(|e| < 3) for a 2-D
# standard normal: 1 - exp(-4.5)); uniform noise over the pictured square scores 0.3%, a G that
# covers the ring with samples blurred over twice the 3-std circle about 25%.
MIN_HIGH_QUALITY = 0.2


def test_the_default_recipe_covers_the_ring(tmp_path):
    """End to end, the command line with its defaults: at least 6 of 8 modes covered and a
    clear share of high-quality samples. A subprocess, as a user runs it: the script sets
    OPENBLAS_NUM_THREADS before NumPy loads, which pytest has already done here."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run([sys.executable, str(EXAMPLES / "toy_2d.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["config"] == toy_2d.dataclasses.asdict(toy_2d.Config(out=str(tmp_path)))
    assert metrics["modes"] >= 6, done.stdout
    assert metrics["high_quality"] > MIN_HIGH_QUALITY, done.stdout
    assert f"modes covered: {metrics['modes']}/8" in done.stdout
    assert [f["step"] for f in metrics["frames"]] == np.linspace(
        0, toy_2d.Config.steps, toy_2d.SNAPSHOTS).round().astype(int).tolist()
    gif = Image.open(tmp_path / "training.gif")
    assert gif.n_frames == toy_2d.SNAPSHOTS
    for name in ("snapshots.png", "curves.png", "grad_norms.png"):
        assert Image.open(tmp_path / name).format == "PNG"
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


def test_points_at_one_mode_cover_one():
    points = toy_2d.CENTRES[3] + toy_2d.STD * np.random.default_rng(0).standard_normal((2500, 2))
    modes, high_quality = toy_2d.coverage(points)
    assert modes == 1
    assert high_quality == pytest.approx(1 - np.exp(-4.5), abs=0.01)


def test_points_spread_over_every_mode_cover_all_eight():
    modes, high_quality = toy_2d.coverage(toy_2d.real_points(np.random.default_rng(0), 2500))
    assert modes == 8
    assert high_quality == pytest.approx(1 - np.exp(-4.5), abs=0.01)


@pytest.mark.parametrize("low, high, most", [(-3, 3, 0.01), (5, 50, 0.0)])
def test_uniform_noise_covers_nothing(low, high, most):
    """Over the pictured square a few points land near a mode by chance; far away none does."""
    points = np.random.default_rng(0).uniform(low, high, (2500, 2))
    modes, high_quality = toy_2d.coverage(points)
    assert modes == 0 and high_quality <= most


def test_a_mode_needs_one_percent_of_the_samples():
    """The rule at its edge: 25 of 2,500 samples at a mode cover it, 24 do not; NaN is nowhere."""
    centres = toy_2d.CENTRES
    for count, expected in ((25, 2), (24, 1)):
        points = np.concatenate([np.repeat(centres[:1], 2500 - count, axis=0),
                                 np.repeat(centres[1:2], count, axis=0)])
        assert toy_2d.coverage(points) == (expected, 1.0)
    assert toy_2d.coverage(np.full((100, 2), np.nan)) == (0, 0.0)


@pytest.fixture
def small(monkeypatch):
    """Fewer samples and a coarser surface: the short runs below are about the plumbing."""
    monkeypatch.setattr(toy_2d, "EVAL_SAMPLES", 200)
    monkeypatch.setattr(toy_2d, "SURFACE_POINTS", 20)
    return ["--batch-size", "32", "--width", "16"]


@pytest.mark.parametrize("name, flags", toy_2d.SWEEP)
def test_every_recipe_of_the_sweep_trains(name, flags, small):
    """Ten steps of each recipe: finite losses, G updated every n_critic steps, first and last
    frames."""
    config = toy_2d.parse_args(flags.split() + small + ["--steps", "10"])[0]
    result = toy_2d.train(config, verbose=False)
    assert result.frames[0]["step"] == 0 and result.frames[-1]["step"] == 10
    assert np.isfinite(result.history["loss_D"]).all()
    updates_G = np.isfinite(result.history["loss_G"]).sum()
    assert updates_G == 10 // config.n_critic
    assert np.isfinite(result.grad_norms["G/0.weight"]).sum() == updates_G


def test_the_sweep_writes_its_table_and_pictures(tmp_path, monkeypatch, capsys, small):
    monkeypatch.setattr(toy_2d, "SWEEP", (("default", ""), ("hinge", "--loss hinge")))
    toy_2d.sweep(small + ["--steps", "3"], tmp_path)
    rows = json.loads((tmp_path / "toy_2d.json").read_text())["rows"]
    assert [r["name"] for r in rows] == ["default", "hinge"]
    assert all(len(r["modes"]) == len(toy_2d.SEEDS) for r in rows)
    table = (tmp_path / "toy_2d.md").read_text()
    assert "| hinge | `--loss hinge` | 3 |" in table and "--width 16 --steps 3`" in table
    for name in ("default", "hinge", "default_grad_norms", "hinge_grad_norms"):
        assert Image.open(tmp_path / "toy_2d" / f"{name}.png").format == "PNG"
    assert capsys.readouterr().out.count("\n") == 2  # one table row per recipe


def test_sweep_only_reruns_the_named_recipes_and_keeps_the_other_rows(tmp_path, monkeypatch,
                                                                     small):
    monkeypatch.setattr(toy_2d, "SWEEP", (("default", ""), ("hinge", "--loss hinge")))
    toy_2d.sweep(small + ["--steps", "3"], tmp_path)
    assert toy_2d.sweep_flags(["--sweep", "--only", "hinge", "--steps", "2"]) == ["--steps", "2"]
    assert toy_2d.sweep_flags(["--sweep-out", "x", "--sweep", "--only=hinge", "--lr", "1"]) == \
        ["--lr", "1"]
    toy_2d.sweep(small + ["--steps", "2"], tmp_path, only=["hinge"])
    rows = json.loads((tmp_path / "toy_2d.json").read_text())["rows"]
    assert [(r["name"], r["steps"]) for r in rows] == [("default", 3), ("hinge", 2)]
    assert "which ran 1 recipes" in (tmp_path / "toy_2d.md").read_text()


@pytest.mark.parametrize("flags, flag", [
    (["--loss", "gan"], "--loss"),
    (["--d-norm", "instance"], "--d-norm"),
    (["--steps", "0"], "--steps"),
    (["--label-smoothing", "0"], "--label-smoothing"),
    (["--label-noise", "0.1", "--loss", "hinge"], "--label-noise"),
    (["--g-loss", "minimax", "--loss", "wgan"], "--g-loss"),
    (["--temperature", "0"], "--temperature"),
    (["--ema", "1"], "--ema"),
    (["--only", "hinge"], "--only"),
    (["--sweep", "--only", "nosuch"], "--only")])
def test_a_bad_flag_exits_with_status_2_and_a_line_naming_it(flags, flag, capsys):
    with pytest.raises(SystemExit) as exit_info:
        toy_2d.main(flags)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert flag in err and err.count("\n") == 1, err


def test_out_may_be_a_new_or_empty_folder_or_an_earlier_runs_and_nothing_else(tmp_path):
    """issue 27.10: `--out /` wrote a run's pictures into /. The rule: a new or empty folder,
    or one that holds only what a run writes (and atomic_write's temporaries of it)."""
    toy_2d.check_out(tmp_path / "new")
    toy_2d.check_out(tmp_path)
    for name in toy_2d.OUTPUTS + (".metrics.json.k2j4h5g6.tmp",):
        (tmp_path / name).write_text("an earlier run's")
    toy_2d.check_out(tmp_path)
    (tmp_path / ".notes.txt.k2j4h5g6.tmp").write_text("not a run's")
    with pytest.raises(toy_2d.UserError, match="with 1 other entries"):
        toy_2d.check_out(tmp_path)
    with pytest.raises(toy_2d.UserError, match="the root of a file system"):
        toy_2d.check_out(toy_2d.Path("/"))
