"""The DCGAN models: PyTorch's parameter counts and output shapes, and the init recipe."""
import numpy as np
import pytest

from tinygan import nn, no_grad, tensor
from tinygan.gan import dcgan

# The same architectures built in torch.nn have exactly these many parameters.
COUNTS = {32: (3_575_360, 663_296), 64: (3_576_704, 2_765_568)}


@pytest.mark.parametrize("size", [32, 64])
def test_parameter_counts_and_output_shapes(size):
    G, D = dcgan.Generator(image_size=size), dcgan.Discriminator(image_size=size)
    assert (dcgan.count_parameters(G), dcgan.count_parameters(D)) == COUNTS[size]
    with no_grad():
        fake = G(tensor(np.zeros((2, 100, 1, 1), np.float32)))
        score = D(fake)
    assert fake.shape == (2, 3, size, size) and score.shape == (2,)
    assert np.all(np.abs(fake.array) <= 1) and np.all(np.isfinite(score.array))  # logits


def test_weights_follow_the_dcgan_init():
    G = dcgan.Generator()
    conv = np.concatenate([p.array.ravel() for n, p in G.named_parameters() if p.ndim == 4])
    gamma = np.concatenate([p.array for n, p in G.named_parameters()
                            if n.endswith("weight") and p.ndim == 1])
    beta = np.concatenate([p.array for n, p in G.named_parameters() if n.endswith("bias")])
    assert abs(conv.mean()) < 1e-3 and abs(conv.std() - 0.02) < 1e-3
    assert abs(gamma.mean() - 1) < 5e-3 and abs(gamma.std() - 0.02) < 5e-3
    assert np.all(beta == 0)


def test_unsupported_image_size_is_refused():
    with pytest.raises(ValueError, match=r"image_size must be one of \(32, 64\), got 48"):
        dcgan.Generator(image_size=48)


@pytest.mark.parametrize("size", [32, 64])
def test_a_spectral_d_normalises_every_conv_and_has_no_batch_statistics(size):
    D = dcgan.Discriminator(ndf=4, image_size=size, norm="spectral")
    layers = D.main.children()
    convs = [layer for layer in layers if isinstance(layer, (nn.Conv2d, nn.SpectralNorm))]
    assert convs and all(isinstance(layer, nn.SpectralNorm) for layer in convs)
    assert not any(isinstance(layer, nn.BatchNorm2d) for layer in layers)
    for layer in convs:  # fitted to the DCGAN init by 15 power iterations, from below
        w = layer.module.weight.numpy().reshape(len(layer.u.array), -1)
        sigma, top = layer.u.numpy() @ w @ layer.v.numpy(), np.linalg.svd(w, compute_uv=False)[0]
        assert 0.9 * top < sigma <= top * (1 + 1e-5)
    with no_grad():
        assert D(tensor(np.zeros((2, 3, size, size), np.float32))).shape == (2,)
