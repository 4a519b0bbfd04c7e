"""The GAN idioms of groups nn, optim and io (rows 45-86) of the idiom table
(/work/shared/compat/pytorch-idioms.md), each run as PyTorch code on tinygan and on PyTorch,
compared as test_idioms.py compares rows 1-44 (idiom_compare.assert_same).

Weights are set from NumPy (``fixed``), so both libraries compute with the same numbers; rows
whose values come from the random generator (RANDOM) are compared by shape, dtype and the
statistics they return.
"""
import os
import tempfile

import numpy as np
import pytest

import tinygan
from idiom_compare import assert_same, plain, torch

X = np.array([[0.5, -1.5, 2.0], [-0.25, 3.0, 0.0], [1.0, 0.75, -2.5], [4.0, -0.5, 1.5]],
             np.float32)
IMAGES = np.linspace(-1, 1, 2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4)


def fixed(torch, net):
    """``net`` with every parameter set from a seeded NumPy generator, in order; returns it."""
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, 0.5, tuple(p.shape)).astype(np.float32)))
    return net


def mlp(torch):
    nn = torch.nn
    return fixed(torch, nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1)))


def trained(torch, make_optimizer, steps=3):
    """The weights of mlp after ``steps`` optimizer steps on a squared output."""
    net = mlp(torch)
    opt = make_optimizer(net)
    for _ in range(steps):
        opt.zero_grad()
        (net(torch.from_numpy(X)) ** 2).mean().backward()
        opt.step()
    return [p.detach() for p in net.parameters()]


# --- nn -----------------------------------------------------------------------------------------

def row_45(torch):
    class Critic(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3, 1)

        def forward(self, x):
            return self.fc(x) * 2

    return fixed(torch, Critic())(torch.from_numpy(X))


def row_46(torch):
    nn, x = torch.nn, torch.from_numpy(IMAGES)
    conv = fixed(torch, nn.Conv2d(3, 4, 3, 1, 1))
    up = fixed(torch, nn.ConvTranspose2d(4, 2, 4, 2, 1, bias=False))
    bn = nn.BatchNorm2d(4)
    return up(bn(conv(x))), bn.running_mean, fixed(torch, nn.Linear(3, 2))(torch.from_numpy(X))


def row_47(torch):
    bn = torch.nn.BatchNorm1d(3, 0.8)  # PyTorch-GAN's call: 0.8 is eps
    return bn(torch.from_numpy(X)), bn.running_var, bn.eps


def row_48(torch):
    nn, x = torch.nn, torch.from_numpy(X.copy())
    y = nn.LeakyReLU(0.2, inplace=True)(nn.ReLU(True)(x - 1))
    h = torch.from_numpy(X.copy())
    nn.LeakyReLU(0.2, inplace=True)(h)
    return y, h  # in place: h itself was changed


def row_49(torch):
    nn = torch.nn
    net = nn.Sequential(nn.Flatten(), nn.Tanh(), nn.Sigmoid())
    return net(torch.from_numpy(IMAGES))


def row_50(torch):
    x = torch.from_numpy(IMAGES)
    return torch.nn.MaxPool2d(2)(x), torch.nn.AvgPool2d(2)(x)


def row_51(torch):
    norm = torch.nn.InstanceNorm2d(3)
    return len(list(norm.parameters())), norm(torch.from_numpy(IMAGES))


def row_52(torch):
    F = torch.nn.functional  # noqa: N806  (PyTorch's convention)
    return F.softmax(torch.from_numpy(X), dim=1), F.log_softmax(torch.from_numpy(X), dim=1)


def row_53(torch):
    logits = torch.from_numpy(X).requires_grad_()
    loss = torch.nn.CrossEntropyLoss()(logits, torch.tensor([0, 2, 1, 1]))
    loss.backward()
    return loss, logits.grad


def row_54(torch):
    drop, x = torch.nn.Dropout(0.4), torch.from_numpy(X) + 10
    kept = drop(x)
    scaled_or_zero = bool(((kept == 0) | ((kept - x / 0.6).abs() < 1e-5)).all())
    drop.eval()
    return scaled_or_zero, drop(x)


def row_55(torch):
    emb = fixed(torch, torch.nn.Embedding(10, 4))
    out = emb(torch.tensor([1, 7, 1]))
    out.sum().backward()
    return out, emb.weight.grad


def row_56(torch):
    return torch.nn.Upsample(scale_factor=2)(torch.from_numpy(IMAGES))


def row_57(torch):
    nn = torch.nn
    blocks = nn.ModuleList([nn.Linear(3, 3) for _ in range(2)])
    return len(blocks), len(list(blocks.parameters())), type(blocks[1]).__name__


def row_58(torch):
    p = torch.sigmoid(torch.from_numpy(X))
    return torch.nn.BCELoss()(p, torch.ones(4, 3))


def row_59(torch):
    return torch.nn.BCEWithLogitsLoss()(torch.from_numpy(X), torch.ones(4, 3))


def row_60(torch):
    return torch.nn.MSELoss()(torch.from_numpy(X), torch.zeros(4, 3))


def row_61(torch):
    F = torch.nn.functional  # noqa: N806
    return F.leaky_relu(F.relu(torch.from_numpy(X)) - 0.1, 0.2)


def row_62(torch):
    x = torch.from_numpy(X)
    return torch.sigmoid(x) + torch.tanh(x) + torch.mean(x)


def row_63(torch):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(64, 64, 4)
    torch.nn.init.normal_(conv.weight, 0.0, 0.02)
    torch.nn.init.constant_(conv.bias, 0.0)
    return conv.weight.mean().item(), conv.weight.std().item(), conv.bias


def row_64(torch):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(64, 64, 4)
    conv.weight.data.normal_(0.0, 0.02)
    conv.bias.data.fill_(0)
    return conv.weight.mean().item(), conv.weight.std().item(), conv.bias


def row_65(torch):
    nn, seen = torch.nn, []

    def weights_init(m):
        seen.append(type(m).__name__)
        if type(m).__name__.find("BatchNorm") != -1:
            nn.init.normal_(m.weight, 1.0, 0.0)

    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.LeakyReLU(0.2))
    net.apply(weights_init)
    return seen, net[1].weight


def row_66(torch):
    net = mlp(torch)
    return [(name, tuple(p.shape)) for name, p in net.named_parameters()], len(
        list(net.parameters()))


def row_67(torch):
    net = mlp(torch)
    net(torch.from_numpy(X)).sum().backward()
    net.eval()
    flags = [m.training for m in net.modules()]
    net.train()
    net.zero_grad()
    return flags, net.training, [p.grad for p in net.parameters()]


def row_68(torch):
    net, other = mlp(torch), torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    other.load_state_dict(net.state_dict())
    return list(net.state_dict()), other(torch.from_numpy(X))


def row_69(torch):
    bn = torch.nn.BatchNorm2d(3)
    bn.load_state_dict({"weight": torch.ones(3), "bias": torch.zeros(3),
                        "running_mean": torch.full((3,), 0.5),
                        "running_var": torch.full((3,), 2.0),
                        "num_batches_tracked": torch.tensor(7)})
    # int(): tinygan's count is a float buffer (PyTorch's int64), the one dtype difference
    return bn.running_var, int(bn.num_batches_tracked), sorted(bn.state_dict())


def row_70(torch):
    net = mlp(torch)
    return net.to("cpu") is net, net.to(torch.device("cpu"))(torch.from_numpy(X))


def row_71(torch):
    w = torch.nn.Parameter(torch.from_numpy(X))
    return w, w.requires_grad, isinstance(w, torch.Tensor)


def row_72(torch):
    return callable(mlp(torch).cuda)  # no GPU here: the method exists


def row_73(torch):
    nn = torch.nn
    return str(nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
                             nn.BatchNorm2d(8), nn.Sigmoid()))


def row_74(torch):
    layer = torch.nn.utils.spectral_norm(torch.nn.Linear(3, 2))
    return layer(torch.from_numpy(X)).shape, type(layer).__name__


def row_75(torch):
    net = mlp(torch)
    (net(torch.from_numpy(X)) ** 2).sum().backward()
    total = torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    return total, [p.grad for p in net.parameters()]


# --- optim --------------------------------------------------------------------------------------

def row_76(torch):
    return trained(torch, lambda net: torch.optim.Adam(net.parameters(), 1e-2, (0.5, 0.999)))


def row_77(torch):
    return trained(torch, lambda net: torch.optim.SGD(net.parameters(), 0.1, momentum=0.9))


def row_78(torch):
    return trained(torch, lambda net: torch.optim.Adam(net.parameters(), 1e-2,
                                                       weight_decay=1e-2))


def row_79(torch):
    def make(net):
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        opt.param_groups[0]["lr"] = 5e-2
        return opt
    return trained(torch, make)


def row_80(torch):
    def make(net):
        return torch.optim.Adam([{"params": net[0].parameters(), "lr": 1e-1},
                                 {"params": net[2].parameters()}], lr=1e-3)
    return trained(torch, make)


def row_81(torch):
    net = mlp(torch)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    (net(torch.from_numpy(X)) ** 2).mean().backward()
    opt.step()
    again = torch.optim.Adam(net.parameters(), lr=1e-1)
    again.load_state_dict(opt.state_dict())
    return again.param_groups[0]["lr"], again.state_dict()["state"][0]["exp_avg"]


def row_82(torch):
    opt = torch.optim.SGD(mlp(torch).parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    return lrs


# --- io -----------------------------------------------------------------------------------------

def row_83(torch):
    net = mlp(torch)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "netG.pth")
        torch.save(net.state_dict(), path)
        state = torch.load(path)
    other = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    other.load_state_dict(state)
    return other(torch.from_numpy(X))


def row_84(torch):
    device = torch.device("cpu")
    return str(device), device.type, str(torch.zeros(2, device=device).device)


def row_85(torch):
    return torch.cuda.is_available()  # False on this CPU-only machine, for both


def row_86(torch):
    data = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.tensor([0, 1, 0, 1]))
    batches = list(torch.utils.data.DataLoader(data, batch_size=3))
    return len(batches), [tuple(b[0].shape) for b in batches], batches[0][1], len(data)


ROWS = [(number, globals()[f"row_{number}"]) for number in range(45, 87)]
RANDOM = {63, 64}


@pytest.mark.usefixtures("rng_states")
@pytest.mark.parametrize("number, row", ROWS, ids=[f"row{n}" for n, _ in ROWS])
def test_idiom_gives_pytorchs_result(number, row):
    ours = plain(row(tinygan))
    if torch is None:
        return
    assert_same(ours, plain(row(torch)), values=number not in RANDOM)
