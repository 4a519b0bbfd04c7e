"""How much memory a DCGAN training step needs, with and without releasing the graph.

    python bench/bench_memory.py            # results/memory.{json,md}
    python bench/bench_memory.py --quick    # batch 8, written to /tmp

A backward without retain_graph releases what each Function saved (cols, transforms, batch
statistics) as it goes. Before, D's graph of the real and fake batches stayed alive as long as
the loss did, through G's whole update. This measures the peak of NumPy's allocations during
one tinygan.gan.train_step (tracemalloc, after a warm-up step), once as the engine runs and once
with Function.release made a no-op, which keeps every graph until it is garbage, as before.
"""
import argparse
import tracemalloc

import tinygan  # noqa: F401  (first: it sets OpenBLAS's thread timeout before NumPy loads)

import common
from bench_train import setup, tinygan_step
from tinygan.tensor import Function

CASES = ((32, 128), (64, 64))  # (image size, batch)
QUICK_CASES = ((32, 8),)


def peak_mib(size, batch):
    """Peak MiB of NumPy allocations during one training step, above what was held before it."""
    step = tinygan_step(*setup(size, batch))
    step()  # warm-up: Adam's moments are allocated in the first step
    tracemalloc.start()
    held = tracemalloc.get_traced_memory()[0]
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - held) / 2**20


def peak_without_release(size, batch):
    release = Function.release
    Function.release = lambda self: None
    try:
        return peak_mib(size, batch)
    finally:
        Function.release = release


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 8 only, written to /tmp")
    args = parser.parse_args()
    meta = common.machine_info() | {"quick": args.quick}
    rows, cells = [], []
    for size, batch in QUICK_CASES if args.quick else CASES:
        released, kept = peak_mib(size, batch), peak_without_release(size, batch)
        rows.append({"size": size, "batch": batch, "peak_mib_released": round(released, 1),
                     "peak_mib_kept": round(kept, 1)})
        cells.append((f"{size}x{size}", batch, f"{kept:.0f}", f"{released:.0f}",
                      f"{kept - released:.0f} ({(kept - released) / kept:.0%})"))
    common.write_results("memory", "Peak memory of a DCGAN training step (NumPy allocations)",
                         meta, rows, ["model", "batch", "graph kept (MiB)",
                                      "graph released (MiB)", "saved (MiB)"], cells)


if __name__ == "__main__":
    main()
