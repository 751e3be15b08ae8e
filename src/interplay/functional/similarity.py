"""Similarity of two representations of the same samples, and the Rényi family of matrix entropies.

Linear CKA (centred kernel alignment; Kornblith et al. 2019, arXiv 1905.00414) of ``X`` (n, d1)
and ``Y`` (n, d2), with ``K = X Xᵀ`` and ``L = Y Yᵀ``:
``CKA = HSIC(K, L) / sqrt(HSIC(K, K) · HSIC(L, L))``. The plain estimator uses
``HSIC ∝ tr(K H L H)`` with the centring matrix ``H = I − 11ᵀ/n``; for column-centred features this
is ``‖Xᵀ Y‖²_F``, so the (d1, d2) cross product replaces the (n, n) Grams when n is large. The
unbiased estimator is the U-statistic ``HSIC₁`` of Song et al. 2012 (JMLR 13, eq. 5), with
``K̃``, ``L̃`` the Grams with zeroed diagonals:
``[tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1 / ((n−1)(n−2)) − 2·1ᵀK̃L̃1 / (n−2)] / (n(n−3))``.

The matrix-based Rényi entropy of order α (Giraldo et al. 2014; used layer by layer by Skean et
al. 2025, arXiv 2502.02013, §3) of the cosine Gram ``K`` of n rows is
``S_α = log(Σ_i p_iᵅ) / (1 − α)`` with ``p_i = λ_i(K) / n``; α → 1 gives the von Neumann entropy
(:func:`~interplay.functional.entropy.matrix_entropy`), α = ∞ gives ``−log max_i p_i``. The
effective rank is ``exp(S_α)``, between 1 and the rank of ``K``.
"""

from __future__ import annotations

import math

import torch

from interplay.functional.entropy import entropy_from_eigenvalues, row_gram_eigenvalues
from interplay.functional.gram import full_precision, normalize_rows, resolve_dtype
from interplay.validation import InterplayTypeError, InterplayValueError, check_features, check_paired, check_scalar

__all__ = ["linear_cka", "renyi_entropy", "effective_rank", "renyi_from_eigenvalues", "check_alpha"]


def _cross_terms(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``Σ_ij K_ij L_ij``, the row sums ``K1``, ``L1`` and the diagonals of ``K = x xᵀ``, ``L = y yᵀ``.

    From the (d1, d2) cross product when that is cheaper than the two (n, n) Grams; both give
    the same numbers up to rounding.
    """
    n, d1 = x.shape
    d2 = y.shape[1]
    if n * (d1 + d2) >= d1 * d1 + d2 * d2 + d1 * d2:
        full = (x.mT @ y).square().sum()
        return full, x @ x.sum(0), y @ y.sum(0), x.square().sum(1), y.square().sum(1)
    k, l = x @ x.mT, y @ y.mT  # (n, n) each
    return (k * l).sum(), k.sum(1), l.sum(1), torch.diagonal(k), torch.diagonal(l)


def _hsic(x: torch.Tensor, y: torch.Tensor, unbiased: bool) -> torch.Tensor:
    """HSIC of column-centred features, up to a factor shared by every pair (it cancels in CKA)."""
    full, rk, rl, dk, dl = _cross_terms(x, y)
    if not unbiased:
        return full
    n = x.shape[0]
    trace = full - (dk * dl).sum()
    sums = (rk.sum() - dk.sum()) * (rl.sum() - dl.sum())
    inner = ((rk - dk) * (rl - dl)).sum()
    return (trace + sums / ((n - 1) * (n - 2)) - 2 * inner / (n - 2)) / (n * (n - 3))


def _scaled(x: torch.Tensor) -> torch.Tensor:
    # CKA is invariant to a positive scale of either side; dividing by the largest entry keeps
    # the fourth powers in ‖XᵀY‖² finite at any magnitude.
    scale = x.abs().max()
    return x / torch.where(scale > 0, scale, torch.ones_like(scale))


def _check_spread(x: torch.Tensor, name: str) -> None:
    """Refuse centred (scaled) features whose spread is at the level of the centring's rounding."""
    n, d = x.shape
    eps = torch.finfo(x.dtype).eps
    if float(x.detach().square().sum()) <= 100 * n * d * eps * eps:
        raise InterplayValueError(
            f"linear CKA is undefined: {name} is the same for all {n} samples (no variance after centring). "
            "Check for a constant or dead representation."
        )


def linear_cka(x, y, *, unbiased: bool = False, dtype: torch.dtype | None = torch.float64) -> torch.Tensor:
    """Linear centred kernel alignment of two row-paired representations, in [0, 1].

    Invariant to orthogonal transforms and isotropic scaling of either side, and to translations;
    the widths may differ. See the module docstring for the formulas.

    Args:
        x: (n, d1) features; y: (n, d2) features of the same samples, paired by row.
        unbiased: use the unbiased HSIC estimator of Song et al. 2012 (needs n >= 4); the value
            may then be slightly negative for unrelated representations.
        dtype: dtype of the computation; ``None`` keeps the input's.

    Returns:
        0-d tensor; 1 for representations equal up to rotation and scale.

    Raises:
        ValueError: not (n, d) finite matrices with the same n, or a side that is constant
            across samples (CKA is then undefined).

    Example:
        >>> linear_cka(torch.eye(3), 2 * torch.eye(3))
        tensor(1., dtype=torch.float64)
        >>> x = torch.tensor([[1.0], [2.0], [3.0]])
        >>> linear_cka(x, torch.tensor([[1.0], [3.0], [2.0]]))  # one column each: squared correlation 0.5²
        tensor(0.2500, dtype=torch.float64)
    """
    x = check_features(x, "x", min_samples=4 if unbiased else 2, allow_zero_rows=True)
    y = check_features(y, "y", min_samples=4 if unbiased else 2, allow_zero_rows=True)
    check_paired(x, y)
    if not isinstance(unbiased, bool):
        raise InterplayTypeError(f"unbiased must be a bool; got {type(unbiased).__name__}.")
    dt = resolve_dtype(x, dtype)
    with full_precision(x):
        x, y = _scaled(x.to(dt)), _scaled(y.to(dt))
        x, y = x - x.mean(0), y - y.mean(0)  # (n, d1), (n, d2)
        _check_spread(x, "x")
        _check_spread(y, "y")
        xx, yy = _hsic(x, x, unbiased), _hsic(y, y, unbiased)
        for name, value in (("x", xx), ("y", yy)):
            if not float(value.detach()) > 0:
                raise InterplayValueError(
                    f"unbiased linear CKA is undefined for these {x.shape[0]} samples: HSIC({name}, {name}) = "
                    f"{float(value):.3g} is not positive. Use more samples or unbiased=False."
                )
        return _hsic(x, y, unbiased) / (torch.sqrt(xx) * torch.sqrt(yy))


def check_alpha(alpha) -> float:
    """Check the order of a Rényi entropy: a positive number, ``float('inf')`` allowed.

    Example:
        >>> check_alpha(2)
        2.0
    """
    return check_scalar(alpha, "alpha", float, above=0, infinite=True,
                        why="the order of the Rényi entropy; 1 is von Neumann, float('inf') the min-entropy")


def renyi_from_eigenvalues(eigenvalues: torch.Tensor, total: float | torch.Tensor, alpha: float) -> torch.Tensor:
    """``log(Σ pᵅ) / (1 − α)`` with ``p = eigenvalues / total``; α = 1 is ``−Σ p log p``.

    Example:
        >>> renyi_from_eigenvalues(torch.ones(4, dtype=torch.float64), 4, 2.0)  # uniform: log 4
        tensor(1.3863, dtype=torch.float64)
    """
    alpha = check_alpha(alpha)
    if alpha == 1:
        return entropy_from_eigenvalues(eigenvalues, total)
    p = eigenvalues / total  # (m,)
    if math.isinf(alpha):
        return -torch.log(p.max())
    # Zero eigenvalues contribute pᵅ = 0: leave them out of the log-sum-exp.
    log_p = torch.where(p > 0, torch.log(p.clamp_min(torch.finfo(p.dtype).tiny)), -math.inf)
    return torch.logsumexp(alpha * log_p, dim=0) / (1 - alpha)


def renyi_entropy(
    x, alpha: float = 1.0, *, normalize: bool = False, dtype: torch.dtype | None = torch.float64
) -> torch.Tensor:
    """Matrix-based Rényi entropy of order ``alpha`` of the cosine Gram of the rows of ``x``, in nats.

    ``alpha=1`` is the von Neumann entropy of :func:`~interplay.functional.entropy.matrix_entropy`;
    Skean et al. 2025 (arXiv 2502.02013) profile it layer by layer. Larger orders weigh the
    leading eigenvalues more; every order lies in ``[0, log rank]`` and decreases with ``alpha``.

    Args:
        x: (n, d) features with no zero row; rows are L2-normalised inside.
        alpha: the order, a positive number or ``float('inf')``.
        normalize: divide by ``log n``.
        dtype: dtype of the computation; ``None`` keeps the input's.

    Raises:
        ValueError: invalid features or ``alpha``.

    Example:
        >>> renyi_entropy(torch.eye(4), 2.0)  # four orthogonal rows: log 4 at every order
        tensor(1.3863, dtype=torch.float64)
    """
    alpha = check_alpha(alpha)
    x = check_features(x, "x")
    with full_precision(x):
        z = normalize_rows(x.to(resolve_dtype(x, dtype)))  # (n, d)
        h = renyi_from_eigenvalues(row_gram_eigenvalues(z), z.shape[0], alpha)
    return h / math.log(z.shape[0]) if normalize else h


def effective_rank(x, *, alpha: float = 1.0, dtype: torch.dtype | None = torch.float64) -> torch.Tensor:
    """Effective rank ``exp(S_α)`` of the cosine Gram of the rows of ``x``, between 1 and its rank.

    Args:
        x: (n, d) features with no zero row.
        alpha: order of the Rényi entropy (1: von Neumann).
        dtype: dtype of the computation; ``None`` keeps the input's.

    Example:
        >>> round(float(effective_rank(torch.eye(4))), 9)  # four orthogonal rows
        4.0
    """
    return torch.exp(renyi_entropy(x, alpha, dtype=dtype))
