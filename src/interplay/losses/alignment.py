"""The cross-modal alignment (CMA) loss of Song et al.'s extended paper (arXiv 2409.16767)."""

from __future__ import annotations

import torch
from torch import nn

from interplay.functional.entropy import symmetric_eigenvalues
from interplay.functional.gram import full_precision, normalize_rows, resolve_dtype
from interplay.validation import InterplayValueError, check_features, check_labels

__all__ = ["CrossModalAlignmentLoss"]


class CrossModalAlignmentLoss(nn.Module):
    """Mean over the classes c in a batch of ``H_norm(Gram([image features of c; text feature of c]))``.

    ``H_norm`` is the matrix entropy divided by the log of the matrix size (n_c + 1). Minimising
    it pulls each class's image features and its text feature toward one direction (arXiv
    2409.16767; the form follows the authors' code). All classes are handled in one batched
    eigen-solve: each class block is zero-padded to the largest one, and padded rows carry no
    mass. The full objective of P2 is ``(1 − λ)·CE + λ·CMA``. Half-precision features (autocast)
    are computed in float32 with autocast off; the loss is returned in that dtype.

    Example:
        >>> text = torch.eye(3)
        >>> labels = torch.tensor([0, 0, 1, 2])
        >>> float(CrossModalAlignmentLoss()(text[labels], text, labels))  # perfectly aligned
        0.0
    """

    def forward(self, image_features: torch.Tensor, text_features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """image_features (n, d), text_features (C, d) one row per class, labels (n,); returns a scalar."""
        image_features = check_features(image_features, "image_features", min_samples=1)
        text_features = check_features(text_features, "text_features", min_samples=1)
        labels = check_labels(labels, image_features.shape[0], text_features.shape[0])
        if image_features.shape[1] != text_features.shape[1]:
            raise InterplayValueError(
                f"image_features and text_features must share their dimension; got {image_features.shape[1]} and {text_features.shape[1]}."
            )
        with full_precision(image_features):
            return self._entropies(image_features.to(resolve_dtype(image_features, None)),
                                   text_features.to(resolve_dtype(image_features, None)), labels).mean()

    @staticmethod
    def _entropies(image_features: torch.Tensor, text_features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Normalised matrix entropy of each class present in the batch, (K,)."""
        classes, inverse, counts = labels.unique(return_inverse=True, return_counts=True)  # (K,), (n,), (K,)
        size = int(counts.max()) + 1
        order = torch.argsort(inverse, stable=True)
        starts = torch.cumsum(counts, 0) - counts  # (K,)
        slot = torch.arange(labels.shape[0], device=labels.device) - starts[inverse[order]]  # position within its class
        blocks = image_features.new_zeros(classes.shape[0], size, image_features.shape[1])  # (K, m, d)
        blocks[inverse[order], slot] = normalize_rows(image_features[order])
        blocks[torch.arange(classes.shape[0], device=labels.device), counts] = normalize_rows(text_features[classes])
        eig = symmetric_eigenvalues(blocks @ blocks.mT).clamp_min(0)  # (K, m)
        m = (counts + 1).to(eig.dtype)[:, None]  # (K, 1) rows of each real block
        p = eig / m
        floor = torch.finfo(p.dtype).eps
        # Padding and rounding give eigenvalues at 0; they carry no entropy and no gradient.
        terms = torch.where(p > floor, p * torch.log(p.clamp_min(floor)), torch.zeros_like(p))
        return -terms.sum(dim=1) / torch.log(m[:, 0])  # (K,)
