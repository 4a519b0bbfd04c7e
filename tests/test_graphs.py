"""The engine on whole graphs: random DAGs that reuse values, and the shapes users build.

Each op alone is checked in test_gradcheck.py; here they are checked in company. Hypothesis
draws a DAG whose nodes reuse earlier ones (a value with 2-4 consumers, x beside f(x) in one op,
a value as both inputs of one op, diamonds, residuals); every node reaches the loss. The
gradient of every leaf must match PyTorch's and finite differences, in float64.
"""
import importlib

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygan
from op_cases import FD_TOLERANCE, directional_error
from tinygan import nn, ops, tensor

torch = pytest.importorskip("torch")
F = torch.nn.functional
engine = importlib.import_module("tinygan.tensor")  # tinygan.tensor is the function

SHAPE = (2, 3, 4, 4)          # every node's shape
WEIGHT_SHAPE = (3, 3, 3, 3)   # the conv weights, shared by every conv node that draws them
LEAVES = ("x0", "x1", "w0", "w1")
TORCH_RTOL = 1e-9             # of the largest gradient entry


def _divide(a, b):
    return a / (2 + b * b)  # a divisor that stays away from zero


# name -> (tinygan, torch); unary ops take (value, weights), binary ones (a, b)
UNARY = {
    "tanh": (lambda x, w: ops.tanh(x), lambda x, w: torch.tanh(x)),
    "sigmoid": (lambda x, w: ops.sigmoid(x), lambda x, w: torch.sigmoid(x)),
    "neg": (lambda x, w: -x, lambda x, w: -x),
    "half": (lambda x, w: x * 0.5, lambda x, w: x * 0.5),
    "centre": (lambda x, w: x - x.mean(axis=(2, 3), keepdims=True),
               lambda x, w: x - x.mean(dim=(2, 3), keepdim=True)),
    "flat_and_back": (lambda x, w: ops.flatten(x, 1).reshape(SHAPE),
                      lambda x, w: x.flatten(1).reshape(SHAPE)),
    "batch_norm": (lambda x, w: ops.batch_norm(x, None, None, training=True),
                   lambda x, w: F.batch_norm(x, None, None, training=True)),
    "instance_norm": (lambda x, w: ops.instance_norm(x), lambda x, w: F.instance_norm(x)),
    "layer_norm": (lambda x, w: ops.layer_norm(x), lambda x, w: F.layer_norm(x, x.shape[1:])),
    "conv_w0": (lambda x, w: ops.conv2d(x, w[0], padding=1),
                lambda x, w: F.conv2d(x, w[0], padding=1)),
    "conv_w1": (lambda x, w: ops.conv2d(x, w[1], padding=1),
                lambda x, w: F.conv2d(x, w[1], padding=1)),
    "conv_transpose_w0": (lambda x, w: ops.conv_transpose2d(x, w[0], padding=1),
                          lambda x, w: F.conv_transpose2d(x, w[0], padding=1)),
    "relu": (lambda x, w: ops.relu(x), lambda x, w: F.relu(x)),
    "leaky_relu": (lambda x, w: ops.leaky_relu(x, 0.2), lambda x, w: F.leaky_relu(x, 0.2)),
}
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (_divide, _divide),
}
KINKED = {"relu", "leaky_relu"}  # not differentiable everywhere: PyTorch only, no finite diffs


@st.composite
def dags(draw, smooth_only=False):
    """[(op, input indices)]: nodes 0 and 1 are the leaves x0 and x1, node k > 1 is the k-th
    entry. Inputs reuse earlier nodes: any one, the same one twice, or a node and one of its
    consumers (x beside f(x))."""
    unary = sorted(set(UNARY) - (KINKED if smooth_only else set()))
    count = draw(st.integers(10, 40), label="nodes")
    nodes, consumers = [], {0: [], 1: []}
    for k in range(2, count + 2):
        first = draw(st.integers(0, k - 1), label="input")
        if draw(st.booleans(), label="binary"):
            pattern = draw(st.sampled_from(["any", "same", "consumer"]), label="pattern")
            if pattern == "same":
                second = first
            elif pattern == "consumer" and consumers[first]:
                second = draw(st.sampled_from(consumers[first]), label="consumer")
            else:
                second = draw(st.integers(0, k - 1), label="second input")
            op, inputs = draw(st.sampled_from(sorted(BINARY)), label="op"), (first, second)
        else:
            op, inputs = draw(st.sampled_from(unary), label="op"), (first,)
        nodes.append((op, inputs))
        consumers[k] = []
        for i in set(inputs):
            consumers[i].append(k)
    return nodes


def evaluate(nodes, leaves, table_index, rs):
    """The DAG's loss: sum over its sinks (nodes nobody consumes) of sum(r * node)."""
    return sum((v * r).sum() for v, r in zip(sinks(nodes, leaves, table_index), rs))


def sinks(nodes, leaves, table_index):
    """The values of the DAG's nodes that no node consumes."""
    values = [leaves["x0"], leaves["x1"]]
    weights = (leaves["w0"], leaves["w1"])
    for op, inputs in nodes:
        args = [values[i] for i in inputs]
        if len(args) == 1:
            values.append(UNARY[op][table_index](args[0], weights))
        else:
            values.append(BINARY[op][table_index](*args))
    used = {i for _, inputs in nodes for i in inputs}
    return [v for i, v in enumerate(values) if i not in used]


def leaf_arrays(seed):
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(WEIGHT_SHAPE if name[0] == "w" else SHAPE)
            * (0.3 if name[0] == "w" else 1.0) for name in LEAVES}


def output_weights(seed, count):
    rng = np.random.default_rng(seed + 1)
    return [rng.standard_normal(SHAPE) for _ in range(count)]


def tinygan_gradients(nodes, arrays, rs):
    leaves = {name: tensor(a, requires_grad=True) for name, a in arrays.items()}
    loss = evaluate(nodes, leaves, 0, [tensor(r) for r in rs])
    loss.backward()
    return float(loss.array), {n: None if t.grad is None else t.grad.array
                               for n, t in leaves.items()}


def torch_gradients(nodes, arrays, rs):
    leaves = {name: torch.tensor(a, requires_grad=True) for name, a in arrays.items()}
    loss = evaluate(nodes, leaves, 1, [torch.tensor(r) for r in rs])
    loss.backward()
    return float(loss.detach()), {n: None if t.grad is None else t.grad.numpy()
                                  for n, t in leaves.items()}


def check_against_torch(nodes, seed):
    arrays = leaf_arrays(seed)
    rs = output_weights(seed, len(nodes) + 2)
    loss, ours = tinygan_gradients(nodes, arrays, rs)
    their_loss, theirs = torch_gradients(nodes, arrays, rs)
    np.testing.assert_allclose(loss, their_loss, rtol=1e-10)
    for name in LEAVES:
        assert (ours[name] is None) == (theirs[name] is None), name
        if theirs[name] is not None:
            scale = np.abs(theirs[name]).max()
            error = np.abs(ours[name] - theirs[name]).max() / max(scale, 1e-12)
            assert error < TORCH_RTOL, f"{name}: relative error {error:.2e}"


@given(nodes=dags(), seed=st.integers(0, 2**32 - 2))
def test_random_dags_match_pytorch(nodes, seed):
    check_against_torch(nodes, seed)


@given(nodes=dags(smooth_only=True), seed=st.integers(0, 2**32 - 2))
def test_random_dags_match_finite_differences(nodes, seed):
    """<grad, d> against finite differences along a random d over all leaves at once
    (op_cases.directional_error)."""
    arrays = leaf_arrays(seed)
    rs = output_weights(seed, len(nodes) + 2)
    _, grads = tinygan_gradients(nodes, arrays, rs)
    rng = np.random.default_rng(seed + 2)
    names = [n for n in LEAVES if grads[n] is not None]

    def loss(shifted):
        leaves = {n: tensor(a) for n, a in arrays.items()} | {
            n: tensor(a) for n, a in zip(names, shifted)}
        terms = [v.array * r for v, r in zip(sinks(nodes, leaves, 0), rs)]
        return (float(sum(np.sum(t) for t in terms)),
                float(sum(np.sum(np.abs(t)) for t in terms)))

    error = directional_error(loss, [arrays[n] for n in names], [grads[n] for n in names],
                              [rng.standard_normal(arrays[n].shape) for n in names])
    assert error < FD_TOLERANCE, f"relative error {error:.2e}"


def second_order(nodes, arrays, rs, vs, is_torch):
    """Gradients of H = sum over leaves of <dloss/dleaf, v_leaf> (first gradients recorded)."""
    if is_torch:
        leaves = {n: torch.tensor(a, requires_grad=True) for n, a in arrays.items()}
        loss = evaluate(nodes, leaves, 1, [torch.tensor(r) for r in rs])
        firsts = torch.autograd.grad(loss, list(leaves.values()), create_graph=True,
                                     allow_unused=True)
        h = sum((g * torch.tensor(vs[n])).sum() for n, g in zip(leaves, firsts) if g is not None)
        seconds = torch.autograd.grad(h, list(leaves.values()), allow_unused=True)
        return {n: None if g is None else g.numpy() for n, g in zip(leaves, seconds)}
    leaves = {n: tensor(a, requires_grad=True) for n, a in arrays.items()}
    loss = evaluate(nodes, leaves, 0, [tensor(r) for r in rs])
    firsts = tinygan.grad(loss, list(leaves.values()), create_graph=True, allow_unused=True)
    h = sum((g * tensor(vs[n])).sum() for n, g in zip(leaves, firsts) if g is not None)
    seconds = tinygan.grad(h, list(leaves.values()), allow_unused=True)
    return {n: None if g is None else g.array for n, g in zip(leaves, seconds)}


@given(nodes=dags(), seed=st.integers(0, 2**32 - 2))
def test_random_dags_differentiate_their_gradients_like_pytorch(nodes, seed):
    """The same DAGs, one order up: the gradient of <first gradients, v> with respect to every
    leaf, the first gradients recorded with create_graph=True (None and zeros agree: an op
    like relu has a second derivative of 0 almost everywhere)."""
    arrays, rs = leaf_arrays(seed), output_weights(seed, len(nodes) + 2)
    rng = np.random.default_rng(seed + 3)
    vs = {n: rng.standard_normal(a.shape) for n, a in arrays.items()}
    ours, theirs = (second_order(nodes, arrays, rs, vs, is_torch) for is_torch in (False, True))
    for name in LEAVES:
        a, b = (np.zeros(arrays[name].shape) if g is None else g
                for g in (ours[name], theirs[name]))
        error = np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)
        assert error < 1e-8, f"{name}: relative error {error:.2e}"


# --- the shapes users build, as regression cases ---------------------------------------------

def swish_like(m, x):
    y = m.tanh(x)
    return (y * m.sigmoid(y)).sum()


def residual(m, x):
    h = m.tanh(x)
    return (h + m.tanh(h * h)).sum()


class Framework:
    """The few calls the regression cases make, in tinygan or in torch."""
    def __init__(self, is_torch):
        self.is_torch = is_torch
        self.tanh = torch.tanh if is_torch else ops.tanh
        self.sigmoid = torch.sigmoid if is_torch else ops.sigmoid
        self.relu = F.relu if is_torch else ops.relu
        self.conv2d = F.conv2d if is_torch else ops.conv2d
        self.leaky_relu = F.leaky_relu if is_torch else ops.leaky_relu
        self.bce_logits = (F.binary_cross_entropy_with_logits if is_torch
                           else ops.binary_cross_entropy_with_logits)

    def batch_norm(self, x):
        if self.is_torch:
            return F.batch_norm(x, None, None, training=True)
        return ops.batch_norm(x, None, None, training=True)

    def per_sample_mean(self, x):
        return x.mean(dim=(1, 2, 3)) if self.is_torch else x.mean(axis=(1, 2, 3))

    def leaf(self, array):
        if self.is_torch:
            return torch.tensor(array, requires_grad=True)
        return tensor(array, requires_grad=True)

    def constant(self, array):
        return torch.tensor(array) if self.is_torch else tensor(array)


def resnet_block(m, x, w1, w2):
    """x + conv(relu(bn(conv(x))))"""
    h = m.relu(m.batch_norm(m.conv2d(x, w1, padding=1)))
    return (m.tanh(x + m.conv2d(h, w2, padding=1))).sum()


def shared_weight(m, x, w1, w2):
    """One weight in two layers: conv(tanh(conv(x, w1)), w1), and w2 unused but in the list."""
    return m.tanh(m.conv2d(m.tanh(m.conv2d(x, w1, padding=1)), w1, padding=1)).sum() + 0 * w2.sum()


def d_real_and_penalty(m, x, w1, w2):
    """One tensor into both D(real) and a penalty on D's features of it."""
    features = m.leaky_relu(m.conv2d(x, w1, stride=2, padding=1), 0.2)  # (2, 3, 2, 2)
    score = m.per_sample_mean(m.conv2d(features, w2, padding=1))  # (2,)
    target = m.constant(np.ones(2))
    return m.bce_logits(score, target) + 0.1 * (features * features).mean()


CASES = {"y * sigmoid(y)": (swish_like, 1), "h + f(h)": (residual, 1),
         "x + conv(relu(bn(conv(x))))": (resnet_block, 3), "a weight shared by two layers":
         (shared_weight, 3), "one tensor into D(real) and a penalty": (d_real_and_penalty, 3)}


def case_gradients(case, is_torch, seed=0):
    function, inputs = CASES[case]
    m = Framework(is_torch)
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(SHAPE)] + [rng.standard_normal(WEIGHT_SHAPE) * 0.3
                                             for _ in range(inputs - 1)]
    leaves = [m.leaf(a) for a in arrays]
    function(m, *leaves).backward()
    return [(t.grad.numpy() if is_torch else t.grad.array) for t in leaves]


@pytest.mark.parametrize("case", sorted(CASES))
def test_regression_cases_match_pytorch(case):
    for ours, theirs in zip(case_gradients(case, False), case_gradients(case, True)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def old_topological_order(roots):
    """The order the engine used before issue 17: a Function marked visited when pushed."""
    order, visited, stack = [], set(roots), [(root, False) for root in roots]
    while stack:
        fn, inputs_done = stack.pop()
        if inputs_done:
            order.append(fn)
            continue
        stack.append((fn, True))
        for t in fn.inputs:
            if t.creator is not None and t.creator not in visited:
                visited.add(t.creator)
                stack.append((t.creator, False))
    return order


def test_a_broken_order_fails_loudly(monkeypatch):
    """With the old order, y * sigmoid(y) reaches tanh before sigmoid: the engine must raise
    rather than drop sigmoid's gradient (it returned x.grad 10% off before issue 17)."""
    monkeypatch.setattr(engine, "_topological_order", old_topological_order)
    with pytest.raises(RuntimeError, match="after its backward ran"):
        case_gradients("y * sigmoid(y)", False)


def test_a_long_chain_of_diamonds_needs_no_recursion():
    x = tensor(np.array([0.3]), requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 0.5 + ops.tanh(y) * 0.5  # a diamond per step
    y.sum().backward()
    xt = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
    yt = xt
    for _ in range(3000):
        yt = yt * 0.5 + torch.tanh(yt) * 0.5
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.array, xt.grad.numpy(), rtol=1e-10)


def test_a_module_used_twice_sums_its_gradients():
    """The same nn.Conv2d on two inputs, then on its own output: weights get all three uses."""
    nn.manual_seed(0)
    conv = nn.Conv2d(3, 3, 3, padding=1).to(dtype=np.float64)
    x = np.random.default_rng(1).standard_normal(SHAPE)
    ours = conv(conv(tensor(x))) + conv(tensor(-x))
    ours.sum().backward()
    weight = torch.tensor(conv.weight.array, requires_grad=True)
    bias = torch.tensor(conv.bias.array, requires_grad=True)

    def layer(v):
        return F.conv2d(v, weight, bias, padding=1)

    (layer(layer(torch.tensor(x))) + layer(torch.tensor(-x))).sum().backward()
    np.testing.assert_allclose(conv.weight.grad.array, weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(conv.bias.grad.array, bias.grad.numpy(), rtol=1e-10)
