"""train_cifar.py --distributed under mpiexec -n 2: what one process computes, resumed across a
change of ranks, one writer, and how the job ends when a rank fails, dies, hangs or is stopped."""
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from support import EXAMPLES, MPIEXEC, TINY, finish_ranks, load_example, run_main, start_ranks
from tinygan import io

pytest.importorskip("mpi4py", reason="pip install -e '.[mpi]' (the test extra includes it)")
SCRIPT = str(EXAMPLES / "train_cifar.py")
train_cifar = load_example("train_cifar")


def start_training(args, n=2):
    """mpiexec -n n train_cifar.py --distributed args, started."""
    return start_ranks([sys.executable, SCRIPT, "--distributed", *args], n)


def on_ranks(args, n=2):
    """mpiexec -n n train_cifar.py --distributed args, finished: (status, stdout, stderr)."""
    return finish_ranks(start_training(args, n), timeout=300)


def history(out):
    """The run's loss_D, loss_G, D_x and D_G_z per step, from its checkpoint."""
    return io.load_checkpoint(Path(out) / "checkpoint.npz")["arrays"]["history"][:, 2:6]


def test_two_ranks_with_sync_bn_step_as_one_process_and_resume_across_a_change_of_ranks(
        images, tmp_path):
    """1 process x 8 images for 4 steps; 2 ranks x 4 with --sync-bn, alone and resumed from and
    into one process at step 2: the same losses at every step (float32). Without --sync-bn the
    ranks' batch statistics differ from the whole batch's, and so do the losses."""
    common = TINY + ["--data", images, "--max-steps", "4"]
    assert run_main(train_cifar.main, common + ["--out", tmp_path / "one"])[0] == 0
    status, printed, errors = on_ranks(common + ["--sync-bn", "--out", tmp_path / "two"])
    assert status == 0, printed + errors
    assert printed.count("training: 4 steps of 8 images") == 1, printed  # rank 0 speaks
    assert "distributed: 2 ranks x 4 images, gradients averaged by MPI, batch norm over all " \
           "ranks (--sync-bn)" in printed
    first = TINY + ["--data", images, "--max-steps", "2", "--sync-bn"]
    assert on_ranks(first + ["--out", tmp_path / "two_then_one"])[0] == 0
    assert run_main(train_cifar.main, common + ["--out", tmp_path / "two_then_one",
                                                "--resume"])[0] == 0
    assert run_main(train_cifar.main, first + ["--out", tmp_path / "one_then_two"])[0] == 0
    status, printed, errors = on_ranks(common + ["--out", tmp_path / "one_then_two", "--resume"])
    assert status == 0 and "resumed from" in printed, printed + errors
    assert on_ranks(common + ["--out", tmp_path / "per_rank"])[0] == 0
    one = history(tmp_path / "one")
    for name in ("two", "two_then_one", "one_then_two"):
        np.testing.assert_allclose(history(tmp_path / name), one, rtol=1e-4, atol=1e-5,
                                   err_msg=name)
    assert np.abs(history(tmp_path / "per_rank") - one).max() > 1e-3


def test_distributed_in_one_process_is_rank_0_of_1_and_changes_nothing(images, tmp_path, capsys):
    common = TINY + ["--data", images, "--max-steps", "3"]
    assert run_main(train_cifar.main, common + ["--out", tmp_path / "plain"])[0] == 0
    status, printed = run_main(train_cifar.main, common + ["--distributed", "--out",
                                                          tmp_path / "ranks"], capsys)
    assert status == 0 and "distributed: 1 rank x 8 images" in printed.out, printed
    np.testing.assert_array_equal(history(tmp_path / "ranks"), history(tmp_path / "plain"))


def test_the_gpu_path_averages_with_nccl(images, tmp_path, capsys):
    """On the CuPy stand-in, whose cupy.cuda.nccl runs over MPI: rank 0 of 1 trains through
    NcclCommunicator."""
    from cuda_emulation import installed, nccl
    before = nccl.CALLS["allReduce"]
    with installed():
        status, printed = run_main(train_cifar.main, TINY + [
            "--data", images, "--max-steps", "2", "--backend", "cupy", "--distributed",
            "--out", tmp_path], capsys)
    assert status == 0, printed
    assert "gradients averaged by NCCL" in printed.out
    assert nccl.CALLS["allReduce"] - before == 2 * 2  # G's and D's gradients, two steps


@pytest.mark.parametrize("args, message", [
    (["--batch-size", "9"], "error: --batch-size 9 does not split over 2 ranks: give a "
                            "multiple of 2; see --help"),
    (["--batch-size", "2"], "leaves one image per rank: batch norm needs two, or --sync-bn"),
    (["--gp", "10", "--sync-bn", "--n-critic", "5"], "--sync-bn with --gp or --r1"),
])
def test_settings_that_cannot_split_are_refused_once(images, tmp_path, args, message):
    status, printed, errors = on_ranks(TINY + ["--data", images, "--out", tmp_path] + args)
    assert status == 2 and message in errors, errors
    assert errors.count("error:") == 1 and "Abort" not in errors, errors


def test_a_start_failure_on_rank_0_alone_stops_every_rank_with_its_line(images, tmp_path):
    """--out already holds a run: only rank 0 looks at --out, the other ranks learn it."""
    common = TINY + ["--data", images, "--out", tmp_path, "--max-steps", "1"]
    assert run_main(train_cifar.main, common)[0] == 0
    status, printed, errors = on_ranks(common)
    assert status == 2, printed + errors
    assert errors.count("error:") == 1 and "already holds a run" in errors, errors


def wrapped(setup, args):
    """mpiexec -n 2 of train_cifar.py --distributed args, each rank first running ``setup``
    (Python code that puts a fault in place), started."""
    program = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); {setup}; "
               "from support import load_example; "
               "sys.exit(load_example('train_cifar').main(sys.argv[1:]))")
    return start_ranks([sys.executable, "-c", program, "--distributed", *args])


def test_an_unforeseen_error_on_rank_0_alone_at_the_start_ends_the_job_at_once(images,
                                                                                tmp_path):
    """issue 27.12: rank 0 alone fails where no check foresaw (a bug put into what it alone
    does at the start) while the other rank waits for it: the job ends at once with rank 0's
    traceback, not --timeout seconds later blaming a hung rank."""
    # the job must end long before its --timeout: a machine under load may take a while to start
    process = wrapped("import tinygan.io; tinygan.io.remove_stale_temporaries = lambda *a: 1 / 0",
                      TINY + ["--data", images, "--out", tmp_path, "--timeout", "600"])
    status, _, printed = ended(process, limit=180)
    assert status == 1 and "ZeroDivisionError" in printed, printed
    assert "hung" not in printed, printed


def test_distributed_on_cupy_without_cupy_is_one_line(images, tmp_path):
    """issue 27.12: was a traceback on every rank."""
    process = wrapped("sys.modules['cupy'] = None", TINY + [
        "--data", images, "--out", tmp_path, "--backend", "cupy", "--timeout", "20"])
    status, printed, errors = finish_ranks(process, timeout=60)
    assert status == 2 and errors.count("error:") == 1 and "Traceback" not in errors, errors
    assert "error: --distributed --backend cupy: " in errors and "needs CuPy" in errors, errors


def started(process):
    """Read the job's output until its first step has begun; the lines read."""
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("distributed:"):
            time.sleep(1)
            return lines
    raise AssertionError("the job ended before training: " + "".join(lines))


def rank_pids(out):
    """PIDs of the ranks (not mpiexec) of the job writing to ``out``."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if entry.name.isdigit() and str(out).encode() in command and command[0] != MPIEXEC.encode():
            pids.append(int(entry.name))
    return sorted(pids)


def long_job(images, out, *extra):
    args = TINY + ["--data", images, "--out", out, "--epochs", "1000", "--checkpoint-every",
                   "0", *extra]
    return start_training(args)


def ended(process, limit):
    """(status, seconds until the job ended, its output); fails past ``limit`` seconds."""
    began = time.monotonic()
    status, printed, errors = finish_ranks(process, limit)
    return status, time.monotonic() - began, printed + errors


def test_a_killed_rank_ends_the_job_within_seconds(images, tmp_path):
    """MPI's own handling: mpiexec sees the rank die and ends the others (about 0.05 s here)."""
    process = long_job(images, tmp_path)
    started(process)
    pids = rank_pids(tmp_path)
    assert len(pids) == 2, pids
    os.kill(pids[-1], signal.SIGKILL)
    status, seconds, printed = ended(process, limit=30)
    assert status != 0 and "Killed (signal 9)" in printed, printed
    assert seconds < 10


def test_a_hung_rank_ends_the_job_after_the_timeout_with_one_line(images, tmp_path):
    """A rank stopped (SIGSTOP) never answers: the other waits --timeout seconds in its
    collective, then ends the job with exit status 4."""
    process = long_job(images, tmp_path, "--timeout", "3")
    started(process)
    pids = rank_pids(tmp_path)
    os.kill(pids[-1], signal.SIGSTOP)
    try:
        status, seconds, printed = ended(process, limit=60)
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert status == 4, printed
    assert "waited 3 s in an allreduce for the other ranks: one of them has hung" in printed
    assert seconds < 30


def test_ctrl_c_stops_every_rank_after_the_same_step_and_the_run_resumes(images, tmp_path):
    """mpiexec hands SIGINT to every rank; they agree on the step, rank 0 saves, all exit 130."""
    process = long_job(images, tmp_path)
    lines = started(process)
    process.send_signal(signal.SIGINT)
    status, _, printed = ended(process, limit=60)
    printed = "".join(lines) + printed
    assert status == 130, printed
    assert printed.count("interrupted (SIGINT): checkpoint saved at step") == 1, printed
    step = io.load_checkpoint(tmp_path / "checkpoint.npz")["meta"]["step"]
    status, printed, errors = on_ranks(TINY + ["--data", images, "--out", tmp_path, "--resume",
                                               "--max-steps", step + 1])
    assert status == 0 and f"resumed from {tmp_path / 'checkpoint.npz'} at step {step:,}" \
        in printed, printed + errors


def test_without_mpi4py_distributed_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    status, printed = run_main(train_cifar.main, ["--distributed", "--out", tmp_path], capsys)
    assert status == 2
    assert printed.err.startswith("error: --distributed: tinygan.distributed needs mpi4py")
    assert 'pip install -e ".[mpi]"' in printed.err
