"""Matrix entropy as a clustering measure (P2): entropies beside silhouette and Davies–Bouldin.

Claim (arXiv 2409.16767): the matrix entropy of representations and of heads tracks how training
approaches collapse, and matrix entropy measures similarity / clustering like the silhouette
score and the Davies–Bouldin index. The claim is about low entropy *within* a group, so the
main analysis is per class: after every epoch, on a seeded subset of the test set, each class's
matrix entropy H(Z_c), mean silhouette (cosine) and Davies–Bouldin contribution
(:mod:`interplay.functional.clusters`), rank-correlated across classes within each epoch and
across classes and epochs together (Spearman, scipy). A synthetic control with known structure
comes first: Gaussian classes of spreads from tight to loose (per-class reading), and a common
spread on a grid (global reading). The global variant is kept: H(Z) of all representations,
H(W) of the heads, silhouette and Davies–Bouldin of the whole subset, correlated over training.

    interplay experiment clustering            # Fashion-MNIST, CNN, 3 seeds
    interplay experiment clustering --quick    # digits, MLP

Writes ``records.jsonl``, ``measurements.csv``, ``correlations.csv``, ``class_correlations.csv``,
``clustering.png``, ``classes.png`` and ``report.html``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import spearmanr
import torch
from sklearn.metrics import davies_bouldin_score, silhouette_score

from interplay.config import setting, train_setting
from interplay.functional import matrix_entropy
from interplay.functional.clusters import class_clustering, gaussian_mixture
from interplay.report.plots import FONT, save_figure
from interplay.probing import tap_features
from interplay.report.experiment import band_figure, summary_table, write_page
from interplay.experiments.runs import ExperimentConfig
from interplay.runs import Records, write_csv
from interplay.training.session import Session

NAME = "clustering"
PAIRS = [("h_z", "silhouette"), ("h_z", "davies_bouldin"), ("h_w", "silhouette"), ("h_w", "davies_bouldin")]
CLASS_PAIRS = [("h_class", "silhouette_class"), ("h_class", "davies_bouldin_class")]
SYNTHETIC_SPREADS = np.linspace(0.2, 1.6, 8)  # noise norm over mean norm: tight to overlapping


@dataclass(frozen=True)
class Config(ExperimentConfig):
    epochs: int = train_setting("epochs", 10, "training epochs per seed; measured after every epoch")
    samples: int = setting(2000, "seeded test samples on which all measures are computed", minimum=2)


QUICK = {"dataset": "digits", "model": "mlp", "epochs": 4, "seeds": (0, 1), "samples": 300}


def _global(features: torch.Tensor, labels: torch.Tensor, heads: torch.Tensor | None) -> dict[str, float]:
    row = {
        "h_z": float(matrix_entropy(features)),
        "silhouette": float(silhouette_score(features.numpy(), labels.numpy(), metric="cosine")),
        "davies_bouldin": float(davies_bouldin_score(features.numpy(), labels.numpy())),
    }
    return row if heads is None else row | {"h_w": float(matrix_entropy(heads))}


def _measure(session: Session, chosen: torch.Tensor, records: Records, unit: str, **keys) -> None:
    model = session.model.eval()
    with torch.no_grad(), tap_features(model.head) as seen:
        model(session.images["test"][chosen].to(session.device))
    features, labels = seen.pop().double().cpu(), session.test_set.labels[chosen]
    keep = (features != 0).any(dim=1)  # dead representations have no direction
    features, labels = features[keep], labels[keep]
    accuracy = session.evaluate()["test"].accuracy
    records.append(unit, kind="global", **keys, accuracy=accuracy, **_global(features, labels, model.head.weight.detach().cpu()))
    for row in class_clustering(features, labels):
        records.append(unit, kind="class", **keys, **row)


def synthetic(records: Records, seed: int = 0) -> None:
    """The control: per-class measures of classes of graded spread, global ones over a common spread."""
    graded = np.linspace(SYNTHETIC_SPREADS[0], SYNTHETIC_SPREADS[-1], 10)  # one spread per class
    features, labels = gaussian_mixture(10, 32, 200, graded, seed=seed)
    for row in class_clustering(features, labels):
        records.append("synthetic", kind="synthetic class", seed=seed, epoch=0, **row)
    for spread in SYNTHETIC_SPREADS:
        features, labels = gaussian_mixture(10, 32, 200, spread, seed=seed)
        records.append("synthetic", kind="synthetic global", seed=seed, spread=float(spread), **_global(features, labels, None))
    records.finish("synthetic")


def run(config: Config, records: Records, run_dir: Path) -> None:
    if "synthetic" not in records.finished:
        synthetic(records)
    for unit, seed in records.todo(config.seeds, lambda seed: f"seed={seed}"):
        session = Session.create(config.train_config(seed))
        chosen = torch.randperm(len(session.test_set.labels), generator=torch.Generator().manual_seed(seed))[: config.samples]
        _measure(session, chosen, records, unit, seed=seed, epoch=0)
        for epoch in range(1, config.epochs + 1):
            session.train_epoch(epoch)
            _measure(session, chosen, records, unit, seed=seed, epoch=epoch)


def _correlation(x: list[float], y: list[float]) -> tuple[float, float]:
    """Pearson and Spearman (tied values share a rank); NaN where either side is constant."""
    if len(x) < 3 or not (statistics.pstdev(x) and statistics.pstdev(y)):
        return float("nan"), float("nan")
    return float(np.corrcoef(x, y)[0, 1]), float(spearmanr(x, y).statistic)


def correlations(rows: list[dict], pairs: list[tuple[str, str]] = PAIRS) -> list[dict]:
    """Pearson and Spearman correlation over training of each entropy with each clustering score, per seed."""
    out = []
    for seed in sorted({r["seed"] for r in rows}):
        path = [r for r in rows if r["seed"] == seed]
        for a, b in pairs:
            pearson, spearman = _correlation([r[a] for r in path], [r[b] for r in path])
            out.append({"seed": seed, "pair": f"{a} vs {b}", "pearson": pearson, "spearman": spearman})
    return out


def class_correlations(rows: list[dict]) -> list[dict]:
    """Per seed: Spearman of each class's entropy with its clustering scores, across the classes of
    each epoch (``scope`` = the epoch) and across all classes and epochs after the first (``all``)."""
    out = []
    for seed in sorted({r["seed"] for r in rows}):
        mine = [r for r in rows if r["seed"] == seed]
        scopes = {str(e): [r for r in mine if r["epoch"] == e] for e in sorted({r["epoch"] for r in mine})}
        scopes["all"] = [r for r in mine if r["epoch"] > 0]
        for scope, chosen in scopes.items():
            for a, b in CLASS_PAIRS:
                pearson, spearman = _correlation([r[a] for r in chosen], [r[b] for r in chosen])
                out.append({"seed": seed, "scope": scope, "pair": f"{a} vs {b}", "pearson": pearson, "spearman": spearman})
    return out


def classes_figure(rows: list[dict], path: Path) -> Path:
    """Each class's entropy against its silhouette: the synthetic control, then seed 0's classes by epoch."""
    control = [r for r in rows if r["kind"] == "synthetic class"]
    trained = [r for r in rows if r["kind"] == "class" and r["seed"] == min(x["seed"] for x in rows if x["kind"] == "class")]
    with plt.rc_context(FONT):
        fig, axes = plt.subplots(1, 2, figsize=(10.4, 4.0))
        axes[0].scatter([r["h_class"] for r in control], [r["silhouette_class"] for r in control], color="black")
        axes[0].set_title("control: Gaussian classes of graded spread")
        points = axes[1].scatter([r["h_class"] for r in trained], [r["silhouette_class"] for r in trained],
                                 c=[r["epoch"] for r in trained], cmap="viridis", s=14)
        fig.colorbar(points, ax=axes[1], label="epoch")
        axes[1].set_title(f"trained network, seed {trained[0]['seed']}, one point per class and epoch" if trained else "trained network")
        for axis in axes:
            axis.set_xlabel("H(Z_c), matrix entropy of the class (nats)")
            axis.set_ylabel("mean silhouette of the class (cosine)")
        save_figure(fig, path, dpi=100)
    return path


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    write_csv(rows, run_dir / "measurements.csv")
    trained = [r for r in rows if r["kind"] == "global"]
    found = correlations(trained)
    write_csv(found, run_dir / "correlations.csv")
    per_class = class_correlations([r for r in rows if r["kind"] == "class"])
    control = class_correlations([r for r in rows if r["kind"] == "synthetic class"])
    control_global = correlations([r for r in rows if r["kind"] == "synthetic global"], PAIRS[:2])
    write_csv([dict(r, data="trained") for r in per_class] + [dict(r, data="control") for r in control], run_dir / "class_correlations.csv")
    figures = [
        band_figure(trained, "epoch", ["accuracy", "h_z", "h_w", "silhouette", "davies_bouldin"], run_dir / "clustering.png",
                    style_by=None, log_columns=()),
        classes_figure(rows, run_dir / "classes.png"),
    ]
    within_epoch = [r for r in per_class if r["scope"] not in ("0", "all")]
    return write_page(
        run_dir,
        "Matrix entropy and clustering",
        ["All measures on the same seeded test subset. A higher silhouette and a lower Davies–Bouldin index mean "
         "tighter, better separated classes. Per class: H(Z_c) is the matrix entropy of the class's own representations; "
         "P2's claim predicts a negative rank correlation with its silhouette and a positive one with its Davies–Bouldin "
         "contribution. The control (Gaussian classes of graded spread around orthogonal means) shows the answer "
         "where it is known. Global: correlations over the epochs of each seed; mean ± std over seeds."],
        [("Per class, control (known structure)", *summary_table([r for r in control if r["scope"] == "0"], ["pair"], ["spearman"])),
         ("Per class, trained: across the classes of each epoch (epochs >= 1), mean ± std over epochs and seeds",
          *summary_table(within_epoch, ["pair"], ["spearman", "pearson"])),
         ("Per class, trained: across classes and epochs >= 1 together, mean ± std over seeds",
          *summary_table([r for r in per_class if r["scope"] == "all"], ["pair"], ["spearman", "pearson"])),
         ("Global, control: over a common spread grid", *summary_table(control_global, ["pair"], ["spearman", "pearson"])),
         ("Global, trained: correlation over training", *summary_table(found, ["pair"], ["pearson", "spearman"]))],
        figures,
    )
