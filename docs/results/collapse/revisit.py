"""Final (NC1, MIR, HDR) of earlier experiments on the uncentred calibration curves (C = 10).

Run from the repository root: python docs/results/collapse/revisit.py
Prints a markdown table (with each curve's MIR at the point's NC1) and writes docs/results/collapse/revisit.png
and the curves to docs/results/collapse/revisit_curves.csv.
"""
import csv, math, statistics
from interplay.functional.calibration import calibration_curve
from interplay.report.collapse import calibration_figure

def rows(name):
    with open(f"docs/results/{name}/measurements.csv") as f:
        return [{k: v for k, v in r.items()} for r in csv.DictReader(f)]

points = []
def add(label, chosen):
    nc1 = statistics.fmean(float(r["nc1"]) for r in chosen)
    mir = statistics.fmean(float(r["mir"]) for r in chosen)
    hdr = statistics.fmean(float(r["hdr"]) for r in chosen)
    points.append({"label": label, "nc1": nc1, "mir": mir, "hdr": hdr, "records": len(chosen)})

d = rows("dynamics"); last = max(int(r["epoch"]) for r in d)
add(f"dynamics, epoch {last}", [r for r in d if int(r["epoch"]) == last and r["split"] == "train"])
s = rows("label-smoothing"); last = max(int(r["epoch"]) for r in s)
for f in sorted({r["smoothing"] for r in s}, key=float):
    add(f"label smoothing {f}", [r for r in s if int(r["epoch"]) == last and r["split"] == "train" and r["smoothing"] == f])
p = rows("pruning")
for variant, sp in (("one-shot body + fine-tune", "0.0"), ("one-shot body + fine-tune", "0.9"), ("IMP body, rewound", "0.9")):
    add(f"pruning {sp}, {variant}", [r for r in p if r["split"] == "train" and r["sparsity"] == sp and r["variant"] == variant])
l = rows("loss-supervised"); last = max(int(r["epoch"]) for r in l)
for setting in sorted({r["setting"] for r in l}):
    add(f"loss-supervised {setting}", [r for r in l if int(r["epoch"]) == last and r["split"] == "train" and r["setting"] == setting])
curves = []
for cosine in (None, 0.0):  # the ETF and orthogonal means bracket these runs; their cosine was not recorded
    for rank in (None, 10):
        curves += calibration_curve(10, cosine=cosine, rank=rank)
calibration_figure(curves, "docs/results/collapse/revisit.png", points, centred=False)
with open("docs/results/collapse/revisit_curves.csv", "w", newline="") as f:
    fields = ["num_classes", "geometry", "noise", "scale", "nc1", "mir", "hdr"]
    writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(curves)


def on_curve(nc1, geometry, noise):
    """MIR of a calibration curve at ``nc1``, interpolated in log NC1."""
    curve = sorted((c["nc1"], c["mir"]) for c in curves if c["geometry"] == geometry and c["noise"] == noise and c["nc1"] > 0)
    for (x0, y0), (x1, y1) in zip(curve, curve[1:]):
        if x0 <= nc1 <= x1:
            t = (math.log(nc1) - math.log(x0)) / (math.log(x1) - math.log(x0))
            return y0 + t * (y1 - y0)
    return float("nan")


print("| run (train split, final) | records | NC1 | MIR | HDR | curve: ETF, isotropic | ETF, rank 10 | cosine 0, isotropic |")
for p in points:
    cells = [on_curve(p["nc1"], g, n) for g, n in (("etf", "isotropic"), ("etf", "rank 10"), ("cosine=0", "isotropic"))]
    print(f"| {p['label']} | {p['records']} | {p['nc1']:.3f} | {p['mir']:.3f} | {p['hdr']:.3f} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
