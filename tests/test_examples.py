"""The examples run end to end and learn."""
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_demo_learns_to_tell_stripes_apart(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["demo.py"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(EXAMPLES / "demo.py"), run_name="__main__")
    assert exit_info.value.code == 0
    accuracy = float(capsys.readouterr().out.strip().splitlines()[-1].split()[-1].rstrip("%"))
    assert accuracy >= 90.0


def test_minimal_dcgan_trains_a_few_steps_and_writes_its_grid(images, tmp_path):
    out = tmp_path / "grid.png"
    result = subprocess.run([sys.executable, str(EXAMPLES / "minimal_dcgan.py"), "--data",
                             str(images), "--batch-size", "8", "--max-steps", "3", "--out",
                             str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "epoch 1 step 1: loss_D" in result.stdout and out.is_file()
    assert Image.open(out).size == (2 * (8 * 34 + 2),) * 2
