"""PyTorch scripts (our own, in tests/torch_scripts/) run on tinygan with only their imports
changed, as ../shared/tools/port_from_torch.py changes them, and follow PyTorch's numbers."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from support import port_from_torch

SCRIPTS = Path(__file__).resolve().parent / "torch_scripts"


def run(script, *args, cwd):
    """The JSON lines a script prints (it must exit 0)."""
    done = subprocess.run([sys.executable, str(script), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def ported(name, folder):
    """tests/torch_scripts/NAME ported to tinygan, written into ``folder``."""
    target = folder / f"ported_{name}"
    target.write_text(port_from_torch((SCRIPTS / name).read_text()))
    return target


def test_the_port_changes_names_only():
    source = "import torch.nn as nn\nx = torch.randn(2)  # torch\ns = 'torch'\n"
    assert port_from_torch(source) == ("import tinygan.nn as nn\nx = tinygan.randn(2)  # torch\n"
                                       "s = 'torch'\n")


def test_a_dcgan_script_follows_pytorch_in_float64(tmp_path):
    """Same weights, images and noise: 5 iterations of D and G steps give PyTorch's losses
    to 1e-9 (float64), through BatchNorm, in-place LeakyReLU, BCELoss and Adam."""
    ours = run(ported("dcgan_float64.py", tmp_path), "--iterations", "5", cwd=tmp_path)
    assert len(ours) == 5 and all(np.isfinite(list(row.values())).all() for row in ours)
    pytest.importorskip("torch")
    theirs = run(SCRIPTS / "dcgan_float64.py", "--iterations", "5", cwd=tmp_path)
    for mine, reference in zip(ours, theirs):
        for key in ("loss_D", "loss_G", "D_x"):
            assert mine[key] == pytest.approx(reference[key], rel=1e-9, abs=1e-12), (mine, key)
