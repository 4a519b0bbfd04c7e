"""The DCGAN on CIFAR-10 in one screen, with tinygan's public API only: read it beside
pytorch/examples' dcgan/main.py. examples/train_cifar.py is the full-featured version.

    python examples/minimal_dcgan.py                 # 1 epoch, then minimal_dcgan.png
    python examples/minimal_dcgan.py --epochs 5 --data path/to/images
"""
import argparse

import tinygan as torch  # PyTorch's names; first: it sets OpenBLAS's thread timeout
import numpy as np
import tinygan.nn as nn
import tinygan.optim as optim

from tinygan.gan import data, dcgan, visual

parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
parser.add_argument("--data", default="", help="an image folder or archive (default: CIFAR-10)")
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--max-steps", type=int, default=0, help="stop after this many (0: no limit)")
parser.add_argument("--out", default="minimal_dcgan.png", help="the final sample grid")
args = parser.parse_args()

# Data: uint8 (N, 3, 32, 32) images, served as float batches in [-1, 1].
images = data.load_images(args.data) if args.data else data.load_cifar10(split="train")
rng = np.random.default_rng(0)

# Models: G maps z (N, 100, 1, 1) to images, D maps images to one raw score (a logit) each.
torch.manual_seed(0)
G, D = dcgan.Generator(nz=100), dcgan.Discriminator()
opt_G = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_D = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
criterion = nn.BCEWithLogitsLoss()  # binary cross-entropy of sigmoid(score) against a target
fixed_z = torch.randn(64, 100, 1, 1)


step = 0
for epoch in range(args.epochs):
    for batch in data.batches(images, args.batch_size, rng):
        real = torch.from_numpy(batch)
        fake = G(torch.randn(len(batch), 100, 1, 1))
        real_label, fake_label = torch.ones(len(batch)), torch.zeros(len(batch))

        # (1) Update D: maximize log D(x) + log(1 - D(G(z))).
        loss_D = criterion(D(real), real_label) + criterion(D(fake.detach()), fake_label)
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()

        # (2) Update G: maximize log D(G(z)) (the non-saturating loss).
        loss_G = criterion(D(fake), real_label)
        opt_G.zero_grad()
        loss_G.backward()
        opt_G.step()

        step += 1
        if step % 50 == 0 or step == 1:
            print(f"epoch {epoch + 1} step {step}: loss_D {loss_D.item():.3f} "
                  f"loss_G {loss_G.item():.3f}")
        if step == args.max_steps:
            break
    if step == args.max_steps:
        break

# Samples of the fixed noise, with batch norm's running statistics (eval mode).
with torch.no_grad():
    samples = G.eval()(fixed_z).numpy()
visual.save_grid(args.out, data.to_uint8(samples), nrow=8, scale=2)
print(f"wrote {args.out}")
