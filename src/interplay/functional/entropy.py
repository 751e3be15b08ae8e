"""Matrix entropy and matrix joint entropy, from eigenvalues only.

The matrix entropy of an (n, n) PSD matrix ``K`` with unit diagonal is
``H(K) = -tr((K/n) log(K/n)) = -sum_i p_i log p_i`` with ``p_i = lambda_i(K) / n``
(Song et al. 2024, arXiv 2406.03999). Only the non-zero eigenvalues matter, and those of
``Z Zᵀ`` equal those of ``Zᵀ Z``, so the smaller of the two is diagonalised.
"""

from __future__ import annotations

import math

import torch

from interplay.functional.gram import full_precision, normalize_rows, resolve_dtype
from interplay.validation import (
    ExactSizeError,
    InterplayValueError,
    check_features,
    check_gram,
    check_max_exact_size,
    check_paired,
    check_psd_eigenvalues, check_scalar,
)

__all__ = ["matrix_entropy", "gram_entropy", "matrix_joint_entropy", "MAX_EXACT_SIZE"]

MAX_EXACT_SIZE = 8192
"""Largest matrix side diagonalised by default (an 8192² float64 matrix takes 512 MiB)."""

_KRONECKER_CHUNK_BYTES = 2**28


def xlogx(x: torch.Tensor) -> torch.Tensor:
    """``x log x`` elementwise, 0 at 0, finite in value and gradient.

    The logarithm's argument is floored at the dtype's smallest normal number: a zero
    eigenvalue (exact collapse, rank deficiency) then contributes 0 with a finite gradient.

    Example:
        >>> xlogx(torch.tensor([0.0, 0.5, 1.0])).abs().tolist() == [0.0, 0.5 * 0.6931471824645996, 0.0]
        True
    """
    return x * torch.log(x.clamp_min(torch.finfo(x.dtype).tiny))


def entropy_from_eigenvalues(eigenvalues: torch.Tensor, total: float | torch.Tensor) -> torch.Tensor:
    """``-sum p log p`` with ``p = eigenvalues / total``, finite in value and gradient."""
    return -xlogx(eigenvalues / total).sum()


def symmetric_eigenvalues(matrix: torch.Tensor) -> torch.Tensor:
    """``eigvalsh`` that survives the near-degenerate matrices training produces.

    LAPACK's divide-and-conquer solver can fail to converge in float32 on matrices with
    clustered eigenvalues (dead units, rank-one batches); the solve is then repeated in float64,
    and, should that fail too, with the 1e-6·I ridge of the papers' code, removed afterwards.
    On CUDA, ``eigvalsh`` synchronises with the host to read the solver's status: this is the
    one synchronisation a loss step keeps.
    """
    try:
        return torch.linalg.eigvalsh(matrix)
    except torch.linalg.LinAlgError:
        wide = matrix.double()
        wide = (wide + wide.mT) / 2
    try:
        return torch.linalg.eigvalsh(wide).to(matrix.dtype)
    except torch.linalg.LinAlgError:
        if not bool(torch.isfinite(wide).all()):
            raise InterplayValueError(
                "the eigen-solve received NaN or Inf: the features or heads are not finite. "
                "Check the model for divergence (or call with validate_args=True to locate it)."
            ) from None
        ridge = 1e-6 * torch.eye(wide.shape[-1], dtype=wide.dtype, device=wide.device)
        return (torch.linalg.eigvalsh(wide + ridge) - 1e-6).to(matrix.dtype)


def psd_eigenvalues(
    matrix: torch.Tensor, name: str, *, check: bool = True, eps: float | None = None
) -> torch.Tensor:
    """Eigenvalues of a symmetric PSD matrix, tiny negative rounding set to 0.

    ``check=False`` only clamps (no host synchronisation, for training steps); ``eps`` is the
    machine epsilon of the precision the matrix was built in (default: its dtype's).
    """
    eigenvalues = symmetric_eigenvalues(matrix)
    if not check:
        return eigenvalues.clamp_min(0)
    return check_psd_eigenvalues(eigenvalues, name, eps=eps)


def row_gram_eigenvalues(z: torch.Tensor, *, check: bool = True) -> torch.Tensor:
    """Non-zero spectrum of ``z zᵀ`` from the smaller of ``z zᵀ`` (n, n) and ``zᵀ z`` (d, d)."""
    n, d = z.shape
    small = z.mT @ z if d < n else z @ z.mT  # (min(n, d), min(n, d))
    return psd_eigenvalues(small, "the Gram matrix of the features", check=check)


def check_exact_size(size: int, max_exact_size: int, what: str, advice: str) -> None:
    """Raise :class:`ExactSizeError` when the smallest exact eigenproblem is too large."""
    if size > max_exact_size:
        raise ExactSizeError(
            f"the exact {what} needs the eigenvalues of a {size}×{size} matrix, more than "
            f"max_exact_size={max_exact_size}. {advice}"
        )


def matrix_entropy(
    x, *, normalize: bool = False, dtype: torch.dtype | None = torch.float64
) -> torch.Tensor:
    """Matrix entropy of the cosine Gram matrix of the rows of ``x``, in nats.

    Args:
        x: (n, d) features, torch tensor or numpy array; rows are L2-normalised inside (after
            scaling by their largest entry, so any finite magnitude gives the same value).
        normalize: divide by ``log n`` to get a value in [0, 1].
        dtype: dtype of the computation; ``None`` keeps the input's (differentiable either way).
            float16/bfloat16 are computed in float32; autocast is turned off inside.

    Returns:
        0-d tensor ``H(Z Zᵀ)`` in ``[0, log rank]``, in the computation's dtype.

    Raises:
        ValueError: not a finite (n, d) matrix with n >= 2 and no zero row.

    Example:
        >>> matrix_entropy(torch.eye(4))  # four orthogonal rows: log 4
        tensor(1.3863, dtype=torch.float64)
    """
    x = check_features(x, "x")
    with full_precision(x):
        z = normalize_rows(x.to(resolve_dtype(x, dtype)))  # (n, d)
        h = entropy_from_eigenvalues(row_gram_eigenvalues(z), z.shape[0])
    return h / math.log(z.shape[0]) if normalize else h


def gram_entropy(
    gram, *, normalize: bool = False, dtype: torch.dtype | None = torch.float64, tol: float | None = None
) -> torch.Tensor:
    """Matrix entropy of a precomputed PSD Gram matrix, ``-tr(ρ log ρ)`` with ``ρ = K / tr K``.

    For a unit-diagonal ``K`` (a cosine Gram) ``tr K = n``, as in the papers. Eigenvalues down to
    ``-tol·max|λ|`` count as rounding and are set to 0; the default tolerance follows the
    precision the Gram was built in (its dtype, before any conversion to ``dtype``):
    ``10·n·eps``, so a float32 ``x @ x.T`` is accepted however it is computed afterwards.

    Args:
        gram: (n, n) symmetric PSD matrix.
        normalize: divide by ``log n``.
        dtype: dtype of the computation; ``None`` keeps the input's (float16/bfloat16: float32).
        tol: relative tolerance for negative eigenvalues, e.g. for a float32 Gram stored as float64.

    Raises:
        ValueError: not square, not symmetric, not finite, or with a significantly negative eigenvalue.

    Example:
        >>> gram_entropy(torch.eye(2))  # two orthogonal samples: log 2
        tensor(0.6931, dtype=torch.float64)
    """
    k = check_gram(gram)
    check_scalar(tol, "tol", float, minimum=0, below=1, optional=True, why="relative to the largest eigenvalue")
    built_in = torch.finfo(k.dtype).eps
    with full_precision(k):
        k = k.to(resolve_dtype(k, dtype))
        eps = built_in if tol is None else tol / (10 * k.shape[0])
        h = entropy_from_eigenvalues(psd_eigenvalues(k, "gram", eps=eps), torch.diagonal(k).sum())
    return h / math.log(k.shape[0]) if normalize else h


def joint_eigenvalues(
    zx: torch.Tensor, zy: torch.Tensor, max_exact_size: int, *, check: bool = True
) -> tuple[torch.Tensor, str]:
    """Spectrum of ``K_x ⊙ K_y`` for normalised rows, from the n×n Hadamard Gram or the Kronecker map.

    Returns the eigenvalues and the method: ``"gram"`` or ``"kronecker"``.
    """
    n, d1 = zx.shape
    d2 = zy.shape[1]
    if n <= d1 * d2:
        check_exact_size(n, max_exact_size, "joint entropy", "Use fewer samples per call.")
        return psd_eigenvalues(zx @ zx.mT * (zy @ zy.mT), "the joint Gram matrix", check=check), "gram"
    check_exact_size(d1 * d2, max_exact_size, "joint entropy", "Use fewer samples or lower-dimensional features.")
    # Accumulate FᵀF over row chunks so the (n, d1*d2) Kronecker map never exists whole.
    chunk = max(1, _KRONECKER_CHUNK_BYTES // (d1 * d2 * zx.element_size()))
    moment = zx.new_zeros(d1 * d2, d1 * d2)
    for start in range(0, n, chunk):
        f = (zx[start : start + chunk, :, None] * zy[start : start + chunk, None, :]).flatten(1)  # (b, d1*d2)
        moment = moment + f.mT @ f
    return psd_eigenvalues(moment, "the joint Gram matrix", check=check), "kronecker"


def matrix_joint_entropy(
    x,
    y,
    *,
    normalize: bool = False,
    dtype: torch.dtype | None = torch.float64,
    max_exact_size: int = MAX_EXACT_SIZE,
) -> torch.Tensor:
    """Matrix joint entropy ``H(K_x ⊙ K_y)`` of two row-paired feature matrices.

    The joint Gram is the Hadamard product of the two cosine Grams, i.e. the Gram of the
    row-wise Kronecker products ``x_i ⊗ y_i`` (arXiv 2406.03999). The smaller of the n×n Gram and
    the (d1·d2)×(d1·d2) Kronecker second moment is diagonalised.

    Args:
        x: (n, d1) features.
        y: (n, d2) features paired with ``x`` by row.
        normalize: divide by ``log n``.
        dtype: dtype of the computation; ``None`` keeps the input's.
        max_exact_size: largest matrix side to diagonalise.

    Raises:
        ValueError: invalid inputs; ``ExactSizeError`` when both exact paths exceed ``max_exact_size``.

    Example:
        >>> x = torch.eye(3)
        >>> matrix_joint_entropy(x, torch.ones(3, 2))  # the second Gram is all ones: H(K_x)
        tensor(1.0986, dtype=torch.float64)
    """
    x, y = check_features(x, "x"), check_features(y, "y")
    check_paired(x, y)
    max_exact_size = check_max_exact_size(max_exact_size)
    dt = resolve_dtype(x, dtype)
    with full_precision(x):
        eig, _ = joint_eigenvalues(normalize_rows(x.to(dt)), normalize_rows(y.to(dt)), max_exact_size)
        h = entropy_from_eigenvalues(eig, x.shape[0])
    return h / math.log(x.shape[0]) if normalize else h

