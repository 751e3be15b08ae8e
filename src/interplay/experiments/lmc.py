"""Linear mode connectivity: loss/accuracy barrier and MIR/HDR on the line between two solutions.

Claim (PAPER.md §5.2): the papers follow MIR/HDR along the linear path between two solutions.
For each spawn epoch k, a parent is trained k epochs; two children continue from it to the end
with different data orders; the models ``(1-α)·θ_A + α·θ_B`` are evaluated at evenly spaced α,
with batch-norm statistics recomputed on the training data. The barrier is the largest excess of
the test loss (or error) over the straight line between the endpoints.

    interplay experiment lmc            # Fashion-MNIST, CNN, spawn epochs 0, 1, 2, 4
    interplay experiment lmc --quick    # digits, MLP

Writes ``records.jsonl``, ``measurements.csv``, ``path.png``, ``barrier.png`` and ``report.html``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.optim.swa_utils import update_bn

from interplay.config import setting, train_setting
from interplay.report.experiment import band_figure, summary_table, write_csv, write_page
from interplay.experiments.runs import ExperimentConfig, Records, append_evaluation
from interplay.training.session import Session, TensorBatches
from interplay.validation import InterplayValueError

NAME = "lmc"


@dataclass(frozen=True)
class Config(ExperimentConfig):
    epochs: int = train_setting("epochs", 6, "total epochs of each child (counted from initialisation)")
    spawn_epochs: tuple[int, ...] = setting((0, 1, 2, 4), "epochs of shared training before the children split, each < epochs", minimum=0)
    points: int = setting(21, "evaluated points on the path, endpoints included", minimum=2)
    seeds: tuple[int, ...] = setting((0,), "initialisation seeds; child data orders use seed + 1000 and + 2000", minimum=0)
    train_eval_samples: int = train_setting("train_eval_samples", 2000, "training samples evaluated per point")

    def __post_init__(self) -> None:
        super().__post_init__()
        if any(not 0 <= k < self.epochs for k in self.spawn_epochs):
            raise InterplayValueError(
                f"spawn_epochs must lie in [0, epochs={self.epochs}); got {list(self.spawn_epochs)}."
            )


QUICK = {"dataset": "digits", "model": "mlp", "epochs": 3, "spawn_epochs": (0, 2), "points": 5, "seeds": (0,), "train_eval_samples": 300}


def _child(config: Config, seed: int, child: int, spawn: int, parent: dict) -> nn.Module:
    session = Session.create(config.train_config(seed + 1000 * child))
    session.model.load_state_dict(parent["model"])
    session.optimizer.load_state_dict(parent["optimizer"])
    for epoch in range(spawn + 1, config.epochs + 1):
        session.train_epoch(epoch)
    return session.model


def _interpolate(a: nn.Module, b: nn.Module, alpha: float) -> nn.Module:
    model = copy.deepcopy(a)
    state_b = b.state_dict()
    mixed = {k: (1 - alpha) * v + alpha * state_b[k] if v.is_floating_point() else v for k, v in a.state_dict().items()}
    model.load_state_dict(mixed)
    return model


def _recompute_batch_norm(model: nn.Module, session: Session) -> None:
    """Batch-norm statistics of the interpolated weights: one cumulative pass over the training set."""
    loader = TensorBatches(session.images["train"], session.train_set.labels, torch.arange(len(session.train_set.labels)), 500, session.device)
    update_bn(loader, model, device=session.device)


def run(config: Config, records: Records, run_dir: Path) -> None:
    for seed in config.seeds:
        for spawn in config.spawn_epochs:
            unit = f"spawn={spawn},seed={seed}"
            if unit in records.finished:
                continue
            parent = Session.create(config.train_config(seed))
            for epoch in range(1, spawn + 1):
                parent.train_epoch(epoch)
            state = {"model": copy.deepcopy(parent.model.state_dict()), "optimizer": copy.deepcopy(parent.optimizer.state_dict())}
            a, b = (_child(config, seed, child, spawn, state) for child in (1, 2))
            for i in range(config.points):
                alpha = i / (config.points - 1)
                model = _interpolate(a, b, alpha)
                _recompute_batch_norm(model, parent)
                append_evaluation(records, unit, parent, model, spawn=spawn, seed=seed, alpha=round(alpha, 6))
            records.finish(unit)


def barriers(rows: list[dict]) -> list[dict]:
    """Largest excess of test loss and error over the line between the endpoints, per spawn and seed."""
    out = []
    for key in sorted({(r["spawn"], r["seed"]) for r in rows}):
        path = sorted((r for r in rows if (r["spawn"], r["seed"]) == key and r["split"] == "test"), key=lambda r: r["alpha"])
        first, last = path[0], path[-1]

        def excess(column, sign=1.0):
            return max(sign * (r[column] - ((1 - r["alpha"]) * first[column] + r["alpha"] * last[column])) for r in path)

        out.append({"spawn": key[0], "seed": key[1], "loss_barrier": excess("loss"), "error_barrier": excess("accuracy", -1.0),
                    "mir_min": min(r["mir"] for r in path), "hdr_max": max(r["hdr"] for r in path)})
    return out


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    write_csv(rows, run_dir / "measurements.csv")
    found = barriers(rows)
    write_csv(found, run_dir / "barriers.csv")
    test = [r for r in rows if r["split"] == "test"]
    figures = [
        band_figure(test, "alpha", ["loss", "accuracy", "mir", "hdr", "h_z", "h_w"], run_dir / "path.png", group="spawn", style_by=None, xlabel="α (test set)"),
        band_figure(found, "spawn", ["loss_barrier", "error_barrier", "mir_min", "hdr_max"], run_dir / "barrier.png", style_by=None, xlabel="spawn epoch"),
    ]
    table = summary_table(found, ["spawn"], ["loss_barrier", "error_barrier", "mir_min", "hdr_max"])
    return write_page(
        run_dir,
        "Linear mode connectivity",
        ["Children spawned from a shared parent after k epochs; the barrier is the largest excess of the test loss "
         "(error) on the path over the straight line between the two children. Batch-norm statistics are recomputed "
         "at every point. Mean ± std over seeds."],
        [("Barriers and extremes of MIR/HDR along the path", *table)],
        figures,
    )
