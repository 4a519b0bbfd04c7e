"""Helpers shared by tests: loading example scripts as modules, tiny image data sets, jobs of
several MPI ranks."""
import importlib.util
import io as io_module
import re
import signal
import subprocess
import sys
import tokenize
from pathlib import Path

import numpy as np
from PIL import Image

from tinygan import io

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    """examples/NAME.py as a module, without running its main()."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_image_folder(folder, count=48, size=32, seed=0):
    """``count`` random RGB PNGs (size x size) in two class sub-folders; returns the folder."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        target = Path(folder) / f"class{i % 2}"
        target.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(target / f"{i:04d}.png")
    return Path(folder)


# train_cifar.py flags of a tiny DCGAN run: 8x8-noise models, batch 8, a checkpoint every 2 steps
TINY = ["--nz", "8", "--ngf", "4", "--ndf", "4", "--batch-size", "8", "--checkpoint-every", "2"]


def run_main(main, args, capsys=None):
    """(exit status, what it printed) of a script's main() on args (made strings)."""
    if capsys:
        capsys.readouterr()
    status = main([str(a) for a in args])
    return status, (capsys.readouterr() if capsys else None)


class _Saved:
    """Anything with a state_dict(), for writing a hand-edited checkpoint."""

    def __init__(self, state):
        self.state = state

    def state_dict(self):
        return self.state


def save_edited(path, checkpoint):
    """Write a checkpoint (as io.load_checkpoint returns it, edited) to path."""
    io.save_checkpoint(path, {k: _Saved(v) for k, v in checkpoint["modules"].items()},
                       {k: _Saved(v) for k, v in checkpoint["optimizers"].items()},
                       checkpoint["meta"], checkpoint["arrays"])


MPIEXEC = str(Path(sys.executable).with_name("mpiexec"))


def start_ranks(command, n=2, labelled=False):
    """``mpiexec -n n command``, started; with ``labelled`` each line printed starts with its
    rank (``[0] ...``)."""
    return subprocess.Popen([MPIEXEC, *(["-prepend-rank"] if labelled else []), "-n", str(n),
                             *map(str, command)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_ranks(process, timeout):
    """(status, stdout, stderr) of a job of ranks. Past ``timeout`` seconds the job is ended
    (SIGTERM to mpiexec ends every rank) and the test fails with all that the ranks printed,
    so a hang never hides what went wrong on a rank."""
    try:
        printed, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        try:
            printed, errors = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            printed, errors = process.communicate()
        raise AssertionError(f"the ranks were still running {timeout} s later and were ended; "
                             f"they printed:\n{printed}\n{errors}") from None
    return process.returncode, printed, errors


def port_from_torch(source):
    """``source`` with its imports changed as ../shared/tools/port_from_torch.py changes them
    (the tool is not in this repository): every name torch -> tinygan, torchvision ->
    tinygan.vision, and lines that only set cuDNN flags dropped; strings are left alone."""
    names = {"torch": "tinygan", "torchvision": "tinygan.vision"}
    cudnn = re.compile(r"^\s*(import\s+torch\.backends\.cudnn\b.*|cudnn\.\w+\s*=.*"
                       r"|torch\.backends\.cudnn\.\w+\s*=.*)$")
    kept = "".join(line for line in io_module.StringIO(source)
                   if not cudnn.match(line.rstrip("\n")))
    tokens = [t._replace(string=names[t.string])
              if t.type == tokenize.NAME and t.string in names else t
              for t in tokenize.generate_tokens(io_module.StringIO(kept).readline)]
    return tokenize.untokenize(tokens)
