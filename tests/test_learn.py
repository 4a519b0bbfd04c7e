"""The learner's path, docs/learn: its eight stages each run and check themselves against
tinygan, and a stage whose backward is broken, subtly, fails its own check."""
import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
LEARN = ROOT / "docs" / "learn"
STAGES = sorted(path.name for path in LEARN.glob("[0-9][0-9]_*.py"))
EXPECTED = ["01_scalar_autograd.py", "02_tensors_broadcasting.py", "03_backward_order.py",
            "04_conv_loops.py", "05_im2col.py", "06_batch_norm.py", "07_bce_on_logits.py",
            "08_dcgan_step.py"]


def load(name):
    """A stage as a fresh module (its name starts with a digit: `import` cannot load it)."""
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), LEARN / name)
    stage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stage)
    return stage


def test_the_path_has_its_eight_stages():
    assert STAGES == EXPECTED, f"docs/learn holds {STAGES}, expected {EXPECTED}"


@pytest.mark.parametrize("name", STAGES)
def test_stage_runs_and_matches_tinygan(name):
    result = subprocess.run([sys.executable, str(LEARN / name)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr[-3000:]}"
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith(f"stage {int(name[:2])}:") and " match " in last, last


# Each breaking(stage, monkeypatch) puts a subtly wrong backward into a freshly loaded stage.

def tanh_derivative_unsquared(stage, monkeypatch):
    """Stage 1: d tanh(a)/da as 1 - tanh(a) instead of 1 - tanh(a)^2."""
    def tanh(self):
        t = math.tanh(self.data)
        return stage.Value(t, ((self, 1 - t),))
    monkeypatch.setattr(stage.Value, "tanh", tanh)


def sum_to_averages(stage, monkeypatch):
    """Stage 2: the gradient of a broadcast averaged back to the input's shape, not summed."""
    summed = stage.sum_to
    monkeypatch.setattr(stage, "sum_to", lambda g, shape: summed(g, shape) * math.prod(shape)
                        / max(g.size, 1))


def breadth_first_backward(stage, monkeypatch):
    """Stage 3: the backward walks breadth-first from the output, not in topological order."""
    monkeypatch.setattr(stage, "topological_order", stage.breadth_first_order)


def conv_input_grad_with_flipped_kernel(stage, monkeypatch):
    """Stage 4: gx with the kernel flipped, as if the forward were a true convolution."""
    right = stage.conv2d_input_grad
    monkeypatch.setattr(stage, "conv2d_input_grad", lambda gy, w, *rest: right(
        gy, w[:, :, ::-1, ::-1], *rest))


def col2im_overwrites(stage, monkeypatch):
    """Stage 5: col2im writes each column onto its window (=) instead of adding (+=), so a
    pixel in several windows keeps one contribution."""
    def col2im(col, x_shape, kh, kw, stride, padding):
        n, c, h, w = x_shape
        p = padding
        oh, ow = stage.output_size(h, kh, stride, p), stage.output_size(w, kw, stride, p)
        col = col.reshape(c, kh, kw, n, oh, ow)
        xp = np.zeros((n, c, h + 2 * p, w + 2 * p))
        for a in range(kh):
            for b in range(kw):
                window = xp[:, :, a:a + stride * oh:stride, b:b + stride * ow:stride]
                window[...] = col[:, a, b].transpose(1, 0, 2, 3)
        return xp[:, :, p:p + h, p:p + w]
    monkeypatch.setattr(stage, "col2im", col2im)


def batch_norm_forgets_std(stage, monkeypatch):
    """Stage 6: gx = (g - mean(g)) / std, as if std did not depend on x (no xhat term)."""
    def backward(gy, saved):
        xhat, std, gamma = saved
        g = gy * stage.per_channel(gamma)
        return (g - stage.channel_mean(g)) / std, (gy * xhat).sum(stage.AXES), gy.sum(stage.AXES)
    monkeypatch.setattr(stage, "batch_norm_backward", backward)


def bce_gradient_of_the_sum(stage, monkeypatch):
    """Stage 7: sigmoid(z) - y without the mean's 1/N."""
    monkeypatch.setattr(stage, "bce_with_logits_grad", lambda z, y: stage.sigmoid(z) - y)


def leaky_relu_backward_of_relu(stage, monkeypatch):
    """Stage 8: LeakyReLU's backward passes nothing where x <= 0 (ReLU's), not 0.2 gy."""
    def leaky_relu(x, slope):
        return stage.leaky_relu(x, slope)[0], lambda gy: (np.where(x > 0, gy, 0.0),)
    monkeypatch.setitem(stage.OPS, "leaky", (leaky_relu, 0))


BREAKS = {"01_scalar_autograd.py": tanh_derivative_unsquared,
          "02_tensors_broadcasting.py": sum_to_averages,
          "03_backward_order.py": breadth_first_backward,
          "04_conv_loops.py": conv_input_grad_with_flipped_kernel,
          "05_im2col.py": col2im_overwrites,
          "06_batch_norm.py": batch_norm_forgets_std,
          "07_bce_on_logits.py": bce_gradient_of_the_sum,
          "08_dcgan_step.py": leaky_relu_backward_of_relu}


def test_every_stage_has_a_break():
    assert sorted(BREAKS) == EXPECTED


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_a_broken_backward_fails_its_stage_check(name, monkeypatch):
    stage = load(name)
    stage.check()  # passes as written
    BREAKS[name](stage, monkeypatch)
    with pytest.raises(AssertionError, match=f"stage {int(name[:2])}"):
        stage.check()
