"""Command-line settings as dataclasses: one field per flag, and the recipe-book flags that
examples/train_cifar.py and examples/toy_2d.py share; the scripts' one-line parser errors and
their memory check."""
import argparse
import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

from .. import optim
from . import dcgan, recipes

OPTIMIZERS = ("adam", "rmsprop")


class Parser(argparse.ArgumentParser):
    """argparse, with every error on one line: 'error: MESSAGE; see PROG --help'."""

    def error(self, message):
        """Exit with status 2 and one line on stderr: 'error: MESSAGE; see PROG --help'."""
        self.exit(2, f"error: {message}; see {self.prog} --help\n")

    def check(self, checks):
        """Refuse (error, status 2) with the message of the first (ok, message) not ok."""
        for ok, message in checks:
            if not ok:
                self.error(message)


def available_memory():
    """MemAvailable of /proc/meminfo in bytes (None where there is no such file)."""
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return None
    kib = next((int(line.split()[1]) for line in lines if line.startswith("MemAvailable:")), None)
    return None if kib is None else kib * 1024


def memory_problem(flags, need):
    """A line saying that the settings ``flags`` need ``need`` bytes, more than this machine
    has available; None if they fit (or the available memory is unknown)."""
    available = available_memory()
    if available is None or need <= available:
        return None
    return (f"{flags}: training would need about {need / 2**30:.1f} GiB (the weights, optimizer "
            f"state and one step), this machine has {available / 2**30:.1f} GiB available")


def option(default, help, choices=None):
    """A settings field with its --help line and, if given, its allowed values."""
    return field(default=default, metadata={"help": help, "choices": choices})


def add_options(parser, config_class, defaults=True):
    """One --flag-name per field of config_class (with its default unless defaults is False)."""
    for f in dataclasses.fields(config_class):
        choices = f.metadata["choices"]
        extra = {"default": f.default} if defaults else {}
        if f.type is bool:  # a switch: present or not
            parser.add_argument("--" + f.name.replace("_", "-"), action="store_true",
                                help=f.metadata["help"], **extra)
            continue
        parser.add_argument("--" + f.name.replace("_", "-"), type=f.type, choices=choices,
                            metavar="{" + ",".join(choices) + "}" if choices else
                            f.type.__name__.upper(),
                            help=f"{f.metadata['help']} (default: {f.default!r})", **extra)


@dataclass
class RecipeOptions:
    """The switches of tinygan.gan.Recipe, G's activation, the prior and the optimizer."""
    loss: str = option("bce", "bce (the paper), lsgan (least squares), hinge, or wgan (critic with "
                              "weight clipping; try --optimizer rmsprop --lr 5e-5 --n-critic 5)",
                       recipes.LOSSES)
    g_loss: str = option("non-saturating", "G's bce loss: non-saturating -log D(G(z)) or minimax "
                                           "log(1 - D(G(z))), whose gradient vanishes early",
                         recipes.G_LOSSES)
    label_smoothing: float = option(1.0, "target of real samples for D (one-sided: 0.9)")
    label_noise: float = option(0.0, "probability of flipping each D target (bce, lsgan)")
    temperature: float = option(1.0, "D's logits are divided by this before the sigmoid (bce)")
    n_critic: int = option(1, "D updates per G update (WGAN paper: 5)")
    clip: float = option(0.01, "wgan only: clip the critic's weights to [-clip, clip] (off "
                               "with --gp)")
    gp: float = option(0.0, "WGAN-GP: weight of the gradient penalty on D (paper: 10, with --loss "
                            "wgan --beta1 0 --beta2 0.9 --n-critic 5 --lr 1e-4); 0: off")
    r1: float = option(0.0, "R1: gamma of the penalty gamma/2 |grad D(real)|^2 on D; 0: off")
    g_activation: str = option("relu", "G's hidden activation: relu (the paper) or leaky (0.2)",
                               tuple(dcgan.G_SLOPES))
    prior: str = option("gaussian", "latent prior: gaussian N(0, 1) or uniform U(-1, 1)",
                        recipes.PRIORS)
    optimizer: str = option("adam", "adam (the paper) or rmsprop (the WGAN paper's choice)",
                            OPTIMIZERS)
    beta1: float = option(0.5, "Adam beta1 (DCGAN paper: 0.5; 0.9 makes training oscillate)")
    beta2: float = option(0.999, "Adam beta2")
    lr_g: float = option(0.0, "G's learning rate; 0: --lr (TTUR, Heusel et al. 2017, gives D "
                              "the larger one, e.g. --lr-g 1e-4 --lr-d 4e-4)")
    lr_d: float = option(0.0, "D's learning rate; 0: --lr")
    ema: float = option(0.0, "keep an exponential moving average of G's weights with this decay "
                             "(e.g. 0.999) and draw samples from it; 0: off")

    def make_optimizers(self, G, D):
        """(G's, D's) Adam or RMSprop, at --lr-g and --lr-d where given, else at self.lr (a field
        of each script's own settings)."""
        return tuple(self._optimizer(model.parameters(), lr or self.lr)
                     for model, lr in ((G, self.lr_g), (D, self.lr_d)))

    def _optimizer(self, parameters, lr):
        if self.optimizer == "rmsprop":
            return optim.RMSprop(parameters, lr=lr)
        return optim.Adam(parameters, lr=lr, betas=(self.beta1, self.beta2))

    def averaged_generator(self, G):
        """The exponential moving average of G that --ema asks for, or None."""
        return optim.ExponentialMovingAverage(G, self.ema) if self.ema else None

    def recipe(self):
        """The training recipe these flags describe (clip applies to wgan without --gp only)."""
        clip = self.clip if self.loss == "wgan" and not self.gp else 0.0
        return recipes.Recipe(self.loss, self.g_loss, self.label_smoothing, self.label_noise,
                              self.temperature, self.n_critic, clip, self.gp, self.r1)

    def recipe_problems(self):
        """One '--flag what is wrong' line per recipe setting that cannot work, or that was
        changed from its default where it does nothing."""
        flags = {"real_label": "label_smoothing"}
        default = RecipeOptions()
        own = [*[(math.isfinite(getattr(self, f.name)),
                  f"--{f.name.replace('_', '-')} must be a finite number, got "
                  f"{getattr(self, f.name)}")
                 for f in dataclasses.fields(RecipeOptions) if f.type is float],
               (self.lr_g >= 0 and self.lr_d >= 0, "--lr-g and --lr-d must be >= 0 (0: --lr)"),
               (0 <= self.ema < 1, f"--ema must be in [0, 1) (0: off), got {self.ema}"),
               (self.clip == default.clip or self.loss == "wgan" and not self.gp,
                f"--clip clips the weights of --loss wgan's critic without --gp; it does "
                f"nothing with --loss {self.loss}{' --gp' if self.gp else ''}"),
               ((self.beta1, self.beta2) == (default.beta1, default.beta2)
                or self.optimizer == "adam",
                f"--beta1 and --beta2 are Adam's; --optimizer {self.optimizer} has none")]
        return [message for ok, message in own if not ok] + [
            f"--{flags.get(name, name).replace('_', '-')} {message}"
            for name, message in self.recipe().problems()]
