"""TensorBoard: train_cifar.py --tensorboard read back with TensorBoard's own reader (curves,
grids, histograms, settings, a resumed run's steps), and tinygan's SummaryWriter."""
import csv
import subprocess
import sys

import numpy as np
import pytest

import tinygan as tg
from support import EXAMPLES, TINY, finish_ranks, load_example, run_main, start_ranks

pytest.importorskip("tensorboardX", reason='pip install -e ".[monitor]"')
event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator", reason="pip install tensorboard")
from tinygan.utils.tensorboard import SummaryWriter  # noqa: E402

train_cifar = load_example("train_cifar")
STEP_TAGS = ("loss_D", "loss_G", "D_x", "D_G_z", "images_per_s")


def events(folder, purge=True):
    """TensorBoard's view of the event files in ``folder``, every event kept."""
    everything = {kind: 0 for kind in ("scalars", "images", "histograms", "tensors")}
    return event_accumulator.EventAccumulator(str(folder), size_guidance=everything,
                                              purge_orphaned_data=purge).Reload()


def table(path):
    """A CSV file as {column: float64 array}."""
    rows = list(csv.DictReader(open(path)))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def check_curves(read, out):
    """Every step's metrics and gradient norms, once each, equal to history.csv's and
    grad_norms.csv's (float32)."""
    for csv_name, prefix in (("history.csv", "train"), ("grad_norms.csv", "grad_norm")):
        columns = table(out / csv_name)
        names = STEP_TAGS if prefix == "train" else [k for k in columns if k != "step"]
        for name in names:
            points = read.Scalars(f"{prefix}/{name}")
            assert [p.step for p in points] == columns["step"].astype(int).tolist(), name
            np.testing.assert_allclose([p.value for p in points], columns[name], rtol=1e-6,
                                       err_msg=name)


class Measured:
    """An evaluation.Evaluator stand-in: the same results every time, at once."""
    ROW = {"swd": 12.5, "frechet": 3.25, "score": 1.5, "classes_covered": 4}

    def generator_row(self, G, prior):
        return self.ROW | {"class_shares": np.full(10, 0.1)}


def test_a_run_writes_curves_grids_histograms_measurements_settings(images, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr(train_cifar.evaluation.Evaluator, "cifar10", lambda *a, **k: Measured())
    command = TINY + ["--data", images, "--out", tmp_path, "--epochs", "2", "--sample-every",
                      "4", "--eval-every", "1", "--tensorboard"]
    assert run_main(train_cifar.main, command)[0] == 0
    read = events(tmp_path / "tensorboard")
    check_curves(read, tmp_path)
    for name, value in Measured.ROW.items():
        points = read.Scalars(f"eval/{name}")
        assert [(p.step, p.value) for p in points] == [(6, value), (12, value)]
    grids = read.Images("samples")
    assert [g.step for g in grids] == [4, 6, 8, 12]  # every 4 steps, each epoch, once a step
    assert {(g.width, g.height) for g in grids} == {(8 * 34 + 2, 8 * 34 + 2)}
    size = train_cifar.Run(train_cifar.Config(nz=8, ngf=4, ndf=4)).G.main[0].weight.numel()
    for kind in ("weights", "gradients"):
        histograms = read.Histograms(f"{kind}/G/main.0.weight")
        assert [h.step for h in histograms] == [6, 12]
        assert histograms[-1].histogram_value.num == size
    settings = events(tmp_path / "tensorboard" / "hparams")
    start = settings.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
    from tensorboard.plugins.hparams import plugin_data_pb2
    hparams = plugin_data_pb2.HParamsPluginData.FromString(start).session_start_info.hparams
    assert hparams["batch_size"].number_value == 8 and hparams["loss"].string_value == "bce"
    loss_D = settings.Scalars("hparam/loss_D")
    assert [p.step for p in loss_D] == [12]
    np.testing.assert_allclose(loss_D[0].value, table(tmp_path / "history.csv")["loss_D"][6:]
                               .mean(), rtol=1e-6)
    assert settings.Scalars("hparam/swd")[0].value == Measured.ROW["swd"]


def test_a_resumed_run_continues_its_curves_without_the_steps_after_its_checkpoint(
        images, tmp_path, monkeypatch):
    log_dir = tmp_path / "tb"
    real_step, steps = train_cifar.gan.train_step, []

    def crash_at_step_6(*args):
        steps.append(len(steps) + 1)
        if len(steps) == 6:
            raise RuntimeError("the machine went away")
        return real_step(*args)

    monkeypatch.setattr(train_cifar.gan, "train_step", crash_at_step_6)
    command = TINY + ["--data", images, "--out", tmp_path, "--epochs", "2", "--checkpoint-every",
                      "3", "--tensorboard", log_dir]
    with pytest.raises(RuntimeError):
        run_main(train_cifar.main, command)
    monkeypatch.undo()
    assert [p.step for p in events(log_dir).Scalars("train/loss_D")] == [1, 2, 3, 4, 5]
    assert train_cifar.parse_args(["--resume", "--out", str(tmp_path)])[0].tensorboard == str(
        log_dir)  # kept from the checkpoint (step 3)
    resume = ["--resume", "--out", tmp_path, "--tensorboard", log_dir]
    assert run_main(train_cifar.main, resume)[0] == 0
    assert [p.step for p in events(log_dir, purge=False).Scalars("train/loss_D")] == [
        1, 2, 3, 4, 5] + list(range(4, 13))  # what TensorBoard shows without purge_step
    read = events(log_dir)
    check_curves(read, tmp_path)
    assert [g.step for g in read.Images("samples")] == [6, 12]


def test_the_bare_flag_writes_into_out():
    config = train_cifar.parse_args(["--out", "runs/a", "--tensorboard"])[0]
    assert config.tensorboard == "runs/a/tensorboard"
    assert train_cifar.parse_args(["--out", "runs/a"])[0].tensorboard == ""


def test_with_distributed_rank_0_alone_writes(images, tmp_path):
    pytest.importorskip("mpi4py", reason="pip install -e '.[mpi]'")
    script = [sys.executable, EXAMPLES / "train_cifar.py", "--distributed"]
    job = start_ranks(script + TINY + ["--data", images, "--out", tmp_path, "--max-steps", "2",
                                       "--tensorboard"])
    status, _, errors = finish_ranks(job, timeout=120)
    assert status == 0, errors
    assert len(list((tmp_path / "tensorboard").glob("events.*"))) == 1
    assert [p.step for p in events(tmp_path / "tensorboard").Scalars("train/loss_D")] == [1, 2]


def test_without_tensorboardx_the_flag_says_how_to_install_it(images, tmp_path, capsys,
                                                              monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import tensorboardX fails
    command = TINY + ["--data", images, "--out", tmp_path, "--tensorboard"]
    status, printed = run_main(train_cifar.main, command, capsys)
    assert status == 2 and "training:" not in printed.out
    assert printed.err == ('error: --tensorboard: TensorBoard logging needs tensorboardX: '
                           'pip install -e ".[monitor]"\n')
    with pytest.raises(ImportError, match=r'pip install -e "\.\[monitor\]"'):
        SummaryWriter(tmp_path)


def test_importing_tinygan_needs_no_tensorboardx():
    code = ("import sys, tinygan, tinygan.utils.tensorboard, tinygan.gan.monitor; "
            "assert 'tensorboardX' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_summary_writer_takes_tensors_arrays_and_numbers(tmp_path):
    tg.manual_seed(0)
    values = tg.randn(100)
    with SummaryWriter(tmp_path) as writer:
        for step, value in enumerate([tg.tensor(1.5), np.float32(2.5), 3]):
            writer.add_scalar("loss", value, step)
        writer.add_scalars("pair", {"a": tg.tensor(1.0), "b": 2.0}, 0)
        writer.add_image("image", tg.rand(3, 8, 6), 0)
        writer.add_image("uint8", np.zeros((8, 6, 3), np.uint8), 0, dataformats="HWC")
        writer.add_images("batch", tg.rand(4, 3, 8, 8), 0)
        writer.add_histogram("values", values, 0)
        writer.add_text("note", "hello", 0)
        writer.add_hparams({"lr": tg.tensor(0.1), "loss": "bce"}, {"score": tg.tensor(0.5)},
                           run_name="settings")
    read = events(tmp_path)
    assert [(p.step, p.value) for p in read.Scalars("loss")] == [(0, 1.5), (1, 2.5), (2, 3.0)]
    assert events(tmp_path / "pair" / "a").Scalars("pair")[0].value == 1.0
    assert [(i.width, i.height) for tag in ("image", "uint8", "batch")
            for i in read.Images(tag)] == [(6, 8), (6, 8), (32, 8)]
    histogram = read.Histograms("values")[0].histogram_value
    assert histogram.num == 100
    np.testing.assert_allclose(histogram.sum, values.sum().item(), rtol=1e-5)
    assert "note/text_summary" in read.Tags()["tensors"]
    assert events(tmp_path / "settings").Scalars("score")[0].value == 0.5


def test_a_device_array_comes_to_the_host():
    class DeviceArray:  # what the writer uses of a CuPy array
        __cuda_array_interface__ = {}

        def get(self):
            return np.arange(3.0)

    from tinygan.utils.tensorboard import to_numpy
    np.testing.assert_array_equal(to_numpy(DeviceArray()), [0.0, 1.0, 2.0])
