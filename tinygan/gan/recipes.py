"""GAN recipes: the losses and stabilisers of the DCGAN chapter, each a switch.

D returns raw scores (logits) s; T is the temperature. With x real, G(z) fake:
  bce    D: BCE(sigmoid(s_real / T), t_real) + BCE(sigmoid(s_fake / T), t_fake), t_real = 1 or
         less (one-sided label smoothing), t_fake = 0, each target flipped with label_noise.
         G non-saturating: -log D(G(z)) (BCE against 1); G minimax: log(1 - D(G(z))), the
         original form whose gradient vanishes while D wins.
  lsgan  D: ((s_real - t_real)^2 + (s_fake - t_fake)^2) / 2; G: (s_fake - 1)^2 / 2.
  hinge  D: relu(1 - s_real) + relu(1 + s_fake); G: -s_fake.
  wgan   D (the critic): s_fake - s_real, its weights clipped to [-clip, clip] after each update,
         n_critic critic updates per G update (with RMSprop in the paper); G: -s_fake.
Every loss is a mean over the batch. Two gradient penalties can be added to D's loss; each
differentiates D's gradient with respect to its input, so D's update runs a double backward:
  gp     WGAN-GP (Gulrajani et al. 2017): gp * mean (||grad_x D(x_hat)|| - 1)^2 at
         x_hat = e x + (1 - e) G(z), e ~ U(0, 1) per sample (in place of weight clipping).
  r1     R1 (Mescheder et al. 2018): r1 / 2 * mean ||grad_x D(x)||^2 at the real x.
"""
import contextlib
import math
from dataclasses import dataclass

import numpy as np

from .. import distributed, ops
from ..tensor import grad, wrap

LOSSES = ("bce", "lsgan", "hinge", "wgan")
G_LOSSES = ("non-saturating", "minimax")
PRIORS = ("gaussian", "uniform")


def sample_latent(rng, shape, prior="gaussian"):
    """z ~ N(0, 1) (the DCGAN paper's choice for the GAN literature since) or U(-1, 1) (the
    paper's own), float32 of ``shape``."""
    if prior == "gaussian":
        return rng.standard_normal(shape, np.float32)
    if prior == "uniform":
        return rng.uniform(-1, 1, shape).astype(np.float32)
    raise ValueError(f"prior must be one of {PRIORS}, got {prior!r}")


@dataclass
class Recipe:
    """The switches of one training recipe; the defaults are the DCGAN paper's."""
    loss: str = "bce"
    g_loss: str = "non-saturating"
    real_label: float = 1.0      # target of real images (one-sided label smoothing: 0.9)
    label_noise: float = 0.0     # probability that a D target is flipped (bce and lsgan)
    temperature: float = 1.0     # D's scores are divided by it before the sigmoid (bce)
    n_critic: int = 1            # D updates per G update
    clip: float = 0.0            # clip D's weights to [-clip, clip] after each update (0: off)
    gp: float = 0.0              # weight of WGAN-GP's gradient penalty (0: off; paper: 10)
    r1: float = 0.0              # gamma of the R1 penalty (0: off)

    def problems(self):
        """[(setting, what is wrong)] for combinations that cannot work; empty if none."""
        rules = [
            ("loss", self.loss in LOSSES, f"must be one of {LOSSES}, got {self.loss!r}"),
            ("g_loss", self.g_loss in G_LOSSES, f"must be one of {G_LOSSES}, got {self.g_loss!r}"),
            ("g_loss", self.g_loss == "non-saturating" or self.loss == "bce",
             "'minimax' is the BCE loss's original form; it needs loss 'bce'"),
            ("real_label", 0 < self.real_label <= 1, f"must be in (0, 1], got {self.real_label}"),
            ("label_noise", 0 <= self.label_noise < 0.5,
             f"must be in [0, 0.5), got {self.label_noise}"),
            ("real_label", self.loss in ("bce", "lsgan") or self.real_label == 1,
             f"label smoothing needs targets: loss 'bce' or 'lsgan', not {self.loss!r}"),
            ("label_noise", self.loss in ("bce", "lsgan") or self.label_noise == 0,
             f"label noise needs targets: loss 'bce' or 'lsgan', not {self.loss!r}"),
            ("temperature", self.temperature > 0, f"must be > 0, got {self.temperature}"),
            ("temperature", self.loss == "bce" or self.temperature == 1,
             f"scales the logits of a sigmoid: loss 'bce' only, not {self.loss!r}"),
            ("n_critic", self.n_critic >= 1, f"must be >= 1, got {self.n_critic}"),
            ("clip", self.clip >= 0, f"must be >= 0, got {self.clip}"),
            ("gp", self.gp >= 0, f"must be >= 0, got {self.gp}"),
            ("r1", self.r1 >= 0, f"must be >= 0, got {self.r1}"),
            ("clip", not (self.clip and self.gp),
             "weight clipping and the gradient penalty both bound D's slope; use one")]
        return [(name, message) for name, ok, message in rules if not ok]

    def check(self):
        """Raise ValueError naming the first setting that cannot work; returns self."""
        for name, message in self.problems():
            raise ValueError(f"{name}: {message}")
        return self


def _targets(like, value, noise, rng):
    """Targets (N,) equal to value, each replaced by 1 - value with probability noise."""
    t = np.full(like.shape, value, dtype=np.float64)
    if noise:
        t = np.where(rng.random(like.shape) < noise, 1 - t, t)
    return wrap(like.backend.asarray(t.astype(like.dtype)), like.backend)


def discriminator_loss(recipe, real_scores, fake_scores, rng=None):
    """D's loss on its scores of a real and a fake batch (N,), as the module docstring says."""
    loss = recipe.loss
    if loss == "wgan":
        return fake_scores.mean() - real_scores.mean()
    if loss == "hinge":
        return ops.relu(1 - real_scores).mean() + ops.relu(1 + fake_scores).mean()
    t_real = _targets(real_scores, recipe.real_label, recipe.label_noise, rng)
    t_fake = _targets(fake_scores, 0.0, recipe.label_noise, rng)
    if loss == "lsgan":
        return (((real_scores - t_real) * (real_scores - t_real)).mean()
                + ((fake_scores - t_fake) * (fake_scores - t_fake)).mean()) * 0.5
    scale = 1 / recipe.temperature
    return (ops.binary_cross_entropy_with_logits(real_scores * scale, t_real)
            + ops.binary_cross_entropy_with_logits(fake_scores * scale, t_fake))


def squared_input_gradients(D, x):
    """(D(x), ||grad_x D(x)_n||^2 per sample n, shape (N,)), the second recorded so that it can
    be differentiated again: D's update then runs a double backward through D.

    The gradient is that of sum_n D(x)_n; each sample's score depends on its own x_n alone
    unless D normalises over the batch (batch norm), when the samples' gradients mix.
    """
    scores = D(x)
    g, = grad(scores.sum(), x, create_graph=True)
    return scores, (g * g).sum(axis=tuple(range(1, g.ndim)))


def gradient_penalty(D, real, fake, rng):
    """WGAN-GP: mean over the batch of (||grad_x D(x_hat)|| - 1)^2 at random interpolates
    x_hat = e * real + (1 - e) * fake, e ~ U(0, 1) per sample (data only: no graph to G);
    the 1e-12 keeps the norm's derivative finite where a gradient is zero."""
    e = rng.random((real.shape[0],) + (1,) * (real.ndim - 1)).astype(real.dtype)
    e = real.backend.asarray(e)
    x_hat = wrap(e * real.array + (1 - e) * fake.array, real.backend).requires_grad_()
    norms = (squared_input_gradients(D, x_hat)[1] + 1e-12) ** 0.5
    return ((norms - 1) * (norms - 1)).mean()


def r1_penalty_and_scores(D, real):
    """(R1: mean over the batch of ||grad_x D(x)||^2 at the real x, D's scores of x): the
    scores feed D's loss too, so one forward serves both."""
    scores, squared = squared_input_gradients(D, real.detach().requires_grad_())
    return squared.mean(), scores


def generator_loss(recipe, fake_scores):
    """G's loss on D's scores of its samples (N,)."""
    if recipe.loss in ("wgan", "hinge"):
        return -fake_scores.mean()
    if recipe.loss == "lsgan":
        return ((fake_scores - 1) * (fake_scores - 1)).mean() * 0.5
    logits = fake_scores * (1 / recipe.temperature)
    if recipe.g_loss == "minimax":
        zeros = wrap(logits.backend.xp.zeros(logits.shape, logits.dtype), logits.backend)
        return -ops.binary_cross_entropy_with_logits(logits, zeros)
    ones = wrap(logits.backend.xp.ones(logits.shape, logits.dtype), logits.backend)
    return ops.binary_cross_entropy_with_logits(logits, ones)


def d_values(recipe, scores):
    """What D says of each sample (a NumPy array of scores), float64: sigmoid(score / T) for
    bce, else the raw score."""
    values = np.asarray(scores, np.float64)
    return 1 / (1 + np.exp(-values / recipe.temperature)) if recipe.loss == "bce" else values


def d_mean(recipe, scores):
    """What D says of a batch (a Tensor of scores) on average, a 0-d array on its device: the
    mean of sigmoid(score / T) for bce, written (1 + tanh(score / 2T)) / 2, which cannot
    overflow, else of the raw scores."""
    values = scores.array
    if recipe.loss == "bce":
        values = scores.backend.xp.tanh(values * (0.5 / recipe.temperature)) * 0.5 + 0.5
    return values.mean()


def squared_gradient_norms(module, prefix):
    """{prefix/name: |gradient|^2, a 0-d array on its device} for every parameter with one."""
    return {f"{prefix}/{name}": p.backend.xp.dot(p.grad.array.ravel(), p.grad.array.ravel())
            for name, p in module.named_parameters() if p.grad is not None}


def to_host(backend, values):
    """{name: 0-d array on ``backend``} as {name: float}, in a single device-to-host copy (each
    copy waits for the device to finish: one per step lets launches and GPU work overlap)."""
    stacked = backend.xp.stack(list(values.values()))  # one copy kernel on the device
    return dict(zip(values, backend.to_numpy(stacked).astype(np.float64).tolist()))


def clip_weights(module, bound):
    """Clip every parameter of module to [-bound, bound] in place (WGAN's Lipschitz hack)."""
    for p in module.parameters():
        p.backend.xp.clip(p.array, -bound, bound, out=p.array)
        p._mark_modified("clip_weights")


@contextlib.contextmanager
def frozen(module):
    """Inside the block, module's parameters have requires_grad off: gradients flow through the
    module but are not computed for its weights. Each parameter's own setting comes back after."""
    trainable = [p for p in module.parameters() if p.requires_grad]
    for p in trainable:
        p.requires_grad = False
    try:
        yield module
    finally:
        for p in trainable:
            p.requires_grad = True


def train_step(G, D, opt_G, opt_D, real, z, recipe=None, update_G=True, rng=None,
               communicator=None):
    """One D update on a real and a fake batch, then (if update_G) one G update.

    recipe: a Recipe (default: the DCGAN paper's); rng: a NumPy Generator, needed for label
    noise and the gradient penalty's interpolates; communicator: a
    tinygan.distributed.Communicator whose ranks each run this step on their share of the
    batch, gradients averaged over them before each update. loss_D includes the penalties.
    Returns this rank's losses, D's outputs on both batches and every parameter's gradient norm.
    """
    recipe = Recipe() if recipe is None else recipe
    for name in ("label_noise", "gp"):
        if getattr(recipe, name) and rng is None:
            raise ValueError(f"train_step: {name} needs rng, a numpy.random.Generator")
    fake = G(z)
    if recipe.r1:
        r1, real_scores = r1_penalty_and_scores(D, real)
    else:
        real_scores = D(real)
    fake_scores = D(fake.detach())
    loss_D = discriminator_loss(recipe, real_scores, fake_scores, rng)
    if recipe.gp:
        loss_D = loss_D + gradient_penalty(D, real, fake, rng) * recipe.gp
    if recipe.r1:
        loss_D = loss_D + r1 * (recipe.r1 / 2)
    opt_D.zero_grad()
    loss_D.backward()
    if communicator is not None:
        distributed.average_gradients(D, communicator)
    opt_D.step()
    if recipe.clip:
        clip_weights(D, recipe.clip)
    on_device = {"loss_D": loss_D.array, "D_x": d_mean(recipe, real_scores),
                 "D_G_z": d_mean(recipe, fake_scores)} | squared_gradient_norms(D, "D")
    if update_G:
        with frozen(D):  # G's update needs gradients through D, not of D's weights
            loss_G = generator_loss(recipe, D(fake))
            opt_G.zero_grad()
            loss_G.backward()
        if communicator is not None:
            distributed.average_gradients(G, communicator)
        opt_G.step()
        on_device |= {"loss_G": loss_G.array} | squared_gradient_norms(G, "G")
    values = to_host(real.backend, on_device)  # the step's one wait for the device
    norms = {k: math.sqrt(v) for k, v in values.items() if k[:2] in ("D/", "G/")}
    metrics = {k: values.get(k, math.nan) for k in ("loss_D", "D_x", "D_G_z", "loss_G")}
    return metrics | {"grad_norms": norms}
