"""tinygan.device, tinygan.cuda and tinygan.accelerator against PyTorch's; .to(device) for
tensors; indices other than the one GPU's refused in one line."""
import pickle

import numpy as np
import pytest

import tinygan
from tinygan import tensor

SPECS = [("cpu",), ("cuda",), ("cuda:0",), ("cuda", 0), ("cpu", 0)]


@pytest.mark.parametrize("spec", SPECS)
def test_devices_have_torchs_type_index_and_repr(spec):
    ours = tinygan.device(*spec)
    assert ours.type == spec[0].partition(":")[0]
    assert ours == ours.type and tinygan.device(ours) is ours
    assert pickle.loads(pickle.dumps(ours)).index == ours.index
    torch = pytest.importorskip("torch")
    theirs = torch.device(*spec)
    assert (ours.type, ours.index, repr(ours)) == (theirs.type, theirs.index, repr(theirs))


@pytest.mark.parametrize("spec, words", [
    (("cuda:1",), "one CUDA device, index 0; got index 1"),
    (("cuda", 2), "got index 2"),
    (("gpu",), "unknown device 'gpu'; tinygan knows cpu, cuda"),
    (("cuda:x",), "expected 'TYPE' or 'TYPE:INDEX'"),
])
def test_other_devices_are_refused_in_one_line(spec, words):
    with pytest.raises(ValueError, match=words):
        tinygan.device(*spec)
    with pytest.raises(ValueError, match=words):
        tensor(np.ones(2)).to(":".join(map(str, spec)))


def test_tensors_move_to_device_objects():
    x = tensor(np.ones(2))
    assert x.to(tinygan.device("cpu")) is x and x.to("cpu:0") is x
    assert tinygan.zeros(2, device=tinygan.device("cpu")).device == "cpu"
    assert tinygan.Generator(tinygan.device("cpu")).device == "cpu"
    with pytest.raises(ValueError, match="cuda: device must be the GPU"):
        x.cuda("cpu")
    if not tinygan.cuda.is_available():
        with pytest.raises(RuntimeError, match="cuda device"):
            x.to(tinygan.device("cuda:0"))


def test_cuda_and_accelerator_report_what_cupy_finds():
    try:
        tinygan.backend.get("cuda")
        found = True
    except RuntimeError:
        found = False
    assert tinygan.cuda.is_available() is found
    assert tinygan.cuda.device_count() == int(found)
    assert tinygan.accelerator.is_available() is found
    assert tinygan.accelerator.current_accelerator() == ("cuda" if found else None)
    tinygan.cuda.manual_seed_all(0)  # silently nothing without a GPU, as PyTorch
    torch = pytest.importorskip("torch")
    if not found and not torch.cuda.is_available():
        assert torch.accelerator.current_accelerator() is None
