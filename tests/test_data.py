"""Data loading: CIFAR-10 pickles, image folders, tar archives, the cache, download and batches.

Every test writes its own tiny synthetic data under tmp_path; none needs the network.
"""
import hashlib
import json
import os
import pickle
import re
import tarfile
import time

import numpy as np
import pytest
from PIL import Image

from tinygan.gan import data

FALLBACK_SHA256 = "efac85c8ed52f4ead1e1f1b670d8dcf435d551fccebdd8b6365e0a01a504f3a4"
PER_BATCH = 4


@pytest.fixture(autouse=True)
def private_user_cache(tmp_path, monkeypatch):
    """Keep the ~/.cache fallback of every test inside its tmp_path."""
    monkeypatch.setattr(data, "USER_CACHE_DIR", tmp_path / "user-cache")


def random_pixels(rng, count, height=32, width=32):
    """uint8 (N, H, W, 3) random images."""
    return rng.integers(0, 256, (count, height, width, 3), dtype=np.uint8)


def chw(pixels):
    """(N, H, W, 3) -> (N, 3, H, W)."""
    return pixels.transpose(0, 3, 1, 2)


def save_image(path, pixels):
    """Write (H, W, 3) uint8 pixels to path; the suffix picks PNG or JPEG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def make_tar(folder, archive, mode):
    """Archive folder under its own name; mode is "w" or "w:gz"."""
    with tarfile.open(archive, mode) as tar:
        tar.add(folder, arcname=folder.name)
    return archive


def make_release(parent, protocol=2):
    """A fake cifar-10-batches-py/ of 5 train batches and a test batch, and its images.

    Each image's label is release_labels() of it, so labels and images can be matched.
    """
    folder = parent / data.CIFAR10_FOLDER
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = {}
    for split, names in data.CIFAR10_BATCHES.items():
        parts = [chw(random_pixels(rng, PER_BATCH)) for _ in names]
        for name, part in zip(names, parts, strict=True):
            batch = {b"batch_label": name.encode(), b"labels": release_labels(part).tolist(),
                     b"data": part.reshape(PER_BATCH, 3072), b"filenames": [b"x.png"] * PER_BATCH}
            (folder / name).write_bytes(pickle.dumps(batch, protocol=protocol))
        images[split] = np.concatenate(parts)
    return folder, images


def release_labels(images):
    """The label make_release gives each of its uint8 (N, 3, 32, 32) images: int64 (N,)."""
    return images[:, 0, 0, 0].astype(np.int64) % len(data.CIFAR10_CLASSES)


def md5_of(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def no_temp_files(folder):
    return not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


# Official CIFAR-10 python release


@pytest.mark.parametrize("split", data.SPLITS)
def test_release_folder_round_trips_exactly(tmp_path, split):
    folder, images = make_release(tmp_path)
    loaded = data.load_images(folder, split=split)
    assert loaded.dtype == np.uint8 and loaded.shape == (len(images[split]), 3, 32, 32)
    np.testing.assert_array_equal(loaded, images[split])


def test_release_pickles_from_python2_numpy1_and_protocol_5_load(tmp_path):
    folder, images = make_release(tmp_path, protocol=5)
    old = folder / "data_batch_1"
    legacy = pickle.dumps({b"data": images["train"][:PER_BATCH].reshape(PER_BATCH, 3072)}, 2)
    old.write_bytes(legacy.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    np.testing.assert_array_equal(data.load_images(folder), images["train"])


def test_release_tarball_round_trips_with_its_md5(tmp_path, monkeypatch):
    folder, images = make_release(tmp_path / "src")
    tarball = make_tar(folder, tmp_path / data.CIFAR10_TARBALL, "w:gz")
    monkeypatch.setattr(data, "CIFAR10_MD5", md5_of(tarball))
    np.testing.assert_array_equal(data.load_images(tarball, split="test"), images["test"])
    np.testing.assert_array_equal(data.load_images(tarball, split="train"), images["train"])


def test_release_tarball_md5_mismatch_names_file_expected_and_got(tmp_path):
    folder, _ = make_release(tmp_path / "src")
    tarball = make_tar(folder, tmp_path / data.CIFAR10_TARBALL, "w:gz")
    message = (f"{tarball}: md5 mismatch: expected {data.CIFAR10_MD5}, got {md5_of(tarball)}")
    with pytest.raises(data.DataError, match=re.escape(message)):
        data.load_images(tarball)


def test_release_resized_to_64(tmp_path):
    folder, images = make_release(tmp_path)
    loaded = data.load_images(folder, image_size=64, split="test")
    assert loaded.shape == (PER_BATCH, 3, 64, 64) and loaded.dtype == np.uint8
    first = np.asarray(Image.fromarray(images["test"][0].transpose(1, 2, 0)).resize(
        (64, 64), Image.Resampling.BICUBIC)).transpose(2, 0, 1)
    np.testing.assert_array_equal(loaded[0], first)


# Class labels

COLOURS = {"cat": (200, 30, 30), "dog": (30, 200, 30), "frog": (30, 30, 200)}


@pytest.mark.parametrize("split", data.SPLITS)
def test_release_labels_are_its_batches_labels_in_image_order(tmp_path, split):
    folder, images = make_release(tmp_path)
    labels = data.load_labels(folder, split=split)
    assert labels.dtype == np.int64 and labels.shape == (len(images[split]),)
    np.testing.assert_array_equal(labels, release_labels(images[split]))


def test_release_tarball_labels_and_numpy_array_labels(tmp_path, monkeypatch):
    folder, images = make_release(tmp_path / "src")
    batch = pickle.loads((folder / "test_batch").read_bytes(), encoding="bytes")
    batch[b"labels"] = np.array(batch[b"labels"], np.uint8)
    (folder / "test_batch").write_bytes(pickle.dumps(batch))
    tarball = make_tar(folder, tmp_path / data.CIFAR10_TARBALL, "w:gz")
    monkeypatch.setattr(data, "CIFAR10_MD5", md5_of(tarball))
    for split in data.SPLITS:
        labels = data.load_labels(tarball, split)
        np.testing.assert_array_equal(labels, release_labels(images[split]))


@pytest.mark.parametrize("labels, got", [([0, 1, 2], "a list of 3"),
                                         ([0, 1, 2, 10], "a list of 4 holding 10"),
                                         (None, "none"), ("0123", "a str")])
def test_release_labels_not_one_class_per_image(tmp_path, labels, got):
    folder, images = make_release(tmp_path)
    batch = {b"data": images["train"][:PER_BATCH].reshape(PER_BATCH, 3072), b"labels": labels}
    (folder / "data_batch_3").write_bytes(pickle.dumps(batch))
    message = (f"{folder / 'data_batch_3'}: expected b'labels' a list of {PER_BATCH} ints in 0..9 "
               f"(one per image), got {got}")
    with pytest.raises(data.DataError, match=re.escape(message)):
        data.load_labels(folder)


def test_class_folder_labels_follow_the_image_order_and_split(tmp_path, monkeypatch):
    counts = {"train": {"cat": 2, "dog": 1, "frog": 3}, "test": {"cat": 1, "dog": 2, "frog": 1}}
    for split, per_class in counts.items():
        for name, count in per_class.items():
            for i in range(count):
                save_image(tmp_path / "ds" / split / name / f"{i:04d}.png",
                           np.full((32, 32, 3), COLOURS[name], np.uint8))
    save_image(tmp_path / "ds" / "preview.png", np.zeros((32, 32, 3), np.uint8))
    archive = make_tar(tmp_path / "ds", tmp_path / "ds.tar.gz", "w:gz")
    palette = np.array([COLOURS[name] for name in sorted(COLOURS)])  # (classes, 3), label order
    for source in (tmp_path / "ds", archive):
        for split in data.SPLITS:
            images = data.load_images(source, split=split)
            with monkeypatch.context() as patch:
                forbid_decoding(patch)
                labels = data.load_labels(source, split=split)
            assert labels.dtype == np.int64 and labels.shape == (len(images),)
            np.testing.assert_array_equal(images[:, :, 0, 0], palette[labels])
            assert np.bincount(labels).tolist() == list(counts[split].values())


@pytest.mark.parametrize("layout", ["flat folder", "flat archive", "split folders"])
def test_source_without_class_folders_cannot_give_labels(tmp_path, layout):
    if layout == "split folders":
        for split in data.SPLITS:
            save_image(tmp_path / "ds" / split / "0.png", np.zeros((32, 32, 3), np.uint8))
        source, name = tmp_path / "ds", "train/0.png"
    else:
        source, name = image_folder(tmp_path), "0.png"
    if layout == "flat archive":
        source, name = make_tar(source, tmp_path / "imgs.tar", "w"), "imgs/0.png"
    message = (f"{source}: no class folders, so it cannot give labels: expected "
               f"[<split>/]<class>/<image>, got {name}")
    with pytest.raises(data.DataError, match=re.escape(message)):
        data.load_labels(source)


def test_labels_of_a_missing_source_or_bad_split(tmp_path):
    with pytest.raises(data.DataError, match=f"no such file or folder: {re.escape(str(tmp_path))}"):
        data.load_labels(tmp_path / "nothing")
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_labels(tmp_path, split="valid")


# Image folders and archives


def test_flat_png_folder_round_trips_in_sorted_order(tmp_path):
    pixels = random_pixels(np.random.default_rng(1), 3)
    for name, image in zip(["b.png", "c.PNG", "a.png"], pixels, strict=True):
        save_image(tmp_path / "imgs" / name, image)
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    (tmp_path / "imgs" / "._a.png").write_bytes(b"macOS metadata, hidden")
    loaded = data.load_images(tmp_path / "imgs")
    np.testing.assert_array_equal(loaded, chw(pixels[[2, 0, 1]]))


def test_class_folders_of_png_and_jpeg_recursive(tmp_path):
    pixels = random_pixels(np.random.default_rng(2), 3)
    save_image(tmp_path / "imgs" / "dog" / "0.png", pixels[0])
    save_image(tmp_path / "imgs" / "cat" / "deep" / "0.png", pixels[1])
    save_image(tmp_path / "imgs" / "cat" / "1.jpeg", np.full((32, 32, 3), 200, np.uint8))
    loaded = data.load_images(tmp_path / "imgs")
    np.testing.assert_array_equal(loaded[1:], chw(pixels[[1, 0]]))
    assert np.abs(loaded[0].astype(int) - 200).max() <= 2


@pytest.mark.parametrize("height, width", [(64, 128), (96, 48), (20, 30)])
def test_any_size_is_resized_and_center_cropped(tmp_path, height, width):
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[..., 2] = 255
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    pixels[top:top + side, left:left + side] = (255, 0, 0)
    save_image(tmp_path / "imgs" / "wide.jpg", pixels)
    loaded = data.load_images(tmp_path / "imgs", image_size=16)
    assert loaded.shape == (1, 3, 16, 16)
    center = loaded[0, :, 4:12, 4:12].astype(int)
    assert center[0].min() >= 240 and center[2].max() <= 15


def test_folder_and_its_archives_give_the_same_images_and_splits(tmp_path):
    rng = np.random.default_rng(3)
    folder = tmp_path / "ds"
    expected = {}
    for split, count in (("train", 3), ("test", 2)):
        pixels = random_pixels(rng, count)
        for i, image in enumerate(pixels):
            save_image(folder / split / f"class{i % 2}" / f"{i:04d}.png", image)
        order = sorted(range(count), key=lambda i: (f"class{i % 2}", i))
        expected[split] = chw(pixels[order])
    save_image(folder / "preview.png", random_pixels(rng, 1)[0])
    archives = [make_tar(folder, tmp_path / name, mode)
                for name, mode in (("ds.tar", "w"), ("ds.tar.gz", "w:gz"), ("ds.tgz", "w:gz"))]
    for source in [folder, *archives]:
        for split in data.SPLITS:
            np.testing.assert_array_equal(data.load_images(source, split=split), expected[split])


def test_archive_without_split_folders_gives_all_images_for_either_split(tmp_path):
    pixels = random_pixels(np.random.default_rng(4), 2)
    for i, image in enumerate(pixels):
        save_image(tmp_path / "flat" / f"{i}.png", image)
    archive = make_tar(tmp_path / "flat", tmp_path / "flat.tar.gz", "w:gz")
    for split in data.SPLITS:
        np.testing.assert_array_equal(data.load_images(archive, split=split), chw(pixels))


def test_archive_with_only_a_train_folder_has_no_test_images(tmp_path):
    save_image(tmp_path / "ds" / "train" / "0.png", random_pixels(np.random.default_rng(5), 1)[0])
    archive = make_tar(tmp_path / "ds", tmp_path / "ds.tar", "w")
    with pytest.raises(data.DataError, match=f"no images .* found in {re.escape(str(archive))} "
                                             "for split 'test'"):
        data.load_images(archive, split="test")


# Errors name the file and the problem


def test_missing_path(tmp_path):
    with pytest.raises(data.DataError, match=f"no such file or folder: {re.escape(str(tmp_path))}"):
        data.load_images(tmp_path / "nothing")


def test_folder_without_images(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "readme.txt").write_text("no images here")
    message = f"no images (.png/.jpg/.jpeg) found in {tmp_path / 'empty'}"
    with pytest.raises(data.DataError, match=re.escape(message)):
        data.load_images(tmp_path / "empty")


def test_corrupt_image_in_folder_and_archive(tmp_path):
    save_image(tmp_path / "imgs" / "good.png", random_pixels(np.random.default_rng(6), 1)[0])
    (tmp_path / "imgs" / "bad.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(data.DataError, match=r"imgs/bad\.jpg: cannot decode image"):
        data.load_images(tmp_path / "imgs")
    archive = make_tar(tmp_path / "imgs", tmp_path / "imgs.tar", "w")
    with pytest.raises(data.DataError, match=r"imgs\.tar: imgs/bad\.jpg: cannot decode image"):
        data.load_images(archive)


@pytest.mark.parametrize("fraction", [0.0, 0.02, 0.3, 0.6, 0.9])
def test_truncated_tar_gz(tmp_path, fraction):
    for i, image in enumerate(random_pixels(np.random.default_rng(7), 8)):
        save_image(tmp_path / "imgs" / f"{i}.png", image)
    archive = make_tar(tmp_path / "imgs", tmp_path / "imgs.tar.gz", "w:gz")
    raw = archive.read_bytes()
    archive.write_bytes(raw[:int(len(raw) * fraction)])
    with pytest.raises(data.DataError, match=re.escape(str(archive))):
        data.load_images(archive)


def test_corrupt_pickle(tmp_path):
    folder, _ = make_release(tmp_path)
    (folder / "data_batch_2").write_bytes(b"\x80\x02}q\x00(truncated")
    with pytest.raises(data.DataError, match=rf"{re.escape(str(folder))}/data_batch_2: not a "
                                             "readable pickle"):
        data.load_images(folder)


def test_pickle_that_is_not_a_batch(tmp_path):
    folder, _ = make_release(tmp_path)
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": np.zeros((2, 10), np.uint8)}))
    message = "test_batch: expected a dict with b'data' uint8 (N, 3072), got b'data' uint8 (2, 10)"
    with pytest.raises(data.DataError, match=re.escape(message)):
        data.load_images(folder, split="test")


def test_pickle_with_code_is_refused(tmp_path):
    folder, _ = make_release(tmp_path)
    (folder / "test_batch").write_bytes(b"cos\nsystem\n(S'echo hacked'\ntR.")
    with pytest.raises(data.DataError, match="test_batch: .*refusing to load the global os.system"):
        data.load_images(folder, split="test")


def test_release_missing_a_batch(tmp_path):
    folder, _ = make_release(tmp_path)
    (folder / "data_batch_4").unlink()
    with pytest.raises(data.DataError, match=f"{re.escape(str(folder))}: missing data_batch_4"):
        data.load_images(folder)


@pytest.mark.parametrize("name", ["images.zip", "picture.png"])
def test_unsupported_source(tmp_path, name):
    (tmp_path / name).write_bytes(b"whatever")
    with pytest.raises(data.DataError, match=f"{re.escape(str(tmp_path / name))}: unsupported "
                                             "data source; expected a CIFAR-10 python release"):
        data.load_images(tmp_path / name)


def test_bad_arguments():
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_images(".", split="valid")
    with pytest.raises(ValueError, match="image_size must be a positive int, got 0"):
        data.load_images(".", image_size=0)


# The cache


def image_folder(tmp_path, count=3):
    """A flat folder of count random PNG images."""
    for i, image in enumerate(random_pixels(np.random.default_rng(8), count)):
        save_image(tmp_path / "imgs" / f"{i}.png", image)
    return tmp_path / "imgs"


def cache_files(folder):
    return sorted(p.name for p in folder.glob("*" + data.CACHE_SUFFIX))


def forbid_decoding(monkeypatch):
    def fail(*args):
        raise AssertionError("decoded although a current cache exists")
    monkeypatch.setattr(data, "_decode_image", fail)


def test_second_load_hits_the_cache(tmp_path, monkeypatch):
    folder = image_folder(tmp_path)
    first = data.load_images(folder)
    [name] = cache_files(tmp_path)
    assert name.startswith("imgs.train.32px.") and no_temp_files(tmp_path)
    forbid_decoding(monkeypatch)
    np.testing.assert_array_equal(data.load_images(folder), first)


def test_cache_name_has_source_split_and_size(tmp_path):
    archive = make_tar(image_folder(tmp_path), tmp_path / "imgs.tar.gz", "w:gz")
    data.load_images(archive, image_size=8, split="test")
    [name] = cache_files(tmp_path)
    assert re.fullmatch(r"imgs\.tar\.gz\.test\.8px\.[0-9a-f]{12}\.uint8\.npy", name)


def test_changed_source_rebuilds_the_cache_and_drops_the_stale_one(tmp_path):
    folder = image_folder(tmp_path)
    data.load_images(folder)
    [old] = cache_files(tmp_path)
    save_image(folder / "9.png", np.zeros((32, 32, 3), np.uint8))
    assert len(data.load_images(folder)) == 4
    [new] = cache_files(tmp_path)
    assert new != old


@pytest.mark.parametrize("damage", [b"\x93NUMPY garbage", b"", "truncated", "more images"])
def test_an_unusable_cache_is_rebuilt_and_said_in_one_line(damage, tmp_path):
    folder = image_folder(tmp_path)
    first = data.load_images(folder)
    [name] = cache_files(tmp_path)
    cache = tmp_path / name
    if damage == "truncated":
        damage = cache.read_bytes()[:-1]
    elif damage == "more images":  # its header declares 10**9 images: checked before reading
        damage = cache.read_bytes().replace(b"(3, 3, 32, 32)", b"(1000000000, 3, 32, 32)")
    cache.write_bytes(damage)
    lines = []
    np.testing.assert_array_equal(data.load_images(folder, log=lines.append), first)
    assert lines == [f"data: the cache {cache} is unusable ({lines[0].split('(', 1)[1]}"]
    assert lines[0].endswith("; rebuilding it")
    np.testing.assert_array_equal(np.load(cache), first)


@pytest.mark.parametrize("sidecar, says", [
    (None, "expected a JSON object, got null"),
    ([], "expected a JSON object, got a list of 0"),
    ({"crc32": True}, "crc32: expected an int, got true"),
    ({"shape": "3"}, "shape: expected a list, got the string '3'"),
    ({"skipped": None}, "skipped: expected a list, got null"),
    ({"skipped": ["ghost.png"]}, "skipped: expected names of image files in {folder}, got the "
                                 "string 'ghost.png'"),
    ({"skipped": [7]}, "skipped: expected names of image files in {folder}, got 7"),
    ({"skipped": [{"a": 1}]}, "skipped: expected names of image files in {folder}, got a JSON "
                              "object with keys [a]"),
    ({"skipped": ["../0.png"]}, "skipped: expected names of image files in {folder}, got the "
                                "string '../0.png'"),
])
def test_a_sidecar_that_is_not_what_tinygan_writes_means_a_rebuild_said_in_one_line(
        sidecar, says, tmp_path):
    folder = image_folder(tmp_path)
    first = data.load_images(folder)
    [name] = cache_files(tmp_path)
    path = tmp_path / f"{name}{data.SIDECAR_SUFFIX}"
    written = json.loads(path.read_text())
    path.write_text(json.dumps(written | sidecar if isinstance(sidecar, dict) else sidecar))
    lines = []
    np.testing.assert_array_equal(data.load_images(folder, log=lines.append), first)
    assert lines == [f"data: the cache {tmp_path / name} has a sidecar that is not what tinygan "
                     f"writes ({says.format(folder=folder)}); rebuilding it"]
    assert json.loads(path.read_text()) == written


def test_a_sidecar_naming_a_real_image_file_is_believed(tmp_path, monkeypatch):
    """Its skipped names are trusted as far as they can be: image files of the source."""
    folder = image_folder(tmp_path)
    data.load_images(folder)
    [name] = cache_files(tmp_path)
    path = tmp_path / f"{name}{data.SIDECAR_SUFFIX}"
    path.write_text(json.dumps(json.loads(path.read_text()) | {"skipped": ["1.png"]}))
    forbid_decoding(monkeypatch)
    lines = []
    assert len(data.load_images(folder, skip_bad_images=True, log=lines.append)) == 3
    assert lines == ["data: skipped 1 images that cannot be decoded: 1.png"]


def test_unwritable_source_folder_caches_in_the_user_cache(tmp_path, monkeypatch):
    folder = image_folder(tmp_path)
    real_atomic_write = data.atomic_write

    def read_only_source_folder(path, mode="wb"):
        if path.parent == tmp_path:
            raise PermissionError(f"read-only: {path}")
        return real_atomic_write(path, mode)

    monkeypatch.setattr(data, "atomic_write", read_only_source_folder)
    first = data.load_images(folder)
    assert cache_files(tmp_path) == [] and len(cache_files(data.USER_CACHE_DIR)) == 1
    forbid_decoding(monkeypatch)
    np.testing.assert_array_equal(data.load_images(folder), first)


def test_failed_atomic_write_leaves_neither_file_nor_temp(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError), data.atomic_write(target) as file:
        file.write(b"half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


# Download


def test_download_with_progress_atomic_and_md5_checked(tmp_path):
    source = tmp_path / "remote.bin"
    source.write_bytes(os.urandom(3 << 20))
    target = tmp_path / "local" / "copy.bin"
    assert data.download_file(source.as_uri(), target, md5_of(source)) == target
    assert target.read_bytes() == source.read_bytes() and no_temp_files(tmp_path)


def test_download_md5_mismatch_keeps_nothing(tmp_path):
    source = tmp_path / "remote.bin"
    source.write_bytes(b"corrupted in transit")
    target = tmp_path / "copy.bin"
    message = f"md5 mismatch: expected {'0' * 32}, got {md5_of(source)}"
    with pytest.raises(data.DataError, match=re.escape(message)):
        data.download_file(source.as_uri(), target, "0" * 32)
    assert not target.exists() and no_temp_files(tmp_path)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/cifar.tar.gz", "file:///no/such/file.tar.gz"])
def test_unreachable_download_fails_fast(tmp_path, url):
    start = time.monotonic()
    with pytest.raises(data.DataError, match=f"cannot download {re.escape(url)}"):
        data.download_file(url, tmp_path / "x" / "copy.bin", "0" * 32)
    assert time.monotonic() - start < 5 and not (tmp_path / "x").exists()


# load_cifar10: official release, download, bundled fallback


def test_load_cifar10_uses_the_release_under_root(tmp_path):
    _, images = make_release(tmp_path)
    lines = []
    loaded = data.load_cifar10(root=tmp_path, split="test", download=False, log=lines.append)
    np.testing.assert_array_equal(loaded, images["test"])
    assert lines == [f"data: official CIFAR-10 release at {tmp_path / data.CIFAR10_FOLDER} "
                     f"({PER_BATCH} test images)"]


def test_load_cifar10_downloads_the_release(tmp_path, monkeypatch):
    folder, images = make_release(tmp_path / "server")
    tarball = make_tar(folder, tmp_path / "server" / data.CIFAR10_TARBALL, "w:gz")
    monkeypatch.setattr(data, "CIFAR10_URL", tarball.as_uri())
    monkeypatch.setattr(data, "CIFAR10_MD5", md5_of(tarball))
    root, lines = tmp_path / "root", []
    np.testing.assert_array_equal(data.load_cifar10(root=root, log=lines.append), images["train"])
    assert (root / data.CIFAR10_TARBALL).read_bytes() == tarball.read_bytes()
    assert lines == [f"data: official CIFAR-10 release at {root / data.CIFAR10_TARBALL} "
                     f"({5 * PER_BATCH} train images)"]


def test_load_cifar10_with_labels_from_the_release(tmp_path):
    _, images = make_release(tmp_path)
    lines = []
    loaded, labels = data.load_cifar10(root=tmp_path, split="test", download=False,
                                       log=lines.append, with_labels=True)
    np.testing.assert_array_equal(loaded, images["test"])
    np.testing.assert_array_equal(labels, release_labels(images["test"]))
    assert len(lines) == 1 and lines[0].startswith("data: official CIFAR-10 release at ")


def small_fallback(tmp_path, monkeypatch):
    """Point FALLBACK_ARCHIVE at a tiny JPEG archive with train/ and test/ folders."""
    for split, count in (("train", 3), ("test", 1)):
        for i in range(count):
            save_image(tmp_path / "jpeg" / split / "cat" / f"{i:04d}.jpg",
                       np.full((32, 32, 3), 40 * i, np.uint8))
    (tmp_path / "assets").mkdir()
    archive = make_tar(tmp_path / "jpeg", tmp_path / "assets" / "small.tar.gz", "w:gz")
    monkeypatch.setattr(data, "FALLBACK_ARCHIVE", archive)
    return archive


def test_load_cifar10_falls_back_to_the_bundled_archive(tmp_path, monkeypatch):
    archive = small_fallback(tmp_path, monkeypatch)
    lines = []
    loaded = data.load_cifar10(root=tmp_path / "root", download=False, log=lines.append)
    assert loaded.shape == (3, 3, 32, 32) and loaded.dtype == np.uint8
    [line] = lines
    assert line.startswith("data: no official CIFAR-10 release in ")
    assert f"using the bundled JPEG copy {archive} (3 train images; JPEG re-encoding" in line


def test_load_cifar10_falls_back_when_the_download_fails(tmp_path, monkeypatch):
    archive = small_fallback(tmp_path, monkeypatch)
    monkeypatch.setattr(data, "CIFAR10_URL", "http://127.0.0.1:9/cifar-10-python.tar.gz")
    lines = []
    loaded = data.load_cifar10(root=tmp_path / "root", split="test", log=lines.append)
    assert loaded.shape == (1, 3, 32, 32)
    [line] = lines
    assert "or downloadable (cannot download http://127.0.0.1:9/" in line
    assert f"bundled JPEG copy {archive} (1 test images" in line


def test_load_cifar10_with_labels_from_the_bundled_archive(tmp_path):
    # Reads the real 19 MB archive; decodes its 50,000 JPEGs unless their cache exists.
    images, labels = data.load_cifar10(root=tmp_path, download=False, log=lambda line: None,
                                       with_labels=True)
    assert images.shape == (50_000, 3, 32, 32) and labels.shape == (50_000,)
    assert labels.dtype == np.int64 and np.bincount(labels).tolist() == [5000] * 10
    assert data.CIFAR10_CLASSES == tuple(sorted(data.CIFAR10_CLASSES))


def test_the_bundled_archive_is_shipped_intact():
    assert data.FALLBACK_ARCHIVE.is_file()
    assert hashlib.sha256(data.FALLBACK_ARCHIVE.read_bytes()).hexdigest() == FALLBACK_SHA256


# Batches


def test_batches_are_float32_in_range_and_shaped():
    images = np.arange(10 * 3 * 2 * 2, dtype=np.int64).reshape(10, 3, 2, 2).astype(np.uint8)
    images[0] = 0
    images[1] = 255
    got = list(data.batches(images, 4, np.random.default_rng(0)))
    assert [b.shape for b in got] == [(4, 3, 2, 2)] * 2
    assert all(b.dtype == np.float32 and b.min() >= -1 and b.max() <= 1 for b in got)
    every = np.concatenate(list(data.batches(images, 4, np.random.default_rng(0), drop_last=False)))
    assert every.shape == (10, 3, 2, 2) and every.min() == -1 and every.max() == 1
    np.testing.assert_array_equal(np.sort(data.to_uint8(every), axis=0), np.sort(images, axis=0))


def test_batches_order_follows_the_seed():
    images = np.arange(20, dtype=np.uint8).reshape(20, 1, 1, 1).repeat(3, axis=1)

    def order(seed):
        rng = np.random.default_rng(seed)
        return [data.to_uint8(b)[:, 0, 0, 0].tolist() for b in data.batches(images, 5, rng)]

    assert order(1) == order(1) and order(1) != order(2)
    assert sorted(sum(order(1), [])) == list(range(20))


def test_batches_need_one_full_batch_when_dropping_the_last():
    with pytest.raises(data.DataError, match="only 3 images, fewer than one batch of 4"):
        next(data.batches(np.zeros((3, 3, 2, 2), np.uint8), 4, np.random.default_rng(0)))
    short = list(data.batches(np.zeros((3, 3, 2, 2), np.uint8), 4, np.random.default_rng(0),
                              drop_last=False))
    assert [b.shape[0] for b in short] == [3]


def test_to_uint8_clips_and_rounds():
    values = np.array([-2.0, -1.0, 0.0, 1.0, 3.0], np.float32).reshape(1, 1, 1, 5)
    np.testing.assert_array_equal(data.to_uint8(values).ravel(), [0, 0, 128, 255, 255])
