"""Each op of the 32x32 DCGAN at the shapes its layers see at batch 128: tinygan vs PyTorch (CPU).

    python bench/bench_ops.py                # results/ops.{json,md}, every core's thread
    python bench/bench_ops.py --threads 1    # the same with one thread
    python bench/bench_ops.py --quick        # smoke run: batch 16, 2 repeats, written to /tmp

For every tinygan backend that loads ("cpu"; "cuda" where CuPy and a GPU are there): im2col
and col2im in GB/s, counting one read of the input and one write of the output, as % of the
measured copy bandwidth; conv2d and conv_transpose2d forward and backward (input and weight
gradients) in GFLOP/s (2 per multiply-add of a direct convolution, whatever the algorithm),
as % of the measured float32 matmul peak; batch norm + its activation and relu / leaky_relu /
tanh / sigmoid forward and backward in GB/s.
Backward is the op's own backward, called directly (no graph walk); torch's is autograd.grad.
Each framework gets its images and gradients in the layout its own layers hand on: torch's
contiguous (N, C, H, W), tinygan's channel-major (tinygan/backend/layout.py). Each op is
checked against torch before it is timed. Speed ratio = torch time / tinygan time: 1.0 is as
fast as torch, 0.5 half as fast.
"""
import argparse
import os
import time

import tinygan as tg  # first: it sets OpenBLAS's thread timeout before NumPy loads it
import numpy as np
import torch
import torch.nn.functional as F

import common
from tinygan import backend as backends
from tinygan import nn, ops
from tinygan.gan import dcgan
from tinygan.backend.layout import channel_major, images

# --- config ---------------------------------------------------------------------------------
IMAGE_SIZE, BATCH, NZ = 32, 128, 100   # the model and batch whose layer shapes are measured
REPEATS, WARMUP = 10, 2                # timed calls per op after untimed warm-up calls
# ... and more until they took this long: a burst in which the machine lends this process
# one core instead of two doubles a kernel's time for a few milliseconds; over a second
# the median sees past it, and common.busy_elsewhere can say how busy the machine was.
MIN_SECONDS = 1.0
QUICK_BATCH, QUICK_REPEATS = 16, 2     # --quick
DEVICES = ("cpu", "cuda")              # tinygan backends tried; those that fail to load are skipped
ACTIVATIONS = {"relu": (ops.relu, F.relu), "tanh": (ops.tanh, torch.tanh),
               "sigmoid": (ops.sigmoid, torch.sigmoid),
               "leaky_relu": (lambda x: ops.leaky_relu(x, negative_slope=0.2),
                              lambda x: F.leaky_relu(x, 0.2))}
RATIO = "speed ratio = torch time / tinygan time (1.0: as fast as torch)"
CONV_RATE = ("conv GFLOP/s count a direct convolution's multiply-adds; tinygan's stride-2 4x4 "
             "convs run as Winograd F(4x4, 2x2) with 25/64 of them, and torch's oneDNN uses "
             "AVX-512 where OpenBLAS may be pinned lower: so either rate can pass the peak")
# Seconds of quiet before each timing. torch's OpenMP threads spin for 10-20 ms after each op
# and take a core from whatever runs next in this process: tinygan's im2col of (128, 64, 16, 16)
# took 3.0 ms right after a torch op, 1.9 ms after 50 ms of quiet.
QUIET = 0.1


def layer_shapes(batch):
    """Distinct (kind, input shape, settings) of the layers of G and D, z -> G -> D."""
    G, D = dcgan.Generator(NZ, image_size=IMAGE_SIZE), dcgan.Discriminator(image_size=IMAGE_SIZE)
    x = tg.Tensor(np.random.default_rng(0).standard_normal((batch, NZ, 1, 1), np.float32))
    found = {}
    with tg.no_grad():
        for m in G.main.children() + D.main.children():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                kind = "conv2d" if isinstance(m, nn.Conv2d) else "conv_transpose2d"
                found[kind, x.shape, (m.weight.shape, m.stride, m.padding)] = None
            elif isinstance(m, nn.BatchNormAct2d):
                found["batch_norm", x.shape, m.negative_slope] = None
                found["relu" if m.negative_slope == 0 else "leaky_relu", x.shape, None] = None
            elif not isinstance(m, nn.Flatten):
                found[{nn.LeakyReLU: "leaky_relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid"}[
                    type(m)], x.shape, None] = None
            x = m(x)
    return list(found)


def as_activation(backend, array):
    """array on the backend, and if it is an image batch, laid out as tinygan's layers leave one."""
    on_device = backend.asarray(array)
    return images(channel_major(backend.xp, on_device)) if array.ndim == 4 else on_device


def case(op, direction, label, unit, work, ours, theirs, check=None):
    """One timed comparison of ours() and theirs(); check() (default: their outputs, paired)
    returns (tinygan array, torch tensor) pairs that must agree.
    """
    return {"op": op, "pass": direction, "shape": label, "unit": unit, "work": work,
            "ours": ours, "theirs": theirs,
            "check": check or (lambda: list(zip(ours(), theirs(), strict=True)))}


def forward_backward(op, label, unit, work, backend, ours, theirs, inputs):
    """Forward and backward cases of ours(*tinygan tensors) and theirs(*torch tensors)."""
    rng = np.random.default_rng(1)
    mine = [tg.Tensor(as_activation(backend, a) if k == 0 else backend.asarray(a),
                      requires_grad=True) for k, a in enumerate(inputs)]  # inputs[0]: the image
    their = [torch.tensor(a, requires_grad=True) for a in inputs]
    y, their_y = ours(*mine), theirs(*their)
    gy = rng.standard_normal(y.shape, np.float32)
    my_gy, their_gy = as_activation(backend, gy), torch.from_numpy(gy)

    def my_backward():
        """The op's own backward on raw arrays, its gradients as a tuple."""
        gx = y.creator.backward(my_gy)
        return gx if isinstance(gx, tuple) else (gx,)

    return [case(op, "forward", label, unit, work[0], lambda: (ours(*mine).array,),
                 lambda: (theirs(*their),)),
            case(op, "backward", label, unit, work[1], my_backward,
                 lambda: torch.autograd.grad(their_y, their, their_gy, retain_graph=True))]


def conv_cases(kind, shape, settings, backend, rng):
    """Forward and backward of a conv2d or conv_transpose2d layer, in GFLOP/s."""
    w_shape, stride, padding = settings
    x = rng.standard_normal(shape, np.float32)
    w = rng.normal(0, 0.02, w_shape).astype(np.float32)
    ours, theirs = ((ops.conv2d, F.conv2d) if kind == "conv2d"
                    else (ops.conv_transpose2d, F.conv_transpose2d))
    positions = np.prod(shape[2:]) if kind == "conv_transpose2d" else np.prod(
        [(n + 2 * padding - k) // stride + 1 for n, k in zip(shape[2:], w_shape[2:], strict=True)])
    macs = int(shape[0] * np.prod(w_shape) * positions)  # per output (conv) or input position
    label = f"x {shape} w {w_shape} s{stride} p{padding}"
    return forward_backward(kind, label, "GFLOP/s", (2 * macs / 1e9, 4 * macs / 1e9), backend,
                            lambda a, b: ours(a, b, stride=stride, padding=padding),
                            lambda a, b: theirs(a, b, stride=stride, padding=padding), (x, w))


def col_cases(kind, shape, settings, backend, rng):
    """im2col and col2im at the image geometry of a conv (its input) or conv_transpose (output)."""
    w_shape, stride, padding = settings
    kernel, stride, padding = w_shape[2:], (stride,) * 2, (padding,) * 2
    if kind == "conv_transpose2d":  # its col2im image is its output: w_shape[1] channels
        shape = (shape[0], w_shape[1]) + tuple((n - 1) * s - 2 * p + k for n, s, p, k in
                                               zip(shape[2:], stride, padding, kernel, strict=True))
    image = rng.standard_normal(shape, np.float32)
    my_image, their_image = as_activation(backend, image), torch.from_numpy(image)
    my_col = backend.im2col(my_image, kernel, stride, padding)
    their_col = F.unfold(their_image, kernel, padding=padding, stride=stride)
    size = shape[2:]

    def check_im2col():
        """The columns' values, sorted (tinygan's column layout is its own)."""
        return [(backend.xp.sort(my_col.ravel()), torch.sort(their_col.ravel()).values)]

    def check_col2im():
        """col2im(im2col(x)): each pixel times the number of windows that hold it."""
        return [(backend.col2im(my_col, size, stride, padding),
                 F.fold(their_col, size, kernel, padding=padding, stride=stride))]

    gb = (image.nbytes + my_col.nbytes) / 1e9
    label = f"image {shape} k{kernel[0]} s{stride[0]} p{padding[0]}"
    return [case("im2col", "-", label, "GB/s", gb,
                 lambda: (backend.im2col(my_image, kernel, stride, padding),),
                 lambda: (F.unfold(their_image, kernel, padding=padding, stride=stride),),
                 check_im2col),
            case("col2im", "-", label, "GB/s", gb,
                 lambda: (backend.col2im(my_col, size, stride, padding),),
                 lambda: (F.fold(their_col, size, kernel, padding=padding, stride=stride),),
                 check_col2im)]


def elementwise_cases(kind, shape, slope, backend, rng):
    """Batch norm + activation, or an activation alone: forward and backward, in GB/s."""
    x = rng.standard_normal(shape, np.float32)
    gb = (2 * x.nbytes / 1e9, 3 * x.nbytes / 1e9)  # forward: x, y; backward: x or y, gy, gx
    if kind != "batch_norm":
        return forward_backward(kind, str(shape), "GB/s", gb, backend, *ACTIVATIONS[kind], (x,))
    act = ACTIVATIONS["relu" if slope == 0 else "leaky_relu"][1]
    gamma = rng.normal(1, 0.02, shape[1]).astype(np.float32)
    beta = rng.normal(0, 0.1, shape[1]).astype(np.float32)
    return forward_backward(
        "batch_norm", f"{shape} slope {slope}", "GB/s", gb, backend,
        lambda a, g, b: ops.batch_norm(a, None, None, g, b, training=True, negative_slope=slope),
        lambda a, g, b: act(F.batch_norm(a, None, None, g, b, training=True)), (x, gamma, beta))


def all_cases(batch, backend):
    """Every case at every distinct layer shape of the model, convolutions first (made one
    layer at a time, so that only one layer's arrays are alive at once).
    """
    rng, layers = np.random.default_rng(0), layer_shapes(batch)
    for kind, shape, settings in layers:
        if kind.startswith("conv"):
            yield from conv_cases(kind, shape, settings, backend, rng)
            yield from col_cases(kind, shape, settings, backend, rng)
    for kind, shape, settings in layers:
        if not kind.startswith("conv"):
            yield from elementwise_cases(kind, shape, settings, backend, rng)


def measure(c, backend, peaks, repeats, warmup, min_seconds):
    """Check c's outputs against torch's, then time both; returns the result row."""
    for i, (mine, theirs) in enumerate(c["check"]()):
        common.check_close(f"{c['op']} {c['pass']} {c['shape']} output {i}",
                           backend.to_numpy(mine), theirs.detach().numpy())
    times = {}
    for framework, fn, sync in (("tinygan", c["ours"], backend.synchronize),
                                ("torch", c["theirs"], lambda: None)):
        time.sleep(QUIET)
        times[framework] = common.time_it(fn, repeats, warmup, sync, min_seconds)
    peak = peaks["matmul_gflops" if c["unit"] == "GFLOP/s" else "copy_gbs"]
    row = {k: c[k] for k in ("op", "pass", "shape", "unit", "work")} | {
        "backend": backend.name, "seconds": times,
        "speed_ratio": times["torch"]["median"] / times["tinygan"]["median"]}
    for fw, seconds in times.items():
        row[f"{fw}_rate"] = common.rate(c["work"], seconds)
        row[f"{fw}_percent_of_peak"] = 100 * row[f"{fw}_rate"]["median"] / peak
    print(f"{backend.name:4} {c['op']:16} {c['pass']:8} {c['shape']:50} "
          f"{1e3 * times['tinygan']['median']:9.2f} ms  torch {1e3 * times['torch']['median']:8.2f}"
          f" ms  ratio {row['speed_ratio']:.2f}", flush=True)
    return row


def available_backends():
    """The tinygan backends that load here."""
    loaded = []
    for device in DEVICES:
        try:
            loaded.append(backends.get(device))
        except (ImportError, RuntimeError) as error:
            print(f"skipping backend {device!r}: {error}")
    return loaded


def main():
    """Parse the command line, run every case on every backend, write results/ops.*"""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="BLAS/OpenMP threads of NumPy and torch (default: every core)")
    parser.add_argument("--repeats", type=int,
                        help=f"timed calls per op, at least (default {REPEATS}; and as many as "
                        f"take {MIN_SECONDS:g} s)")
    parser.add_argument("--warmup", type=int, default=WARMUP, help="untimed calls first")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: batch {QUICK_BATCH}, {QUICK_REPEATS} repeats, 1 warm-up")
    args = parser.parse_args()
    batch, repeats = (QUICK_BATCH, QUICK_REPEATS) if args.quick else (BATCH, REPEATS)
    repeats, warmup = args.repeats or repeats, 1 if args.quick else args.warmup
    min_seconds = 0.0 if args.quick else MIN_SECONDS
    common.set_threads(args.threads)
    info = common.machine_info() | {"quick": args.quick, "threads": common.threads_in_use(),
                                    "batch": batch, "repeats": repeats, "warmup": warmup,
                                    "min_seconds": min_seconds, "ratio": RATIO,
                                    "conv_rate": CONV_RATE}
    rows = []
    for backend in available_backends():
        peaks = common.machine_peaks(backend.xp, backend.synchronize)
        info[f"peaks_{backend.name}"] = {k: round(v, 1) for k, v in peaks.items()}
        rows += [measure(c, backend, peaks, repeats, warmup, min_seconds)
                 for c in all_cases(batch, backend)]
    common.note_contention(info, [t for r in rows for t in r["seconds"].values()])
    cells = [[r["backend"], r["op"], r["pass"], r["shape"],
              common.spread(r["seconds"]["tinygan"], 1e3, 2),
              common.spread(r["seconds"]["torch"], 1e3, 2), f"{r['speed_ratio']:.2f}",
              f"{r['tinygan_rate']['median']:.1f} {r['unit']}",
              f"{r['tinygan_percent_of_peak']:.0f}", f"{r['torch_percent_of_peak']:.0f}",
              common.busy_text(r["seconds"].values())] for r in rows]
    common.write_results(
        "ops", f"DCGAN {IMAGE_SIZE}x{IMAGE_SIZE} ops at batch {batch}: tinygan vs PyTorch CPU, "
        f"threads={args.threads}", info, rows,
        ["backend", "op", "pass", "shape", "tinygan ms", "torch ms", "speed ratio",
         "tinygan rate", "tinygan % of peak", "torch % of peak", "busy elsewhere (cores)"],
        cells)


if __name__ == "__main__":
    main()
