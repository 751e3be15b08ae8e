"""Redraw the collapse default's versus_nc1.png with one cosine curve per loss, not one for their mean.

The experiment's report draws the uncentred calibration curve for the mean cosine ρ over every
final training record, pooling MSE (ρ ≈ 0.06) and CE (ρ ≈ 0.5) into a geometry neither has.
Here each loss gets the curve of its own final mean ρ (true labels; the shuffled control's
uncentred means are not a collapse geometry and get none).

Run from the repository root (about two minutes):
    python docs/results/collapse/versus_nc1.py
"""
import csv
from pathlib import Path

from interplay.functional.calibration import calibration_curve
from interplay.report.collapse import versus_nc1_figure

HERE = Path(__file__).resolve().parent / "default"
RANK = 10

__all__ = ["final_cosines", "main"]


def _typed(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        try:
            out[k] = float(v)
        except ValueError:
            out[k] = v
    return out


def final_cosines(rows: list[dict]) -> dict[str, float]:
    """Mean cosine ρ of the uncentred class means at the last epoch, per loss (true labels, training split)."""
    last = max(r["epoch"] for r in rows)
    out = {}
    for loss in sorted({r["loss_fn"] for r in rows if r["labels"] == "true"}):
        chosen = [r["rho"] for r in rows if r["epoch"] == last and r["split"] == "train" and r["labels"] == "true" and r["loss_fn"] == loss]
        out[loss] = round(sum(chosen) / len(chosen), 3)
    return out


def main() -> None:
    with open(HERE / "measurements.csv", newline="") as handle:
        rows = [_typed(r) for r in csv.DictReader(handle)]
    curves = []
    for rank in (None, RANK):
        curves += calibration_curve(10, rank=rank)
        for cosine in final_cosines(rows).values():
            curves += calibration_curve(10, cosine=cosine, rank=rank)
    versus_nc1_figure(rows, curves, HERE / "versus_nc1.png")
    print("cosines:", final_cosines(rows))


if __name__ == "__main__":
    main()
