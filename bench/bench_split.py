"""Does splitting a product's work across threads by hand beat OpenBLAS's own threads?

    python bench/bench_split.py           # results/split.{json,md}
    python bench/bench_split.py --quick   # a smoke run, written to /tmp

For the products of the 32x32 DCGAN step at batch 16 (the Winograd products, 25 per call, and
the plain ones), three ways on 2 cores: NumPy's matmul on 1 OpenBLAS thread, on 2, and the
work cut in two halves (the 25 products, or the rows of a plain one), each half on 1 OpenBLAS
thread in a Python thread of its own (matmul releases the GIL).
"""
import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import tinygan  # noqa: F401  (first: it sets OpenBLAS's thread timeout before NumPy loads)

import numpy as np
from threadpoolctl import threadpool_limits

import common

# (products, M, K, N): the Winograd products of the batch-16 step, then its plain products
SHAPES = [(25, 128, 256, 256), (25, 512, 256, 64), (25, 256, 512, 64), (25, 128, 256, 64),
          (25, 256, 128, 64), (1, 4096, 512, 256), (1, 2048, 256, 256), (1, 1024, 128, 1024),
          (1, 512, 4096, 256), (1, 256, 2048, 256)]
QUICK_SHAPES = [(25, 16, 32, 32), (1, 64, 32, 64)]
REPEATS, WARMUP = 50, 3


def halves(a, b, out, pool):
    """out = a @ b, the products (or a single product's rows) cut in two, each half in a
    thread of its own."""
    if a.shape[0] > 1:  # (P, M, K) @ (P, K, N): two groups of products
        cut = (a.shape[0] + 1) // 2
        parts = [(a[s], b[s], out[s]) for s in (slice(None, cut), slice(cut, None))]
    else:  # one product: two groups of its rows
        cut = (a.shape[1] + 1) // 2
        parts = [(a[:, s], b, out[:, s]) for s in (slice(None, cut), slice(cut, None))]
    (a0, b0, out0), (a1, b1, out1) = parts
    pending = pool.submit(np.matmul, a0, b0, out=out0)
    np.matmul(a1, b1, out=out1)
    pending.result()


def measure(shape, repeats, warmup, pool):
    """GFLOP/s (median) of (P, M, K) @ (P, K, N) three ways, taking turns call by call so that
    the machine's drift falls on all three alike."""
    p, m, k, n = shape
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s, np.float32) for s in ((p, m, k), (p, k, n)))
    out = np.empty((p, m, n), np.float32)
    ways = {"1 thread": (1, lambda: np.matmul(a, b, out=out)),
            "2 threads": (2, lambda: np.matmul(a, b, out=out)),
            "halves, 1 thread each": (1, lambda: halves(a, b, out, pool))}
    seconds = {name: [] for name in ways}
    for _ in range(warmup + repeats):
        for name, (threads, run) in ways.items():
            with threadpool_limits(threads, "blas"):
                start = time.perf_counter()
                run()
                seconds[name].append(time.perf_counter() - start)
    flops = 2 * p * m * k * n
    return {"shape": shape, "gflops": {name: flops / statistics.median(s[warmup:]) / 1e9
                                       for name, s in seconds.items()}}


def shape_text(p, m, k, n):
    """'P x (M x K) @ (K x N)'."""
    return f"{p} x ({m} x {k}) @ ({k} x {n})"


def main():
    """Parse the command line, measure every shape, write results/split.*"""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny shapes, 2 repeats")
    args = parser.parse_args()
    shapes, repeats = (QUICK_SHAPES, 2) if args.quick else (SHAPES, REPEATS)
    info = common.machine_info() | {"quick": args.quick, "repeats": repeats, "warmup": WARMUP,
                                    "timing": "the three ways in turn, call by call; median"}
    with ThreadPoolExecutor(1) as pool:
        rows = [measure(shape, repeats, WARMUP, pool) for shape in shapes]
    names = list(rows[0]["gflops"])
    cells = [[shape_text(*r["shape"])] + [f"{r['gflops'][x]:.0f}" for x in names] for r in rows]
    common.write_results("split", "Products split by hand against OpenBLAS's own threads "
                         "(GFLOP/s)", info, rows, ["products"] + names, cells)


if __name__ == "__main__":
    main()
