"""A small Lightning classifier of the embedded digits, shared by the Lightning tests."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from interplay.data import load_dataset


class DigitsClassifier(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.1))
        self.head = nn.Linear(32, 10)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(inputs))

    def training_step(self, batch, _index):
        inputs, labels = batch
        return nn.functional.cross_entropy(self(inputs), labels)

    def validation_step(self, batch, _index):
        inputs, labels = batch
        self.log("val_loss", nn.functional.cross_entropy(self(inputs), labels))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1, momentum=0.9)


def loaders(val_samples: int | None = None) -> tuple[DataLoader, DataLoader]:
    """Training batches (shuffled by a seeded generator) and the test split as validation data."""
    train, test = load_dataset("digits", split="train"), load_dataset("digits", split="test")
    order = torch.Generator().manual_seed(0)
    train_loader = DataLoader(TensorDataset(train.images, train.labels), batch_size=64, shuffle=True, generator=order)
    val = TensorDataset(test.images[:val_samples], test.labels[:val_samples])
    return train_loader, DataLoader(val, batch_size=50)
