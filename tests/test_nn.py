"""Modules: naming, modes, dtype moves, state dicts, initialisation."""
import numpy as np
import pytest

from tinygan import nn, ops, optim, tensor


def small_net():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4),
                         nn.LeakyReLU(0.2), nn.ConvTranspose2d(4, 2, 4, 2, 1), nn.Tanh())


def test_parameters_and_buffers_are_named_like_pytorch():
    net = small_net()
    assert [n for n, _ in net.named_parameters()] == [
        "0.weight", "1.weight", "1.bias", "3.weight", "3.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "1.running_mean", "1.running_var", "1.num_batches_tracked"]
    assert net[3].weight.shape == (4, 2, 4, 4)  # ConvTranspose2d: (in, out, k, k)
    assert len(net) == 5


def test_modules_walks_the_tree_depth_first_from_the_module_itself():
    inner = nn.Sequential(nn.ReLU(), nn.SpectralNorm(nn.Linear(2, 2)))
    outer = nn.Sequential(nn.Tanh(), inner)
    assert [type(m).__name__ for m in outer.modules()] == [
        "Sequential", "Tanh", "Sequential", "ReLU", "SpectralNorm", "Linear"]
    outer.eval()
    assert not any(m.training for m in outer.modules())


def test_state_dict_round_trip_reproduces_outputs():
    nn.manual_seed(1)
    a = small_net()
    nn.manual_seed(2)
    b = small_net()
    x = tensor(np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32))
    a(x)  # moves a's running statistics
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x).array, b(x).array)


def test_the_same_seed_gives_the_same_initial_weights():
    nn.manual_seed(7)
    first = small_net().state_dict()
    nn.manual_seed(7)
    second = small_net().state_dict()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def test_conv_init_is_uniform_within_one_over_sqrt_fan_in():
    w = nn.Conv2d(16, 8, 3).weight.array
    bound = 1 / np.sqrt(16 * 9)
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound


def test_eval_mode_uses_running_statistics():
    bn = nn.BatchNorm2d(2)
    x = tensor(np.random.default_rng(0).standard_normal((4, 2, 3, 3)).astype(np.float32) * 5 + 3)
    train_out = bn(x)
    np.testing.assert_allclose(train_out.array.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    bn.eval()
    mean, var = bn.running_mean.array, bn.running_var.array
    expected = (x.array - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(bn(x).array, expected, rtol=1e-5)
    assert bn.train().training is True


def test_to_dtype_casts_parameters_and_buffers_and_zero_grad_clears():
    net = small_net().to(dtype=np.float64)
    assert all(t.dtype == np.float64 for t in net.parameters() + net.buffers())
    net(tensor(np.ones((1, 3, 4, 4)))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_spectral_norm_follows_torch_parametrization_step_by_step():
    """Same u, v: three training steps of forward, backward and an update agree with
    torch.nn.utils.parametrizations.spectral_norm, power iterations included."""
    torch = pytest.importorskip("torch")
    nn.manual_seed(0)
    ours = nn.SpectralNorm(nn.Conv2d(3, 5, 4, 2, 1, bias=False)).to(dtype=np.float64)
    conv = torch.nn.Conv2d(3, 5, 4, 2, 1, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(ours.module.weight.numpy()))
    theirs = torch.nn.utils.parametrizations.spectral_norm(conv)
    vectors = theirs.parametrizations.weight[0]
    with torch.no_grad():
        vectors._u.copy_(torch.from_numpy(ours.u.numpy()))
        vectors._v.copy_(torch.from_numpy(ours.v.numpy()))
    original = theirs.parametrizations.weight.original
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8))
    for _ in range(3):
        y = ours(tensor(x))
        (y * y).sum().backward()
        their_y = theirs(torch.from_numpy(x))
        (their_y * their_y).sum().backward()
        np.testing.assert_allclose(y.numpy(), their_y.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ours.u.numpy(), vectors._u.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ours.module.weight.grad.numpy(), original.grad.numpy(),
                                   rtol=1e-10, atol=1e-12)
        ours.module.weight.array -= 0.5 * ours.module.weight.grad.array
        with torch.no_grad():
            original -= 0.5 * original.grad
        ours.zero_grad(), original.grad.zero_()


def test_spectral_norm_bounds_the_top_singular_value_and_freezes_in_eval_mode():
    nn.manual_seed(3)
    layer = nn.SpectralNorm(nn.Linear(6, 4))
    assert [n for n, _ in layer.named_parameters()] == ["module.weight", "module.bias"]
    assert [n for n, _ in layer.named_buffers()] == ["u", "v"]

    def top_singular_value():
        normalised = ops.spectral_normalize(layer.module.weight, layer.u.array, layer.v.array)
        return np.linalg.svd(normalised.numpy(), compute_uv=False)[0]

    assert top_singular_value() == pytest.approx(1, rel=1e-2)  # 15 iterations at construction
    layer.power_iteration(500)
    assert top_singular_value() == pytest.approx(1, rel=1e-5)
    layer.module.weight.array[0] *= 3  # u and v no longer fit the weight
    u = layer.u.numpy().copy()
    layer.eval()(tensor(np.ones((2, 6), np.float32)))
    np.testing.assert_array_equal(layer.u.numpy(), u)
    layer.train()(tensor(np.ones((2, 6), np.float32)))
    assert not np.array_equal(layer.u.numpy(), u)


def test_spectral_norm_refuses_other_layers():
    with pytest.raises(TypeError, match="SpectralNorm wraps a Conv2d or Linear, got BatchNorm2d"):
        nn.SpectralNorm(nn.BatchNorm2d(3))


def test_ema_averages_parameters_and_buffers_with_a_warm_up():
    net = small_net()
    ema = optim.ExponentialMovingAverage(net, decay=0.9)
    start = net.state_dict()
    for p in net.parameters() + net.buffers():
        p.array = p.array + 1
    ema.update(net)  # t = 0: d = min(0.9, 1/10) = 0.1
    for name, value in ema.module.state_dict().items():
        np.testing.assert_allclose(value, 0.1 * start[name] + 0.9 * (start[name] + 1),
                                   rtol=1e-6, err_msg=name)
    assert all(not p.requires_grad for p in ema.module.parameters())
    for _ in range(200):
        ema.update(net)  # d reaches 0.9 from t = 80 on
    np.testing.assert_allclose(ema.module.state_dict()["0.weight"], net.state_dict()["0.weight"],
                               rtol=1e-6)
    copy = optim.ExponentialMovingAverage(small_net(), decay=0.5)
    copy.load_state_dict(ema.state_dict())
    assert copy.updates == 201 and copy.decay == 0.9
    with pytest.raises(ValueError, match="decay must be in"):
        optim.ExponentialMovingAverage(net, decay=1.0)
