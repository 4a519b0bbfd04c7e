"""bench/bench_train.py: its workers (tinygan's step and the torch twin) run, the twin computes
what tinygan computes, and the fair method's bookkeeping (alternation, median of medians)."""
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))  # bench_train imports its sibling common
import bench_train  # noqa: E402
import common  # noqa: E402

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                 reason="torch is not installed: bench_train's twin is in torch")
WORKERS = ("tinygan", "torch", bench_train.INTERLEAVED)


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
