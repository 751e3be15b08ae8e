"""Loaders and computations over the CSVs of grokking: the default runs and the spread over training fractions.

The `claims_*.py` modules pair each quoted number with one of these.
"""
import numpy as np

from recompute import values

__all__ = [
    "STEPS", "later_in_all", "lead", "mlp", "row", "spread", "spread_runs", "spread_steps", "tf", "timing",
    "troughs",
]

GROK = "grokking/measurements.csv"
STEPS = "grokking/change_steps.csv"


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


def spread_runs(model: str = "mlp") -> list[dict]:
    from grokking.spread import archived

    return archived(model)


def spread(series: str, key: str, model: str = "mlp"):
    from grokking.spread import criteria

    return criteria(spread_runs(model), series)[key]


def spread_steps(fraction: float, model: str = "mlp") -> np.ndarray:
    return np.array([e["step_test_accuracy"] for e in spread_runs(model) if e["train_fraction"] == fraction])


def later_in_all(series: tuple[str, ...]) -> int:
    """The number of runs if every listed series changes after test accuracy in every run, else 0."""
    runs = spread_runs()
    return len(runs) if all(e[f"step_{k}"] > e["step_test_accuracy"] for e in runs for k in series) else 0
