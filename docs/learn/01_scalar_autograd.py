"""Stage 1: scalar autograd. A Value is a number that remembers how it was made.

Every operation records, for each of its inputs, the local derivative d(output)/d(input),
evaluated at the numbers it saw. The chain rule then gives the derivative of the final result
g with respect to any input: multiply the local derivatives along a path from g down to the
input, and add up the paths,

    dg/da = sum over paths g -> ... -> a of the product of the local derivatives on the path.

`backward` below does exactly that: it hands a gradient to a value's inputs, each times its
local derivative, and they hand it on. It is correct, but a value reached by many paths passes
gradient down once per path; stage 3 makes each value pass it down once.
"""
import math

import numpy as np

import tinygan  # the oracle: only check() uses it


class Value:
    """A float `data`, its gradient `grad` (d result / d self) and `parents`, the pairs
    (input Value, d self / d input) of the operation that made it."""

    def __init__(self, data, parents=()):
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents

    def __add__(self, other):  # d(a + b)/da = 1, d(a + b)/db = 1
        other = as_value(other)
        return Value(self.data + other.data, ((self, 1.0), (other, 1.0)))

    def __mul__(self, other):  # d(a b)/da = b, d(a b)/db = a
        other = as_value(other)
        return Value(self.data * other.data, ((self, other.data), (other, self.data)))

    def __pow__(self, k):  # d(a^k)/da = k a^(k-1), k a plain number
        return Value(self.data ** k, ((self, k * self.data ** (k - 1)),))

    def tanh(self):  # d tanh(a)/da = 1 - tanh(a)^2
        t = math.tanh(self.data)
        return Value(t, ((self, 1 - t * t),))

    def relu(self):  # relu(a) = max(a, 0), d relu(a)/da = 1 if a > 0 else 0
        return Value(max(self.data, 0.0), ((self, float(self.data > 0)),))

    # The rest is built from the operations above, so it needs no derivative of its own.
    __radd__ = __add__  # 1 + a calls a.__radd__(1)
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + -other

    def __rsub__(self, other):
        return -self + other

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return other * self ** -1

    def backward(self, grad=1.0):
        """Add `grad` (d result / d self along one path) here, then hand grad * (d self / d p)
        to each parent p: the chain rule, one path at a time."""
        self.grad += grad
        for parent, local in self.parents:
            parent.backward(grad * local)


def as_value(x):
    """A plain number as a Value with no parents (a constant)."""
    return x if isinstance(x, Value) else Value(x)


def example(a, b):
    """The worked example: g(a, b), written once for any numbers that have + * ** relu."""
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    return g + 10.0 / f


def neuron(x, w, b):
    """A neuron with two inputs: tanh(x0 w0 + x1 w1 + b)."""
    return (x[0] * w[0] + x[1] * w[1] + b).tanh()


def check():
    """Values and gradients of example() and neuron() against tinygan's 0-d float64 Tensors,
    at the worked example's point and at random points; returns the largest error."""
    rng = np.random.default_rng(1)
    points = [(example, [-4.0, 2.0])] + [(example, rng.uniform(-3, 3, 2)) for _ in range(10)]
    points += [(lambda *v: neuron(v[:2], v[2:4], v[4]), rng.normal(size=5)) for _ in range(10)]
    worst = 0.0
    for function, numbers in points:
        ours = [Value(v) for v in numbers]
        theirs = [tinygan.tensor(v, dtype=tinygan.float64, requires_grad=True) for v in numbers]
        out, reference = function(*ours), function(*theirs)
        out.backward()
        reference.backward()
        got = [out.data] + [v.grad for v in ours]
        want = [reference.item()] + [t.grad.item() for t in theirs]
        where = np.round(numbers, 4).tolist()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12,
                                   err_msg=f"stage 1: value or gradient at {where}")
        worst = max(worst, max(abs(x - y) / max(1.0, abs(y)) for x, y in zip(got, want)))
    return worst


if __name__ == "__main__":
    a, b = Value(-4.0), Value(2.0)
    g = example(a, b)
    g.backward()
    print(f"g = {g.data:.4f}, dg/da = {a.grad:.4f}, dg/db = {b.grad:.4f}")
    x, w, bias = [Value(0.5), Value(-1.0)], [Value(2.0), Value(0.25)], Value(0.1)
    y = neuron(x, w, bias)
    y.backward()
    print(f"tanh neuron: y = {y.data:.4f}, dy/dw0 = {w[0].grad:.4f}, dy/dx0 = {x[0].grad:.4f}")
    error = check()
    print(f"stage 1: values and gradients of 21 expressions match tinygan "
          f"(max relative error {error:.1e})")
