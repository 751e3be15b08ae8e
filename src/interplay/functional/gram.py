"""Row normalisation, centring and Gram matrices of representations and heads.

Notation (Song et al. 2024, arXiv 2406.03999): ``Z`` (n, d) are sample representations,
``W`` (C, d) the classification heads, ``W_Y`` (n, d) the head of each sample's label.
Rows are L2-normalised before a Gram matrix is formed, so every Gram has a unit diagonal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from interplay.validation import check_dtype

__all__ = [
    "normalize_rows", "center_rows", "resolve_dtype", "full_precision",
]

_LOW_PRECISION = (torch.float16, torch.bfloat16)


def resolve_dtype(x: torch.Tensor, dtype: torch.dtype | None) -> torch.dtype:
    """The dtype to compute in: ``dtype`` if given, else the input's own, and never below float32.

    Eigen-solvers have no half-precision kernels, and half precision cannot resolve the
    spectrum anyway, so float16/bfloat16 (input or request) are promoted to float32.

    Example:
        >>> resolve_dtype(torch.zeros(1, dtype=torch.bfloat16), None)
        torch.float32
    """
    chosen = x.dtype if check_dtype(dtype) is None else dtype
    return torch.float32 if chosen in _LOW_PRECISION else chosen


@contextmanager
def full_precision(x: torch.Tensor) -> Iterator[None]:
    """A context in which Grams are formed in the dtype asked for: autocast off on ``x``'s device
    and float32 matrix products at full precision, the caller's settings restored on leaving.

    Under ``torch.autocast`` a matrix product would otherwise run in bfloat16/float16, and with
    ``torch.set_float32_matmul_precision("high")`` (or ``torch.backends.cuda.matmul.fp32_precision
    = "tf32"``) a float32 one in TF32 (10-bit mantissa) on a GPU; either way the spectrum would
    silently lose its small eigenvalues. torch refuses to read one of its two precision settings
    once the other has been used, so the one the caller used is the one changed.

    Example:
        >>> torch.set_float32_matmul_precision("high")
        >>> with full_precision(torch.zeros(1)):
        ...     torch.get_float32_matmul_precision()
        'highest'
        >>> torch.get_float32_matmul_precision()
        'high'
        >>> torch.set_float32_matmul_precision("highest")
    """
    restore = _highest_matmul_precision()
    try:
        with torch.autocast(x.device.type, enabled=False):
            yield
    finally:
        restore()


def _highest_matmul_precision():
    """Set float32 products to full precision in the API the caller used; return the undo."""
    try:
        precision = torch.get_float32_matmul_precision()
    except RuntimeError:  # the caller set a backend's ``fp32_precision`` (torch ≥ 2.9): use that API
        saved = {backend: backend.fp32_precision for backend in (torch.backends.cuda.matmul, torch.backends.mkldnn.matmul)}
        for backend in saved:
            backend.fp32_precision = "ieee"

        def restore() -> None:
            for backend, value in saved.items():
                backend.fp32_precision = value

        return restore
    torch.set_float32_matmul_precision("highest")
    return lambda: torch.set_float32_matmul_precision(precision)


def normalize_rows(x: torch.Tensor, *, zero_rows: bool = False) -> torch.Tensor:
    """Divide every row by its L2 norm, without overflow or underflow at any scale.

    Each row is first divided by its largest absolute entry, so the norm of what remains lies
    in [1, sqrt(d)] whatever the magnitude (1e-30 or 1e30 in float32). With ``zero_rows=True`` an
    all-zero row stays zero (used where zero rows are masked out rather than refused).

    Example:
        >>> normalize_rows(torch.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
        >>> normalize_rows(torch.tensor([[3e30, 4e30]]))
        tensor([[0.6000, 0.8000]])
    """
    scale = x.abs().amax(dim=1, keepdim=True)  # (n, 1)
    if zero_rows:
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    y = x / scale  # (n, d), entries in [-1, 1]
    norm = torch.linalg.vector_norm(y, dim=1, keepdim=True)  # (n, 1)
    return y / torch.where(norm > 0, norm, torch.ones_like(norm)) if zero_rows else y / norm


def center_rows(x: torch.Tensor, center: bool | torch.Tensor) -> torch.Tensor:
    """Subtract the mean of the rows (``center=True``), a given mean (a tensor), or nothing.

    Example:
        >>> center_rows(torch.tensor([[1.0, 2.0], [3.0, 2.0]]), True)
        tensor([[-1.,  0.],
                [ 1.,  0.]])
    """
    if isinstance(center, torch.Tensor):
        return x - center.to(device=x.device, dtype=x.dtype)
    return x - x.mean(dim=0, keepdim=True) if center else x
