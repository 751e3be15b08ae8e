"""Models for modular arithmetic: a one-layer transformer (Nanda et al. 2023) and an embedding MLP."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["OneLayerTransformer", "EmbeddingMLP"]


class OneLayerTransformer(nn.Module):
    """Inputs ``a, b, =``; one attention layer and one ReLU MLP on the residual stream, no layer norm.

    Only the output position (``=``) is computed: its query attends to the three positions, which
    gives the same logits as the full model at that position at a third of the cost. The
    representation is the residual stream there; ``head`` is the unembedding (no bias).

    Example:
        >>> model = OneLayerTransformer(7, d_model=16, heads=2, d_mlp=32)
        >>> model(torch.tensor([[1, 2], [3, 4]])).shape, model.features(torch.tensor([[1, 2]])).shape
        (torch.Size([2, 7]), torch.Size([1, 16]))
    """

    def __init__(self, p: int, d_model: int = 128, heads: int = 4, d_mlp: int = 512) -> None:
        super().__init__()
        self.p, self.heads = p, heads
        self.embed = nn.Embedding(p + 1, d_model)  # token p is "="
        self.position = nn.Parameter(torch.randn(3, d_model) / d_model**0.5)
        self.query = nn.Linear(d_model, d_model, bias=False)
        self.key = nn.Linear(d_model, d_model, bias=False)
        self.value = nn.Linear(d_model, d_model, bias=False)
        self.out = nn.Linear(d_model, d_model, bias=False)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_mlp), nn.ReLU(), nn.Linear(d_mlp, d_model))
        self.head = nn.Linear(d_model, p, bias=False)

    def features(self, pairs: torch.Tensor) -> torch.Tensor:
        """Residual stream at the output position, (N, d_model)."""
        n = pairs.shape[0]
        tokens = torch.cat([pairs, torch.full((n, 1), self.p, dtype=pairs.dtype, device=pairs.device)], dim=1)
        x = self.embed(tokens) + self.position  # (N, 3, d)
        d_head = x.shape[-1] // self.heads
        q = self.query(x[:, -1]).view(n, self.heads, 1, d_head)  # (N, H, 1, dh)
        k = self.key(x).view(n, 3, self.heads, d_head).transpose(1, 2)  # (N, H, 3, dh)
        v = self.value(x).view(n, 3, self.heads, d_head).transpose(1, 2)  # (N, H, 3, dh)
        attended = torch.softmax(q @ k.mT / d_head**0.5, dim=-1) @ v  # (N, H, 1, dh)
        residual = x[:, -1] + self.out(attended.reshape(n, -1))  # (N, d)
        return residual + self.mlp(residual)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(pairs))


class EmbeddingMLP(nn.Module):
    """Embeds ``a`` and ``b`` with one table, concatenates, one ReLU layer, then a linear ``head``.

    Example:
        >>> EmbeddingMLP(7, d_embed=8, width=16)(torch.tensor([[1, 2]])).shape
        torch.Size([1, 7])
    """

    def __init__(self, p: int, d_embed: int = 128, width: int = 256) -> None:
        super().__init__()
        self.embed = nn.Embedding(p, d_embed)
        self.body = nn.Sequential(nn.Linear(2 * d_embed, width), nn.ReLU())
        self.head = nn.Linear(width, p, bias=False)

    def features(self, pairs: torch.Tensor) -> torch.Tensor:
        """The hidden layer, (N, width)."""
        return self.body(self.embed(pairs).flatten(1))

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(pairs))
