"""Redraw the band figures of docs/results.md from the archived CSVs, in the page's conventions.

Every line is the mean over seeds and every band ± the sample standard deviation (ddof=1), as
each title says with the number of seeds (legends give it per group where it differs); bands of
non-negative quantities stop at 0, of quantities at most 1 at 1, and on a log axis at the lowest
seed; grokking, whose seeds grok at different steps, draws one line per seed; pruning's
sparsity axis is log(1 − s); the label-smoothing accuracy axis spans 6 points, so seed noise of a
few tenths of a point is drawn as small as it is. Panels of MIR, HDR and the entropies draw the
untrained network of the same experiment (its floor.csv, written by floor.py) as a grey dash-dot
line at the mean over seeds with a light band ± sample std.

Run from the repository root (rewrites the PNG files named in FIGURES):
    python docs/results/figures.py
"""
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from recompute import rows  # noqa: E402

from interplay.experiments.loss_supervised import SETTINGS as LOSS_SETTINGS  # noqa: E402
from interplay.functional.closed_form import nc_reference  # noqa: E402
from interplay.report.collapse import reading_figure  # noqa: E402
from interplay.report.labels import title  # noqa: E402
from interplay.runs import read_rows  # noqa: E402

SIGNED = {"silhouette"}  # every other drawn quantity is ≥ 0
AT_MOST_ONE = {"accuracy", "mir", "hdr", "nc4", "embedding_fourier_share", "mir_centred", "hdr_centred", "validation_accuracy",
               "mask_rate", "pseudo_accuracy"}
LOG = {"nc1"}
DERIVED = {"error": lambda r: 1 - float(r["accuracy"])}
SPAWNS = ("0", "25", "50", "100", "200", "469")
COLORS = tuple(c for k, c in enumerate(plt.get_cmap("tab10").colors) if k != 7)  # its grey is the floor's

__all__ = ["FIGURES", "main"]


def _series(path: str, x: str, column: str, **filters) -> tuple[np.ndarray, np.ndarray]:
    """x values and a (seeds, x) array of one column; seeds are the rows sharing every other filter."""
    picked = rows(path, **filters)
    xs = sorted({float(r[x]) for r in picked})
    get = DERIVED.get(column, lambda r: r[column])
    by_x = [[float(get(r)) for r in picked if float(r[x]) == v and get(r) not in ("", None)] for v in xs]
    n = max(len(v) for v in by_x)
    out = np.full((n, len(xs)), np.nan)
    for j, v in enumerate(by_x):
        out[:len(v), j] = v
    return np.array(xs), out


def _core(column: str) -> str:
    return column.removeprefix("train_").removeprefix("test_")


def _band(axis, xs, samples, *, color, label, column, linestyle="-", per_seed=False):
    """Mean and ± sample std, the band kept inside the quantity's range; or one thin line per seed."""
    if per_seed:
        for k, seed in enumerate(samples):
            axis.plot(xs, seed, linestyle, color=COLORS[k % len(COLORS)], linewidth=0.9, label=f"seed {k}" if label != "" else None)
        return samples.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # undefined records (NaN) leave gaps
        mean = np.nanmean(samples, axis=0)
        count = np.sum(np.isfinite(samples), axis=0)
        spread = np.where(count > 1, np.nanstd(samples, axis=0, ddof=1) if samples.shape[0] > 1 else 0.0, 0.0)
        low = mean - spread if _core(column) in SIGNED else np.maximum(mean - spread, 0.0)
        if _core(column) in LOG:  # a log axis has no 0: the band stops at the lowest seed
            low = np.maximum(low, np.nanmin(samples, axis=0))
    high = np.minimum(mean + spread, 1.0) if _core(column) in AT_MOST_ONE else mean + spread
    axis.plot(xs, mean, linestyle, color=color, label=label, marker="o", markersize=2.5)
    axis.fill_between(xs, low, high, color=color, alpha=0.18, linewidth=0)
    return samples.shape[0]


def _panel_grid(n: int):
    ncols = min(3, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.0 * ncols, 3.7 * nrows), squeeze=False)
    for axis in axes.flat[n:]:
        axis.set_visible(False)
    return fig, list(axes.flat[:n])


def _finish(fig, axes, path: Path, seeds: int, what: str, *, per_seed: bool = False) -> None:
    """Grid, title, and one legend under the panels so that no legend covers a curve."""
    entries = {}
    for axis in axes:
        axis.grid(alpha=0.3)
        for handle, label in zip(*axis.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    how = "one line per seed" if per_seed else "one run per line" if seeds == 1 else "mean, band ± sample std (ddof = 1)"
    fig.suptitle(f"{what}: {seeds} seed{'s' * (seeds != 1)}, {how}", fontsize=10)
    columns = min(4, len(entries)) or 1
    bottom = (0.25 * -(-len(entries) // columns) + 0.1) / fig.get_figheight() if entries else 0.0
    if entries:
        fig.legend(entries.values(), entries.keys(), loc="lower center", ncol=columns, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, bottom, 1, 1 - 0.4 / fig.get_figheight()))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _reference(axis, column: str, classes: int | None) -> None:
    """The centred collapse value of ``column`` at ``classes`` classes, where it has one; none
    where ``classes`` is None (heads that are not a simplex, such as CMA's text features)."""
    if classes is None:
        return
    at = nc_reference(classes)
    reference = {"mir": (float(at.mir), f"at collapse = {float(at.mir):.4g}"), "hdr": (0.0, "0 at collapse"),
                 "h_z": (float(at.h_z), f"at collapse = log {classes - 1}"), "h_w": (float(at.h_w), f"at collapse = log {classes - 1}")}
    core = _core(column).removesuffix("_centred")
    if core in reference:
        value, label = reference[core]
        axis.axhline(value, color="black", linestyle=":", linewidth=1.2, label=label)


def _floor(column: str, split: str | None, of: str) -> np.ndarray:
    """The untrained network's ``column`` per seed, from floor.csv in folder ``of`` (or its parent,
    whose rows name the model as ``of``); empty where it has none."""
    folder = of if (HERE / of / "floor.csv").exists() else str(Path(of).parent)
    if not (HERE / folder / "floor.csv").exists():
        return np.array([])
    if column.startswith(("train_", "test_")):
        split, column = column.split("_", 1)
    picked = rows(f"{folder}/floor.csv", experiment=of, **({"split": split} if split else {}))
    return np.array([float(r[column]) for r in picked if r.get(column) not in ("", None)])


def _draw_floor(axis, column: str, splits, of: str) -> None:
    """The floor as a grey dash-dot line at its mean over seeds, with a light band ± sample std."""
    for split in splits:
        floor = _floor(column, split, of)
        if floor.size == 0:
            continue
        mean, spread = floor.mean(), floor.std(ddof=1) if floor.size > 1 else 0.0
        which = f", {split}" if split and len(splits) > 1 else ""
        shade = "0.65" if split == "train" and len(splits) > 1 else "0.35"
        axis.axhline(mean, color=shade, linestyle="-.", linewidth=1.2, label=f"untrained network{which} (floor, {floor.size} seeds)")
        axis.axhspan(mean - spread, mean + spread, color=shade, alpha=0.15, linewidth=0)


def split_figure(path: str, x: str, columns: list[str], out: str, what: str, *, groups=(None,), group_key=None,
                 splits=("train", "test"), xform=None, xticks=None, xlabel=None, classes=10, per_seed=False, floor_of=None,
                 **filters) -> None:
    """One panel per column; one line per group and split (train dashed, test solid); the untrained
    network's value (floor.csv beside ``path``, rows of experiment ``floor_of``) where it has one."""
    fig, axes = _panel_grid(len(columns))
    seeds = 0
    for axis, column in zip(axes, columns):
        for g_index, group in enumerate(groups):
            for split in splits:
                f = dict(filters, **({group_key: group} if group_key else {}), **({"split": split} if split else {}))
                xs, samples = _series(path, x, column, **f)
                label = ", ".join(p for p in (f"{group_key}={group}" if group_key else "", split if len(splits) > 1 else "") if p)
                if group_key and not per_seed:
                    label += f" (n={samples.shape[0]})"
                seeds = max(seeds, _band(axis, xform(xs) if xform else xs, samples, color=COLORS[g_index if group_key else (0 if split == "test" else 1)],
                                         label=label or None, column=column, linestyle="--" if split == "train" else "-", per_seed=per_seed))
        _reference(axis, column, classes)
        _draw_floor(axis, column, splits, floor_of or str(Path(path).parent))
        if _core(column) in LOG:
            axis.set_yscale("log")
        elif _core(column) not in SIGNED and axis.get_ylim()[0] < 0:
            axis.set_ylim(bottom=0)  # no negative ticks for a quantity that cannot be negative
        axis.set_title(title(column.removeprefix("train_").removeprefix("test_")) + (f" ({column.split('_')[0]})" if column.startswith(("train_", "test_")) else ""), fontsize=9)
        axis.set_xlabel(xlabel or x)
        if xticks is not None:
            axis.set_xticks(xform(np.array(xticks)), [f"{t:g}" for t in xticks], fontsize=7)
    _finish(fig, axes, HERE / out, seeds, what, per_seed=per_seed)


def _log_sparsity(s: np.ndarray) -> np.ndarray:
    return -np.log10(1.0 - np.asarray(s, dtype=float))


def smoothing_final() -> None:
    """Final test accuracy against MIR and HDR per factor; the accuracy axis spans 6 points."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for axis, metric in zip(axes, ("mir", "hdr")):
        for k, factor in enumerate((0.0, 0.1, 0.2, 0.4)):
            picked = rows("label-smoothing/measurements.csv", smoothing=factor, epoch=8, split="test")
            mx, acc = (np.array([float(r[c]) for r in picked]) for c in (metric, "accuracy"))
            axis.scatter(mx, acc, color=COLORS[k], s=12, alpha=0.6)
            axis.errorbar(mx.mean(), acc.mean(), xerr=np.std(mx, ddof=1), yerr=np.std(acc, ddof=1), color=COLORS[k],
                          marker="o", capsize=3, label=f"smoothing {factor}")
        floor = _floor(metric, "test", "label-smoothing")
        if floor.size:  # written, not drawn: a line at the floor would squeeze the factors' differences
            axis.text(0.02, 0.03, f"untrained network (floor): {metric.upper()} = {floor.mean():.3f} ± {floor.std(ddof=1):.3f}, "
                      f"{floor.size} seeds", transform=axis.transAxes, fontsize=7, color="0.35")
        axis.set_ylim(0.89, 0.95)
        axis.set(xlabel=f"final test {metric.upper()}", ylabel="final test accuracy")
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("label smoothing, epoch 8: dots the 2 seeds, bars mean ± sample std", fontsize=10)
    fig.tight_layout()
    fig.savefig(HERE / "label-smoothing/final.png", dpi=100)
    plt.close(fig)


def _by_setting(folder: str, x: str, columns: list[str], name: str, what: str, groups, **options) -> None:
    """One line per setting of the ablation run in ``folder`` (loss terms, FixMatch terms or CMA weights)."""
    split_figure(f"{folder}/measurements.csv", x, columns, f"{folder}/{name}", what, groups=groups, group_key="setting", **options)


LOSS_COLUMNS = ["accuracy", "loss", "mir", "hdr", "h_z"]
LOSS_WEIGHTS = ("α=0.0, β=0.0", "α=0.5, β=0.5", "α=1.0, β=0.0", "α=0.0, β=1.0")  # the Fashion-MNIST run's earlier protocol
SEMI_COLUMNS = ["accuracy", "mir", "hdr", "mask_rate", "pseudo_accuracy", "h_z"]
SEMI_RUNS = [("semi-supervised", 40, "400 steps"), ("semi-supervised", 250, "400 steps"),
             ("semi-supervised/long-250", 250, "4,000 steps"), ("semi-supervised/long-250-seeds-1-2", 250, "4,000 steps")]
CMA_RUNS = {"cma": (["accuracy", "validation_accuracy", "cma", "mir", "hdr", "loss"], (0.0, 0.1, 0.3, 0.5),
                    "cma, prompt tuning, test images of the 5 new classes"),
            "cma/earlier-image-tuning": (["accuracy", "cma", "mir", "hdr", "loss", "h_z"], (0.0, 0.2, 0.5),
                                         "cma, earlier protocol (image encoder tuned), 10 test classes")}

PRUNE_VARIANTS = ("one-shot body", "one-shot body + fine-tune", "one-shot all", "one-shot all + fine-tune", "IMP body, rewound")
SPARSITY_TICKS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99)

FIGURES = {
    "dynamics/dynamics.png": lambda: split_figure("dynamics/measurements.csv", "epoch", ["accuracy", "mir", "hdr", "h_z", "h_w", "mi"], "dynamics/dynamics.png", "dynamics"),
    "dynamics/collapse.png": lambda: split_figure("dynamics/measurements.csv", "epoch", ["nc1", "nc2_etf_distance", "nc3", "nc4"], "dynamics/collapse.png", "dynamics"),
    "pruning/pruning.png": lambda: split_figure("pruning/measurements.csv", "sparsity", ["accuracy", "mir", "hdr", "h_z", "h_w", "nc1"], "pruning/pruning.png",
                                                "pruning, test set", groups=PRUNE_VARIANTS, group_key="variant", splits=("test",), xform=_log_sparsity,
                                                xticks=SPARSITY_TICKS, xlabel="sparsity of the pruned scope (axis: −log10(1 − s))"),
    "label-smoothing/curves.png": lambda: split_figure("label-smoothing/measurements.csv", "epoch", ["accuracy", "mir", "hdr", "h_z", "h_w", "nc1"], "label-smoothing/curves.png",
                                                       "label smoothing, test set", groups=(0.0, 0.1, 0.2, 0.4), group_key="smoothing", splits=("test",)),
    "label-smoothing/final.png": smoothing_final,
    "clustering/clustering.png": lambda: split_figure("clustering/measurements.csv", "epoch", ["accuracy", "h_z", "h_w", "silhouette", "davies_bouldin"], "clustering/clustering.png",
                                                      "clustering, 2,000 test images", splits=(None,)),
    **{f"grokking/{model}.png": (lambda model=model: split_figure(
        "grokking/measurements.csv", "step", ["train_accuracy", "test_accuracy", "train_h_w", "train_mir", "test_mir", "train_mir_centred", "train_hdr", "test_hdr",
                                              "train_hdr_centred", "train_h_z", "train_h_z_centred", "h_heads", "weight_norm", "embedding_fourier_share",
                                              "restricted_loss", "excluded_loss"], f"grokking/{model}.png", f"grokking, {model}", splits=(None,), classes=113, per_seed=True,
        floor_of=f"grokking/{model}", model=model))
       for model in ("transformer", "mlp")},
    "lmc/path.png": lambda: split_figure("lmc/measurements.csv", "alpha", ["loss", "error", "mir", "hdr", "h_z", "h_w"], "lmc/path.png",
                                         "lmc paths, test set", groups=(*SPAWNS, "independent"), group_key="spawn", splits=("test",), xlabel="α along the path"),
    "lmc/path_spawned.png": lambda: split_figure("lmc/measurements.csv", "alpha", ["loss", "error", "mir", "hdr", "h_z", "h_w"], "lmc/path_spawned.png",
                                                 "lmc paths of spawned children, test set", groups=SPAWNS, group_key="spawn", splits=("test",), xlabel="α along the path"),
    **{f"{folder}/readings.png": (lambda folder=folder: reading_figure(read_rows(HERE / folder / "measurements.csv"), HERE / folder / "readings.png"))
       for folder in ("collapse", "collapse/default", "collapse-ce/cnn-width32-wd5e-4-1000ep")},
    "collapse/default/collapse.png": lambda: split_figure("collapse/default/measurements.csv", "epoch", ["nc1", "nc2_etf_distance", "nc3", "nc4"], "collapse/default/collapse.png",
                                                          "collapse default", groups=("ce", "mse", "mse shuffled"), group_key="objective"),
    "loss-supervised/terminal/loss_supervised.png": lambda: _by_setting("loss-supervised/terminal", "epoch", LOSS_COLUMNS, "loss_supervised.png",
                                                                        "loss-supervised, terminal phase (digits MLP), test set", LOSS_SETTINGS, splits=("test",)),
    "loss-supervised/loss_supervised.png": lambda: _by_setting("loss-supervised", "epoch", LOSS_COLUMNS, "loss_supervised.png",
                                                               "loss-supervised, Fashion-MNIST CNN, test set", LOSS_WEIGHTS, splits=("test",)),
    **{f"{folder}/semi_supervised_{count}.png": (lambda folder=folder, count=count, steps=steps: _by_setting(
        folder, "step", SEMI_COLUMNS, f"semi_supervised_{count}.png", f"semi-supervised, {count} labels, {steps}, EMA model on the test set",
        ("α=0.0, β=0.0", "α=0.5, β=0.5"), splits=(None,), xlabel=f"step ({count} labels)", labels=count))
       for folder, count, steps in SEMI_RUNS},
    **{f"{folder}/cma.png": (lambda folder=folder, columns=columns, lambdas=lambdas, what=what: _by_setting(
        folder, "shots", columns, "cma.png", what, [f"λ={lam}" for lam in lambdas], splits=(None,), classes=None, xlabel="labelled images per class"))
       for folder, (columns, lambdas, what) in CMA_RUNS.items()},
}


def main(names: list[str]) -> None:
    for name in names or FIGURES:
        FIGURES[name]()
        print("wrote", HERE / name)


if __name__ == "__main__":
    main(sys.argv[1:])
