"""Files: atomic writes, and checkpoints of modules and optimizers as one .npz file."""
import contextlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

CHECKPOINT_FORMAT = 1


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file beside ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temporary, 0o644)  # mkstemp makes it private (0o600); make it an ordinary file
        with os.fdopen(handle, mode, newline=None if "b" in mode else "") as file:
            yield file
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def save_checkpoint(path, modules, optimizers, meta, arrays=None):
    """Write modules' state dicts, optimizers' states, extra arrays and JSON ``meta`` atomically."""
    flat = {f"{name}/{key}": value for name, m in modules.items()
            for key, value in m.state_dict().items()}
    optimizer_meta = {}
    for name, opt in optimizers.items():
        state = opt.state_dict()
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


def load_checkpoint(path):
    """Read a checkpoint:

    {"meta", "modules": {name: state dict}, "optimizers": {...}, "arrays": {...}}.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            flat = {key: f[key] for key in f.files}
        header = json.loads(str(flat.pop("__header__")))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"{path}: not a readable tinygan checkpoint ({error})") from None
    if header.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: checkpoint format {header.get('format')}, "
                         f"this tinygan reads format {CHECKPOINT_FORMAT}")

    def under(prefix):
        return {k[len(prefix) + 1:]: v for k, v in flat.items() if k.startswith(prefix + "/")}

    optimizers = {}
    for name, info in header["optimizers"].items():
        arrays = {tuple(k.rsplit("/", 1)): v for k, v in under(name).items()}  # (key, index)
        scalars = info.get("scalars") or [  # checkpoints before RMSprop kept Adam's step alone
            None if step is None else {"step": step} for step in info["steps"]]
        state = [None if numbers is None else
                 numbers | {key: v for (key, index), v in arrays.items() if index == str(i)}
                 for i, numbers in enumerate(scalars)]
        extra = ("scalars", "steps")
        optimizers[name] = {k: v for k, v in info.items() if k not in extra} | {"state": state}
    return {"meta": header["meta"], "modules": {name: under(name) for name in header["modules"]},
            "optimizers": optimizers, "arrays": under("arrays")}
