"""PyTorch's autograd idioms (rows 37-43 of the idiom table, issue 28) run unchanged on tinygan.

Each snippet runs with ``torch`` bound to tinygan and then to PyTorch, and what it leaves in
``y`` is compared: tensors by values, shape, dtype and requires_grad, None as None, the rest
exactly. Without PyTorch only tinygan's side runs. The refusals come last: each is one line.
"""
import warnings

import numpy as np
import pytest

import tinygan

try:
    import torch
except ImportError:  # the oracle is optional: tinygan's side still runs
    torch = None

RNG = np.random.default_rng(28)
X = RNG.standard_normal((4, 3)).astype(np.float32)
W = RNG.standard_normal((3, 2)).astype(np.float32)
V = RNG.standard_normal((2, 1)).astype(np.float32)


def run(code):
    """``y`` after ``code`` with ``torch`` bound to tinygan, then to PyTorch (None if missing)."""
    results = []
    for library in (tinygan, torch):
        scope = {"torch": library, "X": X.copy(), "W": W.copy(), "V": V.copy()}
        if library is not None:
            exec(code, scope)  # noqa: S102  (the snippets are this file's own)
        results.append(scope.get("y"))
    return results


def assert_same(ours, theirs):
    """ours (tinygan's) is theirs (PyTorch's), or theirs is None for want of PyTorch."""
    if torch is None:
        return
    if isinstance(theirs, (tuple, list, dict)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), ours
        if isinstance(theirs, dict):
            assert list(ours) == list(theirs)
            ours, theirs = ours.values(), theirs.values()
        for mine, their in zip(ours, theirs):
            assert_same(mine, their)
    elif isinstance(theirs, torch.Tensor):
        assert isinstance(ours, tinygan.Tensor), f"expected a Tensor, got {type(ours).__name__}"
        assert ours.shape == tuple(theirs.shape)
        assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
        assert ours.requires_grad == theirs.requires_grad
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    else:
        assert ours == theirs


def check(code):
    """Run ``code`` on both libraries and compare their ``y``."""
    assert_same(*run(code))


def test_backward_fills_grad():  # row 37
    check("w = torch.tensor(W, requires_grad=True)\n"
          "loss = ((torch.tensor(X) @ w) ** 2).mean()\n"
          "loss.backward()\n"
          "y = w.grad")


def test_backward_twice_with_retain_graph_accumulates():  # row 38
    check("w = torch.tensor(W, requires_grad=True)\n"
          "loss = ((torch.tensor(X) @ w) ** 3).sum()\n"
          "loss.backward(retain_graph=True)\n"
          "loss.backward()\n"
          "y = w.grad")


def test_no_grad_block():  # row 39
    check("w = torch.tensor(W, requires_grad=True)\n"
          "with torch.no_grad():\n"
          "    z = w * 2\n"
          "y = (z, z.requires_grad, torch.is_grad_enabled())")


def test_no_grad_decorator():  # row 40
    check("w = torch.tensor(W, requires_grad=True)\n"
          "@torch.no_grad()\n"
          "def double(a):\n"
          "    return a * 2, torch.is_grad_enabled()\n"
          "y = double(w) + (torch.is_grad_enabled(),)")


def test_autograd_grad_create_graph():  # row 41: a second derivative through the first
    check("w = torch.tensor(W, requires_grad=True)\n"
          "g, = torch.autograd.grad((w ** 3).sum(), w, create_graph=True)\n"
          "y = (g, torch.autograd.grad(g.sum(), w)[0], w.grad)")


def test_autograd_grad_only_inputs():  # row 42
    check("w = torch.tensor(W, requires_grad=True)\n"
          "g, = torch.autograd.grad((w ** 3).sum(), w, only_inputs=True)\n"
          "y = (g, w.grad)")


def test_only_inputs_false_warns_and_is_ignored():
    code = ("w = torch.tensor(W, requires_grad=True)\n"
            "y = torch.autograd.grad((w ** 3).sum(), [w], only_inputs=False)")
    with pytest.warns(FutureWarning, match="only_inputs") as caught:
        ours, theirs = run(code)
    assert any(str(w.message).startswith("autograd.grad: only_inputs") for w in caught)
    assert_same(ours, theirs)


def test_variable_is_a_detached_tensor():  # row 43
    check("t = torch.tensor(X)\n"
          "w = torch.tensor(W, requires_grad=True)\n"
          "v, u, d = (torch.autograd.Variable(t), torch.autograd.Variable(t, requires_grad=True),\n"
          "           torch.autograd.Variable(w * 2))\n"
          "y = (v, u, d, t.requires_grad, v is t, isinstance(t, torch.autograd.Variable))")


def test_variable_shares_the_array():
    t = tinygan.tensor(X)
    v = tinygan.autograd.Variable(t, requires_grad=True)
    assert v.array is t.array and v.creator is None
    with pytest.warns(UserWarning, match="volatile"):
        assert tinygan.autograd.Variable(t, volatile=True).array is t.array
    assert tinygan.autograd.Variable().shape == (0,)


def test_wgan_gp_gradient_penalty():
    """WGAN-GP's penalty as its reference code writes it, but for norm(2, dim=1) spelled out."""
    check("w = torch.tensor(W, requires_grad=True)\n"
          "v = torch.tensor(V, requires_grad=True)\n"
          "alpha = torch.tensor(X[:, :1] ** 2)\n"
          "interpolates = alpha * torch.tensor(X) + (1 - alpha) * torch.tensor(X[::-1].copy())\n"
          "interpolates = torch.autograd.Variable(interpolates, requires_grad=True)\n"
          "d = ((interpolates @ w) ** 2) @ v\n"
          "gradients = torch.autograd.grad(outputs=d, inputs=interpolates,\n"
          "                                grad_outputs=torch.ones(d.size()),\n"
          "                                create_graph=True, retain_graph=True,\n"
          "                                only_inputs=True)[0]\n"
          "penalty = ((((gradients ** 2).sum(1) + 1e-12) ** 0.5 - 1) ** 2).mean() * 10\n"
          "penalty.backward()\n"
          "y = (gradients, penalty, w.grad, v.grad, interpolates.grad)")


def test_unused_input_is_none_or_zeros():
    check("w = torch.tensor(W, requires_grad=True)\n"
          "u = torch.tensor(V, requires_grad=True)\n"
          "loss = (w ** 2).sum()\n"
          "y = (torch.autograd.grad(loss, [w, u], allow_unused=True, retain_graph=True),\n"
          "     torch.autograd.grad(loss, (w, u), materialize_grads=True))")


def test_sequences_of_outputs_and_grad_outputs():
    check("w = torch.tensor(W, requires_grad=True)\n"
          "x = torch.tensor(X, requires_grad=True)\n"
          "a, b = x @ w, (w ** 2).sum()\n"
          "y = torch.autograd.grad([a, b], [x, w], grad_outputs=[torch.tensor(X @ W), None])")


def test_dict_of_inputs():
    check("w = torch.tensor(W, requires_grad=True)\n"
          "v = torch.tensor(V, requires_grad=True)\n"
          "y = torch.autograd.grad((w @ v).sum(), {'w': w, 'v': v})")


def test_autograd_backward_several_tensors_in_one_pass():
    check("w = torch.tensor(W, requires_grad=True)\n"
          "h = torch.tensor(X) @ w\n"
          "a, b = h ** 2, h.sum()\n"
          "torch.autograd.backward([a, b], grad_tensors=[torch.tensor(X @ W), None])\n"
          "y = w.grad")


def test_autograd_backward_into_inputs_only():
    check("w = torch.tensor(W, requires_grad=True)\n"
          "v = torch.tensor(V, requires_grad=True)\n"
          "h = w @ v\n"
          "torch.autograd.backward((h ** 2).sum(), inputs=[v, h])\n"
          "y = (w.grad, v.grad, h.grad)")


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_autograd_backward_create_graph():
    check("w = torch.tensor(W, requires_grad=True)\n"
          "torch.autograd.backward((w ** 3).sum(), create_graph=True)\n"
          "first = w.grad\n"
          "y = (first, torch.autograd.grad(first.sum(), w)[0])")


def test_tinygan_grad_is_the_engine_autograd_grad_extends():
    w = tinygan.tensor(W, requires_grad=True)
    ours, = tinygan.autograd.grad((w ** 3).sum(), w)
    theirs, = tinygan.grad((w ** 3).sum(), w)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def one_line_error(error, match, call):
    """``call()`` raises ``error`` with a one-line message matching ``match``."""
    with pytest.raises(error, match=match) as caught:
        call()
    assert "\n" not in str(caught.value), str(caught.value)


def test_refusals():
    w = tinygan.tensor(W, requires_grad=True)
    u = tinygan.tensor(V, requires_grad=True)
    grad = tinygan.autograd.grad
    one_line_error(NotImplementedError, "is_grads_batched", lambda: grad(
        (w ** 2).sum(), w, is_grads_batched=True))
    one_line_error(ValueError, "allow_unused", lambda: grad(
        (w ** 2).sum(), [w, u], allow_unused=False, materialize_grads=True))
    one_line_error(RuntimeError, "allow_unused=True", lambda: grad((w ** 2).sum(), [w, u]))
    one_line_error(TypeError, "has to be a tensor", lambda: tinygan.autograd.Variable(3))
    one_line_error(AttributeError, "custom Function", lambda: tinygan.autograd.Function)
    one_line_error(AttributeError, "no attribute 'Spam'", lambda: tinygan.autograd.Spam)
    one_line_error(ValueError, "2 grad_tensors for 1 tensors", lambda: tinygan.autograd.backward(
        (w ** 2).sum(), grad_tensors=[None, None]))
    one_line_error(RuntimeError, "inputs is empty", lambda: tinygan.autograd.backward(
        (w ** 2).sum(), inputs=[]))


def test_only_inputs_true_does_not_warn():
    w = tinygan.tensor(W, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tinygan.autograd.grad((w ** 2).sum(), w, only_inputs=True)
