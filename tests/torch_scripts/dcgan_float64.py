"""A small DCGAN step written for PyTorch, as the DCGAN example writes it (our own code).

Run as it is it trains with torch; ported (torch -> tinygan in the names) it trains with
tinygan. Weights, images and noise come from NumPy's seeded generator, so both frameworks start
from the same numbers; it prints one JSON line of losses per iteration, in float64.

    python tests/torch_scripts/dcgan_float64.py --iterations 5
"""
import argparse
import json

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

parser = argparse.ArgumentParser()
parser.add_argument("--iterations", type=int, default=5)
parser.add_argument("--batch", type=int, default=4)
opt = parser.parse_args()

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(0)
nz, ngf, ndf = 8, 16, 8

netG = nn.Sequential(
    nn.ConvTranspose2d(nz, ngf, 4, 1, 0, bias=False),
    nn.BatchNorm2d(ngf),
    nn.ReLU(True),
    nn.ConvTranspose2d(ngf, ngf // 2, 4, 2, 1, bias=False),
    nn.BatchNorm2d(ngf // 2),
    nn.ReLU(True),
    nn.ConvTranspose2d(ngf // 2, 3, 4, 2, 1, bias=False),
    nn.Tanh(),
)
netD = nn.Sequential(
    nn.Conv2d(3, ndf, 4, 2, 1, bias=False),
    nn.LeakyReLU(0.2, inplace=True),
    nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
    nn.BatchNorm2d(ndf * 2),
    nn.LeakyReLU(0.2, inplace=True),
    nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
    nn.Sigmoid(),
)

with torch.no_grad():
    for net in (netG, netD):
        for name, p in net.named_parameters():
            mean = 1.0 if p.dim() == 1 and name.endswith("weight") else 0.0
            p.copy_(torch.from_numpy(rng.normal(mean, 0.02, tuple(p.shape))))

criterion = nn.BCELoss()
optimizerD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
images = torch.from_numpy(rng.uniform(-1, 1, (opt.iterations, opt.batch, 3, 16, 16)))

for i in range(opt.iterations):
    netD.zero_grad()
    real = images[i]
    label = torch.full((opt.batch,), 1.0)
    output = netD(real).view(-1)
    errD_real = criterion(output, label)
    errD_real.backward()

    noise = torch.from_numpy(rng.standard_normal((opt.batch, nz, 1, 1)))
    fake = netG(noise)
    label.fill_(0.0)
    output = netD(fake.detach()).view(-1)
    errD_fake = criterion(output, label)
    errD_fake.backward()
    optimizerD.step()

    netG.zero_grad()
    label.fill_(1.0)
    output = netD(fake).view(-1)
    errG = criterion(output, label)
    errG.backward()
    optimizerG.step()
    print(json.dumps({"iteration": i, "loss_D": (errD_real + errD_fake).item(),
                      "loss_G": errG.item(), "D_x": output.mean().item()}))
