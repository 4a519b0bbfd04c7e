"""Data sets as torchvision.datasets: CIFAR10, MNIST, ImageFolder and FakeData, whose items are
(PIL image, int class) passed through ``transform`` and ``target_transform``."""
import gzip
import math
import os
import struct
from pathlib import Path

import numpy as np
from PIL import Image

from ..gan import data
from ..tensor import from_numpy
from ..utils.data import Dataset

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "http://yann.lecun.com/exdb/mnist/")
MNIST_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
MNIST_MD5 = {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
             "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
             "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
             "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
IDX_UBYTE = 0x08  # the idx type code of unsigned bytes, MNIST's


class VisionDataset(Dataset):
    """A data set under ``root`` whose items are transform(image), target_transform(target)."""

    def __init__(self, root, transform=None, target_transform=None):
        self.root = os.path.expanduser(root) if isinstance(root, (str, Path)) else root
        self.transform, self.target_transform = transform, target_transform

    def _item(self, image, target):
        """(image, target) through the transforms."""
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}"]
        lines += [f"    {name}: {value}" for name, value in (
            ("Transform", self.transform), ("Target transform", self.target_transform))
            if value is not None]
        return "\n".join(lines)


class CIFAR10(VisionDataset):
    """CIFAR-10's train (50,000) or test (10,000) 32x32 RGB images and labels, from the official
    python release under root (root/cifar-10-batches-py or root/cifar-10-python.tar.gz), with
    download=True downloaded there (md5-checked), or where that fails tinygan's bundled JPEG
    copy, said in one printed line (tinygan.gan.data.load_cifar10)."""

    base_folder = data.CIFAR10_FOLDER
    classes = list(data.CIFAR10_CLASSES)

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        super().__init__(root, transform, target_transform)
        self.train = train
        root = Path(self.root)
        if not download and not any((root / name).exists()
                                    for name in (data.CIFAR10_FOLDER, data.CIFAR10_TARBALL)):
            raise RuntimeError(f"CIFAR10: dataset not found in {root} (expected "
                               f"{data.CIFAR10_FOLDER}/ or {data.CIFAR10_TARBALL}). You can use "
                               "download=True to download it (offline: tinygan's bundled copy)")
        images, labels = data.load_cifar10(root, split="train" if train else "test",
                                           download=download, with_labels=True)
        self.data = np.ascontiguousarray(images.transpose(0, 2, 3, 1))  # (N, 32, 32, 3)
        self.targets = labels.tolist()
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def __getitem__(self, index):
        return self._item(Image.fromarray(self.data[index]), self.targets[index])

    def __len__(self):
        return len(self.data)


class MNIST(VisionDataset):
    """MNIST's train (60,000) or test (10,000) 28x28 grey images (mode 'L') and labels, from
    torchvision's raw idx files under root/MNIST/raw (each gzipped or not), with download=True
    downloaded there (md5-checked) when the network allows."""

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        super().__init__(root, transform, target_transform)
        self.train = train
        names = MNIST_FILES["train" if train else "test"]
        if download and not all(map(self._find, names)):
            self._download(names)
        missing = [name for name in names if self._find(name) is None]
        if missing:
            raise RuntimeError(f"MNIST: dataset not found: put {' and '.join(missing)} (or .gz) "
                               f"in {self.raw_folder}" + ("" if download else
                                                          " or use download=True"))
        images = read_idx(self._find(names[0]), 3)
        labels = read_idx(self._find(names[1]), 1)
        if len(labels) != len(images) or (len(labels) and labels.max() > 9):
            raise data.DataError(f"MNIST: {self._find(names[1])}: expected {len(images)} labels "
                                 f"in 0..9, one per image, got {len(labels)} up to "
                                 f"{labels.max(initial=0)}")
        self.data = from_numpy(images)
        self.targets = from_numpy(labels.astype(np.int64))
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    @property
    def raw_folder(self):
        """root/MNIST/raw, where torchvision keeps the idx files."""
        return Path(self.root) / type(self).__name__ / "raw"

    def _find(self, name):
        """The idx file name (else name.gz) in raw_folder, or None if neither is there."""
        return next((path for path in (self.raw_folder / name, self.raw_folder / f"{name}.gz")
                     if path.is_file()), None)

    def _download(self, names):
        """Fetch the missing gzipped idx files into raw_folder from the first mirror that
        answers; where none does, a RuntimeError saying where to put them."""
        reasons = []
        for name in (f"{name}.gz" for name in names if self._find(name) is None):
            for mirror in MNIST_MIRRORS:
                try:
                    data.download_file(mirror + name, self.raw_folder / name, MNIST_MD5[name])
                    break
                except data.DataError as error:
                    reasons.append(str(error))
            else:
                raise RuntimeError(f"MNIST: cannot download {name} ({reasons[-1]}); put "
                                   f"{', '.join(names)} (or .gz) in {self.raw_folder}")

    def __getitem__(self, index):
        return self._item(Image.fromarray(self.data.array[index]), int(self.targets.array[index]))

    def __len__(self):
        return len(self.data)


def read_idx(path, ndim):
    """The uint8 array of an idx file (gzipped if its name ends .gz) of ``ndim`` axes; its
    header's sizes are checked against the file's (a .gz's recorded size) before the data is
    read, so a short file cannot make it allocate what its header declares."""
    path = Path(path)
    gzipped = path.suffix == ".gz"
    with open(path, "rb") as file:
        stream = gzip.GzipFile(fileobj=file) if gzipped else file
        try:
            magic = stream.read(4)
            if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] != IDX_UBYTE \
                    or magic[3] != ndim:
                raise data.DataError(f"{path}: expected an idx file of unsigned bytes with "
                                     f"{ndim} dims (magic 00 00 08 {ndim:02x}), got "
                                     f"{magic.hex(' ') or 'an empty file'}")
            shape = struct.unpack(f">{ndim}I", stream.read(4 * ndim))
            count = math.prod(shape)
            _check_size(path, file, 4 + 4 * ndim + count, gzipped, shape)
            array = np.frombuffer(stream.read(count), np.uint8)
            if array.size != count or stream.read(1):
                raise data.DataError(f"{path}: the data does not match the header's {shape}")
        except (OSError, EOFError, struct.error) as error:
            raise data.DataError(f"{path}: not a readable idx file ({error})") from None
    return array.reshape(shape)


def _check_size(path, file, expected, gzipped, shape):
    """A DataError unless the open file holds ``expected`` bytes (a .gz: its recorded size, mod
    2**32) and that is at most what tinygan reads of one file."""
    if gzipped:
        position = file.tell()
        file.seek(-4, os.SEEK_END)
        got, expected = struct.unpack("<I", file.read(4))[0], expected % 2**32
        file.seek(position)
    else:
        got = os.fstat(file.fileno()).st_size
    if got != expected or expected > data.MAX_FILE_BYTES:
        raise data.DataError(f"{path}: its header declares {shape} ({expected:,} bytes), the file "
                             f"holds {got:,}" + (" uncompressed" if gzipped else "")
                             + f" (at most {data.MAX_FILE_BYTES >> 20} MiB are read)")


class ImageFolder(VisionDataset):
    """Images in class folders, root/<class>/.../<image>: classes the sorted folder names,
    class_to_idx their indices, samples the sorted (path, class index) of image files (names
    ending in IMG_EXTENSIONS, or those is_valid_file accepts), loaded as RGB by default."""

    def __init__(self, root, transform=None, target_transform=None, loader=None,
                 is_valid_file=None, allow_empty=False):
        super().__init__(root, transform, target_transform)
        self.loader = loader or default_loader
        self.classes, self.class_to_idx = self.find_classes(self.root)
        valid = is_valid_file or (lambda name: name.lower().endswith(IMG_EXTENSIONS))
        self.samples = []
        for name in self.classes:
            found = [(os.path.join(folder, file), self.class_to_idx[name])
                     for folder, _, files in sorted(os.walk(os.path.join(self.root, name),
                                                            followlinks=True))
                     for file in sorted(files) if valid(os.path.join(folder, file))]
            if not found and not allow_empty:
                raise FileNotFoundError(f"ImageFolder: found no valid file for the class {name} "
                                        f"in {self.root}. Supported extensions are: "
                                        f"{', '.join(IMG_EXTENSIONS)}")
            self.samples += found
        self.imgs = self.samples
        self.targets = [target for _, target in self.samples]

    @staticmethod
    def find_classes(directory):
        """(sorted class folder names, {name: index})."""
        classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
        if not classes:
            raise FileNotFoundError(f"ImageFolder: couldn't find any class folder in {directory}.")
        return classes, {name: i for i, name in enumerate(classes)}

    def __getitem__(self, index):
        path, target = self.samples[index]
        return self._item(self.loader(path), target)

    def __len__(self):
        return len(self.samples)


def default_loader(path):
    """An image file as an RGB PIL image."""
    with open(path, "rb") as file, Image.open(file) as image:
        return image.convert("RGB")


class FakeData(VisionDataset):
    """``size`` random images of image_size (C, H, W) (mode 'L', 'RGB' or 'RGBA' by C) with
    random classes: item i draws N(0, 1) pixels (times 255, wrapped to uint8, as torchvision's
    to_pil_image) and its class from a generator seeded i + random_offset, so items are the same
    on every read and the global generator is untouched (other pixels than torchvision's)."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):
        super().__init__(None, transform, target_transform)
        if len(image_size) != 3 or image_size[0] not in (1, 3, 4):
            raise ValueError(f"FakeData: image_size must be (C, H, W) with C 1, 3 or 4, got "
                             f"{image_size}")
        self.size, self.image_size, self.num_classes = size, tuple(image_size), num_classes
        self.random_offset = random_offset

    def __getitem__(self, index):
        if not -self.size <= index < self.size:
            raise IndexError(f"{type(self).__name__} index out of range")
        rng = np.random.default_rng(index % self.size + self.random_offset)
        pixels = rng.standard_normal(self.image_size, np.float32) * np.float32(255)
        target = int(rng.integers(0, self.num_classes))
        image = pixels.astype(np.int64).astype(np.uint8).transpose(1, 2, 0)
        return self._item(Image.fromarray(image.squeeze(2) if len(image[0, 0]) == 1 else image),
                          target)

    def __len__(self):
        return self.size
