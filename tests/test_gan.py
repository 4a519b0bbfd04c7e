"""The recipe switches of tinygan.gan: each loss against its formula, and what each switch does."""
import numpy as np
import pytest

import tinygan as tg
from tinygan import gan, nn, optim

SCORES_REAL = np.array([2.0, -0.5, 0.3])
SCORES_FAKE = np.array([-1.0, 0.8, -3.0])


def log_sigmoid(s):
    return -np.log1p(np.exp(-s))


def tensor(values, requires_grad=False):
    return tg.tensor(np.asarray(values, np.float64), requires_grad=requires_grad)


@pytest.mark.parametrize("recipe, d_expected, g_expected", [
    (gan.Recipe(), -np.mean(log_sigmoid(SCORES_REAL)) - np.mean(log_sigmoid(-SCORES_FAKE)),
     -np.mean(log_sigmoid(SCORES_FAKE))),
    (gan.Recipe(g_loss="minimax"),
     -np.mean(log_sigmoid(SCORES_REAL)) - np.mean(log_sigmoid(-SCORES_FAKE)),
     np.mean(log_sigmoid(-SCORES_FAKE))),
    (gan.Recipe(real_label=0.9, temperature=2.0),
     -np.mean(0.9 * log_sigmoid(SCORES_REAL / 2) + 0.1 * log_sigmoid(-SCORES_REAL / 2))
     - np.mean(log_sigmoid(-SCORES_FAKE / 2)), -np.mean(log_sigmoid(SCORES_FAKE / 2))),
    (gan.Recipe(loss="lsgan"),
     0.5 * np.mean((SCORES_REAL - 1) ** 2) + 0.5 * np.mean(SCORES_FAKE ** 2),
     0.5 * np.mean((SCORES_FAKE - 1) ** 2)),
    (gan.Recipe(loss="hinge"),
     np.mean(np.maximum(0, 1 - SCORES_REAL)) + np.mean(np.maximum(0, 1 + SCORES_FAKE)),
     -np.mean(SCORES_FAKE)),
    (gan.Recipe(loss="wgan"), np.mean(SCORES_FAKE) - np.mean(SCORES_REAL), -np.mean(SCORES_FAKE)),
], ids=["bce", "minimax", "smoothing+temperature", "lsgan", "hinge", "wgan"])
def test_each_loss_matches_its_formula(recipe, d_expected, g_expected):
    d_loss = gan.discriminator_loss(recipe, tensor(SCORES_REAL), tensor(SCORES_FAKE))
    assert d_loss.item() == pytest.approx(d_expected, rel=1e-12)
    assert gan.generator_loss(recipe, tensor(SCORES_FAKE)).item() == pytest.approx(g_expected,
                                                                                 rel=1e-12)


def test_minimax_gradient_vanishes_where_the_non_saturating_one_does_not():
    """With D sure the fakes are fake (scores -8), d loss / d score is ~sigmoid(-8) for minimax
    and ~1 for the non-saturating loss: the reason the DCGAN paper trains G on the latter."""
    grads = {}
    for g_loss in gan.G_LOSSES:
        scores = tensor(np.full(4, -8.0), requires_grad=True)
        gan.generator_loss(gan.Recipe(g_loss=g_loss), scores).backward()
        grads[g_loss] = np.abs(scores.grad.array).sum()
    assert grads["minimax"] < 1e-3 < 0.99 < grads["non-saturating"]


def test_label_noise_flips_about_that_share_of_the_targets():
    rng = np.random.default_rng(0)
    real = gan.recipes._targets(tensor(np.zeros(20000)), 1.0, 0.1, rng)
    assert np.mean(real.array == 0) == pytest.approx(0.1, abs=0.01)
    assert set(np.unique(real.array)) == {0.0, 1.0}


def test_sample_latent_priors():
    rng = np.random.default_rng(0)
    z = gan.sample_latent(rng, (20000,), "uniform")
    assert z.dtype == np.float32 and z.min() >= -1 and z.max() <= 1 and abs(z.mean()) < 0.02
    z = gan.sample_latent(rng, (20000,), "gaussian")
    assert abs(z.std() - 1) < 0.02
    with pytest.raises(ValueError, match="prior must be one of .* got 'cauchy'"):
        gan.sample_latent(rng, (2,), "cauchy")


@pytest.mark.parametrize("recipe, setting, message", [
    (gan.Recipe(loss="hinge", real_label=0.9), "real_label", "needs targets"),
    (gan.Recipe(loss="wgan", label_noise=0.1), "label_noise", "needs targets"),
    (gan.Recipe(loss="lsgan", g_loss="minimax"), "g_loss", "needs loss 'bce'"),
    (gan.Recipe(loss="l1"), "loss", "must be one of"),
    (gan.Recipe(n_critic=0), "n_critic", "must be >= 1"),
    (gan.Recipe(temperature=0), "temperature", "must be > 0"),
    (gan.Recipe(loss="hinge", temperature=2), "temperature", "loss 'bce' only"),
])
def test_recipes_that_cannot_work_are_named(recipe, setting, message):
    assert recipe.problems()[0][0] == setting and message in recipe.problems()[0][1]
    with pytest.raises(ValueError, match=f"{setting}: .*{message}"):
        recipe.check()


def tiny_models():
    tg.manual_seed(0)
    G = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    D = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1), nn.Flatten(0))
    return G, D


def test_a_critic_only_step_leaves_g_alone_and_clipping_bounds_d():
    G, D = tiny_models()
    opt_G, opt_D = optim.RMSprop(G.parameters(), lr=0.1), optim.RMSprop(D.parameters(), lr=0.1)
    before = [p.array.copy() for p in G.parameters()]
    rng = np.random.default_rng(0)
    real = tg.tensor(rng.standard_normal((16, 2)).astype(np.float32))
    z = tg.tensor(rng.standard_normal((16, 2)).astype(np.float32))
    metrics = gan.train_step(G, D, opt_G, opt_D, real, z, gan.Recipe(loss="wgan", clip=0.01),
                             update_G=False)
    assert np.isnan(metrics["loss_G"]) and np.isfinite(metrics["loss_D"])
    assert all(np.array_equal(b, p.array) for b, p in zip(before, G.parameters()))
    assert all(np.abs(p.array).max() <= 0.01 for p in D.parameters())
    assert all(name.startswith("D/") for name in metrics["grad_norms"])
    grads = {f"D/{n}": np.linalg.norm(p.grad.array) for n, p in D.named_parameters()}
    assert grads["D/0.weight"] == pytest.approx(metrics["grad_norms"]["D/0.weight"], rel=1e-6)
    metrics = gan.train_step(G, D, opt_G, opt_D, real, z, gan.Recipe(loss="wgan", clip=0.01))
    assert any(not np.array_equal(b, p.array) for b, p in zip(before, G.parameters()))
    assert {n.split("/")[0] for n in metrics["grad_norms"]} == {"G", "D"}


def test_g_update_computes_no_gradient_for_d_and_leaves_its_settings_alone():
    """D's gradients after a whole step are those of D's own update: G's update went through
    D without computing gradients for D's weights. A parameter the user froze stays frozen."""
    rng = np.random.default_rng(0)
    real, z = (tg.tensor(rng.standard_normal((16, 2)).astype(np.float32)) for _ in "rz")
    runs = []
    for update_G in (False, True):
        G, D = tiny_models()
        parameters = dict(D.named_parameters())
        parameters["0.bias"].requires_grad = False
        opt_G, opt_D = optim.Adam(G.parameters()), optim.Adam(D.parameters())
        gan.train_step(G, D, opt_G, opt_D, real, z, update_G=update_G)
        runs.append(parameters)
    for name, p in runs[1].items():
        assert p.requires_grad == (name != "0.bias"), name
        if p.requires_grad:
            np.testing.assert_array_equal(p.grad.numpy(), runs[0][name].grad.numpy())
        else:
            assert p.grad is None


def test_label_noise_without_a_generator_is_a_clear_error():
    G, D = tiny_models()
    opt_G, opt_D = optim.Adam(G.parameters()), optim.Adam(D.parameters())
    x = tg.tensor(np.zeros((4, 2), np.float32))
    with pytest.raises(ValueError, match="label_noise needs rng"):
        gan.train_step(G, D, opt_G, opt_D, x, x, gan.Recipe(label_noise=0.1))


# --- the gradient penalties: a double backward through D -------------------------------------

def penalty_models(norm):
    """A small conv D (8x8 images -> one score each) in tinygan and in torch, same float64
    weights; ``norm`` is None, "batch" (whose statistics mix the samples' gradients) or
    "spectral" (both convs, torch's parametrization with our u and v)."""
    torch = pytest.importorskip("torch")
    tg.manual_seed(1)
    wrap = nn.SpectralNorm if norm == "spectral" else (lambda conv: conv)
    middle = [nn.BatchNorm2d(4)] if norm == "batch" else []
    ours = nn.Sequential(wrap(nn.Conv2d(3, 4, 4, stride=2, padding=1)), *middle,
                         nn.LeakyReLU(0.2), wrap(nn.Conv2d(4, 1, 4)),
                         nn.Flatten(0)).to(dtype=np.float64)
    their_middle = [torch.nn.BatchNorm2d(4)] if norm == "batch" else []
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 4, 2, 1), *their_middle,
                                 torch.nn.LeakyReLU(0.2), torch.nn.Conv2d(4, 1, 4),
                                 torch.nn.Flatten(0)).double()
    state = {k.replace(".module.", "."): torch.tensor(np.asarray(v))
             for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=False)
    if norm == "spectral":
        for index in (0, 2):
            torch.nn.utils.parametrizations.spectral_norm(theirs[index])
            vectors = theirs[index].parametrizations.weight[0]
            with torch.no_grad():
                vectors._u.copy_(state[f"{index}.u"]), vectors._v.copy_(state[f"{index}.v"])
    return torch, ours, theirs


def torch_name(name):
    """The torch name of one of penalty_models' parameters."""
    return name.replace(".module.weight", ".parametrizations.weight.original").replace(
        ".module.", ".")


def torch_squared_input_gradients(torch, D, x):
    scores = D(x)
    g, = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return scores, (g * g).sum(dim=(1, 2, 3))


@pytest.mark.parametrize("penalty", ["gp", "r1"])
@pytest.mark.parametrize("norm", [None, "batch", "spectral"])
def test_the_penalties_and_their_gradients_match_pytorch(penalty, norm):
    torch, ours, theirs = penalty_models(norm)
    rng = np.random.default_rng(2)
    real, fake = rng.standard_normal((5, 3, 8, 8)), rng.standard_normal((5, 3, 8, 8))
    if penalty == "gp":
        value = gan.gradient_penalty(ours, tg.tensor(real), tg.tensor(fake),
                                     np.random.default_rng(3))
        e = torch.tensor(np.random.default_rng(3).random((5, 1, 1, 1)))
        x_hat = (e * torch.tensor(real) + (1 - e) * torch.tensor(fake)).requires_grad_()
        norms = (torch_squared_input_gradients(torch, theirs, x_hat)[1] + 1e-12).sqrt()
        their_value = ((norms - 1) ** 2).mean()
    else:
        value, _ = gan.r1_penalty_and_scores(ours, tg.tensor(real))
        x = torch.tensor(real, requires_grad=True)
        their_value = torch_squared_input_gradients(torch, theirs, x)[1].mean()
    value.backward()
    their_value.backward()
    assert value.item() == pytest.approx(their_value.item(), rel=1e-10)
    their_grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():  # no gradient (None) where the penalty ignores p
        theirs_grad = their_grads[torch_name(name)].grad
        np.testing.assert_allclose(np.zeros(p.shape) if p.grad is None else p.grad.array,
                                   np.zeros(p.shape) if theirs_grad is None
                                   else theirs_grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name)


def test_r1_shares_d_of_the_real_batch_with_the_loss():
    """One forward of D on the real batch feeds both the loss and R1; the step's D gradient
    is that of loss + r1 / 2 * penalty, and the loss reported includes the penalty."""
    G, D = tiny_models()
    rng = np.random.default_rng(0)
    real, z = (tg.tensor(rng.standard_normal((16, 2)).astype(np.float32)) for _ in "rz")
    opt_G, opt_D = optim.Adam(G.parameters()), optim.Adam(D.parameters())
    plain = gan.train_step(G, D, opt_G, opt_D, real, z, update_G=False)
    G, D = tiny_models()
    opt_G, opt_D = optim.Adam(G.parameters()), optim.Adam(D.parameters())
    with_r1 = gan.train_step(G, D, opt_G, opt_D, real, z, gan.Recipe(r1=10.0), update_G=False)
    G, D = tiny_models()
    penalty, _ = gan.r1_penalty_and_scores(D, real)
    assert with_r1["loss_D"] == pytest.approx(plain["loss_D"] + 5 * penalty.item(), rel=1e-5)
    assert with_r1["D_x"] == pytest.approx(plain["D_x"], rel=1e-6)


def test_the_gradient_penalty_needs_rng_and_excludes_clipping():
    G, D = tiny_models()
    opt_G, opt_D = optim.Adam(G.parameters()), optim.Adam(D.parameters())
    x = tg.tensor(np.zeros((4, 2), np.float32))
    with pytest.raises(ValueError, match="gp needs rng"):
        gan.train_step(G, D, opt_G, opt_D, x, x, gan.Recipe(loss="wgan", gp=10))
    with pytest.raises(ValueError, match="clip: weight clipping and the gradient penalty"):
        gan.Recipe(loss="wgan", clip=0.01, gp=10).check()
