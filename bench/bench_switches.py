"""What each sample-quality switch of issue 21 costs per training step, against the default.

    python bench/bench_switches.py            # 32x32, batch 128 -> results/switches.{json,md}
    python bench/bench_switches.py --quick    # batch 8, written to /tmp

One DCGAN step (tinygan.gan.train_step) per switch, the cases interleaved round by round so that
a machine's changing load hits them alike; the table gives each one's median seconds per step
and its ratio to the default measured in the same rounds. TTUR (--lr-g, --lr-d) changes two
numbers and no work, so it has no row.
"""
import argparse
import statistics

import tinygan as tg  # first: it sets OpenBLAS's thread timeout before NumPy loads it
import numpy as np

import common
from tinygan import optim
from tinygan.gan import dcgan, recipes

CASES = {  # name: (train_cifar flags, settings for dcgan.models, Recipe, EMA decay)
    "default": ("", {}, recipes.Recipe(), 0.0),
    "ema": ("--ema 0.999", {}, recipes.Recipe(), 0.999),
    "spectral": ("--d-norm spectral", {"d_norm": "spectral"}, recipes.Recipe(), 0.0),
    "spectral + hinge": ("--d-norm spectral --loss hinge", {"d_norm": "spectral"},
                         recipes.Recipe(loss="hinge"), 0.0),
}


def step_function(settings, recipe, decay, batch, seed=0):
    """One training step of the models ``settings`` describe (and G's average, if decay)."""
    tg.manual_seed(seed)
    G, D = dcgan.models(settings)
    opt_G, opt_D = (optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)) for m in (G, D))
    average = optim.ExponentialMovingAverage(G, decay) if decay else None
    rng = np.random.default_rng(seed)
    real = tg.Tensor(rng.uniform(-1, 1, (batch, 3, 32, 32)).astype(np.float32))
    z = tg.Tensor(rng.standard_normal((batch, 100, 1, 1), np.float32))

    def step():
        recipes.train_step(G, D, opt_G, opt_D, real, z, recipe)
        if average is not None:
            average.update(G)
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 8, 2 rounds, to /tmp")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of 3 steps per case")
    args = parser.parse_args()
    batch, rounds = (8, 2) if args.quick else (128, args.rounds)
    meta = common.machine_info() | {"quick": args.quick, "batch": batch, "rounds": rounds}
    steps = {name: step_function(*case[1:], batch) for name, case in CASES.items()}
    times = {name: [] for name in CASES}
    for _ in range(rounds):
        for name, step in steps.items():
            timing = common.time_it(step, repeats=3, warmup=1)
            times[name].append(timing["median"])
    base = statistics.median(times["default"])
    rows, cells = [], []
    for name, (flags, *_) in CASES.items():
        median = statistics.median(times[name])
        rows.append({"name": name, "flags": flags, "seconds_per_step": median,
                     "ratio_to_default": median / base, "rounds": times[name]})
        cells.append((name, f"`{flags}`" if flags else "(defaults)", f"{median:.3f}",
                      f"{median / base:.2f}"))
    common.write_results("switches", "Cost per step of the sample-quality switches", meta, rows,
                         ["switch", "flags", "seconds per step (median)", "ratio to default"],
                         cells)


if __name__ == "__main__":
    main()
