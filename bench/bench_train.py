"""Training-step throughput of the DCGAN: tinygan against PyTorch (CPU), same model, same step.

    python bench/bench_train.py              # results/train.{json,md}: images/s, ratio, peak RSS
    python bench/bench_train.py --scaling    # results/scaling.{json,md,png}: against batch size
    python bench/bench_train.py --profile    # results/profile.{json,md}: where a step's time goes
    python bench/bench_train.py --quick      # any of them as a smoke run, written to /tmp

A step is tinygan.gan.train_step (D on real and fake, then G; Adam) on random images and
noise, or the same step written in torch. Each framework is timed in a fresh process of its own
(thread variables set before import), in turn (tinygan, torch, tinygan, torch, ...) for
--rounds rounds: a round's images/s is the batch over the median of its timed steps, and the
figure reported is the median of the rounds'. Beside it, for reference only, both frameworks
stepping in turn in one process: unfair, since OpenBLAS's threads spin on after NumPy's
products and slow torch's next step. Speed ratio = tinygan images/s / torch images/s.
"""
import argparse
import cProfile
import importlib
import json
import os
import pkgutil
import pstats
import statistics
import subprocess
import sys
from collections import Counter

import tinygan as tg  # first: it sets OpenBLAS's thread timeout before NumPy loads it
import numpy as np

import common
import step_budget
from tinygan import Function, gan, ops, optim
from tinygan.gan import dcgan
from tinygan.backend import cpu
from tinygan.io import atomic_write

# --- config ---------------------------------------------------------------------------------
CASES = [(32, 128, 2), (32, 16, 1), (32, 16, 2),  # (image size, batch, threads): the rows
         (64, 64, 1), (64, 64, 2)]                 # of issue 32's table
SCALING_SIZES, SCALING_BATCHES = (32, 64), (16, 32, 64, 128, 256)  # one thread per core
REPEATS, WARMUP = 10, 2              # timed steps per case after untimed warm-up steps
SCALING_REPEATS, PROFILE_STEPS = 5, 3  # --profile: steps timed, then steps under cProfile
ROUNDS, QUICK_ROUNDS = 3, 2        # processes per framework and case, in turn
QUICK_BATCHES, QUICK_REPEATS = (8, 16), 2  # --quick: small batches, 2 timed steps, 1 warm-up
CHECK_BATCH = 8                      # batch of the tinygan-vs-torch check of one step
LR, BETAS, NZ = 2e-4, (0.5, 0.999), 100
FRAMEWORKS = ("tinygan", "torch")
# Where the environment pins OpenBLAS's kernels, tinygan also runs with the pin lifted, in a
# column of its own: the pin slows tinygan's matrix products and not torch's (no OpenBLAS).
PIN = "OPENBLAS_CORETYPE"
UNPINNED = f"tinygan, {PIN} unset"
RATIO = "speed ratio = tinygan images/s / torch images/s (1.0: as fast as torch)"
INTERLEAVED = "interleaved"  # --worker pseudo-framework: both in one process, stepping in turn
PROFILED = "profile"  # --worker pseudo-framework: tinygan's step, profiled (--profile)
INTERLEAVED_HEADER = ("interleaved in one process (unfair; for reference): tinygan / torch "
                      "images/s (ratio)")


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


# --- a process per framework, in turn, round after round ----------------------------------

def worker(framework, size, batch, threads, repeats, warmup):
    """Time one case in this process (both frameworks in turn if INTERLEAVED); print one JSON
    line."""
    source = common.tinygan_source()  # as imported, before anyone edits it further
    if framework == PROFILED:
        common.set_threads(threads)
        result = profile_case(size, batch, repeats, warmup)
        print(json.dumps({"size": size, "batch": batch, "threads": threads, "tinygan": source}
                         | result))
        return
    names = FRAMEWORKS if framework == INTERLEAVED else (framework,)
    if "torch" in names:
        importlib.import_module("torch")  # loaded before set_threads and the RSS baseline
    common.set_threads(threads)
    imports_rss = common.peak_rss_mib()
    steps = {name: STEPS[name](*setup(size, batch)) for name in names}
    seconds = common.time_in_turn(steps, repeats, warmup)
    print(json.dumps({"framework": framework, "size": size, "batch": batch, "threads": threads,
                      "tinygan": source,
                      "threads_seen": common.threads_in_use(), "step_s": seconds,
                      "images_per_s": {n: common.rate(batch, s) for n, s in seconds.items()},
                      "peak_rss_mib": common.peak_rss_mib(), "imports_rss_mib": imports_rss}))


def run_case(variant, size, batch, threads, repeats, warmup, label=""):
    """Run worker() for a variant (a framework, UNPINNED, INTERLEAVED or PROFILED) in a fresh
    Python with its thread variables set; print and return its result."""
    unpin = variant == UNPINNED
    command = [sys.executable, __file__, "--worker", "tinygan" if unpin else variant, str(size),
               str(batch), str(threads), "--repeats", str(repeats), "--warmup", str(warmup)]
    env = {k: v for k, v in common.thread_env(threads).items() if not (unpin and k == PIN)}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    result = json.loads(done.stdout.splitlines()[-1])
    rates = ", ".join(f"{name} {common.spread(rate)}"
                      for name, rate in result["images_per_s"].items())
    print(f"{label:12} {variant:11} {size}x{size} batch {batch:3} threads {threads}: "
          f"{rates} images/s, peak RSS {result['peak_rss_mib']:.0f} MiB", flush=True)
    return result


def variants():
    """What runs in processes of its own: each framework, and tinygan unpinned where PIN is set."""
    return FRAMEWORKS + ((UNPINNED,) if PIN in os.environ else ())


def schedule(names, rounds):
    """[(round, name)] in the order they run: each name once per round, in turn."""
    return [(r, name) for r in range(rounds) for name in names]


def median_of_medians(rates):
    """Rounds' rate results as one: the median of their medians, and the least and most of
    those medians."""
    medians = [rate["median"] for rate in rates]
    return {"median": statistics.median(medians), "min": min(medians), "max": max(medians),
            "rounds": len(medians)}


def aggregate(results):
    """One variant's rounds (worker results) as one: images/s the median of the rounds'
    medians, peak RSS the most of any round, and the rounds themselves."""
    return {"images_per_s": median_of_medians([rate for r in results
                                               for rate in r["images_per_s"].values()]),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in results),
            "imports_rss_mib": max(r["imports_rss_mib"] for r in results), "rounds": results}


def run_row(case, rounds, repeats, warmup, interleaved):
    """One case: {size, batch, threads, "fair": {variant: aggregate}} and, if ``interleaved``,
    the in-process interleaved worker result."""
    results = {name: [] for name in variants()}
    for r, name in schedule(list(results), rounds):
        results[name].append(run_case(name, *case, repeats, warmup, f"round {r + 1}/{rounds}"))
    row = dict(zip(("size", "batch", "threads"), case)) | {
        "fair": {name: aggregate(rs) for name, rs in results.items()}}
    if interleaved:
        row[INTERLEAVED] = run_case(INTERLEAVED, *case, repeats, warmup, "in 1 process")
    return row


def worker_results(row):
    """Every worker result of a row."""
    return [r for fair in row["fair"].values() for r in fair["rounds"]] + (
        [row[INTERLEAVED]] if INTERLEAVED in row else [])


def run_rows(cases, rounds, repeats, warmup, info, interleaved=False):
    """run_row for each case, the step checked against torch's first; notes in ``info`` how
    busy the machine was and whether tinygan's sources changed on disk."""
    for size in sorted({size for size, _, _ in cases}):
        check_step(size)
    rows = [run_row(case, rounds, repeats, warmup, interleaved) for case in cases]
    results = [r for row in rows for r in worker_results(row)]
    common.note_contention(info, [t for r in results for t in r["step_s"].values()])
    own = common.sources_of(info["tinygan"])
    sources = sorted({r["tinygan"] for r in results if common.sources_of(r["tinygan"]) != own})
    if sources:
        info["tinygan_changed_during_run"] = sources
        print("WARNING: tinygan's sources changed during the run; its cases are a mix:", *sources,
              sep="\n  ")
    return rows


def ratio(row, tinygan="tinygan"):
    """tinygan's median of medians images/s over torch's."""
    fair = row["fair"]
    return fair[tinygan]["images_per_s"]["median"] / fair["torch"]["images_per_s"]["median"]


def busy_cell(row):
    """The most cores busy elsewhere while each framework was timed, 'tinygan / torch'."""
    return " / ".join(common.busy_text([r["step_s"][fw] for r in row["fair"][fw]["rounds"]])
                      for fw in FRAMEWORKS)


def interleaved_cell(row):
    """'tinygan / torch (ratio)' images/s of the interleaved run."""
    rates = [row[INTERLEAVED]["images_per_s"][fw]["median"] for fw in FRAMEWORKS]
    return f"{rates[0]:.1f} / {rates[1]:.1f} ({rates[0] / rates[1]:.2f})"


def speed_cells(row):
    """Table cells of a row: images/s of each, speed ratio, cores busy elsewhere; then the same
    for tinygan with OpenBLAS unpinned, if it ran, and the interleaved run, if it ran."""
    fair = row["fair"]
    cells = ([common.spread(fair[fw]["images_per_s"]) for fw in FRAMEWORKS]
             + [f"{ratio(row):.2f}", busy_cell(row)])
    if UNPINNED in fair:
        cells += [common.spread(fair[UNPINNED]["images_per_s"]), f"{ratio(row, UNPINNED):.2f}"]
    return cells + ([interleaved_cell(row)] if INTERLEAVED in row else [])


def speed_headers(interleaved=False):
    """Headers of speed_cells' columns."""
    headers = ["tinygan images/s", "torch images/s", "speed ratio",
               "busy elsewhere (cores, tinygan / torch)"]
    if PIN in os.environ:
        headers += [f"images/s, {UNPINNED}", f"speed ratio, {UNPINNED}"]
    return headers + ([INTERLEAVED_HEADER] if interleaved else [])


def meta(rounds, repeats, warmup, threads, quick):
    """Machine, kernels, load and peaks at each thread count, plus the timing settings."""
    importlib.import_module("torch")  # loaded, so that machine_info lists its kernels
    info = common.machine_info() | {"quick": quick}
    print(f"CPU {info['cpu']}, AVX-512 (avx512f): {info['avx512f']}; kernels (threads before "
          f"the cases set theirs):", *[f"{k}: {v}" for k, v in info["blas_kernels"].items()],
          sep="\n  ")
    for n in threads:
        common.set_threads(n)
        info[f"peaks_{n}_threads"] = {k: round(v, 1) for k, v in common.machine_peaks().items()}
    return info | {"rounds": rounds, "repeats": repeats, "warmup": warmup,
                   "timing": f"each framework in a fresh process of its own, in turn (tinygan, "
                             f"torch, tinygan, ...), {rounds} rounds; a round's images/s: batch "
                             f"/ median of its {repeats} timed steps after {warmup} warm-up; "
                             "shown: median of the rounds' (min-max of the rounds')",
                   "interleaved": "both frameworks in one process, stepping in turn, median of "
                                  "the same steps: OpenBLAS's threads spin on after NumPy's "
                                  "products and slow torch's next step, so for reference only",
                   "ratio": RATIO}


# --- the three modes ------------------------------------------------------------------------

def bench(rounds, repeats, warmup, quick):
    """Images/s, speed ratio and peak RSS for every case of CASES: results/train.*"""
    cases = list(dict.fromkeys((s, QUICK_BATCHES[-1] if quick else b, t) for s, b, t in CASES))
    info = meta(rounds, repeats, warmup, sorted({t for _, _, t in cases}), quick)
    rows = run_rows(cases, rounds, repeats, warmup, info, interleaved=True)
    cells = [[f"{r['size']}x{r['size']}", r["batch"], r["threads"]] + speed_cells(r)
             + [f"{r['fair'][fw]['peak_rss_mib']:.0f} ({r['fair'][fw]['imports_rss_mib']:.0f})"
                for fw in FRAMEWORKS] for r in rows]
    common.write_results("train", "DCGAN training step on the CPU: tinygan vs PyTorch", info,
                         rows, ["model", "batch", "threads"] + speed_headers(interleaved=True)
                         + ["tinygan peak RSS MiB (imports)", "torch peak RSS MiB (imports)"],
                         cells)


def scaling(rounds, repeats, warmup, quick):
    """Images/s against batch size for each image size: results/scaling.{json,md,png}"""
    threads = os.cpu_count()
    cases = [(size, batch, threads) for size in SCALING_SIZES
             for batch in (QUICK_BATCHES if quick else SCALING_BATCHES)]
    info = meta(rounds, repeats, warmup, [threads], quick)
    rows = run_rows(cases, rounds, repeats, warmup, info)
    cells = [[f"{r['size']}x{r['size']}", r["batch"]] + speed_cells(r) for r in rows]
    title = f"DCGAN training images/s against batch size, threads={threads}"
    folder = common.write_results("scaling", title, info, rows,
                                  ["model", "batch"] + speed_headers(), cells)
    plot_scaling(rows, threads, folder / "scaling.png")


def plot_scaling(rows, threads, path):
    """Write a PNG plot of images/s against batch, one line per framework and image size."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4))
    for fw, color in zip(rows[0]["fair"], ("tab:blue", "tab:orange", "tab:green")):
        for size, style in zip(SCALING_SIZES, ("-", "--"), strict=True):
            points = [(r["batch"], r["fair"][fw]["images_per_s"]) for r in rows
                      if r["size"] == size]
            batch = [b for b, _ in points]
            ax.plot(batch, [r["median"] for _, r in points], style, color=color, marker="o",
                    label=f"{fw} {size}x{size}")
            ax.fill_between(batch, [r["min"] for _, r in points], [r["max"] for _, r in points],
                            color=color, alpha=0.2)
    ax.set(xscale="log", xlabel="batch size",
           ylabel="images/s (median of rounds, min-max band)",
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
    """Profile tinygan's step for every case of CASES, each in a process of its own: print and
    write results/profile.* (the step's time against the machine's peaks, then per function)."""
    cases = list(dict.fromkeys((s, QUICK_BATCHES[-1] if quick else b, t) for s, b, t in CASES))
    info = common.machine_info() | {"quick": quick, "steps": steps, "warmup": warmup}
    rows = [run_case(PROFILED, *case, steps, warmup) for case in cases]
    common.note_contention(info, [r["step_s"] for r in rows])
    info |= {"timing": f"each case in a fresh process: {steps} plain steps timed after "
                       f"{warmup} warm-up, then {steps} with the products and kernels timed, "
                       f"then {steps} under cProfile",
             "floor": "the products' multiply-adds at the matmul peak plus the kernels' "
                      "bytes at the copy peak, both measured at the case's threads",
             "kernel bytes": "the arrays each kernel takes and returns: the least it moves",
             "attribution": "own time of every function goes to the nearest op, primitive or "
                            "optimizer above it; time under a helper shared by several (e.g. "
                            "_correlate) is split in proportion to their cumulative time in it"}
    common.write_results("profile", "Where one tinygan DCGAN training step spends its time",
                         info, rows, BUDGET_HEADERS, [budget_cells(r) for r in rows],
                         sections=[s for r in rows for s in (rate_section(r), function_section(r))])


BUDGET_HEADERS = ["model", "batch", "threads", "step ms", "products ms (share)",
                  "products GFLOP/s (of peak)", "kernels ms (share)", "kernels GB/s (of peak)",
                  "other ms (share)", "floor ms", "calls/step"]


def budget_cells(row):
    """A row of the budget table: where the step's time goes, against the peaks."""
    budget = row["budget"]
    products, kernels = (budget[k] for k in (step_budget.PRODUCTS, step_budget.KERNELS))
    other = budget[step_budget.OTHER]
    return [f"{row['size']}x{row['size']}", row["batch"], row["threads"],
            f"{budget['step_ms']:.1f}",
            f"{products['ms']:.1f} ({products['share']:.0%})",
            f"{products['rate']:.0f} ({products['of_peak']:.0%})",
            f"{kernels['ms']:.1f} ({kernels['share']:.0%})",
            f"{kernels['rate']:.1f} ({kernels['of_peak']:.0%})",
            f"{other['ms']:.1f} ({other['share']:.0%})", f"{budget['floor_ms']:.1f}",
            f"{row['python_calls_per_step']:.0f}"]


def case_title(row):
    """'32x32, batch 16, 2 thread(s)' for a profiled row."""
    return f"{row['size']}x{row['size']}, batch {row['batch']}, {row['threads']} thread(s)"


def rate_section(row):
    """(heading, headers, cells) of one case's products and kernels: own time and rate."""
    heading = (f"{case_title(row)}: products (GFLOP/s) and kernels (GB/s of the arrays they "
               "take and return)")
    cells = [[name, f"{f['calls']:g}", f"{f['ms']:.1f}", f"{f['rate']:.1f}"]
             for name, f in row["budget"]["functions"].items()]
    return heading, ["function", "calls/step", "own ms/step", "GFLOP/s or GB/s"], cells


def function_section(row):
    """(heading, headers, cells) of one case's time per op and primitive."""
    heading = f"{case_title(row)}: time per function (cProfile)"
    cells = [[r["name"], r["kind"], f"{r['calls_per_step']:g}" if r["kind"] != "other" else "",
              f"{r['ms_per_step']:.1f}", f"{r['percent']:.1f}"] for r in row["functions"]]
    return heading, ["function", "kind", "calls/step", "ms/step", "%"], cells


def profile_case(size, batch, steps, warmup):
    """In this process (threads already set): the machine's peaks, the plain step's time, its
    budget (step_budget.measure) and a cProfile of it per op and primitive."""
    peaks = common.machine_peaks()
    step = tinygan_step(*setup(size, batch))
    plain = common.time_it(step, steps, warmup)
    budget = step_budget.measure(step, steps, peaks)
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [step() for _ in range(steps)])
    stats = pstats.Stats(profiler)
    labels = profiled_functions()
    seconds = attribute(stats.stats, labels)
    calls = Counter({labels[f]: stats.stats[f][1] for f in labels if f in stats.stats})
    total = sum(seconds.values())
    functions = [{"name": name, "kind": kind_of(name), "calls_per_step": calls[name] / steps,
                  "ms_per_step": 1e3 * s / steps, "percent": 100 * s / total}
                 for name, s in seconds.most_common()]
    return {"peaks": peaks, "step_s": plain, "images_per_s": {"tinygan": common.rate(batch, plain)},
            "peak_rss_mib": common.peak_rss_mib(), "budget": budget,
            "python_calls_per_step": stats.total_calls / steps,
            "step_ms_profiled": 1e3 * total / steps, "functions": functions}


def profiled_functions():
    """{pstats key: label} for the forward and backward of every Function in tinygan.ops's
    modules, every memory-bound backend kernel (step_budget.KERNEL_NAMES) and Adam.step."""
    families = [importlib.import_module(f"{ops.__name__}.{info.name}")
                for info in pkgutil.iter_modules(ops.__path__)]
    functions = {f"{cls.__name__}.{method}": vars(cls)[method]
                 for family in families for cls in vars(family).values()
                 if isinstance(cls, type) and issubclass(cls, Function)
                 for method in ("forward", "backward") if method in vars(cls)}
    functions |= {f"cpu.{name}": getattr(cpu, name) for name in step_budget.KERNEL_NAMES}
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
    mode.add_argument("--profile", action="store_true",
                      help="where tinygan's step spends its time, against the machine's peaks")
    mode.add_argument("--worker", nargs=4, metavar=("FRAMEWORK", "SIZE", "BATCH", "THREADS"),
                      help=f"(internal) time one case in this process (FRAMEWORK tinygan, torch, "
                      f"{INTERLEAVED}: both in turn, or {PROFILED}: tinygan's step profiled), "
                      "print one JSON line")
    parser.add_argument("--rounds", type=int, help="processes per framework and case, in turn "
                        f"(default {ROUNDS}; --quick {QUICK_ROUNDS})")
    parser.add_argument("--repeats", type=int, help=f"timed steps (default {REPEATS}; "
                        f"--scaling {SCALING_REPEATS}; --profile {PROFILE_STEPS})")
    parser.add_argument("--warmup", type=int, default=WARMUP, help="untimed steps first")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: batches {QUICK_BATCHES},"
                        f" {QUICK_REPEATS} repeats, 1 warm-up step, {QUICK_ROUNDS} rounds")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.warmup = args.repeats or QUICK_REPEATS, 1
        args.rounds = args.rounds or QUICK_ROUNDS
    if args.worker:
        fw, *numbers = args.worker
        return worker(fw, *map(int, numbers), args.repeats or REPEATS, args.warmup)
    if args.profile:
        return profile(args.repeats or PROFILE_STEPS, args.warmup, args.quick)
    run, repeats = (scaling, SCALING_REPEATS) if args.scaling else (bench, REPEATS)
    return run(args.rounds or ROUNDS, args.repeats or repeats, args.warmup, args.quick)


if __name__ == "__main__":
    main()
