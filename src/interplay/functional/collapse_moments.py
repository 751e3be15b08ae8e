"""Per-class moments for the neural collapse metrics, centred so that they keep their precision.

The moments of C classes in d dimensions are: counts ``n_c`` (C,), sums ``S_c = Σ_{i∈c} z_i``
(C, d), the pooled within-class scatter ``W = Σ_i (z_i − μ_{y_i})(z_i − μ_{y_i})ᵀ`` (d, d) and the
per-class sums of squared deviations ``D_c = Σ_{i∈c} ‖z_i − μ_c‖²`` (C,), with ``μ_c = S_c / n_c``.

Near collapse the within-class spread is many orders of magnitude below the class means
(means ~1e2, spread ~1e-7), and ``Σ z zᵀ − Σ_c n_c μ_c μ_cᵀ`` would cancel every significant digit
of W. So each batch is centred by its own class means before any product, and batches (or
processes) are combined by Chan et al.'s (1979) pairwise update,
``W = Σ_p W_p + Σ_p Σ_c n_pc (μ_pc − μ_c)(μ_pc − μ_c)ᵀ``, whose correction involves only
differences of nearby means.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

__all__ = ["ClassMoments", "batch_moments", "add_moments", "merge_packed", "pack", "unpack"]


class ClassMoments(NamedTuple):
    """counts (C,) int64, sums (C, d), within-class scatter W (d, d), squared deviations D (C,)."""

    counts: torch.Tensor
    sums: torch.Tensor
    within: torch.Tensor
    deviations: torch.Tensor


def batch_moments(features: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, ClassMoments]:
    """The classes present in a batch (k,) and their moments, each class centred by its own batch mean.

    Example:
        >>> classes, m = batch_moments(torch.tensor([[1.0], [3.0], [5.0]]), torch.tensor([2, 2, 0]))
        >>> classes.tolist(), m.counts.tolist(), m.within.item(), m.deviations.tolist()
        ([0, 2], [1, 2], 2.0, [0.0, 2.0])
    """
    classes, local = torch.unique(labels, return_inverse=True)  # (k,), (n,)
    k = classes.shape[0]
    counts = torch.bincount(local, minlength=k)  # (k,)
    sums = features.new_zeros(k, features.shape[1]).index_add(0, local, features)  # (k, d)
    centred = features - (sums / counts[:, None].to(features.dtype))[local]  # (n, d)
    deviations = features.new_zeros(k).index_add(0, local, centred.square().sum(1))  # (k,)
    return classes, ClassMoments(counts, sums, centred.mT @ centred, deviations)


def add_moments(total: ClassMoments, classes: torch.Tensor, batch: ClassMoments) -> None:
    """Merge a batch's moments of ``classes`` into ``total`` in place (Chan et al.'s update)."""
    n_a = total.counts[classes]  # (k,)
    n_b = batch.counts
    seen = n_a > 0
    if bool(seen.any()):
        a, b = n_a[seen].to(batch.sums.dtype), n_b[seen].to(batch.sums.dtype)
        delta = batch.sums[seen] / b[:, None] - total.sums[classes[seen]] / a[:, None]  # (k', d)
        weight = a * b / (a + b)  # (k',)
        total.within.add_((delta * weight[:, None]).mT @ delta)
        total.deviations.index_add_(0, classes[seen], weight * delta.square().sum(1))
    total.within.add_(batch.within)
    total.deviations.index_add_(0, classes, batch.deviations)
    total.counts.index_add_(0, classes, n_b)
    total.sums.index_add_(0, classes, batch.sums)


def pack(moments: ClassMoments) -> torch.Tensor:
    """All moments in one float64 vector of length ``C + C·d + d² + C`` (counts exact below 2⁵³)."""
    counts, sums, within, deviations = moments
    return torch.cat([counts.to(sums.dtype), sums.flatten(), within.flatten(), deviations])


def unpack(flat: torch.Tensor, num_classes: int, dim: int) -> ClassMoments:
    """Views into a packed vector: writing to them writes into ``flat``; ``counts`` is a float64 view."""
    c, d = num_classes, dim
    ends = (c, c + c * d, c + c * d + d * d)
    return ClassMoments(
        flat[: ends[0]], flat[ends[0] : ends[1]].view(c, d), flat[ends[1] : ends[2]].view(d, d), flat[ends[2] :]
    )


def merge_packed(stacked: torch.Tensor, num_classes: int, dim: int) -> torch.Tensor:
    """Merge P packed moments (P, L) into one (L,): the P-way form of Chan et al.'s update.

    Example:
        >>> x, y = torch.tensor([[1.0], [2.0], [4.0], [8.0]]), torch.tensor([0, 0, 0, 0])
        >>> parts = [pack(batch_moments(x[s], y[s])[1]) for s in (slice(0, 1), slice(1, 4))]
        >>> unpack(merge_packed(torch.stack(parts), 1, 1), 1, 1).within.item()
        28.75
    """
    parts = [unpack(row, num_classes, dim) for row in stacked]
    counts = sum(p.counts for p in parts)  # (C,)
    sums = sum(p.sums for p in parts)  # (C, d)
    means = sums / counts.clamp_min(1)[:, None]  # (C, d)
    within = sum(p.within for p in parts)  # (d, d)
    deviations = sum(p.deviations for p in parts)  # (C,)
    for p in parts:
        # Classes seen by this part and another: only they have a between-part spread.
        rows = torch.nonzero((p.counts > 0) & (p.counts < counts)).flatten()
        delta = p.sums[rows] / p.counts[rows, None] - means[rows]  # (k, d)
        within = within + (delta * p.counts[rows, None]).mT @ delta
        deviations = deviations.index_add(0, rows, p.counts[rows] * delta.square().sum(1))
    return pack(ClassMoments(counts, sums, within, deviations))
