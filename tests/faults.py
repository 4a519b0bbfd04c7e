"""The fault table's machinery: a row is one fault (a bad flag, a bad file, a dangerous folder),
the command that meets it, and what must hold afterwards; ``run_fault`` runs a row and checks it.

Rows live in the ``faults_*.py`` modules beside this file, one per area; tests/test_faults.py
runs every row and checks that every script flag and every file format has rows.

In a row's ``args`` these words are replaced: ``{tmp}`` (the row's own empty folder),
``{images}`` (48 random 32x32 PNGs in two class folders) and ``{run}`` (a copy of a finished
2-step train_cifar.py run: ``{run}/checkpoint.npz``, its history and its grids).
"""
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from support import EXAMPLES, load_example

SCRIPTS = ("train_cifar", "train_classifier", "generate", "evaluate", "toy_2d", "demo")
_mains = {}


@dataclass(frozen=True)
class Fault:
    """One row of the fault table.

    - ``case``: where the fault was reported ("27.1": issue 27, item 1) or a short name.
    - ``fault``: what goes wrong, in words.
    - ``script`` and ``args``: the command, ``python examples/SCRIPT.py ARGS``.
    - ``status``: the exit status it must end with; ``says``: text that its one error line
      (status != 0) or its output (status 0) must hold.
    - ``prepare(tmp)``: makes the row's bad files or folders before the command.
    - ``unchanged``: paths (under ``tmp``) whose bytes, or whose being absent, must not change.
    - ``holds(tmp, printed)``: any further check afterwards (raises AssertionError).
    - ``max_rss_mb``: run in a process of its own and bound its peak memory (resident set).
    - ``reads``: the file format (a key of test_faults.READERS) whose bad file the row feeds.
    """
    case: str
    fault: str
    script: str
    args: tuple
    status: int = 2
    says: str = ""
    prepare: Optional[Callable] = None
    unchanged: tuple = ()
    holds: Optional[Callable] = None
    max_rss_mb: Optional[int] = None
    reads: str = ""

    @property
    def id(self):
        """The row's name in pytest's output: its case and its command."""
        return f"{self.case} {self.script} {' '.join(self.args)}"[:90]


@dataclass
class Printed:
    """What a command printed, and its peak memory when it ran in a process of its own."""
    out: str
    err: str
    peak_rss_mb: Optional[float] = None


def one_line(text):
    """Whether stderr holds one error line and no traceback (tqdm's progress lines aside)."""
    messages = [part for part in re.split(r"[\r\n]", text) if part.startswith("error")]
    return len(messages) == 1 and "Traceback" not in text


def main_of(script):
    """examples/SCRIPT.py's main(argv), loaded once."""
    if script not in _mains:
        _mains[script] = load_example(script).main
    return _mains[script]


def in_process(script, args, capsys):
    """(exit status, Printed) of SCRIPT's main(args) in this process."""
    capsys.readouterr()
    try:
        status = main_of(script)(list(args))
    except SystemExit as exit_info:  # argparse
        status = exit_info.code
    printed = capsys.readouterr()
    return status, Printed(printed.out, printed.err)


# Runs a script as ``python SCRIPT ARGS`` would and, at its exit, writes its own peak resident
# memory (VmHWM, kB) to a file. The kernel's figure for a child (wait4's ru_maxrss) starts from
# the memory of the process that forked it: under pytest a 130 MB run read as 420 MB.
PEAK_LAUNCHER = """
import atexit, runpy, sys
from pathlib import Path
def write_peak(path=sys.argv[1]):
    status = Path("/proc/self/status").read_text().splitlines()
    Path(path).write_text(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(write_peak)
sys.argv = sys.argv[2:]
sys.path[0] = str(Path(sys.argv[0]).parent)
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def in_subprocess(script, args, folder):
    """(exit status, Printed) of ``python examples/SCRIPT.py args`` with its peak RSS."""
    out, err, peak = folder / ".stdout", folder / ".stderr", folder / ".peak_kb"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        status = subprocess.run([sys.executable, "-c", PEAK_LAUNCHER, str(peak),
                                 str(EXAMPLES / f"{script}.py"), *args],
                                stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL).returncode
    printed = Printed(out.read_text(), err.read_text(),
                      int(peak.read_text()) / 1024 if peak.exists() else float("inf"))
    for path in (out, err, peak):
        path.unlink(missing_ok=True)
    return status, printed


def snapshot(paths):
    """{path: its bytes, its link target, 'folder' or None if absent} for each path."""
    def state(path):
        if path.is_symlink():
            return ("link", os.readlink(path))
        if path.is_dir():
            return ("folder", sorted(p.name for p in path.iterdir()))
        return ("file", path.read_bytes()) if path.exists() else None
    return {path: state(path) for path in paths}


def run_fault(row, tmp, images, run, capsys):
    """Run one row in its folder ``tmp`` and assert all that it says must hold."""
    words = {"{tmp}": str(tmp), "{images}": str(images), "{run}": str(run)}
    args = [_substitute(str(a), words) for a in row.args]
    if row.prepare:
        row.prepare(tmp)
    before = snapshot([tmp / p for p in row.unchanged])
    if row.max_rss_mb is None:
        status, printed = in_process(row.script, args, capsys)
    else:
        status, printed = in_subprocess(row.script, args, tmp)
    shown = f"status {status}\nstdout:\n{printed.out[-3000:]}\nstderr:\n{printed.err[-3000:]}"
    assert status == row.status, shown
    if row.status != 0:
        assert one_line(printed.err), shown
    assert _substitute(row.says, words) in (printed.err if row.status else printed.out), shown
    assert snapshot(before) == before, f"changed: {[str(p) for p in before]}\n{shown}"
    if row.max_rss_mb is not None:
        assert printed.peak_rss_mb <= row.max_rss_mb, \
            f"peak RSS {printed.peak_rss_mb:.0f} MB > {row.max_rss_mb} MB\n{shown}"
    if row.holds:
        row.holds(tmp, printed)


def _substitute(text, words):
    for word, value in words.items():
        text = text.replace(word, value)
    return text


def rows_of(module_names):
    """Every row of the fault-table modules named."""
    rows = []
    for name in module_names:
        rows.extend(__import__(name).FAULTS)
    return rows


def flags_of(script, capsys):
    """Every --flag that ``SCRIPT.py --help`` lists as an option (not one named in a help text)."""
    _, printed = in_process(script, ["--help"], capsys)
    options = re.findall(r"(?m)^ {2}(?:-\w[^,\n]*, )?(--[a-z][a-z0-9-]*)", printed.out)
    return set(options) - {"--help"}


def flags_in(row):
    """The --flags a row's command uses (``--flag=value`` included)."""
    return {str(a).split("=")[0] for a in row.args if str(a).startswith("--")}


FAULT_MODULES = tuple(sorted(p.stem for p in Path(__file__).parent.glob("faults_*.py")))
