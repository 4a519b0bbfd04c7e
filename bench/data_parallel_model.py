"""Data parallelism past this machine, on paper: when does averaging gradients stop being free?

    python bench/data_parallel_model.py       # -> results/data_parallel_model.{json,md}

Per step every rank sends G's and D's gradients through one ring allreduce each: it moves
2 (N - 1) / N x bytes over each rank's link, plus a fixed cost per call (NCCL's measured
small-message latency is tens of microseconds, nearly flat in N with its tree algorithm):

    t_allreduce = 2 (N - 1) / N x bytes / bandwidth + latency.

Compute per image comes from the DCGAN's multiply-adds (a step is G forward + backward and D
forward on the real and fake batch and on the fake again for G, with backwards), at an assumed
GPU throughput, and from this machine's measured rate (results/distributed.json). Efficiency =
compute / (compute + exposed allreduce), with one allreduce after the backward (tinygan
today) and overlapped with the backward in buckets (as PyTorch's DDP): each bucket pays the
latency term again, the buckets but the last run during the backward and only what exceeds
the backward, plus the last bucket, is exposed. Nothing here is measured on a GPU.
"""
import argparse
import json
import sys

import common

RANKS = (2, 4, 8, 16, 32, 64)
# (name, bandwidth in bytes/s per rank, latency per call in s): assumptions, see
# docs/distributed.md
LINKS = (("NVLink (H100/H200 node)", 300e9, 15e-6), ("400 Gb/s InfiniBand", 45e9, 30e-6),
         ("200 Gb/s", 22e9, 30e-6), ("100 Gb/s", 11e9, 30e-6))
GPU_FLOPS = 20e12  # an assumed effective float32 rate for these small convs (H200 peak: 67e12)
BUCKET_BYTES = 1 << 20  # for the overlapped case
BATCHES = (("weak: 128 images per rank", lambda n: 128),
           ("strong: 128 images in all", lambda n: 128 / n))


def conv_macs():
    """Multiply-adds per image of one forward of G and of D (default 32x32 DCGAN)."""
    from tinygan.gan import dcgan
    g_sides = [1, 4, 8, 16, 32]  # each conv's input side; transposed: input side x k^2 per in
    g = sum(c_in * c_out * k * k * side ** 2 for (_, c_in, c_out, k, _, _), side
            in zip(dcgan.generator_convs(100, 64), g_sides))
    d_out_sides = [16, 8, 4, 1]
    d = sum(c_in * c_out * k * k * side ** 2 for (c_in, c_out, k, _, _), side
            in zip(dcgan.discriminator_convs(64), d_out_sides))
    return g, d


def step_flops_per_image():
    """FLOPs of one step per image: G 1 forward + 2 backward passes; D 3 forwards (real, fake,
    fake for G) + 2 x 2 backward passes (D's update) + 1 (input gradient for G's update)."""
    g, d = conv_macs()
    return 2 * (3 * g + 8 * d)


def allreduce_seconds(n, nbytes, bandwidth, latency):
    """Ring allreduce of nbytes over n ranks, one call."""
    return 2 * (n - 1) / n * nbytes / bandwidth + latency


def exposed_seconds(n, nbytes, bandwidth, latency, backward, overlap):
    """Allreduce time not hidden behind the backward: all of one allreduce after it, or with
    buckets the excess of all but the last bucket over the backward plus the last bucket."""
    if not overlap:
        return allreduce_seconds(n, nbytes, bandwidth, latency)
    buckets = -(-nbytes // BUCKET_BYTES)
    last = allreduce_seconds(n, nbytes - (buckets - 1) * BUCKET_BYTES, bandwidth, latency)
    rest = allreduce_seconds(n, nbytes, bandwidth, latency * buckets) - last
    return max(rest - backward, 0) + last


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)  # no flags: --help only (tests/test_docs.py must not rewrite results)
    from tinygan.gan import dcgan
    G, D = dcgan.models({})
    nbytes = 4 * (dcgan.count_parameters(G) + dcgan.count_parameters(D))
    flops = step_flops_per_image()
    measured = json.loads((common.RESULTS / "distributed.json").read_text())
    cpu_rate = max(r["images_per_s"] for r in measured["rows"]) / 2  # per rank
    rows = []
    for link, bandwidth, latency in LINKS:
        for n in RANKS:
            comm = allreduce_seconds(n, nbytes, bandwidth, latency)
            row = {"link": link, "ranks": n, "allreduce_ms": 1e3 * comm}
            for label, per_rank in BATCHES:
                compute = per_rank(n) * flops / GPU_FLOPS
                backward = compute * 2 / 3  # two of a step's three passes
                row[label] = {"compute_ms": 1e3 * compute} | {
                    case: compute / (compute + exposed_seconds(n, nbytes, bandwidth, latency,
                                                               backward, overlap))
                    for case, overlap in (("after", False), ("overlapped", True))}
            rows.append(row)
    meta = common.machine_info() | {
        "command": "python bench/data_parallel_model.py", "quick": False, "gradient_bytes": nbytes,
        "step_gflop_per_image": flops / 1e9, "assumed_gpu_flops": GPU_FLOPS,
        "bucket_bytes": BUCKET_BYTES, "links": LINKS,
        "cpu_rank_images_per_s": cpu_rate,
        "cpu_allreduce_ms_at_2_ranks": 1e3 * max(r["allreduce_s"] for r in measured["rows"]),
        "cpu_step_ms_at_2_ranks_x_64": 1e3 * 64 / cpu_rate}
    headers = ["link", "ranks", "allreduce (ms)"] + [
        f"{label}: {what}" for label, _ in BATCHES
        for what in ("compute (ms)", "efficiency, after", "efficiency, overlapped")]
    cells = [[r["link"], r["ranks"], f"{r['allreduce_ms']:.2f}"]
             + [cell for label, _ in BATCHES for cell in (
                 f"{r[label]['compute_ms']:.2f}", f"{r[label]['after']:.0%}",
                 f"{r[label]['overlapped']:.0%}")] for r in rows]
    common.write_results("data_parallel_model", "Data parallelism on paper: gradient allreduce "
                         "vs step compute (default 32x32 DCGAN, float32)", meta, rows, headers,
                         cells)
    print(f"gradients: {nbytes:,} bytes per step; {flops / 1e9:.2f} GFLOP per image per step")


if __name__ == "__main__":
    sys.exit(main())
