"""Summaries shared by the claims: means, spreads, paired intervals and ranges of CSV values.

The `claims_*.py` modules pair each quoted number with one of these.
"""
import numpy as np
from scipy import stats

from recompute import sd, values

__all__ = ["holm_min", "mean", "mean_sd", "minmax", "paired_ci", "single"]


def mean(path, column, **f) -> float:
    return float(np.mean(values(path, column, **f)))


def mean_sd(x) -> list[float]:
    """Mean and sample std, the page's 'a ± b'."""
    return [float(np.mean(x)), sd(x)]


def paired_ci(a: np.ndarray, b: np.ndarray) -> list[float]:
    """Mean of the paired differences a − b and its 95 % t interval."""
    d = np.asarray(a) - np.asarray(b)
    half = stats.t.ppf(0.975, d.size - 1) * sd(d) / np.sqrt(d.size)
    return [d.mean(), d.mean() - half, d.mean() + half]


def holm_min(pvalues) -> float:
    """Smallest Holm-adjusted p of a family."""
    return min(1.0, len(pvalues) * min(pvalues))


def minmax(x) -> list[float]:
    x = np.asarray(x, dtype=float)
    return [x.min(), x.max()]


def single(x) -> float:
    """The one value every entry of ``x`` has (NaN if they differ)."""
    x = np.asarray(x, dtype=float)
    return float(x[0]) if np.ptp(x) == 0 else float("nan")
