"""Fault-table rows: every flag of train_cifar.py, generate.py, evaluate.py and toy_2d.py given a
value that cannot work (out of range, the wrong type, NaN or inf, a missing or wrong file), or
given where it conflicts or does nothing; each is refused before any work with status 2 and one
line naming the flag, what it expects and what it got, and writes nothing (see tests/faults.py).
"""
from faults import Fault
from support import TINY

# A tiny train_cifar.py run into {tmp}/out and a one-step toy_2d.py run: (flag, value) pairs
TRAIN = (*zip(TINY[::2], TINY[1::2]), ("--data", "{images}"), ("--max-steps", "1"),
         ("--out", "{tmp}/out"))
TOY = (("--steps", "1"), ("--batch-size", "8"), ("--width", "4"), ("--out", "{tmp}/out"))
GENERATE = ("{run}/checkpoint.npz", "--out", "{tmp}/g")
EVALUATE = ("{run}/checkpoint.npz", "--json", "{tmp}/e.json")
RUN_CHECKPOINT = "../run/checkpoint.npz"  # {run}/checkpoint.npz, seen from {tmp}


def then(args, pairs):
    """``args`` followed by the (flag, value) pairs whose flag they do not give."""
    given = {str(a).split("=")[0] for a in args}
    return args + tuple(word for pair in pairs if pair[0] not in given for word in pair)


def train(fault, args, says, unchanged=("out",), **kwargs):
    """A train_cifar.py row: the tiny run with ``args``; --out must stay absent."""
    return Fault("flag", fault, "train_cifar", then(args, TRAIN), says=says,
                 unchanged=unchanged, **kwargs)


def toy(fault, args, says):
    """A toy_2d.py row: a one-step run with ``args``; --out must stay absent."""
    return Fault("flag", fault, "toy_2d", then(args, TOY), says=says, unchanged=("out",))


def generate(fault, args, says, **kwargs):
    """A generate.py row on the finished run's checkpoint; its --out must stay absent."""
    kwargs.setdefault("unchanged", ("g",))
    return Fault("flag", fault, "generate", GENERATE + args, says=says, **kwargs)


def evaluate(fault, args, says, **kwargs):
    """An evaluate.py row on the finished run's checkpoint; its --json must stay absent."""
    kwargs.setdefault("unchanged", ("e.json",))
    return Fault("flag", fault, "evaluate", EVALUATE + args, says=says, **kwargs)


def bad_images(tmp):
    """{tmp}/bad: three files named .png that are no images."""
    (tmp / "bad" / "cats").mkdir(parents=True)
    for name in ("1.png", "2.png", "3.png"):
        (tmp / "bad" / "cats" / name).write_text("not an image")


FAULTS = [
    # train_cifar.py: the recipe
    train("an unknown loss", ("--loss", "wasserstein"),
          "argument --loss: invalid choice: 'wasserstein'"),
    train("minimax G loss with hinge", ("--loss", "hinge", "--g-loss", "minimax"),
          "--g-loss 'minimax' is the BCE loss's original form; it needs loss 'bce'"),
    train("label smoothing 0", ("--label-smoothing", "0"),
          "--label-smoothing must be in (0, 1], got 0.0"),
    train("label smoothing NaN", ("--label-smoothing", "nan"),
          "--label-smoothing must be a finite number, got nan"),
    train("label noise 0.5: the targets are coin flips", ("--label-noise", "0.5"),
          "--label-noise must be in [0, 0.5), got 0.5"),
    train("label noise with hinge, which has no targets", ("--loss", "hinge", "--label-noise",
                                                           "0.1"),
          "--label-noise label noise needs targets: loss 'bce' or 'lsgan', not 'hinge'"),
    train("temperature inf", ("--temperature", "inf"),
          "--temperature must be a finite number, got inf"),
    train("temperature with lsgan, which has no sigmoid", ("--loss", "lsgan", "--temperature",
                                                           "2"),
          "--temperature scales the logits of a sigmoid: loss 'bce' only, not 'lsgan'"),
    train("no D update per G update", ("--n-critic", "0"), "--n-critic must be >= 1, got 0"),
    train("a fractional n-critic", ("--n-critic", "2.5"),
          "argument --n-critic: invalid int value: '2.5'"),
    train("clip inf", ("--loss", "wgan", "--clip", "inf"),
          "--clip must be a finite number, got inf"),
    train("a negative clip", ("--loss", "wgan", "--clip", "-0.01"),
          "--clip must be >= 0, got -0.01"),
    train("clip with bce, which clips nothing", ("--clip", "0.05"),
          "--clip clips the weights of --loss wgan's critic without --gp; it does nothing with "
          "--loss bce"),
    train("clip with the gradient penalty", ("--loss", "wgan", "--gp", "10", "--clip", "0.05"),
          "it does nothing with --loss wgan --gp"),
    train("a negative gradient penalty", ("--gp", "-10"), "--gp must be >= 0, got -10.0"),
    train("gradient penalty inf", ("--gp", "inf"), "--gp must be a finite number, got inf"),
    train("R1 inf", ("--r1", "inf"), "--r1 must be a finite number, got inf"),
    train("a negative R1", ("--r1", "-1"), "--r1 must be >= 0, got -1.0"),
    train("an unknown G activation", ("--g-activation", "tanh"),
          "argument --g-activation: invalid choice: 'tanh'"),
    train("an unknown prior", ("--prior", "normal"), "argument --prior: invalid choice: 'normal'"),
    train("an unknown optimizer", ("--optimizer", "sgd"),
          "argument --optimizer: invalid choice: 'sgd'"),
    train("Adam's beta with RMSprop", ("--optimizer", "rmsprop", "--beta1", "0.9"),
          "--beta1 and --beta2 are Adam's; --optimizer rmsprop has none"),
    train("beta1 1", ("--beta1", "1"), "--beta1 must be in [0, 1), got 1.0"),
    train("beta2 NaN", ("--beta2", "nan"), "--beta2 must be in [0, 1), got nan"),
    train("G's learning rate inf", ("--lr-g", "inf"), "--lr-g must be a finite number, got inf"),
    train("a negative D learning rate", ("--lr-d=-4e-4",),
          "--lr-g and --lr-d must be >= 0 (0: --lr)"),
    train("an EMA decay of 1: the average never moves", ("--ema", "1"),
          "--ema must be in [0, 1) (0: off), got 1.0"),
    # train_cifar.py: the run
    train("an unknown backend", ("--backend", "tpu"), "argument --backend: invalid choice: 'tpu'"),
    train("no epochs", ("--epochs", "0"), "--epochs must be >= 1, got 0"),
    train("a batch of one image", ("--batch-size", "1"),
          "--batch-size must be >= 2 (batch norm needs two images), got 1"),
    train("a batch larger than the data", ("--batch-size", "100"),
          "--batch-size 100 is larger than the 48 training images",
          unchanged=("out/checkpoint.npz",)),
    train("learning rate inf", ("--lr", "inf"), "--lr must be a finite number > 0, got inf"),
    train("learning rate 0", ("--lr", "0"), "--lr must be a finite number > 0, got 0.0"),
    train("an empty latent vector", ("--nz", "0"), "--nz must be >= 1, got 0"),
    train("a negative G width", ("--ngf", "-4"), "--ngf must be >= 1, got -4"),
    train("no D channels", ("--ndf", "0"), "--ndf must be >= 1, got 0"),
    train("a D too wide for memory", ("--ndf", "1000000"), "--ndf 1000000 --batch-size 8"),
    train("an image size of no model", ("--image-size", "48"),
          "--image-size must be one of (32, 64), got 48"),
    train("data that does not exist", ("--data", "{tmp}/missing"),
          "--data {tmp}/missing: no such file or folder"),
    train("data that is a CSV file", ("--data", "{run}/history.csv"),
          "history.csv: unsupported data source", unchanged=("out/checkpoint.npz",)),
    train("a negative seed", ("--seed", "-1"), "--seed must be >= 0, got -1"),
    train("a negative step limit", ("--max-steps", "-1"), "--max-steps must be >= 0, got -1"),
    train("a negative sample interval", ("--sample-every", "-5"),
          "--sample-every must be >= 0, got -5"),
    train("a negative checkpoint interval", ("--checkpoint-every", "-1"),
          "--checkpoint-every must be >= 0, got -1"),
    train("an unknown D normalisation", ("--d-norm", "group"),
          "argument --d-norm: invalid choice: 'group'"),
    train("a negative measurement interval", ("--eval-every", "-1"),
          "--eval-every must be >= 0, got -1"),
    train("more measured samples than test images", ("--eval-every", "1", "--eval-samples",
                                                     "20000"),
          "--eval-samples must be in [10, 10000], got 20000"),
    train("skipping bad images leaves none", ("--data", "{tmp}/bad", "--skip-bad-images"),
          "none of the 3 images in {tmp}/bad can be decoded", prepare=bad_images,
          unchanged=("out/checkpoint.npz",)),
    train("a switch given a value", ("--skip-bad-images=yes",),
          "argument --skip-bad-images: ignored explicit argument 'yes'"),
    train("a switch given a value", ("--sync-bn=true",),
          "argument --sync-bn: ignored explicit argument 'true'"),
    train("no time to wait", ("--timeout", "0"), "--timeout must be > 0, got 0.0"),
    train("a timeout with a unit", ("--timeout", "10m"),
          "argument --timeout: invalid float value: '10m'"),
    train("TensorBoard's events into a file", ("--tensorboard", "{run}/history.csv"),
          "--tensorboard {run}/history.csv: cannot write to {run}/history.csv: it is a file, "
          "not a folder", unchanged=("out/checkpoint.npz", "../run/history.csv")),
    train("the number of ranks given to --distributed", ("--distributed=4",),
          "argument --distributed: ignored explicit argument '4'"),
    train("resume from a checkpoint that is not there", ("--resume", "{tmp}/missing.npz"),
          "checkpoint not found: {tmp}/missing.npz"),
    train("resume with another learning rate", ("--resume", "{run}/checkpoint.npz", "--out",
                                                "{run}", "--lr", "0.001"),
          "a resumed run keeps the checkpoint's settings; these differ: --lr 0.001 "
          "(checkpoint: 0.0002)", unchanged=(RUN_CHECKPOINT,)),
    train("resume and overwrite the same run", ("--out", "{run}", "--resume", "--overwrite"),
          "--resume continues the run in --out and --overwrite deletes it; give one of them",
          unchanged=(RUN_CHECKPOINT,)),

    # generate.py
    generate("an empty grid", ("--n", "0"), "--n must be in [1, 10000], got 0"),
    generate("a grid of 100 million samples", ("--n", "100000000"),
             "--n must be in [1, 10000], got 100000000"),
    generate("no images per grid row", ("--nrow", "0"), "--nrow must be in [1, 10000], got 0"),
    generate("a grid row a billion images wide", ("--nrow", "1000000000"),
             "--nrow must be in [1, 10000], got 1000000000"),
    generate("no interpolation rows", ("--rows", "0"), "--rows must be >= 1, got 0"),
    generate("a million interpolation images", ("--rows", "100000"),
             "--rows x --steps must be <= 10000, got 100000 x 10"),
    generate("an interpolation of one image", ("--steps", "1"),
             "--steps must be >= 2 (a row walks from one z to another), got 1"),
    generate("a negative seed", ("--seed", "-1"), "--seed must be >= 0, got -1"),
    generate("an unknown backend", ("--backend", "tpu"),
             "argument --backend: invalid choice: 'tpu'"),
    generate("an index past the grid", ("--arithmetic", "1 - 64"),
             "--arithmetic: indices [64] are not in the grid of 64 samples"),
    generate("a product of samples", ("--arithmetic", "3 * 5"),
             "expected groups of grid indices joined by + and -"),
    generate("a switch given a value", ("--raw-g=yes",),
             "argument --raw-g: ignored explicit argument 'yes'"),
    generate("--ema, a flag of training (its average is sampled where the run kept one)",
             ("--ema", "0.999"), "unrecognized arguments: --ema 0.999"),
    generate("--out is a file", ("--out", "{tmp}/taken"),
             "--out {tmp}/taken: expected a folder, got a file",
             prepare=lambda tmp: (tmp / "taken").write_text("mine"), unchanged=("taken",)),
    generate("--export is a folder", ("--export", "{tmp}/models"),
             "--export {tmp}/models: expected a file to write, got a folder",
             prepare=lambda tmp: (tmp / "models").mkdir()),

    # evaluate.py
    Fault("flag", "a plot of the baselines alone", "evaluate",
          ("--baselines", "--plot", "{tmp}/m.png", "--json", "{tmp}/e.json"),
          says="--plot {tmp}/m.png: expected checkpoints to plot against their epochs, got "
               "--baselines alone", unchanged=("e.json", "m.png")),
    Fault("flag", "the trained G of no checkpoint", "evaluate",
          ("--baselines", "--raw-g", "--json", "{tmp}/e.json"),
          says="--raw-g: expected checkpoints whose trained G to measure, got --baselines alone",
          unchanged=("e.json",)),
    evaluate("more samples than test images", ("--samples", "20000"),
             "--samples must be in [10, 10000]"),
    evaluate("a count in words", ("--samples", "ten"),
             "argument --samples: invalid int value: 'ten'"),
    evaluate("a negative probe set", ("--probe-train", "-1"),
             "--probe-train must be in [0, 50000] (the CIFAR-10 training images), got -1"),
    evaluate("a probe set larger than the training images", ("--probe-train", "100000"),
             "--probe-train must be in [0, 50000] (the CIFAR-10 training images), got 100000"),
    evaluate("a switch given a value", ("--running-stats=yes",),
             "argument --running-stats: ignored explicit argument 'yes'"),
    evaluate("--ema, a flag of training (its average is measured where the run kept one)",
             ("--ema",), "unrecognized arguments: --ema"),
    evaluate("a negative seed", ("--seed", "-1"), "--seed must be >= 0, got -1"),
    evaluate("--json is a folder", ("--json", "{tmp}/out"),
             "--json {tmp}/out: expected a file to write, got a folder",
             prepare=lambda tmp: (tmp / "out").mkdir(), unchanged=("out",)),
    evaluate("--json is the checkpoint measured", ("--json", "{run}/checkpoint.npz"),
             "expected a new file, got one of the checkpoints to measure",
             unchanged=(RUN_CHECKPOINT,)),
    evaluate("--plot is the checkpoint measured", ("--plot", "{run}/checkpoint.npz"),
             "--plot {run}/checkpoint.npz: expected a new file, got one of the checkpoints",
             unchanged=(RUN_CHECKPOINT, "e.json")),
    evaluate("--plot is --json", ("--plot", "{tmp}/e.json"),
             "--plot {tmp}/e.json: expected another file than --json's"),
    evaluate("Inception weights, which tinygan cannot run yet",
             ("--inception-weights", "{tmp}/pt_inception.pth"),
             "tinygan has no Inception-v3 yet"),

    # toy_2d.py
    toy("an unknown loss", ("--loss", "l1"), "argument --loss: invalid choice: 'l1'"),
    toy("minimax G loss with wgan", ("--loss", "wgan", "--g-loss", "minimax"),
        "--g-loss 'minimax' is the BCE loss's original form"),
    toy("label smoothing above 1", ("--label-smoothing", "1.1"),
        "--label-smoothing must be in (0, 1], got 1.1"),
    toy("negative label noise", ("--label-noise", "-0.1"),
        "--label-noise must be in [0, 0.5), got -0.1"),
    toy("temperature 0", ("--temperature", "0"), "--temperature must be > 0, got 0.0"),
    toy("temperature inf", ("--temperature", "inf"),
        "--temperature must be a finite number, got inf"),
    toy("a negative n-critic", ("--n-critic", "-1"), "--n-critic must be >= 1, got -1"),
    toy("clip inf", ("--loss", "wgan", "--clip", "inf"), "--clip must be a finite number, got inf"),
    toy("clip with bce, which clips nothing", ("--clip", "0.1"),
        "--clip clips the weights of --loss wgan's critic without --gp; it does nothing with "
        "--loss bce"),
    toy("gradient penalty inf", ("--gp", "inf"), "--gp must be a finite number, got inf"),
    toy("a negative gradient penalty", ("--gp", "-1"), "--gp must be >= 0, got -1.0"),
    toy("R1 inf", ("--r1", "inf"), "--r1 must be a finite number, got inf"),
    toy("an unknown G activation", ("--g-activation", "sigmoid"),
        "argument --g-activation: invalid choice: 'sigmoid'"),
    toy("an unknown prior", ("--prior", "cauchy"), "argument --prior: invalid choice: 'cauchy'"),
    toy("an unknown optimizer", ("--optimizer", "adamw"),
        "argument --optimizer: invalid choice: 'adamw'"),
    toy("a negative beta1", ("--beta1", "-0.1"), "--beta1 must be in [0, 1), got -0.1"),
    toy("beta2 1", ("--beta2", "1"), "--beta2 must be in [0, 1), got 1.0"),
    toy("Adam's beta with RMSprop", ("--optimizer", "rmsprop", "--beta2", "0.9"),
        "--beta1 and --beta2 are Adam's; --optimizer rmsprop has none"),
    toy("a negative G learning rate", ("--lr-g=-1e-4",),
        "--lr-g and --lr-d must be >= 0 (0: --lr)"),
    toy("D's learning rate inf", ("--lr-d", "inf"), "--lr-d must be a finite number, got inf"),
    toy("an EMA decay above 1", ("--ema", "1.5"), "--ema must be in [0, 1) (0: off), got 1.5"),
    toy("instance norm, which a 2-D point does not have", ("--d-norm", "instance"),
        "argument --d-norm: invalid choice: 'instance'"),
    toy("learning rate inf", ("--lr", "inf"), "--lr must be a finite number > 0, got inf"),
    toy("a negative learning rate", ("--lr", "-0.1"),
        "--lr must be a finite number > 0, got -0.1"),
    toy("no steps", ("--steps", "0"), "--steps must be >= 1, got 0"),
    toy("a batch of one point", ("--batch-size", "1"), "--batch-size must be >= 2, got 1"),
    toy("a batch too large for memory", ("--batch-size", "100000000000"),
        "--width 4 --nz 8 --batch-size 100000000000: training would need about"),
    toy("an empty latent vector", ("--nz", "0"), "--nz must be >= 1, got 0"),
    toy("a latent vector too long for memory", ("--nz", "1000000000000"),
        "--width 4 --nz 1000000000000 --batch-size 8: training would need about"),
    toy("no hidden units", ("--width", "0"), "--width must be >= 1, got 0"),
    toy("layers too wide for memory", ("--width", "100000000"),
        "--width 100000000 --nz 8 --batch-size 8: training would need about"),
    toy("a fractional seed", ("--seed", "1.5"), "argument --seed: invalid int value: '1.5'"),
    toy("--only without --sweep", ("--only", "default"), "--only needs --sweep"),
    toy("a sweep of an unknown recipe", ("--sweep", "--only", "nosuch"),
        "--only needs --sweep and names of its recipes; unknown: ['nosuch']"),
]
