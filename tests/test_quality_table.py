"""bench/quality_table.py: evaluate.py reports grouped by recipe, epoch and G over seeds."""
import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
spec = importlib.util.spec_from_file_location("quality_table", BENCH / "quality_table.py")
quality_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(quality_table)


def row(label, epoch, swd):
    return {"label": label, "epoch": epoch, "swd": swd, "frechet": swd / 2, "score": 2.0,
            "classes_covered": 9}


def test_seeds_of_one_recipe_share_a_row_with_their_mean_and_values():
    reports = [{"batch_statistics": True, "rows": [row("real train images (floor)", None, 5.0),
                         row("runs/default_s0/checkpoint_epoch_005.npz (EMA G)", 5, 30.0),
                         row("runs/default_s0/checkpoint_epoch_005.npz (G)", 5, 40.0)]},
               {"batch_statistics": True, "rows": [row("real train images (floor)", None, 5.0),
                         row("runs/default_s1/checkpoint_epoch_005.npz (EMA G)", 5, 34.0)]}]
    lines = quality_table.table(*quality_table.groups(reports)).splitlines()
    assert len(lines) == 2 + 1 + 2  # header, floor once, two groups
    assert lines[2].startswith("| real train images (floor) | - |")
    assert "| default | 5 | EMA G | 0, 1 | 32.0 (30.0, 34.0) | 16.00 (15.00, 17.00) |" in lines[3]
    assert "| default | 5 | G | 0 | 40.0 | 20.00 |" in lines[4]
