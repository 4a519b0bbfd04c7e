"""Fault-table rows: train_cifar.py's runs, folders and flags (see tests/faults.py)."""
from faults import Fault
from support import TINY, write_image_folder
from tinygan import io

RUN = (*TINY, "--data", "{images}", "--max-steps", "1")  # a tiny run, its --out to add
MINE = {"history.csv": "my own table\n", "metrics.csv": "my own numbers\n",
        "samples_mine.png": "my own picture"}  # files named like a run's outputs, not a run's


def another_run(tmp):
    """{tmp} holds another run: its checkpoint and history (their bytes need not load)."""
    (tmp / "checkpoint.npz").write_bytes(b"another run's checkpoint")
    (tmp / "history.csv").write_text("step,epoch\n7,1\n")


def my_files(folder):
    """A folder of the user's own files that only share names with a run's outputs."""
    folder.mkdir()
    for name, text in MINE.items():
        (folder / name).write_text(text)


def resumed_to_step_3(tmp, printed):
    """{tmp}'s checkpoint is now the resumed run's, at step 3."""
    assert io.load_checkpoint(tmp / "checkpoint.npz")["meta"]["step"] == 3, printed.out


def lock_link(tmp):
    """OUT/.lock is a symbolic link to a file of the user's."""
    (tmp / "out").mkdir()
    (tmp / "precious.txt").write_text("not a lock")
    (tmp / "out" / ".lock").symlink_to(tmp / "precious.txt")


def lock_of(tmp, content):
    """OUT/.lock is a regular file holding ``content``."""
    (tmp / "out").mkdir()
    (tmp / "out" / ".lock").write_text(content)


def lock_hard_link(tmp):
    """OUT/.lock is another name (a hard link) of a file of the user's that holds a number."""
    (tmp / "out").mkdir()
    (tmp / "precious.txt").write_text("4242")
    (tmp / "out" / ".lock").hardlink_to(tmp / "precious.txt")


FAULTS = [
    Fault("18", "--out is a file, not a folder", "train_cifar",
          ("--data", "{images}", "--out", "{tmp}/taken", "--max-steps", "1"),
          says="it is a file, not a folder",
          prepare=lambda tmp: (tmp / "taken").write_text("mine"), unchanged=("taken",)),
    Fault("27.1", "--resume A --out B, where B holds another run", "train_cifar",
          ("--resume", "{run}/checkpoint.npz", "--out", "{tmp}", "--data", "{images}",
           "--max-steps", "3"),
          says="{tmp} already holds another run", prepare=another_run,
          unchanged=("checkpoint.npz", "history.csv")),
    Fault("27.1", "--resume A --out B --overwrite replaces B's run", "train_cifar",
          ("--resume", "{run}/checkpoint.npz", "--out", "{tmp}", "--data", "{images}",
           "--max-steps", "3", "--overwrite"),
          status=0, says="resumed from", prepare=another_run, holds=resumed_to_step_3),
    Fault("27.3", "--eval-samples fewer than the classifier score needs", "train_cifar",
          ("--eval-every", "1", "--eval-samples", "5", "--out", "{tmp}/out", *RUN),
          says="--eval-samples must be in [10, 10000], got 5", unchanged=("out",)),
    Fault("27.4", "OUT/.lock is a symbolic link to a file", "train_cifar",
          ("--out", "{tmp}/out", *RUN), says="out/.lock is a symbolic link", prepare=lock_link,
          unchanged=("precious.txt", "out/.lock")),
    Fault("27.4", "OUT/.lock is a folder", "train_cifar", ("--out", "{tmp}/out", *RUN),
          says="out/.lock is not a file", prepare=lambda tmp: (tmp / "out" / ".lock").mkdir(
              parents=True), unchanged=("out/.lock",)),
    Fault("27.4", "OUT/.lock is a file of the user's", "train_cifar",
          ("--out", "{tmp}/out", *RUN), says="out/.lock is not a lock file",
          prepare=lambda tmp: lock_of(tmp, "my notes\n"), unchanged=("out/.lock",)),
    Fault("27.4", "OUT/.lock is a hard link to a file of the user's", "train_cifar",
          ("--out", "{tmp}/out", *RUN), says="out/.lock is not a lock file (it has 2 names",
          prepare=lock_hard_link, unchanged=("precious.txt",)),
    Fault("27.5", "--overwrite where no run is: the user's own files", "train_cifar",
          ("--overwrite", "--out", "{tmp}/out", *RUN), says="holds no run",
          prepare=lambda tmp: my_files(tmp / "out"), unchanged=tuple(f"out/{n}" for n in MINE)),
    Fault("27.5", "a new run where no run is but the user's own files", "train_cifar",
          ("--out", "{tmp}/out", *RUN), says="holds no run",
          prepare=lambda tmp: my_files(tmp / "out"), unchanged=tuple(f"out/{n}" for n in MINE)),
    Fault("27.5", "--resume into a new --out holding the user's own files", "train_cifar",
          ("--resume", "{run}/checkpoint.npz", "--out", "{tmp}/out", "--max-steps", "3"),
          says="holds no run", prepare=lambda tmp: my_files(tmp / "out"),
          unchanged=tuple(f"out/{n}" for n in MINE)),
    Fault("27.6", "--out inside --data", "train_cifar",
          ("--out", "{tmp}/data/run", "--data", "{tmp}/data", *TINY, "--max-steps", "1"),
          says="is inside --data", prepare=lambda tmp: write_image_folder(tmp / "data", 16),
          unchanged=("data",)),
    Fault("27.6", "--out is --data", "train_cifar",
          ("--out", "{tmp}/data", "--data", "{tmp}/data", *TINY, "--max-steps", "1"),
          says="is inside --data", prepare=lambda tmp: write_image_folder(tmp / "data", 16),
          unchanged=("data",)),
]
