"""Loaders and computations over the CSVs of the runs with a term added to the loss: loss-supervised
(the terminal phase and the short Fashion-MNIST variant), semi-supervised and cma.

The `claims_*.py` modules pair each quoted number with one of these.
"""
import warnings

import numpy as np
from scipy import stats

from recompute import rows, sd, values
from sources_stats import mean

__all__ = [
    "CMA", "LS8", "MIR_SETTINGS", "OLD_CMA", "SEMI", "TERMINAL", "cma", "cma_chosen", "cma_row", "holm", "long",
    "long_gap", "long_p", "ls8", "old_cma", "semi", "term", "terminal_accuracy", "terminal_ci", "welch",
]

TERMINAL = "loss-supervised/terminal/measurements.csv"
MIR_SETTINGS = ("mir=0.05", "mir=0.1", "mir=0.3", "mir=1", "mir=0.1,hdr=0.1", "mir=0.1,centred", "mir=0.1,detached")
LS8 = "loss-supervised/measurements.csv"
SEMI = "semi-supervised/measurements.csv"
LONG = ("semi-supervised/long-250/measurements.csv", "semi-supervised/long-250-seeds-1-2/measurements.csv")
CMA = "cma/measurements.csv"
OLD_CMA = "cma/earlier-image-tuning/measurements.csv"


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


def term(column: str, setting: str, split: str = "train") -> np.ndarray:
    return values(TERMINAL, column, setting=setting, epoch=1000, split=split)


def ls8(column: str, setting: str) -> float:
    return mean(LS8, column, setting=setting, epoch=8, split="test")


def semi(column: str, labels: int, setting: str) -> float:
    return mean(SEMI, column, labels=labels, setting=setting, step=400)


def long(column: str, setting: str, step: int) -> np.ndarray:
    """The longer FixMatch run, seeds 0, 1, 2 (two files)."""
    return np.concatenate([values(f, column, setting=setting, step=step) for f in LONG])


def long_gap(step: int) -> np.ndarray:
    return long("accuracy", "α=0.5, β=0.5", step) - long("accuracy", "α=0.0, β=0.0", step)


def long_p(step: int) -> float:
    return float(stats.ttest_rel(long("accuracy", "α=0.5, β=0.5", step), long("accuracy", "α=0.0, β=0.0", step)).pvalue)


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


def old_cma(column: str, shots: int, lam: float) -> np.ndarray:
    return values(OLD_CMA, column, shots=shots, setting=f"λ={lam}")
