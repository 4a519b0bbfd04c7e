"""D as a feature extractor (Radford et al. 2016, Table 1), scored by a linear probe.

Features: the output of every activation in D, max-pooled to a 4x4 grid and concatenated. A
softmax linear classifier trained on them (tinygan's own linear, cross_entropy and Adam) is
scored on held-out images: the better D's features, the higher its accuracy.
"""
import numpy as np
from tqdm import tqdm

from .. import nn, ops, optim
from ..tensor import from_numpy, no_grad

GRID = 4  # each activation map is max-pooled to GRID x GRID


def discriminator_features(D, images, batch_size=500):
    """Max-pooled activations of D's layers, concatenated: float32 (N, F) for images in [-1, 1]."""
    layers = D.main.children()
    device = layers[0].weight.device
    features = []
    with no_grad():
        for start in tqdm(range(0, len(images), batch_size), desc="D features", unit="batch",
                          disable=None, leave=False):
            x = from_numpy(np.asarray(images[start:start + batch_size], np.float32)).to(device)
            pooled = []
            for layer in layers:
                x = layer(x)
                if isinstance(layer, (nn.LeakyReLU, nn.ReLU, nn.BatchNormAct2d)):
                    window = max(1, x.shape[2] // GRID)
                    pooled.append(ops.max_pool2d(x, window).numpy().reshape(len(x), -1))
            features.append(np.concatenate(pooled, axis=1))
    return np.concatenate(features)  # (N, F)


def linear_probe(train_features, train_labels, test_features, test_labels, epochs=20,
                 batch_size=256, lr=1e-3, seed=0):
    """Test accuracy of softmax regression on standardised features, trained with Adam."""
    mean, std = train_features.mean(axis=0), train_features.std(axis=0) + 1e-6
    train_x = ((train_features - mean) / std).astype(np.float32)  # (N, F)
    test_x = ((test_features - mean) / std).astype(np.float32)
    classes = int(max(train_labels.max(), test_labels.max())) + 1
    nn.manual_seed(seed)
    head = nn.Linear(train_x.shape[1], classes)
    opt = optim.Adam(head.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(train_x))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            loss = ops.cross_entropy(head(from_numpy(train_x[batch])), train_labels[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with no_grad():
        predicted = head(from_numpy(test_x)).numpy().argmax(axis=1)
    return float(np.mean(predicted == test_labels))
