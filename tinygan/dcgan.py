"""The DCGAN generator and discriminator (Radford et al. 2016), shared by examples, bench and tests.

No biases; conv weights ~ N(0, 0.02); normalisation gamma ~ N(1, 0.02) and beta = 0, drawn
from tinygan's seeded initialisation generator on the CPU. D returns raw scores (logits): the
losses of tinygan.gan apply the sigmoid where they need it. The recipe switches: G's activation
(ReLU or LeakyReLU) and D's normalisation (batch, instance, layer or none).
"""
import numpy as np

from . import nn

IMAGE_SIZES = (32, 64)
G_SLOPES = {"relu": 0.0, "leaky": 0.2}  # G's activation: negative slope
D_NORMS = ("batch", "instance", "layer", "none")


def _up(in_channels, out_channels, kernel, stride, padding, slope):
    """ConvTranspose2d -> BatchNorm2d -> ReLU or LeakyReLU (the last two fused): a G block."""
    return [nn.ConvTranspose2d(in_channels, out_channels, kernel, stride, padding, bias=False),
            nn.BatchNormAct2d(out_channels, negative_slope=slope)]


def _down(in_channels, out_channels, norm):
    """Conv2d(4, 2, 1) -> [normalisation ->] LeakyReLU(0.2): one D block, halves H and W."""
    conv = nn.Conv2d(in_channels, out_channels, 4, 2, 1, bias=False)
    if norm == "batch":
        return [conv, nn.BatchNormAct2d(out_channels, negative_slope=0.2)]
    norms = {"instance": nn.InstanceNorm2d, "layer": nn.LayerNorm2d}
    layers = [norms[norm](out_channels)] if norm in norms else []
    return [conv, *layers, nn.LeakyReLU(0.2)]


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
        layers = (_up(nz, ngf * 8, 4, 1, 0, slope)          # (N, 8ngf, 4, 4)
                  + _up(ngf * 8, ngf * 4, 4, 2, 1, slope)   # (N, 4ngf, 8, 8)
                  + _up(ngf * 4, ngf * 2, 4, 2, 1, slope)   # (N, 2ngf, 16, 16)
                  + _up(ngf * 2, ngf, 4, 2, 1, slope))      # (N, ngf, 32, 32)
        if image_size == 32:
            layers.append(nn.Conv2d(ngf, nc, 3, 1, 1, bias=False))           # (N, nc, 32, 32)
        else:
            layers.append(nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False))  # (N, nc, 64, 64)
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
        layers = _down(nc, ndf, "none")                     # (N, ndf, S/2, S/2)
        channels = ndf
        for _ in range({32: 2, 64: 3}[image_size]):        # ... down to (N, C, 4, 4)
            layers += _down(channels, channels * 2, norm)
            channels *= 2
        layers += [nn.Conv2d(channels, 1, 4, 1, 0, bias=False),  # (N, 1, 1, 1)
                   nn.Flatten(start_dim=0)]                 # (N,)
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


def init_weights(module):
    """DCGAN init: conv weights ~ N(0, 0.02); batch norm weight ~ N(1, 0.02), bias = 0."""
    rng = nn.init_rng()
    for name, p in module.named_parameters():
        if name.endswith("bias"):
            p.data = np.zeros(p.shape, np.float32)
        else:
            mean = 1.0 if p.ndim == 1 else 0.0  # 1-D weights are batch norm's gamma
            p.data = rng.normal(mean, 0.02, size=p.shape).astype(np.float32)


def count_parameters(module):
    """Number of trainable scalars."""
    return sum(p.size for p in module.parameters())
