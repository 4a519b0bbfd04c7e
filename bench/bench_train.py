"""Training-step throughput of the DCGAN: tinygan against PyTorch (CPU), same model, same step.

    python bench/bench_train.py              # results/train.{json,md}: images/s, ratio, peak RSS
    python bench/bench_train.py --scaling    # results/scaling.{json,md,png}: against batch size
    python bench/bench_train.py --profile    # results/profile.{json,md}: where a step's time goes
    python bench/bench_train.py --quick      # any of them as a smoke run, written to /tmp

A step is tinygan.gan.train_step (D on real and fake, then G; Adam) on random images and
noise, or the same step written in torch. Each (framework, model, batch, threads) case runs in a
subprocess of its own with the thread variables set before import, so its peak RSS is its own.
Speed ratio = tinygan images/s / torch images/s: 1.0 is as fast as torch, 0.5 half as fast.
"""
import argparse
import cProfile
import importlib
import json
import os
import pkgutil
import pstats
import subprocess
import sys
from collections import Counter

import tinygan as tg  # first: it sets OpenBLAS's thread timeout before NumPy loads it
import numpy as np

import common
from tinygan import Function, gan, ops, optim
from tinygan.gan import dcgan
from tinygan.backend import cpu
from tinygan.io import atomic_write

# --- config ---------------------------------------------------------------------------------
CASES = [(size, batch, threads) for threads in (1, 2)              # (image size, batch, threads)
         for size, batch in ((32, 64), (32, 128), (64, 64))]
SCALING_SIZES, SCALING_BATCHES = (32, 64), (16, 32, 64, 128, 256)  # one thread per core
PROFILE_SIZE, PROFILE_BATCH = 32, 128                              # tinygan, one thread per core
REPEATS, WARMUP = 10, 2              # timed steps per case after untimed warm-up steps
SCALING_REPEATS, PROFILE_STEPS = 5, 3
QUICK_BATCHES, QUICK_REPEATS = (8, 16), 2  # --quick: small batches, 2 timed steps, 1 warm-up
CHECK_BATCH = 8                      # batch of the tinygan-vs-torch check of one step
LR, BETAS, NZ = 2e-4, (0.5, 0.999), 100
FRAMEWORKS = ("tinygan", "torch")
# Where the environment pins OpenBLAS's kernels, tinygan also runs with the pin lifted, in a
# column of its own: the pin slows tinygan's matrix products and not torch's (no OpenBLAS).
PIN = "OPENBLAS_CORETYPE"
UNPINNED = f"tinygan, {PIN} unset"
PRIMITIVES = ("im2col", "col2im", "winograd_filter", "winograd_filter_adjoint", "winograd_input",
              "winograd_input_adjoint", "winograd_output", "winograd_output_adjoint",
              "leaky_relu", "leaky_relu_backward", "bn_statistics", "bn_act_forward",
              "bn_act_backward_sums", "bn_act_backward_input", "adam_update")
RATIO = "speed ratio = tinygan images/s / torch images/s (1.0: as fast as torch)"


# --- one step in each framework -------------------------------------------------------------

def setup(size, batch, seed=0):
    """tinygan G and D (seeded DCGAN init), a batch of random images in [-1, 1] and noise z."""
    tg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    return (dcgan.Generator(NZ, image_size=size), dcgan.Discriminator(image_size=size),
            rng.uniform(-1, 1, (batch, 3, size, size)).astype(np.float32),
            rng.standard_normal((batch, NZ, 1, 1), np.float32))


def tinygan_step(G, D, real, z):
    """A function running one tinygan training step of G and D (each with its Adam)."""
    opt_G, opt_D = (optim.Adam(m.parameters(), lr=LR, betas=BETAS) for m in (G, D))
    real, z = tg.Tensor(real), tg.Tensor(z)
    return lambda: gan.train_step(G, D, opt_G, opt_D, real, z)


def torch_step(G, D, real, z):
    """A function running the same step on torch copies of G and D (checked equal first)."""
    import torch
    tG, tD = common.torch_dcgan(G, D)
    opt_G, opt_D = (torch.optim.Adam(m.parameters(), lr=LR, betas=BETAS) for m in (tG, tD))
    real, z = torch.from_numpy(real), torch.from_numpy(z)
    return lambda: torch_train_step(tG, tD, opt_G, opt_D, real, z)


def torch_train_step(G, D, opt_G, opt_D, real, z):
    """tinygan.gan.train_step (default recipe) written in torch; returns the same metrics."""
    import torch
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    fake = G(z)
    d_real, d_fake = D(real), D(fake.detach())
    loss_D = bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))
    opt_D.zero_grad()
    loss_D.backward()
    opt_D.step()
    D.requires_grad_(False)  # as tinygan.gan.frozen: no gradients for D's weights in G's update
    loss_G = bce(D(fake), torch.ones_like(d_real))
    opt_G.zero_grad()
    loss_G.backward()
    D.requires_grad_(True)
    opt_G.step()
    return {"loss_D": loss_D.item(), "loss_G": loss_G.item(),
            "D_x": d_real.sigmoid().mean().item(), "D_G_z": d_fake.sigmoid().mean().item()}


STEPS = {"tinygan": tinygan_step, "torch": torch_step}


def check_step(size):
    """Raise unless one step gives the same losses in both (loss_G comes after D's Adam step)."""
    torch_metrics = torch_step(*setup(size, CHECK_BATCH))()
    metrics = tinygan_step(*setup(size, CHECK_BATCH))()
    for name, value in ((k, v) for k, v in metrics.items() if k != "grad_norms"):
        common.check_close(f"{size}x{size} step {name}", value, torch_metrics[name])


# --- subprocess per case --------------------------------------------------------------------

def worker(framework, size, batch, threads, repeats, warmup):
    """Time one case in this process; print it as one JSON line."""
    source = common.tinygan_source()  # as imported, before anyone edits it further
    if framework == "torch":
        import torch  # noqa: F401  (loaded before set_threads and the RSS baseline)
    common.set_threads(threads)
    imports_rss = common.peak_rss_mib()
    step = STEPS[framework](*setup(size, batch))
    seconds = common.time_it(step, repeats, warmup)
    print(json.dumps({"framework": framework, "size": size, "batch": batch, "threads": threads,
                      "tinygan": source,
                      "threads_seen": common.threads_in_use(), "step_s": seconds,
                      "images_per_s": common.rate(batch, seconds),
                      "peak_rss_mib": common.peak_rss_mib(), "imports_rss_mib": imports_rss}))


def run_case(framework, size, batch, threads, repeats, warmup, unpin=False):
    """Run worker() in a fresh Python with its thread variables set (and, if ``unpin``, without
    OPENBLAS_CORETYPE); return its result."""
    command = [sys.executable, __file__, "--worker", framework, str(size), str(batch),
               str(threads), "--repeats", str(repeats), "--warmup", str(warmup)]
    env = {k: v for k, v in common.thread_env(threads).items() if not (unpin and k == PIN)}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    result = json.loads(done.stdout.splitlines()[-1])
    print(f"{framework + (f' ({PIN} unset)' if unpin else ''):8} {size}x{size} "
          f"batch {batch:3} threads {threads}: "
          f"{common.spread(result['images_per_s'])} images/s, "
          f"peak RSS {result['peak_rss_mib']:.0f} MiB", flush=True)
    return result


def run_pairs(cases, repeats, warmup, info):
    """{"tinygan": result, "torch": result} per (size, batch, threads) case, checked first;
    notes in ``info`` how busy the machine was and whether tinygan's sources changed on disk.
    """
    for size in sorted({size for size, _, _ in cases}):
        check_step(size)
    pairs = []
    for case in cases:
        pairs.append({fw: run_case(fw, *case, repeats, warmup) for fw in FRAMEWORKS})
        if PIN in os.environ:
            pairs[-1][UNPINNED] = run_case("tinygan", *case, repeats, warmup, unpin=True)
    common.note_contention(info, [r["step_s"] for p in pairs for r in p.values()])
    sources = sorted({r["tinygan"] for p in pairs for r in p.values()} - {info["tinygan"]})
    if sources:
        info["tinygan_changed_during_run"] = sources
        print("WARNING: tinygan's sources changed during the run; its cases are a mix:", *sources,
              sep="\n  ")
    return pairs


def ratio(pair, tinygan="tinygan"):
    """tinygan's median images/s over torch's."""
    return pair[tinygan]["images_per_s"]["median"] / pair["torch"]["images_per_s"]["median"]


def speed_cells(pair):
    """Table cells of a pair: images/s of each, speed ratio, and cores busy elsewhere; then
    the same for tinygan with OpenBLAS unpinned, if it ran."""
    cells = ([common.spread(pair[fw]["images_per_s"]) for fw in FRAMEWORKS] + [f"{ratio(pair):.2f}"]
             + [" / ".join(common.busy_text([pair[fw]["step_s"]]) for fw in FRAMEWORKS)])
    if UNPINNED in pair:
        cells += [common.spread(pair[UNPINNED]["images_per_s"]), f"{ratio(pair, UNPINNED):.2f}"]
    return cells


def speed_headers():
    """Headers of speed_cells' columns."""
    headers = ["tinygan images/s", "torch images/s", "speed ratio",
               "busy elsewhere (cores, tinygan / torch)"]
    if PIN in os.environ:
        headers += [f"images/s, {UNPINNED}", f"speed ratio, {UNPINNED}"]
    return headers


def meta(repeats, warmup, threads, quick):
    """Machine, load and peaks at each thread count, plus the timing settings."""
    info = common.machine_info() | {"quick": quick}
    for n in threads:
        common.set_threads(n)
        info[f"peaks_{n}_threads"] = {k: round(v, 1) for k, v in common.machine_peaks().items()}
    return info | {"repeats": repeats, "warmup": warmup, "timing": "median (min-max) of repeats",
                   "ratio": RATIO}


# --- the three modes ------------------------------------------------------------------------

def bench(repeats, warmup, quick):
    """Images/s, speed ratio and peak RSS for every case of CASES: results/train.*"""
    cases = list(dict.fromkeys((s, QUICK_BATCHES[-1] if quick else b, t) for s, b, t in CASES))
    info = meta(repeats, warmup, sorted({t for _, _, t in cases}), quick)
    pairs = run_pairs(cases, repeats, warmup, info)
    cells = [[f"{p['tinygan']['size']}x{p['tinygan']['size']}", p["tinygan"]["batch"],
              p["tinygan"]["threads"]] + speed_cells(p)
             + [f"{p[fw]['peak_rss_mib']:.0f} ({p[fw]['imports_rss_mib']:.0f})"
                for fw in FRAMEWORKS] for p in pairs]
    common.write_results("train", "DCGAN training step on the CPU: tinygan vs PyTorch", info,
                         pairs, ["model", "batch", "threads"] + speed_headers()
                         + ["tinygan peak RSS MiB (imports)", "torch peak RSS MiB (imports)"],
                         cells)


def scaling(repeats, warmup, quick):
    """Images/s against batch size for each image size: results/scaling.{json,md,png}"""
    threads = os.cpu_count()
    cases = [(size, batch, threads) for size in SCALING_SIZES
             for batch in (QUICK_BATCHES if quick else SCALING_BATCHES)]
    info = meta(repeats, warmup, [threads], quick)
    pairs = run_pairs(cases, repeats, warmup, info)
    cells = [[f"{p['tinygan']['size']}x{p['tinygan']['size']}", p["tinygan"]["batch"]]
             + speed_cells(p) for p in pairs]
    title = f"DCGAN training images/s against batch size, threads={threads}"
    folder = common.write_results("scaling", title, info, pairs,
                                  ["model", "batch"] + speed_headers(), cells)
    plot_scaling(pairs, threads, folder / "scaling.png")


def plot_scaling(pairs, threads, path):
    """Write a PNG plot of images/s against batch, one line per framework and image size."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4))
    for fw, color in zip(pairs[0], ("tab:blue", "tab:orange", "tab:green")):
        for size, style in zip(SCALING_SIZES, ("-", "--"), strict=True):
            points = [(p[fw]["batch"], p[fw]["images_per_s"]) for p in pairs
                      if p[fw]["size"] == size]
            batch = [b for b, _ in points]
            ax.plot(batch, [r["median"] for _, r in points], style, color=color, marker="o",
                    label=f"{fw} {size}x{size}")
            ax.fill_between(batch, [r["min"] for _, r in points], [r["max"] for _, r in points],
                            color=color, alpha=0.2)
    ax.set(xscale="log", xlabel="batch size", ylabel="images/s (median, min-max band)",
           title=f"DCGAN training step, CPU, threads={threads}")
    ax.set_xticks(batch, labels=[str(b) for b in batch])
    ax.minorticks_off()
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=120)
    print(f"wrote {path}")


def profile(steps, warmup, quick):
    """cProfile tinygan steps; print and write results/profile.* (time per op and primitive)."""
    batch = QUICK_BATCHES[-1] if quick else PROFILE_BATCH
    common.set_threads(os.cpu_count())
    info = common.machine_info() | {"quick": quick}
    step = tinygan_step(*setup(PROFILE_SIZE, batch))
    plain = common.time_it(step, steps, warmup)
    common.note_contention(info, [plain])
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [step() for _ in range(steps)])
    stats = pstats.Stats(profiler).stats
    labels = profiled_functions()
    seconds = attribute(stats, labels)
    calls = Counter({labels[f]: stats[f][1] for f in labels if f in stats})
    total = sum(seconds.values())
    rows = [{"name": name, "kind": kind_of(name), "calls_per_step": calls[name] / steps,
             "ms_per_step": 1e3 * s / steps, "percent": 100 * s / total}
            for name, s in seconds.most_common()]
    cells = [[r["name"], r["kind"], f"{r['calls_per_step']:g}" if r["kind"] != "other" else "",
              f"{r['ms_per_step']:.1f}", f"{r['percent']:.1f}"] for r in rows]
    info |= {"model": f"{PROFILE_SIZE}x{PROFILE_SIZE}", "batch": batch, "threads": os.cpu_count(),
             "steps_profiled": steps, "step_ms_unprofiled": common.spread(plain, 1e3),
             "step_ms_profiled": round(1e3 * total / steps, 1),
             "attribution": "own time of every function goes to the nearest op, primitive or "
                            "optimizer above it; time under a helper shared by several (e.g. "
                            "_correlate) is split in proportion to their cumulative time in it"}
    common.write_results("profile", "Where one tinygan DCGAN training step spends its time",
                         info, rows, ["function", "kind", "calls/step", "ms/step", "%"], cells)


def profiled_functions():
    """{pstats key: label} for the forward and backward of every Function in tinygan.ops's
    modules, every backend primitive and Adam.step."""
    families = [importlib.import_module(f"{ops.__name__}.{info.name}")
                for info in pkgutil.iter_modules(ops.__path__)]
    functions = {f"{cls.__name__}.{method}": vars(cls)[method]
                 for family in families for cls in vars(family).values()
                 if isinstance(cls, type) and issubclass(cls, Function)
                 for method in ("forward", "backward") if method in vars(cls)}
    functions |= {f"cpu.{name}": getattr(cpu, name) for name in PRIMITIVES}
    functions["Adam.step"] = optim.Adam.step
    return {(f.__code__.co_filename, f.__code__.co_firstlineno, f.__code__.co_name): label
            for label, f in functions.items()}


def kind_of(label):
    """'op', 'primitive', 'optimizer' or 'other', from a label of profiled_functions()."""
    if label == "other":
        return "other"
    return {"cpu": "primitive", "Adam": "optimizer"}.get(label.split(".")[0], "op")


def attribute(stats, labels):
    """Seconds per label: each function's own time goes to the nearest labelled function above it.

    cProfile keeps one level of callers: a function's own time is split among its callers by
    the own time each call site saw, and time under an unlabelled caller among that caller's
    callers by cumulative time (as gprof does). Time reaching no label is "other".
    """
    memo = {}

    def split(func, column, seen):
        """{label: fraction} of func's time (column 2: own, 3: cumulative) over its callers."""
        callers = stats[func][4]
        total = sum(edge[column] for edge in callers.values())
        if func in seen or not total:
            return {"other": 1.0}
        shares = Counter()
        for caller, edge in callers.items():
            for label, fraction in upward(caller, seen | {func}).items():
                shares[label] += fraction * edge[column] / total
        return shares

    def upward(func, seen):
        """{label: fraction} of the time spent inside func."""
        if func in labels:
            return {labels[func]: 1.0}
        if func not in memo:
            memo[func] = split(func, 3, seen)
        return memo[func]

    seconds = Counter()
    for func, (_, _, own, _, _) in stats.items():
        shares = {labels[func]: 1.0} if func in labels else split(func, 2, frozenset())
        for label, fraction in shares.items():
            seconds[label] += own * fraction
    return seconds


def main():
    """Parse the command line and run the chosen mode."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--scaling", action="store_true", help="images/s against batch size")
    mode.add_argument("--profile", action="store_true", help="per-op time of tinygan's step")
    mode.add_argument("--worker", nargs=4, metavar=("FRAMEWORK", "SIZE", "BATCH", "THREADS"),
                      help="(internal) time one case in this process, print one JSON line")
    parser.add_argument("--repeats", type=int, help=f"timed steps (default {REPEATS}; "
                        f"--scaling {SCALING_REPEATS}; --profile {PROFILE_STEPS})")
    parser.add_argument("--warmup", type=int, default=WARMUP, help="untimed steps first")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: batches {QUICK_BATCHES},"
                        f" {QUICK_REPEATS} repeats, 1 warm-up step")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.warmup = args.repeats or QUICK_REPEATS, 1
    if args.worker:
        fw, *numbers = args.worker
        return worker(fw, *map(int, numbers), args.repeats or REPEATS, args.warmup)
    if args.scaling:
        return scaling(args.repeats or SCALING_REPEATS, args.warmup, args.quick)
    if args.profile:
        return profile(args.repeats or PROFILE_STEPS, args.warmup, args.quick)
    return bench(args.repeats or REPEATS, args.warmup, args.quick)


if __name__ == "__main__":
    main()
