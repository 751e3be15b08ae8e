"""MIR, HDR and neural collapse of a Lightning classifier, logged every validation epoch (README example)."""

import lightning.pytorch as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from interplay.data import load_dataset
from interplay.integrations.lightning import InterplayCallback


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, images):
        return self.net(images)

    def training_step(self, batch, _):
        return nn.functional.cross_entropy(self(batch[0]), batch[1])

    def validation_step(self, batch, _):
        self.log("val_loss", nn.functional.cross_entropy(self(batch[0]), batch[1]))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1, momentum=0.9)


def digits(split):
    data = load_dataset("digits", split=split)
    return DataLoader(TensorDataset(data.images, data.labels), batch_size=64, shuffle=split == "train")


trainer = pl.Trainer(max_epochs=2, callbacks=[InterplayCallback()], default_root_dir="runs/lightning-digits",
                     enable_progress_bar=False)
trainer.fit(Classifier(), digits("train"), digits("test"))
print({k: round(float(v), 3) for k, v in trainer.callback_metrics.items() if k.startswith("interplay/val/")})
