"""Optimizers: update parameters in place from their ``.grad``, on the parameters' device."""
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
                zeros = p.backend.xp.zeros_like(p.data)
                self.state[i] = {"step": 0, "m": zeros, "v": zeros.copy()}
            s = self.state[i]
            s["step"] += 1
            p.backend.adam_update(p.data, p.grad.data, s["m"], s["v"], self.lr, b1, b2, self.eps,
                                  1 - b1 ** s["step"], 1 - b2 ** s["step"])

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
        if len(saved) != len(self.params):
            raise ValueError(f"Adam.load_state_dict: the state has {len(saved)} parameters, "
                             f"this optimizer has {len(self.params)}")
        for i, (p, s) in enumerate(zip(self.params, saved)):
            if s is not None and np.shape(s["m"]) != p.shape:
                raise ValueError(f"Adam.load_state_dict: parameter {i} has shape {p.shape}, "
                                 f"the saved state has shape {np.shape(s['m'])}")
        self.lr, self.betas, self.eps = (state_dict["lr"], tuple(state_dict["betas"]),
                                         state_dict["eps"])
        self.state = [None if s is None else
                      {"step": int(s["step"]), "m": p.backend.asarray(s["m"]).astype(p.dtype),
                       "v": p.backend.asarray(s["v"]).astype(p.dtype)}
                      for p, s in zip(self.params, saved)]
