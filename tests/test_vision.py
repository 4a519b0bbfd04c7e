"""tinygan.vision: transforms computed by hand with Pillow as torchvision computes them, grids
laid out as torchvision's make_grid, and the data sets read from files the tests write."""
import gzip
import pickle
import struct
import tarfile

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

import tinygan
from tinygan.gan import data, visual
from tinygan.utils.data import DataLoader
from tinygan.vision import datasets, transforms as T, utils

from support import write_image_folder


def picture(height, width, mode="RGB", seed=0):
    """A random PIL image of that size and mode."""
    shape = (height, width, 3) if mode == "RGB" else (height, width)
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8))


def chw(image):
    """A PIL image's pixels as float32 (C, H, W) in [0, 1], as torchvision's to_tensor."""
    array = np.asarray(image)
    array = array[:, :, None] if array.ndim == 2 else array
    return array.transpose(2, 0, 1).astype(np.float32) / np.float32(255)


# --- transforms -------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_to_tensor_of_pil_images_and_arrays(mode):
    image = picture(5, 7, mode)
    x = T.ToTensor()(image)
    assert x.dtype == np.float32 and x.shape == ((3 if mode == "RGB" else 1), 5, 7)
    np.testing.assert_array_equal(x.numpy(), chw(image))
    np.testing.assert_array_equal(T.ToTensor()(np.asarray(image)).numpy(), chw(image))
    floats = np.random.default_rng(1).random((5, 7, 2))
    np.testing.assert_array_equal(T.ToTensor()(floats).numpy(), floats.transpose(2, 0, 1))
    assert T.ToTensor()(Image.new("1", (2, 2), 1)).numpy().tolist() == [[[1.0, 1.0]] * 2]
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()([1, 2])


@settings(max_examples=25, deadline=None)
@given(height=st.integers(1, 40), width=st.integers(1, 40), size=st.integers(1, 30))
def test_resize_of_the_smaller_edge(height, width, size):
    image = picture(height, width)
    got = T.Resize(size)(image)
    short, long = sorted((height, width))
    expected = (size, int(size * long / short))
    assert got.size == (expected if width <= height else expected[::-1])
    if got.size != image.size:
        assert got.tobytes() == image.resize(got.size, Image.Resampling.BILINEAR).tobytes()


def test_resize_to_a_size_with_max_size_and_filters():
    image = picture(20, 30)
    assert T.Resize((7, 9))(image).tobytes() == image.resize((9, 7), Image.BILINEAR).tobytes()
    assert T.Resize([10])(image).size == (15, 10)
    assert T.Resize(10, max_size=12)(image).size == (12, 8)
    nearest = T.Resize(8, interpolation=T.InterpolationMode.NEAREST)(image)
    assert nearest.tobytes() == image.resize((12, 8), Image.NEAREST).tobytes()
    with pytest.raises(ValueError, match="Resize: size must be a positive int"):
        T.Resize(0)
    with pytest.raises(TypeError, match="Resize: tinygan transforms PIL images only"):
        T.Resize(4)(tinygan.zeros(3, 8, 8))


@settings(max_examples=30, deadline=None)
@given(height=st.integers(1, 12), width=st.integers(1, 12), crop=st.tuples(
    st.integers(1, 15), st.integers(1, 15)))
def test_center_crop_as_torchvision_and_alike_on_tensors(height, width, crop):
    image = picture(height, width)
    got = T.CenterCrop(crop)(image)
    assert got.size == crop[::-1]
    padded = np.zeros((max(height, crop[0]), max(width, crop[1]), 3), np.uint8)
    top, left = max(0, crop[0] - height) // 2, max(0, crop[1] - width) // 2
    padded[top:top + height, left:left + width] = np.asarray(image)
    top = int(round((padded.shape[0] - crop[0]) / 2.0))
    left = int(round((padded.shape[1] - crop[1]) / 2.0))
    np.testing.assert_array_equal(np.asarray(got),
                                  padded[top:top + crop[0], left:left + crop[1]])
    np.testing.assert_array_equal(T.CenterCrop(crop)(T.ToTensor()(image)).numpy(), chw(got))


def test_normalize_per_channel_and_for_one_channel():
    x = T.ToTensor()(picture(4, 5))
    got = T.Normalize((0.5, 0.4, 0.3), (0.5, 0.2, 0.1))(x).numpy()
    mean, std = (np.array(v, np.float32)[:, None, None] for v in ((0.5, 0.4, 0.3),
                                                                  (0.5, 0.2, 0.1)))
    np.testing.assert_array_equal(got, (x.numpy() - mean) / std)
    grey = T.ToTensor()(picture(4, 5, "L"))
    np.testing.assert_array_equal(T.Normalize([0.5], [0.5])(grey).numpy(),
                                  (grey.numpy() - np.float32(0.5)) / np.float32(0.5))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize([0.5], [0.0])(grey)
    with pytest.raises(TypeError, match="should be a float tensor"):
        T.Normalize([0.5], [0.5])(tinygan.zeros(1, 2, 2, dtype=tinygan.uint8))


def test_horizontal_flip_and_grayscale():
    image = picture(3, 4)
    assert T.RandomHorizontalFlip(1.0)(image).tobytes() == image.transpose(
        Image.FLIP_LEFT_RIGHT).tobytes()
    assert T.RandomHorizontalFlip(0.0)(image) is image
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(T.ToTensor()(image)).numpy(),
                                  chw(image)[..., ::-1])
    flip = T.RandomHorizontalFlip()
    tinygan.manual_seed(0)
    first = [flip(image).tobytes() for _ in range(12)]
    tinygan.manual_seed(0)
    assert [flip(image).tobytes() for _ in range(12)] == first and len(set(first)) == 2
    assert T.Grayscale()(image).tobytes() == image.convert("L").tobytes()
    assert T.Grayscale(3)(image).mode == "RGB"


def test_compose_as_a_dcgan_script_uses_it():
    transform = T.Compose([T.Resize(8), T.CenterCrop(8), T.ToTensor(),
                           T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    image = picture(12, 16)
    expected = chw(image.resize((10, 8), Image.BILINEAR).crop((1, 0, 9, 8))) * 2 - 1
    np.testing.assert_allclose(transform(image).numpy(), expected, atol=1e-6)
    assert repr(transform).startswith("Compose(\n    Resize(size=8, interpolation=bilinear")


# --- make_grid and save_image -----------------------------------------------------------------

def test_make_grid_layout_by_hand():
    images = tinygan.tensor(np.arange(1, 6, dtype=np.float32).reshape(5, 1, 1, 1))
    grid = utils.make_grid(images, nrow=2, padding=1, pad_value=9).numpy()
    expected = np.array([[9, 9, 9, 9, 9], [9, 1, 9, 2, 9], [9, 9, 9, 9, 9], [9, 3, 9, 4, 9],
                         [9, 9, 9, 9, 9], [9, 5, 9, 9, 9], [9, 9, 9, 9, 9]], np.float32)
    assert grid.shape == (3, 7, 5) and grid.dtype == np.float32
    np.testing.assert_array_equal(grid, np.stack([expected] * 3))


@settings(max_examples=25, deadline=None)
@given(count=st.integers(2, 11), nrow=st.integers(1, 12), padding=st.integers(0, 3),
       channels=st.sampled_from([1, 3]))
def test_make_grid_shape_and_places(count, nrow, padding, channels):
    images = np.random.default_rng(count).random((count, channels, 3, 2)).astype(np.float32)
    grid = utils.make_grid(tinygan.tensor(images), nrow=nrow, padding=padding).numpy()
    columns = min(nrow, count)
    rows = -(-count // columns)
    assert grid.shape == (3, rows * (3 + padding) + padding, columns * (2 + padding) + padding)
    for k, image in enumerate(images):
        top, left = padding + k // columns * (3 + padding), padding + k % columns * (2 + padding)
        np.testing.assert_array_equal(grid[:, top:top + 3, left:left + 2],
                                      np.broadcast_to(image, (3, 3, 2)))


def test_make_grid_normalize_value_range_scale_each_and_one_image():
    images = np.stack([np.full((3, 2, 2), -1.0, np.float32), np.full((3, 2, 2), 3.0, np.float32)])
    images[0, 0, 0, 0], images[1, 0, 0, 0] = 1.0, 5.0
    x = tinygan.tensor(images)
    whole = utils.make_grid(x, padding=0, normalize=True).numpy()
    np.testing.assert_allclose(whole[0, 0, [0, 1, 2]], [2 / 6, 0, 1])
    each = utils.make_grid(x, padding=0, normalize=True, scale_each=True).numpy()
    np.testing.assert_allclose(each[0, 0, [0, 1, 2]], [1, 0, 1])
    ranged = utils.make_grid(x, padding=0, normalize=True, value_range=(-1, 1)).numpy()
    np.testing.assert_allclose(ranged[0, 0, [0, 1, 2]], [1, 0, 1])
    assert utils.make_grid(x[0]).shape == (3, 2, 2)
    assert utils.make_grid([x[0], x[1]], padding=0).shape == (3, 2, 4)
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        utils.make_grid(x, normalize=True, value_range=[0, 1])


def test_save_image_writes_the_rounded_grid_as_png(tmp_path):
    images = tinygan.tensor(np.linspace(-1, 1, 2 * 3 * 4 * 4, dtype=np.float32).reshape(
        2, 3, 4, 4))
    path = tmp_path / "grid.png"
    utils.save_image(images, path, nrow=2, normalize=True)
    grid = utils.make_grid(images, nrow=2, normalize=True).numpy()
    expected = np.clip(grid * np.float32(255) + np.float32(0.5), 0, 255).astype(np.uint8)
    with Image.open(path) as written:
        assert written.format == "PNG"
        np.testing.assert_array_equal(np.asarray(written), expected.transpose(1, 2, 0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.png"]
    with pytest.raises(ValueError, match="unknown file extension '.xyz'"):
        utils.save_image(images, tmp_path / "grid.xyz")


def test_gan_save_grid_refuses_floats_it_would_draw_black(tmp_path):
    with pytest.raises(TypeError, match=r"expected uint8 images .* got float32 .*to_uint8"):
        visual.save_grid(tmp_path / "x.png", np.full((2, 3, 4, 4), 0.5, np.float32))
    visual.save_grid(tmp_path / "x.png", data.to_uint8(np.full((2, 3, 4, 4), 0.5)))
    assert not list(tmp_path.glob(".*.tmp"))


# --- data sets --------------------------------------------------------------------------------

def offline(url, destination, md5):
    """data.download_file where the network is down."""
    raise data.DataError(f"cannot download {url}: offline")


def write_idx(path, array):
    """An idx file of uint8 ``array`` (gzipped if path ends .gz)."""
    raw = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw += array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)


def write_mnist(root, count=6, gzipped=True):
    """Tiny MNIST-like idx files under root/MNIST/raw; returns (images, labels)."""
    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (count, 5, 4)), rng.integers(0, 10, count)
    suffix = ".gz" if gzipped else ""
    raw = root / "MNIST" / "raw"
    write_idx(raw / f"train-images-idx3-ubyte{suffix}", images)
    write_idx(raw / f"train-labels-idx1-ubyte{suffix}", labels)
    return images, labels


@pytest.mark.parametrize("gzipped", [True, False])
def test_mnist_from_raw_idx_files(tmp_path, gzipped):
    images, labels = write_mnist(tmp_path, gzipped=gzipped)
    mnist = datasets.MNIST(tmp_path, train=True, download=True)
    assert len(mnist) == 6 and mnist.targets.dtype == np.int64
    image, label = mnist[2]
    assert image.mode == "L" and np.asarray(image).tolist() == images[2].tolist()
    assert label == labels[2] and isinstance(label, int)
    loader = DataLoader(datasets.MNIST(str(tmp_path), transform=T.Compose([
        T.Resize(8), T.ToTensor(), T.Normalize([0.5], [0.5])])), batch_size=4, shuffle=True)
    x, y = next(iter(loader))
    assert x.shape == (4, 1, 10, 8) and x.dtype == np.float32 and y.dtype == np.int64
    assert -1 <= float(x.min()) and float(x.max()) <= 1


def test_mnist_checks_the_declared_size_before_reading(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    write_mnist(tmp_path)
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 28, 28)
    (raw / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + b"\0" * 10))
    with pytest.raises(data.DataError, match=r"declares \(60000, 28, 28\) \(47,040,016 bytes\)"
                                             r", the file holds 26 uncompressed"):
        datasets.MNIST(tmp_path)
    (raw / "train-images-idx3-ubyte").write_bytes(header)
    with pytest.raises(data.DataError, match="the file holds 16 "):
        datasets.MNIST(tmp_path)
    (raw / "train-images-idx3-ubyte").write_bytes(b"\0\0\x0d\x03" + header[4:])
    with pytest.raises(data.DataError, match="expected an idx file of unsigned bytes"):
        datasets.MNIST(tmp_path)
    (raw / "train-images-idx3-ubyte").unlink()
    (raw / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip data")
    with pytest.raises(data.DataError, match="not a readable idx file"):
        datasets.MNIST(tmp_path)


def test_mnist_missing_says_where_to_put_the_files(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match=r"put train-images-idx3-ubyte and train-labels-idx1-"
                                           r"ubyte \(or .gz\) in .*MNIST/raw or use download"):
        datasets.MNIST(tmp_path)

    monkeypatch.setattr(data, "download_file", offline)
    with pytest.raises(RuntimeError, match=r"cannot download t10k-images-idx3-ubyte.gz .*offline"
                                           r".*; put t10k-images-idx3-ubyte, "):
        datasets.MNIST(tmp_path, train=False, download=True)


def write_cifar_release(root, count=4):
    """A tiny CIFAR-10 python release under root/cifar-10-batches-py; returns its test batch."""
    folder = root / data.CIFAR10_FOLDER
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in data.CIFAR10_BATCHES["train"] + data.CIFAR10_BATCHES["test"]:
        batch = {b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, 10, count).tolist()}
        (folder / name).write_bytes(pickle.dumps(batch))
    return batch


def test_cifar10_from_the_official_release(tmp_path):
    batch = write_cifar_release(tmp_path)
    train = datasets.CIFAR10(tmp_path, train=True, download=False)
    test = datasets.CIFAR10(tmp_path, train=False, transform=T.ToTensor(),
                            target_transform=lambda t: t + 100)
    assert len(train) == 20 and len(test) == 4 and train.data.shape == (20, 32, 32, 3)
    image, label = datasets.CIFAR10(tmp_path, train=False)[1]
    assert image.mode == "RGB" and label == batch[b"labels"][1] and isinstance(label, int)
    np.testing.assert_array_equal(np.asarray(image),
                                  batch[b"data"][1].reshape(3, 32, 32).transpose(1, 2, 0))
    x, target = test[1]
    assert x.shape == (3, 32, 32) and target == batch[b"labels"][1] + 100
    assert train.class_to_idx["truck"] == 9


def test_cifar10_offline_falls_back_to_the_bundled_copy_saying_so(tmp_path, monkeypatch, capsys):
    with pytest.raises(RuntimeError, match="dataset not found .* download=True"):
        datasets.CIFAR10(tmp_path / "none")
    bundled = write_image_folder(tmp_path / "jpeg" / "train", count=4, size=32)
    archive = tmp_path / "copy.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundled.parent, arcname="cifar10-jpeg")

    monkeypatch.setattr(data, "download_file", offline)
    monkeypatch.setattr(data, "FALLBACK_ARCHIVE", archive)
    cifar = datasets.CIFAR10(tmp_path / "none", download=True)
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and "using the bundled JPEG copy" in printed[0]
    assert len(cifar) == 4 and cifar.targets == [0, 0, 1, 1]


def test_image_folder(tmp_path):
    root = write_image_folder(tmp_path / "images", count=6, size=8)
    (root / "class1" / "notes.txt").write_text("not an image")
    folder = datasets.ImageFolder(root, transform=T.ToTensor())
    assert folder.classes == ["class0", "class1"] and folder.class_to_idx == {"class0": 0,
                                                                              "class1": 1}
    assert [p.rsplit("/", 2)[1:] for p, _ in folder.samples][:2] == [["class0", "0000.png"],
                                                                     ["class0", "0002.png"]]
    assert folder.targets == [0, 0, 0, 1, 1, 1]
    x, label = folder[3]
    with Image.open(root / "class1" / "0001.png") as image:
        np.testing.assert_array_equal(x.numpy(), chw(image))
    assert label == 1
    (root / "class0" / "0000.png").write_bytes(b"not a png")
    with pytest.raises(Image.UnidentifiedImageError, match="0000.png"):
        folder[0]
    (tmp_path / "empty" / "only").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no valid file for the class only"):
        datasets.ImageFolder(tmp_path / "empty")


def test_fake_data_is_fixed_per_item_and_leaves_the_global_generator():
    state = tinygan.get_rng_state().numpy()
    fake = datasets.FakeData(size=5, image_size=(1, 6, 4), num_classes=3)
    image, label = fake[2]
    assert image.mode == "L" and image.size == (4, 6) and 0 <= label < 3
    assert fake[2][0].tobytes() == image.tobytes()
    np.testing.assert_array_equal(tinygan.get_rng_state().numpy(), state)
    assert datasets.FakeData(3, (3, 4, 4))[0][0].mode == "RGB"
    with pytest.raises(IndexError):
        fake[5]
    x, y = next(iter(DataLoader(datasets.FakeData(5, (3, 4, 4), transform=T.ToTensor()),
                                batch_size=5)))
    assert x.shape == (5, 3, 4, 4) and y.shape == (5,) and y.dtype == np.int64


def test_reachable_under_torchvisions_names():
    import tinygan.vision
    assert tinygan.vision.datasets.MNIST is datasets.MNIST
    assert tinygan.vision.utils.save_image is utils.save_image
