"""tinygan.save and tinygan.load, as torch.save and torch.load for what a checkpoint holds:
state dicts and nested dicts, lists and tuples of tensors, NumPy arrays, numbers, strings, None
and bools. No pickle (a file from the internet must not run code): the file is a .npz archive
(NumPy's format, read with allow_pickle=False) of the arrays, with a JSON header of the
structure, written atomically; its declared sizes are checked before anything is read.

A path ending in .safetensors is written and read as safetensors (a flat dict of tensors, the
format Hugging Face and PyTorch users share), and load reads the state dicts of PyTorch's
torch.save files without running their pickle (tinygan.torch_format)."""
import json
import numbers
import os
import struct
import zipfile
from pathlib import Path

import numpy as np

from . import io, schema, torch_format
from .devices import device
from .tensor import Tensor, tensor

HEADER = "__tinygan_save__"  # the .npz member holding the JSON structure
FORMAT = 1
KEY_TYPES = (str, int, float, bool, type(None))  # the dict keys JSON can hold as values


def save(obj, f, pickle_module=None, pickle_protocol=None):
    """Write ``obj`` to ``f`` (a path, written atomically, or a binary file object)."""
    if pickle_module is not None:
        raise TypeError("tinygan.save: pickle_module is not supported (tinygan writes no "
                        "pickles)")
    if not hasattr(f, "write") and os.fspath(f).endswith(".safetensors"):
        _save_safetensors(obj, Path(f))
        return
    arrays = []
    structure = _encode(obj, arrays, "obj")
    members = {str(i): array for i, array in enumerate(arrays)}
    header = np.array(json.dumps({"format": FORMAT, "obj": structure}))
    if hasattr(f, "write"):
        np.savez(f, **{HEADER: header}, **members)
        return
    with io.atomic_write(os.fspath(f)) as file:
        np.savez(file, **{HEADER: header}, **members)


def _safetensors():
    """The safetensors library's NumPy API and its error type; ImportError saying how to
    install it."""
    try:
        import safetensors
        import safetensors.numpy
    except ImportError:
        raise ImportError("tinygan: .safetensors files need the safetensors library: pip "
                          "install safetensors (or tinygan's extra: pip install -e "
                          "'.[interop]')") from None
    return safetensors.numpy, safetensors.SafetensorError


def _save_safetensors(obj, path):
    """Write the flat dict of tensors ``obj`` to ``path`` as safetensors, atomically."""
    numpy_api, _ = _safetensors()
    bad = _not_flat(obj)
    if bad:
        raise TypeError(f"tinygan.save: {path}: safetensors holds only a flat dict of tensors "
                        f"(str -> Tensor of numbers), and {bad}")
    data = numpy_api.save({key: _c_ordered(value) for key, value in obj.items()})
    with io.atomic_write(path) as file:
        file.write(data)


def _c_ordered(value):
    """A Tensor's or array's values on the host, C-ordered, in its own shape (a 0-d one stays
    0-d: np.ascontiguousarray would make it (1,))."""
    return np.asarray(value.detach().cpu().numpy() if isinstance(value, Tensor) else value,
                      order="C")


def _not_flat(obj):
    """What keeps ``obj`` from being a flat dict of tensors of numbers, in words; or None."""
    if not isinstance(obj, dict):
        return f"obj is a {type(obj).__name__}"
    for key, value in obj.items():
        if not isinstance(key, str):
            return f"obj has the key {key!r} of type {type(key).__name__}"
        if not isinstance(value, (Tensor, np.ndarray)) or value.dtype.kind not in "biuf":
            return f"obj[{key!r}] is a {type(value).__name__}" + (
                f" of {value.dtype}" if hasattr(value, "dtype") else "")
    return None


def _encode(obj, arrays, where):
    """The JSON form of ``obj``: scalars as they are, containers and arrays as {tag: ...}."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (np.ndarray, np.generic)):
        if obj.dtype.hasobject:
            raise TypeError(f"tinygan.save: {where} is a NumPy array of Python objects; only "
                            "arrays of numbers can be stored")
        arrays.append(np.asarray(obj))
        return {"ndarray" if isinstance(obj, np.ndarray) else "scalar": len(arrays) - 1}
    if isinstance(obj, (numbers.Integral, float)):
        return int(obj) if isinstance(obj, numbers.Integral) else float(obj)
    if isinstance(obj, Tensor):
        arrays.append(obj.detach().cpu().numpy())
        return {"tensor": len(arrays) - 1, "device": obj.device,
                "requires_grad": obj.requires_grad}
    if isinstance(obj, dict):
        bad = next((k for k in obj if not isinstance(k, KEY_TYPES)), None)
        if bad is not None:
            raise TypeError(f"tinygan.save: {where} has the key {bad!r} of type "
                            f"{type(bad).__name__}; keys must be strings, numbers, bools or None")
        return {"dict": [[k, _encode(v, arrays, f"{where}[{k!r}]")] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return {"tuple" if isinstance(obj, tuple) else "list":
                [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    if hasattr(obj, "state_dict"):
        raise TypeError(f"tinygan.save: {where} is a {type(obj).__name__} object, which tinygan "
                        "cannot store (it stores data, never code or objects); save its "
                        "state_dict() instead: tinygan.save(x.state_dict(), f)")
    raise TypeError(f"tinygan.save: {where} is a {type(obj).__name__}; tinygan stores tensors, "
                    "NumPy arrays, numbers, strings, None, bools and dicts, lists and tuples of "
                    "them")


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None):
    """What save wrote to ``f`` (a path or a binary file object), its tensors on the device they
    were saved from or on ``map_location`` ('cpu', 'cuda', 'cuda:0', a tinygan.device, a dict
    from saved device to device, or PyTorch's function of (CPU tensor, saved device)). Nothing
    is unpickled whatever weights_only says: safetensors files give their dict of tensors, and
    PyTorch's torch.save files their dicts of tensors and numbers (tinygan.torch_format)."""
    if pickle_module is not None:
        raise TypeError("tinygan.load: pickle_module is not supported (tinygan reads no pickles)")
    name = getattr(f, "name", "the file object") if hasattr(f, "read") else Path(f)
    if not hasattr(f, "read"):
        io.refuse_unreadable(name, "tinygan.load")
        with open(f, "rb") as file:
            return _load(file, name, map_location)
    return _load(f, name, map_location)


def _load(file, name, map_location):
    """load from an open binary file, its contents checked before they are used."""
    _check_map_location(map_location)
    start = file.read(9)
    file.seek(0, os.SEEK_END)
    size = file.tell()
    file.seek(0)
    if str(name).endswith(".safetensors") or (
            len(start) == 9 and start[8:] == b"{" and struct.unpack("<Q", start[:8])[0] < size):
        return _load_safetensors(file, name, map_location)
    if not start.startswith(b"PK"):
        raise ValueError(f"{name}: {_what(start)}, not a file that tinygan.save wrote")
    try:
        if torch_format.is_torch_file(file):
            return torch_format.read(file, name, lambda array, saved, where: _placed(
                name, map_location, array, saved, where))
        file.seek(0)
        with np.load(file, allow_pickle=False) as npz:
            members = npz.zip.infolist()
            schema.check_members(name, members, size)
            declared = {m.filename[:-len(".npy")]: io._declared(name, npz.zip, m)
                        for m in members}
            if HEADER not in declared:
                raise schema.CheckpointError(f"{name}: {_which_archive(declared)}")
            schema.HEADER.check(name, HEADER, declared.pop(HEADER))
            header = json.loads(str(npz[HEADER]))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise schema.CheckpointError(f"{name}: expected tinygan.save's format {FORMAT}, "
                                             f"got {schema.describe(header)}")
            return _Decoder(name, npz, declared, map_location).decode(header.get("obj"))
    except schema.CheckpointError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, RecursionError) as error:
        raise ValueError(f"{name}: a damaged or foreign file ({type(error).__name__}: "
                         f"{str(error)[:80]}); not one tinygan.save wrote") from None


def _load_safetensors(file, name, map_location):
    """The dict of tensors of the safetensors file ``file``; one line if it is damaged."""
    numpy_api, error_type = _safetensors()
    try:
        arrays = numpy_api.load(file.read())
    except error_type as error:
        raise ValueError(f"{name}: a damaged safetensors file, or not one ({error})") from None
    except KeyError as error:
        raise ValueError(f"{name}: holds tensors of dtype {error}, which NumPy has no dtype "
                         "for; convert them to float32 before saving") from None
    return {k: _placed(name, map_location, a, "cpu", repr(k)) for k, a in arrays.items()}


def _what(start):
    """What a file that is not a zip archive is, from its first bytes."""
    if start[:1] == b"\x80":
        return ("a pickle (PyTorch's legacy torch.save format or Python's pickle), which "
                "tinygan does not unpickle (a pickle can run code)")
    return "not a zip archive"


def _which_archive(declared):
    """What a .npz archive without tinygan.save's header is."""
    if "__header__" in declared:
        return ("a tinygan training checkpoint (tinygan.io.save_checkpoint), not a tinygan.save "
                "file; read it with tinygan.io.load_checkpoint")
    return "a .npz archive, but not one tinygan.save wrote (it has no tinygan.save header)"


class _Decoder:
    """Builds the saved object from the JSON structure, each array read when it is reached."""

    def __init__(self, name, npz, declared, map_location):
        self.name, self.npz, self.declared = name, npz, declared
        self.map_location = map_location

    def fail(self, where, expected, node):
        raise schema.CheckpointError(f"{self.name}: {where}: expected {expected}, got "
                                     f"{schema.describe(node)}")

    def decode(self, node, where="obj"):
        if node is None or isinstance(node, (bool, str, int, float)):
            return node
        if not isinstance(node, dict) or len(set(node) - {"device", "requires_grad"}) != 1:
            self.fail(where, "a value or one tagged container", node)
        tag = next(k for k in node if k not in ("device", "requires_grad"))
        value = node[tag]
        if tag in ("list", "tuple") and isinstance(value, list):
            items = [self.decode(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return items if tag == "list" else tuple(items)
        if tag == "dict" and isinstance(value, list) and all(
                isinstance(p, list) and len(p) == 2 and isinstance(p[0], KEY_TYPES)
                for p in value):
            return {k: self.decode(v, f"{where}[{k!r}]") for k, v in value}
        if tag in ("tensor", "ndarray", "scalar") and str(value) in self.declared:
            array = self.npz[str(value)]
            if tag == "ndarray":
                return array
            if tag == "scalar":
                return array[()]
            return self.tensor(array, node, where)
        return self.fail(where, "a list, tuple, dict, tensor or array saved by tinygan.save",
                         node)

    def tensor(self, array, node, where):
        """A tensor of ``array`` on its device (map_location's where given)."""
        if array.dtype.kind not in "biuf":
            self.fail(where, "a tensor of numbers", array)
        saved = node.get("device", "cpu")
        if saved not in ("cpu", "cuda"):
            self.fail(f"{where}.device", "'cpu' or 'cuda'", saved)
        made = _placed(self.name, self.map_location, array, saved, where)
        return made.requires_grad_() if node.get("requires_grad") is True else made


def _check_map_location(map_location):
    """Refuse in one line a map_location that is no device, dict or function."""
    if map_location is not None and not isinstance(map_location, (str, dict)) \
            and not callable(map_location):
        raise TypeError(f"tinygan.load: map_location must be a device ('cpu', 'cuda', "
                        f"'cuda:0', a tinygan.device), a dict of them or a function, got "
                        f"{type(map_location).__name__}")


def _placed(name, target, array, saved, where):
    """A tensor of ``array`` where map_location ``target`` puts tensors saved on ``saved``: a
    device, a dict's entry for it, or PyTorch's map_location(storage, location) called with a
    CPU tensor (the idiom ``lambda storage, loc: storage`` keeps it there)."""
    if callable(target):
        made = target(tensor(array), saved)
        if not isinstance(made, Tensor):
            raise TypeError(f"tinygan.load: {where}: map_location(tensor, {saved!r}) must "
                            f"return a tensor, got {type(made).__name__}")
        return made
    if isinstance(target, dict):
        target = target.get(saved, target.get(f"{saved}:0", saved))
    try:
        return tensor(array, device=device(saved if target is None else target))
    except RuntimeError as error:
        raise RuntimeError(f"tinygan.load: {name} holds tensors saved on {saved} and none can "
                           f"be made there ({error}); pass map_location='cpu'") from None
