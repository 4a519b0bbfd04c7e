"""Forward and backward of every op, and of a Conv/BN/LeakyReLU stack, against PyTorch (float64)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from op_cases import ROWS, record_error
from tinygan import nn, ops, tensor

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

RTOL, ATOL = 1e-9, 1e-11


def relative_error(ours, theirs):
    theirs = theirs.detach().numpy()
    return float(np.max(np.abs(ours - theirs), initial=0)
                 / max(np.max(np.abs(theirs), initial=0), 1e-12))


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_forward_and_backward_match_pytorch(row, data, seed):
    arrays, settings = row.draw(data)
    ours = [tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y_ours, y_theirs = row.ours(*ours, **settings), row.theirs(*theirs, **settings)
    r = np.random.default_rng(seed).standard_normal(y_ours.shape)
    y_ours.backward(r)
    y_theirs.backward(torch.tensor(r))
    pairs = [(y_ours.array, y_theirs)] + [(a.grad.array, b.grad) for a, b in zip(ours, theirs)]
    record_error(row.name, "pytorch", max(relative_error(a, b) for a, b in pairs))
    for ours_array, theirs_tensor in pairs:
        np.testing.assert_allclose(ours_array, theirs_tensor.detach().numpy(), rtol=RTOL, atol=ATOL)


def build_stacks(seed):
    """The same Conv/BN/LeakyReLU/ConvTranspose stack in tinygan and PyTorch, float64."""
    nn.manual_seed(seed)
    ours = nn.Sequential(
        nn.Conv2d(3, 8, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1, bias=True), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 1, 3, stride=1, padding=1), nn.Tanh(),
    ).to(dtype=np.float64)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(8),
        torch.nn.LeakyReLU(0.2),
        torch.nn.ConvTranspose2d(8, 4, 4, 2, 1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.Conv2d(4, 1, 3, 1, 1), torch.nn.Tanh(),
    ).double()
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()},
                           strict=False)
    return ours, theirs


@pytest.mark.parametrize("training", [True, False])
def test_conv_bn_leaky_relu_stack_matches_pytorch(training):
    ours, theirs = build_stacks(seed=3)
    ours.train(training)
    theirs.train(training)
    x = np.random.default_rng(4).standard_normal((4, 3, 10, 10))
    x_ours, x_theirs = tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    y_ours.sum().backward()
    y_theirs.sum().backward()
    np.testing.assert_allclose(y_ours.array, y_theirs.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(x_ours.grad.array, x_theirs.grad.numpy(), rtol=1e-8, atol=1e-10)
    their_state = theirs.state_dict()
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.array, their_params[name].grad.numpy(),
                                   rtol=1e-8, atol=1e-10, err_msg=name)
    for name, value in ours.state_dict().items():  # running statistics after one step
        np.testing.assert_allclose(value, their_state[name].numpy(),
                                   rtol=1e-12, atol=1e-12, err_msg=name)


def test_adam_steps_match_torch_optim_adam():
    rng = np.random.default_rng(0)
    start, grads = rng.standard_normal((3, 4)), rng.standard_normal((5, 3, 4))
    from tinygan import optim
    ours = nn.Parameter(start.copy())
    theirs = torch.tensor(start.copy(), requires_grad=True)
    opt_ours = optim.Adam([ours], lr=2e-3, betas=(0.5, 0.999), eps=1e-8)
    opt_theirs = torch.optim.Adam([theirs], lr=2e-3, betas=(0.5, 0.999), eps=1e-8)
    for g in grads:
        ours.grad, theirs.grad = tensor(g), torch.tensor(g)
        opt_ours.step()
        opt_theirs.step()
    np.testing.assert_allclose(ours.array, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_binary_cross_entropy_clamps_its_logs_at_minus_100_like_pytorch():
    p, t = np.array([0.0, 1e-50, 0.3, 1.0, 1.0]), np.array([1.0, 1.0, 0.5, 0.0, 1.0])
    ours = ops.binary_cross_entropy(tensor(p), tensor(t), reduction="none").array
    theirs = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(t),
                                                      reduction="none")
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)
