"""Closed-form values at neural collapse (arXiv 2406.03999; the closed forms derived in docs/collapse-reference.md).

Under neural collapse with balanced classes both pairings give ``K_Z = K_W``, the Gram of a
simplex ETF, whose non-zero eigenvalues are all equal on C-1 directions. Hence
``H = log(C-1)``, ``HDR = 0`` and
``MIR = 1/(C-1) + (C-2)/(C-1) · log(C-2)/log(C-1)`` (Song et al. 2024, arXiv 2406.03999).

Uncentred features (post-ReLU, say) collapse to normalised class means that share a component:
their pairwise cosine ρ lies in ``[-1/(C-1), 1)``, with ``ρ = -1/(C-1)`` the centred ETF above.
Against simplex-ETF heads and balanced classes every Gram involved is, class by class, of the
form ``G(s) = (1 - s) I + s J`` (C×C, unit diagonal, off-diagonal ``s``): ``s = ρ`` for the
representations, ``s = -1/(C-1)`` for the heads and, the Hadamard product of the two,
``s = -ρ/(C-1)`` for the joint. In the sample pairing with m samples per class each n×n Gram is
``G(s) ⊗ J_m`` (rows sorted by class), with eigenvalues m times those of ``G(s)`` and trace
n = mC, so both pairings share one spectrum per matrix: ``(1 - s)/C`` (C-1 times) and
``(1 + (C-1) s)/C`` (once). The entropies follow, and from them MI, MIR and HDR; the
derivation is written out in ``docs/collapse-reference.md``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from interplay.functional.gram import normalize_rows
from interplay.validation import InterplayTypeError, InterplayValueError, check_num_classes

__all__ = [
    "simplex_etf", "entropy_at_collapse", "mir_at_collapse", "nc_reference", "CollapseReference", "collapse_means",
    "mean_cosine", "reference_at_cosine",
]


class CollapseReference(NamedTuple):
    """Values at neural collapse: MIR, HDR, the heads' entropy log(C-1) and, by component, the
    entropies (nats) of representations and heads, their mutual information and the cosine ρ of
    the normalised class means (``-1/(C-1)`` for the centred simplex ETF).

    Example:
        >>> reference = nc_reference(10)
        >>> reference.num_classes, round(float(reference.mir), 4), float(reference.hdr)
        (10, 0.9524, 0.0)
    """

    num_classes: int
    mir: torch.Tensor
    hdr: torch.Tensor
    entropy: torch.Tensor
    h_z: torch.Tensor | None = None
    h_w: torch.Tensor | None = None
    mi: torch.Tensor | None = None
    cosine: float | None = None


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


def check_cosine(cosine, num_classes: int) -> float:
    """Check a pairwise cosine ρ of C unit vectors: a real number in ``[-1/(C-1), 1)``."""
    if isinstance(cosine, bool) or not isinstance(cosine, (int, float)):
        raise InterplayTypeError(f"cosine must be a real number; got {type(cosine).__name__}.")
    low = -1.0 / (num_classes - 1)
    # A ρ written as -1/(C-1) may round a hair below the bound; it is the ETF.
    if not low - 1e-12 <= cosine < 1:
        raise InterplayValueError(
            f"cosine must lie in [-1/(C-1), 1) = [{low:.6g}, 1) for C={num_classes} unit vectors; got {cosine}. "
            "Below the bound no such vectors exist; at 1 all classes coincide and MIR is undefined."
        )
    return max(float(cosine), low)


def _entropy_of_equicorrelated(off_diagonal: float, c: int) -> float:
    """Entropy of ``((1 - s) I + s J) / C``: eigenvalues ``(1 - s)/C`` (C-1 times) and ``(1 + (C-1)s)/C``."""
    terms = [((1 - off_diagonal) / c, c - 1), (max(1 + (c - 1) * off_diagonal, 0.0) / c, 1)]
    return -sum(k * p * math.log(p) for p, k in terms if p > 0)


def nc_reference(num_classes: int, *, cosine: float | None = None) -> CollapseReference:
    """MIR, HDR and entropies at neural collapse for ``num_classes`` balanced classes.

    Without ``cosine``: the centred collapse, where representations and heads form the same
    simplex ETF (arXiv 2406.03999). With ``cosine=ρ``: normalised class means of pairwise cosine ρ
    against simplex-ETF heads, the collapse of uncentred features whose means share a component
    (ρ = 0: an orthogonal frame). The Grams ``(1-ρ)I + ρJ`` (representations),
    ``(1+1/(C-1))I - J/(C-1)`` (heads) and their Hadamard product (cosine ``-ρ/(C-1)``) have
    the spectra ``(1-s)/C`` (C-1 times) and ``(1+(C-1)s)/C`` after division by the trace, in
    the class pairing and in the sample pairing alike; see the module docstring.

    Args:
        num_classes: C >= 3 (MIR is undefined for C = 2).
        cosine: pairwise cosine ρ of the normalised class means, in ``[-1/(C-1), 1)``;
            ``None`` is the centred ETF, ``-1/(C-1)``.

    Returns:
        A :class:`CollapseReference`; ``entropy`` is the heads' ``log(C-1)``, ``h_z``, ``h_w``
        and ``mi`` are the components of MIR and HDR.

    Raises:
        ValueError: C < 3, or a cosine outside ``[-1/(C-1), 1)``.
        TypeError: C not an int, or a cosine that is not a real number.

    Example:
        >>> ref = nc_reference(4)
        >>> round(float(ref.mir), 4), float(ref.hdr), round(float(ref.entropy), 4)
        (0.754, 0.0, 1.0986)
        >>> frame = nc_reference(10, cosine=0.0)
        >>> float(frame.mir), round(float(frame.hdr), 4)
        (1.0, 0.0458)
    """
    c = check_num_classes(num_classes, minimum=3)
    rho = -1.0 / (c - 1) if cosine is None else check_cosine(cosine, c)
    h_z = _entropy_of_equicorrelated(rho, c)
    h_w = math.log(c - 1)
    mi = h_z + h_w - _entropy_of_equicorrelated(-rho / (c - 1), c)
    if cosine is None:
        mir = mir_at_collapse(c)
        hdr = torch.tensor(0.0, dtype=torch.float64)
    else:
        mir = torch.tensor(mi / min(h_z, h_w), dtype=torch.float64)
        hdr = torch.tensor(abs(h_z - h_w) / max(h_z, h_w), dtype=torch.float64)
    as_tensor = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    return CollapseReference(c, mir, hdr, entropy_at_collapse(c), as_tensor(h_z), as_tensor(h_w), as_tensor(mi), rho)


def collapse_means(num_classes: int, cosine: float | None = None, dim: int | None = None,
                   *, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Unit class means of pairwise cosine ρ: a simplex ETF plus a shared direction.

    Row c is ``a·e_c + b·u`` with ``e_c`` the simplex ETF, ``u`` a unit vector orthogonal to it,
    ``b² = (1 + (C-1)ρ)/C`` and ``a² = 1 - b²``; centring the rows gives back the (scaled) ETF.

    Args:
        num_classes: C >= 2.
        cosine: ρ in ``[-1/(C-1), 1)``; ``None`` is the ETF itself.
        dim: ambient dimension (>= C + 1; default C + 1).
        dtype: dtype of the result.

    Returns:
        (C, dim) tensor, deterministic.

    Example:
        >>> means = collapse_means(4, 0.0)
        >>> torch.allclose(means @ means.T, torch.eye(4, dtype=means.dtype))
        True
    """
    c = check_num_classes(num_classes)
    rho = -1.0 / (c - 1) if cosine is None else check_cosine(cosine, c)
    dim = c + 1 if dim is None else dim
    if dim < c + 1:
        raise InterplayValueError(f"dim must be at least num_classes + 1 = {c + 1} to hold a shared direction; got {dim}.")
    shared = max(1 + (c - 1) * rho, 0.0) / c  # b²
    means = math.sqrt(1 - shared) * simplex_etf(c, dim, dtype=dtype)  # (C, dim)
    means[:, c] = math.sqrt(shared)
    return means


def mean_cosine(class_means: torch.Tensor) -> float:
    """Mean pairwise cosine ρ of the normalised class means (C, d): the shared component of
    uncentred features that :func:`nc_reference` takes as ``cosine``. NaN where a mean is zero or
    not finite (a class absent from the data).

    Example:
        >>> round(mean_cosine(collapse_means(4, 0.25)), 6)
        0.25
    """
    means = class_means.detach().double()  # (C, d)
    c = means.shape[0]
    if c < 2 or not bool(torch.isfinite(means).all() and means.abs().amax(dim=1).gt(0).all()):
        return math.nan
    unit = normalize_rows(means)  # (C, d)
    gram = unit @ unit.mT  # (C, C)
    return float((gram.sum() - gram.diagonal().sum()) / (c * (c - 1)))


def reference_at_cosine(cosine: float, num_classes: int) -> CollapseReference | None:
    """:func:`nc_reference` for a measured cosine ρ; ``None`` where it does not exist (ρ NaN, C < 3).

    A measured ρ is clipped into the domain: rounding can put it a hair below -1/(C-1), and means
    that all but coincide put it at 1, where MIR is undefined (0.999 is used instead).

    Example:
        >>> float(reference_at_cosine(0.0, 10).mir)
        1.0
    """
    if not math.isfinite(cosine) or num_classes < 3:
        return None
    return nc_reference(num_classes, cosine=min(max(cosine, -1.0 / (num_classes - 1)), 0.999))
