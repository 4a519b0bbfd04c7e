"""Fault-table rows: train_cifar.py's runs, folders and flags (see tests/faults.py)."""
from faults import Fault

FAULTS = [
    Fault("18", "--out is a file, not a folder", "train_cifar",
          ("--data", "{images}", "--out", "{tmp}/taken", "--max-steps", "1"),
          says="it is a file, not a folder",
          prepare=lambda tmp: (tmp / "taken").write_text("mine"), unchanged=("taken",)),
]
