"""Grokking times spread over training fractions: do MIR and HDR change steps follow them?

For each model, pools the default's runs (embedding MLP: training fraction 0.5, 1,500 steps;
transformer: 0.3, 10,000 steps) with the runs of the same model at other fractions in
docs/results/grokking/spread/frac-*/ (MLP, 2,000 steps) or spread/transformer-frac-*/ (transformer,
10,000 steps); each folder holds the run's config.json and measurements.csv. Every run is cut to
the shortest length of its model, then its change steps are the experiment's own
(`interplay.experiments.grokking.change_steps`: half of the change from the memorisation step to
that end). Writes spread/change_steps.csv and spread/spread.png (MLP),
spread/transformer_change_steps.csv and spread/transformer_spread.png (transformer), and prints,
per series, criterion (1) (the series changes before test accuracy: in how many runs) and
criterion (2) (the Pearson and Spearman correlation of its change step with test accuracy's over
the runs, with a 95 % Fisher-z interval for Pearson).

Run from the repository root: python docs/results/grokking/spread.py
"""
import csv
import json
import math
from pathlib import Path

import numpy as np
from scipy import stats

HERE = Path(__file__).resolve().parent
SHOWN = ("train_mir", "train_hdr", "test_mir", "test_hdr", "train_mir_centred", "train_hdr_centred", "train_h_w", "excluded_loss", "restricted_loss", "weight_norm")

__all__ = ["FOLDERS", "runs", "archived", "table", "criteria", "main"]


def _typed(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        try:
            out[k] = int(v) if k in ("seed", "step") else float(v)
        except (TypeError, ValueError):
            out[k] = v
    return out


FOLDERS = {"mlp": "frac-*", "transformer": "transformer-frac-*"}  # runs at other fractions, per model
OUTPUTS = {"mlp": ("change_steps.csv", "spread.png"), "transformer": ("transformer_change_steps.csv", "transformer_spread.png")}
TITLES = {"mlp": "embedding MLP", "transformer": "one-layer transformer"}


def runs(model: str = "mlp") -> list[dict]:
    """Change steps of every run of ``model`` over the steps its runs share, with its training fraction."""
    from interplay.experiments.grokking import change_steps  # imports torch: only where runs are read

    sources = [(HERE / "measurements.csv", HERE / "config.json")]
    folders = sorted((HERE / "spread").glob(FOLDERS[model]))
    sources += [(d / "measurements.csv", d / "config.json") for d in folders if (d / "measurements.csv").exists()]
    settings = [json.loads(config.read_text())["config"] for _, config in sources]
    # a change step is half of the change up to the run's end, so every run is cut to the shortest length
    horizon = min(c["steps"][c["models"].index(model)] for c in settings)
    out = []
    for (measurements, _), c in zip(sources, settings):
        fraction = c["train_fractions"][c["models"].index(model)]
        with open(measurements, newline="") as handle:
            rows = [_typed(r) for r in csv.DictReader(handle) if r["model"] == model and int(r["step"]) <= horizon]
        out += [e | {"train_fraction": fraction, "steps": horizon} for e in change_steps(rows)]
    return out


def criteria(found: list[dict], series: str) -> dict:
    """Criterion (1): runs where the series changes first; (2): correlation with test accuracy's change step."""
    x = np.array([e[f"step_{series}"] for e in found], dtype=float)
    y = np.array([e["step_test_accuracy"] for e in found], dtype=float)
    r = float(np.corrcoef(x, y)[0, 1])
    half = 1.959963984540054 / math.sqrt(len(x) - 3)
    return {"series": series, "runs": len(x), "first": int(np.sum(x < y)), "same": int(np.sum(x == y)),
            "pearson": r, "low": math.tanh(math.atanh(r) - half), "high": math.tanh(math.atanh(r) + half),
            "spearman": float(stats.spearmanr(x, y)[0]), "p": float(stats.pearsonr(x, y)[1])}


def table(found: list[dict]) -> list[dict]:
    return [criteria(found, s) for s in SHOWN]


def _figure(found: list[dict], model: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fractions = sorted({e["train_fraction"] for e in found})
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    for axis, series in zip(axes.flat, ("train_mir", "train_hdr", "test_mir", "train_mir_centred", "excluded_loss", "restricted_loss")):
        for k, fraction in enumerate(fractions):
            chosen = [e for e in found if e["train_fraction"] == fraction]
            axis.scatter([e["step_test_accuracy"] for e in chosen], [e[f"step_{series}"] for e in chosen], s=22,
                         color=plt.get_cmap("tab10")(k), label=f"training fraction {fraction}")
        top = max(max(e["step_test_accuracy"], e[f"step_{series}"]) for e in found)
        axis.plot([0, top], [0, top], ":", color="black", linewidth=1, label="same step")
        c = criteria(found, series)
        axis.set_title(f"{series}: first in {c['first']}/{c['runs']}, r = {c['pearson']:+.2f}", fontsize=9)
        axis.set(xlabel="test-accuracy change step", ylabel=f"{series} change step")
        axis.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"grokking, {TITLES[model]}: change steps of {len(found)} runs (one point per run)", fontsize=10)
    fig.tight_layout()
    fig.savefig(HERE / "spread" / OUTPUTS[model][1], dpi=100)
    plt.close(fig)


def archived(model: str = "mlp") -> list[dict]:
    """The pooled change steps of ``model`` as its spread/*change_steps.csv holds them."""
    with open(HERE / "spread" / OUTPUTS[model][0], newline="") as handle:
        return [{k: float(v) if k != "model" else v for k, v in r.items()} for r in csv.DictReader(handle)]


def main() -> None:
    from interplay.experiments.grokking import SERIES

    for model in FOLDERS:
        found = runs(model)
        with open(HERE / "spread" / OUTPUTS[model][0], "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["train_fraction", "steps", "model", "seed", "final_test_accuracy", "memorised_step", *(f"step_{s}" for s in SERIES)])
            writer.writeheader()
            writer.writerows(found)
        _figure(found, model)
        print(f"{TITLES[model]}\n| series | runs | changes first in | corr. with test-accuracy step (95 % interval) | Spearman |")
        for c in table(found):
            print(f"| {c['series']} | {c['runs']} | {c['first']}/{c['runs']} | {c['pearson']:+.2f} ({c['low']:+.2f} to {c['high']:+.2f}) | {c['spearman']:+.2f} |")


if __name__ == "__main__":
    main()
