"""The tour's pictures, drawn from tinygan itself: python docs/diagrams.py writes docs/images/.

  graph.png        a one-neuron graph, tanh(x1 w1 + x2 w2 + b), with each tensor's value and
                   gradient (tinygan.viz, values=True; needs Graphviz's dot, else graph.dot only)
  graph_dcgan.png  the autograd graph of the DCGAN's D loss, top to bottom (tinygan.viz)
  layout.png       an activation (N, C, H, W) as it lies in memory: channel-major
  im2col.png       the col matrix of a 3x3 conv over a 4x4 image: each column one output
                   pixel's window
  winograd.png     Winograd F(4x4, 2x2) on one tile in its four steps, with numbers and shapes
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
from tinygan.backend import winograd as wg  # noqa: E402
from tinygan.gan import dcgan  # noqa: E402
from tinygan.io import atomic_write  # noqa: E402

OUT = Path(__file__).resolve().parent / "images"


def save(fig, name):
    with atomic_write(OUT / name) as file:
        fig.savefig(file, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {OUT / name}")


def graph():
    """A neuron, o = tanh(x1 w1 + x2 w2 + b), with the numbers of micrograd's lecture: each
    tensor's value and the gradient of o with respect to it."""
    x1, x2, w1, w2, b = (tg.tensor(v, requires_grad=True)
                         for v in (2.0, 0.0, -3.0, 1.0, 6.8813735870195432))
    o = (x1 * w1 + x2 * w2 + b).tanh()
    names = {x1: "x1", x2: "x2", w1: "w1", w2: "w2", b: "b"}
    for path in viz.save(o, OUT / "graph", names, values=True, rankdir="TB"):
        print(f"wrote {path}")


def graph_dcgan():
    """The DCGAN's D loss on a real and a fake batch (D 8 channels wide, so that the shapes stay
    short), drawn by tinygan.viz top to bottom."""
    tg.manual_seed(0)
    D = dcgan.Discriminator(ndf=8)
    real, fake = (tg.Tensor(np.zeros((2, 3, 32, 32), np.float32)) for _ in range(2))
    loss = gan.discriminator_loss(gan.Recipe(), D(real), D(fake))
    names = {p: f"D.{n}" for n, p in D.named_parameters()}
    for path in viz.save(loss, OUT / "graph_dcgan", names, rankdir="TB"):
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
    """Winograd F(4x4, 2x2) on one 5x5 tile d and one 2x2 kernel g (one of the 4C channels), in
    its four steps with tinygan's matrices; the output tile is checked against the direct conv."""
    b_t, g_mat, a_t = (np.array(m, np.float64) for m in (wg.B_T, wg.G, wg.A_T))
    d = np.random.default_rng(0).integers(-2, 4, (5, 5)).astype(np.float64)
    g = np.array([[1.0, 2.0], [-1.0, 1.0]])
    v, u = b_t @ d @ b_t.T, g_mat @ g @ g_mat.T
    m = u * v
    y = a_t @ m @ a_t.T
    direct = np.array([[np.sum(d[i:i + 2, j:j + 2] * g) for j in range(4)] for i in range(4)])
    assert np.allclose(y, direct), "Winograd's tile differs from the direct conv"
    fig, axes = plt.subplots(2, 3, figsize=(8.5, 6.4), gridspec_kw={"hspace": 0.25})
    fig.subplots_adjust(top=0.8)
    panels = [
        (d, "input tile d (5x5),\none channel of the space-to-depth image"),
        (v, "1. input transform\nV = B^T d B: (5x5)(5x5)(5x5) -> 5x5"),
        (m, "3. elementwise product\nM = U * V: 25 products, 5x5"),
        (g, "kernel g (2x2), the same channel"),
        (u, "2. filter transform\nU = G g G^T: (5x2)(2x2)(2x5) -> 5x5"),
        (np.round(y), "4. output transform, the output tile\nY = A^T M A: (4x5)(5x5)(5x4) -> 4x4"),
    ]
    for ax, (values, title) in zip(axes.flat, panels):
        ax.imshow(np.sign(values), cmap="coolwarm", vmin=-3, vmax=3)
        for (row, col), value in np.ndenumerate(values):
            text = f"{value:.2f}".rstrip("0").rstrip(".")
            ax.text(col, row, "0" if text == "-0" else text, ha="center", va="center", fontsize=8)
        rows, cols = values.shape
        ax.hlines(np.arange(rows + 1) - 0.5, -0.5, cols - 0.5, color="white", linewidth=2)
        ax.vlines(np.arange(cols + 1) - 0.5, -0.5, rows - 0.5, color="white", linewidth=2)
        ax.set_xlim(-0.5, 4.5)
        ax.set_ylim(4.5, -0.5)
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    fig.suptitle("Winograd F(4x4, 2x2), tinygan/backend/winograd.py: a 4x4 stride-2 conv is a 2x2 "
                 "conv over 4C channels,\nand each 4x4 output tile costs 25 products per channel "
                 "instead of 64. Over the 4C channels, step 3\nis 25 matrix products (OC, 4C) @ "
                 "(4C, T), T tiles. Y here equals the direct 2x2 conv of d with g.", fontsize=9)
    save(fig, "winograd.png")


def main():
    OUT.mkdir(exist_ok=True)
    for draw in (graph, graph_dcgan, layout, im2col, winograd):
        draw()
    return 0


if __name__ == "__main__":
    sys.exit(main())
