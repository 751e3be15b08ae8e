"""What the experiments share beyond the run folder and records of :mod:`interplay.runs`: the
config base of those that train with :class:`~interplay.training.session.Session`, the data splits
and the evaluation rows."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interplay.config import Settings, TrainConfig, setting, train_setting
from interplay.data import ImageDataset, load_dataset
from interplay.runs import Records

__all__ = ["ExperimentConfig", "append_evaluation", "load_splits"]


@dataclass(frozen=True)
class ExperimentConfig(Settings):
    """Training settings shared by the experiments, declared by :class:`TrainConfig`; each
    experiment adds its own fields."""

    dataset: str = train_setting("dataset", "fashion-mnist")
    model: str = train_setting("model", "cnn")
    width: int = train_setting("width")
    epochs: int = train_setting("epochs", 10, "training epochs per run")
    batch_size: int = train_setting("batch_size")
    optimizer: str = train_setting("optimizer")
    lr: float = train_setting("lr", help="peak learning rate (cosine schedule)")
    weight_decay: float = train_setting("weight_decay")
    train_eval_samples: int = train_setting("train_eval_samples")
    seeds: tuple[int, ...] = setting((0, 1, 2), "one run per seed", minimum=0)
    device: str = train_setting("device")
    data_dir: str | None = train_setting("data_dir")

    def train_config(self, seed: int, **changes: Any) -> TrainConfig:
        """The :class:`TrainConfig` of one run of this experiment."""
        shared = {f.name: getattr(self, f.name) for f in dataclasses.fields(ExperimentConfig) if f.name != "seeds"}
        return TrainConfig(**(shared | {"seed": seed} | changes))


def load_splits(name: str, data_dir: str | Path | None = None) -> tuple[ImageDataset, ImageDataset]:
    """The train and test splits of data set ``name``, from the files in ``data_dir`` (none for digits).

    Example:
        >>> train, test = load_splits("digits")
        >>> len(train.labels) + len(test.labels)
        1797
    """
    return load_dataset(name, data_dir=data_dir, split="train"), load_dataset(name, data_dir=data_dir, split="test")


def append_evaluation(records: Records, unit: str, session, model=None, **keys: Any) -> dict[str, Any]:
    """Probe ``model`` (default: the session's) on both splits and append one row per split."""
    results = session.evaluate(model)
    for split, result in results.items():
        records.append(unit, **keys, split=split, **result.as_row(), **session.reference())
    return results
