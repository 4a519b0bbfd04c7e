"""Embedding: a table of num_embeddings rows of embedding_dim values, looked up by index."""
from . import functional as F
from .module import Module, Parameter
from .. import creation


class Embedding(Module):
    """weight[input] (weight drawn from N(0, 1), as PyTorch's; row padding_idx zero and
    never updated); max_norm, scale_grad_by_freq and sparse refused in one line."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False):
        super().__init__()
        F._refuse("Embedding", max_norm=(max_norm, None),
                  scale_grad_by_freq=(scale_grad_by_freq, False), sparse=(sparse, False))
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings "
                                 f"[{-num_embeddings}, {num_embeddings}), got {padding_idx}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        weight = _weight
        if weight is None:
            weight = creation.randn(num_embeddings, embedding_dim)
            if padding_idx is not None:
                weight.array[padding_idx] = 0
        self.weight = Parameter(weight, requires_grad=not _freeze)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None
                       else "")
