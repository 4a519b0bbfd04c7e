"""Convolution's structure: im2col/col2im adjoint, a nested-loop oracle, transposed-conv shapes."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

from tinygan import convolution, ops, tensor
from tinygan.backend import cpu


@st.composite
def conv_geometry(draw):
    """(input shape, kernel, stride, padding) with an output of at least 1x1."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    h = draw(st.integers(max(1, kh - 2 * padding[0]), kh - 2 * padding[0] + 7))
    w = draw(st.integers(max(1, kw - 2 * padding[1]), kw - 2 * padding[1] + 7))
    return (n, c, h, w), (kh, kw), stride, padding


@given(conv_geometry(), st.integers(0, 2**32 - 1))
def test_col2im_is_adjoint_of_im2col(geometry, seed):
    shape, kernel, stride, padding = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    col = cpu.im2col(x, kernel, stride, padding)
    c = rng.standard_normal(col.shape)
    lhs = np.sum(col * c)  # <im2col(x), c>
    rhs = np.sum(x * cpu.col2im(c, shape[2:], stride, padding))  # <x, col2im(c)>
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)


def nested_loop_conv2d(x, w, stride, padding):
    """The definition, written out:

    y[n, o, i, j] = sum_{c, p, q} x_pad[n, c, s i + p, s j + q] w[o, c, p, q].
    """
    n, c, h, wd = x.shape
    oc, _, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padding
    x_pad = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    x_pad[:, :, ph:ph + h, pw:pw + wd] = x
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    y = np.zeros((n, oc, oh, ow))
    for b in range(n):
        for o in range(oc):
            for i in range(oh):
                for j in range(ow):
                    patch = x_pad[b, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                    y[b, o, i, j] = np.sum(patch * w[o])
    return y


@given(conv_geometry(), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_conv2d_forward_equals_nested_loop_reference(geometry, out_channels, seed):
    shape, kernel, stride, padding = geometry
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(shape), rng.standard_normal((out_channels, shape[1]) + kernel)
    y = ops.conv2d(tensor(x), tensor(w), stride=stride, padding=padding)
    np.testing.assert_allclose(y.array, nested_loop_conv2d(x, w, stride, padding),
                               rtol=1e-10, atol=1e-10)


@given(st.integers(1, 3), st.integers(1, 8), st.integers(1, 5), st.integers(1, 3),
       st.integers(0, 2), st.data())
def test_conv_transpose2d_output_shape_follows_the_formula(n, h, k, stride, padding, data):
    output_padding = data.draw(st.integers(0, stride - 1))
    expected = (h - 1) * stride - 2 * padding + k + output_padding
    assume(expected >= 1)  # smaller is an error, tested in test_errors.py
    x, w = tensor(np.ones((n, 2, h, h))), tensor(np.ones((2, 3, k, k)))
    y = ops.conv_transpose2d(x, w, stride=stride, padding=padding, output_padding=output_padding)
    assert y.shape == (n, 3, expected, expected)


@given(conv_geometry(), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_conv_transpose2d_is_the_adjoint_of_conv2d(geometry, out_channels, seed):
    """<conv2d(x, w), y> = <x, conv_transpose2d(y, w)> for the same weight."""
    shape, kernel, stride, padding = geometry
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(shape), rng.standard_normal((out_channels, shape[1]) + kernel)
    conv = ops.conv2d(tensor(x), tensor(w), stride=stride, padding=padding)
    y = rng.standard_normal(conv.shape)
    extra = tuple((s + 2 * p - k) % st_ for s, p, k, st_ in zip(shape[2:], padding, kernel, stride))
    back = ops.conv_transpose2d(tensor(y), tensor(w), stride=stride, padding=padding,
                                output_padding=extra)
    assert back.shape == shape
    np.testing.assert_allclose(np.sum(conv.array * y), np.sum(x * back.array), rtol=1e-10,
                               atol=1e-10)


@pytest.mark.parametrize("in_channels, out_channels", [(6, 2), (2, 6)])
def test_both_routes_of_the_stride_1_input_gradient_agree_with_the_definition(in_channels,
                                                                               out_channels):
    """C > OC takes the flipped-kernel route, C < OC the col2im route; both equal the
    gradient of sum(r * conv2d(x, w)) written out from the nested-loop definition."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, in_channels, 7, 6))
    w = rng.standard_normal((out_channels, in_channels, 3, 3))
    x_tensor = tensor(x, requires_grad=True)
    y = ops.conv2d(x_tensor, tensor(w), padding=1)
    r = rng.standard_normal(y.shape)
    y.backward(r)
    expected = np.zeros_like(x)  # d/dx sum(r * y), one input pixel at a time (y is linear in x)
    for index in np.ndindex(x.shape):
        unit = np.zeros_like(x)
        unit[index] = 1
        expected[index] = np.sum(r * nested_loop_conv2d(unit, w, (1, 1), (1, 1)))
    np.testing.assert_allclose(x_tensor.grad.array, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("conv, w_shape, stride, gx_product", [
    (ops.conv2d, (4, 2, 3, 3), 2, "correlate_adjoint"),          # the plain im2col route
    (ops.conv2d, (1, 2, 3, 3), 1, "correlate_adjoint"),          # stride 1, fewer outputs
    (ops.conv_transpose2d, (2, 4, 3, 3), 2, "correlate"),        # gx is conv2d(gy, w)
])
@pytest.mark.parametrize("frozen", ["x", "w"])
def test_a_conv_skips_the_gradient_nobody_asked_for(conv, w_shape, stride, gx_product, frozen,
                                                    monkeypatch):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 2, 7, 7)), rng.standard_normal(w_shape)
    both = {"x": tensor(x, requires_grad=True), "w": tensor(w, requires_grad=True)}
    conv(both["x"], both["w"], stride=stride).sum().backward()
    one = {"x": tensor(x, requires_grad=frozen != "x"), "w": tensor(w, requires_grad=frozen != "w")}
    y = conv(one["x"], one["w"], stride=stride)

    def refuse(*args):
        raise AssertionError(f"a gradient was computed for {frozen}, which needs none")
    for route in (convolution.InputCols, convolution.OutputCols, convolution.Winograd):
        monkeypatch.setattr(route, gx_product if frozen == "x" else "kernel_grad", refuse)
    y.sum().backward()
    live = "w" if frozen == "x" else "x"
    np.testing.assert_array_equal(one[live].grad.numpy(), both[live].grad.numpy())
    assert one[frozen].grad is None
