"""Pruning: one-shot magnitude pruning with and without the classifier, and iterative pruning with rewinding.

Claim (arXiv 2406.03999): the papers relate the pruning ratio to MIR/HDR and accuracy. Each seed
trains one base model. Weights compete in one global magnitude ranking over a *scope* of layers:

- ``body``: every convolutional and linear weight except the classifier, the literature's
  default (Blalock et al. 2020, arXiv 2003.03033; Frankle & Carbin 2019, arXiv 1803.03635);
- ``all``: the classifier included, a variant kept because it edits the heads directly and so
  moves H(W) and HDR by construction.

One-shot pruning at each sparsity is evaluated as pruned and after a short fine-tuning with the
mask kept. Iterative magnitude pruning (IMP) with rewinding, lottery-ticket style (Frankle et al.
2020, arXiv 1912.05671), prunes the body to each of ``imp_sparsities`` in turn: the mask comes from
the previous round's trained weights, the surviving weights (and every other parameter and
buffer) are rewound to their values after ``rewind_epoch`` epochs of the base run, and the
network is retrained ``imp_epochs`` epochs; a shorter retraining than the literature's full
schedule, to keep the run small. ``sparsity`` is the fraction of the scope's weights removed,
``network_sparsity`` that of all convolutional and linear weights.

    interplay experiment pruning            # Fashion-MNIST, CNN, 2 seeds
    interplay experiment pruning --quick    # digits, MLP

Writes ``base-seed<k>.pt``, ``rewind-seed<k>.pt``, ``imp-seed<k>-<sparsity>.pt``, ``records.jsonl``,
``measurements.csv``, ``pruning.png`` and ``report.html``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils import prune

from interplay.config import setting, train_setting
from interplay.report.experiment import band_figure, summary_table, write_page
from interplay.training.checkpoint import load_checkpoint, save_atomic
from interplay.experiments.runs import ExperimentConfig, append_evaluation
from interplay.runs import Records, write_csv
from interplay.training.session import Session
from interplay.validation import InterplayValueError

NAME = "pruning"
SCOPES = ("body", "all")


@dataclass(frozen=True)
class Config(ExperimentConfig):
    epochs: int = train_setting("epochs", 10, "training epochs of each base model")
    sparsities: tuple[float, ...] = setting((0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99), "fractions of weights removed", minimum=0, below=1)
    scopes: tuple[str, ...] = setting(SCOPES, "weights ranked by one-shot pruning: body (classifier excluded) or all", choices=SCOPES)
    finetune_epochs: int = setting(1, "epochs of fine-tuning after one-shot pruning (constant learning rate)", minimum=1)
    finetune_lr: float = setting(0.005, "learning rate of the fine-tuning", above=0)
    imp_sparsities: tuple[float, ...] = setting((0.5, 0.8, 0.9), "body sparsity after each IMP round, increasing", above=0, below=1)
    imp_epochs: int = setting(2, "retraining epochs of each IMP round (0 = no IMP)", minimum=0)
    rewind_epoch: int = setting(1, "IMP rewinds the surviving weights to the base run after this many epochs", minimum=0)
    seeds: tuple[int, ...] = setting((0, 1), "one base model per seed", minimum=0)

    def check(self) -> None:
        if list(self.imp_sparsities) != sorted(set(self.imp_sparsities)):
            raise InterplayValueError(f"imp_sparsities must increase round by round; got {list(self.imp_sparsities)}.")
        if self.rewind_epoch >= self.epochs:
            raise InterplayValueError(f"rewind_epoch must be below epochs={self.epochs}; got {self.rewind_epoch}.")


QUICK = {"dataset": "digits", "model": "mlp", "epochs": 4, "sparsities": (0.0, 0.8, 0.95), "seeds": (0,), "train_eval_samples": 400,
         "imp_sparsities": (0.5, 0.8), "imp_epochs": 1}


def prunable(model: nn.Module, scope: str) -> dict[str, nn.Module]:
    """The convolutional and linear layers whose weights ``scope`` ranks, by name."""
    return {name: m for name, m in model.named_modules()
            if isinstance(m, (nn.Conv2d, nn.Linear)) and (scope == "all" or m is not model.head)}


def magnitude_masks(weights: dict[str, torch.Tensor], sparsity: float) -> dict[str, torch.Tensor]:
    """Keep-masks removing the ``sparsity`` fraction of smallest-magnitude weights, ranked globally.

    Weights already zero rank lowest, so masks of increasing sparsity are nested.

    Example:
        >>> masks = magnitude_masks({"a": torch.tensor([3.0, -1.0]), "b": torch.tensor([0.5, 2.0])}, 0.5)
        >>> masks["a"].tolist(), masks["b"].tolist()
        ([1.0, 0.0], [0.0, 1.0])
    """
    scores = torch.cat([w.detach().abs().flatten() for w in weights.values()])
    removed = round(sparsity * scores.numel())
    if removed == 0:
        return {name: torch.ones_like(w) for name, w in weights.items()}
    order = torch.argsort(scores, stable=True)
    keep = torch.ones_like(scores)
    keep[order[:removed]] = 0
    parts = torch.split(keep, [w.numel() for w in weights.values()])
    return {name: part.view_as(w) for (name, w), part in zip(weights.items(), parts)}


def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> None:
    """Fix the masks on the named layers' weights (kept through training)."""
    layers = dict(model.named_modules())
    for name, mask in masks.items():
        prune.custom_from_mask(layers[name], "weight", mask.to(layers[name].weight.device))


def _sparsities(model: nn.Module, scope: str) -> dict[str, float]:
    def zeros(layers) -> float:
        weights = [m.weight.detach() for m in layers.values()]
        return float(sum(int((w == 0).sum()) for w in weights) / sum(w.numel() for w in weights))

    return {"measured_sparsity": zeros(prunable(model, scope)), "network_sparsity": zeros(prunable(model, "all"))}


def _base_model(config: Config, seed: int, records: Records, run_dir: Path) -> tuple[Path, Path]:
    paths = run_dir / f"base-seed{seed}.pt", run_dir / f"rewind-seed{seed}.pt"
    unit = f"base,seed={seed}"
    if unit in records.finished and all(p.is_file() for p in paths):
        return paths
    session = Session.create(config.train_config(seed))
    for epoch in range(config.epochs + 1):
        if epoch:
            session.train_epoch(epoch)
        if epoch == config.rewind_epoch:
            save_atomic({"model": session.model.state_dict()}, paths[1])
    save_atomic({"model": session.model.state_dict()}, paths[0])
    records.finish(unit)
    return paths


def _one_shot(config: Config, records: Records, base: Path, seed: int) -> None:
    grid = itertools.product(config.scopes, config.sparsities, (False, True))

    def name(scope: str, sparsity: float, finetuned: bool) -> str:
        return f"one-shot,scope={scope},sparsity={sparsity},finetuned={finetuned},seed={seed}"

    for unit, (scope, sparsity, finetuned) in records.todo(grid, name):
        changes = {"epochs": config.finetune_epochs, "lr": config.finetune_lr, "schedule": "constant"}
        session = Session.create(config.train_config(seed, **changes))
        session.model.load_state_dict(load_checkpoint(base)["model"])
        layers = prunable(session.model, scope)
        apply_masks(session.model, magnitude_masks({n: m.weight for n, m in layers.items()}, sparsity))
        for epoch in range(1, config.finetune_epochs + 1 if finetuned else 1):
            session.train_epoch(epoch)
        variant = f"one-shot {scope}" + " + fine-tune" * finetuned
        append_evaluation(records, unit, session, variant=variant, pruning="one-shot", scope=scope, sparsity=sparsity,
                          finetuned=finetuned, seed=seed, **_sparsities(session.model, scope))


def _iterative(config: Config, records: Records, base: Path, rewind: Path, run_dir: Path, seed: int) -> None:
    trained = load_checkpoint(base)["model"]
    for sparsity in config.imp_sparsities if config.imp_epochs else ():
        unit, path = f"imp,sparsity={sparsity},seed={seed}", run_dir / f"imp-seed{seed}-{sparsity}.pt"
        if unit in records.finished and path.is_file():
            trained = load_checkpoint(path)["model"]
            continue
        session = Session.create(config.train_config(seed, epochs=config.imp_epochs))
        layers = prunable(session.model, "body")
        masks = magnitude_masks({n: trained[f"{n}.weight"] for n in layers}, sparsity)
        session.model.load_state_dict(load_checkpoint(rewind)["model"])
        apply_masks(session.model, masks)
        for epoch in range(1, config.imp_epochs + 1):
            session.train_epoch(epoch)
        for layer in layers.values():
            prune.remove(layer, "weight")  # the masked weights, as plain tensors for the next round
        trained = session.model.state_dict()
        save_atomic({"model": trained}, path)
        append_evaluation(records, unit, session, variant="IMP body, rewound", pruning="imp", scope="body", sparsity=sparsity,
                          finetuned=True, seed=seed, **_sparsities(session.model, "body"))
        records.finish(unit)


def run(config: Config, records: Records, run_dir: Path) -> None:
    for seed in config.seeds:
        base, rewind = _base_model(config, seed, records, run_dir)
        _one_shot(config, records, base, seed)
        _iterative(config, records, base, rewind, run_dir, seed)


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    write_csv(rows, run_dir / "measurements.csv")
    test = [r for r in rows if r["split"] == "test"]
    figure = band_figure(test, "sparsity", ["accuracy", "mir", "hdr", "h_z", "h_w", "nc1"], run_dir / "pruning.png",
                         group="variant", style_by=None, xlabel="sparsity of the pruned scope (test set)")
    columns = ["accuracy", "loss", "mir", "hdr", "h_z", "h_w", "network_sparsity"]
    imp = {r["sparsity"] for r in test if r["pruning"] == "imp"}
    equal = [r for r in test if r["sparsity"] in imp and r["variant"] in ("IMP body, rewound", "one-shot body + fine-tune")]
    return write_page(
        run_dir,
        "Pruning",
        ["Global magnitude pruning; mean ± std over seeds on the test set. Scope body: the classifier is not pruned "
         "(the literature's default); scope all: the classifier competes too, which edits the heads and so moves H(W) and "
         "HDR directly. One-shot pruning is evaluated as pruned and after a short fine-tuning with the mask kept; IMP prunes "
         "the body round by round from the previous round's trained weights, rewinds the survivors to the base run's early "
         "weights and retrains."],
        [("Test metrics by variant and sparsity", *summary_table(test, ["variant", "sparsity"], columns)),
         ("IMP against one-shot at equal sparsity (body)", *summary_table(equal, ["sparsity", "variant"], columns))],
        [figure],
    )
