"""A small convolutional classifier for 28×28 (and 8×8) grey images, quick on a CPU."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SmallCNN"]


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2))


class SmallCNN(nn.Module):
    """Three conv-BN-ReLU-pool blocks (``width``, 2·width, 4·width channels), a 128-unit ReLU layer
    that gives the representation, and a linear ``head``.

    Example:
        >>> model = SmallCNN((1, 28, 28), 10)
        >>> model(torch.zeros(2, 1, 28, 28)).shape, model.features(torch.zeros(2, 1, 28, 28)).shape
        (torch.Size([2, 10]), torch.Size([2, 128]))
    """

    def __init__(self, in_shape: tuple[int, ...], num_classes: int, width: int = 16, feature_dim: int = 128) -> None:
        super().__init__()
        self.conv = nn.Sequential(_block(in_shape[0], width), _block(width, 2 * width), _block(2 * width, 4 * width), nn.Flatten())
        # Three 2×2 max-pools; computed rather than probed, since a probing forward pass would
        # move the batch-norm running statistics.
        flat = 4 * width * (in_shape[1] // 8) * (in_shape[2] // 8)
        self.fc = nn.Sequential(nn.Linear(flat, feature_dim), nn.ReLU())
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The representation: the input of ``head``, (N, feature_dim)."""
        return self.fc(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
