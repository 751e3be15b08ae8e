"""Neural collapse metrics NC1–NC4 (Papyan, Han & Donoho 2020, PNAS; Zhu et al. 2021 for the ETF distance).

With class means ``μ_c``, global mean ``μ_G`` (of all samples), centred means
``M̃ = [μ_c - μ_G]_c`` (C, d), heads ``W`` (C, d) and N samples:

- NC1 = tr(Σ_W Σ_B⁺) / C, with ``Σ_W = (1/N) Σ_i (z_i - μ_{y_i})(z_i - μ_{y_i})ᵀ`` and
  ``Σ_B = (1/C) M̃ᵀ M̃``: within-class variability relative to the between-class spread.
- NC2 of the centred means (and of the heads): *equinorm*, the coefficient of variation
  std/mean of the row norms (population std); *equiangularity*, the std of the pairwise
  cosines c ≠ c'; *max-angle*, the mean of ``|cos + 1/(C-1)|``; *ETF distance*,
  ``‖ M̃M̃ᵀ/‖M̃M̃ᵀ‖_F − (I − 11ᵀ/C)/√(C−1) ‖_F``.
- NC3 = ‖ W/‖W‖_F − M̃/‖M̃‖_F ‖²_F, self-duality of heads and centred means.
- NC4 = fraction of samples whose classifier prediction ``argmax_c (Wz + b)_c`` differs from the
  nearest class centre ``argmin_c ‖z − μ_c‖`` (1 − agreement).

NC1 needs the between-class scatter to separate every pair of classes: when the class means span
fewer than ``min(r, C−1)`` directions, r the rank of the total scatter ``Σ_W + Σ_B`` (directions
in which no feature varies, e.g. dead units, do not count), some classes cannot be told apart and
the within-class variability relative to their separation is infinite, not 0 as a plain
pseudo-inverse would say. Ranks are counted with a tolerance relative to the total scatter,
``10·d·eps·tr(Σ_W + Σ_B)``; a rank-deficient ``Σ_B`` (coinciding class means, constant or all-zero
features) is refused with an error, and the same tolerance sets the pseudo-inverse's cut-off.

All reach 0 at collapse. Everything but NC4 comes from per-class counts and sums and one pooled
second moment; NC4 needs the class means before the pass (the data's own in the one-shot function).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch

from interplay.functional.gram import full_precision, normalize_rows, resolve_dtype
from interplay.validation import (
    InterplayValueError,
    check_bias,
    check_features,
    check_head_weight,
    check_labels,
)

__all__ = ["NeuralCollapseResult", "CollapseStatistics", "neural_collapse", "collapse_update", "collapse_compute", "count_mismatches"]


@dataclass
class NeuralCollapseResult:
    """NC1–NC4 (see the module docstring); ``nc4`` is ``None`` when no class means were available."""

    nc1: torch.Tensor
    nc2_equinorm: torch.Tensor
    nc2_equiangularity: torch.Tensor
    nc2_max_angle: torch.Tensor
    nc2_etf_distance: torch.Tensor
    nc2_heads_equinorm: torch.Tensor
    nc2_heads_equiangularity: torch.Tensor
    nc2_heads_etf_distance: torch.Tensor
    nc3: torch.Tensor
    nc4: torch.Tensor | None
    n: int
    num_classes: int

    def as_dict(self) -> dict[str, float | int | None]:
        """Plain Python values, for logging and CSV rows."""
        return {k: (float(v) if isinstance(v, torch.Tensor) else v) for k, v in self.__dict__.items()}

    @classmethod
    def undefined(cls, n: int, num_classes: int) -> NeuralCollapseResult:
        """A result whose every metric is NaN, for a record that could not be computed.

        Example:
            >>> NeuralCollapseResult.undefined(10, 3).nc1
            tensor(nan, dtype=torch.float64)
        """
        nan = torch.tensor(float("nan"), dtype=torch.float64)
        return cls(*([nan] * 10), n, num_classes)


class CollapseStatistics(NamedTuple):
    """counts (C,), per-class sums (C, d), pooled second moment ``Σ_i z_i z_iᵀ`` (d, d),
    and NC4 mismatches (count of samples whose prediction differs from the nearest centre)."""

    counts: torch.Tensor
    sums: torch.Tensor
    second: torch.Tensor
    mismatches: torch.Tensor


def collapse_update(
    features: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    *,
    dtype: torch.dtype,
    logits: torch.Tensor | None = None,
    class_means: torch.Tensor | None = None,
) -> CollapseStatistics:
    """Statistics of one validated batch; NC4 mismatches are counted when logits and means are given."""
    x = features.to(dtype)  # (n, d)
    counts = torch.bincount(labels, minlength=num_classes)  # (C,)
    sums = x.new_zeros(num_classes, x.shape[1]).index_add(0, labels, x)  # (C, d)
    mismatches = torch.zeros((), dtype=torch.int64, device=x.device)
    if logits is not None and class_means is not None:
        mismatches = count_mismatches(x, logits, class_means)
    return CollapseStatistics(counts, sums, x.mT @ x, mismatches)


def count_mismatches(features: torch.Tensor, logits: torch.Tensor, class_means: torch.Tensor) -> torch.Tensor:
    """Number of samples whose predicted class is not their nearest class centre (NC4)."""
    nearest = torch.cdist(features, class_means.to(features.device, features.dtype)).argmin(dim=1)  # (n,)
    return (nearest != logits.argmax(dim=1)).sum()


def _etf_distance(rows: torch.Tensor) -> torch.Tensor:
    c = rows.shape[0]
    g = rows @ rows.mT  # (C, C)
    etf = (torch.eye(c, dtype=g.dtype, device=g.device) - 1.0 / c) / math.sqrt(c - 1)
    return torch.linalg.matrix_norm(g / torch.linalg.matrix_norm(g) - etf)


def _nc2(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    c = rows.shape[0]
    norms = torch.linalg.vector_norm(rows, dim=1)  # (C,)
    cos = normalize_rows(rows) @ normalize_rows(rows).mT  # (C, C)
    off = cos[~torch.eye(c, dtype=torch.bool, device=rows.device)]  # (C(C-1),)
    equinorm = norms.std(correction=0) / norms.mean()
    return equinorm, off.std(correction=0), (off + 1.0 / (c - 1)).abs().mean(), _etf_distance(rows)


def class_means_of(counts: torch.Tensor, sums: torch.Tensor) -> torch.Tensor:
    """Per-class means; an empty class is an error, never a silent zero mean."""
    empty = torch.nonzero(counts == 0).flatten().tolist()
    if empty:
        raise InterplayValueError(
            f"labels must contain every class for the neural collapse metrics; classes {empty[:10]} have none. "
            "Evaluate on data that covers all classes."
        )
    return sums / counts[:, None].to(sums.dtype)  # (C, d)


def _between_pinv(within: torch.Tensor, between: torch.Tensor, c: int) -> torch.Tensor:
    """Pseudo-inverse of ``Σ_B``; refuses a between-class scatter too degenerate to define NC1."""
    d = between.shape[0]
    total = within + between  # (d, d)
    tol = 10 * d * torch.finfo(between.dtype).eps * float(torch.trace(total).clamp_min(0))
    varying = int((torch.linalg.eigvalsh(total) > tol).sum()) if tol > 0 else 0
    rank = int((torch.linalg.eigvalsh(between) > tol).sum()) if tol > 0 else 0
    wanted = min(varying, c - 1)
    if rank < wanted or varying == 0:
        raise InterplayValueError(
            f"NC1 is undefined for these features: their class means span {rank} of the {wanted} directions "
            f"in which they could differ ({varying} direction(s) in which the features vary, {c} classes; "
            "ranks at relative tolerance 10·d·eps of the total scatter), so some classes cannot be told apart. "
            "This happens with a dead layer, constant features or coinciding class means; "
            "check the representation before measuring collapse"
            + ("." if between.dtype == torch.float64 else ", or compute in float64 (dtype=torch.float64).")
        )
    return torch.linalg.pinv(between, hermitian=True, atol=tol, rtol=0.0)


def collapse_compute(stats: CollapseStatistics, head_weight: torch.Tensor, *, with_nc4: bool) -> NeuralCollapseResult:
    """NC1–NC4 from the statistics of the whole data."""
    counts, sums, second, mismatches = stats
    c = counts.shape[0]
    n = int(counts.sum())
    means = class_means_of(counts, sums)  # (C, d)
    centred = means - sums.sum(0) / n  # (C, d)
    within = (second - (means.mT * counts.to(means.dtype)) @ means) / n  # (d, d)
    between = centred.mT @ centred / c  # (d, d)
    nc1 = torch.trace(within @ _between_pinv(within, between, c)) / c
    # NC2 and NC3 are invariant to a positive scale of the heads and of the means; dividing by
    # the largest entry keeps their Frobenius norms finite at any magnitude.
    w = head_weight.to(means.dtype)  # (C, d)
    w = w / w.abs().max()
    centred = centred / centred.abs().max()
    nc3 = torch.linalg.matrix_norm(w / torch.linalg.matrix_norm(w) - centred / torch.linalg.matrix_norm(centred)) ** 2
    heads_equinorm, heads_equiangularity, _, heads_etf = _nc2(w)
    nc4 = mismatches.to(means.dtype) / n if with_nc4 else None
    return NeuralCollapseResult(
        nc1, *_nc2(centred), heads_equinorm, heads_equiangularity, heads_etf, nc3, nc4, n, c
    )


def neural_collapse(
    features,
    labels,
    head_weight,
    *,
    bias=None,
    dtype: torch.dtype | None = torch.float64,
) -> NeuralCollapseResult:
    """Neural collapse metrics NC1–NC4 of representations and the final linear layer.

    Definitions are in the module docstring (Papyan, Han & Donoho 2020). NC4 uses the class
    means of the given data and the predictions ``features @ head_weight.T + bias``.

    Args:
        features: (n, d) representations (input of the final linear layer).
        labels: (n,) integer classes; every class must occur.
        head_weight: (C, d) weight of the final linear layer.
        bias: optional (C,) bias of the final linear layer.
        dtype: dtype of the computation; ``None`` keeps the input's.

    Returns:
        A :class:`NeuralCollapseResult`; every metric is 0 at exact collapse.

    Raises:
        ValueError: bad shapes or values, labels out of range, an empty class, fewer than 2 classes,
            or class means too degenerate to define NC1 (see the module docstring).

    Example:
        >>> from interplay import simplex_etf
        >>> heads = simplex_etf(4)
        >>> labels = torch.arange(8) % 4
        >>> result = neural_collapse(2 * heads[labels], labels, heads)
        >>> [abs(round(float(v), 6)) for v in (result.nc1, result.nc2_etf_distance, result.nc3, result.nc4)]
        [0.0, 0.0, 0.0, 0.0]
    """
    features = check_features(features, "features", allow_zero_rows=True)
    head_weight = check_head_weight(head_weight, features.shape[1])
    labels = check_labels(labels, features.shape[0], head_weight.shape[0], "labels")
    dt = resolve_dtype(features, dtype)
    num_classes = head_weight.shape[0]
    with full_precision(features):
        # Every metric is invariant to one positive scale of the features (NC4 through the
        # logits' argmax, with the bias scaled alike), so dividing by the largest entry keeps
        # second moments finite at any magnitude.
        scale = features.detach().abs().max().to(dt)
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        x = features.to(dt) / scale  # (n, d)
        logits = x @ head_weight.to(dt).mT  # (n, C)
        if bias is not None:
            logits = logits + check_bias(bias, num_classes).to(dt) / scale
        stats = collapse_update(x, labels, num_classes, dtype=dt)
        means = class_means_of(stats.counts, stats.sums)
        stats = stats._replace(mismatches=count_mismatches(x, logits, means))
        return collapse_compute(stats, head_weight, with_nc4=True)
