"""Shared by the benchmarks: timing, machine peaks, threads, result files and the torch DCGAN."""
import datetime
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import tinygan  # first: it sets OpenBLAS's thread timeout before NumPy loads it
import numpy as np
import threadpoolctl

from tinygan import nn
from tinygan.io import atomic_write

RESULTS = Path(__file__).resolve().parent / "results"
QUICK_RESULTS = Path(tempfile.gettempdir()) / "tinygan-bench-quick"  # --quick runs: never RESULTS
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMBA_NUM_THREADS")
THREAD_SETTINGS = THREAD_VARS + ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "NUMBA_THREADING_LAYER")
MATMUL_N = 2048              # side of the square float32 matmul that measures peak GFLOP/s
COPY_BYTES = 256 * 2 ** 20   # size of the array copied to measure bandwidth (read + write)
PACKAGES = ("numpy", "numba", "torch", "threadpoolctl")  # versions recorded with the results
BACKGROUND = "train_cifar"   # a running process with this in its command line skews timings
CONTENDED = 0.25             # cores busy elsewhere above which a run's timings are suspect
BUSY_WINDOW = 1.0            # seconds of timed calls needed to say how busy other processes were


# --- timing ---------------------------------------------------------------------------------

def time_it(fn, repeats, warmup, sync=lambda: None, min_seconds=0.0):
    """Seconds per call of fn over ``repeats`` calls after warm-up, or more until the calls
    took ``min_seconds``: {"median", "min", "max", "calls"}, and "busy_elsewhere": the cores
    other processes kept busy meanwhile (None if the calls took under BUSY_WINDOW, too short for
    /proc's clock ticks to say).
    """
    for _ in range(warmup):
        fn()
    times, ticks, began = [], cpu_ticks(), time.perf_counter()
    while len(times) < repeats or time.perf_counter() - began < min_seconds:
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return summary(times, ticks, time.perf_counter() - began)


def time_in_turn(fns, repeats, warmup):
    """time_it for each of ``fns`` ({name: fn}), all in this process, called in turn: a, b, a,
    b, ...; {name: time_it result}, each with the cores busy elsewhere over the whole loop.
    """
    times, ticks, began = {name: [] for name in fns}, None, None
    for index in range(warmup + repeats):
        if index == warmup:
            ticks, began = cpu_ticks(), time.perf_counter()
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    seconds = time.perf_counter() - began
    return {name: summary(t[warmup:], ticks, seconds) for name, t in times.items()}


def summary(times, ticks, seconds):
    """time_it's result from the call times, cpu_ticks() before them and the seconds they took."""
    busy = busy_elsewhere(ticks, cpu_ticks(), seconds) if seconds >= BUSY_WINDOW else None
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "calls": len(times), "busy_elsewhere": busy}


def cpu_ticks():
    """(clock ticks the whole machine was busy, ticks this process ran) so far, from /proc."""
    machine = [int(v) for v in Path("/proc/stat").read_text().split()[1:9]]  # the "cpu" line
    own = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return sum(machine) - machine[3] - machine[4], int(own[11]) + int(own[12])  # utime, stime


def busy_elsewhere(before, after, seconds):
    """Cores other processes kept busy between two cpu_ticks() readings ``seconds`` apart."""
    machine, own = (b - a for a, b in zip(before, after, strict=True))
    return round(max(machine - own, 0) / os.sysconf("SC_CLK_TCK") / seconds, 2)


def rate(work, seconds):
    """Work per second from a time_it result: median, and min/max from the slowest/fastest call."""
    return {"median": work / seconds["median"], "min": work / seconds["max"],
            "max": work / seconds["min"]}


def spread(stats, scale=1.0, digits=1):
    """'median (min-max)' of a time_it or rate result, each value multiplied by ``scale``."""
    m, lo, hi = (f"{stats[k] * scale:.{digits}f}" for k in ("median", "min", "max"))
    return f"{m} ({lo}-{hi})"


def machine_peaks(xp=np, sync=lambda: None, repeats=5):
    """float32 matmul GFLOP/s (MATMUL_N square) and copy GB/s (bytes read + written), now."""
    rng = np.random.default_rng(0)
    a, b = (xp.asarray(rng.standard_normal((MATMUL_N, MATMUL_N), np.float32)) for _ in "ab")
    matmul = time_it(lambda: a @ b, repeats, warmup=1, sync=sync)
    source = xp.ones(COPY_BYTES // 4, xp.float32)
    target = xp.empty_like(source)
    copy = time_it(lambda: xp.copyto(target, source), repeats, warmup=1, sync=sync)
    return {"matmul_gflops": 2 * MATMUL_N ** 3 / matmul["median"] / 1e9,
            "copy_gbs": 2 * source.nbytes / copy["median"] / 1e9}


def check_close(name, ours, theirs, tolerance=1e-4):
    """Raise unless max |ours - theirs| <= tolerance * max |theirs| (float32 round-off)."""
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    if ours.shape != theirs.shape:
        raise AssertionError(f"{name}: tinygan's shape {ours.shape}, torch's {theirs.shape}")
    error = np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-30)
    if not error <= tolerance:
        raise AssertionError(f"{name}: tinygan and torch differ by {error:.2e} relative to "
                             f"torch's largest value (tolerance {tolerance:.0e})")


# --- threads, memory and the machine -------------------------------------------------------

def thread_env(threads):
    """os.environ with every thread-pool variable set to ``threads``, for a subprocess."""
    return os.environ | {name: str(threads) for name in THREAD_VARS}


def set_threads(threads):
    """Limit the BLAS/OpenMP pools already loaded (threadpoolctl), and numba's and torch's
    pools if those are imported (never imported here: a tinygan-only process stays lean).
    """
    if "numba" in sys.modules:  # first: numba may load an OpenMP library as it starts
        numba = sys.modules["numba"]  # its pool was sized by NUMBA_NUM_THREADS at import
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    threadpoolctl.threadpool_limits(threads)


def threads_in_use():
    """{library: threads} for every loaded BLAS/OpenMP pool, and numba's and torch's."""
    used = {f"{info['internal_api']} {Path(info['filepath']).name}": info["num_threads"]
            for info in threadpoolctl.threadpool_info()}
    for name in ("numba", "torch"):
        if name in sys.modules:
            used[name] = sys.modules[name].get_num_threads()
    return used


def blas_kernels():
    """The kernels in use: each BLAS/OpenMP library loaded, under the package it came with
    (internal_api, version, the CPU its kernels were chosen for, threads), torch's own if torch
    is loaded, and OPENBLAS_CORETYPE if set.

    OpenBLAS picks its kernels for the CPU it finds, unless OPENBLAS_CORETYPE names one: on an
    AVX-512 CPU pinned to "Haswell" (AVX2) its matrix products run at about half speed, and
    tinygan with them; torch does not use OpenBLAS on x86 and is not affected.
    """
    kernels = {f"{library_owner(info['filepath'])} {info['internal_api']}":
               {key: info.get(key) for key in ("version", "architecture", "num_threads")}
               for info in threadpoolctl.threadpool_info()}
    if "torch" in sys.modules:
        kernels["torch"] = torch_kernels()
    if "OPENBLAS_CORETYPE" in os.environ:
        kernels["OPENBLAS_CORETYPE"] = os.environ["OPENBLAS_CORETYPE"]
    return kernels


def library_owner(path):
    """The package a shared library came with (numpy, torch, ...), or else its file name."""
    parts = Path(path).parts
    if "site-packages" in parts[:-1]:
        return parts[parts.index("site-packages") + 1].removesuffix(".libs")
    return Path(path).name


def torch_kernels():
    """torch's CPU kernels: its BLAS (MKL on x86), MKL's and oneDNN's versions, the SIMD level
    its own kernels dispatch to, and its threads."""
    torch = sys.modules["torch"]
    config = torch.__config__.show()
    return {"blas": found(r"BLAS_INFO=(\w+)", config),
            "mkl": found(r"Math Kernel Library Version ([\d.]+)", config),
            "mkldnn": found(r"MKL-DNN (v[\d.]+)", config)
            if torch.backends.mkldnn.is_available() else None,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "num_threads": torch.get_num_threads()}


def found(pattern, text):
    """The first group of pattern's first match in text, or None."""
    match = re.search(pattern, text)
    return match.group(1) if match else None


def cpu_info():
    """The first processor's fields in /proc/cpuinfo ({} where there is none)."""
    path = Path("/proc/cpuinfo")
    lines = path.read_text().split("\n\n")[0].splitlines() if path.exists() else []
    return dict((k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines))


def peak_rss_mib():
    """This process's peak resident memory so far, in MiB: Linux's VmHWM, which (unlike
    ru_maxrss, kept across exec) starts afresh in a new program.
    """
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024  # reported in kB


def background_jobs():
    """Command lines of other running processes whose command line contains BACKGROUND."""
    jobs = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        if BACKGROUND in command and int(entry.name) != os.getpid():
            jobs.append(command)
    return jobs


def busy_before(seconds=1.0):
    """Cores other processes keep busy while this one sleeps for ``seconds``."""
    ticks = cpu_ticks()
    time.sleep(seconds)
    return busy_elsewhere(ticks, cpu_ticks(), seconds)


def tinygan_source():
    """tinygan's version, the checkout's git commit, and a hash of the sources as they are on
    disk now (tinygan/**/*.py and kernels/*.cu), which tells uncommitted edits apart.
    """
    root = Path(tinygan.__file__).resolve().parent.parent
    digest = hashlib.sha1()
    for path in sorted([*root.glob("tinygan/**/*.py"), *root.glob("kernels/*.cu")]):
        digest.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    return f"{tinygan.__version__}, commit {commit}, sources {digest.hexdigest()[:12]}"


def sources_of(source):
    """The sources hash of a tinygan_source() text: what changes when tinygan's code does (its
    commit also moves when only bench/ or docs/ do)."""
    return source.rsplit("sources ", 1)[-1]


def machine_info():
    """Where and when: CPU, cores, load, library versions, and any background training job."""
    cpu = cpu_info()
    return {"date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name] + sys.argv),
            "cpu": cpu.get("model name", platform.processor()),
            "avx512f": "avx512f" in cpu.get("flags", "").split(),
            "cores": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
            "packages": {name: metadata.version(name) for name in PACKAGES},
            "tinygan": tinygan_source(),
            "thread_settings": {k: os.environ[k] for k in THREAD_SETTINGS if k in os.environ},
            "blas_kernels": blas_kernels(),
            "background_jobs": background_jobs(),
            "busy_before": busy_before()}


# --- result files ---------------------------------------------------------------------------

def write_results(name, title, meta, rows, headers, cells, sections=()):
    """Write NAME.json ({"title", "meta", "rows"}) and NAME.md (meta, the table of ``headers``
    and ``cells``, then a table per (heading, headers, cells) of ``sections``) to RESULTS, or
    QUICK_RESULTS if meta["quick"]; print the first table. Returns the folder.
    """
    folder = QUICK_RESULTS if meta["quick"] else RESULTS
    with atomic_write(folder / f"{name}.json", "w") as f:
        json.dump({"title": title, "meta": meta, "rows": rows}, f, indent=1)
        f.write("\n")
    table = markdown_table(headers, cells)
    lines = [f"# {title}", ""] + [f"- {k}: {v}" for k, v in meta.items()] + [""] + table
    for heading, section_headers, section_cells in sections:
        lines += ["", f"## {heading}", ""] + markdown_table(section_headers, section_cells)
    with atomic_write(folder / f"{name}.md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print(*table, f"wrote {folder / name}.json and .md", sep="\n")
    return folder


def markdown_table(headers, cells):
    """The lines of a Markdown table."""
    return (["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
            + ["| " + " | ".join(str(c) for c in row) + " |" for row in cells])


def busy_text(timings):
    """The most cores busy elsewhere during any of ``timings``, or "-" if none says."""
    busy = [t["busy_elsewhere"] for t in timings if t["busy_elsewhere"] is not None]
    return str(max(busy)) if busy else "-"


def note_contention(meta, timings):
    """Record in ``meta`` the most cores other processes kept busy during any of ``timings``
    (time_it results); warn when they, before or during the run, or a training job shared the
    machine.
    """
    meta["busy_elsewhere_max"] = max((t["busy_elsewhere"] for t in timings
                                      if t["busy_elsewhere"] is not None), default=None)
    busy = max(meta["busy_before"], meta["busy_elsewhere_max"] or 0)
    if meta["background_jobs"] or busy > CONTENDED:
        print(f"WARNING: other processes kept up to {busy} cores busy; these timings are "
              "contended. Training jobs:", *meta["background_jobs"] or ["none"], sep="\n  ")


# --- the same DCGAN in torch.nn -------------------------------------------------------------

def _torch_layers(module):
    """torch.nn modules computing what one tinygan layer computes (parameters not yet copied)."""
    import torch
    if isinstance(module, nn.Conv2d):
        out_channels, in_channels, *kernel = module.weight.shape
        return [torch.nn.Conv2d(in_channels, out_channels, kernel, module.stride, module.padding,
                                bias=module.bias is not None)]
    if isinstance(module, nn.ConvTranspose2d):
        in_channels, out_channels, *kernel = module.weight.shape
        return [torch.nn.ConvTranspose2d(in_channels, out_channels, kernel, module.stride,
                                         module.padding, module.output_padding,
                                         bias=module.bias is not None)]
    if isinstance(module, nn.BatchNorm2d):  # BatchNormAct2d too: batch norm, then its activation
        slope = getattr(module, "negative_slope", 1.0)
        norm = torch.nn.BatchNorm2d(module.weight.shape[0], module.eps, module.momentum)
        return [norm] if slope == 1.0 else [norm, _torch_activation(slope)]
    if isinstance(module, nn.LeakyReLU):
        return [_torch_activation(module.negative_slope)]
    if isinstance(module, nn.Flatten):
        return [torch.nn.Flatten(module.start_dim)]
    simple = {nn.ReLU: torch.nn.ReLU, nn.Tanh: torch.nn.Tanh, nn.Sigmoid: torch.nn.Sigmoid}
    return [simple[type(module)]()]


def _torch_activation(slope):
    """ReLU for slope 0, else LeakyReLU(slope)."""
    import torch
    return torch.nn.ReLU() if slope == 0.0 else torch.nn.LeakyReLU(slope)


def torch_copy(model):
    """torch.nn.Sequential equal to ``model.main``, with its parameters and running statistics.

    tinygan fuses batch norm with its activation, so module names differ; the tensors are
    matched in order (parameters, then buffers without torch's num_batches_tracked), and every
    pair must agree in shape.
    """
    import torch
    theirs = torch.nn.Sequential(*[layer for m in model.main.children()
                                   for layer in _torch_layers(m)])
    counted = "num_batches_tracked"  # a count, not a tensor of the step
    ours = model.parameters() + [b for name, b in model.named_buffers()
                                 if not name.endswith(counted)]
    their = list(theirs.parameters()) + [b for name, b in theirs.named_buffers()
                                         if not name.endswith(counted)]
    shapes = [tuple(t.shape) for t in ours], [tuple(t.shape) for t in their]
    if shapes[0] != shapes[1]:
        raise AssertionError(f"{type(model).__name__}: tinygan tensors {shapes[0]} do not pair "
                             f"up with torch's {shapes[1]}")
    with torch.no_grad():
        for source, target in zip(ours, their, strict=True):
            target.copy_(torch.from_numpy(source.numpy()))
    return theirs


def torch_dcgan(G, D, batch=4, seed=0):
    """torch copies of tinygan's G and D, checked: G(z) and D(G(z)) agree in training mode."""
    import torch
    tG, tD = torch_copy(G), torch_copy(D)
    z = np.random.default_rng(seed).standard_normal((batch, G.main[0].weight.shape[0], 1, 1),
                                                    np.float32)
    fake, their_fake = G(tinygan.Tensor(z)), tG(torch.from_numpy(z))
    check_close("G(z)", fake.numpy(), their_fake.detach().numpy())
    check_close("D(G(z))", D(fake).numpy(), tD(their_fake).detach().numpy())
    return tG, tD
