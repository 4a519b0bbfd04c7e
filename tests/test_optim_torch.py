"""tinygan.optim against torch.optim in float64: each optimizer's steps over its options
(hypothesis), per-group options, an lr changed through param_groups, the state_dict layout and
a resume from it, and the lr schedules' sequences."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygan import nn, optim, tensor

torch = pytest.importorskip("torch")

STEPS = 5
SHAPES = [(3, 4), (5,)]
rates = st.sampled_from([1e-3, 1e-2, 0.1])
decays = st.sampled_from([0.0, 1e-2, 0.1])
OPTIONS = {
    "Adam": st.fixed_dictionaries({"lr": rates, "betas": st.sampled_from([(0.9, 0.999),
                                                                          (0.5, 0.99)]),
                                   "eps": st.sampled_from([1e-8, 1e-3]), "weight_decay": decays,
                                   "amsgrad": st.booleans()}),
    "SGD": st.fixed_dictionaries({"lr": rates, "momentum": st.sampled_from([0.0, 0.9]),
                                  "dampening": st.sampled_from([0.0, 0.3]),
                                  "weight_decay": decays}),
    "RMSprop": st.fixed_dictionaries({"lr": rates, "alpha": st.sampled_from([0.99, 0.8]),
                                      "eps": st.sampled_from([1e-8, 1e-3]),
                                      "weight_decay": decays,
                                      "momentum": st.sampled_from([0.0, 0.5]),
                                      "centered": st.booleans()}),
}
OPTIONS["AdamW"] = OPTIONS["Adam"]


def _pair(seed):
    """The same float64 starting parameters for tinygan and torch, and STEPS gradients."""
    rng = np.random.default_rng(seed)
    starts = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
    return ([nn.Parameter(s.copy()) for s in starts],
            [torch.tensor(s.copy(), requires_grad=True) for s in starts], grads)


def _run(ours, theirs, grads, opt_ours, opt_theirs, between=None):
    """Both optimizers through the gradients; ``between(step)`` after each step."""
    for i, step in enumerate(grads):
        for a, b, g in zip(ours, theirs, step):
            a.grad, b.grad = tensor(g), torch.tensor(g)
        opt_ours.step()
        opt_theirs.step()
        if between:
            between(i)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.array, b.detach().numpy(), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("name", list(OPTIONS))
@settings(max_examples=12, deadline=None)
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_each_optimizer_steps_as_torch_over_its_options(name, data, seed):
    options = data.draw(OPTIONS[name])
    if name == "SGD" and data.draw(st.booleans()) and options["momentum"]:
        options |= {"nesterov": True, "dampening": 0.0}
    ours, theirs, grads = _pair(seed)
    _run(ours, theirs, grads, getattr(optim, name)(ours, **options),
         getattr(torch.optim, name)(theirs, **options))


@pytest.mark.parametrize("name, options", [
    ("Adam", {"lr": 0.01}), ("SGD", {"lr": 0.1, "momentum": 0.9}), ("RMSprop", {"lr": 0.01})])
def test_per_group_options_and_an_lr_set_through_param_groups(name, options):
    ours, theirs, grads = _pair(1)
    groups = [lambda ps: {"params": [ps[0]]},
              lambda ps: {"params": [ps[1]], "lr": 0.05, "weight_decay": 0.1}]
    opt_ours = getattr(optim, name)([g(ours) for g in groups], **options)
    opt_theirs = getattr(torch.optim, name)([g(theirs) for g in groups], **options)
    assert ([{k: v for k, v in g.items() if k != "params"} for g in opt_ours.param_groups]
            == [{k: g[k] for k in mine if k != "params"}
                for g, mine in zip(opt_theirs.param_groups, opt_ours.param_groups)])

    def halve(step):
        for opt in (opt_ours, opt_theirs):
            opt.param_groups[step % 2]["lr"] *= 0.5
    _run(ours, theirs, grads, opt_ours, opt_theirs, halve)


def test_add_param_group_as_torch():
    ours, theirs, grads = _pair(2)
    opt_ours, opt_theirs = optim.SGD(ours[:1], lr=0.1), torch.optim.SGD(theirs[:1], lr=0.1)
    opt_ours.add_param_group({"params": ours[1], "momentum": 0.5})
    opt_theirs.add_param_group({"params": theirs[1], "momentum": 0.5})
    _run(ours, theirs, grads, opt_ours, opt_theirs)


@pytest.mark.parametrize("name", list(OPTIONS))
def test_state_dict_has_torchs_layout_and_resumes(name):
    options = {"lr": 0.01, "momentum": 0.9} if name != "Adam" and name != "AdamW" else {}
    if name == "RMSprop":
        options["centered"] = True
    ours, theirs, grads = _pair(3)
    opt_ours = getattr(optim, name)(ours, **options)
    opt_theirs = getattr(torch.optim, name)(theirs, **options)
    _run(ours, theirs, grads[:3], opt_ours, opt_theirs)
    mine, torchs = opt_ours.state_dict(), opt_theirs.state_dict()
    assert list(mine["state"]) == list(torchs["state"]) == [0, 1]
    for i in (0, 1):
        assert set(mine["state"][i]) == set(torchs["state"][i])
        for key, value in torchs["state"][i].items():
            np.testing.assert_allclose(mine["state"][i][key], value.numpy(), rtol=1e-12)
    for group, theirs_group in zip(mine["param_groups"], torchs["param_groups"]):
        assert {k: theirs_group[k] for k in group} == group
    again = getattr(optim, name)(ours, lr=0.5)
    again.load_state_dict(mine)
    assert again.param_groups[0]["lr"] == opt_ours.param_groups[0]["lr"]
    _run(ours, theirs, grads[3:], again, opt_theirs)


SCHEDULES = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 5], "gamma": 0.1}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("LambdaLR", {"lr_lambda": lambda e: 1 / (1 + e)}),
    ("CosineAnnealingLR", {"T_max": 4, "eta_min": 1e-4}),
]


@pytest.mark.parametrize("name, options", SCHEDULES)
def test_schedules_follow_torchs_learning_rates(name, options):
    """20 epochs (CosineAnnealingLR past T_max, up again), an lr set by hand midway, and a
    scheduler restored from state_dict at epoch 12."""
    opt_ours = optim.SGD([{"params": [nn.Parameter(np.zeros(1))]},
                          {"params": [nn.Parameter(np.zeros(1))], "lr": 0.3}], lr=0.1)
    opt_theirs = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)]},
                                  {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.3}],
                                 lr=0.1)
    ours = getattr(optim.lr_scheduler, name)(opt_ours, **options)
    theirs = getattr(torch.optim.lr_scheduler, name)(opt_theirs, **options)
    for epoch in range(20):
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-13)
        assert [g["lr"] for g in opt_ours.param_groups] == ours.get_last_lr()
        if epoch == 7:
            opt_ours.param_groups[0]["lr"] = opt_theirs.param_groups[0]["lr"] = 0.05
        if epoch == 12:
            state = ours.state_dict()
            ours = getattr(optim.lr_scheduler, name)(opt_ours, **options, last_epoch=0)
            ours.load_state_dict(state)
        opt_ours.step()
        opt_theirs.step()
        ours.step()
        theirs.step()


def test_an_lr_scheduled_down_to_zero_steps_as_torch():
    """CosineAnnealingLR reaches lr = 0 at T_max: Adam takes the step (PyTorch allows lr >= 0)."""
    ours, theirs, grads = _pair(4)
    opt_ours, opt_theirs = optim.Adam(ours, lr=0.1), torch.optim.Adam(theirs, lr=0.1)
    schedules = [optim.lr_scheduler.CosineAnnealingLR(opt_ours, T_max=2),
                 torch.optim.lr_scheduler.CosineAnnealingLR(opt_theirs, T_max=2)]
    _run(ours, theirs, grads, opt_ours, opt_theirs,
         lambda step: [schedule.step() for schedule in schedules])
    assert opt_ours.param_groups[0]["lr"] == opt_theirs.param_groups[0]["lr"]
