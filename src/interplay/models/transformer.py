"""Models for modular arithmetic: a one-layer transformer (Nanda et al. 2023) and an embedding MLP."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from interplay.validation import InterplayValueError

__all__ = ["OneLayerTransformer", "EmbeddingMLP"]


class OneLayerTransformer(nn.Module):
    """Inputs ``a, b, =``; one attention layer and one ReLU MLP on the residual stream, no layer norm.

    Initialised as Nanda et al. (2023): every weight drawn from N(0, 1/d_model), the unembedding
    from N(0, 1/p), biases zero. Only the output position (``=``) is computed, and since each
    position holds one of ``p + 1`` tokens, keys and values are computed once per (position, token)
    and gathered: the logits of the full model at that position at about half the cost. The
    representation is the residual stream there; ``head`` is the unembedding (no bias).

    Example:
        >>> model = OneLayerTransformer(7, d_model=16, heads=2, d_mlp=32)
        >>> model(torch.tensor([[1, 2], [3, 4]])).shape, model.features(torch.tensor([[1, 2]])).shape
        (torch.Size([2, 7]), torch.Size([1, 16]))
    """

    def __init__(self, p: int, d_model: int = 128, heads: int = 4, d_mlp: int = 512) -> None:
        super().__init__()
        if heads < 1 or d_model % heads:
            raise InterplayValueError(f"d_model must be a multiple of heads; got d_model={d_model}, heads={heads}.")
        self.p, self.heads = p, heads
        self.embed = nn.Embedding(p + 1, d_model)  # token p is "="
        self.position = nn.Parameter(torch.empty(3, d_model))
        self.query = nn.Linear(d_model, d_model, bias=False)
        self.key = nn.Linear(d_model, d_model, bias=False)
        self.value = nn.Linear(d_model, d_model, bias=False)
        self.out = nn.Linear(d_model, d_model, bias=False)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_mlp), nn.ReLU(), nn.Linear(d_mlp, d_model))
        self.head = nn.Linear(d_model, p, bias=False)
        for name, parameter in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(parameter)
            else:
                nn.init.normal_(parameter, std=(p if name.startswith("head") else d_model) ** -0.5)

    def features(self, pairs: torch.Tensor) -> torch.Tensor:
        """Residual stream at the output position, (N, d_model)."""
        n, d = pairs.shape[0], self.embed.embedding_dim
        d_head = d // self.heads
        streams = self.embed.weight[:-1] + self.position[:2, None]  # (2, p, d): a and b at their positions
        last = self.embed.weight[-1] + self.position[2]  # the "=" position, the same for every input
        keys, values = self.key(streams), self.value(streams)
        k = torch.stack([F.embedding(pairs[:, 0], keys[0]), F.embedding(pairs[:, 1], keys[1]), self.key(last).expand(n, d)], dim=1)
        v = torch.stack([F.embedding(pairs[:, 0], values[0]), F.embedding(pairs[:, 1], values[1]), self.value(last).expand(n, d)], dim=1)
        q = self.query(last).view(self.heads, d_head)
        weights = torch.softmax((k.view(n, 3, self.heads, d_head) * q).sum(-1) / d_head**0.5, dim=1)  # (N, 3, H)
        attended = (weights.unsqueeze(-1) * v.view(n, 3, self.heads, d_head)).sum(1)  # (N, H, d_head)
        residual = last + self.out(attended.reshape(n, d))
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
