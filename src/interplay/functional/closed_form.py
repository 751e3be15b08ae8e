"""Closed-form values at neural collapse (PAPER.md §3).

Under neural collapse with balanced classes both pairings give ``K_Z = K_W``, the Gram of a
simplex ETF, whose non-zero eigenvalues are all equal on C-1 directions. Hence
``H = log(C-1)``, ``HDR = 0`` and
``MIR = 1/(C-1) + (C-2)/(C-1) · log(C-2)/log(C-1)`` (Song et al. 2024, arXiv 2406.03999).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from interplay.validation import InterplayValueError, check_num_classes

__all__ = ["simplex_etf", "entropy_at_collapse", "mir_at_collapse", "nc_reference", "CollapseReference"]


class CollapseReference(NamedTuple):
    """MIR, HDR and the matrix entropy (nats) of representations and heads at neural collapse."""

    num_classes: int
    mir: torch.Tensor
    hdr: torch.Tensor
    entropy: torch.Tensor


def simplex_etf(num_classes: int, dim: int | None = None, *, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Rows of a simplex equiangular tight frame: unit norm, pairwise cosine ``-1/(C-1)``.

    Args:
        num_classes: C >= 2.
        dim: ambient dimension (>= C); the C×C frame is padded with zero columns.
        dtype: dtype of the result.

    Returns:
        (C, dim) tensor, deterministic.

    Example:
        >>> etf = simplex_etf(3)
        >>> torch.allclose(etf @ etf.T, torch.tensor([[1, -.5, -.5], [-.5, 1, -.5], [-.5, -.5, 1]], dtype=etf.dtype))
        True
    """
    c = check_num_classes(num_classes)
    dim = c if dim is None else dim
    if dim < c:
        raise InterplayValueError(f"dim must be at least num_classes={c} to hold a simplex ETF; got {dim}.")
    frame = (torch.eye(c, dtype=dtype) - 1.0 / c) * math.sqrt(c / (c - 1))  # (C, C)
    return torch.nn.functional.pad(frame, (0, dim - c))  # (C, dim)


def entropy_at_collapse(num_classes: int) -> torch.Tensor:
    """Matrix entropy ``log(C-1)`` of the Gram of representations or heads at collapse.

    Example:
        >>> entropy_at_collapse(10)
        tensor(2.1972, dtype=torch.float64)
    """
    c = check_num_classes(num_classes, minimum=3)
    return torch.tensor(math.log(c - 1), dtype=torch.float64)


def mir_at_collapse(num_classes: int) -> torch.Tensor:
    """Matrix mutual information ratio at collapse, ``1/(C-1) + (C-2)/(C-1) · log(C-2)/log(C-1)``.

    Example:
        >>> mir_at_collapse(3)
        tensor(0.5000, dtype=torch.float64)
    """
    c = check_num_classes(num_classes, minimum=3)
    value = 1 / (c - 1) + (c - 2) / (c - 1) * math.log(c - 2) / math.log(c - 1)
    return torch.tensor(value, dtype=torch.float64)


def nc_reference(num_classes: int) -> CollapseReference:
    """MIR, HDR and entropy at neural collapse for ``num_classes`` balanced classes.

    Args:
        num_classes: C >= 3 (MIR is undefined for C = 2).

    Raises:
        ValueError: C < 3 or not an int.

    Example:
        >>> ref = nc_reference(4)
        >>> round(float(ref.mir), 4), float(ref.hdr), round(float(ref.entropy), 4)
        (0.754, 0.0, 1.0986)
    """
    c = check_num_classes(num_classes, minimum=3)
    return CollapseReference(c, mir_at_collapse(c), torch.tensor(0.0, dtype=torch.float64), entropy_at_collapse(c))
