"""Sample-quality metrics: SWD and its Laplacian pyramid, Fréchet distance, classifier score.

Every test uses small synthetic arrays (smooth random sinusoid images, random Gaussians).
"""
import numpy as np
import pytest

from tinygan.gan import metrics

COUNT = 128  # images per set in the SWD tests
FAST = {"directions": 128, "repeats": 2}  # enough for the deterministic checks


def smooth_images(rng, count, side=32, frequencies=(0.5, 2.0)):
    """float32 (N, 3, S, S) in (-1, 1): tanh of four random plane waves per channel."""
    y, x = np.mgrid[0:side, 0:side] / side  # (S, S)
    total = np.zeros((count, 3, side, side))
    for _ in range(4):
        fy, fx = 2 * np.pi * rng.uniform(*frequencies, (2, count, 3, 1, 1))
        phase = rng.uniform(0, 2 * np.pi, (count, 3, 1, 1))
        total += rng.uniform(0.2, 0.5, (count, 3, 1, 1)) * np.sin(fy * y + fx * x + phase)
    return np.tanh(total).astype(np.float32)


@pytest.fixture(scope="module")
def images():
    """Two independent smooth sets and one of clearly higher frequencies, each (128, 3, 32, 32)."""
    rng = np.random.default_rng(1)
    return {"a": smooth_images(rng, COUNT), "b": smooth_images(rng, COUNT),
            "busy": smooth_images(rng, COUNT, frequencies=(4.0, 8.0))}


def test_swd_of_a_set_with_itself_is_zero(images):
    # Same images and seed: the same patches and directions, so the sorted projections are equal.
    result = metrics.sliced_wasserstein(images["a"], images["a"].copy(), **FAST)
    assert [resolution for resolution, _ in result["levels"]] == [32, 16]
    assert result["mean"] == 0.0 and all(swd == 0.0 for _, swd in result["levels"])


def test_swd_grows_with_noise(images):
    noise = np.random.default_rng(2).standard_normal(images["a"].shape).astype(np.float32)
    noisy = [np.clip(images["a"] + strength * noise, -1, 1) for strength in (0.05, 0.2, 0.5)]
    results = [metrics.sliced_wasserstein(images["a"], other) for other in noisy]
    means = [result["mean"] for result in results]
    assert 0 < means[0] < means[1] < means[2]
    for level in range(2):
        swds = [result["levels"][level][1] for result in results]
        assert swds[0] < swds[1] < swds[2]


def test_swd_same_distribution_is_much_smaller_than_a_different_one(images):
    same = metrics.sliced_wasserstein(images["a"], images["b"])["mean"]
    different = metrics.sliced_wasserstein(images["a"], images["busy"])["mean"]
    assert 0 < same < 0.5 * different


def test_swd_is_deterministic_and_uint8_matches_float(images):
    pixels = np.round((images["a"] + 1) * 127.5).astype(np.uint8)  # (N, 3, 32, 32)
    as_float = pixels.astype(np.float64) / 127.5 - 1
    first = metrics.sliced_wasserstein(pixels, images["b"], seed=3, **FAST)
    assert first == metrics.sliced_wasserstein(pixels, images["b"], seed=3, **FAST)
    from_float = metrics.sliced_wasserstein(as_float, images["b"], seed=3, **FAST)
    assert from_float["mean"] == pytest.approx(first["mean"], rel=1e-4)
    assert metrics.sliced_wasserstein(pixels, images["b"], seed=4, **FAST) != first


def test_swd_levels_of_larger_images_and_progress_callback():
    rng = np.random.default_rng(5)
    calls = []
    result = metrics.sliced_wasserstein(smooth_images(rng, 8, side=64),
                                        smooth_images(rng, 8, side=64),
                                        progress=lambda done, total: calls.append((done, total)),
                                        **FAST)
    assert [resolution for resolution, _ in result["levels"]] == [64, 32, 16]
    assert result["mean"] == pytest.approx(np.mean([swd for _, swd in result["levels"]]))
    total = 2 + 3 * FAST["repeats"]  # one image chunk per set, then levels x repeats
    assert calls == [(done, total) for done in range(1, total + 1)]
    two = metrics.sliced_wasserstein(smooth_images(rng, 8, side=64),
                                     smooth_images(rng, 8, side=64), levels=2, **FAST)
    assert [resolution for resolution, _ in two["levels"]] == [64, 32]


def swd_error(images_a, images_b, **options):
    """The ValueError message of sliced_wasserstein on these arguments."""
    with pytest.raises(ValueError) as error:
        metrics.sliced_wasserstein(images_a, images_b, **options)
    return str(error.value)


def test_swd_rejects_bad_inputs():
    good = np.zeros((4, 3, 32, 32), dtype=np.float32)
    assert "images_a" in swd_error(good[0], good) and "(3, 32, 32)" in swd_error(good[0], good)
    message = swd_error(good, np.zeros((4, 1, 32, 32), dtype=np.float32))
    assert "images_b" in message and "(4, 1, 32, 32)" in message
    message = swd_error(good, np.zeros((4, 3, 8, 8), dtype=np.float32))
    assert "images_b" in message and "16x16" in message and "8x8" in message
    message = swd_error(good, good[:3])
    assert "images_a and images_b" in message and "4 and 3" in message
    assert "images_a" in swd_error(good.astype(np.int32), good)
    assert "images_a" in swd_error(np.full_like(good, np.nan), good)
    assert "images_b" in swd_error(good, good[:0])
    assert "same size" in swd_error(good, np.zeros((4, 3, 64, 64), dtype=np.float32))
    assert "levels" in swd_error(good, good, levels=4)  # 32 -> 4x4, smaller than a 7x7 patch
    assert "directions" in swd_error(good, good, directions=0)
    assert "patches_per_image" in swd_error(good, good, patches_per_image=2.5)


def test_laplacian_pyramid_reconstructs_the_image():
    batch = np.random.default_rng(6).uniform(-1, 1, (2, 3, 64, 64)).astype(np.float32)
    pyramid = metrics.laplacian_pyramid(batch, 3)
    assert [band.shape for band in pyramid] == [(2, 3, 64, 64), (2, 3, 32, 32), (2, 3, 16, 16)]
    np.testing.assert_allclose(metrics.reconstruct_pyramid(pyramid), batch, rtol=0, atol=1e-5)


def test_laplacian_pyramid_of_a_constant_image_has_no_detail():
    # The binomial kernel sums to 1 and reflect padding keeps a constant image constant.
    pyramid = metrics.laplacian_pyramid(np.full((1, 3, 32, 32), 0.25, dtype=np.float32), 2)
    np.testing.assert_allclose(pyramid[0], 0, atol=1e-6)
    np.testing.assert_allclose(pyramid[1], 0.25, atol=1e-6)


def random_covariance(rng, size, rank=None):
    """A random symmetric PSD (D, D) matrix of the given rank (full by default)."""
    factor = rng.standard_normal((size, rank or size))
    return factor @ factor.T / (rank or size)


def reference_frechet(mean1, cov1, mean2, cov2):
    """The plain formula: tr sqrt(C1 C2) as the sum of sqrt of the eigenvalues of C1 C2."""
    eigenvalues = np.linalg.eigvals(cov1 @ cov2)
    root_trace = np.sum(np.sqrt(np.clip(eigenvalues.real, 0, None)))
    return np.sum((mean1 - mean2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2 * root_trace


def test_gaussian_statistics_match_numpy():
    features = np.random.default_rng(7).standard_normal((50, 6)).astype(np.float32)
    mean, covariance = metrics.gaussian_statistics(features)
    assert mean.dtype == covariance.dtype == np.float64 and covariance.shape == (6, 6)
    np.testing.assert_allclose(mean, features.astype(np.float64).mean(axis=0))
    np.testing.assert_allclose(covariance, np.cov(features.astype(np.float64), rowvar=False))
    assert metrics.gaussian_statistics(features[:, :1])[1].shape == (1, 1)
    with pytest.raises(ValueError, match="features"):
        metrics.gaussian_statistics(features[:1])


def test_frechet_distance_of_identical_gaussians_is_zero():
    rng = np.random.default_rng(8)
    mean, covariance = rng.standard_normal(5), random_covariance(rng, 5)
    distance = metrics.frechet_distance(mean, covariance, mean, covariance)
    assert isinstance(distance, float) and distance == pytest.approx(0, abs=1e-10)


def test_frechet_distance_diagonal_and_one_dimensional_closed_form():
    rng = np.random.default_rng(9)
    mean1, mean2 = rng.standard_normal(4), rng.standard_normal(4)
    var1, var2 = rng.uniform(0.1, 3, 4), rng.uniform(0.1, 3, 4)
    expected = np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2) + np.sum((mean1 - mean2) ** 2)
    assert metrics.frechet_distance(mean1, np.diag(var1), mean2, np.diag(var2)) == \
        pytest.approx(expected, rel=1e-10)
    assert metrics.frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(2 ** 2 + 1)


@pytest.mark.parametrize("rank", [None, 3])  # full rank, and singular covariances
def test_frechet_distance_matches_the_eigvals_reference_and_is_symmetric(rank):
    # rel=1e-6: an eigenvalue that is 0 in exact math comes out ~1e-16, and its sqrt ~1e-8.
    rng = np.random.default_rng(10)
    for _ in range(5):
        mean1, mean2 = rng.standard_normal(5), rng.standard_normal(5)
        cov1, cov2 = random_covariance(rng, 5, rank), random_covariance(rng, 5, rank)
        distance = metrics.frechet_distance(mean1, cov1, mean2, cov2)
        assert distance == pytest.approx(reference_frechet(mean1, cov1, mean2, cov2), rel=1e-6)
        assert distance == pytest.approx(metrics.frechet_distance(mean2, cov2, mean1, cov1),
                                         rel=1e-6)


def test_frechet_distance_rejects_bad_shapes():
    mean, covariance = np.zeros(3), np.eye(3)
    with pytest.raises(ValueError, match=r"cov2.*\(3, 3\).*\(4, 4\)"):
        metrics.frechet_distance(mean, covariance, mean, np.eye(4))
    with pytest.raises(ValueError, match="mean1"):
        metrics.frechet_distance(covariance, covariance, mean, covariance)
    with pytest.raises(ValueError, match="mean2"):
        metrics.frechet_distance(mean, covariance, np.zeros(2), covariance)
    with pytest.raises(ValueError, match="cov1"):
        metrics.frechet_distance(mean, np.full((3, 3), np.inf), mean, covariance)


def test_classifier_score_uniform_predictions_give_one():
    mean, std = metrics.classifier_score(np.full((100, 10), 0.1))
    assert mean == pytest.approx(1.0) and std == pytest.approx(0.0, abs=1e-12)


def test_classifier_score_confident_even_predictions_give_the_class_count():
    classes = 7
    labels = np.arange(10 * classes * 3) % classes  # every split holds each class 3 times
    mean, std = metrics.classifier_score(np.eye(classes)[labels], splits=10)
    assert mean == pytest.approx(classes) and std == pytest.approx(0.0, abs=1e-9)


def test_classifier_score_rejects_bad_inputs():
    good = np.full((20, 4), 0.25)
    with pytest.raises(ValueError, match="sum to 1"):
        metrics.classifier_score(good * 1.01)
    negative = good.copy()
    negative[0] = [1.5, -0.5, 0, 0]
    with pytest.raises(ValueError, match="non-negative"):
        metrics.classifier_score(negative)
    with pytest.raises(ValueError, match="probabilities"):
        metrics.classifier_score(good[:, 0])
    with pytest.raises(ValueError, match="probabilities"):
        metrics.classifier_score(good[:5], splits=10)
    with pytest.raises(ValueError, match="splits"):
        metrics.classifier_score(good, splits=0)
