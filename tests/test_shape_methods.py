"""The shape methods of issue 28 (tinygan/ops/array.py) against PyTorch on drawn shapes: values,
shapes and gradients of squeeze, unsqueeze, permute, transpose, flatten, expand and repeat, as
methods and as top-level functions, their second derivatives, and their one-line errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygan
from tinygan import tensor

torch = pytest.importorskip("torch")

SHAPES = st.lists(st.integers(1, 3), min_size=0, max_size=4).map(tuple)


def draw_call(data, shape):
    """A (method name, args) call that PyTorch accepts for a tensor of ``shape``."""
    ndim = len(shape)
    dims = st.integers(-max(ndim, 1), max(ndim, 1) - 1)
    name = data.draw(st.sampled_from(["squeeze", "squeeze_tuple", "unsqueeze", "permute",
                                      "transpose", "flatten", "expand", "repeat"]), label="op")
    if name == "squeeze":
        return name, data.draw(st.one_of(st.just(()), dims.map(lambda d: (d,))), label="args")
    if name == "squeeze_tuple":
        unique = st.lists(dims, max_size=3, unique_by=lambda d: d % max(ndim, 1))
        return "squeeze", (tuple(data.draw(unique)),)
    if name == "unsqueeze":
        return name, (data.draw(st.integers(-ndim - 1, ndim)),)
    if name == "permute":
        order = data.draw(st.permutations(range(ndim)))
        dims = tuple(d - ndim * data.draw(st.booleans()) for d in order)
        return name, dims if ndim else (dims,)  # PyTorch takes no dims only as one tuple
    if name == "transpose":
        return name, (data.draw(dims), data.draw(dims)) if ndim else (0, -1)
    if name == "flatten":
        start = data.draw(dims) % max(ndim, 1)
        end = data.draw(st.integers(start, max(ndim, 1) - 1))
        return name, (start, end - max(ndim, 1) * data.draw(st.booleans()))
    lead = data.draw(st.lists(st.integers(0, 3), max_size=2))
    if name == "expand":
        own = [data.draw(st.sampled_from([-1, 2, 3]) if s == 1 else st.sampled_from([-1, s]))
               for s in shape]
    else:
        own = data.draw(st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim))
    sizes = tuple(lead + own)
    return name, sizes if sizes else (sizes,)  # PyTorch takes no sizes only as one tuple


@settings(max_examples=200, deadline=None)
@given(data=st.data(), shape=SHAPES, seed=st.integers(0, 2**32 - 1))
def test_methods_match_pytorch_values_shapes_and_gradients(data, shape, seed):
    name, args = draw_call(data, shape)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    ours, theirs = tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, z = getattr(ours, name)(*args), getattr(theirs, name)(*args)
    assert y.shape == tuple(z.shape)
    np.testing.assert_array_equal(y.numpy(), z.detach().numpy())
    g = rng.standard_normal(y.shape)
    y.backward(tensor(g))
    z.backward(torch.tensor(g))
    assert ours.grad.shape == shape
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(data=st.data(), shape=SHAPES.filter(len), seed=st.integers(0, 2**32 - 1))
def test_second_derivatives_match_pytorch(data, shape, seed):
    """d/dx of <g, d(sum(f(x)^3) + sum(x^3))/dx>, through each method's recorded backward."""
    name, args = draw_call(data, shape)
    rng = np.random.default_rng(seed)
    x, g = rng.standard_normal(shape), rng.standard_normal(shape)
    grads = []
    for lib in (tinygan, torch):
        t = lib.tensor(x, requires_grad=True)
        loss = (getattr(t, name)(*args) ** 3).sum() + (t ** 3).sum()  # a graph if f(x) is empty
        (gx,) = lib.autograd.grad(loss, [t], create_graph=True)
        (gx * lib.tensor(g)).sum().backward()
        grads.append(np.asarray(t.grad.detach().numpy()))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-10)


def test_top_level_functions_are_the_methods():
    x = np.arange(24.0).reshape(2, 1, 3, 4)
    ours, theirs = tensor(x), torch.tensor(x)
    for name, args in [("squeeze", (1,)), ("unsqueeze", (-1,)), ("permute", ((3, 0, 2, 1),)),
                       ("transpose", (0, 2)), ("flatten", (1, 2))]:
        y, z = getattr(tinygan, name)(ours, *args), getattr(torch, name)(theirs, *args)
        np.testing.assert_array_equal(y.numpy(), z.numpy())
    assert tensor(x).permute([3, 0, 2, 1]).shape == (4, 2, 3, 1)
    assert tensor(x).expand((5, 2, 7, 3, 4)).shape == (5, 2, 7, 3, 4)
    assert tensor(x).repeat([1, 2, 1, 1, 1]).shape == (1, 4, 1, 3, 4)


def test_dot_t_still_reverses_all_axes_as_pytorch():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(tensor(x).T.numpy(), torch.tensor(x).T.numpy())


@pytest.mark.parametrize("call, words", [
    (lambda t: t.squeeze(3), ["squeeze", "dim 3", "(2, 1, 3)"]),
    (lambda t: t.squeeze((0, -3)), ["squeeze", "(0, -3)", "twice", "(2, 1, 3)"]),
    (lambda t: t.unsqueeze(-5), ["unsqueeze", "dim -5", "(2, 1, 3)"]),
    (lambda t: t.permute(0, 1), ["permute", "(0, 1)", "(2, 1, 3)"]),
    (lambda t: t.permute(0, 0, 1), ["permute", "(0, 0, 1)", "(2, 1, 3)"]),
    (lambda t: t.transpose(0, 3), ["transpose", "dim 3", "(2, 1, 3)"]),
    (lambda t: t.flatten(2, 1), ["flatten", "start_dim 2", "(2, 1, 3)"]),
    (lambda t: t.flatten(0, 7), ["flatten", "dim 7", "(2, 1, 3)"]),
    (lambda t: t.expand(2, 4, 4), ["expand", "size 4 at dim 2", "(2, 1, 3)"]),
    (lambda t: t.expand(1, 3), ["expand", "(1, 3)", "(2, 1, 3)"]),
    (lambda t: t.repeat(2, 2), ["repeat", "(2, 2)", "(2, 1, 3)"]),
    (lambda t: t.repeat(1, -1, 1), ["repeat", "(1, -1, 1)", "(2, 1, 3)"]),
])
def test_bad_dims_raise_one_line_naming_the_method_dim_and_shape(call, words):
    with pytest.raises((IndexError, ValueError)) as error:
        call(tensor(np.zeros((2, 1, 3))))
    message = str(error.value)
    assert "\n" not in message and all(w in message for w in words), message
    with pytest.raises((IndexError, ValueError, RuntimeError)):
        call(torch.zeros(2, 1, 3))


def test_a_non_int_dim_is_a_type_error():
    with pytest.raises(TypeError, match="squeeze: dim must be an int"):
        tensor(np.zeros(2)).squeeze(0.5)
