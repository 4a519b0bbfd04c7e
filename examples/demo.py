"""A quick tour of tinygan: a small Conv/BN/LeakyReLU net learns to tell stripes apart.

Horizontal stripes are class 1, vertical stripes class 0, both with noise. The loop is the
same as PyTorch's: forward, loss, zero_grad, backward, step.

    python examples/demo.py
    python examples/demo.py --steps 200 --batch-size 64
"""
import argparse
import sys

import tinygan as tg  # first: it sets OpenBLAS's thread timeout before NumPy loads it
import numpy as np

from tinygan import nn, ops, optim
from tinygan.gan import cli


def stripes(rng, n, size=16):
    """n noisy stripe images (n, 1, size, size) and labels (n, 1): 1 = horizontal."""
    labels = rng.integers(0, 2, n)
    phase = rng.integers(0, 4, n)[:, None]
    wave = np.sin((np.arange(size)[None, :] + phase) * np.pi / 2)  # (n, size)
    images = np.where(labels[:, None, None] == 1, wave[:, :, None], wave[:, None, :])
    images = images + 0.5 * rng.standard_normal((n, size, size))
    return images[:, None].astype(np.float32), labels[:, None].astype(np.float32)


def parse_args(argv):
    """The command line: --steps and --batch-size, checked (one line and status 2 if bad)."""
    parser = cli.Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60, help="training steps (default: 60)")
    parser.add_argument("--batch-size", type=int, default=32,
                        help="images per step, >= 2 for batch norm (default: 32)")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    if args.batch_size < 2:
        parser.error(f"--batch-size must be >= 2 (batch norm needs two images), got "
                     f"{args.batch_size}")
    return args


def main(argv=None):
    """Command-line entry point: train the net and print its accuracy; the exit status."""
    args = parse_args(argv)
    train(args.steps, args.batch_size)
    return 0


def train(steps, batch_size):
    """Train the stripe classifier, printing its progress and its held-out accuracy."""
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    net = nn.Sequential(
        nn.Conv2d(1, 8, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),  # (N, 8, 8, 8)
        nn.Conv2d(8, 16, 4, 2, 1, bias=False), nn.BatchNorm2d(16),
        nn.LeakyReLU(0.2),  # (N, 16, 4, 4)
        nn.Conv2d(16, 1, 4, 1, 0, bias=False), nn.Flatten(),  # (N, 1) logits
    )
    opt = optim.Adam(net.parameters(), lr=2e-3, betas=(0.5, 0.999))
    print(f"parameters: {sum(p.numel() for p in net.parameters()):,}")
    for step in range(1, steps + 1):
        images, labels = stripes(rng, batch_size)
        logits = net(tg.Tensor(images))
        loss = ops.binary_cross_entropy_with_logits(logits, tg.Tensor(labels))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 10 == 0:
            accuracy = np.mean((logits.numpy() > 0) == (labels > 0.5))
            print(f"step {step:3d}  loss {loss.item():.4f}  batch accuracy {accuracy:.0%}")
    net.eval()
    images, labels = stripes(rng, 256)
    with tg.no_grad():
        accuracy = np.mean((net(tg.Tensor(images)).numpy() > 0) == (labels > 0.5))
    print(f"held-out accuracy: {accuracy:.1%}")


if __name__ == "__main__":
    sys.exit(main())
