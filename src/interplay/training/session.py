"""One training run in memory: data, model, optimiser, an epoch of training and an evaluation.

``interplay train`` drives a session epoch by epoch into a run folder; the experiments drive
several sessions with their own configs. Data order depends only on the seed and the epoch.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from interplay.config import TrainConfig
from interplay.data import ImageDataset, balanced_subset, load_dataset
from interplay.functional.closed_form import entropy_at_collapse, mir_at_collapse
from interplay.losses import InterplayLoss
from interplay.models import build_model
from interplay.probing import ProbeResult, probe, tap_features
from interplay.processes import Context, resolve_device
from interplay.validation import ExactSizeError, InterplayValueError

__all__ = ["Session", "TensorBatches"]

# Fewer samples per class than this make MIR and HDR estimates meaningless (five samples of ten
# classes give MIR 0.99, above its value at collapse).
MIN_SAMPLES_PER_CLASS = 10


class TensorBatches:
    """Re-iterable batches of ``images[indices]`` and ``labels[indices]``, moved to ``device``."""

    def __init__(self, images, labels, indices, batch_size, device) -> None:
        self.images, self.labels, self.indices = images, labels, indices
        self.batch_size, self.device = batch_size, device

    def __iter__(self):
        for start in range(0, len(self.indices), self.batch_size):
            part = self.indices[start : start + self.batch_size]
            yield self.images[part].to(self.device, non_blocking=True), self.labels[part].to(self.device, non_blocking=True)


def _lr_factor(config: TrainConfig, epoch: int) -> float:
    """Learning-rate multiplier during ``epoch`` (1-based)."""
    progress = (epoch - 1) / config.epochs
    if config.schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * progress))
    if config.schedule == "step":
        return 0.1 ** ((progress >= 0.5) + (progress >= 0.75))
    return 1.0


def _optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    kind = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
    return kind(model.parameters(), config.lr, betas=(config.momentum, 0.999), weight_decay=config.weight_decay)


def _rank_slices(order: torch.Tensor, batch_size: int, context: Context) -> torch.Tensor:
    """This process's part of each global batch, concatenated: with equal parts, the averaged
    gradients of the processes equal the gradient of the global batch."""
    # A last batch smaller than the number of processes is dropped: a process without a batch
    # would wait forever in the gradient all-reduce.
    starts = [s for s in range(0, len(order), batch_size) if len(order) - s >= context.world]
    return torch.cat([context.shard(order[s : s + batch_size]) for s in starts])


def _check_evaluation_sizes(config: TrainConfig, train_set: ImageDataset) -> None:
    """Refuse a training subset that leaves a class out: its class means, NC1 and MIR would be meaningless."""
    subset = config.train_eval_samples
    if not subset:
        return
    order = torch.randperm(len(train_set.labels), generator=torch.Generator().manual_seed(config.seed))
    missing = set(range(train_set.num_classes)) - set(train_set.labels[order[:subset]].tolist())
    if missing:
        raise InterplayValueError(
            f"train_eval_samples={subset} leaves {len(missing)} of the {train_set.num_classes} classes out of the seeded "
            f"training subset; pass --train-eval-samples {MIN_SAMPLES_PER_CLASS * train_set.num_classes} or more (0 = all)."
        )


def _exact_side(n: int, dim: int, num_classes: int, pairing: str) -> int:
    """Side of the smallest exact eigenproblem of MIR and HDR over ``n`` samples of ``dim``-dimensional
    features of full rank and ``num_classes`` heads.

    Class pairing diagonalises C×C Grams. Sample pairing takes the n×n Gram or the class blocks of
    side d·min(C, d), whichever is smaller: the rule of ``method="auto"``. Lower-rank features
    (near collapse) may shrink the blocks, never beyond this bound.

    Example:
        >>> _exact_side(359, 32, 10, "sample"), _exact_side(100, 32, 10, "sample"), _exact_side(359, 32, 10, "class")
        (320, 100, 10)
    """
    if pairing == "class":
        return min(num_classes, dim * dim)
    return min(n, dim * min(num_classes, dim))


def _check_exact_sizes(config: TrainConfig, sizes: dict[str, int], dim: int, num_classes: int) -> None:
    """Refuse, before training, an exact computation that cannot fit ``max_exact_size``: it would
    record NaN at every evaluation. Class pairing has no estimator, so it is always exact."""
    for split, n in sizes.items():
        side = _exact_side(n, dim, num_classes, config.pairing)
        if side <= config.max_exact_size or (config.pairing == "sample" and config.method != "exact"):
            continue
        name = {"train": "training", "test": "test"}[split]
        instead = "" if config.pairing == "class" else (
            ", or --method auto to estimate MIR beyond it (with a standard error in the se_* columns)")
        raise ExactSizeError(
            f"the exact MIR and HDR of the {name} split ({n} samples, {dim}-dimensional features, {num_classes} classes, "
            f"{config.pairing} pairing) need an eigenproblem of side {side} > max_exact_size={config.max_exact_size}; "
            f"pass --max-exact-size {side}{instead}."
        )


@dataclass
class Session:
    """Data, model and optimiser of one run; build it with :meth:`create`."""

    config: TrainConfig
    train_set: ImageDataset
    test_set: ImageDataset
    images: dict[str, torch.Tensor]
    model: nn.Module
    optimizer: torch.optim.Optimizer
    device: torch.device
    context: Context = field(default_factory=Context)

    @classmethod
    def create(cls, config: TrainConfig, device: torch.device | str | None = None, context: Context | None = None) -> "Session":
        """Load the data (standardised by the training set's channel statistics) and build the model.

        ``device=None`` takes ``config.device`` (``auto``: CUDA when present).
        """
        context = context or Context()
        device = resolve_device(config.device, context) if device is None else torch.device(device)
        data_dir = config.data_dir
        train_set = load_dataset(config.dataset, data_dir=data_dir, split="train", download=config.download)
        test_set = load_dataset(config.dataset, data_dir=data_dir, split="test", download=config.download)
        if config.per_class:
            chosen = balanced_subset(train_set.labels, config.per_class, seed=0)
            train_set = ImageDataset(train_set.name, train_set.images[chosen], train_set.labels[chosen], train_set.classes)
        _check_evaluation_sizes(config, train_set)
        mean, std = train_set.channel_stats()
        images = {"train": train_set.standardize(mean, std), "test": test_set.standardize(mean, std)}
        torch.manual_seed(config.seed)
        model = build_model(config.model, tuple(images["train"].shape[1:]), train_set.num_classes, width=config.width or None)
        model = model.to(device)
        session = cls(config, train_set, test_set, images, model, _optimizer(config, model), device, context)
        sizes = {split: len(indices) for split, indices in session.evaluation_indices().items()}
        _check_exact_sizes(config, sizes, model.head.in_features, train_set.num_classes)
        return session

    @property
    def num_classes(self) -> int:
        return self.train_set.num_classes

    @property
    def steps_per_epoch(self) -> int:
        """Optimiser steps in one epoch (the last batch may be smaller)."""
        return len(range(0, len(self.train_set.labels), self.config.batch_size))

    def train_epoch(self, epoch: int, model: nn.Module | None = None, loss_fn: nn.Module | None = None, *,
                    steps: range | None = None) -> float:
        """One epoch of ``model`` (default: the session's; pass a DDP wrapper of it) at the
        scheduled learning rate; returns the seconds it took.

        ``steps`` trains only those steps (0-based, within the epoch) of the epoch's data order,
        so a run can be split inside an epoch and continued where it stopped."""
        config, model = self.config, model or self.model
        loss_fn = loss_fn or nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
        for group in self.optimizer.param_groups:
            group["lr"] = config.lr * _lr_factor(config, epoch)
        labels = self.train_set.labels
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(config.seed * 100_003 + epoch))
        per_rank = max(1, config.batch_size // self.context.world)
        indices = _rank_slices(order, config.batch_size, self.context)
        if steps is not None:
            indices = indices[steps.start * per_rank : steps.stop * per_rank]
        batches = TensorBatches(self.images["train"], labels, indices, per_rank, self.device)
        autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda")
        interplay_loss = None
        if config.mir_weight or config.hdr_weight:
            interplay_loss = InterplayLoss(config.mir_weight, config.hdr_weight, center=config.loss_center,
                                           detach_heads=config.loss_detach_heads, dtype=torch.float32, validate_args=False)
        model.train()
        began = time.perf_counter()
        for images, targets in batches:
            with autocast, tap_features(self.model.head, detach=False) as seen:
                loss = loss_fn(model(self.train_set.augment(images)), targets)
            if interplay_loss is not None:
                loss = loss + interplay_loss(seen.pop(), targets, self.model.head.weight)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        return time.perf_counter() - began

    def evaluate(self, model: nn.Module | None = None) -> dict[str, ProbeResult]:
        """Probe the model on the seeded training subset and the whole test set.

        NC4 of the test set uses the class means of the training subset; with ``center`` both splits
        are centred by its mean (of the live samples, those the information metrics measure). A metric that cannot be
        computed (e.g. MIR of a rank-one Gram) is NaN, and ``ProbeResult.warnings`` says why.
        """
        config, model = self.config, model or self.model
        indices = self.evaluation_indices()
        labels = {"train": self.train_set.labels, "test": self.test_set.labels}
        results, class_means, center = {}, None, config.center
        for split in ("train", "test"):
            loader = TensorBatches(self.images[split], labels[split], self.context.shard(indices[split]), config.eval_batch_size, self.device)
            # Storage and path follow the metric's one rule: it keeps the rows while the n×n path can use them.
            results[split] = probe(model, loader, pairing=config.pairing, center=center, class_means=class_means,
                                   max_exact_size=config.max_exact_size, method=config.method, tolerance=config.tolerance,
                                   seed=config.seed, undefined="nan")
            class_means = results["train"].class_means
            # The test split is centred by the training subset's mean, not by its own.
            center = results["train"].live_mean if config.center else False
        return results

    def evaluation_indices(self) -> dict[str, torch.Tensor]:
        """The samples every evaluation reads: the seeded training subset and the whole test set."""
        order = torch.randperm(len(self.train_set.labels), generator=torch.Generator().manual_seed(self.config.seed))
        return {"train": order[: self.config.train_eval_samples or None], "test": torch.arange(len(self.test_set.labels))}

    def reference(self) -> dict[str, float]:
        """MIR and entropy at neural collapse for the class count (empty for two classes)."""
        if self.num_classes < 3:
            return {}
        return {"mir_nc": float(mir_at_collapse(self.num_classes)), "h_nc": float(entropy_at_collapse(self.num_classes))}

    def ddp(self) -> nn.Module:
        """The model wrapped for data-parallel training when there are several processes."""
        return DistributedDataParallel(self.model) if self.context.world > 1 else self.model
