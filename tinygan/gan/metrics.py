"""Sample-quality metrics for the DCGAN, in pure NumPy: the math only, no network.

- Sliced Wasserstein distance (SWD), as in Progressive GAN (Karras et al. 2018, section 5 and
  appendix D): 7x7x3 patches from every level of a Laplacian pyramid of each image set, normalised
  per colour channel; per level, the mean over random unit directions of the 1-D Wasserstein-1
  distance between the two sets of projected patches. Lower is better; values are multiplied by
  1e3, like the tables of the paper. It needs no trained network.
- Fréchet distance between two Gaussians fitted to features (`gaussian_statistics`,
  `frechet_distance`): ||m1 - m2||^2 + tr(C1 + C2 - 2 (C1 C2)^(1/2)). On Inception-v3 pool
  features it is the FID of the papers. Computed on the features of our own CIFAR-10 classifier it
  is a different number, on a different scale: it is NOT comparable with Inception-based FID
  values from papers, only with itself (same classifier, same sample counts).
- Classifier score (`classifier_score`): the Inception-score formula exp(E_x KL(p(y|x) || p(y)))
  on a classifier's softmax outputs, between 1 and the number of classes K. Likewise, with our own
  classifier it is not comparable with the Inception Score of papers.
"""
import numbers

import numpy as np
from tqdm import tqdm

from . import data

PATCH = 7  # side of the SWD patches
CHANNELS = 3
MIN_SIDE = 16  # the smallest image side, and the smallest pyramid level by default
SWD_SCALE = 1e3  # SWD is reported multiplied by this, like Karras et al.
CHUNK_IMAGES = 500  # images per pyramid chunk
PROJECTION_BYTES = 64 << 20  # memory of the projections sorted at once, per set
BINOMIAL = np.array([1, 4, 6, 4, 1], dtype=np.float32) / np.float32(16)
SUM_TOLERANCE = 1e-3  # how far a row of probabilities may sum from 1
SCORE_SPLITS = 10  # the classifier score's parts, as in the Inception score: N >= 10 samples


def _blur(images):
    """Separable 5-tap binomial blur [1, 4, 6, 4, 1] / 16 along H and W, reflect padding."""
    height, width = images.shape[-2:]  # images: (N, C, H, W)
    padded = np.pad(images, ((0, 0), (0, 0), (0, 0), (2, 2)), mode="reflect")
    rows = sum(k * padded[..., i:i + width] for i, k in enumerate(BINOMIAL))  # (N, C, H, W)
    padded = np.pad(rows, ((0, 0), (0, 0), (2, 2), (0, 0)), mode="reflect")
    return sum(k * padded[..., i:i + height, :] for i, k in enumerate(BINOMIAL))


def _downsample(images):
    """Halve H and W: blur, then keep every other pixel."""
    return _blur(images)[..., ::2, ::2]  # (N, C, H/2, W/2)


def _upsample(images):
    """Double H and W: insert zeros between pixels, then blur and multiply by 4."""
    count, channels, height, width = images.shape
    spread = np.zeros((count, channels, 2 * height, 2 * width), dtype=images.dtype)
    spread[..., ::2, ::2] = images
    return 4 * _blur(spread)  # (N, C, 2H, 2W)


def laplacian_pyramid(images, levels):
    """[L_0, .., L_{levels-2}, G_{levels-1}]: G_{k+1} = down(G_k), L_k = G_k - up(G_{k+1})."""
    pyramid = []
    gaussian = np.asarray(images)  # (N, C, H, W), H and W divisible by 2^(levels - 1)
    for _ in range(levels - 1):
        smaller = _downsample(gaussian)  # (N, C, H/2, W/2)
        pyramid.append(gaussian - _upsample(smaller))
        gaussian = smaller
    pyramid.append(gaussian)
    return pyramid


def reconstruct_pyramid(pyramid):
    """G_k = L_k + up(G_{k+1}), from the coarsest level back to G_0."""
    image = pyramid[-1]
    for laplacian in reversed(pyramid[:-1]):
        image = laplacian + _upsample(image)
    return image  # (N, C, H, W)


def _check_images(name, images):
    """images as an array (N, 3, H, W), float or uint8, H and W >= MIN_SIDE, or ValueError."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"{name}: expected an array of shape (N, 3, H, W), "
                         f"got shape {images.shape}")
    count, channels, height, width = images.shape
    if channels != CHANNELS:
        raise ValueError(f"{name}: expected {CHANNELS} colour channels in axis 1 (N, 3, H, W), "
                         f"got shape {images.shape}")
    if count == 0:
        raise ValueError(f"{name}: expected at least one image, got shape {images.shape}")
    if height < MIN_SIDE or width < MIN_SIDE:
        raise ValueError(f"{name}: expected images of at least {MIN_SIDE}x{MIN_SIDE} pixels, "
                         f"got {height}x{width}")
    if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"{name}: expected float images in [-1, 1] or uint8 images in [0, 255], "
                         f"got dtype {images.dtype}")
    if images.dtype != np.uint8 and not np.isfinite(images).all():
        raise ValueError(f"{name}: expected finite values, got NaN or infinity")
    return images


def _check_count(name, value):
    """value as a positive int, or ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def _default_levels(height, width):
    """1 + how often H and W halve exactly while the smaller side stays >= MIN_SIDE."""
    levels = 1
    while height % 2 == 0 and width % 2 == 0 and min(height, width) // 2 >= MIN_SIDE:
        height, width, levels = height // 2, width // 2, levels + 1
    return levels


def _descriptors(images, levels, rows, cols, step):
    """Patch descriptors (levels, N * P, 147) float32 of one set, per channel (x - mean) / std."""
    count = len(images)
    per_image = rows.shape[2]  # rows, cols: (levels, N, P) top-left corners
    out = np.empty((levels, count * per_image, CHANNELS * PATCH * PATCH), dtype=np.float32)
    for start in range(0, count, CHUNK_IMAGES):
        stop = min(start + CHUNK_IMAGES, count)
        which = np.arange(stop - start)[:, None]  # (n, 1)
        pyramid = laplacian_pyramid(data.to_float(images[start:stop]), levels)
        for level, band in enumerate(pyramid):
            windows = np.lib.stride_tricks.sliding_window_view(band, (PATCH, PATCH), axis=(2, 3))
            # windows: (n, 3, h - 6, w - 6, 7, 7); patches: (n, P, 3, 7, 7)
            patches = windows[which, :, rows[level, start:stop], cols[level, start:stop]]
            out[level, start * per_image:stop * per_image] = patches.reshape(-1, out.shape[2])
        step()
    for level in range(levels):
        per_channel = out[level].reshape(len(out[level]), CHANNELS, PATCH * PATCH)  # (N*P, 3, 49)
        mean = per_channel.mean(axis=(0, 2), dtype=np.float64)
        per_channel -= mean.astype(np.float32)[:, None]
        std = np.sqrt(np.square(per_channel).mean(axis=(0, 2), dtype=np.float64))
        per_channel /= np.where(std > 0, std, 1).astype(np.float32)[:, None]
    return out


def _sliced_distance(desc_a, desc_b, directions):
    """mean over the unit directions d and sorted ranks i of |sort(A d)_i - sort(B d)_i|."""
    total = 0.0
    per_block = max(1, PROJECTION_BYTES // (desc_a.itemsize * len(desc_a)))  # B directions
    for start in range(0, len(directions), per_block):
        block = directions[start:start + per_block]  # (B, 147)
        proj_a = block @ desc_a.T  # (B, N * P)
        proj_b = block @ desc_b.T
        proj_a.sort(axis=1)
        proj_b.sort(axis=1)
        proj_a -= proj_b
        total += float(np.abs(proj_a, out=proj_a).sum(dtype=np.float64))
    return total / (len(directions) * desc_a.shape[0])


def sliced_wasserstein(images_a, images_b, patches_per_image=16, directions=512, repeats=4,
                       levels=None, seed=0, progress=None):
    """SWD_l = 1e3 * mean_rounds mean_{d, i} |sort(A_l d)_i - sort(B_l d)_i| per pyramid level l.

    images_a, images_b: (N, 3, H, W) float in [-1, 1] or uint8 in [0, 255], the same N, H and W.
    levels: pyramid levels, from H down; None goes down to 16 pixels (32x32 -> 32, 16).
    Both sets share the patch positions and the directions, drawn from default_rng(seed).
    progress: None shows a tqdm bar (on a terminal only), or a callable progress(done, total).
    Returns {"levels": [(resolution H, swd), ...], "mean": mean over levels}, values x 1e3.
    """
    images_a = _check_images("images_a", images_a)
    images_b = _check_images("images_b", images_b)
    if len(images_a) != len(images_b):
        raise ValueError(f"images_a and images_b: expected the same number of images, "
                         f"got {len(images_a)} and {len(images_b)}")
    if images_a.shape[2:] != images_b.shape[2:]:
        raise ValueError(f"images_a and images_b: expected images of the same size, "
                         f"got {images_a.shape[2:]} and {images_b.shape[2:]}")
    per_image = _check_count("patches_per_image", patches_per_image)
    directions = _check_count("directions", directions)
    repeats = _check_count("repeats", repeats)
    count, _, height, width = images_a.shape
    if levels is None:
        levels = _default_levels(height, width)
    levels = _check_count("levels", levels)
    factor = 2 ** (levels - 1)
    if height % factor or width % factor or min(height, width) // factor < PATCH:
        raise ValueError(f"levels: expected H and W divisible by 2^(levels - 1) and a smallest "
                         f"level of at least {PATCH}x{PATCH}, got levels={levels} for "
                         f"{height}x{width} images")

    rng = np.random.default_rng(seed)
    sides = [(height // 2 ** k, width // 2 ** k) for k in range(levels)]
    rows = np.stack([rng.integers(0, h - PATCH + 1, (count, per_image)) for h, _ in sides])
    cols = np.stack([rng.integers(0, w - PATCH + 1, (count, per_image)) for _, w in sides])
    chunks = -(-count // CHUNK_IMAGES)
    total_steps = 2 * chunks + levels * repeats
    bar = None
    if progress is None:
        bar = tqdm(total=total_steps, desc="sliced Wasserstein", disable=None, leave=False)
    done = 0

    def step():
        """done += 1, then report it to the callable or the bar."""
        nonlocal done
        done += 1
        if bar is None:
            progress(done, total_steps)
        else:
            bar.update()

    try:
        desc_a = _descriptors(images_a, levels, rows, cols, step)  # (levels, N * P, 147)
        desc_b = _descriptors(images_b, levels, rows, cols, step)
        results = []
        for level in range(levels):
            rounds = []
            for _ in range(repeats):
                unit = rng.standard_normal((directions, desc_a.shape[2]))  # (D, 147)
                unit /= np.linalg.norm(unit, axis=1, keepdims=True)
                rounds.append(_sliced_distance(desc_a[level], desc_b[level],
                                               unit.astype(np.float32)))
                step()
            results.append((sides[level][0], SWD_SCALE * float(np.mean(rounds))))
    finally:
        if bar is not None:
            bar.close()
    return {"levels": results, "mean": float(np.mean([swd for _, swd in results]))}


def gaussian_statistics(features):
    """mean = (1/N) sum_i x_i, covariance = (1/(N-1)) sum_i (x_i - mean)(x_i - mean)^T."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"features: expected an array (N, D) with N >= 2, "
                         f"got shape {features.shape}")
    if not np.isfinite(features).all():
        raise ValueError("features: expected finite values, got NaN or infinity")
    mean = features.mean(axis=0)  # (D,)
    centred = features - mean  # (N, D)
    return mean, centred.T @ centred / (len(features) - 1)  # (D,), (D, D)


def _psd_sqrt(matrix):
    """S = V diag(sqrt(max(w, 0))) V^T for the symmetric matrix = V diag(w) V^T."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T  # (D, D)


def frechet_distance(mean1, cov1, mean2, cov2):
    """||m1 - m2||^2 + tr(C1) + tr(C2) - 2 sum_i sqrt(eig_i(S C2 S)), S = C1^(1/2)."""
    arrays = {"mean1": mean1, "cov1": cov1, "mean2": mean2, "cov2": cov2}
    arrays = {name: np.asarray(value, dtype=np.float64) for name, value in arrays.items()}
    size = arrays["mean1"].shape[0] if arrays["mean1"].ndim == 1 else None
    expected = {"mean1": (size,), "cov1": (size, size), "mean2": (size,), "cov2": (size, size)}
    shapes = ", ".join(f"{name} {value.shape}" for name, value in arrays.items())
    for name, value in arrays.items():
        if size is None or value.shape != expected[name]:
            raise ValueError(f"{name}: expected shape (D,) for means and (D, D) for covariances, "
                             f"with one D for all; got {shapes}")
        if not np.isfinite(value).all():
            raise ValueError(f"{name}: expected finite values, got NaN or infinity")
    mean1, cov1, mean2, cov2 = arrays.values()
    root = _psd_sqrt(cov1)  # (D, D)
    middle = root @ cov2 @ root  # similar to C1 C2 up to its zero eigenvalues, symmetric PSD
    eigenvalues = np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)
    distance = (np.sum(np.square(mean1 - mean2)) + np.trace(cov1) + np.trace(cov2)
                - 2 * np.sum(np.sqrt(eigenvalues)))
    return max(float(distance), 0.0)  # rounding can leave a tiny negative for equal Gaussians


def classifier_score(probabilities, splits=SCORE_SPLITS):
    """exp(mean_x KL(p(y|x) || p(y))) per split, p(y) the split's mean; returns (mean, std)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    splits = _check_count("splits", splits)
    if probabilities.ndim != 2 or len(probabilities) < splits:
        raise ValueError(f"probabilities: expected an array (N, K) with N >= splits = {splits}, "
                         f"got shape {probabilities.shape}")
    if not np.isfinite(probabilities).all() or (probabilities < 0).any():
        raise ValueError("probabilities: expected finite non-negative values (softmax outputs)")
    sums = probabilities.sum(axis=1)  # (N,)
    worst = int(np.argmax(np.abs(sums - 1)))
    if abs(sums[worst] - 1) > SUM_TOLERANCE:
        raise ValueError(f"probabilities: expected rows that sum to 1 within {SUM_TOLERANCE}, "
                         f"got a row (index {worst}) that sums to {sums[worst]:.6g}")
    scores = []
    for part in np.array_split(probabilities, splits):  # (n, K), sizes differ by at most 1
        marginal = part.mean(axis=0, keepdims=True)  # (1, K)
        ratio = np.where(part > 0, part, 1) / np.where(marginal > 0, marginal, 1)
        kl = np.sum(np.where(part > 0, part * np.log(ratio), 0), axis=1)  # 0 log 0 = 0
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))
