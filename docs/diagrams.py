"""The tour's pictures, drawn from tinygan itself: python docs/diagrams.py writes docs/images/.

  graph.png    the autograd graph of the DCGAN's D loss (tinygan.viz; needs Graphviz's dot,
               else graph.dot only)
  layout.png   an activation (N, C, H, W) as it lies in memory: channel-major
  im2col.png   the col matrix of a 3x3 conv over a 4x4 image: each column one output
               pixel's window
  winograd.png one Winograd F(4x4, 2x2) tile: the 5x5 input tile under a 4x4 output tile
"""
import sys
from pathlib import Path

import tinygan as tg  # first: it sets OpenBLAS's thread timeout before NumPy loads it
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tinygan import gan, viz  # noqa: E402
from tinygan.backend import cpu  # noqa: E402
from tinygan.gan import dcgan  # noqa: E402
from tinygan.io import atomic_write  # noqa: E402

OUT = Path(__file__).resolve().parent / "images"


def save(fig, name):
    with atomic_write(OUT / name) as file:
        fig.savefig(file, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {OUT / name}")


def graph():
    """The DCGAN's D loss on a real and a fake batch (D 8 channels wide, so that the shapes stay
    short), drawn by tinygan.viz."""
    tg.manual_seed(0)
    D = dcgan.Discriminator(ndf=8)
    real, fake = (tg.Tensor(np.zeros((2, 3, 32, 32), np.float32)) for _ in range(2))
    loss = gan.discriminator_loss(gan.Recipe(), D(real), D(fake))
    names = {p: f"D.{n}" for n, p in D.named_parameters()}
    for path in viz.save(loss, OUT / "graph", names):
        print(f"wrote {path}")


def layout():
    """Numbers 0..N*C*H*W-1 in memory order, shown at their (n, c, h, w) place."""
    n, c, h, w = 2, 3, 2, 2
    memory = np.arange(n * c * h * w).reshape(c, n, h, w)  # channel-major: (C, N, H, W)
    fig, axes = plt.subplots(n, c, figsize=(6, 4))
    for i in range(n):
        for j in range(c):
            axes[i, j].imshow(memory[j, i], cmap="viridis", vmin=0, vmax=memory.max())
            for (y, x), value in np.ndenumerate(memory[j, i]):
                axes[i, j].text(x, y, value, ha="center", va="center", color="white")
            axes[i, j].set_title(f"image n={i}, channel c={j}", fontsize=8)
            axes[i, j].axis("off")
    fig.suptitle("x[n, c, h, w], numbered in memory order: each channel is one run of "
                 "N*H*W numbers", fontsize=9)
    save(fig, "layout.png")


def im2col():
    """The col of a 3x3 conv, padding 1, over one 4x4 image of one channel: 9 rows (taps),
    16 columns (output pixels); each entry the input pixel number it copies (-1: padding)."""
    image = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    col = cpu.im2col(image + 1, (3, 3), (1, 1), (1, 1)).reshape(9, 16) - 1  # padding -> -1
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.imshow(col < 0, cmap="Greys", vmin=0, vmax=3)
    for (y, x), value in np.ndenumerate(col):
        ax.text(x, y, "pad" if value < 0 else int(value), ha="center", va="center", fontsize=7)
    ax.set_xlabel("column: output pixel (oh, ow) = (0, 0), (0, 1), ... (3, 3)")
    ax.set_ylabel("row: kernel tap (i, j)")
    ax.set_title("col = im2col(x): a 3x3 conv over a 4x4 image, padding 1; entries are the "
                 "input pixels copied. y = w @ col", fontsize=9)
    save(fig, "im2col.png")


def winograd():
    """One output tile of a stride-2 4x4 conv as Winograd sees it: the 4x4 output tile of the
    space-to-depth 2x2 conv and the 5x5 input tile under it, on the padded image."""
    fig, (ax_in, ax_out) = plt.subplots(1, 2, figsize=(9, 4))
    padded = np.zeros((10, 10))
    padded[0:10, 0:10] = 0.2
    padded[1:-1, 1:-1] = 0.5
    ax_in.imshow(padded, cmap="Blues", vmin=0, vmax=1)
    for k in range(5):  # the 5x5 tile of the space-to-depth image: 2x2 pixel blocks
        for m in range(5):
            ax_in.add_patch(plt.Rectangle((2 * m - 0.5, 2 * k - 0.5), 2, 2, fill=False,
                                          edgecolor="crimson"))
    ax_in.set_title("padded input: the 5x5 tile d of 2x2 blocks\n(each block = 4 channels of "
                    "the space-to-depth image)", fontsize=9)
    out = np.zeros((4, 4))
    ax_out.imshow(out, cmap="Greens", vmin=0, vmax=1)
    for (y, x), _ in np.ndenumerate(out):
        ax_out.text(x, y, f"y{y}{x}", ha="center", va="center", fontsize=8)
    ax_out.set_title("the 4x4 output tile: A^T [(G w G^T) * (B^T d B)] A\n25 products instead "
                     "of 64", fontsize=9)
    for ax in (ax_in, ax_out):
        ax.set_xticks([])
        ax.set_yticks([])
    save(fig, "winograd.png")


def main():
    OUT.mkdir(exist_ok=True)
    for draw in (graph, layout, im2col, winograd):
        draw()
    return 0


if __name__ == "__main__":
    sys.exit(main())
