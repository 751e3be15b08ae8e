"""FixMatch (Sohn et al. 2020), optionally with MIR/HDR terms on confidently pseudo-labelled samples.

Each step draws ``batch_size`` labelled images and ``mu × batch_size`` unlabelled ones (the whole
training set, labels hidden), with replacement. The labelled images and one weak view of the
unlabelled ones (flip and translation) are classified; the prediction on the weak view is a
pseudo-label where its confidence reaches ``threshold``, and the strong view (weak, then
RandAugment and Cutout) is trained toward it. The MIR/HDR terms (arXiv 2406.03999) use the
representations of the confident strong views with their pseudo-labels' heads. SGD with Nesterov
momentum, learning rate ``lr · cos(7πk / 16K)``, and an exponential moving average of the weights
(buffers included) is the model that is evaluated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from interplay.data.augment import crop_and_flip, rand_augment
from interplay.losses import InterplayLoss
from interplay.probing import tap_features
from interplay.validation import InterplayValueError, check_scalar

__all__ = ["FixMatch", "balanced_labelled"]


def balanced_labelled(labels: torch.Tensor, count: int, num_classes: int, seed: int) -> torch.Tensor:
    """Indices of ``count`` labelled samples, ``count / num_classes`` of each class, drawn with ``seed``.

    Example:
        >>> labels = torch.arange(20) % 4
        >>> chosen = balanced_labelled(labels, 8, 4, seed=0)
        >>> torch.bincount(labels[chosen]).tolist()
        [2, 2, 2, 2]
    """
    check_scalar(count, "the label count", minimum=1)
    if count > len(labels):
        raise InterplayValueError(f"the label count {count} is larger than the data set ({len(labels)} samples).")
    per_class, rest = divmod(count, num_classes)
    if rest:
        raise InterplayValueError(f"the label count {count} is not divisible by the {num_classes} classes; use a multiple of {num_classes}.")
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for c in range(num_classes):
        members = torch.nonzero(labels == c).flatten()
        if len(members) < per_class:
            raise InterplayValueError(f"class {c} has {len(members)} samples, fewer than the {per_class} labels asked per class.")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.cat(chosen)


@dataclass
class StepStats:
    """What one step measured: its losses, the share of confident pseudo-labels and their accuracy."""

    loss: float
    supervised: float
    unsupervised: float
    mask_rate: float
    pseudo_accuracy: float  # on the confident samples, against the hidden labels; nan when none


class FixMatch:
    """The state of one FixMatch run: model, EMA model, optimiser and sampling generator.

    Images are the raw training images in [0, 1]; ``mean`` and ``std`` standardise them after
    augmentation. ``labelled`` holds the indices whose labels may be used.

    Example:
        >>> from interplay.models import build_model
        >>> torch.manual_seed(0) and None
        >>> images, labels = torch.rand(40, 1, 8, 8), torch.arange(40) % 4
        >>> run = FixMatch(build_model("mlp", (1, 8, 8), 4, width=16), images, labels, balanced_labelled(labels, 8, 4, 0),
        ...                steps=3, batch_size=4, mu=2, threshold=0.0)
        >>> stats = run.step(1)
        >>> stats.mask_rate
        1.0
    """

    def __init__(self, model: nn.Module, images: torch.Tensor, labels: torch.Tensor, labelled: torch.Tensor, *, steps: int,
                 mean: torch.Tensor | float = 0.0, std: torch.Tensor | float = 1.0, batch_size: int = 64, mu: int = 7,
                 threshold: float = 0.95, lambda_u: float = 1.0, mir_weight: float = 0.0, hdr_weight: float = 0.0,
                 lr: float = 0.03, momentum: float = 0.9, weight_decay: float = 5e-4, ema_decay: float = 0.999,
                 flip: bool = True, seed: int = 0, device: torch.device | str = "cpu") -> None:
        if not 0 <= threshold <= 1:
            raise InterplayValueError(f"threshold must lie in [0, 1]; got {threshold}.")
        for value, name in ((mu, "mu"), (batch_size, "batch_size"), (steps, "steps")):
            check_scalar(value, name, minimum=1)
        if not 0 <= ema_decay < 1:
            raise InterplayValueError(f"ema_decay must lie in [0, 1); got {ema_decay}.")
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.ema = AveragedModel(self.model, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True)
        self.images, self.labels, self.labelled = images, labels, labelled
        self.mean, self.std = mean, std
        self.steps, self.batch_size, self.mu, self.threshold, self.lambda_u = steps, batch_size, mu, threshold, lambda_u
        self.flip, self.lr = flip, lr
        self.pad = max(1, round(0.125 * images.shape[-1]))  # translations of up to 12.5 %
        self.interplay = InterplayLoss(mir_weight, hdr_weight, dtype=torch.float32, validate_args=False) if mir_weight or hdr_weight else None
        no_decay = [p for n, p in self.model.named_parameters() if n.endswith("bias") or p.ndim == 1]
        decay = [p for n, p in self.model.named_parameters() if not (n.endswith("bias") or p.ndim == 1)]
        self.optimizer = torch.optim.SGD([{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                                         lr=lr, momentum=momentum, nesterov=True)
        self.generator = torch.Generator().manual_seed(seed)

    def _standardize(self, images: torch.Tensor) -> torch.Tensor:
        return (images - self.mean) / self.std

    def _weak(self, images: torch.Tensor) -> torch.Tensor:
        return crop_and_flip(images, self.pad, flip=self.flip, mode="reflect")

    def step(self, k: int) -> StepStats:
        """Step ``k`` (1-based) of ``steps``: one update of the model and of its EMA."""
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr * math.cos(7 * math.pi * (k - 1) / (16 * self.steps))
        pick = self.labelled[torch.randint(len(self.labelled), (self.batch_size,), generator=self.generator)]
        unlabelled = torch.randint(len(self.labels), (self.mu * self.batch_size,), generator=self.generator)
        x, y = self.images[pick].to(self.device), self.labels[pick].to(self.device)
        u, hidden = self.images[unlabelled].to(self.device), self.labels[unlabelled].to(self.device)
        u_weak = self._weak(u)
        batch = torch.cat([self._weak(x), u_weak, rand_augment(self._weak(u))])
        self.model.train()
        with tap_features(self.model.head, detach=False) as seen:
            logits = self.model(self._standardize(batch))
        features = seen.pop()
        n, m = len(pick), len(unlabelled)
        supervised = nn.functional.cross_entropy(logits[:n], y)
        confidence, pseudo = torch.softmax(logits[n : n + m].detach(), dim=1).max(dim=1)
        mask = confidence >= self.threshold
        per_sample = nn.functional.cross_entropy(logits[n + m :], pseudo, reduction="none")
        unsupervised = (per_sample * mask).mean()
        loss = supervised + self.lambda_u * unsupervised
        if self.interplay is not None:
            # Boolean indexing synchronises once per step; the loss itself gives 0 for one class.
            loss = loss + self.interplay(features[n + m :][mask], pseudo[mask], self.model.head.weight)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.ema.update_parameters(self.model)
        confident = int(mask.sum())
        accuracy = float((pseudo[mask] == hidden[mask]).float().mean()) if confident else float("nan")
        return StepStats(float(loss.detach()), float(supervised.detach()), float(unsupervised.detach()), confident / m, accuracy)

    @property
    def eval_model(self) -> nn.Module:
        """The EMA model, the one FixMatch evaluates."""
        return self.ema.module
