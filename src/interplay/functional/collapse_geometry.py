"""Geometry of class means and heads for the neural collapse metrics, in blocks of rows over class pairs.

Pairwise measures over C classes touch C² pairs; they are reduced block by block (a few
million pairs at a time), so C = 50,000 classes needs memory for one block, never a C×C matrix.
Statistics over pairs are over the C(C−1) ordered pairs c ≠ c' (the same as over unordered pairs).

- CDNV (class-distance normalised variance; Galanti et al. 2022): the mean over pairs of
  ``(Var_c + Var_c') / (2‖μ_c − μ_c'‖²)``, ``Var_c`` the mean of ``‖z_i − μ_c‖²`` over class c.
- GNC2 (hyperspherical uniformity; Wu & Papyan 2024, after Liu et al. 2023): for the normalised
  centred means ``m_c = (μ_c − μ_G)/‖μ_c − μ_G‖``, the mean and the variance over pairs of the
  logarithmic kernel ``log(1/‖m_c − m_c'‖)`` and of the Riesz kernel ``sign(s)·‖m_c − m_c'‖^(−s)``
  with ``s = d − 2``. Wu & Papyan report the variance (lower is more uniform). In float64 the
  Riesz kernel overflows for close pairs once s is in the hundreds.
- UNC3 (uniform duality; Wu & Papyan 2024): the variance over classes (with Bessel's correction,
  as ``torch.var``) of the cosines ``cos(w_c, μ_c − μ_G)`` between heads and centred means, as
  Wu & Papyan's analysis code (rhubarbwu/linguistic-collapse, ``similarities(W, M, mG, cos=True)``
  then ``.var()``) computes it; lower is more uniform.

Coinciding class means give an infinite CDNV and log kernel, never a silent finite number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch

from interplay.functional.gram import normalize_rows

__all__ = ["PAIR_BLOCK", "pair_statistics", "nc2_statistics", "cdnv", "hyperspherical_uniformity", "uniform_duality"]

PAIR_BLOCK = 1 << 22  # pairs per block: 32 MiB per float64 temporary


def _blocks(c: int) -> Iterator[slice]:
    rows = max(1, PAIR_BLOCK // c)
    for start in range(0, c, rows):
        yield slice(start, min(start + rows, c))


def pair_statistics(
    c: int, values: Callable[[slice], tuple[torch.Tensor, ...]]
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Mean and population variance over the pairs c ≠ c' of each (b, C) matrix that ``values(rows)``
    gives for a block of rows, merged block by block (Chan et al.'s update).

    Example:
        >>> x = torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64)
        >>> [(mean, var)] = pair_statistics(3, lambda rows: ((x[rows, None] - x).abs(),))
        >>> round(float(mean), 6), round(float(var), 6)
        (2.0, 0.666667)
    """
    merged: list[tuple[int, torch.Tensor, torch.Tensor]] = []
    for block in _blocks(c):
        b = block.stop - block.start
        for i, v in enumerate(values(block)):
            on = torch.arange(b, device=v.device)
            # Zeroing the diagonal in place (its entries may be infinite) and correcting the sums
            # for it avoids copying the off-diagonal entries out.
            v[on, on + block.start] = 0
            n = b * (c - 1)
            m = v.sum() / n
            s = (v - m).square().sum() - b * m.square()
            if i == len(merged):
                merged.append((n, m, s))
                continue
            count, mean, m2 = merged[i]
            delta, total = m - mean, count + n
            merged[i] = (total, mean + delta * (n / total), m2 + s + delta.square() * (count * n / total))
    return [(mean, (m2 / count).clamp_min(0)) for count, mean, m2 in merged]


def nc2_statistics(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Equinorm, equiangularity, max-angle and ETF distance of the rows of a (C, d) matrix.

    Rows should be scaled to a largest entry near 1 (the caller's job) so that Gram entries stay finite.
    """
    c = rows.shape[0]
    norms = torch.linalg.vector_norm(rows, dim=1)  # (C,)
    unit = normalize_rows(rows)  # (C, d)

    def cosines(b: slice) -> tuple[torch.Tensor, torch.Tensor]:
        cos = unit[b] @ unit.mT  # (b, C)
        return cos, (cos + 1.0 / (c - 1)).abs()

    (_, angular), (max_angle, _) = pair_statistics(c, cosines)
    scale = torch.linalg.matrix_norm(rows.mT @ rows if rows.shape[1] < c else rows @ rows.mT)  # ‖M Mᵀ‖_F
    off, diag = -1.0 / (c * math.sqrt(c - 1)), 1.0 / math.sqrt(c - 1)
    squared = rows.new_zeros(())
    for block in _blocks(c):
        diff = rows[block] @ rows.mT / scale - off  # (b, C)
        on = torch.arange(block.stop - block.start, device=rows.device)
        diff[on, on + block.start] -= diag
        squared = squared + diff.square().sum()
    return norms.std(correction=0) / norms.mean(), angular.sqrt(), max_angle, squared.sqrt()


def cdnv(means: torch.Tensor, variances: torch.Tensor) -> torch.Tensor:
    """Class-distance normalised variance of (C, d) means and (C,) variances, averaged over pairs.

    Example:
        >>> cdnv(torch.tensor([[0.0], [2.0]]), torch.tensor([1.0, 3.0]))
        tensor(0.5000)
    """
    centred = means - means.mean(0)  # distances are shift-invariant; centring keeps the Gram form accurate
    sq = centred.square().sum(1)  # (C,)

    def ratio(b: slice) -> torch.Tensor:
        dist = (sq[b, None] + sq - 2 * centred[b] @ centred.mT).clamp_min(0)  # (b, C)
        return ((variances[b, None] + variances) / (2 * dist),)

    return pair_statistics(means.shape[0], ratio)[0][0]


def hyperspherical_uniformity(centred: torch.Tensor) -> dict[str, torch.Tensor]:
    """Mean and variance over pairs of the log and Riesz kernels of the normalised (C, d) centred means."""
    unit = normalize_rows(centred)  # (C, d)
    s = unit.shape[1] - 2

    def kernels(b: slice) -> tuple[torch.Tensor, torch.Tensor]:
        distance = (2 - 2 * unit[b] @ unit.mT).clamp_min(0).sqrt()  # (b, C)
        return -distance.log(), math.copysign(1.0, s) * distance.pow(-s)

    (log_mean, log_var), (riesz_mean, riesz_var) = pair_statistics(unit.shape[0], kernels)
    return {"log_mean": log_mean, "log_var": log_var, "riesz_mean": riesz_mean, "riesz_var": riesz_var}


def uniform_duality(heads: torch.Tensor, centred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosines (C,) between each head and its centred class mean, and their variance (UNC3, Bessel-corrected).

    Example:
        >>> cos, unc3 = uniform_duality(torch.eye(3), 2 * torch.eye(3))
        >>> cos.tolist(), float(unc3)
        ([1.0, 1.0, 1.0], 0.0)
    """
    cos = (normalize_rows(heads) * normalize_rows(centred)).sum(1)  # (C,)
    return cos, cos.var()
