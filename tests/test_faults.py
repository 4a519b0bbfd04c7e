"""Nothing is lost: the scripts against faults (signals, kill -9, full disks, locks) and bad input.

The fault table (rows in tests/faults_*.py, machinery in tests/faults.py) holds the faults that
are one command each: every row runs here, and every flag of every script and every file format
tinygan reads must have rows. The tests below it are the faults that need more than one command
(signals, kill -9, a second run at once, a disk that fills mid-run), from issue 18. Runs are tiny
(8x8 noise models on 48 random images, batch 8).
"""
import ast
import errno
import shutil
import re
import signal
import subprocess
import sys
import time
from io import BytesIO

import numpy as np
import pytest
from PIL import Image

import test_evaluation
from faults import FAULT_MODULES, SCRIPTS, flags_in, flags_of, one_line, rows_of, run_fault
from support import (EXAMPLES, TINY, load_example, run_main, save_edited,
                     write_image_folder)
from tinygan import io, ops, tensor
from tinygan.gan import classifier, data

train_cifar = load_example("train_cifar")
generate = load_example("generate")
evaluate = load_example("evaluate")
toy_2d = load_example("toy_2d")
ROOT = EXAMPLES.parent
FAULTS = rows_of(FAULT_MODULES)

# Every file format that tinygan or a script reads: the functions that read it. A reader that
# is not listed here, or a format without rows in the table, fails a test below.
READERS = {
    "checkpoint": ["tinygan/io.py:load_checkpoint"],
    "tar archive": ["tinygan/gan/data.py:_tar_files"],
    "image file": ["tinygan/gan/data.py:_decode_image"],
    "cifar-10 batch": ["tinygan/gan/data.py:_unpickle_batch", "tinygan/gan/data.py:find_class"],
    "image cache": ["tinygan/gan/data.py:_load_cache"],
    "toy sweep results": ["examples/toy_2d.py:sweep"],
    "pytorch weights": ["tinygan/torch_format.py:is_torch_file", "tinygan/torch_format.py:read",
                        "tinygan/torch_format.py:_check_sizes",
                        "tinygan/torch_format.py:_Unpickler"],
}
# Reads that are not of a user's file, and why.
NOT_USER_FILES = {
    "tinygan/gan/cli.py:available_memory": "/proc/meminfo, the kernel's",
    "tinygan/gan/classifier.py:file_sha256": "hashes the bytes of the shipped classifier, "
                                             "parses nothing",
    "tinygan/backend/cuda.py:kernel": "kernels/*.cu, shipped with tinygan",
    "tinygan/gan/data.py:_file_md5": "hashes the bytes of a download, parses nothing",
    "tinygan/gan/data.py:download_file": "copies a URL into a file (its md5 checked)",
    "tinygan/io.py:atomic_write": "writes",
    "tinygan/io.py:folder_lock": "the lock file: its contents are only shown",
    "examples/toy_2d.py:save_gif": "in-memory PNGs it has just drawn",
    "examples/train_cifar.py:main": "/dev/null",
}
# Readers of files that no example script reads: a library test feeds them the bad files.
LIBRARY_READERS = {
    "tinygan/serialization.py:load": "tests/test_serialization.py, foreign and hostile files",
    "tinygan/serialization.py:_load": "tests/test_serialization.py, foreign and hostile files",
    "tinygan/vision/datasets.py:read_idx": "tests/test_vision.py, short, lying and foreign idx "
                                           "files",
    "tinygan/vision/datasets.py:default_loader": "tests/test_vision.py, an undecodable image",
}
READING = re.compile(r"np\.load\(|Image\.open\(|tarfile\.open\(|json\.loads?\(|pickle\."
                     r"|Unpickler\(|zipfile\.|read_bytes\(|read_text\(|np\.fromfile"
                     r"|urlopen\(|(?<![.\w])open\(")


@pytest.fixture(scope="module")
def finished_run(images, tmp_path_factory):
    """A finished 2-step train_cifar.py run; rows get a copy of it as {run}."""
    out = tmp_path_factory.mktemp("finished") / "run"
    assert run_main(train_cifar.main, TINY + ["--data", images, "--out", out,
                                              "--max-steps", "2"])[0] == 0
    return out


@pytest.mark.parametrize("row", FAULTS, ids=[row.id for row in FAULTS])
def test_fault_table(row, images, finished_run, tmp_path, capsys):
    folder = tmp_path / "row"
    folder.mkdir()
    shutil.copytree(finished_run, tmp_path / "run")
    run_fault(row, folder, images, tmp_path / "run", capsys)


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_flag_of_every_script_has_a_row(script, capsys):
    covered = set().union(*(flags_in(row) for row in FAULTS if row.script == script))
    assert flags_of(script, capsys) - covered == set()


def reading_functions():
    """'file:function' of every function in tinygan/ and examples/ that reads a file."""
    found = set()
    for path in sorted([*ROOT.glob("tinygan/**/*.py"), *ROOT.glob("examples/*.py")]):
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and any(
                    READING.search(line) and not line.lstrip().startswith("#")
                    for line in lines[node.lineno - 1:node.end_lineno]) and not any(
                    isinstance(inner, (ast.FunctionDef, ast.ClassDef)) and inner is not node
                    and READING.search("\n".join(lines[inner.lineno - 1:inner.end_lineno]))
                    for inner in ast.walk(node)):
                found.add(f"{path.relative_to(ROOT)}:{node.name}")
    return found


def test_every_file_tinygan_reads_is_a_format_of_the_table():
    listed = {reader for readers in READERS.values() for reader in readers}
    assert reading_functions() - listed - set(NOT_USER_FILES) - set(LIBRARY_READERS) == set()
    assert listed - reading_functions() == set(), "listed readers that read no file"


@pytest.mark.parametrize("file_format", READERS)
def test_every_file_format_has_rows(file_format):
    assert any(row.reads == file_format for row in FAULTS), f"no row reads a bad {file_format}"


def run(args, capsys=None):
    return run_main(train_cifar.main, args, capsys)


def step_of(path):
    return io.load_checkpoint(path)["meta"]["step"]


def start(args, out):
    """train_cifar.py in a subprocess; returns it once its loop is about to start."""
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "train_cifar.py")] + [str(a) for a in args],
        stdout=subprocess.PIPE, stderr=open(out.parent / f"{out.name}.stderr", "w"), text=True)
    for line in process.stdout:
        if line.startswith("training:"):
            return process
    raise AssertionError(f"the run never started: {process.wait()}")


# --- work lost -------------------------------------------------------------------------------

def test_a_second_run_into_a_used_out_is_refused_unless_resumed_or_overwritten(images, tmp_path,
                                                                               capsys):
    assert run(TINY + ["--data", images, "--out", tmp_path, "--max-steps", "2"])[0] == 0
    before = (tmp_path / "checkpoint.npz").read_bytes()
    status, printed = run(TINY + ["--data", images, "--out", tmp_path, "--max-steps", "4"], capsys)
    assert status == 2 and one_line(printed.err)
    assert "already holds a run" in printed.err and "--resume" in printed.err
    assert "--overwrite" in printed.err and "--out DIR" in printed.err
    assert (tmp_path / "checkpoint.npz").read_bytes() == before
    status, printed = run(TINY + ["--data", images, "--out", tmp_path, "--max-steps", "4",
                                  "--overwrite"], capsys)
    assert status == 0 and "--overwrite: deleted" in printed.out
    assert step_of(tmp_path / "checkpoint.npz") == 4


def test_resume_and_overwrite_together_are_refused(images, tmp_path, capsys):
    status, printed = run(["--resume", "--overwrite", "--out", tmp_path], capsys)
    assert status == 2 and "give one of them" in printed.err and one_line(printed.err)


def test_a_second_run_at_once_is_refused_naming_the_first(images, tmp_path, capsys):
    first = start(TINY + ["--data", images, "--out", tmp_path / "run", "--epochs", "1000",
                          "--checkpoint-every", "0"], tmp_path / "run")
    try:
        status, printed = run(TINY + ["--data", images, "--out", tmp_path / "run"], capsys)
        assert status == 2 and one_line(printed.err)
        assert f"another run (PID {first.pid}) is writing to {tmp_path / 'run'}" in printed.err
    finally:
        first.kill()  # kill -9: its lock must not outlive it
        first.wait()
    status, _ = run(TINY + ["--data", images, "--out", tmp_path / "run", "--max-steps", "1"])
    assert status == 0  # the dead run's lock was taken over (it had written no checkpoint)


def test_an_out_that_is_a_file_is_refused_before_training(images, tmp_path, capsys):
    (tmp_path / "taken").write_text("not a folder")
    status, printed = run(TINY + ["--data", images, "--out", tmp_path / "taken"], capsys)
    assert status == 2 and one_line(printed.err)
    assert "it is a file, not a folder" in printed.err and "training:" not in printed.out


@pytest.mark.parametrize("failure, message", [
    (PermissionError(errno.EACCES, "Permission denied"), "Permission denied"),
    (OSError(errno.ENOSPC, "No space left on device"), "No space left on device ("),
])
def test_an_unwritable_out_is_refused_before_training(failure, message, images, tmp_path, capsys,
                                                      monkeypatch):
    """A read-only folder or a full disk, found by the probe at start (simulated: these tests
    may run as root, whom a read-only folder does not stop)."""
    real_mkstemp = io.tempfile.mkstemp

    def failing_mkstemp(dir=None, **kwargs):
        if str(dir).startswith(str(tmp_path / "out")):
            raise failure
        return real_mkstemp(dir=dir, **kwargs)

    monkeypatch.setattr(io.tempfile, "mkstemp", failing_mkstemp)
    status, printed = run(TINY + ["--data", images, "--out", tmp_path / "out"], capsys)
    assert status == 2 and one_line(printed.err)
    assert f"--out {tmp_path / 'out'}: cannot write" in printed.err and message in printed.err
    assert "training:" not in printed.out


def test_a_full_disk_at_a_later_save_stops_cleanly_and_keeps_the_last_checkpoint(
        images, tmp_path, capsys, monkeypatch):
    real_savez, calls = io.np.savez, []

    def savez_until_the_disk_fills(file, **arrays):
        calls.append(1)
        if len(calls) == 2:  # the second checkpoint, at step 4
            file.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_savez(file, **arrays)

    monkeypatch.setattr(io.np, "savez", savez_until_the_disk_fills)
    status, printed = run(TINY + ["--data", images, "--out", tmp_path], capsys)
    assert status == 1 and one_line(printed.err)
    assert f"cannot write {tmp_path / 'checkpoint.npz'}: No space left on device (" in printed.err
    assert "the last good checkpoint is" in printed.err and "(step 2), untouched" in printed.err
    assert step_of(tmp_path / "checkpoint.npz") == 2
    assert not list(tmp_path.glob(".*.tmp"))


def fill_disk_at(monkeypatch, name, attempt):
    """The disk fills at the ``attempt``-th write of the file ``name`` (1: the first)."""
    real_mkstemp, calls = io.tempfile.mkstemp, []

    def mkstemp_until_full(prefix="", **kwargs):
        calls.append(prefix)
        if prefix == f".{name}." and calls.count(prefix) == attempt:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_mkstemp(prefix=prefix, **kwargs)

    monkeypatch.setattr(io.tempfile, "mkstemp", mkstemp_until_full)


@pytest.mark.parametrize("name, attempt", [
    ("checkpoint.npz", 1), ("history.csv", 1), ("checkpoint.npz", 2), ("history.csv", 2),
    ("grad_norms.csv", 2), ("curves.png", 2), ("grad_norms.png", 2)])
def test_a_full_disk_names_the_checkpoint_that_is_there_and_its_step(name, attempt, images,
                                                                     tmp_path, capsys,
                                                                     monkeypatch):
    """issue 27.11: whichever write of a save meets the full disk, the line names the
    checkpoint on disk and the step it holds, or says that there is none."""
    fill_disk_at(monkeypatch, name, attempt)
    status, printed = run(TINY + ["--data", images, "--out", tmp_path], capsys)
    assert status == 1 and one_line(printed.err), printed.err
    assert f"cannot write {tmp_path / name}: No space left on device" in printed.err
    checkpoint = tmp_path / "checkpoint.npz"
    if checkpoint.exists():
        assert f"the last good checkpoint is {checkpoint} (step {step_of(checkpoint)})" \
            in printed.err, printed.err
    else:
        assert "no checkpoint had been written yet" in printed.err


def test_a_full_disk_after_resuming_into_a_new_out_names_the_checkpoint_resumed_from(
        images, tmp_path, capsys, monkeypatch):
    """issue 27.11: --resume OTHER --out NEW, and NEW's first checkpoint cannot be written: the
    last good checkpoint is OTHER's, not NEW/checkpoint.npz (which does not exist)."""
    assert run(TINY + ["--data", images, "--out", tmp_path / "other", "--max-steps", "2"])[0] == 0
    fill_disk_at(monkeypatch, "checkpoint.npz", 1)
    status, printed = run(["--resume", tmp_path / "other" / "checkpoint.npz", "--out",
                           tmp_path / "new"], capsys)
    assert status == 1 and one_line(printed.err), printed.err
    assert f"the last good checkpoint is {tmp_path / 'other' / 'checkpoint.npz'} (step 2)" \
        in printed.err, printed.err
    assert not (tmp_path / "new" / "checkpoint.npz").exists()


def test_a_failed_measurement_costs_no_training(images, tmp_path, capsys, monkeypatch):
    """issue 27.3: an --eval-every measurement that fails mid-run is one line; training goes on
    and every epoch's checkpoint is written."""
    class Failing:
        def generator_row(self, *args, **kwargs):
            raise ValueError("the measurement broke")

    monkeypatch.setattr(train_cifar.evaluation.Evaluator, "cifar10",
                        classmethod(lambda cls, *args, **kwargs: Failing()))
    status, printed = run(TINY + ["--data", images, "--out", tmp_path, "--max-steps", "12",
                                  "--checkpoint-every", "0", "--eval-every", "1",
                                  "--eval-samples", "16"], capsys)
    assert status == 0, printed.err
    assert printed.err.count("warning: --eval-every: the measurement after epoch") == 2
    assert "(ValueError: the measurement broke); training goes on" in printed.err
    assert step_of(tmp_path / "checkpoint.npz") == 12


def test_eval_every_without_the_classifier_is_refused_before_step_1(images, tmp_path, capsys,
                                                                    monkeypatch):
    missing = tmp_path / "no_such_classifier.npz"
    monkeypatch.setattr(train_cifar.evaluation.Evaluator, "cifar10", classmethod(
        lambda cls, count, probe_train=0, seed=0, log=None:
        test_evaluation.synthetic_evaluator(missing, 16, probe_train)))
    status, printed = run(TINY + ["--data", images, "--out", tmp_path / "out", "--eval-every",
                                  "1", "--eval-samples", "16"], capsys)
    assert status == 2 and one_line(printed.err)
    assert "--eval-every needs our classifier" in printed.err and str(missing) in printed.err
    assert "training:" not in printed.out


def test_loading_the_scripts_leaves_the_environment_alone():
    """Issue 33: toy_2d.py set OPENBLAS_NUM_THREADS=1 when imported, so the runs that tests
    start afterwards used one BLAS thread against this process's two, rounded differently, and
    a resumed run no longer matched an uninterrupted one bit for bit."""
    check = ("import os, sys; sys.path.insert(0, sys.argv[1]); from support import load_example; "
             "before = dict(os.environ); [load_example(s) for s in sys.argv[2:]]; "
             "changed = set(os.environ.items()) ^ set(before.items()); "
             "sys.exit(f'changed: {sorted(changed)}' if changed else 0)")
    done = subprocess.run([sys.executable, "-c", check, str(EXAMPLES.parent / "tests"),
                           *SCRIPTS], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_sigterm_saves_and_the_resumed_run_equals_an_uninterrupted_one(images, tmp_path,
                                                                       library_routes):
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    common = TINY + ["--data", images, "--epochs", "1000", "--checkpoint-every", "0"]
    process = start(common + ["--out", stopped], stopped)
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 143, out
    assert "interrupted (SIGTERM): checkpoint saved at step" in out
    total = step_of(stopped / "checkpoint.npz") + 3
    assert run(["--resume", "--out", stopped, "--max-steps", total])[0] == 0
    assert run(common + ["--out", straight, "--max-steps", total])[0] == 0
    a, b = (io.load_checkpoint(p / "checkpoint.npz") for p in (straight, stopped))
    assert a["meta"]["step"] == b["meta"]["step"] == total
    for model in ("G", "D"):
        for key, value in a["modules"][model].items():
            np.testing.assert_array_equal(value, b["modules"][model][key], err_msg=key)


def test_kill_9_at_any_moment_leaves_a_loadable_checkpoint_and_the_run_resumes(images, tmp_path):
    """kill -9 a run repeatedly, at moments spread over steps and checkpoint writes (one every
    step); each time the checkpoint loads, the next start cleans up after the last and resumes."""
    out = tmp_path / "run"
    args = TINY + ["--data", images, "--out", out, "--epochs", "1000", "--checkpoint-every", "1"]
    process = start(args, out)
    for delay in (0.05, 0.3, 0.11, 0.7, 0.23):
        time.sleep(delay)
        process.kill()
        process.wait()
        if (out / "checkpoint.npz").exists():
            step_of(out / "checkpoint.npz")  # loads
        resume = ["--resume"] if (out / "checkpoint.npz").exists() else []
        process = start(args + resume, out)
    process.kill()
    process.wait()
    steps = step_of(out / "checkpoint.npz")
    assert run(["--resume", "--out", out, "--max-steps", str(steps + 2)])[0] == 0
    assert step_of(out / "checkpoint.npz") == steps + 2
    assert not list(out.glob(".*.tmp")), "a temporary of a killed write survived the restart"


def test_stale_temporaries_of_this_runs_files_are_removed_at_start(images, tmp_path, capsys):
    for name in (".checkpoint.npz.k1x2.tmp", ".history.csv.abcd.tmp",
                 ".samples_epoch_001.png.q.tmp"):
        (tmp_path / name).write_bytes(b"x" * 1000)
    (tmp_path / ".notes.txt.keep.tmp").write_text("someone else's")
    status, printed = run(TINY + ["--data", images, "--out", tmp_path, "--max-steps", "1"], capsys)
    assert status == 0 and "removed 3 temporary files of interrupted writes" in printed.out
    assert [p.name for p in tmp_path.glob(".*.tmp")] == [".notes.txt.keep.tmp"]


# --- the data cache and image modes ----------------------------------------------------------

def test_a_corrupted_cache_is_rebuilt_and_said(tmp_path):
    folder = write_image_folder(tmp_path / "imgs", count=20)
    lines = []
    first = data.load_images(folder, log=lines.append)
    cache = next(tmp_path.glob("*" + data.CACHE_SUFFIX))
    raw = bytearray(cache.read_bytes())
    header = len(raw) - first.nbytes
    raw[header:] = np.random.default_rng(1).integers(0, 256, first.nbytes, np.uint8).tobytes()
    cache.write_bytes(bytes(raw))  # same size, same header, garbage pixels
    again = data.load_images(folder, log=lines.append)
    np.testing.assert_array_equal(again, first)
    assert any("does not match its checksum" in line and "rebuilding it" in line for line in lines)
    lines.clear()
    np.testing.assert_array_equal(data.load_images(folder, log=lines.append), first)
    assert lines == []  # the rebuilt cache is used as is


def test_a_cache_without_its_checksum_is_rebuilt(tmp_path):
    folder = write_image_folder(tmp_path / "imgs", count=4)
    data.load_images(folder, log=lambda line: None)
    next(tmp_path.glob("*" + data.CACHE_SUFFIX + data.SIDECAR_SUFFIX)).unlink()
    lines = []
    data.load_images(folder, log=lines.append)
    assert any("has no readable checksum" in line for line in lines)


def mode_images(rng):
    """(Pillow mode, file bytes, format, expected mean pixel) for each mode Pillow can open."""
    noise8 = rng.integers(0, 256, (16, 16), dtype=np.uint8)
    noise16 = rng.integers(0, 65536, (16, 16), dtype=np.uint16)
    rgb = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    rgba = np.dstack([rgb, np.full((16, 16), 255, np.uint8)])
    floats = rng.random((16, 16)).astype(np.float32)
    cases = [
        ("1", Image.fromarray(noise8 > 127), "PNG", 255 * (noise8 > 127).mean()),
        ("L", Image.fromarray(noise8), "PNG", noise8.mean()),
        ("LA", Image.fromarray(np.dstack([noise8, noise8]), "LA"), "PNG", noise8.mean()),
        ("P", Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE), "PNG", None),
        ("RGB", Image.fromarray(rgb), "PNG", rgb.mean()),
        ("RGBA", Image.fromarray(rgba), "PNG", rgb.mean()),
        ("CMYK", Image.new("CMYK", (16, 16), (0, 0, 0, 0)), "JPEG", 255.0),
        ("I;16", Image.fromarray(noise16), "PNG", (noise16 / 257).mean()),
        ("I", Image.fromarray(noise16.astype(np.int32)), "TIFF", (noise16 / 257).mean()),
        ("F", Image.fromarray(floats), "TIFF", (255 * floats).mean()),
    ]
    for mode, image, fmt, mean in cases:
        buffer = BytesIO()
        image.save(buffer, fmt)
        yield mode, buffer.getvalue(), mean, image


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F"])
def test_every_image_mode_decodes_to_its_8_bit_values(mode):
    for name, raw, mean, image in mode_images(np.random.default_rng(0)):
        if name != mode:
            continue
        with Image.open(BytesIO(raw)) as reopened:
            assert reopened.mode == mode
        decoded = data._decode_image(raw, f"{mode}.png", 16)  # (3, 16, 16)
        if mean is None:  # a palette: its colours, as Pillow maps them
            mean = np.asarray(image.convert("RGB")).mean()
        assert abs(decoded.mean() - mean) < 1.5, (mode, decoded.mean(), mean)


# --- one line, not a traceback ---------------------------------------------------------------

@pytest.fixture(scope="module")
def classifier_weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "classifier.npz"
    io.save_checkpoint(path, {"classifier": classifier.Classifier(width=4)}, {},
                       {"model": {"width": 4, "classes": 10}})
    return path


def test_a_tinygan_file_that_is_not_a_training_checkpoint_is_named(classifier_weights, tmp_path,
                                                                   capsys):
    expected = "a tinygan checkpoint of classifier, not a train_cifar.py training checkpoint"
    status, printed = run(["--resume", classifier_weights, "--out", tmp_path], capsys)
    assert status == 2 and expected in printed.err and one_line(printed.err)
    assert generate.main([str(classifier_weights)]) == 2
    assert expected in capsys.readouterr().err
    assert evaluate.main([str(classifier_weights)]) == 2
    assert expected in capsys.readouterr().err


def test_a_random_file_named_npz_is_not_a_checkpoint(tmp_path, capsys):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(np.random.default_rng(0).bytes(500))
    for main in (generate.main, evaluate.main):
        assert main([str(junk)]) == 2
        err = capsys.readouterr().err
        assert "junk.npz: not a tinygan checkpoint" in err and "pickle" not in err
        assert one_line(err)


def test_evaluate_on_weights_that_do_not_fit_their_config_is_one_line(images, tmp_path, capsys):
    assert run(TINY + ["--data", images, "--out", tmp_path, "--max-steps", "1"])[0] == 0
    checkpoint = io.load_checkpoint(tmp_path / "checkpoint.npz")
    checkpoint["meta"]["config"]["ngf"] = 8  # the weights are ngf 4
    save_edited(tmp_path / "edited.npz", checkpoint)
    assert evaluate.main([str(tmp_path / "edited.npz")]) == 2
    err = capsys.readouterr().err
    assert "edited.npz: its weights do not fit its own config" in err and one_line(err)


def test_generate_given_a_folder_says_so(tmp_path, capsys):
    assert generate.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path} is a folder; give the checkpoint file in it" in err


@pytest.mark.parametrize("script", ["train_cifar", "toy_2d", "generate", "evaluate"])
def test_a_negative_seed_is_one_line(script, tmp_path, capsys):
    args = {"train_cifar": ["--seed", "-1", "--out", str(tmp_path)], "toy_2d": ["--seed", "-1"],
            "generate": ["x.npz", "--seed", "-1"], "evaluate": ["x.npz", "--seed", "-1"]}[script]
    main = {"train_cifar": train_cifar.main, "toy_2d": toy_2d.main, "generate": generate.main,
            "evaluate": evaluate.main}[script]
    try:
        status = main(args)
    except SystemExit as exit_info:  # argparse's parser.error
        status = exit_info.code
    assert status == 2
    assert "--seed must be >= 0, got -1" in capsys.readouterr().err


def test_models_too_large_for_memory_are_refused_with_the_estimate(images, tmp_path, capsys):
    status, printed = run(["--ngf", "100000", "--data", images, "--out", tmp_path], capsys)
    assert status == 2 and one_line(printed.err)
    assert "--ngf 100000" in printed.err and "need about" in printed.err
    assert "GiB available" in printed.err


def test_image_and_archive_messages_show_no_internals(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(data.DataError) as error:
        data.load_images(tmp_path / "bad")
    assert "broken.jpg: cannot decode image (not a PNG or JPEG file" in str(error.value)
    assert "BytesIO" not in str(error.value)
    (tmp_path / "junk.tar.gz").write_bytes(b"neither gzip nor tar" * 50)
    with pytest.raises(data.DataError) as error:
        data.load_images(tmp_path / "junk.tar.gz")
    assert str(error.value) == (f"{tmp_path / 'junk.tar.gz'}: not a readable tar archive "
                                "(neither plain tar nor gzip, bzip2 or xz-compressed tar data)")


def test_op_shape_errors_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) do not broadcast"):
        ops.add(tensor(np.ones((2, 3))), tensor(np.ones(4)))
    with pytest.raises(ValueError, match=r"reshape: cannot view shape \(2, 3\) \(6 elements\) "
                                         r"as \(4, -1\)"):
        ops.reshape(tensor(np.ones((2, 3))), (4, -1))
    with pytest.raises(ValueError, match=r"conv2d: bias of shape \(3,\), expected \(2,\)"):
        ops.conv2d(tensor(np.ones((1, 1, 4, 4))), tensor(np.ones((2, 1, 3, 3))),
                   tensor(np.ones(3)))


def test_skip_bad_images_leaves_them_out_and_says_how_many(tmp_path, capsys):
    folder = write_image_folder(tmp_path / "imgs", count=24)
    for name in ("class0/zz_bad1.png", "class1/zz_bad2.png"):
        (folder / name).write_bytes(b"not an image")
    status, printed = run(TINY + ["--data", folder, "--out", tmp_path / "a", "--max-steps", "1"],
                          capsys)
    assert status == 2 and "zz_bad1.png: cannot decode image" in printed.err
    assert "--skip-bad-images leaves such files out" in printed.err
    args = TINY + ["--data", folder, "--max-steps", "1", "--skip-bad-images"]
    for out in ("b", "c"):  # the second run reads the cache, and still says what it skipped
        status, printed = run(args + ["--out", tmp_path / out], capsys)
        assert status == 0
        assert "skipped 2 images that cannot be decoded: class0/zz_bad1.png" in printed.out
        assert "(24 images)" in printed.out
    status, printed = run(TINY + ["--data", folder, "--out", tmp_path / "d"], capsys)
    assert status == 2 and "2 images cannot be decoded" in printed.err  # from the cache too
