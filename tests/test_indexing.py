"""Indexing and joining (tinygan/ops/indexing.py and join.py) as PyTorch has them, on drawn cases.

Random index expressions (ints, slices with steps, None, ..., masks, integer arrays with
repeats, given as NumPy arrays, lists or Tensors) against NumPy's forward and PyTorch's forward
and backward; cat/stack/split/chunk round trips; one-line errors; the same ops on the CuPy
stand-in. The op table's rows (tests/op_cases.py) check the derivatives against finite
differences and the double backward.
"""
import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import tinygan
from cuda_emulation import installed
from op_cases import draw_key, draw_shape, torch_key
from tinygan import cat, chunk, gather, split, stack, tensor

torch = pytest.importorskip("torch")


def differs_from_numpy(key):
    """True where PyTorch and NumPy may differ: ints with arrays (PyTorch selects with the ints
    first), an ellipsis with arrays (one of no width parts them in NumPy only)."""
    kinds = {type(p) for p in key}
    return np.ndarray in kinds and (int in kinds or Ellipsis in kinds)


def as_given(data, key):
    """key with each array given as drawn: a NumPy array, a list or a tinygan Tensor."""
    form = data.draw(st.sampled_from(["array", "list", "tensor"]), label="array form")
    convert = {"array": lambda a: a, "list": lambda a: a.tolist(), "tensor": tensor}[form]
    return tuple(convert(p) if isinstance(p, np.ndarray) and (form != "list" or p.size)
                 else p for p in key)


@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_random_index_expressions_match_pytorch_forward_and_backward(data, seed):
    shape = draw_shape(data)
    key = draw_key(data, shape)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    ours, theirs = tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours[as_given(data, key)], theirs[torch_key(key)]
    np.testing.assert_array_equal(y_ours.numpy(), y_theirs.detach().numpy())
    r = rng.standard_normal(y_ours.shape)
    (y_ours * tensor(r)).sum().backward()
    (y_theirs * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-14)


@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_random_index_expressions_with_negative_steps_match_numpy(data, seed):
    """Forward as NumPy's x[key]; backward as NumPy's add.at of the output gradient."""
    shape = draw_shape(data)
    key = draw_key(data, shape, negative_steps=True)
    assume(not differs_from_numpy(key))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    ours = tensor(x, requires_grad=True)
    y = ours[key]
    np.testing.assert_array_equal(y.numpy(), x[key])
    r = rng.standard_normal(y.shape)
    y.backward(r)
    expected = np.zeros(shape)
    np.add.at(expected, key, r)
    np.testing.assert_allclose(ours.grad.numpy(), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("form", [tinygan.tensor, np.int64, np.array])
def test_a_zero_d_integer_index_selects_as_an_int_does(form):
    """In PyTorch a 0-d integer index is an int (NumPy would move the arrays' dims first)."""
    x = np.arange(60.0).reshape(3, 4, 5)
    theirs = torch.from_numpy(x)[torch.tensor(0), :, torch.tensor([1, 2])]
    ours = tensor(x)[form(0), :, [1, 2]]
    assert ours.shape == theirs.shape == (4, 2)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_every_short_key_indexes_as_pytorch_does():
    """Every key of up to 4 parts (arrays, a mask, ints, slices, None, ..., True, False) on a
    (2, 3, 4) tensor: PyTorch's value and gradient, or an IndexError where PyTorch refuses
    (and for two ellipses, a quirk of PyTorch's).
    NumPy places the arrays' dims elsewhere for an ellipsis of no width between arrays and
    takes a bool as a mask; a drawn case found the first."""
    x = np.arange(24.0).reshape(2, 3, 4)
    parts = {"a": np.array([[0, 1]]), "b": np.array([[1], [0], [1]]), "s": slice(None, None, 2),
             "i": -1, "n": None, "e": Ellipsis, "m": np.array([True, False]), "T": True,
             "F": False}
    for size in range(1, 5):
        for letters in itertools.product(parts, repeat=size):
            key = tuple(parts[letter] for letter in letters)
            if letters.count("e") > 1:  # PyTorch lets each skip the same dims: refused here
                with pytest.raises(IndexError, match="only one ellipsis"):
                    tensor(x)[key]
                continue
            theirs = torch.tensor(x, requires_grad=True)
            try:
                y_theirs = theirs[torch_key(key)]
            except IndexError:
                with pytest.raises(IndexError):
                    tensor(x)[key]
                continue
            ours = tensor(x, requires_grad=True)
            y_ours = ours[key]
            assert y_ours.shape == tuple(y_theirs.shape), "".join(letters)
            np.testing.assert_array_equal(y_ours.numpy(), y_theirs.detach().numpy())
            weights = np.arange(1.0, 1 + y_ours.numel()).reshape(y_ours.shape)
            (y_ours * tensor(weights)).sum().backward()
            (y_theirs * torch.tensor(weights)).sum().backward()
            np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_repeated_indices_add_up_as_an_embedding_lookup_needs():
    """weight[labels] with a label three times: its row's gradient is the sum of the three."""
    weight = tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    labels = tinygan.tensor([2, 0, 2, 2])
    weight[labels].sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy(), [[1] * 3, [0] * 3, [3] * 3, [0] * 3])


def test_conditional_gan_input_noise_and_label_embedding_match_pytorch():
    """cat of noise and an embedded label, through a second lookup, grads included."""
    rng = np.random.default_rng(0)
    noise, table = rng.standard_normal((5, 4)), rng.standard_normal((3, 2))
    labels = np.array([1, 1, 0, 2, 1])
    z_ours, w_ours = tensor(noise, requires_grad=True), tensor(table, requires_grad=True)
    z_theirs, w_theirs = torch.tensor(noise, requires_grad=True), torch.tensor(
        table, requires_grad=True)
    h_ours = cat([z_ours, w_ours[tinygan.tensor(labels)]], dim=1)
    h_theirs = torch.cat([z_theirs, w_theirs[torch.from_numpy(labels)]], dim=1)
    (h_ours * h_ours).sum().backward()
    (h_theirs * h_theirs).sum().backward()
    np.testing.assert_allclose(h_ours.numpy(), h_theirs.detach().numpy())
    np.testing.assert_allclose(w_ours.grad.numpy(), w_theirs.grad.numpy())
    np.testing.assert_allclose(z_ours.grad.numpy(), z_theirs.grad.numpy())


def draw_dim(data, ndim):
    """A dim of an ndim-d tensor, negative ones included."""
    return data.draw(st.integers(-ndim, ndim - 1), label="dim")


@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_split_and_chunk_then_cat_give_the_tensor_and_its_gradient_back(data, seed):
    shape = draw_shape(data)
    dim = draw_dim(data, len(shape))
    rng = np.random.default_rng(seed)
    x = tensor(rng.standard_normal(shape), requires_grad=True)
    how = data.draw(st.sampled_from(["size", "sections", "chunks", "methods"]), label="how")
    n = shape[dim]
    if how == "size":
        pieces = split(x, data.draw(st.integers(1, 5)), dim)
    elif how == "sections":
        cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
        pieces = split(x, [int(c) for c in np.diff([0] + cuts + [n])], dim=dim)
    elif how == "chunks":
        chunks = data.draw(st.integers(1, 5))
        pieces = chunk(x, chunks, dim)
        assert len(pieces) == len(torch.chunk(torch.zeros(shape), chunks, dim))
    else:
        method = x.chunk if data.draw(st.booleans(), label="chunk") else x.split
        pieces = method(data.draw(st.integers(1, 5)), dim=dim)
    joined = cat(list(pieces), dim)
    np.testing.assert_array_equal(joined.numpy(), x.numpy())
    r = rng.standard_normal(shape)
    joined.backward(r)
    np.testing.assert_array_equal(x.grad.numpy(), r)


@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_stack_then_index_gives_each_tensor_and_its_gradient_back(data, seed):
    shape = draw_shape(data, max_rank=3)
    count = data.draw(st.integers(1, 4), label="tensors")
    dim = draw_dim(data, len(shape) + 1)
    rng = np.random.default_rng(seed)
    xs = [tensor(rng.standard_normal(shape), requires_grad=True) for _ in range(count)]
    stacked = stack(xs, dim)
    np.testing.assert_array_equal(stacked.numpy(), np.stack([x.numpy() for x in xs], dim))
    axis = dim % (len(shape) + 1)
    total = None
    for i, x in enumerate(xs):
        piece = stacked[(slice(None),) * axis + (i,)]
        np.testing.assert_array_equal(piece.numpy(), x.numpy())
        term = (piece * (i + 1.0)).sum()
        total = term if total is None else total + term
    total.backward()
    for i, x in enumerate(xs):
        np.testing.assert_array_equal(x.grad.numpy(), np.full(shape, i + 1.0))


@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_gather_matches_pytorch_with_repeated_positions(data, seed):
    shape = draw_shape(data)
    dim = draw_dim(data, len(shape))
    rng = np.random.default_rng(seed)
    index_shape = tuple(rng.integers(0, 5) if d == dim % len(shape) else rng.integers(1, n + 1)
                        for d, n in enumerate(shape))
    index = rng.integers(0, shape[dim], size=index_shape)
    x = rng.standard_normal(shape)
    ours, theirs = tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours = ours.gather(dim, tinygan.tensor(index))
    y_theirs = theirs.gather(dim, torch.from_numpy(index))
    np.testing.assert_array_equal(y_ours.numpy(), y_theirs.detach().numpy())
    r = rng.standard_normal(index_shape)
    y_ours.backward(r)
    y_theirs.backward(torch.tensor(r))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_integer_tensors_index_and_join_without_a_graph():
    labels = tinygan.tensor([[3, 1], [0, 2]])
    assert labels[1].tolist() == [0, 2] and labels[tensor(labels.numpy() > 1)].tolist() == [3, 2]
    assert cat([labels, labels], 1).tolist() == [[3, 1, 3, 1], [0, 2, 0, 2]]
    assert stack([labels[0], labels[1]]).tolist() == labels.tolist()
    assert [p.tolist() for p in labels.split(1, dim=1)] == [[[3], [0]], [[1], [2]]]
    assert labels.gather(1, tinygan.tensor([[1], [1]])).tolist() == [[1], [2]]
    assert labels[0].dtype == np.int64 and not labels[0].requires_grad


def one_line_error(error_type, pattern, call):
    with pytest.raises(error_type, match=pattern) as raised:
        call()
    assert "\n" not in str(raised.value)


X = tinygan.zeros(3, 4)

ERRORS = [
    ("int out of range", IndexError, r"index: index 3 is out of range for dim 0 of size 3 "
     r"\(tensor of shape \(3, 4\)\)", lambda: X[3]),
    ("negative int out of range", IndexError, r"index -5 is out of range for dim 1 of size 4",
     lambda: X[:, -5]),
    ("array entry out of range", IndexError, r"index: index 7 is out of range for dim 1 of "
     r"size 4", lambda: X[:, [0, 7, 1]]),
    ("too many indices", IndexError, r"too many indices for a tensor of shape \(3, 4\) "
     r"\(3 dims indexed", lambda: X[0, 0, 0]),
    ("two ellipses", IndexError, r"only one ellipsis", lambda: X[..., 0, ...]),
    ("mask of the wrong shape", IndexError, r"mask of shape \(4,\) does not match the shape "
     r"\(3,\) of dims 0..0", lambda: X[np.ones(4, bool)]),
    ("float index tensor", IndexError, r"must be integer \(long, int\) or bool, got dtype "
     r"float32", lambda: X[tinygan.tensor([0.0, 1.0])]),
    ("a string in the key", IndexError, r"only ints, slices, None, \.\.\., .* got str",
     lambda: X["a"]),
    ("cat of mismatched shapes", ValueError, r"cat: tensors\[1\] has shape \(3, 2\) and "
     r"tensors\[0\] \(3, 4\): all sizes but dim 0 must match",
     lambda: cat([X, X[:, :2]])),
    ("cat dim out of range", IndexError, r"cat: dim 2 is out of range for a 2-d tensor "
     r"\(expected -2 to 1\)", lambda: cat([X, X], 2)),
    ("cat of nothing", ValueError, r"cat: expected a non-empty list", lambda: cat([])),
    ("cat of a tensor", TypeError, r"cat: expected a list or tuple of Tensors, got Tensor",
     lambda: cat(X)),
    ("cat of mixed dtypes", TypeError, r"cat: tensors have dtypes float32, int64",
     lambda: cat([X, tinygan.tensor([[1, 2, 3, 4]])])),
    ("cat of 0-d tensors", ValueError, r"zero-dimensional", lambda: cat([X[0, 0], X[0, 1]])),
    ("stack of mismatched shapes", ValueError, r"stack: tensors\[1\] has shape \(4, 3\) and "
     r"tensors\[0\] \(3, 4\)", lambda: stack([X, X.T])),
    ("stack dim out of range", IndexError, r"stack: dim -4 is out of range for stacking 2-d "
     r"tensors \(expected -3 to 2\)",
     lambda: stack([X, X], -4)),
    ("split sections not adding up", ValueError, r"split: sections \[1, 1\] must be "
     r"non-negative and add up to the size 4 of dim 1", lambda: X.split([1, 1], dim=1)),
    ("split size zero", ValueError, r"split: split_size must be positive, got 0",
     lambda: split(X, 0)),
    ("split dim out of range", IndexError, r"split: dim 5 is out of range",
     lambda: split(X, 1, 5)),
    ("chunk count zero", ValueError, r"chunk: chunks must be a positive int, got 0",
     lambda: chunk(X, 0)),
    ("gather index out of range", IndexError, r"gather: index 4 is out of range for dim 1 of "
     r"size 4", lambda: X.gather(1, tinygan.tensor([[0, 4]]))),
    ("gather negative index", IndexError, r"gather: index -1 is out of range",
     lambda: X.gather(0, tinygan.tensor([[-1]]))),
    ("gather index of another rank", ValueError, r"gather: index has 1 dims \(shape \(2,\)\), "
     r"input 2", lambda: gather(X, 0, tinygan.tensor([0, 1]))),
    ("gather index too large", ValueError, r"gather: index of shape \(1, 5\) is larger than "
     r"input of shape \(3, 4\) outside dim 0", lambda: gather(X, 0, tinygan.zeros(
         1, 5, dtype=tinygan.int64))),
    ("gather bool index", IndexError, r"gather: index must be an integer tensor",
     lambda: gather(X, 0, tinygan.tensor([[True]]))),
]


@pytest.mark.parametrize("error_type, pattern, call", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_mistakes_are_one_line_errors(error_type, pattern, call):
    one_line_error(error_type, pattern, call)


# --- the same ops on the CuPy stand-in --------------------------------------------------------

@pytest.fixture(scope="module")
def cuda():
    with installed():
        yield "cuda"


@settings(max_examples=15)
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_index_on_the_cupy_stand_in_matches_the_cpu(cuda, data, seed):
    shape = draw_shape(data)
    key = draw_key(data, shape, negative_steps=True)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    results = []
    for device in ("cpu", cuda):
        t = tinygan.tensor(x, device=device, requires_grad=True)
        y = t[as_given(data, key) if device == "cpu" else key]
        y.backward(tinygan.tensor(np.ones(y.shape, np.float32), device=device))
        assert y.device == device and t.grad.device == device
        results.append((y.numpy(), t.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_joining_and_gather_on_the_cupy_stand_in_match_the_cpu(cuda):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3, 4)).astype(np.float32)
    index = np.array([[0, 0, 2, 1], [2, 2, 2, 2]])
    results = []
    for device in ("cpu", cuda):
        x = tinygan.tensor(a, device=device, requires_grad=True)
        y = tinygan.tensor(b, device=device, requires_grad=True)
        labels = tinygan.tensor(index, device=device)
        out = cat([stack([x, y], 1).reshape(3, 8)[:2], x.gather(0, labels)], dim=1)  # (2, 12)
        total = None
        for piece in out.chunk(2, dim=1) + out.split([1, 11], dim=1):
            term = (piece * piece).sum()
            total = term if total is None else total + term
        total.backward()
        assert x.grad.device == device
        results.append([out.numpy(), x.grad.numpy(), y.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_a_host_index_tensor_indexes_a_device_tensor(cuda):
    x = tinygan.tensor(np.arange(6.0, dtype=np.float32).reshape(3, 2), device=cuda)
    assert x[tinygan.tensor([2, 2, 0])].tolist() == [[4, 5], [4, 5], [0, 1]]
    host = tinygan.tensor(np.zeros(2, np.float32))
    one_line_error(IndexError, r"indices on 'cuda' cannot index a tensor on 'cpu'",
                   lambda: host[tinygan.tensor([0], device=cuda)])
