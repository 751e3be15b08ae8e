"""Where the numbers quoted in docs/results.md come from: loaders and computations over the CSVs.

`claims.py` pairs each quoted number with one of these.
"""
import warnings

import numpy as np
from scipy import stats

from recompute import rows, sd, values

__all__ = [
    "DYN", "STEPS", "COLLAPSE", "C300", "LMC", "mean", "dyn_curve", "mir_is_mi_over_h_w", "shares", "tf",
    "mlp", "lead", "timing", "row", "troughs", "pr", "pr_curve", "paired_ci", "imp_gap", "mse", "ce",
    "shuffled", "calibration", "corr_row", "corr", "lmc_path", "lmc_corr", "long", "long_gap", "long_p",
    "TERMINAL", "terminal_accuracy", "welch", "holm", "terminal_ci", "REVISIT", "revisit", "revisit_row",
    "above", "PLAIN", "SMOOTHED", "NO_MIR_TERM", "ls", "ls_gap", "holm_min", "ls_p", "CMA", "cma", "cma_row",
    "cma_chosen", "CLU", "per_class", "epochs_1_to_10", "global_corr", "term", "MIR_SETTINGS", "LS8", "SEMI",
    "ls8", "semi", "QUICK", "quick", "curve_at", "grid", "grid_at", "variant_row", "OLD_CMA", "old_cma",
    "epoch_zero", "spread_runs", "spread", "spread_steps", "later_in_all", "minmax", "single", "lmc_cells",
]

DYN = "dynamics/measurements.csv"
GROK = "grokking/measurements.csv"
STEPS = "grokking/change_steps.csv"
PRUNE = "pruning/measurements.csv"
COLLAPSE = "collapse/default/measurements.csv"
C300 = "collapse/300-epochs/measurements.csv"
LMC = "lmc/barriers.csv"
LONG = ("semi-supervised/long-250/measurements.csv", "semi-supervised/long-250-seeds-1-2/measurements.csv")


def mean(path, column, **f) -> float:
    return float(np.mean(values(path, column, **f)))


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


def tf(column: str, step: int) -> np.ndarray:
    return values(GROK, column, model="transformer", step=step)


def mlp(column: str, step: int) -> np.ndarray:
    return values(GROK, column, model="mlp", step=step)


def lead(series: str, model: str = "transformer") -> np.ndarray:
    """Per seed: the series' change step minus test accuracy's (negative: the series moves first)."""
    return values(STEPS, f"step_{series}", model=model) - values(STEPS, "step_test_accuracy", model=model)


def timing(series: str) -> float:
    """Correlation across the 5 transformer seeds of the series' change step with test accuracy's."""
    return float(np.corrcoef(values(STEPS, f"step_{series}", model="transformer"),
                             values(STEPS, "step_test_accuracy", model="transformer"))[0, 1])


def row(series: str) -> list[float]:
    leads = lead(series)
    return [*leads, int(np.sum(leads < 0)), 5, timing(series)]


def troughs() -> np.ndarray:
    """Steps between successive local minima of train H(Z) after step 1,000, all transformer seeds."""
    gaps = []
    for seed in range(5):
        h = values(GROK, "train_h_z", model="transformer", seed=seed)
        steps = values(GROK, "step", model="transformer", seed=seed)
        low = [i for i in range(5, len(h) - 4) if steps[i] > 1000 and i == i - 4 + np.argmin(h[i - 4:i + 5])
               and h[i] < np.max(h[i - 5:i]) - 0.3]
        gaps += list(np.diff(steps[low]))
    return np.array(gaps)


def pr(column: str, variant: str, sparsity: float, split: str = "test") -> np.ndarray:
    return values(PRUNE, column, variant=variant, sparsity=sparsity, split=split)


def pr_curve(column: str, variant: str) -> np.ndarray:
    return np.array([pr(column, variant, x).mean() for x in (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99)])


def paired_ci(a: np.ndarray, b: np.ndarray) -> list[float]:
    """Mean of the paired differences a − b and its 95 % t interval."""
    d = np.asarray(a) - np.asarray(b)
    half = stats.t.ppf(0.975, d.size - 1) * sd(d) / np.sqrt(d.size)
    return [d.mean(), d.mean() - half, d.mean() + half]


def imp_gap(sparsity: float) -> list[float]:
    return paired_ci(pr("mir", "IMP body, rewound", sparsity), pr("mir", "one-shot body + fine-tune", sparsity))


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


def lmc_path(column: str, spawn, alpha: float) -> float:
    return mean("lmc/measurements.csv", column, spawn=spawn, alpha=alpha, split="test")


def lmc_corr(paths: str, metric: str, barrier: str, column: str) -> float:
    return float(rows("lmc/correlations.csv", split="test", paths=paths, metric=metric, barrier=barrier)[0][column])


def long(column: str, setting: str, step: int) -> np.ndarray:
    """The longer FixMatch run, seeds 0, 1, 2 (two files)."""
    return np.concatenate([values(f, column, setting=setting, step=step) for f in LONG])


def long_gap(step: int) -> np.ndarray:
    return long("accuracy", "α=0.5, β=0.5", step) - long("accuracy", "α=0.0, β=0.0", step)


def long_p(step: int) -> float:
    return float(stats.ttest_rel(long("accuracy", "α=0.5, β=0.5", step), long("accuracy", "α=0.0, β=0.0", step)).pvalue)


TERMINAL = "loss-supervised/terminal/measurements.csv"


def terminal_accuracy(setting: str) -> np.ndarray:
    return values(TERMINAL, "accuracy", setting=setting, epoch=1000, split="test")


def welch(setting: str) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # CE's seeds are all equal
        return float(stats.ttest_ind(terminal_accuracy(setting), terminal_accuracy("ce"), equal_var=False).pvalue)


def holm(setting: str) -> float:
    """Holm-adjusted Welch p of a setting against CE, over the 8 settings compared with it."""
    others = [r["setting"] for r in rows("loss-supervised/terminal/differences.csv") if r["setting"] != "ce"]
    ranked = sorted(others, key=welch)
    adjusted = np.maximum.accumulate([min(1.0, (len(ranked) - k) * welch(name)) for k, name in enumerate(ranked)])
    return float(adjusted[ranked.index(setting)])


def terminal_ci(setting: str) -> list[float]:
    """95 % t interval of the difference from CE, whose 5 seeds are all equal."""
    x = terminal_accuracy(setting) - terminal_accuracy("ce").mean()
    half = stats.t.ppf(0.975, x.size - 1) * sd(x) / np.sqrt(x.size)
    return [x.mean() - half, x.mean() + half]


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


PLAIN = ("dynamics, epoch 15", "label smoothing 0.0", "pruning 0.0, one-shot body + fine-tune", "loss-supervised α=0.0,β=0.0")
SMOOTHED = ("label smoothing 0.1", "label smoothing 0.2", "label smoothing 0.4")
NO_MIR_TERM = tuple(k for k in REVISIT if "α=0.5" not in k and "α=1.0" not in k)


LS = "label-smoothing/measurements.csv"


def ls(column: str, factor: float, split: str = "test") -> np.ndarray:
    return values(LS, column, smoothing=factor, epoch=8, split=split)


def ls_gap(factor: float) -> list[float]:
    return paired_ci(ls("accuracy", factor), ls("accuracy", 0.0))


def holm_min(pvalues) -> float:
    """Smallest Holm-adjusted p of a family."""
    return min(1.0, len(pvalues) * min(pvalues))


def ls_p(factor: float) -> float:
    return float(stats.ttest_rel(ls("accuracy", factor), ls("accuracy", 0.0)).pvalue)


CMA = "cma/measurements.csv"


def cma(column: str, shots: int, lam: float) -> float:
    return mean(CMA, column, shots=shots, setting=f"λ={lam}")


def cma_row(shots: int) -> list[float]:
    return [*(cma("accuracy", shots, lam) for lam in (0.0, 0.1, 0.3, 0.5)),
            cma("mir", shots, 0.0), cma("mir", shots, 0.5), cma("hdr", shots, 0.0), cma("hdr", shots, 0.5)]


def cma_chosen(shots: int) -> list[float]:
    """Chosen λ (−1 unless validation picks it), its gain over λ = 0, the best λ > 0 on test and its accuracy."""
    chosen = float(rows("cma/chosen.csv", shots=shots)[0]["chosen_lambda"])
    by_validation = max((0.1, 0.3, 0.5), key=lambda lam: (round(cma("validation_accuracy", shots, lam), 12), -lam))
    best = max((0.1, 0.3, 0.5), key=lambda lam: (cma("accuracy", shots, lam), -lam))
    return [chosen if chosen == by_validation else -1, cma("accuracy", shots, chosen) - cma("accuracy", shots, 0.0), best, cma("accuracy", shots, best)]


CC = "clustering/per-class/class_correlations.csv"
CLU = "clustering/measurements.csv"


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


def term(column: str, setting: str, split: str = "train") -> np.ndarray:
    return values(TERMINAL, column, setting=setting, epoch=1000, split=split)


MIR_SETTINGS = ("mir=0.05", "mir=0.1", "mir=0.3", "mir=1", "mir=0.1,hdr=0.1", "mir=0.1,centred", "mir=0.1,detached")
LS8 = "loss-supervised/measurements.csv"
SEMI = "semi-supervised/measurements.csv"


def ls8(column: str, setting: str) -> float:
    return mean(LS8, column, setting=setting, epoch=8, split="test")


def semi(column: str, labels: int, setting: str) -> float:
    return mean(SEMI, column, labels=labels, setting=setting, step=400)


QUICK = "collapse/measurements.csv"


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


OLD_CMA = "cma/earlier-image-tuning/measurements.csv"


def old_cma(column: str, shots: int, lam: float) -> np.ndarray:
    return values(OLD_CMA, column, shots=shots, setting=f"λ={lam}")


def epoch_zero(column: str) -> np.ndarray:
    """Every epoch-0 record of the experiments that have them (the collapse default: true labels)."""
    return np.r_[values(DYN, column, epoch=0), values(LS, column, epoch=0), values(COLLAPSE, column, epoch=0, labels="true")]


def spread_runs() -> list[dict]:
    from grokking.spread import archived

    return archived()


def spread(series: str, key: str):
    from grokking.spread import criteria

    return criteria(spread_runs(), series)[key]


def spread_steps(fraction: float) -> np.ndarray:
    return np.array([e["step_test_accuracy"] for e in spread_runs() if e["train_fraction"] == fraction])


def later_in_all(series: tuple[str, ...]) -> int:
    """The number of runs if every listed series changes after test accuracy in every run, else 0."""
    runs = spread_runs()
    return len(runs) if all(e[f"step_{k}"] > e["step_test_accuracy"] for e in runs for k in series) else 0


def minmax(x) -> list[float]:
    x = np.asarray(x, dtype=float)
    return [x.min(), x.max()]


def single(x) -> float:
    """The one value every entry of ``x`` has (NaN if they differ)."""
    x = np.asarray(x, dtype=float)
    return float(x[0]) if np.ptp(x) == 0 else float("nan")


def lmc_cells(paths: str, metric: str, barrier: str) -> list[float]:
    """Spearman, its p, Pearson and its p of one row of lmc/correlations.csv (test set)."""
    return [lmc_corr(paths, metric, barrier, c) for c in ("spearman", "spearman_p", "pearson", "pearson_p")]


# collapse-ce: the search for a cross-entropy setting that reaches train NC1 <= 0.01
CE_SEARCH = "collapse-ce/search.csv"
CE_ROW = ["last_epoch", "train_s", "train_accuracy", "train_nc1", "min_train_nc1", "train_nc2_etf_distance", "train_nc3",
          "train_nc4", "train_mir_centred", "train_mir", "train_hdr_centred", "train_hdr"]


def ce_search(run: str, column: str, seed: int = 0) -> float:
    """One column of a row of collapse-ce/search.csv."""
    return float(rows(CE_SEARCH, run=run, seed=seed)[0][column])


def ce_search_row(run: str, seed: int = 0) -> list[float]:
    """The numbers of a line of the page's search table, the first epoch at NC1 <= 0.01 last (where there is one)."""
    r = rows(CE_SEARCH, run=run, seed=seed)[0]
    first = r["first_epoch_nc1_le_0.01"]
    return [float(r[c]) for c in CE_ROW] + ([float(first)] if first else [])


def ce_run(run: str, column: str, epoch: int | None = None, seed: int = 0, split: str = "train") -> float:
    """One record of an archived collapse-ce run (its last epoch unless given)."""
    path = f"collapse-ce/{run}/measurements.csv"
    epoch = max(values(path, "epoch")) if epoch is None else epoch
    return float(values(path, column, epoch=epoch, seed=seed, split=split)[0])


CE_READINGS = ["nc1", "nc2_etf_distance", "nc3", "nc4", "mir_centred", "mir", "mir_class", "hdr_centred", "hdr", "hdr_class",
               "rho", "mir_rho", "hdr_rho"]


def ce_readings(run: str, seed: int, split: str) -> list[float]:
    """A line of the page's readings table: NC1–NC4, MIR and HDR in the three readings, ρ and the collapse values at ρ."""
    return [ce_run(run, c, seed=seed, split=split) for c in CE_READINGS]


__all__ += ["CE_SEARCH", "ce_search", "ce_search_row", "ce_run", "ce_readings"]


# the random-feature floor of the runs that recorded no untrained network (floor.csv, written by floor.py)
INFORMATION = ("mir", "hdr", "h_z", "h_w")


def floor(folder: str, column: str) -> np.ndarray:
    """The untrained network's test values of ``column``, one per seed."""
    return values(f"{folder}/floor.csv", column, split="test")


def mean_sd(x) -> list[float]:
    """Mean and sample std, the page's 'a ± b'."""
    return [float(np.mean(x)), sd(x)]


def same_floor(*folders: str) -> bool:
    """Whether the floors of ``folders`` agree seed by seed in every information column."""
    return all(np.array_equal(floor(folders[0], c), floor(f, c)) for f in folders[1:] for c in INFORMATION)


def within_floor(x, folder: str, column: str) -> bool:
    """Whether the mean of ``x`` lies within one sample std of the floor's mean."""
    return abs(np.mean(x) - floor(folder, column).mean()) < sd(floor(folder, column))


__all__ += ["floor", "mean_sd", "same_floor", "within_floor"]
