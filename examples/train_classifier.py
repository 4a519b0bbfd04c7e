"""Train the CIFAR-10 classifier whose features and softmax the sample-quality metrics use.

    python examples/train_classifier.py    # writes runs/classifier.npz
    python examples/train_classifier.py --epochs 1 --out /tmp/clf.npz

Reproducible: weights from --seed, the order and augmentation (random horizontal flips and
shifts of up to 2 pixels) of epoch e from (seed, e). Adam with the learning rate falling
linearly to 0. The test accuracy goes into the file's meta and is printed. A loss that is not
finite stops the run with status 3 and writes nothing.

It never writes the shipped tinygan/assets/cifar10_classifier.npz, which every Fréchet distance
and classifier score is measured with: evaluate.py --classifier FILE measures with your own
file; to ship new weights, copy them over it and update WEIGHTS_SHA256 in
tinygan/gan/classifier.py.
"""
import math
import sys
import time
from pathlib import Path

import tinygan as tg  # first: it sets OpenBLAS's thread timeout before NumPy loads it
import numpy as np
from tqdm import tqdm

from tinygan import io, ops, optim
from tinygan.gan import classifier, cli, data

SHIFT = 2  # pixels of random translation
CLASSES = 10  # of CIFAR-10: the memory estimate's head, before the data is read


class UserError(Exception):
    """A setting that does not fit the data: printed as one line, status 2."""


class TrainingDiverged(Exception):
    """The loss became NaN or infinite: printed as one line, status 3."""


def parse_args(argv):
    """The command line, checked: one line and status 2 for a setting that cannot work."""
    parser = cli.Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=6, help="passes over the training images")
    parser.add_argument("--batch-size", type=int, default=128, help="images per step")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam's initial learning rate")
    parser.add_argument("--width", type=int, default=24, help="channels of the first conv layer")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights, order, augmentation")
    parser.add_argument("--data", default="", help="CIFAR-10 release or class-folder image set; "
                        "empty: the official release if present, else the bundled copy")
    parser.add_argument("--max-steps", type=int, default=0, help="stop early (0: every epoch)")
    parser.add_argument("--out", default="runs/classifier.npz",
                        help="weights file (.npz) to write; never the shipped classifier "
                             "(default: runs/classifier.npz)")
    args = parser.parse_args(argv)
    parser.check(((args.epochs >= 1, f"--epochs must be >= 1, got {args.epochs}"),
                  (args.width >= 1, f"--width must be >= 1, got {args.width}"),
                  (args.batch_size >= 2, "--batch-size must be >= 2 (batch norm needs two "
                                         f"images), got {args.batch_size}"),
                  (math.isfinite(args.lr) and args.lr > 0,
                   f"--lr must be a finite number > 0, got {args.lr}"),
                  (args.seed >= 0, f"--seed must be >= 0, got {args.seed}"),
                  (args.max_steps >= 0,
                   f"--max-steps must be >= 0 (0: every epoch), got {args.max_steps}")))
    problem = out_problem(Path(args.out)) or cli.memory_problem(
        f"--width {args.width} --batch-size {args.batch_size}",
        classifier.step_memory_bytes(args.width, args.batch_size, CLASSES))
    if problem:
        parser.error(problem)
    return args


def out_problem(out):
    """Why --out cannot take the weights (the shipped file, a folder, not a file), or None."""
    if classifier.is_shipped(out):
        return (f"--out {out} is the shipped classifier that every Fréchet distance and score is "
                "measured with: write elsewhere (default: runs/classifier.npz) and measure with "
                "evaluate.py --classifier FILE")
    if out.is_dir():
        return f"--out {out}: expected a weights file (.npz), got a folder"
    if out.exists() and not out.is_file():
        return f"--out {out}: expected a weights file (.npz), got something that is not a file"
    return None


def load(args, split):
    """float32 images (N, 3, 32, 32) in [-1, 1] and int64 labels (N,) of a split."""
    if args.data:
        images = data.load_images(args.data, split=split)
        labels = data.load_labels(args.data, split)
    else:
        images, labels = data.load_cifar10(split=split, with_labels=True)
    return data.to_float(images), labels


def augment(images, rng):
    """Flip each image left-right with probability 1/2 and shift it by up to SHIFT pixels."""
    n, _, h, w = images.shape
    flipped = np.where(rng.random(n)[:, None, None, None] < 0.5, images[..., ::-1], images)
    padded = np.pad(flipped, ((0, 0), (0, 0), (SHIFT, SHIFT), (SHIFT, SHIFT)), mode="edge")
    dy, dx = rng.integers(0, 2 * SHIFT + 1, size=(2, n))
    return np.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


def train(args):
    train_images, train_labels = load(args, "train")
    test_images, test_labels = load(args, "test")
    if args.batch_size > len(train_images):
        raise UserError(f"--batch-size {args.batch_size} is larger than the "
                        f"{len(train_images)} training images of --data "
                        f"{args.data or 'CIFAR-10'}: give at most {len(train_images)}")
    tg.manual_seed(args.seed)
    model = classifier.Classifier(width=args.width, classes=int(train_labels.max()) + 1)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = len(train_images) // args.batch_size
    total = args.epochs * steps_per_epoch
    total = min(total, args.max_steps) if args.max_steps else total
    step, started = 0, time.perf_counter()
    for epoch in range(args.epochs):
        rng = np.random.default_rng([args.seed, epoch])
        order = rng.permutation(len(train_images))[:steps_per_epoch * args.batch_size]
        bar = tqdm(order.reshape(steps_per_epoch, -1), desc=f"epoch {epoch + 1}/{args.epochs}",
                   unit="step", leave=False, file=sys.stderr)
        losses = []
        for batch in bar:
            if step == total:
                break
            opt.param_groups[0]["lr"] = args.lr * (1 - step / total)
            logits = model(tg.Tensor(augment(train_images[batch], rng)))
            loss = ops.cross_entropy(logits, train_labels[batch])
            losses.append(loss.item())
            if not math.isfinite(losses[-1]):
                raise TrainingDiverged(f"the loss is {losses[-1]} at step {step + 1:,}: training "
                                       f"diverged and --out {args.out} was not written; try a "
                                       "lower --lr")
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
        model.eval()
        test_accuracy = classifier.accuracy(model, test_images, test_labels)
        model.train()
        minutes = (time.perf_counter() - started) / 60
        print(f"epoch {epoch + 1}/{args.epochs}  loss {np.mean(losses):.3f}  "
              f"test accuracy {test_accuracy:.4f}  ({minutes:.1f} min)")
        if step == total:
            break
    meta = {"model": {"width": args.width, "classes": int(train_labels.max()) + 1},
            "test_accuracy": test_accuracy, "steps": step, "epochs": args.epochs,
            "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
            "data": args.data or "load_cifar10()",
            "command": "python examples/train_classifier.py " + " ".join(sys.argv[1:])}
    io.save_checkpoint(args.out, {"classifier": model.eval()}, {}, meta)
    print(f"test accuracy {test_accuracy:.4f}; weights written to {args.out}")
    return 0


def main(argv=None):
    """Command-line entry point: the exit status (2 for bad settings or data, 3 if training
    diverged)."""
    args = parse_args(argv)
    try:
        return train(args)
    except (data.DataError, UserError, TrainingDiverged) as error:
        print(f"error: {error}", file=sys.stderr)
        return 3 if isinstance(error, TrainingDiverged) else 2


if __name__ == "__main__":
    sys.exit(main())
