"""The longer FixMatch run's table: per step and setting, mean ± std over every seed in the given files.

Run from the repository root:
    python docs/results/semi-supervised/long_summary.py docs/results/semi-supervised/long-250/measurements.csv \
        docs/results/semi-supervised/long-250-seeds-1-2/measurements.csv
"""
import csv
import statistics
import sys
from collections import defaultdict

from scipy import stats

STEPS = (1000, 2000, 3000, 4000)
COLUMNS = ("accuracy", "mir", "hdr", "h_z", "mask_rate", "pseudo_accuracy")

groups = defaultdict(list)
for path in sys.argv[1:]:
    for row in csv.DictReader(open(path)):
        if int(row["step"]) in STEPS:
            groups[(int(row["step"]), row["setting"])].append(row)


def cell(values: list[float]) -> str:
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}" if len(values) > 1 else f"{values[0]:.3f}"


print("| step | setting | seeds | " + " | ".join(COLUMNS) + " |")
print("|---:|---|---:|" + "---:|" * len(COLUMNS))
for (step, setting), rows in sorted(groups.items()):
    seeds = ",".join(sorted(r["seed"] for r in rows))
    print(f"| {step:,} | {setting} | {seeds} | " + " | ".join(cell([float(r[c]) for r in rows]) for c in COLUMNS) + " |")

print("\n| step | accuracy, + terms − FixMatch, per seed | mean | paired t-test p |")
print("|---:|---|---:|---:|")
for step in STEPS:
    alone = {r["seed"]: float(r["accuracy"]) for r in groups[(step, "α=0.0, β=0.0")]}
    terms = {r["seed"]: float(r["accuracy"]) for r in groups[(step, "α=0.5, β=0.5")]}
    seeds = sorted(alone.keys() & terms.keys())
    gaps = [terms[s] - alone[s] for s in seeds]
    p = stats.ttest_rel([terms[s] for s in seeds], [alone[s] for s in seeds]).pvalue if len(seeds) > 1 else float("nan")
    print(f"| {step:,} | " + ", ".join(f"{g:+.4f}" for g in gaps) + f" | {statistics.mean(gaps):+.4f} | {p:.2f} |")
