"""Modules: naming, modes, dtype moves, state dicts, initialisation."""
import numpy as np

from tinygan import Tensor, nn


def small_net():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4),
                         nn.LeakyReLU(0.2), nn.ConvTranspose2d(4, 2, 4, 2, 1), nn.Tanh())


def test_parameters_and_buffers_are_named_like_pytorch():
    net = small_net()
    assert [n for n, _ in net.named_parameters()] == [
        "0.weight", "1.weight", "1.bias", "3.weight", "3.bias"]
    assert [n for n, _ in net.named_buffers()] == ["1.running_mean", "1.running_var"]
    assert net[3].weight.shape == (4, 2, 4, 4)  # ConvTranspose2d: (in, out, k, k)
    assert len(net) == 5


def test_state_dict_round_trip_reproduces_outputs():
    nn.manual_seed(1)
    a = small_net()
    nn.manual_seed(2)
    b = small_net()
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32))
    a(x)  # moves a's running statistics
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_the_same_seed_gives_the_same_initial_weights():
    nn.manual_seed(7)
    first = small_net().state_dict()
    nn.manual_seed(7)
    second = small_net().state_dict()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def test_conv_init_is_uniform_within_one_over_sqrt_fan_in():
    w = nn.Conv2d(16, 8, 3).weight.data
    bound = 1 / np.sqrt(16 * 9)
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound


def test_eval_mode_uses_running_statistics():
    bn = nn.BatchNorm2d(2)
    x = Tensor(np.random.default_rng(0).standard_normal((4, 2, 3, 3)).astype(np.float32) * 5 + 3)
    train_out = bn(x)
    np.testing.assert_allclose(train_out.data.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    bn.eval()
    mean, var = bn.running_mean.data, bn.running_var.data
    expected = (x.data - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-5)
    assert bn.train().training is True


def test_to_dtype_casts_parameters_and_buffers_and_zero_grad_clears():
    net = small_net().to(dtype=np.float64)
    assert all(t.dtype == np.float64 for t in net.parameters() + net.buffers())
    net(Tensor(np.ones((1, 3, 4, 4)))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
