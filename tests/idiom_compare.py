"""How the idiom tests (test_idioms.py, test_idioms_nn.py) compare a row's result in tinygan
with PyTorch's: both turned into plain objects, then compared (see assert_same)."""
import numpy as np
import pytest

import tinygan

try:
    import torch
except ImportError:  # the oracle is optional: tinygan's side still runs
    torch = None


def plain(value):
    """``value`` with tensors and dtypes of either library as plain, comparable objects: a
    tensor as ("tensor", array, requires_grad), a dtype as ("dtype", NumPy dtype), an ndarray
    as ("ndarray", array), a tuple or list (a Size, a named tuple) as a tuple."""
    if isinstance(value, tinygan.Tensor):
        return ("tensor", value.numpy().copy(), value.requires_grad)
    if torch is not None and isinstance(value, torch.Tensor):
        return ("tensor", value.detach().cpu().numpy().copy(), value.requires_grad)
    if isinstance(value, np.dtype) or torch is not None and isinstance(value, torch.dtype):
        return ("dtype", np.dtype(str(value).removeprefix("torch.")))
    if isinstance(value, np.ndarray):
        return ("ndarray", value.copy())
    if isinstance(value, (tuple, list)):
        return tuple(plain(v) for v in value)
    return value


def assert_same(ours, theirs, values=True, where="result"):
    """ours is theirs (both plain): tensors and arrays by shape, dtype (and requires_grad) and,
    if ``values``, values; floats to float32's precision, or to 0.05 if not ``values``; the
    rest exactly."""
    if isinstance(theirs, tuple) and theirs and theirs[0] in ("tensor", "ndarray", "dtype"):
        assert isinstance(ours, tuple) and ours[:1] == theirs[:1], f"{where}: {ours} vs {theirs}"
        if theirs[0] == "dtype":
            assert ours[1] == theirs[1], f"{where}: dtype {ours[1]} vs {theirs[1]}"
            return
        mine, their = ours[1], theirs[1]
        assert (mine.shape, mine.dtype) == (their.shape, their.dtype), (
            f"{where}: shape/dtype {mine.shape} {mine.dtype} vs {their.shape} {their.dtype}")
        if theirs[0] == "tensor":
            assert ours[2] == theirs[2], f"{where}: requires_grad {ours[2]} vs {theirs[2]}"
        if values:
            np.testing.assert_allclose(mine, their, rtol=1e-6, atol=1e-6, err_msg=where)
    elif isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), f"{where}: {ours!r}"
        for i, (mine, their) in enumerate(zip(ours, theirs)):
            assert_same(mine, their, values, f"{where}[{i}]")
    elif isinstance(theirs, float):
        assert type(ours) is float, f"{where}: {type(ours).__name__} {ours!r}, expected a float"
        tolerance = dict(rel=1e-6) if values else dict(abs=0.05)
        assert ours == pytest.approx(theirs, **tolerance), f"{where}: {ours} vs {theirs}"
    else:
        assert type(ours) is type(theirs) and ours == theirs, f"{where}: {ours!r} vs {theirs!r}"
