"""Fault-table rows: untrusted files and sizes (issue 27, items 7 to 9): the image cache's
sidecar, decompression bombs (tar members, PNGs, batch files) and checkpoints that are not
what this version wrote; PyTorch weights that are not a state dict (issue 31) (see
tests/faults.py)."""
import gzip
import io
import json
import os
import pickle
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from faults import Fault
from support import TINY, save_edited, write_image_folder
from tinygan import io as tg_io
from tinygan.gan import data

TRAIN = (*TINY, "--out", "{tmp}/out", "--max-steps", "1")
ZEROS = 16 << 20  # a gzip member of this many zero bytes, repeated, makes a large tar member
# A one-step tiny run peaks at 210 MB here; unbounded, the tar member, the batch file and the
# 1 x 400,000 PNG took 1.2 to 2.4 GB.
PEAK_MB = 500


# --- 27.7 the image cache and its sidecar ----------------------------------------------------

def cached_folder(edit):
    """prepare: {tmp}/imgs (16 PNGs) with its cache built, then edit(cache, sidecar) applied."""
    def prepare(tmp):
        folder = write_image_folder(tmp / "imgs", count=16)
        data.load_images(folder)
        [cache] = tmp.glob("imgs.*" + data.CACHE_SUFFIX)
        edit(cache, Path(f"{cache}{data.SIDECAR_SUFFIX}"))
    return prepare


def sidecar_with(**fields):
    """edit: the sidecar's fields set to these."""
    def edit(cache, sidecar):
        sidecar.write_text(json.dumps(json.loads(sidecar.read_text()) | fields))
    return edit


def sidecar_is_rewritten(tmp, printed):
    """holds: the rebuilt cache's sidecar is an object that skips nothing."""
    [sidecar] = tmp.glob("imgs.*" + data.CACHE_SUFFIX + data.SIDECAR_SUFFIX)
    assert json.loads(sidecar.read_text())["skipped"] == [], sidecar.read_text()


def cache_rows():
    """The rows of 27.7: each run rebuilds the cache and says why in one line."""
    rebuilt = "; rebuilding it"
    not_ours = "has a sidecar that is not what tinygan writes"
    faults = [
        ("the sidecar is JSON null", lambda cache, sidecar: sidecar.write_text("null"),
         f"{not_ours} (expected a JSON object, got null){rebuilt}"),
        ("the sidecar skips a file that does not exist", sidecar_with(skipped=["ghost.png"]),
         f"{not_ours} (skipped: expected names of image files in {{tmp}}/imgs, got the string "
         f"'ghost.png'){rebuilt}"),
        ("the sidecar skips an int", sidecar_with(skipped=[7]), f"got 7){rebuilt}"),
        ("the sidecar's checksum is a string", sidecar_with(crc32="0"),
         f"{not_ours} (crc32: expected an int, got the string '0'){rebuilt}"),
        ("the cache is truncated",
         lambda cache, sidecar: cache.write_bytes(cache.read_bytes()[:1000]),
         "is unusable (expected the 49,152 bytes of a uint8 array of shape (16, 3, 32, 32) "
         f"after its header, got 872){rebuilt}"),
        ("the cache is empty", lambda cache, sidecar: cache.write_bytes(b""), rebuilt),
    ]
    return [Fault("27.7", fault, "train_cifar", ("--data", "{tmp}/imgs", *TRAIN), status=0,
                  says=says, prepare=cached_folder(edit), holds=sidecar_is_rewritten,
                  reads="image cache")
            for fault, edit, says in faults]


# --- 27.8 decompression bombs ----------------------------------------------------------------

def zero_member_archive(size, name="imgs/big.png"):
    """prepare: {tmp}/bomb.tar.gz whose first member, name, holds size zero bytes, then the 16
    PNGs of imgs/. Its gzip stream is one member per ZEROS bytes, each compressed once: a
    2 GiB member is a 9 MB file, written in a fraction of a second."""
    def prepare(tmp):
        rest = io.BytesIO()
        with tarfile.open(fileobj=rest, mode="w") as tar:
            tar.add(write_image_folder(tmp / "imgs", count=16), arcname="imgs")
        header = tarfile.TarInfo(name)
        header.size = size
        zeros = gzip.compress(bytes(ZEROS), compresslevel=1)
        with open(tmp / "bomb.tar.gz", "wb") as out:
            out.write(gzip.compress(header.tobuf()))
            for _ in range(size // ZEROS):
                out.write(zeros)
            out.write(gzip.compress(bytes(size % ZEROS + -size % tarfile.BLOCKSIZE)
                                    + rest.getvalue()))
    return prepare


def folder_with_png(width, height):
    """prepare: {tmp}/imgs, 16 PNGs and a black width x height one, big.png."""
    def prepare(tmp):
        Image.new("L", (width, height)).save(write_image_folder(tmp / "imgs", 16) / "big.png")
    return prepare


def sparse_batch(tmp):
    """prepare: {tmp}/cifar-10-batches-py whose data_batch_1 is a 2 GiB sparse file."""
    (tmp / data.CIFAR10_FOLDER).mkdir()
    with open(tmp / data.CIFAR10_FOLDER / "data_batch_1", "wb") as batch:
        batch.truncate(2 << 30)


def bomb_rows():
    """The rows of 27.8: each bomb refused (or skipped) before it is read or decoded."""
    refused = "that tinygan reads of one image or batch file; --skip-bad-images leaves"
    return [
        Fault("27.8", "a 9 MB .tar.gz holds a 2 GiB image member", "train_cifar",
              ("--data", "{tmp}/bomb.tar.gz", *TRAIN),
              says=f"{{tmp}}/bomb.tar.gz: imgs/big.png: 2.0 GiB (2,147,483,648 bytes), more "
                   f"than the 256 MiB {refused}",
              prepare=zero_member_archive(2 << 30), max_rss_mb=PEAK_MB, reads="tar archive"),
        Fault("27.8", "a .tar.gz holds a 1 GiB image member, --skip-bad-images", "train_cifar",
              ("--data", "{tmp}/bomb.tar.gz", "--skip-bad-images", *TRAIN), status=0,
              says="data: skipped 1 images that cannot be decoded: imgs/big.png",
              prepare=zero_member_archive(1 << 30), max_rss_mb=PEAK_MB, reads="tar archive"),
        Fault("27.8", "a 2 GiB (sparse) data_batch_1 in a CIFAR-10 release folder",
              "train_cifar", ("--data", f"{{tmp}}/{data.CIFAR10_FOLDER}", *TRAIN),
              says=f"{data.CIFAR10_FOLDER}/data_batch_1: 2.0 GiB (2,147,483,648 bytes), more "
                   "than the 256 MiB that tinygan reads of one image or batch file",
              prepare=sparse_batch, max_rss_mb=PEAK_MB, reads="cifar-10 batch"),
        Fault("27.8", "a 1 KB PNG of 1 x 400,000 pixels", "train_cifar",
              ("--data", "{tmp}/imgs", *TRAIN),
              says="imgs/big.png: 1 x 400,000 pixels (32 x 12,800,000 once its shorter side is "
                   "resized to 32), more than the 50 megapixels that tinygan decodes or resizes",
              prepare=folder_with_png(1, 400_000), max_rss_mb=PEAK_MB, reads="image file"),
        Fault("27.8", "a 6 KB PNG of 1 x 3,000,000 pixels, --skip-bad-images", "train_cifar",
              ("--data", "{tmp}/imgs", "--skip-bad-images", *TRAIN), status=0,
              says="data: skipped 1 images that cannot be decoded: big.png",
              prepare=folder_with_png(1, 3_000_000), max_rss_mb=PEAK_MB, reads="image file"),
        Fault("27.8", "a 62 KB PNG of 8,000 x 8,000 pixels", "train_cifar",
              ("--data", "{tmp}/imgs", *TRAIN),
              says="imgs/big.png: 8,000 x 8,000 pixels (64 megapixels), more than the 50 "
                   "megapixels that tinygan decodes or resizes",
              prepare=folder_with_png(8000, 8000), max_rss_mb=PEAK_MB, reads="image file"),
    ]


# --- 27.9 checkpoints that are not what this version wrote -----------------------------------

CHECKPOINT = "{run}/checkpoint.npz"
RESUME = ("--resume", "--out", "{run}")


def run_checkpoint(tmp):
    """{run}/checkpoint.npz, seen from a row's folder."""
    return tmp.parent / "run" / "checkpoint.npz"


def edited(edit):
    """prepare: {run}/checkpoint.npz saved again after edit(checkpoint) (as io.load_checkpoint
    returns it)."""
    def prepare(tmp):
        checkpoint = tg_io.load_checkpoint(run_checkpoint(tmp))
        edit(checkpoint)
        save_edited(run_checkpoint(tmp), checkpoint)
    return prepare


def header_edited(edit):
    """prepare: {run}/checkpoint.npz with its JSON header text replaced by edit(header)."""
    def prepare(tmp):
        with np.load(run_checkpoint(tmp)) as npz:
            flat = {key: npz[key] for key in npz.files}
        flat["__header__"] = np.array(edit(json.loads(str(flat["__header__"]))))
        np.savez(run_checkpoint(tmp), **flat)
    return prepare


def without(key):
    """edit: the header without key, as JSON."""
    return lambda header: json.dumps({k: v for k, v in header.items() if k != key})


def with_huge_history(tmp):
    """prepare: {run}/checkpoint.npz whose arrays/history .npy header declares 2**40 floats
    (8 TiB), its data the real history's few bytes."""
    path = run_checkpoint(tmp)
    with np.load(path) as npz:
        flat = {key: npz[key] for key in npz.files}
    with zipfile.ZipFile(path, "w") as archive:
        for key, array in flat.items():
            with archive.open(f"{key}.npy", "w") as member:
                if key != "arrays/history":
                    np.lib.format.write_array(member, array)
                    continue
                np.lib.format.write_array_header_1_0(
                    member, {"descr": "<f8", "fortran_order": False, "shape": (2**40,)})
                member.write(array.tobytes())


def checkpoint_rows():
    """The rows of 27.9: each script names the file and the field, expected vs got."""
    faults = [
        ("a config key this version does not know", "train_cifar", RESUME,
         edited(lambda c: c["meta"]["config"].update(bogus=1)),
         "meta.config: expected the settings of this version of train_cifar.py, got unknown "
         "ones: bogus"),
        ("no optimizers in the header", "generate", (CHECKPOINT,),
         header_edited(without("optimizers")),
         "optimizers: expected a JSON object of optimizer states by name (strings without '/'), "
         "got nothing (no such field)"),
        ("no optimizers in the header", "train_cifar", RESUME,
         header_edited(without("optimizers")), "optimizers: expected a JSON object"),
        ("the optimizers are a list", "evaluate", (CHECKPOINT,),
         header_edited(lambda h: json.dumps(h | {"optimizers": [h["optimizers"]]})),
         "optimizers: expected a JSON object of optimizer states by name (strings without '/'), "
         "got a list of 1"),
        ("the config is a list", "generate", (CHECKPOINT,),
         edited(lambda c: c["meta"].update(config=[1, 2])),
         "meta.config: expected a JSON object, got a list of 2"),
        ("the config is a list", "evaluate", (CHECKPOINT,),
         edited(lambda c: c["meta"].update(config=[1, 2])),
         "meta.config: expected a JSON object, got a list of 2"),
        ("the config is a list", "train_cifar", RESUME,
         edited(lambda c: c["meta"].update(config=[1, 2])),
         "meta.config: expected a JSON object, got a list of 2"),
        ("a 1-D history", "train_cifar", RESUME,
         edited(lambda c: c["arrays"].update(history=np.zeros(7))),
         "arrays/history: expected a 2-D float array (rows, columns), got a float64 array of "
         "shape (7,)"),
        ("a history of another version's columns", "train_cifar", RESUME,
         edited(lambda c: c["arrays"].update(history=c["arrays"]["history"][:, :5])),
         "arrays/history: expected 7 columns (step, epoch, loss_D, loss_G, D_x, D_G_z, "
         "images_per_s), got 5"),
        ("grad norms of another model", "train_cifar", RESUME,
         edited(lambda c: c["arrays"].update(grad_norms=np.zeros((2, 3)))),
         "arrays/grad_norms: expected 21 columns (G/main.0.weight, G/main.1.weight, "
         "G/main.1.bias, G/main.2.weight, G/main.3.weight, G/main.3.bias, G/main.4.weight, ...), "
         "got 3"),
        ("a negative step", "train_cifar", RESUME, edited(lambda c: c["meta"].update(step=-3)),
         "meta.step: expected an int >= 0, got -3"),
        ("a string learning rate in an optimizer's state", "train_cifar", RESUME,
         edited(lambda c: c["optimizers"]["opt_G"].update(lr="0.0002")),
         "optimizers.opt_G.lr: expected a number > 0, got the string '0.0002'"),
        ("a string learning rate in the config", "train_cifar", RESUME,
         edited(lambda c: c["meta"]["config"].update(lr="0.0002")),
         "meta.config.lr: expected a finite number, got the string '0.0002'"),
        ("a string nz in the config", "generate", (CHECKPOINT,),
         edited(lambda c: c["meta"]["config"].update(nz="8")),
         "meta.config.nz: expected an int >= 1, got the string '8'"),
        ("three Adam betas", "train_cifar", RESUME,
         edited(lambda c: c["optimizers"]["opt_D"].update(betas=[0.5, 0.9, 0.1])),
         "optimizers.opt_D.betas: expected a list of 2 numbers in [0, 1), got a list of 3"),
        ("a header nested 100,000 lists deep", "evaluate", (CHECKPOINT,),
         header_edited(lambda h: "[" * 100_000 + "]" * 100_000),
         "__header__: expected tinygan's JSON header, got text that is not JSON"),
    ]
    rows = [Fault("27.9", fault, script, args, says=f"{CHECKPOINT}: {says}", prepare=prepare,
                  unchanged=("../run/checkpoint.npz",), reads="checkpoint")
            for fault, script, args, prepare, says in faults]
    return rows + [
        Fault("27.9", "an array's header declares 8 TiB, its data is 112 bytes", "evaluate",
              (CHECKPOINT,), says=f"{CHECKPOINT}: arrays/history.npy: expected the "
                                  "8,796,093,022,208 bytes of a float64 array of shape "
                                  "(1099511627776,) after its header, got 112",
              prepare=with_huge_history, max_rss_mb=PEAK_MB, reads="checkpoint")]


# --- 31 PyTorch weights: a pickle that runs code, a storage larger than its member -----------

class RunsCode:
    """Unpickling it would run ``touch MARKER``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def torch_file(pickled, storage=b""):
    """prepare: {tmp}/netG.pth laid out as torch.save writes, its pickle ``pickled(tmp)``."""
    def prepare(tmp):
        with zipfile.ZipFile(tmp / "netG.pth", "w") as archive:
            archive.writestr("netG/data.pkl", pickled(tmp))
            archive.writestr("netG/data/0", storage)
    return prepare


def nothing_ran(tmp, printed):
    assert not (tmp / "ran").exists(), "the pickle ran its command"


def torch_rows():
    four_floats = (b"\x80\x02(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00"
                   b"0X\x03\x00\x00\x00cpuK\x04tQ.")  # a persistent id: storage 0, 4 floats
    return [Fault("31", "PyTorch weights whose pickle calls os.system", "generate",
                  ("{tmp}/netG.pth",), says="refused: the pickle asks for posix.system",
                  prepare=torch_file(lambda tmp: pickle.dumps({"w": RunsCode(tmp / "ran")},
                                                              protocol=2)),
                  holds=nothing_ran, reads="pytorch weights"),
            Fault("31", "a storage declares 16 bytes, its member holds 8", "evaluate",
                  ("{tmp}/netG.pth",), says="storage 0: declares 4 FloatStorage elements, but "
                                            "its member holds 8 bytes",
                  prepare=torch_file(lambda tmp: four_floats, b"\0" * 8),
                  reads="pytorch weights")]


FAULTS = cache_rows() + bomb_rows() + checkpoint_rows() + torch_rows()
