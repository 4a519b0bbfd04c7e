"""Markdown tables of examples/evaluate.py reports, grouped by recipe over seeds.

    python bench/quality_table.py REPORT.json [REPORT.json ...] > table.md

Each checkpoint row of the reports is put in a group by its run folder, written NAME_sSEED
(runs/q21/default_s0/checkpoint_epoch_005.npz is recipe "default", seed 0), its epoch and which
G drew the samples ("G" or "EMA G", as evaluate.py labels them, and whether batch norm used
running statistics, evaluate.py --running-stats). A group's cell is the mean over
its seeds with the seeds' values in brackets, so the spread across seeds is read beside the mean.
Baseline rows (floor, ceiling) are printed as they are.
"""
import argparse
import json
import re
import statistics
from pathlib import Path

LABEL = re.compile(r"(?P<run>[^/]+)_s(?P<seed>\d+)/[^/]+ \((?P<which>EMA G|G)\)$")
METRICS = (("swd", "SWD x1e3", 1), ("frechet", "Fréchet, own classifier", 2),
           ("score", "classifier score", 2), ("classes_covered", "classes covered", 1))


def groups(reports):
    """({(recipe, epoch, which): {seed: row}}, [baseline rows]) from evaluate.py reports."""
    grouped, baselines = {}, []
    for report in reports:
        for row in report["rows"]:
            match = LABEL.search(row["label"])
            if match is None:
                if row["epoch"] is None and row["label"] not in [b["label"] for b in baselines]:
                    baselines.append(row)
                continue
            which = match["which"] + ("" if report["batch_statistics"] else
                                      ", running statistics")
            key = (match["run"], row["epoch"], which)
            grouped.setdefault(key, {})[int(match["seed"])] = row
    return grouped, baselines


def cell(values, digits):
    """'mean (value of each seed, ...)', or the one value."""
    text = [f"{v:.{digits}f}" for v in values]
    if len(values) == 1:
        return text[0]
    return f"{statistics.mean(values):.{digits}f} ({', '.join(text)})"


def table(grouped, baselines):
    """The markdown table: baselines first, then each recipe, epoch and G."""
    lines = ["| recipe | epoch | samples from | seeds | "
             + " | ".join(title for _, title, _ in METRICS) + " |",
             "| --- | --- | --- | --- |" + " --- |" * len(METRICS)]
    for row in baselines:
        lines.append(f"| {row['label']} | - | - | - | "
                     + " | ".join(f"{row[k]:.{d}f}" for k, _, d in METRICS) + " |")
    for (run, epoch, which), by_seed in sorted(grouped.items()):
        seeds = sorted(by_seed)
        values = [cell([by_seed[s][k] for s in seeds], d) for k, _, d in METRICS]
        lines.append(f"| {run} | {epoch:g} | {which} | {', '.join(map(str, seeds))} | "
                     + " | ".join(values) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="evaluate.py --json files")
    args = parser.parse_args()
    print(table(*groups([json.loads(path.read_text()) for path in args.reports])))


if __name__ == "__main__":
    main()
