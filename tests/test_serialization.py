"""tinygan.save / tinygan.load: round trips of state dicts and nested containers (hypothesis),
optimizer and scheduler states, map_location, and one-line refusals of what cannot be stored
or read: objects, PyTorch's legacy pickles, foreign, truncated and hostile files."""
import json
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygan
from tinygan import io, nn, optim, tensor

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.text(max_size=5),
                    st.floats(allow_nan=False))
arrays = st.builds(lambda shape, dtype, seed: np.random.default_rng(seed).standard_normal(
    shape).astype(dtype), st.lists(st.integers(0, 3), max_size=3).map(tuple),
    st.sampled_from([np.float32, np.float64, np.int64, np.uint8]), st.integers(0, 99))
leaves = st.one_of(scalars, arrays, arrays.map(tensor))
keys = st.one_of(st.text(max_size=4), st.integers(-5, 5), st.booleans(), st.none())
values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(keys, inner, max_size=3)), max_leaves=8)


def _same(a, b):
    """Equal in value, type and structure (tensors: dtype, device, values, requires_grad)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, tinygan.Tensor):
        assert (a.dtype, a.device, a.requires_grad) == (b.dtype, b.device, b.requires_grad)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert a == b


@settings(max_examples=60, deadline=None)
@given(obj=values)
def test_nested_values_round_trip(obj, tmp_path_factory):
    path = tmp_path_factory.mktemp("save") / "obj.pt"
    tinygan.save(obj, path)
    _same(obj, tinygan.load(path))


def test_a_checkpoint_of_model_optimizer_and_scheduler_resumes(tmp_path):
    net = nn.Linear(3, 2)
    opt = optim.Adam([{"params": [net.weight]}, {"params": [net.bias], "lr": 0.1}],
                     weight_decay=1e-3)
    sched = optim.lr_scheduler.MultiStepLR(opt, [1, 3])
    loss = net(tensor(np.ones((4, 3), np.float32))).sum()
    loss.backward()
    opt.step()
    sched.step()
    tinygan.save({"epoch": 1, "model": net.state_dict(), "opt": opt.state_dict(),
                  "sched": sched.state_dict(), "w": net.weight}, tmp_path / "ckpt.pth")
    loaded = tinygan.load(tmp_path / "ckpt.pth", map_location="cpu", weights_only=True)
    assert loaded["epoch"] == 1 and loaded["w"].requires_grad
    fresh = optim.Adam([{"params": [net.weight]}, {"params": [net.bias]}])
    fresh.load_state_dict(loaded["opt"])
    assert fresh.param_groups[1]["lr"] == opt.param_groups[1]["lr"]
    _same(fresh.state_dict(), opt.state_dict())
    again = optim.lr_scheduler.MultiStepLR(fresh, [1, 3])
    again.load_state_dict(loaded["sched"])
    assert again.milestones == sched.milestones and again.last_epoch == 1
    copy = nn.Linear(3, 2)
    copy.load_state_dict(loaded["model"])
    np.testing.assert_array_equal(copy.weight.numpy(), net.weight.numpy())


def test_map_location_and_file_objects(tmp_path):
    x = tensor(np.arange(3.0))
    path = tmp_path / "x.pt"
    with open(path, "wb") as file:
        tinygan.save([x], file)
    for where in (None, "cpu", tinygan.device("cpu"), {"cpu": "cpu"}):
        with open(path, "rb") as file:
            assert tinygan.load(file, map_location=where)[0].device == "cpu"
    assert tinygan.load(path, map_location=lambda storage, loc: storage)[0].device == "cpu"
    with pytest.raises(TypeError, match=r"obj\[0\]: map_location\(tensor, 'cpu'\) must return a "
                                        "tensor, got int"):
        tinygan.load(path, map_location=lambda storage, loc: 0)
    with pytest.raises(TypeError, match="map_location must be a device"):
        tinygan.load(path, map_location=3)


def test_cuda_tensors_without_a_gpu_point_to_map_location(tmp_path):
    if tinygan.cuda.is_available():
        pytest.skip("a GPU is available here")
    path = tmp_path / "x.pt"
    tinygan.save(tensor(np.ones(2)), path)
    _edit_header(path, lambda h: h["obj"].update(device="cuda"))
    with pytest.raises(RuntimeError, match="saved on cuda .*; pass map_location='cpu'"):
        tinygan.load(path)
    assert tinygan.load(path, map_location="cpu").device == "cpu"


def _edit_header(path, change):
    """Rewrite the JSON header of a tinygan.save file with ``change`` applied."""
    with np.load(path) as npz:
        members = {k: npz[k] for k in npz.files}
    header = json.loads(str(members["__tinygan_save__"]))
    change(header)
    members["__tinygan_save__"] = np.array(json.dumps(header))
    with open(path, "wb") as file:
        np.savez(file, **members)


def test_objects_are_refused_in_one_line(tmp_path):
    net = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"obj is a Linear object.*save its state_dict\(\)"):
        tinygan.save(net, tmp_path / "net.pt")
    with pytest.raises(TypeError, match=r"obj\['opt'\] is a SGD object"):
        tinygan.save({"opt": optim.SGD(net.parameters(), lr=0.1)}, tmp_path / "o.pt")
    with pytest.raises(TypeError, match=r"obj\[0\] is a set"):
        tinygan.save([{1}], tmp_path / "s.pt")
    with pytest.raises(TypeError, match="has the key"):
        tinygan.save({(1, 2): 3}, tmp_path / "k.pt")
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary


def test_legacy_pytorch_files_are_refused_unread(tmp_path):
    """PyTorch's zip files are read without their pickle (tests/test_interop.py); its legacy
    format, a bare pickle, is refused."""
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match="old.pt: a pickle.*does not unpickle"):
        tinygan.load(tmp_path / "old.pt")


def test_foreign_damaged_and_hostile_files_give_one_line(tmp_path):
    path = tmp_path / "x.pt"
    tinygan.save({"w": np.ones(1000)}, path)
    data = path.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[:len(data) // 2])
    (tmp_path / "text.pt").write_text("hello")
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    io.save_checkpoint(tmp_path / "ckpt.npz", {"net": nn.Linear(2, 2)}, {}, {})
    with zipfile.ZipFile(tmp_path / "junk.pt", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__tinygan_save__.npy", b"\0" * (1 << 20))
    hostile = tmp_path / "deep.pt"
    tinygan.save(0, hostile)
    _edit_header(hostile, lambda h: h.update(obj={"list": [{"tensor": 7}]}))
    for name, words in [("cut.pt", "damaged or foreign"), ("text.pt", "not a zip archive"),
                        ("plain.npz", "not one tinygan.save wrote"),
                        ("ckpt.npz", "tinygan.io.load_checkpoint"),
                        ("junk.pt", "__tinygan_save__.npy: the magic string is not correct"),
                        ("deep.pt", r"obj\[0\]: expected a list, tuple, dict, tensor or array")]:
        with pytest.raises(ValueError, match=f"{name}: .*{words}") as error:
            tinygan.load(tmp_path / name)
        assert "\n" not in str(error.value)
    with pytest.raises(FileNotFoundError, match="no such file"):
        tinygan.load(tmp_path / "absent.pt")


def test_a_device_or_a_folder_is_named_not_called_missing(tmp_path):
    """A symlink to /dev/zero (which would stream zeros without end) and a folder: one line
    each saying what the path is, from tinygan.load and from io.load_checkpoint (both said
    'no such file' / 'not found' of a path that is there)."""
    (tmp_path / "zero.pth").symlink_to("/dev/zero")
    for read in (tinygan.load, io.load_checkpoint):
        with pytest.raises(ValueError, match="zero.pth is not a regular file") as error:
            read(tmp_path / "zero.pth")
        assert "\n" not in str(error.value)
    with pytest.raises(IsADirectoryError, match="is a folder, not a file"):
        tinygan.load(tmp_path)
