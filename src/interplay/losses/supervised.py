"""MIR and HDR as loss terms on a batch (Song et al. 2024, arXiv 2406.03999)."""

from __future__ import annotations


import torch
from torch import nn

from interplay.functional.entropy import MAX_EXACT_SIZE, check_exact_size
from interplay.functional.gram import full_precision, normalize_rows, resolve_dtype
from interplay.functional.information import PairEntropies, entropy_resolution, row_pair_entropies
from interplay.validation import (
    InterplayTypeError,
    as_tensor,
    check_features,
    check_head_weight,
    check_labels,
    check_max_exact_size, check_scalar,
)

__all__ = ["InterplayLoss"]


def _class_indices(labels) -> torch.Tensor:
    """Integer labels of any width as int64, by dtype alone (no device synchronisation).

    Indexing with uint8 or bool would select rows as a mask instead of gathering heads.
    """
    labels = as_tensor(labels, "labels")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise InterplayTypeError(
            f"labels must be an integer tensor of class indices; got dtype {labels.dtype}. "
            "Use labels.long() (or argmax over one-hot labels)."
        )
    return labels.long()


class InterplayLoss(nn.Module):
    """``-α·MIR(K_Z, K_W) + β·HDR(K_Z, K_W)`` on the sample pairing of a batch.

    ``K_Z`` is the cosine Gram of the batch's representations and ``K_W`` that of the heads of
    their labels (ground truth, or pseudo-labels for unlabelled data). Minimising it raises the
    mutual information ratio and lowers the entropy difference ratio, the directions of neural
    collapse (Song et al. 2024, arXiv 2406.03999; the papers' exact loss is not public, this is a
    reconstruction). With ``use_ratios=False`` the terms are the raw ``-α·I + β·|H(K_Z) − H(K_W)|``
    in nats.

    The loss survives any batch a network produces. All-zero representations (dead units) are
    masked out of every Gram and, with ``center=True``, out of the mean, exactly as if the
    samples were dropped, and get zero gradient; a sample exactly at the mean has no direction
    once centred and is masked alike. A batch whose live samples hold a single class, or whose
    Gram is rank-one, has no defined ratio and gives 0 with zero, finite gradients. A float32
    eigen-solve that fails to converge is repeated in float64. Half-precision features (``torch.autocast``) are computed in float32 with autocast
    off, and the loss is returned in float32 so it joins the caller's graph.
    ``validate_args=False`` skips every check that synchronises with the device; the one
    synchronisation left is inside ``eigvalsh`` on CUDA, which reads the solver's status. Labels
    of any integer dtype are used as int64 and float or bool labels are refused either way.
    The entropies are always exact, since the stochastic estimator has no gradient: a batch
    whose smallest exact eigenproblem, ``min(n, d²)`` on a side, exceeds ``max_exact_size`` is
    refused with :class:`~interplay.validation.ExactSizeError`.
    The last components (detached 0-d tensors) are in ``self.components``.

    Args:
        alpha: weight of the MIR (or MI) term, >= 0.
        beta: weight of the HDR (or entropy difference) term, >= 0.
        use_ratios: MIR/HDR (default) or MI and the entropy difference.
        detach_heads: no gradient into the head weights (the terms shape the representations only).
        center: subtract the mean of the batch's live (not all-zero) representations before normalising.
        dtype: dtype of the eigen-solves; ``None`` keeps the input's (float16/bfloat16: float32),
            float64 for accuracy.
        validate_args: check shapes, finiteness and label range on every call.
        max_exact_size: largest matrix side to diagonalise.

    Example:
        >>> from interplay import nc_reference, simplex_etf
        >>> heads = simplex_etf(4)
        >>> labels = torch.arange(8) % 4
        >>> loss = InterplayLoss(alpha=1.0, beta=1.0)(heads[labels], labels, heads)
        >>> round(float(loss), 4) == -round(float(nc_reference(4).mir), 4)  # −MIR at collapse, HDR 0
        True
    """

    def __init__(self, alpha: float = 1.0, beta: float = 1.0, *, use_ratios: bool = True, detach_heads: bool = False,
                 center: bool = False, dtype: torch.dtype | None = None, validate_args: bool = True,
                 max_exact_size: int = MAX_EXACT_SIZE) -> None:
        super().__init__()
        self.alpha, self.beta = check_scalar(alpha, "alpha", float, minimum=0), check_scalar(beta, "beta", float, minimum=0)
        self.use_ratios, self.detach_heads, self.center = use_ratios, detach_heads, center
        self.dtype, self.validate_args = dtype, validate_args
        self.max_exact_size = check_max_exact_size(max_exact_size)
        self.components: dict[str, float] = {}

    def forward(self, features: torch.Tensor, labels: torch.Tensor, head_weight: torch.Tensor) -> torch.Tensor:
        """Loss of one batch: features (n, d), labels (n,), head_weight (C, d); returns a scalar."""
        if self.validate_args:
            features = check_features(features, "features", allow_zero_rows=True)
            head_weight = check_head_weight(head_weight, features.shape[1])
            labels = check_labels(labels, features.shape[0], head_weight.shape[0])
        else:
            labels = _class_indices(labels)
        n, d = features.shape
        check_exact_size(
            min(n, d * d), self.max_exact_size, "joint entropy of InterplayLoss",
            "The loss needs the exact spectrum (the stochastic estimator has no gradient): "
            "use smaller batches or raise max_exact_size.",
        )
        dtype = resolve_dtype(features, self.dtype)
        heads = head_weight.detach() if self.detach_heads else head_weight
        with full_precision(features):
            x = features.to(dtype)  # (n, d)
            # Dead rows are dropped samples: they move neither the mean nor the Grams, and the mask
            # also keeps the gradient of a direction they do not have from reaching them.
            alive = (x != 0).any(dim=1, keepdim=True).to(dtype)  # (n, 1)
            if self.center:
                x = x - (x * alive).sum(0, keepdim=True) / alive.sum().clamp_min(1)
                alive = alive * (x != 0).any(dim=1, keepdim=True)
            z = normalize_rows(x * alive, zero_rows=True)  # (n, d)
            w = normalize_rows(heads.to(dtype))[labels] * alive  # (n, d)
            e, _ = row_pair_entropies(z, w, self.max_exact_size, check=False, total=alive.sum().clamp_min(1))
            # One live class, or a rank-one Gram: the ratios are 0/0. They are taken of stand-in
            # entropies of 1 and masked to 0, so value and gradient stay finite without a host sync.
            defined = torch.minimum(e.h_x, e.h_y) > entropy_resolution(n, dtype)
            one = torch.ones_like(e.h_x)
            safe = PairEntropies(*(torch.where(defined, h, one) for h in (e.h_x, e.h_y, e.h_joint)), check=False)
            gain, gap = (safe.mir, safe.hdr) if self.use_ratios else (safe.mi, (safe.h_x - safe.h_y).abs())
            zero = torch.zeros_like(gain)
            gain, gap = torch.where(defined, gain, zero), torch.where(defined, gap, zero)
        names = ("mir", "hdr") if self.use_ratios else ("mi", "entropy_gap")
        self.components = {names[0]: gain.detach(), names[1]: gap.detach(), "defined": defined.detach()}
        return -self.alpha * gain + self.beta * gap
