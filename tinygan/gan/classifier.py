"""A small CIFAR-10 classifier trained with tinygan itself: the feature network of the metrics.

Its pooled features give the Fréchet distance and its softmax the classifier score of
tinygan.metrics. Weights ship in tinygan/assets/ (examples/train_classifier.py retrains them
reproducibly). It is not Inception: numbers computed on it are comparable with each other only.
"""
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import io, nn
from ..tensor import Tensor, no_grad

WEIGHTS = Path(__file__).parent.parent / "assets" / "cifar10_classifier.npz"


def _block(in_channels, out_channels, kernel, stride, padding):
    """Conv2d -> BatchNorm2d -> ReLU (the last two fused)."""
    return [nn.Conv2d(in_channels, out_channels, kernel, stride, padding, bias=False),
            nn.BatchNormAct2d(out_channels, negative_slope=0.0)]


class Classifier(nn.Module):
    """image (N, 3, 32, 32) in [-1, 1] -> logits (N, classes); features: (N, 8 width)."""

    def __init__(self, width=24, classes=10):
        super().__init__()
        self.body = nn.Sequential(*_block(3, width, 3, 1, 1),               # (N, w, 32, 32)
                                  *_block(width, 2 * width, 4, 2, 1),      # (N, 2w, 16, 16)
                                  *_block(2 * width, 4 * width, 4, 2, 1),  # (N, 4w, 8, 8)
                                  *_block(4 * width, 8 * width, 4, 2, 1),  # (N, 8w, 4, 4)
                                  nn.AvgPool2d(4), nn.Flatten())           # (N, 8w)
        self.head = nn.Linear(8 * width, classes)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.body(x))


def load_pretrained(path=WEIGHTS):
    """The shipped classifier (eval mode) and its meta (test accuracy, how it was trained)."""
    checkpoint = io.load_checkpoint(path)
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
            f = model.features(Tensor(np.asarray(images[start:start + batch_size], np.float32)))
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

