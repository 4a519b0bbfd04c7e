"""Models between tinygan and PyTorch: safetensors files, the DCGAN's names in PyTorch's layout
(pytorch/examples' DCGAN loads tinygan's weights and the reverse, same outputs), PyTorch's
torch.save files read without PyTorch and without running their pickle, and the examples
sampling a PyTorch generator."""
import collections
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import tinygan as tg
from tinygan import optim
from tinygan.gan import dcgan, recipes
from support import load_example

generate = load_example("generate")
evaluate = load_example("evaluate")
NZ, NGF, NDF = 16, 4, 4


def torch_models(torch, size, nc=3):
    """pytorch/examples' DCGAN G and D (G's last layer a 3x3 Conv2d at 32x32), under .main."""
    nn = torch.nn
    g = [NZ, NGF * 8, NGF * 4, NGF * 2, NGF]
    d = [nc] + [NDF * 2 ** i for i in range({32: 3, 64: 4}[size])]
    layers = [layer for i, (c_in, c_out) in enumerate(zip(g, g[1:])) for layer in (
        nn.ConvTranspose2d(c_in, c_out, 4, 2 if i else 1, 1 if i else 0, bias=False),
        nn.BatchNorm2d(c_out), nn.ReLU(True))]
    layers += [nn.ConvTranspose2d(NGF, nc, 4, 2, 1, bias=False) if size == 64 else
               nn.Conv2d(NGF, nc, 3, 1, 1, bias=False), nn.Tanh()]
    critic = [nn.Conv2d(nc, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
    critic += [layer for c_in, c_out in zip(d[1:], d[2:]) for layer in (
        nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2))]
    critic += [nn.Conv2d(d[-1], 1, 4, 1, 0, bias=False), nn.Sigmoid()]
    return (nn.Sequential(collections.OrderedDict(main=nn.Sequential(*layers))),
            nn.Sequential(collections.OrderedDict(main=nn.Sequential(*critic))))


def trained_tinygan(size, steps=2):
    """tinygan's G and D after a few training steps (running statistics moved), in eval mode."""
    tg.manual_seed(0)
    G, D = dcgan.Generator(NZ, NGF, 3, size), dcgan.Discriminator(NDF, 3, size)
    opts = [optim.Adam(m.parameters(), lr=2e-3, betas=(0.5, 0.999)) for m in (G, D)]
    rng = np.random.default_rng(0)
    for _ in range(steps):
        real = rng.uniform(-1, 1, (4, 3, size, size)).astype(np.float32)
        z = rng.standard_normal((4, NZ, 1, 1)).astype(np.float32)
        recipes.train_step(G, D, *opts, tg.tensor(real), tg.tensor(z))
    return G.eval(), D.eval()


@pytest.mark.parametrize("size", [32, 64])
def test_dcgan_weights_move_to_pytorch_and_back_with_the_same_outputs(size, tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    G, D = trained_tinygan(size)
    z = np.random.default_rng(1).standard_normal((3, NZ, 1, 1)).astype(np.float32)
    x = np.random.default_rng(2).uniform(-1, 1, (3, 3, size, size)).astype(np.float32)
    tG, tD = torch_models(torch, size)
    for ours, theirs, name in ((G, tG, "G"), (D, tD, "D")):
        tg.save(dcgan.to_torch_state_dict(ours), tmp_path / f"{name}.safetensors")
        state = safetensors_torch.load_file(tmp_path / f"{name}.safetensors")
        assert state["main.1.num_batches_tracked" if name == "G" else
                     "main.3.num_batches_tracked"].dtype == torch.int64
        theirs.load_state_dict(state)  # strict: every key, no more
        theirs.eval()
    with torch.no_grad():
        np.testing.assert_allclose(tG(torch.from_numpy(z)).numpy(), G(tg.tensor(z)).numpy(),
                                   atol=1e-5)
        np.testing.assert_allclose(tD(torch.from_numpy(x)).flatten().numpy(),
                                   tg.sigmoid(D(tg.tensor(x))).numpy(), atol=1e-5)
        for module in tG.modules():  # the reverse: PyTorch's own weights and statistics
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2)
                module.num_batches_tracked.fill_(7)
        safetensors_torch.save_file(tG.state_dict(), tmp_path / "torch_G.safetensors")
        back = dcgan.Generator(NZ, NGF, 3, size)
        back.load_state_dict(dcgan.from_torch_state_dict(
            back, tg.load(tmp_path / "torch_G.safetensors")))
        np.testing.assert_allclose(back.eval()(tg.tensor(z)).numpy(),
                                   tG(torch.from_numpy(z)).numpy(), atol=1e-5)
    assert back.state_dict()["main.1.num_batches_tracked"].item() == 7


def test_mapping_refuses_what_does_not_fit_in_one_line():
    G = dcgan.Generator(NZ, NGF, 3, 32)
    state = dcgan.to_torch_state_dict(G)
    del state["main.4.weight"]
    with pytest.raises(ValueError, match=r"missing keys \['main.4.weight'\], unexpected keys "
                                         r"\[\]"):
        dcgan.from_torch_state_dict(G, state)
    with pytest.raises(ValueError, match="SpectralNorm, whose weights PyTorch names otherwise"):
        dcgan.to_torch_state_dict(dcgan.Discriminator(NDF, 3, 32, norm="spectral"))


def test_safetensors_round_trip_and_one_line_refusals(tmp_path):
    state = {"w": tg.randn(3, 4), "n": tg.tensor(np.int64(5)), "h": tg.tensor(
        np.ones(2, np.float16)), "a": np.arange(6, dtype=np.int32).reshape(2, 3)}
    tg.save(state, tmp_path / "s.safetensors")
    loaded = tg.load(tmp_path / "s.safetensors", map_location="cpu")
    assert sorted(loaded) == sorted(state)
    for key, value in state.items():
        expected = value.numpy() if isinstance(value, tg.Tensor) else value
        assert isinstance(loaded[key], tg.Tensor) and loaded[key].dtype == expected.dtype
        assert loaded[key].shape == expected.shape  # a 0-d tensor came back (1,)
        np.testing.assert_array_equal(loaded[key].numpy(), expected)
    (tmp_path / "s.bin").write_bytes((tmp_path / "s.safetensors").read_bytes())
    assert sorted(tg.load(tmp_path / "s.bin")) == sorted(state)  # known by its content
    for obj, words in (([tg.ones(1)], "obj is a list"), ({"x": {"y": tg.ones(1)}},
                                                         r"obj\['x'\] is a dict"),
                       ({1: tg.ones(1)}, "has the key 1 of type int")):
        with pytest.raises(TypeError, match="safetensors holds only a flat dict of tensors .*"
                                            + words):
            tg.save(obj, tmp_path / "bad.safetensors")
    assert not (tmp_path / "bad.safetensors").exists()
    data = (tmp_path / "s.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[:len(data) - 9])
    with pytest.raises(ValueError, match="cut.safetensors: a damaged safetensors file") as error:
        tg.load(tmp_path / "cut.safetensors")
    assert "\n" not in str(error.value)


def test_torch_save_state_dicts_are_read_without_torch(tmp_path):
    torch = pytest.importorskip("torch")
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    state = collections.OrderedDict(
        f32=torch.randn(2, 3), f64=torch.randn(3, dtype=torch.float64),
        f16=torch.randn(4).half(), i64=torch.tensor(7), i32=torch.arange(5, dtype=torch.int32),
        i8=torch.tensor([-3, 4], dtype=torch.int8), u8=torch.tensor([1, 255], dtype=torch.uint8),
        flag=torch.tensor([True, False]), base=base, transposed=base.t(),
        offset=base[1:3, 2:5], strided=base[::2, ::3], empty=torch.zeros(0, 3))
    state.update(torch.nn.BatchNorm2d(3).state_dict())
    bf16 = torch.tensor([1.5, -2.25, 3e8], dtype=torch.bfloat16)
    torch.save({"model": state, "bf16": bf16, "epoch": 3, "lr": 0.5,
                "param": torch.nn.Parameter(torch.ones(2))}, tmp_path / "sd.pth")
    with pytest.warns(UserWarning, match=r"sd.pth: bfloat16 tensors read as float32 .*"
                                         r"obj\['bf16'\]"):
        loaded = tg.load(tmp_path / "sd.pth")
    for key, value in state.items():
        assert loaded["model"][key].dtype == value.numpy().dtype, key
        np.testing.assert_array_equal(loaded["model"][key].numpy(), value.numpy())
    np.testing.assert_array_equal(loaded["bf16"].numpy(), bf16.float().numpy())
    assert (loaded["epoch"], loaded["lr"]) == (3, 0.5)
    np.testing.assert_array_equal(loaded["param"].numpy(), np.ones(2, np.float32))
    no_torch = (f"import sys; sys.modules['torch'] = None; import tinygan; "
                f"print(tinygan.load({str(tmp_path / 'sd.pth')!r})['model']['offset'].tolist())")
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", no_torch], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == str(base[1:3, 2:5].tolist())


class RunsCode:
    """What a hostile pickle holds: unpickling it calls os.system."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        import os
        return os.system, (self.command,)


def torch_like_zip(path, obj, storages=None):
    """A zip archive laid out as torch.save's: archive/data.pkl and archive/data/KEY."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", obj if isinstance(obj, bytes) else
                         pickle.dumps(obj, protocol=2))
        archive.writestr("archive/byteorder", "little")
        for key, data in (storages or {}).items():
            archive.writestr(f"archive/data/{key}", data)


def test_a_code_running_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    torch_like_zip(tmp_path / "evil.pt", {"w": RunsCode(f"touch {marker}")})
    with pytest.raises(ValueError, match=r"evil.pt: refused: the pickle asks for "
                                         r"(os|posix)\.system") as error:
        tg.load(tmp_path / "evil.pt")
    assert not marker.exists() and "\n" not in str(error.value)
    torch_like_zip(tmp_path / "list.pt", [1, 2])
    with pytest.raises(ValueError, match="list.pt: obj is a list; tinygan reads only dicts"):
        tg.load(tmp_path / "list.pt")
    pid = b"\x80\x02(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03" \
          b"\x00\x00\x00cpuK\x04tQ."
    torch_like_zip(tmp_path / "short.pt", pid, {"0": b"\0" * 8})
    with pytest.raises(ValueError, match="short.pt: storage 0: declares 4 FloatStorage "
                                         "elements, but its member holds 8 bytes"):
        tg.load(tmp_path / "short.pt")


def test_truncated_legacy_and_overreaching_torch_files_give_one_line(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(1000)}, tmp_path / "whole.pt")
    data = (tmp_path / "whole.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[:len(data) // 2])
    torch.save({"w": torch.ones(2)}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    torch.save({"w": torch.ones(4)[1:]}, tmp_path / "reach.pt")
    with zipfile.ZipFile(tmp_path / "reach.pt") as archive:
        members = {m.filename: archive.read(m) for m in archive.infolist()}
    pickled = members["reach/data.pkl"]
    members["reach/data.pkl"] = pickled.replace(b"K\x01K\x03\x85", b"K\x02K\x03\x85")
    assert members["reach/data.pkl"] != pickled
    with zipfile.ZipFile(tmp_path / "reach.pt", "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    for name, words in (("cut.pt", "damaged or foreign"), ("legacy.pt", "PyTorch's legacy"),
                        ("reach.pt", r"refused: a tensor of size \(3,\), stride \(1,\) and "
                                     "offset 2 reaches element 4 of a storage of 4")):
        with pytest.raises(ValueError, match=f"{name}: .*{words}") as error:
            tg.load(tmp_path / name)
        assert "\n" not in str(error.value)


@pytest.mark.parametrize("size", [32, 64])
def test_examples_sample_a_pytorch_generator(size, tmp_path, capsys):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tG = torch_models(torch, size)[0].eval()
    torch.save(tG.state_dict(), tmp_path / "netG_epoch_24.pth")
    G, config = generate.load_generator(tmp_path / "netG_epoch_24.pth", "cpu")
    assert config == {"nz": NZ, "ngf": NGF, "nc": 3, "image_size": size}
    z = np.random.default_rng(0).standard_normal((2, NZ, 1, 1)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(G(tg.tensor(z)).numpy(), tG(torch.from_numpy(z)).numpy(),
                                   atol=1e-5)
    assert generate.main([str(tmp_path / "netG_epoch_24.pth"), "--n", "4", "--rows", "1",
                          "--steps", "2", "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "grid.png").is_file()
    ort = pytest.importorskip("onnxruntime")
    assert generate.main([str(tmp_path / "netG_epoch_24.pth"), "--n", "4", "--rows", "1",
                          "--steps", "2", "--out", str(tmp_path / "out"),
                          "--export", str(tmp_path / "G.onnx")]) == 0
    z5 = np.random.default_rng(1).standard_normal((5, NZ, 1, 1)).astype(np.float32)
    exported, = ort.InferenceSession(str(tmp_path / "G.onnx")).run(None, {"z": z5})
    with torch.no_grad():  # PyTorch's weights -> tinygan -> ONNX, at another batch size
        np.testing.assert_allclose(exported, tG(torch.from_numpy(z5)).numpy(), atol=1e-5)
    G, D, epoch, _, config, which = evaluate.load_models(tmp_path / "netG_epoch_24.pth")
    assert (D, epoch, config["image_size"], which) == (None, None, size, "PyTorch G")
    torch.save({"w": torch.ones(2)}, tmp_path / "other.pth")
    assert generate.main([str(tmp_path / "other.pth")]) == 2
    assert "other.pth: expected the weights of a DCGAN generator" in capsys.readouterr().err
