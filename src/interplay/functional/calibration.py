"""Calibration of MIR and HDR against within-class spread (derived in docs/collapse-reference.md).

Synthetic features are class means of a chosen collapse geometry plus noise of a given scale,
and the heads are the simplex ETF of that collapse. Sweeping the scale maps NC1 to MIR and HDR:
the scale on which a measured pair (NC1, MIR) of a trained network can be read, e.g. whether
MIR 0.6 at NC1 0.35 is what collapse in progress looks like. Everything is seeded and takes
seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from interplay.functional.closed_form import check_cosine, collapse_means
from interplay.functional.collapse import neural_collapse
from interplay.functional.interplay import interplay_metrics
from interplay.validation import InterplayValueError, check_num_classes, check_scalar

__all__ = ["calibration_curve"]

DEFAULT_SCALES = tuple(round(10 ** (-1.5 + 0.2 * i), 5) for i in range(12))  # 0.032 ... 5.0


def _noise(n: int, dim: int, rank: int | None, generator: torch.Generator) -> torch.Tensor:
    """(n, dim) Gaussian noise of expected squared norm 1, isotropic or in ``rank`` random directions."""
    if rank is None:
        return torch.randn(n, dim, generator=generator, dtype=torch.float64) / math.sqrt(dim)
    basis, _ = torch.linalg.qr(torch.randn(dim, rank, generator=generator, dtype=torch.float64))  # (dim, k)
    return torch.randn(n, rank, generator=generator, dtype=torch.float64) @ basis.mT / math.sqrt(rank)


def calibration_curve(
    num_classes: int,
    scales: Sequence[float] = DEFAULT_SCALES,
    *,
    cosine: float | None = None,
    rank: int | None = None,
    dim: int | None = None,
    per_class: int = 20,
    seed: int = 0,
) -> list[dict[str, float | int | str]]:
    """NC1, MIR, HDR and entropies of collapse-geometry class means plus noise, one row per scale.

    Features of class c are ``μ_c + scale · ε`` with unit class means ``μ_c`` of pairwise cosine
    ``cosine`` (:func:`~interplay.functional.closed_form.collapse_means`; ``None`` is the simplex
    ETF) and ``ε`` Gaussian noise of expected squared norm 1, isotropic in ``dim`` dimensions or
    confined to ``rank`` random directions. Heads are the simplex ETF. MIR and HDR are the
    sample pairing, uncentred (``mir``, ``hdr``, ``h_z``) and centred (``mir_centred``, ...).

    Args:
        num_classes: C >= 3.
        scales: noise scales (>= 0), one row each.
        cosine: pairwise cosine ρ of the class means in ``[-1/(C-1), 1)``; ``None`` is the ETF.
        rank: number of random noise directions; ``None`` is isotropic noise.
        dim: feature dimension (default ``max(64, 2C)``), at least C + 1.
        per_class: samples per class (balanced).
        seed: seed of the noise and of its directions.

    Returns:
        One dict per scale with ``num_classes``, ``geometry``, ``noise``, ``scale``, ``nc1``,
        ``mir``, ``hdr``, ``h_z``, ``h_w``, ``mir_centred``, ``hdr_centred``, ``h_z_centred``.

    Raises:
        ValueError: C < 3, a cosine outside its range, rank not in [1, dim], per_class < 2,
            dim < C + 1, or a negative scale.

    Example:
        >>> row = calibration_curve(4, [0.0], per_class=2)[0]
        >>> abs(row["nc1"]) < 1e-12, round(row["mir"], 4), round(row["hdr"], 4)
        (True, 0.754, 0.0)
    """
    c = check_num_classes(num_classes, minimum=3)
    if cosine is not None:
        check_cosine(cosine, c)
    dim = max(64, 2 * c) if dim is None else dim
    if rank is not None and not 1 <= rank <= dim:
        raise InterplayValueError(f"rank must lie in [1, dim={dim}] (None for isotropic noise); got {rank}.")
    check_scalar(per_class, "per_class", minimum=2, why="two samples make a within-class spread")
    if any(s < 0 for s in scales):
        raise InterplayValueError(f"scales must be >= 0; got {list(scales)}.")
    means = collapse_means(c, cosine, dim)  # (C, dim)
    heads = collapse_means(c, None, dim)  # (C, dim)
    labels = torch.arange(per_class * c) % c  # (n,)
    generator = torch.Generator().manual_seed(seed)
    noise = _noise(labels.shape[0], dim, rank, generator)  # (n, dim), one draw shared by every scale
    geometry = "etf" if cosine is None else f"cosine={cosine:g}"
    rows = []
    for scale in scales:
        features = means[labels] + scale * noise  # (n, dim)
        raw = interplay_metrics(features, labels, heads)
        centred = interplay_metrics(features, labels, heads, center=True)
        rows.append({
            "num_classes": c, "geometry": geometry, "noise": "isotropic" if rank is None else f"rank {rank}",
            "scale": float(scale), "nc1": float(neural_collapse(features, labels, heads).nc1),
            "mir": float(raw.mir), "hdr": float(raw.hdr), "h_z": float(raw.h_z), "h_w": float(raw.h_w),
            "mir_centred": float(centred.mir), "hdr_centred": float(centred.hdr), "h_z_centred": float(centred.h_z),
        })
    return rows
