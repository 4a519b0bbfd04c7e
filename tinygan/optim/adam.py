"""Adam and AdamW, as torch.optim's, in place per parameter (t counts the parameter's steps):

g = g + wd p (Adam's weight decay) or p = p (1 - lr wd) (AdamW's, decoupled);
m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  (amsgrad: v_max = max(v_max, v))
p = p - lr * (m / (1 - b1^t)) / (sqrt(v or v_max) / sqrt(1 - b2^t) + eps)
"""
from .optimizer import Optimizer

BETAS = (lambda b: len(b) == 2 and all(0 <= x < 1 for x in b), "two numbers in [0, 1)")
NON_NEGATIVE = (lambda x: x >= 0, ">= 0")
SWITCH = (lambda x: isinstance(x, bool), "True or False")


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with L2 weight decay added to the gradient, as PyTorch's; without
    weight decay and amsgrad, one fused backend kernel per parameter (adam_update)."""

    checks = {"lr": NON_NEGATIVE, "betas": BETAS, "eps": NON_NEGATIVE,
              "weight_decay": NON_NEGATIVE, "amsgrad": SWITCH}
    legacy = {"step": "step", "m": "exp_avg", "v": "exp_avg_sq"}
    legacy_options, legacy_defaults = ("lr", "betas", "eps"), {"weight_decay": 0, "amsgrad": False}
    decoupled = False
    """True for AdamW: weight decay p = p (1 - lr wd) first, not g = g + wd p."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        if maximize or capturable or differentiable:
            raise ValueError(f"{type(self).__name__}: maximize, capturable and differentiable "
                             "are not supported by tinygan (only their default, False)")
        if foreach not in (None, False, True) or fused not in (None, False, True):
            raise TypeError(f"{type(self).__name__}: foreach and fused must be None or a bool")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad})

    def _update(self, p, g, state, group):
        xp = p.backend.xp
        if not state:
            state.update(step=0, exp_avg=xp.zeros_like(p.array), exp_avg_sq=xp.zeros_like(p.array))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(p.array)
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        state["step"] += 1
        c1, c2 = 1 - b1 ** state["step"], 1 - b2 ** state["step"]
        if wd and self.decoupled:
            p.array *= 1 - lr * wd
        elif wd:
            g = g + wd * p.array
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if not group["amsgrad"]:
            p.backend.adam_update(p.array, g, m, v, lr, b1, b2, eps, c1, c2)
            return
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        top = state.setdefault("max_exp_avg_sq", xp.zeros_like(p.array))
        xp.maximum(top, v, out=top)
        p.array -= (lr / c1) * m / (xp.sqrt(top) / c2 ** 0.5 + eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): p = p (1 - lr wd) first."""

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, **options):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, **options)
