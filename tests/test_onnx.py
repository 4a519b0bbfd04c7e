"""tinygan.onnx.export: onnxruntime runs the exported models and matches tinygan's outputs."""
import sys

import numpy as np
import pytest

import tinygan
import tinygan.onnx
from tinygan import nn, optim
from tinygan.gan import dcgan

onnx = pytest.importorskip("onnx", reason='pip install -e ".[interop]"')
ort = pytest.importorskip("onnxruntime", reason='pip install -e ".[interop]"')

BATCH_AXES = {"input": {0: "batch"}, "output": {0: "batch"}}


def _randomize(model, rng):
    """Weights of unit-scale outputs (DCGAN's N(0, 0.02) makes them about 0.01, too small for
    an absolute tolerance to mean much); batch norm's gamma about 1 and beta about 0."""
    for name, p in model.named_parameters():
        scale = 1 / np.sqrt(p[0].numel()) if p.ndim > 1 else 0.2
        mean = 1.0 if p.ndim == 1 and name.endswith("weight") else 0.0
        p.array = rng.normal(mean, scale, size=p.shape).astype(np.float32)
    for layer in model.modules():
        if isinstance(layer, nn.SpectralNorm):
            layer.power_iteration(15)


def _trained_dcgan(image_size, steps=2):
    """A small DCGAN of random weights after a few Adam steps, so that the batch norms' running
    statistics and the weights are not their initial values."""
    tinygan.manual_seed(0)
    G = dcgan.Generator(nz=16, ngf=8, image_size=image_size)
    D = dcgan.Discriminator(ndf=8, image_size=image_size)
    for model in (G, D):
        _randomize(model, np.random.default_rng(0))
    g_opt, d_opt = (optim.Adam(m.parameters(), lr=0.01) for m in (G, D))
    for _ in range(steps):
        real = tinygan.randn(4, 3, image_size, image_size)
        d_opt.zero_grad()
        (D(G(tinygan.randn(4, 16, 1, 1)).detach()).mean() - D(real).mean()).backward()
        d_opt.step()
        g_opt.zero_grad()
        (-D(G(tinygan.randn(4, 16, 1, 1))).mean()).backward()
        g_opt.step()
    return G.eval(), D.eval()


def _max_error(model, path, *inputs, names=("input",)):
    """Largest |onnxruntime - tinygan| on ``inputs``, tinygan's model in eval mode, whose
    outputs must reach beyond 0.1."""
    with tinygan.no_grad():
        want = model(*inputs).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got, = session.run(None, {name: x.numpy() for name, x in zip(names, inputs)})
    assert got.shape == want.shape and np.abs(want).max() > 0.1
    return float(np.abs(got - want).max())


@pytest.mark.parametrize("image_size", [32, 64])
def test_dcgan_exports_and_matches_with_a_free_batch_size(tmp_path, image_size):
    G, D = _trained_dcgan(image_size)
    for name, model, shape in (("G", G, (16, 1, 1)), ("D", D, (3, image_size, image_size))):
        path = tmp_path / f"{name}.onnx"
        tinygan.onnx.export(model, tinygan.randn(2, *shape), path, dynamic_axes=BATCH_AXES)
        proto = onnx.load(str(path))
        onnx.checker.check_model(proto, full_check=True)
        named = {i.name for i in proto.graph.initializer if not i.name.startswith("constant_")}
        assert named == {k for k in model.state_dict() if not k.endswith("num_batches_tracked")}
        for batch in (2, 5):
            assert _max_error(model, path, tinygan.randn(batch, *shape)) < 1e-5
        assert not model.training
    assert sorted(p.name for p in tmp_path.iterdir()) == ["D.onnx", "G.onnx"]  # no temporaries


@pytest.mark.parametrize("norm", ["instance", "spectral"])
def test_discriminators_of_other_norms(tmp_path, norm):
    """Instance norm is an ONNX op; spectral norm's normalised weights are folded."""
    D = dcgan.Discriminator(ndf=8, norm=norm)
    _randomize(D, np.random.default_rng(2))
    D.eval()
    path = tmp_path / "D.onnx"
    tinygan.onnx.export(D, tinygan.randn(2, 3, 32, 32), path, dynamic_axes=BATCH_AXES)
    assert _max_error(D, path, tinygan.randn(3, 3, 32, 32)) < 1e-5


class ConditionalG(nn.Module):
    """z and a class label -> a 16x16 image: Embedding, cat, Linear, view, biased transposed
    convolutions (one with output_padding), BatchNorm2d + LeakyReLU, a sigmoid gate."""

    def __init__(self, nz=8, classes=10):
        super().__init__()
        self.embed = nn.Embedding(classes, 4)
        self.fc = nn.Linear(nz + 4, 16 * 4 * 4)
        self.gate = nn.Linear(16 * 4 * 4, 1)
        self.up = nn.Sequential(nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.BatchNorm2d(8),
                                nn.LeakyReLU(0.1),
                                nn.ConvTranspose2d(8, 3, 3, 2, 1, output_padding=1), nn.Tanh())

    def forward(self, z, labels):
        h = self.fc(tinygan.cat([z, self.embed(labels)], dim=1)).relu()
        gate = nn.functional.sigmoid(self.gate(h)).view(-1, 1, 1, 1)
        return self.up(h.view(-1, 16, 4, 4)) * gate * 0.5 + 0.5


def test_conditional_generator_with_embedding_and_cat(tmp_path):
    tinygan.manual_seed(1)
    model = ConditionalG()
    model.train()
    model(tinygan.randn(6, 8), tinygan.tensor(np.arange(6)))  # moves the running statistics
    path = tmp_path / "cond.onnx"
    names = ("z", "labels")
    tinygan.onnx.export(model.eval(), (tinygan.randn(2, 8), tinygan.tensor(np.array([3, 7]))),
                        path, input_names=names,
                        dynamic_axes={"z": [0], "labels": [0], "output": [0]})
    onnx.checker.check_model(onnx.load(str(path)))
    error = _max_error(model, path, tinygan.randn(5, 8), tinygan.tensor(np.array([0, 9, 2, 2, 5])),
                       names=names)
    assert error < 1e-5


class CopiedLabels(ConditionalG):
    """ConditionalG whose labels reach the embedding through a copy (.clone())."""

    def forward(self, z, labels):
        return super().forward(z, labels.clone())


def test_integer_input_that_does_not_reach_an_embedding_unchanged_is_refused(tmp_path):
    """Through a copy, the labels' example values would be baked in as a constant: refused."""
    with pytest.raises(ValueError, match="integer input 'labels' does not reach an embedding"):
        tinygan.onnx.export(CopiedLabels().eval(),
                            (tinygan.randn(2, 8), tinygan.tensor(np.array([3, 7]))),
                            tmp_path / "c.onnx", input_names=("z", "labels"))
    assert not list(tmp_path.iterdir())


class Exponential(nn.Module):
    def forward(self, x):
        return nn.functional.relu(x).exp()


def test_an_unsupported_op_is_named_in_one_line(tmp_path):
    with pytest.raises(NotImplementedError) as caught:
        tinygan.onnx.export(Exponential(), tinygan.randn(2, 3), tmp_path / "e.onnx")
    message = str(caught.value)
    assert message.startswith("onnx.export: cannot export Function 'Exp' (ops/arithmetic.py); "
                              "supported: ")
    assert "ConvTranspose2d" in message and "\n" not in message
    assert not list(tmp_path.iterdir())


def test_without_the_onnx_package_the_error_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[interop\]"'):
        tinygan.onnx.export(Exponential(), tinygan.randn(2, 3), tmp_path / "e.onnx")
