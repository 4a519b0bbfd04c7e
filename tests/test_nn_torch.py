"""tinygan.nn against PyTorch's torch.nn: the same code, with only the module changed, gives
the same values, gradients and printed form (issue 29)."""
import numpy as np
import pytest

import tinygan
from tinygan import nn

try:
    import torch
except ImportError:  # the PyTorch oracle is optional; the comparisons skip without it
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")


def data(seed, shape, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def both(array, requires_grad=False):
    """The same values as a tinygan and a torch tensor."""
    ours = tinygan.tensor(array.copy(), requires_grad=requires_grad)
    theirs = torch.tensor(array.copy(), requires_grad=requires_grad)
    return ours, theirs


def copy_weights(ours, theirs):
    """Load torch module ``theirs``'s parameters and buffers into ``ours`` (same names)."""
    state = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()
             if k in dict(ours.named_parameters()) | dict(ours.named_buffers())}
    ours.load_state_dict(state)


# --- 1. inplace= -------------------------------------------------------------------------------

ACTIVATIONS = [
    ("ReLU(True)", lambda m: m.nn.ReLU(True)),
    ("ReLU(inplace=True)", lambda m: m.nn.ReLU(inplace=True)),
    ("LeakyReLU(0.2, inplace=True)", lambda m: m.nn.LeakyReLU(0.2, inplace=True)),
    ("LeakyReLU(0.2, True)", lambda m: m.nn.LeakyReLU(0.2, True)),
    ("ReLU()", lambda m: m.nn.ReLU()),
    ("LeakyReLU(negative_slope=0.3)", lambda m: m.nn.LeakyReLU(negative_slope=0.3)),
]


@needs_torch
@pytest.mark.parametrize("name, make", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_values_and_input_modified_as_torch(name, make):
    ours, theirs = both(data(0, (3, 4), np.float32))
    y_ours, y_theirs = make(tinygan)(ours), make(torch)(theirs)
    np.testing.assert_array_equal(y_ours.numpy(), y_theirs.numpy())
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())  # modified or not, as torch
    assert (y_ours is ours) == (y_theirs is theirs)


def conv_net(m, act):
    return m.nn.Sequential(m.nn.Conv2d(2, 3, 3, padding=1), act(m), m.nn.Conv2d(3, 1, 3))


@needs_torch
@pytest.mark.parametrize("name, make", ACTIVATIONS[:3], ids=[a[0] for a in ACTIVATIONS[:3]])
def test_inplace_gradients_in_a_conv_net_equal_torch_float64(name, make):
    torch.manual_seed(0)
    theirs = conv_net(torch, make).double()
    ours = conv_net(tinygan, make).to(dtype=np.float64)
    copy_weights(ours, theirs)
    x_ours, x_theirs = both(data(1, (2, 2, 5, 5)), requires_grad=True)
    loss_ours = (ours(x_ours) ** 2).sum()
    loss_theirs = (theirs(x_theirs) ** 2).sum()
    loss_ours.backward()
    loss_theirs.backward()
    np.testing.assert_allclose(loss_ours.item(), loss_theirs.item(), rtol=1e-12)
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-10,
                               atol=1e-12)
    grads = dict(theirs.named_parameters())
    for key, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[key].grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=key)


def test_inplace_on_a_leaf_requiring_grad_is_refused_in_one_line():
    x = tinygan.tensor(data(2, (3,)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"relu_: a leaf tensor that requires grad") as info:
        nn.ReLU(inplace=True)(x)
    assert "\n" not in str(info.value)
    with pytest.raises(RuntimeError, match=r"leaky_relu_"):
        nn.LeakyReLU(0.2, inplace=True)(x)


def test_inplace_under_no_grad_writes_a_leaf():
    x = tinygan.tensor(np.array([-1.0, 2.0]), requires_grad=True)
    with tinygan.no_grad():
        y = nn.LeakyReLU(0.5, inplace=True)(x)
    assert y is x
    np.testing.assert_array_equal(x.numpy(), [-0.5, 2.0])


@pytest.mark.parametrize("bad", ["yes", 2, None, 0.5])
def test_inplace_must_be_a_bool(bad):
    with pytest.raises(TypeError, match="inplace must be True or False"):
        nn.ReLU(bad)
    with pytest.raises(TypeError, match="inplace must be True or False"):
        nn.LeakyReLU(0.1, inplace=bad)
