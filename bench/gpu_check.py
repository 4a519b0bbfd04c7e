"""The one-shot proof of the cuda backend on a real GPU, in well under 8 minutes.

    pip install -e ".[cuda]"              # ".[cuda13]" for CUDA 13 drivers; torch (CUDA) optional
    python bench/gpu_check.py             # results/gpu/gpu_check.{md,json}
    python bench/gpu_check.py --quick     # tiny batches, written to $TMPDIR/tinygan-gpu-check

In order, each part a section of the results, each check against the NumPy backend on the CPU:
  1. versions and the device;
  2. every kernels/*.cu compiled;
  3. each primitive at the DCGAN's layer shapes (and so every kernel launched);
  4. three DCGAN training steps (losses, gradient norms and weights);
  5. compute-sanitizer --tool memcheck over part 3 at small shapes, when the tool is present;
  6. step time of the 32x32 (batch 128) and 64x64 (batch 64) DCGANs, 3 warm-up and 20 timed
     steps, synchronized, beside PyTorch on the same GPU when torch has CUDA;
  7. train_cifar.py --backend cupy on synthetic images, 30 steps, then --resume to 50.
CI runs it end to end on tests/cuda_emulation's stand-in for CuPy (tests/test_gpu_check.py);
there the parts that need real hardware (5, and the timings' meaning) say that they were
skipped, and why. A failed check is reported in its section and makes the exit status 1.
"""
import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tinygan as tg  # first: it sets OpenBLAS's thread timeout before NumPy loads it
import numpy as np
from PIL import Image

from tinygan import backend, gan, optim
from tinygan.gan import dcgan
from tinygan.backend import cpu
from tinygan.backend.layout import conv_output_size
from tinygan.io import atomic_write

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "gpu"
QUICK_RESULTS = Path(tempfile.gettempdir()) / "tinygan-gpu-check"
# float32 on both sides, but different summation orders (cuBLAS against OpenBLAS, atomics
# against numba's sequential sums): results agree to about 1e-6 of their scale per operation,
# and a training step compounds a few hundred of them.
PRIMITIVE_TOLERANCE, STEP_TOLERANCE = 1e-4, 2e-3
SPEED_CASES, QUICK_SPEED_CASES = ((32, 128), (64, 64)), ((32, 4),)
WARMUP, REPEATS, QUICK_REPEATS = 3, 20, 2
STEPS, QUICK_STEPS = (30, 50), (2, 4)


class Report:
    """Sections of rows, written as markdown and JSON; counts the checks that failed."""

    def __init__(self):
        self.sections, self.failures = [], 0

    def section(self, title, headers, rows, note=""):
        self.sections.append({"title": title, "headers": headers, "rows": rows, "note": note})
        print(f"\n## {title}\n" + (f"{note}\n" if note else ""))
        for row in rows:
            print("  " + " | ".join(str(c) for c in row))

    def check(self, name, ours, reference, tolerance):
        """A row [name, relative error, tolerance, ok]; counts a failure."""
        ours, reference = np.asarray(ours, np.float64), np.asarray(reference, np.float64)
        if ours.shape != reference.shape:
            self.failures += 1
            return [name, f"shape {ours.shape} against {reference.shape}", "-", "FAILED"]
        error = float(np.abs(ours - reference).max(initial=0)
                      / max(np.abs(reference).max(initial=0), 1e-30))
        ok = error <= tolerance
        self.failures += not ok
        return [name, f"{error:.1e}", f"{tolerance:.0e}", "ok" if ok else "FAILED"]

    def write(self, folder):
        folder.mkdir(parents=True, exist_ok=True)
        lines = ["# The cuda backend on a GPU: python bench/gpu_check.py", ""]
        for s in self.sections:
            lines += [f"## {s['title']}", ""] + ([s["note"], ""] if s["note"] else [])
            if s["rows"]:
                headers = s["headers"]
                lines += ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
                lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in s["rows"]]
                lines.append("")
        with atomic_write(folder / "gpu_check.md", "w") as file:
            file.write("\n".join(lines) + "\n")
        with atomic_write(folder / "gpu_check.json", "w") as file:
            json.dump({"sections": self.sections, "failures": self.failures}, file, indent=1)
        print(f"\nwrote {folder / 'gpu_check.md'} and .json; {self.failures} checks failed")


def stand_in(cupy):
    """Whether ``cupy`` is tests/cuda_emulation's NumPy stand-in rather than CuPy."""
    return "stand-in" in (cupy.__doc__ or "")


def versions(report, cuda):
    cupy = cuda.xp
    rows = [["numpy", np.__version__], ["cupy", getattr(cupy, "__version__", "stand-in")]]
    if stand_in(cupy):
        rows.append(["device", "tests/cuda_emulation's stand-in: kernels run on the CPU"])
    else:
        device = cupy.cuda.Device()
        properties = cupy.cuda.runtime.getDeviceProperties(device.id)
        rows += [["device", properties["name"].decode()],
                 ["compute capability", device.compute_capability],
                 ["driver", cupy.cuda.runtime.driverGetVersion()],
                 ["runtime", cupy.cuda.runtime.runtimeGetVersion()]]
    report.section("1. Versions and device", ["what", "version"], rows)


def kernels(report, cuda):
    rows = []
    for path in sorted(cuda.kernel_dir().glob("*.cu")):
        began = time.perf_counter()
        try:
            cuda.kernel(path.stem)
            rows.append([path.stem, f"{time.perf_counter() - began:.2f} s", "ok"])
        except RuntimeError as error:
            report.failures += 1
            rows.append([path.stem, "-", f"FAILED: {str(error).splitlines()[0]}"])
    report.section("2. Every kernel compiled", ["kernel", "compile time", "result"], rows)


def layer_shapes(size, batch):
    """(conv name, image shape, kernel, stride, padding) for every conv of the DCGAN's G and D
    as im2col and col2im see them (a transposed conv's image is its output), and the shapes
    of the batch-normalised activations (after each conv but G's last and D's first and last)."""
    convs, g_outputs, d_outputs, side = [], [], [], 1
    for i, (transposed, c_in, c_out, k, s, p) in enumerate(dcgan.generator_convs(100, 64, 3,
                                                                                   size)):
        out = ((side - 1) * s - 2 * p + k if transposed
               else conv_output_size((side,), (k,), (s,), (p,))[0])
        convs.append((f"G.{i}", (batch, c_out, out, out) if transposed
                      else (batch, c_in, side, side), (k, k), (s, s), (p, p)))
        g_outputs.append((batch, c_out, out, out))
        side = out
    for i, (c_in, c_out, k, s, p) in enumerate(dcgan.discriminator_convs(64, 3, size)):
        convs.append((f"D.{i}", (batch, c_in, side, side), (k, k), (s, s), (p, p)))
        side = conv_output_size((side,), (k,), (s,), (p,))[0]
        d_outputs.append((batch, c_out, side, side))
    return convs, g_outputs[:-1] + d_outputs[1:-1]


def primitives(report, cuda, batch):
    """Each primitive of the cuda backend against the CPU backend's, at the DCGAN's shapes."""
    rng, rows = np.random.default_rng(0), []
    convs, norms = layer_shapes(32, batch)
    for name, shape, kernel, stride, padding in convs:
        x = rng.standard_normal(shape, dtype=np.float32)
        col = cpu.im2col(x, kernel, stride, padding)
        rows.append(report.check(f"im2col {name} {shape}", cuda.to_numpy(
            cuda.im2col(cuda.asarray(x), kernel, stride, padding)), col, PRIMITIVE_TOLERANCE))
        rows.append(report.check(f"col2im {name}", cuda.to_numpy(cuda.col2im(
            cuda.asarray(col), shape[2:], stride, padding)),
            cpu.col2im(col, shape[2:], stride, padding), PRIMITIVE_TOLERANCE))
    for shape in norms:
        x, gy = (rng.standard_normal(shape, dtype=np.float32) for _ in range(2))
        stats = [*cpu.bn_statistics(x)]
        per_channel = [rng.uniform(0.5, 1.5, shape[1]).astype(np.float32) for _ in range(3)]
        inputs = (x, stats[0], per_channel[0], per_channel[1], per_channel[2], 0.2)
        on_device = [cuda.asarray(a) if isinstance(a, np.ndarray) else a for a in inputs]
        for mine, theirs in zip(cuda.bn_statistics(cuda.asarray(x)), stats):
            rows.append(report.check(f"bn_statistics {shape}", cuda.to_numpy(mine), theirs,
                                     PRIMITIVE_TOLERANCE))
        rows.append(report.check(f"bn_act_forward {shape}", cuda.to_numpy(
            cuda.bn_act_forward(*on_device)), cpu.bn_act_forward(*inputs), PRIMITIVE_TOLERANCE))
        sums = cpu.bn_act_backward_sums(*inputs, gy)
        for mine, theirs in zip(cuda.bn_act_backward_sums(*on_device, cuda.asarray(gy)), sums):
            rows.append(report.check(f"bn_act_backward_sums {shape}", cuda.to_numpy(mine),
                                     theirs, PRIMITIVE_TOLERANCE))
        m = x.size // shape[1]
        rows.append(report.check(f"bn_act_backward_input {shape}", cuda.to_numpy(
            cuda.bn_act_backward_input(*on_device, cuda.asarray(gy),
                                       *(cuda.asarray(s) for s in sums), m)),
            cpu.bn_act_backward_input(*inputs, gy, *sums, m), PRIMITIVE_TOLERANCE))
        running = [np.zeros(shape[1], np.float32), np.ones(shape[1], np.float32)]
        device_running = [cuda.asarray(a) for a in running]
        cpu.bn_running_update(*running, *stats, 0.1, m)
        cuda.bn_running_update(*device_running, *(cuda.asarray(s) for s in stats), 0.1, m)
        for mine, theirs in zip(device_running, running):
            rows.append(report.check(f"bn_running_update {shape}", cuda.to_numpy(mine), theirs,
                                     PRIMITIVE_TOLERANCE))
        rows.append(report.check(f"leaky_relu_backward {shape}", cuda.to_numpy(
            cuda.leaky_relu_backward(cuda.asarray(x), cuda.asarray(gy), 0.2)),
            cpu.leaky_relu_backward(x, gy, 0.2), PRIMITIVE_TOLERANCE))
    p, g = (rng.standard_normal(1000, dtype=np.float32) for _ in range(2))
    state = [p.copy(), np.zeros_like(p), np.zeros_like(p)]
    device_state = [cuda.asarray(a) for a in state]
    cpu.adam_update(state[0], g, state[1], state[2], 2e-4, 0.5, 0.999, 1e-8, 0.5, 0.001)
    cuda.adam_update(device_state[0], cuda.asarray(g), device_state[1], device_state[2], 2e-4,
                     0.5, 0.999, 1e-8, 0.5, 0.001)
    rows.append(report.check("adam_update (1000)", cuda.to_numpy(device_state[0]), state[0],
                             PRIMITIVE_TOLERANCE))
    report.section("3. Primitives against the CPU backend (32x32 DCGAN shapes, batch "
                   f"{batch})", ["primitive and shape", "relative error", "tolerance", "result"],
                   rows, "relative error: max |cuda - cpu| / max |cpu|")


def models(device, size, seed=0):
    """The DCGAN of train_cifar.py on ``device``, with its two Adams."""
    tg.manual_seed(seed)
    G, D = (m.to(device) for m in dcgan.models({"image_size": size}))
    return G, D, optim.Adam(G.parameters(), 2e-4, (0.5, 0.999)), optim.Adam(D.parameters(), 2e-4,
                                                                            (0.5, 0.999))


def batch_of(device, size, batch, step):
    rng = np.random.default_rng([0, step])
    real = rng.uniform(-1, 1, (batch, 3, size, size)).astype(np.float32)
    z = rng.standard_normal((batch, 100, 1, 1), np.float32)
    target = backend.get(device)
    return tg.Tensor(target.asarray(real)), tg.Tensor(target.asarray(z))


def steps_against_cpu(report, batch):
    """Three training steps on both backends, each from the CPU run's state (weights, running
    statistics and Adam's moments copied over first), so that each step is checked alone:
    Adam's first updates, about lr * sign(g), would otherwise carry float32 round-off in
    near-zero gradients into the weights at full size."""
    runs = {device: models(device, 32) for device in ("cpu", "cuda")}
    rows, winograd_applies = [], cpu.winograd_applies
    cpu.winograd_applies = lambda *settings: False  # the cpu side on the cuda side's route
    try:
        for step in range(3):
            for source, target in zip(runs["cpu"], runs["cuda"]):
                target.load_state_dict(source.state_dict())
            metrics = {device: gan.train_step(*runs[device], *batch_of(device, 32, batch, step))
                       for device in runs}
            for name in ("loss_D", "loss_G", "D_x", "D_G_z"):
                rows.append(report.check(f"step {step + 1} {name}", metrics["cuda"][name],
                                         metrics["cpu"][name], STEP_TOLERANCE))
            norms = [list(metrics[d]["grad_norms"].values()) for d in ("cuda", "cpu")]
            rows.append(report.check(f"step {step + 1} gradient norms", *norms, STEP_TOLERANCE))
            for name, model in (("G", 0), ("D", 1)):
                weights = [np.concatenate([p.numpy().ravel() for p in runs[d][model].parameters()])
                           for d in ("cuda", "cpu")]
                rows.append(report.check(f"step {step + 1} {name}'s weights", *weights,
                                         STEP_TOLERANCE))
    finally:
        cpu.winograd_applies = winograd_applies
    report.section(f"4. Three DCGAN training steps against the CPU backend (32x32, batch "
                   f"{batch})", ["value", "relative error", "tolerance", "result"], rows,
                   "each step from the CPU run's state; the CPU backend takes the cuda "
                   "backend's conv route, im2col, here (its Winograd route rounds differently)")


def memcheck(report, cuda, quick):
    tool = shutil.which("compute-sanitizer")
    if stand_in(cuda.xp) or tool is None:
        why = "on the stand-in no GPU code runs" if stand_in(cuda.xp) else \
            "compute-sanitizer is not on PATH (it comes with the CUDA toolkit)"
        report.section("5. compute-sanitizer memcheck", [], [], f"skipped: {why}")
        return
    command = [tool, "--tool", "memcheck", "--error-exitcode", "1", sys.executable, __file__,
               "--only-primitives", "--quick", "--out", str(Path(tempfile.mkdtemp()))]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    ok = result.returncode == 0
    report.failures += not ok
    summary = [line for line in result.stdout.splitlines() if "ERROR SUMMARY" in line]
    report.section("5. compute-sanitizer memcheck over the primitives (batch 4)",
                   ["result", "summary"], [["ok" if ok else "FAILED",
                                            summary[-1] if summary else result.stderr[-300:]]])


def timed(step, sync, repeats):
    for _ in range(WARMUP):
        step()
    times = []
    for _ in range(repeats):
        sync()
        began = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - began)
    return statistics.median(times), min(times), max(times)


def torch_step(size, batch):
    """PyTorch's same step on the GPU (bench_train's), or None without torch or CUDA."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_train
        import common
    except ImportError:  # bench's own extra (threadpoolctl) is not installed
        return None
    G, D, _, _ = models("cpu", size)
    tG, tD = (m.cuda() for m in common.torch_dcgan(G, D))
    opts = [torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)) for m in (tG, tD)]
    rng = np.random.default_rng(0)
    real = torch.from_numpy(rng.uniform(-1, 1, (batch, 3, size, size)).astype(np.float32)).cuda()
    z = torch.from_numpy(rng.standard_normal((batch, 100, 1, 1), np.float32)).cuda()
    return (lambda: bench_train.torch_train_step(tG, tD, opts[0], opts[1], real, z),
            torch.cuda.synchronize)


def speed(report, cuda, quick):
    rows = []
    repeats = QUICK_REPEATS if quick else REPEATS
    for size, batch in QUICK_SPEED_CASES if quick else SPEED_CASES:
        G, D, opt_G, opt_D = models("cuda", size)
        real, z = batch_of("cuda", size, batch, 0)
        median, low, high = timed(lambda: gan.train_step(G, D, opt_G, opt_D, real, z),
                                  cuda.synchronize, repeats)
        theirs = torch_step(size, batch)
        torch_cell = "-"
        if theirs is not None:
            t_median, t_low, t_high = timed(*theirs, repeats)
            torch_cell = f"{batch / t_median:.0f} ({batch / t_high:.0f}-{batch / t_low:.0f})"
        rows.append([f"{size}x{size}", batch, f"{batch / median:.0f} ({batch / high:.0f}-"
                     f"{batch / low:.0f})", f"{1e3 * median:.1f}", torch_cell])
    note = ("images/s, median (min-max) of the timed steps, each synchronized; "
            f"{WARMUP} warm-up steps first." + (" On the stand-in these time the CPU emulation, "
                                               "not a GPU." if stand_in(cuda.xp) else ""))
    report.section("6. Training step time", ["model", "batch", "tinygan images/s", "ms/step",
                                             "PyTorch CUDA images/s"], rows, note)


def synthetic_images(folder, count=64):
    """``count`` random 32x32 PNGs in two class folders."""
    rng = np.random.default_rng(0)
    for i in range(count):
        path = folder / f"class{i % 2}" / f"{i:03d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(path)
    return folder


def train_and_resume(report, quick):
    sys.path.insert(0, str(ROOT / "examples"))
    import train_cifar
    first, total = QUICK_STEPS if quick else STEPS
    work = Path(tempfile.mkdtemp())
    common = ["--backend", "cupy", "--data", str(synthetic_images(work / "images")), "--out",
              str(work / "run"), "--batch-size", "8", "--epochs", "1000"]
    statuses = [train_cifar.main(common + ["--max-steps", str(first)]),
                train_cifar.main(common + ["--max-steps", str(total), "--resume"])]
    history = (work / "run" / "history.csv").read_text().splitlines()
    ok = statuses == [0, 0] and len(history) == total + 1
    report.failures += not ok
    report.section("7. train_cifar.py --backend cupy, then --resume",
                   ["exit statuses", "history rows", "result"],
                   [[statuses, len(history) - 1, "ok" if ok else "FAILED"]],
                   f"{first} steps of batch 8 on synthetic images, then --resume to {total}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny batches, 2 timed steps")
    parser.add_argument("--out", type=Path, help=f"results folder (default {RESULTS}, with "
                                                 f"--quick {QUICK_RESULTS})")
    parser.add_argument("--only-primitives", action="store_true",
                        help="part 3 alone (what compute-sanitizer runs)")
    args = parser.parse_args(argv)
    try:
        cuda = backend.get("cuda")
    except (RuntimeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report, batch = Report(), 4 if args.quick else 128
    if args.only_primitives:
        primitives(report, cuda, batch)
    else:
        versions(report, cuda)
        kernels(report, cuda)
        primitives(report, cuda, batch)
        steps_against_cpu(report, 4 if args.quick else 64)
        memcheck(report, cuda, args.quick)
        speed(report, cuda, args.quick)
        train_and_resume(report, args.quick)
    report.write(args.out or (QUICK_RESULTS if args.quick else RESULTS))
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
