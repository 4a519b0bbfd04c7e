"""The gradient of every op's gradient, against PyTorch and against finite differences (float64).

For a row's op f with inputs x_i, an output weighting r and random v_i, the recorded first
gradients g_i = d sum(r * f) / d x_i (create_graph=True) give H = sum_i <g_i, v_i>; its gradient
with respect to every x_i and to r is the double backward (PyTorch's gradgradcheck looks at the
same two parts: through the inputs, and through the output's gradient).
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygan
from op_cases import FD_TOLERANCE, ROWS, directional_error, record_error
from tinygan import tensor

torch = pytest.importorskip("torch")
TORCH_RTOL = 1e-8  # of the largest entry of each second gradient


def first_gradients(row, arrays, settings, r, create_graph):
    """(inputs, r, [d sum(r * f) / d x_i]) in tinygan; r requires grad when recorded."""
    xs = [tensor(a, requires_grad=True) for a in arrays]
    weighting = tensor(r, requires_grad=create_graph)
    y = row.ours(*xs, **settings)
    grads = tinygan.grad(y, xs, grad_outputs=weighting, create_graph=create_graph)
    return xs, weighting, grads


def ours(row, arrays, settings, r, vs):
    """H, its gradients with respect to (x_1, ..., x_n, r) as arrays (zeros where unused), and
    the classes of the Functions that the recorded first gradients applied."""
    xs, weighting, grads = first_gradients(row, arrays, settings, r, create_graph=True)
    applied = graph_functions(grads)
    h = sum((g * tensor(v)).sum() for g, v in zip(grads, vs))
    second = tinygan.grad(h, xs + [weighting], allow_unused=True)
    return float(h.array), [np.zeros_like(a) if g is None else g.array
                            for g, a in zip(second, arrays + [r])], applied


def theirs(row, arrays, settings, r, vs):
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    weighting = torch.tensor(r, requires_grad=True)
    grads = torch.autograd.grad(row.theirs(*xs, **settings), xs, grad_outputs=weighting,
                                create_graph=True, allow_unused=True)
    h = sum((g * torch.tensor(v)).sum() for g, v in zip(grads, vs) if g is not None)
    second = torch.autograd.grad(h, xs + [weighting], allow_unused=True) \
        if h.requires_grad else [None] * (len(xs) + 1)
    return float(h.detach()), [np.zeros_like(a) if g is None else g.detach().numpy()
                               for g, a in zip(second, arrays + [r])]


def draw_case(row, data, seed):
    arrays, settings = row.draw(data)
    rng = np.random.default_rng(seed)
    y_shape = row.ours(*[tensor(a) for a in arrays], **settings).shape
    r = rng.standard_normal(y_shape)
    return arrays, settings, r, [rng.standard_normal(a.shape) for a in arrays], rng


def graph_functions(tensors):
    """The classes of every Function in the graphs of ``tensors``."""
    seen, stack = set(), [t.creator for t in tensors if t.creator is not None]
    while stack:
        fn = stack.pop()
        if fn not in seen:
            seen.add(fn)
            stack.extend(t.creator for t in fn.inputs if t.creator is not None)
    return {type(fn) for fn in seen}


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_double_backward_matches_pytorch(row, data, seed):
    arrays, settings, r, vs, _ = draw_case(row, data, seed)
    h, second, applied = ours(row, arrays, settings, r, vs)
    their_h, their_second = theirs(row, arrays, settings, r, vs)
    np.testing.assert_allclose(h, their_h, rtol=1e-9, atol=1e-12)
    errors = [np.abs(a - b).max(initial=0) / max(np.abs(b).max(initial=0), 1e-12)
              for a, b in zip(second, their_second)]
    record_error(row.name, "double: pytorch", max(errors))
    assert max(errors) < TORCH_RTOL, f"{row.name}: relative errors per input and r {errors}"
    missing = set(row.adjoints) - applied
    assert not missing, f"{row.name}: the recorded backward never applied {missing}"


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_double_backward_matches_finite_differences(row, data, seed):
    """<grad H, d> against finite differences of H, whose first gradients are computed by the
    unrecorded backward (itself checked against finite differences in test_gradcheck.py)."""
    arrays, settings, r, vs, rng = draw_case(row, data, seed)
    _, second, _ = ours(row, arrays, settings, r, vs)

    def h(shifted):
        *inputs, weighting = shifted
        _, _, grads = first_gradients(row, inputs, settings, weighting, create_graph=False)
        terms = [g.array * v for g, v in zip(grads, vs)]
        return (float(sum(np.sum(t) for t in terms)),
                float(sum(np.sum(np.abs(t)) for t in terms)))

    points = arrays + [r]
    error = directional_error(h, points, second, [rng.standard_normal(p.shape) for p in points])
    record_error(row.name, "double: finite differences", error)
    assert error < FD_TOLERANCE, f"{row.name}: relative error {error:.2e}"


def test_the_check_catches_a_wrong_double_backward():
    """Tanh's backward with the gradient's own graph cut (y taken as a constant) is right to
    first order and wrong to second: both checks must fail."""
    class CutTanh(tinygan.ops.Tanh):
        def backward(self, gy):
            y = tensor(self.y)  # not self.output_tensor: no path back through tanh
            return gy * (1 - y * y)

    row = next(r for r in ROWS if r.name == "tanh")
    wrong = type(row)(row.name, CutTanh, row.draw, CutTanh.apply, row.theirs)
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    rng = np.random.default_rng(0)
    r, vs = rng.standard_normal(x.shape), [rng.standard_normal(x.shape)]
    _, second, _ = ours(wrong, [x], {}, r, vs)
    _, their_second = theirs(row, [x], {}, r, vs)
    assert np.abs(second[0] - their_second[0]).max() > 1e-2

    def h(shifted):
        _, _, grads = first_gradients(wrong, shifted[:1], {}, shifted[1], create_graph=False)
        terms = grads[0].array * vs[0]
        return float(np.sum(terms)), float(np.sum(np.abs(terms)))

    assert directional_error(h, [x, r], second, [np.ones_like(x), np.ones_like(r)]) > 1e-2


def test_third_order_gradients_match_pytorch():
    """Gradients of gradients of gradients: d^3/dx^3 of sum(tanh(x) * sigmoid(x))."""
    x = np.linspace(-1.5, 1.5, 7)
    ours_x, theirs_x = tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g = (tinygan.ops.tanh(ours_x) * tinygan.ops.sigmoid(ours_x)).sum()
    t = (torch.tanh(theirs_x) * torch.sigmoid(theirs_x)).sum()
    for _ in range(2):
        g, = tinygan.grad(g, ours_x, create_graph=True)
        t, = torch.autograd.grad(t, theirs_x, create_graph=True)
        g, t = g.sum(), t.sum()
    g.backward()
    t.backward()
    np.testing.assert_allclose(ours_x.grad.array, theirs_x.grad.numpy(), rtol=1e-10)
