"""One process with 2 threads against 2 MPI ranks with 1 thread each, on one DCGAN step.

    python bench/bench_distributed.py            # global batch 128 -> results/distributed.{json,md}
    python bench/bench_distributed.py --quick    # global batch 16, 2 steps, to /tmp

Each case runs in its own processes (``mpiexec -n 2`` for the ranks, each with the batch's
half), times the same steps of tinygan.gan.train_step on the same global batch, and reports the
median images/s of the whole batch and, for the ranks, the median time spent averaging
gradients (the allreduces of tinygan.distributed.average_gradients, G's and D's) per step.
Batch norm is per rank (as PyTorch's DDP) or synchronised (--sync-bn in the table).
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import common

CASES = (("1 process x 2 threads", 1, 2, False), ("2 ranks x 1 thread", 2, 1, False),
         ("2 ranks x 1 thread, SyncBatchNorm", 2, 1, True))


def worker(batch, steps, sync_bn):
    """In each rank: time ``steps`` training steps (after one warm-up); print rank 0's JSON."""
    import numpy as np
    import tinygan as tg
    from tinygan import distributed, optim
    from tinygan.gan import dcgan, recipes

    comm = distributed.Communicator()
    tg.manual_seed(0)
    G, D = dcgan.models({})
    if sync_bn:
        distributed.sync_batch_norm(G, comm), distributed.sync_batch_norm(D, comm)
    opt_G, opt_D = (optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)) for m in (G, D))
    share = batch // comm.size
    rng = np.random.default_rng(comm.rank)
    real = tg.Tensor(rng.uniform(-1, 1, (share, 3, 32, 32)).astype(np.float32))
    z = tg.Tensor(rng.standard_normal((share, 100, 1, 1), np.float32))
    averaging, average = [], distributed.average_gradients

    def timed_average(module, communicator):
        began = time.perf_counter()
        average(module, communicator)
        averaging[-1] += time.perf_counter() - began

    distributed.average_gradients = timed_average
    seconds = []
    for _ in range(steps + 1):
        averaging.append(0.0)
        began = time.perf_counter()
        recipes.train_step(G, D, opt_G, opt_D, real, z,
                           communicator=comm if comm.size > 1 else None)
        seconds.append(time.perf_counter() - began)
    if comm.rank == 0:
        print(json.dumps({"images_per_s": batch / statistics.median(seconds[1:]),
                          "allreduce_s": statistics.median(averaging[1:])}))


def run_case(ranks, threads, sync_bn, batch, steps):
    """The worker's JSON for one case, run in fresh processes."""
    command = [sys.executable, __file__, "--worker", str(batch), str(steps), str(int(sync_bn))]
    if ranks > 1:
        command = [str(Path(sys.executable).with_name("mpiexec")), "-n", str(ranks)] + command
    done = subprocess.run(command, capture_output=True, text=True, env=common.thread_env(threads),
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="global batch 16, 2 steps, to /tmp")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per case")
    parser.add_argument("--worker", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker[0], args.worker[1], bool(args.worker[2]))
    batch, steps = (16, 2) if args.quick else (128, args.steps)
    meta = common.machine_info() | {"quick": args.quick, "global_batch": batch, "steps": steps}
    rows, cells = [], []
    for name, ranks, threads, sync_bn in CASES:
        result = run_case(ranks, threads, sync_bn, batch, steps)
        rows.append({"case": name, "ranks": ranks, "threads": threads, "sync_bn": sync_bn}
                    | result)
        allreduce = f"{result['allreduce_s'] * 1e3:.0f}" if ranks > 1 else "-"
        cells.append((name, f"{result['images_per_s']:.1f}", allreduce))
    common.write_results("distributed", "Data parallelism on this machine: one DCGAN step",
                         meta, rows, ["case", "images/s (median)",
                                      "gradient averaging per step (ms)"], cells)


if __name__ == "__main__":
    main()
