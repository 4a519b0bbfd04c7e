"""Stage 2: tensors, and the gradient of broadcasting: sum_to.

A Variable now holds a NumPy array. Two new things follow from that.

1. An array's derivative with respect to another array is a big matrix (the Jacobian), so no
   op stores it. Each op stores instead a function that maps the gradient of its output gy
   (the output's shape) to the gradient of one input (the input's shape): for y = a * b,
   gy -> gy * b. This is the vector-Jacobian product; backward only ever needs that.

2. Broadcasting. NumPy adds a (3, 1) array to a (4,) array by lining the shapes up at the
   right, adding missing axes in front and stretching every axis of length 1:
   (3, 1) + (4,) -> (3, 4), with a[i, 0] used in the four sums y[i, 0..3]. By the chain rule
   a[i, 0]'s gradient is the sum of the gradients of those four outputs. So the gradient of
   an input that was broadcast is gy summed back down to the input's shape: sum_to(gy, shape)
   sums over the axes added in front, then over the axes that were stretched from length 1.
"""
import numpy as np

import tinygan  # the oracle: only check() uses it


def sum_to(g, shape):
    """g summed over the axes that broadcasting added or stretched, to an array of `shape`."""
    added = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(added)))  # the axes added in front are gone
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=stretched, keepdims=True)  # length-1 axes keep their place


class Variable:
    """An array `data`, its gradient `grad` (same shape) and `parents`: pairs (input,
    function gy -> the gradient of the input), the vector-Jacobian products of its op."""

    def __init__(self, data, parents=()):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self.parents = parents

    def __add__(self, other):  # y = a + b, broadcast: ga = sum_to(gy), gb = sum_to(gy)
        a, b = self, as_variable(other)
        return Variable(a.data + b.data, ((a, lambda gy: sum_to(gy, a.data.shape)),
                                          (b, lambda gy: sum_to(gy, b.data.shape))))

    def __mul__(self, other):  # y = a * b, broadcast: ga = sum_to(gy * b), gb = sum_to(gy * a)
        a, b = self, as_variable(other)
        return Variable(a.data * b.data, ((a, lambda gy: sum_to(gy * b.data, a.data.shape)),
                                          (b, lambda gy: sum_to(gy * a.data, b.data.shape))))

    def tanh(self):  # y = tanh(a), elementwise: ga = gy * (1 - y^2)
        y = np.tanh(self.data)
        return Variable(y, ((self, lambda gy: gy * (1 - y * y)),))

    def sum(self):  # y = the sum of every element of a, shape (): ga = gy at every element
        shape = self.data.shape
        return Variable(self.data.sum(), ((self, lambda gy: np.broadcast_to(gy, shape)),))

    __radd__ = __add__
    __rmul__ = __mul__

    def backward(self, grad=None):
        """As in stage 1, one path at a time: add grad here, hand each parent its part."""
        grad = np.ones_like(self.data) if grad is None else grad
        self.grad = self.grad + grad
        for parent, vjp in self.parents:
            parent.backward(vjp(grad))


def as_variable(x):
    """An array or number as a Variable with no parents (a constant)."""
    return x if isinstance(x, Variable) else Variable(x)


def model(x, y, b, w):
    """loss = sum(tanh(x * y + b) * w) + sum(3 y), for any arrays that have + * tanh sum."""
    return ((x * y + b).tanh() * w).sum() + (y * 3.0).sum()


SHAPES = [((2, 1, 4), (3, 1), (4,), (1, 3, 1)),  # -> (2, 3, 4)
          ((5,), (2, 1), (), (1,)),               # -> (2, 5): b a 0-d array
          ((1, 3), (3,), (1, 1), (2, 1, 1))]      # -> (2, 1, 3)


def check():
    """Gradients of model() for broadcast shapes, and sum_to itself, against tinygan in
    float64; returns the largest error."""
    rng = np.random.default_rng(2)
    worst = 0.0
    for shapes in SHAPES:
        arrays = [rng.normal(size=shape) for shape in shapes]
        ours = [Variable(a) for a in arrays]
        theirs = [tinygan.tensor(a, requires_grad=True) for a in arrays]
        model(*ours).backward()
        model(*theirs).backward()
        for name, v, t in zip("xybw", ours, theirs):
            assert v.grad.shape == t.shape, f"stage 2: d loss/d {name} has shape {v.grad.shape}"
            np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12,
                                       err_msg=f"stage 2: d loss/d {name}, shapes {shapes}")
            worst = max(worst, np.abs(v.grad - t.grad.numpy()).max())
        g = rng.normal(size=np.broadcast_shapes(*shapes))
        for shape in shapes:
            want = tinygan.ops.sum_to(tinygan.tensor(g), shape).numpy()
            np.testing.assert_allclose(sum_to(g, shape), want, rtol=1e-12, atol=1e-12,
                                       err_msg=f"stage 2: sum_to {g.shape} -> {shape}")
    return worst


if __name__ == "__main__":
    a = Variable(np.arange(3.0).reshape(3, 1))   # (3, 1)
    b = Variable(np.full(4, 10.0))               # (4,)
    y = a + b                                    # (3, 4): a stretched along axis 1, b along 0
    y.sum().backward()
    print("a (3, 1) + b (4,) has shape", y.data.shape)
    print("d sum/d a =", a.grad.ravel(), "(each a[i] used 4 times)")
    print("d sum/d b =", b.grad, "(each b[j] used 3 times)")
    error = check()
    print(f"stage 2: sum_to and the gradients of {len(SHAPES)} broadcast models match tinygan "
          f"(max error {error:.1e})")
