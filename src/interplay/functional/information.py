"""Matrix mutual information and the two ratios MIR and HDR (arXiv 2406.03999).

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
from interplay.functional.gram import full_precision, normalize_rows, resolve_dtype
from interplay.validation import InterplayValueError, check_features, check_max_exact_size, check_paired

__all__ = ["matrix_mutual_information", "mir", "hdr", "PairEntropies"]


class PairEntropies(NamedTuple):
    """The entropies of two paired Grams and of their Hadamard product, with derived ratios.

    ``size`` is the side of the Grams (n) and ``names`` what the two sides are called in
    messages; both only serve the check that a ratio's denominator is resolvable. ``check=False``
    skips that check (it reads the entropies on the host), for callers that mask undefined ratios
    themselves, e.g. a loss in a training step.
    """

    h_x: torch.Tensor
    h_y: torch.Tensor
    h_joint: torch.Tensor
    size: int = 2
    names: tuple[str, str] = ("x", "y")
    check: bool = True

    @property
    def mi(self) -> torch.Tensor:
        return self.h_x + self.h_y - self.h_joint

    @property
    def mir(self) -> torch.Tensor:
        smaller = torch.minimum(self.h_x, self.h_y)
        self._check_positive(smaller, "MIR")
        return self.mi / smaller

    @property
    def hdr(self) -> torch.Tensor:
        larger = torch.maximum(self.h_x, self.h_y)
        self._check_positive(larger, "HDR")
        return (self.h_x - self.h_y).abs() / larger

    def _check_positive(self, h: torch.Tensor, ratio: str) -> None:
        if not self.check:
            return
        tol = entropy_resolution(self.size, h.dtype)
        if float(h.detach()) > tol:
            return
        side = self.names[0] if float(self.h_x.detach()) <= float(self.h_y.detach()) else self.names[1]
        advice = " Compute in float64 (dtype=torch.float64)." if h.dtype != torch.float64 else ""
        raise InterplayValueError(
            f"{ratio} is undefined: the matrix entropy of {side} is 0 to within the rounding of {h.dtype} "
            f"({tol:.2g} nats): all rows of {side} point in one direction (a rank-one Gram)."
            f"{advice} Use the mutual information itself, or check for a collapsed representation."
        )


def entropy_resolution(size: int, dtype: torch.dtype) -> float:
    """The smallest matrix entropy distinguishable from 0 for an (size, size) Gram in ``dtype``.

    An eigen-solve leaves rounding of order size·eps in each entropy, so a ratio whose
    denominator lies below this is noise divided by noise (a rank-one Gram).

    Example:
        >>> entropy_resolution(10, torch.float64) < 1e-12
        True
    """
    return max(1e3, 50 * size) * torch.finfo(dtype).eps


def pair_entropies(x, y, *, dtype: torch.dtype | None, max_exact_size: int) -> PairEntropies:
    """Validate two paired feature matrices and compute ``H(K_x)``, ``H(K_y)`` and ``H(K_x ⊙ K_y)``."""
    x, y = check_features(x, "x"), check_features(y, "y")
    check_paired(x, y)
    max_exact_size = check_max_exact_size(max_exact_size)
    dt = resolve_dtype(x, dtype)
    with full_precision(x):
        return row_pair_entropies(normalize_rows(x.to(dt)), normalize_rows(y.to(dt)), max_exact_size)[0]


def row_pair_entropies(
    zx: torch.Tensor,
    zy: torch.Tensor,
    max_exact_size: int,
    *,
    check: bool = True,
    total: torch.Tensor | int | None = None,
    names: tuple[str, str] = ("x", "y"),
) -> tuple[PairEntropies, str]:
    """Entropies of two already normalised, row-paired matrices, and the joint method used.

    ``total`` is the trace of the Grams (n for unit rows; the count of non-zero rows where zero
    rows are masked); ``check=False`` skips the host-synchronising PSD checks.
    """
    n = zx.shape[0]
    total = n if total is None else total
    joint, method = joint_eigenvalues(zx, zy, max_exact_size, check=check)
    entropies = PairEntropies(
        entropy_from_eigenvalues(row_gram_eigenvalues(zx, check=check), total),
        entropy_from_eigenvalues(row_gram_eigenvalues(zy, check=check), total),
        entropy_from_eigenvalues(joint, total),
        n,
        names,
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
