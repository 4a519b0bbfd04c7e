"""Fault-table rows: train_classifier.py, evaluate.py, generate.py, toy_2d.py and demo.py (issue
27; see tests/faults.py)."""
import json
import os
import stat

from faults import Fault
from tinygan.gan import classifier

CLASSIFIER = ("train_classifier", ("--data", "{images}", "--width", "4", "--batch-size", "8",
                                   "--max-steps", "2"))
TOY = ("--steps", "1", "--batch-size", "8", "--width", "4")  # a toy run refused before training
TOY_SWEEP = ("--sweep", "--only", "default", "--sweep-out", "{tmp}") + TOY
RESULT_ROW = {"name": "default", "flags": "", "steps": 3, "modes": [8, 8, 8],
              "high_quality": [0.9, 0.9, 0.9], "seconds": [1.0, 1.0, 1.0]}


def mine(name):
    """prepare(tmp): a file of the user's at tmp/name."""
    return lambda tmp: (tmp / name).write_text("mine")


def shipped_link(tmp):
    """tmp/link.npz, a symbolic link to the shipped classifier."""
    (tmp / "link.npz").symlink_to(classifier.WEIGHTS)


def shipped_unchanged(tmp, printed):
    """The shipped classifier still has its checksum."""
    assert classifier.file_sha256(classifier.WEIGHTS) == classifier.WEIGHTS_SHA256


def still_a_fifo(tmp, printed):
    """tmp/fifo is still the named pipe it was."""
    assert stat.S_ISFIFO(os.stat(tmp / "fifo").st_mode)


def earlier_results(text):
    """prepare(tmp): an earlier sweep's tmp/toy_2d.json holding ``text``."""
    return lambda tmp: (tmp / "toy_2d.json").write_text(text)


def classifier_row(case, fault, args, **kwargs):
    """A train_classifier.py row on the tiny image set, writing to {tmp}/clf.npz unless args
    give another --out."""
    out = () if "--out" in args else ("--out", "{tmp}/clf.npz")
    return Fault(case, fault, CLASSIFIER[0], CLASSIFIER[1] + out + args, **kwargs)


FAULTS = [
    # 27.2: the shipped classifier is never written, and NaN weights are never written
    classifier_row("27.2", "--out is (a link to) the shipped classifier",
                   ("--out", "{tmp}/link.npz"), says="is the shipped classifier",
                   prepare=shipped_link, unchanged=("link.npz",), holds=shipped_unchanged),
    classifier_row("27.2", "--lr nan", ("--lr", "nan"), says="--lr must be a finite number > 0",
                   prepare=mine("clf.npz"), unchanged=("clf.npz",)),
    classifier_row("27.2", "the loss becomes NaN: status 3, no weights written",
                   ("--lr", "1e38", "--max-steps", "4"), status=3, says="training diverged",
                   prepare=mine("clf.npz"), unchanged=("clf.npz",)),
    # 27.3: the classifier score needs 10 samples
    Fault("27.3", "--samples below the classifier score's 10", "evaluate",
          ("--baselines", "--samples", "9", "--json", "{tmp}/e.json"),
          says="--samples must be in [10, 10000]", unchanged=("e.json",)),
    # 27.10: train_classifier.py's flags
    classifier_row("27.10", "a width whose model cannot fit in memory", ("--width", "100000000"),
                   says="GiB available", unchanged=("clf.npz",), max_rss_mb=500),
    classifier_row("flag", "no pass over the data", ("--epochs", "0"),
                   says="--epochs must be >= 1, got 0", unchanged=("clf.npz",)),
    classifier_row("27.10", "a negative seed", ("--seed", "-1"),
                   says="--seed must be >= 0, got -1", unchanged=("clf.npz",)),
    classifier_row("27.10", "a negative --max-steps", ("--max-steps", "-3"),
                   says="--max-steps must be >= 0", unchanged=("clf.npz",)),
    classifier_row("27.10", "a batch larger than the data", ("--batch-size", "100"),
                   says="--batch-size 100 is larger than the 48 training images",
                   unchanged=("clf.npz",)),
    classifier_row("27.10", "--out is a folder", ("--out", "{tmp}/folder"),
                   says="got a folder", prepare=lambda tmp: (tmp / "folder").mkdir(),
                   unchanged=("folder",)),
    classifier_row("27.10", "--out is a named pipe", ("--out", "{tmp}/fifo"),
                   says="got something that is not a file",
                   prepare=lambda tmp: os.mkfifo(tmp / "fifo"), holds=still_a_fifo),
    # 27.10: toy_2d.py's --out must be a run folder
    Fault("27.10", "--out is the file system's root", "toy_2d", ("--out", "/") + TOY,
          says="--out /: expected a run folder, got the root of a file system"),
    Fault("27.10", "--out holds other files", "toy_2d", ("--out", "{tmp}") + TOY,
          says="got a folder with 1 other entries (notes.txt)", prepare=mine("notes.txt"),
          unchanged=("notes.txt",)),
    Fault("27.10", "--out is a file", "toy_2d", ("--out", "{tmp}/taken") + TOY,
          says="expected a folder, got a file", prepare=mine("taken"), unchanged=("taken",)),
    Fault("27.10", "--sweep-out without --sweep", "toy_2d", ("--sweep-out", "{tmp}") + TOY,
          says="--sweep-out {tmp} needs --sweep"),
    # 27.10: generate.py's latent arithmetic with an empty term
    Fault("27.10", "--arithmetic with a term without indices", "generate",
          ("{run}/checkpoint.npz", "--arithmetic", ",", "--out", "{tmp}/g"),
          says="expected at least one grid index in every term", unchanged=("g",)),
    # 27.10: demo.py has a parser
    Fault("27.10", "an unknown flag", "demo", ("--bogus",),
          says="unrecognized arguments: --bogus"),
    Fault("27.10", "no steps", "demo", ("--steps", "0"), says="--steps must be >= 1"),
    Fault("27.10", "a batch too small for batch norm", "demo", ("--batch-size", "1"),
          says="--batch-size must be >= 2"),
    # 27: evaluate.py --classifier: a user's own weights, checked
    Fault("27.2", "--classifier is missing", "evaluate",
          ("{run}/checkpoint.npz", "--classifier", "{tmp}/missing.npz", "--json", "{tmp}/e.json"),
          says="not found: {tmp}/missing.npz", unchanged=("e.json",)),
    Fault("27.2", "--classifier is a training checkpoint", "evaluate",
          ("{run}/checkpoint.npz", "--classifier", "{run}/checkpoint.npz", "--json",
           "{tmp}/e.json"), says="not classifier weights", unchanged=("e.json",),
          reads="checkpoint"),
    # 27: toy_2d.py --sweep --only keeps the rows of an earlier toy_2d.json: a bad one is refused
    Fault("27", "an earlier toy_2d.json that is not JSON", "toy_2d", TOY_SWEEP,
          says="toy_2d.json: not the results of an earlier --sweep",
          prepare=earlier_results('{"rows": ['), unchanged=("toy_2d.json",),
          reads="toy sweep results"),
    Fault("27", "an earlier toy_2d.json that is a list", "toy_2d", TOY_SWEEP,
          says="expected an object with a list of rows", prepare=earlier_results("[1, 2]"),
          unchanged=("toy_2d.json",), reads="toy sweep results"),
    Fault("27", "an earlier toy_2d.json with an unknown recipe", "toy_2d", TOY_SWEEP,
          says="got row 0", prepare=earlier_results(json.dumps(
              {"rows": [RESULT_ROW | {"name": "nosuch"}]})),
          unchanged=("toy_2d.json",), reads="toy sweep results"),
    Fault("27", "an earlier toy_2d.json whose modes are not numbers", "toy_2d", TOY_SWEEP,
          says="got row 1", prepare=earlier_results(json.dumps(
              {"rows": [RESULT_ROW, RESULT_ROW | {"modes": ["8"]}]})),
          unchanged=("toy_2d.json",), reads="toy sweep results"),
    Fault("27", "an earlier toy_2d.json that is a folder", "toy_2d", TOY_SWEEP,
          says="toy_2d.json: not the results of an earlier --sweep",
          prepare=lambda tmp: (tmp / "toy_2d.json").mkdir(), unchanged=("toy_2d.json",),
          reads="toy sweep results"),
]
