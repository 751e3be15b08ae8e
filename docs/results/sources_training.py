"""Loaders and computations over the CSVs of dynamics, pruning, label-smoothing, clustering and lmc.

The `claims_*.py` modules pair each quoted number with one of these.
"""
import numpy as np
from scipy import stats

from recompute import rows, values
from sources_stats import mean, paired_ci

__all__ = [
    "CLU", "DYN", "LMC", "LS", "PRUNE", "dyn_curve", "epochs_1_to_10", "global_corr", "imp_gap", "lmc_cells",
    "lmc_corr", "lmc_path", "ls", "ls_gap", "ls_p", "mir_is_mi_over_h_w", "per_class", "pr", "pr_curve", "shares",
]

DYN = "dynamics/measurements.csv"
PRUNE = "pruning/measurements.csv"
LS = "label-smoothing/measurements.csv"
LMC = "lmc/barriers.csv"
CC = "clustering/per-class/class_correlations.csv"
CLU = "clustering/measurements.csv"


def dyn_curve(column: str, split: str) -> np.ndarray:
    """Mean over seeds per epoch."""
    return np.array([mean(DYN, column, split=split, epoch=e) for e in range(16)])


def mir_is_mi_over_h_w() -> bool:
    """From epoch 1 on, every dynamics record has H(Z) > H(W) and MIR = MI / H(W)."""
    later = [r for r in rows(DYN) if r["epoch"] != "0"]
    return all(float(r["h_z"]) > float(r["h_w"]) and abs(float(r["mir"]) - float(r["mi"]) / float(r["h_w"])) < 1e-9 for r in later)


def shares(split: str) -> np.ndarray:
    from dynamics.decomposition import shares as compute

    return compute(split, 4, 15)


def pr(column: str, variant: str, sparsity: float, split: str = "test") -> np.ndarray:
    return values(PRUNE, column, variant=variant, sparsity=sparsity, split=split)


def pr_curve(column: str, variant: str) -> np.ndarray:
    return np.array([pr(column, variant, x).mean() for x in (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99)])


def imp_gap(sparsity: float) -> list[float]:
    return paired_ci(pr("mir", "IMP body, rewound", sparsity), pr("mir", "one-shot body + fine-tune", sparsity))


def ls(column: str, factor: float, split: str = "test") -> np.ndarray:
    return values(LS, column, smoothing=factor, epoch=8, split=split)


def ls_gap(factor: float) -> list[float]:
    return paired_ci(ls("accuracy", factor), ls("accuracy", 0.0))


def ls_p(factor: float) -> float:
    return float(stats.ttest_rel(ls("accuracy", factor), ls("accuracy", 0.0)).pvalue)


def per_class(scope, pair: str, data: str = "trained", **f) -> np.ndarray:
    return values(CC, "spearman", scope=scope, pair=f"h_class vs {pair}_class", data=data, **f)


def epochs_1_to_10(pair: str) -> np.ndarray:
    return np.concatenate([per_class(str(e), pair) for e in range(1, 11)])


def global_corr(pair: str, method: str, drop_epoch_zero: bool = False) -> list[float]:
    """Per seed, the correlation over the epochs of H(Z) or H(W) with a clustering score."""
    x, y = pair.split(" vs ")
    out = []
    for seed in (0, 1, 2):
        picked = [r for r in rows(CLU, seed=seed) if not (drop_epoch_zero and r["epoch"] == "0")]
        a, b = (np.array([float(r[c]) for r in picked]) for c in (x, y))
        out.append(stats.pearsonr(a, b)[0] if method == "pearson" else stats.spearmanr(a, b)[0])
    return out


def lmc_path(column: str, spawn, alpha: float) -> float:
    return mean("lmc/measurements.csv", column, spawn=spawn, alpha=alpha, split="test")


def lmc_corr(paths: str, metric: str, barrier: str, column: str) -> float:
    return float(rows("lmc/correlations.csv", split="test", paths=paths, metric=metric, barrier=barrier)[0][column])


def lmc_cells(paths: str, metric: str, barrier: str) -> list[float]:
    """Spearman, its p, Pearson and its p of one row of lmc/correlations.csv (test set)."""
    return [lmc_corr(paths, metric, barrier, c) for c in ("spearman", "spearman_p", "pearson", "pearson_p")]
