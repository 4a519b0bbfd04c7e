"""Optimizers: update parameters in place from their ``.grad``, on the parameters' device; and
a moving average of a module's weights (for G's EMA)."""
import copy

import numpy as np


class Optimizer:
    """Holds the parameter list; ``zero_grad`` clears every parameter's gradient."""

    def __init__(self, params):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def _check_saved(self, saved, key):
        """Saved per-parameter states must match the parameters in count and array shapes."""
        name = type(self).__name__
        if len(saved) != len(self.params):
            raise ValueError(f"{name}.load_state_dict: the state has {len(saved)} parameters, "
                             f"this optimizer has {len(self.params)}")
        for i, (p, s) in enumerate(zip(self.params, saved)):
            if s is not None and np.shape(s[key]) != p.shape:
                raise ValueError(f"{name}.load_state_dict: parameter {i} has shape {p.shape}, "
                                 f"the saved state has shape {np.shape(s[key])}")


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), as in torch.optim.Adam without weight decay, in place per parameter:

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  t = t + 1
    p = p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params)
        if lr <= 0 or eps <= 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"Adam: need lr > 0, eps > 0 and betas in [0, 1), "
                             f"got lr={lr}, betas={betas}, eps={eps}")
        self.lr, self.betas, self.eps = lr, tuple(betas), eps
        self.state = [None] * len(self.params)  # per parameter: {"step", "m", "v"}

    def step(self):
        b1, b2 = self.betas
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            if self.state[i] is None:
                zeros = p.backend.xp.zeros_like(p.array)
                self.state[i] = {"step": 0, "m": zeros, "v": zeros.copy()}
            s = self.state[i]
            s["step"] += 1
            p.backend.adam_update(p.array, p.grad.array, s["m"], s["v"], self.lr, b1, b2, self.eps,
                                  1 - b1 ** s["step"], 1 - b2 ** s["step"])
            p._mark_modified("Adam.step")

    def state_dict(self):
        """Hyper-parameters and per-parameter state, as NumPy copies."""
        state = [None if s is None else
                 {"step": s["step"], "m": p.backend.to_numpy(s["m"]).copy(),
                  "v": p.backend.to_numpy(s["v"]).copy()}
                 for p, s in zip(self.params, self.state)]
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps, "state": state}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict`` saved; the parameter list must match in count and shapes."""
        saved = state_dict["state"]
        self._check_saved(saved, "m")
        self.lr, self.betas, self.eps = (state_dict["lr"], tuple(state_dict["betas"]),
                                         state_dict["eps"])
        self.state = [None if s is None else
                      {"step": int(s["step"]), "m": p.backend.asarray(s["m"]).astype(p.dtype),
                       "v": p.backend.asarray(s["v"]).astype(p.dtype)}
                      for p, s in zip(self.params, saved)]


class RMSprop(Optimizer):
    """RMSprop, as torch.optim.RMSprop without momentum, centering or weight decay, in place:

    v = alpha v + (1 - alpha) g^2;  p = p - lr * g / (sqrt(v) + eps)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8):
        super().__init__(params)
        if lr <= 0 or eps <= 0 or not 0 <= alpha < 1:
            raise ValueError(f"RMSprop: need lr > 0, eps > 0 and alpha in [0, 1), "
                             f"got lr={lr}, alpha={alpha}, eps={eps}")
        self.lr, self.alpha, self.eps = lr, alpha, eps
        self.state = [None] * len(self.params)  # per parameter: {"v"}

    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            xp, g = p.backend.xp, p.grad.array
            if self.state[i] is None:
                self.state[i] = {"v": xp.zeros_like(p.array)}
            v = self.state[i]["v"]
            v *= self.alpha
            v += (1 - self.alpha) * g * g
            p.array -= self.lr * (g / (xp.sqrt(v) + self.eps))
            p._mark_modified("RMSprop.step")

    def state_dict(self):
        """Hyper-parameters and per-parameter state, as NumPy copies."""
        state = [None if s is None else {"v": p.backend.to_numpy(s["v"]).copy()}
                 for p, s in zip(self.params, self.state)]
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps, "state": state}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict`` saved; the parameter list must match in count and shapes."""
        saved = state_dict["state"]
        self._check_saved(saved, "v")
        self.lr, self.alpha, self.eps = state_dict["lr"], state_dict["alpha"], state_dict["eps"]
        self.state = [None if s is None else {"v": p.backend.asarray(s["v"]).astype(p.dtype)}
                      for p, s in zip(self.params, saved)]


class ExponentialMovingAverage:
    """A copy of a module whose parameters and buffers follow the original's after each update:

    avg = d avg + (1 - d) p,  d = min(decay, (1 + t) / (10 + t)) at the t-th update,

    the warm-up of TensorFlow's ExponentialMovingAverage, so that the initial weights fade out
    in short runs. Buffers (batch norm's running statistics) are averaged alike, as timm's
    ModelEmaV2 does: the average model's own statistics, not the original's.
    """

    def __init__(self, module, decay=0.999):
        if not 0 < decay < 1:
            raise ValueError(f"ExponentialMovingAverage: decay must be in (0, 1), got {decay}")
        shared = {id(t.backend): t.backend for t in module.parameters() + module.buffers()}
        self.module = copy.deepcopy(module, memo=shared)  # the arrays copied, backends shared
        for p in self.module.parameters():
            p.requires_grad, p.grad = False, None
        self.decay, self.updates = decay, 0

    def update(self, module):
        """Move the average one step towards ``module`` (same structure), in place."""
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        pairs = zip(self.module.parameters() + self.module.buffers(),
                    module.parameters() + module.buffers())
        for average, tensor in pairs:
            average.array *= d
            average.array += (1 - d) * tensor.array
            average._mark_modified("ExponentialMovingAverage.update")
        self.updates += 1

    def state_dict(self):
        """The average module's state dict and the number of updates so far."""
        return {"module": self.module.state_dict(), "decay": self.decay, "updates": self.updates}

    def load_state_dict(self, state):
        self.module.load_state_dict(state["module"])
        self.decay, self.updates = state["decay"], int(state["updates"])
