"""The DCGAN generator and discriminator (Radford et al. 2016), shared by examples, bench and tests.

No biases; conv weights ~ N(0, 0.02); normalisation gamma ~ N(1, 0.02) and beta = 0, drawn
from tinygan's seeded initialisation generator on the CPU. D returns raw scores (logits): the
losses of tinygan.gan apply the sigmoid where they need it. The recipe switches: G's activation
(ReLU or LeakyReLU) and D's normalisation (batch, instance, layer, spectral or none; spectral
normalises the weights of every conv, the first and last included, as in SN-GAN).
"""
import functools

import numpy as np

from .. import nn, torch_format
from ..serialization import load
from ..tensor import tensor

IMAGE_SIZES = (32, 64)
G_SLOPES = {"relu": 0.0, "leaky": 0.2}  # G's activation: negative slope
D_NORMS = ("batch", "instance", "layer", "spectral", "none")


def generator_convs(nz, ngf, nc=3, image_size=32):
    """G's convolutions in order: (transposed, in, out, kernel, stride, padding); all but the
    last are followed by batch norm and the activation."""
    return [(True, nz, ngf * 8, 4, 1, 0),         # (N, 8ngf, 4, 4)
            (True, ngf * 8, ngf * 4, 4, 2, 1),    # (N, 4ngf, 8, 8)
            (True, ngf * 4, ngf * 2, 4, 2, 1),    # (N, 2ngf, 16, 16)
            (True, ngf * 2, ngf, 4, 2, 1),        # (N, ngf, 32, 32)
            (False, ngf, nc, 3, 1, 1) if image_size == 32   # (N, nc, 32, 32)
            else (True, ngf, nc, 4, 2, 1)]                  # (N, nc, 64, 64)


def discriminator_convs(ndf, nc=3, image_size=32):
    """D's convolutions in order: (in, out, kernel, stride, padding); each stride-2 one halves
    the image, down to 4x4, and the last gives one score per image."""
    channels = [nc] + [ndf * 2 ** i for i in range({32: 3, 64: 4}[image_size])]
    return ([(c_in, c_out, 4, 2, 1) for c_in, c_out in zip(channels, channels[1:])]
            + [(channels[-1], 1, 4, 1, 0)])


def step_memory_bytes(config, batch_size):
    """A rough upper estimate of the host memory of one training step of train_cifar.py's
    models: parameters with their gradients and Adam's two moments (4 x 4 bytes each), and
    10 float32 copies of every conv's output for the batch (forward, backward, cols and
    transforms; bench/bench_memory.py measured 5 at 32x32 and 9 at 64x64)."""
    size, nz, ngf, ndf = (config.get(k, d) for k, d in (("image_size", 32), ("nz", 100),
                                                        ("ngf", 64), ("ndf", 64)))
    g_convs = [conv[1:] for conv in generator_convs(nz, ngf, 3, size)]
    parameters = sum(c_in * c_out * k * k for c_in, c_out, k, _, _ in
                     g_convs + discriminator_convs(ndf, 3, size))
    g_sides = [4, 8, 16, 32, size]
    d_sides = [size >> (i + 1) for i in range(len(discriminator_convs(ndf, 3, size)) - 1)] + [1]
    outputs = (sum(c_out * side ** 2 for (_, c_out, *_), side in zip(g_convs, g_sides))
               + sum(c_out * side ** 2 for (_, c_out, *_), side in
                     zip(discriminator_convs(ndf, 3, size), d_sides)))
    return 16 * parameters + 10 * 4 * batch_size * outputs


def _generator_block(in_channels, out_channels, kernel, stride, padding, slope):
    """ConvTranspose2d -> BatchNorm2d -> ReLU or LeakyReLU (the last two fused): a G block."""
    return [nn.ConvTranspose2d(in_channels, out_channels, kernel, stride, padding, bias=False),
            nn.BatchNormAct2d(out_channels, negative_slope=slope)]


def _discriminator_block(in_channels, out_channels, norm):
    """Conv2d(4, 2, 1) -> [normalisation ->] LeakyReLU(0.2): one D block, halves H and W."""
    conv = _discriminator_conv(in_channels, out_channels, 4, 2, 1, norm)
    if norm == "batch":
        return [conv, nn.BatchNormAct2d(out_channels, negative_slope=0.2)]
    norms = {"instance": functools.partial(nn.InstanceNorm2d, affine=True), "layer": nn.LayerNorm2d}
    layers = [norms[norm](out_channels)] if norm in norms else []
    return [conv, *layers, nn.LeakyReLU(0.2)]


def _discriminator_conv(in_channels, out_channels, kernel, stride, padding, norm):
    """A bias-free Conv2d of D, spectrally normalised if norm is "spectral"."""
    conv = nn.Conv2d(in_channels, out_channels, kernel, stride, padding, bias=False)
    return nn.SpectralNorm(conv) if norm == "spectral" else conv


def _check_image_size(image_size):
    if image_size not in IMAGE_SIZES:
        raise ValueError(f"image_size must be one of {IMAGE_SIZES}, got {image_size}")


class Generator(nn.Module):
    """z (N, nz, 1, 1) -> image (N, nc, S, S) in [-1, 1]."""

    def __init__(self, nz=100, ngf=64, nc=3, image_size=32, activation="relu"):
        super().__init__()
        _check_image_size(image_size)
        if activation not in G_SLOPES:
            raise ValueError(f"activation must be one of {tuple(G_SLOPES)}, got {activation!r}")
        slope = G_SLOPES[activation]
        *blocks, (transposed, *last) = generator_convs(nz, ngf, nc, image_size)
        layers = [layer for _, *conv in blocks for layer in _generator_block(*conv, slope)]
        layers.append((nn.ConvTranspose2d if transposed else nn.Conv2d)(*last, bias=False))
        layers.append(nn.Tanh())
        self.main = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    """image (N, nc, S, S) -> score (N,): the logit of P(real), sigmoid(score) = D(x)."""

    def __init__(self, ndf=64, nc=3, image_size=32, norm="batch"):
        super().__init__()
        _check_image_size(image_size)
        if norm not in D_NORMS:
            raise ValueError(f"norm must be one of {D_NORMS}, got {norm!r}")
        *blocks, last = discriminator_convs(ndf, nc, image_size)
        first_norm = "spectral" if norm == "spectral" else "none"  # no statistics of pixels
        layers = [layer for i, (c_in, c_out, *_) in enumerate(blocks)
                  for layer in _discriminator_block(c_in, c_out, first_norm if i == 0 else norm)]
        layers += [_discriminator_conv(*last, norm),            # (N, 1, 1, 1)
                   nn.Flatten(start_dim=0)]                     # (N,)
        self.main = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x):
        return self.main(x)


def models(config):
    """G and D as train_cifar.py builds them from its settings (a dict; absent keys take the
    defaults), with the seeded DCGAN init."""
    size = config.get("image_size", 32)
    return (Generator(config.get("nz", 100), config.get("ngf", 64), 3, size,
                      config.get("g_activation", "relu")),
            Discriminator(config.get("ndf", 64), 3, size, config.get("d_norm", "batch")))


def generator_state(checkpoint, raw=False):
    """(G's state dict, label) from a train_cifar.py checkpoint: the --ema average where the run
    kept one, unless raw, else the trained G."""
    if "G_ema" in checkpoint["modules"] and not raw:
        return checkpoint["modules"]["G_ema"], "EMA G"
    return checkpoint["modules"]["G"], "G"


def torch_names(model):
    """{state-dict key: PyTorch's key} of ``model``. A BatchNormAct2d is two entries of a
    PyTorch Sequential (BatchNorm2d, then ReLU or LeakyReLU), so each moves the indices after it
    on by one; a SpectralNorm (PyTorch keeps weight_orig, weight_u, weight_v) is refused."""
    names = {}
    for key in model.state_dict():
        module, parts = model, []
        for part in key.split(".")[:-1]:
            children = dict(module.named_children())
            if isinstance(children[part], nn.SpectralNorm):
                raise ValueError(f"{key} is in a SpectralNorm, whose weights PyTorch names "
                                 "otherwise; only models without one map to PyTorch's names")
            before = list(children.values())[:int(part)] \
                if isinstance(module, nn.Sequential) else []
            parts.append(str(int(part) + sum(isinstance(m, nn.BatchNormAct2d) for m in before))
                         if before else part)
            module = children[part]
        names[key] = ".".join(parts + key.split(".")[-1:])
    return names


def to_torch_state_dict(model):
    """``model``'s state dict under PyTorch's names (torch_names), its num_batches_tracked as
    int64: what PyTorch's model of the same layout loads (load_state_dict)."""
    own = model.state_dict()
    return {theirs: own[key].long() if key.endswith("num_batches_tracked") else own[key]
            for key, theirs in torch_names(model).items()}


def from_torch_state_dict(model, state_dict):
    """A state dict of PyTorch's model of ``model``'s layout (Tensors or arrays, PyTorch's or
    tinygan's) under ``model``'s names and dtypes, for model.load_state_dict; ValueError if it
    lacks a key or has one too many."""
    names, own = torch_names(model), model.state_dict()
    missing = [theirs for key, theirs in names.items() if theirs not in state_dict
               and not key.endswith("num_batches_tracked")]
    unexpected = sorted(set(state_dict) - set(names.values()))
    if missing or unexpected:
        raise ValueError(f"the state dict does not fit a {type(model).__name__}: missing keys "
                         f"{missing[:4]}, unexpected keys {unexpected[:4]}")
    return {key: tensor(np.asarray(state_dict[theirs].numpy() if hasattr(
                state_dict[theirs], "numpy") else state_dict[theirs]).astype(own[key].dtype))
            for key, theirs in names.items() if theirs in state_dict}


def holds_torch_weights(path):
    """Whether ``path`` is a file of PyTorch weights for torch_generator: a torch.save archive
    or a .safetensors file (else a training checkpoint of tinygan's)."""
    return torch_format.is_torch_file(path) or str(path).endswith(".safetensors")


def torch_generator(path):
    """A Generator holding the weights of a PyTorch DCGAN generator in pytorch/examples' layout
    (main.0.weight to main.12.weight; its 64x64 one, or at 32x32 a 3x3 Conv2d last) that
    ``path`` holds (torch.save or safetensors), and its settings {nz, ngf, nc, image_size};
    ValueError naming ``path`` if the weights are not one."""
    state_dict = load(path, map_location="cpu")
    first, last = (state_dict.get(f"main.{i}.weight") if isinstance(state_dict, dict) else None
                   for i in (0, 12))
    if first is None or last is None or first.ndim != 4 or last.ndim != 4:
        raise ValueError(f"{path}: expected the weights of a DCGAN generator in pytorch/examples' "
                         "layout (main.0.weight to main.12.weight), got other keys")
    image_size = 64 if tuple(last.shape[2:]) == (4, 4) else 32
    nz, ngf = first.shape[0], first.shape[1] // 8
    nc = last.shape[1] if image_size == 64 else last.shape[0]
    G = Generator(nz, ngf, nc, image_size)
    try:
        G.load_state_dict(from_torch_state_dict(G, state_dict))
    except ValueError as error:
        raise ValueError(f"{path}: not a DCGAN generator in pytorch/examples' layout: {error}"
                         ) from None
    return G, {"nz": nz, "ngf": ngf, "nc": nc, "image_size": image_size}


def init_weights(module):
    """DCGAN init: conv weights ~ N(0, 0.02); batch norm weight ~ N(1, 0.02), bias = 0; then
    spectral norms' singular vectors are fitted to the new weights."""
    rng = nn.init_rng()
    for name, p in module.named_parameters():
        if name.endswith("bias"):
            p.array = np.zeros(p.shape, np.float32)
        else:
            mean = 1.0 if p.ndim == 1 else 0.0  # 1-D weights are batch norm's gamma
            p.array = rng.normal(mean, 0.02, size=p.shape).astype(np.float32)
    for layer in module.modules():
        if isinstance(layer, nn.SpectralNorm):
            layer.power_iteration(15)


def count_parameters(module):
    """Number of trainable scalars."""
    return sum(p.numel() for p in module.parameters())
