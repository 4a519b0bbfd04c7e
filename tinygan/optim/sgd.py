"""SGD and RMSprop, as torch.optim's, in place per parameter (g + wd p where weight_decay):

SGD:      b = g at the first step, else mu b + (1 - dampening) g;  d = g + mu b (nesterov) or b
          (d = g without momentum);  p = p - lr d
RMSprop:  v = alpha v + (1 - alpha) g^2;  centered: a = alpha a + (1 - alpha) g, v' = v - a^2;
          u = g / (sqrt(v') + eps);  with momentum b = mu b + u, u = b;  p = p - lr u
"""
from .adam import NON_NEGATIVE, SWITCH
from .optimizer import Optimizer

FRACTION = (lambda x: 0 <= x < 1, "in [0, 1)")


def _decayed(p, g, group):
    """The gradient with L2 weight decay added (a new array), or g itself without it."""
    return g + group["weight_decay"] * p.array if group["weight_decay"] else g


def _refuse_options(name, maximize, foreach, differentiable):
    """One line for the PyTorch options tinygan does not have."""
    if maximize or differentiable:
        raise ValueError(f"{name}: maximize and differentiable are not supported by tinygan "
                         "(only their default, False)")
    if foreach not in (None, False, True):
        raise TypeError(f"{name}: foreach must be None or a bool, got {foreach!r}")


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

    checks = {"lr": NON_NEGATIVE, "momentum": NON_NEGATIVE, "dampening": NON_NEGATIVE,
              "weight_decay": NON_NEGATIVE, "nesterov": SWITCH}

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        _refuse_options("SGD", maximize, foreach, differentiable or fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening, got "
                             f"momentum={momentum}, dampening={dampening}")
        super().__init__(params, {"lr": lr, "momentum": momentum,
                                  "dampening": dampening, "weight_decay": weight_decay,
                                  "nesterov": nesterov})

    def _update(self, p, g, state, group):
        g, mu = _decayed(p, g, group), group["momentum"]
        if mu:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.copy()
            else:
                b = state["momentum_buffer"]
                b *= mu
                b += (1 - group["dampening"]) * g
            b = state["momentum_buffer"]
            g = g + mu * b if group["nesterov"] else b
        p.array -= group["lr"] * g


class RMSprop(Optimizer):
    """RMSprop (Hinton 2012) with PyTorch's options: centered, momentum, weight decay."""

    checks = {"lr": NON_NEGATIVE, "alpha": FRACTION, "eps": NON_NEGATIVE,
              "weight_decay": NON_NEGATIVE, "momentum": NON_NEGATIVE, "centered": SWITCH}
    legacy = {"v": "square_avg"}
    legacy_options, legacy_defaults = (
        ("lr", "alpha", "eps"), {"weight_decay": 0, "momentum": 0, "centered": False})

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _refuse_options("RMSprop", maximize or capturable, foreach, differentiable)
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps,
                                  "weight_decay": weight_decay, "momentum": momentum,
                                  "centered": centered})

    def _update(self, p, g, state, group):
        xp, alpha = p.backend.xp, group["alpha"]
        if not state:
            state.update(step=0, square_avg=xp.zeros_like(p.array))
        state["step"] += 1
        g, v = _decayed(p, g, group), state["square_avg"]
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            a = state.setdefault("grad_avg", xp.zeros_like(p.array))
            a *= alpha
            a += (1 - alpha) * g
            u = g / (xp.sqrt(v - a * a) + group["eps"])
        else:
            u = g / (xp.sqrt(v) + group["eps"])
        if group["momentum"]:
            b = state.setdefault("momentum_buffer", xp.zeros_like(p.array))
            b *= group["momentum"]
            b += u
            u = b
        p.array -= group["lr"] * u
