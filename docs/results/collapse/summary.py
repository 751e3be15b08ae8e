"""The collapse table of the results page: epoch 0 and the last epoch of every kind of run, mean ± std over seeds.

Run from the repository root:
    python docs/results/collapse/summary.py docs/results/collapse/default/measurements.csv
"""
import csv
import math
import statistics
import sys
from collections import defaultdict

COLUMNS = ["accuracy", "nc1", "nc2_etf_distance", "nc3", "mir", "mir_centred", "mir_class", "hdr", "hdr_centred", "hdr_class", "rho", "mir_rho"]


def kind(row: dict) -> str:
    return row["loss_fn"].upper() + (", shuffled labels" if row["labels"] != "true" else "")


def cell(values: list[float]) -> str:
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return "undefined"
    digits = 4 if abs(statistics.mean(values)) < 0.01 else 3
    spread = f" ± {statistics.stdev(values):.{digits}f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.{digits}f}{spread}"


rows = list(csv.DictReader(open(sys.argv[1])))
last = max(int(r["epoch"]) for r in rows)
groups = defaultdict(list)
for r in rows:
    if int(r["epoch"]) in (0, last):
        groups[(kind(r), int(r["epoch"]), r["split"])].append(r)
print("| run | split | epoch | seeds | " + " | ".join(COLUMNS) + " |")
print("|---|---|---:|---:|" + "---:|" * len(COLUMNS))
for (name, epoch, split), members in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2] == "test")):
    values = [cell([float(m[c]) if m[c] not in ("", None) else math.nan for m in members]) for c in COLUMNS]
    print(f"| {name} | {split} | {epoch} | {len(members)} | " + " | ".join(values) + " |")
