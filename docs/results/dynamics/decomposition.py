"""MIR of the dynamics run split into its numerator MI and its normaliser, per epoch.

From epoch 1 on H(Z) > H(W) in every record, so MIR = MI / H(W): log MIR falls by the fall of
log MI plus the rise of log H(W). `shares` gives, per split and seed, the part of the fall of
log MIR between two epochs that the rise of log H(W) accounts for.

Run from the repository root (writes docs/results/dynamics/decomposition.png):
    python docs/results/dynamics/decomposition.py
"""
import csv
import math
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
C = 10
MIR_NC = 0.9523507825397208  # recorded mir_nc at C = 10

__all__ = ["series", "shares", "main"]


def series(column: str, split: str) -> np.ndarray:
    """(seeds, epochs) array of one recorded column."""
    with open(HERE / "measurements.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["split"] == split]
    seeds = sorted({int(r["seed"]) for r in rows})
    epochs = sorted({int(r["epoch"]) for r in rows})
    out = np.full((len(seeds), len(epochs)), np.nan)
    for r in rows:
        out[seeds.index(int(r["seed"])), epochs.index(int(r["epoch"]))] = float(r[column])
    return out


def shares(split: str, start: int, end: int) -> np.ndarray:
    """Per seed: rise of log H(W) over the fall of log MIR between two epochs."""
    mir, h_w = series("mir", split), series("h_w", split)
    return np.log(h_w[:, end] / h_w[:, start]) / -np.log(mir[:, end] / mir[:, start])


def _band(ax, x, y, label, color):
    mean, spread = y.mean(axis=0), y.std(axis=0, ddof=1)
    ax.plot(x, mean, color=color, label=label)
    ax.fill_between(x, np.maximum(mean - spread, 0), mean + spread, color=color, alpha=0.25, linewidth=0)


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, split in zip(axes, ("train", "test")):
        mi, h_w, h_z = (series(c, split) for c in ("mi", "h_w", "h_z"))
        x = np.arange(mi.shape[1])
        _band(ax, x, h_z, "H(Z)", "tab:green")
        _band(ax, x, h_w, "H(W), the normaliser from epoch 1", "tab:orange")
        _band(ax, x, mi, "MI", "tab:blue")
        ax.axhline(math.log(C - 1), color="tab:orange", linestyle=":", linewidth=1, label="log(C−1): H(W) at collapse")
        ax.axhline(MIR_NC * math.log(C - 1), color="tab:blue", linestyle=":", linewidth=1, label="MI at collapse (MIR_NC · log(C−1))")
        ax.set(title=f"{split} split", xlabel="epoch", ylim=(0, 2.6))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("nats")
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle("dynamics: MIR = MI / H(W) from epoch 1 (mean, band ± sample std over 3 seeds)", fontsize=10)
    fig.tight_layout()
    fig.savefig(HERE / "decomposition.png", dpi=110)
    for split in ("train", "test"):
        print(split, "share of the fall of log MIR, epochs 4→15, from H(W):", np.round(shares(split, 4, 15), 2))


if __name__ == "__main__":
    main()
