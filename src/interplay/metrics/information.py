"""Streaming matrix information between representations and heads, at data-set scale."""

from __future__ import annotations

import torch

from interplay.functional.entropy import MAX_EXACT_SIZE
from interplay.functional.interplay import (
    InterplayResult,
    InterplayStatistics,
    check_center,
    interplay_compute,
    interplay_update,
)
from interplay.metrics.heads import HeadsMetric
from interplay.validation import (
    InterplayValueError,
    check_features,
    check_head_weight,
    check_labels,
    check_num_classes,
    check_pairing,
)

__all__ = ["InformationInterplay"]


class InformationInterplay(HeadsMetric):
    """Matrix entropies, mutual information, MIR and HDR over a whole data set, batch by batch.

    The states are fixed-size sums: per-class counts (C,), per-class feature sums (C, d), and for
    sample pairing the per-class second moments of the normalised features (C, d, d), float64,
    i.e. ``8·C·d²`` bytes (21 MB for C = 10, d = 512). ``compute()`` equals
    :func:`interplay.interplay_metrics` on the concatenated batches, and the states sum across
    processes. See :mod:`interplay.functional.interplay` for the exact block construction.

    Args:
        num_classes: number of classes C (rows of the head matrix).
        dim: feature dimension d.
        pairing: ``"sample"`` or ``"class"`` (see :func:`interplay.interplay_metrics`).
        center: for class pairing, ``True`` centres the class means by the global mean. For sample
            pairing the mean must be known before the pass: pass it as a (d,) tensor.
        max_exact_size: largest matrix side to diagonalise in ``compute()``.
        skip_zero_rows: leave out samples whose representation is exactly zero (a dead ReLU
            layer), which cannot be normalised, instead of raising; ``skipped`` counts them.
        validate_args: check every batch (shapes, finiteness, label range); the finiteness
            check synchronises a GPU.

    Example:
        >>> from interplay import simplex_etf, nc_reference
        >>> heads = simplex_etf(5)
        >>> metric = InformationInterplay(5, 5)
        >>> for start in (0, 10):
        ...     labels = torch.arange(start, start + 10) % 5
        ...     metric.update(heads[labels], labels, heads)
        >>> bool(torch.isclose(metric.compute().mir, nc_reference(5).mir))
        True
    """

    is_differentiable = False
    higher_is_better = None
    full_state_update = False

    def __init__(
        self,
        num_classes: int,
        dim: int,
        *,
        pairing: str = "sample",
        center: bool | torch.Tensor = False,
        max_exact_size: int = MAX_EXACT_SIZE,
        skip_zero_rows: bool = False,
        validate_args: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.num_classes = check_num_classes(num_classes)
        self.dim = check_num_classes(dim, "dim", minimum=1)
        self.pairing = check_pairing(pairing)
        self.center = check_center(center, self.dim)
        if self.pairing == "sample" and self.center is True:
            raise InterplayValueError(
                "center=True with pairing='sample' needs the mean of all features before the first batch; "
                "pass center=<(dim,) tensor of the mean> (e.g. from a first pass), or use center=False."
            )
        self.max_exact_size = max_exact_size
        self.skip_zero_rows = skip_zero_rows
        self.validate_args = validate_args
        c, d = self.num_classes, self.dim
        self.add_state("skipped", torch.zeros((), dtype=torch.int64), dist_reduce_fx="sum")
        self.add_state("counts", torch.zeros(c, dtype=torch.int64), dist_reduce_fx="sum")
        self.add_state("sums", torch.zeros(c, d, dtype=torch.float64), dist_reduce_fx="sum")
        if self.pairing == "sample":
            self.add_state("second", torch.zeros(c, d, d, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, features: torch.Tensor, labels: torch.Tensor, head_weight: torch.Tensor) -> None:
        """Add a batch: features (n, d), labels (n,), head_weight (C, d) of the final linear layer."""
        if self.validate_args:
            features = check_features(features, "features", min_samples=1, allow_zero_rows=self.skip_zero_rows)
            head_weight = check_head_weight(head_weight, self.dim)
            labels = check_labels(labels, features.shape[0], self.num_classes)
            if head_weight.shape[0] != self.num_classes:
                raise InterplayValueError(
                    f"head_weight must have num_classes={self.num_classes} rows; got {head_weight.shape[0]}."
                )
        self._remember_heads(head_weight)
        if self.skip_zero_rows:
            keep = (features != 0).any(dim=1)  # (n,)
            self.skipped += (~keep).sum()
            features, labels = features[keep], labels[keep]
        stats = interplay_update(
            features.detach(), labels, self.num_classes, pairing=self.pairing, center=self.center, dtype=torch.float64
        )
        self.counts += stats.counts
        self.sums += stats.sums
        if stats.second is not None:
            self.second += stats.second

    def compute(self) -> InterplayResult:
        """The result over every batch since the last ``reset()``, on all processes."""
        stats = InterplayStatistics(self.counts, self.sums, getattr(self, "second", None))
        return interplay_compute(
            stats,
            self._heads_for_compute(),
            pairing=self.pairing,
            center=self.center is not False,
            max_exact_size=self.max_exact_size,
        )
