# Reading map: main() -> start() (checks the command line, locks --out) -> train() (models,
# data, a resume) -> train_steps(), the loop over epochs -> train_epoch(), the loop over
# batches, which calls the step itself: gan.train_step, in tinygan/gan/recipes.py.
"""Train the standard DCGAN on CIFAR-10 and show what it is doing.

    python examples/train_cifar.py                      # CPU, 5 epochs, writes runs/dcgan/
    python examples/train_cifar.py --resume             # continue from runs/dcgan/checkpoint.npz
    python examples/train_cifar.py --backend cupy       # the same run on a GPU
    mpiexec -n 4 python examples/train_cifar.py --distributed   # 4 processes, 32 images each

Writes to --out: a fixed-noise 8x8 sample grid per epoch (samples_epoch_NNN.png) and at the end
(samples_final.png), history.csv, curves.png, with --eval-every K also metrics.csv and
metrics.png (SWD, Fréchet distance and classifier score every K epochs), and checkpoint.npz
(G, D, with --ema G's moving average, both optimizer states, step, config), each written
atomically; with --ema the average draws the grids and the measurements. With --tensorboard
(pip install -e ".[monitor]") it also writes TensorBoard event files as it goes: every step's
losses, D outputs, img/s and gradient norms, the grids, each epoch's histograms, the
measurements and, at the end, the flags with the final results (tensorboard --logdir
OUT/tensorboard). All randomness comes from --seed and the step number (data order from
(seed, epoch), noise from (seed, step)), so the checkpoint's step is its RNG state and a resumed
run continues exactly, its TensorBoard curves too. Ctrl-C or SIGTERM saves a checkpoint and
exits; a second one aborts.

With --distributed (under mpiexec -n N) each rank trains on its N-th of every batch, gradients
averaged over the ranks (MPI, or NCCL with --backend cupy); rank 0 alone prints, writes and
shows progress. A failure at the start stops every rank with one line (an unforeseen one, a
bug, ends the job at once with its traceback); one rank's failure later ends the whole job
(MPI_Abort) with its line, and a rank that hangs ends it after --timeout seconds.

Before step 1 it checks what the run will need: that --out lies outside --data and can be
written, a lock on --out (a second run into it is refused), that --out holds no other run (but
the one resumed, or one that --overwrite deletes: only a run's own files, never a folder without
a run), the memory of the models and a step, the data, and with --eval-every the classifier and
test images. A measurement that fails during training is one line; training goes on.
"""
import argparse
import contextlib
import csv
import dataclasses
import fnmatch
import itertools
import math
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import tinygan as tg  # first: it sets OpenBLAS's thread timeout before NumPy loads it
import numpy as np
from tqdm import tqdm

from tinygan import backend as backends
from tinygan import distributed, gan, io
from tinygan.gan import cli, data, dcgan, evaluation, monitor, visual
from tinygan.gan.cli import option

BACKEND_DEVICES = {"numpy": "cpu", "cupy": "cuda"}
HISTORY_COLUMNS = ("step", "epoch", "loss_D", "loss_G", "D_x", "D_G_z", "images_per_s")
STEP_METRICS = ("loss_D", "loss_G", "D_x", "D_G_z")  # averaged over the ranks every step
EVAL_COLUMNS = ("epoch", "swd", "frechet", "score", "classes_covered")
# Every random number comes from numpy.random.default_rng([seed, STREAM, ...]), one stream per
# use, so that the step number is the whole random state (exact resume):
DATA_ORDER, NOISE, FIXED_NOISE, RECIPE_NOISE = range(4)  # + epoch, + step, -, + step


@dataclass
class Config(cli.RecipeOptions):
    """One run's settings. Defaults follow the DCGAN paper (Radford et al. 2016)."""
    backend: str = option("numpy", "numpy (CPU) or cupy (GPU; pip install -e '.[cuda]')",
                          tuple(BACKEND_DEVICES))
    epochs: int = option(5, "passes over the training images")
    batch_size: int = option(128, "images per step (paper: 128)")
    lr: float = option(2e-4, "learning rate of G and D (paper: 0.0002; WGAN paper: 5e-5)")
    nz: int = option(100, "length of the latent vector z")
    ngf: int = option(64, "generator width: channels of its last hidden layer")
    ndf: int = option(64, "discriminator width: channels of its first layer")
    image_size: int = option(32, "32 (default model) or 64 (the classic five-block DCGAN)")
    data: str = option("", "official CIFAR-10 release, image folder or .tar(.gz) of one; empty: "
                           "CIFAR-10 in ~/.cache/tinygan/cifar10, downloaded if possible, else "
                           "the bundled JPEG copy")
    out: str = option("runs/dcgan", "folder for samples, history, curves and checkpoints")
    seed: int = option(0, "seed of weights, data order and noise")
    max_steps: int = option(0, "stop after this many steps in all (0: run every epoch)")
    sample_every: int = option(0, "also save a sample grid every N steps (0: once per epoch)")
    checkpoint_every: int = option(200, "save a checkpoint every N steps (and every epoch)")
    d_norm: str = option("batch", "D's normalisation (instance/layer/none: no batch statistics "
                                  "shared across the batch)", dcgan.D_NORMS)
    eval_every: int = option(0, "every N epochs measure SWD, Fréchet distance and score against "
                                "the CIFAR-10 test images (0: never)")
    eval_samples: int = option(2000, f"samples per --eval-every measurement "
                                     f"({evaluation.MIN_COUNT} to 10000)")
    skip_bad_images: bool = option(False, "leave out image files that cannot be decoded (how "
                                          "many, and the first names, are printed)")
    sync_bn: bool = option(False, "with --distributed: batch norm over every rank's images "
                                  "together (SyncBatchNorm), as one process with the whole batch")
    timeout: float = option(600.0, "with --distributed: seconds a rank waits for the others in "
                                   "one collective before it ends the job (a hung rank); more "
                                   "than an --eval-every measurement takes")
    tensorboard: str = option("", "write TensorBoard event files to this folder as the run goes "
                                  "(the flag alone: OUT/tensorboard; pip install -e "
                                  "'.[monitor]'); a resumed run goes on writing there; '': off")


# Settings a resumed run may change; the others must match the checkpoint.
# The number of ranks may change too: the data and noise of a step are those of the global
# batch, whatever the ranks.
CHANGEABLE_ON_RESUME = {"backend", "epochs", "out", "data", "max_steps", "sample_every",
                        "checkpoint_every", "eval_every", "eval_samples", "skip_bad_images",
                        "sync_bn", "timeout", "tensorboard"}
# What a run writes in --out (fnmatch patterns): --overwrite deletes these of an earlier run,
# and a start deletes their temporary files left by killed writes.
OUTPUTS = ("checkpoint.npz", "history.csv", "grad_norms.csv", "metrics.csv", "curves.png",
           "grad_norms.png", "metrics.png", "classes.png", "samples_*.png")
EXIT_SIGNALS = {signal.SIGINT: 130, signal.SIGTERM: 143}  # 128 + the signal number
IN_OUT = object()  # the value of a bare --tensorboard: a folder in --out


class UserError(Exception):
    """A problem with the command line, the data or a checkpoint: printed without a traceback."""


@dataclass
class Failure:
    """Why a run stopped at its start: the rank that saw it, the message, the exit status."""
    rank: int
    message: str
    status: int

    def __str__(self):
        return self.message if self.rank == 0 else f"rank {self.rank}: {self.message}"


class StartFailed(Exception):
    """Some rank's start failed (``failure``): every rank stops with it."""

    def __init__(self, failure):
        super().__init__(str(failure))
        self.failure = failure


def add_launch_option(parser):
    """--distributed: how this process is launched, not a setting of the run."""
    parser.add_argument("--distributed", action="store_true", default=False,
                        help="data parallel over the ranks of mpiexec -n N (pip install -e "
                             "'.[mpi]'): each trains on --batch-size / N images of every batch; "
                             "rank 0 writes the outputs")


def join(argv):
    """This process's communicator under --distributed (MPI.COMM_WORLD, rank 0 of 1 without
    mpiexec), None otherwise."""
    parser = cli.Parser(add_help=False)
    add_launch_option(parser)
    if not parser.parse_known_args(argv)[0].distributed:
        return None
    try:
        ranks = distributed.Communicator()
        threads = distributed.share_cores(ranks)
    except RuntimeError as error:
        raise UserError(f"--distributed: {error}") from None
    if threads is not None and ranks.rank == 0:
        print(f"threads: {threads} per rank, its share of the machine's cores (set "
              "OMP_NUM_THREADS to choose)")
    return ranks


def settle(ranks):
    """The end of a stage of the start, where every rank learns whether one failed (raises
    StartFailed with the first failure)."""
    if ranks is not None:
        agreed = ranks.agree(None)
        if agreed is not None:
            raise StartFailed(Failure(agreed[0], *agreed[1]))


def first_failure(ranks, failure):
    """This rank's failure told to the other ranks at their next settle(): the first one."""
    if ranks is None:
        return failure
    rank, (message, status) = ranks.agree((failure.message, failure.status))
    return Failure(rank, message, status)


def on_device(ranks, config):
    """The communicator for the run's backend (NCCL's for cupy, after choosing this rank's
    GPU), watched with --timeout; a rank that cannot make one ends the job."""
    if ranks is None:
        return None
    try:
        return distributed.for_device(ranks, BACKEND_DEVICES[config.backend], config.timeout)
    except RuntimeError as error:
        print(f"error: rank {ranks.rank}: --distributed --backend {config.backend}: {error}",
              file=sys.stderr)
        ranks.abort(2)


def parse_args(argv=None):
    """The command line as (Config, checkpoint path to resume from or None, --overwrite)."""
    parser = cli.Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                        argument_default=argparse.SUPPRESS)
    cli.add_options(parser, Config, defaults=False)
    tensorboard = parser._option_string_actions["--tensorboard"]  # its folder may be left out
    tensorboard.nargs, tensorboard.const, tensorboard.metavar = "?", IN_OUT, "DIR"
    add_launch_option(parser)
    parser.add_argument("--resume", nargs="?", const="", metavar="CHECKPOINT",
                        help="continue a run: from CHECKPOINT, or OUT/checkpoint.npz if none given")
    parser.add_argument("--overwrite", action="store_true",
                        help="start over (or, with --resume CHECKPOINT, continue) in an --out "
                             "that holds another run: its checkpoint, history and pictures are "
                             "deleted first")
    given = vars(parser.parse_args(argv))
    resume, overwrite = given.pop("resume", None), given.pop("overwrite", False)
    given.pop("distributed")  # main() read it first
    config = Config(**given)
    if resume is None:
        return in_out(config), None, overwrite
    path = Path(resume or Path(config.out) / "checkpoint.npz")
    if overwrite and path.resolve() == (Path(config.out) / "checkpoint.npz").resolve():
        raise UserError("--resume continues the run in --out and --overwrite deletes it; "
                        "give one of them")
    try:
        saved = Config(**io.load_training_checkpoint(path, Config)["meta"]["config"])
    except (FileNotFoundError, ValueError) as error:
        raise UserError(f"--resume: {error}") from None
    clashes = [f"--{k.replace('_', '-')} {given[k]!r} (checkpoint: {getattr(saved, k)!r})"
               for k in given if k not in CHANGEABLE_ON_RESUME and given[k] != getattr(saved, k)]
    if clashes:
        raise UserError("a resumed run keeps the checkpoint's settings; these differ: "
                        + ", ".join(clashes))
    return in_out(dataclasses.replace(saved, **{k: v for k, v in given.items()
                                                if k in CHANGEABLE_ON_RESUME})), path, overwrite


def in_out(config):
    """``config`` with a bare --tensorboard made OUT/tensorboard."""
    if config.tensorboard is not IN_OUT:
        return config
    return dataclasses.replace(config, tensorboard=str(Path(config.out) / "tensorboard"))


def check_out_outside_data(config):
    """Refuse an --out inside --data (or --data itself): the run's pictures would be training
    images at its next start."""
    if not config.data:
        return
    out, images = Path(config.out).resolve(), Path(config.data).resolve()
    if out == images or images in out.parents:
        raise UserError(f"--out {config.out} is inside --data {config.data}: the run's pictures "
                        "would become training images when it starts again (and a resumed run "
                        "would not continue exactly); give an --out outside it")


def prepare_output(config, resume_from, overwrite):
    """With --out locked: refuse a folder that holds another run (unless it is the run resumed
    or --overwrite) or, where no run is, files named like a run's; delete an overwritten run's
    outputs and the temporary files of killed writes."""
    out = Path(config.out)
    earlier, old = out / "checkpoint.npz", run_outputs(out)
    if not earlier.exists() and old:
        names = ", ".join(p.name for p in old[:3]) + (", ..." if len(old) > 3 else "")
        raise UserError(f"{out} holds no run (no checkpoint.npz) but {len(old)} files named "
                        f"like a run's ({names}): they may be yours, and this run"
                        f"{' (--overwrite)' if overwrite else ''} would replace them; move them "
                        "or give another --out DIR")
    if earlier.exists() and resume_from is None and not overwrite:
        raise UserError(f"{out} already holds a run ({earlier}); continue it with --resume, "
                        "write elsewhere with --out DIR, or start over with --overwrite")
    if earlier.exists() and resume_from is not None and not overwrite \
            and not os.path.samefile(resume_from, earlier):
        raise UserError(f"{out} already holds another run ({earlier}) than the one resumed "
                        f"({resume_from}); give an --out without a run, or replace that run "
                        "with --overwrite")
    if overwrite and earlier.exists():
        for path in old:
            path.unlink()
        print(f"--overwrite: deleted {len(old)} files of the earlier run in {out}/")
    stale = io.remove_stale_temporaries(out, OUTPUTS)
    if stale:
        print(f"removed {stale} temporary files of interrupted writes from {out}/")


def check_tensorboard_folder(config):
    """Refuse a --tensorboard folder that cannot be written (a file, read-only)."""
    if config.tensorboard:
        try:
            io.check_writable(config.tensorboard)
        except io.WriteError as error:
            raise UserError(f"--tensorboard {config.tensorboard}: {error}") from None


def run_outputs(out):
    """The files in ``out`` named as a run's outputs (OUTPUTS), folders left out."""
    return sorted(p for p in out.iterdir()
                  if not p.is_dir() and any(fnmatch.fnmatchcase(p.name, o) for o in OUTPUTS))


def check_memory(config, ranks=1):
    """Refuse (numpy backend) a model and batch whose step would not fit the available memory
    (a rank's own step: its share of the batch)."""
    need = dcgan.step_memory_bytes(dataclasses.asdict(config), config.batch_size // ranks)
    problem = cli.memory_problem(f"--nz {config.nz} --ngf {config.ngf} --ndf {config.ndf} "
                                 f"--batch-size {config.batch_size} --image-size "
                                 f"{config.image_size}", need)
    if config.backend == "numpy" and problem:
        raise UserError(problem)


def load_training_images(config):
    """uint8 (N, 3, S, S) training images, with one line saying where they came from."""
    if not config.data:
        return data.load_cifar10(image_size=config.image_size, split="train")
    images = data.load_images(config.data, image_size=config.image_size, split="train",
                              skip_bad_images=config.skip_bad_images)
    print(f"data: {config.data} ({len(images):,} images)")
    return images


def batch_shape(shape):
    """A shape with its batch axis written N: (N, 3, 32, 32) or (N,)."""
    return str(("N",) + tuple(shape[1:])).replace("'", "")


def noise(config, step, n):
    """The latent batch of a step (n, nz, 1, 1) from the prior, a function of (seed, step) only."""
    return gan.sample_latent(np.random.default_rng([config.seed, NOISE, step]),
                             (n, config.nz, 1, 1), config.prior)


class Run:
    """Models, optimizers, history and outputs of one training run (on one rank of ``ranks``, a
    tinygan.distributed.Communicator, under --distributed)."""

    def __init__(self, config, ranks=None):
        self.config, self.out, self.ranks = config, Path(config.out), ranks
        self.rank, self.size = (0, 1) if ranks is None else (ranks.rank, ranks.size)
        self.lead = self.rank == 0  # the one rank that prints and writes
        per_rank = config.batch_size // self.size
        self.rows = slice(self.rank * per_rank, (self.rank + 1) * per_rank)  # of every batch
        try:
            self.backend = backends.get(BACKEND_DEVICES[config.backend])
        except (ValueError, RuntimeError) as error:
            raise UserError(f"--backend {config.backend}: {error}") from None
        tg.manual_seed(config.seed)  # weights are born on the CPU, then moved
        self.G, self.D = (m.to(self.backend.name)
                          for m in dcgan.models(dataclasses.asdict(config)))
        self.opt_G, self.opt_D = config.make_optimizers(self.G, self.D)
        self.G_ema = config.averaged_generator(self.G) if self.lead else None
        self.sampler = self.G if self.G_ema is None else self.G_ema.module  # draws every sample
        if ranks is not None and config.sync_bn:
            distributed.sync_batch_norm(self.G, ranks), distributed.sync_batch_norm(self.D, ranks)
        self.recipe = config.recipe()
        self.fixed_noise = gan.sample_latent(np.random.default_rng([config.seed, FIXED_NOISE]),
                                             (64, config.nz, 1, 1), config.prior)
        self.step, self.resumed_from = 0, None
        self.history = {k: [] for k in HISTORY_COLUMNS}
        self.grad_norms = {name: [] for name, _ in self.named_weights()}
        self.evaluations = {k: [] for k in EVAL_COLUMNS}
        self.evaluator = None  # built on the first evaluation: it loads data and networks
        self.steps_per_epoch = 1  # train() sets it once the images are loaded
        self.monitor = None  # with --tensorboard, rank 0's monitor.Monitor, opened by train()

    def tensor(self, array):
        return tg.Tensor(self.backend.asarray(array))

    def describe(self):
        """Parameter counts and output shapes of both models."""
        with tg.no_grad():
            self.G.eval(), self.D.eval()
            fake = self.G(self.tensor(self.fixed_noise[:2]))
            score = self.D(fake)
            self.G.train(), self.D.train()
        size = self.config.image_size
        print(f"G: {dcgan.count_parameters(self.G):,} parameters, "
              f"z {batch_shape(self.fixed_noise.shape)} -> {batch_shape(fake.shape)}")
        print(f"D: {dcgan.count_parameters(self.D):,} parameters, {batch_shape((2, 3, size, size))}"
              f" -> {batch_shape(score.shape)}")

    def resume(self, path):
        checkpoint = io.load_checkpoint(path)
        for module, name in ((self.G, "G"), (self.D, "D")):
            module.load_state_dict(checkpoint["modules"][name])
        self.opt_G.load_state_dict(checkpoint["optimizers"]["opt_G"])
        self.opt_D.load_state_dict(checkpoint["optimizers"]["opt_D"])
        if self.G_ema is not None:
            self.G_ema.module.load_state_dict(checkpoint["modules"]["G_ema"])
            self.G_ema.updates = checkpoint["meta"]["ema_updates"]
        self.step, self.resumed_from = checkpoint["meta"]["step"], Path(path)
        for name, columns in (("history", self.history), ("evaluations", self.evaluations),
                              ("grad_norms", self.grad_norms)):
            table = checkpoint["arrays"].get(name, np.zeros((0, len(columns))))
            if table.shape[1] != len(columns):
                names = ", ".join(list(columns)[:7]) + (", ..." if len(columns) > 7 else "")
                raise UserError(f"{path}: arrays/{name}: expected {len(columns)} columns "
                                f"({names}), got {table.shape[1]}")
            columns.update({k: table[:, i].tolist() for i, k in enumerate(columns)})
        print(f"resumed from {path} at step {self.step:,}")

    def share_start(self):
        """Every rank from rank 0's weights, optimizer states and step (fresh or resumed)."""
        if self.ranks is None:
            return
        for module in (self.G, self.D):
            distributed.broadcast_module(module, self.ranks)
        for optimizer in (self.opt_G, self.opt_D):
            distributed.broadcast_optimizer(optimizer, self.ranks)
        self.step = self.ranks.share(self.step)

    def agree_on_step(self, metrics, stop):
        """The step's metrics as means over the ranks (one allreduce); a stop signal received
        by any rank becomes every rank's stop.signal."""
        if self.ranks is None:
            stop.signal = stop.received
            return metrics
        received = [stop.received == s for s in EXIT_SIGNALS]
        local = np.array([metrics[k] for k in STEP_METRICS] + received, np.float64)
        total, = self.ranks.allreduce_sum([local])
        anyone = (s for s, n in zip(EXIT_SIGNALS, total[len(STEP_METRICS):]) if n)
        stop.signal = stop.received or next(anyone, None)
        return dict(zip(STEP_METRICS, (total[:len(STEP_METRICS)] / self.size).tolist()))

    def save(self):
        """Checkpoint, history.csv and curves.png, each written atomically (by rank 0)."""
        if not self.lead:
            return
        tables = {"history": as_table(self.history), "evaluations": as_table(self.evaluations),
                  "grad_norms": as_table(self.grad_norms)}
        modules, meta = {"G": self.G, "D": self.D}, {}
        if self.G_ema is not None:
            modules["G_ema"], meta["ema_updates"] = self.G_ema.module, self.G_ema.updates
        io.save_checkpoint(self.out / "checkpoint.npz", modules,
                           {"opt_G": self.opt_G, "opt_D": self.opt_D},
                           {"step": self.step, "epoch": self.step / self.steps_per_epoch,
                            "config": dataclasses.asdict(self.config)} | meta, tables)
        if self.monitor is not None:  # the events up to the checkpoint, flushed
            self.monitor.flush()
        write_csv(self.out / "history.csv", self.history)
        write_csv(self.out / "grad_norms.csv", {"step": self.history["step"]} | self.grad_norms)
        if self.history["step"]:
            visual.plot_history(self.out / "curves.png", self.history)
            conv_weights = [name for name, p in self.named_weights() if p.ndim == 4]
            visual.plot_grad_norms(self.out / "grad_norms.png", self.history["step"],
                                   {k: self.grad_norms[k] for k in conv_weights})

    def last_checkpoint(self):
        """Where the last good checkpoint is (this run's in --out, else the one it resumed
        from) and its step, both read back from disk, or that there is none, for a message."""
        for path in filter(None, (self.out / "checkpoint.npz", self.resumed_from)):
            try:
                step = io.load_checkpoint(path)["meta"]["step"]
            except (OSError, ValueError, KeyError):  # absent or unreadable
                continue
            return f"the last good checkpoint is {path} (step {step:,}), untouched"
        return "no checkpoint had been written yet"

    def named_weights(self):
        """(G/name or D/name, parameter) for both models."""
        return [(f"{prefix}/{name}", p) for prefix, model in (("G", self.G), ("D", self.D))
                for name, p in model.named_parameters()]

    def evaluate(self, epoch):
        """Measure the samples of G (or its --ema average; batch statistics) against the test
        images; plot all so far."""
        if self.evaluator is None:
            self.evaluator = evaluation.Evaluator.cifar10(self.config.eval_samples, probe_train=0,
                                                          seed=self.config.seed)
        with distributed.local_batch_norm(self.sampler):  # rank 0 measures alone
            row = self.evaluator.generator_row(self.sampler, prior=self.config.prior)
        for k in EVAL_COLUMNS:
            self.evaluations[k].append(epoch if k == "epoch" else row[k])
        if self.monitor is not None:
            self.monitor.evaluation(self.step, {k: row[k] for k in EVAL_COLUMNS[1:]})
        print(f"eval epoch {epoch}: SWD x1e3 {row['swd']:.2f}  Fréchet {row['frechet']:.2f}  "
              f"score {row['score']:.2f}  classes covered {row['classes_covered']}  "
              f"({self.config.eval_samples:,} samples)")
        visual.plot_class_shares(self.out / "classes.png", row["class_shares"],
                                 data.CIFAR10_CLASSES, f"our classifier's votes on "
                                 f"{self.config.eval_samples:,} samples after epoch {epoch}")
        write_csv(self.out / "metrics.csv", self.evaluations)
        visual.plot_metrics(self.out / "metrics.png", self.evaluations["epoch"],
                            {k: self.evaluations[k] for k in EVAL_COLUMNS[1:]})

    def sample(self, name):
        """The fixed-noise 8x8 grid, from G (or its --ema average) in eval mode (running
        batch-norm statistics), by rank 0."""
        if not self.lead:
            return
        with tg.no_grad():
            self.sampler.eval()
            fake = self.sampler(self.tensor(self.fixed_noise)).numpy()
            self.sampler.train()
        images = data.to_uint8(fake)
        visual.save_grid(self.out / name, images, nrow=8, scale=2)
        if self.monitor is not None:
            self.monitor.samples(self.step, images)

    def record(self, epoch, metrics, grad_norms):
        """Append a step's metrics and its gradient norms (NaN for a model not updated)."""
        values = {"step": self.step, "epoch": epoch, **metrics}
        for k in HISTORY_COLUMNS:
            self.history[k].append(values[k])
        for k, column in self.grad_norms.items():
            column.append(grad_norms.get(k, math.nan))
        if self.monitor is not None:
            self.monitor.step(self.step, metrics, grad_norms)

    def final_results(self):
        """The means of the last epoch's step metrics and the last measurement, for hparams."""
        recent = {k: float(np.nanmean(self.history[k][-self.steps_per_epoch:]))
                  for k in STEP_METRICS}
        return recent | {k: self.evaluations[k][-1] for k in EVAL_COLUMNS[1:]
                         if self.evaluations[k]}


def as_table(columns):
    """{name: list} of equal lengths -> float64 (rows, columns)."""
    return np.array(list(columns.values()), dtype=np.float64).T.reshape(-1, len(columns))


def write_csv(path, columns):
    """{name: list} of equal lengths as a CSV file with a header row, atomically."""
    with io.atomic_write(path, "w") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values()))


class StopRequest:
    """Turns the first Ctrl-C (SIGINT) or SIGTERM into a flag checked between steps; a second
    one aborts. ``received`` is the signal this process got, ``signal`` the one that the run
    stops for, set by Run.agree_on_step after a step so that every rank stops after the same
    one (None if none)."""

    def __init__(self):
        self.received = self.signal = None

    @property
    def requested(self):
        return self.signal is not None

    def __enter__(self):
        self.previous = {s: signal.signal(s, self.handle) for s in EXIT_SIGNALS}
        return self

    def handle(self, signum, frame):
        self.received = signum
        for s, handler in self.previous.items():
            signal.signal(s, handler)

    def __exit__(self, *exc):
        for s, handler in self.previous.items():
            signal.signal(s, handler)


def train(config, resume_from=None, ranks=None):
    """Run the training loop; returns the process exit status (0; 130 after Ctrl-C, 143 after
    SIGTERM; 1 if an output could not be written)."""
    run = Run(config, ranks)
    if config.eval_every and run.lead:  # everything an option needs, before step 1
        try:
            run.evaluator = evaluation.Evaluator.cifar10(config.eval_samples, probe_train=0,
                                                         seed=config.seed)
        except (FileNotFoundError, ValueError) as error:
            raise UserError(f"--eval-every needs our classifier and the CIFAR-10 test images: "
                            f"{error}") from None
    images = load_training_images(config)
    steps_per_epoch = run.steps_per_epoch = len(images) // config.batch_size
    if steps_per_epoch == 0:
        raise UserError(f"--batch-size {config.batch_size} is larger than the "
                        f"{len(images)} training images")
    run.describe()
    if resume_from is not None and run.lead:
        try:
            run.resume(resume_from)
        except (KeyError, ValueError) as error:  # names or shapes of another model version
            raise UserError(f"--resume {resume_from}: it does not fit this model: "
                            f"{error}") from None
    settle(ranks)
    with one_fails_all(ranks), contextlib.ExitStack() as watched:
        if config.tensorboard and run.lead:
            run.monitor = watched.enter_context(monitor.Monitor(config.tensorboard, run.step))
        run.share_start()
        return train_steps(run, images, steps_per_epoch)


@contextlib.contextmanager
def one_fails_all(ranks):
    """Under --distributed: an error on this rank alone (the other ranks would wait for it
    forever) ends the whole job with its line; a diverged loss, seen by every rank, passes."""
    try:
        yield
    except TrainingDiverged:
        raise
    except BaseException as error:
        if ranks is None:
            raise
        end_job(ranks, error)


def end_job(ranks, error):
    """End every rank now (MPI_Abort) for ``error``, being handled on this rank: one line for
    bad input, else its traceback."""
    if isinstance(error, KeyboardInterrupt):  # a second Ctrl-C
        ranks.abort(EXIT_SIGNALS[signal.SIGINT])
    where = f"rank {ranks.rank} of {ranks.size}"
    if isinstance(error, (UserError, data.DataError)):
        print(f"error: {where}: {error}; ending the job", file=sys.stderr)
        ranks.abort(2)
    print(f"error: {where} failed; ending the job:", file=sys.stderr)
    traceback.print_exc()
    ranks.abort(1)


def train_steps(run, images, steps_per_epoch):
    """The training loop from run.step; the exit status as train()."""
    config = run.config
    total = config.epochs * steps_per_epoch
    total = min(total, config.max_steps) if config.max_steps else total
    print(f"training: {total:,} steps of {config.batch_size} images "
          f"({steps_per_epoch:,} per epoch) on {config.backend}, writing to {run.out}/")
    if run.ranks is not None:
        plural = "s" if run.size > 1 else ""
        print(f"distributed: {run.size} rank{plural} x {config.batch_size // run.size} images, "
              f"gradients averaged by {run.ranks.transport}, batch norm "
              f"{'over all ranks (--sync-bn)' if config.sync_bn else 'per rank'}")
    if config.backend == "numpy" and os.environ.get("OPENBLAS_CORETYPE"):
        print(f"note: OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} makes OpenBLAS use that "
              "CPU's kernels for the matrix products; unset it to let OpenBLAS pick this CPU's "
              "(Haswell on an AVX-512 CPU: about half the speed)")
    try:
        with StopRequest() as stop:
            while run.step < total and not stop.requested:
                train_epoch(run, images, steps_per_epoch, total, stop)
            run.save()
        if stop.requested:
            name = signal.Signals(stop.signal).name
            print(f"interrupted ({name}): checkpoint saved at step {run.step:,}; continue with "
                  "--resume")
            return EXIT_SIGNALS[stop.signal]
        run.sample("samples_final.png")
        if run.monitor is not None:
            run.monitor.finish(run.step, dataclasses.asdict(config), run.final_results())
    except io.WriteError as error:
        print(f"error: {error}; {run.last_checkpoint()}; the run stopped", file=sys.stderr)
        if run.ranks is not None:
            run.ranks.abort(1)
        return 1
    print(f"done: {run.step:,} steps; samples, history, curves and checkpoint in {run.out}/")
    return 0


def train_epoch(run, images, steps_per_epoch, total, stop):
    """Train from run.step to the end of its epoch (or to ``total``, or to a Ctrl-C)."""
    config = run.config
    epoch, start = divmod(run.step, steps_per_epoch)
    order = np.random.default_rng([config.seed, DATA_ORDER, epoch])
    batches = itertools.islice(data.batches(images, config.batch_size, order), start, None)
    steps = min(steps_per_epoch, total - epoch * steps_per_epoch)
    with tqdm(total=steps, initial=start, desc=f"epoch {epoch + 1}/{config.epochs}",
              unit="step", leave=False, file=sys.stderr, disable=not run.lead) as bar:
        started = time.perf_counter()  # the bar is closed on errors too
        for batch in itertools.islice(batches, steps - start):
            began = time.perf_counter()
            update_G = (run.step + 1) % config.n_critic == 0
            z = noise(config, run.step, len(batch))[run.rows]
            metrics = gan.train_step(run.G, run.D, run.opt_G, run.opt_D,
                                     run.tensor(batch[run.rows]), run.tensor(z), run.recipe,
                                     update_G, recipe_rng(config, run.step, run.rank), run.ranks)
            grad_norms = metrics.pop("grad_norms")
            if update_G and run.G_ema is not None:
                run.G_ema.update(run.G)
            metrics = run.agree_on_step(metrics, stop)
            run.backend.synchronize()  # a GPU's queued work is part of the step's time
            metrics["images_per_s"] = len(batch) / (time.perf_counter() - began)
            check_finite(run, metrics, update_G)
            run.step += 1
            run.record(epoch + 1, metrics, grad_norms)
            bar.update()
            bar.set_postfix(loss_D=f"{metrics['loss_D']:.3f}", loss_G=f"{metrics['loss_G']:.3f}",
                            D_x=f"{metrics['D_x']:.2f}", D_G_z=f"{metrics['D_G_z']:.2f}",
                            img_s=f"{metrics['images_per_s']:.0f}")
            if config.sample_every and run.step % config.sample_every == 0:
                run.sample(f"samples_step_{run.step:07d}.png")
            if stop.requested:
                break
            if config.checkpoint_every and run.step % config.checkpoint_every == 0:
                run.save()
    if run.step % steps_per_epoch == 0 and run.lead:
        finish_epoch(run, epoch, run.step - epoch * steps_per_epoch - start,
                     time.perf_counter() - started)


def recipe_rng(config, step, rank):
    """The random numbers of a step's recipe (label noise, penalty interpolates): rank 0 draws
    what one process draws, every other rank from a stream of its own."""
    return np.random.default_rng([config.seed, RECIPE_NOISE, step] + ([rank] if rank else []))


def finish_epoch(run, epoch, steps_done, seconds):
    """Print the epoch's summary line; save its sample grid and a checkpoint."""
    steps_per_epoch = run.step // (epoch + 1)
    mean = {k: float(np.nanmean(run.history[k][-steps_per_epoch:])) for k in HISTORY_COLUMNS}
    print(f"epoch {epoch + 1}/{run.config.epochs}  step {run.step:,}  loss_D {mean['loss_D']:.3f}  "
          f"loss_G {mean['loss_G']:.3f}  D(x) {mean['D_x']:.3f}  D(G(z)) {mean['D_G_z']:.3f}  "
          f"{steps_done * run.config.batch_size / seconds:.1f} img/s  ({seconds / 60:.1f} min)")
    run.sample(f"samples_epoch_{epoch + 1:03d}.png")
    if run.monitor is not None:
        run.monitor.histograms(run.step, run.named_weights())
    if run.config.eval_every and (epoch + 1) % run.config.eval_every == 0:
        try:
            run.evaluate(epoch + 1)
        except io.WriteError:  # a full disk stops the run as at any other write
            raise
        except Exception as error:  # a failed measurement must not cost the training
            print(f"warning: --eval-every: the measurement after epoch {epoch + 1} failed "
                  f"({type(error).__name__}: {error}); training goes on", file=sys.stderr)
    run.save()


class TrainingDiverged(Exception):
    """A loss became NaN or infinite."""


def check_finite(run, metrics, update_G):
    """Stop with a clear message if a loss is NaN or infinite (the last checkpoint stays as is);
    without a G update loss_G is NaN by design."""
    for name in ("loss_D", "loss_G") if update_G else ("loss_D",):
        if not math.isfinite(metrics[name]):
            last = run.last_checkpoint()
            raise TrainingDiverged(f"{name} is {metrics[name]} at step {run.step + 1:,}: training "
                                   f"diverged; {last}. Try a lower --lr or --label-smoothing 0.9.")


def validate(config, ranks=None):
    """Refuse settings that cannot work (with ``ranks``, on that many ranks), naming the flag."""
    problems = [(config.epochs >= 1, f"--epochs must be >= 1, got {config.epochs}"),
                (config.batch_size >= 2, "--batch-size must be >= 2 (batch norm needs two images), "
                                         f"got {config.batch_size}"),
                (0 < config.lr < math.inf, f"--lr must be a finite number > 0, got {config.lr}"),
                *[(0 <= value < 1, f"--{name} must be in [0, 1), got {value}")
                  for name, value in (("beta1", config.beta1), ("beta2", config.beta2))],
                *[(value >= 1, f"--{name} must be >= 1, got {value}")
                  for name, value in (("nz", config.nz), ("ngf", config.ngf), ("ndf", config.ndf))],
                (config.seed >= 0, f"--seed must be >= 0, got {config.seed}"),
                (config.image_size in dcgan.IMAGE_SIZES,
                 f"--image-size must be one of {dcgan.IMAGE_SIZES}, got {config.image_size}"),
                (not config.data or Path(config.data).exists(),
                 f"--data {config.data}: no such file or folder"),
                *[(value >= 0, f"--{name.replace('_', '-')} must be >= 0, got {value}")
                  for name, value in (("max_steps", config.max_steps),
                                      ("sample_every", config.sample_every),
                                      ("checkpoint_every", config.checkpoint_every),
                                      ("eval_every", config.eval_every))],
                (evaluation.MIN_COUNT <= config.eval_samples <= 10000,
                 f"--eval-samples must be in [{evaluation.MIN_COUNT}, 10000], got "
                 f"{config.eval_samples} (the classifier score splits the samples in "
                 f"{evaluation.MIN_COUNT} parts)"),
                (config.timeout > 0, f"--timeout must be > 0, got {config.timeout}")]
    if ranks is not None:
        problems += distributed_problems(config, ranks.size)
    for ok, message in problems:
        if not ok:
            raise UserError(f"{message}; see --help")
    for message in config.recipe_problems():
        raise UserError(f"{message}; see --help")
    if config.tensorboard:
        try:
            monitor.check_available()
        except ImportError as error:
            raise UserError(f"--tensorboard: {error}") from None
    if ranks is not None:
        try:
            distributed.check_device(BACKEND_DEVICES[config.backend])
        except RuntimeError as error:
            raise UserError(f"--distributed --backend {config.backend}: {error}") from None


def distributed_problems(config, size):
    """(ok, message) pairs of what --distributed over ``size`` ranks needs."""
    penalties = config.d_norm == "batch" and (config.gp or config.r1)
    return [(config.batch_size % size == 0,
             f"--batch-size {config.batch_size} does not split over {size} ranks: give a "
             f"multiple of {size}"),
            (config.batch_size // size >= 2 or config.sync_bn,
             f"--batch-size {config.batch_size} over {size} ranks leaves one image per rank: "
             "batch norm needs two, or --sync-bn"),
            (not (config.sync_bn and penalties),
             "--sync-bn with --gp or --r1 needs a double backward through batch norm across "
             "ranks, which tinygan does not have: use --d-norm instance, layer or none")]


def main(argv=None):
    """Command-line entry point: the exit status (2 for bad input, 3 if training diverged).
    Under --distributed every rank stops with the same status, or a failure on one rank during
    training ends the whole job (MPI_Abort) with that rank's line and status."""
    try:
        ranks = join(argv)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    lead = ranks is None or ranks.rank == 0
    with open(os.devnull, "w") as quiet, contextlib.ExitStack() as muted:
        if not lead:  # rank 0 speaks for all: the same lines, errors and --help
            muted.enter_context(contextlib.redirect_stdout(quiet))
        try:
            return start(argv, ranks, quiet)
        except (UserError, data.DataError, io.FolderBusy) as error:
            failure = first_failure(ranks, Failure(0 if lead else ranks.rank, str(error), 2))
        except StartFailed as error:
            failure = error.failure
        except TrainingDiverged as error:
            failure = Failure(0, str(error), 3)
        except Exception as error:  # unforeseen, maybe on this rank alone: none may wait for it
            if ranks is None:
                raise
            end_job(ranks, error)
    if lead:
        print(f"error: {failure}", file=sys.stderr)
    return failure.status


def start(argv, ranks, quiet):
    """Parse and check the command line, lock --out (rank 0), then train; the exit status."""
    lead = ranks is None or ranks.rank == 0
    with contextlib.redirect_stderr(sys.stderr if lead else quiet):  # argparse's own errors
        config, resume_from, overwrite = parse_args(argv)
    validate(config, ranks)
    check_out_outside_data(config)
    check_memory(config, 1 if ranks is None else ranks.size)
    settle(ranks)
    ranks = on_device(ranks, config)
    with contextlib.ExitStack() as output:
        if lead:
            try:
                io.check_writable(config.out)
                output.enter_context(io.folder_lock(config.out))
            except io.WriteError as error:
                raise UserError(f"--out {config.out}: {error}") from None
            prepare_output(config, resume_from, overwrite)
            check_tensorboard_folder(config)
        return train(config, resume_from, ranks)


if __name__ == "__main__":
    sys.exit(main())
