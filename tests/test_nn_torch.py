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


# --- 2. apply, printing, Identity, ModuleList -------------------------------------------------

def dcgan_like(m):
    """A DCGAN generator and discriminator as pytorch/examples writes them."""
    nn_ = m.nn
    generator = nn_.Sequential(
        nn_.ConvTranspose2d(100, 64 * 8, 4, 1, 0, bias=False), nn_.BatchNorm2d(64 * 8),
        nn_.ReLU(True),
        nn_.ConvTranspose2d(64 * 8, 64, 4, 2, 1, bias=False), nn_.BatchNorm2d(64), nn_.ReLU(True),
        nn_.ConvTranspose2d(64, 3, 4, 2, 1, bias=False), nn_.Tanh())
    discriminator = nn_.Sequential(
        nn_.Conv2d(3, 64, 4, 2, 1, bias=False), nn_.LeakyReLU(0.2, inplace=True),
        nn_.Conv2d(64, 128, 4, stride=2, padding=1), nn_.BatchNorm2d(128, momentum=None),
        nn_.LeakyReLU(0.2), nn_.Flatten(),
        nn_.Linear(128, 1), nn_.Sigmoid())
    return nn_.Sequential(generator, discriminator, nn_.Identity())


LAYERS = [
    lambda m: m.nn.Linear(3, 2),
    lambda m: m.nn.Linear(3, 2, bias=False),
    lambda m: m.nn.Conv2d(3, 8, 3),
    lambda m: m.nn.Conv2d(3, 8, (3, 5), stride=(1, 2), padding=(2, 1), bias=False),
    lambda m: m.nn.ConvTranspose2d(8, 3, 4, 2, 1),
    lambda m: m.nn.ConvTranspose2d(8, 3, 3, stride=2, padding=1, output_padding=1, bias=False),
    lambda m: m.nn.BatchNorm2d(16),
    lambda m: m.nn.BatchNorm2d(16, eps=1e-3, momentum=0.2),
    lambda m: m.nn.ReLU(), lambda m: m.nn.ReLU(True),
    lambda m: m.nn.LeakyReLU(), lambda m: m.nn.LeakyReLU(0.2, inplace=True),
    lambda m: m.nn.Tanh(), lambda m: m.nn.Sigmoid(), lambda m: m.nn.Flatten(),
    lambda m: m.nn.MaxPool2d(2), lambda m: m.nn.AvgPool2d(2), lambda m: m.nn.Identity(),
    lambda m: m.nn.InstanceNorm2d(4, affine=False),
    dcgan_like,
    lambda m: m.nn.ModuleList([m.nn.Linear(2, 2), m.nn.ModuleList([m.nn.Tanh()])]),
    lambda m: m.nn.ModuleList([m.nn.ReLU(), m.nn.ReLU(), m.nn.Sequential(m.nn.Tanh()),
                               m.nn.Sequential(m.nn.Tanh()), m.nn.ReLU()]),
    lambda m: m.nn.ModuleList(), lambda m: m.nn.Sequential(),
]


@needs_torch
@pytest.mark.parametrize("make", LAYERS, ids=range(len(LAYERS)))
def test_printed_as_torch(make):
    assert str(make(tinygan)) == str(make(torch))
    assert repr(make(tinygan)) == repr(make(torch))


class Net:
    """A custom module with a sub-module, a ModuleList and a Sequential, in either framework."""

    def __new__(cls, m):
        class Custom(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = m.nn.ModuleList([m.nn.Linear(4, 4) for _ in range(2)])
                self.head = m.nn.Sequential(m.nn.Linear(4, 1), m.nn.Sigmoid())

            def forward(self, x):
                for block in self.blocks:
                    x = block(x)
                return self.head(x)
        return Custom()


@needs_torch
def test_apply_visits_children_first_as_torch():
    names = {}
    for m in (tinygan, torch):
        seen = []
        net = Net(m)
        assert net.apply(lambda module: seen.append(type(module).__name__)) is net
        names[m.__name__] = seen
    assert names["tinygan"] == names["torch"]
    assert str(Net(tinygan)) == str(Net(torch))


@needs_torch
def test_children_and_named_children_as_torch():
    """children() yields the modules (a loop with isinstance finds them), named_children()
    (name, module) pairs, as PyTorch's; children() gave pairs before, silently."""
    kinds = {}
    for m in (tinygan, torch):
        net = Net(m)
        kinds[m.__name__] = ([type(c).__name__ for c in net.children()],
                             [(n, type(c).__name__) for n, c in net.named_children()])
    assert kinds["tinygan"] == kinds["torch"]


@needs_torch
def test_apply_weights_init_as_dcgan_example():
    def weights_init(m):
        name = type(m).__name__
        if name.find("Conv") != -1:
            m.weight.data.fill_(0.5)
        elif name.find("BatchNorm") != -1:
            m.weight.data.fill_(2.0)
            m.bias.data.fill_(0)
    for m in (tinygan, torch):
        net = dcgan_like(m).apply(weights_init)
        assert float(net[0][0].weight.detach().mean()) == 0.5
        assert float(net[0][1].weight.detach().mean()) == 2.0


def test_modulelist_parameters_indexing_and_errors():
    layers = nn.ModuleList([nn.Linear(2, 3), nn.Linear(3, 1)])
    layers.append(nn.Tanh())
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "Linear", "Tanh"]
    assert [k for k, _ in layers.named_parameters()] == ["1.weight", "1.bias", "2.weight",
                                                         "2.bias"]
    assert len(layers[1:3]) == 2 and isinstance(layers[1:3], nn.ModuleList)
    layers[3] = nn.Sigmoid()
    assert isinstance(layers[-1], nn.Sigmoid)
    x = tinygan.tensor(data(3, (5, 2), np.float32))
    for layer in layers:
        x = layer(x)
    assert x.shape == (5, 1)
    with pytest.raises(TypeError, match="ModuleList.append: int is not a Module subclass"):
        layers.append(3)
    with pytest.raises(IndexError):
        layers[9] = nn.Tanh()
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        layers(x)
    with pytest.raises(TypeError, match="apply: fn must be callable"):
        layers.apply(None)


def test_identity_and_sequential_slice():
    x = tinygan.tensor(data(4, (2, 3), np.float32))
    assert nn.Identity(54, unused="x")(x) is x
    net = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1))
    head = net[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear"]


# --- 3. loss modules --------------------------------------------------------------------------

def sigmoid_np(a):
    return 1 / (1 + np.exp(-a))


# Each: (name, make the module in framework m given the weight tensor w, input array, target).
LOSSES = [
    ("BCELoss", lambda m, r, w: m.nn.BCELoss(reduction=r),
     sigmoid_np(data(5, (4, 3))), np.random.default_rng(6).random((4, 3))),
    ("BCELoss weight", lambda m, r, w: m.nn.BCELoss(weight=w, reduction=r),
     sigmoid_np(data(5, (4, 3))), (data(6, (4, 3)) > 0).astype(np.float64)),
    ("BCEWithLogitsLoss", lambda m, r, w: m.nn.BCEWithLogitsLoss(reduction=r),
     data(7, (4, 3)) * 5, np.random.default_rng(8).random((4, 3))),
    ("BCEWithLogitsLoss weight", lambda m, r, w: m.nn.BCEWithLogitsLoss(w, reduction=r),
     data(7, (4, 3)), np.ones((4, 3))),
    ("MSELoss", lambda m, r, w: m.nn.MSELoss(reduction=r), data(9, (2, 3, 4)),
     data(10, (2, 3, 4))),
    ("L1Loss", lambda m, r, w: m.nn.L1Loss(reduction=r), data(11, (5, 2)), data(12, (5, 2))),
]


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, make, x, t", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_values_and_gradients_as_torch(name, make, x, t, reduction):
    weight = data(13, (3,)) ** 2
    losses, grads = [], []
    for m in (tinygan, torch):
        inp = m.tensor(x.copy(), requires_grad=True)
        target = m.tensor(t.copy(), requires_grad=True)
        loss = make(m, reduction, m.tensor(weight.copy()))(inp, target)
        (loss * m.tensor(data(14, loss.shape))).sum().backward()
        losses.append(loss.detach().numpy())
        grads.append((inp.grad.numpy(), target.grad.numpy()))
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-12, atol=1e-14)
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14)


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_loss_as_torch(reduction):
    x, labels = data(15, (6, 4)) * 3, np.array([0, 3, 1, 1, 2, 0])
    results = []
    for m in (tinygan, torch):
        logits = m.tensor(x.copy(), requires_grad=True)
        loss = m.nn.CrossEntropyLoss(reduction=reduction)(logits, m.tensor(labels))
        (loss * m.tensor(data(16, loss.shape))).sum().backward()
        results.append((loss.detach().numpy(), logits.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


@needs_torch
def test_l1_loss_gradient_where_equal_is_zero_as_torch():
    x = np.array([1.0, 2.0, 3.0])
    grads = []
    for m in (tinygan, torch):
        inp = m.tensor(x.copy(), requires_grad=True)
        m.nn.L1Loss()(inp, m.tensor(np.array([1.0, 0.0, 5.0]))).backward()
        grads.append(inp.grad.numpy())
    np.testing.assert_array_equal(*grads)


@needs_torch
def test_loss_modules_print_as_torch():
    for name in ("BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "CrossEntropyLoss"):
        assert str(getattr(nn, name)()) == str(getattr(torch.nn, name)())


REFUSED = [
    (lambda: nn.MSELoss(reduction="avg"), ValueError, "MSELoss: reduction must be"),
    (lambda: nn.BCELoss(size_average=True), TypeError, "BCELoss: size_average and reduce"),
    (lambda: nn.L1Loss(reduce=False), TypeError, "L1Loss: size_average and reduce"),
    (lambda: nn.BCELoss(weight=[1.0]), TypeError, "BCELoss: weight must be a Tensor"),
    (lambda: nn.BCEWithLogitsLoss(pos_weight=tinygan.ones(3)), NotImplementedError,
     "pos_weight is not supported"),
    (lambda: nn.CrossEntropyLoss(weight=tinygan.ones(3)), NotImplementedError, "class weights"),
    (lambda: nn.CrossEntropyLoss(label_smoothing=0.1), NotImplementedError, "label_smoothing"),
    (lambda: nn.MSELoss()(tinygan.ones(3), tinygan.ones(1)), ValueError,
     r"MSELoss: target shape \(1,\) must equal input shape \(3,\)"),
    (lambda: nn.L1Loss()(tinygan.ones(3), np.ones(3)), TypeError,
     "L1Loss: target must be a Tensor"),
    (lambda: nn.BCELoss()(tinygan.ones(2) * 2, tinygan.ones(2)), ValueError,
     r"input must be probabilities in \[0, 1\]"),
    (lambda: nn.CrossEntropyLoss()(tinygan.ones((2, 3)), tinygan.tensor(np.array([0, -100]))),
     NotImplementedError, "target holds ignore_index -100"),
    (lambda: nn.CrossEntropyLoss(ignore_index=1)(tinygan.ones((2, 3)),
                                                 tinygan.tensor(np.array([0, 1]))),
     NotImplementedError, "target holds ignore_index 1"),
    (lambda: nn.CrossEntropyLoss()(tinygan.ones((2, 3)), tinygan.ones((2, 3))), ValueError,
     "target must be integer class labels"),
]


@pytest.mark.parametrize("call, error, message", REFUSED, ids=range(len(REFUSED)))
def test_loss_refusals_in_one_line(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert "\n" not in str(info.value)
