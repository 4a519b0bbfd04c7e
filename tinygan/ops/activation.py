"""Activations: elementwise nonlinearities, and softmax along an axis.

- relu: y = max(x, 0);  gx = gy where x > 0, else 0
- leaky_relu: y = x if x > 0 else s * x (s = negative_slope);  gx = gy where x > 0, else s * gy
- tanh: y = tanh(x);  gx = gy * (1 - y^2)
- sigmoid: y = 1 / (1 + exp(-x));  gx = gy * y * (1 - y)
- softmax: y = exp(x) / sum(exp(x)) along an axis;  gx = y * (gy - sum(gy * y) along it)

relu's and leaky_relu's backward is _LeakyReLUJacobian, gy times the (diagonal) Jacobian at a
fixed x: its own backward is itself. batch_norm applies it for its fused activation.
"""

__all__ = ["LeakyReLU", "ReLU", "Sigmoid", "Softmax", "Tanh", "leaky_relu", "relu", "sigmoid",
           "softmax", "tanh"]

from ..tensor import Function


class _LeakyReLUJacobian(Function):
    """y = g where x > 0, else slope * g: the Jacobian of leaky_relu at a fixed x applied to g.
    It is diagonal, so its backward is itself (and its derivative in x is 0 almost everywhere)."""
    reads_inputs = False  # backward uses the x it was given, not its input

    def forward(self, g, x=None, slope=0.0):
        self.x, self.slope = x, slope
        return self.backend.leaky_relu_backward(x, g, slope)

    def backward(self, gy):
        return _LeakyReLUJacobian.apply(gy, x=self.x, slope=self.slope)


class ReLU(Function):
    """y = max(x, 0);  gx = gy where x > 0, else 0"""
    def forward(self, x):
        return self.xp.maximum(x, 0)

    def backward(self, gy):
        return _LeakyReLUJacobian.apply(gy, x=self.inputs[0].array, slope=0.0)


relu = ReLU.apply


class LeakyReLU(Function):
    """y = x if x > 0 else negative_slope * x;  gx = gy where x > 0, else negative_slope * gy"""
    def forward(self, x, negative_slope=0.01):
        self.slope = negative_slope
        return self.backend.leaky_relu(x, negative_slope)

    def backward(self, gy):
        return _LeakyReLUJacobian.apply(gy, x=self.inputs[0].array, slope=self.slope)


def leaky_relu(input, negative_slope=0.01):
    """x if x > 0 else negative_slope * x (the slope a number, by position or keyword)."""
    return LeakyReLU.apply(input, negative_slope=negative_slope)


class Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y^2"""
    reads_inputs = False  # backward reads its output

    def forward(self, x):
        self.y = self.xp.tanh(x)
        return self.y

    def backward(self, gy):
        y = self.output_tensor(self.y)
        return gy * (1 - y * y)


tanh = Tanh.apply


def _stable_sigmoid(xp, x):
    """1 / (1 + exp(-x)), written with exp(-|x|) so that no exponent overflows."""
    e = xp.exp(-abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dy/dx = y (1 - y)"""
    reads_inputs = False  # backward reads its output

    def forward(self, x):
        self.y = _stable_sigmoid(self.xp, x)
        return self.y

    def backward(self, gy):
        y = self.output_tensor(self.y)
        return gy * y * (1 - y)


sigmoid = Sigmoid.apply


class Softmax(Function):
    """y = exp(x) / sum(exp(x)) along ``axis``;  gx = y * (gy - sum(gy * y) along axis)"""
    reads_inputs = False  # backward reads its output

    def forward(self, x, axis=-1):
        self.axis = axis
        e = self.xp.exp(x - x.max(axis=axis, keepdims=True))  # the largest exponent is 0
        self.y = e / e.sum(axis=axis, keepdims=True)
        return self.y

    def backward(self, gy):
        y = self.output_tensor(self.y)
        return y * (gy - (gy * y).sum(axis=self.axis, keepdims=True))


def softmax(input, axis=-1):
    """Softmax along ``axis`` (torch.softmax's ``dim``)."""
    return Softmax.apply(input, axis=axis)
