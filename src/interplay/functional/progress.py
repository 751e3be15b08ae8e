"""Progress measures of grokking on modular addition (Nanda et al. 2023, arXiv 2301.05217).

A network that groks ``(a + b) mod p`` computes with a few *key frequencies* ``w_k = 2πk/p``:
its logits over all ``p²`` inputs concentrate on the directions ``cos(w_k(a+b))`` and
``sin(w_k(a+b))`` of the input grid, and its token embedding on a few Fourier components.
The measures:

- ``weight_norm``: sum of squared parameters (weight decay drives it down during cleanup);
- ``embedding_fourier_share``: share of the token embedding's squared norm in its ``keys``
  largest Fourier frequencies (1 for a sparse, Fourier-structured embedding);
- ``restricted_loss``: cross-entropy on the training pairs of the logits kept only along the
  constant and the key frequencies' (a+b) directions (falls when the general algorithm forms);
- ``excluded_loss``: cross-entropy on the training pairs of the logits with those directions
  removed (rises when the memorising solution gives way to the general one).

Nanda et al. take the key frequencies from the final model; here they are the ``keys``
frequencies with the most logit energy *at the step measured*, so that every record stands on
its own: early in training they are arbitrary, and by the end they are the final model's.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["progress_measures", "fourier_basis"]


def fourier_basis(p: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Orthonormal Fourier basis over ``0..p-1`` (p odd): rows constant, then cos and sin of each frequency 1..(p-1)/2.

    Example:
        >>> basis = fourier_basis(5)
        >>> bool(torch.allclose(basis @ basis.T, torch.eye(5, dtype=torch.float64)))
        True
    """
    x = torch.arange(p, dtype=dtype)
    rows = [torch.full((p,), 1 / math.sqrt(p), dtype=dtype)]
    for k in range(1, (p - 1) // 2 + 1):
        rows += [torch.cos(2 * math.pi * k * x / p), torch.sin(2 * math.pi * k * x / p)]
    rows[1:] = [r / r.norm() for r in rows[1:]]
    return torch.stack(rows)  # (p, p)


def _frequency_energy(coefficients: torch.Tensor) -> torch.Tensor:
    """Energy per frequency 1..(p-1)/2 from Fourier coefficients (p, ...): cos² + sin², summed over the rest."""
    flat = coefficients[1:].reshape(coefficients.shape[0] - 1, -1).square().sum(1)  # (p-1,)
    return flat[0::2] + flat[1::2]


def progress_measures(model: nn.Module, p: int, train: tuple[torch.Tensor, torch.Tensor], *, keys: int = 5) -> dict[str, float]:
    """Weight norm, Fourier share of the embedding, restricted and excluded loss (module docstring).

    Args:
        model: maps (n, 2) pairs to (n, p) logits and holds the token embedding in ``model.embed``.
        p: the odd modulus.
        train: training pairs (n, 2) and labels (n,).
        keys: number of key frequencies.

    Example:
        >>> from interplay.models.transformer import EmbeddingMLP
        >>> from interplay.data.modular import modular_addition
        >>> torch.manual_seed(0) and None
        >>> row = progress_measures(EmbeddingMLP(7), 7, modular_addition(7, 0.5, 0)["train"], keys=2)
        >>> sorted(row)
        ['embedding_fourier_share', 'excluded_loss', 'restricted_loss', 'weight_norm']
    """
    keys = min(keys, (p - 1) // 2)
    with torch.no_grad():
        a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
        logits = model(torch.stack([a.flatten(), b.flatten()], 1)).double()  # (p², p)
        total = (a + b).flatten() % p  # each input's sum, indexing the (a+b) Fourier directions
        basis = fourier_basis(p)  # (p, p)
        # Directions over the input grid: basis row j evaluated at (a+b) mod p, orthogonal on the grid.
        directions = basis[:, total] / math.sqrt(p)  # (p, p²), orthonormal rows
        coefficients = directions @ logits  # (p, p): per direction, per output class
        energy = _frequency_energy(coefficients)  # ((p-1)/2,)
        chosen = torch.topk(energy, keys).indices  # frequency k = chosen + 1
        rows = torch.cat([2 * chosen + 1, 2 * chosen + 2])  # cos and sin rows of the basis
        keyed = directions[rows].mT @ coefficients[rows]  # (p², p) the key frequencies' part
        constant = directions[:1].mT @ coefficients[:1]
        pairs, labels = train
        index = pairs[:, 0] * p + pairs[:, 1]
        loss = nn.functional.cross_entropy
        embedding = model.embed.weight[:p].double()  # (p, d): tokens 0..p-1, without "="
        embedding_energy = _frequency_energy(basis @ embedding)
        spectrum = (basis @ embedding).square().sum()
        return {
            "weight_norm": float(sum(w.double().square().sum() for w in model.parameters())),
            "embedding_fourier_share": float(torch.topk(embedding_energy, keys).values.sum() / spectrum),
            "restricted_loss": float(loss((constant + keyed)[index], labels)),
            "excluded_loss": float(loss((logits - keyed)[index], labels)),
        }
