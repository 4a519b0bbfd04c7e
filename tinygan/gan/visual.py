"""Pictures: image grids as PNG files and training curves as a matplotlib figure."""
import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from ..io import atomic_write  # noqa: E402


def make_grid(images, nrow=8, padding=2):
    """uint8 (N, C, H, W) -> one uint8 (rows * (H + p) + p, nrow * (W + p) + p, C) image; other
    arrays are refused (a float image in [-1, 1] cast to uint8 would be black)."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise TypeError(f"make_grid: expected uint8 images (N, C, H, W) in [0, 255], got "
                        f"{images.dtype} {images.shape} (floats in [-1, 1]: data.to_uint8 first, "
                        "or tinygan.vision.utils.save_image with normalize=True)")
    n, c, h, w = images.shape
    rows = -(-n // nrow)
    grid = np.zeros((rows * (h + padding) + padding, nrow * (w + padding) + padding, c), np.uint8)
    for i, image in enumerate(images):
        top, left = padding + (i // nrow) * (h + padding), padding + (i % nrow) * (w + padding)
        grid[top:top + h, left:left + w] = image.transpose(1, 2, 0)
    return grid


def save_png(path, image):
    """Write a uint8 (H, W, 3) or (H, W, 1) image as PNG, atomically."""
    with atomic_write(path) as file:
        Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image).save(
            file, format="PNG")


def save_grid(path, images, nrow=8, scale=1):
    """uint8 (N, C, H, W) images as one PNG grid, each pixel repeated ``scale`` times."""
    grid = make_grid(images, nrow)
    save_png(path, grid.repeat(scale, axis=0).repeat(scale, axis=1))


def plot_history(path, history):
    """Losses and D outputs against step, from a dict of equal-length lists, as a PNG."""
    fig, (losses, outputs) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for key in ("loss_D", "loss_G"):
        losses.plot(*_finite(history["step"], history[key]), label=key, linewidth=0.8)
    losses.set_ylabel("loss")
    for key, label in (("D_x", "D(x)"), ("D_G_z", "D(G(z))")):
        outputs.plot(*_finite(history["step"], history[key]), label=label, linewidth=0.8)
    outputs.set_ylabel("mean D output (probability for bce, else score)")
    outputs.set_xlabel("step")
    for axis in (losses, outputs):
        axis.legend(loc="upper right")
        axis.grid(alpha=0.3)
    save_figure(fig, path)


def _finite(x, y):
    """The points of (x, y) whose y is finite (a G loss is NaN on critic-only steps)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    keep = np.isfinite(y)
    return x[keep], y[keep]


def plot_grad_norms(path, steps, norms):
    """Gradient L2 norm of each named weight against step, G and D apart, log scale, as a PNG."""
    fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for axis, model in zip(axes, ("G", "D")):
        for name, values in norms.items():
            if name.startswith(model + "/"):
                axis.plot(*_finite(steps, values), label=name[2:], linewidth=0.7)
        axis.set_yscale("log")
        axis.set_ylabel(f"{model}: |grad| per layer")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="upper right")
    axes[-1].set_xlabel("step")
    save_figure(fig, path)


def save_figure(fig, path):
    """Write a figure as PNG atomically and close it."""
    fig.tight_layout()
    with atomic_write(path) as file:
        fig.savefig(file, format="png", dpi=100)
    plt.close(fig)


def plot_class_shares(path, shares, names, title):
    """Bar chart of the share of samples per class, with the uniform share dashed, as a PNG."""
    fig, axis = plt.subplots(figsize=(8, 3))
    axis.bar(range(len(shares)), shares)
    axis.axhline(1 / len(shares), linestyle="--", color="gray", label="uniform")
    axis.set_xticks(range(len(shares)), names, rotation=30, fontsize=8)
    axis.set_ylabel("share of samples")
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=8)
    save_figure(fig, path)


METRIC_TITLES = {"swd": "SWD x1e3 (lower is better)",
                 "frechet": "Fréchet distance, own classifier (lower is better)",
                 "score": "classifier score (higher is better)",
                 "probe": "D-features probe accuracy (higher is better)",
                 "classes_covered": "CIFAR-10 classes covered (of 10, our classifier's votes)"}


def plot_metrics(path, epochs, series, baselines=None):
    """One panel per metric: values of ``series`` {metric: list} against epoch, and each
    baseline {label: {metric: value}} as a dashed horizontal line, as a PNG."""
    names = [m for m in series if np.isfinite(series[m]).any()]
    fig, axes = plt.subplots(len(names), 1, figsize=(7, 2.4 * len(names)), sharex=True,
                             squeeze=False)
    for axis, name in zip(axes[:, 0], names):
        axis.plot(epochs, series[name], marker="o", label="trained G")
        for (label, values), style in zip((baselines or {}).items(), ("--", ":", "-.")):
            if np.isfinite(values.get(name, np.nan)):
                axis.axhline(values[name], linestyle=style, color="gray", label=label)
        axis.set_title(METRIC_TITLES.get(name, name), fontsize=10)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    axes[-1, 0].set_xlabel("epoch")
    save_figure(fig, path)
