"""Convolutions of x (N, C, H, W); w is (OC, C, KH, KW) for conv2d, (C_in, C_out, KH, KW) for
conv_transpose2d.

- conv2d: y = the cross-correlation of x with w;  gx = conv_transpose2d(gy, w), gw = x corr. gy
- conv_transpose2d: y = conv2d's input gradient at x;  gx = conv2d(gy, w), gw = gy corr. x

conv2d and conv_transpose2d are each other's adjoint: the same three products in swapped roles
(tinygan/convolution.py computes them, on the route it chooses for the geometry). Their weight
gradient is the Function _Conv2dWeightGrad, bilinear in (x, gy), so that a recorded backward
can be differentiated again.
"""

__all__ = ["Conv2d", "ConvTranspose2d", "conv2d", "conv_transpose2d"]

from .. import convolution
from ..tensor import Function, is_grad_enabled, wrap
from .array import reshape


def _pair(value, name):
    """An int or a pair of ints as a pair."""
    pair = (value, value) if isinstance(value, int) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(isinstance(v, int) for v in pair)):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    return tuple(pair)


def _check_conv_args(name, x, w, stride, padding):
    """Validate ranks and hyper-parameters shared by conv2d and conv_transpose2d."""
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D weight, got shape {w.shape}")
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    if min(stride) < 1 or min(padding) < 0:
        raise ValueError(f"{name}: stride must be >= 1 and padding >= 0, "
                         f"got stride={stride}, padding={padding}")
    return stride, padding


def _check_output_size(name, x, w, out_size):
    if min(out_size) < 1:
        raise ValueError(f"{name}: output size would be {out_size} for input shape {x.shape} "
                         f"and weight shape {w.shape}; the input is too small for this kernel, "
                         "stride and padding")


def _tensors(*arrays):
    """Arrays as Tensors (None stays None): a backward's results when it is not recorded."""
    return tuple(None if a is None else wrap(a) for a in arrays)


def _conv2d_input_grad(gy, w, x_shape, stride, padding):
    """gx of y = conv2d(x, w) as the op conv_transpose2d(gy, w), with the output_padding that
    gives back x's size (the rows and columns the forward's stride skipped at the end)."""
    extra = tuple(n + 2 * p - k - (m - 1) * s for n, p, k, m, s in
                  zip(x_shape[2:], padding, w.shape[2:], gy.shape[2:], stride))
    return conv_transpose2d(gy, w, stride=stride, padding=padding, output_padding=extra)


class _Conv2dWeightGrad(Function):
    """gw[o, c, i, j] = sum over n, oh, ow of gy[n, o, oh, ow] * col(x)[c, i, j, n, oh, ow]:
    conv2d's weight gradient, bilinear in (x, gy). Its gradients are those of conv2d(x, g)
    with respect to its input and to its output: conv_transpose2d(gy, g) and conv2d(x, g)."""
    def forward(self, x, gy, kernel=None, stride=None, padding=None):
        self.stride, self.padding = stride, padding
        route = convolution.choose(self.backend, x.shape[2:], kernel, stride, padding, x.shape[1],
                                   gy.shape[1], x.shape[0])
        return route.kernel_grad(x, gy)

    def backward(self, g):
        (x, gy), (needs_x, needs_gy) = self.inputs, self.needs_input_grad
        return (_conv2d_input_grad(gy, g, x.shape, self.stride, self.padding) if needs_x else None,
                conv2d(x, g, stride=self.stride, padding=self.padding) if needs_gy else None)


class Conv2d(Function):
    """y = cross-correlation of x (N, C, H, W) with w (OC, C, KH, KW): (N, OC, OH, OW);
    gx = conv_transpose2d(gy, w), gw[o, c, i, j] = sum over n, oh, ow of gy[n, o, oh, ow]
    x_padded[n, c, i + s oh, j + s ow] (the correlation of x with gy). convolution.choose
    picks how the three products are computed (im2col, its flipped twin, or Winograd).
    """
    def forward(self, x, w, stride=1, padding=0):
        self.stride, self.padding = _check_conv_args("conv2d", x, w, stride, padding)
        if x.shape[1] != w.shape[1]:
            raise ValueError(f"conv2d: the weight {w.shape} has in_channels={w.shape[1]}, but the "
                             f"input {x.shape} has {x.shape[1]} channels")
        self.route = convolution.choose(self.backend, x.shape[2:], w.shape[2:], self.stride,
                                        self.padding, x.shape[1], w.shape[0], x.shape[0])
        _check_output_size("conv2d", x, w, self.route.out_size)
        return self.route.correlate(x, w)

    def backward(self, gy):
        x, w = self.inputs
        needs_gx, needs_gw = self.needs_input_grad
        if is_grad_enabled():  # recorded: the adjoint ops, differentiable again
            return (_conv2d_input_grad(gy, w, x.shape, self.stride, self.padding)
                    if needs_gx else None,
                    _Conv2dWeightGrad.apply(x, gy, kernel=w.shape[2:], stride=self.stride,
                                            padding=self.padding) if needs_gw else None)
        gy = gy.array  # not recorded: raw products, on what the route built in the forward
        return _tensors(self.route.correlate_adjoint(gy, w.array) if needs_gx else None,
                        self.route.kernel_grad(x.array, gy) if needs_gw else None)


def conv2d(input, weight, bias=None, stride=1, padding=0):
    """2-D cross-correlation, plus ``bias`` (OC,) per output channel when given."""
    y = Conv2d.apply(input, weight, stride=stride, padding=padding)  # checks the ranks first
    _check_bias("conv2d", bias, weight.shape[0])
    return y if bias is None else y + reshape(bias, (1, -1, 1, 1))


class ConvTranspose2d(Function):
    """y = conv2d's input gradient applied to x (N, C_in, H, W) with w (C_in, C_out, KH, KW):
    (N, C_out, (H - 1) * stride - 2 * padding + KH + output_padding, ...);
    gx = conv2d(gy, w), gw = conv2d's weight gradient with x and gy in swapped roles. The
    products are those of the conv2d whose input is y (convolution.choose picks the route).
    """
    def forward(self, x, w, stride=1, padding=0, output_padding=0):
        self.stride, self.padding = _check_conv_args("conv_transpose2d", x, w, stride, padding)
        extra = _pair(output_padding, "output_padding")
        if not all(0 <= e < s for e, s in zip(extra, self.stride)):
            raise ValueError(f"conv_transpose2d: output_padding must be >= 0 and smaller than "
                             f"stride, got output_padding={extra}, stride={self.stride}")
        if x.shape[1] != w.shape[0]:
            raise ValueError(f"conv_transpose2d: the weight {w.shape} has "
                             f"in_channels={w.shape[0]}, but the input {x.shape} has "
                             f"{x.shape[1]} channels")
        out_size = tuple((n - 1) * s - 2 * p + k + e for n, s, p, k, e in
                         zip(x.shape[2:], self.stride, self.padding, w.shape[2:], extra))
        _check_output_size("conv_transpose2d", x, w, out_size)
        self.route = convolution.choose(self.backend, out_size, w.shape[2:], self.stride,
                                        self.padding, w.shape[1], w.shape[0], x.shape[0])
        return self.route.correlate_adjoint(x, w)

    def backward(self, gy):
        x, w = self.inputs
        needs_gx, needs_gw = self.needs_input_grad
        if is_grad_enabled():  # recorded: gx = conv2d(gy, w), gw as conv2d's with x as its gy
            return (conv2d(gy, w, stride=self.stride, padding=self.padding) if needs_gx else None,
                    _Conv2dWeightGrad.apply(gy, x, kernel=w.shape[2:], stride=self.stride,
                                            padding=self.padding) if needs_gw else None)
        gy = gy.array  # not recorded: raw products, on what the route built in the forward
        return _tensors(self.route.correlate(gy, w.array) if needs_gx else None,
                        self.route.kernel_grad(gy, x.array) if needs_gw else None)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """2-D transposed convolution, plus ``bias`` (C_out,) per output channel when given."""
    y = ConvTranspose2d.apply(input, weight, stride=stride, padding=padding,
                              output_padding=output_padding)  # checks the ranks first
    _check_bias("conv_transpose2d", bias, weight.shape[1])
    return y if bias is None else y + reshape(bias, (1, -1, 1, 1))


def _check_bias(name, bias, out_channels):
    """A conv's bias must be (out_channels,)."""
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{name}: bias of shape {bias.shape}, expected ({out_channels},): one "
                         "per output channel of the weight")
