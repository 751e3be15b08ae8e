"""Matrix entropy as a clustering measure (P2): entropies beside silhouette and Davies–Bouldin.

Claim (PAPER.md §5.8): the matrix entropy of representations and of heads tracks how training
approaches collapse, and matrix entropy measures similarity / clustering like the silhouette
score and the Davies–Bouldin index. Per epoch, on a seeded subset of the test set, this records
H(Z) of the representations, H(W) of the heads, the silhouette score (cosine) and the
Davies–Bouldin index of the representations grouped by true class, then correlates them over
training (Pearson and Spearman, per seed).

    interplay experiment clustering            # Fashion-MNIST, CNN, 3 seeds
    interplay experiment clustering --quick    # digits, MLP

Writes ``records.jsonl``, ``measurements.csv``, ``correlations.csv``, ``clustering.png`` and ``report.html``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
import torch
from sklearn.metrics import davies_bouldin_score, silhouette_score

from interplay.config import setting, train_setting
from interplay.functional import matrix_entropy
from interplay.probing import tap_features
from interplay.report.experiment import band_figure, summary_table, write_csv, write_page
from interplay.experiments.runs import ExperimentConfig, Records
from interplay.training.session import Session

NAME = "clustering"
PAIRS = [("h_z", "silhouette"), ("h_z", "davies_bouldin"), ("h_w", "silhouette"), ("h_w", "davies_bouldin")]


@dataclass(frozen=True)
class Config(ExperimentConfig):
    epochs: int = train_setting("epochs", 10, "training epochs per seed; measured after every epoch")
    samples: int = setting(2000, "seeded test samples on which all measures are computed", minimum=2)


QUICK = {"dataset": "digits", "model": "mlp", "epochs": 4, "seeds": (0, 1), "samples": 300}


def _measure(session: Session, chosen: torch.Tensor) -> dict[str, float]:
    model = session.model.eval()
    with torch.no_grad(), tap_features(model.head) as seen:
        model(session.images["test"][chosen].to(session.device))
    features, labels = seen.pop().double().cpu(), session.test_set.labels[chosen]
    keep = (features != 0).any(dim=1)  # dead representations have no direction
    features, labels = features[keep], labels[keep].numpy()
    return {
        "h_z": float(matrix_entropy(features)),
        "h_w": float(matrix_entropy(model.head.weight.detach().cpu())),
        "silhouette": float(silhouette_score(features.numpy(), labels, metric="cosine")),
        "davies_bouldin": float(davies_bouldin_score(features.numpy(), labels)),
        "accuracy": session.evaluate()["test"].accuracy,
    }


def run(config: Config, records: Records, run_dir: Path) -> None:
    for seed in config.seeds:
        unit = f"seed={seed}"
        if unit in records.finished:
            continue
        session = Session.create(config.train_config(seed))
        chosen = torch.randperm(len(session.test_set.labels), generator=torch.Generator().manual_seed(seed))[: config.samples]
        records.append(unit, seed=seed, epoch=0, **_measure(session, chosen))
        for epoch in range(1, config.epochs + 1):
            session.train_epoch(epoch)
            records.append(unit, seed=seed, epoch=epoch, **_measure(session, chosen))
        records.finish(unit)


def correlations(rows: list[dict]) -> list[dict]:
    """Pearson and Spearman correlation over training of each entropy with each clustering score, per seed."""
    out = []
    for seed in sorted({r["seed"] for r in rows}):
        path = sorted((r for r in rows if r["seed"] == seed), key=lambda r: r["epoch"])
        for a, b in PAIRS:
            x, y = [r[a] for r in path], [r[b] for r in path]
            pearson = float(np.corrcoef(x, y)[0, 1]) if statistics.pstdev(x) and statistics.pstdev(y) else float("nan")
            spearman = float(spearmanr(x, y).statistic) if pearson == pearson else float("nan")  # tied values share a rank
            out.append({"seed": seed, "pair": f"{a} vs {b}", "pearson": pearson, "spearman": spearman})
    return out


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    write_csv(rows, run_dir / "measurements.csv")
    found = correlations(rows)
    write_csv(found, run_dir / "correlations.csv")
    figure = band_figure(rows, "epoch", ["accuracy", "h_z", "h_w", "silhouette", "davies_bouldin"], run_dir / "clustering.png", style_by=None, log_columns=())
    return write_page(
        run_dir,
        "Matrix entropy and clustering",
        ["All measures on the same seeded test subset. A higher silhouette and a lower Davies–Bouldin index mean "
         "tighter, better separated classes. Correlations are taken over the epochs of each seed; mean ± std over seeds."],
        [("Correlation over training", *summary_table(found, ["pair"], ["pearson", "spearman"]))],
        [figure],
    )
