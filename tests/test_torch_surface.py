"""PyTorch's idioms for making, viewing and converting tensors, run unchanged on tinygan (issue 28).

Each test runs a snippet of PyTorch code twice, with ``torch`` bound to tinygan and to PyTorch,
and compares what it leaves in ``y``: values, dtype, shape and requires_grad of every tensor,
and plain values exactly. The four cases that ran and gave another result before issue 28
(``Tensor(*sizes)``, ``Tensor(float64 data)``, ``x.data`` and ``x.size``) come first, each
with its old result spelled out. Without PyTorch only tinygan's side runs, and the spelled-out
expectations still hold.
"""
import numpy as np
import pytest

import tinygan
from cuda_emulation import installed, not_installed

try:
    import torch
except ImportError:  # the oracle is optional: tinygan's side still runs
    torch = None

VALUES = np.array([[0.5, -1.5, 2.25], [-0.75, 3.0, 0.0]])  # float64, exact in float16 too


def run(code, **names):
    """``y`` after running ``code`` with ``torch`` bound to tinygan, then to PyTorch (None when
    PyTorch is missing); NumPy arrays in ``names`` are copied for each run."""
    results = []
    for library in (tinygan, torch):
        if library is None:
            results.append(None)
            continue
        scope = {"torch": library, "np": np, "VALUES": VALUES.copy()}
        scope |= {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in names.items()}
        exec(code, scope)  # noqa: S102  (the snippets are this file's own)
        results.append(scope["y"])
    return results


def assert_same(ours, theirs, values=True):
    """ours (tinygan's result) is PyTorch's: tensors in values (unless not ``values``: an
    uninitialised one), dtype, shape and requires_grad; dtypes by name; the rest exactly."""
    if theirs is None:
        return
    if isinstance(theirs, (tuple, list)):
        assert type(ours) in (tuple, list, tinygan.Size) and len(ours) == len(theirs), ours
        for mine, their in zip(ours, theirs):
            assert_same(mine, their, values)
    elif isinstance(theirs, torch.Tensor):
        assert isinstance(ours, tinygan.Tensor), f"expected a Tensor, got {type(ours).__name__}"
        assert ours.shape == tuple(theirs.shape)
        assert ours.dtype == _numpy_dtype(theirs.dtype)
        assert ours.requires_grad == theirs.requires_grad
        if values:
            np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    elif isinstance(theirs, torch.dtype):
        assert ours == _numpy_dtype(theirs)
    elif isinstance(theirs, np.ndarray):
        assert type(ours) is np.ndarray and ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
    else:
        assert type(ours) is type(theirs) and ours == theirs, (ours, theirs)


def _numpy_dtype(dtype):
    """A torch dtype as the NumPy dtype of the same name."""
    return np.dtype(str(dtype).removeprefix("torch."))


def same(code, values=True, **names):
    """Run ``code`` on both and check that tinygan's ``y`` is PyTorch's; return tinygan's."""
    ours, theirs = run(code, **names)
    assert_same(ours, theirs, values)
    return ours


def refused(code, **names):
    """The exception type that ``code`` raises on tinygan, checked to be PyTorch's, and its
    message, checked to be one line."""
    raised = []
    for library in (tinygan, torch):
        if library is None:
            continue
        scope = {"torch": library, "np": np} | names
        with pytest.raises(Exception) as info:
            exec(code, scope)  # noqa: S102
        raised.append(info)
    if len(raised) == 2:
        assert issubclass(raised[0].type, raised[1].type) or raised[0].type is raised[1].type, (
            raised[0].value, raised[1].value)
    message = str(raised[0].value)
    assert message and "\n" not in message
    return message


# --- the four silent cases: each ran on tinygan before and gave another result ---------------

@pytest.mark.parametrize("code, shape", [
    ("y = torch.Tensor(16, 1)", (16, 1)),  # was a 0-d int64 16 with requires_grad=1
    ("y = torch.Tensor(2, 3)", (2, 3)),
    ("y = torch.Tensor(np.int64(3))", (3,)),
    ("y = torch.Tensor()", (0,)),
    ("y = torch.Tensor(torch.Tensor(4, 2).size())", (4, 2)),
    ("y = torch.FloatTensor(5, 1)", (5, 1)),
])
def test_sizes_make_an_uninitialised_float32_tensor(code, shape):
    y = same(code, values=False)
    assert y.shape == shape and y.dtype == np.float32 and y.requires_grad is False


@pytest.mark.parametrize("code", [
    "y = torch.Tensor(np.zeros((2, 3)))",  # float64 data: was kept float64
    "y = torch.Tensor(VALUES)",
    "y = torch.FloatTensor(VALUES)",
    "y = torch.Tensor([1, 2])",
    "y = torch.Tensor([True, False])",
    "y = torch.Tensor(np.array(2.5))",
    "y = torch.Tensor(np.arange(4))",
])
def test_tensor_of_data_makes_the_default_dtype(code):
    y = same(code)
    assert y.dtype == np.float32


def test_tensor_of_float32_data_shares_it_as_pytorch():
    same("a = np.zeros(3, np.float32); y = torch.Tensor(a); a[0] = 5")


def test_data_is_a_tensor_sharing_the_array_without_grad():
    code = ("w = torch.Tensor(VALUES.astype(np.float32))\n"
            "w.requires_grad = True\n"
            "d = w.data\n"
            "d.numpy()[0, 0] = 10.0\n"  # through the shared array: w changes too
            "y = (d, w.detach(), d.requires_grad, d.is_leaf, w.requires_grad)")
    d, w, *_ = same(code)
    assert isinstance(d, tinygan.Tensor) and not d.requires_grad  # was the raw ndarray
    assert w.numpy()[0, 0] == 10.0


def test_dcgan_init_reads_weight_data_as_a_tensor():
    layer_weight = same("y = torch.nn.Linear(3, 2).weight.data", values=False)
    assert isinstance(layer_weight, tinygan.Tensor) and layer_weight.shape == (2, 3)


def test_assigning_data_replaces_the_array():
    code = ("w = torch.Tensor([1.0, 2.0])\n"
            "w.requires_grad = True\n"
            "w.data = torch.Tensor([5.0, 6.0, 7.0])\n"
            "(w * 2).sum().backward()\n"
            "y = (w, w.grad)")
    w, grad = same(code)
    assert w.shape == (3,) and w.requires_grad and grad.tolist() == [2.0, 2.0, 2.0]
    assert "expected a Tensor, got ndarray" in refused(
        "w = torch.Tensor([1.0]); w.data = np.zeros(3)")


def test_size_is_a_method():
    code = ("x = torch.Tensor(np.zeros((4, 3), np.float32))\n"
            "y = (x.size(), x.size(0), x.size(-1), x.size(dim=1), x.numel(), x.dim(),\n"
            "     x.nelement(), x.shape, len(x), x.size().numel())")
    y = same(code)
    assert y[0] == (4, 3) and y[1] == 4  # x.size was the int 12, x.size(0) a TypeError
    assert "dim 2 is out of range for a 2-d tensor (expected -2 to 1)" in refused(
        "torch.Tensor(np.zeros((4, 3), np.float32)).size(2)")


# --- making tensors: tensor, from_numpy, the legacy types, the default dtype -----------------

@pytest.mark.parametrize("code", [
    "y = torch.tensor(VALUES)",
    "y = torch.tensor([1.0, 2.0])",
    "y = torch.tensor([1, 2])",
    "y = torch.tensor([True, False])",
    "y = torch.tensor(3.5)",
    "y = torch.tensor(3)",
    "y = torch.tensor([])",
    "y = torch.tensor(np.float64(3.0))",
    "y = torch.tensor(np.arange(3, dtype=np.int32))",
    "y = torch.tensor([1, 2.5], dtype=torch.int64)",
    "y = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)",
    pytest.param("y = torch.tensor(torch.tensor(VALUES))",  # PyTorch warns: use clone()
                 marks=pytest.mark.filterwarnings("ignore:To copy construct")),
    "y = torch.from_numpy(VALUES)",
    "y = torch.from_numpy(np.arange(3))",
    "y = torch.LongTensor([1.5, -2.7])",
    "y = torch.LongTensor(VALUES)",
    "y = torch.DoubleTensor([1, 2])",
    "y = torch.DoubleTensor(2, 2).dtype",
])
def test_making_tensors(code):
    same(code)


def test_tensor_copies_and_from_numpy_shares():
    y = same("a = np.zeros(3); y = (torch.tensor(a), torch.from_numpy(a)); a[0] = 7")
    assert y[0].numpy()[0] == 0 and y[1].numpy()[0] == 7


@pytest.mark.parametrize("name", ["float32", "float64", "float16", "int64", "int32", "bool",
                                  "uint8", "float", "double", "long", "half"])
def test_dtype_constants(name):
    same(f"y = torch.tensor([0, 1, 2], dtype=torch.{name})")


def test_set_default_dtype_changes_what_floats_become():
    code = ("torch.set_default_dtype(torch.float64)\n"
            "try:\n"
            "    y = (torch.Tensor([1]), torch.tensor([1.5]), torch.FloatTensor([1]),\n"
            "         torch.tensor([1]), torch.get_default_dtype())\n"
            "finally:\n"
            "    torch.set_default_dtype(torch.float32)\n"
            "y += (torch.get_default_dtype(),)")
    y = same(code)
    assert y[0].dtype == np.float64 and y[-1] == tinygan.float32
    assert "expected float32 or float64" in refused("torch.set_default_dtype(torch.int64)")


def test_legacy_types_answer_isinstance():
    same("x = torch.tensor(VALUES).float()\n"
         "y = (isinstance(x, torch.FloatTensor), isinstance(x, torch.LongTensor),\n"
         "     isinstance(x.long(), torch.LongTensor), isinstance(x, torch.Tensor))")


@pytest.mark.parametrize("code", [
    "y = torch.Tensor(3.0)",
    "y = torch.Tensor(np.ones(2), 2)",
    "y = torch.Tensor('abc')",
    "y = torch.from_numpy([1.0])",
    "y = torch.tensor([[1, 2], [3]])",
    "y = torch.tensor([1, 2], requires_grad=True)",
])
def test_what_pytorch_refuses_is_refused(code):
    refused(code)


# --- views, facts and conversions ------------------------------------------------------------

@pytest.mark.parametrize("code", [
    "y = x.view(-1, 1)",
    "y = x.view(3, 2)",
    "y = x.view((1, 6))",
    "y = x.detach().cpu().numpy()",
    "y = x.tolist()",
    "y = x.sum().item()",
    "y = x.contiguous()",
    "y = x.T.contiguous()",
    "y = x.float()",
    "y = x.double()",
    "y = x.half()",
    "y = x.long()",
    "y = x.int()",
    "y = x.bool()",
    "y = x.type()",
    "y = x.long().type()",
    "y = x.type(torch.float64)",
    "y = x.type(torch.LongTensor)",
    "y = x.type('torch.DoubleTensor')",
    "y = x.to('cpu')",
    "y = x.to(torch.float64)",
    "y = x.to('cpu', torch.float64)",
    "y = x.to(device='cpu', dtype=torch.int64)",
    "y = x.to(torch.tensor([1], dtype=torch.int32))",
    "y = x.to(torch.float64, copy=True)",
    "y = (x.is_cuda, x.device.type if hasattr(x.device, 'type') else x.device)",
    "y = (x.cpu() is x, x.to('cpu') is x, x.float() is x, x.contiguous() is x)",
    "y = x.requires_grad_(False)",
    "y = (x.is_leaf, (x * 2).is_leaf, x.grad_fn is None, (x * 2).grad_fn is None)",
    "y = torch.Tensor(x)",
])
def test_views_facts_and_conversions(code):
    same("x = torch.tensor(VALUES.astype(np.float32), requires_grad=True)\n" + code)


@pytest.mark.parametrize("convert", [
    "w.double()", "w.to(torch.float64)", "w.to('cpu', torch.float64)", "w.view(-1)",
    "w.T.contiguous()", "torch.Tensor(w)", "w.float()", "w.to(w.double())",
])
def test_gradients_flow_through_conversions(convert):
    code = ("w = torch.tensor(VALUES.astype(np.float32), requires_grad=True)\n"
            f"v = {convert}\n"
            "(v * v).sum().backward()\n"
            "y = (v.requires_grad, v.is_leaf, w.grad)")
    same(code)


def test_a_cast_to_an_integer_dtype_leaves_the_graph():
    same("w = torch.tensor(VALUES, requires_grad=True); y = (w.long(), w.bool(), w.int())")


def test_requires_grad_():
    same("x = torch.tensor(VALUES); y = (x.requires_grad_() is x, x.requires_grad)")
    refused("torch.tensor([1, 2]).requires_grad_()")
    refused("(torch.tensor(VALUES, requires_grad=True) * 2).requires_grad_(False)",
            VALUES=VALUES)


def test_to_refuses_what_pytorch_refuses():
    refused("torch.tensor(VALUES).to(torch.float64, torch.float32)", VALUES=VALUES)
    refused("torch.tensor(VALUES).to('cpu', device='cpu')", VALUES=VALUES)


# --- CUDA, on the CuPy stand-in (PyTorch here has no GPU to compare with) --------------------

def test_cuda_moves_the_tensor_and_gradients_come_back():
    with installed():
        w = tinygan.tensor(VALUES.astype(np.float32), requires_grad=True)
        on_gpu = w.cuda()
        assert on_gpu.is_cuda and on_gpu.device == "cuda" and not on_gpu.is_leaf
        assert on_gpu.type() == "torch.cuda.FloatTensor" and on_gpu.cuda() is on_gpu
        (on_gpu.double() * on_gpu.double()).sum().backward()
        assert w.grad.device == "cpu" and w.grad.dtype == np.float32
        np.testing.assert_allclose(w.grad.numpy(), 2 * VALUES)
        back = on_gpu.cpu()
        np.testing.assert_array_equal(back.numpy(), w.numpy())
        assert on_gpu.type(tinygan.FloatTensor).device == "cpu"
        assert on_gpu.type("torch.cuda.LongTensor").dtype == np.int64
        assert tinygan.tensor([1.0], device="cuda").is_cuda
        assert tinygan.Tensor(2, 3, device="cuda").is_cuda


def test_cuda_without_cupy_says_so():
    with not_installed():
        with pytest.raises(RuntimeError, match="the cuda device needs CuPy"):
            tinygan.tensor([1.0]).cuda()
