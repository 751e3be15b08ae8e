"""A multi-layer perceptron classifier."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["MLP"]


class MLP(nn.Module):
    """Flatten, ``depth`` hidden ReLU layers of ``width`` units, and a linear ``head``.

    Example:
        >>> model = MLP((1, 8, 8), 10)
        >>> model(torch.zeros(2, 1, 8, 8)).shape, model.features(torch.zeros(2, 1, 8, 8)).shape
        (torch.Size([2, 10]), torch.Size([2, 256]))
    """

    def __init__(self, in_shape: tuple[int, ...], num_classes: int, width: int = 256, depth: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        size = math.prod(in_shape)
        for _ in range(depth):
            layers += [nn.Linear(size, width), nn.ReLU()]
            size = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The representation: the input of ``head``, (N, width)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
