"""Ops at their edges (issue 27, cases 13-18): NumPy arrays on the left of an operator, empty
batches, eps <= 0 and momentum=None in batch norm, sum_to's shapes, relu at infinity;
PyTorch is the oracle where it has an answer."""
import operator

import numpy as np
import pytest

from cuda_emulation import installed
from tinygan import Tensor, nn, ops, tensor

torch = pytest.importorskip("torch")

ARITHMETIC = [operator.add, operator.sub, operator.mul, operator.truediv, operator.matmul]
COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("op", ARITHMETIC, ids=lambda op: op.__name__)
def test_a_numpy_array_on_the_left_gives_a_tensor_and_its_gradient(op):
    """issue 27.13: array + tensor is the Tensor's reflected op, not a NumPy object array."""
    rng = np.random.default_rng(0)
    array, values = rng.uniform(1, 2, (3, 3)), rng.uniform(1, 2, (3, 3))
    ours = tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    y, expected = op(array, ours), op(torch.tensor(array), theirs)
    assert isinstance(y, Tensor) and y.requires_grad
    np.testing.assert_allclose(y.array, expected.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("op", COMPARISONS, ids=lambda op: op.__name__)
def test_comparisons_with_a_numpy_array_on_either_side_give_a_bool_tensor(op):
    """issue 27.13: array < tensor gives a bool Tensor, as tensor > array does (and PyTorch)."""
    array, values = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0])
    for left, right in [(array, tensor(values)), (tensor(values), array)]:
        got = op(left, right)
        expected = op(*(torch.tensor(v.array if isinstance(v, Tensor) else v)
                        for v in (left, right)))
        assert isinstance(got, Tensor) and not got.requires_grad
        np.testing.assert_array_equal(got.array, expected.numpy())


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """Each backend; "cuda" is the CuPy stand-in whose kernels run on the CPU."""
    if request.param == "cpu":
        yield "cpu"
    else:
        with installed():
            yield "cuda"


def test_batch_norm_on_an_empty_batch_leaves_the_running_statistics(device):
    """issue 27.14: as PyTorch, an empty training batch gives an empty output and zero weight and
    bias gradients, and leaves the running statistics (which stay usable in eval mode)."""
    ours, theirs = nn.BatchNorm2d(3).to(device), torch.nn.BatchNorm2d(3)
    empty = np.zeros((0, 3, 4, 4), np.float32)
    x = tensor(empty, requires_grad=True, device=device)
    y = ours(x)
    y.sum().backward()
    expected = theirs(torch.tensor(empty))
    expected.sum().backward()
    assert y.shape == tuple(expected.shape) and x.grad.shape == empty.shape
    for name in ["running_mean", "running_var"]:
        np.testing.assert_array_equal(getattr(ours, name).numpy(), getattr(theirs, name).numpy())
    for name in ["weight", "bias"]:
        np.testing.assert_array_equal(getattr(ours, name).grad.numpy(),
                                      getattr(theirs, name).grad.numpy())
    ours.eval()
    assert np.isfinite(ours(tensor(np.ones((2, 3, 4, 4), np.float32)).to(device)).numpy()).all()


@pytest.mark.parametrize("eps", [-0.1, 0.0])
def test_batch_norm_refuses_eps_that_is_not_positive(eps):
    """issue 27.15: eps <= 0 made sqrt(var + eps) NaN or infinite without a word."""
    x = tensor(np.random.default_rng(0).standard_normal((4, 3, 2, 2)).astype(np.float32))
    stats = tensor(np.zeros(3, np.float32)), tensor(np.ones(3, np.float32))
    for training in [True, False]:
        with pytest.raises(ValueError, match=f"^batch_norm: eps must be positive, got eps={eps}$"):
            ops.batch_norm(x, *stats, training=training, eps=eps)
    for layer in [nn.BatchNorm2d, nn.BatchNormAct2d]:
        with pytest.raises(ValueError, match=f"^{layer.__name__}: eps must be positive, "
                                             f"got eps={eps}$"):
            layer(3, eps=eps)


@pytest.mark.parametrize("shape, target", [((3, 2), (2, 3)), ((10, 20, 20), (10,)),
                                           ((3,), (1, 3)), ((4, 3), (2, 3))])
def test_sum_to_refuses_a_shape_that_does_not_broadcast_to_the_gradient(shape, target):
    """issue 27.16: (3, 2) -> (2, 3) was a silent reshape, (10, 20, 20) -> (10,) NumPy's error."""
    x = tensor(np.ones(shape, np.float32))
    with pytest.raises(ValueError, match=rf"^sum_to: shape {re_shape(target)} does not "
                                         rf"broadcast to the shape {re_shape(shape)} "):
        ops.sum_to(x, target)


def re_shape(shape):
    """A shape's repr as a regular expression."""
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


def test_sum_to_still_sums_over_the_broadcast_axes():
    """issue 27.16: the shapes that do broadcast are summed as PyTorch's sum_to_size sums."""
    values = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    for target in [(4,), (3, 1), (1, 3, 4), (2, 1, 4), (1,)]:
        np.testing.assert_array_equal(ops.sum_to(tensor(values), target).array,
                                      torch.tensor(values).sum_to_size(target).numpy())


def test_relu_is_zero_at_minus_infinity_and_its_gradient_matches_pytorch():
    """issue 27.17: x * (x > 0) made relu(-inf) = -inf * 0 = NaN."""
    values = np.array([-np.inf, -2.0, 0.0, 3.0, np.inf])
    ours, theirs = tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    y, expected = ops.relu(ours), torch.relu(theirs)
    np.testing.assert_array_equal(y.array, expected.detach().numpy())
    np.testing.assert_array_equal(ops.relu(tensor(np.array([np.nan]))).array, [np.nan])
    y.backward(tensor(np.ones(5)))
    expected.backward(torch.ones(5, dtype=torch.float64))
    np.testing.assert_array_equal(ours.grad.array, theirs.grad.numpy())


def test_batch_norm_momentum_none_is_the_cumulative_average_as_in_pytorch():
    """issue 27.18: momentum=None was a TypeError; PyTorch averages every batch seen equally,
    counting them in num_batches_tracked, which a state dict carries over."""
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((n, 3, 2, 2)) * (k + 1) + k).astype(np.float32)
               for k, n in enumerate([4, 2, 5, 3])]
    ours, theirs = nn.BatchNorm2d(3, momentum=None), torch.nn.BatchNorm2d(3, momentum=None)
    for k, batch in enumerate(batches):
        if k == 2:  # continue in a fresh module from the saved state
            state, ours = ours.state_dict(), nn.BatchNorm2d(3, momentum=None)
            assert state["num_batches_tracked"] == 2
            ours.load_state_dict(state)
        ours(tensor(batch))
        theirs(torch.tensor(batch))
        for name in ["running_mean", "running_var"]:
            np.testing.assert_allclose(getattr(ours, name).numpy(),
                                       getattr(theirs, name).numpy(), rtol=1e-5, atol=1e-6)
        assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == k + 1
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(tensor(batches[0])).numpy(),
                               theirs(torch.tensor(batches[0])).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    assert ours.num_batches_tracked.item() == 4  # eval mode counts nothing
