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


def test_a_fused_batch_norm_prints_the_activation_it_carries():
    """A printed G or D shows where its ReLUs and LeakyReLUs are (they live in BatchNormAct2d)."""
    assert str(nn.BatchNormAct2d(4)).endswith("track_running_stats=True, then ReLU)")
    assert str(nn.BatchNormAct2d(4, 0.2)).endswith(", then LeakyReLU(negative_slope=0.2))")


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
    assert layers.insert(0, nn.Identity()) is None  # as list.insert and PyTorch's
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


@pytest.mark.parametrize("move", ["cpu", "float", "double"])
def test_moving_a_module_keeps_its_gradients_as_pytorch_does(move):
    """Module.to and its forms move or cast .grad with the parameter (they dropped it)."""
    net = nn.Linear(2, 3)
    net(tinygan.tensor(data(5, (4, 2), np.float32))).sum().backward()
    before = net.weight.grad.numpy().copy()
    getattr(net, move)()
    assert net.weight.grad is not None and net.weight.grad.dtype == net.weight.dtype
    np.testing.assert_allclose(net.weight.grad.numpy(), before, rtol=1e-7)
    if torch is not None:
        theirs = torch.nn.Linear(2, 3)
        theirs(torch.ones(4, 2)).sum().backward()
        getattr(theirs, move)()
        assert theirs.weight.grad is not None


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
     r"mse_loss: target shape \(1,\) must equal input shape \(3,\)"),
    (lambda: nn.L1Loss()(tinygan.ones(3), np.ones(3)), TypeError,
     "l1_loss: target must be a Tensor"),
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


# --- 5. new layers: BatchNorm1d, Dropout, Embedding, Upsample, Softmax, ModuleDict -------------

@needs_torch
@pytest.mark.parametrize("shape", [(6, 4), (5, 4, 3)])
def test_batch_norm_1d_takes_eps_second_and_matches_torch(shape):
    """PyTorch-GAN's BatchNorm1d(out_feat, 0.8): eps = 0.8; training and eval, float64."""
    x = data(0, shape)
    results = []
    for m in (tinygan, torch):
        layer = m.nn.BatchNorm1d(4, 0.8).double()
        inp = m.tensor(x.copy(), requires_grad=True)
        (layer(inp) * m.tensor(data(1, shape))).sum().backward()
        assert layer.eps == 0.8
        layer.eval()
        results.append([layer(m.tensor(x)).detach().numpy(), inp.grad.numpy(),
                        layer.weight.grad.numpy(), layer.running_mean.numpy(),
                        layer.running_var.numpy(), float(layer.num_batches_tracked)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)
    assert str(nn.BatchNorm1d(4, 0.8)) == str(torch.nn.BatchNorm1d(4, 0.8))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected a 2-D or 3-D input, got shape "
                                         r"\(2, 4, 1, 1\)"):
        nn.BatchNorm1d(4)(tinygan.ones(2, 4, 1, 1))


@needs_torch
def test_batch_norm_without_affine_or_running_stats_matches_torch():
    x = data(2, (4, 3, 2, 2))
    for kwargs in ({"affine": False}, {"track_running_stats": False}):
        ours = nn.BatchNorm2d(3, **kwargs).double()
        theirs = torch.nn.BatchNorm2d(3, **kwargs).double()
        assert [n for n, _ in ours.named_parameters()] == [n for n, _ in
                                                           theirs.named_parameters()]
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert str(ours) == str(theirs)
        for mode in (True, False):
            ours.train(mode), theirs.train(mode)
            np.testing.assert_allclose(ours(tinygan.tensor(x)).numpy(),
                                       theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)


@needs_torch
def test_a_torch_batch_norm_state_dict_loads_with_num_batches_tracked():
    theirs = torch.nn.BatchNorm2d(3)
    theirs(torch.randn(4, 3, 2, 2) * 3 + 1)
    ours = nn.BatchNorm2d(3)
    state = {k: v.numpy() for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(state)
    assert ours.load_state_dict(state) == ([], [])
    assert ours.num_batches_tracked.item() == 1
    np.testing.assert_array_equal(ours.running_var.numpy(), theirs.running_var.numpy())
    del state["num_batches_tracked"]  # a state dict saved before PyTorch had it still loads
    assert ours.load_state_dict(state).missing_keys == []


def test_load_state_dict_strict_false_reports_missing_and_unexpected_keys():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    state = net.state_dict()
    state["2.weight"] = state.pop("1.weight")
    before = net[1].weight.numpy().copy()
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["1.weight"] and result.unexpected_keys == ["2.weight"]
    assert type(result).__name__ == "IncompatibleKeys" and result == (["1.weight"], ["2.weight"])
    np.testing.assert_array_equal(net[1].weight.numpy(), before)
    state["0.bias"] = tinygan.zeros(3)  # Tensors load as arrays do
    net.load_state_dict(state, strict=False)
    assert not net[0].bias.numpy().any()


@needs_torch
def test_instance_norm_defaults_to_no_affine_as_torch():
    for m in (nn, torch.nn):
        assert len(list(m.InstanceNorm2d(4).parameters())) == 0
        assert len(list(m.InstanceNorm2d(4, affine=True).parameters())) == 2
    assert str(nn.InstanceNorm2d(3)) == str(torch.nn.InstanceNorm2d(3))
    with pytest.raises(NotImplementedError, match="track_running_stats=True is not supported"):
        nn.InstanceNorm2d(3, track_running_stats=True)


@needs_torch
def test_dropout_module_is_the_identity_in_eval_and_prints_as_torch():
    layer = nn.Dropout(0.4)
    x = tinygan.ones(50, 40)
    assert (layer(x).numpy() == 0).any() and layer.eval()(x) is x
    for p, inplace in ((0.5, False), (0.25, True)):
        assert str(nn.Dropout(p, inplace)) == str(torch.nn.Dropout(p, inplace))
    with pytest.raises(ValueError, match="Dropout: dropout probability has to be between 0 and 1"):
        nn.Dropout(-0.1)


@needs_torch
def test_embedding_module_gathers_rows_scatters_gradients_and_prints_as_torch():
    indices = np.array([[1, 3, 1], [0, 3, 3]])
    layers = [nn.Embedding(5, 4, padding_idx=3), torch.nn.Embedding(5, 4, padding_idx=3)]
    weight = layers[0].weight.numpy()
    assert not weight[3].any() and abs(weight.std() - 1) < 0.5  # N(0, 1), row 3 zero
    layers[1].weight.data = torch.tensor(weight)
    outputs = []
    for m, layer in zip((tinygan, torch), layers):
        out = layer(m.tensor(indices))
        (out * m.tensor(data(3, (2, 3, 4), np.float32))).sum().backward()
        outputs.append((out.detach().numpy(), layer.weight.grad.numpy(), str(layer)))
    for ours, theirs in zip(*outputs):
        assert ours == theirs if isinstance(ours, str) else np.allclose(ours, theirs, rtol=1e-6)
    with pytest.raises(NotImplementedError, match="Embedding: sparse=True"):
        nn.Embedding(3, 2, sparse=True)


@needs_torch
def test_upsample_and_softmax_modules_match_torch():
    x = data(4, (2, 3, 4, 4))
    for make in (lambda m: m.nn.Upsample(scale_factor=2), lambda m: m.nn.Upsample(size=8),
                 lambda m: m.nn.Upsample(scale_factor=(2, 1), mode="nearest"),
                 lambda m: m.nn.Softmax(dim=1), lambda m: m.nn.LogSoftmax(1)):
        ours, theirs = make(tinygan), make(torch)
        assert str(ours) == str(theirs)
        np.testing.assert_allclose(ours(tinygan.tensor(x)).numpy(),
                                   theirs(torch.tensor(x)).numpy(), rtol=1e-12)
    with pytest.raises(NotImplementedError, match="Upsample: mode='bilinear'"):
        nn.Upsample(scale_factor=2, mode="bilinear")


@needs_torch
def test_nll_loss_after_log_softmax_is_cross_entropy_as_in_torch():
    x, labels = data(5, (4, 3)), np.array([2, 0, 1, 1])
    values = []
    for m in (tinygan, torch):
        inp = m.tensor(x.copy(), requires_grad=True)
        loss = m.nn.NLLLoss()(m.nn.LogSoftmax(dim=1)(inp), m.tensor(labels))
        loss.backward()
        values.append((loss.item(), inp.grad.numpy(), str(m.nn.NLLLoss())))
    np.testing.assert_allclose(values[0][0], values[1][0], rtol=1e-12)
    np.testing.assert_allclose(values[0][1], values[1][1], rtol=1e-10)
    assert values[0][2] == values[1][2]


@needs_torch
def test_module_dict_names_prints_and_behaves_as_torch():
    dicts = [m.nn.ModuleDict({"conv": m.nn.Conv2d(1, 2, 3), "act": m.nn.ReLU()})
             for m in (tinygan, torch)]
    for d, m in zip(dicts, (tinygan, torch)):
        d["head"] = m.nn.Linear(2, 1)
        d.update([("tanh", m.nn.Tanh())])
    ours, theirs = dicts
    assert str(ours) == str(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.keys()) == list(theirs.keys()) and list(ours) == list(theirs)
    assert "conv" in ours and len(ours) == 4 and isinstance(ours["tanh"], nn.Tanh)
    assert ours.pop("act").__class__ is nn.ReLU and "act" not in ours
    del ours["tanh"]
    assert [type(v).__name__ for v in ours.values()] == ["Conv2d", "Linear"]
    owner = nn.Sequential(nn.ModuleDict({"a": nn.Linear(2, 2)}))
    assert [n for n, _ in owner.named_parameters()] == ["0.a.weight", "0.a.bias"]
    with pytest.raises(KeyError, match="ModuleDict: a key must be a non-empty string without"):
        ours["a.b"] = nn.ReLU()
    with pytest.raises(TypeError, match="ModuleDict: int is not a Module subclass"):
        ours["x"] = 3


def test_module_to_keeps_integer_buffers_and_cuda_refuses_in_one_line():
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    net.register_buffer("steps", np.zeros(3, np.int64))
    net.double()
    assert net[0].weight.dtype == np.float64 and net.steps.dtype == np.int64
    net.float()
    assert net[0].weight.dtype == np.float32
    if not tinygan.cuda.is_available() if hasattr(tinygan, "cuda") else True:
        with pytest.raises(Exception) as info:
            net.cuda()
        assert "\n" not in str(info.value)


@needs_torch
def test_parallel_distributed_data_parallel_names_and_prints_as_pytorchs(tmp_path):
    """One process (PyTorch's over a gloo group of 1): the same keys, printed form and grads;
    averaging over ranks is tests/test_ddp.py's."""
    import torch.distributed
    torch.distributed.init_process_group("gloo", init_method=f"file://{tmp_path}/init", rank=0,
                                         world_size=1)
    try:
        results, state = [], None
        for m in (torch, tinygan):
            ddp = m.nn.parallel.DistributedDataParallel(
                m.nn.Sequential(m.nn.BatchNorm1d(3), m.nn.Linear(3, 2)))
            if state is None:
                state = {k: v.numpy().copy() for k, v in ddp.state_dict().items()}
            else:
                ddp.load_state_dict(state)  # the 'module.' keys of PyTorch's
            ddp(m.arange(12.0).reshape(4, 3) ** 2).pow(2).sum().backward()
            results.append((sorted(ddp.state_dict()), repr(ddp),
                            [p.grad.numpy() for p in ddp.parameters()]))
    finally:
        torch.distributed.destroy_process_group()
    (keys, printed, grads), (our_keys, our_printed, our_grads) = results
    assert (our_keys, our_printed) == (keys, printed)
    for ours, theirs in zip(our_grads, grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


# --- 6. nn.utils -------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("make", [lambda m: m.nn.Conv2d(3, 4, 3, padding=1),
                                  lambda m: m.nn.Linear(5, 3)], ids=["Conv2d", "Linear"])
def test_utils_spectral_norm_changes_the_layer_as_torch_and_follows_it(make):
    """nn.utils.spectral_norm(layer) is the layer, with torch's names (weight_orig, weight_u,
    weight_v), printed form, and, from torch's state, torch's outputs in training (one power
    iteration per forward) and eval mode, and gradients, in float64."""
    layers = [m.nn.utils.spectral_norm(make(m).double()) for m in (tinygan, torch)]
    ours, theirs = layers
    assert type(ours) is type(make(tinygan)) and str(ours) == str(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}) == ([], [])
    x = data(9, (2, 3, 4, 4) if isinstance(ours, nn.Conv2d) else (2, 5))
    for training in (True, True, False):
        outputs = []
        for m, layer in zip((tinygan, torch), layers):
            layer.train(training)
            inp = m.tensor(x.copy(), requires_grad=True)
            out = layer(inp)
            (out * m.tensor(data(10, tuple(out.shape)))).sum().backward()
            outputs.append([out.detach().numpy(), inp.grad.numpy(), layer.weight_orig.grad.numpy(),
                            layer.weight_u.numpy(), layer.weight.detach().numpy()])
            layer.zero_grad()
        for a, b in zip(*outputs):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_utils_spectral_norm_layers_sit_in_a_sequential():
    tinygan.manual_seed(0)
    net = nn.Sequential(nn.utils.spectral_norm(nn.Conv2d(3, 4, 3)), nn.LeakyReLU(0.2),
                        nn.Flatten(), nn.utils.spectral_norm(nn.Linear(4 * 4 * 4, 1),
                                                             n_power_iterations=2))
    assert net(tinygan.ones(2, 3, 6, 6)).shape == (2, 1)
    assert [n for n, _ in net.named_parameters()] == ["0.bias", "0.weight_orig", "3.bias",
                                                      "3.weight_orig"]
    with pytest.raises(NotImplementedError, match="spectral_norm: tinygan normalises the weight"):
        nn.utils.spectral_norm(nn.Linear(2, 2), name="bias")
    with pytest.raises(TypeError, match="spectral_norm wraps a Conv2d or Linear, got ReLU"):
        nn.utils.spectral_norm(nn.ReLU())


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_returns_the_total_norm_and_scales_as_torch(norm_type, max_norm):
    grads = [data(6, (3, 4)) * 3, data(7, (5,))]
    results = []
    for m in (tinygan, torch):
        params = [m.nn.Parameter(m.zeros(*g.shape, dtype=m.float64)) for g in grads]
        params.append(m.nn.Parameter(m.zeros(2, dtype=m.float64)))  # no gradient: skipped
        for p, g in zip(params, grads):
            p.grad = m.tensor(g.copy())
        total = m.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
        results.append([total.numpy()] + [p.grad.numpy() for p in params[:2]])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@needs_torch
def test_clip_grad_value_clamps_as_torch():
    results = []
    for m in (tinygan, torch):
        p = m.nn.Parameter(m.zeros(3, 4, dtype=m.float64))
        p.grad = m.tensor(data(8, (3, 4)))
        assert m.nn.utils.clip_grad_value_(p, 0.5) is None
        results.append(p.grad.numpy())
    np.testing.assert_array_equal(*results)
    with pytest.raises(RuntimeError, match="non-finite"):
        p = nn.Parameter(tinygan.zeros(2))
        p.grad = tinygan.tensor([float("inf"), 1.0])
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


@needs_torch
def test_state_dict_holds_detached_tensors_sharing_the_parameters_as_torch():
    """state_dict() values are Tensors without grad that share the parameters' memory: a later
    in-place update shows in them, as PyTorch's (copy.deepcopy makes a snapshot)."""
    for m in (tinygan, torch):
        layer = m.nn.Linear(3, 2)
        state = layer.state_dict()
        assert isinstance(state["weight"], m.Tensor) and not state["weight"].requires_grad
        with m.no_grad():
            layer.weight.add_(1.0)
        np.testing.assert_array_equal(state["weight"].numpy(), layer.weight.detach().numpy())
