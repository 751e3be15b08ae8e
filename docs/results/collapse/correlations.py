"""How much MIR and HDR tell beyond NC1-NC3, per experiment, over every record (train and test, every epoch).

Columns: records; corr(MIR, log NC1); R2 of MIR on (log NC1, NC2 ETF distance, NC3); partial correlation
of MIR with accuracy given those three; the same three for HDR; R2 of accuracy on the three.
A second table leaves out the epoch-0 records (the initialisation), which sit far from the rest.
Run from the repository root: python docs/results/collapse/correlations.py
"""
import csv
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parents[1]
NEED = ["mir", "hdr", "nc1", "nc2_etf_distance", "nc3", "accuracy"]

__all__ = ["paths", "summary"]


def paths() -> dict[str, Path]:
    """Each experiment's measurements, the collapse default run rather than the quick one."""
    found = {p.parent.name: p for p in RESULTS.glob("*/measurements.csv")}
    found.update({p.parent.parent.name: p for p in RESULTS.glob("*/default/measurements.csv")})
    return dict(sorted(found.items()))


def _resid(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    x = np.column_stack([np.ones(len(y)), x])
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    return y - x @ beta


def summary(path: Path, *, drop_epoch_zero: bool = False) -> dict | None:
    """Records, and per metric its correlation with log NC1, R2 on NC1-NC3 and partial correlation with accuracy."""
    with open(path, newline="") as handle:
        records = list(csv.DictReader(handle))
    records = [r for r in records if all(r.get(k) not in (None, "") and np.isfinite(float(r[k])) for k in NEED)]
    if drop_epoch_zero:
        records = [r for r in records if r.get("epoch") not in ("0",)]
    if len(records) < 10:
        return None
    a = {k: np.array([float(r[k]) for r in records]) for k in NEED}
    x = np.column_stack([np.log(a["nc1"]), a["nc2_etf_distance"], a["nc3"]])
    out = {"records": len(records), "accuracy_r2": 1 - _resid(a["accuracy"], x).var() / a["accuracy"].var()}
    for m in ("mir", "hdr"):
        out[f"{m}_corr"] = np.corrcoef(a[m], np.log(a["nc1"]))[0, 1]
        out[f"{m}_r2"] = 1 - _resid(a[m], x).var() / a[m].var()
        out[f"{m}_partial"] = np.corrcoef(_resid(a[m], x), _resid(a["accuracy"], x))[0, 1]
    return out


def main() -> None:
    for drop in (False, True):
        print("\nwithout the epoch-0 records" if drop else "every record")
        for name, path in paths().items():
            s = summary(path, drop_epoch_zero=drop)
            if s is None:
                continue
            cells = [f"{s[f'{m}_corr']:+.2f} | {s[f'{m}_r2']:.2f} | {s[f'{m}_partial']:+.2f}" for m in ("mir", "hdr")]
            print(f"| {name} | {s['records']} | " + " | ".join(cells) + f" | {s['accuracy_r2']:.2f} |")


if __name__ == "__main__":
    main()
