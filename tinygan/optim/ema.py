"""A moving average of a module's weights (for G's EMA)."""
import copy


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
        """Restore the average module's state dict, decay and update count from state_dict()."""
        self.module.load_state_dict(state["module"])
        self.decay, self.updates = state["decay"], int(state["updates"])
