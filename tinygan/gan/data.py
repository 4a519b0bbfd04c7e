"""Image data for the DCGAN: CIFAR-10, image folders and tar archives, as cached uint8 arrays.

Every loader returns uint8 (N, 3, S, S); load_labels gives the matching int64 (N,) class labels.
Decoded images are cached as a .npy file next to the source (or in ~/.cache/tinygan/ when that
folder is not writable); the cache file name holds the split, the size and a hash of the source's
path, sizes and modification times.
"""
import glob
import hashlib
import http.client
import io
import json
import numbers
import os
import pickle
import tarfile
import urllib.request
import warnings
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..io import atomic_write, declared_array
from ..schema import MISSING, describe

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_TARBALL = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
CIFAR10_SIDE = 32
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                   "truck")
SPLITS = ("train", "test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")
CACHE_SUFFIX = ".uint8.npy"
SIDECAR_SUFFIX = ".json"
FALLBACK_ARCHIVE = Path(__file__).parent.parent / "assets" / "cifar10-jpeg.tar.gz"
USER_CACHE_DIR = Path.home() / ".cache" / "tinygan"
CONNECT_TIMEOUT_S = 10
CHUNK_BYTES = 1 << 20
MAX_FILE_BYTES = 256 << 20  # one image or batch file read into memory (CIFAR-10's batches: 31 MB)
MAX_PIXELS = 50_000_000  # an image decoded, or resized to its shorter side S before the crop
SUPPORTED_SOURCES = ("a CIFAR-10 python release (cifar-10-python.tar.gz, or a folder holding "
                     "data_batch_1..5 and test_batch), a folder of .png/.jpg/.jpeg images, "
                     "or a .tar/.tar.gz/.tgz archive of such a folder")
READ_ERRORS = (OSError, EOFError, tarfile.TarError, zlib.error)
IMAGE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)
DOWNLOAD_ERRORS = (OSError, http.client.HTTPException)
# What _save_cache writes beside a cache: {field: (its type, words for error messages)}.
SIDECAR_FIELDS = {"crc32": (int, "an int"), "shape": (list, "a list"),
                  "source_bytes": (int, "an int"), "source_mtime_ns": (int, "an int"),
                  "skipped": (list, "a list")}
# The globals that pickles of dicts, bytes and NumPy arrays need (protocols 2 to 5, NumPy 1 and 2).
PICKLE_GLOBALS = {("_codecs", "encode"), ("numpy", "ndarray"), ("numpy", "dtype")} | {
    (f"{package}.{module}", name) for package in ("numpy.core", "numpy._core")
    for module, name in [("multiarray", "_reconstruct"), ("multiarray", "scalar"),
                         ("numeric", "_frombuffer")]}


class DataError(ValueError):
    """A data source that is missing, corrupt or not in a supported format."""


class _NumpyUnpickler(pickle.Unpickler):
    """An unpickler that builds only plain Python values and NumPy arrays, never other objects."""

    def find_class(self, module, name):
        """Allow the few globals that array pickles need; refuse everything else."""
        if (module, name) in PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load the global {module}.{name}")


def load_images(path, image_size=32, split="train", skip_bad_images=False, log=print):
    """Images from a CIFAR-10 release, an image folder or a tar archive: uint8 (N, 3, S, S).

    An image file that cannot be decoded is a DataError naming it, unless skip_bad_images:
    then it is left out, and ``log`` says how many and the first few names.
    """
    path = Path(path)
    _check_arguments(image_size, split)
    files, prefix = _source(path)
    if prefix is None:
        return _cached(path, image_size, split,
                       lambda: _images_from_files(files, path, image_size, split,
                                                  skip_bad_images), skip_bad_images, log)
    return _cached(path, image_size, split, lambda: (_resize_all(
        np.concatenate(_cifar_batches(files, path, prefix, split, _batch_images)), image_size),
        []), skip_bad_images, log)


def load_labels(path, split="train"):
    """Class labels int64 (N,) of load_images(path, split=split)'s images, in the same order."""
    path = Path(path)
    _check_split(split)
    files, prefix = _source(path)
    if prefix is None:
        return _labels_from_files(files, path, split, in_archive=path.is_file())
    return np.concatenate(_cifar_batches(files, path, prefix, split, _batch_labels))


def load_cifar10(root=None, image_size=32, split="train", download=True, log=print,
                 with_labels=False):
    """CIFAR-10 uint8 (N, 3, S, S) (+ labels): release under root, else downloaded, else bundled."""
    root = USER_CACHE_DIR / "cifar10" if root is None else Path(root)
    _check_arguments(image_size, split)
    release, reason = _find_release(root, download)
    source = FALLBACK_ARCHIVE if release is None else release
    images = load_images(source, image_size, split, log=log)
    if release is None:
        log(f"data: {reason}; using the bundled JPEG copy {FALLBACK_ARCHIVE} ({len(images):,} "
            f"{split} images; JPEG re-encoding, close to but not identical with the official "
            "pixels)")
    else:
        log(f"data: official CIFAR-10 release at {release} ({len(images):,} {split} images)")
    return (images, load_labels(source, split)) if with_labels else images


def download_file(url, destination, md5):
    """Download url to destination with a progress bar, atomically and md5-checked."""
    destination = Path(destination)
    try:
        with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_S) as response:
            destination.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(destination) as file:
                got = _copy_with_progress(response, file, destination.name)
                _verify_md5(f"download of {url}", md5, got)
    except DOWNLOAD_ERRORS as exc:
        raise DataError(f"cannot download {url}: {getattr(exc, 'reason', exc)}") from None
    return destination


def batches(images, batch_size, rng, drop_last=True):
    """Yield shuffled float32 batches (B, 3, S, S) scaled from uint8 [0, 255] to [-1, 1]."""
    count = len(images)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if drop_last and count < batch_size:
        raise DataError(f"only {count} images, fewer than one batch of {batch_size} "
                        "(drop_last=True)")
    order = rng.permutation(count)
    stop = count - count % batch_size if drop_last else count
    for start in range(0, stop, batch_size):
        yield to_float(images[order[start:start + batch_size]])  # (B, 3, S, S)


def to_float(images):
    """Images as float32 in [-1, 1]: uint8 [0, 255] x -> x / 127.5 - 1 (the inverse of
    to_uint8); float images are taken to be in [-1, 1] already and only cast."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        return images.astype(np.float32, copy=False)
    return images.astype(np.float32) / np.float32(127.5) - np.float32(1)


def to_uint8(images):
    """float [-1, 1] (N, 3, S, S) -> uint8 (N, 3, S, S), clipped (for sample grids)."""
    return np.clip(np.rint((np.asarray(images) + 1) * 127.5), 0, 255).astype(np.uint8)


def _check_arguments(image_size, split):
    """Reject a split other than train/test and an image size that is not a positive int."""
    _check_split(split)
    if not isinstance(image_size, numbers.Integral) or image_size < 1:
        raise ValueError(f"image_size must be a positive int, got {image_size!r}")


def _check_split(split):
    """Reject a split other than train/test."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


def _find_release(root, allow_download):
    """The official release under root (downloaded there if allowed), or None and why not."""
    for candidate in (root / CIFAR10_FOLDER, root / CIFAR10_TARBALL):
        if candidate.exists():
            return candidate, ""
    if not allow_download:
        return None, f"no official CIFAR-10 release in {root} (download off)"
    try:
        return download_file(CIFAR10_URL, root / CIFAR10_TARBALL, CIFAR10_MD5), ""
    except DataError as exc:
        return None, f"no official CIFAR-10 release found in {root} or downloadable ({exc})"


def _source(path):
    """Path's lazy (name, label, read) files, and its batch prefix if a release, else None."""
    if not path.exists():
        raise DataError(f"no such file or folder: {path}")
    if path.is_dir():
        batch_names = [name for names in CIFAR10_BATCHES.values() for name in names]
        is_release = any((path / name).is_file() for name in batch_names)
        return _folder_files(path), "" if is_release else None
    if path.name == CIFAR10_TARBALL:
        return _release_tar_files(path), f"{CIFAR10_FOLDER}/"
    if path.name.lower().endswith(ARCHIVE_SUFFIXES):
        return _tar_files(path), None
    raise DataError(f"{path}: unsupported data source; expected {SUPPORTED_SOURCES}")


def _release_tar_files(tarball):
    """Yield _tar_files(tarball) of cifar-10-python.tar.gz, after an md5 check."""
    _verify_md5(tarball, CIFAR10_MD5, _file_md5(tarball))
    yield from _tar_files(tarball)


def _folder_files(folder):
    """Yield (relative name, label, read bytes) for every file under folder."""
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        label = str(file)
        read = _bounded(file.read_bytes, _read(file.stat, label).st_size, label)
        yield file.relative_to(folder).as_posix(), label, read


def _tar_files(archive):
    """Yield (member name, label, read bytes) for every file of a tar archive, in archive order."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                if member.isfile():
                    label = f"{archive}: {member.name}"
                    read = _bounded(tar.extractfile(member).read, member.size, label)
                    yield str(PurePosixPath(member.name)), label, read
    except READ_ERRORS as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if reason.startswith("file could not be opened successfully"):  # tarfile tried each
            reason = "neither plain tar nor gzip, bzip2 or xz-compressed tar data"
        raise DataError(f"{archive}: not a readable tar archive ({reason})") from None


def _bounded(read, size, label):
    """read, which refuses (a DataError naming label) to read a file whose declared size is
    over MAX_FILE_BYTES."""
    def bounded():
        if size > MAX_FILE_BYTES:
            raise DataError(f"{label}: {size / 2**30:.1f} GiB ({size:,} bytes), more than the "
                            f"{MAX_FILE_BYTES >> 20} MiB that tinygan reads of one image or batch "
                            "file")
        return read()
    return bounded


def _read(read, label):
    """Call read(); a read error becomes a DataError naming label."""
    try:
        return read()
    except READ_ERRORS as exc:
        raise DataError(f"{label}: cannot read ({exc})") from None


def _cifar_batches(files, source, prefix, split, unpack):
    """unpack(raw, label) for each of the split's official batches among (name, label, read)."""
    wanted = [prefix + name for name in CIFAR10_BATCHES[split]]
    found = {name: unpack(_read(read, label), label)
             for name, label, read in files if name in wanted}
    missing = [name for name in wanted if name not in found]
    if missing:
        raise DataError(f"{source}: missing {', '.join(missing)} of the CIFAR-10 {split} split")
    return [found[name] for name in wanted]


def _batch_images(raw, label):
    """The images of one official CIFAR-10 pickle batch: uint8 (N, 3, 32, 32)."""
    return _unpickle_batch(raw, label)[b"data"].reshape(-1, 3, CIFAR10_SIDE, CIFAR10_SIDE)


def _batch_labels(raw, label):
    """The class labels of one official CIFAR-10 pickle batch, one per image: int64 (N,)."""
    batch = _unpickle_batch(raw, label)
    labels, count = batch.get(b"labels"), len(batch[b"data"])
    if isinstance(labels, np.ndarray):
        labels = labels.tolist()
    if not (isinstance(labels, list) and len(labels) == count and all(map(_is_class, labels))):
        raise DataError(f"{label}: expected b'labels' a list of {count} ints in 0..9 (one per "
                        f"image), got {_describe_labels(labels)}")
    return np.array(labels, np.int64)


def _is_class(value):
    """Whether value is a CIFAR-10 class index, an int in 0..9."""
    return isinstance(value, numbers.Integral) and 0 <= value < len(CIFAR10_CLASSES)


def _describe_labels(labels):
    """A short description of a batch's b'labels', for error messages."""
    if labels is None:
        return "none"
    if not isinstance(labels, list):
        return f"a {type(labels).__name__}"
    bad = [value for value in labels if not _is_class(value)]
    return f"a list of {len(labels)}" + (f" holding {bad[0]!r}" if bad else "")


def _unpickle_batch(raw, label):
    """One official CIFAR-10 pickle batch: a dict whose b'data' is checked to be uint8 (N, 3072)."""
    try:
        batch = _NumpyUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as exc:  # a corrupt pickle can fail with almost any exception type
        raise DataError(f"{label}: not a readable pickle ({type(exc).__name__}: {exc})") from None
    data = batch.get(b"data") if isinstance(batch, dict) else None
    if not _is_cifar_data(data):
        raise DataError(f"{label}: expected a dict with b'data' uint8 (N, 3072), "
                        f"got {_describe(batch)}")
    return batch


def _is_cifar_data(data):
    """Whether data is a uint8 (N, 3072) array of flattened 32x32 RGB images."""
    return (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == 3 * CIFAR10_SIDE * CIFAR10_SIDE)


def _describe(batch):
    """A short description of an unpickled object, for error messages."""
    if not isinstance(batch, dict):
        return f"a {type(batch).__name__}"
    data = batch.get(b"data")
    if data is None:
        return f"a dict with keys {sorted(map(repr, batch))}"
    return f"b'data' {getattr(data, 'dtype', type(data).__name__)} {getattr(data, 'shape', '')}"


def _resize_all(images, image_size):
    """Resize+center-crop uint8 (N, 3, H, W) images to (N, 3, S, S); unchanged if already S x S."""
    if images.shape[2:] == (image_size, image_size):
        return images
    return np.stack([_to_array(Image.fromarray(image.transpose(1, 2, 0)), image_size)
                     for image in images])  # (N, 3, S, S)


def _images_from_files(files, source, image_size, split, skip_bad_images):
    """(the split's decoded images (all, if no train/test folder exists), the names of those
    skipped as undecodable) from (name, label, read); without skip_bad_images the first
    undecodable one is a DataError."""
    progress = tqdm(files, desc=f"decoding {source.name}", unit=" files", disable=None, leave=False)

    def decode(read, label):
        try:
            return _decode_image(_read(read, label), label, image_size)
        except DataError as error:
            if not skip_bad_images:
                raise DataError(f"{error}; --skip-bad-images leaves such files out") from None
            return None

    chosen = _split_images(progress, source, split, decode)
    skipped = [name for name, image in chosen if image is None]
    if len(skipped) == len(chosen):
        raise DataError(f"none of the {len(chosen):,} images in {source} can be decoded "
                        f"(the first: {skipped[0]})")
    return np.stack([image for _, image in chosen if image is not None]), skipped  # (N, 3, S, S)


def _labels_from_files(files, source, split, in_archive):
    """Labels int64 (N,) of the split's images: their class folder's index among the sorted ones."""
    paths = [PurePosixPath(name)
             for name, _ in _split_images(files, source, split, lambda read, label: None)]
    parents = [path.parent for path in paths]
    root = _top_folder(paths) if in_archive else PurePosixPath(".")
    loose = next((path for path, parent in zip(paths, parents, strict=True)
                  if parent == root or parent.name in SPLITS), None)
    if loose is not None:
        raise DataError(f"{source}: no class folders, so it cannot give labels: expected "
                        f"[<split>/]<class>/<image>, got {loose}")
    index = {name: i for i, name in enumerate(sorted({parent.name for parent in parents}))}
    return np.array([index[parent.name] for parent in parents], np.int64)


def _top_folder(paths):
    """The one top folder that all relative paths lie under (an archive's own folder), else '.'."""
    tops = {path.parts[0] for path in paths}
    nested = all(len(path.parts) > 1 for path in paths)
    return PurePosixPath(tops.pop() if len(tops) == 1 and nested else ".")


def _split_images(files, source, split, load):
    """Sorted (name, load(read, label)) of the split's images (all, if no train/test folder)."""
    loaded = {split: [], None: []}
    has_splits = False
    for name, label, read in files:
        if not _is_image_name(name):
            continue
        part = _split_of(name)
        has_splits |= part is not None
        if part in loaded:
            loaded[part].append((name, load(read, label)))
    chosen = sorted(loaded[split] if has_splits else loaded[None], key=lambda item: item[0])
    if not chosen:
        where = f" for split {split!r}" if has_splits else ""
        raise DataError(f"no images (.png/.jpg/.jpeg) found in {source}{where}")
    return chosen


def _is_image_name(name):
    """Whether a relative file name is a .png/.jpg/.jpeg image and not a hidden file."""
    base = PurePosixPath(name).name
    return not base.startswith(".") and base.lower().endswith(IMAGE_SUFFIXES)


def _split_of(name):
    """'train' or 'test' if a folder in the relative path name is so called, else None."""
    return next((part for part in PurePosixPath(name).parts[:-1] if part in SPLITS), None)


def _decode_image(raw, label, image_size):
    """Decode image file bytes to RGB, resized and center-cropped: uint8 (3, S, S); an image
    over MAX_PIXELS is refused from its header, before it is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # MAX_PIXELS is less
            with Image.open(io.BytesIO(raw)) as image:
                _check_pixels(image.size, label, image_size)
                image.load()
                return _to_array(_to_rgb(image), image_size)
    except DataError:
        raise
    except Image.UnidentifiedImageError:
        raise DataError(f"{label}: cannot decode image (not a PNG or JPEG file Pillow can "
                        "read)") from None
    except IMAGE_ERRORS as exc:
        raise DataError(f"{label}: cannot decode image ({exc})") from None


def _to_rgb(image):
    """An 8-bit RGB copy of any Pillow image: 16-bit and 32-bit integer pixels (modes I;16*
    and I, as 16-bit PNGs open) scaled from 0-65535 to 0-255, float pixels (F) from 0-1, the
    rest (1, L, LA, P, RGB, RGBA, CMYK, ...) by Pillow's own conversion."""
    if image.mode.startswith("I") or image.mode == "F":
        full_scale = 1.0 if image.mode == "F" else 65535.0
        grey = np.asarray(image, dtype=np.float64) * (255.0 / full_scale)
        image = Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8), "L")
    return image.convert("RGB")


def _check_pixels(size, label, image_size):
    """A DataError naming label if an image of size (width, height) has more than MAX_PIXELS
    pixels, or would have once its shorter side is resized to image_size."""
    width, height = size
    resized = _resized_size(size, image_size)
    if width * height > MAX_PIXELS:
        what = f"{width * height / 1e6:.0f} megapixels"
    elif resized[0] * resized[1] > MAX_PIXELS:
        what = (f"{resized[0]:,} x {resized[1]:,} once its shorter side is resized to "
                f"{image_size}")
    else:
        return
    raise DataError(f"{label}: {width:,} x {height:,} pixels ({what}), more than the "
                    f"{MAX_PIXELS / 1e6:.0f} megapixels that tinygan decodes or resizes")


def _resized_size(size, image_size):
    """(width, height) of an image of that size once its shorter side is resized to image_size."""
    width, height = size
    scale = image_size / min(width, height)
    return max(image_size, round(width * scale)), max(image_size, round(height * scale))


def _to_array(image, image_size):
    """Resize an RGB image's shorter side to S (bicubic), center-crop S x S: uint8 (3, S, S)."""
    if image.size != (image_size, image_size):
        width, height = _resized_size(image.size, image_size)
        left, top = (width - image_size) // 2, (height - image_size) // 2
        image = image.resize((width, height), Image.Resampling.BICUBIC)
        image = image.crop((left, top, left + image_size, top + image_size))
    return np.asarray(image).transpose(2, 0, 1)  # (3, S, S)


def _cached(source, image_size, split, build, skip_bad_images, log):
    """The source's images from a current, intact .npy cache, else from build(), then cached.

    build() returns (images, names of the files it skipped as undecodable). Beside each cache
    lies a JSON sidecar with the cache's CRC-32, its shape, the source's size and latest
    modification time and the skipped names: a cache that does not match it is rebuilt.
    """
    prefix = f"{source.name}.{split}.{image_size}px."
    name = f"{prefix}{_signature(source)}{CACHE_SUFFIX}"
    folders, source_stat = (source.parent, USER_CACHE_DIR), _source_stat(source)
    for folder in folders:
        cached = _load_cache(folder / name, image_size, source, source_stat, log)
        if cached is not None:
            images, skipped = cached
            break
    else:
        images, skipped = build()
        _save_cache(images, skipped, source_stat, folders, name, prefix)
    if skipped and not skip_bad_images:
        raise DataError(f"{source}: {len(skipped):,} images cannot be decoded (the first: "
                        f"{skipped[0]}); --skip-bad-images leaves them out")
    if skipped:
        shown = ", ".join(skipped[:3]) + (", ..." if len(skipped) > 3 else "")
        log(f"data: skipped {len(skipped):,} images that cannot be decoded: {shown}")
    return images


def _source_files(source):
    """The files of a source (itself if a file), without caches, sorted."""
    return [source] if source.is_file() else sorted(
        p for p in source.rglob("*")
        if p.is_file() and not p.name.endswith((CACHE_SUFFIX, CACHE_SUFFIX + SIDECAR_SUFFIX)))


def _signature(source):
    """A short hash of the source's absolute path and the sizes and mtimes of its files."""
    digest = hashlib.sha1(str(source.resolve()).encode(), usedforsecurity=False)
    for file in _source_files(source):
        stat = file.stat()
        digest.update(f"{file.relative_to(source)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:12]


def _source_stat(source):
    """{"source_bytes": total size, "source_mtime_ns": the latest mtime} of the source's files."""
    stats = [file.stat() for file in _source_files(source)]
    return {"source_bytes": sum(s.st_size for s in stats),
            "source_mtime_ns": max((s.st_mtime_ns for s in stats), default=0)}


def _checksum(images):
    """CRC-32 of an array's bytes (0.06 s for 50,000 32x32 images here)."""
    return zlib.crc32(memoryview(np.ascontiguousarray(images)).cast("B"))


def _load_cache(file, image_size, source, source_stat, log):
    """(uint8 (N, 3, S, S) images, skipped names) cached in file, or None if there is none or it
    is unusable: truncated or of another shape (its header's sizes are checked before it is
    read), without a readable sidecar, or one that does not vouch for it (said in one line: it
    is then rebuilt)."""
    if not file.is_file():
        return None
    try:
        with open(file, "rb") as stream:
            shape, dtype = declared_array(stream, os.fstat(stream.fileno()).st_size)
            if dtype != np.uint8 or len(shape) != 4 or shape[1:] != (3, image_size, image_size):
                raise ValueError(f"expected uint8 images (N, 3, {image_size}, {image_size}), got "
                                 f"{dtype} {shape}")
            stream.seek(0)
            images = np.load(stream, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        log(f"data: the cache {file} is unusable ({error}); rebuilding it")
        return None
    try:
        sidecar = json.loads(Path(f"{file}{SIDECAR_SUFFIX}").read_text())
    except (OSError, ValueError, RecursionError):
        log(f"data: the cache {file} has no readable checksum beside it; rebuilding it")
        return None
    problem = _sidecar_problem(sidecar, images, source, source_stat)
    if problem:
        log(f"data: the cache {file} {problem}; rebuilding it")
        return None
    return images, sidecar["skipped"]


def _sidecar_problem(sidecar, images, source, source_stat):
    """Why a cache's sidecar does not vouch for its images of the source, or None: it is not
    what _save_cache writes, its checksum, shape or source do not match, or its skipped names
    are not names of image files in the source."""
    written = "has a sidecar that is not what tinygan writes"
    if not isinstance(sidecar, dict):
        return f"{written} (expected a JSON object, got {describe(sidecar)})"
    for field, (kind, words) in SIDECAR_FIELDS.items():
        value = sidecar.get(field, MISSING)
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"{written} ({field}: expected {words}, got {describe(value)})"
    if (sidecar["crc32"] != _checksum(images) or sidecar["shape"] != list(images.shape)
            or any(sidecar[k] != v for k, v in source_stat.items())):
        return "does not match its checksum or its source"
    skipped = sidecar["skipped"]
    names = _image_names(source) if skipped and all(isinstance(n, str) for n in skipped) else ()
    wrong = next((name for name in skipped if name not in names), MISSING)
    if wrong is not MISSING:
        return (f"{written} (skipped: expected names of image files in {source}, got "
                f"{describe(wrong)})")
    return None


def _image_names(source):
    """The names of a source's image files, as its loaders give them (a pass over an archive)."""
    return {name for name, _, _ in _source(source)[0] if _is_image_name(name)}


def _save_cache(images, skipped, source_stat, folders, name, prefix):
    """Cache images as name (and its sidecar) in the first writable folder; delete its stale
    caches."""
    sidecar = {"crc32": _checksum(images), "shape": list(images.shape), **source_stat,
               "skipped": skipped}
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_write(folder / name) as file:
                np.save(file, images)
            with atomic_write(folder / f"{name}{SIDECAR_SUFFIX}", "w") as file:
                json.dump(sidecar, file)
        except OSError:
            continue
        for stale in folder.glob(glob.escape(prefix) + "*" + CACHE_SUFFIX + "*"):
            if not stale.name.startswith(name):
                stale.unlink(missing_ok=True)
        return


def _copy_with_progress(response, file, description):
    """Copy a URL response to file in chunks under a byte progress bar; return its md5."""
    total = int(response.headers.get("Content-Length") or 0) or None
    digest = hashlib.md5(usedforsecurity=False)
    with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=description) as bar:
        while chunk := response.read(CHUNK_BYTES):
            file.write(chunk)
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _file_md5(path):
    """The md5 hex digest of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _verify_md5(label, expected, got):
    """Raise a DataError naming label if an md5 digest is not the expected one."""
    if got != expected:
        raise DataError(f"{label}: md5 mismatch: expected {expected}, got {got} "
                        "(an incomplete or different file)")
