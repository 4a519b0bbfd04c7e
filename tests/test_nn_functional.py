"""tinygan.nn.functional and tinygan.nn.init against torch.nn.functional and torch.nn.init: the
same calls give the same values and float64 gradients, and the same distributions (issue 29)."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygan
import tinygan.nn.functional as F
import tinygan.nn.init
from tinygan import nn

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # the PyTorch oracle is optional; the comparisons skip without it
    torch = TF = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")


def data(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


def run_both(call, arrays, labels=()):
    """call(F, *tensors, *labels) in tinygan and torch on float64 copies of ``arrays`` (labels:
    int64 arrays, no gradient): [(output, [input gradients])] for each, the output summed with
    fixed weights before backward so that every gradient entry is tested."""
    results = []
    for module, functional in ((tinygan, F), (torch, TF)):
        tensors = [module.tensor(a.copy(), requires_grad=True) for a in arrays]
        out = call(functional, *tensors, *[module.tensor(t.copy()) for t in labels])
        weights = module.tensor(data(99, tuple(out.shape)))
        (out * weights).sum().backward()
        results.append((out.detach().numpy(), [t.grad.numpy() for t in tensors]))
    return results


def assert_same(call, arrays, labels=(), rtol=1e-10, atol=1e-12):
    (ours, our_grads), (theirs, their_grads) = run_both(call, arrays, labels)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)
    for a, b in zip(our_grads, their_grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


X = data(0, (4, 5))
IMAGES = data(1, (2, 3, 6, 6))
PROBS = 1 / (1 + np.exp(-data(2, (4, 5))))
LABELS = np.array([0, 4, 2, 2])

CASES = [
    ("relu", lambda f, x: f.relu(x), [X]),
    ("leaky_relu", lambda f, x: f.leaky_relu(x, 0.2), [X]),
    ("leaky_relu default", lambda f, x: f.leaky_relu(x), [X]),
    ("sigmoid", lambda f, x: f.sigmoid(x), [X]),
    ("tanh", lambda f, x: f.tanh(x), [X]),
    ("softmax", lambda f, x: f.softmax(x, dim=1), [X]),
    ("softmax dim 0", lambda f, x: f.softmax(x, 0), [X]),
    ("log_softmax", lambda f, x: f.log_softmax(x, dim=1), [X]),
    ("log_softmax large", lambda f, x: f.log_softmax(x * 1e3, dim=-1), [X]),
    ("mse_loss", lambda f, x, t: f.mse_loss(x, t), [X, X[::-1].copy()]),
    ("mse_loss sum", lambda f, x, t: f.mse_loss(x, t, reduction="sum"), [X, X[::-1].copy()]),
    ("l1_loss none", lambda f, x, t: f.l1_loss(x, t, reduction="none"), [X, X[::-1].copy()]),
    ("binary_cross_entropy", lambda f, p, t: f.binary_cross_entropy(p, t),
     [PROBS, PROBS[::-1].copy()]),
    ("binary_cross_entropy weight", lambda f, p, t, w: f.binary_cross_entropy(p, t, w),
     [PROBS, PROBS[::-1].copy()], [np.abs(data(3, (5,)))]),
    ("bce_with_logits", lambda f, x, t: f.binary_cross_entropy_with_logits(x, t, reduction="sum"),
     [X * 30, PROBS]),
    ("cross_entropy", lambda f, x, t: f.cross_entropy(x, t), [X], [LABELS]),
    ("cross_entropy none", lambda f, x, t: f.cross_entropy(x, t, reduction="none"), [X], [LABELS]),
    ("nll_loss", lambda f, x, t: f.nll_loss(f.log_softmax(x, dim=1), t), [X], [LABELS]),
    ("nll_loss sum", lambda f, x, t: f.nll_loss(x, t, reduction="sum"), [X], [LABELS]),
    ("linear", lambda f, x, w, b: f.linear(x, w, b), [X, data(4, (3, 5)), data(5, (3,))]),
    ("conv2d", lambda f, x, w, b: f.conv2d(x, w, b, stride=2, padding=1),
     [IMAGES, data(6, (4, 3, 3, 3)), data(7, (4,))]),
    ("conv_transpose2d", lambda f, x, w: f.conv_transpose2d(x, w, None, 2, 1, 1),
     [IMAGES, data(8, (3, 2, 4, 4))]),
    ("batch_norm training", lambda f, x, w, b: f.batch_norm(
        x, None, None, w, b, training=True, eps=1e-3), [IMAGES, data(9, (3,)), data(10, (3,))]),
    ("avg_pool2d", lambda f, x: f.avg_pool2d(x, 2), [IMAGES]),
    ("avg_pool2d stride", lambda f, x: f.avg_pool2d(x, (2, 3), stride=(2, 3)), [IMAGES]),
    ("max_pool2d", lambda f, x: f.max_pool2d(x, 3), [IMAGES]),
    ("interpolate", lambda f, x: f.interpolate(x, scale_factor=2), [IMAGES]),
    ("interpolate pair", lambda f, x: f.interpolate(x, scale_factor=(1, 3), mode="nearest"),
     [IMAGES]),
    ("interpolate size", lambda f, x: f.interpolate(x, size=12), [IMAGES]),
    ("interpolate 1-d", lambda f, x: f.interpolate(x, scale_factor=3), [X.reshape(2, 2, 5)]),
    ("dropout eval", lambda f, x: f.dropout(x, 0.5, training=False), [X]),
    ("dropout p=0", lambda f, x: f.dropout(x, 0.0), [X]),
]


@needs_torch
@pytest.mark.parametrize("name, call, arrays, labels",
                         [(c[0], c[1], c[2], c[3] if len(c) > 3 else ()) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_functional_matches_torch_in_float64(name, call, arrays, labels):
    assert_same(call, arrays, labels)


@needs_torch
def test_batch_norm_eval_and_running_statistics_match_torch():
    stats = {m: (m.zeros(3, dtype=m.float64), m.ones(3, dtype=m.float64)) for m in (tinygan, torch)}
    for module, functional in ((tinygan, F), (torch, TF)):
        functional.batch_norm(module.tensor(IMAGES), *stats[module], training=True, momentum=0.3)
    for ours, theirs in zip(stats[tinygan], stats[torch]):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert_same(lambda f, x: f.batch_norm(x, *stats[torch if f is TF else tinygan]), [IMAGES])


@needs_torch
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
def test_interpolate_nearest_matches_torch_for_whole_factors(h, w, sh, sw):
    assert_same(lambda f, x: f.interpolate(x, scale_factor=(sh, sw)), [data(h * w, (1, 2, h, w))])


@needs_torch
def test_embedding_sums_gradients_at_repeated_indices_and_skips_padding_idx():
    indices = np.array([[1, 3, 1], [0, 3, 3]])
    weight = data(11, (5, 4))
    assert_same(lambda f, w, i: f.embedding(i, w), [weight], [indices])
    assert_same(lambda f, w, i: f.embedding(i, w, padding_idx=3), [weight], [indices])
    assert_same(lambda f, w, i: f.embedding(i, w, padding_idx=-2), [weight], [indices])


def test_dropout_zeroes_about_p_and_scales_the_rest_reproducibly():
    x = tinygan.ones(200, 100, dtype=tinygan.float64, requires_grad=True)
    tinygan.manual_seed(3)
    y = F.dropout(x, 0.3)
    tinygan.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, 0.3).numpy(), y.numpy())
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.7)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())  # d(x * mask)/dx = mask
    assert not F.dropout(x, 1.0).numpy().any()


def test_dropout_inplace_overwrites_its_input():
    x = tinygan.ones(4, 5)
    assert F.dropout(x, 0.5, inplace=True) is x and set(np.unique(x.numpy())) <= {0.0, 2.0}


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.softmax(tinygan.ones(2, 3)), TypeError, "softmax: give dim"),
    (lambda: F.conv2d(tinygan.ones(1, 1, 3, 3), tinygan.ones(1, 1, 2, 2), dilation=2),
     NotImplementedError, "conv2d: dilation=2 is not supported by tinygan"),
    (lambda: F.conv_transpose2d(tinygan.ones(1, 2, 3, 3), tinygan.ones(2, 1, 2, 2), groups=2),
     NotImplementedError, "conv_transpose2d: groups=2 is not supported"),
    (lambda: F.max_pool2d(tinygan.ones(1, 1, 4, 4), 2, stride=1), NotImplementedError,
     r"max_pool2d: stride=\(1, 1\) is not supported by tinygan \(only \(2, 2\)\)"),
    (lambda: F.avg_pool2d(tinygan.ones(1, 1, 4, 4), 2, padding=1), NotImplementedError,
     "avg_pool2d: padding"),
    (lambda: F.interpolate(tinygan.ones(1, 1, 4, 4), scale_factor=1.5), NotImplementedError,
     "interpolate: tinygan scales each of the 2 spatial dims by a whole number"),
    (lambda: F.interpolate(tinygan.ones(1, 1, 4, 4), scale_factor=2, mode="bilinear"),
     NotImplementedError, "interpolate: mode='bilinear'"),
    (lambda: F.interpolate(tinygan.ones(1, 1, 4, 4)), ValueError, "exactly one of size"),
    (lambda: F.dropout(tinygan.ones(3), 1.5), ValueError, "between 0 and 1, but got 1.5"),
    (lambda: F.relu(tinygan.ones(3), inplace="yes"), TypeError, "relu: inplace must be"),
    (lambda: F.embedding(tinygan.ones(2), tinygan.ones(3, 2)), TypeError,
     "embedding: input must be an integer Tensor"),
    (lambda: F.embedding(tinygan.tensor([0]), tinygan.ones(3, 2), max_norm=1.0),
     NotImplementedError, "embedding: max_norm=1.0"),
    (lambda: F.cross_entropy(tinygan.ones(2, 3), tinygan.tensor([0, 1]), tinygan.ones(3)),
     NotImplementedError, "cross_entropy: class weights"),
    (lambda: F.nll_loss(tinygan.ones(2, 3), tinygan.tensor([0, 3])), ValueError,
     r"labels must lie in \[0, 3\)"),
    (lambda: F.mse_loss(tinygan.ones(2), tinygan.ones(2), size_average=True), TypeError,
     "mse_loss: size_average and reduce are deprecated"),
    (lambda: F.binary_cross_entropy_with_logits(tinygan.ones(2), tinygan.ones(2),
                                                pos_weight=tinygan.ones(2)),
     NotImplementedError, "pos_weight is not supported"),
])
def test_functional_refusals_in_one_line(call, error, message):
    with pytest.raises(error, match=message) as info:
        call()
    assert "\n" not in str(info.value)


# --- nn.init -----------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("conv_transpose2d", None), ("sigmoid", None),
    ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_is_torch(nonlinearity, param):
    assert nn.init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(
        nonlinearity, param)


SHAPES = [(300, 200), (64, 32, 4, 4), (32, 64, 3, 3)]
UNIFORM = [
    ("uniform_", lambda i, t: i.uniform_(t, -0.3, 0.7), (-0.3, 0.7)),
    ("xavier_uniform_", lambda i, t: i.xavier_uniform_(t, gain=2.0), None),
    ("kaiming_uniform_", lambda i, t: i.kaiming_uniform_(t), None),
    ("kaiming_uniform_ a=sqrt(5)", lambda i, t: i.kaiming_uniform_(t, a=math.sqrt(5)), None),
    ("kaiming_uniform_ fan_out", lambda i, t: i.kaiming_uniform_(
        t, mode="fan_out", nonlinearity="relu"), None),
]
NORMAL = [
    ("normal_", lambda i, t: i.normal_(t, 0.5, 0.02), 0.02),
    ("xavier_normal_", lambda i, t: i.xavier_normal_(t), None),
    ("kaiming_normal_", lambda i, t: i.kaiming_normal_(t, a=0.2, mode="fan_out"), None),
    ("kaiming_normal_ tanh", lambda i, t: i.kaiming_normal_(t, nonlinearity="tanh"), None),
]


def _draws(fill, shape):
    """fill on a tinygan and a torch parameter of ``shape``: the two arrays, in place, no grad."""
    ours = nn.Parameter(tinygan.zeros(*shape))
    assert fill(nn.init, ours) is ours and ours.requires_grad and ours.grad_fn is None
    theirs = torch.nn.Parameter(torch.zeros(*shape))
    fill(torch.nn.init, theirs)
    return ours.numpy(), theirs.detach().numpy()


@needs_torch
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, fill, bounds", UNIFORM, ids=[u[0] for u in UNIFORM])
def test_uniform_inits_draw_from_torch_bounds(name, fill, bounds, shape):
    """Both fill [low, high] up to 1% of the width (the largest draw of either estimates the
    bound where it is not given) and agree in mean."""
    ours, theirs = _draws(fill, shape)
    bound = max(np.abs(ours).max(), np.abs(theirs).max())
    low, high = bounds or (-bound, bound)
    width = high - low
    for draws in (ours, theirs):
        assert low <= draws.min() < low + 0.01 * width
        assert high - 0.01 * width < draws.max() <= high
    assert abs(ours.mean() - theirs.mean()) < 0.02 * width


@needs_torch
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, fill, std", NORMAL, ids=[n[0] for n in NORMAL])
def test_normal_inits_draw_with_torch_std(name, fill, std, shape):
    ours, theirs = _draws(fill, shape)
    assert abs(ours.std() / theirs.std() - 1) < 0.05
    if std is not None:
        assert abs(ours.std() / std - 1) < 0.05


def test_constant_inits_and_fan_refusal():
    t = nn.Parameter(tinygan.zeros(2, 3))
    assert (nn.init.ones_(t).numpy() == 1).all() and (nn.init.zeros_(t).numpy() == 0).all()
    assert (nn.init.constant_(t, 0.25).numpy() == 0.25).all() and t.requires_grad
    with pytest.raises(ValueError, match="fewer than 2 dimensions, got shape \\(3,\\)"):
        nn.init.xavier_uniform_(tinygan.zeros(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        nn.init.kaiming_normal_(t, mode="fan_avg")
    with pytest.raises(ValueError, match="unsupported nonlinearity gelu"):
        nn.init.calculate_gain("gelu")


def test_the_dcgan_weights_init_idiom_runs_through_apply():
    def weights_init(m):
        if type(m).__name__.find("Conv") != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
        elif type(m).__name__.find("BatchNorm") != -1:
            nn.init.normal_(m.weight.data, 1.0, 0.02)
            nn.init.constant_(m.bias.data, 0)
    tinygan.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 64, 4), nn.BatchNorm2d(64)).apply(weights_init)
    assert abs(net[0].weight.numpy().std() - 0.02) < 0.002
    assert abs(net[1].weight.numpy().mean() - 1) < 0.01 and not net[1].bias.numpy().any()


@needs_torch
@pytest.mark.parametrize("make", [
    lambda m: m.nn.Linear(400, 300), lambda m: m.nn.Conv2d(16, 300, 5),
    lambda m: m.nn.ConvTranspose2d(16, 300, 5)], ids=["Linear", "Conv2d", "ConvTranspose2d"])
def test_default_layer_init_draws_within_torch_bounds(make):
    """PyTorch's kaiming_uniform_(a=sqrt(5)) weights and U(+-1/sqrt(fan_in)) biases: the largest
    draws of ours and torch's agree within 2% (ConvTranspose2d's fan_in from weight dim 1)."""
    ours, theirs = make(tinygan), make(torch)
    for name in ("weight", "bias"):
        a, b = getattr(ours, name).numpy(), getattr(theirs, name).detach().numpy()
        assert a.shape == b.shape
        assert abs(np.abs(a).max() / np.abs(b).max() - 1) < 0.02


@needs_torch
def test_dropout2d_zeroes_whole_channels_as_torch():
    """Each (sample, channel) plane is all zeros or all scaled by 1 / (1 - p), in both; about
    p of the planes are zeroed; the module prints as PyTorch's and is the identity in eval."""
    x = np.ones((8, 16, 3, 3), np.float32)
    for m in (tinygan, torch):
        out = m.nn.functional.dropout2d(m.tensor(x), 0.25).numpy()
        planes = out.reshape(8 * 16, 9)
        assert all(set(np.unique(plane)) <= {0.0, np.float32(1 / 0.75)} and len(
            np.unique(plane)) == 1 for plane in planes)
        assert 0.1 < (planes[:, 0] == 0).mean() < 0.4
        layer = m.nn.Dropout2d(0.25)
        layer.eval()
        assert layer(m.tensor(x)).numpy().tolist() == x.tolist()
    assert str(nn.Dropout2d(0.25)) == str(torch.nn.Dropout2d(0.25))
