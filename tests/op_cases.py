"""The table of every differentiable op: how to draw its inputs, call it, and call PyTorch's twin.

Each row draws float64 input arrays and settings with hypothesis, and names the tinygan call
and the PyTorch call with the same arguments. test_gradcheck.py checks every row against finite
differences, test_torch_parity.py against PyTorch, and test_every_op_has_a_row makes a new op
without a row fail the suite.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import assume, strategies as st

from tinygan import ops, tensor
from tinygan.backend.winograd import MIN_CHANNELS

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the PyTorch oracle is optional; its tests skip without it
    torch = F = None

# Largest relative error seen per (row, oracle), printed at the end of the pytest run.
MAX_ERRORS = {}


def record_error(row_name, oracle, error):
    key = (row_name, oracle)
    MAX_ERRORS[key] = max(MAX_ERRORS.get(key, 0.0), float(error))


# A directional derivative smaller than the rounding noise of its central difference cannot be
# checked numerically; the noise is about 10 * machine_eps * (sum|f| + sum|grad * x|) / h, sum|f|
# the sum of the absolute values of the terms that f adds up (not |f|, which may cancel).
FD_NOISE = 10
FD_EPS = 1e-5  # small against batch norm's smallest std (sqrt(1e-5)), large against rounding
FD_TOLERANCE = 1e-6


def directional_error(f, arrays, grads, directions):
    """Relative error of the analytic directional derivative sum <grad_i, d_i> of a scalar sum
    against the numerical one. f(arrays) returns (the sum, the sum of its terms' absolute
    values). The numerical derivative is the central difference D(h) = (f(x + h d) -
    f(x - h d)) / 2h, Richardson-extrapolated to (4 D(h / 2) - D(h)) / 3 (error O(h^4)). The
    denominator never drops below the difference's rounding noise over the tolerance."""
    def central(h):
        plus = f([a + h * d for a, d in zip(arrays, directions)])[0]
        minus = f([a - h * d for a, d in zip(arrays, directions)])[0]
        return (plus - minus) / (2 * h)

    numeric = (4 * central(FD_EPS / 2) - central(FD_EPS)) / 3
    analytic = float(np.sum([np.sum(g * d) for g, d in zip(grads, directions)]))
    size = float(np.sum([np.sum(np.abs(g * a)) for g, a in zip(grads, arrays)]))
    noise = FD_NOISE * np.finfo(np.float64).eps * (f(arrays)[1] + size) / FD_EPS
    return abs(analytic - numeric) / max(abs(analytic), abs(numeric), noise / FD_TOLERANCE,
                                         1e-300)


@dataclass
class Row:
    name: str
    function: type            # the Function subclass this row covers
    draw: Callable            # (hypothesis data) -> (list of float64 arrays, settings dict)
    ours: Callable            # (*tinygan Tensors, **settings) -> Tensor
    theirs: Callable          # (*torch tensors, **settings) -> torch tensor
    adjoints: tuple = ()      # private Functions its backward applies


def values(data, shape, away_from_zero=False, low=None, high=None):
    """A float64 array of ``shape`` drawn from a hypothesis-chosen seed and scale."""
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    if low is not None:
        return rng.uniform(low, high, size=shape)
    scale = data.draw(st.sampled_from([0.1, 1.0, 3.0]), label="scale")
    x = rng.standard_normal(shape) * scale
    if away_from_zero:  # keep kinks (relu at 0) farther than the finite-difference step
        x = np.sign(x) * (np.abs(x) + 0.05)
    return x


def draw_shape(data, min_rank=1, max_rank=4):
    rank = data.draw(st.integers(min_rank, max_rank), label="rank")
    return tuple(data.draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank),
                           label="shape"))


def draw_unary(away_from_zero=False):
    def draw(data):
        return [values(data, draw_shape(data), away_from_zero)], {}
    return draw


def draw_broadcast_pair(data):
    """Two shapes that broadcast: one drops leading axes and sets some sizes to 1."""
    shape = draw_shape(data)
    lead = data.draw(st.integers(0, len(shape) - 1), label="dropped leading axes")
    other = tuple(1 if data.draw(st.booleans(), label="stretch") else n for n in shape[lead:])
    a, b = values(data, shape), values(data, other)
    if data.draw(st.booleans(), label="swap"):
        a, b = b, a
    return [a, b], {}


def draw_sum_to(data, broadcast):
    """A shape and one that broadcasts to it: sum_to goes from the first to the second,
    broadcast_to the other way."""
    (big, small), _ = draw_broadcast_pair(data)
    if big.ndim < small.ndim or (big.ndim == small.ndim and big.size < small.size):
        big, small = small, big
    return ([small], {"shape": big.shape}) if broadcast else ([big], {"shape": small.shape})


def draw_pow(data):
    exponent = data.draw(st.sampled_from([2, 3, -1, 0.5, -0.5, 1.5]), label="exponent")
    return [np.abs(values(data, draw_shape(data))) + 0.5], {"exponent": exponent}


def draw_clamp(data):
    """Values a multiple of 0.1 plus 0.03 apart from the bounds, which are multiples of 0.5,
    so no finite-difference step crosses a bound."""
    x = np.round(values(data, draw_shape(data)), 1) + 0.03
    bounds = st.sampled_from([None, -0.5, 0.0, 0.5])
    low, high = data.draw(bounds, label="min"), data.draw(bounds, label="max")
    if low is None and high is None:
        high = 0.5
    elif low is not None and high is not None and low > high:
        low, high = high, low
    return [x], {"min": low, "max": high}


def draw_transpose(data):
    shape = draw_shape(data)
    return [values(data, shape)], {"axes": tuple(data.draw(st.permutations(range(len(shape)))))}


def draw_matmul(data):
    n, k, m = (data.draw(st.integers(1, 5), label=label) for label in "NKM")
    return [values(data, (n, k)), values(data, (k, m))], {}


def draw_softmax(data):
    shape = draw_shape(data)
    return [values(data, shape)], {"axis": data.draw(st.integers(-len(shape), len(shape) - 1))}


def draw_division(data):
    """A broadcasting pair whose divisor stays at least 0.5 away from zero."""
    (a, b), settings = draw_broadcast_pair(data)
    return [a, np.abs(b) + 0.5], settings


def draw_reduction(data):
    shape = draw_shape(data)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)), label="axis")
    return [values(data, shape)], {"axis": axis, "keepdims": data.draw(st.booleans())}


def draw_reshape(data):
    shape = draw_shape(data)
    size = int(np.prod(shape))
    first = data.draw(st.sampled_from([d for d in range(1, size + 1) if size % d == 0]))
    return [values(data, shape)], {"shape": (first, -1)}


def draw_bce(data, logits):
    shape = draw_shape(data)
    x = values(data, shape) if logits else values(data, shape, low=0.05, high=0.95)
    target = values(data, shape, low=0.0, high=1.0)
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]), label="reduction")
    return [x, target], {"reduction": reduction}


def draw_conv(data, transposed):
    """Batch 1..4, kernel 1..5, stride 1..3, padding 0..2, odd and even sizes, valid output."""
    n = data.draw(st.integers(1, 4), label="batch")
    c_in, c_out = (data.draw(st.integers(1, 3), label="C_in"),
                   data.draw(st.integers(1, 3), label="C_out"))
    kh, kw = data.draw(st.integers(1, 5), label="KH"), data.draw(st.integers(1, 5), label="KW")
    stride = data.draw(st.integers(1, 3), label="stride")
    padding = data.draw(st.integers(0, 2), label="padding")
    settings = {"stride": stride, "padding": padding}
    if transposed:
        settings["output_padding"] = data.draw(st.integers(0, stride - 1), label="output_padding")
        # (H - 1) * stride - 2 * padding + K + output_padding >= 1, for the smaller kernel side
        shortfall = 2 * padding - min(kh, kw) - settings["output_padding"] + 1
        min_size = max(1, -(-shortfall // stride) + 1)
        h, w = (data.draw(st.integers(min_size, min_size + 5), label="H/W") for _ in range(2))
        weight_shape = (c_in, c_out, kh, kw)
    else:
        h = data.draw(st.integers(max(1, kh - 2 * padding), kh - 2 * padding + 8), label="H")
        w = data.draw(st.integers(max(1, kw - 2 * padding), kw - 2 * padding + 8), label="W")
        weight_shape = (c_out, c_in, kh, kw)
    return [values(data, (n, c_in, h, w)), values(data, weight_shape)], settings


def draw_winograd_conv(data, transposed):
    """Kernel 4, stride 2, padding 1 on conv sides that are multiples of 8, and enough channels
    into the conv (C_in, or a transposed conv's C_out): the Winograd route."""
    n = data.draw(st.integers(1, 3), label="batch")
    few, enough = st.integers(1, 3), st.integers(MIN_CHANNELS, MIN_CHANNELS + 2)
    c_in, c_out = (data.draw(few if transposed else enough, label="C_in"),
                   data.draw(enough if transposed else few, label="C_out"))
    tiles_h, tiles_w = (data.draw(st.integers(1, 3), label="output tiles") for _ in range(2))
    if transposed:  # its output, twice the input's size, is the input of the conv2d it mirrors
        x_shape, w_shape = (n, c_in, 4 * tiles_h, 4 * tiles_w), (c_in, c_out, 4, 4)
    else:
        x_shape, w_shape = (n, c_in, 8 * tiles_h, 8 * tiles_w), (c_out, c_in, 4, 4)
    return [values(data, x_shape), values(data, w_shape)], {"stride": 2, "padding": 1}


def draw_linear(data):
    n, fan_in, fan_out = (data.draw(st.integers(1, 5), label=label) for label in "N in out".split())
    shapes = ((n, fan_in), (fan_out, fan_in), (fan_out,))  # x, weight, bias
    return [values(data, shape) for shape in shapes], {}


def draw_spectral_normalize(data):
    """A weight (rows, cols) or (rows, C, K, K) and unit vectors u (rows,), v (cols,)."""
    rows, channels = data.draw(st.integers(1, 5), label="rows"), data.draw(st.integers(1, 3))
    shape = data.draw(st.sampled_from([(rows, channels), (rows, channels, 2, 2)]), label="shape")
    cols = int(np.prod(shape[1:]))
    assume(rows * cols > 1)  # a 1x1 weight divided by its own norm is constant: no gradient
    u, v = (values(data, (n,), away_from_zero=True) for n in (rows, cols))
    w = values(data, shape)
    assume(abs(u @ w.reshape(rows, -1) @ v) > 0.1 * np.linalg.norm(u) * np.linalg.norm(v))
    return [w], {"u": u / np.linalg.norm(u), "v": v / np.linalg.norm(v)}


def _torch_spectral_normalize(w, u, v):
    """torch.nn.utils.parametrizations.spectral_norm's weight in eval mode: w / vdot(u, W_mat v)."""
    u, v = torch.from_numpy(u), torch.from_numpy(v)
    return w / torch.vdot(u, torch.mv(w.reshape(len(u), -1), v))


def draw_cross_entropy(data):
    n, k = data.draw(st.integers(1, 5), label="N"), data.draw(st.integers(1, 6), label="K")
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]), label="reduction")
    return [values(data, (n, k))], {"target": labels, "reduction": reduction}


def draw_pool(distinct):
    """(N, C, H, W) with a kernel that fits; for max pooling, a shuffle of values 0.01 apart,
    so no finite-difference step can change which entry is a window's maximum."""
    def draw(data):
        shape = (tuple(data.draw(st.integers(1, 3), label="N/C") for _ in range(2))
                 + tuple(data.draw(st.integers(1, 7), label="H/W") for _ in range(2)))
        kernel = tuple(data.draw(st.integers(1, size), label="kernel") for size in shape[2:])
        if not distinct:
            return [values(data, shape)], {"kernel_size": kernel}
        seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
        order = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape)
        return [(order - order.size / 2) * 0.01], {"kernel_size": kernel}
    return draw


def draw_batch_norm(training):
    def draw(data):
        rank = data.draw(st.sampled_from([2, 4]), label="rank")
        # At least 3 values per channel: with 2, the output is +-gamma + beta whatever x is
        # (x enters only through eps), a derivative too small for finite differences.
        n = data.draw(st.integers(3 if rank == 2 else 1, 4), label="batch")
        shape = (n, data.draw(st.integers(1, 4), label="C")) + tuple(
            data.draw(st.integers(2, 4), label="spatial") for _ in range(rank - 2))
        c = shape[1]
        arrays = [values(data, shape), values(data, (c,)), values(data, (c,))]
        slope = data.draw(st.sampled_from([1.0, 0.0, 0.2]), label="negative_slope")
        settings = {"training": training, "eps": 1e-5, "momentum": 0.1, "negative_slope": slope}
        if not training:
            settings["running_mean"] = values(data, (c,))
            settings["running_var"] = values(data, (c,), low=0.5, high=2.0)
        if slope != 1.0:  # keep the activation's kink farther than the finite-difference step
            assume(np.abs(_our_batch_norm(*map(tensor, arrays),
                                          **settings | {"negative_slope": 1.0})
                          .array).min() > 1e-3)
        return arrays, settings
    return draw


def _our_batch_norm(x, w, b, running_mean=None, running_var=None, **settings):
    stats = [None if s is None else tensor(s) for s in (running_mean, running_var)]
    return ops.batch_norm(x, stats[0], stats[1], w, b, **settings)


def _torch_batch_norm(x, w, b, running_mean=None, running_var=None, negative_slope=1.0, **settings):
    stats = [None if s is None else torch.from_numpy(s.copy()) for s in (running_mean, running_var)]
    y = F.batch_norm(x, stats[0], stats[1], w, b, **settings)
    return y if negative_slope == 1.0 else F.leaky_relu(y, negative_slope)


def draw_normalize(axes):
    """(N, C, H, W) with at least 3 values per group normalised over ``axes`` (with 2, as in
    batch norm, the output is +-gamma + beta whatever x is), with or without weight and bias."""
    def draw(data):
        n, c, h = (data.draw(st.integers(1, 4), label=label) for label in ("N", "C", "H"))
        group = h * (c if 1 in axes else 1)  # values per group before W
        w = data.draw(st.integers(max(1, -(-3 // group)), 4), label="W")
        affine = data.draw(st.booleans(), label="affine")
        arrays = [values(data, (n, c, h, w))] + [values(data, (c,)) for _ in range(2 * affine)]
        return arrays, {"eps": data.draw(st.sampled_from([1e-5, 1e-3]), label="eps")}
    return draw


def _torch_layer_norm(x, w=None, b=None, eps=1e-5):
    """F.layer_norm with the per-channel affine (C,) broadcast to its elementwise (C, H, W)."""
    affine = [None if a is None else a[:, None, None].expand(x.shape[1:]) for a in (w, b)]
    return F.layer_norm(x, x.shape[1:], *affine, eps=eps)


def _draw_parts(data, sizes, advanced, array_shape, state, negative_steps):
    """Parts of a key indexing dims of ``sizes`` in turn (see draw_key)."""
    parts, i = [], 0
    kinds = ["int", "slice"] + {"arrays": ["array"], "mask": ["mask"], "none": []}[advanced]
    while i < len(sizes):
        if data.draw(st.integers(0, 4), label="None here") == 0:
            parts.append(None)
        n, kind = sizes[i], data.draw(st.sampled_from(kinds), label="kind")
        if kind == "mask" and state["mask"]:
            state["mask"] = False
            width = data.draw(st.integers(1, len(sizes) - i), label="mask dims")
            count = int(np.prod(sizes[i:i + width]))
            bits = data.draw(st.lists(st.booleans(), min_size=count, max_size=count))
            parts.append(np.array(bits, dtype=bool).reshape(sizes[i:i + width]))
            i += width
            continue
        if kind == "array":
            count = int(np.prod(array_shape))
            entries = data.draw(st.lists(st.integers(-n, n - 1), min_size=count, max_size=count))
            parts.append(np.array(entries, dtype=np.int64).reshape(array_shape))
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-n - 1, n + 1))
            steps = st.integers(-3, 3).filter(bool) if negative_steps else st.integers(1, 3)
            parts.append(slice(data.draw(bound, label="start"), data.draw(bound, label="stop"),
                               data.draw(st.one_of(st.none(), steps), label="step")))
        else:
            parts.append(data.draw(st.integers(-n, n - 1), label="int"))
        i += 1
    return parts


def draw_key(data, shape, advanced=None, negative_steps=False):
    """A random index expression for a tensor of ``shape``: ints, slices with steps, None and
    an Ellipsis, with integer arrays (repeats and negatives; one shared shape, so that they
    broadcast) or one boolean mask (``advanced``: "arrays", "mask", "none", None to draw);
    negative steps only if asked (PyTorch has none)."""
    ndim = len(shape)
    if advanced is None:
        advanced = data.draw(st.sampled_from(["none", "arrays", "mask"]), label="advanced")
    array_shape = tuple(data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=2)))
    state = {"mask": True}
    ellipsis = data.draw(st.booleans(), label="ellipsis")
    lead = data.draw(st.integers(0 if ellipsis else 1, ndim), label="leading dims")
    trail = data.draw(st.integers(0, ndim - lead), label="trailing dims") if ellipsis else 0
    parts = _draw_parts(data, shape[:lead], advanced, array_shape, state, negative_steps)
    if ellipsis:
        parts += [Ellipsis] + _draw_parts(data, shape[ndim - trail:], advanced, array_shape,
                                          state, negative_steps)
    return tuple(parts)


def torch_key(key):
    """A key of draw_key for PyTorch: its arrays as tensors."""
    return tuple(torch.from_numpy(p) if isinstance(p, np.ndarray) else p for p in key)


def draw_index(advanced=None):
    """An array and a key of draw_key selecting at least one element: PyTorch's own double
    backward of an empty selection can fail on a shape mismatch (seen for a (1, 0) result)."""
    def draw(data):
        shape = draw_shape(data)
        key = draw_key(data, shape, advanced)
        assume(np.empty(shape)[key].size > 0)
        return [values(data, shape)], {"key": key}
    return draw


def draw_join(data, stacked):
    """1 to 3 arrays that cat (or stack) along a drawn dim, negative ones included."""
    shape = draw_shape(data, max_rank=3)
    ndim = len(shape) + stacked
    dim = data.draw(st.integers(-ndim, ndim - 1), label="dim")
    count = data.draw(st.integers(1, 3), label="tensors")
    if stacked:
        return [values(data, shape) for _ in range(count)], {"dim": dim}
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=count, max_size=count), label="sizes")
    return [values(data, shape[:dim % ndim] + (n,) + shape[dim % ndim + 1:])
            for n in sizes], {"dim": dim}


def draw_split(chunked):
    """An array, a dim, a split size, sections adding up or a chunk count, and which piece."""
    def draw(data):
        shape = draw_shape(data)
        dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
        n = shape[dim]
        if chunked:
            settings = {"chunks": data.draw(st.integers(1, 5), label="chunks")}
            pieces = -(-n // -(-n // settings["chunks"]))
        elif data.draw(st.booleans(), label="sections"):
            cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3), label="cuts"))
            sections = [int(v) for v in np.diff([0] + cuts + [n])]
            settings, pieces = {"split_size_or_sections": sections}, len(sections)
        else:
            size = data.draw(st.integers(1, 5), label="split size")
            settings, pieces = {"split_size_or_sections": size}, -(-n // size)
        which = data.draw(st.integers(0, pieces - 1), label="piece")
        return [values(data, shape)], settings | {"dim": dim, "which": which}
    return draw


def draw_gather(data):
    """An input, a dim, and an int64 index (repeats) no larger than the input outside dim."""
    shape = draw_shape(data)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    axis = dim % len(shape)
    index_shape = tuple(data.draw(st.integers(0, 4) if d == axis else st.integers(1, n),
                                  label="index size") for d, n in enumerate(shape))
    seed = data.draw(st.integers(0, 2**32 - 1), label="index seed")
    index = np.random.default_rng(seed).integers(0, shape[dim], size=index_shape)
    return [values(data, shape)], {"dim": dim, "index": index}


ROWS = [
    Row("add", ops.Add, draw_broadcast_pair, ops.add, lambda a, b: torch.add(a, b)),
    Row("sub", ops.Sub, draw_broadcast_pair, ops.sub, lambda a, b: torch.sub(a, b)),
    Row("mul", ops.Mul, draw_broadcast_pair, ops.mul, lambda a, b: torch.mul(a, b)),
    Row("div", ops.Div, draw_division, ops.div, lambda a, b: torch.div(a, b)),
    Row("neg", ops.Neg, draw_unary(), ops.neg, lambda x: torch.neg(x)),
    Row("sum_to", ops.SumTo, lambda d: draw_sum_to(d, broadcast=False), ops.sum_to,
        lambda x, shape: x.sum_to_size(shape)),
    Row("broadcast_to", ops.BroadcastTo, lambda d: draw_sum_to(d, broadcast=True),
        ops.broadcast_to, lambda x, shape: torch.broadcast_to(x, shape)),
    Row("pow", ops.Pow, draw_pow, ops.pow, lambda x, exponent: torch.pow(x, exponent)),
    Row("exp", ops.Exp, draw_unary(), ops.exp, lambda x: torch.exp(x)),
    Row("log", ops.Log, lambda d: ([values(d, draw_shape(d), low=0.1, high=3.0)], {}), ops.log,
        lambda x: torch.log(x)),
    Row("clamp", ops.Clamp, draw_clamp, ops.clamp,
        lambda x, min, max: torch.clamp(x, min, max)),
    Row("transpose", ops.Transpose, draw_transpose, ops.transpose,
        lambda x, axes: x.permute(axes)),
    Row("matmul", ops.MatMul, draw_matmul, ops.matmul, lambda a, b: torch.matmul(a, b)),
    Row("softmax", ops.Softmax, draw_softmax, ops.softmax,
        lambda x, axis: torch.softmax(x, dim=axis)),
    Row("sum", ops.Sum, draw_reduction, ops.sum,
        lambda x, axis, keepdims: torch.sum(x, dim=axis, keepdim=keepdims)),
    Row("mean", ops.Mean, draw_reduction, ops.mean,
        lambda x, axis, keepdims: torch.mean(x, dim=axis, keepdim=keepdims)),
    Row("reshape", ops.Reshape, draw_reshape, ops.reshape,
        lambda x, shape: torch.reshape(x, shape)),
    Row("convert (Tensor.to, a copy)", ops.Convert, draw_unary(),
        lambda x: ops.convert(x, dtype=x.dtype, device=x.device, copy=True),
        lambda x: x.to(x.device, x.dtype, copy=True)),
    Row("relu", ops.ReLU, draw_unary(away_from_zero=True), ops.relu, lambda x: F.relu(x),
        adjoints=(ops.activation._LeakyReLUJacobian,)),
    Row("leaky_relu", ops.LeakyReLU,
        lambda d: (draw_unary(True)(d)[0],
                   {"negative_slope": d.draw(st.sampled_from([0.01, 0.2]))}),
        ops.leaky_relu, lambda x, negative_slope: F.leaky_relu(x, negative_slope),
        adjoints=(ops.activation._LeakyReLUJacobian,)),
    Row("tanh", ops.Tanh, draw_unary(), ops.tanh, lambda x: torch.tanh(x)),
    Row("sigmoid", ops.Sigmoid, draw_unary(), ops.sigmoid, lambda x: torch.sigmoid(x)),
    Row("binary_cross_entropy", ops.BinaryCrossEntropy, lambda d: draw_bce(d, logits=False),
        ops.binary_cross_entropy,
        lambda p, t, reduction: F.binary_cross_entropy(p, t, reduction=reduction)),
    Row("binary_cross_entropy_with_logits", ops.BinaryCrossEntropyWithLogits,
        lambda d: draw_bce(d, logits=True), ops.binary_cross_entropy_with_logits,
        lambda x, t, reduction: F.binary_cross_entropy_with_logits(x, t, reduction=reduction)),
    Row("conv2d", ops.Conv2d, lambda d: draw_conv(d, transposed=False),
        lambda x, w, **s: ops.conv2d(x, w, **s), lambda x, w, **s: F.conv2d(x, w, **s),
        adjoints=(ops.conv._Conv2dWeightGrad,)),
    Row("conv_transpose2d", ops.ConvTranspose2d, lambda d: draw_conv(d, transposed=True),
        lambda x, w, **s: ops.conv_transpose2d(x, w, **s),
        lambda x, w, **s: F.conv_transpose2d(x, w, **s), adjoints=(ops.conv._Conv2dWeightGrad,)),
    Row("conv2d, Winograd route", ops.Conv2d, lambda d: draw_winograd_conv(d, transposed=False),
        lambda x, w, **s: ops.conv2d(x, w, **s), lambda x, w, **s: F.conv2d(x, w, **s)),
    Row("conv_transpose2d, Winograd route", ops.ConvTranspose2d,
        lambda d: draw_winograd_conv(d, transposed=True),
        lambda x, w, **s: ops.conv_transpose2d(x, w, **s),
        lambda x, w, **s: F.conv_transpose2d(x, w, **s)),
    Row("linear", ops.MatMul, draw_linear, ops.linear, lambda x, w, b: F.linear(x, w, b)),
    Row("cross_entropy", ops.CrossEntropy, draw_cross_entropy,
        lambda x, target, reduction: ops.cross_entropy(x, target, reduction=reduction),
        lambda x, target, reduction: F.cross_entropy(x, torch.from_numpy(target),
                                                     reduction=reduction)),
    Row("avg_pool2d", ops.AvgPool2d, draw_pool(distinct=False), ops.avg_pool2d,
        lambda x, kernel_size: F.avg_pool2d(x, kernel_size),
        adjoints=(ops.pool._AvgPool2dAdjoint,)),
    Row("max_pool2d", ops.MaxPool2d, draw_pool(distinct=True), ops.max_pool2d,
        lambda x, kernel_size: F.max_pool2d(x, kernel_size),
        adjoints=(ops.pool._MaxPool2dAdjoint,)),
    Row("batch_norm + act (training)", ops.BatchNorm, draw_batch_norm(training=True),
        _our_batch_norm, _torch_batch_norm),
    Row("batch_norm + act (eval)", ops.BatchNorm, draw_batch_norm(training=False),
        _our_batch_norm, _torch_batch_norm),
    Row("spectral_normalize", ops.SpectralNormalize, draw_spectral_normalize,
        ops.spectral_normalize, _torch_spectral_normalize),
    Row("instance_norm", ops.Normalize, draw_normalize(axes=(2, 3)), ops.instance_norm,
        lambda x, w=None, b=None, eps=1e-5: F.instance_norm(x, weight=w, bias=b, eps=eps)),
    Row("layer_norm", ops.Normalize, draw_normalize(axes=(1, 2, 3)), ops.layer_norm,
        _torch_layer_norm),
    Row("index", ops.Index, draw_index(), lambda x, key: x[key],
        lambda x, key: x[torch_key(key)], adjoints=(ops.indexing._IndexAdjoint,)),
    Row("index, integer arrays with repeats", ops.Index, draw_index("arrays"),
        lambda x, key: x[key], lambda x, key: x[torch_key(key)]),
    Row("index, a boolean mask", ops.Index, draw_index("mask"), lambda x, key: x[key],
        lambda x, key: x[torch_key(key)]),
    Row("cat", ops.Cat, lambda d: draw_join(d, stacked=False),
        lambda *xs, dim: ops.cat(xs, dim), lambda *xs, dim: torch.cat(xs, dim)),
    Row("stack", ops.Cat, lambda d: draw_join(d, stacked=True),
        lambda *xs, dim: ops.stack(xs, dim), lambda *xs, dim: torch.stack(xs, dim)),
    Row("split", ops.Index, draw_split(chunked=False),
        lambda x, which, **s: ops.split(x, **s)[which],
        lambda x, which, **s: torch.split(x, **s)[which]),
    Row("chunk", ops.Index, draw_split(chunked=True),
        lambda x, which, **s: ops.chunk(x, **s)[which],
        lambda x, which, **s: torch.chunk(x, **s)[which]),
    Row("gather", ops.Index, draw_gather,
        lambda x, dim, index: ops.gather(x, dim, tensor(index)),
        lambda x, dim, index: torch.gather(x, dim, torch.from_numpy(index))),
]
