"""The training script end to end on tiny synthetic data: outputs, exact resume, errors, Ctrl-C."""
import csv
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from support import EXAMPLES, TINY, load_example, run_main, save_edited
from tinygan import io

train_cifar = load_example("train_cifar")
generate = load_example("generate")



def run(args, capsys=None):
    return run_main(train_cifar.main, args, capsys)


def weights(path):
    checkpoint = io.load_checkpoint(path)
    return checkpoint, {f"{m}/{k}": v for m, state in checkpoint["modules"].items()
                        for k, v in state.items()}


def test_a_short_run_moves_every_parameter_and_writes_its_outputs(images, tmp_path, capsys):
    status, printed = run(TINY + ["--data", images, "--out", tmp_path, "--epochs", "2"], capsys)
    assert status == 0
    assert ("G: " in printed.out and "parameters, z (N, 8, 1, 1) -> (N, 3, 32, 32)" in printed.out
            and "-> (N,)" in printed.out)
    assert "epoch 2/2  step 12" in printed.out
    for name in ("samples_epoch_001.png", "samples_epoch_002.png", "samples_final.png",
                 "curves.png", "history.csv", "checkpoint.npz"):
        assert (tmp_path / name).is_file(), name
    assert Image.open(tmp_path / "samples_final.png").size == (2 * (8 * 34 + 2),) * 2
    rows = list(csv.DictReader(open(tmp_path / "history.csv")))
    assert [int(float(r["step"])) for r in rows] == list(range(1, 13))
    assert all(np.isfinite(float(r[k])) for r in rows for k in ("loss_D", "loss_G", "D_x", "D_G_z"))
    train_cifar.tg.manual_seed(0)
    fresh = train_cifar.Run(train_cifar.Config(nz=8, ngf=4, ndf=4))
    _, trained = weights(tmp_path / "checkpoint.npz")
    for prefix, module in (("G", fresh.G), ("D", fresh.D)):
        for name, p in module.named_parameters():
            assert not np.array_equal(trained[f"{prefix}/{name}"], p.array), (
                f"{prefix}/{name} did not move")
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


@pytest.mark.parametrize("coretype", ["Haswell", None])
def test_a_pinned_openblas_gets_a_note(coretype, images, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    if coretype:
        monkeypatch.setenv("OPENBLAS_CORETYPE", coretype)
    status, printed = run(TINY + ["--data", images, "--out", tmp_path, "--max-steps", "1"], capsys)
    assert status == 0
    assert ("note: OPENBLAS_CORETYPE=Haswell" in printed.out) == (coretype is not None)


@pytest.mark.parametrize("flags", [[], ["--ema", "0.9", "--d-norm", "spectral", "--lr-d", "4e-4"]])
def test_resume_continues_exactly(flags, images, tmp_path):
    straight, halves = tmp_path / "straight", tmp_path / "halves"
    common = TINY + ["--data", images, "--epochs", "2"] + flags
    assert run(common + ["--out", straight, "--max-steps", "9"])[0] == 0
    assert run(common + ["--out", halves, "--max-steps", "4"])[0] == 0
    assert run(["--resume", halves / "checkpoint.npz", "--max-steps", "9", "--out", halves])[0] == 0
    (a, wa), (b, wb) = weights(straight / "checkpoint.npz"), weights(halves / "checkpoint.npz")
    assert a["meta"]["step"] == b["meta"]["step"] == 9
    assert a["meta"].get("ema_updates") == b["meta"].get("ema_updates")
    assert ("G_ema" in a["modules"]) == bool(flags) and ("D/main.0.u" in wa) == bool(flags)
    for key in wa:
        np.testing.assert_array_equal(wa[key], wb[key], err_msg=key)
    for opt in ("opt_G", "opt_D"):
        for sa, sb in zip(a["optimizers"][opt]["state"], b["optimizers"][opt]["state"]):
            np.testing.assert_array_equal(sa["m"], sb["m"])
            np.testing.assert_array_equal(sa["v"], sb["v"])
    np.testing.assert_array_equal(a["arrays"]["history"][:, :2], b["arrays"]["history"][:, :2])


def test_resume_refuses_a_changed_model_setting(images, tmp_path, capsys):
    assert run(TINY + ["--data", images, "--out", tmp_path, "--max-steps", "2"])[0] == 0
    status, printed = run(["--resume", "--out", tmp_path, "--ngf", "16"], capsys)
    assert status == 2
    assert "--ngf 16 (checkpoint: 4)" in printed.err


def test_resume_refuses_a_checkpoint_of_another_model_layout(images, tmp_path, capsys):
    assert run(TINY + ["--data", images, "--out", tmp_path, "--max-steps", "2"])[0] == 0
    checkpoint = io.load_checkpoint(tmp_path / "checkpoint.npz")
    state = checkpoint["modules"]["G"]
    state["main.99.weight"] = state.pop("main.1.weight")
    save_edited(tmp_path / "checkpoint.npz", checkpoint)
    status, printed = run(["--resume", "--out", tmp_path], capsys)
    assert status == 2 and "it does not fit this model" in printed.err
    assert "unexpected keys ['main.99.weight']" in printed.err and "Traceback" not in printed.err


def test_a_nan_loss_stops_with_a_message_and_keeps_the_last_checkpoint(images, tmp_path, capsys,
                                                                        monkeypatch):
    real_step = train_cifar.gan.train_step
    calls = []

    def step_that_diverges(*args):
        calls.append(1)
        metrics = real_step(*args)
        return metrics | {"loss_D": float("nan")} if len(calls) == 3 else metrics

    monkeypatch.setattr(train_cifar.gan, "train_step", step_that_diverges)
    status, printed = run(TINY + ["--data", images, "--out", tmp_path], capsys)
    assert status == 3
    assert "loss_D is nan at step 3" in printed.err and "(step 2)" in printed.err
    assert io.load_checkpoint(tmp_path / "checkpoint.npz")["meta"]["step"] == 2


def test_ema_leaves_training_as_it_was(images, tmp_path):
    """G's average only watches: the trained G and D are bit-identical with and without it."""
    common = TINY + ["--data", images, "--max-steps", "3"]
    assert run(common + ["--out", tmp_path / "plain"])[0] == 0
    assert run(common + ["--out", tmp_path / "ema", "--ema", "0.99"])[0] == 0
    (_, plain), (saved, ema) = (weights(tmp_path / name / "checkpoint.npz")
                                for name in ("plain", "ema"))
    assert saved["meta"]["ema_updates"] == 3 and set(ema) - set(plain) == {
        k for k in ema if k.startswith("G_ema/")}
    for key, value in plain.items():
        np.testing.assert_array_equal(ema[key], value, err_msg=key)


def test_ttur_gives_g_and_d_their_own_learning_rates():
    default = train_cifar.Run(train_cifar.Config(nz=8, ngf=4, ndf=4, lr=3e-4))
    lr = [opt.param_groups[0]["lr"] for opt in (default.opt_G, default.opt_D)]
    assert lr == [3e-4, 3e-4] and default.G_ema is None
    ttur = train_cifar.Run(train_cifar.Config(nz=8, ngf=4, ndf=4, lr_g=1e-4, lr_d=4e-4))
    assert [o.param_groups[0]["lr"] for o in (ttur.opt_G, ttur.opt_D)] == [1e-4, 4e-4]


@pytest.mark.parametrize("args, message", [
    (["--data", "/no/such/folder"], "/no/such/folder"),
    (["--batch-size", "1"], "--batch-size must be >= 2"),
    (["--label-smoothing", "1.5"], "--label-smoothing must be in (0, 1]"),
    (["--loss", "hinge", "--label-smoothing", "0.9"],
     "--label-smoothing label smoothing needs targets: loss 'bce' or 'lsgan', not 'hinge'"),
    (["--loss", "lsgan", "--g-loss", "minimax"], "--g-loss 'minimax' is the BCE loss's original"),
    (["--n-critic", "0"], "--n-critic must be >= 1"),
    (["--ema", "1"], "--ema must be in [0, 1) (0: off), got 1.0"),
    (["--lr-d=-1e-4"], "--lr-g and --lr-d must be >= 0 (0: --lr)"),
    (["--resume", "/no/such/checkpoint.npz"], "checkpoint not found: /no/such/checkpoint.npz"),
])
def test_bad_input_is_a_one_line_error(args, message, images, tmp_path, capsys):
    status, printed = run(TINY + ["--data", images, "--out", tmp_path] + args, capsys)
    assert status == 2
    assert message in printed.err and "Traceback" not in printed.err


def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(images, tmp_path):
    log = open(tmp_path / "stderr.txt", "w")
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "train_cifar.py")] + TINY
        + ["--data", str(images), "--out", str(tmp_path), "--epochs", "1000",
           "--checkpoint-every", "0"],
        stdout=subprocess.PIPE, stderr=log, text=True)
    for line in process.stdout:  # wait until the loop is about to start
        if line.startswith("training:"):
            break
    while not (tmp_path / "samples_epoch_001.png").exists():  # and one epoch is done
        assert process.poll() is None, open(tmp_path / "stderr.txt").read()
    os.kill(process.pid, signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 130, open(tmp_path / "stderr.txt").read()
    assert "interrupted (SIGINT): checkpoint saved at step" in out
    assert io.load_checkpoint(tmp_path / "checkpoint.npz")["meta"]["step"] >= 6


SWITCHES = [["--loss", "lsgan"], ["--loss", "hinge"],
            ["--loss", "wgan", "--optimizer", "rmsprop", "--lr", "5e-5", "--n-critic", "2"],
            ["--g-loss", "minimax"], ["--label-smoothing", "0.9", "--label-noise", "0.1"],
            ["--temperature", "2"], ["--d-norm", "instance"], ["--d-norm", "layer"],
            ["--d-norm", "none"], ["--prior", "uniform"], ["--g-activation", "leaky"],
            ["--loss", "wgan", "--gp", "10", "--beta1", "0", "--beta2", "0.9", "--n-critic", "2",
             "--d-norm", "layer"], ["--r1", "1"]]


@pytest.mark.parametrize("switch", SWITCHES, ids=[" ".join(s) for s in SWITCHES])
def test_every_recipe_switch_trains_the_dcgan(switch, images, tmp_path):
    assert run(TINY + ["--data", images, "--out", tmp_path, "--max-steps", "4"] + switch)[0] == 0
    rows = list(csv.DictReader(open(tmp_path / "history.csv")))
    assert len(rows) == 4 and all(np.isfinite(float(r["loss_D"])) for r in rows)
    g_losses = [float(r["loss_G"]) for r in rows]
    n_critic = int(switch[switch.index("--n-critic") + 1]) if "--n-critic" in switch else 1
    assert sum(np.isfinite(g_losses)) == 4 // n_critic  # G trains once per n_critic D updates
    norms = list(csv.DictReader(open(tmp_path / "grad_norms.csv")))
    assert len(norms) == 4 and any(k.startswith("G/") for k in norms[0])
    assert np.isfinite(float(norms[-1]["D/main.0.weight"]))
    for name in ("samples_final.png", "grad_norms.png", "curves.png"):
        assert (tmp_path / name).is_file(), name
    if "wgan" in switch and "--gp" not in switch:  # the critic's weights stay clipped
        _, trained = weights(tmp_path / "checkpoint.npz")
        clipped = [v for k, v in trained.items() if k.startswith("D/")
                   and "running" not in k and "num_batches" not in k]
        assert max(np.abs(v).max() for v in clipped) <= 0.01


def test_an_unknown_switch_value_names_the_flag_and_the_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_cifar.main(["--d-norm", "group"])
    assert exit_info.value.code == 2
    assert ("argument --d-norm: invalid choice: 'group' (choose from 'batch', 'instance', "
            "'layer', 'spectral', 'none')") in capsys.readouterr().err


def test_help_explains_every_switch_in_one_line(capsys):
    with pytest.raises(SystemExit):
        train_cifar.main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--loss", "--g-loss", "--label-noise", "--temperature", "--n-critic", "--clip",
                 "--d-norm", "--g-activation", "--prior", "--optimizer"):
        assert flag in text, flag


def test_generate_does_latent_arithmetic_on_grid_indices(images, tmp_path, capsys):
    assert run(TINY + ["--data", images, "--out", tmp_path, "--max-steps", "2"])[0] == 0
    args = [str(tmp_path / "checkpoint.npz"), "--n", "12", "--out", str(tmp_path / "gen")]
    assert generate.main(args + ["--arithmetic", "1,2 - 3 + 4,5,6"]) == 0
    assert Image.open(tmp_path / "gen" / "arithmetic.png").size == (2 * (8 * 34 + 2),
                                                                     2 * (4 * 34 + 2))
    assert generate.parse_arithmetic("1,2 - 3 + 4", 12) == [(1, [1, 2]), (-1, [3]), (1, [4])]
    assert generate.main(args + ["--arithmetic", "1 - 12"]) == 2
    assert "indices [12] are not in the grid of 12 samples" in capsys.readouterr().err
    with pytest.raises(ValueError, match="groups of grid indices joined by"):
        generate.parse_arithmetic("1 * 2", 12)


def test_arithmetic_adds_and_subtracts_the_mean_latents():
    z = np.arange(4 * 3, dtype=np.float32).reshape(4, 3, 1, 1)
    rows = generate.arithmetic(z, [(1, [0, 1]), (-1, [2]), (1, [3])], np.random.default_rng(0))
    assert rows.shape == (32, 3, 1, 1)
    np.testing.assert_allclose(rows[7], z[:2].mean(axis=0))  # each term row ends with its mean
    np.testing.assert_allclose(rows[24], z[:2].mean(axis=0) - z[2] + z[3])
    assert np.abs(rows[25:] - rows[24]).max() <= 0.25


def test_generate_writes_a_grid_and_interpolation_strips(images, tmp_path, capsys):
    assert run(TINY + ["--data", images, "--out", tmp_path, "--max-steps", "2"])[0] == 0
    assert generate.main([str(tmp_path / "checkpoint.npz"), "--n", "12", "--nrow", "4",
                          "--rows", "2", "--steps", "5", "--out", str(tmp_path / "gen")]) == 0
    assert Image.open(tmp_path / "gen" / "grid.png").size == (2 * (4 * 34 + 2), 2 * (3 * 34 + 2))
    for name in ("linear", "slerp"):
        assert (Image.open(tmp_path / "gen" / f"interpolation_{name}.png").size
                == (2 * (5 * 34 + 2), 2 * (2 * 34 + 2)))


def test_slerp_keeps_the_norm_of_equal_norm_endpoints_and_hits_both_ends():
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal(100), rng.standard_normal(100)
    z1 *= np.linalg.norm(z0) / np.linalg.norm(z1)
    for t in np.linspace(0, 1, 7):
        assert np.isclose(np.linalg.norm(generate.slerp(z0, z1, t)), np.linalg.norm(z0))
    np.testing.assert_allclose(generate.slerp(z0, z1, 0.0), z0, atol=1e-12)
    np.testing.assert_allclose(generate.slerp(z0, z1, 1.0), z1, atol=1e-12)
