"""Loss modules: each holds its settings and calls its nn.functional function."""
from . import functional as F
from .module import Module


class _Loss(Module):
    """A loss module: reduction 'mean' (the default), 'sum' or 'none', as PyTorch's; the
    deprecated size_average and reduce are refused in one line."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = F._reduction(type(self).__name__, size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    """A loss with an optional ``weight`` (a Tensor broadcast over the per-element losses)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        F._check_weight(type(self).__name__, weight)
        self.weight = weight  # a plain tensor, not a parameter (PyTorch's is a buffer)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1]: -(t log p + (1 - t) log(1 - p)), each
    log clamped at -100 as PyTorch's."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """BCELoss of sigmoid(input), computed from the logits without overflow."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(weight, size_average, reduce, reduction)
        F._check_pos_weight("BCEWithLogitsLoss", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction)


class MSELoss(_Loss):
    """(input - target) ** 2, reduced."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """|input - target|, reduced (gradient 0 where they are equal, as PyTorch's)."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class _ClassLoss(_WeightedLoss):
    """A loss over class labels: ignore_index kept; class weights refused in one line."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        F._refuse_class_weights(type(self).__name__, weight)
        self.ignore_index = ignore_index


class CrossEntropyLoss(_ClassLoss):
    """Softmax cross-entropy of logits (N, K) against integer class labels (N,). Refused in one
    line, as tinygan does not implement them: class weights, label_smoothing, probability
    targets, more than 2 dimensions, and labels equal to ignore_index."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
        F._refuse("CrossEntropyLoss", label_smoothing=(label_smoothing, 0.0))
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, ignore_index=self.ignore_index,
                               reduction=self.reduction)


class NLLLoss(_ClassLoss):
    """-input[n, target[n]] of log-probabilities (N, K) (e.g. LogSoftmax(dim=1)'s) against
    integer labels (N,); class weights and labels equal to ignore_index refused in one line."""

    def forward(self, input, target):
        return F.nll_loss(input, target, ignore_index=self.ignore_index,
                          reduction=self.reduction)
