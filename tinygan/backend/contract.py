"""What a backend is: every name the ops, the optimizers and the engine use, with its shapes.

A backend is a module (cpu.py, cuda.py, reference.py) with exactly these names;
tests/test_backends.py checks that each has them with these signatures, and that nothing in
tinygan reaches a backend through any other name. To add an accelerator, implement ``Backend``
(and ``Winograd`` if its ``winograd_applies`` can say yes), and register the module in
backend/__init__.py's DEVICES.

Shapes: activations are (N, C, H, W) and lie channel-major in memory (layout.py); a col is
(C, KH, KW, N, OH, OW); per-channel arrays are (C,). The kernels take float32 (float64 too on
the CPU); each returns new arrays unless it says "in place".
"""
from typing import Protocol


class Backend(Protocol):
    """The primitives every backend has."""

    name: str  # the device name: "cpu", "cuda"
    xp: object  # the array module: numpy, cupy

    def check_available(self):
        """Raise a one-line RuntimeError that says why (and how to fix it) when this backend
        cannot run here; called once, when the backend is first asked for."""

    def asarray(self, array, dtype=None):
        """Host data, or an array of this backend, as an array of this backend."""

    def to_numpy(self, array):
        """A NumPy array of ``array`` (a copy from the device, where there is one)."""

    def synchronize(self):
        """Wait until all queued work is done."""

    def im2col(self, x, kernel, stride, padding):
        """x (N, C, H, W) -> col (C, KH, KW, N, OH, OW):
        col[c, i, j, n, oh, ow] = x_padded[n, c, i + stride_h oh, j + stride_w ow]."""

    def col2im(self, col, image_size, stride, padding):
        """col (C, KH, KW, N, OH, OW) -> x (N, C, H, W), im2col's adjoint: each pixel the sum
        of the col entries im2col copied from it."""

    def winograd_applies(self, image_size, kernel, stride, padding, in_channels, batch):
        """Whether a conv with these settings takes Winograd's route on this backend (then the
        ``Winograd`` primitives must exist); never is a valid answer."""

    def leaky_relu(self, x, slope):
        """y = x if x > 0 else slope x, any shape."""

    def leaky_relu_backward(self, x, gy, slope):
        """gx = gy if x > 0 else slope gy, any shape."""

    def adam_update(self, p, g, m, v, lr, b1, b2, eps, bias1, bias2):
        """In place, p, m and v of one shape: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
        p -= lr (m / bias1) / (sqrt(v / bias2) + eps)."""

    def bn_statistics(self, x):
        """x (N, C, ...) -> (mean, biased var), each (C,), over every axis but 1."""

    def bn_running_update(self, running_mean, running_var, mean, var, momentum, count):
        """In place, all (C,): running_mean += momentum (mean - running_mean);
        running_var += momentum (var count / (count - 1) - running_var), count values per
        channel."""

    def bn_act_forward(self, x, mean, inv_std, gamma, beta, slope):
        """y = act(gamma (x - mean) inv_std + beta), act(z) = z if z > 0 else slope z;
        x (N, C, ...), the rest (C,)."""

    def bn_act_backward_sums(self, x, mean, inv_std, gamma, beta, slope, gy):
        """(sum of gz, sum of gz xhat), each (C,), gz = gy act'(z), xhat = (x - mean) inv_std:
        the beta and gamma gradients."""

    def bn_act_backward_input(self, x, mean, inv_std, gamma, beta, slope, gy, sum_gz,
                              sum_gz_xhat, count):
        """gx (N, C, ...) = gamma inv_std (gz - (sum_gz + xhat sum_gz_xhat) / count)."""


class Winograd(Protocol):
    """The primitives of Winograd's F(4x4, 2x2) route (winograd.py states the math), needed
    where ``winograd_applies`` can say yes. ALPHA^2 = 25 transformed positions uv, T tiles."""

    def winograd_products(self, a, b):
        """The 25 matrix products a[uv] @ b[uv]: (25, P, Q) @ (25, Q, R) -> (25, P, R)."""

    def winograd_filter(self, w):
        """U = G W G^T: w (OC, C, 4, 4) -> (25, OC, 4C)."""

    def winograd_filter_adjoint(self, gu, in_channels):
        """The transpose of winograd_filter: (25, OC, 4C) -> (OC, C, 4, 4)."""

    def winograd_input(self, x):
        """V = B^T d B per tile of x's space-to-depth: x (N, C, H, W) -> (25, 4C, T)."""

    def winograd_input_adjoint(self, gv, image_size):
        """The transpose of winograd_input: (25, 4C, T) -> (N, C, H, W)."""

    def winograd_output(self, m, n, out_size):
        """y = A^T M A per tile: (25, OC, T) -> (N, OC, OH, OW)."""

    def winograd_output_adjoint(self, gy):
        """The transpose of winograd_output: (N, OC, OH, OW) -> (25, OC, T)."""
