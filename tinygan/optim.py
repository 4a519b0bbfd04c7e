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
    """Adam (Kingma & Ba 2015), as in torch.optim.Adam without weight decay:

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
            s, g = self.state[i], p.grad.data
            s["step"] += 1
            s["m"] = b1 * s["m"] + (1 - b1) * g
            s["v"] = b2 * s["v"] + (1 - b2) * g * g
            m_hat = s["m"] / (1 - b1 ** s["step"])
            v_hat = s["v"] / (1 - b2 ** s["step"])
            p.data -= self.lr * m_hat / (p.backend.xp.sqrt(v_hat) + self.eps)

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
        self.lr, self.betas, self.eps = state_dict["lr"], tuple(state_dict["betas"]), state_dict["eps"]
        self.state = [None if s is None else
                      {"step": int(s["step"]), "m": p.backend.asarray(s["m"]).astype(p.dtype),
                       "v": p.backend.asarray(s["v"]).astype(p.dtype)}
                      for p, s in zip(self.params, saved)]
