"""Every differentiable op: a Function subclass with forward and backward on raw arrays.

Each class is followed by its lower-case name, which takes Tensors positionally and settings
by keyword, with the names and argument order of ``torch.nn.functional``. ``gy`` is the
gradient of the loss with respect to the op's output, ``gx`` with respect to an input.
"""
from .backend import winograd
from .backend.layout import images
from .tensor import Function, Tensor


# --- glue: arithmetic with broadcasting, reductions, reshapes -------------------------------

def _sum_to(g, shape):
    """Undo broadcasting: sum g over the axes along which an input of ``shape`` was stretched."""
    lead = g.ndim - len(shape)
    stretched = tuple(lead + i for i, size in enumerate(shape)
                      if size == 1 and g.shape[lead + i] != 1)
    if lead or stretched:
        g = g.sum(axis=tuple(range(lead)) + stretched, keepdims=True)
    return g.reshape(shape)


class Add(Function):
    """y = a + b"""
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, gy):
        return _sum_to(gy, self.shapes[0]), _sum_to(gy, self.shapes[1])


add = Add.apply


class Sub(Function):
    """y = a - b"""
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, gy):
        return _sum_to(gy, self.shapes[0]), _sum_to(-gy, self.shapes[1])


sub = Sub.apply


class Mul(Function):
    """y = a * b"""
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        return _sum_to(gy * self.b, self.a.shape), _sum_to(gy * self.a, self.b.shape)


mul = Mul.apply


class Div(Function):
    """y = a / b;  dy/da = 1 / b,  dy/db = -a / b^2"""
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        ga = gy / self.b
        return _sum_to(ga, self.a.shape), _sum_to(-ga * self.a / self.b, self.b.shape)


div = Div.apply


class Neg(Function):
    """y = -x"""
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


neg = Neg.apply


class Sum(Function):
    """y = sum of x over ``axis`` (all axes when None); every x element gets gy back."""
    def forward(self, x, axis=None, keepdims=False):
        self.shape = x.shape
        self.axes = tuple(range(x.ndim)) if axis is None else tuple(
            a % x.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
        return x.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, gy):
        kept = tuple(1 if i in self.axes else n for i, n in enumerate(self.shape))
        return self.xp.broadcast_to(gy.reshape(kept), self.shape)


sum = Sum.apply  # noqa: A001  (like torch.sum; the builtin is not used in this module)


class Mean(Sum):
    """y = sum(x) / count over ``axis``: Sum's backward, scaled by 1 / count."""
    def forward(self, x, axis=None, keepdims=False):
        total = super().forward(x, axis=axis, keepdims=keepdims)
        self.count = x.size // max(total.size, 1)
        return total / self.count

    def backward(self, gy):
        return super().backward(gy / self.count)


mean = Mean.apply


class Reshape(Function):
    """y = x with a new shape (same elements, same order)."""
    def forward(self, x, shape=None):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, gy):
        return gy.reshape(self.shape)


def reshape(x, shape):
    """x viewed with ``shape`` (one entry may be -1)."""
    return Reshape.apply(x, shape=tuple(shape))


def flatten(x, start_dim=0):
    """x with all axes from ``start_dim`` on merged into one."""
    return reshape(x, x.shape[:start_dim] + (-1,))


# --- activations ----------------------------------------------------------------------------

class ReLU(Function):
    """y = max(x, 0)"""
    def forward(self, x):
        self.positive = x > 0
        return x * self.positive

    def backward(self, gy):
        return gy * self.positive


relu = ReLU.apply


class LeakyReLU(Function):
    """y = x if x > 0 else negative_slope * x"""
    def forward(self, x, negative_slope=0.01):
        self.x, self.slope = x, negative_slope
        return self.backend.leaky_relu(x, negative_slope)

    def backward(self, gy):
        return self.backend.leaky_relu_backward(self.x, gy, self.slope)


leaky_relu = LeakyReLU.apply


class Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y^2"""
    def forward(self, x):
        self.y = self.xp.tanh(x)
        return self.y

    def backward(self, gy):
        return gy * (1 - self.y * self.y)


tanh = Tanh.apply


def _stable_sigmoid(xp, x):
    """1 / (1 + exp(-x)), written with exp(-|x|) so that no exponent overflows."""
    e = xp.exp(-abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dy/dx = y (1 - y)"""
    def forward(self, x):
        self.y = _stable_sigmoid(self.xp, x)
        return self.y

    def backward(self, gy):
        return gy * self.y * (1 - self.y)


sigmoid = Sigmoid.apply


# --- losses ---------------------------------------------------------------------------------

class _ElementwiseLoss(Function):
    """Shared reduction of a per-element loss: 'mean' (default), 'sum' or 'none'."""
    def reduce(self, loss, reduction):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.scale = 1 / loss.size if reduction == "mean" else 1
        return loss if reduction == "none" else loss.sum() * self.scale

    @staticmethod
    def check_shapes(name, x, target):
        if x.shape != target.shape:
            raise ValueError(f"{name}: target shape {target.shape} "
                             f"must equal input shape {x.shape}")


def _clamped_log(xp, a):
    """max(log a, -100) for a in [0, 1], never evaluating log(0)."""
    positive = a > 0
    return xp.where(positive, xp.maximum(xp.log(xp.where(positive, a, 1)), -100), -100)


class BinaryCrossEntropy(_ElementwiseLoss):
    """loss = -(t log p + (1 - t) log(1 - p)), each log clamped at -100 as PyTorch does."""
    def forward(self, p, target, reduction="mean"):
        self.check_shapes("binary_cross_entropy", p, target)
        if p.size and (p.min() < 0 or p.max() > 1):
            raise ValueError("binary_cross_entropy: input must be probabilities in [0, 1], got "
                             f"values in [{float(p.min())}, {float(p.max())}]; use "
                             "binary_cross_entropy_with_logits for raw scores")
        self.p, self.target = p, target
        self.log_p, self.log_q = _clamped_log(self.xp, p), _clamped_log(self.xp, 1 - p)
        return self.reduce(-(target * self.log_p + (1 - target) * self.log_q), reduction)

    def backward(self, gy):
        gy = gy * self.scale
        p, t = self.p, self.target
        gp = gy * (p - t) / self.xp.maximum(p * (1 - p), 1e-12)
        return gp, gy * (self.log_q - self.log_p)


binary_cross_entropy = BinaryCrossEntropy.apply


class BinaryCrossEntropyWithLogits(_ElementwiseLoss):
    """loss = max(x, 0) - x t + log(1 + exp(-|x|)) = BCE(sigmoid(x), t), without overflow."""
    def forward(self, x, target, reduction="mean"):
        self.check_shapes("binary_cross_entropy_with_logits", x, target)
        xp = self.xp
        self.x, self.target = x, target
        loss = xp.maximum(x, 0) - x * target + xp.log1p(xp.exp(-abs(x)))
        return self.reduce(loss, reduction)

    def backward(self, gy):
        gy = gy * self.scale
        return gy * (_stable_sigmoid(self.xp, self.x) - self.target), gy * -self.x


binary_cross_entropy_with_logits = BinaryCrossEntropyWithLogits.apply


class CrossEntropy(_ElementwiseLoss):
    """loss_n = logsumexp(x_n) - x_n[t_n] = -log softmax(x_n)[t_n], x (N, K), integer t (N,)."""
    def forward(self, x, target, reduction="mean"):
        if x.ndim != 2:
            raise ValueError(f"cross_entropy: expected logits (N, K), got shape {x.shape}")
        _check_labels(target, x.shape)
        xp = self.xp
        shifted = x - x.max(axis=1, keepdims=True)  # (N, K), largest logit 0: exp cannot overflow
        log_sum = xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))  # (N, 1)
        self.log_p, self.target = shifted - log_sum, target  # log softmax (N, K)
        rows = xp.arange(x.shape[0])
        return self.reduce(-self.log_p[rows, target], reduction)

    def backward(self, gy):
        gx = self.xp.exp(self.log_p)  # softmax (N, K)
        gx[self.xp.arange(gx.shape[0]), self.target] -= 1
        return gx * self.xp.reshape(gy * self.scale, (-1, 1))


def _check_labels(target, logits_shape):
    """Labels must be integers of shape (N,) in [0, K) for logits (N, K)."""
    n, k = logits_shape
    if target.dtype.kind not in "iu" or target.shape != (n,):
        raise ValueError(f"cross_entropy: target must be integer class labels of shape ({n},), "
                         f"got dtype {target.dtype} shape {target.shape}")
    if n and (int(target.min()) < 0 or int(target.max()) >= k):
        raise ValueError(f"cross_entropy: labels must lie in [0, {k}) for {k} classes, got "
                         f"values in [{int(target.min())}, {int(target.max())}]")


def cross_entropy(input, target, reduction="mean"):
    """Softmax cross-entropy of logits (N, K) against integer labels (N,) (a Tensor or array)."""
    labels = target.data if isinstance(target, Tensor) else input.backend.asarray(target)
    return CrossEntropy.apply(input, target=labels, reduction=reduction)


# --- dense layers and pooling ---------------------------------------------------------------

class Linear(Function):
    """y = x @ w.T: x (N, in), w (out, in) -> (N, out)."""
    def forward(self, x, w):
        if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
            raise ValueError(f"linear: expected input (N, in) and weight (out, in), got input "
                             f"{x.shape} and weight {w.shape}")
        self.x, self.w = x, w
        return x @ w.T

    def backward(self, gy):
        return gy @ self.w, gy.T @ self.x


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias, as torch.nn.functional.linear (2-D input)."""
    y = Linear.apply(input, weight)
    return y if bias is None else y + bias


def _windows(x, kernel):
    """The (KH, KW) pooling windows of x as a view (N, C, OH, KH, OW, KW); a remainder that
    fills no whole window is dropped, as PyTorch does."""
    n, c, h, w = x.shape
    if min(kernel) < 1:
        raise ValueError(f"pooling: kernel_size must be >= 1, got {kernel}")
    (kh, kw), (oh, ow) = kernel, (h // kernel[0], w // kernel[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"pooling: the {kh}x{kw} window does not fit the input {x.shape}")
    return x[:, :, :oh * kh, :ow * kw].reshape(n, c, oh, kh, ow, kw)


def _unpool(xp, x_shape, windows_grad):
    """Place the gradient of the windows view (N, C, OH, KH, OW, KW) back into x's shape."""
    n, c, oh, kh, ow, kw = windows_grad.shape
    gx = xp.zeros(x_shape, dtype=windows_grad.dtype)
    gx[:, :, :oh * kh, :ow * kw] = windows_grad.reshape(n, c, oh * kh, ow * kw)
    return gx


class AvgPool2d(Function):
    """y[n, c, p, q] = mean of x over the non-overlapping window (p, q) of size KH x KW."""
    def forward(self, x, kernel_size=2):
        self.kernel, self.x_shape = _pair(kernel_size, "kernel_size"), x.shape
        return _windows(_check_4d("avg_pool2d", x), self.kernel).mean(axis=(3, 5))

    def backward(self, gy):
        kh, kw = self.kernel
        share = gy[:, :, :, None, :, None] / (kh * kw)  # (N, C, OH, 1, OW, 1)
        grad = self.xp.broadcast_to(share, gy.shape[:3] + (kh, gy.shape[3], kw))
        return _unpool(self.xp, self.x_shape, grad)


class MaxPool2d(Function):
    """y[n, c, p, q] = max of x over the non-overlapping window (p, q); the gradient goes to
    the first maximum of each window."""
    def forward(self, x, kernel_size=2):
        self.kernel, self.x_shape = _pair(kernel_size, "kernel_size"), x.shape
        windows = _windows(_check_4d("max_pool2d", x), self.kernel)
        n, c, oh, kh, ow, kw = windows.shape
        flat = windows.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw)
        self.argmax = flat.argmax(axis=4)  # (N, C, OH, OW)
        return flat.max(axis=4)

    def backward(self, gy):
        (kh, kw), xp = self.kernel, self.xp
        n, c, oh, ow = gy.shape
        first_max = xp.arange(kh * kw) == self.argmax[..., None]  # (N, C, OH, OW, KH*KW)
        grad = (first_max * gy[..., None]).reshape(n, c, oh, ow, kh, kw).transpose(0, 1, 2, 4, 3, 5)
        return _unpool(xp, self.x_shape, grad)  # (N, C, OH, KH, OW, KW) placed into x


def _check_4d(name, x):
    if x.ndim != 4:
        raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    return x


def avg_pool2d(input, kernel_size=2):
    """Average over non-overlapping kernel_size windows (stride = kernel_size)."""
    return AvgPool2d.apply(input, kernel_size=kernel_size)


def max_pool2d(input, kernel_size=2):
    """Maximum over non-overlapping kernel_size windows (stride = kernel_size)."""
    return MaxPool2d.apply(input, kernel_size=kernel_size)


# --- convolution ----------------------------------------------------------------------------
# With col = im2col(x) of shape (C, KH, KW, N, OH, OW) and w of shape (OC, C, KH, KW), both seen
# as matrices with C*KH*KW rows or columns, each product is one matrix multiply that reads col
# in place (BLAS takes the transposes as flags, not copies):
#   conv forward          y  = w @ col                        (OC, N*OH*OW)
#   conv input gradient   gx = col2im(w.T @ gy)               <- this IS conv_transpose2d
#   weight gradient       gw = gy @ col.T                     (both ops)
# Activations are (N, C, H, W) lying channel-major in memory (backend/layout.py), so _rows and
# _images move between that and (C, N*H*W) without copying.
# The DCGAN's stride-2 4x4 convs take Winograd's F(4x4, 2x2) instead (backend/winograd.py):
# the same three products on transformed tiles, 25/64 of the multiply-adds:
#   conv forward          y  = output(U @ V),     U = filter(w), V = input(x)     (25 products)
#   conv input gradient   gx = input_adjoint(U.T @ gM),  gM = output_adjoint(gy)
#   weight gradient       gw = filter_adjoint(gM @ V.T)

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


def _rows(a):
    """(N, C, H, W) -> (C, N*H*W): one matrix row per channel (a view if a is channel-major)."""
    return a.transpose(1, 0, 2, 3).reshape(a.shape[1], -1)


def _images(rows, n, size):
    """(C, N*H*W) -> (N, C, H, W), the inverse of _rows: a channel-major view, no copy."""
    return images(rows.reshape(rows.shape[0], n, *size))


def _correlate(col, w):
    """y[n, o, oh, ow] = sum over c, i, j of w[o, c, i, j] * col[c, i, j, n, oh, ow]"""
    c, kh, kw, n, oh, ow = col.shape
    y = w.reshape(w.shape[0], -1) @ col.reshape(c * kh * kw, -1)  # (OC, N*OH*OW)
    return _images(y, n, (oh, ow))  # (N, OC, OH, OW)


def _flip(xp, w):
    """w[o, c, i, j] -> w[c, o, KH-1-i, KW-1-j]: its own inverse. With stride 1,
    conv2d(x, w, padding p) = conv_transpose2d(x, _flip(w), padding K-1-p), and vice versa."""
    return xp.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))


def _correlate_adjoint(backend, gy, w, image_size, stride, padding):
    """gx = col2im(gcol), gcol[c, i, j, n, oh, ow] = sum over o of w[o, c, i, j] gy[n, o, oh, ow]

    With stride 1 the same gx is a full correlation of gy with the flipped kernel:
    gx = correlate(im2col(gy, padding k - 1 - p), w[:, :, ::-1, ::-1] with o and c swapped),
    whose col has OC*KH*KW * N*H*W entries instead of C*KH*KW * N*OH*OW; the smaller one is
    built (for the DCGAN's last 3x3 conv, 27 rows instead of 576).
    """
    oc, c, kh, kw = w.shape
    flip_padding = (kh - 1 - padding[0], kw - 1 - padding[1])
    flip_is_smaller = oc * image_size[0] * image_size[1] < c * gy.shape[2] * gy.shape[3]
    if tuple(stride) == (1, 1) and flip_is_smaller and min(flip_padding) >= 0:
        col = backend.im2col(gy, (kh, kw), (1, 1), flip_padding)  # (OC, KH, KW, N, H, W)
        return _correlate(col, _flip(backend.xp, w))
    gcol = w.reshape(oc, -1).T @ _rows(gy)  # (C*KH*KW, N*OH*OW)
    gcol = gcol.reshape(c, kh, kw, gy.shape[0], *gy.shape[2:])  # (C, KH, KW, N, OH, OW)
    return backend.col2im(gcol, image_size, stride, padding)


def _kernel_grad(gy, col):
    """gw[o, c, i, j] = sum over n, oh, ow of gy[n, o, oh, ow] * col[c, i, j, n, oh, ow]"""
    c, kh, kw = col.shape[:3]
    gw = _rows(gy) @ col.reshape(c * kh * kw, -1).T  # (OC, C*KH*KW)
    return gw.reshape(gy.shape[1], c, kh, kw)


def _transposed_backward(backend, gy, x, w, stride, padding, needs):
    """Gradients (gx, gw) of y = conv_transpose2d(x, w), each only if ``needs`` says so (else
    None): gx is conv2d(gy, w), and gw the conv2d weight gradient with x and gy in swapped
    roles; both read one col = im2col(gy)."""
    col = backend.im2col(gy, w.shape[2:], stride, padding)  # (C_out, KH, KW, N, H, W)
    return (_correlate(col, w) if needs[0] else None), (_kernel_grad(x, col) if needs[1] else None)


def _winograd_input_grad(backend, gm, u, image_size):
    """gx of the Winograd conv y = output(u @ v(x)), from gm = output_adjoint(gy)."""
    return backend.winograd_input_adjoint(
        backend.winograd_products(u.transpose(0, 2, 1), gm), image_size)  # (N, C, H, W)


def _winograd_kernel_grad(backend, gm, v, in_channels):
    """gw of the Winograd conv y = output(u(w) @ v), from gm = output_adjoint(gy)."""
    return backend.winograd_filter_adjoint(
        backend.winograd_products(gm, v.transpose(0, 2, 1)), in_channels)  # (OC, C, 4, 4)


class Conv2d(Function):
    """y = cross-correlation of x (N, C, H, W) with w (OC, C, KH, KW): (N, OC, OH, OW).

    With stride 1 and fewer output than input channels (the generator's last 3x3 conv: 64 -> 3)
    it runs as conv_transpose2d(x, _flip(w), K-1-p), whose cols have OC rather than C rows.
    Stride-2 4x4 convs with padding 1, sides that are multiples of 8 and at least
    winograd.MIN_CHANNELS input channels run as Winograd F(4, 2).
    """
    def forward(self, x, w, stride=1, padding=0):
        self.stride, self.padding = _check_conv_args("conv2d", x, w, stride, padding)
        if x.shape[1] != w.shape[1]:
            raise ValueError(f"conv2d: the weight {w.shape} has in_channels={w.shape[1]}, but the "
                             f"input {x.shape} has {x.shape[1]} channels")
        (h, wd), (kh, kw) = x.shape[2:], w.shape[2:]
        (sh, sw), (ph, pw) = self.stride, self.padding
        out_size = ((h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1)
        _check_output_size("conv2d", x, w, out_size)
        self.w, self.image_size = w, (h, wd)
        self.winograd = winograd.applies(self.image_size, (kh, kw), self.stride, self.padding,
                                         x.shape[1])
        if self.winograd:
            self.v, self.u = self.backend.winograd_input(x), self.backend.winograd_filter(w)
            m = self.backend.winograd_products(self.u, self.v)  # (25, OC, T)
            return self.backend.winograd_output(m, x.shape[0], out_size)
        self.flip_padding = (kh - 1 - ph, kw - 1 - pw)
        self.transposed = (self.stride == (1, 1) and min(self.flip_padding) >= 0
                           and w.shape[0] * h * wd < x.shape[1] * out_size[0] * out_size[1])
        if self.transposed:
            self.x, self.w_t = x, _flip(self.xp, w)  # (C, OC, KH, KW)
            return _correlate_adjoint(self.backend, x, self.w_t, out_size, (1, 1),
                                      self.flip_padding)
        self.col = self.backend.im2col(x, (kh, kw), self.stride, self.padding)
        return _correlate(self.col, w)

    def backward(self, gy):
        needs_gx, needs_gw = self.needs_input_grad
        if self.winograd:
            gm = self.backend.winograd_output_adjoint(gy)  # (25, OC, T)
            return ((_winograd_input_grad(self.backend, gm, self.u, self.image_size)
                     if needs_gx else None),
                    (_winograd_kernel_grad(self.backend, gm, self.v, self.w.shape[1])
                     if needs_gw else None))
        if self.transposed:
            gx, gw_t = _transposed_backward(self.backend, gy, self.x, self.w_t, (1, 1),
                                            self.flip_padding, self.needs_input_grad)
            return gx, (_flip(self.xp, gw_t) if needs_gw else None)
        gx = _correlate_adjoint(self.backend, gy, self.w, self.image_size,
                                self.stride, self.padding) if needs_gx else None
        return gx, (_kernel_grad(gy, self.col) if needs_gw else None)


def conv2d(input, weight, bias=None, stride=1, padding=0):
    """2-D cross-correlation, plus ``bias`` (OC,) per output channel when given."""
    y = Conv2d.apply(input, weight, stride=stride, padding=padding)
    return y if bias is None else y + reshape(bias, (1, -1, 1, 1))


class ConvTranspose2d(Function):
    """y = conv2d's input gradient applied to x (N, C_in, H, W) with w (C_in, C_out, KH, KW).

    Output size (H - 1) * stride - 2 * padding + KH + output_padding. Its input gradient is
    conv2d's forward, and its weight gradient conv2d's weight gradient with the roles swapped;
    where that conv2d runs as Winograd F(4, 2), so do all three.
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
        self.x, self.w = x, w
        self.winograd = winograd.applies(out_size, w.shape[2:], self.stride, self.padding,
                                         w.shape[1])
        if self.winograd:  # y is conv2d's input gradient for "gy" = x
            self.gm = self.backend.winograd_output_adjoint(x)  # (25, C_in, T)
            self.u = self.backend.winograd_filter(w)  # (25, C_in, 4 C_out)
            return _winograd_input_grad(self.backend, self.gm, self.u, out_size)
        return _correlate_adjoint(self.backend, x, w, out_size, self.stride, self.padding)

    def backward(self, gy):
        needs_gx, needs_gw = self.needs_input_grad
        if self.winograd:  # gx = conv2d(gy, w); gw as conv2d's, whose "gy" was x
            v = self.backend.winograd_input(gy)  # (25, 4 C_out, T)
            gx = (self.backend.winograd_output(self.backend.winograd_products(self.u, v),
                                                gy.shape[0], self.x.shape[2:])
                  if needs_gx else None)
            return gx, (_winograd_kernel_grad(self.backend, self.gm, v, self.w.shape[1])
                        if needs_gw else None)
        return _transposed_backward(self.backend, gy, self.x, self.w, self.stride, self.padding,
                                    self.needs_input_grad)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """2-D transposed convolution, plus ``bias`` (C_out,) per output channel when given."""
    y = ConvTranspose2d.apply(input, weight, stride=stride, padding=padding,
                              output_padding=output_padding)
    return y if bias is None else y + reshape(bias, (1, -1, 1, 1))


# --- normalisation --------------------------------------------------------------------------

class BatchNorm(Function):
    """y = act(gamma * (x - mean) / sqrt(var + eps) + beta), statistics per channel (axis 1).

    act(z) = z if z > 0 else negative_slope * z: 1 (the default) is no activation, 0 ReLU,
    0.2 LeakyReLU; fusing it saves whole passes over memory. Training: batch statistics over
    every axis but 1, and the running statistics (if given) move toward them by ``momentum``
    (the variance unbiased, as in PyTorch). Eval: the running statistics. With gz the gradient
    at z, xhat the normalised input and m values per channel, the training-mode input gradient
    is gamma / std * (gz - mean(gz) - xhat * mean(gz * xhat)); the two sums are exactly the
    beta and gamma gradients. The passes over x are backend primitives (bn_statistics, bn_act_*).
    """
    def forward(self, x, gamma, beta, running_mean=None, running_var=None, training=True,
                momentum=0.1, eps=1e-5, negative_slope=1.0):
        channels = x.shape[1] if x.ndim >= 2 else None
        if channels is None or gamma.shape != (channels,) or beta.shape != (channels,):
            raise ValueError(f"batch_norm: expected input (N, C, ...) and weight and bias of shape "
                             f"(C,), got input {x.shape}, weight {gamma.shape}, bias {beta.shape}")
        self.m = x.size // channels
        if training:
            if self.m == 1:
                raise ValueError(f"batch_norm: training needs more than one value per channel, "
                                 f"got input shape {x.shape}")
            mean, var = self.backend.bn_statistics(x)
            if running_mean is not None:
                running_mean += momentum * (mean - running_mean)
                running_var += momentum * (var * self.m / (self.m - 1) - running_var)
        elif running_mean is None or running_var is None:
            raise ValueError("batch_norm: eval mode (training=False) "
                             "needs running_mean and running_var")
        else:
            mean, var = running_mean, running_var
        self.training, self.slope = training, negative_slope
        self.saved = x, mean, 1 / self.xp.sqrt(var + eps), gamma, beta
        return self.backend.bn_act_forward(*self.saved, negative_slope)

    def backward(self, gy):
        args = (*self.saved, self.slope, gy)  # the forward's arguments, then gy
        gbeta, ggamma = self.backend.bn_act_backward_sums(*args)
        sums = (gbeta, ggamma) if self.training else (self.xp.zeros_like(gbeta),) * 2
        gx = self.backend.bn_act_backward_input(*args, *sums, self.m)
        return gx, ggamma, gbeta


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, negative_slope=1.0):
    """Batch normalisation over axis 1, then leaky_relu(negative_slope) unless it is 1 (0: ReLU).

    Running stats (Tensors or None) are updated in place in training mode.
    """
    xp, channels = input.backend.xp, (input.shape[1],) if input.ndim >= 2 else (1,)
    weight = Tensor(xp.ones(channels, dtype=input.dtype)) if weight is None else weight
    bias = Tensor(xp.zeros(channels, dtype=input.dtype)) if bias is None else bias
    stats = [None if s is None else s.data for s in (running_mean, running_var)]
    return BatchNorm.apply(input, weight, bias, running_mean=stats[0], running_var=stats[1],
                           training=training, momentum=momentum, eps=eps,
                           negative_slope=negative_slope)


# --- instance and layer normalisation -------------------------------------------------------

class Normalize(Function):
    """y = gamma[c] * xhat + beta[c], xhat = (x - mean) / sqrt(var + eps), x (N, C, H, W).

    mean and the biased var are taken over ``axes``, one per index of the other axes: (2, 3)
    is instance norm, (1, 2, 3) layer norm; gamma and beta are (C,). With g = gy * gamma and
    means over the same axes, gx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps);
    ggamma = sum(gy * xhat) and gbeta = sum(gy) over every axis but 1.
    """
    def forward(self, x, gamma, beta, axes=(2, 3), eps=1e-5, name="normalize"):
        if x.ndim != 4:
            raise ValueError(f"{name}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
        channels = (x.shape[1],)
        if gamma.shape != channels or beta.shape != channels:
            raise ValueError(f"{name}: expected weight and bias of shape (C,) = {channels} for "
                             f"input {x.shape}, got weight {gamma.shape} and bias {beta.shape}")
        if all(x.shape[a] == 1 for a in axes):
            group = "sample" if 1 in axes else "channel"
            raise ValueError(f"{name}: needs more than one value per {group} to normalise, "
                             f"got input shape {x.shape}")
        self.axes = axes
        centred = x - x.mean(axis=axes, keepdims=True)  # (N, C, H, W)
        var = (centred * centred).mean(axis=axes, keepdims=True)  # size 1 along axes
        self.inv_std = 1 / self.xp.sqrt(var + eps)
        self.xhat, self.gamma = centred * self.inv_std, gamma.reshape(-1, 1, 1)  # gamma (C, 1, 1)
        return self.gamma * self.xhat + beta.reshape(-1, 1, 1)

    def backward(self, gy):
        g, xhat, axes = gy * self.gamma, self.xhat, self.axes  # (N, C, H, W)
        gx = self.inv_std * (g - g.mean(axis=axes, keepdims=True)
                             - xhat * (g * xhat).mean(axis=axes, keepdims=True))
        return gx, (gy * xhat).sum(axis=(0, 2, 3)), gy.sum(axis=(0, 2, 3))


def _normalize(name, axes, input, weight, bias, eps):
    """Normalize over ``axes`` with weight and bias (C,); None gives ones and zeros, no grad."""
    xp, channels = input.backend.xp, input.shape[1:2]
    weight = Tensor(xp.ones(channels, dtype=input.dtype)) if weight is None else weight
    bias = Tensor(xp.zeros(channels, dtype=input.dtype)) if bias is None else bias
    return Normalize.apply(input, weight, bias, axes=axes, eps=eps, name=name)


def instance_norm(input, weight=None, bias=None, eps=1e-5):
    """Each (sample, channel) of (N, C, H, W) normalised over H, W, then weight[c] * . + bias[c];
    torch.nn.functional.instance_norm without running statistics."""
    return _normalize("instance_norm", (2, 3), input, weight, bias, eps)


def layer_norm(input, weight=None, bias=None, eps=1e-5):
    """Each sample of (N, C, H, W) normalised over C, H, W, then weight[c] * . + bias[c].

    The affine is per channel, (C,); torch.nn.functional.layer_norm(input, (C, H, W), ...)
    takes an elementwise one of shape (C, H, W), which is this one broadcast over H, W.
    """
    return _normalize("layer_norm", (1, 2, 3), input, weight, bias, eps)
