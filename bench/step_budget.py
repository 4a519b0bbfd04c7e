"""Where a tinygan training step's time goes against the machine's peaks: its matrix products
(GFLOP/s against the matmul peak), its memory-bound backend kernels (GB/s against the copy
peak) and the rest (Python, NumPy glue), timed by wrapping the functions that do the work.
"""
import contextlib
import time
from collections import defaultdict
from unittest import mock

import numpy as np

from tinygan import convolution
from tinygan.backend import cpu

PRODUCTS, KERNELS, OTHER = "matrix products", "memory-bound kernels", "other (Python, NumPy glue)"
# The backend kernels that move memory rather than multiply matrices (winograd_products is a
# product: it is counted with the products).
KERNEL_NAMES = ("im2col", "col2im", "winograd_filter", "winograd_filter_adjoint",
                "winograd_input", "winograd_input_adjoint", "winograd_output",
                "winograd_output_adjoint", "leaky_relu", "leaky_relu_backward", "bn_statistics",
                "bn_act_forward", "bn_act_backward_sums", "bn_act_backward_input",
                "bn_running_update", "adam_update")


def correlate_flops(args, result):
    """2 OC (C KH KW) (N OH OW) for convolution.correlate(col, w)."""
    col, w = args
    return 2 * w.shape[0] * col.size


def kernel_grad_flops(args, result):
    """2 OC (C KH KW) (N OH OW) for convolution.kernel_grad(g, col)."""
    g, col = args
    return 2 * g.shape[1] * col.size


def correlate_adjoint_flops(args, result):
    """2 OC (C KH KW) (N OH OW) for convolution.correlate_adjoint(backend, g, w, ...)."""
    _, g, w = args[:3]
    return 2 * w.size * g.size // g.shape[1]


def winograd_products_flops(args, result):
    """2 P M K N for the P products (M, K) @ (K, N) of cpu.winograd_products(a, b)."""
    a, b = args
    return 2 * a.size * b.shape[-1]


def array_bytes(args, result):
    """Bytes of the array arguments and of the returned array(s): the least a kernel moves."""
    results = result if isinstance(result, tuple) else (result,)
    return sum(x.nbytes for x in (*args, *results) if isinstance(x, np.ndarray))


class Budget:
    """Calls, own seconds (time inside wrapped callees excluded) and work, per category and
    per function."""

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.totals = defaultdict(lambda: {"calls": 0, "seconds": 0.0, "work": 0})
        self.by_function = defaultdict(lambda: {"calls": 0, "seconds": 0.0, "work": 0})
        self.inner = [0.0]  # seconds spent in wrapped callees, one entry per open call

    def timed(self, function, category, work):
        """function, timed into ``category`` with work(args, result) added."""
        def call(*args, **kwargs):
            self.inner.append(0.0)
            start = self.clock()
            result = function(*args, **kwargs)
            seconds = self.clock() - start
            self.inner[-2] += seconds
            own = seconds - self.inner.pop()
            done = work(args, result)
            for total in (self.totals[category], self.by_function[function.__name__]):
                total["calls"] += 1
                total["seconds"] += own
                total["work"] += done
            return result
        return call

    @contextlib.contextmanager
    def wrapped(self):
        """Within: the products and kernels of the CPU backend report here."""
        targets = [(convolution, "correlate", PRODUCTS, correlate_flops),
                   (convolution, "kernel_grad", PRODUCTS, kernel_grad_flops),
                   (convolution, "correlate_adjoint", PRODUCTS, correlate_adjoint_flops),
                   (cpu, "winograd_products", PRODUCTS, winograd_products_flops)]
        targets += [(cpu, name, KERNELS, array_bytes) for name in KERNEL_NAMES]
        with contextlib.ExitStack() as stack:
            for module, name, category, work in targets:
                timed = self.timed(getattr(module, name), category, work)
                stack.enter_context(mock.patch.object(module, name, timed))
            yield self


def measure(step, steps, peaks):
    """Run ``steps`` steps with the products and kernels timed: {category: {"ms", "share",
    "calls", "work", "rate", "of_peak"}} per step, "step_ms", "floor_ms" (the products at the
    matmul peak and the kernels' bytes at the copy peak) and "functions": {name: {"calls",
    "ms", "rate"}} (GFLOP/s or GB/s), slowest first."""
    budget = Budget()
    with budget.wrapped():
        start = time.perf_counter()
        for _ in range(steps):
            step()
        seconds = (time.perf_counter() - start) / steps
    per_step = {c: {k: v / steps for k, v in t.items()} for c, t in budget.totals.items()}
    products, kernels = per_step[PRODUCTS], per_step[KERNELS]
    other = seconds - products["seconds"] - kernels["seconds"]
    rows = {PRODUCTS: (products, products["work"] / 1e9, peaks["matmul_gflops"]),
            KERNELS: (kernels, kernels["work"] / 1e9, peaks["copy_gbs"])}
    result = {name: {"ms": 1e3 * t["seconds"], "share": t["seconds"] / seconds,
                     "calls": t["calls"], "work": giga, "rate": giga / t["seconds"],
                     "of_peak": giga / t["seconds"] / peak}
              for name, (t, giga, peak) in rows.items()}
    result[OTHER] = {"ms": 1e3 * other, "share": other / seconds}
    floor = sum(giga / peak for _, giga, peak in rows.values())
    functions = {name: {"calls": t["calls"] / steps, "ms": 1e3 * t["seconds"] / steps,
                        "rate": t["work"] / t["seconds"] / 1e9}
                 for name, t in sorted(budget.by_function.items(),
                                       key=lambda item: -item[1]["seconds"])}
    return result | {"step_ms": 1e3 * seconds, "floor_ms": 1e3 * floor, "functions": functions}
