"""Streaming neural collapse metrics NC1–NC4."""

from __future__ import annotations

import torch

from interplay.functional.collapse import (
    CollapseStatistics,
    NeuralCollapseResult,
    collapse_compute,
    collapse_update,
)
from interplay.metrics.heads import HeadsMetric
from interplay.validation import (
    InterplayValueError,
    check_bias,
    check_features,
    check_head_weight,
    check_labels,
    check_num_classes,
)

__all__ = ["NeuralCollapse"]


class NeuralCollapse(HeadsMetric):
    """NC1–NC4 over a whole data set from per-class counts and sums and one pooled second moment.

    Definitions are in :mod:`interplay.functional.collapse`. The states are fixed-size sums:
    counts (C,), class sums (C, d), the pooled second moment (d, d) in float64, and a mismatch
    count. NC4 compares predictions with the nearest class centre, so the centres must be known
    before the pass: pass ``class_means`` (e.g. the training set's from a previous pass);
    without them ``nc4`` is ``None``.

    Args:
        num_classes: number of classes C.
        dim: feature dimension d.
        class_means: optional (C, d) centres for NC4.
        validate_args: check every batch.

    Example:
        >>> from interplay import simplex_etf
        >>> heads = simplex_etf(3)
        >>> metric = NeuralCollapse(3, 3)
        >>> labels = torch.tensor([0, 1, 2, 0, 1, 2])
        >>> metric.update(heads[labels], labels, heads)
        >>> abs(round(float(metric.compute().nc3), 6))
        0.0
    """

    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    def __init__(
        self,
        num_classes: int,
        dim: int,
        *,
        class_means: torch.Tensor | None = None,
        validate_args: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.num_classes = check_num_classes(num_classes)
        self.dim = check_num_classes(dim, "dim", minimum=1)
        if class_means is not None:
            class_means = check_features(class_means, "class_means", allow_zero_rows=True)
            if class_means.shape != (self.num_classes, self.dim):
                raise InterplayValueError(
                    f"class_means must have shape ({self.num_classes}, {self.dim}); got {tuple(class_means.shape)}."
                )
        self.class_means = class_means
        self.validate_args = validate_args
        c, d = self.num_classes, self.dim
        self.add_state("counts", torch.zeros(c, dtype=torch.int64), dist_reduce_fx="sum")
        self.add_state("sums", torch.zeros(c, d, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("second", torch.zeros(d, d, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("mismatches", torch.zeros((), dtype=torch.int64), dist_reduce_fx="sum")

    def update(
        self,
        features: torch.Tensor,
        labels: torch.Tensor,
        head_weight: torch.Tensor,
        bias: torch.Tensor | None = None,
        *,
        logits: torch.Tensor | None = None,
    ) -> None:
        """Add a batch: features (n, d), labels (n,), the final layer's weight (C, d) and bias (C,).

        NC4 takes the classifier's predictions from ``logits`` (n, C) when given (e.g. the output
        of a cosine classifier), else from ``features @ weight.T + bias``.
        """
        if self.validate_args:
            features = check_features(features, "features", min_samples=1, allow_zero_rows=True)
            head_weight = check_head_weight(head_weight, self.dim)
            labels = check_labels(labels, features.shape[0], self.num_classes)
            if head_weight.shape[0] != self.num_classes:
                raise InterplayValueError(
                    f"head_weight must have num_classes={self.num_classes} rows; got {head_weight.shape[0]}."
                )
            if bias is not None:
                bias = check_bias(bias, self.num_classes)
        self._remember_heads(head_weight)
        x = features.detach().double()  # (n, d)
        if logits is not None:
            if self.validate_args and tuple(logits.shape) != (x.shape[0], self.num_classes):
                raise InterplayValueError(
                    f"logits must have shape ({x.shape[0]}, {self.num_classes}), one row per sample; got {tuple(logits.shape)}."
                )
            logits = logits.detach().double()
        elif self.class_means is not None:
            logits = x @ head_weight.detach().double().mT  # (n, C)
            logits = logits if bias is None else logits + bias.detach().double()
        stats = collapse_update(
            x, labels, self.num_classes, dtype=torch.float64, logits=logits, class_means=self.class_means
        )
        self.counts += stats.counts
        self.sums += stats.sums
        self.second += stats.second
        self.mismatches += stats.mismatches

    def compute(self) -> NeuralCollapseResult:
        """NC1–NC4 over every batch since the last ``reset()``, on all processes."""
        stats = CollapseStatistics(self.counts, self.sums, self.second, self.mismatches)
        return collapse_compute(stats, self._heads_for_compute(), with_nc4=self.class_means is not None)
