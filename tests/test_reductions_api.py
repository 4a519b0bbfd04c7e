"""Reductions and elementwise functions (tinygan/ops/) against PyTorch on drawn cases.

Values, shapes, dtypes and gradients of sum, mean, var, std, norm, max, min, argmax, argmin
over drawn dims, of the elementwise methods and top-level functions, of where and masked_fill;
one-line errors for bad dims.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygan

torch = pytest.importorskip("torch")


@st.composite
def shapes_and_dims(draw, single=False):
    """A shape of 0 to 4 axes and a dim for it: None, an int or (unless single) a tuple."""
    shape = tuple(draw(st.lists(st.integers(1, 4), max_size=4)))
    ndim = len(shape)
    choices = [st.none()]
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
        if not single:
            choices.append(st.lists(st.integers(0, ndim - 1), min_size=1, unique=True)
                           .map(tuple))
    return shape, draw(st.one_of(*choices))


def pair(shape, seed, dtype=np.float64):
    """The same random values as a tinygan and a PyTorch tensor, both requiring gradients."""
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return (tinygan.tensor(x, requires_grad=True),
            torch.tensor(x, requires_grad=True))


def check(ours, theirs, x, tx):
    """Same values, shape and dtype; the same gradient of a weighted sum."""
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-9)
    if theirs.requires_grad:
        w = np.random.default_rng(0).standard_normal(theirs.shape)
        (ours * tinygan.tensor(w.astype(ours.numpy().dtype))).sum().backward()
        (theirs * torch.tensor(w, dtype=theirs.dtype)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-9)


def torch_reduce(name, tx, **kwargs):
    """PyTorch's reduction; norm as linalg.vector_norm (torch.norm takes at most 2 dims)."""
    if name == "norm":
        return torch.linalg.vector_norm(tx, 2, **kwargs)
    return getattr(torch, name)(tx, **kwargs)


def kwargs_of(dim, keepdim):
    return {} if dim is None else {"dim": dim, "keepdim": keepdim}


@settings(deadline=None)
@given(case=shapes_and_dims(), keepdim=st.booleans(), seed=st.integers(0, 2**31),
       name=st.sampled_from(["sum", "mean", "var", "std", "norm"]))
def test_reductions_over_drawn_dims_match_pytorch(case, keepdim, seed, name):
    shape, dim = case
    x, tx = pair(shape, seed)
    kwargs = kwargs_of(dim, keepdim)
    if name in ("var", "std") and np.prod([shape[d] for d in np.atleast_1d(
            range(len(shape)) if dim is None else dim)]) < 2:
        kwargs["correction"] = 0  # one element: PyTorch's unbiased estimate is nan
        name = "var"  # and std's gradient at 0 is nan here, 0 in PyTorch
    check(getattr(x, name)(**kwargs), torch_reduce(name, tx, **kwargs), x, tx)


@settings(deadline=None)
@given(case=shapes_and_dims(), keepdim=st.booleans(), seed=st.integers(0, 2**31),
       name=st.sampled_from(["sum", "mean", "var", "std", "norm"]))
def test_top_level_reductions_keep_float32(case, keepdim, seed, name):
    shape, dim = case
    x, tx = pair(shape, seed, np.float32)
    kwargs = kwargs_of(dim, keepdim)
    if name in ("var", "std"):
        kwargs["correction"] = 0
    ours, theirs = getattr(tinygan, name)(x, **kwargs), torch_reduce(name, tx, **kwargs)
    assert ours.dtype == tinygan.float32 and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_var_and_std_are_unbiased_by_default_as_pytorch():
    x = tinygan.tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == pytest.approx(torch.tensor([1.0, 2.0, 3.0, 4.0]).var().item())
    assert x.var(unbiased=False).item() == pytest.approx(1.25)
    assert x.std(correction=0).item() == pytest.approx(1.25 ** 0.5)


@settings(deadline=None)
@given(case=shapes_and_dims(single=True), keepdim=st.booleans(), seed=st.integers(0, 2**31),
       name=st.sampled_from(["max", "min"]))
def test_max_and_min_give_values_or_named_values_and_indices(case, keepdim, seed, name):
    shape, dim = case
    x, tx = pair(shape, seed)
    if dim is None:
        check(getattr(x, name)(), getattr(tx, name)(), x, tx)
        return
    ours, theirs = getattr(x, name)(dim, keepdim), getattr(tx, name)(dim, keepdim)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert ours.indices.dtype == tinygan.int64
    check(ours.values, theirs.values, x, tx)
    values, indices = getattr(tinygan, name)(x, dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(indices.numpy(), theirs.indices.numpy())


@given(case=shapes_and_dims(single=True), keepdim=st.booleans(), seed=st.integers(0, 2**31),
       name=st.sampled_from(["argmax", "argmin"]))
def test_argmax_and_argmin_match_pytorch(case, keepdim, seed, name):
    shape, dim = case
    x, tx = pair(shape, seed)
    ours, theirs = getattr(x, name)(**kwargs_of(dim, keepdim)), getattr(tx, name)(
        **kwargs_of(dim, keepdim))
    assert ours.dtype == tinygan.int64 and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


ELEMENTWISE = {
    "abs": ((), lambda a: a), "exp": ((), lambda a: a), "log": ((), np.abs),
    "sqrt": ((), np.abs), "pow": ((3,), lambda a: a), "sigmoid": ((), lambda a: a),
    "tanh": ((), lambda a: a), "relu": ((), lambda a: a),
    "clamp": ((-0.5, 0.5), lambda a: a), "clip": ((None, 0.3), lambda a: a)}


@settings(deadline=None)
@given(shape=st.lists(st.integers(1, 4), max_size=3).map(tuple), seed=st.integers(0, 2**31),
       name=st.sampled_from(sorted(ELEMENTWISE)))
def test_elementwise_methods_and_functions_match_pytorch(shape, seed, name):
    args, domain = ELEMENTWISE[name]
    values = domain(np.random.default_rng(seed).standard_normal(shape)) + (
        0.5 if domain is np.abs else 0.0)
    for call in (lambda t, lib: getattr(t, name)(*args),
                 lambda t, lib: getattr(lib, name)(t, *args)):
        x = tinygan.tensor(values, requires_grad=True)
        tx = torch.tensor(values, requires_grad=True)
        check(call(x, tinygan), call(tx, torch), x, tx)


@settings(deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       seed=st.integers(0, 2**31))
def test_where_and_masked_fill_match_pytorch(shape, seed):
    rng = np.random.default_rng(seed)
    mask = rng.random(shape) < 0.5
    x, tx = pair(shape, seed)
    y, ty = pair(shape[-1:], seed + 1)
    check(tinygan.where(tinygan.tensor(mask), x, y), torch.where(torch.tensor(mask), tx, ty),
          x, tx)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-6)
    x, tx = pair(shape, seed)
    check(x.masked_fill(tinygan.tensor(mask), -2.5),
          tx.masked_fill(torch.tensor(mask), -2.5), x, tx)


def test_where_keeps_an_inf_of_the_unpicked_branch_out_of_the_value():
    x = tinygan.tensor([0.0, 1.0])
    picked = tinygan.where(x > 0, tinygan.log(x), 0.0)
    np.testing.assert_array_equal(picked.numpy(), [0.0, 0.0])


def test_numpy_keywords_still_work():
    x = tinygan.tensor(np.ones((2, 3)))
    assert x.sum(axis=1, keepdims=True).shape == (2, 1)
    assert x.mean(axis=(0, 1)).shape == ()


@pytest.mark.parametrize("call, error, message", [
    (lambda x: x.sum(dim=3), IndexError, "sum: dim 3 is out of range for a 2-d tensor"),
    (lambda x: x.mean(dim=(0, -2)), ValueError, "mean: dim (0, -2) names an axis twice"),
    (lambda x: x.max(dim=-3), IndexError, "max: dim -3 is out of range"),
    (lambda x: x.argmin(dim=2), IndexError, "argmin: dim 2 is out of range"),
    (lambda x: x.std(dim=1.5), TypeError, "std: dim must be an int"),
    (lambda x: x.var(unbiased=True, correction=0), ValueError, "var: give unbiased or"),
    (lambda x: x.clamp(), ValueError, "clamp: give min, max or both"),
])
def test_bad_arguments_raise_one_line(call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        call(tinygan.tensor(np.ones((2, 3))))
    assert "\n" not in str(info.value)
