"""Adam and RMSprop against their formulas, an exact resume from a state dict (PyTorch's layout,
or tinygan's earlier one in its training checkpoints), and the refusals."""
import numpy as np
import pytest

from tinygan import io, nn, optim, tensor


def test_adam_two_steps_follow_the_formula():
    lr, (b1, b2), eps = 0.01, (0.5, 0.999), 1e-8
    p = nn.Parameter(np.array([1.0, -2.0]))
    opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps)
    g1, g2 = np.array([0.3, -0.1]), np.array([-0.2, 0.4])
    expected, m, v = p.array.copy(), 0, 0
    for t, g in enumerate([g1, g2], start=1):
        p.grad = tensor(g)
        opt.step()
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        expected -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        np.testing.assert_allclose(p.array, expected, rtol=1e-14)


def test_adam_first_step_moves_each_weight_by_lr():
    """With m_hat = g and v_hat = g^2, the first step is lr * sign(g) (up to eps)."""
    p = nn.Parameter(np.zeros(3))
    p.grad = tensor(np.array([5.0, -0.001, 2.0]))
    optim.Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.array, [-0.1, 0.1, -0.1], rtol=1e-4)


def test_adam_skips_parameters_without_grad():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    a.grad = tensor(np.ones(2))
    optim.Adam([a, b]).step()
    np.testing.assert_array_equal(b.array, np.ones(2))
    assert not np.array_equal(a.array, np.ones(2))


def _steps(opt, param, grads):
    """opt.step() once per gradient in grads, each set as param's .grad first."""
    for g in grads:
        param.grad = tensor(g)
        opt.step()


@pytest.mark.parametrize("make, seed, settings, resume_settings", [
    (optim.Adam, 0, {"lr": 0.05}, {"lr": 0.05}),
    (optim.RMSprop, 2, {"lr": 0.05, "alpha": 0.9}, {}),  # the state dict restores lr and alpha
])
def test_an_optimizer_resumes_exactly_from_its_state_dict(make, seed, settings, resume_settings):
    grads = np.random.default_rng(seed).standard_normal((6, 4))
    straight, resumed = nn.Parameter(np.zeros(4)), nn.Parameter(np.zeros(4))
    _steps(make([straight], **settings), straight, grads)
    first = make([resumed], **settings)
    _steps(first, resumed, grads[:3])
    second = make([resumed], **resume_settings)
    second.load_state_dict(first.state_dict())
    _steps(second, resumed, grads[3:])
    np.testing.assert_array_equal(resumed.array, straight.array)


def test_rmsprop_rejects_bad_settings_and_mismatched_state():
    params = nn.Conv2d(1, 2, 3).parameters()
    for settings in ({"lr": -1}, {"alpha": 1.0}, {"alpha": -0.1}, {"eps": -1}):
        with pytest.raises(ValueError, match="RMSprop: need (lr >= 0|alpha in|eps >= 0)"):
            optim.RMSprop(params, **settings)
    with pytest.raises(ValueError, match="RMSprop got an empty parameter list"):
        optim.RMSprop([])
    saved = optim.RMSprop(params).state_dict()
    with pytest.raises(ValueError, match="RMSprop.load_state_dict: group 0: the state has 2 "
                                         "parameters, this optimizer has 1"):
        optim.RMSprop(params[:1]).load_state_dict(saved)
    params[0].grad = tensor(np.ones(params[0].shape, np.float32))
    first = optim.RMSprop(params[:1])
    first.step()
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(2,\), the saved state "
                                         r"has shape \(2, 1, 3, 3\)"):
        optim.RMSprop(params[1:]).load_state_dict(first.state_dict())


@pytest.mark.parametrize("make", [optim.Adam, optim.RMSprop])
def test_a_training_checkpoint_keeps_its_layout_and_resumes_exactly(make, tmp_path):
    """io.save_checkpoint writes the earlier layout (lr, ..., a list state); it loads back."""
    grads = np.random.default_rng(3).standard_normal((6, 4))
    straight, resumed = nn.Parameter(np.zeros(4)), nn.Parameter(np.zeros(4))
    _steps(make([straight], lr=0.05), straight, grads)
    first = make([resumed], lr=0.05)
    _steps(first, resumed, grads[:3])
    io.save_checkpoint(tmp_path / "c.npz", {}, {"opt": first}, {})
    saved = io.load_checkpoint(tmp_path / "c.npz")["optimizers"]["opt"]
    assert isinstance(saved["state"], list) and saved["lr"] == 0.05
    second = make([resumed], lr=0.5)
    second.load_state_dict(saved)
    assert second.param_groups[0]["lr"] == 0.05
    _steps(second, resumed, grads[3:])
    np.testing.assert_array_equal(resumed.array, straight.array)


def test_a_training_checkpoint_refuses_options_its_layout_lacks(tmp_path):
    p = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="a tinygan checkpoint holds Adam with one parameter "
                                         "group and the options lr, betas, eps only"):
        io.save_checkpoint(tmp_path / "c.npz", {}, {"opt": optim.Adam([p], weight_decay=0.1)},
                           {})


def test_optimizers_refuse_what_they_lack_in_one_line():
    p = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="maximize, capturable and differentiable"):
        optim.Adam([p], maximize=True)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero "
                                         "dampening"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match=r"SGD: need momentum >= 0, got momentum=-1"):
        optim.SGD([p], lr=0.1, momentum=-1)
    opt = optim.Adam([p])
    opt.param_groups[0]["lr"] = -1.0
    p.grad = tensor(np.ones(2))
    with pytest.raises(ValueError, match="Adam: need lr >= 0, got lr=-1.0"):
        opt.step()


def test_zero_grad_sets_none_or_zeros_in_place():
    p = nn.Parameter(np.ones(2))
    p.grad = tensor(np.ones(2))
    grad = p.grad
    optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    assert p.grad is grad and not grad.array.any()
    optim.SGD([p], lr=0.1).zero_grad()
    assert p.grad is None
