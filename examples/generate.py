"""Images from a trained generator: a sample grid and latent interpolation strips.

    python examples/generate.py runs/dcgan/checkpoint.npz
    python examples/generate.py runs/dcgan/checkpoint.npz --n 100 --seed 3 --out pictures/

Writes grid.png (N samples), interpolation_linear.png and interpolation_slerp.png (each row
walks from one random z to another; slerp follows the great circle, which keeps |z| near the
typical radius sqrt(nz) of a Gaussian, where linear paths dip toward the origin).
"""
import argparse
import sys
from pathlib import Path

import tinygan as tg  # first: it sets OpenBLAS's thread timeout before NumPy loads it
import numpy as np

from tinygan import backend as backends
from tinygan import data, dcgan, io, visual


def lerp(z0, z1, t):
    """(1 - t) z0 + t z1"""
    return (1 - t) * z0 + t * z1


def slerp(z0, z1, t):
    """sin((1 - t) w) / sin(w) z0 + sin(t w) / sin(w) z1, with w the angle between z0 and z1."""
    cos = np.dot(z0.ravel(), z1.ravel()) / (np.linalg.norm(z0) * np.linalg.norm(z1))
    omega = np.arccos(np.clip(cos, -1, 1))
    if np.sin(omega) < 1e-6:  # (anti)parallel: the great circle is not defined, go straight
        return lerp(z0, z1, t)
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)


def interpolation(rng, nz, rows, steps, path):
    """(rows * steps, nz, 1, 1) latents: each row follows ``path`` from one random z to another."""
    ends = rng.standard_normal((rows, 2, nz, 1, 1)).astype(np.float32)
    ts = np.linspace(0, 1, steps)
    return np.stack([path(z0, z1, t) for z0, z1 in ends for t in ts]).astype(np.float32)


def load_generator(checkpoint_path, device):
    """The generator saved in a training checkpoint, in eval mode on ``device``, and its config."""
    checkpoint = io.load_checkpoint(checkpoint_path)
    config = checkpoint["meta"]["config"]
    G = dcgan.Generator(config["nz"], config["ngf"], 3, config["image_size"])
    G.load_state_dict(checkpoint["modules"]["G"])
    return G.to(device).eval(), config


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="checkpoint.npz written by train_cifar.py")
    parser.add_argument("--n", type=int, default=64, help="samples in the grid (default: 64)")
    parser.add_argument("--nrow", type=int, default=8, help="images per grid row (default: 8)")
    parser.add_argument("--rows", type=int, default=4, help="interpolation rows (default: 4)")
    parser.add_argument("--steps", type=int, default=10,
                        help="images per interpolation row (default: 10)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the latent vectors (default: 0)")
    parser.add_argument("--backend", choices=["numpy", "cupy"], default="numpy",
                        help="default: numpy")
    parser.add_argument("--out", help="output folder (default: generated/ beside the checkpoint)")
    args = parser.parse_args(argv)
    if min(args.n, args.nrow, args.rows, args.steps) < 1:
        parser.error("--n, --nrow, --rows and --steps must be >= 1")
    try:
        device = {"numpy": "cpu", "cupy": "cuda"}[args.backend]
        G, config = load_generator(args.checkpoint, device)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(args.checkpoint).parent / "generated"
    rng = np.random.default_rng(args.seed)
    backend = backends.get(device)

    def render(z):
        with tg.no_grad():
            return data.to_uint8(G(tg.Tensor(backend.asarray(z))).numpy())

    visual.save_grid(out / "grid.png",
                     render(rng.standard_normal((args.n, config["nz"], 1, 1)).astype(np.float32)),
                     nrow=args.nrow, scale=2)
    for name, path in (("linear", lerp), ("slerp", slerp)):
        z = interpolation(np.random.default_rng([args.seed, 1]), config["nz"],
                          args.rows, args.steps, path)
        visual.save_grid(out / f"interpolation_{name}.png", render(z), nrow=args.steps, scale=2)
    print(f"wrote grid.png, interpolation_linear.png and interpolation_slerp.png to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
