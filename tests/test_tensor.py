"""The engine: graph recording, topological backward, accumulation, no_grad, dtype rules."""
import numpy as np
import pytest

from tinygan import Tensor, is_grad_enabled, no_grad, ops


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_grad_accumulates_when_a_tensor_is_reused():
    x = leaf([1.0, -2.0, 3.0])
    (x * x + x).sum().backward()  # d/dx (x^2 + x) = 2x + 1
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 1)


def test_grad_accumulates_over_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * 4).sum().backward()
    np.testing.assert_allclose(x.grad.data, [7.0, 7.0])


def test_diamond_graph_visits_each_function_once():
    x = leaf([0.5, -1.5])
    a = ops.tanh(x)
    b, c = a * 2, a * a  # both branches depend on a
    (b + c).sum().backward()  # d/dx (2 tanh + tanh^2) = (2 + 2 tanh) (1 - tanh^2)
    t = np.tanh(x.data)
    np.testing.assert_allclose(x.grad.data, (2 + 2 * t) * (1 - t * t))


def test_long_chain_does_not_hit_the_recursion_limit():
    x = leaf([1.0])
    y = x
    for _ in range(5000):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0])


def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2
    assert is_grad_enabled()
    assert y.creator is None and not y.requires_grad


def test_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    y = (x * 2).detach()
    assert y.creator is None and not y.requires_grad
    np.testing.assert_allclose(y.data, [2.0, 4.0])


def test_inputs_without_requires_grad_get_no_grad():
    x, c = leaf([1.0]), Tensor(np.array([2.0]))
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad.data, [2.0])


def test_backward_on_a_non_scalar_needs_a_gradient():
    y = leaf([[1.0, 2.0]]) * 2
    with pytest.raises(RuntimeError, match=r"shape \(1, 2\) needs a gradient argument"):
        y.backward()
    y.backward(np.ones((1, 2)))


def test_backward_rejects_a_gradient_of_the_wrong_shape():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\), expected .*\(2,\)"):
        y.backward(np.ones(3))


def test_backward_on_a_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(1)).backward()


@pytest.mark.parametrize("dtype", [np.int64, np.float16, np.bool_])
def test_ops_reject_non_float32_64_inputs(dtype):
    x = Tensor(np.ones((2, 2), dtype=dtype))
    with pytest.raises(TypeError, match=f"dtype {np.dtype(dtype)}; "
                                        "tinygan ops need float32 or float64"):
        ops.relu(x)


def test_ops_reject_mixed_dtypes():
    with pytest.raises(TypeError, match="mix dtypes float32 and float64"):
        Tensor(np.ones(2, np.float32)) + Tensor(np.ones(2, np.float64))


def test_python_numbers_adopt_the_tensor_dtype():
    x = Tensor(np.ones(3, np.float32))
    assert (x * 0.5 + 1).dtype == np.float32
    assert (2.0 - x).dtype == np.float32 and (1 / (x + 1)).dtype == np.float32


def test_python_floats_become_float32_like_pytorch():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.array([1.0])).dtype == np.float64  # arrays keep their dtype


def test_item_and_repr():
    t = Tensor(np.array([[3.5]]))
    assert t.item() == 3.5
    assert "shape=(1, 1)" in repr(t) and "device='cpu'" in repr(t)
    with pytest.raises(ValueError, match="one-element"):
        Tensor(np.ones(2)).item()


def test_unknown_device_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown device 'tpu'; tinygan knows cpu, cuda"):
        Tensor(np.ones(2)).to("tpu")
