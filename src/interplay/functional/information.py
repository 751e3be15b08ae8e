"""Matrix mutual information and the two ratios MIR and HDR (PAPER.md §1).

``I(K1; K2) = H(K1) + H(K2) - H(K1 ⊙ K2)``,
``MIR = I / min(H(K1), H(K2))`` and ``HDR = |H(K1) - H(K2)| / max(H(K1), H(K2))``
(Song et al. 2024, arXiv 2406.03999). For unit-diagonal PSD matrices both ratios lie in [0, 1].
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from interplay.functional.entropy import (
    MAX_EXACT_SIZE,
    entropy_from_eigenvalues,
    joint_eigenvalues,
    row_gram_eigenvalues,
)
from interplay.functional.gram import normalize_rows, resolve_dtype
from interplay.validation import InterplayValueError, check_features, check_paired

__all__ = ["matrix_mutual_information", "mir", "hdr", "PairEntropies"]


class PairEntropies(NamedTuple):
    """The entropies of two paired Grams and of their Hadamard product, with derived ratios."""

    h_x: torch.Tensor
    h_y: torch.Tensor
    h_joint: torch.Tensor

    @property
    def mi(self) -> torch.Tensor:
        return self.h_x + self.h_y - self.h_joint

    @property
    def mir(self) -> torch.Tensor:
        smaller = torch.minimum(self.h_x, self.h_y)
        _check_positive_entropy(smaller, "MIR")
        return self.mi / smaller

    @property
    def hdr(self) -> torch.Tensor:
        larger = torch.maximum(self.h_x, self.h_y)
        _check_positive_entropy(larger, "HDR")
        return (self.h_x - self.h_y).abs() / larger


def _check_positive_entropy(h: torch.Tensor, ratio: str) -> None:
    # A rank-one Gram has entropy 0 up to the rounding of its eigen-solve.
    if float(h.detach()) <= 1e3 * torch.finfo(h.dtype).eps:
        raise InterplayValueError(
            f"{ratio} is undefined because an entropy in its denominator is {float(h.detach()):.3g}: "
            "all rows on that side point in one direction (a rank-one Gram). "
            "Use the mutual information itself, or check for a collapsed representation."
        )


def pair_entropies(x, y, *, dtype: torch.dtype | None, max_exact_size: int) -> PairEntropies:
    """Validate two paired feature matrices and compute ``H(K_x)``, ``H(K_y)`` and ``H(K_x ⊙ K_y)``."""
    x, y = check_features(x, "x"), check_features(y, "y")
    check_paired(x, y)
    dt = resolve_dtype(x, dtype)
    return row_pair_entropies(normalize_rows(x.to(dt)), normalize_rows(y.to(dt)), max_exact_size)[0]


def row_pair_entropies(zx: torch.Tensor, zy: torch.Tensor, max_exact_size: int) -> tuple[PairEntropies, str]:
    """Entropies of two already normalised, row-paired matrices, and the joint method used."""
    n = zx.shape[0]
    joint, method = joint_eigenvalues(zx, zy, max_exact_size)
    entropies = PairEntropies(
        entropy_from_eigenvalues(row_gram_eigenvalues(zx), n),
        entropy_from_eigenvalues(row_gram_eigenvalues(zy), n),
        entropy_from_eigenvalues(joint, n),
    )
    return entropies, method


def matrix_mutual_information(
    x, y, *, dtype: torch.dtype | None = torch.float64, max_exact_size: int = MAX_EXACT_SIZE
) -> torch.Tensor:
    """Matrix mutual information ``H(K_x) + H(K_y) - H(K_x ⊙ K_y)`` of row-paired features, in nats.

    Args:
        x: (n, d1) features; y: (n, d2) features paired by row. Rows are L2-normalised inside.
        dtype: dtype of the computation; ``None`` keeps the input's.
        max_exact_size: largest matrix side to diagonalise.

    Example:
        >>> matrix_mutual_information(torch.eye(3), torch.eye(3))  # I(K; K) = 2 log 3 - H(K ⊙ K)
        tensor(1.0986, dtype=torch.float64)
    """
    return pair_entropies(x, y, dtype=dtype, max_exact_size=max_exact_size).mi


def mir(x, y, *, dtype: torch.dtype | None = torch.float64, max_exact_size: int = MAX_EXACT_SIZE) -> torch.Tensor:
    """Matrix mutual information ratio ``I(K_x; K_y) / min(H(K_x), H(K_y))``, in [0, 1].

    Args:
        x: (n, d1) features; y: (n, d2) features paired by row.
        dtype: dtype of the computation; ``None`` keeps the input's.
        max_exact_size: largest matrix side to diagonalise.

    Raises:
        ValueError: invalid inputs, or a zero entropy in the denominator.

    Example:
        >>> mir(torch.eye(3), torch.eye(3))
        tensor(1., dtype=torch.float64)
    """
    return pair_entropies(x, y, dtype=dtype, max_exact_size=max_exact_size).mir


def hdr(x, y, *, dtype: torch.dtype | None = torch.float64, max_exact_size: int = MAX_EXACT_SIZE) -> torch.Tensor:
    """Matrix entropy difference ratio ``|H(K_x) - H(K_y)| / max(H(K_x), H(K_y))``, in [0, 1].

    Args:
        x: (n, d1) features; y: (n, d2) features paired by row.
        dtype: dtype of the computation; ``None`` keeps the input's.
        max_exact_size: largest matrix side to diagonalise.

    Example:
        >>> hdr(torch.eye(4), torch.tensor([[1.0, 0], [0, 1], [1, 0], [0, 1]]))  # log 4 vs log 2
        tensor(0.5000, dtype=torch.float64)
    """
    return pair_entropies(x, y, dtype=dtype, max_exact_size=max_exact_size).hdr
