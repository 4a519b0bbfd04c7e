"""The engine: graph recording, topological backward, accumulation, no_grad, dtype rules."""
import numpy as np
import pytest

from tinygan import Tensor, grad, is_grad_enabled, no_grad, ops, tensor


def leaf(values, dtype=np.float64):
    return tensor(values, dtype=dtype, requires_grad=True)


def test_grad_accumulates_when_a_tensor_is_reused():
    x = leaf([1.0, -2.0, 3.0])
    (x * x + x).sum().backward()  # d/dx (x^2 + x) = 2x + 1
    np.testing.assert_allclose(x.grad.array, 2 * x.array + 1)


def test_grad_accumulates_over_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * 4).sum().backward()
    np.testing.assert_allclose(x.grad.array, [7.0, 7.0])


def test_diamond_graph_visits_each_function_once():
    x = leaf([0.5, -1.5])
    a = ops.tanh(x)
    b, c = a * 2, a * a  # both branches depend on a
    (b + c).sum().backward()  # d/dx (2 tanh + tanh^2) = (2 + 2 tanh) (1 - tanh^2)
    t = np.tanh(x.array)
    np.testing.assert_allclose(x.grad.array, (2 + 2 * t) * (1 - t * t))


def test_long_chain_does_not_hit_the_recursion_limit():
    x = leaf([1.0])
    y = x
    for _ in range(5000):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, [1.0])


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
    np.testing.assert_allclose(y.array, [2.0, 4.0])


def test_inputs_without_requires_grad_get_no_grad():
    x, c = leaf([1.0]), tensor(np.array([2.0]))
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad.array, [2.0])


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
        tensor(np.ones(1)).backward()


@pytest.mark.parametrize("dtype", [np.int64, np.float16, np.bool_])
def test_ops_reject_non_float32_64_inputs(dtype):
    x = tensor(np.ones((2, 2), dtype=dtype))
    with pytest.raises(TypeError, match=f"dtype {np.dtype(dtype)}; "
                                        "tinygan ops need float32 or float64"):
        ops.relu(x)


def test_ops_reject_mixed_dtypes():
    with pytest.raises(TypeError, match="mix dtypes float32 and float64"):
        tensor(np.ones(2, np.float32)) + tensor(np.ones(2, np.float64))


def test_python_numbers_adopt_the_tensor_dtype():
    x = tensor(np.ones(3, np.float32))
    assert (x * 0.5 + 1).dtype == np.float32
    assert (2.0 - x).dtype == np.float32 and (1 / (x + 1)).dtype == np.float32


def test_python_floats_become_float32_like_pytorch():
    assert tensor([1.0, 2.0]).dtype == np.float32 and Tensor([1.0, 2.0]).dtype == np.float32
    assert tensor(np.array([1.0])).dtype == np.float64  # tensor() keeps an array's dtype
    assert Tensor(np.array([1.0])).dtype == np.float32  # Tensor() makes the default dtype


def test_item_and_repr():
    t = tensor(np.array([[3.5]]))
    assert t.item() == 3.5
    assert "shape=(1, 1)" in repr(t) and "device='cpu'" in repr(t)
    with pytest.raises(ValueError, match="one-element"):
        tensor(np.ones(2)).item()


def test_unknown_device_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown device 'tpu'; tinygan knows cpu, cuda"):
        tensor(np.ones(2)).to("tpu")


def test_numpy_scalars_keep_their_dtype():
    assert tensor(np.float64(1.5)).dtype == np.float64
    assert tensor(np.float32(1.5)).dtype == np.float32


# --- PyTorch's backward contract: released graphs, retain_graph, dtypes, grad() ---------------

def test_a_second_backward_through_a_released_graph_is_an_error():
    x = leaf([0.5, -1.0])
    y = (ops.tanh(x) * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="a second time .*pass retain_graph=True"):
        y.backward()
    np.testing.assert_allclose(x.grad.array, np.tanh(x.array) + x.array / np.cosh(x.array) ** 2)


def test_retain_graph_allows_a_second_backward():
    x = leaf([0.5, -1.0])
    y = (ops.tanh(x) * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.array.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.array, 2 * first)


def test_backward_releases_what_the_forward_saved():
    x = leaf(np.ones((4, 4)))
    h = ops.tanh(x)
    (h * h).sum().backward()
    assert h.creator.released and vars(h.creator) == {"released": True}  # y and inputs gone


def test_a_shared_subgraph_released_by_one_loss_stops_the_other():
    x = leaf([1.0, 2.0])
    h = ops.tanh(x)
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (h * 2).sum().backward()


@pytest.mark.parametrize("gradient_dtype", [np.float64, np.float32])
def test_backward_casts_the_gradient_to_the_tensor_dtype(gradient_dtype):
    x = leaf([1.0, 2.0], dtype=np.float32)
    (x * 3).backward(np.ones(2, dtype=gradient_dtype))
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.array, [3.0, 3.0])


def test_backward_rejects_a_gradient_that_is_not_float():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(TypeError, match="gradient has dtype int64; expected a float dtype"):
        y.backward(np.ones(2, dtype=np.int64))


def test_a_backward_returning_the_wrong_dtype_is_named():
    class Float32Grad(ops.Neg):
        def backward(self, gy):
            return tensor(gy.array.astype(np.float32))

    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="Float32Grad.backward returned a gradient "
                                           r"\(shape \(2,\) dtype float32\) for an input of "
                                           r"shape \(2,\) dtype float64"):
        Float32Grad.apply(x).sum().backward()


def test_grad_returns_gradients_without_touching_dot_grad():
    x, w = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    gx, gw = grad((x * w).sum(), [x, w])
    np.testing.assert_allclose(gx.array, w.array)
    np.testing.assert_allclose(gw.array, x.array)
    assert x.grad is None and w.grad is None


def test_grad_of_a_non_leaf_and_of_several_outputs():
    x = leaf([0.3, -0.7])
    h = ops.tanh(x)
    gh, = grad([(h * h).sum(), h.sum()], h)
    np.testing.assert_allclose(gh.array, 2 * h.array + 1)


def test_grad_computes_only_what_leads_to_its_inputs():
    x, w = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    calls = []

    class Spy(ops.Mul):
        def backward(self, gy):
            calls.append(self.needs_input_grad)
            return super().backward(gy)

    grad(Spy.apply(x, w).sum(), x)
    assert calls == [(True, False)]  # w requires grad, but nobody asked for it


def test_grad_names_an_unused_input_unless_allowed():
    x, unused = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match=r"inputs\[1\] \(shape \(1,\)\) was not used"):
        grad((x * 2).sum(), [x, unused])
    gx, none = grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert none is None and gx.array[0] == 2.0


def test_grad_checks_its_arguments():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match=r"inputs\[0\] does not require grad"):
        grad((x * 2).sum(), tensor(np.ones(1)))
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        grad(x * 2, x, grad_outputs=[np.ones(1), np.ones(1)])
    with pytest.raises(TypeError, match=r"outputs\[0\] must be a Tensor, got ndarray"):
        grad(np.ones(1), x)


def test_create_graph_gives_a_grad_with_a_graph():
    x = leaf([0.5, 2.0])
    (x * x * x).sum().backward(create_graph=True)  # x.grad = 3 x^2, recorded
    assert x.grad.creator is not None
    gx, = grad(x.grad.sum(), x)  # d/dx sum(3 x^2) = 6 x
    np.testing.assert_allclose(gx.array, 6 * x.array)


def test_an_unrecorded_backward_records_nothing():
    x = leaf([0.5, 2.0])
    (x * x).sum().backward()
    assert x.grad.creator is None and not x.grad.requires_grad
