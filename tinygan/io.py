"""Files: atomic writes, run folders (probe, lock, stale temporaries), and checkpoints of
modules and optimizers as one .npz file."""
import contextlib
import errno
import fcntl
import fnmatch
import json
import math
import os
import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import schema

CHECKPOINT_FORMAT = 1
NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}


LOCK_NAME = ".lock"
LOCK_BYTES = 20  # the most a lock file holds: a process ID
TEMPORARY = re.compile(r"^\.(?P<name>.+)\.[^.]+\.tmp$")  # atomic_write's .NAME.XXXXXXXX.tmp


class WriteError(OSError):
    """A file that could not be written, named, with the reason (no space, no permission)."""


class FolderBusy(RuntimeError):
    """Another process holds a folder's lock."""


def _write_error(path, error):
    """A WriteError naming ``path``, with the free space where it is about space."""
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC:
        reason += f" ({free_space(path.parent)} free)"
    failure = WriteError(f"cannot write {path}: {reason}")
    failure.errno = error.errno
    return failure


def free_space(folder):
    """The free space of the file system holding ``folder``, e.g. '1.2 GB' ('unknown' if none)."""
    try:
        return f"{shutil.disk_usage(folder).free / 1e9:.1f} GB"
    except OSError:
        return "unknown"


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file beside ``path``; rename it onto ``path`` only if the block succeeds.

    A failure to create, write or rename raises WriteError naming ``path``; ``path`` is then
    left as it was.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".tmp")
    except OSError as error:
        raise _write_error(path, error) from None
    try:
        os.chmod(temporary, 0o644)  # mkstemp makes it private (0o600); make it an ordinary file
        with os.fdopen(handle, mode, newline=None if "b" in mode else "") as file:
            yield file
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise _write_error(path, error) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_writable(folder):
    """Create ``folder`` if needed and write and remove a probe file in it: WriteError if any
    of that fails (a read-only folder, a regular file in the way, a full disk)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise WriteError(f"cannot write to {folder}: it is a file, not a folder")
    with atomic_write(folder / ".probe") as file:
        file.write(b"probe")
    (folder / ".probe").unlink()


@contextlib.contextmanager
def folder_lock(folder):
    """Hold an exclusive lock on ``folder`` for the block (flock on folder/.lock, which holds
    our PID): FolderBusy names the PID of a live holder. The lock of a process that died
    (kill -9 included) is released by the kernel, so it is simply taken over. A .lock that is
    not a lock file (a symbolic link, a folder, a file of someone's) is a WriteError, and left
    as it is."""
    path = Path(folder) / LOCK_NAME
    with _open_lock(path) as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read().decode(errors="replace").strip() or "unknown"
            raise FolderBusy(f"another run (PID {holder}) is writing to {folder}; wait for it, "
                             "or give this one another --out") from None
        file.seek(0)
        file.truncate()
        file.write(str(os.getpid()).encode())
        file.flush()
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def _open_lock(path):
    """The lock file ``path``, opened (created if absent) for reading and writing without
    following a symbolic link; WriteError for anything that is not a lock file, left as is."""
    move_it = "; a lock must be a file of its own: move that away"
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    except OSError as error:
        if path.is_symlink():
            raise WriteError(f"{path} is a symbolic link (to {os.readlink(path)}), not a lock "
                             f"file{move_it}") from None
        if path.is_dir():
            raise WriteError(f"{path} is not a file but a folder{move_it}") from None
        raise _write_error(path, error) from None
    file = os.fdopen(handle, "rb+")
    why = _not_a_lock(file)
    if why:
        file.close()
        raise WriteError(f"{path} is not a lock file ({why}){move_it}")
    return file


def _not_a_lock(file):
    """Why the open ``file`` is not a lock file, or None: a lock is a regular file of one name
    that holds nothing or a process ID."""
    status = os.fstat(file.fileno())
    if not stat.S_ISREG(status.st_mode):
        return "not a regular file"
    if status.st_nlink != 1:
        return f"it has {status.st_nlink} names (hard links)"
    held = file.read(LOCK_BYTES + 1)
    if len(held) > LOCK_BYTES or held.strip() and not held.strip().isdigit():
        return "it holds something other than a process ID"
    return None


def remove_stale_temporaries(folder, patterns):
    """Delete atomic_write's leftovers (.NAME.XXXXXXXX.tmp) of files whose NAME matches one of
    ``patterns`` (fnmatch), left by writes that were killed; returns how many. Call it while
    holding the folder's lock, so that no live write loses its file."""
    removed = 0
    for path in Path(folder).glob(".*.tmp"):
        match = TEMPORARY.match(path.name)
        if match and any(fnmatch.fnmatchcase(match["name"], p) for p in patterns):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def save_checkpoint(path, modules, optimizers, meta, arrays=None):
    """Write modules' state dicts, optimizers' states, extra arrays and JSON ``meta`` atomically."""
    flat = {f"{name}/{key}": value.numpy() if hasattr(value, "numpy") else np.asarray(value)
            for name, m in modules.items() for key, value in m.state_dict().items()}
    optimizer_meta = {}
    for name, opt in optimizers.items():
        # tinygan's optimizers give the layout below through checkpoint_state (state_dict is
        # PyTorch's); an object with state_dict alone gives it there
        state = getattr(opt, "checkpoint_state", opt.state_dict)()
        optimizer_meta[name] = {k: v for k, v in state.items() if k != "state"}
        optimizer_meta[name]["scalars"] = [  # per parameter: its numbers here, arrays in flat
            None if s is None else {k: v for k, v in s.items() if not hasattr(v, "shape")}
            for s in state["state"]]
        for i, s in enumerate(state["state"]):
            for key, value in (s or {}).items():
                if hasattr(value, "shape"):
                    flat[f"{name}/{key}/{i}"] = value
    for key, value in (arrays or {}).items():
        flat[f"arrays/{key}"] = value
    header = {"format": CHECKPOINT_FORMAT, "modules": list(modules), "optimizers": optimizer_meta,
              "meta": meta}
    with atomic_write(path) as file:
        np.savez(file, __header__=np.array(json.dumps(header)), **flat)


def refuse_unreadable(path, reader):
    """Refuse in one line naming ``reader`` a ``path`` that is missing, a folder, or not a
    regular file (a device such as /dev/zero, a pipe: reading one may never end)."""
    if path.is_dir():
        raise IsADirectoryError(f"{reader}: {path} is a folder, not a file")
    if not path.exists():
        raise FileNotFoundError(f"{reader}: no such file: {path}")
    if not path.is_file():
        raise ValueError(f"{reader}: {path} is not a regular file (a device, a pipe or a socket)")


def load_checkpoint(path):
    """Read a checkpoint, checked against tinygan.schema (the sizes its members declare, then
    its header and its arrays' names, dtypes and shapes) before any array is read:

    {"meta", "modules": {name: state dict}, "optimizers": {...}, "arrays": {...}}.
    """
    path = Path(path)
    if path.is_dir():
        raise FileNotFoundError(f"{path} is a folder; give the checkpoint file in it "
                                f"(e.g. {path / 'checkpoint.npz'})")
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    refuse_unreadable(path, "checkpoint")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not a tinygan checkpoint (not a .npz archive at all)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            members = npz.zip.infolist()
            schema.check_members(path, members, path.stat().st_size)
            declared = {member.filename[:-len(".npy")]: _declared(path, npz.zip, member)
                        for member in members}
            if "__header__" not in declared:
                raise schema.CheckpointError(f"{path}: a .npz archive, but not a tinygan "
                                             "checkpoint (it has no tinygan header)")
            schema.HEADER.check(path, "__header__", declared.pop("__header__"))
            try:
                header = json.loads(str(npz["__header__"]))
            except (ValueError, RecursionError):
                raise schema.CheckpointError(f"{path}: __header__: expected tinygan's JSON "
                                             "header, got text that is not JSON") from None
            schema.check_header(path, header, declared, CHECKPOINT_FORMAT)
            flat = {key: npz[key] for key in declared}
    except schema.CheckpointError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"{path}: a damaged .npz archive ({type(error).__name__}); not a "
                         "readable tinygan checkpoint") from None

    def under(prefix):
        return {k[len(prefix) + 1:]: v for k, v in flat.items() if k.startswith(prefix + "/")}

    optimizers = {}
    for name, info in header["optimizers"].items():
        arrays = {tuple(k.rsplit("/", 1)): v for k, v in under(name).items()}  # (key, index)
        scalars = info["scalars"]
        state = [None if numbers is None else
                 numbers | {key: v for (key, index), v in arrays.items() if index == str(i)}
                 for i, numbers in enumerate(scalars)]
        optimizers[name] = {k: v for k, v in info.items() if k != "scalars"} | {"state": state}
    return {"meta": header["meta"], "modules": {name: under(name) for name in header["modules"]},
            "optimizers": optimizers, "arrays": under("arrays")}


def _declared(path, archive, member):
    """The schema.Array that a .npz member's .npy header declares, its data unread; a
    CheckpointError naming the member unless the header declares the member's size."""
    with archive.open(member) as stream:
        try:
            return declared_array(stream, member.file_size)
        except ValueError as error:
            raise schema.CheckpointError(f"{path}: {member.filename}: {error}") from None


def declared_array(stream, size):
    """The shape and dtype (a schema.Array) that a .npy stream of ``size`` bytes declares, from
    its header alone; ValueError unless NumPy wrote that header and it declares exactly the
    bytes that follow it."""
    version = np.lib.format.read_magic(stream)
    if version not in NPY_HEADERS:
        raise ValueError(f"expected a .npy header of version 1.0 or 2.0, got version {version}")
    shape, _, dtype = NPY_HEADERS[version](stream)
    if dtype.hasobject:
        raise ValueError(f"expected an array of numbers, got one of Python objects ({dtype})")
    expected, got = math.prod(shape) * dtype.itemsize, size - stream.tell()
    if expected != got:
        raise ValueError(f"expected the {expected:,} bytes of a {dtype} array of shape {shape} "
                         f"after its header, got {got:,}")
    return schema.Array(shape, dtype)


def load_training_checkpoint(path, config_type=None):
    """load_checkpoint for a train_cifar.py checkpoint, checked by schema.check_training: a
    ValueError unless it holds G, D, their optimizers, the step, the history and a config whose
    settings are ``config_type``'s (a dataclass; where not given, those that its readers use)."""
    checkpoint = load_checkpoint(path)
    schema.check_training(path, checkpoint, config_type)
    return checkpoint
