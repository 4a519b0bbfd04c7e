"""In-place ops (fill_, add_, ...): values, sharing and gradients as PyTorch's, and the lines
that refuse what tinygan's graph cannot follow."""
import re

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygan
from tinygan import nn, optim

try:
    import torch
except ImportError:  # the PyTorch oracle is optional; the comparisons skip without it
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")

# Each: (name, the in-place call on a tensor x, as the same code runs in both frameworks).
CALLS = [
    ("fill_", lambda m, x: x.fill_(2.5)),
    ("fill_ tensor", lambda m, x: x.fill_(m.tensor(-1.5))),
    ("zero_", lambda m, x: x.zero_()),
    ("add_", lambda m, x: x.add_(m.ones(x.shape[-1]))),
    ("add_ alpha", lambda m, x: x.add_(m.ones(x.shape), alpha=-0.5)),
    ("sub_", lambda m, x: x.sub_(0.25)),
    ("mul_", lambda m, x: x.mul_(m.full(x.shape, -1.5))),
    ("div_", lambda m, x: x.div_(4.0)),
    ("clamp_", lambda m, x: x.clamp_(-0.5, 0.5)),
    ("clamp_ min", lambda m, x: x.clamp_(min=0.0)),
    ("copy_", lambda m, x: x.copy_(m.arange(float(x.shape[-1])))),
    ("masked_fill_", lambda m, x: x.masked_fill_(x > 0, 7.0)),
    ("+=", lambda m, x: x.__iadd__(1.0)),
    ("-=", lambda m, x: x.__isub__(m.ones(x.shape) * 2)),
    ("*=", lambda m, x: x.__imul__(3.0)),
    ("/=", lambda m, x: x.__itruediv__(2.0)),
]


def data(draw_seed, shape):
    return np.random.default_rng(draw_seed).standard_normal(shape).astype(np.float32)


@needs_torch
@pytest.mark.parametrize("name, call", CALLS, ids=[c[0] for c in CALLS])
@given(seed=st.integers(0, 2**32 - 1),
       shape=st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_values_as_pytorch(name, call, seed, shape):
    """The call returns the tensor itself, modified as PyTorch modifies it, alias included."""
    a = data(seed, shape)
    ours, theirs = tinygan.tensor(a), torch.tensor(a)
    alias = ours.detach()
    assert call(tinygan, ours) is ours
    call(torch, theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(alias.numpy(), ours.numpy())
    assert ours._version == theirs._version == 1


FILLS = ("fill_", "fill_ tensor", "zero_", "copy_")  # no gradient reaches the old values
GRAPH_CALLS = [c for c in CALLS if c[0] not in FILLS]


@needs_torch
@pytest.mark.parametrize("name, call", GRAPH_CALLS, ids=[c[0] for c in GRAPH_CALLS])
@given(seed=st.integers(0, 2**32 - 1))
def test_gradients_through_an_in_place_op_as_pytorch(name, call, seed):
    """In a graph, the tensor takes the op's place: the gradient flows through it to its old
    self, as PyTorch's; where PyTorch's backward refuses (the op overwrote what a backward
    needs, as x.mul_(x) does), tinygan's refuses too."""
    a, w = data(seed, (3, 4)), data(seed + 1, (3, 4))
    grads = []
    for m in (tinygan, torch):
        leaf = m.tensor(a, requires_grad=True)
        h = leaf * 2
        call(m, h)
        (h * m.tensor(w)).sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


@needs_torch
def test_a_tensor_times_itself_in_place():
    """x.mul_(x) in a graph: PyTorch's backward refuses (its op saved the overwritten x);
    tinygan's op reads a copy of the old x and gives the gradient of x * x."""
    a = data(1, (4,))
    leaf = tinygan.tensor(a, requires_grad=True)
    h = leaf * 1
    h.mul_(h)
    h.sum().backward()
    theirs = torch.tensor(a, requires_grad=True)
    (theirs * theirs).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)


@needs_torch
def test_a_loss_accumulated_with_plus_equals():
    """``loss += term`` in a loop, the common form, gives PyTorch's gradients."""
    a = data(0, (5,))
    grads = []
    for m in (tinygan, torch):
        w = m.tensor(a, requires_grad=True)
        loss = 0
        for k in range(3):
            loss += (w * (k + 1)).pow(2).sum()
        loss.backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_copy_into_a_buffer_sends_gradients_to_the_source():
    x = tinygan.tensor([1.0, 2.0], requires_grad=True)
    buffer = tinygan.zeros(2)
    buffer.copy_(x * 3)
    assert buffer.requires_grad
    buffer.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_a_parameter_update_under_no_grad_keeps_the_leaf():
    """``with no_grad(): w -= lr * w.grad``: the same tensor, still a leaf the optimizer holds."""
    w = tinygan.tensor([1.0, 2.0], requires_grad=True)
    before = id(w)
    (w * w).sum().backward()
    with tinygan.no_grad():
        w -= 0.5 * w.grad
        w.grad.zero_()
    assert id(w) == before and w.is_leaf and w.requires_grad
    np.testing.assert_array_equal(w.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])


def test_data_writes_reach_the_parameter_without_a_version():
    """``m.weight.data.normal_(0, 0.02)``, the DCGAN init: .data shares the array, not the
    version counter (as PyTorch's .data)."""
    layer = nn.Linear(50, 40)
    tinygan.manual_seed(0)
    layer.weight.data.normal_(0.0, 0.02)
    layer.bias.data.fill_(0)
    assert abs(float(layer.weight.numpy().std()) - 0.02) < 0.002
    assert not layer.bias.numpy().any()
    assert layer.weight._version == 0


def test_normal_and_uniform_follow_the_seed():
    draws = []
    for _ in range(2):
        tinygan.manual_seed(3)
        draws.append((tinygan.empty(1000).normal_(1.0, 2.0).numpy(),
                      tinygan.empty(1000).uniform_(-1.0, 1.0).numpy()))
    np.testing.assert_array_equal(draws[0][0], draws[1][0])
    normal, uniform = draws[0]
    assert abs(normal.mean() - 1.0) < 0.2 and abs(normal.std() - 2.0) < 0.2
    assert uniform.min() >= -1.0 and uniform.max() < 1.0


def test_integer_fill_and_copy():
    labels = tinygan.zeros(4, dtype=tinygan.long)
    labels.fill_(1)
    assert labels.dtype == tinygan.long and labels.tolist() == [1, 1, 1, 1]
    labels.copy_(tinygan.tensor([0.0, 1.9, 2.0, 3.5]))
    assert labels.tolist() == [0, 1, 2, 3]


def test_an_optimizer_step_before_backward_raises():
    """The classic GAN mistake: D's step between G's forward through D and G's backward.
    PyTorch raises; so does tinygan, naming the op."""
    D = nn.Linear(3, 1)
    opt = optim.Adam(D.parameters(), lr=0.1)
    fake = tinygan.randn(4, 3, requires_grad=True)
    loss_G = D(fake).mean()
    D(tinygan.randn(4, 3)).mean().backward()
    opt.step()
    with pytest.raises(RuntimeError, match="modified in place by Adam.step"):
        loss_G.backward()


@pytest.mark.parametrize("action, message", [
    (lambda x, h, v: x.add_(1), "leaf tensor that requires grad"),
    (lambda x, h, v: v.mul_(2), "view"),
    (lambda x, h, v: h.mul_(2), "already an input of"),
    (lambda x, h, v: tinygan.zeros(3).add_(tinygan.zeros(2)), "do not broadcast"),
    (lambda x, h, v: tinygan.zeros(3).expand(2, 3).add_(1), "read-only"),
    (lambda x, h, v: tinygan.zeros(3).fill_(tinygan.zeros(2)), "one-element"),
    (lambda x, h, v: tinygan.zeros(3).normal_(0, -1), "std must be >= 0"),
])
def test_refusals_are_one_line(action, message):
    x = tinygan.randn(2, 3, requires_grad=True)
    h = x * 2
    v = h[0]
    with pytest.raises((RuntimeError, ValueError)) as error:
        action(x, h, v)
    assert "\n" not in str(error.value)
    assert re.search(message, str(error.value)), str(error.value)
