"""Python's protocols on tensors (bool, float, int, len, iter, in, ==, abs) and the reductions
that ran but gave another result than PyTorch's (each case failed before its fix): bool() of
a tensor, a tensor exponent, norm(inf), max() with ties, the gradient of norm and std at 0."""
import math

import numpy as np
import pytest

import tinygan

torch = pytest.importorskip("torch")

CASES = [  # (name, f(module) -> a value, compared as a float or a list)
    ("bool of a one-element tensor", lambda m: bool(m.tensor([0.5]) > 1)),
    ("bool of a 0-d zero", lambda m: bool(m.tensor(0.0))),
    ("float and int", lambda m: (float(m.tensor([2.5])), int(m.tensor(3.7)))),
    ("index", lambda m: [10, 20, 30][m.tensor(2)]),
    ("len and iter", lambda m: (len(m.zeros(3, 2)), [t.tolist() for t in m.eye(2)])),
    ("in", lambda m: (2.0 in m.tensor([1.0, 2.0]), 5 in m.tensor([1, 2]))),
    ("== and != elementwise", lambda m: ((m.tensor([1, 2, 3]) == m.tensor([1, 0, 3])).tolist(),
                                         (m.tensor([1.0, 2.0]) != 2.0).tolist())),
    ("accuracy of argmax", lambda m: (m.tensor([[0.1, 0.9], [0.8, 0.2]]).max(1)[1]
                                      == m.tensor([1, 1])).float().mean().item()),
    ("abs()", lambda m: abs(m.tensor([-1.5, 2.0])).tolist()),
    ("tensor exponent, 0-d", lambda m: (m.tensor([2.0, 3.0]) ** m.tensor(2.0)).tolist()),
    ("norm inf, -inf, 0", lambda m: [m.tensor([[1.0, -4.0], [0.0, 2.0]]).norm(p).item()
                                     for p in (math.inf, -math.inf, 0)]),
    ("norm inf over dim", lambda m: m.tensor([[1.0, -4.0], [0.0, 2.0]]).norm(
        math.inf, dim=1).tolist()),
    ("reductions over the one dim of a 0-d tensor", lambda m: [
        m.tensor(-2.0).norm(math.inf, dim=0).item(), m.tensor(3.0).sum(dim=-1).item(),
        m.tensor(3.0).std(dim=0, unbiased=False).item(), m.tensor(0.0).any(dim=0).item()]),
    ("t()", lambda m: (m.arange(6.0).reshape(2, 3).t().tolist(),
                       m.tensor([1.0, 2.0]).t().tolist())),
    ("any and all", lambda m: (m.tensor([[1.0, 0.0], [2.0, 3.0]]).any().item(),
                               m.tensor([[1.0, 0.0], [2.0, 3.0]]).all(dim=1).tolist())),
    ("clone", lambda m: m.clone(m.tensor([1.0, 2.0])).tolist()),
    ("masks: | & ^ ~", lambda m: [f(m.tensor([True, False, True]), m.tensor([1.0, 1.0, -1.0]) > 0)
                                  .tolist() for f in (lambda a, b: a | b, lambda a, b: a & b,
                                                      lambda a, b: a ^ b, lambda a, b: ~a)]),
]


@pytest.mark.parametrize("name, case", CASES, ids=[c[0] for c in CASES])
def test_as_pytorch(name, case):
    assert case(tinygan) == case(torch)


def test_deepcopy_pickle_and_numpy_as_pytorch():
    """copy.deepcopy of a model, pickling a tensor (optimizer states are broadcast that way),
    np.asarray of a CPU tensor; a computed tensor cannot be deep-copied (PyTorch's rule)."""
    import copy
    import pickle
    for m in (tinygan, torch):
        layer = m.nn.Linear(3, 2)
        layer.weight.grad = m.ones(2, 3)
        twin = copy.deepcopy(layer)
        assert twin.weight is not layer.weight and type(twin.weight) is type(layer.weight)
        assert twin.weight.grad is None  # a Parameter's deepcopy leaves its grad behind
        x = m.ones(2, requires_grad=True)
        x.grad = m.ones(2)
        assert copy.deepcopy(x).grad.tolist() == [1.0, 1.0]
        back = pickle.loads(pickle.dumps(layer.weight))
        assert back.requires_grad and back.tolist() == layer.weight.tolist()
        assert np.asarray(m.tensor([1.0, 2.0])).tolist() == [1.0, 2.0]
        with pytest.raises(RuntimeError):
            copy.deepcopy(layer.weight * 2)


@pytest.mark.parametrize("reduce", [
    lambda x: x.max(), lambda x: x.min(), lambda x: x.norm(2, dim=1).sum(),
    lambda x: x.std(dim=1).sum(), lambda x: x.norm(3).sum() + x.norm(math.inf),
    lambda x: x.clone().pow(2).sum()])
def test_gradients_at_ties_and_zeros_as_pytorch(reduce):
    """max/min share the gradient between ties; norm and std have gradient 0 (not nan) at 0."""
    a = np.array([[0.0, 0.0, 0.0], [3.0, -3.0, 1.0]], np.float32)
    grads = []
    for m in (tinygan, torch):
        x = m.tensor(a, requires_grad=True)
        reduce(x).backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("action, message", [
    (lambda: bool(tinygan.zeros(2)), "2 elements"),
    (lambda: len(tinygan.tensor(1.0)), "0-d"),
    (lambda: iter(tinygan.tensor(1.0)), "0-d"),
    (lambda: tinygan.ones(2) ** tinygan.ones(2), "exponent must be a number"),
    (lambda: tinygan.zeros(0).max(), "empty"),
    (lambda: tinygan.zeros(2, 2, 2).t(), "at most 2 dims"),
    (lambda: tinygan.ones(2) | tinygan.ones(2), "bool or integer tensors"),
])
def test_refusals_are_one_line(action, message):
    with pytest.raises((RuntimeError, TypeError)) as error:
        action()
    assert message in str(error.value) and "\n" not in str(error.value)
