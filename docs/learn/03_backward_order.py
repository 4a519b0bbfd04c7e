"""Stage 3: ordering the backward, so that each value passes its gradient down once.

Stages 1 and 2 passed gradient down one path at a time. In h = x; h = h + h (k times) there
are 2^k paths from the last h to x, and that backward does 2^k hand-overs where k would do.

The fix: a value should hand its gradient to its inputs once, when it has all of it, that is
after every value computed from it has handed over its share. An order of the values in which
each comes after all the values it was computed from is a topological order; walked in reverse,
from the output back, it is exactly the order backward needs.

One topological order is the post-order of a depth-first search from the output: walk from a
value to its inputs, to their inputs, and so on, and write a value down when it is finished,
that is once all of its inputs have been written down ("post": the value goes after its
inputs, as in a post-order walk of a tree, children first, then the node). The search below
keeps its own stack rather than recursing, so that a chain of 10,000 ops is no problem.

Walking the values in any other order can go wrong: breadth-first from the output (nearest
values first) reaches a = tanh(x) in out = a + a * a before a * a has handed a its share.
"""
import numpy as np

import tinygan  # the oracle: only check() uses it


class Variable:
    """An array `data`, its gradient `grad` and `parents`: pairs (input, gy -> the gradient of
    the input). Inputs of an op have one shape here (stage 2 handled broadcasting)."""

    def __init__(self, data, parents=()):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self.parents = parents

    def __add__(self, other):  # ga = gy, gb = gy
        return Variable(self.data + other.data, ((self, lambda gy: gy), (other, lambda gy: gy)))

    def __mul__(self, other):  # ga = gy * b, gb = gy * a
        return Variable(self.data * other.data, ((self, lambda gy: gy * other.data),
                                                 (other, lambda gy: gy * self.data)))

    def tanh(self):  # ga = gy * (1 - y^2)
        y = np.tanh(self.data)
        return Variable(y, ((self, lambda gy: gy * (1 - y * y)),))

    def sum(self):  # ga = gy at every element
        return Variable(self.data.sum(), ((self, lambda gy: np.full_like(self.data, gy)),))


def topological_order(output):
    """Every value `output` was computed from, each after all of its inputs: the post-order
    of a depth-first search from `output`, with an explicit stack of (value, finished?)."""
    order, seen, stack = [], set(), [(output, False)]
    while stack:
        value, finished = stack.pop()
        if finished:  # its inputs are all written down: write it down
            order.append(value)
        elif id(value) not in seen:
            seen.add(id(value))
            stack.append((value, True))  # popped again only after all of its inputs
            stack.extend((parent, False) for parent, _ in value.parents)
    return order


def breadth_first_order(output):
    """The values in the reverse of a breadth-first walk from `output` (nearest first, each
    value's inputs in order): NOT a topological order."""
    visits, seen = [output], {id(output)}
    for value in visits:  # the list grows as it is walked: a queue
        for parent, _ in value.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                visits.append(parent)
    return visits[::-1]


def backward(output, order=None):
    """Set d output/d output = 1, then walk `order(output)` (topological_order unless given)
    in reverse: each value, holding all of its gradient, hands each input its share once.
    Returns the number of hand-overs."""
    output.grad = np.ones_like(output.data)
    handed = 0
    for value in reversed((order or topological_order)(output)):
        for parent, vjp in value.parents:
            parent.grad = parent.grad + vjp(value.grad)
            handed += 1
    return handed


def model(x, w):
    """A graph that reuses values: h is used by four ops, u by three."""
    h = (x * w).tanh()
    u = h * h + x
    v = (u * h).tanh() + u
    return (v * h + v * u).sum()


def check():
    """The doubling chain's gradient and hand-overs, a reused-value graph's gradients against
    tinygan in float64, and a 10,000-op chain; returns the largest error."""
    x = Variable(1.0)
    h = x
    for _ in range(30):
        h = h + h
    assert backward(h) == 60, "stage 3: each of the 30 sums should hand over twice"
    assert x.grad == 2.0 ** 30, f"stage 3: d(2^30 x)/dx should be 2^30, got {x.grad}"
    rng = np.random.default_rng(3)
    arrays = rng.normal(size=(2, 3, 4))
    ours = [Variable(a) for a in arrays]
    theirs = [tinygan.tensor(a, requires_grad=True) for a in arrays]
    backward(model(*ours))
    model(*theirs).backward()
    worst = 0.0
    for name, v, t in zip("xw", ours, theirs):
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12,
                                   err_msg=f"stage 3: d loss/d {name} of the reused-value graph")
        worst = max(worst, np.abs(v.grad - t.grad.numpy()).max())
    x = Variable(0.5)
    h = x
    for _ in range(10_000):
        h = h * Variable(1.0001)
    backward(h)
    np.testing.assert_allclose(x.grad, 1.0001 ** 10_000, rtol=1e-10,
                               err_msg="stage 3: the 10,000-op chain")
    return worst


def demo(order):
    """d out/d x for out = a + a * a, a = tanh(x), x = 0.3, by backward in `order`."""
    x = Variable(0.3)
    a = x.tanh()
    squared = a * a
    out = a + squared
    names = {id(x): "x", id(a): "a", id(squared): "a * a", id(out): "out"}
    walk = [names[id(v)] for v in reversed(order(out))]
    backward(out, order)
    return x.grad, walk


if __name__ == "__main__":
    a = np.tanh(0.3)
    exact = (1 + 2 * a) * (1 - a * a)
    print(f"out = a + a * a, a = tanh(x), x = 0.3: d out/d x = (1 + 2a)(1 - a^2) = {exact:.6f}")
    for order in topological_order, breadth_first_order:
        grad, walk = demo(order)
        verdict = "right" if np.isclose(grad, exact) else "wrong: a passed on a part"
        print(f"  {order.__name__:>19}: backward walks {walk}: {grad:.6f} ({verdict})")
    error = check()
    print(f"stage 3: a reused-value graph's gradients match tinygan (max error {error:.1e}); "
          "2^30 from 60 hand-overs; a 10,000-op chain runs")
