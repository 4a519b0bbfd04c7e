"""Sample-quality metrics of trained DCGANs against the CIFAR-10 test images: table and JSON.

    python examples/evaluate.py runs/dcgan/checkpoint.npz
    python examples/evaluate.py runs/dcgan/checkpoint_epoch_*.npz --baselines --plot metrics.png
    python examples/evaluate.py netG_epoch_24.pth   # pytorch/examples' DCGAN G (no PyTorch)

Rows: each checkpoint; with --baselines also real training images (the floor) and an untrained
generator (the ceiling). Columns: SWD x 1e3 (per pyramid level and mean; lower is better),
Fréchet distance on our own classifier's features (lower is better), the classifier score
(higher is better) and the D-features linear-probe accuracy (higher is better). None of these
is comparable with Inception-based FID/IS from papers; see the README.
"""
import json
import sys
import time
from pathlib import Path

import tinygan as tg  # first: it sets OpenBLAS's thread timeout before NumPy loads it
import numpy as np

from tinygan import io
from tinygan.gan import classifier, cli, dcgan, evaluation, visual

METRICS = ("swd", "frechet", "score", "probe", "classes_covered")
INCEPTION_MESSAGE = (
    "--inception-weights {}: the FID and Inception Score of papers need Inception-v3 (the "
    "TF-slim 2015-12-05 weights as converted by pytorch-fid or torch-fidelity) run at 299x299, "
    "and tinygan has no Inception-v3 yet: it would need its mixed blocks (1x1/3x3/5x5 and "
    "factorised 1x7/7x1 convs, max and average pooling with padding), bilinear resizing, and a "
    "loader that maps those weights onto them, checked against the reference FID of known "
    "image sets. Until then this script reports our own classifier's Fréchet distance, which "
    "is not comparable with papers' FID.")


def parse_args(argv):
    parser = cli.Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="*", type=Path,
                        help="train_cifar.py checkpoints, or PyTorch DCGAN generators' weights "
                             "(.pth, .safetensors: no D probe)")
    parser.add_argument("--baselines", action="store_true",
                        help="also measure real training images and an untrained generator")
    parser.add_argument("--samples", type=int, default=10000,
                        help=f"images per set ({evaluation.MIN_COUNT} to 10000)")
    parser.add_argument("--probe-train", type=int, default=10000,
                        help="training images for the D-features linear probe (0: skip probe)")
    parser.add_argument("--running-stats", action="store_true",
                        help="sample G with batch norm's running statistics (eval mode) "
                             "instead of each batch's statistics")
    parser.add_argument("--raw-g", action="store_true",
                        help="measure the trained G itself, not its --ema average (the default "
                             "where the run kept one)")
    parser.add_argument("--seed", type=int, default=0, help="seed of samples and projections")
    parser.add_argument("--json", type=Path, default=Path("evaluation.json"), help="output file")
    parser.add_argument("--plot", type=Path, help="also plot each metric against epoch here")
    parser.add_argument("--classifier", type=Path, metavar="FILE",
                        help="your own train_classifier.py weights instead of the shipped "
                             "classifier's: its Fréchet distances and scores compare only with "
                             "numbers measured with the same file")
    parser.add_argument("--inception-weights", type=Path, metavar="FILE",
                        help="Inception-v3 weights for the papers' FID/IS (not supported yet: "
                             "says what it would take)")
    args = parser.parse_args(argv)
    if args.inception_weights:
        parser.error(INCEPTION_MESSAGE.format(args.inception_weights))
    if not args.checkpoints and not args.baselines:
        parser.error("give at least one checkpoint, or --baselines")
    if not evaluation.MIN_COUNT <= args.samples <= 10000:
        parser.error(f"--samples must be in [{evaluation.MIN_COUNT}, 10000] (the classifier "
                     f"score splits the samples in {evaluation.MIN_COUNT} parts), got "
                     f"{args.samples}")
    if not 0 <= args.probe_train <= 50000:
        parser.error(f"--probe-train must be in [0, 50000] (the CIFAR-10 training images), got "
                     f"{args.probe_train}")
    if args.seed < 0:
        parser.error(f"--seed must be >= 0, got {args.seed}")
    if args.raw_g and not args.checkpoints:
        parser.error("--raw-g: expected checkpoints whose trained G to measure, got --baselines "
                     "alone")
    if args.plot and not args.checkpoints:
        parser.error(f"--plot {args.plot}: expected checkpoints to plot against their epochs, got "
                     "--baselines alone")
    for flag, path in (("--json", args.json), ("--plot", args.plot)):
        if path and path.is_dir():
            parser.error(f"{flag} {path}: expected a file to write, got a folder")
        if path and any(path.resolve() == checkpoint.resolve() for checkpoint in args.checkpoints):
            parser.error(f"{flag} {path}: expected a new file, got one of the checkpoints to "
                         "measure (it would be overwritten)")
    if args.plot and args.plot.resolve() == args.json.resolve():
        parser.error(f"--plot {args.plot}: expected another file than --json's")
    return args


def load_models(path, raw_g=False):
    """G (its --ema average unless raw_g, where the run kept one) and D of a train_cifar.py
    checkpoint, its epoch, step, config and which G it is; ValueError or FileNotFoundError naming
    the file if it is none, or its weights do not fit its config. A PyTorch DCGAN generator's
    weights (torch.save or .safetensors) give that G, and None for D, epoch and step."""
    if dcgan.holds_torch_weights(path):
        G, config = dcgan.torch_generator(path)
        return G, None, None, None, config, "PyTorch G"
    checkpoint = io.load_training_checkpoint(path)
    config = checkpoint["meta"]["config"]
    G, D = untrained_models(config)
    state, which = dcgan.generator_state(checkpoint, raw_g)
    try:
        G.load_state_dict(state)
        D.load_state_dict(checkpoint["modules"]["D"])
    except ValueError as error:
        raise ValueError(f"{path}: its weights do not fit its own config: {error}") from None
    meta = checkpoint["meta"]
    epoch = meta.get("epoch", meta["step"] / (50000 // config["batch_size"]))  # older files
    return G, D, epoch, meta["step"], config, which


def untrained_models(config):
    """G and D as train_cifar.py initialises them for this config (seeded DCGAN init)."""
    tg.manual_seed(config.get("seed", 0))
    return dcgan.models(config)


def prepare(args):
    """(the checkpoints' models, the Evaluator): every input read, before anything is measured;
    the images last, as they take longest."""
    models = [load_models(path, args.raw_g) for path in args.checkpoints]
    network = classifier.load_pretrained(args.classifier)
    if args.classifier and not classifier.is_shipped(args.classifier):
        print(f"classifier: your own {args.classifier}, not the shipped one: its Fréchet "
              "distances and scores compare only with numbers measured with this same file")
    return models, evaluation.Evaluator.cifar10(args.samples, args.probe_train, args.seed,
                                                network=network)


def measure(args, prepared=None):
    """Measure every model (and the baselines); write --json and --plot; returns the report."""
    started = time.perf_counter()
    models, evaluator = prepare(args) if prepared is None else prepared
    rows = []

    def add(label, row, epoch=None, step=None):
        rows.append({"label": label, "epoch": epoch, "step": step, **row})
        print_row(rows[-1])

    print_header()
    if args.baselines:
        add("real train images (floor)", evaluator.real_row())
        config = models[0][4] if models else {}
        add("untrained G (ceiling)", generator_row(evaluator, *untrained_models(config), config,
                                                   args))
    for path, (G, D, epoch, step, config, which) in zip(args.checkpoints, models):
        add(f"{path} ({which})", generator_row(evaluator, G, D, config, args),
            None if epoch is None else round(epoch, 2), step)
    report = {"rows": rows, "samples": args.samples, "probe_train": args.probe_train,
              "batch_statistics": not args.running_stats, "seed": args.seed,
              "classifier": evaluator.classifier_meta,
              "classifier_file": str(args.classifier or classifier.WEIGHTS),
              "seconds": round(time.perf_counter() - started, 1),
              "command": "python examples/evaluate.py " + " ".join(sys.argv[1:])}
    with io.atomic_write(args.json, "w") as file:
        json.dump(report, file, indent=1)
    print(f"wrote {args.json}")
    if args.plot:
        plot(args.plot, rows)
        print(f"wrote {args.plot}")
    return report


def generator_row(evaluator, G, D, config, args):
    return evaluator.generator_row(G, D if args.probe_train else None,
                                   batch_statistics=not args.running_stats,
                                   prior=config.get("prior", "gaussian"))


HEADER = (f"{'source':<44} {'SWD x1e3':>9} {'Frechet':>9} {'score':>12} {'classes':>7} "
          f"{'D probe':>8}")


def print_header():
    print(HEADER)
    print("-" * len(HEADER))


def print_row(row):
    probe = f"{row['probe']:.3f}" if "probe" in row else "-"
    score = f"{row['score']:.2f}+-{row['score_std']:.2f}"
    print(f"{row['label'][-44:]:<44} {row['swd']:>9.2f} {row['frechet']:>9.2f} {score:>12} "
          f"{row['classes_covered']:>7} {probe:>8}", flush=True)


def plot(path, rows):
    """Each metric against epoch for the checkpoints, with the baselines as horizontal lines."""
    series = [r for r in rows if r["epoch"] is not None]
    lines = {r["label"]: r for r in rows if r["epoch"] is None}
    visual.plot_metrics(path, [r["epoch"] for r in series],
                        {m: [r.get(m, np.nan) for r in series] for m in METRICS},
                        {label: {m: r.get(m, np.nan) for m in METRICS}
                         for label, r in lines.items()})


def main(argv=None):
    """Command-line entry point: the exit status (2 for a bad checkpoint or data, 1 if an
    output cannot be written)."""
    args = parse_args(argv)
    try:
        prepared = prepare(args)
    except (FileNotFoundError, ValueError) as error:  # data.DataError is a ValueError
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        measure(args, prepared)
    except io.WriteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
