"""Loaders and computations over the CSVs of collapse: the default, quick and seed-2 runs, the calibration
curves, the earlier experiments read against them and the NC1–NC3 correlations.

The `claims_*.py` modules pair each quoted number with one of these.
"""
import numpy as np

from recompute import rows, values
from sources_stats import mean
from sources_training import DYN, LS, PRUNE

__all__ = [
    "C300", "COLLAPSE", "NO_MIR_TERM", "PLAIN", "QUICK", "REVISIT", "SMOOTHED", "above", "calibration", "ce",
    "corr", "corr_row", "curve_at", "epoch_zero", "grid", "grid_at", "mse", "on_curve", "quick", "revisit",
    "revisit_row", "shuffled", "variant_row",
]

COLLAPSE = "collapse/default/measurements.csv"
C300 = "collapse/300-epochs/measurements.csv"
QUICK = "collapse/measurements.csv"

REVISIT = {
    "dynamics, epoch 15": ("dynamics/measurements.csv", dict(epoch=15)),
    **{f"label smoothing {f}": ("label-smoothing/measurements.csv", dict(epoch=8, smoothing=f)) for f in ("0.0", "0.1", "0.2", "0.4")},
    "pruning 0.0, one-shot body + fine-tune": (PRUNE, dict(sparsity=0.0, variant="one-shot body + fine-tune")),
    "pruning 0.9, one-shot body + fine-tune": (PRUNE, dict(sparsity=0.9, variant="one-shot body + fine-tune")),
    "pruning 0.9, IMP body, rewound": (PRUNE, dict(sparsity=0.9, variant="IMP body, rewound")),
    **{f"loss-supervised {a}": ("loss-supervised/measurements.csv", dict(epoch=8, setting=a.replace(",", ", ")))
       for a in ("α=0.0,β=0.0", "α=0.0,β=1.0", "α=0.5,β=0.5", "α=1.0,β=0.0")},
}

CURVES = (("etf", "isotropic"), ("etf", "rank 10"), ("cosine=0", "isotropic"))
PLAIN = ("dynamics, epoch 15", "label smoothing 0.0", "pruning 0.0, one-shot body + fine-tune", "loss-supervised α=0.0,β=0.0")
SMOOTHED = ("label smoothing 0.1", "label smoothing 0.2", "label smoothing 0.4")
NO_MIR_TERM = tuple(k for k in REVISIT if "α=0.5" not in k and "α=1.0" not in k)


def co(column: str, path: str = COLLAPSE, **f) -> np.ndarray:
    return values(path, column, **f)


def mse(column: str, epoch: int = 450, split: str = "train", path: str = COLLAPSE) -> np.ndarray:
    return co(column, path, loss_fn="mse", labels="true", epoch=epoch, split=split)


def ce(column: str, epoch: int = 450, split: str = "train", path: str = COLLAPSE) -> np.ndarray:
    return co(column, path, loss_fn="ce", labels="true", epoch=epoch, split=split)


def shuffled(column: str, split: str = "train", path: str = COLLAPSE, **f) -> np.ndarray:
    return co(column, path, labels="shuffled", split=split, **f)


def calibration(nc1: float, column: str = "mir_centred") -> float:
    """The C = 10 isotropic ETF calibration point nearest to an NC1."""
    picked = rows("collapse/default/calibration.csv", num_classes=10, geometry="etf", noise="isotropic")
    return float(min(picked, key=lambda r: abs(float(r["nc1"]) - nc1))[column])


def corr_row(name: str, drop: bool) -> list[float]:
    from collapse.correlations import paths, summary

    r = summary(paths()[name], drop_epoch_zero=drop)
    return [r["records"], *(r[f"{m}_{k}"] for m in ("mir", "hdr") for k in ("corr", "r2", "partial")), r["accuracy_r2"]]


def corr(name: str, key: str, drop: bool = False) -> float:
    from collapse.correlations import paths, summary

    return summary(paths()[name], drop_epoch_zero=drop)[key]


def on_curve(nc1: float, geometry: str, noise: str, column: str = "mir", path: str = "collapse/revisit_curves.csv") -> float:
    """A C = 10 calibration curve (by default revisit.py's, uncentred) at an NC1, interpolated in log NC1."""
    curve = sorted((float(r["nc1"]), float(r[column])) for r in rows(path, num_classes=10, geometry=geometry, noise=noise))
    for (x0, y0), (x1, y1) in zip(curve, curve[1:]):
        if x0 <= nc1 <= x1:
            return y0 + (np.log(nc1) - np.log(x0)) / (np.log(x1) - np.log(x0)) * (y1 - y0)
    return float("nan")


def revisit(label: str) -> dict:
    path, f = REVISIT[label]
    point = {c: mean(path, c, split="train", **f) for c in ("nc1", "mir", "hdr")}
    point["records"] = len(values(path, "mir", split="train", **f))
    point["curves"] = [on_curve(point["nc1"], g, n) for g, n in CURVES]
    point["hdr_curves"] = [on_curve(point["nc1"], g, n, "hdr") for g, n in CURVES]
    return point


def revisit_row(label: str) -> list[float]:
    p = revisit(label)
    return [p["records"], p["nc1"], p["mir"], p["hdr"], *p["curves"]]


def above(labels, curves=(0, 2)) -> np.ndarray:
    """MIR minus the isotropic curves' MIR, for the given points."""
    return np.array([revisit(a)["mir"] - revisit(a)["curves"][k] for a in labels for k in curves])


def quick(column: str, epoch: int, split: str = "train") -> float:
    return float(values(QUICK, column, epoch=epoch, split=split)[0])


def curve_at(nc1: float) -> float:
    """The quick run's centred C = 10 ETF isotropic calibration curve at an NC1."""
    return on_curve(nc1, "etf", "isotropic", "mir_centred", "collapse/calibration.csv")


def grid(column: str, noise: str = "isotropic") -> tuple[np.ndarray, np.ndarray]:
    picked = rows("collapse/calibration.csv", num_classes=10, geometry="etf", noise=noise)
    return np.array([float(r["nc1"]) for r in picked]), np.array([float(r[column]) for r in picked])


def grid_at(nc1: float, column: str, noise: str = "isotropic") -> list[float]:
    """The grid point nearest an NC1 (in log): its NC1 and value."""
    x, y = grid(column, noise)
    k = int(np.argmin(np.abs(np.log(x) - np.log(nc1))))
    return [x[k], y[k]]


def variant_row(path: str, **f) -> list[float]:
    """Last epoch of a seed-2 MSE run: train accuracy, unfitted images, NC1, MIRs, centred HDR, test accuracy."""
    last = max(values(path, "epoch"))
    train = rows(path, epoch=last, split="train", seed=2, loss_fn="mse", labels="true", **f)[0]
    test = rows(path, epoch=last, split="test", seed=2, loss_fn="mse", labels="true", **f)[0]
    return [float(train["accuracy"]), round((1 - float(train["accuracy"])) * 5000), *(float(train[c]) for c in ("nc1", "mir_centred", "mir", "hdr_centred")), float(test["accuracy"])]


def epoch_zero(column: str) -> np.ndarray:
    """Every epoch-0 record of the experiments that have them (the collapse default: true labels)."""
    return np.r_[values(DYN, column, epoch=0), values(LS, column, epoch=0), values(COLLAPSE, column, epoch=0, labels="true")]
