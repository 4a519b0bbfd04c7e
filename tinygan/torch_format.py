"""PyTorch's torch.save files read without PyTorch and without running their pickle.

A torch.save file (PyTorch 1.6 and later) is a zip archive: NAME/data.pkl, the pickled object,
whose tensors point to raw storages NAME/data/KEY, in the byte order NAME/byteorder says. The
pickle is read by a restricted Unpickler that builds only ordered dicts, sizes and tensors (by
tinygan's own functions, from the storages' bytes): any other class or function it asks for is
refused in one line naming it, before anything is called. What it returns must be dicts of
tensors and numbers. Every storage's declared size is checked against its member before it is
read, and every tensor's offset, shape and strides against its storage.
"""
import collections
import math
import pickle
import warnings
import zipfile

import numpy as np

from . import schema

DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
          "BFloat16Storage": "bfloat16", "LongStorage": np.int64, "IntStorage": np.int32,
          "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
          "BoolStorage": np.bool_}
"""torch.<X>Storage: the NumPy dtype of its elements (bfloat16 is read as float32)."""


class Refused(schema.CheckpointError):
    """A torch.save file whose pickle asks for something a state dict does not need."""


class _StorageType:
    """What torch.FloatStorage and its kind stand for in the pickle: a dtype; not callable."""

    def __init__(self, name):
        self.name, self.dtype = name, DTYPES[name]


class _Storage:
    """A storage the pickle points to: its elements (a 1-D array), whether they were bfloat16,
    and the device it was saved from ('cpu' or 'cuda')."""

    __slots__ = ("array", "bfloat16", "device")

    def __init__(self, array, bfloat16, device):
        self.array, self.bfloat16, self.device = array, bfloat16, device


class _Tensor(_Storage):
    """A tensor the pickle rebuilt: its array, read from a storage."""

    __slots__ = ()


def is_torch_file(path):
    """Whether ``path`` is a zip archive holding a pickle, as torch.save writes."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _pickle_member(archive) is not None
    except (OSError, zipfile.BadZipFile):
        return False


def _pickle_member(archive):
    """The archive's NAME/data.pkl member, or None."""
    return next((m for m in archive.infolist()
                 if m.filename.endswith("/data.pkl") and m.filename.count("/") == 1), None)


def read(file, name, make):
    """The object a torch.save zip archive ``file`` holds: dicts of numbers and of what
    make(array, saved device, where) makes of each tensor."""
    size = file.seek(0, 2)
    file.seek(0)
    with zipfile.ZipFile(file) as archive:
        members = {m.filename: m for m in archive.infolist()}
        _check_sizes(name, members.values(), size)
        data = _pickle_member(archive)
        if data is None:
            raise schema.CheckpointError(f"{name}: a zip archive without NAME/data.pkl, not a "
                                         "file torch.save wrote")
        prefix = data.filename[:-len("data.pkl")]
        order = archive.read(members[prefix + "byteorder"]).decode() \
            if prefix + "byteorder" in members else "little"
        if order not in ("little", "big"):
            raise schema.CheckpointError(f"{name}: {prefix}byteorder: expected 'little' or "
                                         f"'big', got {order[:20]!r}")
        try:
            obj = _Unpickler(archive.open(data), name, archive, members, prefix, order).load()
        except _Problem as error:
            raise Refused(f"{name}: refused: {error}") from None
        except schema.CheckpointError:
            raise
        except (pickle.UnpicklingError, TypeError, ValueError, KeyError, AttributeError,
                IndexError, OverflowError, EOFError) as error:
            raise schema.CheckpointError(f"{name}: {data.filename}: a damaged pickle, or not "
                                         f"a state dict ({type(error).__name__}: "
                                         f"{str(error)[:80]})") from None
        bfloat16 = []
        obj = _checked(name, obj, "obj", make, bfloat16)
        if bfloat16:
            warnings.warn(f"{name}: bfloat16 tensors read as float32 (NumPy has no bfloat16; "
                          f"the values are exact): {', '.join(bfloat16[:5])}", stacklevel=4)
        return obj


def _check_sizes(name, members, size):
    """Refuse members that declare more bytes than the file has, or inflate beyond the limit."""
    for member in members:
        if member.compress_type == zipfile.ZIP_STORED and member.file_size != \
                member.compress_size:
            raise schema.CheckpointError(f"{name}: {member.filename}: a stored member that "
                                         f"declares {member.file_size:,} bytes in "
                                         f"{member.compress_size:,}")
    if sum(m.compress_size for m in members) > size:
        raise schema.CheckpointError(f"{name}: its members declare more bytes than the file's "
                                     f"{size:,}")
    if sum(m.file_size for m in members if m.compress_type != zipfile.ZIP_STORED) \
            > schema.MAX_INFLATED_BYTES:
        raise schema.CheckpointError(f"{name}: its compressed members inflate beyond "
                                     f"{schema.MAX_INFLATED_BYTES:,} bytes")


def _checked(name, obj, where, make, bfloat16):
    """``obj`` as plain dicts of numbers and tensors made by ``make`` (the places of bfloat16
    tensors added to ``bfloat16``); anything else refused in one line."""
    if isinstance(obj, _Tensor) and type(obj.array) is np.ndarray:
        if obj.bfloat16:
            bfloat16.append(where)
        return make(obj.array, obj.device, where)
    if isinstance(obj, (bool, int, float)) or obj is None:
        return obj
    if isinstance(obj, dict):
        bad = next((k for k in obj if not isinstance(k, (str, int))), None)
        if bad is not None:
            raise Refused(f"{name}: {where} has a key of type {type(bad).__name__}; expected "
                          "a dict of tensors and numbers")
        return {k: _checked(name, v, f"{where}[{k!r}]", make, bfloat16)
                for k, v in obj.items()}
    raise Refused(f"{name}: {where} is a {type(obj).__name__}; tinygan reads only dicts of "
                  "tensors and numbers from PyTorch files")


class _Problem(Exception):
    """What is wrong with a tensor or storage the pickle describes (the file named later)."""


def _rebuild_tensor(storage, offset, size, stride, *_):
    """torch._utils._rebuild_tensor_v2: the elements of ``storage`` at ``offset`` with
    ``size`` and ``stride``, checked to lie within it, copied."""
    if not (isinstance(storage, _Storage) and isinstance(size, tuple)
            and isinstance(stride, tuple) and len(size) == len(stride)
            and all(type(n) is int and n >= 0 for n in (offset, *size, *stride))):
        raise _Problem(f"a tensor of offset {offset!r}, size {size!r} and stride {stride!r}")
    array = storage.array
    if not math.prod(size):
        return _Tensor(np.zeros(size, array.dtype), storage.bfloat16, storage.device)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= array.size:
        raise _Problem(f"a tensor of size {size}, stride {stride} and offset {offset} reaches "
                       f"element {last:,} of a storage of {array.size:,}")
    view = np.lib.stride_tricks.as_strided(array[offset:], size,
                                           [s * array.itemsize for s in stride], writeable=False)
    return _Tensor(np.array(view), storage.bfloat16, storage.device)


def _rebuild_parameter(data, *_):
    """torch._utils._rebuild_parameter: the tensor itself."""
    return data


ALLOWED = {("collections", "OrderedDict"): collections.OrderedDict,
           ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
           ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
           ("torch", "Size"): tuple}
ALLOWED |= {("torch", storage): _StorageType(storage) for storage in DTYPES}


class _Unpickler(pickle.Unpickler):
    """Builds only what ALLOWED names; storages come from the archive, each read once."""

    def __init__(self, stream, name, archive, members, prefix, order):
        super().__init__(stream)
        self.name, self.archive, self.members = name, archive, members
        self.prefix, self.order = prefix, order
        self.storages = {}

    def find_class(self, module, qualname):
        if (module, qualname) not in ALLOWED:
            raise _Problem(f"the pickle asks for {module}.{qualname}, which a state dict does "
                           "not need (a pickle can run code)")
        return ALLOWED[module, qualname]

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
                and isinstance(pid[4], int) and pid[4] >= 0):
            raise _Problem(f"a persistent id {str(pid)[:60]}, not a storage")
        _, kind, key, location, count = pid
        saved = "cuda" if str(location).startswith("cuda") else "cpu"
        if (key, kind.name, count) not in self.storages:
            self.storages[key, kind.name, count] = self.storage(kind, key, count)
        array, bfloat16 = self.storages[key, kind.name, count]
        return _Storage(array, bfloat16, saved)

    def storage(self, kind, key, count):
        """The 1-D array of storage ``key`` (``count`` elements of ``kind``), and whether they
        were bfloat16."""
        member = self.members.get(f"{self.prefix}data/{key}")
        bfloat16 = kind.dtype == "bfloat16"
        dtype = np.dtype(np.uint16 if bfloat16 else kind.dtype)
        if member is None or count * dtype.itemsize > member.file_size:
            raise schema.CheckpointError(
                f"{self.name}: storage {key}: declares {count:,} {kind.name} elements, but "
                f"its member holds {0 if member is None else member.file_size:,} bytes")
        raw = self.archive.read(member)[:count * dtype.itemsize]
        array = np.frombuffer(raw, dtype.newbyteorder("<" if self.order == "little" else ">"))
        array = array.astype(dtype.newbyteorder("="))
        if bfloat16:
            array = (array.astype(np.uint32) << 16).view(np.float32)
        return array, bfloat16
