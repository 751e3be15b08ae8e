"""Streaming neural collapse metrics NC1–NC4, CDNV, GNC2 and UNC3."""

from __future__ import annotations

from functools import partial

import torch

from interplay.functional.collapse import (
    CollapseStatistics,
    NeuralCollapseResult,
    _mismatched,
    check_collapse_options,
    collapse_compute,
    kept_classes,
)
from interplay.functional.collapse_moments import ClassMoments, add_moments, batch_moments, merge_packed, pack, unpack
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
    """NC1–NC4, CDNV, GNC2 and UNC3 over a whole data set from centred per-class moments.

    Definitions are in :mod:`interplay.functional.collapse`. The state is one float64 vector of
    per-class counts (C), sums (C, d), the pooled within-class scatter (d, d) and per-class squared
    deviations (C): ``8·(2C + C·d + d²)`` bytes (C = 50,000 and d = 1,024: 400 MiB), plus
    per-class NC4 mismatch counts (C, int64); no (C, d, d) state. Each batch is centred by its own
    class means and merged by Chan et al.'s update, across batches and, through the state's
    reduction, across processes, so NC1 keeps its relative precision near collapse.

    NC4 compares predictions with the nearest class centre, so the centres must be known before
    the pass: pass ``class_means`` (e.g. the training set's from a previous pass); without them
    ``nc4`` is ``None``. Predictions and nearest centres are taken over all C classes.

    ``classes="present"`` and ``min_count`` leave classes out at ``compute`` (see
    :func:`~interplay.functional.collapse.neural_collapse`). A stream cannot take a class's scatter
    back out of the pooled one, so NC1 is NaN when a class left out by ``min_count`` had
    within-class spread (2 or more distinct samples); every other measure is exact.
    ``nc1_per_class`` is ``None`` (it needs each class's covariance, C·d² numbers).

    Args:
        num_classes: number of classes C.
        dim: feature dimension d.
        class_means: optional (C, d) centres for NC4.
        global_mean: ``"classes"`` (mean of the class means) or ``"samples"``.
        classes: ``"all"`` (every class must occur) or ``"present"``.
        min_count: classes with fewer samples are left out of every measure.
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
        global_mean: str = "classes",
        classes: str = "all",
        min_count: int = 1,
        validate_args: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.num_classes = check_num_classes(num_classes)
        self.dim = check_num_classes(dim, "dim", minimum=1)
        check_collapse_options(global_mean, classes, min_count)
        if class_means is not None:
            class_means = check_features(class_means, "class_means", allow_zero_rows=True)
            if class_means.shape != (self.num_classes, self.dim):
                raise InterplayValueError(
                    f"class_means must have shape ({self.num_classes}, {self.dim}); got {tuple(class_means.shape)}."
                )
        self.class_means = class_means
        self.global_mean, self.classes, self.min_count = global_mean, classes, min_count
        self.validate_args = validate_args
        c, d = self.num_classes, self.dim
        empty = pack(ClassMoments(torch.zeros(c), torch.zeros(c, d), torch.zeros(d, d), torch.zeros(c))).double()
        self.add_state("moments", empty, dist_reduce_fx=partial(merge_packed, num_classes=c, dim=d))
        self.add_state("mismatches", torch.zeros(c, dtype=torch.int64), dist_reduce_fx="sum")

    @property
    def counts(self) -> torch.Tensor:
        """Samples seen per class (C,), int64."""
        return unpack(self.moments, self.num_classes, self.dim).counts.long()

    @property
    def sums(self) -> torch.Tensor:
        """Per-class sums of the features (C, d), float64."""
        return unpack(self.moments, self.num_classes, self.dim).sums

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
            if logits is not None and tuple(logits.shape) != (features.shape[0], self.num_classes):
                raise InterplayValueError(
                    f"logits must have shape ({features.shape[0]}, {self.num_classes}), one row per sample; "
                    f"got {tuple(logits.shape)}."
                )
        self._remember_heads(head_weight)
        x = features.detach().double()  # (n, d)
        labels = labels.to(x.device)
        present, batch = batch_moments(x, labels)
        total = unpack(self.moments, self.num_classes, self.dim)
        add_moments(total, present, batch._replace(counts=batch.counts.double()))
        if self.class_means is None:
            return
        weight = head_weight.detach().double()  # (C, d)
        shift = 0 if bias is None else bias.detach().double()

        def logits_of(rows: slice) -> torch.Tensor:
            return x[rows] @ weight.mT + shift if logits is None else logits[rows].detach().double()

        self.mismatches.index_add_(0, labels, _mismatched(x, self.class_means, logits_of).long())

    def compute(self) -> NeuralCollapseResult:
        """All measures over every batch since the last ``reset()``, on all processes."""
        moments = unpack(self.moments, self.num_classes, self.dim)
        moments = moments._replace(counts=moments.counts.long())
        kept = kept_classes(moments.counts, self.classes, self.min_count)
        stats = CollapseStatistics(moments, self.mismatches)
        heads = self._heads_for_compute().to(moments.sums.device, torch.float64)
        return collapse_compute(
            stats, heads, kept=kept, with_nc4=self.class_means is not None, global_mean=self.global_mean
        )[0]
