"""``interplay train``: supervised training that records the information dynamics as it goes.

The run folder holds ``config.json`` (resolved config, versions, how the metrics are estimated),
``metrics.csv`` (one row per split and evaluation, appended as produced), ``checkpoint.pt``
(written atomically after every epoch) and the report. Data order depends only on the seed and
the epoch, so a run resumed from its last checkpoint ends where an uninterrupted one would.
"""

from __future__ import annotations

import dataclasses
import json
import math
import platform
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

import interplay
from interplay.config import TrainConfig
from interplay.data import load_dataset
from interplay.functional.closed_form import entropy_at_collapse, mir_at_collapse
from interplay.models import build_model
from interplay.probing import probe
from interplay.training.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_atomic
from interplay.training.distributed import Context, setup
from interplay.training.records import MetricsLog
from interplay.validation import InterplayValueError

__all__ = ["train", "RunError", "TensorBatches"]


class RunError(InterplayValueError):
    """A run folder cannot be used as asked (exists, belongs to another config, has no checkpoint)."""


class TensorBatches:
    """Re-iterable batches of ``images[indices]`` and ``labels[indices]``, moved to ``device``."""

    def __init__(self, images, labels, indices, batch_size, device) -> None:
        self.images, self.labels, self.indices = images, labels, indices
        self.batch_size, self.device = batch_size, device

    def __iter__(self):
        for start in range(0, len(self.indices), self.batch_size):
            part = self.indices[start : start + self.batch_size]
            yield self.images[part].to(self.device, non_blocking=True), self.labels[part].to(self.device, non_blocking=True)


def _optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    kind = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
    return kind(model.parameters(), config.lr, betas=(config.momentum, 0.999), weight_decay=config.weight_decay)


def _lr_factor(config: TrainConfig, epoch: int) -> float:
    """Learning-rate multiplier during ``epoch`` (1-based)."""
    progress = (epoch - 1) / config.epochs
    if config.schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * progress))
    if config.schedule == "step":
        return 0.1 ** ((progress >= 0.5) + (progress >= 0.75))
    return 1.0


def _information_samples(config: TrainConfig, dim: int, num_classes: int) -> int | None:
    """``None`` when the exact streaming path fits in ``max_exact_size``, else a subsample size."""
    if config.pairing == "class" or dim * min(num_classes, dim) <= config.max_exact_size:
        return None
    return config.max_exact_size


def _metadata(config: TrainConfig, estimate: int | None, num_classes: int, world: int) -> dict:
    return {
        "config": dataclasses.asdict(config),
        "digest": config.digest(),
        "num_classes": num_classes,
        "processes": world,
        "information_estimate": "exact (streaming class blocks)" if estimate is None else (
            f"one-shot exact value on the first {estimate} samples of each evaluated split "
            f"(the training subset is seeded by seed={config.seed}); the exact path exceeds max_exact_size"
        ),
        "versions": {"interplay": interplay.__version__, "torch": torch.__version__, "python": platform.python_version()},
    }


def _check_run_dir(run_dir: Path, config: TrainConfig, resume: bool, overwrite: bool) -> None:
    stored = run_dir / "config.json"
    if resume:
        if not (run_dir / CHECKPOINT_NAME).is_file() or not stored.is_file():
            raise RunError(f"cannot resume {run_dir}: it has no config.json and checkpoint.pt; start it without --resume.")
        theirs = json.loads(stored.read_text())["digest"]
        if theirs != config.digest():
            raise RunError(f"cannot resume {run_dir}: it was made with another config (digest {theirs}, now {config.digest()}).")
    elif stored.exists() and not overwrite:
        raise RunError(f"run folder {run_dir} already holds a run; pass --resume {run_dir} to continue it or --overwrite to replace it.")
    elif overwrite:
        for name in ("config.json", "metrics.csv", CHECKPOINT_NAME):
            (run_dir / name).unlink(missing_ok=True)


def train(config: TrainConfig, run_dir: str | Path, *, resume: bool = False, overwrite: bool = False) -> Path:
    """Train ``config`` into ``run_dir``, recording the metrics; returns the run folder.

    Example:
        >>> import tempfile
        >>> run = train(TrainConfig(epochs=1, train_eval_samples=200), tempfile.mkdtemp())  # doctest: +SKIP
    """
    context, device = setup(config.device)
    run_dir = Path(run_dir)
    if context.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        _check_run_dir(run_dir, config, resume, overwrite)
    data_dir = config.resolved_data_dir
    train_set = load_dataset(config.dataset, data_dir=data_dir, split="train", download=config.download)
    test_set = load_dataset(config.dataset, data_dir=data_dir, split="test", download=config.download)
    mean, std = train_set.channel_stats()
    train_images, test_images = train_set.standardize(mean, std), test_set.standardize(mean, std)
    num_classes = train_set.num_classes

    torch.manual_seed(config.seed)
    model = build_model(config.model, tuple(train_images.shape[1:]), num_classes, width=config.width or None).to(device)
    optimizer = _optimizer(config, model)
    start, elapsed = 0, 0.0
    if resume:
        state = load_checkpoint(run_dir / CHECKPOINT_NAME)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start, elapsed = state["epoch"], state["elapsed"]
    wrapped = DistributedDataParallel(model) if context.world > 1 else model
    estimate = _information_samples(config, model.head.in_features, num_classes)
    log = MetricsLog(run_dir / "metrics.csv")
    if context.is_main:
        (run_dir / "config.json").write_text(json.dumps(_metadata(config, estimate, num_classes, context.world), indent=2))
        log.truncate_after(start)
    eval_order = torch.randperm(len(train_set.labels), generator=torch.Generator().manual_seed(config.seed))
    train_eval = eval_order[: config.train_eval_samples or None]
    splits = {"train": (train_images, train_set.labels, train_eval), "test": (test_images, test_set.labels, torch.arange(len(test_set.labels)))}

    def record(epoch: int, elapsed: float) -> None:
        reference = {"mir_nc": float(mir_at_collapse(num_classes)), "h_nc": float(entropy_at_collapse(num_classes))} if num_classes >= 3 else {}
        class_means = None
        for split, (images, labels, indices) in splits.items():
            loader = TensorBatches(images, labels, context.shard(indices), config.eval_batch_size, device)
            began = time.perf_counter()
            result = probe(model, loader, pairing=config.pairing, center=config.center, class_means=class_means,
                           max_exact_size=config.max_exact_size, information_samples=estimate)
            class_means = result.class_means  # NC4 of the test set uses the training class means
            row = {"epoch": epoch, "split": split, "lr": optimizer.param_groups[0]["lr"], "train_time": round(elapsed, 3),
                   "eval_time": round(time.perf_counter() - began, 3)}
            if context.is_main:
                log.append(row | result.as_row() | reference)

    if start == 0:
        record(0, elapsed)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    epochs = tqdm(range(start + 1, config.epochs + 1), desc="epochs", initial=start, total=config.epochs, disable=not context.is_main or None)
    for epoch in epochs:
        for group in optimizer.param_groups:
            group["lr"] = config.lr * _lr_factor(config, epoch)
        order = torch.randperm(len(train_set.labels), generator=torch.Generator().manual_seed(config.seed * 100_003 + epoch))
        wrapped.train()
        began = time.perf_counter()
        for images, labels in TensorBatches(train_images, train_set.labels, _rank_slices(order, config.batch_size, context), config.batch_size // context.world or 1, device):
            with autocast:
                loss = loss_fn(wrapped(train_set.augment(images)), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        elapsed += time.perf_counter() - began
        epochs.set_postfix(loss=f"{float(loss.detach()):.3f}")
        if epoch % config.record_every == 0 or epoch == config.epochs:
            record(epoch, elapsed)
        if context.is_main:
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch, "elapsed": elapsed}
            save_atomic(state, run_dir / CHECKPOINT_NAME)
    return run_dir


def _rank_slices(order: torch.Tensor, batch_size: int, context: Context) -> torch.Tensor:
    """This process's part of each global batch, concatenated: with equal parts, the averaged
    gradients of the processes equal the gradient of the global batch."""
    # A last batch smaller than the number of processes is dropped: a process without a batch
    # would wait forever in the gradient all-reduce.
    starts = [s for s in range(0, len(order), batch_size) if len(order) - s >= context.world]
    return torch.cat([context.shard(order[s : s + batch_size]) for s in starts])
