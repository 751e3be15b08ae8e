"""Pruning: global magnitude pruning at a grid of sparsities, with and without fine-tuning.

Claim (PAPER.md §5.4): the papers relate the pruning ratio to MIR/HDR and accuracy. Each seed
trains one model; every weight of its convolutional and linear layers (the classifier included)
competes in one global L1-magnitude ranking (``torch.nn.utils.prune.global_unstructured``), and
the pruned model is evaluated as is and after a short fine-tuning with the mask kept.

    interplay experiment pruning            # Fashion-MNIST, CNN, 2 seeds
    interplay experiment pruning --quick    # digits, MLP

Writes ``base-seed<k>.pt``, ``records.jsonl``, ``measurements.csv``, ``pruning.png`` and ``report.html``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn
from torch.nn.utils import prune

from interplay.config import setting, train_setting
from interplay.report.experiment import band_figure, summary_table, write_csv, write_page
from interplay.training.checkpoint import load_checkpoint, save_atomic
from interplay.experiments.runs import ExperimentConfig, Records, append_evaluation
from interplay.training.session import Session

NAME = "pruning"


@dataclass(frozen=True)
class Config(ExperimentConfig):
    epochs: int = train_setting("epochs", 10, "training epochs of each base model")
    sparsities: tuple[float, ...] = setting((0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99), "fractions of weights removed", minimum=0, below=1)
    finetune_epochs: int = setting(1, "epochs of fine-tuning after pruning (constant learning rate)", minimum=1)
    finetune_lr: float = setting(0.005, "learning rate of the fine-tuning", above=0)
    seeds: tuple[int, ...] = setting((0, 1), "one base model per seed", minimum=0)


QUICK = {"dataset": "digits", "model": "mlp", "epochs": 4, "sparsities": (0.0, 0.8, 0.95), "seeds": (0,), "train_eval_samples": 400}


def _prune(model: nn.Module, sparsity: float) -> None:
    weights = [(m, "weight") for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    if sparsity > 0:
        prune.global_unstructured(weights, pruning_method=prune.L1Unstructured, amount=sparsity)


def _base_model(config: Config, seed: int, records: Records, run_dir: Path) -> Path:
    path = run_dir / f"base-seed{seed}.pt"
    unit = f"base,seed={seed}"
    if unit in records.finished and path.is_file():
        return path
    session = Session.create(config.train_config(seed))
    for epoch in range(1, config.epochs + 1):
        session.train_epoch(epoch)
    save_atomic({"model": session.model.state_dict()}, path)
    records.finish(unit)
    return path


def run(config: Config, records: Records, run_dir: Path) -> None:
    for seed in config.seeds:
        base = _base_model(config, seed, records, run_dir)
        for sparsity in config.sparsities:
            for finetuned in (False, True):
                unit = f"sparsity={sparsity},finetuned={finetuned},seed={seed}"
                if unit in records.finished:
                    continue
                changes = {"epochs": config.finetune_epochs, "lr": config.finetune_lr, "schedule": "constant"}
                session = Session.create(config.train_config(seed, **changes))
                session.model.load_state_dict(load_checkpoint(base)["model"])
                _prune(session.model, sparsity)
                for epoch in range(1, config.finetune_epochs + 1 if finetuned else 1):
                    session.train_epoch(epoch)
                append_evaluation(records, unit, session, sparsity=sparsity, finetuned=finetuned, seed=seed)
                records.finish(unit)


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    write_csv(rows, run_dir / "measurements.csv")
    test = [r for r in rows if r["split"] == "test"]
    figure = band_figure(test, "sparsity", ["accuracy", "mir", "hdr", "h_z", "h_w", "nc1"], run_dir / "pruning.png",
                         group="finetuned", style_by=None, xlabel="sparsity (test set)")
    table = summary_table(test, ["finetuned", "sparsity"], ["accuracy", "loss", "mir", "hdr", "h_z", "h_w"])
    return write_page(
        run_dir,
        "Pruning",
        ["Global L1-magnitude pruning of all convolutional and linear weights; mean ± std over seeds on the test set, "
         "without (finetuned=False) and with a short fine-tuning that keeps the mask."],
        [("Test metrics by sparsity", *table)],
        [figure],
    )
