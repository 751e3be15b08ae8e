"""Figures of a run's metrics over training, drawn from ``metrics.csv`` rows alone."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["FIGURES", "plot_runs"]

# figure name -> panels of (column, title, log scale); reference lines are added by column.
FIGURES = {
    "accuracy_loss": [("accuracy", "accuracy", False), ("loss", "cross-entropy loss", True)],
    "mir": [("mir", "MIR (matrix mutual information ratio)", False)],
    "hdr": [("hdr", "HDR (matrix entropy difference ratio)", False)],
    "entropies": [("h_z", "H(Z), representations (nats)", False), ("h_w", "H(W), heads (nats)", False), ("mi", "matrix mutual information (nats)", False)],
    "collapse": [("nc1", "NC1 tr(Σ_W Σ_B⁺)/C", True), ("nc2_etf_distance", "NC2 distance to simplex ETF", False), ("nc3", "NC3 self-duality", False), ("nc4", "NC4 mismatch with nearest centre", False)],
}
REFERENCES = {"mir": ("mir_nc", "MIR at collapse"), "h_z": ("h_nc", "log(C−1)"), "h_w": ("h_nc", "log(C−1)"), "hdr": (None, "0 at collapse")}


def _series(rows, split, column):
    points = [(r["epoch"], r[column]) for r in rows if r["split"] == split and r.get(column) is not None]
    return [p[0] for p in points], [p[1] for p in points]


def _reference(axis, rows, column):
    key, label = REFERENCES.get(column, (None, None))
    if label is None:
        return
    value = 0.0 if key is None else next((r[key] for r in rows if r.get(key) is not None), None)
    if value is not None:
        axis.axhline(value, color="black", linestyle=":", linewidth=1.2, label=label)


def plot_runs(runs: dict[str, list[dict]], out_dir: str | Path) -> list[Path]:
    """Draw every figure of :data:`FIGURES` for one or more runs (overlaid); returns the PNG paths.

    Args:
        runs: run label -> rows of its ``metrics.csv``.
        out_dir: folder for the PNG files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    paths = []
    for name, panels in FIGURES.items():
        ncols = 2 if len(panels) == 4 else len(panels)
        nrows = -(-len(panels) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.8 * nrows), squeeze=False)
        for axis, (column, title, log) in zip(axes.flat, panels):
            for i, (label, rows) in enumerate(runs.items()):
                for split, style in (("train", "--"), ("test", "-")):
                    x, y = _series(rows, split, column)
                    if x:
                        prefix = f"{label} " if len(runs) > 1 else ""
                        axis.plot(x, y, style, color=colors[i % len(colors)], marker="o", markersize=2.5, label=f"{prefix}{split}")
            _reference(axis, next(iter(runs.values())), column)
            if log and all(v is None or v > 0 for rows in runs.values() for v in (r.get(column) for r in rows)):
                axis.set_yscale("log")
            axis.set_title(title, fontsize=10)
            axis.set_xlabel("epoch")
            axis.grid(alpha=0.3)
            axis.legend(fontsize=7)
        fig.tight_layout()
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
