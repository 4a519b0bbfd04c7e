"""bench/bench_train.py: its workers (tinygan's step and the torch twin) run, the twin computes
what tinygan computes, and the fair method's bookkeeping (alternation, median of medians)."""
import importlib.util
import json
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import tinygan as tg
from tinygan import ops
from tinygan.backend import winograd

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))  # bench_train imports its sibling common
import bench_split  # noqa: E402
import bench_train  # noqa: E402
import common  # noqa: E402
import step_budget  # noqa: E402

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                 reason="torch is not installed: bench_train's twin is in torch")
WORKERS = ("tinygan", "torch", bench_train.INTERLEAVED)
C = winograd.MIN_CHANNELS  # input channels of the budget's convs: enough for Winograd


def worker_command(framework):
    """bench_train's worker for one 32x32 step at batch 2 on one thread, no warm-up."""
    return [sys.executable, str(BENCH / "bench_train.py"), "--worker", framework, "32", "2", "1",
            "--repeats", "1", "--warmup", "0"]


@needs_torch
def test_each_worker_runs_a_step_and_prints_positive_images_per_second():
    running = {fw: subprocess.Popen(worker_command(fw), env=common.thread_env(1), text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for fw in WORKERS}  # at once: the three imports overlap
    for framework, process in running.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        result = json.loads(out.splitlines()[-1])
        names = bench_train.FRAMEWORKS if framework == bench_train.INTERLEAVED else (framework,)
        assert set(result["images_per_s"]) == set(names)
        for rate in result["images_per_s"].values():
            assert math.isfinite(rate["median"]) and rate["median"] > 0, (framework, rate)
        assert result["step_s"][names[0]]["calls"] == 1


@needs_torch
def test_the_torch_twin_gives_tinygans_losses_after_one_step(rng_states):
    bench_train.check_step(32)  # raises if any metric differs by more than float32 round-off


def test_schedule_runs_each_framework_once_per_round_in_turn():
    order = bench_train.schedule(("tinygan", "torch"), 3)
    assert [name for _, name in order] == ["tinygan", "torch"] * 3
    assert [r for r, _ in order] == [0, 0, 1, 1, 2, 2]


def test_median_of_medians_ignores_the_steps_spread_within_a_round():
    rates = [{"median": m, "min": m / 10, "max": m * 10} for m in (30.0, 10.0, 20.0, 25.0)]
    assert bench_train.median_of_medians(rates) == {"median": 22.5, "min": 10.0, "max": 30.0,
                                                    "rounds": 4}


def test_a_row_alternates_processes_and_reports_each_frameworks_median_of_medians(monkeypatch):
    monkeypatch.delenv(bench_train.PIN, raising=False)  # no unpinned tinygan column
    calls, rates = [], {"tinygan": iter([5.0, 9.0, 7.0]), "torch": iter([4.0, 2.0, 3.0])}

    def fake_run_case(variant, size, batch, threads, repeats, warmup, label=""):
        calls.append((variant, label))
        names = bench_train.FRAMEWORKS if variant == bench_train.INTERLEAVED else (variant,)
        return {"images_per_s": {n: {"median": next(rates[n], 1.0)} for n in names},
                "peak_rss_mib": 1.0, "imports_rss_mib": 1.0}

    monkeypatch.setattr(bench_train, "run_case", fake_run_case)
    row = bench_train.run_row((32, 16, 2), 3, 10, 2, interleaved=True)
    assert [v for v, _ in calls] == ["tinygan", "torch"] * 3 + [bench_train.INTERLEAVED]
    assert [label for _, label in calls[:2]] == ["round 1/3"] * 2
    assert row["fair"]["tinygan"]["images_per_s"]["median"] == 7.0
    assert row["fair"]["torch"]["images_per_s"]["median"] == 3.0
    assert len(row["fair"]["torch"]["rounds"]) == 3
    assert (row["size"], row["batch"], row["threads"]) == (32, 16, 2)
    assert bench_train.ratio(row) == pytest.approx(7.0 / 3.0)


def test_a_budget_gives_each_function_its_own_time_and_its_callers_the_rest():
    clock = [0.0]
    budget = step_budget.Budget(clock=lambda: clock[0])

    def kernel(a):
        clock[0] += 3.0
        return a + 1

    timed_kernel = budget.timed(kernel, step_budget.KERNELS, step_budget.array_bytes)

    def product(a):
        clock[0] += 2.0
        return timed_kernel(a)

    timed_product = budget.timed(product, step_budget.PRODUCTS, lambda args, result: 100)
    timed_product(np.zeros(4, np.float32))
    assert budget.totals[step_budget.PRODUCTS] == {"calls": 1, "seconds": 2.0, "work": 100}
    assert budget.totals[step_budget.KERNELS] == {"calls": 1, "seconds": 3.0, "work": 32}


@pytest.mark.parametrize("kernel, stride, expected", [
    (3, 1, 3 * 2 * 4 * C * 3 * 3 * 2 * 8 * 8),  # im2col: 3 products of 2 OC C KH KW N OH OW
    (4, 2, 3 * 2 * 25 * 4 * (4 * C) * 2 * 1)])  # Winograd: 3 x 25 products of 2 OC 4C tiles
def test_a_budget_counts_the_flops_of_a_convs_products(kernel, stride, expected):
    x = tg.Tensor(np.ones((2, C, 8, 8), np.float32), requires_grad=True)
    w = tg.Tensor(np.ones((4, C, kernel, kernel), np.float32), requires_grad=True)
    budget = step_budget.Budget()
    with budget.wrapped():
        ops.conv2d(x, w, stride=stride, padding=1).sum().backward()
    assert budget.totals[step_budget.PRODUCTS]["work"] == expected  # y, gx and gw
    assert budget.totals[step_budget.KERNELS]["calls"] > 0


def test_the_profile_worker_accounts_for_the_whole_step():
    command = worker_command(bench_train.PROFILED)
    done = subprocess.run(command, env=common.thread_env(1), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    budget = result["budget"]
    parts = [budget[k] for k in (step_budget.PRODUCTS, step_budget.KERNELS, step_budget.OTHER)]
    assert sum(part["share"] for part in parts) == pytest.approx(1.0)
    assert sum(part["ms"] for part in parts) == pytest.approx(budget["step_ms"])
    assert all(budget[k]["work"] > 0 for k in (step_budget.PRODUCTS, step_budget.KERNELS))
    assert 0 < budget["floor_ms"] and result["python_calls_per_step"] > 0
    assert {"Conv2d.forward", "cpu.adam_update"} <= {f["name"] for f in result["functions"]}
    assert len(bench_train.budget_cells(result)) == len(bench_train.BUDGET_HEADERS)


@pytest.mark.parametrize("shape", [(25, 6, 5, 7), (1, 9, 5, 7)])
def test_products_split_in_halves_give_the_whole_product(shape):
    p, m, k, n = shape
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((p, m, k)), rng.standard_normal((p, k, n))
    out = np.full((p, m, n), np.nan)
    with ThreadPoolExecutor(1) as pool:
        bench_split.halves(a, b, out, pool)
    np.testing.assert_allclose(out, a @ b, rtol=1e-12)


def test_a_new_commit_of_bench_files_is_not_a_change_of_tinygans_sources():
    source = common.tinygan_source()
    moved = source.replace("commit ", "commit 0000000-")
    assert common.sources_of(moved) == common.sources_of(source) != common.sources_of(
        source[:-1] + "x")
