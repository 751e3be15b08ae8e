"""Figures of a run's metrics over training, drawn from ``metrics.csv`` rows alone."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from interplay.report.labels import axis_label, title  # noqa: E402

__all__ = ["FIGURES", "CAPTIONS", "FONT", "plot_runs", "split_colors", "save_figure"]

# figure name -> panels of (column, log scale); labels come from interplay.report.labels.
FIGURES = {
    "accuracy_loss": [("accuracy", False), ("loss", True)],
    "mir": [("mir", False)],
    "hdr": [("hdr", False)],
    "entropies": [("h_z", False), ("h_w", False), ("mi", False)],
    "collapse": [("nc1", True), ("nc2_etf_distance", False), ("nc3", False), ("nc4", False)],
}
CAPTIONS = {
    "accuracy_loss": "Accuracy and cross-entropy loss on the training subset and the test set.",
    "mir": "MIR: matrix mutual information ratio between representations and heads; at neural collapse it reaches "
           "the dotted value for the class count.",
    "hdr": "HDR: matrix entropy difference ratio between representations and heads; 0 at neural collapse.",
    "entropies": "Matrix entropies of the representations, H(Z), and of the heads paired with them, H(W), and their "
                 "matrix mutual information; both entropies reach log(C−1) at neural collapse.",
    "collapse": "Neural collapse: NC1 within-class variability tr(Σ_W Σ_B⁺)/C, NC2 distance of the class means from a "
                "simplex ETF, NC3 mismatch between heads and class means, NC4 disagreement with the nearest class "
                "mean; each is 0 at collapse.",
}
# column -> (column holding the value at collapse, or a constant; its label)
COLLAPSE = {"mir": ("mir_nc", "MIR at collapse"), "h_z": ("h_nc", "log(C−1) at collapse"), "h_w": ("h_nc", "log(C−1) at collapse"),
            "hdr": (0.0, "0 at collapse"), "nc2_etf_distance": (0.0, "0 at collapse"), "nc3": (0.0, "0 at collapse"),
            "nc4": (0.0, "0 at collapse")}
FONT = {"font.size": 12, "axes.titlesize": 12, "axes.labelsize": 12, "legend.fontsize": 10, "xtick.labelsize": 11,
        "ytick.labelsize": 11}


def split_colors(index: int, several: bool) -> dict[str, str]:
    """Colours of the training and test lines of run ``index``: blue and orange for one run, a dark
    (test) and light (train) shade of one hue per run when several are overlaid.

    Example:
        >>> split_colors(0, several=False)
        {'train': '#1f77b4', 'test': '#ff7f0e'}
    """
    if not several:
        return {"train": "#1f77b4", "test": "#ff7f0e"}
    pairs = plt.get_cmap("tab20").colors
    dark, light = pairs[(2 * index) % 20], pairs[(2 * index + 1) % 20]
    return {"test": matplotlib.colors.to_hex(dark), "train": matplotlib.colors.to_hex(light)}


def _series(rows, split, column):
    points = [(r["epoch"], r[column]) for r in rows if r["split"] == split and r.get(column) is not None]
    return [p[0] for p in points], [p[1] for p in points]


def _collapse_value(rows, column) -> float | None:
    """The value of ``column`` at neural collapse for the rows' class count, where it is known."""
    key, _ = COLLAPSE.get(column, (None, None))
    if key is None or isinstance(key, float):
        return key
    return next((r[key] for r in rows if r.get(key) is not None), None)


def _collapse_lines(axis, runs, column) -> None:
    """Draw and label the value of ``column`` at neural collapse: one black line where every run
    shares it, else one line per run in its colour (runs of different class counts)."""
    label = COLLAPSE.get(column, (None, None))[1]
    values = {run: _collapse_value(rows, column) for run, rows in runs.items()}
    known = {run: value for run, value in values.items() if value is not None}
    if len(set(known.values())) == 1:
        value = next(iter(known.values()))
        axis.axhline(value, color="black", linestyle=":", linewidth=1.4, label=f"{label} = {value:.4g}" if value else label)
        return
    for i, (run, value) in enumerate(values.items()):
        if value is not None:
            axis.axhline(value, color=split_colors(i, several=True)["test"], linestyle=":", linewidth=1.4,
                         label=f"{run}: {label} = {value:.4g}")


def plot_runs(runs: dict[str, list[dict]], out_dir: str | Path) -> list[Path]:
    """Draw every figure of :data:`FIGURES` for one or more runs (overlaid); returns the PNG paths.

    Args:
        runs: run label -> rows of its ``metrics.csv``.
        out_dir: folder for the PNG files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    several = len(runs) > 1
    paths = []
    with plt.rc_context(FONT):
        for name, panels in FIGURES.items():
            # at most 1300 px wide, so that the page never shrinks a figure and its fonts
            ncols = 2 if len(panels) == 4 else len(panels)
            nrows = -(-len(panels) // ncols)
            fig, axes = plt.subplots(nrows, ncols, figsize=(min(5.6 * ncols, 13.0), 4.2 * nrows), squeeze=False)
            for axis, (column, log) in zip(axes.flat, panels):
                for i, (run, rows) in enumerate(runs.items()):
                    colors = split_colors(i, several)
                    prefix = f"{run}, " if several else ""
                    for split, style in (("train", "--"), ("test", "-")):
                        x, y = _series(rows, split, column)
                        if x:
                            axis.plot(x, y, style, color=colors[split], marker="o", markersize=3, linewidth=1.8,
                                      label=f"{prefix}{split}")
                    x, y = _series(rows, "train", f"{column}_rho")
                    if x:
                        axis.plot(x, y, ":", color=colors["train"], linewidth=1.6,
                                  label=f"{prefix}at collapse for the train means' cosine ρ")
                _collapse_lines(axis, runs, column)
                if log and all(v is None or v > 0 for rows in runs.values() for v in (r.get(column) for r in rows)):
                    axis.set_yscale("log")
                axis.set_title(title(column))
                axis.set_xlabel("epoch")
                axis.set_ylabel(axis_label(column) + (" (log scale)" if axis.get_yscale() == "log" else ""))
                axis.xaxis.set_major_locator(MaxNLocator(integer=True))
                axis.grid(alpha=0.3)
                axis.legend()
            paths.append(save_figure(fig, out_dir / f"{name}.png", dpi=100))
    return paths


def save_figure(fig, path, *, dpi: int = 110) -> Path:
    """Lay out, write and close a figure: every figure of the reports and experiments is saved here.

    Example:
        >>> import tempfile
        >>> fig, axis = plt.subplots()
        >>> _ = axis.plot([0, 1], [1, 0])
        >>> save_figure(fig, Path(tempfile.mkdtemp()) / "line.png").suffix
        '.png'
    """
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return Path(path)
