"""Every sample-quality metric for a generator, against the CIFAR-10 test images.

One Evaluator loads the reference images and the feature networks once; ``generator_row`` and
``real_row`` give a dict of metrics each (what examples/evaluate.py prints and train_cifar.py's
--eval-every plots):
  swd       sliced Wasserstein distance x 1e3, mean over pyramid levels (and swd_<size> per level)
  frechet   Fréchet distance between Gaussians fitted to our classifier's features
  score     exp(E KL(p(y|x) || p(y))) of our classifier's softmax (an Inception-score analogue)
  probe     test accuracy of a linear classifier on D's features (needs a discriminator)
  classes_covered  classes that get at least a fifth of a uniform share of the samples (our
            classifier's votes; class_shares lists every share): a mode-coverage count
Not comparable with the Inception-based FID and IS of papers: the feature network is our own.
"""
import numpy as np
from tqdm import tqdm

from . import classifier, data, metrics, probe, recipes
from ..tensor import from_numpy, no_grad

SIZE = 32  # the classifier's input size; 64x64 samples are averaged down 2x2 first
COVERED_SHARE = 0.2  # a class is covered if it gets at least 0.2 / K of the samples
SAMPLE_NOISE, SUBSETS = 3, 4  # random streams: numpy.random.default_rng([seed, STREAM])
MIN_COUNT = metrics.SCORE_SPLITS  # the fewest images per set: the score splits them in parts


def classifier_input(images):
    """Images as our classifier takes them: float32 [-1, 1] (data.to_float), averaged down to
    32x32 if larger: (N, 3, 32, 32)."""
    images = data.to_float(images)
    n, c, h, w = images.shape
    if h != SIZE:
        if h % SIZE or w != h:
            raise ValueError(f"images must be square multiples of {SIZE} pixels, got {h}x{w}")
        f = h // SIZE
        images = images.reshape(n, c, SIZE, f, SIZE, f).mean(axis=(3, 5))
    return images


def generate(G, count, seed=0, batch_size=500, batch_statistics=True, prior="gaussian"):
    """count samples of G from z ~ prior drawn from ``seed``: float32 (count, 3, S, S).

    batch_statistics: batch norm normalises with each batch's statistics (as during training)
    instead of its running averages, which are left as they were.
    """
    nz, device = G.main[0].weight.shape[0], G.main[0].weight.device
    rng = np.random.default_rng([seed, SAMPLE_NOISE])
    running = [(b, b.array.copy()) for b in G.buffers()]  # sampling must not move them
    G.train(batch_statistics)
    out = []
    with no_grad():
        for start in tqdm(range(0, count, batch_size), desc="sampling G", unit="batch",
                          disable=None, leave=False):
            z = recipes.sample_latent(rng, (min(batch_size, count - start), nz, 1, 1), prior)
            out.append(G(from_numpy(z).to(device)).numpy())
    G.train()
    for buffer, saved in running:
        buffer.array = saved
    return np.concatenate(out)


class Evaluator:
    """Reference images, their feature statistics, the classifier, and the probe's data.

    test and train: (uint8 images (N, 3, S, S), int labels (N,)); ``count`` images of each set
    are compared (a seeded random subset), ``probe_train`` training images train the probe.
    network: (classifier, meta) as classifier.load_pretrained returns them; None: the shipped
    classifier (its checksum checked).
    """

    def __init__(self, test, train, count=10000, probe_train=10000, seed=0, network=None):
        (test, self.test_labels), (train, train_labels) = test, train
        if not MIN_COUNT <= count <= min(len(test), len(train)) or probe_train > len(train):
            raise ValueError(f"count must be in [{MIN_COUNT}, {min(len(test), len(train))}] and "
                             f"probe_train "
                             f"at most {len(train)} for {len(test)} test and {len(train)} "
                             f"training images, got count {count}, probe_train {probe_train}")
        self.count, self.probe_train, self.seed = count, probe_train, seed
        rng = np.random.default_rng([seed, SUBSETS])
        self.full_test = classifier_input(test)
        self.test = self.full_test[rng.permutation(len(test))[:count]]
        pick = rng.permutation(len(train))[:max(count, probe_train)]
        self.train, self.train_labels = classifier_input(train[pick]), train_labels[pick]
        self.classifier, self.classifier_meta = network or classifier.load_pretrained()
        features, _ = classifier.predict(self.classifier, self.test)
        self.test_statistics = metrics.gaussian_statistics(features)

    @classmethod
    def cifar10(cls, count=10000, probe_train=10000, seed=0, log=print, network=None):
        """An Evaluator against the CIFAR-10 test images (official release, else bundled)."""
        test = data.load_cifar10(split="test", with_labels=True, log=log)
        train = data.load_cifar10(split="train", with_labels=True, log=log)
        return cls(test, train, count, probe_train, seed, network)

    def image_metrics(self, images):
        """SWD against the test images, Fréchet distance and classifier score of float images."""
        images = classifier_input(images)[:self.count]
        swd = metrics.sliced_wasserstein(images, self.test, seed=self.seed)
        features, probabilities = classifier.predict(self.classifier, images)
        frechet = metrics.frechet_distance(*metrics.gaussian_statistics(features),
                                           *self.test_statistics)
        score, score_std = metrics.classifier_score(probabilities)
        classes = probabilities.shape[1]
        shares = np.bincount(probabilities.argmax(axis=1), minlength=classes) / len(images)
        row = {"swd": swd["mean"], "frechet": frechet, "score": score, "score_std": score_std,
               "classes_covered": int((shares >= COVERED_SHARE / classes).sum()),
               "class_shares": shares.round(4).tolist()}
        row.update({f"swd_{size}": value for size, value in swd["levels"]})
        return row

    def probe_accuracy(self, D):
        """Linear-probe test accuracy on D's features (D in eval mode)."""
        D.eval()
        train = probe.discriminator_features(D, self.train[:self.probe_train])
        test = probe.discriminator_features(D, self.full_test)
        D.train()
        return probe.linear_probe(train, self.train_labels[:self.probe_train], test,
                                  self.test_labels, seed=self.seed)

    def real_row(self):
        """The floor: training images measured like samples."""
        return self.image_metrics(self.train[:self.count])

    def generator_row(self, G, D=None, batch_statistics=True, prior="gaussian"):
        """Metrics of G's samples (z from ``prior``), and of D's features if D is given."""
        row = self.image_metrics(generate(G, self.count, self.seed,
                                          batch_statistics=batch_statistics, prior=prior))
        if D is not None:
            row["probe"] = self.probe_accuracy(D)
        return row
