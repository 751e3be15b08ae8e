"""Modular addition ``(a + b) mod p`` as a classification data set (Power et al. 2022; Nanda et al. 2023)."""

from __future__ import annotations

import torch

__all__ = ["modular_addition"]


def modular_addition(p: int, train_fraction: float, seed: int) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """All ``p²`` pairs ``(a, b)`` with label ``(a + b) mod p``, split at random into train and test.

    Returns:
        ``{"train": (pairs, labels), "test": (pairs, labels)}``, pairs of shape (n, 2), int64.

    Example:
        >>> data = modular_addition(5, 0.4, seed=0)
        >>> len(data["train"][1]), len(data["test"][1]), bool(((data["train"][0].sum(1) % 5) == data["train"][1]).all())
        (10, 15, True)
    """
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    pairs = torch.stack([a.flatten(), b.flatten()], dim=1)  # (p², 2)
    labels = pairs.sum(1) % p
    order = torch.randperm(p * p, generator=torch.Generator().manual_seed(seed))
    cut = round(train_fraction * p * p)
    return {"train": (pairs[order[:cut]], labels[order[:cut]]), "test": (pairs[order[cut:]], labels[order[cut:]])}
