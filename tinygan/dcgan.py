"""The DCGAN generator and discriminator (Radford et al. 2016), shared by examples, bench and tests.

No biases; conv weights ~ N(0, 0.02); batch-norm gamma ~ N(1, 0.02) and beta = 0, drawn from
tinygan's seeded initialisation generator on the CPU.
"""
import numpy as np

from . import nn, ops
from .tensor import Tensor

IMAGE_SIZES = (32, 64)


def _up(in_channels, out_channels, kernel, stride, padding):
    """ConvTranspose2d -> BatchNorm2d -> ReLU (the last two fused): one generator block."""
    return [nn.ConvTranspose2d(in_channels, out_channels, kernel, stride, padding, bias=False),
            nn.BatchNormAct2d(out_channels, negative_slope=0.0)]


def _down(in_channels, out_channels, batch_norm=True):
    """Conv2d(4, 2, 1) -> [BatchNorm2d ->] LeakyReLU(0.2): one discriminator block,
    halves H and W.
    """
    conv = nn.Conv2d(in_channels, out_channels, 4, 2, 1, bias=False)
    if batch_norm:
        return [conv, nn.BatchNormAct2d(out_channels, negative_slope=0.2)]
    return [conv, nn.LeakyReLU(0.2)]


def _check_image_size(image_size):
    if image_size not in IMAGE_SIZES:
        raise ValueError(f"image_size must be one of {IMAGE_SIZES}, got {image_size}")


class Generator(nn.Module):
    """z (N, nz, 1, 1) -> image (N, nc, S, S) in [-1, 1]."""

    def __init__(self, nz=100, ngf=64, nc=3, image_size=32):
        super().__init__()
        _check_image_size(image_size)
        layers = (_up(nz, ngf * 8, 4, 1, 0)                 # (N, 8ngf, 4, 4)
                  + _up(ngf * 8, ngf * 4, 4, 2, 1)          # (N, 4ngf, 8, 8)
                  + _up(ngf * 4, ngf * 2, 4, 2, 1)          # (N, 2ngf, 16, 16)
                  + _up(ngf * 2, ngf, 4, 2, 1))             # (N, ngf, 32, 32)
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
    """image (N, nc, S, S) -> D(x) = P(real), shape (N,)."""

    def __init__(self, ndf=64, nc=3, image_size=32):
        super().__init__()
        _check_image_size(image_size)
        layers = _down(nc, ndf, batch_norm=False)           # (N, ndf, S/2, S/2)
        channels = ndf
        for _ in range({32: 2, 64: 3}[image_size]):        # ... down to (N, C, 4, 4)
            layers += _down(channels, channels * 2)
            channels *= 2
        layers += [nn.Conv2d(channels, 1, 4, 1, 0, bias=False), nn.Sigmoid(),  # (N, 1, 1, 1)
                   nn.Flatten(start_dim=0)]                 # (N,)
        self.main = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x):
        return self.main(x)


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


def train_step(G, D, opt_G, opt_D, real, z, real_label=1.0):
    """One DCGAN step on a batch of real images and a batch of noise; returns its metrics.

    (1) update D: maximize log D(x) + log(1 - D(G(z)))   (BCE with targets real_label and 0)
    (2) update G: maximize log D(G(z))                   (the non-saturating loss, target 1)
    """
    xp, n = real.backend.xp, real.shape[0]

    def targets(value):
        return Tensor(xp.full(n, value, dtype=real.dtype))

    fake = G(z)
    d_real, d_fake = D(real), D(fake.detach())
    loss_D = (ops.binary_cross_entropy(d_real, targets(real_label))
              + ops.binary_cross_entropy(d_fake, targets(0.0)))
    opt_D.zero_grad()
    loss_D.backward()
    opt_D.step()

    loss_G = ops.binary_cross_entropy(D(fake), targets(1.0))
    opt_G.zero_grad()
    loss_G.backward()
    opt_G.step()
    return {"loss_D": loss_D.item(), "loss_G": loss_G.item(),
            "D_x": d_real.mean().item(), "D_G_z": d_fake.mean().item()}
