"""torch.nn.utils: spectral normalisation of a layer, gradient clipping by norm or value."""
import functools
import math

import numpy as np

from .conv import Conv2d
from .init import init_rng
from .linear import Linear
from .module import Module
from .. import ops
from ..tensor import Tensor, as_array, no_grad, wrap


def _unit_vectors(weight, eps, iterations):
    """Random unit (u, v) for weight's W_mat (drawn from the global CPU generator), refined by
    ``iterations`` power iterations, as buffers' arrays."""
    rows = weight.shape[0]
    vectors = []
    for size in (rows, weight.numel() // rows):
        vector = init_rng().standard_normal(size)
        vectors.append(wrap(*as_array((vector / np.linalg.norm(vector)).astype(weight.dtype),
                                      "spectral_norm")).to(weight.device))
    power_iteration(weight, *vectors, eps, iterations)
    return vectors


def power_iteration(weight, u, v, eps, iterations=1, v_first=False):
    """Refine the buffers u and v towards W_mat's top singular vectors, in place, without
    gradient: u = normalize(W_mat v), then v = normalize(W_mat^T u), ``iterations`` times (as
    torch.nn.utils.parametrizations.spectral_norm); v_first: v's step first (as the older
    torch.nn.utils.spectral_norm)."""
    xp = weight.backend.xp
    w = weight.array.reshape(u.shape[0], -1)  # (out, in * KH * KW)
    steps = [(u, w, v), (v, w.T, u)]  # (vector, matrix, the vector it is computed from)
    for _ in range(iterations):
        for target, matrix, source in steps[::-1] if v_first else steps:
            unit = matrix @ source.array
            target.array = unit / xp.maximum(xp.sqrt(unit @ unit), eps)


def _check_layer(name, module, n_power_iterations):
    if not isinstance(module, (Conv2d, Linear)):
        raise TypeError(f"{name} wraps a Conv2d or Linear, got {type(module).__name__}")
    if n_power_iterations <= 0:
        raise ValueError(f"{name}: n_power_iterations must be positive, got "
                         f"{n_power_iterations}")


class SpectralNorm(Module):
    """A Conv2d or Linear whose weight is divided by its largest singular value sigma
    (spectral normalisation, Miyato et al. 2018), as torch.nn.utils.parametrizations.spectral_norm:

    W_mat = weight as (out, -1);  sigma = u^T W_mat v;  the layer runs with weight / sigma.

    u and v are buffers. In training mode each forward first refines them by
    n_power_iterations power iterations (see power_iteration); in eval mode they stay as they
    are. The wrapped layer's parameters are named "module.weight", ...
    """

    def __init__(self, module, eps=1e-12, warmup_iterations=15, n_power_iterations=1):
        super().__init__()
        _check_layer("SpectralNorm", module, n_power_iterations)
        self.module, self.eps, self.n_power_iterations = module, eps, n_power_iterations
        u, v = _unit_vectors(module.weight, eps, warmup_iterations)
        self.register_buffer("u", u)
        self.register_buffer("v", v)

    def power_iteration(self, iterations=1):
        """Refine u and v (call it again after changing the weight other than by training,
        e.g. a re-initialisation)."""
        power_iteration(self.module.weight, self.u, self.v, self.eps, iterations)

    def forward(self, x):
        if self.training:
            self.power_iteration(self.n_power_iterations)
        weight = ops.spectral_normalize(self.module.weight, self.u.array, self.v.array)
        return self.module.forward_with(x, weight)


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """torch.nn.utils.spectral_norm: the Conv2d or Linear itself, changed in place as PyTorch
    changes it and returned: its parameter weight_orig, buffers weight_u and weight_v, and
    ``weight`` the normalised weight_orig / sigma, recomputed at each forward (after
    n_power_iterations power iterations, v's step first, in training mode). Unlike PyTorch's,
    u and v start after 15 power iterations, as torch.nn.utils.parametrizations.spectral_norm's
    do."""
    _check_layer("spectral_norm", module, n_power_iterations)
    if name != "weight" or dim not in (None, 0):
        raise NotImplementedError(f"spectral_norm: tinygan normalises the weight along dim 0 "
                                  f"only, got name={name!r}, dim={dim!r}")
    weight = module.weight
    del module.weight
    module.weight_orig = weight
    u, v = _unit_vectors(weight, eps, 15)
    module.register_buffer("weight_u", u)
    module.register_buffer("weight_v", v)
    module.weight = ops.spectral_normalize(weight, u.array, v.array).detach()
    module.forward = functools.partial(_spectral_forward, module, n_power_iterations, eps)
    return module


def _spectral_forward(module, n_power_iterations, eps, x):
    """The forward of a layer that spectral_norm changed."""
    if module.training:
        power_iteration(module.weight_orig, module.weight_u, module.weight_v, eps,
                        n_power_iterations, v_first=True)
    module.weight = ops.spectral_normalize(module.weight_orig, module.weight_u.array,
                                           module.weight_v.array)
    return type(module).forward_with(module, x, module.weight)


def _gradients(parameters):
    """The gradients (Tensors) of a Tensor or an iterable of Tensors, those without one skipped."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients together, in place, so that their total norm (the norm_type-norm of
    the per-parameter norms) is at most max_norm: each times min(1, max_norm / (total + 1e-6)).
    Returns the total norm before clipping, as PyTorch's."""
    grads = _gradients(parameters)
    if not grads:
        return wrap(np.zeros((), np.float32))
    norm_type = float(norm_type)
    with no_grad():
        norms = ops.stack([ops.norm(g, norm_type) for g in grads])
        total = ops.max(norms) if math.isinf(norm_type) else ops.norm(norms, norm_type)
        if error_if_nonfinite and not math.isfinite(float(total)):
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                               "gradients is non-finite, so it cannot be clipped")
        scale = ops.clamp(max_norm / (total + 1e-6), max=1.0)
        for g in grads:
            g.mul_(scale.to(g.device, g.dtype))
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient, in place, to [-clip_value, clip_value]."""
    with no_grad():
        for g in _gradients(parameters):
            g.clamp_(-clip_value, clip_value)
