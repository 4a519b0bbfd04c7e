"""Adam against its formula, and an exact resume from its state dict."""
import numpy as np

from tinygan import Tensor, nn, optim


def test_adam_two_steps_follow_the_formula():
    lr, (b1, b2), eps = 0.01, (0.5, 0.999), 1e-8
    p = nn.Parameter(np.array([1.0, -2.0]))
    opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps)
    g1, g2 = np.array([0.3, -0.1]), np.array([-0.2, 0.4])
    expected, m, v = p.data.copy(), 0, 0
    for t, g in enumerate([g1, g2], start=1):
        p.grad = Tensor(g)
        opt.step()
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        expected -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        np.testing.assert_allclose(p.data, expected, rtol=1e-14)


def test_adam_first_step_moves_each_weight_by_lr():
    """With m_hat = g and v_hat = g^2, the first step is lr * sign(g) (up to eps)."""
    p = nn.Parameter(np.zeros(3))
    p.grad = Tensor(np.array([5.0, -0.001, 2.0]))
    optim.Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [-0.1, 0.1, -0.1], rtol=1e-4)


def test_adam_skips_parameters_without_grad():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    a.grad = Tensor(np.ones(2))
    optim.Adam([a, b]).step()
    np.testing.assert_array_equal(b.data, np.ones(2))
    assert not np.array_equal(a.data, np.ones(2))


def test_adam_resumes_exactly_from_its_state_dict():
    grads = np.random.default_rng(0).standard_normal((6, 4))
    straight = nn.Parameter(np.zeros(4))
    opt = optim.Adam([straight], lr=0.05)
    for g in grads:
        straight.grad = Tensor(g)
        opt.step()
    resumed = nn.Parameter(np.zeros(4))
    first = optim.Adam([resumed], lr=0.05)
    for g in grads[:3]:
        resumed.grad = Tensor(g)
        first.step()
    second = optim.Adam([resumed], lr=0.05)
    second.load_state_dict(first.state_dict())
    for g in grads[3:]:
        resumed.grad = Tensor(g)
        second.step()
    np.testing.assert_array_equal(resumed.data, straight.data)
