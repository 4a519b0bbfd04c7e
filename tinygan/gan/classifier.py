"""A small CIFAR-10 classifier trained with tinygan itself: the feature network of the metrics.

Its pooled features give the Fréchet distance and its softmax the classifier score of
tinygan.metrics. Weights ship in tinygan/assets/ (examples/train_classifier.py retrains them
reproducibly). It is not Inception: numbers computed on it are comparable with each other only.
The shipped file's SHA-256 is kept here and checked whenever it is loaded: a changed file would
make every number silently different. To ship new weights on purpose, copy them over it and
set WEIGHTS_SHA256 to their checksum (``sha256sum``).
"""
import hashlib
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import io, nn
from ..tensor import from_numpy, no_grad

WEIGHTS = Path(__file__).parent.parent / "assets" / "cifar10_classifier.npz"
WEIGHTS_SHA256 = "d396d1aef936ac1313f93d0018f122cdd843f2fe28c9aa5bb6c262457d44d523"
CHUNK_BYTES = 1 << 20


def _block(in_channels, out_channels, kernel, stride, padding):
    """Conv2d -> BatchNorm2d -> ReLU (the last two fused)."""
    return [nn.Conv2d(in_channels, out_channels, kernel, stride, padding, bias=False),
            nn.BatchNormAct2d(out_channels, negative_slope=0.0)]


def convs(width):
    """The convolutions in order: (in, out, kernel, stride, padding, side of the output)."""
    return [(3, width, 3, 1, 1, 32),                 # (N, w, 32, 32)
            (width, 2 * width, 4, 2, 1, 16),         # (N, 2w, 16, 16)
            (2 * width, 4 * width, 4, 2, 1, 8),      # (N, 4w, 8, 8)
            (4 * width, 8 * width, 4, 2, 1, 4)]      # (N, 8w, 4, 4)


def step_memory_bytes(width, batch_size, classes=10):
    """A rough upper estimate of the host memory of one Adam training step: 16 float32 copies
    of the parameters (weights, gradients, moments and the update's temporaries) and 2 of
    every conv's output and im2col columns for the batch. Measured (tracemalloc peak): 140,
    285 and 769 MB at width 24, 64, 128 and batch 128, 64, 32; this gives 277, 489, 1011."""
    layers = convs(width)
    parameters = (sum(c_in * c_out * k * k + 2 * c_out for c_in, c_out, k, *_ in layers)
                  + (8 * width + 1) * classes)
    per_image = sum(c_out * side ** 2 + c_in * k * k * side ** 2
                    for c_in, c_out, k, _, _, side in layers)
    return 4 * (16 * parameters + 2 * batch_size * per_image)


class Classifier(nn.Module):
    """image (N, 3, 32, 32) in [-1, 1] -> logits (N, classes); features: (N, 8 width)."""

    def __init__(self, width=24, classes=10):
        super().__init__()
        blocks = [layer for *conv, _ in convs(width) for layer in _block(*conv)]
        self.body = nn.Sequential(*blocks, nn.AvgPool2d(4), nn.Flatten())  # (N, 8w)
        self.head = nn.Linear(8 * width, classes)

    def features(self, x):
        """The body's output for images x (N, 3, 32, 32): the (N, 8 width) input of the head."""
        return self.body(x)

    def forward(self, x):
        return self.head(self.body(x))


def is_shipped(path):
    """Whether ``path`` is the shipped weights file (through links and relative paths too)."""
    return Path(path).resolve() == WEIGHTS.resolve()


def file_sha256(path):
    """The SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def check_shipped():
    """ValueError unless the shipped weights file is the one its checksum says it is."""
    if WEIGHTS.is_file() and file_sha256(WEIGHTS) != WEIGHTS_SHA256:
        raise ValueError(f"{WEIGHTS} was changed (its SHA-256 is not {WEIGHTS_SHA256[:16]}...): "
                         "every Fréchet distance and classifier score measured with it would be "
                         "wrong; restore it with `git checkout tinygan/assets/"
                         f"{WEIGHTS.name}` (or reinstall tinygan)")


def load_pretrained(path=None):
    """A classifier (eval mode) and its meta (test accuracy, how it was trained): the shipped
    one, checked against WEIGHTS_SHA256, unless ``path`` names another weights file."""
    path = WEIGHTS if path is None else path
    if is_shipped(path):
        check_shipped()
    checkpoint = io.load_checkpoint(path)
    if "classifier" not in checkpoint["modules"] or "model" not in checkpoint["meta"]:
        held = ", ".join(checkpoint["modules"]) or "no modules"
        raise ValueError(f"{path}: a tinygan checkpoint of {held}, not classifier weights "
                         "(expected those that examples/train_classifier.py writes)")
    meta = checkpoint["meta"]
    model = Classifier(**meta["model"])
    model.load_state_dict(checkpoint["modules"]["classifier"])
    return model.eval(), meta


def predict(model, images, batch_size=500):
    """Features (N, F) and softmax probabilities (N, classes) of float images (N, 3, 32, 32)."""
    features, probabilities = [], []
    with no_grad():
        for start in tqdm(range(0, len(images), batch_size), desc="classifier", unit="batch",
                          disable=None, leave=False):
            f = model.features(from_numpy(np.asarray(images[start:start + batch_size], np.float32)))
            logits = model.head(f).numpy().astype(np.float64)
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            features.append(f.numpy())
            probabilities.append(p / p.sum(axis=1, keepdims=True))
    return np.concatenate(features), np.concatenate(probabilities)


def accuracy(model, images, labels, batch_size=500):
    """Share of float images (N, 3, 32, 32) whose most probable class is their label."""
    _, probabilities = predict(model, images, batch_size)
    return float(np.mean(probabilities.argmax(axis=1) == labels))
