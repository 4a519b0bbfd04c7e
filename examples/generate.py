"""Images from a trained generator: a sample grid, latent interpolation strips, latent arithmetic.

    python examples/generate.py runs/dcgan/checkpoint.npz
    python examples/generate.py runs/dcgan/checkpoint.npz --n 100 --seed 3 --out pictures/
    python examples/generate.py runs/dcgan/checkpoint.npz --arithmetic "3,17,40 - 5,9 + 22"
    python examples/generate.py netG_epoch_24.pth   # pytorch/examples' DCGAN G (no PyTorch)
    python examples/generate.py runs/dcgan/checkpoint.npz --export G.onnx   # and G as ONNX

Writes grid.png (N samples), interpolation_linear.png and interpolation_slerp.png (each row
walks from one random z to another; slerp follows the great circle, which keeps |z| near the
typical radius sqrt(nz) of a Gaussian, where linear paths dip toward the origin). With
--arithmetic, arithmetic.png: one row per term (its grid samples, numbered from 0 in reading
order, then the image of their mean z), and a last row decoding the signed sum of the means
and 7 neighbours of it (plus uniform noise of +-0.25, as in the DCGAN paper's figure 7).
"""
import argparse
import re
import sys
from pathlib import Path

import tinygan as tg  # first: it sets OpenBLAS's thread timeout before NumPy loads it
import numpy as np

from tinygan import backend as backends
from tinygan import gan, io
from tinygan.gan import cli, data, dcgan, visual


MAX_IMAGES = 10000  # images of one picture (a grid of 100 x 100)
RENDER_BATCH = 256  # images G draws at once
# Random streams besides the grid's (default_rng(seed)): default_rng([seed, STREAM])
INTERPOLATION, ARITHMETIC_NOISE = 1, 2


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


def parse_arithmetic(text, count):
    """'3,17 - 5 + 22' -> [(+1, [3, 17]), (-1, [5]), (+1, [22])], indices checked against count."""
    terms = re.findall(r"([+-]?)\s*([\d\s,]+)", text.strip())
    if not terms or "".join(sign + group for sign, group in terms).replace(" ", "") != \
            text.replace(" ", ""):
        raise ValueError(f"--arithmetic {text!r}: expected groups of grid indices joined by + and "
                         "-, e.g. '3,17,40 - 5,9 + 22'")
    parsed = [(-1 if sign == "-" else 1, [int(i) for i in group.replace(" ", "").split(",") if i])
              for sign, group in terms]
    empty = [f"{sign}{group.strip()}" for (sign, group), (_, indices) in zip(terms, parsed)
             if not indices]
    if empty:
        raise ValueError(f"--arithmetic {text!r}: expected at least one grid index in every term, "
                         f"got a term without one: {empty[0]!r}")
    bad = [i for _, group in parsed for i in group if i >= count]
    if bad:
        raise ValueError(f"--arithmetic: indices {bad} are not in the grid of {count} samples")
    return parsed


def arithmetic(z_grid, terms, rng):
    """Rows of latents: per term its samples and their mean (padded with the mean), then the
    signed sum of the means and 7 noisy neighbours: (rows * 8, nz, 1, 1)."""
    rows, total = [], 0
    for sign, group in terms:
        mean = z_grid[group].mean(axis=0)
        total = total + sign * mean
        rows.append(np.stack((list(z_grid[group]) + [mean] * 8)[:7] + [mean]))
    noise = rng.uniform(-0.25, 0.25, (7,) + total.shape).astype(np.float32)
    rows.append(np.concatenate([total[None], total + noise]))
    return np.concatenate(rows).astype(np.float32)


def load_generator(checkpoint_path, device, raw_g=False):
    """The generator saved in a training checkpoint (its --ema average unless raw_g, where the
    run kept one) or in PyTorch's DCGAN weights (torch.save or .safetensors), in eval mode on
    ``device``, and its config."""
    if dcgan.holds_torch_weights(checkpoint_path):
        G, config = dcgan.torch_generator(checkpoint_path)
        print(f"sampling the PyTorch DCGAN generator of {checkpoint_path}")
        return G.to(device).eval(), config
    checkpoint = io.load_training_checkpoint(checkpoint_path)
    config = checkpoint["meta"]["config"]
    G, _ = dcgan.models(config)
    state, which = dcgan.generator_state(checkpoint, raw_g)
    G.load_state_dict(state)
    print(f"sampling the {which} of {checkpoint_path}")
    return G.to(device).eval(), config


def main(argv=None):
    parser = cli.Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="checkpoint.npz written by train_cifar.py, or a "
                                           "PyTorch DCGAN generator's weights (.pth, "
                                           ".safetensors)")
    parser.add_argument("--n", type=int, default=64, help="samples in the grid (default: 64)")
    parser.add_argument("--nrow", type=int, default=8, help="images per grid row (default: 8)")
    parser.add_argument("--rows", type=int, default=4, help="interpolation rows (default: 4)")
    parser.add_argument("--steps", type=int, default=10,
                        help="images per interpolation row (default: 10)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the latent vectors (default: 0)")
    parser.add_argument("--backend", choices=["numpy", "cupy"], default="numpy",
                        help="default: numpy")
    parser.add_argument("--arithmetic", metavar="TERMS",
                        help="latent arithmetic on grid indices, e.g. '3,17,40 - 5,9 + 22'")
    parser.add_argument("--raw-g", action="store_true",
                        help="sample the trained G itself, not its --ema average (the default "
                             "where the run kept one)")
    parser.add_argument("--out", help="output folder (default: generated/ beside the checkpoint)")
    parser.add_argument("--export", metavar="G.onnx",
                        help="also write G as ONNX, any batch size (z -> image; needs "
                             "pip install -e \".[interop]\")")
    args = parser.parse_args(argv)
    parser.check((
            (1 <= args.n <= MAX_IMAGES, f"--n must be in [1, {MAX_IMAGES}], got {args.n}"),
            (1 <= args.nrow <= MAX_IMAGES,
             f"--nrow must be in [1, {MAX_IMAGES}], got {args.nrow}"),
            (args.rows >= 1, f"--rows must be >= 1, got {args.rows}"),
            (args.steps >= 2, "--steps must be >= 2 (a row walks from one z to another), got "
                              f"{args.steps}"),
            (args.rows * args.steps <= MAX_IMAGES, f"--rows x --steps must be <= {MAX_IMAGES}, "
                                                   f"got {args.rows} x {args.steps}"),
            (args.seed >= 0, f"--seed must be >= 0, got {args.seed}"),
            (not args.out or Path(args.out).is_dir() or not Path(args.out).exists(),
             f"--out {args.out}: expected a folder, got a file"),
            (not args.export or not Path(args.export).is_dir(),
             f"--export {args.export}: expected a file to write, got a folder")))
    try:
        device = {"numpy": "cpu", "cupy": "cuda"}[args.backend]
        backend = backends.get(device)
        G, config = load_generator(args.checkpoint, device, args.raw_g)
        terms = parse_arithmetic(args.arithmetic, args.n) if args.arithmetic else None
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        if args.export:
            export_onnx(G, config["nz"], args.export, device)
        write_pictures(args, G, config, terms, backend)
    except (io.WriteError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def export_onnx(G, nz, path, device):
    """G as ONNX at path: input z (batch, nz, 1, 1), output image (batch, 3, H, W) in [-1, 1]."""
    tg.onnx.export(G, tg.randn(2, nz, 1, 1, device=device), path, input_names=["z"],
                   output_names=["image"],
                   dynamic_axes={"z": {0: "batch"}, "image": {0: "batch"}})
    print(f"wrote {path}: z (batch, {nz}, 1, 1) -> image in [-1, 1]")


def write_pictures(args, G, config, terms, backend):
    """grid.png, the interpolation strips and, with terms, arithmetic.png, in --out."""
    out = Path(args.out) if args.out else Path(args.checkpoint).parent / "generated"
    rng = np.random.default_rng(args.seed)

    def render(z):  # in batches, so that G's layers hold one batch's images at a time
        with tg.no_grad():
            return np.concatenate([data.to_uint8(G(tg.Tensor(backend.asarray(
                z[i:i + RENDER_BATCH]))).numpy()) for i in range(0, len(z), RENDER_BATCH)])

    z_grid = gan.sample_latent(rng, (args.n, config["nz"], 1, 1), config.get("prior", "gaussian"))
    visual.save_grid(out / "grid.png", render(z_grid), nrow=args.nrow, scale=2)
    if terms:
        z = arithmetic(z_grid, terms, np.random.default_rng([args.seed, ARITHMETIC_NOISE]))
        visual.save_grid(out / "arithmetic.png", render(z), nrow=8, scale=2)
        print(f"wrote arithmetic.png: {len(terms)} term rows and the result row")
    for name, path in (("linear", lerp), ("slerp", slerp)):
        z = interpolation(np.random.default_rng([args.seed, INTERPOLATION]), config["nz"],
                          args.rows, args.steps, path)
        visual.save_grid(out / f"interpolation_{name}.png", render(z), nrow=args.steps, scale=2)
    print(f"wrote grid.png, interpolation_linear.png and interpolation_slerp.png to {out}/")


if __name__ == "__main__":
    sys.exit(main())
