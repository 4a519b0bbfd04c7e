"""A GAN on a ring of 8 Gaussians: what each switch of the recipe book does, in seconds on a CPU.

    python examples/toy_2d.py                       # the default recipe, writes runs/toy_2d/
    python examples/toy_2d.py --g-loss minimax      # the original loss: see G's gradients vanish
    python examples/toy_2d.py --loss wgan --optimizer rmsprop --lr 5e-5 --n-critic 5
    python examples/toy_2d.py --loss wgan --gp 10 --n-critic 5 --lr 1e-4 --beta1 0 --beta2 0.9
    python examples/toy_2d.py --sweep               # every recipe x seeds 0-2 -> bench/results/

The real points are 8 Gaussians (std 0.02) evenly spaced on a circle of radius 2, the setup of
the unrolled-GAN and PacGAN papers. G and D are small MLPs (tinygan's nn.Linear); D returns a raw
score, the losses of tinygan.gan apply the sigmoid where they need it. Writes to --out, each file
atomically: snapshots.png (a row of snapshots over training: real points, G's samples and D's
decision surface, sigmoid(score / T) for bce and the raw score otherwise), training.gif (the same
frames), curves.png (losses, D(x), D(G(z))), grad_norms.png (|grad| of every weight matrix,
log scale: where --g-loss minimax shows its vanishing gradient) and metrics.json. The run ends
with the modes covered and the share of high-quality samples among 2,500 samples of G: a sample
is high quality within 3 std (0.06) of a mode's centre, and a mode is covered when at least 1%
of the samples (25) are high-quality samples of it. All randomness comes from --seed.
"""
import argparse
import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

# The toy's layers are 128 wide: a second BLAS thread costs more than it saves, and on a busy
# 2-core machine it made steps several times slower. OpenBLAS reads this when NumPy loads, so it
# is set only when this file runs as a script: imported (by tests), it would change nothing here
# and leak into every process started afterwards.
if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import tinygan as tg  # noqa: E402  first: it sets OpenBLAS's thread timeout before NumPy loads it
import numpy as np  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402

from tinygan import gan, io, nn, ops  # noqa: E402
from tinygan.gan import cli, dcgan, visual  # noqa: E402
from tinygan.gan.cli import option  # noqa: E402

MODES, RADIUS, STD = 8, 2.0, 0.02
ANGLES = 2 * np.pi * np.arange(MODES) / MODES
CENTRES = RADIUS * np.stack([np.cos(ANGLES), np.sin(ANGLES)], axis=1)  # (MODES, 2)
EVAL_SAMPLES = 2500   # samples of G behind the metrics and the pictures
MIN_SHARE = 0.01      # share of the samples a mode needs to count as covered
SNAPSHOTS = 6         # frames over training, the first at step 0
EXTENT = 3.0          # the pictures show [-EXTENT, EXTENT]^2
SURFACE_POINTS = 120  # D's decision surface is evaluated on a SURFACE_POINTS^2 grid
D_NORMS = ("none", "batch", "layer", "spectral")
BENCH = Path(__file__).resolve().parent.parent / "bench" / "results"
OUTPUTS = ("snapshots.png", "training.gif", "curves.png", "grad_norms.png", "metrics.json")
# An earlier toy_2d.json's rows: each field and its type (lists hold one number per seed)
ROW_FIELDS = {"name": str, "flags": str, "steps": int, "modes": list, "high_quality": list,
              "seconds": list}
SEEDS = (0, 1, 2)
SWEEP_VALUED = ("--only", "--sweep-out")  # the sweep's own flags with a value
# Random streams: numpy.random.default_rng([seed, STREAM, ...]) (1 is no longer used)
STEP_POINTS, EVAL_NOISE, SHOWN_POINTS = 0, 2, 3  # + step, -, -
SWEEP = (  # (name, flags added to the command line): the recipes of --sweep
    ("default", ""),
    ("minimax", "--g-loss minimax"),
    ("n-critic-5", "--n-critic 5"),
    ("minimax-n-critic-5", "--g-loss minimax --n-critic 5"),
    ("lsgan", "--loss lsgan"),
    ("hinge", "--loss hinge"),
    ("wgan", "--loss wgan --optimizer rmsprop --lr 5e-5 --n-critic 5 --clip 0.01 --steps 10000"),
    ("wgan-gp", "--loss wgan --gp 10 --n-critic 5 --lr 1e-4 --beta1 0 --beta2 0.9 --steps 10000"),
    ("r1", "--r1 0.1"),
    ("r1-1", "--r1 1"),
    ("label-smoothing", "--label-smoothing 0.9"),
    ("label-noise", "--label-noise 0.05"),
    ("temperature", "--temperature 2"),
    ("d-norm-batch", "--d-norm batch"),
    ("d-norm-layer", "--d-norm layer"),
    ("uniform-prior", "--prior uniform"),
    ("leaky-g", "--g-activation leaky"),
    ("ema", "--ema 0.999"),
    ("spectral", "--d-norm spectral"),
    ("spectral-hinge", "--d-norm spectral --loss hinge"),
    ("ttur", "--lr-g 3.5e-4 --lr-d 1.4e-3"))


@dataclass
class Config(cli.RecipeOptions):
    """One run's settings; the defaults are a recipe that covers the ring (see --sweep)."""
    d_norm: str = option("none", "normalisation in D's hidden layer: none, batch or layer; or "
                                 "spectral: every layer of D spectrally normalised", D_NORMS)
    lr: float = option(7e-4, "learning rate of G and D")
    steps: int = option(3000, "D updates in all (G is updated every --n-critic of them)")
    batch_size: int = option(256, "real and fake points per step each")
    nz: int = option(8, "length of the latent vector z")
    width: int = option(128, "units of every hidden layer of G and D")
    seed: int = option(0, "seed of weights, data and noise")
    out: str = option("runs/toy_2d", "folder for the pictures and metrics.json: a new or empty "
                                     "folder, or an earlier run's (one that holds only the files "
                                     "a run writes); a file system's root, a file or any other "
                                     "folder is refused")


class UserError(Exception):
    """A bad --out or earlier sweep results: printed as one line, status 2."""


def parse_args(argv=None):
    """The command line as (Config, whether --sweep was given, --only's names or None, the
    sweep's folder); bad values exit with status 2."""
    parser = cli.Parser(description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_options(parser, Config)
    parser.add_argument("--sweep", action="store_true",
                        help="train every recipe of a table (its flags after the ones given here) "
                             "with seeds 0, 1, 2; write bench/results/toy_2d.md, .json, toy_2d/")
    parser.add_argument("--only", metavar="NAME,...", type=lambda text: text.split(","),
                        help="with --sweep: train these recipes only, replacing their rows in "
                             "the tables (one of " + ", ".join(name for name, _ in SWEEP) + ")")
    parser.add_argument("--sweep-out", metavar="DIR", type=Path,
                        help="with --sweep: the folder of toy_2d.md, toy_2d.json and toy_2d/ "
                             "(default: bench/results)")
    given = vars(parser.parse_args(argv))
    sweep, only, sweep_out = given.pop("sweep"), given.pop("only"), given.pop("sweep_out")
    unknown = sorted(set(only or ()) - {name for name, _ in SWEEP})
    if only and not sweep or unknown:
        parser.error(f"--only needs --sweep and names of its recipes; unknown: {unknown}")
    if sweep_out and not sweep:
        parser.error(f"--sweep-out {sweep_out} needs --sweep (a single run writes to --out)")
    config = Config(**given)
    parser.check(((config.steps >= 1, f"--steps must be >= 1, got {config.steps}"),
                  (config.batch_size >= 2,
                   f"--batch-size must be >= 2, got {config.batch_size}"),
                  (0 < config.lr < math.inf,
                   f"--lr must be a finite number > 0, got {config.lr}"),
                  (0 <= config.beta1 < 1, f"--beta1 must be in [0, 1), got {config.beta1}"),
                  (0 <= config.beta2 < 1, f"--beta2 must be in [0, 1), got {config.beta2}"),
                  (config.nz >= 1, f"--nz must be >= 1, got {config.nz}"),
                  (config.width >= 1, f"--width must be >= 1, got {config.width}"),
                  (config.seed >= 0, f"--seed must be >= 0, got {config.seed}")))
    problem = cli.memory_problem(f"--width {config.width} --nz {config.nz} --batch-size "
                                 f"{config.batch_size}", memory_bytes(config))
    if problem:
        parser.error(problem)
    for message in config.recipe_problems():
        parser.error(message)
    return config, sweep, only, sweep_out or BENCH


def memory_bytes(config):
    """A rough upper estimate of a run's memory: the weights of G and D with their gradients,
    Adam's two moments and G's average (5 x 4 bytes each), and 10 float32 copies of a hidden
    layer's output (and of z) for each point of the largest batch: a step's real and fake
    points, the snapshots' samples or the points of D's surface."""
    width, nz = config.width, config.nz
    weights = width * (nz + width + 4) + width * (width + 5)
    points = max(2 * config.batch_size, EVAL_SAMPLES, SURFACE_POINTS ** 2)
    return 20 * weights + 40 * points * (width + nz)


def check_out(out):
    """UserError if --out cannot take a run's files: a file system's root, a file, or a folder
    that holds anything but a run's files and their temporaries."""
    if os.path.ismount(out):
        raise UserError(f"--out {out}: expected a run folder, got the root of a file system")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: expected a folder, got a file")
    others = sorted(p.name for p in out.iterdir() if not is_output(p.name)) if out.is_dir() else []
    if others:
        raise UserError(f"--out {out}: expected a new or empty folder or an earlier run's, got a "
                        f"folder with {len(others)} other entries ({', '.join(others[:3])}"
                        f"{', ...' if len(others) > 3 else ''}); give another --out")


def is_output(name):
    """Whether a file name is one that a run writes, or atomic_write's temporary file of one."""
    temporary = io.TEMPORARY.match(name)
    return (temporary["name"] if temporary else name) in OUTPUTS


def real_points(rng, n):
    """n points x = c_k + STD * e, k uniform over the MODES centres c, e ~ N(0, I), float32."""
    k = rng.integers(0, MODES, n)
    return (CENTRES[k] + STD * rng.standard_normal((n, 2))).astype(np.float32)


def coverage(points):
    """(modes covered, high-quality share): a point is high quality within 3 STD of a centre; a
    mode is covered when at least MIN_SHARE of all points are high quality at it."""
    distances = np.linalg.norm(points[:, None, :] - CENTRES[None], axis=2)  # (N, MODES)
    near = distances < 3 * STD  # NaN points are near nothing
    return int((near.sum(axis=0) >= MIN_SHARE * len(points)).sum()), float(near.any(axis=1).mean())


class LayerNorm(nn.Module):
    """Layer norm of (N, F): each row normalised over its F values (nn.LayerNorm2d, 4-D)."""

    def __init__(self, features):
        super().__init__()
        self.norm = nn.LayerNorm2d(features)

    def forward(self, x):
        return ops.reshape(self.norm(ops.reshape(x, x.shape + (1, 1))), x.shape)


def generator(config):
    """z (N, nz) -> Linear -> act -> Linear -> act -> Linear -> point (N, 2)."""
    slope = dcgan.G_SLOPES[config.g_activation]
    return nn.Sequential(nn.Linear(config.nz, config.width), nn.LeakyReLU(slope),
                         nn.Linear(config.width, config.width), nn.LeakyReLU(slope),
                         nn.Linear(config.width, 2))


def discriminator(config):
    """x (N, 2) -> Linear -> LeakyReLU -> Linear -> [norm] -> LeakyReLU -> Linear -> score (N,).

    As in the DCGAN discriminator, the layer that sees the data has no normalisation; spectral
    normalisation, a bound on each layer's weights, applies to all three Linears."""
    width = config.width
    hidden = {"layer": [LayerNorm(width), nn.LeakyReLU(0.2)],
              "batch": [nn.BatchNormAct2d(width, negative_slope=0.2)]}.get(config.d_norm,
                                                                          [nn.LeakyReLU(0.2)])
    linears = [nn.Linear(2, width), nn.Linear(width, width), nn.Linear(width, 1)]
    if config.d_norm == "spectral":
        linears = [nn.SpectralNorm(linear) for linear in linears]
    return nn.Sequential(linears[0], nn.LeakyReLU(0.2), linears[1], *hidden, linears[2],
                         nn.Flatten(start_dim=0))


def d_surface(D, config):
    """D's output on the grid over the picture, (SURFACE_POINTS, SURFACE_POINTS), row = y:
    sigmoid(score / T) for bce, the raw score otherwise; batch norm uses running statistics."""
    axis = np.linspace(-EXTENT, EXTENT, SURFACE_POINTS, dtype=np.float32)
    grid = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    D.eval()
    values = gan.d_values(config.recipe(), D(tg.Tensor(grid)).numpy())
    D.train()
    return values.reshape(SURFACE_POINTS, SURFACE_POINTS)


@dataclass
class Result:
    """What a run leaves: its settings, frames, per-step history and final metrics."""
    config: Config
    frames: list      # {"step", "fake" (EVAL_SAMPLES, 2), "surface", "modes", "high_quality"}
    history: dict     # {"step", "loss_D", "loss_G", "D_x", "D_G_z": list}
    grad_norms: dict  # {"G/name" or "D/name": list, NaN where the model was not updated}
    modes: int
    high_quality: float
    seconds: float    # training time, pictures and metrics excluded


def snapshot(G, D, config, z, step):
    """A frame: G's samples from the fixed noise z, D's surface and the metrics of the samples."""
    with tg.no_grad():
        fake = G(tg.Tensor(z)).numpy()
        surface = d_surface(D, config)
    modes, high_quality = coverage(fake)
    return {"step": step, "fake": fake, "surface": surface, "modes": modes,
            "high_quality": high_quality}


def train(config, verbose=True):
    """Train G and D with the recipe; returns a Result."""
    tg.manual_seed(config.seed)
    G, D = generator(config), discriminator(config)
    opt_G, opt_D = config.make_optimizers(G, D)
    G_ema = config.averaged_generator(G)
    sampler = G if G_ema is None else G_ema.module  # draws the snapshots and the metrics
    rules = config.recipe()
    z = gan.sample_latent(np.random.default_rng([config.seed, EVAL_NOISE]),
                          (EVAL_SAMPLES, config.nz), config.prior)
    snapshot_at = set(np.linspace(0, config.steps, SNAPSHOTS).round().astype(int).tolist())
    history = {k: [] for k in ("step", "loss_D", "loss_G", "D_x", "D_G_z")}
    weights = [f"{prefix}/{name}" for prefix, model in (("G", G), ("D", D))
               for name, p in model.named_parameters() if p.ndim == 2]
    norms, frames, seconds = {name: [] for name in weights}, [], 0.0
    if verbose:
        print(f"G: {dcgan.count_parameters(G):,} parameters, D: {dcgan.count_parameters(D):,}; "
              f"{config.steps:,} steps of {config.batch_size} points; {rules}")
    for step in range(config.steps + 1):
        if step in snapshot_at:
            frames.append(snapshot(sampler, D, config, z, step))
            if verbose:
                last = {k: v[-1] if v else float("nan") for k, v in history.items()}
                frame = frames[-1]
                print(f"step {step:6,}  loss_D {last['loss_D']:7.3f}  loss_G {last['loss_G']:7.3f}"
                      f"  D(x) {last['D_x']:6.3f}  D(G(z)) {last['D_G_z']:6.3f}  modes "
                      f"{frame['modes']}/{MODES}  high quality {frame['high_quality']:.1%}")
        if step == config.steps:
            break
        began = time.perf_counter()
        rng = np.random.default_rng([config.seed, STEP_POINTS, step])
        real = tg.Tensor(real_points(rng, config.batch_size))
        noise = tg.Tensor(gan.sample_latent(rng, (config.batch_size, config.nz), config.prior))
        update_G = (step + 1) % config.n_critic == 0
        metrics = gan.train_step(G, D, opt_G, opt_D, real, noise, rules, update_G, rng)
        if update_G and G_ema is not None:
            G_ema.update(G)
        seconds += time.perf_counter() - began
        step_norms = metrics.pop("grad_norms")
        for k, value in ({"step": step + 1} | metrics).items():
            history[k].append(value)
        for name in weights:
            norms[name].append(step_norms.get(name, float("nan")))
    return Result(config, frames, history, norms, frames[-1]["modes"], frames[-1]["high_quality"],
                  seconds)


def draw_frame(axis, frame, config, real):
    """One snapshot on a matplotlib axis: D's surface (filled contours), real points, samples."""
    grid = np.linspace(-EXTENT, EXTENT, SURFACE_POINTS)
    surface = frame["surface"]
    levels = np.linspace(0, 1, 11) if config.loss == "bce" else 10
    if np.isfinite(surface).all():
        axis.contourf(grid, grid, surface, levels=levels, cmap="RdBu_r", alpha=0.8)
    axis.scatter(*real.T, s=2, c="black", linewidths=0, label="real")
    axis.scatter(*frame["fake"].T, s=2, c="gold", linewidths=0, alpha=0.6, label="G(z)")
    axis.set(xlim=(-EXTENT, EXTENT), ylim=(-EXTENT, EXTENT), aspect="equal", xticks=[], yticks=[])
    axis.set_title(f"step {frame['step']:,}: {frame['modes']}/{MODES} modes, "
                   f"{frame['high_quality']:.0%} HQ", fontsize=8)


def shown_points(config):
    """The 1,000 real points drawn in every picture of a run."""
    return real_points(np.random.default_rng([config.seed, SHOWN_POINTS]), 1000)


def title(result):
    """The recipe as a figure title."""
    c = result.config
    penalties = "".join(f", {name} {value:g}" for name, value in (("gp", c.gp), ("r1", c.r1))
                        if value)
    betas = f" betas ({c.beta1:g}, {c.beta2:g})" if c.optimizer == "adam" else ""
    lr = f"lr G {c.lr_g or c.lr:g} D {c.lr_d or c.lr:g}" if c.lr_g or c.lr_d else f"lr {c.lr:g}"
    ema = f", EMA {c.ema:g}" if c.ema else ""
    return (f"loss {c.loss} ({c.g_loss}){penalties}, smoothing {c.label_smoothing}, noise "
            f"{c.label_noise}, T {c.temperature}, n_critic {c.n_critic}, D norm {c.d_norm}, "
            f"G {c.g_activation}{ema}, z {c.prior}, {c.optimizer} {lr}{betas}, seed {c.seed}; "
            "background: D's "
            + ("sigmoid(score / T), 0 (blue) to 1 (red)" if c.loss == "bce" else
               "raw score, low (blue) to high (red)"))


def save_snapshots(path, result):
    """The frames side by side as one PNG, written atomically."""
    real = shown_points(result.config)
    fig, axes = plt.subplots(1, len(result.frames), figsize=(2.6 * len(result.frames), 3))
    for axis, frame in zip(axes, result.frames):
        draw_frame(axis, frame, result.config, real)
    axes[0].legend(loc="lower left", fontsize=6, markerscale=3)
    fig.suptitle(title(result), fontsize=8)
    visual.save_figure(fig, path)


def save_gif(path, result, milliseconds=700):
    """The frames as an animated GIF (one frame each, looping), written atomically."""
    real = shown_points(result.config)
    images = []
    for frame in result.frames:
        fig, axis = plt.subplots(figsize=(4, 4))
        draw_frame(axis, frame, result.config, real)
        fig.tight_layout()
        buffer = BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        plt.close(fig)
        images.append(Image.open(buffer).convert("RGB"))
    with io.atomic_write(path) as file:
        images[0].save(file, format="GIF", save_all=True, append_images=images[1:],
                       duration=milliseconds, loop=0)


def summary(result):
    """The settings and metrics of a run as a JSON-ready dict."""
    return {"config": dataclasses.asdict(result.config), "modes": result.modes,
            "high_quality": result.high_quality, "seconds": result.seconds,
            "frames": [{k: f[k] for k in ("step", "modes", "high_quality")}
                       for f in result.frames]}


def save_outputs(result, out):
    """snapshots.png, training.gif, curves.png, grad_norms.png and metrics.json in ``out``."""
    out = Path(out)
    save_snapshots(out / "snapshots.png", result)
    save_gif(out / "training.gif", result)
    visual.plot_history(out / "curves.png", result.history)
    visual.plot_grad_norms(out / "grad_norms.png", result.history["step"], result.grad_norms)
    with io.atomic_write(out / "metrics.json", "w") as file:
        json.dump(summary(result), file, indent=1)


def kept_rows(results):
    """The rows of an earlier toy_2d.json (parsed), or ValueError saying what is wrong."""
    rows = results.get("rows") if isinstance(results, dict) else None
    if not isinstance(rows, list):
        raise ValueError(f"expected an object with a list of rows, got {str(results)[:60]}")
    for index, row in enumerate(rows):
        if not is_row(row):
            raise ValueError(f"expected rows with a recipe's name and {', '.join(ROW_FIELDS)}, "
                             f"got row {index}: {str(row)[:60]}")
    return rows


def is_row(row):
    """Whether a parsed row has a recipe's name and every field of ROW_FIELDS (lists of numbers)."""
    return (isinstance(row, dict) and row.get("name") in dict(SWEEP)
            and all(isinstance(row.get(field), kind) for field, kind in ROW_FIELDS.items())
            and is_number(row["steps"])
            and all(is_number(value) for field, kind in ROW_FIELDS.items() if kind is list
                    for value in row[field]))


def is_number(value):
    """Whether a parsed JSON value is a number (true and false are not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def sweep(argv, folder=BENCH, only=None):
    """Train every recipe of SWEEP (or those named in ``only``, keeping the other rows of an
    earlier toy_2d.json) with each of SEEDS; write toy_2d.md, toy_2d.json and the snapshots and
    gradient norms of each recipe's first seed (toy_2d/NAME.png, toy_2d/NAME_grad_norms.png)
    in ``folder``. UserError if the earlier toy_2d.json is not one."""
    earlier = Path(folder) / "toy_2d.json"
    try:
        kept = kept_rows(json.loads(earlier.read_text())) if only and earlier.exists() else []
    except (OSError, ValueError) as error:  # unreadable, not UTF-8 or JSON, or wrong rows
        raise UserError(f"{earlier}: not the results of an earlier --sweep ({error}); move it "
                        "away, or run the whole sweep without --only") from None
    rows, started = [], time.perf_counter()
    load = os.getloadavg()[0]
    for name, flags in SWEEP if only is None else [r for r in SWEEP if r[0] in only]:
        results = [train(parse_args(argv + flags.split() + ["--seed", str(seed)])[0], False)
                   for seed in SEEDS]
        save_snapshots(Path(folder) / "toy_2d" / f"{name}.png", results[0])
        visual.plot_grad_norms(Path(folder) / "toy_2d" / f"{name}_grad_norms.png",
                               results[0].history["step"], results[0].grad_norms)
        rows.append({"name": name, "flags": flags, "steps": results[0].config.steps,
                     "modes": [r.modes for r in results],
                     "high_quality": [r.high_quality for r in results],
                     "seconds": [r.seconds for r in results]})
        print(table_row(rows[-1]), flush=True)
    setup = {"argv": argv, "seeds": list(SEEDS), "eval_samples": EVAL_SAMPLES,
             "min_share": MIN_SHARE, "modes": MODES, "radius": RADIUS, "std": STD,
             "defaults": dataclasses.asdict(Config()), "cpus": os.cpu_count(),
             "load_average": load, "minutes": (time.perf_counter() - started) / 60,
             "recipes_run": [row["name"] for row in rows]}
    order = [name for name, _ in SWEEP]
    rows = sorted([r for r in kept if r["name"] not in setup["recipes_run"]] + rows,
                  key=lambda row: order.index(row["name"]))
    with io.atomic_write(Path(folder) / "toy_2d.json", "w") as file:
        json.dump({"setup": setup, "rows": rows}, file, indent=1)
    with io.atomic_write(Path(folder) / "toy_2d.md", "w") as file:
        file.write(markdown(setup, rows))


def table_row(row):
    """A markdown table row: recipe, steps, modes (mean and per seed), high quality, seconds."""
    return (f"| {row['name']} | `{row['flags'] or '(defaults)'}` | {row['steps']:,} | "
            f"{np.mean(row['modes']):.1f} | {', '.join(map(str, row['modes']))} | "
            f"{np.mean(row['high_quality']):.1%} | {np.mean(row['seconds']):.1f} |")


def markdown(setup, rows):
    """The sweep as a markdown page."""
    command = " ".join(["python examples/toy_2d.py --sweep", *setup["argv"]])
    return "\n".join([
        "# The GAN recipe book on a ring of 8 Gaussians", "",
        f"`{command}`: each recipe is the defaults plus its flags, trained with seeds "
        + ", ".join(map(str, SEEDS)) + ". "
        f"Metrics over {EVAL_SAMPLES:,} samples of G after the last step: a sample is high "
        f"quality (HQ) within 3 std ({3 * STD:g}) of a mode's centre; a mode is covered when "
        f"at least {MIN_SHARE:.0%} of the samples are high-quality samples of it. Seconds: "
        f"training time per run on {setup['cpus']} CPU cores (load average "
        f"{setup['load_average']:.1f} at the start of the last sweep, which ran "
        f"{len(setup['recipes_run'])} recipes in {setup['minutes']:.1f} min). "
        "Snapshots and gradient norms of the first seed of each recipe: "
        "[`toy_2d/`](toy_2d/)`NAME.png` and `NAME_grad_norms.png`.", "",
        "Defaults: " + ", ".join(f"{k} {v}" for k, v in setup["defaults"].items()
                                 if k not in ("seed", "out")) + ".", "",
        "| recipe | flags | steps | modes covered (mean) | per seed | HQ share (mean) | "
        "seconds |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *map(table_row, rows), ""])


def sweep_flags(argv):
    """argv without --sweep, --only NAMES and --sweep-out DIR: the flags that every recipe of the
    sweep extends."""
    flags, skip = [], False
    for arg in argv:
        if not skip and arg != "--sweep" and arg.split("=")[0] not in SWEEP_VALUED:
            flags.append(arg)
        skip = arg in SWEEP_VALUED
    return flags


def main(argv=None):
    """Command-line entry point: train one recipe (or the sweep); the exit status (2 for a bad
    --out or earlier sweep results)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    config, run_sweep, only, sweep_out = parse_args(argv)
    try:
        if run_sweep:
            sweep(sweep_flags(argv), sweep_out, only)
            return 0
        check_out(Path(config.out))
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    result = train(config)
    save_outputs(result, config.out)
    print(f"modes covered: {result.modes}/{MODES}  high-quality samples: {result.high_quality:.1%}"
          f"  ({result.seconds:.1f} s of training; pictures and metrics.json in {config.out}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
