"""MIR/HDR terms in semi-supervised training: FixMatch alone against FixMatch plus the terms.

Claim (arXiv 2406.03999): the terms, computed on confidently pseudo-labelled unlabelled samples,
make better use of the unlabelled data. Each label count (balanced per class) and seed draws one
labelled subset; every setting then trains the same model with the same steps and seeds
(:class:`interplay.training.fixmatch.FixMatch`), and the EMA model is evaluated on the test set.

    interplay experiment semi-supervised            # Fashion-MNIST, CNN, 40 and 250 labels, 3 seeds
    interplay experiment semi-supervised --quick    # digits, MLP

Writes ``records.jsonl``, ``measurements.csv``, ``semi_supervised.png`` and ``report.html``.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import torch

from interplay.config import Settings, setting, train_setting
from interplay.models import build_model
from interplay.probing import probe
from interplay.report.experiment import band_figure, summary_table, write_page
from interplay.processes import Context, resolve_device
from interplay.experiments.runs import load_splits
from interplay.runs import Records, write_csv
from interplay.training.fixmatch import FixMatch, balanced_labelled
from interplay.training.session import TensorBatches

NAME = "semi-supervised"
NO_FLIP = ("digits", "mnist")  # a mirrored digit is another symbol


@dataclass(frozen=True)
class Config(Settings):
    FORMERLY = {"record_every": "eval_every"}

    dataset: str = train_setting("dataset", "fashion-mnist")
    model: str = train_setting("model", "cnn")
    width: int = train_setting("width")
    label_counts: tuple[int, ...] = setting((40, 250), "labelled samples, balanced per class", minimum=1)
    weights: tuple[tuple[float, float], ...] = setting(
        ((0.0, 0.0), (0.5, 0.5)), "(α, β) of the -α·MIR + β·HDR terms; (0, 0) is FixMatch alone", minimum=0
    )
    steps: int = setting(400, "training steps per run", minimum=1)
    batch_size: int = train_setting("batch_size", 32, "labelled images per step")
    mu: int = setting(7, "unlabelled images per labelled image", minimum=1)
    threshold: float = setting(0.95, "pseudo-label confidence threshold", minimum=0, maximum=1)
    lambda_u: float = setting(1.0, "weight of the unlabelled loss", minimum=0)
    lr: float = train_setting("lr", 0.03, "peak SGD learning rate")
    weight_decay: float = train_setting("weight_decay", help="weight decay (not on biases and norms)")
    ema_decay: float = setting(0.99, "decay of the evaluated EMA model (FixMatch's 0.999 suits its 2^20 steps, not 400)",
                               minimum=0, below=1)
    record_every: int = setting(100, "steps between records (and the last step)", minimum=1)
    test_samples: int = setting(0, "test images evaluated; 0 = all", minimum=0)
    seeds: tuple[int, ...] = setting((0, 1, 2), "one labelled subset and run per seed", minimum=0)
    device: str = train_setting("device")
    data_dir: str | None = train_setting("data_dir")


QUICK = {"dataset": "digits", "model": "mlp", "label_counts": (50,), "steps": 150, "batch_size": 16, "mu": 3,
         "threshold": 0.8, "record_every": 50, "seeds": (0, 1)}


def _data(config: Config):
    train, test = load_splits(config.dataset, config.data_dir)
    for count in config.label_counts:  # every count is checked before any training
        balanced_labelled(train.labels, count, train.num_classes, config.seeds[0])
    return train, test


def run(config: Config, records: Records, run_dir: Path) -> None:
    train, test = _data(config)
    device = resolve_device(config.device, Context())
    mean, std = train.channel_stats()
    std = torch.where(std > 0, std, torch.ones_like(std))
    chosen = torch.arange(len(test.labels))[: config.test_samples or None]
    test_batches = TensorBatches(test.standardize(mean, std), test.labels, chosen, 1000, device)
    grid = itertools.product(config.label_counts, config.weights, config.seeds)
    for unit, (count, (alpha, beta), seed) in records.todo(grid, lambda count, w, seed: f"labels={count},alpha={w[0]},beta={w[1]},seed={seed}"):
        labelled = balanced_labelled(train.labels, count, train.num_classes, seed)
        torch.manual_seed(seed)
        model = build_model(config.model, tuple(train.images.shape[1:]), train.num_classes, width=config.width or None)
        fixmatch = FixMatch(model, train.images, train.labels, labelled, steps=config.steps, mean=mean.to(device),
                            std=std.to(device), batch_size=config.batch_size, mu=config.mu, threshold=config.threshold,
                            lambda_u=config.lambda_u, mir_weight=alpha, hdr_weight=beta, lr=config.lr,
                            weight_decay=config.weight_decay, ema_decay=config.ema_decay,
                            flip=config.dataset not in NO_FLIP, seed=seed, device=device)
        keys = {"labels": count, "setting": f"α={alpha}, β={beta}", "seed": seed}
        window = []
        for k in range(1, config.steps + 1):
            window.append(fixmatch.step(k))
            if k % config.record_every == 0 or k == config.steps:
                result = probe(fixmatch.eval_model, test_batches)
                confident = [s.pseudo_accuracy for s in window if not math.isnan(s.pseudo_accuracy)]
                records.append(unit, **keys, step=k, **result.as_row(),
                               mask_rate=statistics.fmean(s.mask_rate for s in window),
                               pseudo_accuracy=statistics.fmean(confident) if confident else None,
                               train_loss=statistics.fmean(s.loss for s in window))
                window = []


def report(run_dir: Path, records: Records) -> Path:
    rows = records.rows()
    write_csv(rows, run_dir / "measurements.csv")
    last = max(r["step"] for r in rows)
    final = [r for r in rows if r["step"] == last]
    figures = []
    for count in sorted({r["labels"] for r in rows}):
        subset = [r for r in rows if r["labels"] == count]
        path = run_dir / f"semi_supervised_{count}.png"
        figures.append(band_figure(subset, "step", ["accuracy", "mir", "hdr", "mask_rate", "pseudo_accuracy", "h_z"], path,
                                   group="setting", style_by=None, xlabel=f"step ({count} labels)"))
    return write_page(
        run_dir,
        "MIR/HDR terms in semi-supervised training (FixMatch)",
        [f"Test metrics of the EMA model after {last} steps, mean ± std over seeds; α = 0, β = 0 is FixMatch alone. "
         "Every setting has the same labelled subsets, steps and seeds. mask_rate is the share of unlabelled samples whose "
         "pseudo-label passed the threshold; pseudo_accuracy is their accuracy against the hidden labels (config.json holds "
         "the threshold, μ and the other settings)."],
        [("Final test metrics by label count and setting",
          *summary_table(final, ["labels", "setting"], ["accuracy", "mir", "hdr", "mask_rate", "pseudo_accuracy"]))],
        figures,
    )
